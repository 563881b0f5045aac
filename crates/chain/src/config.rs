use std::net::IpAddr;

use alloy::primitives::Address;
use alloy::transports::http::reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::error::ChainError;

/// One chain as an agent follows it. In TOML:
///
/// ```toml
/// name = "home"
/// chain_id = 1
/// rpc = ["https://a.example/rpc", "https://b.example/rpc"]
/// ws = "wss://a.example/ws"
/// bridge = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
/// finality = { depth = 12 }   # or: finality = "finalized"
/// rpc_quorum = 2
/// poll_interval_ms = 1000
/// start_block = 19000000
/// stake_manager = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"   # validator only, optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// A label for logs and error messages.
    pub name: String,
    /// The chain id every endpoint must report.
    pub chain_id: u64,
    /// HTTP(S) JSON-RPC endpoints, each asked every question with a 5 s deadline.
    pub rpc: Vec<String>,
    /// Websocket endpoint for the new-head subscription; polling is used if absent or failing.
    #[serde(default)]
    pub ws: Option<String>,
    /// The bridge contract: the only address whose logs are read.
    pub bridge: Address,
    /// When a block counts as final. Default: 2 blocks deep.
    #[serde(default)]
    pub finality: Finality,
    /// q of "q identical answers among n": an answer is trusted when exactly one value is given
    /// by at least this many endpoints; the others are outvoted (logged, counted in
    /// `zb_rpc_disagreements_total`). Use more than half of `rpc`. Default 1, which `validate` accepts
    /// only when every endpoint is on this machine (loopback): elsewhere set at least 2.
    #[serde(default = "default_quorum")]
    pub rpc_quorum: usize,
    /// Head polling interval when there is no (working) websocket. Default 1000 ms.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// The bridge's deployment block: where scans begin.
    #[serde(default)]
    pub start_block: u64,
    /// The StakeManager of this chain's bridge. The validator then secures every lane its
    /// operator opted in to there (lanes whose source is this chain). The relayer ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake_manager: Option<Address>,
}

/// The finality rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finality {
    /// A block is final once `depth` blocks are on top of it: final = latest - depth.
    Depth(u64),
    /// The node's `finalized` block tag (proof-of-stake finality).
    Finalized,
}

impl Default for Finality {
    fn default() -> Self {
        Finality::Depth(2)
    }
}

/// A loopback endpoint: a node the operator runs on this machine (the devnet's anvil, or their own
/// node), the one case where a single answer may be trusted.
pub fn on_this_machine(url: &str) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn default_quorum() -> usize {
    1
}

fn default_poll_interval_ms() -> u64 {
    1000
}

impl ChainConfig {
    /// Checks what can be checked without a network.
    pub fn validate(&self) -> Result<(), ChainError> {
        let fail = |what: String| Err(ChainError::Config(format!("chain `{}`: {what}", self.name)));
        if self.rpc.is_empty() {
            return fail("`rpc` is empty: list at least one HTTP endpoint".into());
        }
        if self.rpc_quorum == 0 {
            return fail("`rpc_quorum` is 0: set it to at least 1".into());
        }
        if self.rpc_quorum > self.rpc.len() {
            return fail(format!(
                "`rpc_quorum` is {} but only {} endpoint(s) are listed in `rpc`: add endpoints or lower the quorum",
                self.rpc_quorum,
                self.rpc.len()
            ));
        }
        if self.rpc_quorum < 2 && !self.rpc.iter().all(|url| on_this_machine(url)) {
            return fail(format!(
                "`rpc_quorum` is {}: every answer would be trusted from a single endpoint, and one lying or broken \
                 provider could make this agent act on events the chain never emitted. List at least two independent \
                 providers in `rpc` and set `rpc_quorum = 2` (more than half of them); a quorum of 1 is accepted only \
                 when every endpoint is a node on this machine (127.0.0.1, ::1 or localhost), as on the devnet",
                self.rpc_quorum
            ));
        }
        if self.poll_interval_ms == 0 {
            return fail("`poll_interval_ms` is 0: set a polling interval of at least 1 ms (1000 is typical)".into());
        }
        if self.bridge == Address::ZERO {
            return fail("`bridge` is the zero address: set the deployed ZeroBridge address".into());
        }
        if self.stake_manager == Some(Address::ZERO) {
            return fail(
                "`stake_manager` is the zero address: set the chain's StakeManager address, or remove the key".into(),
            );
        }
        Ok(())
    }
}
