//! The validator agent. Per source chain it follows finalized blocks, reads only the bridge's
//! MessageSent events, recomputes every lane accumulator itself, and signs checkpoints after
//! checking its slashing-protection store. Signed checkpoints are served over HTTP (/v1/...).
//!
//! The lanes it secures are the configured `[[lanes]]` plus, on every chain with a
//! `stake_manager`, the lanes its operator opted in to there. Those are read again every
//! `stake_refresh_secs`: a new opt-in is followed (caught up from `start_block`) without a
//! restart, and an opted-out lane stops being signed for new sequences.

pub mod api;
mod catchup;
pub mod config;
mod grace;
mod guard;
mod halt;
mod history;
mod observer;
mod progress;
mod serve;
pub mod stake;
mod tls;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use metrics_exporter_prometheus::PrometheusHandle;
use zb_protocol::{Checkpoint, sign_checkpoint};
use zb_store::{SignedCheckpoint, StoreError, ValidatorStore};

pub use config::{ConfigError, LaneConfig, Role, ValidatorConfig};
pub use halt::{Unhalted, unhalt};
pub use history::{export_history, import_history};

#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chain(#[from] zb_chain::ChainError),
    #[error("lane {0} is not secured by this validator")]
    UnknownLane(B256),
    #[error("lane {lane}: sequence {sequence} is not final here yet (observed up to {observed})")]
    NotObserved { lane: B256, sequence: u64, observed: u64 },
    #[error(
        "lane {lane}: sequence {sequence} is not due for the fallback set before {due_at} (its sentAt plus \
         fallback_delay_secs); the newest final source block is at {chain_time}"
    )]
    NotDue { lane: B256, sequence: u64, due_at: u64, chain_time: u64 },
    #[error("lane {lane} is halted and will not be signed: {reason}")]
    Halted { lane: B256, reason: String },
    #[error("signing failed: {0}")]
    Sign(String),
    #[error(
        "a validator process is running on this data_dir (it holds {lock}); stop it first: a running validator \
         keeps its halts in memory"
    )]
    Running { lock: std::path::PathBuf },
    #[error("{path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("[api.tls]: {0}")]
    Tls(String),
    #[error(
        "the store {path} holds checkpoints signed by {other}, not by this validator's key {signer}: each key has \
         its own slashing-protection store. Point data_dir at this key's own directory, or move a key's history \
         with `zerobridge validator export` / `import`"
    )]
    ForeignStore { path: std::path::PathBuf, other: Address, signer: Address },
    #[error(
        "lane {lane}: this validator's operator opted out of the lane when it had observed sequence {since}; it \
         signs no new sequence there except the validator-set update that hands the lane over (sequence {sequence} \
         was never signed)"
    )]
    OptedOut { lane: B256, sequence: u64, since: u64 },
    #[error(
        "the signing key {signer} is not registered as any operator's signer on the configured stake manager(s) \
         ({stake_managers}) and no [[lanes]] are configured, so there is nothing to secure. Register it from the \
         operator key with `zerobridge stake register --signer-keystore <this validator's keystore>` \
         (StakeManager.registerOperator({signer}, proof): the key signs a proof of possession), opt in to lanes, \
         and start the validator again; or list the lanes to secure in [[lanes]]"
    )]
    NotRegistered { signer: Address, stake_managers: String },
}

/// What the validator knows about one lane it secures.
#[derive(Debug, Clone)]
pub(crate) struct LaneView {
    pub source_name: String,
    pub source_chain_id: u64,
    pub source_bridge: Address,
    /// Sequences up to this one are only in the store (the memory window moved past them).
    pub window_start: u64,
    /// accumulators[i] is the accumulator after message window_start + i + 1, recomputed locally.
    pub accumulators: Vec<B256>,
    /// sent_at[i] is message window_start + i + 1's `sentAt`: a fallback validator's due check.
    pub sent_at: Vec<u64>,
    /// Validator-set updates (sequence, hash of the new set): the old set must sign exactly there.
    pub set_updates: Vec<(u64, B256)>,
    /// Listed in `[[lanes]]`.
    pub configured: bool,
    /// In the operator's opt-ins at the last stake-manager read.
    pub opted_in: bool,
    /// Set when the operator opted out (and the lane is not configured): the height observed
    /// then. No later sequence is signed, except validator-set updates (the hand-over).
    pub leaving_since: Option<u64>,
}

