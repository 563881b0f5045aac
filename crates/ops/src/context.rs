//! What every workflow starts from: the network (a network file or the devnet manifest), a
//! connection to each chain with its chain id checked, the key that signs, and sending a
//! transaction with its revert explained in one line.

use std::path::PathBuf;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::registry::RouteRegistry;

use crate::format::one_line;
use crate::network::{ChainInfo, DevnetManifest, Network, devnet_manifest_path};

/// Upper bound for one transaction of a workflow to be mined.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// Upper bound for one HTTP request (RPC or agent API).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The password variable of a keystore when no other is named.
const DEFAULT_PASSWORD_ENV: &str = "ZB_KEYSTORE_PASSWORD";

alloy::sol! {
    /// An ERC-20 a workflow sends, stakes or approves.
    #[sol(rpc)]
    interface IERC20Token {
        function decimals() external view returns (uint8);
        function symbol() external view returns (string);
        function balanceOf(address owner) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
    }

    /// What the workflows read from a route's tokens.
    #[sol(rpc)]
    interface IOwnedToken {
        function name() external view returns (string);
        function symbol() external view returns (string);
        function decimals() external view returns (uint8);
        function owner() external view returns (address);
        function totalSupply() external view returns (uint256);
        function balanceOf(address account) external view returns (uint256);
    }
}

/// Which chains: the devnet manifest unless `--network` is given.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NetworkArgs {
    /// Network file for real chains (TOML: [[chains]], [[routes]], validators, threshold).
    /// Default: the devnet manifest, devnet/manifest.json or $ZB_DEVNET_DIR/manifest.json.
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
}

/// The key that signs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KeyArgs {
    /// Environment variable holding the hex private key (never pass the key itself).
    #[arg(long, value_name = "VAR", conflicts_with = "keystore")]
    pub private_key_env: Option<String>,
    /// Web3 Secret Storage keystore file (`zerobridge keys new`).
    #[arg(long, value_name = "FILE")]
    pub keystore: Option<PathBuf>,
    /// File holding the keystore password...
    #[arg(long, value_name = "FILE", requires = "keystore")]
    pub password_file: Option<PathBuf>,
    /// ...or the environment variable holding it (default ZB_KEYSTORE_PASSWORD).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

/// The network a workflow runs against and, on the devnet, its manifest (keys, agents).
pub struct Context {
    pub network: Network,
    pub manifest: Option<DevnetManifest>,
    pub network_file: Option<PathBuf>,
    /// For RPC endpoints.
    pub http: reqwest::Client,
    /// For validator APIs: presents the network's validator token, if any.
    pub validator_http: reqwest::Client,
}

