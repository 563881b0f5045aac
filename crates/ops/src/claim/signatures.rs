//! The validators' signatures on a checkpoint, gathered from their endpoints and verified locally.

use alloy::primitives::Signature;
use zb_protocol::{Checkpoint, PackedSignature, ValidatorSet, checkpoint_digest};

use super::signature_count_message;
use crate::network::ChainInfo;
use crate::transfer::{CheckpointResponse, VALIDATOR_TIMEOUT};

/// The signatures gathered for one checkpoint, verified locally.
#[derive(Debug, Clone, Default)]
pub(super) struct Gathered {
    /// A quorum in ascending member order, or every valid signature when there is none.
    pub(super) signatures: Vec<PackedSignature>,
    pub(super) signed: usize,
    pub(super) members: usize,
    pub(super) weight: u128,
    pub(super) threshold: u128,
    /// The set's total weight.
    pub(super) total: u128,
    pub(super) asked: usize,
    pub(super) answered: usize,
    pub(super) quorum: bool,
}

impl Gathered {
    pub(super) fn summary(&self) -> String {
        let mut text = signature_count_message(self.signed, self.members, self.weight, self.threshold, self.total);
        if self.answered < self.asked {
            text.push_str(&format!(", {} of {} endpoints did not answer", self.asked - self.answered, self.asked));
        }
        text
    }
}

/// Asks every endpoint for its signature on `checkpoint`, keeps those from members of `set` that
/// sign exactly our checkpoint, and picks a quorum with the contract's rules.
pub(super) async fn gather(
    http: &reqwest::Client,
    urls: &[String],
    set: &ValidatorSet,
    checkpoint: &Checkpoint,
    source: &ChainInfo,
) -> Gathered {
    let digest = checkpoint_digest(checkpoint, source.chain_id, source.bridge);
    let requests = urls.iter().map(|base| {
        let url = format!(
            "{}/v1/lanes/{:#x}/checkpoints/{}",
            base.trim_end_matches('/'),
            checkpoint.lane,
            checkpoint.sequence
        );
        let http = http.clone();
        async move {
            let response = http.get(&url).timeout(VALIDATOR_TIMEOUT).send().await.ok()?;
            // A refusal (not final yet, fallback not due) still counts as an answer.
            if !response.status().is_success() {
                return Some(None);
            }
            Some(response.json::<CheckpointResponse>().await.ok())
        }
    });
    let answers = futures::future::join_all(requests).await;
    let answered = answers.iter().filter(|a| a.is_some()).count();
    let signed = answers
        .into_iter()
        .flatten()
        .flatten()
        .filter(|answer| {
            answer.lane == checkpoint.lane
                && answer.sequence == checkpoint.sequence
                && answer.accumulator == checkpoint.accumulator
        })
        .filter_map(|answer| Some((answer.signer, Signature::try_from(answer.signature.as_ref()).ok()?)));
    let selection = set.select_quorum(&digest, signed);
    let quorum = selection.quorum.is_some();
    Gathered {
        signed: selection.valid.len(),
        signatures: selection.quorum.unwrap_or(selection.valid),
        members: set.members.len(),
        weight: selection.weight,
        threshold: set.threshold,
        total: set.members.iter().map(|m| m.weight).sum(),
        asked: urls.len(),
        answered,
        quorum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_counts_read_plainly() {
        assert_eq!(
            signature_count_message(2, 4, 2000, 2667, 4000),
            "2 of 4 validators signed (50% of the set's weight, 66.6% needed)"
        );
        let gathered = Gathered {
            signed: 1,
            members: 4,
            weight: 1,
            threshold: 3,
            total: 4,
            asked: 4,
            answered: 1,
            ..Gathered::default()
        };
        assert_eq!(
            gathered.summary(),
            "1 of 4 validators signed (25% of the set's weight, 75% needed), 3 of 4 endpoints did not answer"
        );
    }
}
