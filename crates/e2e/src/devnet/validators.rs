//! The validators' view: served checkpoints, /v1/info, metrics, their stores and the audit.

use std::collections::HashMap;

use alloy::primitives::{Address, B256, Signature};
use eyre::{Result, WrapErr, bail, eyre};
use serde_json::Value;
use zb_api_types::validator::{CheckpointResponse, InfoResponse};
use zb_protocol::{Checkpoint, checkpoint_digest};
use zb_store::{SignedCheckpoint, SigningHistory, ValidatorStore};

use super::{Devnet, Direction, Served, ValidatorAudit};

impl Devnet {
    // ---------------------------------------------------------------- validators' view

    /// `GET /v1/lanes/{lane}/checkpoints/{sequence}` on validator `i`. Note that the validator
    /// signs on demand a sequence it has observed as final.
    pub async fn validator_checkpoint(&self, i: usize, lane: B256, sequence: u64) -> Result<Served> {
        let url = format!("{}/v1/lanes/{lane:#x}/checkpoints/{sequence}", self.validator_url(i)?);
        let response = self.http().get(&url).send().await.wrap_err_with(|| format!("GET {url}"))?;
        let status = response.status();
        if status.is_success() {
            let body: CheckpointResponse = response.json().await.wrap_err_with(|| format!("GET {url}: body"))?;
            Ok(Served::Signed(body))
        } else {
            Ok(Served::Refused { status: status.as_u16(), body: response.text().await.unwrap_or_default() })
        }
    }

    /// Validator `i`'s /v1/info.
    pub async fn validator_info(&self, i: usize) -> Result<InfoResponse> {
        let url = format!("{}/v1/info", self.validator_url(i)?);
        self.http().get(&url).send().await?.json().await.wrap_err_with(|| format!("GET {url}"))
    }

    /// How many messages of `lane` validator `i` has observed as final.
    pub async fn validator_observed(&self, i: usize, lane: B256) -> Result<u64> {
        let info = self.validator_info(i).await?;
        Ok(info.lanes.iter().find(|l| l.lane == lane).map_or(0, |l| l.observed))
    }

