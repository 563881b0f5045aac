//! The steps both modes share: the deployment of the demo route, and the agents' configs built
//! from it (the harness and `devnet up` differ only in the settings they pass).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, bail, eyre};
use zb_chain::{ChainConfig, Finality};
use zb_ops::deploy::{DeployRequest, DeployedSide, Deployment, Liveness, dev_keys};

use crate::configs::{RelayerKeyToml, RelayerLaneToml, RelayerToml, ValidatorLaneToml, ValidatorToml, WatchtowerToml};
use crate::configs::{WatchtowerAlertsToml, WatchtowerKeyToml};
use crate::keys::{fallback_validator_key, validator_key};
use crate::{ChainSpec, HOME, Layout, REMOTE};

/// The environment variable the watchtower reads its raw devnet key from.
pub const WATCHTOWER_KEY_ENV: &str = "ZB_WATCHTOWER_KEY";

/// `http://127.0.0.1:<port>`.
pub fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// `127.0.0.1:<port>`.
pub fn local_addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// The address of a dev key (zb_ops::deploy::dev_keys).
pub fn dev_address(key: &str) -> Result<Address> {
    Ok(key.parse::<PrivateKeySigner>().map_err(|e| eyre!("bad devnet key: {e}"))?.address())
}

/// What to deploy: `validators` primary and `fallback_validators` fallback keys of the devnet's
/// seed scheme, `threshold` of the primaries, the route's liveness policy.
#[derive(Debug, Clone, Copy)]
pub struct DeploySettings {
    pub validators: usize,
    pub fallback_validators: usize,
    pub threshold: u64,
    pub liveness: Liveness,
}

/// Deploys zerobridge and the DEMO route with Deploy.s.sol (GUARDIAN for the watchtower's dev
/// key, the demo tokens for the holder), and checks what it reports: the chain ids and the lane
/// ids of the route.
pub async fn deploy(
    layout: &Layout,
    forge: &Path,
    contracts: &Path,
    (home_rpc, remote_rpc): (&str, &str),
    settings: DeploySettings,
) -> Result<Deployment> {
    // The validators' signing keys are devnet keys: Deploy.s.sol signs each operator's proof of
    // possession with them.
    let validator_keys: Vec<B256> = (0..settings.validators).map(validator_key).collect();
    let fallback_keys: Vec<B256> = (0..settings.fallback_validators).map(fallback_validator_key).collect();
    let deployed = zb_ops::deploy::deploy(&DeployRequest {
        contracts,
        forge,
        home_rpc,
        remote_rpc,
        validator_keys: &validator_keys,
        threshold: settings.threshold,
        fallback_keys: &fallback_keys,
        liveness: settings.liveness,
        watchtower: Some(dev_address(dev_keys::WATCHTOWER)?),
        holders: &[dev_address(dev_keys::HOLDER)?],
        broadcast_dir: &layout.broadcast(),
        log: &layout.deploy_log(),
    })
    .await?;
    if deployed.home.chain_id != HOME.chain_id || deployed.remote.chain_id != REMOTE.chain_id {
        bail!("Deploy.s.sol reports chains {} and {}", deployed.home.chain_id, deployed.remote.chain_id);
    }
    let side = |spec: ChainSpec| if spec == HOME { &deployed.home } else { &deployed.remote };
    for (lane, source, destination) in route_lanes(&deployed) {
        let (src, dst) = (side(source), side(destination));
        let expected =
            zb_protocol::lane_id(src.chain_id, src.bridge, dst.chain_id, dst.bridge, deployed.route.route_id);
        if lane != expected {
            bail!("Deploy.s.sol reported lane {lane}, but the lane id of its route is {expected}");
        }
    }
    Ok(deployed)
}

/// The route's two lanes: (lane, source, destination).
pub fn route_lanes(deployed: &Deployment) -> [(B256, ChainSpec, ChainSpec); 2] {
    [(deployed.route.lane_to_remote, HOME, REMOTE), (deployed.route.lane_to_home, REMOTE, HOME)]
}

/// `[[lanes]]` of a validator that watches both lanes.
pub fn validator_lanes(deployed: &Deployment) -> Vec<ValidatorLaneToml> {
    route_lanes(deployed)
        .iter()
        .map(|(lane, source, _)| ValidatorLaneToml { lane: *lane, source: source.name.into() })
        .collect()
}