impl LaneView {
    pub(crate) fn new(chain: &zb_chain::ChainConfig, configured: bool, opted_in: bool) -> LaneView {
        LaneView {
            source_name: chain.name.clone(),
            source_chain_id: chain.chain_id,
            source_bridge: chain.bridge,
            window_start: 0,
            accumulators: Vec::new(),
            sent_at: Vec::new(),
            set_updates: Vec::new(),
            configured,
            opted_in,
            leaving_since: None,
        }
    }

    pub(crate) fn observed(&self) -> u64 {
        self.window_start + self.accumulators.len() as u64
    }

    fn is_set_update(&self, sequence: u64) -> bool {
        self.set_updates.iter().any(|(s, _)| *s == sequence)
    }

    /// Where `sequence` is in the memory window (None: not observed, or only in the store).
    fn window_index(&self, sequence: u64) -> Option<usize> {
        let index = usize::try_from(sequence.checked_sub(self.window_start)?.checked_sub(1)?).ok()?;
        (index < self.accumulators.len()).then_some(index)
    }

    /// (accumulator, sentAt) of `sequence` if it is in the memory window.
    fn in_window(&self, sequence: u64) -> Option<(B256, u64)> {
        let index = self.window_index(sequence)?;
        Some((self.accumulators[index], self.sent_at.get(index).copied().unwrap_or(0)))
    }

    /// The highest sequence of the window sent by `sent_by` (sentAt is non-decreasing along a
    /// lane). None: no sequence of the window was; an older one may have been (see the store).
    fn window_sent_by(&self, sent_by: u64) -> Option<u64> {
        let last = self.sent_at.iter().rposition(|sent| *sent <= sent_by)?;
        Some(self.window_start + last as u64 + 1)
    }

    /// Keeps only the newest `keep` (at least one) sequences in memory.
    pub(crate) fn evict(&mut self, keep: usize) {
        let excess = self.accumulators.len().saturating_sub(keep.max(1));
        if excess > 0 {
            self.accumulators.drain(..excess);
            self.sent_at.drain(..excess.min(self.sent_at.len()));
            self.window_start += excess as u64;
        }
    }
}

/// Per chain with a stake manager: what the last read found.
#[derive(Debug, Clone, Default)]
pub(crate) struct StakeView {
    pub stake_manager: Address,
    /// None until the stake manager answered once; then whether the signing key is registered.
    pub registered: Option<bool>,
    pub operator: Option<Address>,
    pub opted_in: Vec<B256>,
    pub block: Option<u64>,
    pub read_at: Option<u64>,
    pub last_error: Option<String>,
}

pub(crate) struct State {
    pub signer: PrivateKeySigner,
    pub store: ValidatorStore,
    pub lanes: RwLock<HashMap<B256, LaneView>>,
    pub metrics: PrometheusHandle,
    pub public_url: Option<String>,
    /// Economic security per lane, from the source chain's stake manager (or why it is missing).
    pub security: RwLock<HashMap<B256, Result<stake::LaneSecurity, String>>>,
    /// Keyed by chain name: every chain with a stake manager.
    pub stake: RwLock<BTreeMap<String, StakeView>>,
    /// Whether `[[lanes]]` lists any lane.
    pub has_configured_lanes: bool,
    /// Set for the fallback role: sign only on request, once a message is this many seconds old.
    pub fallback_delay: Option<u64>,
    /// Keyed by chain name: the timestamp of the newest final block consumed (fallback role only).
    pub chain_times: RwLock<HashMap<String, u64>>,
    /// Fallback role: lanes whose destination is in its Emergency grace (signed without the delay).
    pub in_grace: RwLock<std::collections::HashSet<B256>>,
    /// Persisted halts, loaded at start. Lock order: `lanes` before `halts`.
    pub halts: RwLock<halt::Halts>,
    /// Keyed by chain name: every chain followed, and whether its first step is done (readiness).
    pub following: RwLock<BTreeMap<String, bool>>,
    /// How many of each lane's newest sequences stay in memory (`memory_window`).
    pub memory_window: usize,
}

