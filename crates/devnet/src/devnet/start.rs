//! Start-up: the chains, the keys, the deployment and the agents' configs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, bail, eyre};
use zb_contracts::wrapped::WrappedToken;
use zb_ops::deploy::dev_keys;
use zb_test_utils::Anvil;
use zb_test_utils::paths::{anvil_bin, contracts_dir, forge_bin, free_port, zerobridge_bin};

use super::{AgentSlot, Devnet, DevnetOptions, Mode, wait_until};
use crate::configs::RelayerKeyToml;
use crate::layout::{fallback_name, foundry_bin, validator_name};
use crate::setup::{
    ChainSettings, DeploySettings, chain_config, dev_address, relayer_config, validator_config, validator_lanes,
    without_stake,
};
use crate::{HOME, KEYSTORE_PASSWORD, Layout, REMOTE, RPC_TIMEOUT, UpEvent, UpView, keys};

/// Upper bound for one transaction of the start-up to be mined.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// An [`UpView`] that shows nothing (a test's devnet).
pub struct Quiet;

impl UpView for Quiet {
    fn event(&mut self, _: UpEvent<'_>) {}
}

impl<C> AgentSlot<C> {
    fn new(name: String, address: Address, port: u16, layout: &Layout, config: C) -> AgentSlot<C> {
        AgentSlot {
            address,
            port,
            config_path: layout.config(&name),
            log: layout.log(&name),
            data_dir: layout.data_dir(&name),
            config: Mutex::new(config),
            process: Mutex::new(None),
            runs: AtomicU64::new(0),
            name,
        }
    }
}

/// The port of agent `index` (validators, then fallback validators, then the relayer): fixed in
/// detached mode, free ones otherwise.
fn agent_port(options: &DevnetOptions, index: usize) -> Result<u16> {
    let Mode::Detached(detached) = &options.mode else {
        return free_port();
    };
    let ports = &detached.ports;
    let (primaries, fallbacks) = (ports.validators.len(), ports.fallback.len());
    let port = match index {
        i if i < primaries => ports.validators.get(i),
        i if i < primaries + fallbacks => ports.fallback.get(i - primaries),
        _ => Some(&ports.relayer),
    };
    port.copied().ok_or_else(|| eyre!("no fixed port for agent {index}"))
}

impl Devnet {
    /// Starts both chains, imports the devnet's keys, deploys with Deploy.s.sol, (owned mode)
    /// approves the home bridge for the holder, switches the chains to interval (or manual)
    /// mining and writes the agents' configs. No agent runs yet.
    pub async fn start(options: DevnetOptions) -> Result<Devnet> {
        Devnet::start_with(options, &mut Quiet).await
    }