/// `[[lanes]]` of the relayer.
pub fn relayer_lanes(deployed: &Deployment) -> Vec<RelayerLaneToml> {
    route_lanes(deployed)
        .iter()
        .map(|(lane, source, destination)| RelayerLaneToml {
            lane: *lane,
            source: source.name.into(),
            destination: destination.name.into(),
        })
        .collect()
}

/// How the agents read the chains.
#[derive(Debug, Clone, Copy)]
pub struct ChainSettings {
    pub finality_depth: u64,
    pub poll_interval_ms: u64,
    /// Give the agents the chains' websocket URLs for new heads.
    pub websocket: bool,
}

/// One `[[chains]]` entry for the chain on `port`, with its stake manager.
pub fn chain_config(spec: ChainSpec, port: u16, side: &DeployedSide, settings: &ChainSettings) -> ChainConfig {
    ChainConfig {
        name: spec.name.to_string(),
        chain_id: spec.chain_id,
        rpc: vec![local_url(port)],
        ws: settings.websocket.then(|| format!("ws://127.0.0.1:{port}")),
        bridge: side.bridge,
        finality: Finality::Depth(settings.finality_depth),
        rpc_quorum: 1,
        poll_interval_ms: settings.poll_interval_ms,
        start_block: side.start_block,
        stake_manager: Some(side.stake_manager),
    }
}

/// `chains` without their stake managers.
pub fn without_stake(chains: &[ChainConfig]) -> Vec<ChainConfig> {
    chains.iter().map(|c| ChainConfig { stake_manager: None, ..c.clone() }).collect()
}

/// The config of validator `name` on `port`, its keystore in the devnet's keys (password file
/// included), its store in `data/<name>`. `fallback_delay`: a fallback validator.
pub fn validator_config(
    layout: &Layout,
    name: &str,
    keystore: &Path,
    port: u16,
    chains: Vec<ChainConfig>,
    lanes: Vec<ValidatorLaneToml>,
    fallback_delay: Option<u64>,
) -> ValidatorToml {
    ValidatorToml {
        keystore: keystore.to_path_buf(),
        password_file: Some(layout.password_file()),
        data_dir: layout.data_dir(name),
        listen: local_addr(port),
        public_url: Some(local_url(port)),
        role: fallback_delay.map(|_| "fallback"),
        fallback_delay_secs: fallback_delay,
        chains,
        lanes,
        stake_refresh_secs: None,
        api: None,
    }
}

/// The relayer's config on `port`, its store in `data/relayer`, asking `validators` (and
/// `fallback_validators`) for signatures on both lanes.
pub fn relayer_config(
    layout: &Layout,
    port: u16,
    validators: Vec<String>,
    fallback_validators: Vec<String>,
    key: RelayerKeyToml,
    chains: Vec<ChainConfig>,
    deployed: &Deployment,
) -> RelayerToml {
    RelayerToml {
        data_dir: layout.data_dir("relayer"),
        listen: local_addr(port),
        max_batch_gas: None,
        max_batch_messages: None,
        confirmation_timeout_secs: None,
        fee_ceilings: Default::default(),
        validators,
        fallback_validators,
        validator_token_file: None,
        key,
        chains,
        lanes: relayer_lanes(deployed),
    }
}

/// The watchtower's config for the demo route: the guardian key from [`WATCHTOWER_KEY_ENV`], the
/// agents' `chains` read at depth 0 (it checks each delivery in the block that carries it; a
/// reorg can only make it act early), the store in `data_dir`, alerts to `alerts`.
pub fn watchtower_config(
    data_dir: &Path,
    alerts: &Path,
    port: u16,
    chains: &[ChainConfig],
    deployed: &Deployment,
    poll_interval_ms: Option<u64>,
) -> WatchtowerToml {
    WatchtowerToml {
        data_dir: data_dir.to_path_buf(),
        listen: local_addr(port),
        poll_interval_ms,
        key: WatchtowerKeyToml { private_key_env: WATCHTOWER_KEY_ENV.into() },
        alerts: WatchtowerAlertsToml { file: alerts.to_path_buf() },
        chains: chains.iter().map(|c| ChainConfig { finality: Finality::Depth(0), ..c.clone() }).collect(),
        routes: vec![zb_config::watchtower::WatchedRoute {
            route_id: deployed.route.route_id,
            home: HOME.name.into(),
            remote: REMOTE.name.into(),
        }],
    }
}