fn poisoned() -> ValidatorError {
    ValidatorError::Sign("validator state lock poisoned".into())
}

impl State {
    pub(crate) fn new(
        signer: PrivateKeySigner,
        store: ValidatorStore,
        metrics: PrometheusHandle,
        config: &ValidatorConfig,
    ) -> Result<State, ValidatorError> {
        let mut lanes = HashMap::new();
        for lane in &config.lanes {
            let chain = config
                .chains
                .iter()
                .find(|c| c.name == lane.source)
                .ok_or_else(|| ConfigError::Invalid(format!("unknown source chain {}", lane.source)))?;
            lanes.insert(lane.lane, LaneView::new(chain, true, false));
        }
        let stake = config
            .chains
            .iter()
            .filter_map(|c| {
                c.stake_manager.map(|sm| (c.name.clone(), StakeView { stake_manager: sm, ..StakeView::default() }))
            })
            .collect();
        // Slashing protection is per key: a store another key signed from protects nothing here.
        if let Some(other) = store.foreign_signer(signer.address())? {
            return Err(ValidatorError::ForeignStore {
                path: store.path().to_path_buf(),
                other,
                signer: signer.address(),
            });
        }
        let halts = halt::load(&store)?;
        Ok(State {
            signer,
            store,
            lanes: RwLock::new(lanes),
            metrics,
            public_url: config.public_url.clone(),
            security: RwLock::new(HashMap::new()),
            stake: RwLock::new(stake),
            has_configured_lanes: !config.lanes.is_empty(),
            fallback_delay: config.fallback_delay(),
            chain_times: RwLock::new(HashMap::new()),
            in_grace: RwLock::new(std::collections::HashSet::new()),
            halts: RwLock::new(halts),
            following: RwLock::new(BTreeMap::new()),
            memory_window: config.memory_window,
        })
    }

    /// Records whether the signing key is registered on `chain`'s stake manager. Fails when no
    /// stake manager knows the key and no lane is configured: such a validator can never sign.
    pub(crate) fn record_registration(&self, chain: &str, operator: Option<Address>) -> Result<(), ValidatorError> {
        let mut stake = self.stake.write().map_err(|_| poisoned())?;
        let Some(view) = stake.get_mut(chain) else {
            return Ok(());
        };
        let registered = operator.is_some();
        let before = view.registered.replace(registered);
        view.operator = operator;
        let signer = self.signer.address();
        if before != Some(registered) {
            match operator {
                Some(operator) => {
                    tracing::info!(%chain, %signer, %operator, stake_manager = %view.stake_manager,
                        "signing key is registered to an operator: securing the lanes it opted in to")
                }
                None => tracing::warn!(%chain, %signer, stake_manager = %view.stake_manager,
                    "signing key is not registered as any operator's signer on this stake manager; register it with \
                     `zerobridge stake register --signer-keystore <this validator's keystore>` \
                     (StakeManager.registerOperator with its proof of possession); checking again at every refresh"),
            }
        }
        if !self.has_configured_lanes && stake.values().all(|v| v.registered == Some(false)) {
            let stake_managers =
                stake.iter().map(|(name, v)| format!("{name}: {}", v.stake_manager)).collect::<Vec<_>>().join(", ");
            return Err(ValidatorError::NotRegistered { signer, stake_managers });
        }
        Ok(())
    }

    /// Fallback role: refuses a sequence whose message (sent at `sent_at`) has not waited out the
    /// delay in source chain time. The destination would refuse the delivery anyway; signing
    /// early would let the fallback set stand in for the primary one without the delay.
    fn check_due(&self, lane: B256, source: &str, sequence: u64, sent_at: u64) -> Result<(), ValidatorError> {
        let Some(delay) = self.fallback_delay else {
            return Ok(());
        };
        if self.is_in_grace(lane)? {
            return Ok(());
        }
        let due_at = sent_at.saturating_add(delay);
        let chain_time = self.chain_time(source)?;
        if chain_time < due_at {
            return Err(ValidatorError::NotDue { lane, sequence, due_at, chain_time });
        }
        Ok(())
    }

