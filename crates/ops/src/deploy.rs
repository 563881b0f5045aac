//! Deploys zerobridge on two chains with `forge script script/Deploy.s.sol` and reads back what
//! it wrote. Shared by `zerobridge devnet up` and the end-to-end test harness.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Context, Result, bail, eyre};
use serde::Deserialize;
use zb_protocol::ValidatorSet;

/// Anvil's well-known development mnemonic ("test test ... junk"), accounts 0 to 3. Public
/// knowledge: devnet only.
pub mod dev_keys {
    /// Account 0: deploys everything; admin and guardian of the devnet (validator sets come from
    /// the stake manager, which alone holds SET_MANAGER).
    pub const DEPLOYER: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    /// Account 1: holds 1,000,000 DEMO on the home chain and sends transfers.
    pub const HOLDER: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    /// Account 2: pays for the relayer's deliveries.
    pub const RELAYER: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    /// Account 3: the watchtower (GUARDIAN only).
    pub const WATCHTOWER: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
}

const DEPLOY_TIMEOUT: Duration = Duration::from_secs(600);

/// What each devnet operator bonds on each chain: 1,000 of the native coin.
pub const DEVNET_STAKE_WEI: u128 = 1_000_000_000_000_000_000_000;

/// The JSON Deploy.s.sol writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub home: DeployedSide,
    pub remote: DeployedSide,
    pub route: DeployedRoute,
    /// Devnet operator keys, one per validator, in the order of `DeployRequest::validator_keys`.
    pub operator_keys: Vec<U256>,
    /// The same for the fallback validators (`DeployRequest::fallback_keys`).
    #[serde(default)]
    pub fallback_operator_keys: Vec<U256>,
    /// Wei each operator bonded on each chain.
    pub stake: U256,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedSide {
    pub bridge: Address,
    pub chain_id: u64,
    pub manager: Address,
    pub registry: Address,
    pub stake_manager: Address,
    pub start_block: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedRoute {
    pub route_id: B256,
    pub lane_to_remote: B256,
    pub lane_to_home: B256,
    pub home_token: Address,
    pub wrapped_token: Address,
    /// The home -> remote lane's set, from the home chain's stake snapshot.
    pub validator_set: Bytes,
    /// The remote -> home lane's set, from the remote chain's stake snapshot.
    pub validator_set_to_home: Bytes,
    /// The fallback sets of the two lanes (empty without fallback validators).
    #[serde(default)]
    pub fallback_set: Bytes,
    #[serde(default)]
    pub fallback_set_to_home: Bytes,
}

pub use crate::network::Liveness;

/// What to deploy, and where.
#[derive(Debug, Clone)]
pub struct DeployRequest<'a> {
    /// The Foundry project (`contracts/`), already built.
    pub contracts: &'a Path,
    pub forge: &'a Path,
    pub home_rpc: &'a str,
    pub remote_rpc: &'a str,
    /// The demo route's validators' signing keys (devnet keys: Deploy.s.sol signs each
    /// operator's proof of possession with them): one staked operator each, equal stake on both
    /// chains.
    pub validator_keys: &'a [B256],
    /// How many of them must sign (checked against the stake-weighted threshold).
    pub threshold: u64,
    /// The fallback validators' signing keys ("master validators", staked the same way), empty
    /// for none.
    pub fallback_keys: &'a [B256],
    pub liveness: Liveness,
    /// The watchtower's key gets the GUARDIAN role on both chains.
    pub watchtower: Option<Address>,
    /// Accounts funded with demo tokens.
    pub holders: &'a [Address],
    /// Where forge keeps its transaction log.
    pub broadcast_dir: &'a Path,
    /// forge's output.
    pub log: &'a Path,
}

// forge writes shared files (cache/) and may compile: one run at a time per process.
static FORGE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Runs Deploy.s.sol and checks that it deployed what was asked: `run()` deploys, stakes and
/// commits the first epochs; once that is mined, `activate()` copies each lane's committed set
/// (its expiry is set when the commit is mined) to the destination and activates the route.
pub async fn deploy(request: &DeployRequest<'_>) -> Result<Deployment> {
    let _serial = FORGE_LOCK.lock().await;
    let _forge_cache = ForgeCacheCleanup::snapshot(request.contracts.join("cache/multi"));
    // forge may only write under contracts/deployments/ (fs_permissions): a unique name there.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    let relative = format!("deployments/deploy-{}-{run}-{nanos}.json", std::process::id());
    let written = request.contracts.join(&relative);
    let _remove = RemoveOnDrop(written.clone());
    let log = File::create(request.log).wrap_err_with(|| format!("creating {}", request.log.display()))?;
    forge_script(request, &relative, log, None).await?;
    let log = File::options()
        .append(true)
        .open(request.log)
        .wrap_err_with(|| format!("opening {}", request.log.display()))?;
    forge_script(request, &relative, log, Some("activate()")).await?;
    let text = std::fs::read_to_string(&written)
        .wrap_err_with(|| format!("forge script succeeded but wrote no {}", written.display()))?;
    let deployment: Deployment =
        serde_json::from_str(&text).wrap_err_with(|| format!("Deploy.s.sol wrote an unexpected manifest:\n{text}"))?;
    for set in [&deployment.route.validator_set, &deployment.route.validator_set_to_home] {
        check_staked_set(set, request.validator_keys, request.threshold)?;
    }
    if !request.fallback_keys.is_empty() {
        // Two thirds of equal stakes, rounded up.
        let threshold = (request.fallback_keys.len() as u64 * 2).div_ceil(3);
        for set in [&deployment.route.fallback_set, &deployment.route.fallback_set_to_home] {
            check_staked_set(set, request.fallback_keys, threshold)?;
        }
    }
    Ok(deployment)
}

