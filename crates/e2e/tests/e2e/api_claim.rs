//! What `zerobridge api` prepares for the web app, on a devnet with real validators and no
//! relayer: a route's validator config (it loads as a validator configuration naming the route's
//! two lanes and its signers), and a stuck transfer's claim transaction (the validators'
//! signatures gathered and checked by zb-ops' claim code), which the holder's own key sends; then
//! the transfer is delivered exactly once and nothing is left to claim.

use std::process::Command;
use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, ensure, eyre};
use serde_json::Value;
use zb_e2e::devnet::wait_until;
use zb_e2e::paths::{free_port, zerobridge_bin};
use zb_e2e::process::Agent;
use zb_e2e::{Chain, Devnet, DevnetOptions, Direction, dev_keys, tokens};

use crate::DELIVERY;

async fn get(http: &reqwest::Client, url: &str) -> Result<(u16, String)> {
    let response = http.get(url).send().await.wrap_err_with(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.wrap_err_with(|| format!("GET {url}: no body"))?))
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<(u16, Value)> {
    let (status, text) = get(http, url).await?;
    let body = serde_json::from_str(&text).wrap_err_with(|| format!("GET {url}: not JSON: {text}"))?;
    Ok((status, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_prepares_the_validator_config_and_a_claim_the_holder_sends() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    // The API reads the devnet as the CLI does (the manifest lists the validators' URLs).
    let work = tempfile::tempdir()?;
    devnet.write_cli_manifest(work.path())?;
    let port = free_port()?;
    let config = work.path().join("api.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\npoll_ms = 200\n",
            work.path().join("index.sqlite").display()
        ),
    )?;
    let mut command = Command::new(zerobridge_bin()?);
    command.arg("api").arg("--config").arg(&config).env("ZB_DEVNET_DIR", work.path().join("devnet"));
    let _api = Agent::spawn("api", command, &work.path().join("api.log"))?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let http_ref = &http;

    // The validator config: the text route register prints, which a validator loads.
    let route = devnet.manifest().route.clone();
    let url = format!("{base}/v1/routes/{}/validator-config", route.route_id);
    let text = wait_until("the API to answer the validator config", DELIVERY, || {
        let url = url.clone();
        async move {
            Ok(match get(http_ref, &url).await {
                Ok((200, text)) => Some(text),
                _ => None,
            })
        }
    })
    .await?;
    let path = work.path().join("validator.toml");
    std::fs::write(&path, &text)?;
    let loaded = zb_config::validator::ValidatorConfig::load(&path).map_err(|e| eyre!("{e}\n{text}"))?;
    let lanes: Vec<(B256, &str)> = loaded.lanes.iter().map(|l| (l.lane, l.source.as_str())).collect();
    assert_eq!(lanes, vec![(route.lane_to_remote, Chain::Home.name()), (route.lane_to_home, Chain::Remote.name())]);
    for i in 0..devnet.validator_count() {
        let signer = devnet.validator_address(i)?;
        ensure!(text.contains(&signer.to_string()), "validator {i}'s signer {signer} is not named:\n{text}");
    }
    let (status, _) = get(&http, &format!("{base}/v1/routes/{}/validator-config", B256::repeat_byte(0x42))).await?;
    assert_eq!(status, 404);
    let (status, _) = get(&http, &format!("{base}/v1/routes/0x12/validator-config")).await?;
    assert_eq!(status, 400);

    // A transfer no relayer delivers: the API prepares its delivery once the validators signed.
    let holder = devnet.holder();
    let lane = devnet.lane(Direction::ToRemote);
    let sent = devnet.send_to_remote(tokens(7), holder).await?;
    let before = devnet.wrapped_balance(holder).await?;
    let hash = zb_protocol::message_hash(&sent.message);
    let claim_url = format!("{base}/v1/transfers/{hash}/claim");
    let claim_ref = claim_url.as_str();
    // 404 until indexed, 409 (the CLI's words) until final and signed.
    let prepared = wait_until("the API to prepare the claim", DELIVERY, || async move {
        let (status, body) = get_json(http_ref, claim_ref).await?;
        Ok((status == 200).then_some(body))
    })
    .await?;
    assert_eq!(prepared["status"], "ready", "{prepared}");
    assert_eq!(prepared["kind"], "delivery", "{prepared}");
    assert_eq!(prepared["chain"], Chain::Remote.name(), "{prepared}");
    let bridge = devnet.manifest().remote.bridge;
    let to: Address = prepared["to"].as_str().unwrap_or_default().parse()?;
    assert_eq!(to, bridge);
    ensure!(
        prepared["notes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|l| l.as_str().is_some_and(|l| l.contains("signed")))),
        "the notes say who signed: {prepared}"
    );
    ensure!(devnet.delivered_sequence(lane).await? < sent.sequence, "nothing was sent by the API");

    // The holder's key sends it (the browser's wallet does the same).
    let data: Bytes = prepared["data"].as_str().unwrap_or_default().parse()?;
    let signer: PrivateKeySigner = dev_keys::HOLDER.parse()?;
    let wallet = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(devnet.chain(Chain::Remote).http().parse()?);
    let request = TransactionRequest::default().with_to(to).with_input(data);
    let receipt = wallet.send_transaction(request).await?.get_receipt().await?;
    ensure!(receipt.status(), "the prepared delivery reverted: {receipt:?}");
    devnet.wait_delivered(lane, sent.sequence, DELIVERY).await?;
    devnet.check_exactly_once(lane, sent.sequence).await?;
    assert_eq!(devnet.wrapped_balance(holder).await?, before + sent.net);

    let (status, again) = get_json(&http, &claim_url).await?;
    assert_eq!((status, &again["status"]), (200, &Value::from("nothing_to_claim")), "{again}");
    let (status, _) = get(&http, &format!("{base}/v1/transfers/{}/claim", B256::repeat_byte(0x42))).await?;
    assert_eq!(status, 404);
    let (status, _) = get(&http, &format!("{base}/v1/transfers/zz/claim")).await?;
    assert_eq!(status, 400);
    Ok(())
}