    fn is_in_grace(&self, lane: B256) -> Result<bool, ValidatorError> {
        Ok(self.in_grace.read().map_err(|_| poisoned())?.contains(&lane))
    }

    fn chain_time(&self, chain: &str) -> Result<u64, ValidatorError> {
        Ok(self.chain_times.read().map_err(|_| poisoned())?.get(chain).copied().unwrap_or(0))
    }

    /// What `checkpoints/latest` signs: the head for a primary, the highest due sequence for a
    /// fallback (the first sequence when none is due, so that the refusal names its `dueAt`).
    /// A lane not caught up yet (or not secured any more) answers with the newest checkpoint
    /// signed before, from the store.
    pub(crate) fn latest(&self, lane: B256) -> Result<u64, ValidatorError> {
        let (observed, window_due, window_start, source) = {
            let lanes = self.lanes.read().map_err(|_| poisoned())?;
            match lanes.get(&lane) {
                Some(view) if view.observed() > 0 => {
                    let due = self.fallback_delay.map(|delay| {
                        let sent_by = self.chain_time(&view.source_name).map(|t| t.saturating_sub(delay));
                        sent_by.map(|by| view.window_sent_by(by))
                    });
                    (view.observed(), due.transpose()?, view.window_start, view.source_name.clone())
                }
                found => {
                    return match self.store.latest_signed(lane)? {
                        Some(stored) => Ok(stored.sequence),
                        None if found.is_some() => Ok(0),
                        None => Err(ValidatorError::UnknownLane(lane)),
                    };
                }
            }
        };
        let (Some(window_due), Some(delay)) = (window_due, self.fallback_delay) else {
            return Ok(observed);
        };
        if self.is_in_grace(lane)? {
            return Ok(observed);
        }
        let due = match window_due {
            Some(due) => due,
            // Nothing in memory is due yet: the highest due sequence is older, in the store.
            None if window_start > 0 => {
                self.store.lane_sent_by(lane, self.chain_time(&source)?.saturating_sub(delay))?.min(window_start)
            }
            None => 0,
        };
        Ok(if due == 0 { observed.min(1) } else { due })
    }

    /// (accumulator, chain id, bridge) to sign (lane, sequence) with, or why not: the lane's
    /// state, the opt-out, the fallback delay. A sequence older than the memory window is read
    /// from the store.
    fn plan(&self, lane: B256, sequence: u64) -> Result<(B256, u64, Address), ValidatorError> {
        let (window, source, chain_id, bridge) = {
            let lanes = self.lanes.read().map_err(|_| poisoned())?;
            let view = lanes.get(&lane).ok_or(ValidatorError::UnknownLane(lane))?;
            let observed = view.observed();
            if sequence == 0 || sequence > observed {
                return Err(ValidatorError::NotObserved { lane, sequence, observed });
            }
            if let Some(since) = view.leaving_since
                && sequence > since
                && !view.is_set_update(sequence)
            {
                return Err(ValidatorError::OptedOut { lane, sequence, since });
            }
            (view.in_window(sequence), view.source_name.clone(), view.source_chain_id, view.source_bridge)
        };
        let (accumulator, sent_at) = match window {
            Some(values) => values,
            None => {
                let stored = self.store.lane_progress_at(lane, sequence)?.ok_or_else(|| {
                    ValidatorError::Sign(format!(
                        "lane {lane}: sequence {sequence} is older than the memory window and missing from the store"
                    ))
                })?;
                (stored.accumulator, stored.sent_at)
            }
        };
        self.check_due(lane, &source, sequence, sent_at)?;
        Ok((accumulator, chain_id, bridge))
    }

