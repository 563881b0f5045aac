//! How many validators have signed a checkpoint covering a transfer.

use alloy::primitives::{Address, B256, Signature};
use serde::Deserialize;
use zb_protocol::{Checkpoint, checkpoint_digest};

use super::VALIDATOR_TIMEOUT;
use crate::network::ChainInfo;

// ------------------------------------------------------------------------------------ validators

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckpointResponse {
    pub(crate) lane: B256,
    pub(crate) sequence: u64,
    pub(crate) accumulator: B256,
    pub(crate) signer: Address,
    pub(crate) signature: alloy::primitives::Bytes,
}

/// How many validators have signed a checkpoint that covers our sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SignCount {
    pub(super) signed: usize,
    pub(super) answered: usize,
    pub(super) total: usize,
}

/// Counts validators whose latest checkpoint on `lane` is at or past `sequence`, keeping only
/// signatures that really come from the signer they name.
pub(super) async fn count_signatures(
    http: &reqwest::Client,
    validators: &[String],
    lane: B256,
    sequence: u64,
    source: &ChainInfo,
) -> SignCount {
    let requests = validators.iter().map(|base| {
        let url = format!("{}/v1/lanes/{lane:#x}/checkpoints/latest", base.trim_end_matches('/'));
        let http = http.clone();
        async move {
            let response = http.get(&url).timeout(VALIDATOR_TIMEOUT).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.json::<CheckpointResponse>().await.ok()
        }
    });
    let answers = futures::future::join_all(requests).await;
    let mut signers: Vec<Address> = Vec::new();
    let mut answered = 0;
    for answer in answers.into_iter().flatten() {
        answered += 1;
        if answer.lane != lane || answer.sequence < sequence {
            continue;
        }
        let checkpoint = Checkpoint { lane, sequence: answer.sequence, accumulator: answer.accumulator };
        let digest = checkpoint_digest(&checkpoint, source.chain_id, source.bridge);
        let Ok(signature) = Signature::try_from(answer.signature.as_ref()) else {
            continue;
        };
        if signature.recover_address_from_prehash(&digest).ok() == Some(answer.signer)
            && !signers.contains(&answer.signer)
        {
            signers.push(answer.signer);
        }
    }
    SignCount { signed: signers.len(), answered, total: validators.len() }
}
