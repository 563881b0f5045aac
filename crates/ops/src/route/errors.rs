//! The route commands' reverts explained in one line (for `transact_explained`).

use alloy::primitives::Address;
use eyre::eyre;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::registry::RouteRegistry;

use crate::context::{looks_unreachable, unreachable_chain};
use crate::explain::bridge_error;
use crate::format::one_line;
use crate::network::ChainInfo;

/// One line that names what failed and what to do about it.
pub(super) fn explain(err: &alloy::contract::Error, what: &str, chain: &ChainInfo) -> eyre::Report {
    use RouteRegistry::RouteRegistryErrors as R;
    use ZeroBridge::ZeroBridgeErrors as Z;
    let on = &chain.name;
    if let Some(e) = err.as_decoded_interface_error::<R>() {
        let text = match e {
            R::NotTokenOwner(e) => format!(
                "only the token's owner() can register it; {} is not the owner of {}: use the owner's key",
                e.caller, e.token
            ),
            R::TokenHasNoCode(e) => format!("there is no contract at {} on {on}: check --token and --from", e.token),
            R::WrongBond(e) => format!(
                "the registration bond is {} wei, {} was sent: the bond changed, re-run to pay the current one",
                e.required, e.sent
            ),
            R::RouteAlreadyRegistered(e) => format!(
                "route {} is already registered on {on}: see `zerobridge route status {}`",
                e.routeId, e.routeId
            ),
            R::SameChain(_) => "--from and --to are the same chain: pick two different chains".to_string(),
            R::EmptyName(_) => "--wrapped-name and --wrapped-symbol must not be empty".to_string(),
            R::UnknownRoute(e) => format!("route {} is not registered on {on}", e.routeId),
            R::NotRouteOwner(e) => {
                format!("{} is not the owner of route {}: use the route owner's key", e.caller, e.routeId)
            }
            R::SecurityLevelNotMet(e) => format!(
                "the lane's stake snapshot has {} wei of stake from {} validators, below the route's security level \
                 ({} wei, {} validators): more operators must opt in (`zerobridge stake opt-in`) and the epoch be \
                 committed (`zerobridge stake commit`), or lower the level",
                e.stake, e.validators, e.minStake, e.minValidators
            ),
            R::AccessManagedUnauthorized(e) => unauthorized(e.caller, on),
            other => format!("{other:?}"),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    if let Some(e) = err.as_decoded_interface_error::<Z>() {
        let text = match e {
            Z::FeeTooHigh(e) => {
                format!("fee {} bps is above the bridge's maximum {} bps: lower --fee-bps", e.feeBps, e.maxFeeBps)
            }
            Z::ZeroRecipient(_) => "a fee needs a collector: pass --collector".to_string(),
            Z::InvalidLimits(_) => "limits must satisfy 0 < --min <= --max <= --daily-limit: fix them".to_string(),
            Z::PeerUnknown(e) => {
                format!("the bridge on {on} has no peer for chain {}: governance must call setPeer first", e.chainId)
            }
            Z::RouteExists(e) => format!("route {} is already open on {on}", e.routeId),
            Z::SetAlreadyActive(e) => {
                format!("lane {} is no longer Pending, so its first set cannot be installed", e.lane)
            }
            Z::ThresholdTooLow(e) => format!(
                "threshold {} is below two thirds of the set's weight {}: raise --threshold",
                e.threshold, e.totalWeight
            ),
            Z::MalformedValidatorSet(_) => "the validator set is malformed: check --validators".to_string(),
            Z::ValidatorSetMissing(e) => format!("lane {} has no validator set yet: re-run to install it", e.lane),
            Z::RouteNotPending(e) => format!("route {} is not Pending (already active or exit-only)", e.routeId),
            Z::AccessManagedUnauthorized(e) => unauthorized(e.caller, on),
            other => bridge_error(&other).unwrap_or_else(|| format!("{other:?}")),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    let text = err.to_string();
    if looks_unreachable(&text) {
        return unreachable_chain(chain, &text);
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("insufficient funds") {
        return eyre!("{what} on {on}: the sending account cannot pay for gas (and bond): fund it and re-run");
    }
    eyre!("{what} on {on} failed: {}", one_line(&text))
}

pub(super) fn unauthorized(caller: Address, chain: &str) -> String {
    format!(
        "{caller} lacks the governance role for this call on {chain}: use a key holding ADMIN (and SET_MANAGER on \
         chains without a stake manager) (--governance-key-env); in production these calls go through the committee"
    )
}
