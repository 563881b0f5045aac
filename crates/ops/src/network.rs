//! The network a command talks to: chains, bridges, routes and validator endpoints, read from
//! the devnet manifest (`devnet/manifest.json`) or from a network file for real chains.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use eyre::{Result, bail, eyre};
use serde::{Deserialize, Serialize};
use zb_config::client::ClientTls;

/// Where `zerobridge devnet up` writes its manifest, relative to the working directory.
pub const DEVNET_MANIFEST: &str = "devnet/manifest.json";

/// Environment variable naming another devnet directory (`zerobridge devnet --dir`).
pub const DEVNET_DIR_ENV: &str = "ZB_DEVNET_DIR";

/// The devnet manifest to read: `$ZB_DEVNET_DIR/manifest.json`, else [`DEVNET_MANIFEST`].
pub fn devnet_manifest_path() -> PathBuf {
    match std::env::var_os(DEVNET_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("manifest.json"),
        _ => PathBuf::from(DEVNET_MANIFEST),
    }
}

/// Everything `devnet up` started and deployed, for other tools and tests to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetManifest {
    pub chains: Vec<ManifestChain>,
    pub routes: Vec<RouteInfo>,
    pub accounts: Vec<ManifestAccount>,
    pub validators: Vec<ManifestAgent>,
    /// The routes' fallback validators ("master validators"): they serve the same checkpoint API
    /// but sign only once a message is due for fallback delivery (`zerobridge claim`).
    #[serde(default)]
    pub fallback_validators: Vec<ManifestAgent>,
    pub relayer: ManifestAgent,
    /// The watchtower (`zerobridge watchtower`, GUARDIAN on both chains); absent in manifests
    /// written before it joined the devnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchtower: Option<ManifestAgent>,
    /// The REST API and web app (`zerobridge api`); absent in manifests written before it joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ManifestAgent>,
    /// How many of the (equally staked) validators must sign: progress display only; the
    /// on-chain threshold is a stake weight.
    pub threshold: u64,
    /// Both lanes of every route (also derivable with [`Network::leg`]).
    #[serde(default)]
    pub lanes: Vec<ManifestLane>,
    /// The keystores of the validators and the relayer.
    #[serde(default)]
    pub keys_dir: PathBuf,
    /// The file holding the keystores' password ("devnet").
    #[serde(default)]
    pub password_file: PathBuf,
    /// The bearer token the devnet's validators accept from the CLI and the API (the relayer
    /// has its own); absent when the validators run open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_token_file: Option<PathBuf>,
}

/// One direction of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestLane {
    pub lane: B256,
    pub route_id: B256,
    /// `name` of the source chain.
    pub source: String,
    /// `name` of the destination chain.
    pub destination: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestChain {
    #[serde(flatten)]
    pub chain: ChainInfo,
    pub ws: String,
    pub manager: Address,
    pub start_block: u64,
    /// The anvil process.
    pub pid: u32,
    /// Its log file.
    #[serde(default)]
    pub log: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestAccount {
    /// "deployer", "holder", "relayer", "watchtower", "validator-N", "operator-N", "fallback-N" or
    /// "fallback-operator-N".
    pub role: String,
    pub address: Address,
    /// Devnet test key: public knowledge, never use it on a real chain.
    pub private_key: B256,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestAgent {
    pub name: String,
    /// Base URL of its HTTP API (health, metrics, and /v1 for validators and the watchtower).
    pub url: String,
    /// Signing address (validators), paying address (relayer) or guardian (watchtower).
    pub address: Address,
    pub pid: u32,
    pub config: PathBuf,
    pub log: PathBuf,
}

/// One chain as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainInfo {
    pub name: String,
    pub chain_id: u64,
    pub rpc: String,
    pub bridge: Address,
    pub registry: Address,
    /// Blocks after which a transfer counts as final on this chain (progress display only;
    /// the validators apply their own rule).
    #[serde(default = "default_finality_depth")]
    pub finality_depth: u64,
    /// The AccessManager the bridge and registry are restricted by (`zerobridge audit` reads its
    /// role events). Optional: read from the bridge's `authority()` when absent. The devnet
    /// manifest carries it beside the chain (`ManifestChain::manager`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Address>,
    /// The chain's StakeManager (staked deployments): `zerobridge stake`, `slash` and the
    /// economic security in `route status` read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake_manager: Option<Address>,
}

fn default_finality_depth() -> u64 {
    2
}

/// One route: a canonical token on its home chain and its wrapped twin on the remote chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteInfo {
    pub route_id: B256,
    /// The canonical token's symbol; the wrapped token may have its own.
    pub symbol: String,
    pub decimals: u8,
    /// `name` of the home chain.
    pub home: String,
    /// `name` of the remote chain.
    pub remote: String,
    pub home_token: Address,
    pub wrapped_token: Address,
    /// The liveness policy the route was deployed with (the devnet's: docs/devnet.md); the
    /// chains hold the live state (strikes, Emergency), shown by `route status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Liveness>,
}

