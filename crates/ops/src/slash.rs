//! `zerobridge slash submit <evidence.json>` and `zerobridge slash collect <evidence id>`: anyone
//! proves that a validator signed a checkpoint its lane never had, and its operator's stake is
//! slashed on the lane's source chain (StakeManager.slash).
//!
//! The evidence is a JSON file; a validator's `/v1/lanes/{lane}/checkpoints/...` answer is one
//! as it is:
//!
//! ```json
//! {"chainId": 1, "lane": "0x…", "sequence": 7, "accumulator": "0x…", "signature": "0x…"}
//! ```
//!
//! `signature` is 65 bytes r ‖ s ‖ v or 64 bytes EIP-2098 compact; `chainId` (the lane's source
//! chain) and `signer` are optional. Before any gas is spent the command recovers the signer,
//! checks it is an operator's key, and recomputes the lane's accumulator at that sequence from
//! the bridge's `MessageSent` logs: an honest checkpoint is refused as "not fraud". When the
//! bridge has no record at that sequence, the proof segment (the messages between the two
//! records around it, as `verifySent` wants) is built from the same logs.

use std::path::PathBuf;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, Signature, U256, keccak256};
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolEvent, SolValue};
use eyre::{Result, bail, eyre};
use serde::Deserialize;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_protocol::{Checkpoint, Message, checkpoint_digest, initial_accumulator, message_hash};

use crate::context::{Conn, Context, KeyArgs, NetworkArgs, load_signer};
use crate::network::ChainInfo;
use crate::progress::Progress;
use crate::stake::{Asset, OUTBOUND, Staking, Tx, from_block, lane_label, logs_to_head, open_on, transact};

/// `ZeroBridge.ACCUMULATOR_RECORD_INTERVAL`: every 16th sequence's accumulator is recorded.
const RECORD_INTERVAL: u64 = 16;

#[derive(Debug, Clone, clap::Args)]
pub struct SubmitArgs {
    /// The evidence JSON file: a validator's signed checkpoint (format in `zerobridge slash submit --help`).
    pub evidence: PathBuf,
    /// The lane's source chain (name or id). Default: the evidence's chainId, else the chain whose
    /// bridge has the lane as outbound.
    #[arg(long)]
    pub chain: Option<String>,
    /// The reporter's key (it receives the reporter share); the devnet deployer by default.
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CollectArgs {
    /// The evidence id `slash submit` printed.
    pub evidence_id: B256,
    /// The chain the evidence was proven on.
    #[arg(long)]
    pub chain: String,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

// ------------------------------------------------------------------------------------------
// Evidence
// ------------------------------------------------------------------------------------------

/// The evidence file: a signed checkpoint (extra fields, as in a validator's answer, are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// The lane's source chain id.
    #[serde(default)]
    pub chain_id: Option<u64>,
    pub lane: B256,
    pub sequence: u64,
    pub accumulator: B256,
    /// 65 bytes r ‖ s ‖ v (v 27/28 or 0/1), or 64 bytes EIP-2098 compact.
    pub signature: Bytes,
    /// Who signed, if the evidence says so (checked against the recovered signer).
    #[serde(default)]
    pub signer: Option<Address>,
}

impl Evidence {
    pub fn parse(text: &str) -> Result<Evidence> {
        serde_json::from_str(text).map_err(|e| {
            eyre!(
                "the evidence is not a signed checkpoint ({e}): it needs lane, sequence, accumulator and signature, \
                 e.g. a validator's /v1/lanes/<lane>/checkpoints/<sequence> answer"
            )
        })
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { lane: self.lane, sequence: self.sequence, accumulator: self.accumulator }
    }

    /// The signature, low-s as the contract recovers it.
    pub fn signature(&self) -> Result<Signature> {
        let bytes = self.signature.as_ref();
        let signature = match bytes.len() {
            65 => Signature::try_from(bytes).map_err(|e| eyre!("the evidence's 65-byte signature is invalid: {e}"))?,
            64 => Signature::from_erc2098(bytes),
            n => bail!("the evidence's signature has {n} bytes: expected 65 (r, s, v) or 64 (EIP-2098 compact)"),
        };
        Ok(signature.normalized_s())
    }