    /// Signs (lane, sequence) with the locally recomputed accumulator, after the slashing
    /// protection store agreed. Idempotent: the same checkpoint is signed at most once. A lane
    /// not secured (any more), or a sequence past an opt-out, is only served from the store. A
    /// halted sequence is neither signed nor served.
    pub(crate) fn sign(&self, lane: B256, sequence: u64) -> Result<SignedCheckpoint, ValidatorError> {
        {
            let lanes = self.lanes.read().map_err(|_| poisoned())?;
            let source = lanes.get(&lane).map(|v| v.source_name.as_str());
            if let Some(reason) = self.halts.read().map_err(|_| poisoned())?.refusal(lane, source, sequence) {
                return Err(ValidatorError::Halted { lane, reason: reason.to_string() });
            }
        }
        let (accumulator, chain_id, bridge) = match self.plan(lane, sequence) {
            Ok(values) => values,
            // Not signing here (any more, or yet): what this key signed before is still served.
            Err(refusal) => {
                return match self.store.signed_at(lane, sequence)? {
                    Some(stored) => Ok(stored),
                    None => Err(refusal),
                };
            }
        };
        if let Some(existing) = self.store.signed_at(lane, sequence)?
            && existing.accumulator == accumulator
        {
            return Ok(existing);
        }
        // Refuses (and records nothing) if a different accumulator was ever signed here.
        if let Err(e) = self.store.check_and_record_signing(lane, sequence, accumulator) {
            metrics::counter!("zb_validator_slashing_protection_refusals_total").increment(1);
            tracing::error!(%lane, sequence, error = %e, "slashing protection refused to sign");
            return Err(e.into());
        }
        let checkpoint = Checkpoint { lane, sequence, accumulator };
        let signature = sign_checkpoint(&self.signer, &checkpoint, chain_id, bridge)
            .map_err(|e| ValidatorError::Sign(e.to_string()))?;
        let signed = SignedCheckpoint { lane, sequence, accumulator, signer: self.signer.address(), signature };
        self.store.save_signed(&signed)?;
        metrics::counter!("zb_validator_signed_total", "lane" => lane.to_string()).increment(1);
        tracing::info!(%lane, sequence, %accumulator, "signed checkpoint");
        Ok(signed)
    }
}

