//! Stake-manager transactions, and one line for each way the stake manager refuses one.

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use eyre::{Result, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;

use crate::context::{looks_unreachable, transact_explained, unreachable_chain};
use crate::explain::bridge_error;
use crate::format::{format_amount, format_utc, one_line};
use crate::network::ChainInfo;

/// A mined transaction: its hash and block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tx {
    pub hash: B256,
    pub block: u64,
}

impl Tx {
    pub fn of(receipt: &TransactionReceipt) -> Tx {
        Tx { hash: receipt.transaction_hash, block: receipt.block_number.unwrap_or_default() }
    }

    /// "tx 0x…, block 12", as the stake commands print it.
    pub fn note(&self) -> String {
        format!("tx {}, block {}", self.hash, self.block)
    }
}

pub async fn transact<P, D>(
    call: alloy::contract::CallBuilder<P, D>,
    what: &str,
    chain: &ChainInfo,
) -> Result<TransactionReceipt>
where
    P: Provider,
    D: alloy::contract::CallDecoder,
{
    transact_explained(call, what, chain, explain).await
}

/// One line for a refused stake-manager call. Amounts in reverts are in the staking asset's
/// units, shown with 18 decimals (the commands check amounts first, in the asset's decimals).
pub fn explain(err: &alloy::contract::Error, what: &str, chain: &ChainInfo) -> eyre::Report {
    use StakeManager::StakeManagerErrors as S;
    use ZeroBridge::ZeroBridgeErrors as Z;
    let on = &chain.name;
    let coins = |v: U256| format_amount(v, 18);
    if let Some(e) = err.as_decoded_interface_error::<S>() {
        let text = match e {
            S::AlreadyRegistered(e) => {
                format!("{} is already a registered operator on {on}", e.operator)
            }
            S::NotRegistered(e) => format!(
                "{} is not a registered operator on {on}: register with `zerobridge stake register --signer-keystore \
                 FILE` (your validator's keystore; or `stake deposit --signer-keystore FILE`)",
                e.operator
            ),
            S::SignerProofInvalid(e) => format!(
                "the proof of possession does not come from signer {}: it must be that key's signature over the stake \
                 manager's signerRegistrationDigest(operator) on {on}; pass the validator's own keystore as \
                 --signer-keystore",
                e.signer
            ),
            S::InvalidSigner(e) => format!(
                "signer {} cannot be used: it must be non-zero, differ from the operator key and not belong to another \
                 operator",
                e.signer
            ),
            S::ZeroAmount(_) => "the amount is zero: pass a positive --amount".to_string(),
            S::WrongValue(e) => format!("sent {} with the call, which does not match the amount", coins(e.sent)),
            S::StakeAboveMaximum(e) => format!("a bond of {} is above the per-operator maximum", coins(e.stake)),
            S::InsufficientStake(e) => format!(
                "insufficient stake: {} asked for but only {} active: deposit more or lower --amount",
                coins(e.requested),
                coins(e.active)
            ),
            S::NotAnOutboundLane(e) => format!("lane {} is not an outbound lane of {on}: use its source chain", e.lane),
            S::NotAnInboundLane(e) => format!("lane {} is not an inbound lane of {on}", e.lane),
            S::NotOptedIn(e) => format!("{} is not opted in to lane {}", e.operator, e.lane),
            S::TooManyCandidates(e) => format!(
                "lane {} has the maximum number of candidates and none weighs less than this allocation: allocate \
                 more stake to displace the lightest",
                e.lane
            ),
            S::TooManyLanes(e) => format!("{} is opted in to the maximum number of lanes: opt out of one", e.operator),
            S::OperatorJailed(e) => {
                format!("operator {} is jailed: governance must unjail it before it can opt in", e.operator)
            }
            S::EpochAlreadyCommitted(e) => format!(
                "epoch {} of lane {} is already committed: the next one can be committed when it starts",
                e.epoch, e.lane
            ),
            S::NoEligibleValidators(e) => format!(
                "lane {} has no eligible candidates (opted in with at least the minimum stake, not jailed): operators \
                 must opt in first",
                e.lane
            ),
            S::NothingToWithdraw(_) => "there is nothing to withdraw or claim".to_string(),
            S::StillUnbonding(e) => format!("still unbonding until {}: withdraw then", format_utc(e.releaseAt)),
            S::StakeLocked(e) => format!(
                "{} of the bond backs a validator set that the destination accepts until it expires; its signatures \
                 stay provable for the detection window after that, so it stays locked until {}: withdraw then",
                coins(U256::from(e.weight)),
                format_utc(e.until)
            ),
            S::ReporterPayoutLocked(e) => format!(
                "the reporter share unlocks at {}: a detection window must pass after the proof (a forger reporting \
                 itself is found out meanwhile); claim then",
                format_utc(e.until)
            ),
            S::NotReporter(e) => {
                format!("{} did not report this evidence: only its reporter claims the share", e.caller)
            }
            S::SetLifetimeTooLong(e) => format!(
                "the set is valid until {}, later than {on} accepts ({}: a set committed now, with the detection \
                 window's margin for the two chains' clocks): copy the source chain's current snapshot (`zerobridge \
                 stake status`), or fix the clock that is off",
                format_utc(e.validUntil),
                format_utc(e.latest)
            ),
            S::ShareTooHigh(e) => {
                format!("a share of {} bps is above 10000 (100%): pass at most 10000 (0 removes the cap)", e.shareBps)
            }
            S::AllocationBelowMinimum(e) => format!(
                "an allocation of {} is below the minimum {} a lane counts: raise --amount",
                coins(e.amount),
                coins(e.minStake)
            ),
            S::SlashOwed(e) => format!(
                "{} of proven slashes is still owed: nothing can be withdrawn until it is collected",
                coins(e.owed)
            ),
            S::InvalidSignature(_) => "the signature does not recover to any address".to_string(),
            S::UnknownSigner(e) => {
                format!("{} is not any operator's signing key on {on}", e.signer)
            }
            S::EvidenceAlreadyUsed(e) => format!("evidence {} was already used", e.evidenceId),
            S::UnknownEvidence(e) => format!("there is no evidence {} on {on}", e.evidenceId),
            S::NotFraud(e) => format!("not fraud: lane {} really had that accumulator at {}", e.lane, e.sequence),
            S::ProofRequired(e) => format!("sequence {} is not recorded: a proof segment is required", e.sequence),
            S::InvalidProof(_) => {
                "the proof segment does not match the lane (it may have moved on): re-run".to_string()
            }
            S::AccessManagedUnauthorized(e) => {
                format!("{} lacks the governance role for this call on {on}: use the governance key", e.caller)
            }
            other => format!("{other:?}"),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    if let Some(e) = err.as_decoded_interface_error::<Z>() {
        let text = bridge_error(&e).unwrap_or_else(|| format!("{e:?}"));
        return eyre!("{what} on {on} refused by the bridge: {text}");
    }
    let text = err.to_string();
    if looks_unreachable(&text) {
        return unreachable_chain(chain, &text);
    }
    if text.to_ascii_lowercase().contains("insufficient funds") {
        return eyre!("{what} on {on}: the sending account cannot pay for the value and gas: fund it and re-run");
    }
    eyre!("{what} on {on} failed: {}", one_line(&text))
}
