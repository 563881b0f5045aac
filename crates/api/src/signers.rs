//! What the validators sign right now: every `probe_ms` the API asks each validator endpoint of
//! the network (`validators` of the network file or the devnet manifest) for its latest
//! checkpoint of every lane, and keeps the signatures it can verify: recovered to the signer
//! they name over the lane's source domain, with the accumulator the source emitted for that
//! sequence (its `MessageSent`, in the index; else what the source bridge records). Kept in memory only: it answers "signed k of n" for transfers not delivered
//! yet and half of the validators' liveness (the other half is the deliveries in the index).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, B256, Signature};
use alloy::providers::DynProvider;
use zb_api_types::validator::CheckpointResponse;
use zb_contracts::bridge::ZeroBridge;
use zb_ops::network::{ChainInfo, Network};
use zb_protocol::{Checkpoint, ValidatorSet, checkpoint_digest};

/// A validator endpoint that does not answer within this long is skipped for the round.
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(3);

/// The latest verified signature of one signer on one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The checkpoint's sequence: it covers every message of the lane up to it.
    pub sequence: u64,
    /// Unix seconds (the API's clock) when it was fetched.
    pub at: u64,
}

/// What the prober knows, shared with the handlers.
#[derive(Debug, Default)]
pub struct SignerView {
    /// (lane, signer) -> its latest verified checkpoint.
    pub seen: HashMap<(B256, Address), Seen>,
    /// Each staked lane's committed set, from its source's stake snapshot.
    pub sets: HashMap<B256, ValidatorSet>,
}

pub type Signers = Arc<Mutex<SignerView>>;

/// The fewest members whose weight reaches `set`'s threshold, heaviest first.
pub fn quorum_size(set: &ValidatorSet) -> u64 {
    let mut weights: Vec<u128> = set.members.iter().map(|m| m.weight).collect();
    weights.sort_unstable_by(|a, b| b.cmp(a));
    let mut total = 0u128;
    for (i, weight) in weights.iter().enumerate() {
        total = total.saturating_add(*weight);
        if total >= set.threshold {
            return i as u64 + 1;
        }
    }
    weights.len() as u64
}

/// One direction of a route: its lane and the chain it is sent from.
#[derive(Debug, Clone)]
pub struct LaneLeg {
    pub lane: B256,
    pub route_id: B256,
    pub source: ChainInfo,
    pub destination: ChainInfo,
}

/// Both directions of every route of the network.
pub fn lane_legs(network: &Network) -> Vec<LaneLeg> {
    let mut legs = Vec::new();
    for route in &network.routes {
        let (Ok(home), Ok(remote)) = (network.chain(&route.home), network.chain(&route.remote)) else { continue };
        for (from, to) in [(home, remote), (remote, home)] {
            legs.push(LaneLeg {
                lane: zb_protocol::lane_id(from.chain_id, from.bridge, to.chain_id, to.bridge, route.route_id),
                route_id: route.route_id,
                source: from.clone(),
                destination: to.clone(),
            });
        }
    }
    legs
}