    /// The signer, recovered over the checkpoint's EIP-712 digest for the lane's source bridge.
    pub fn recover(&self, source_chain: u64, source_bridge: Address) -> Result<(B256, Address)> {
        let digest = checkpoint_digest(&self.checkpoint(), source_chain, source_bridge);
        let signer = self
            .signature()?
            .recover_address_from_prehash(&digest)
            .map_err(|e| eyre!("the evidence's signature recovers no signer ({e}): it is not a valid signature"))?;
        if let Some(claimed) = self.signer
            && claimed != signer
        {
            bail!(
                "the signature recovers to {signer}, not to the signer {claimed} the evidence names: it was signed \
                 over another checkpoint or for another bridge (check chainId and lane)"
            );
        }
        Ok((digest, signer))
    }
}

/// `keccak256(abi.encode(digest, signer))`, as StakeManager names evidence.
pub fn evidence_id(digest: B256, signer: Address) -> B256 {
    keccak256((digest, signer).abi_encode())
}

// ------------------------------------------------------------------------------------------
// The lane's truth, from the bridge and its logs
// ------------------------------------------------------------------------------------------

/// What the source chain says about a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The lane never reached that sequence.
    BeyondHead { count: u64 },
    /// The lane's accumulator at the sequence differs; `proof` is empty when it is recorded.
    WrongAccumulator { truth: B256, proof: Vec<Message> },
    /// The checkpoint is the lane's own.
    Honest,
}

/// The messages `start+1 ..= end` of `lane`, from the bridge's `MessageSent` logs, checked to
/// replay to the accumulators the logs carry.
pub(crate) async fn sent_messages(
    conn: &Conn,
    from_block: u64,
    lane: B256,
    start: u64,
    end: u64,
) -> Result<Vec<Message>> {
    if end <= start {
        return Ok(Vec::new());
    }
    let sequences: Vec<B256> = (start + 1..=end).map(|s| B256::from(U256::from(s))).collect();
    let filter = Filter::new()
        .address(conn.info.bridge)
        .event_signature(ZeroBridge::MessageSent::SIGNATURE_HASH)
        .topic1(lane)
        .topic2(sequences);
    let logs = logs_to_head(conn, &filter, from_block, &format!("lane {lane}'s messages")).await?;
    let mut found: Vec<(Message, B256)> = Vec::new();
    for log in &logs {
        let Ok(decoded) = log.log_decode::<ZeroBridge::MessageSent>() else {
            continue;
        };
        let event = decoded.inner.data;
        if !found.iter().any(|(m, _)| m.sequence == event.message.sequence) {
            found.push((event.message, event.accumulator));
        }
    }
    found.sort_by_key(|(m, _)| m.sequence);
    let expected: Vec<u64> = (start + 1..=end).collect();
    let got: Vec<u64> = found.iter().map(|(m, _)| m.sequence).collect();
    if got != expected {
        let missing: Vec<String> = expected.iter().filter(|s| !got.contains(s)).map(u64::to_string).collect();
        bail!(
            "the logs of {} lack messages {} of lane {lane} (searched from block {from_block}): use an RPC that serves \
             old logs",
            conn.info.name,
            missing.join(", ")
        );
    }
    Ok(found.into_iter().map(|(m, _)| m).collect())
}

