//! Halts: lanes and chains this validator stopped signing, persisted in its store so that a
//! restart never lifts one. Only `zerobridge validator unhalt` (run while the validator is
//! stopped) removes a halt.
//!
//! - A *lane* halt starts at a sequence: the bridge emitted an accumulator there that differs from
//!   this validator's recomputation. Either side may be wrong, and signing a value the bridge
//!   never had is slashable, so nothing at or after that sequence is signed or served.
//!   Sequences before it agreed with the bridge and stay signable.
//! - A *chain* halt (a reorg deeper than finality) stops every lane of that chain, including
//!   checkpoints signed before, since they may be over blocks that no longer exist.
//!
//! The validator holds an exclusive lock on `data_dir/validator.lock` while it runs, so `unhalt`
//! can tell a running validator from a stopped one: the OS drops the lock when the process ends,
//! even on SIGKILL.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use zb_store::{ChainHalt, LaneHalt, ValidatorStore};

use crate::{State, ValidatorConfig, ValidatorError, poisoned};

/// The halts in force, as loaded from the store and raised since.
#[derive(Debug, Clone, Default)]
pub(crate) struct Halts {
    pub lanes: BTreeMap<B256, LaneHalt>,
    /// Keyed by chain name.
    pub chains: BTreeMap<String, ChainHalt>,
}

impl Halts {
    /// Why `sequence` of `lane` (whose source chain is `source`, when known) is refused.
    pub(crate) fn refusal(&self, lane: B256, source: Option<&str>, sequence: u64) -> Option<&str> {
        if let Some(halt) = source.and_then(|s| self.chains.get(s)) {
            return Some(&halt.reason);
        }
        self.lanes.get(&lane).filter(|h| sequence >= h.sequence).map(|h| h.reason.as_str())
    }

    /// The halt shown for `lane` in the API, if any.
    pub(crate) fn reason(&self, lane: B256, source: &str) -> Option<String> {
        self.refusal(lane, Some(source), u64::MAX).map(str::to_owned)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lanes.is_empty() && self.chains.is_empty()
    }
}

fn lane_gauge(lane: B256) -> metrics::Gauge {
    metrics::gauge!("zb_validator_lane_halted", "lane" => lane.to_string())
}

fn chain_gauge(chain: &str) -> metrics::Gauge {
    metrics::gauge!("zb_validator_halted", "chain" => chain.to_string())
}

/// Reads the persisted halts and raises their metrics.
pub(crate) fn load(store: &ValidatorStore) -> Result<Halts, ValidatorError> {
    let mut halts = Halts::default();
    for halt in store.lane_halts()? {
        tracing::error!(lane = %halt.lane, sequence = halt.sequence, reason = %halt.reason,
            "lane halted (persisted): nothing from this sequence on is signed until `zerobridge validator unhalt`");
        lane_gauge(halt.lane).set(1.0);
        halts.lanes.insert(halt.lane, halt);
    }
    for halt in store.chain_halts()? {
        tracing::error!(chain = %halt.chain, reason = %halt.reason,
            "chain halted (persisted): none of its lanes is signed until `zerobridge validator unhalt`");
        chain_gauge(&halt.chain).set(1.0);
        halts.chains.insert(halt.chain.clone(), halt);
    }
    Ok(halts)
}

impl State {
    /// Halts `lane` from `sequence` on: persisted first (a failure is returned and nothing is
    /// recorded in memory, so the caller must not go on), then in force here.
    pub(crate) fn halt_lane(
        &self,
        lane: B256,
        sequence: u64,
        emitted: B256,
        computed: B256,
    ) -> Result<(), ValidatorError> {
        let reason = format!(
            "lane {lane} sequence {sequence}: the bridge emitted accumulator {emitted}, this validator recomputed \
             {computed}; nothing from sequence {sequence} on is signed until an operator finds which side is wrong \
             and runs `zerobridge validator unhalt`"
        );
        let halt = self.store.halt_lane(lane, sequence, &reason)?;
        tracing::error!(%lane, sequence, %emitted, %computed, "{reason}");
        lane_gauge(lane).set(1.0);
        self.halts.write().map_err(|_| poisoned())?.lanes.insert(lane, halt);
        Ok(())
    }

    /// Halts every lane of `chain`. Held in memory even if it cannot be persisted (then logged).
    pub(crate) fn halt_chain(&self, chain: &str, reason: &str) -> Result<(), ValidatorError> {
        tracing::error!(%chain, "{reason}");
        chain_gauge(chain).set(1.0);
        let halt = self.store.halt_chain(chain, reason).unwrap_or_else(|e| {
            tracing::error!(%chain, error = %e, "cannot persist the chain halt: a restart would lift it");
            ChainHalt { chain: chain.to_string(), reason: reason.to_string(), halted_at: 0 }
        });
        self.halts.write().map_err(|_| poisoned())?.chains.insert(chain.to_string(), halt);
        Ok(())
    }

    pub(crate) fn chain_halted(&self, chain: &str) -> Result<bool, ValidatorError> {
        Ok(self.halts.read().map_err(|_| poisoned())?.chains.contains_key(chain))
    }
}

/// The lock a running validator holds on its data directory.
pub(crate) fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("validator.lock")
}

