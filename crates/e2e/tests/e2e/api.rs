//! `zerobridge api` on a devnet with real validators and a relayer: transfers both ways are listed
//! by address and by transaction with their stage ending `delivered`, pages hold each transfer once,
//! bad input answers 400 and an unknown hash 404, and a restart resumes from the cursor. The same
//! suite runs with the index in SQLite and in PostgreSQL (a fresh database on the test server).

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use eyre::{Result, WrapErr, bail};
use serde_json::Value;
use zb_e2e::devnet::wait_until;
use zb_e2e::paths::{free_port, zerobridge_bin};
use zb_e2e::process::Agent;
use zb_e2e::{Chain, Devnet, DevnetOptions, tokens};

use crate::DELIVERY;

/// Validators, signatures, timeouts, refunds, economic security and reorgs.
mod data;

/// Where the API under test keeps its index.
#[derive(Debug, Clone)]
pub(crate) enum Index {
    Sqlite,
    /// The URL of a fresh database on the test server.
    Postgres(String),
}

/// Writes the API's network file and config for `devnet`; returns the config path and base URL.
pub(crate) fn write_config(devnet: &Devnet, index: &Index) -> Result<(std::path::PathBuf, String)> {
    write_config_with(devnet, index, "")
}

/// Like [`write_config`], with `extra` lines in api.toml (e.g. `live_window_secs = 20`).
pub(crate) fn write_config_with(devnet: &Devnet, index: &Index, extra: &str) -> Result<(std::path::PathBuf, String)> {
    let root = devnet.dir().join("api");
    std::fs::create_dir_all(&root)?;
    let manifest = devnet.manifest();
    let chain = |chain: Chain, side: &zb_e2e::SideManifest| {
        format!(
            "[[chains]]\nname = \"{}\"\nchainId = {}\nrpc = \"{}\"\nbridge = \"{}\"\nregistry = \"{}\"\nstakeManager = \"{}\"\nfinalityDepth = 0\n\n",
            chain.name(),
            side.chain_id,
            devnet.chain(chain).http(),
            side.bridge,
            side.registry,
            side.stake_manager
        )
    };
    let route = &manifest.route;
    // The validators' endpoints: the API asks them what they signed.
    let urls: Vec<String> = (0..devnet.validator_count())
        .map(|i| devnet.validator_url(i).map(|u| format!("\"{u}\"")))
        .collect::<Result<_>>()?;
    let network = format!(
        "validators = [{}]\n\n{}{}[[routes]]\nrouteId = \"{}\"\nsymbol = \"DEMO\"\ndecimals = 18\nhome = \"{}\"\nremote = \"{}\"\nhomeToken = \"{}\"\nwrappedToken = \"{}\"\n",
        urls.join(", "),
        chain(Chain::Home, &manifest.home),
        chain(Chain::Remote, &manifest.remote),
        route.route_id,
        Chain::Home.name(),
        Chain::Remote.name(),
        route.home_token,
        route.wrapped_token
    );
    std::fs::write(root.join("network.toml"), network)?;
    let port = free_port()?;
    let database = match index {
        Index::Sqlite => format!("database = \"{}\"", root.join("data/index.sqlite").display()),
        Index::Postgres(url) => format!("database_url = \"{url}\""),
    };
    let config = format!(
        "network = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n{database}\npoll_ms = 200\nprobe_ms = 500\n{extra}\n",
        root.join("network.toml").display()
    );
    let path = root.join("api.toml");
    std::fs::write(&path, config)?;
    Ok((path, format!("http://127.0.0.1:{port}")))
}

pub(crate) fn start_api(devnet: &Devnet, config: &std::path::Path) -> Result<Agent> {
    let mut command = Command::new(zerobridge_bin()?);
    command.arg("api").arg("--config").arg(config);
    Agent::spawn("api", command, &devnet.dir().join("api/api.log"))
}