impl Context {
    pub fn load(args: &NetworkArgs) -> Result<Context> {
        let (network, manifest) = match &args.network {
            Some(path) => (Network::load(Some(path))?, None),
            None => {
                let manifest = DevnetManifest::load(&devnet_manifest_path())?;
                (manifest.network(), Some(manifest))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| eyre!("cannot build an HTTP client: {e}"))?;
        let validator_http = zb_config::client::validator_client(
            network.validator_token_file.as_deref(),
            network.validator_tls.as_ref(),
            REQUEST_TIMEOUT,
        )?;
        Ok(Context { network, manifest, network_file: args.network.clone(), http, validator_http })
    }

    /// The same network knowing `routes` instead of its own (e.g. every route read from the
    /// chains, `route::chain_routes`, so a route registered since the network was loaded is known).
    pub fn with_routes(&self, routes: Vec<crate::network::RouteInfo>) -> Context {
        let network = Network { routes, ..self.network.clone() };
        Context {
            network,
            manifest: self.manifest.clone(),
            network_file: self.network_file.clone(),
            http: self.http.clone(),
            validator_http: self.validator_http.clone(),
        }
    }

    pub fn chain_by_id(&self, chain_id: u64) -> Option<&ChainInfo> {
        self.network.chains.iter().find(|c| c.chain_id == chain_id)
    }

    /// The devnet chain's websocket endpoint.
    pub fn ws(&self, name: &str) -> Option<String> {
        self.manifest.as_ref()?.chains.iter().find(|c| c.chain.name == name).map(|c| c.ws.clone())
    }

    /// What to add to "cannot reach the RPC" so the user knows where to look.
    pub fn reach_hint(&self, chain: &ChainInfo) -> String {
        match &self.network_file {
            Some(file) => format!("check `rpc` of chain '{}' in {}", chain.name, file.display()),
            None => "is the devnet running? start it with `zerobridge devnet up`".to_string(),
        }
    }

    /// ` --network FILE` when one is in use, for hints that name another command.
    pub fn network_flag(&self) -> String {
        match &self.network_file {
            Some(file) => format!(" --network {}", file.display()),
            None => String::new(),
        }
    }

    pub fn provider(&self, chain: &ChainInfo) -> Result<DynProvider> {
        Ok(ProviderBuilder::new().connect_reqwest(self.http.clone(), rpc_url(chain)?).erased())
    }

    pub fn wallet_provider(&self, chain: &ChainInfo, signer: PrivateKeySigner) -> Result<DynProvider> {
        let url = rpc_url(chain)?;
        Ok(ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_reqwest(self.http.clone(), url).erased())
    }

    /// A reader for `chain`, after checking that its RPC answers with the configured chain id.
    pub async fn connect(&self, chain: &ChainInfo) -> Result<DynProvider> {
        let provider = self.provider(chain)?;
        check_chain_id(&provider, chain, &self.reach_hint(chain)).await?;
        Ok(provider)
    }

    /// The signing key: `--private-key-env`, `--keystore`, or on the devnet the manifest account
    /// `devnet_role` ("holder" for holders, "deployer" for governance and token teams).
    pub fn signer(&self, key: &KeyArgs, devnet_role: &str) -> Result<Option<PrivateKeySigner>> {
        if let Some(var) = &key.private_key_env {
            return signer_from_env(var).map(Some);
        }
        if let Some(path) = &key.keystore {
            if !path.is_file() {
                bail!(
                    "keystore {} does not exist: pass the key's JSON file (see `zerobridge keys list`)",
                    path.display()
                );
            }
            let source = match (&key.password_file, &key.password_env) {
                (Some(file), _) => zb_keys::PasswordSource::File(file.clone()),
                (None, Some(var)) => zb_keys::PasswordSource::Env(var.clone()),
                (None, None) => zb_keys::PasswordSource::Env(DEFAULT_PASSWORD_ENV.to_string()),
            };
            let password = source.read().map_err(|e| {
                eyre!("{e}: give the keystore password with --password-file FILE or --password-env VAR")
            })?;
            return Ok(Some(zb_keys::load_key(path, &password)?));
        }
        match &self.manifest {
            Some(manifest) => manifest_signer(manifest, devnet_role).map(Some),
            None => Ok(None),
        }
    }

    /// [`Context::signer`], required.
    pub fn require_signer(&self, key: &KeyArgs, devnet_role: &str) -> Result<PrivateKeySigner> {
        self.signer(key, devnet_role)?.ok_or_else(|| {
            eyre!("no key to sign with: pass --private-key-env VAR (a hex private key in VAR) or --keystore FILE")
        })
    }
}

/// A chain with a provider, its chain id checked.
#[derive(Clone)]
pub struct Conn {
    pub info: ChainInfo,
    pub provider: DynProvider,
}

impl Conn {
    pub async fn connect(info: &ChainInfo) -> Result<Conn> {
        let provider = ProviderBuilder::new().connect_http(rpc_url(info)?).erased();
        let hint = "start the devnet (`zerobridge devnet up`) or fix its rpc in the network file";
        check_chain_id(&provider, info, hint).await?;
        Ok(Conn { info: info.clone(), provider })
    }

    /// The same chain with `wallet` signing.
    pub fn with_wallet(&self, wallet: EthereumWallet) -> Result<Conn> {
        let provider = ProviderBuilder::new().wallet(wallet).connect_http(rpc_url(&self.info)?).erased();
        Ok(Conn { info: self.info.clone(), provider })
    }

    pub fn bridge(&self) -> ZeroBridge::ZeroBridgeInstance<DynProvider> {
        ZeroBridge::new(self.info.bridge, self.provider.clone())
    }

    pub fn registry(&self) -> RouteRegistry::RouteRegistryInstance<DynProvider> {
        RouteRegistry::new(self.info.registry, self.provider.clone())
    }

    pub fn token(&self, address: Address) -> IOwnedToken::IOwnedTokenInstance<DynProvider> {
        IOwnedToken::new(address, self.provider.clone())
    }

