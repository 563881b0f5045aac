//! The devnet manifest (zb_ops::network::DevnetManifest): what runs where, built the same way
//! for `devnet up` and for a test's devnet (so that the CLI's commands can run against either).

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, eyre};
use zb_ops::deploy::{DeployedSide, Deployment, Liveness, dev_keys};
use zb_ops::network::{
    ChainInfo, DevnetManifest, ManifestAccount, ManifestAgent, ManifestChain, ManifestLane, RouteInfo,
};

use crate::keys::{fallback_validator_key, validator_key};
use crate::setup::{local_url, route_lanes};
use crate::{ChainSpec, HOME, REMOTE};

/// A chain as the manifest shows it.
#[derive(Debug, Clone)]
pub struct RunningChain {
    pub port: u16,
    pub pid: u32,
    pub log: PathBuf,
}

/// Everything the manifest describes.
#[derive(Debug, Clone)]
pub struct ManifestParts<'a> {
    pub deployed: &'a Deployment,
    pub home: RunningChain,
    pub remote: RunningChain,
    pub finality_depth: u64,
    pub threshold: u64,
    pub liveness: Liveness,
    pub validators: Vec<ManifestAgent>,
    pub fallback_validators: Vec<ManifestAgent>,
    pub relayer: ManifestAgent,
    pub watchtower: Option<ManifestAgent>,
    pub keys_dir: PathBuf,
    pub password_file: PathBuf,
    pub validator_token_file: Option<PathBuf>,
}

/// An agent of the manifest (pid 0 until it starts).
pub fn agent(name: &str, port: u16, address: Address, config: PathBuf, log: PathBuf) -> ManifestAgent {
    ManifestAgent { name: name.to_string(), url: local_url(port), address, pid: 0, config, log }
}

fn account(role: String, private_key: B256) -> Result<ManifestAccount> {
    let address = PrivateKeySigner::from_bytes(&private_key).map_err(|e| eyre!("bad key of {role}: {e}"))?.address();
    Ok(ManifestAccount { role, address, private_key })
}

fn dev_account(role: &str, key: &str) -> Result<ManifestAccount> {
    account(role.to_string(), key.parse().map_err(|e| eyre!("bad dev key of {role}: {e}"))?)
}

fn chain(spec: ChainSpec, running: &RunningChain, side: &DeployedSide, finality_depth: u64) -> ManifestChain {
    ManifestChain {
        chain: ChainInfo {
            name: spec.name.to_string(),
            chain_id: spec.chain_id,
            rpc: local_url(running.port),
            bridge: side.bridge,
            registry: side.registry,
            finality_depth,
            manager: None,
            stake_manager: Some(side.stake_manager),
        },
        ws: format!("ws://127.0.0.1:{}", running.port),
        manager: side.manager,
        start_block: side.start_block,
        pid: running.pid,
        log: running.log.clone(),
    }
}

/// The manifest of a devnet: chains, the DEMO route and its lanes, the agents, and the accounts
/// with their keys (dev accounts, validators' signing keys, operators' keys).
pub fn build(parts: ManifestParts<'_>) -> Result<DevnetManifest> {
    let deployed = parts.deployed;
    let mut accounts = vec![
        dev_account("deployer", dev_keys::DEPLOYER)?,
        dev_account("holder", dev_keys::HOLDER)?,
        dev_account("relayer", dev_keys::RELAYER)?,
        dev_account("watchtower", dev_keys::WATCHTOWER)?,
    ];
    for i in 0..parts.validators.len() {
        accounts.push(account(format!("validator-{i}"), validator_key(i))?);
    }
    for j in 0..parts.fallback_validators.len() {
        accounts.push(account(format!("fallback-{j}"), fallback_validator_key(j))?);
    }
    // Each validator's operator key: it bonded the stake and opted in; `zerobridge stake` uses it.
    for (i, key) in deployed.operator_keys.iter().enumerate() {
        accounts.push(account(format!("operator-{i}"), B256::from(*key))?);
    }
    for (i, key) in deployed.fallback_operator_keys.iter().enumerate() {
        accounts.push(account(format!("fallback-operator-{i}"), B256::from(*key))?);
    }
    Ok(DevnetManifest {
        chains: vec![
            chain(HOME, &parts.home, &deployed.home, parts.finality_depth),
            chain(REMOTE, &parts.remote, &deployed.remote, parts.finality_depth),
        ],
        routes: vec![RouteInfo {
            route_id: deployed.route.route_id,
            symbol: "DEMO".into(),
            decimals: 18,
            home: HOME.name.into(),
            remote: REMOTE.name.into(),
            home_token: deployed.route.home_token,
            wrapped_token: deployed.route.wrapped_token,
            liveness: Some(parts.liveness),
        }],
        accounts,
        validators: parts.validators,
        fallback_validators: parts.fallback_validators,
        relayer: parts.relayer,
        watchtower: parts.watchtower,
        api: None,
        threshold: parts.threshold,
        lanes: route_lanes(deployed)
            .iter()
            .map(|(lane, source, destination)| ManifestLane {
                lane: *lane,
                route_id: deployed.route.route_id,
                source: source.name.to_string(),
                destination: destination.name.to_string(),
            })
            .collect(),
        keys_dir: parts.keys_dir,
        password_file: parts.password_file,
        validator_token_file: parts.validator_token_file,
    })
}