/// A route's liveness policy on both chains (`LivenessPolicy` in contracts/src/BridgeBase.sol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Liveness {
    /// Seconds a message waits before the fallback set may deliver it.
    pub fallback_delay: u64,
    /// Fallback deliveries (one per delay period) that put the route into Emergency.
    pub strike_limit: u16,
    /// How long, in Emergency, the fallback delivers without waiting.
    pub emergency_grace: u64,
    /// Deadline of a transfer sent without one: this many seconds after it was sent.
    pub default_timeout: u64,
}

impl Liveness {
    /// The devnet's: two minutes of delay, three strikes, a day of grace and of timeout.
    pub const DEVNET: Liveness =
        Liveness { fallback_delay: 120, strike_limit: 3, emergency_grace: 86_400, default_timeout: 86_400 };
}

/// The network file for real chains (`--network zerobridge.toml`), same shape as the manifest's
/// client part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub chains: Vec<ChainInfo>,
    #[serde(default)]
    pub routes: Vec<RouteInfo>,
    /// Validator API base URLs, for progress ("signed k of N").
    #[serde(default)]
    pub validators: Vec<String>,
    /// Fallback validator API base URLs (`zerobridge claim` asks them when the primary set has no
    /// quorum and the batch is due for fallback delivery).
    #[serde(default, rename = "fallbackValidators")]
    pub fallback_validators: Vec<String>,
    /// The validator-set threshold, for progress display.
    #[serde(default)]
    pub threshold: Option<u64>,
    /// The file holding the bearer token to present to validators whose API needs one
    /// (`[api] tokens`); relative to the network file. Absent: no token is sent.
    #[serde(default, rename = "validatorTokenFile", skip_serializing_if = "Option::is_none")]
    pub validator_token_file: Option<PathBuf>,
    /// How to reach validators that serve TLS: `ca_file` (the consortium's CA instead of the
    /// public roots) and, for validators that require mutual TLS, `cert_file` and `key_file`;
    /// relative to the network file. The same table as the relayer's `[validator_tls]`.
    #[serde(default, rename = "validatorTls", skip_serializing_if = "Option::is_none")]
    pub validator_tls: Option<ClientTls>,
}

/// One direction of a route, resolved for a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub route: RouteInfo,
    pub source: ChainInfo,
    pub destination: ChainInfo,
    pub lane: B256,
    /// The token `send` takes on the source chain (canonical on home, wrapped on remote).
    pub source_token: Address,
    /// The token the recipient gets on the destination chain.
    pub destination_token: Address,
}

impl Network {
    /// `--network FILE` if given, else the devnet manifest in the working directory.
    pub fn load(network_file: Option<&Path>) -> Result<Network> {
        match network_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| eyre!("cannot read network file {}: {e}", path.display()))?;
                let mut network: Network =
                    toml::from_str(&text).map_err(|e| eyre!("network file {}: {e}", path.display()))?;
                network.validate()?;
                if let Some(dir) = path.parent() {
                    network.validator_token_file = network.validator_token_file.map(|token| dir.join(token));
                    network.validator_tls = network.validator_tls.map(|tls| tls.relative_to(dir));
                }
                Ok(network)
            }
            None => {
                let manifest = DevnetManifest::load(&devnet_manifest_path())?;
                Ok(manifest.network())
            }
        }
    }

    fn validate(&self) -> Result<()> {
        for route in &self.routes {
            for name in [&route.home, &route.remote] {
                if self.chain(name).is_err() {
                    bail!("route {} names chain '{name}', which has no [[chains]] entry", route.symbol);
                }
            }
        }
        Ok(())
    }

    /// A chain by name or chain id.
    pub fn chain(&self, name_or_id: &str) -> Result<&ChainInfo> {
        self.chains
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name_or_id) || c.chain_id.to_string() == name_or_id)
            .ok_or_else(|| {
                let known: Vec<_> = self.chains.iter().map(|c| format!("{} ({})", c.name, c.chain_id)).collect();
                eyre!("unknown chain '{name_or_id}': use one of {}", known.join(", "))
            })
    }

    /// Resolves `--from`, `--to` and `--token` (a symbol, or a token address on either chain).
    pub fn leg(&self, from: &str, to: &str, token: &str) -> Result<Leg> {
        let source = self.chain(from)?.clone();
        let destination = self.chain(to)?.clone();
        if source.chain_id == destination.chain_id {
            bail!("--from and --to are the same chain ({}): pick two different chains", source.name);
        }
        let wanted: Option<Address> = token.parse().ok();
        let route = self
            .routes
            .iter()
            .find(|r| {
                let token_matches = match wanted {
                    Some(address) => address == r.home_token || address == r.wrapped_token,
                    None => r.symbol.eq_ignore_ascii_case(token),
                };
                let chains_match = (r.home == source.name && r.remote == destination.name)
                    || (r.remote == source.name && r.home == destination.name);
                token_matches && chains_match
            })
            .ok_or_else(|| {
                let known: Vec<_> =
                    self.routes.iter().map(|r| format!("{} ({} <-> {})", r.symbol, r.home, r.remote)).collect();
                eyre!(
                    "unknown token '{token}' between {} and {}: routes here are {}",
                    source.name,
                    destination.name,
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                )
            })?
            .clone();
        let outbound_from_home = route.home == source.name;
        let lane = zb_protocol::lane_id(
            source.chain_id,
            source.bridge,
            destination.chain_id,
            destination.bridge,
            route.route_id,
        );
        let (source_token, destination_token) = if outbound_from_home {
            (route.home_token, route.wrapped_token)
        } else {
            (route.wrapped_token, route.home_token)
        };
        Ok(Leg { route, source, destination, lane, source_token, destination_token })
    }
}

