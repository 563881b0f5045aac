use alloy::primitives::B256;

/// Everything the follower can refuse. Messages name the problem and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("invalid chain configuration: {0}")]
    Config(String),

    #[error(
        "chain `{chain}`: endpoint {endpoint} serves chain id {found}, but the configuration says chain_id = {expected}; \
         point `rpc`/`ws` at a node of chain {expected}, or correct `chain_id`"
    )]
    WrongChainId { chain: String, endpoint: String, expected: u64, found: u64 },

    #[error(
        "RPC endpoints disagree: {what}; refusing to use either answer. One endpoint is lying, lagging on another fork \
         or misconfigured: check each endpoint, replace the bad one, or lower rpc_quorum only if you trust the rest"
    )]
    RpcDisagreement { what: String },

    #[error(
        "reorganisation deeper than the finality rule: block {number} was consumed as final with hash {expected}, \
         the chain now has {found}. Stop signing for this chain, investigate, and increase the finality depth \
         (or use `finality = \"finalized\"`)"
    )]
    DeepReorg { number: u64, expected: B256, found: B256 },

    #[error("RPC failure: {0}")]
    Rpc(String),

    #[error("cannot decode chain data: {0}")]
    Decode(String),

    #[error(
        "the requested block range reaches beyond the newest final block; wait for finality \
         (ask Follower::finalized() for the upper bound)"
    )]
    NotFinalYet,
}
