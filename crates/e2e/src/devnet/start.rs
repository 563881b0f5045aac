//! Start-up: the chains, the validator keys, the deployment and the agents' configs.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, bail};
use zb_chain::{ChainConfig, Finality};

use super::{
    Devnet, DevnetOptions, HOME_CHAIN_ID, HOME_NAME, IERC20, Manifest, RECEIPT_TIMEOUT, REMOTE_CHAIN_ID, REMOTE_NAME,
    SideManifest, ValidatorSlot, wait_receipt,
};
use crate::anvil::Anvil;
use crate::config::{RelayerKeyToml, RelayerLaneToml, RelayerToml, ValidatorLaneToml, ValidatorToml};
use crate::paths::{contracts_dir, forge_bin, free_port, zerobridge_bin};
use crate::{KEYSTORE_PASSWORD, dev_keys};

fn wallet_provider(url: &str, key: &str) -> Result<(DynProvider, Address)> {
    let signer: PrivateKeySigner = key.parse().wrap_err("parsing a dev key")?;
    let address = signer.address();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url.parse()?).erased();
    Ok((provider, address))
}

/// The deterministic private key of validator `i`.
pub fn validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.e2e.validator.{i}"))
}

/// The deterministic private key of fallback validator `i`.
pub fn fallback_validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.e2e.fallback.{i}"))
}