impl DevnetManifest {
    pub fn load(path: &Path) -> Result<DevnetManifest> {
        let text = std::fs::read_to_string(path).map_err(|_| {
            eyre!(
                "no devnet manifest at {}: start the devnet with `zerobridge devnet up`, \
                 or pass --network <file> for real chains",
                path.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| eyre!("devnet manifest {} is not valid: {e}", path.display()))
    }

    pub fn network(&self) -> Network {
        Network {
            chains: self
                .chains
                .iter()
                .map(|c| ChainInfo { manager: c.chain.manager.or(Some(c.manager)), ..c.chain.clone() })
                .collect(),
            routes: self.routes.clone(),
            validators: self.validators.iter().map(|v| v.url.clone()).collect(),
            fallback_validators: self.fallback_validators.iter().map(|v| v.url.clone()).collect(),
            threshold: Some(self.threshold),
            validator_token_file: self.validator_token_file.clone(),
            // The devnet's validators serve plain HTTP.
            validator_tls: None,
        }
    }

    pub fn account(&self, role: &str) -> Option<&ManifestAccount> {
        self.accounts.iter().find(|a| a.role == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network_file(dir: &Path, client_part: &str) -> PathBuf {
        let path = dir.join("zerobridge.toml");
        let chain = |name: &str, id: u64, byte: char| {
            let address = |b: char| format!("0x{}", b.to_string().repeat(40));
            format!(
                "[[chains]]\nname = \"{name}\"\nchainId = {id}\nrpc = \"http://127.0.0.1:1\"\nbridge = \"{}\"\nregistry = \"{}\"\n",
                address(byte),
                address(byte)
            )
        };
        let text = format!("{client_part}\n{}{}", chain("ethereum", 1, '1'), chain("bsc", 56, '2'));
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn the_validator_token_and_certificates_are_found_beside_the_network_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = network_file(
            dir.path(),
            "validatorTokenFile = \"keys/claim.token\"\n\
             validatorTls = { ca_file = \"tls/ca.pem\", cert_file = \"tls/me.pem\", key_file = \"/etc/me-key.pem\" }",
        );
        let network = Network::load(Some(&path)).expect("network");
        assert_eq!(network.validator_token_file, Some(dir.path().join("keys/claim.token")));
        let tls = network.validator_tls.expect("validatorTls");
        assert_eq!(tls.ca_file, Some(dir.path().join("tls/ca.pem")));
        assert_eq!(tls.cert_file, Some(dir.path().join("tls/me.pem")));
        assert_eq!(tls.key_file, Some(PathBuf::from("/etc/me-key.pem")), "absolute paths stay");
    }

    #[test]
    fn commands_present_the_network_files_client_certificate_to_validators() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = network_file(dir.path(), "validatorTls = { cert_file = \"me.pem\", key_file = \"me-key.pem\" }");
        let args = crate::context::NetworkArgs { network: Some(path) };
        // The client is built from the files at load: missing ones are refused, not ignored.
        let refused = crate::context::Context::load(&args).err().expect("missing certificate files refused");
        assert!(refused.to_string().contains("cert_file"), "{refused}");
        let half = network_file(dir.path(), "validatorTls = { cert_file = \"me.pem\" }");
        let refused = crate::context::Context::load(&crate::context::NetworkArgs { network: Some(half) })
            .err()
            .expect("a certificate without its key refused");
        assert!(refused.to_string().contains("cert_file and key_file together"), "{refused}");
    }
}