    /// [`Devnet::start`], reporting each step to `view`.
    pub async fn start_with(options: DevnetOptions, view: &mut dyn UpView) -> Result<Devnet> {
        if options.validators == 0 || options.validators > 128 {
            bail!("validators must be 1..=128, not {}", options.validators);
        }
        if options.block_time == 0 {
            bail!("block_time must be at least 1 second (use manual_mining_home for on-demand blocks)");
        }
        let (dir, layout, bin, anvil, forge, contracts) = match &options.mode {
            Mode::Owned => {
                let dir =
                    tempfile::Builder::new().prefix("zb-e2e-").tempdir().wrap_err("creating a temporary directory")?;
                let layout = Layout::new(dir.path());
                (Some(dir), layout, zerobridge_bin()?, anvil_bin()?, forge_bin()?, contracts_dir())
            }
            Mode::Detached(d) => {
                let (anvil, forge) = (foundry_bin(&d.repo, "anvil")?, foundry_bin(&d.repo, "forge")?);
                (None, Layout::new(&d.dir), d.zerobridge.clone(), anvil, forge, d.repo.join("contracts"))
            }
        };
        layout.create()?;

        // 1. Chains, automining while deploying.
        let (home_log, remote_log) =
            (layout.log(&format!("anvil-{}", HOME.name)), layout.log(&format!("anvil-{}", REMOTE.name)));
        let (home, remote) = match &options.mode {
            Mode::Owned => {
                tokio::try_join!(Anvil::start(HOME.chain_id, &home_log), Anvil::start(REMOTE.chain_id, &remote_log))?
            }
            Mode::Detached(d) => {
                let home = Anvil::start_detached(&anvil, HOME.chain_id, d.ports.home, &home_log, RPC_TIMEOUT).await?;
                let remote =
                    Anvil::start_detached(&anvil, REMOTE.chain_id, d.ports.remote, &remote_log, RPC_TIMEOUT).await?;
                (home, remote)
            }
        };
        let records = Mutex::new(Vec::new());
        for (chain, spec) in [(&home, HOME), (&remote, REMOTE)] {
            view.event(UpEvent::ChainUp { name: spec.name, url: &chain.http(), chain_id: spec.chain_id });
            if matches!(options.mode, Mode::Detached(_)) {
                crate::process::record(&layout, &records, &format!("anvil {}", spec.name), chain.pid(), "anvil")?;
            }
        }

        // 2. Keys: the devnet's validators and fallback validators; in detached mode also the
        // relayer's (anvil account 2), which the harness passes in the environment instead.
        let password_file = keys::write_password_file(&layout.password_file())?;
        let mut all_keys: Vec<_> = (0..options.validators)
            .map(keys::validator_key)
            .chain((0..options.fallback_validators).map(keys::fallback_validator_key))
            .collect();
        let detached = matches!(options.mode, Mode::Detached(_));
        if detached {
            all_keys.push(dev_keys::RELAYER.parse().map_err(|e| eyre!("bad relayer key: {e}"))?);
        }
        let mut keystores = keys::import_keys(&layout.keys(), all_keys).await?;
        let relayer_key = if detached {
            let relayer = keystores.pop().ok_or_else(|| eyre!("no relayer keystore"))?;
            RelayerKeyToml::Keystore { keystore: relayer.path, password_file: password_file.clone() }
        } else {
            RelayerKeyToml::Env { private_key_env: "ZB_RELAYER_KEY".into() }
        };
        // Detached, the validators want bearer tokens, as in production; a test's devnet runs
        // them open so that its helpers can read every endpoint.
        let api_tokens = if detached { Some(keys::write_api_tokens(&layout.keys())?) } else { None };
        view.event(UpEvent::KeysImported {
            validators: options.validators,
            fallback_validators: options.fallback_validators,
            dir: &layout.keys(),
            password: KEYSTORE_PASSWORD,
        });

        // 3. Contracts and the demo route.
        view.event(UpEvent::Deploying);
        let settings = DeploySettings {
            validators: options.validators,
            fallback_validators: options.fallback_validators,
            threshold: options.threshold,
            liveness: options.liveness,
        };
        let manifest =
            crate::setup::deploy(&layout, &forge, &contracts, (&home.http(), &remote.http()), settings).await?;
        view.event(UpEvent::Deployed { deployed: &manifest });

        let holder = dev_address(dev_keys::HOLDER)?;
        if !detached {
            // Still automining: the approval is mined at once.
            approve_home_bridge(&home, &manifest).await?;
        }
        if options.manual_mining_home {
            home.set_automine(false).await?;
        } else {
            home.set_interval_mining(options.block_time).await?;
        }
        remote.set_interval_mining(options.block_time).await?;

        // 4. The agents' configs (written, and checked, at each start).
        let settings = ChainSettings {
            finality_depth: options.finality_depth,
            poll_interval_ms: options.poll_interval_ms,
            websocket: options.websocket,
        };
        let chains = vec![
            chain_config(HOME, home.port(), &manifest.home, &settings),
            chain_config(REMOTE, remote.port(), &manifest.remote, &settings),
        ];
        // Validators take their lanes from their operators' opt-ins (stake managers, no
        // [[lanes]]) with lanes_from_stake; a fallback validator always watches its [[lanes]].
        let primary_chains = if options.lanes_from_stake { chains.clone() } else { without_stake(&chains) };
        let mut validators = Vec::with_capacity(keystores.len());
        for (i, key) in keystores.into_iter().enumerate() {
            let port = agent_port(&options, i)?;
            let fallback = i >= options.validators;
            let name = if fallback { fallback_name(i - options.validators) } else { validator_name(i) };
            let mut config = if fallback {
                let delay = Some(options.liveness.fallback_delay);
                validator_config(
                    &layout,
                    &name,
                    &key.path,
                    port,
                    without_stake(&chains),
                    validator_lanes(&manifest),
                    delay,
                )
            } else {
                let lanes = if options.lanes_from_stake { Vec::new() } else { validator_lanes(&manifest) };
                validator_config(&layout, &name, &key.path, port, primary_chains.clone(), lanes, None)
            };
            config.stake_refresh_secs = if fallback { None } else { options.stake_refresh_secs };
            config.api = api_tokens.as_ref().map(|t| t.api.clone());
            validators.push(AgentSlot::new(name, key.address, port, &layout, config));
        }
        let urls = |slots: &[AgentSlot<_>]| slots.iter().map(AgentSlot::url).collect::<Vec<String>>();
        let relayer_port = agent_port(&options, validators.len())?;
        let mut relayer = relayer_config(
            &layout,
            relayer_port,
            urls(&validators[..options.validators]),
            urls(&validators[options.validators..]),
            relayer_key,
            // The relayer has no use for the stake managers.
            without_stake(&chains),
            &manifest,
        );
        relayer.validator_token_file = api_tokens.as_ref().map(|t| t.relayer_file.clone());
        relayer.max_batch_messages = options.max_batch_messages;
        relayer.confirmation_timeout_secs = options.confirmation_timeout_secs;
        let relayer = AgentSlot::new("relayer".into(), dev_address(dev_keys::RELAYER)?, relayer_port, &layout, relayer);
        Ok(Devnet {
            options,
            manifest,
            dir,
            layout,
            bin,
            home,
            remote,
            validators,
            relayer,
            holder,
            client_token_file: api_tokens.map(|t| t.clients_file),
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
            failed: AtomicBool::new(false),
            records,
            others: Mutex::new(Vec::new()),
        })
    }
}

/// The holder approves the home bridge for all its demo tokens, so a test's `send` needs no
/// approval of its own.
async fn approve_home_bridge(home: &Anvil, manifest: &super::Manifest) -> Result<()> {
    let signer: PrivateKeySigner = dev_keys::HOLDER.parse().wrap_err("parsing the holder's dev key")?;
    let wallet =
        ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(home.http().parse()?).erased();
    let token = WrappedToken::new(manifest.route.home_token, wallet.clone());
    let pending = token.approve(manifest.home.bridge, U256::MAX).send().await.wrap_err("approve")?;
    let hash = *pending.tx_hash();
    let receipt = wait_until(&format!("the receipt of {hash}"), RECEIPT_TIMEOUT, || async {
        Ok(wallet.get_transaction_receipt(hash).await?)
    })
    .await?;
    if !receipt.status() {
        bail!("the holder's approval of the home bridge reverted");
    }
    Ok(())
}