pub(crate) async fn get(http: &reqwest::Client, url: &str) -> Result<(u16, Value)> {
    let response = http.get(url).send().await.wrap_err_with(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.wrap_err_with(|| format!("GET {url}: not JSON"))?;
    Ok((status, body))
}

/// Every transfer of `address`, page by page with `limit`.
pub(crate) async fn all_pages(
    http: &reqwest::Client,
    base: &str,
    address: Address,
    limit: usize,
) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let mut url = format!("{base}/v1/transfers?address={address}&limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = get(http, &url).await?;
        if status != 200 {
            bail!("{url}: {status} {body}");
        }
        out.extend(body["transfers"].as_array().cloned().unwrap_or_default());
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Ok(out),
        }
    }
    bail!("more than 50 pages")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_sqlite_lists_transfers_both_ways_with_their_stages_and_resumes_after_a_restart() -> Result<()> {
    suite(Index::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_postgres_lists_transfers_both_ways_with_their_stages_and_resumes_after_a_restart() -> Result<()> {
    let url = zb_test_utils::postgres::fresh_database("e2e_api").await?;
    suite(Index::Postgres(url)).await
}

async fn suite(index: Index) -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let (config, base) = write_config(&devnet, &index)?;
    let mut api = start_api(&devnet, &config)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?;

    let holder = devnet.holder();
    let out = devnet.send_to_remote(tokens(100), holder).await?;
    devnet.wait_delivered(out.lane, out.sequence, DELIVERY).await?;
    let back = devnet.send_to_home(tokens(40) + U256::from(1u64), Address::repeat_byte(0xa7)).await?;
    devnet.wait_delivered(back.lane, back.sequence, DELIVERY).await?;

    let (http_ref, base_ref) = (&http, base.as_str());
    let transfers = wait_until("the API to show both transfers delivered", DELIVERY, move || async move {
        let list = all_pages(http_ref, base_ref, holder, 20).await?;
        Ok((list.len() == 2 && list.iter().all(|t| t["stage"] == "delivered")).then_some(list))
    })
    .await?;
    // Newest first: the remote -> home transfer, then the first one.
    assert_eq!(transfers[0]["source_tx"], back.tx_hash.to_string());
    assert_eq!(transfers[0]["from_chain"], Chain::Remote.name());
    assert_eq!(transfers[0]["to_chain"], Chain::Home.name());
    assert_eq!(transfers[0]["amount"], back.net.to_string());
    assert_eq!(transfers[1]["source_tx"], out.tx_hash.to_string());
    assert_eq!(transfers[1]["sequence"], 1);
    assert_eq!(transfers[1]["route_id"], devnet.manifest().route.route_id.to_string());
    assert!(transfers[1]["destination_tx"].is_string(), "a delivered transfer names its delivery: {}", transfers[1]);

    // By source transaction, and by message hash.
    let (status, by_tx) = get(&http, &format!("{base}/v1/transfers?tx={}", out.tx_hash)).await?;
    assert_eq!(status, 200);
    assert_eq!(by_tx["transfers"].as_array().map(Vec::len), Some(1));
    let hash = by_tx["transfers"][0]["message_hash"].as_str().unwrap_or_default().to_string();
    assert_eq!(hash, zb_protocol::message_hash(&out.message).to_string());
    let (status, one) = get(&http, &format!("{base}/v1/transfers/{hash}")).await?;
    assert_eq!((status, &one["stage"]), (200, &Value::from("delivered")));

    // Pages of one hold each transfer once.
    let paged = all_pages(&http, &base, holder, 1).await?;
    let hashes: HashSet<&str> = paged.iter().filter_map(|t| t["message_hash"].as_str()).collect();
    assert_eq!((paged.len(), hashes.len()), (2, 2));

    // Bad input: 400 in plain words; unknown hash: 404.
    for bad in
        ["/v1/transfers?address=0x12", "/v1/transfers?tx=nothex", "/v1/transfers?limit=1000", "/v1/transfers?cursor=x"]
    {
        let (status, body) = get(&http, &format!("{base}{bad}")).await?;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{bad}: {body}");
    }
    let (status, body) = get(&http, &format!("{base}/v1/transfers/{}", B256::repeat_byte(0x42))).await?;
    assert_eq!(status, 404, "{body}");

    let (status, routes) = get(&http, &format!("{base}/v1/routes")).await?;
    assert_eq!(status, 200);
    assert_eq!(routes["routes"][0]["route_id"], devnet.manifest().route.route_id.to_string());
    let (status, network) = get(&http, &format!("{base}/v1/network")).await?;
    assert_eq!((status, network["chains"].as_array().map(Vec::len)), (200, Some(2)));

    // A restart resumes from the cursor: a new transfer appears, nothing twice.
    api.kill();
    let again = devnet.send_to_remote(tokens(5), holder).await?;
    devnet.wait_delivered(again.lane, again.sequence, DELIVERY).await?;
    let _api = start_api(&devnet, &config)?;
    let list = wait_until("the restarted API to show the third transfer", DELIVERY, move || async move {
        let list = all_pages(http_ref, base_ref, holder, 2).await?;
        Ok((list.len() >= 3 && list.iter().all(|t| t["stage"] == "delivered")).then_some(list))
    })
    .await?;
    let hashes: HashSet<&str> = list.iter().filter_map(|t| t["message_hash"].as_str()).collect();
    assert_eq!((list.len(), hashes.len()), (3, 3), "no duplicates after the restart");
    let (_, health) = get(&http, &format!("{base}/v1/health")).await?;
    assert_eq!(health["status"], "ok");
    match &index {
        // The rows are in the configured database, not in some other index.
        Index::Postgres(url) => {
            let stored = zb_test_utils::postgres::count(url, "transfers").await?;
            assert_eq!(stored, 3, "the PostgreSQL database holds the three transfers");
        }
        Index::Sqlite => {
            assert!(devnet.dir().join("api/data/index.sqlite").is_file(), "the SQLite file was created");
        }
    }
    Ok(())
}