/// Takes the data directory's lock, or fails if a validator process holds it. Held until the
/// returned file is dropped (or the process ends).
pub(crate) fn lock_data_dir(data_dir: &Path) -> Result<File, ValidatorError> {
    let path = lock_path(data_dir);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| ValidatorError::Io { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(ValidatorError::Running { lock: path }),
        Err(TryLockError::Error(source)) => Err(ValidatorError::Io { path, source }),
    }
}

/// What [`unhalt`] removed.
#[derive(Debug, Clone, Default)]
pub struct Unhalted {
    pub lane: Option<LaneHalt>,
    pub chain: Option<ChainHalt>,
}

/// Removes the persisted halt of `lane` and/or of the chain named `chain`, from the store of the
/// validator configured by `config`. Refused while that validator runs (it holds its halts in
/// memory and would not see the change).
pub fn unhalt(config: &ValidatorConfig, lane: Option<B256>, chain: Option<&str>) -> Result<Unhalted, ValidatorError> {
    if let Some(name) = chain
        && !config.chains.iter().any(|c| c.name == name)
    {
        return Err(crate::ConfigError::Invalid(format!("no chain named {name} in the config")).into());
    }
    let _lock = lock_data_dir(&config.data_dir)?;
    let store = ValidatorStore::open(&config.data_dir.join("validator.sqlite"))?;
    let unhalted = Unhalted {
        lane: lane.map(|l| store.unhalt_lane(l)).transpose()?.flatten(),
        chain: chain.map(|c| store.unhalt_chain(c)).transpose()?.flatten(),
    };
    if unhalted.chain.is_some()
        && let Some(followed) = config.chains.iter().find(|c| Some(c.name.as_str()) == chain)
    {
        // The stored cursor holds the blocks that changed: resuming from it would halt again.
        // The chain is caught up from start_block as it is now; slashing protection still
        // refuses a different accumulator for anything signed before.
        store.forget_follow_progress(followed.chain_id, followed.bridge)?;
    }
    Ok(unhalted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{chain, config};

    #[test]
    fn unhalt_removes_the_persisted_halt_and_is_refused_while_the_validator_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg =
            crate::ValidatorConfig { data_dir: dir.path().to_owned(), ..config(vec![chain("ethereum", None)], vec![]) };
        let lane = B256::repeat_byte(0x11);
        {
            let store = ValidatorStore::open(&dir.path().join("validator.sqlite")).expect("store");
            store.halt_lane(lane, 3, "mismatch").expect("halt");
            store.halt_chain("ethereum", "deep reorg").expect("halt");
            let eth = chain("ethereum", None);
            let cursor = zb_store::ChainCursor {
                chain_id: eth.chain_id,
                bridge: eth.bridge,
                next_block: 11,
                recent: vec![(10, B256::repeat_byte(0xbb))],
            };
            store.record_follow_step(&[], Some(&cursor)).expect("cursor");
        }

        let running = lock_data_dir(dir.path()).expect("lock");
        assert!(matches!(unhalt(&cfg, Some(lane), None), Err(ValidatorError::Running { .. })));
        drop(running);

        assert!(matches!(unhalt(&cfg, None, Some("bsc")), Err(ValidatorError::Config(_))));
        let removed = unhalt(&cfg, Some(lane), None).expect("unhalt lane");
        assert_eq!(removed.lane.map(|h| h.sequence), Some(3));
        assert!(removed.chain.is_none());
        let eth = chain("ethereum", None);
        let cursor = |store: &ValidatorStore| store.chain_cursor(eth.chain_id, eth.bridge).expect("cursor");
        assert!(cursor(&ValidatorStore::open(&dir.path().join("validator.sqlite")).expect("store")).is_some());
        let removed = unhalt(&cfg, Some(lane), Some("ethereum")).expect("unhalt chain");
        assert!(removed.lane.is_none());
        assert_eq!(removed.chain.map(|h| h.reason), Some("deep reorg".to_string()));
        let store = ValidatorStore::open(&dir.path().join("validator.sqlite")).expect("store");
        assert!(store.lane_halts().expect("halts").is_empty() && store.chain_halts().expect("halts").is_empty());
        // Lifting the chain halt forgets the cursor whose blocks changed: the next start catches up.
        assert_eq!(cursor(&store), None);
    }

    #[test]
    fn a_lane_halt_refuses_from_its_sequence_on_and_a_chain_halt_everything() {
        let lane = B256::repeat_byte(0x11);
        let mut halts = Halts::default();
        halts.lanes.insert(lane, LaneHalt { lane, sequence: 3, reason: "mismatch".into(), halted_at: 0 });
        assert_eq!(halts.refusal(lane, Some("ethereum"), 2), None);
        assert_eq!(halts.refusal(lane, None, 3), Some("mismatch"));
        assert_eq!(halts.refusal(lane, Some("ethereum"), 4), Some("mismatch"));
        assert_eq!(halts.refusal(B256::ZERO, Some("ethereum"), 4), None);
        let reorg = ChainHalt { chain: "ethereum".into(), reason: "reorg".into(), halted_at: 0 };
        halts.chains.insert("ethereum".into(), reorg);
        assert_eq!(halts.refusal(B256::ZERO, Some("ethereum"), 1), Some("reorg"));
        assert_eq!(halts.refusal(lane, Some("ethereum"), 1), Some("reorg"));
        assert_eq!(halts.refusal(B256::ZERO, Some("bsc"), 1), None);
    }
}
