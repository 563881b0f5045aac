//! `stake unbond | withdraw`, and the locks that keep stake bonded: stake that weighs in a
//! committed validator set stays bonded until that set's expiry plus the detection window.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use eyre::{Result, bail};
use zb_contracts::stake::StakeManager;

use super::args::{OperatorArgs, UnbondArgs};
use super::bond::{parse_stake, registered};
use super::lanes::open_as;
use super::manager::{Asset, Staking, chain_now, u96};
use super::tx::{Tx, transact};
use crate::format::{format_utc, format_wait};

/// What `stake unbond` started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unbonded {
    pub chain: String,
    pub asset: Asset,
    pub amount: U256,
    pub tx: Tx,
    /// The operator's active and unbonding stake after it.
    pub active: U256,
    pub unbonding: U256,
    /// When all of the unbonding stake can be withdrawn, and the chain's clock.
    pub withdrawable_at: u64,
    pub now: u64,
    /// Stake was unbonding already: its unbonding period restarted.
    pub restarted: bool,
    /// The lock that holds part of it back when the unbonding period ends, in words.
    pub lock: Option<String>,
}

pub async fn unbond(args: &UnbondArgs) -> Result<Unbonded> {
    let (_, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    let op = registered(&staking, operator).await?;
    let amount = if args.amount.trim().eq_ignore_ascii_case("all") {
        if op.active.is_zero() {
            bail!("{operator} has no active stake on {} to unbond", staking.on());
        }
        op.active
    } else {
        parse_stake(&args.amount, &staking.asset)?
    };
    if amount > op.active {
        bail!(
            "insufficient stake: unbonding {} but {operator} has only {} active on {}: lower --amount",
            staking.asset.fmt(amount),
            staking.asset.fmt(op.active),
            staking.on()
        );
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.unbond(amount), "unbond", &staking.conn.info).await?;
    let after = staking.operator(operator).await?;
    let now = chain_now(&staking.conn).await?;
    let schedule = Schedule::of(&after, now);
    let lock =
        schedule.locked_at_release().then(|| lock_text(&staking, &after, locked_at(&after, schedule.release_at), now));
    Ok(Unbonded {
        chain: staking.on().to_string(),
        asset: staking.asset.clone(),
        amount,
        tx: Tx::of(&receipt),
        active: after.active,
        unbonding: after.unbonding,
        withdrawable_at: schedule.all_free_at,
        now,
        restarted: !op.unbonding.is_zero(),
        lock,
    })
}

/// What `stake withdraw` paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub chain: String,
    pub asset: Asset,
    pub operator: Address,
    pub paid: U256,
    pub tx: Tx,
    /// What stays unbonding, and the lock that holds it, in words.
    pub remaining: Option<(U256, String)>,
}