/// Decides whether `checkpoint` is fraud on its source chain, building the proof the contract
/// needs when the sequence's accumulator is not recorded.
pub(crate) async fn judge(conn: &Conn, from_block: u64, checkpoint: &Checkpoint) -> Result<Verdict> {
    let bridge = conn.bridge();
    let state = bridge.getLane(checkpoint.lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let count = state.sequence;
    let sequence = checkpoint.sequence;
    if sequence > count {
        return Ok(Verdict::BeyondHead { count });
    }
    let recorded =
        bridge.accumulatorAt(checkpoint.lane, sequence).call().await.map_err(|e| conn.read_err("accumulatorAt", e))?;
    let (truth, proof) = if recorded != B256::ZERO {
        (recorded, Vec::new())
    } else {
        // The segment verifySent accepts: from the record at or below the sequence to the next
        // record, or to the head.
        let start = sequence / RECORD_INTERVAL * RECORD_INTERVAL;
        let end = (start + RECORD_INTERVAL).min(count);
        let segment = sent_messages(conn, from_block, checkpoint.lane, start, end).await?;
        let mut acc = if start == 0 {
            initial_accumulator(checkpoint.lane)
        } else {
            bridge.accumulatorAt(checkpoint.lane, start).call().await.map_err(|e| conn.read_err("accumulatorAt", e))?
        };
        let mut truth = B256::ZERO;
        for m in &segment {
            acc = keccak256((acc, message_hash(m)).abi_encode());
            if m.sequence == sequence {
                truth = acc;
            }
        }
        let end_recorded =
            bridge.accumulatorAt(checkpoint.lane, end).call().await.map_err(|e| conn.read_err("accumulatorAt", e))?;
        if end_recorded != acc {
            bail!(
                "the messages of lane {} in the logs of {} do not replay to the bridge's accumulator at {end}: the RPC \
                 serves inconsistent logs, or the lane moved on; re-run",
                checkpoint.lane,
                conn.info.name
            );
        }
        (truth, segment)
    };
    Ok(if truth == checkpoint.accumulator { Verdict::Honest } else { Verdict::WrongAccumulator { truth, proof } })
}

// ------------------------------------------------------------------------------------------
// submit, collect
// ------------------------------------------------------------------------------------------

/// The lane's source chain: `--chain`, the evidence's chainId, else the chain where it is outbound.
async fn source_chain(ctx: &Context, chain: Option<&str>, evidence: &Evidence) -> Result<ChainInfo> {
    if let Some(name) = chain {
        return Ok(ctx.network.chain(name)?.clone());
    }
    if let Some(id) = evidence.chain_id {
        return Ok(ctx.network.chain(&id.to_string())?.clone());
    }
    for info in &ctx.network.chains {
        let conn = Conn::connect(info).await?;
        let state = conn.bridge().getLane(evidence.lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
        if state.direction == OUTBOUND {
            return Ok(info.clone());
        }
    }
    bail!(
        "no chain of this network sends on lane {}: check the evidence's lane, or pass --chain with its source chain",
        evidence.lane
    )
}

/// What `slash submit` proved and took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slashed {
    pub chain: String,
    pub asset: Asset,
    pub tx: Tx,
    pub evidence_id: B256,
    pub operator: Address,
    /// Slashed by this transaction, and what the per-period cap deferred.
    pub slashed: U256,
    pub still_owed: U256,
    /// The reporter's share, who receives it, and from when it can claim it.
    pub reporter_share: U256,
    pub reporter: Address,
    pub unlocks_at: u64,
    pub detection_window: u64,
}

/// Proves the evidence's fraud and slashes; the verdict is reported as a step before any gas is spent.
pub async fn submit(args: &SubmitArgs, progress: &dyn Progress) -> Result<Slashed> {
    let text = std::fs::read_to_string(&args.evidence)
        .map_err(|e| eyre!("cannot read the evidence file {}: {e}", args.evidence.display()))?;
    let evidence = Evidence::parse(&text)?;
    let ctx = Context::load(&args.network)?;
    let info = source_chain(&ctx, args.chain.as_deref(), &evidence).await?;
    if let Some(id) = evidence.chain_id
        && id != info.chain_id
    {
        bail!(
            "the evidence is for chain {id} but --chain names {} ({}): drop --chain or fix it",
            info.name,
            info.chain_id
        );
    }
    let conn = Conn::connect(&info).await?;
    let staking = Staking::open(&conn).await?;
    let on = &info.name;
    let lane_text = match lane_label(&ctx, evidence.lane) {
        Some(label) => format!("{} ({label})", evidence.lane),
        None => evidence.lane.to_string(),
    };
    let state = staking.lane(evidence.lane).await?;
    if state.direction != OUTBOUND {
        bail!(
            "lane {lane_text} is not an outbound lane of {on}: evidence is proven on the lane's source chain; pass \
             --chain with it"
        );
    }

    // Who signed, and is it an operator's key?
    let (digest, signer) = evidence.recover(info.chain_id, info.bridge)?;
    let sm = staking.sm();
    let operator = sm.operatorOfSigner(signer).call().await.map_err(|e| conn.read_err("operatorOfSigner", e))?;
    if operator == Address::ZERO {
        bail!(
            "the checkpoint was signed by {signer}, which is no operator's signing key on {on}: there is no stake to slash"
        );
    }
    let id = evidence_id(digest, signer);
    let used = sm.evidence(id).call().await.map_err(|e| conn.read_err("evidence", e))?;
    if used.operator != Address::ZERO {
        bail!(
            "this evidence was already used on {on} (evidence id {id}): see `zerobridge slash collect {id} --chain {on}`"
        );
    }

    // Is it fraud?
    let checkpoint = evidence.checkpoint();
    let verdict = judge(&conn, from_block(&ctx, &info), &checkpoint).await?;
    let (why, proof) = match verdict {
        Verdict::Honest => bail!(
            "not fraud: the lane's accumulator at {} is {}, as signed by {signer} (lane {lane_text} on {on})",
            checkpoint.sequence,
            checkpoint.accumulator
        ),
        Verdict::BeyondHead { count } => {
            (format!("it signs sequence {} but the lane has only {count} messages", checkpoint.sequence), Vec::new())
        }
        Verdict::WrongAccumulator { truth, proof } => (
            format!(
                "it signs accumulator {} at sequence {} but the lane's is {truth}{}",
                checkpoint.accumulator,
                checkpoint.sequence,
                if proof.is_empty() {
                    String::new()
                } else {
                    format!(" (proof: messages {} to {})", proof[0].sequence, proof[proof.len() - 1].sequence)
                }
            ),
            proof,
        ),
    };
    progress.step(&format!("fraud by signer {signer} (operator {operator}) on lane {lane_text}: {why}"));

    let reporter = load_signer(&args.key, &ctx)?;
    let reporter_address = reporter.address();
    let tx = conn.with_wallet(EthereumWallet::from(reporter))?;
    let sm_tx = StakeManager::new(staking.address, tx.provider.clone());
    let compact = evidence.signature()?.as_erc2098();
    let r = B256::from_slice(&compact[..32]);
    let vs = B256::from_slice(&compact[32..]);
    let cp = StakeManager::Checkpoint {
        lane: checkpoint.lane,
        sequence: checkpoint.sequence,
        accumulator: checkpoint.accumulator,
    };
    let proof: Vec<StakeManager::Message> = proof.iter().map(StakeManager::Message::from).collect();
    let receipt = transact(sm_tx.slash(cp, r, vs, proof), "slash", &info).await?;

    let mut slashed = U256::ZERO;
    let mut reporter_share = U256::ZERO;
    let mut proven_id = id;
    for log in receipt.inner.logs() {
        if let Ok(e) = log.log_decode::<StakeManager::Slashed>() {
            slashed += e.inner.data.amount;
            reporter_share += e.inner.data.reporterShare;
        } else if let Ok(e) = log.log_decode::<StakeManager::FraudProven>() {
            proven_id = e.inner.data.evidenceId;
        }
    }
    let record = sm.evidence(proven_id).call().await.map_err(|e| conn.read_err("evidence", e))?;
    let owed = record.due.saturating_sub(record.paid);
    let unlocks_at = record.provenAt.saturating_add(staking.config.detection_window);
    Ok(Slashed {
        chain: on.clone(),
        asset: staking.asset.clone(),
        tx: Tx::of(&receipt),
        evidence_id: proven_id,
        operator,
        slashed,
        still_owed: owed,
        reporter_share,
        reporter: reporter_address,
        unlocks_at,
        detection_window: staking.config.detection_window,
    })
}

/// What `slash collect` took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    pub chain: String,
    pub asset: Asset,
    pub operator: Address,
    /// Zero when this period's slashing budget is spent.
    pub slashed: U256,
    pub tx: Tx,
    pub still_owed: U256,
}