/// How often a fallback validator reads the destinations' Emergency grace.
const GRACE_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the validator until `shutdown` resolves or a fatal error occurs.
pub async fn run(
    config: ValidatorConfig,
    signer: PrivateKeySigner,
    metrics: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ValidatorError> {
    config.validate()?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| ValidatorError::Sign(format!("cannot create data_dir {}: {e}", config.data_dir.display())))?;
    // Held until run returns: `validator unhalt` refuses to edit the store under a running validator.
    let _lock = halt::lock_data_dir(&config.data_dir)?;
    let store = ValidatorStore::open(&config.data_dir.join("validator.sqlite"))?;
    let state = Arc::new(State::new(signer, store, metrics, &config)?);
    let stake_managers: Vec<String> =
        config.chains.iter().filter_map(|c| c.stake_manager.map(|sm| format!("{}: {sm}", c.name))).collect();
    tracing::info!(
        signer = %state.signer.address(),
        configured_lanes = config.lanes.len(),
        stake_managers = %stake_managers.join(", "),
        stake_refresh_secs = config.stake_refresh_secs,
        role = ?config.role,
        fallback_delay_secs = ?config.fallback_delay(),
        "validator starting"
    );

    let server = serve::api(&config, state.clone(), shutdown).await?;
    let mut followers = tokio::task::JoinSet::new();
    let refresh = std::time::Duration::from_secs(config.stake_refresh_secs);
    for chain in &config.chains {
        let configured = config.lanes.iter().filter(|l| l.source == chain.name).map(|l| l.lane).collect();
        if chain.stake_manager.is_some() || config.lanes.iter().any(|l| l.source == chain.name) {
            state.following.write().map_err(|_| poisoned())?.insert(chain.name.clone(), false);
            followers.spawn(observer::follow_chain(state.clone(), chain.clone(), configured, refresh));
        }
    }
    if config.fallback_delay().is_some() {
        let lanes = config.lanes.iter().map(|l| l.lane).collect();
        followers.spawn(grace::watch(state.clone(), config.chains.clone(), lanes, GRACE_REFRESH));
    }
    tokio::select! {
        served = server => served,
        Some(finished) = followers.join_next() => match finished {
            Ok(result) => result,
            Err(e) => Err(ValidatorError::Sign(format!("chain follower task failed: {e}"))),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use alloy::primitives::{Address, B256};
    use alloy::signers::local::PrivateKeySigner;
    use metrics_exporter_prometheus::PrometheusBuilder;
    use zb_chain::{ChainConfig, Finality};
    use zb_store::{StoreError, ValidatorStore};

    use super::*;

    pub(crate) fn chain(name: &str, stake_manager: Option<Address>) -> ChainConfig {
        ChainConfig {
            name: name.into(),
            chain_id: 1,
            rpc: vec!["http://127.0.0.1:1".into()],
            ws: None,
            bridge: Address::repeat_byte(0xaa),
            finality: Finality::Depth(2),
            rpc_quorum: 1,
            poll_interval_ms: 1000,
            start_block: 0,
            stake_manager,
        }
    }

    pub(crate) fn config(chains: Vec<ChainConfig>, lanes: Vec<LaneConfig>) -> ValidatorConfig {
        ValidatorConfig {
            keystore: "/unused".into(),
            password_env: None,
            password_file: None,
            data_dir: "/unused".into(),
            listen: "127.0.0.1:0".parse().expect("socket address"),
            public_url: None,
            chains,
            lanes,
            stake_refresh_secs: 60,
            role: Role::Primary,
            fallback_delay_secs: None,
            api: Default::default(),
            memory_window: crate::config::DEFAULT_MEMORY_WINDOW,
        }
    }

    /// A validator state over the store at `db` (a restart is a second call on the same path).
    pub(crate) fn state(db: &Path, config: &ValidatorConfig) -> State {
        let signer = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).expect("key");
        let metrics = PrometheusBuilder::new().build_recorder().handle();
        State::new(signer, ValidatorStore::open(db).expect("store"), metrics, config).expect("state")
    }

    #[test]
    fn a_store_another_key_signed_from_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("v.sqlite");
        let lane = B256::repeat_byte(0x33);
        let cfg = config(vec![chain("ethereum", None)], vec![LaneConfig { lane, source: "ethereum".into() }]);
        // Key 7 (the `state` helper's) signs once from this store.
        let first = state(&db, &cfg);
        first.lanes.write().expect("lock").get_mut(&lane).expect("lane").accumulators = vec![B256::repeat_byte(1)];
        first.sign(lane, 1).expect("signed");
        drop(first);
        let other = PrivateKeySigner::from_bytes(&B256::repeat_byte(8)).expect("key");
        let metrics = PrometheusBuilder::new().build_recorder().handle();
        let store = ValidatorStore::open(&db).expect("store");
        match State::new(other.clone(), store, metrics, &cfg) {
            Err(e @ ValidatorError::ForeignStore { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(&other.address().to_string()) && text.contains("own slashing-protection"),
                    "{text}"
                );
            }
            Err(e) => panic!("expected ForeignStore, got {e}"),
            Ok(_) => panic!("a store signed from by another key was accepted"),
        }
        // Its own key still opens it.
        assert!(state(&db, &cfg).sign(lane, 1).is_ok());
    }

    fn put_lane(state: &State, lane: B256, accumulators: &[B256], set_updates: &[u64]) {
        let mut view = LaneView::new(&chain("ethereum", None), false, true);
        view.accumulators = accumulators.to_vec();
        view.set_updates = set_updates.iter().map(|s| (*s, B256::repeat_byte(0x5e))).collect();
        state.lanes.write().expect("lock").insert(lane, view);
    }

    fn acc(i: u8) -> B256 {
        B256::repeat_byte(i)
    }

    #[test]
    fn an_opted_out_lane_signs_only_what_it_observed_before_and_the_hand_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = state(&dir.path().join("v.sqlite"), &config(vec![chain("ethereum", None)], vec![]));
        let lane = B256::repeat_byte(0x11);
        put_lane(&state, lane, &[acc(1), acc(2), acc(3)], &[]);
        let two = state.sign(lane, 2).expect("active lane signs");

        // Opt-out at height 3; then a transfer (4) and the set update that hands over (5).
        {
            let mut lanes = state.lanes.write().expect("lock");
            let view = lanes.get_mut(&lane).expect("lane");
            view.leaving_since = Some(3);
            view.accumulators.extend([acc(4), acc(5)]);
            view.set_updates.push((5, B256::repeat_byte(0x5e)));
        }
        match state.sign(lane, 4) {
            Err(ValidatorError::OptedOut { since: 3, sequence: 4, .. }) => {}
            other => panic!("sequence 4 after the opt-out must be refused, got {other:?}"),
        }
        assert_eq!(state.sign(lane, 5).expect("the hand-over is signed").accumulator, acc(5));
        assert_eq!(state.sign(lane, 3).expect("observed before the opt-out").accumulator, acc(3));
        assert_eq!(state.sign(lane, 2).expect("served again"), two);

        // Opting in again lifts the restriction.
        state.lanes.write().expect("lock").get_mut(&lane).expect("lane").leaving_since = None;
        assert_eq!(state.sign(lane, 4).expect("active again").accumulator, acc(4));
    }

    #[test]
    fn a_dropped_and_re_added_lane_never_signs_two_accumulators_for_one_sequence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("v.sqlite");
        let cfg = config(vec![chain("ethereum", None)], vec![]);
        let lane = B256::repeat_byte(0x22);
        let first = {
            let state = state(&db, &cfg);
            put_lane(&state, lane, &[acc(1), acc(2)], &[]);
            let first = state.sign(lane, 2).expect("signs");

            // Dropped: what was signed is still served, nothing new is signed.
            state.lanes.write().expect("lock").remove(&lane);
            assert_eq!(state.sign(lane, 2).expect("served from the store"), first);
            assert!(matches!(state.sign(lane, 1), Err(ValidatorError::UnknownLane(_))));

            // Re-added and caught up over a chain that now says otherwise (a deep reorg while
            // the lane was not followed): refused.
            put_lane(&state, lane, &[acc(1), acc(9)], &[]);
            assert!(matches!(
                state.sign(lane, 2),
                Err(ValidatorError::Store(StoreError::Conflict { sequence: 2, .. }))
            ));
            // Re-added over the same chain: the same checkpoint.
            put_lane(&state, lane, &[acc(1), acc(2)], &[]);
            assert_eq!(state.sign(lane, 2).expect("same accumulator"), first);
            first
        };

        // After a restart (same database), re-adding the lane keeps the refusal.
        let state = state(&db, &cfg);
        put_lane(&state, lane, &[acc(1), acc(9)], &[]);
        assert!(matches!(state.sign(lane, 2), Err(ValidatorError::Store(StoreError::Conflict { .. }))));
        put_lane(&state, lane, &[acc(1), acc(2)], &[]);
        assert_eq!(state.sign(lane, 2).expect("same accumulator"), first);
        assert_eq!(state.store.export_history(Address::ZERO).expect("history").entries.len(), 1);
    }

    #[test]
    fn an_unregistered_key_fails_only_without_any_lane_to_secure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sm = Some(Address::repeat_byte(0x5a));
        let chains = vec![chain("ethereum", sm), chain("bsc", sm)];

        let state = state(&dir.path().join("a.sqlite"), &config(chains.clone(), vec![]));
        state.record_registration("ethereum", None).expect("bsc not read yet");
        let error = state.record_registration("bsc", None).expect_err("registered nowhere, no lanes");
        let text = error.to_string();
        assert!(text.contains("zerobridge stake register") && text.contains("registerOperator"), "{text}");
        assert!(text.contains("[[lanes]]"), "{text}");

        // Registered on one chain: starts.
        let state = state_with(&dir, "b", config(chains.clone(), vec![]));
        state.record_registration("ethereum", Some(Address::repeat_byte(0x0e))).expect("registered");
        state.record_registration("bsc", None).expect("registered on ethereum");

        // Configured lanes: starts with them.
        let lanes = vec![LaneConfig { lane: B256::repeat_byte(1), source: "ethereum".into() }];
        let state = state_with(&dir, "c", config(chains, lanes));
        state.record_registration("ethereum", None).expect("configured lanes");
        state.record_registration("bsc", None).expect("configured lanes");
    }

    /// A lane of four messages sent at 1000, 1010, 1020, 1020, observed up to chain time `now`.
    fn timed_lane(state: &State, lane: B256, now: u64) {
        put_lane(state, lane, &[acc(1), acc(2), acc(3), acc(4)], &[]);
        state.lanes.write().expect("lock").get_mut(&lane).expect("lane").sent_at = vec![1000, 1010, 1020, 1020];
        state.chain_times.write().expect("lock").insert("ethereum".into(), now);
    }

    fn fallback_config(delay: u64) -> ValidatorConfig {
        let lanes = vec![LaneConfig { lane: B256::repeat_byte(0x33), source: "ethereum".into() }];
        ValidatorConfig {
            role: Role::Fallback,
            fallback_delay_secs: Some(delay),
            ..config(vec![chain("ethereum", None)], lanes)
        }
    }

    #[test]
    fn a_fallback_signs_only_what_has_waited_out_the_delay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = state(&dir.path().join("v.sqlite"), &fallback_config(100));
        let lane = B256::repeat_byte(0x33);
        // Chain time 1110: sequences 1 (due 1100) and 2 (due 1110, the boundary) are due.
        timed_lane(&state, lane, 1110);
        assert_eq!(state.sign(lane, 1).expect("due").accumulator, acc(1));
        assert_eq!(state.sign(lane, 2).expect("due exactly now").accumulator, acc(2));
        match state.sign(lane, 3) {
            Err(ValidatorError::NotDue { sequence: 3, due_at: 1120, chain_time: 1110, .. }) => {}
            other => panic!("sequence 3 is due at 1120, got {other:?}"),
        }
        // Refused before it was due: nothing was recorded for it.
        assert_eq!(state.store.signed_at(lane, 3).expect("store"), None);
        assert_eq!(state.latest(lane).expect("latest"), 2);

        // One second later, 3 and 4 (same sentAt) are due.
        state.chain_times.write().expect("lock").insert("ethereum".into(), 1120);
        assert_eq!(state.latest(lane).expect("latest"), 4);
        assert_eq!(state.sign(lane, 4).expect("due").accumulator, acc(4));
        // Beyond what was observed: not observed, whatever the time.
        assert!(matches!(state.sign(lane, 5), Err(ValidatorError::NotObserved { observed: 4, .. })));
    }

    #[test]
    fn a_fallback_with_nothing_due_names_the_first_due_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = state(&dir.path().join("v.sqlite"), &fallback_config(100));
        let lane = B256::repeat_byte(0x33);
        timed_lane(&state, lane, 1099);
        assert_eq!(state.latest(lane).expect("latest"), 1);
        assert!(matches!(state.sign(lane, 1), Err(ValidatorError::NotDue { due_at: 1100, chain_time: 1099, .. })));
        // No chain time yet (no final block consumed): nothing is due.
        state.chain_times.write().expect("lock").clear();
        assert!(matches!(state.sign(lane, 1), Err(ValidatorError::NotDue { chain_time: 0, .. })));
        // An empty lane: not observed, as for a primary.
        let empty = B256::repeat_byte(0x44);
        put_lane(&state, empty, &[], &[]);
        assert_eq!(state.latest(empty).expect("latest"), 0);
        assert!(matches!(state.sign(empty, 0), Err(ValidatorError::NotObserved { .. })));
    }

    #[test]
    fn a_primary_ignores_chain_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = state(&dir.path().join("v.sqlite"), &config(vec![chain("ethereum", None)], vec![]));
        let lane = B256::repeat_byte(0x33);
        timed_lane(&state, lane, 0);
        assert_eq!(state.latest(lane).expect("latest"), 4);
        assert_eq!(state.sign(lane, 4).expect("head").accumulator, acc(4));
        assert_eq!(state.sign(lane, 1).expect("any observed sequence").accumulator, acc(1));
    }

    fn state_with(dir: &tempfile::TempDir, name: &str, cfg: ValidatorConfig) -> State {
        state(&dir.path().join(format!("{name}.sqlite")), &cfg)
    }
}