    pub fn read_err(&self, what: &str, e: impl std::fmt::Display) -> eyre::Report {
        let text = e.to_string();
        if looks_unreachable(&text) {
            unreachable_chain(&self.info, &text)
        } else {
            eyre!("reading {what} on {} failed: {}", self.info.name, one_line(&text))
        }
    }
}

fn rpc_url(chain: &ChainInfo) -> Result<reqwest::Url> {
    chain.rpc.parse().map_err(|e| {
        eyre!("chain '{}': rpc '{}' is not a URL ({e}): write it like http://host:8545", chain.name, chain.rpc)
    })
}

async fn check_chain_id(provider: &DynProvider, chain: &ChainInfo, hint: &str) -> Result<()> {
    let id = provider
        .get_chain_id()
        .await
        .map_err(|e| eyre!("cannot reach {} at {} ({}): {hint}", chain.name, chain.rpc, one_line(&e)))?;
    if let Some(message) = chain_id_mismatch(chain, id) {
        bail!(message);
    }
    Ok(())
}

/// The message for an RPC that serves another chain than configured, if it does.
fn chain_id_mismatch(chain: &ChainInfo, actual: u64) -> Option<String> {
    (actual != chain.chain_id).then(|| {
        format!(
            "wrong chain: '{}' is configured with chain id {} but its RPC {} serves chain id {actual}: \
             point `rpc` at a chain-{} node or correct `chainId`",
            chain.name, chain.chain_id, chain.rpc, chain.chain_id
        )
    })
}

pub fn looks_unreachable(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("connect") || t.contains("connection") || t.contains("timed out") || t.contains("dns")
}

pub fn unreachable_chain(info: &ChainInfo, detail: &str) -> eyre::Report {
    eyre!(
        "cannot reach {} at {} ({}): start the devnet (`zerobridge devnet up`) or fix its rpc in the network file",
        info.name,
        info.rpc,
        one_line(detail)
    )
}

/// `--private-key-env`/`--keystore`, else on the devnet the manifest's "deployer" (governance).
pub fn load_signer(args: &KeyArgs, ctx: &Context) -> Result<PrivateKeySigner> {
    ctx.require_signer(args, "deployer")
}

pub fn signer_from_env(var: &str) -> Result<PrivateKeySigner> {
    let raw = std::env::var(var)
        .map_err(|_| eyre!("environment variable {var} is not set: put the hex private key there"))?;
    let key: B256 = raw
        .trim()
        .parse()
        .map_err(|_| eyre!("{var} does not hold a 32-byte hex private key (0x followed by 64 hex digits)"))?;
    PrivateKeySigner::from_bytes(&key).map_err(|e| eyre!("{var} does not hold a valid private key: {e}"))
}

/// The devnet manifest's key for `role` ("deployer", "holder", "operator-1", ...).
pub fn manifest_signer(manifest: &DevnetManifest, role: &str) -> Result<PrivateKeySigner> {
    let account = manifest.account(role).ok_or_else(|| {
        eyre!(
            "the devnet manifest has no \"{role}\" account: restart the devnet (`zerobridge devnet up`) or pass \
             --private-key-env or --keystore"
        )
    })?;
    PrivateKeySigner::from_bytes(&account.private_key)
        .map_err(|e| eyre!("the devnet manifest's {role} key is invalid ({e}): restart the devnet"))
}

/// Sends a contract call and waits for a successful receipt; `explain` turns a refusal into one
/// line in the calling workflow's terms.
pub async fn transact_explained<P, D>(
    call: alloy::contract::CallBuilder<P, D>,
    what: &str,
    chain: &ChainInfo,
    explain: impl Fn(&alloy::contract::Error, &str, &ChainInfo) -> eyre::Report,
) -> Result<TransactionReceipt>
where
    P: Provider,
    D: alloy::contract::CallDecoder,
{
    let pending = call.send().await.map_err(|e| explain(&e, what, chain))?;
    let hash = *pending.tx_hash();
    let receipt = zb_tx::wait_receipt(pending.provider(), hash, RECEIPT_TIMEOUT)
        .await
        .map_err(|e| eyre!("{what} on {}: {}: check the chain and re-run", chain.name, one_line(&e)))?;
    if !receipt.status() {
        bail!("{what} on {} reverted in transaction {hash}: re-run to see the reason", chain.name);
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline_context() -> Context {
        Context {
            network: toml::from_str("chains = []").unwrap_or_else(|e| panic!("empty network: {e}")),
            manifest: None,
            network_file: Some(PathBuf::from("net.toml")),
            http: reqwest::Client::new(),
            validator_http: reqwest::Client::new(),
        }
    }

    fn error_of<T>(result: Result<T>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn signer_is_optional_without_a_manifest_and_named_variables_must_exist() {
        let ctx = offline_context();
        assert!(matches!(ctx.signer(&KeyArgs::default(), "holder"), Ok(None)));
        assert!(error_of(ctx.require_signer(&KeyArgs::default(), "deployer")).contains("no key to sign with"));
        let args = KeyArgs { private_key_env: Some("ZB_TEST_SURELY_UNSET_VAR".into()), ..KeyArgs::default() };
        assert!(error_of(ctx.signer(&args, "holder")).contains("is not set"));
        let args = KeyArgs { keystore: Some(PathBuf::from("/nonexistent/key.json")), ..KeyArgs::default() };
        assert!(error_of(ctx.signer(&args, "holder")).contains("does not exist"));
    }

    #[test]
    fn wrong_chain_id_names_both() {
        let chain: ChainInfo = toml::from_str(
            r#"
            name = "bsc"
            chainId = 56
            rpc = "http://127.0.0.1:2"
            bridge = "0x3333333333333333333333333333333333333333"
            registry = "0x4444444444444444444444444444444444444444"
            "#,
        )
        .unwrap_or_else(|e| panic!("test chain: {e}"));
        assert_eq!(chain_id_mismatch(&chain, 56), None);
        let message = chain_id_mismatch(&chain, 1).unwrap_or_default();
        assert!(message.contains("chain id 56") && message.contains("serves chain id 1"), "{message}");
    }

    #[test]
    fn unreachable_errors_are_recognised() {
        assert!(looks_unreachable("error sending request: Connection refused (os error 111)"));
        assert!(looks_unreachable("operation timed out"));
        assert!(!looks_unreachable("execution reverted"));
    }
}
