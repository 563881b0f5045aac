//! The inputs of the stake workflows, as `zerobridge stake ...` takes them on the command line.

use std::path::PathBuf;

use alloy::primitives::{Address, B256};

use crate::context::{KeyArgs, NetworkArgs};

/// Which chain's stake manager.
#[derive(Debug, Clone, clap::Args)]
pub struct ChainArg {
    /// Chain name or id: the source chain of the lanes the stake secures.
    #[arg(long)]
    pub chain: String,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// The operator's key.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OperatorKey {
    /// Devnet: act as the manifest's operator N (account "operator-N").
    #[arg(long, value_name = "N", conflicts_with_all = ["private_key_env", "keystore"])]
    pub operator: Option<usize>,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// A lane of this chain: by route (its outbound lane from --chain) or by id.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LaneArg {
    /// The route (symbol or route id): its lane whose source is --chain.
    #[arg(long, conflicts_with = "lane", required_unless_present = "lane")]
    pub route: Option<String>,
    /// The lane id.
    #[arg(long)]
    pub lane: Option<B256>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OperatorArgs {
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

/// The validator's checkpoint-signing key. Registering proves that the operator holds it: the key
/// signs the stake manager's `signerRegistrationDigest(operator)` (EIP-712), so nobody can
/// register a key that is not theirs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SignerKeyArgs {
    /// The validator's keystore (its `keystore` setting): it signs the proof of possession.
    #[arg(long, value_name = "FILE", conflicts_with = "signer_key_env")]
    pub signer_keystore: Option<PathBuf>,
    /// File holding that keystore's password (the validator's `password_file`)...
    #[arg(long, value_name = "FILE", requires = "signer_keystore")]
    pub signer_password_file: Option<PathBuf>,
    /// ...or the environment variable holding it (the validator's `password_env`).
    #[arg(long, value_name = "VAR", default_value = "ZB_KEYSTORE_PASSWORD")]
    pub signer_password_env: String,
    /// Instead of a keystore: environment variable holding the signing key in hex.
    #[arg(long, value_name = "VAR")]
    pub signer_key_env: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RegisterArgs {
    /// The address your validator signs checkpoints with (not the operator key). Optional: it is
    /// the signing key's address; when given, it must match. `deposit` registers with it first
    /// when the operator is not registered yet.
    #[arg(long, value_name = "ADDRESS")]
    pub signer: Option<Address>,
    #[command(flatten)]
    pub signing: SignerKeyArgs,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DepositArgs {
    /// How much to bond, in whole coins of the staking asset (e.g. 32 or 0.5).
    #[arg(long)]
    pub amount: String,
    #[command(flatten)]
    pub operator: RegisterArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OptInArgs {
    #[command(flatten)]
    pub lane: LaneArg,
    /// Stake to allocate (replaces an earlier allocation). Default: all your active stake.
    #[arg(long)]
    pub amount: Option<String>,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OptOutArgs {
    #[command(flatten)]
    pub lane: LaneArg,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct UnbondArgs {
    /// How much to unbond, in whole coins, or "all" (all active stake).
    #[arg(long)]
    pub amount: String,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CommitArgs {
    #[command(flatten)]
    pub lane: LaneArg,
    #[command(flatten)]
    pub chain: ChainArg,
    /// Who pays (anyone may commit); the devnet deployer by default.
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// Chain name or id. Default: every chain with a stake manager.
    #[arg(long)]
    pub chain: Option<String>,
    /// Show this operator only (its address).
    #[arg(long, value_name = "ADDRESS", conflicts_with = "operator")]
    pub address: Option<Address>,
    /// Devnet: show the manifest's operator N only.
    #[arg(long, value_name = "N")]
    pub operator: Option<usize>,
    /// Show this route's lane(s) and their candidates only.
    #[arg(long, conflicts_with = "lane")]
    pub route: Option<String>,
    /// Show this lane and its candidates only.
    #[arg(long)]
    pub lane: Option<B256>,
    #[command(flatten)]
    pub network: NetworkArgs,
}