pub async fn withdraw(args: &OperatorArgs) -> Result<Withdrawn> {
    let (_, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    let op = staking.operator(operator).await?;
    if op.unbonding.is_zero() {
        bail!(
            "{operator} has nothing unbonding on {}: unbond first (`zerobridge stake unbond --chain {} --amount X`), \
             then withdraw after the unbonding period",
            staking.on(),
            staking.on()
        );
    }
    let now = chain_now(&staking.conn).await?;
    let schedule = Schedule::of(&op, now);
    if now < op.unbondingReleaseAt {
        let then = if !schedule.locked_at_release() {
            format!("{} can be withdrawn then", staking.asset.fmt(op.unbonding))
        } else {
            let free = if schedule.free_at_release.is_zero() {
                "nothing can be withdrawn then".to_string()
            } else {
                format!("only {} can be withdrawn then", staking.asset.fmt(schedule.free_at_release))
            };
            format!("{free}: {}", lock_text(&staking, &op, locked_at(&op, schedule.release_at), now))
        };
        bail!(
            "still unbonding until {} (in {}): {then}",
            format_utc(op.unbondingReleaseAt),
            format_wait(op.unbondingReleaseAt - now)
        );
    }
    if !op.owed.is_zero() {
        bail!(
            "a slash of {} is owed by {operator} on {}: nothing can be withdrawn until it is collected \
             (`zerobridge slash collect <evidence id>`)",
            staking.asset.fmt(op.owed),
            staking.on()
        );
    }
    // What the contract pays now: the unbonding stake above the locked weight.
    let free =
        staking.sm().withdrawable(operator).call().await.map_err(|e| staking.conn.read_err("withdrawable", e))?;
    if free.is_zero() {
        let lock = locked_stake(&staking, operator).await?;
        bail!(
            "nothing of the {} unbonding can be withdrawn on {} yet: {}",
            staking.asset.fmt(op.unbonding),
            staking.on(),
            lock_text(&staking, &op, lock, now)
        );
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.withdraw(), "withdraw", &staking.conn.info).await?;
    let paid = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<StakeManager::StakeWithdrawn>().ok())
        .map_or(free, |e| e.inner.data.amount);
    let after = staking.operator(operator).await?;
    let remaining = if after.unbonding.is_zero() {
        None
    } else {
        let lock = locked_stake(&staking, operator).await?;
        Some((after.unbonding, lock_text(&staking, &after, lock, now)))
    };
    Ok(Withdrawn {
        chain: staking.on().to_string(),
        asset: staking.asset.clone(),
        operator,
        paid,
        tx: Tx::of(&receipt),
        remaining,
    })
}

/// The bond `op` must keep at unix time `at`, and when the longest of those locks ends: the stake
/// manager's `lockedStake` (its two lock periods), evaluated at any time so that `unbond` and
/// `withdraw` can tell what the end of the unbonding period frees.
pub(super) fn locked_at(op: &StakeManager::Operator, at: u64) -> (U256, u64) {
    let mut lock = (U256::ZERO, 0);
    for (weight, until) in [(op.lockedWeight, op.lockedUntil), (op.previousLockedWeight, op.previousLockedUntil)] {
        if at < until {
            lock = (lock.0.max(u96(weight)), lock.1.max(until));
        }
    }
    lock
}

/// What `withdraw` pays from `op`'s unbonding stake while `locked` must stay bonded.
fn free_under(op: &StakeManager::Operator, locked: U256) -> U256 {
    let bonded = op.active + op.unbonding;
    if bonded <= locked { U256::ZERO } else { op.unbonding.min(bonded - locked) }
}

/// When an operator's unbonding stake can leave, as `withdraw` decides: after the unbonding
/// period, and while its bond is locked only the part above the locked weight. Later snapshots
/// that count the operator lock it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub release_at: u64,
    /// What is free once the unbonding period is over (all of it, if no lock holds it back).
    pub free_at_release: U256,
    /// When all of it is free.
    pub all_free_at: u64,
    pub unbonding: U256,
}

impl Schedule {
    pub fn of(op: &StakeManager::Operator, now: u64) -> Schedule {
        let release_at = op.unbondingReleaseAt.max(now);
        let free_at = |t: u64| free_under(op, locked_at(op, t).0);
        let free_at_release = free_at(release_at);
        // The free part grows only when a lock ends; once both have, everything is free.
        let mut ends = [op.lockedUntil, op.previousLockedUntil];
        ends.sort_unstable();
        let all_free_at = std::iter::once(release_at)
            .chain(ends.into_iter().filter(|&end| end > release_at))
            .find(|&t| free_at(t) >= op.unbonding)
            .unwrap_or(release_at);
        Schedule { release_at, free_at_release, all_free_at, unbonding: op.unbonding }
    }

    /// Whether a lock holds back part of the unbonding stake when the period ends.
    pub fn locked_at_release(&self) -> bool {
        self.free_at_release < self.unbonding
    }
}