pub struct SignatureProber {
    pub legs: Vec<(LaneLeg, DynProvider)>,
    /// Each lane's source stake manager, when staked (for its committed set).
    pub staking: HashMap<u64, zb_ops::stake::Staking>,
    pub urls: Vec<String>,
    pub signers: Signers,
    /// The index, for the accumulators of the messages sent.
    pub store: Arc<crate::store::IndexStore>,
    pub interval: Duration,
    pub http: reqwest::Client,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl SignatureProber {
    /// Runs until the process stops; an unreachable chain or endpoint only skips its round.
    pub async fn run(self) {
        loop {
            for (leg, provider) in &self.legs {
                self.probe_lane(leg, provider).await;
            }
            tokio::time::sleep(self.interval).await;
        }
    }

    async fn probe_lane(&self, leg: &LaneLeg, provider: &DynProvider) {
        if let Some(staking) = self.staking.get(&leg.source.chain_id)
            && let Ok(snapshot) = staking.snapshot(leg.lane).await
            && snapshot.committed
            && let Ok(set) = zb_ops::stake::snapshot_set(&snapshot)
            && let Ok(mut view) = self.signers.lock()
        {
            view.sets.insert(leg.lane, set);
        }
        let requests = self.urls.iter().map(|base| {
            let url = format!("{}/v1/lanes/{:#x}/checkpoints/latest", base.trim_end_matches('/'), leg.lane);
            let http = self.http.clone();
            async move {
                let response = http.get(&url).timeout(ENDPOINT_TIMEOUT).send().await.ok()?;
                if !response.status().is_success() {
                    return None;
                }
                response.json::<CheckpointResponse>().await.ok()
            }
        });
        let answers: Vec<CheckpointResponse> =
            futures::future::join_all(requests).await.into_iter().flatten().collect();
        let bridge = ZeroBridge::new(leg.source.bridge, provider.clone());
        let mut recorded: HashMap<u64, B256> = HashMap::new();
        for answer in answers {
            if answer.lane != leg.lane || answer.sequence == 0 {
                continue;
            }
            let accumulator = match recorded.get(&answer.sequence) {
                Some(a) => *a,
                None => {
                    let a = self.accumulator(leg, &bridge, answer.sequence).await;
                    recorded.insert(answer.sequence, a);
                    a
                }
            };
            // Zero: neither the index nor the source knows that sequence's accumulator; unverifiable.
            if accumulator == B256::ZERO || accumulator != answer.accumulator {
                continue;
            }
            let checkpoint = Checkpoint { lane: leg.lane, sequence: answer.sequence, accumulator };
            let digest = checkpoint_digest(&checkpoint, leg.source.chain_id, leg.source.bridge);
            let Ok(signature) = Signature::try_from(answer.signature.as_ref()) else { continue };
            if signature.recover_address_from_prehash(&digest).ok() != Some(answer.signer) {
                continue;
            }
            if let Ok(mut view) = self.signers.lock() {
                let entry = view.seen.entry((leg.lane, answer.signer)).or_insert(Seen { sequence: 0, at: 0 });
                entry.sequence = entry.sequence.max(answer.sequence);
                entry.at = unix_now();
            }
        }
    }
}

impl SignatureProber {
    /// The accumulator after message `sequence` of the leg's lane: from the index (every
    /// `MessageSent` is stored with it), else what the source bridge records (its head, and every
    /// 16th); zero when neither knows it.
    async fn accumulator(
        &self,
        leg: &LaneLeg,
        bridge: &ZeroBridge::ZeroBridgeInstance<DynProvider>,
        sequence: u64,
    ) -> B256 {
        match self.store.accumulator_at(leg.lane, sequence).await {
            Ok(Some(a)) => return a,
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "reading the index for an accumulator"),
        }
        match bridge.accumulatorAt(leg.lane, sequence).call().await {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(chain = %leg.source.name, error = %e, "accumulatorAt failed");
                B256::ZERO
            }
        }
    }
}

impl SignerView {
    /// Signatures covering message `sequence` of `lane` among the members of its committed set,
    /// and whether their weight reaches the threshold. None when the lane's set is not known.
    pub fn covering(&self, lane: B256, sequence: u64) -> Option<(zb_api_types::explorer::Signatures, bool)> {
        let set = self.sets.get(&lane)?;
        let signed: Vec<&zb_protocol::validator_set::Member> = set
            .members
            .iter()
            .filter(|m| self.seen.get(&(lane, m.signer)).is_some_and(|s| s.sequence >= sequence))
            .collect();
        let weight: u128 = signed.iter().map(|m| m.weight).sum();
        let signatures = zb_api_types::explorer::Signatures {
            have: signed.len() as u64,
            need: quorum_size(set),
            of: set.members.len() as u64,
        };
        Some((signatures, weight >= set.threshold && set.threshold > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zb_protocol::validator_set::Member;

    fn set(weights: &[u128], threshold: u128) -> ValidatorSet {
        let members = weights
            .iter()
            .enumerate()
            .map(|(i, w)| Member { signer: Address::repeat_byte(i as u8 + 1), weight: *w })
            .collect();
        ValidatorSet { threshold, valid_until: u64::MAX, members }
    }

    #[test]
    fn a_quorum_takes_the_heaviest_members_first() {
        assert_eq!(quorum_size(&set(&[1000, 1000, 1000, 1000], 2667)), 3);
        assert_eq!(quorum_size(&set(&[100, 5000, 100], 5000)), 1);
        assert_eq!(quorum_size(&set(&[1, 1], 5)), 2, "an unreachable threshold needs everyone");
    }

    #[test]
    fn only_members_whose_checkpoint_reaches_the_sequence_count() {
        let lane = B256::repeat_byte(7);
        let mut view = SignerView::default();
        view.sets.insert(lane, set(&[1000, 1000, 1000, 1000], 2667));
        for (byte, sequence) in [(1u8, 5u64), (2, 4), (3, 5), (9, 9)] {
            view.seen.insert((lane, Address::repeat_byte(byte)), Seen { sequence, at: 1 });
        }
        let (five, quorum) = view.covering(lane, 5).unwrap_or_else(|| panic!("the set is known"));
        assert_eq!((five.have, five.need, five.of, quorum), (2, 3, 4, false), "a stranger (9) is no member");
        let (four, quorum) = view.covering(lane, 4).unwrap_or_else(|| panic!("the set is known"));
        assert_eq!((four.have, quorum), (3, true));
        assert!(view.covering(B256::ZERO, 1).is_none());
    }
}
