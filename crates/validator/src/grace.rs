//! Fallback role: whether each secured lane's route is in its Emergency grace on the lane's
//! destination. There the destination accepts fallback deliveries without waiting out the delay
//! (so that holders get home at once), and a fallback validator signs without waiting too.
//!
//! Read from final state, on whichever configured chain has the lane as inbound. A wrong answer
//! costs nothing: a signature is always of the true checkpoint, and the destination enforces
//! the delay itself.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use zb_chain::{ChainConfig, ChainError, Follower};
use zb_contracts::bridge::ZeroBridge;

use crate::{State, ValidatorError};

/// `LaneDirection.Inbound`.
const INBOUND: u8 = 2;

/// Refreshes `state.in_grace` every `every`; never returns (it runs beside the chain followers
/// and stops with them). Errors are logged and retried: grace only ever speeds signing up.
pub(crate) async fn watch(
    state: Arc<State>,
    chains: Vec<ChainConfig>,
    lanes: Vec<B256>,
    every: Duration,
) -> Result<(), ValidatorError> {
    let mut followers = Vec::new();
    for chain in chains {
        match Follower::connect(chain.clone()).await {
            Ok(follower) => followers.push(follower),
            Err(e) => {
                tracing::warn!(chain = %chain.name, error = %e, "cannot watch this chain for Emergency grace")
            }
        }
    }
    loop {
        match in_grace(&followers, &lanes).await {
            Ok(found) => {
                if let Ok(mut current) = state.in_grace.write() {
                    if *current != found {
                        tracing::info!(lanes = ?found, "lanes whose destination is in its Emergency grace");
                    }
                    *current = found;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the destinations' Emergency grace failed; retrying")
            }
        }
        tokio::time::sleep(every).await;
    }
}

async fn in_grace(followers: &[Follower], lanes: &[B256]) -> Result<HashSet<B256>, ChainError> {
    let mut found = HashSet::new();
    for follower in followers {
        let at = follower.finalized().await?;
        let bridge = follower.config().bridge;
        let mut now = None;
        for &lane in lanes {
            let view = follower.call_sol(bridge, &ZeroBridge::getLaneCall { laneId: lane }, at).await?;
            if view.direction != INBOUND {
                continue;
            }
            let route = follower.call_sol(bridge, &ZeroBridge::getRouteCall { routeId: view.routeId }, at).await?;
            if route.graceUntil == 0 {
                continue;
            }
            let time = match now {
                Some(time) => time,
                None => *now.insert(follower.block_timestamp(at).await?),
            };
            if time < route.graceUntil {
                found.insert(lane);
            }
        }
    }
    Ok(found)
}