/// Plain words for a stake lock of `weight` until `until` (`lockedStake`), with when it ends.
pub(super) fn lock_text(
    staking: &Staking,
    op: &StakeManager::Operator,
    (weight, until): (U256, u64),
    now: u64,
) -> String {
    let window = staking.config.detection_window;
    let ends = if until > now {
        format!("{} (in {})", format_utc(until), format_wait(until - now))
    } else {
        format_utc(until)
    };
    // Active stake still counts for the operator's lanes: their next snapshots lock it again.
    let extended = if op.active.is_zero() { "" } else { " (each later snapshot that counts you locks it again)" };
    format!(
        "{} of the bond backs a validator set that the destination accepts until {}; its signatures stay provable \
         for the {} detection window after that, so it stays locked until {ends}{extended}",
        staking.asset.fmt(weight),
        format_utc(until.saturating_sub(window)),
        format_wait(window),
    )
}

/// `lockedStake(operator)`: the bond it must keep now, and when the last of its locks ends.
pub(super) async fn locked_stake(staking: &Staking, operator: Address) -> Result<(U256, u64)> {
    let lock = staking.sm().lockedStake(operator).call().await.map_err(|e| staking.conn.read_err("lockedStake", e))?;
    Ok((lock.weight, lock.until))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operator(
        active: u64,
        unbonding: u64,
        locked: u64,
        locked_until: u64,
        release_at: u64,
    ) -> StakeManager::Operator {
        use alloy::primitives::aliases::U96;
        StakeManager::Operator {
            signer: Address::repeat_byte(1),
            jailed: false,
            fraudProven: false,
            unbondingReleaseAt: release_at,
            penaltyEpochPlusOne: 0,
            lockedWeight: U96::from(locked),
            lockedUntil: locked_until,
            active: U256::from(active),
            unbonding: U256::from(unbonding),
            owed: U256::ZERO,
            previousLockedWeight: U96::ZERO,
            previousLockedUntil: 0,
            lockStartedAt: 0,
        }
    }

    #[test]
    fn withdrawals_wait_for_the_unbonding_period_and_the_lock() {
        // Leaving entirely while a set still counts all of it: nothing until the lock ends.
        let leaving = Schedule::of(&operator(0, 1500, 1500, 90_000, 1_600), 1_000);
        assert!(leaving.locked_at_release());
        assert_eq!(leaving.free_at_release, U256::ZERO);
        assert_eq!(leaving.all_free_at, 90_000);
        // The lock is over before the unbonding period: the period decides.
        let late = Schedule::of(&operator(0, 1500, 1500, 1_200, 1_600), 1_000);
        assert!(!late.locked_at_release());
        assert_eq!((late.free_at_release, late.all_free_at), (U256::from(1500u64), 1_600));
        // Partly free: the bond may drop to the locked weight, not below.
        let partial = Schedule::of(&operator(600, 900, 1000, 90_000, 1_600), 1_000);
        assert_eq!(partial.free_at_release, U256::from(500u64));
        assert!(partial.locked_at_release());
        assert_eq!(partial.all_free_at, 90_000);
        // Past the release time, "now" is when it becomes free.
        let past = Schedule::of(&operator(0, 10, 0, 0, 500), 1_000);
        assert_eq!((past.release_at, past.all_free_at), (1_000, 1_000));
        // Two lock periods: a continuing member that now weighs 600 in the current period's sets
        // (until 200,000) still owes the previous period's 1000 until 90,000; after that only 600.
        use alloy::primitives::aliases::U96;
        let mut shrinking = operator(600, 900, 600, 200_000, 1_600);
        (shrinking.previousLockedWeight, shrinking.previousLockedUntil) = (U96::from(1000u64), 90_000);
        assert_eq!(locked_at(&shrinking, 1_000), (U256::from(1000u64), 200_000));
        assert_eq!(locked_at(&shrinking, 90_000), (U256::from(600u64), 200_000));
        assert_eq!(locked_at(&shrinking, 200_000), (U256::ZERO, 0));
        let schedule = Schedule::of(&shrinking, 1_000);
        assert_eq!(schedule.free_at_release, U256::from(500u64));
        assert_eq!(schedule.all_free_at, 90_000, "the active 600 covers the later lock");
    }
}