pub async fn collect(args: &CollectArgs) -> Result<Collected> {
    let ctx = Context::load(&args.network)?;
    let staking = open_on(&ctx, &args.chain).await?;
    let (conn, info) = (&staking.conn, &staking.conn.info);
    let sm = staking.sm();
    let id = args.evidence_id;
    let record = sm.evidence(id).call().await.map_err(|e| conn.read_err("evidence", e))?;
    if record.operator == Address::ZERO {
        bail!("there is no evidence {id} on {}: check the id `slash submit` printed, and --chain", info.name);
    }
    let unpaid = record.due.saturating_sub(record.paid);
    if unpaid.is_zero() {
        bail!("evidence {id} is fully collected on {}: {} was slashed", info.name, staking.asset.fmt(record.paid));
    }
    let signer = load_signer(&args.key, &ctx)?;
    let tx = conn.with_wallet(EthereumWallet::from(signer))?;
    let sm_tx = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm_tx.collectSlash(id), "collectSlash", info).await?;
    let mut slashed = U256::ZERO;
    for log in receipt.inner.logs() {
        if let Ok(e) = log.log_decode::<StakeManager::Slashed>() {
            slashed += e.inner.data.amount;
        }
    }
    let after = sm.evidence(id).call().await.map_err(|e| conn.read_err("evidence", e))?;
    Ok(Collected {
        chain: info.name.clone(),
        asset: staking.asset.clone(),
        operator: record.operator,
        slashed,
        tx: Tx::of(&receipt),
        still_owed: after.due.saturating_sub(after.paid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::local::PrivateKeySigner;

    fn signed(compact: bool) -> (String, Address, Checkpoint) {
        let key: PrivateKeySigner =
            "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d".parse().expect("key");
        let checkpoint = Checkpoint { lane: B256::repeat_byte(7), sequence: 5, accumulator: B256::repeat_byte(9) };
        let signature = zb_protocol::sign_checkpoint(&key, &checkpoint, 1, Address::repeat_byte(0xbb)).expect("signs");
        let bytes: Vec<u8> = if compact { signature.as_erc2098().to_vec() } else { signature.as_bytes().to_vec() };
        let json = format!(
            r#"{{"chainId": 1, "lane": "{}", "sequence": 5, "accumulator": "{}", "signature": "{}", "extra": 1}}"#,
            checkpoint.lane,
            checkpoint.accumulator,
            Bytes::from(bytes)
        );
        (json, key.address(), checkpoint)
    }

    #[test]
    fn evidence_recovers_the_signer_in_both_signature_forms() {
        for compact in [false, true] {
            let (json, address, checkpoint) = signed(compact);
            let evidence = Evidence::parse(&json).expect("parses");
            assert_eq!(evidence.checkpoint(), checkpoint);
            assert_eq!(evidence.chain_id, Some(1));
            let (digest, signer) = evidence.recover(1, Address::repeat_byte(0xbb)).expect("recovers");
            assert_eq!(signer, address);
            assert_eq!(digest, checkpoint_digest(&checkpoint, 1, Address::repeat_byte(0xbb)));
            // Another bridge's domain recovers someone else.
            let (_, other) = evidence.recover(1, Address::repeat_byte(0xcc)).expect("recovers");
            assert_ne!(other, address);
        }
    }

    #[test]
    fn a_named_signer_must_match() {
        let (json, _, _) = signed(false);
        let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
        value["signer"] = serde_json::json!(Address::repeat_byte(1));
        let evidence = Evidence::parse(&value.to_string()).expect("parses");
        let err = evidence.recover(1, Address::repeat_byte(0xbb)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("not to the signer"), "{err}");
    }

    #[test]
    fn bad_evidence_is_explained() {
        let err = Evidence::parse("{}").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("needs lane, sequence, accumulator and signature"), "{err}");
        let (json, _, _) = signed(false);
        let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
        value["signature"] = serde_json::json!("0x1234");
        let evidence = Evidence::parse(&value.to_string()).expect("parses");
        let err = evidence.signature().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("has 2 bytes"), "{err}");
    }

    #[test]
    fn evidence_ids_match_the_contract_encoding() {
        let digest = B256::repeat_byte(1);
        let signer = Address::repeat_byte(2);
        let mut encoded = digest.to_vec();
        encoded.extend_from_slice(&[0u8; 12]);
        encoded.extend_from_slice(signer.as_slice());
        assert_eq!(evidence_id(digest, signer), keccak256(encoded));
    }
}