async fn import_key(bin: &Path, dir: &Path, key: B256) -> Result<(Address, PathBuf)> {
    let output = tokio::process::Command::new(bin)
        .args(["keys", "import", "--dir"])
        .arg(dir)
        .env("ZB_PRIVATE_KEY", format!("{key}"))
        .env("ZB_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .wrap_err_with(|| format!("running {} keys import", bin.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "zerobridge keys import failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut words = stdout.split_whitespace();
    let (Some(address), Some(path)) = (words.next(), words.next()) else {
        bail!("zerobridge keys import printed {stdout:?}, expected \"<address> <path>\"");
    };
    let address: Address = address.parse().wrap_err_with(|| format!("keys import printed {stdout:?}"))?;
    let expected = PrivateKeySigner::from_bytes(&key)?.address();
    if address != expected {
        bail!("keys import says the key is {address}, but it is {expected}");
    }
    Ok((address, PathBuf::from(path)))
}

/// Deploys with the shared Deploy.s.sol runner; forge's log goes next to the devnet's files.
async fn deploy(
    home: &Anvil,
    remote: &Anvil,
    options: &DevnetOptions,
    holder: Address,
    root: &Path,
) -> Result<Manifest> {
    let validator_keys: Vec<B256> = (0..options.validators).map(validator_key).collect();
    let fallback_keys: Vec<B256> = (0..options.fallback_validators).map(fallback_validator_key).collect();
    let forge = forge_bin()?;
    let manifest = zb_ops::deploy::deploy(&zb_ops::deploy::DeployRequest {
        contracts: &contracts_dir(),
        forge: &forge,
        home_rpc: &home.http(),
        remote_rpc: &remote.http(),
        validator_keys: &validator_keys,
        threshold: options.threshold,
        fallback_keys: &fallback_keys,
        liveness: options.liveness,
        // Harmless when no watchtower runs: the key only gets GUARDIAN.
        watchtower: Some(dev_keys::WATCHTOWER.parse::<PrivateKeySigner>()?.address()),
        holders: &[holder],
        broadcast_dir: &root.join("broadcast"),
        log: &root.join("deploy.log"),
    })
    .await?;
    if manifest.home.chain_id != home.chain_id() || manifest.remote.chain_id != remote.chain_id() {
        bail!("the manifest names chains {} and {}", manifest.home.chain_id, manifest.remote.chain_id);
    }
    Ok(manifest)
}

fn chain_config(anvil: &Anvil, side: &SideManifest, name: &str, options: &DevnetOptions) -> ChainConfig {
    ChainConfig {
        name: name.to_string(),
        chain_id: side.chain_id,
        rpc: vec![anvil.http()],
        ws: options.websocket.then(|| anvil.ws()),
        bridge: side.bridge,
        finality: Finality::Depth(options.finality_depth),
        rpc_quorum: 1,
        poll_interval_ms: options.poll_interval_ms,
        start_block: side.start_block,
        stake_manager: None,
    }
}

impl Devnet {
    /// Starts both chains, imports the validator keys (`zerobridge keys import`), deploys with
    /// Deploy.s.sol, approves the home bridge for the holder, switches the chains to interval
    /// (or manual) mining and writes the agents' configs. No agent runs yet.
    pub async fn start(options: DevnetOptions) -> Result<Devnet> {
        if options.validators == 0 || options.validators > 128 {
            bail!("validators must be 1..=128, not {}", options.validators);
        }
        if options.block_time == 0 {
            bail!("block_time must be at least 1 second (use manual_mining_home for on-demand blocks)");
        }
        let bin = zerobridge_bin()?;
        let dir = tempfile::Builder::new().prefix("zb-e2e-").tempdir().wrap_err("creating a temporary directory")?;
        let root = dir.path().to_path_buf();
        for sub in ["logs", "data", "keys"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        let (home_log, remote_log) = (root.join("logs/anvil-home.log"), root.join("logs/anvil-remote.log"));
        let (home, remote) =
            tokio::try_join!(Anvil::start(HOME_CHAIN_ID, &home_log), Anvil::start(REMOTE_CHAIN_ID, &remote_log))?;

        let keys_dir = root.join("keys");
        let imports = (0..options.validators)
            .map(validator_key)
            .chain((0..options.fallback_validators).map(fallback_validator_key))
            .map(|key| import_key(&bin, &keys_dir, key));
        let keys: Vec<(Address, PathBuf)> = futures_join_all(imports).await?;

        let (home_wallet, holder) = wallet_provider(&home.http(), dev_keys::HOLDER)?;
        let (remote_wallet, _) = wallet_provider(&remote.http(), dev_keys::HOLDER)?;
        let relayer_address: Address = dev_keys::RELAYER.parse::<PrivateKeySigner>()?.address();
        // The validators' signing keys are dev keys: Deploy.s.sol signs each operator's proof of
        // possession with them.
        let manifest = deploy(&home, &remote, &options, holder, &root).await?;

        // Still automining: the approval is mined at once.
        let token = IERC20::new(manifest.route.home_token, home_wallet.clone());
        let pending = token.approve(manifest.home.bridge, U256::MAX).send().await.wrap_err("approve")?;
        let receipt = wait_receipt(&home_wallet, *pending.tx_hash(), RECEIPT_TIMEOUT).await?;
        if !receipt.status() {
            bail!("the holder's approval of the home bridge reverted");
        }
        if options.manual_mining_home {
            home.set_automine(false).await?;
        } else {
            home.set_interval_mining(options.block_time).await?;
        }
        remote.set_interval_mining(options.block_time).await?;

        let home_chain = chain_config(&home, &manifest.home, HOME_NAME, &options);
        let remote_chain = chain_config(&remote, &manifest.remote, REMOTE_NAME, &options);
        let staked = |chain: &ChainConfig, side: &SideManifest| ChainConfig {
            stake_manager: options.lanes_from_stake.then_some(side.stake_manager),
            ..chain.clone()
        };
        let validator_chains = vec![staked(&home_chain, &manifest.home), staked(&remote_chain, &manifest.remote)];
        let mut validators = Vec::with_capacity(keys.len());
        for (i, (signer, keystore)) in keys.into_iter().enumerate() {
            let port = free_port()?;
            let data_dir = root.join(format!("data/validator-{i}"));
            let fallback = i >= options.validators;
            let config = ValidatorToml {
                keystore,
                data_dir: data_dir.clone(),
                listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                public_url: Some(format!("http://127.0.0.1:{port}")),
                role: fallback.then_some("fallback"),
                fallback_delay_secs: fallback.then_some(options.liveness.fallback_delay),
                // A fallback validator watches its [[lanes]], not its operator's opt-ins.
                chains: if fallback {
                    vec![home_chain.clone(), remote_chain.clone()]
                } else {
                    validator_chains.clone()
                },
                lanes: if options.lanes_from_stake && !fallback {
                    Vec::new()
                } else {
                    vec![
                        ValidatorLaneToml { lane: manifest.route.lane_to_remote, source: HOME_NAME.into() },
                        ValidatorLaneToml { lane: manifest.route.lane_to_home, source: REMOTE_NAME.into() },
                    ]
                },
                stake_refresh_secs: options.stake_refresh_secs,
            };
            validators.push(ValidatorSlot {
                signer,
                port,
                config_path: root.join(format!("validator-{i}.toml")),
                log: root.join(format!("logs/validator-{i}.log")),
                data_dir,
                config: Mutex::new(config),
                process: Mutex::new(None),
                runs: AtomicU64::new(0),
            });
        }
        let relayer_port = free_port()?;
        let relayer_data_dir = root.join("data/relayer");
        let relayer_config = RelayerToml {
            data_dir: relayer_data_dir.clone(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, relayer_port)),
            max_batch_gas: None,
            max_batch_messages: options.max_batch_messages,
            confirmation_timeout_secs: options.confirmation_timeout_secs,
            fee_ceilings: Default::default(),
            validators: validators[..options.validators]
                .iter()
                .map(|v| format!("http://127.0.0.1:{}", v.port))
                .collect(),
            fallback_validators: validators[options.validators..]
                .iter()
                .map(|v| format!("http://127.0.0.1:{}", v.port))
                .collect(),
            key: RelayerKeyToml { private_key_env: "ZB_RELAYER_KEY".into() },
            chains: vec![home_chain, remote_chain],
            lanes: vec![
                RelayerLaneToml {
                    lane: manifest.route.lane_to_remote,
                    source: HOME_NAME.into(),
                    destination: REMOTE_NAME.into(),
                },
                RelayerLaneToml {
                    lane: manifest.route.lane_to_home,
                    source: REMOTE_NAME.into(),
                    destination: HOME_NAME.into(),
                },
            ],
        };
        Ok(Devnet {
            options,
            manifest,
            dir: Some(dir),
            root: root.clone(),
            bin,
            home,
            remote,
            validators,
            relayer_port,
            relayer_config_path: root.join("relayer.toml"),
            relayer_log: root.join("logs/relayer.log"),
            relayer_data_dir,
            relayer_config: Mutex::new(relayer_config),
            relayer: Mutex::new(None),
            relayer_runs: AtomicU64::new(0),
            holder,
            relayer_address,
            home_wallet,
            remote_wallet,
            send_lock: tokio::sync::Mutex::new(()),
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
            failed: AtomicBool::new(false),
        })
    }
}

/// Awaits every future, in order, failing on the first error.
async fn futures_join_all<T>(futures: impl IntoIterator<Item = impl Future<Output = Result<T>>>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await?);
    }
    Ok(out)
}