    /// The value of metric `name` whose label set contains `labels` (e.g. `chain="ethereum"`)
    /// in validator `i`'s /metrics.
    pub async fn validator_metric(&self, i: usize, name: &str, labels: &str) -> Result<Option<f64>> {
        let url = format!("{}/metrics", self.validator_url(i)?);
        let text = self.http().get(&url).send().await?.text().await?;
        Ok(text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?;
            if !(rest.starts_with('{') || rest.starts_with(' ')) || !rest.contains(labels) {
                return None;
            }
            rest.rsplit(' ').next()?.parse().ok()
        }))
    }

    /// Checks `signature` over checkpoint (lane, sequence, accumulator) under the lane's source
    /// domain: it must recover to `signer`.
    pub fn verify_checkpoint(
        &self,
        signer: Address,
        lane: B256,
        sequence: u64,
        accumulator: B256,
        signature: &Signature,
    ) -> Result<()> {
        let source = self.direction(lane)?.source();
        let side = self.side(source);
        let digest = checkpoint_digest(&Checkpoint { lane, sequence, accumulator }, side.chain_id, side.bridge);
        let recovered = signature.recover_address_from_prehash(&digest).map_err(|e| eyre!("unrecoverable: {e}"))?;
        if recovered != signer {
            bail!("signature on lane {lane} sequence {sequence} recovers to {recovered}, not {signer}");
        }
        Ok(())
    }

    /// Checks a served checkpoint: signed by validator `i`, and the signature verifies.
    pub fn verify_served(&self, i: usize, served: &CheckpointResponse) -> Result<()> {
        let signer = self.validator_address(i)?;
        if served.signer != signer {
            bail!("validator {i} served a checkpoint signed by {}, its key is {signer}", served.signer);
        }
        let signature =
            Signature::try_from(served.signature.as_ref()).map_err(|e| eyre!("malformed signature: {e}"))?;
        self.verify_checkpoint(signer, served.lane, served.sequence, served.accumulator, &signature)
    }

    fn validator_store(&self, i: usize) -> Result<Option<ValidatorStore>> {
        let path = self.validator_data_dir(i)?.join("validator.sqlite");
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(ValidatorStore::open(&path)?))
    }

    /// Validator `i`'s slashing-protection history, read from its SQLite store.
    pub fn validator_history(&self, i: usize) -> Result<SigningHistory> {
        let signer = self.validator_address(i)?;
        match self.validator_store(i)? {
            Some(store) => Ok(store.export_history(signer)?),
            None => Ok(SigningHistory::new(signer)),
        }
    }

    /// The lane halts persisted in validator `i`'s store.
    pub fn validator_lane_halts(&self, i: usize) -> Result<Vec<zb_store::LaneHalt>> {
        match self.validator_store(i)? {
            Some(store) => Ok(store.lane_halts()?),
            None => Ok(Vec::new()),
        }
    }

    /// `GET {path}` on validator `i`: the status code and the JSON body.
    pub async fn validator_get(&self, i: usize, path: &str) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.validator_url(i)?);
        let response = self.http().get(&url).send().await.wrap_err_with(|| format!("GET {url}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.wrap_err_with(|| format!("GET {url}: body"))?;
        Ok((status, body))
    }

    /// The signed checkpoint validator `i` stored for (lane, sequence), if any.
    pub fn validator_signed(&self, i: usize, lane: B256, sequence: u64) -> Result<Option<SignedCheckpoint>> {
        match self.validator_store(i)? {
            Some(store) => Ok(store.signed_at(lane, sequence)?),
            None => Ok(None),
        }
    }

    /// Checks validator `i`'s store against the chains: every slashing-protection record equals
    /// the accumulator the source bridge recorded at that sequence (so it never recorded, let
    /// alone signed, anything else), and every stored signature is over a recorded accumulator
    /// and verifies.
    pub async fn audit_validator(&self, i: usize) -> Result<ValidatorAudit> {
        let history = self.validator_history(i)?;
        let signer = self.validator_address(i)?;
        let mut truth: HashMap<B256, Vec<B256>> = HashMap::new();
        for direction in [Direction::ToRemote, Direction::ToHome] {
            let lane = self.lane(direction);
            truth.insert(lane, self.source_accumulators(lane).await?);
        }
        let mut recorded: HashMap<(B256, u64), B256> = HashMap::new();
        for entry in &history.entries {
            let Some(accumulators) = truth.get(&entry.lane) else {
                bail!("validator {i} recorded lane {}, which is not a lane of the route", entry.lane);
            };
            let source = entry.sequence.checked_sub(1).and_then(|s| accumulators.get(s as usize));
            if source != Some(&entry.accumulator) {
                bail!(
                    "validator {i} recorded lane {} sequence {} with accumulator {}, but the source has {:?} there",
                    entry.lane,
                    entry.sequence,
                    entry.accumulator,
                    source
                );
            }
            if recorded.insert((entry.lane, entry.sequence), entry.accumulator).is_some() {
                bail!("validator {i} recorded lane {} sequence {} twice", entry.lane, entry.sequence);
            }
        }
        let mut signed = 0;
        for (lane, accumulators) in &truth {
            for sequence in 1..=accumulators.len() as u64 {
                let Some(checkpoint) = self.validator_signed(i, *lane, sequence)? else {
                    continue;
                };
                if recorded.get(&(*lane, sequence)) != Some(&checkpoint.accumulator) {
                    bail!(
                        "validator {i} stored a signature on lane {lane} sequence {sequence} over {} without a \
                         matching slashing-protection record ({:?})",
                        checkpoint.accumulator,
                        recorded.get(&(*lane, sequence))
                    );
                }
                if checkpoint.signer != signer {
                    bail!("validator {i} stored a signature by {}", checkpoint.signer);
                }
                self.verify_checkpoint(signer, *lane, sequence, checkpoint.accumulator, &checkpoint.signature)?;
                signed += 1;
            }
        }
        Ok(ValidatorAudit { recorded: recorded.len(), signed })
    }
}
