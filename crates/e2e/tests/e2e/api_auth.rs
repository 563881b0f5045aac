//! Validators that require bearer tokens: a relayer without its token gets no signature (its
//! requests are refused with 401 and counted) and delivers nothing; given its token file it
//! delivers. Unauthenticated and wrong-token calls are refused; health stays open.

use alloy::primitives::{Address, B256};
use sha2::{Digest, Sha256};
use zb_e2e::config::{ApiTokenToml, ApiToml};
use zb_e2e::devnet::wait_until;
use zb_e2e::{Devnet, DevnetOptions, Direction, tokens};

use crate::DELIVERY;

const TOKEN: &str = "relayer-1-2f0c9a7d41e85b36";

/// The validator's `zb_validator_api_refused_total{reason="auth"}`, read with the token.
async fn auth_refusals(http: &reqwest::Client, url: &str) -> eyre::Result<f64> {
    let text = http.get(format!("{url}/metrics")).bearer_auth(TOKEN).send().await?.error_for_status()?.text().await?;
    Ok(text
        .lines()
        .find(|l| l.starts_with("zb_validator_api_refused_total{reason=\"auth\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_with_tokens_serve_only_the_relayer_that_presents_its_own() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let token_file = devnet.dir().join("keys").join("relayer-1.token");
    std::fs::write(&token_file, format!("{TOKEN}\n"))?;
    let token_sha256 = B256::from(<[u8; 32]>::from(Sha256::digest(TOKEN.as_bytes())));
    for i in 0..devnet.validator_count() {
        devnet.configure_validator(i, |config| {
            config.api = Some(ApiToml { tokens: vec![ApiTokenToml { name: "relayer-1".into(), token_sha256 }] });
        })?;
    }
    devnet.start_all_validators().await?;

    // Without its token the relayer is refused by every validator and delivers nothing.
    devnet.start_relayer().await?;
    let recipient = Address::repeat_byte(0x7a);
    let sent = devnet.send_to_remote(tokens(3), recipient).await?;
    let http = reqwest::Client::new();
    let validator = devnet.validator_url(0)?;
    wait_until("validator 0 to refuse the relayer's unauthenticated requests", DELIVERY, || async {
        Ok((auth_refusals(&http, &validator).await? >= 1.0).then_some(()))
    })
    .await?;
    assert_eq!(devnet.delivered_sequence(lane).await?, 0, "delivered without a single signature");

    // Given its token file, the same relayer delivers.
    devnet.kill_relayer()?;
    devnet.configure_relayer(|config| config.validator_token_file = Some(token_file.clone()));
    devnet.start_relayer().await?;
    devnet.wait_delivered(lane, sent.sequence, DELIVERY).await?;
    devnet.check_exactly_once(lane, sent.sequence).await?;
    assert_eq!(devnet.wrapped_balance(recipient).await?, sent.net);

    // Directly: no token or a wrong one is 401 with a plain reason; health is open; the token works.
    let checkpoint = format!("{validator}/v1/lanes/{lane:#x}/checkpoints/{}", sent.sequence);
    let status = |request: reqwest::RequestBuilder| async move { eyre::Ok(request.send().await?.status().as_u16()) };
    assert_eq!(status(http.get(&checkpoint)).await?, 401);
    assert_eq!(status(http.get(&checkpoint).bearer_auth("relayer-1-guess")).await?, 401);
    let refused: serde_json::Value = http.get(&checkpoint).send().await?.json().await?;
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("Authorization: Bearer")), "{refused}");
    assert_eq!(status(http.get(format!("{validator}/v1/health"))).await?, 200);
    assert_eq!(status(http.get(&checkpoint).bearer_auth(TOKEN)).await?, 200);
    Ok(())
}