/// One `forge script script/Deploy.s.sol` run (`sig`: the function, `run()` by default), its
/// output to `log`.
async fn forge_script(request: &DeployRequest<'_>, manifest: &str, log: File, sig: Option<&str>) -> Result<()> {
    let log_err = log.try_clone()?;
    let join = |addresses: &[Address]| addresses.iter().map(Address::to_string).collect::<Vec<_>>().join(",");
    let keys = |keys: &[B256]| keys.iter().map(B256::to_string).collect::<Vec<_>>().join(",");
    let liveness = request.liveness;
    let mut command = tokio::process::Command::new(request.forge);
    command.current_dir(request.contracts).args(["script", "script/Deploy.s.sol:Deploy"]);
    if let Some(sig) = sig {
        command.args(["--sig", sig]);
    }
    if let Some(watchtower) = request.watchtower {
        command.env("WATCHTOWER", watchtower.to_string());
    }
    let mut child = command
        .args(["--offline", "--broadcast", "--slow"])
        .env("DEPLOYER_KEY", dev_keys::DEPLOYER)
        .env("HOME_RPC", request.home_rpc)
        .env("REMOTE_RPC", request.remote_rpc)
        .env("VALIDATOR_KEYS", keys(request.validator_keys))
        .env("FALLBACK_KEYS", keys(request.fallback_keys))
        .env("FALLBACK_DELAY", liveness.fallback_delay.to_string())
        .env("STRIKE_LIMIT", liveness.strike_limit.to_string())
        .env("EMERGENCY_GRACE", liveness.emergency_grace.to_string())
        .env("DEFAULT_TIMEOUT", liveness.default_timeout.to_string())
        .env("STAKE", DEVNET_STAKE_WEI.to_string())
        .env("HOLDERS", join(request.holders))
        .env("MANIFEST", manifest)
        .env("FOUNDRY_BROADCAST", request.broadcast_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true)
        .spawn()
        .wrap_err_with(|| format!("starting {}", request.forge.display()))?;
    let what = sig.unwrap_or("run()");
    let status = tokio::time::timeout(DEPLOY_TIMEOUT, child.wait())
        .await
        .map_err(|_| {
            eyre!("forge script ({what}) did not finish within {DEPLOY_TIMEOUT:?}; see {}", request.log.display())
        })?
        .wrap_err("waiting for forge")?;
    if !status.success() {
        bail!(
            "forge script script/Deploy.s.sol ({what}) failed ({status}); if the contracts are not built, run \
             `cd contracts && forge build --offline`. Last output ({}):\n{}",
            request.log.display(),
            tail(request.log, 40)
        );
    }
    Ok(())
}

/// The deployed set must be every key's signer at equal stake weight, with a threshold that
/// exactly `threshold` of them reach.
fn check_staked_set(encoded: &Bytes, keys: &[B256], threshold: u64) -> Result<()> {
    let set = ValidatorSet::decode(encoded).map_err(|e| eyre!("the deployed validator set does not decode: {e}"))?;
    let mut expected = keys
        .iter()
        .map(|key| PrivateKeySigner::from_bytes(key).map(|s| s.address()))
        .collect::<Result<Vec<Address>, _>>()
        .map_err(|e| eyre!("a validator key is not a valid private key: {e}"))?;
    expected.sort();
    let members: Vec<Address> = set.members.iter().map(|m| m.signer).collect();
    if members != expected || set.members.iter().any(|m| m.weight != DEVNET_STAKE_WEI) {
        bail!("the deployed validator set is {:?}, expected {expected:?} at {DEVNET_STAKE_WEI} wei each", set.members);
    }
    let needed = set.threshold.div_ceil(DEVNET_STAKE_WEI);
    if needed != u128::from(threshold) {
        bail!(
            "with equal stakes {needed} of {} validators reach the stake threshold, not the {threshold} asked for",
            members.len()
        );
    }
    Ok(())
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Removes the `Deploy.s.sol-<timestamp>` entries forge adds to `contracts/cache/multi` (a copy
/// of the run with "sensitive details") when dropped; never `-latest`, which forge overwrites.
struct ForgeCacheCleanup {
    dir: PathBuf,
    before: Vec<std::ffi::OsString>,
}

impl ForgeCacheCleanup {
    fn snapshot(dir: PathBuf) -> ForgeCacheCleanup {
        let before = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.file_name())).collect())
            .unwrap_or_default();
        ForgeCacheCleanup { dir, before }
    }
}

impl Drop for ForgeCacheCleanup {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let timestamped = name
                .to_str()
                .and_then(|n| n.strip_prefix("Deploy.s.sol-"))
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()));
            if timestamped && !self.before.contains(&name) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
