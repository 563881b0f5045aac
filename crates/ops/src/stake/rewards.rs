//! `stake claim`: validator rewards (in lane tokens) and reporter payouts from slashes, which
//! unlock one detection window after each proof.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail};
use zb_contracts::stake::StakeManager;

use super::args::OperatorArgs;
use super::lanes::{from_block, known_outbound_lanes, logs_to_head, open_as};
use super::manager::{Asset, StakeConfig, Staking, chain_now, when};
use super::tx::{Tx, transact};
use crate::context::Context;
use crate::context::IERC20Token;
use crate::format::format_amount;
use crate::progress::Progress;

/// Whether the stake manager counts `account` as a proven forger (an operator whose signing key
/// was proven to forge, or that key): its reporter shares go to the lanes' compensation pools.
async fn proven_forger(staking: &Staking, account: Address) -> Result<bool> {
    if staking.operator(account).await?.fraudProven {
        return Ok(true);
    }
    let sm = staking.sm();
    let operator =
        sm.operatorOfSigner(account).call().await.map_err(|e| staking.conn.read_err("operatorOfSigner", e))?;
    Ok(operator != Address::ZERO && staking.operator(operator).await?.fraudProven)
}

/// What `stake claim` left: each claim it sent is reported as a step while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub chain: String,
    pub account: Address,
    pub asset: Asset,
    /// The account is, or signs for, an operator proven to forge: its reporter shares go to the
    /// lanes' compensation pools (and `locked` is empty).
    pub forger: bool,
    /// Reporter payouts still locked, with when each unlocks, and the chain's clock.
    pub locked: Vec<(Payout, u64)>,
    pub now: u64,
}

pub async fn claim(args: &OperatorArgs, progress: &dyn Progress) -> Result<Claimed> {
    let (ctx, staking, signer) = open_as(&args.chain, &args.key).await?;
    let account = signer.address();
    let owed = reward_balances(&ctx, &staking, account).await?;
    let payouts: Vec<Payout> =
        reporter_payouts(&ctx, &staking).await?.into_iter().filter(|(r, _)| *r == account).map(|(_, p)| p).collect();
    let now = chain_now(&staking.conn).await?;
    let (ready, locked): (Vec<&Payout>, Vec<&Payout>) =
        payouts.iter().partition(|p| p.unlocks_at(&staking.config) <= now);
    let forger = !payouts.is_empty() && proven_forger(&staking, account).await?;
    let total = |list: &[&Payout]| list.iter().fold(U256::ZERO, |sum, p| sum + p.owed);
    if owed.is_empty() {
        if forger {
            bail!(
                "{account} is, or signs for, an operator proven to forge on {}: its reporter share ({} on {} \
                 evidence) is not paid to it but goes to the lane's compensation pool (claimReporterPayout moves it \
                 there once unlocked, whoever calls it)",
                staking.on(),
                staking.asset.fmt(total(&payouts.iter().collect::<Vec<_>>())),
                payouts.len()
            );
        }
        if ready.is_empty() {
            if let Some(first) = locked.iter().map(|p| p.unlocks_at(&staking.config)).min() {
                bail!(
                    "{account}'s reporter share on {} ({} on {} evidence) unlocks {}: a detection window must pass \
                     after each proof (a forger reporting itself is found out meanwhile); claim then",
                    staking.on(),
                    staking.asset.fmt(total(&locked)),
                    locked.len(),
                    when(first, now)
                );
            }
            bail!("{account} has no rewards and no reporter payout to claim on {}", staking.on());
        }
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    for (token, amount, text) in owed {
        let receipt = transact(sm.claimRewards(token), "claimRewards", &staking.conn.info).await?;
        progress.step(&format!(
            "claimed {text} ({amount} units of {token}) on {} ({})",
            staking.on(),
            Tx::of(&receipt).note()
        ));
    }
    let mut claimed = Claimed {
        chain: staking.on().to_string(),
        account,
        asset: staking.asset.clone(),
        forger,
        locked: Vec::new(),
        now,
    };
    if forger {
        return Ok(claimed);
    }
    for payout in ready {
        let receipt =
            transact(sm.claimReporterPayout(payout.evidence), "claimReporterPayout", &staking.conn.info).await?;
        let forfeited =
            receipt.inner.logs().iter().any(|l| l.log_decode::<StakeManager::ReporterShareForfeited>().is_ok());
        let (amount, on, note) = (staking.asset.fmt(payout.owed), staking.on(), Tx::of(&receipt).note());
        progress.step(&if forfeited {
            format!(
                "the reporter payout of {amount} for evidence {} went to the lane's compensation pool on {on} (the \
                 reporter was proven to forge meanwhile) ({note})",
                payout.evidence
            )
        } else {
            format!("claimed a reporter payout of {amount} for evidence {} on {on} ({note})", payout.evidence)
        });
    }
    claimed.locked = locked.into_iter().map(|p| (p.clone(), p.unlocks_at(&staking.config))).collect();
    Ok(claimed)
}

/// A reporter share not yet claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub evidence: B256,
    pub owed: U256,
    pub proven_at: u64,
}

impl Payout {
    /// `claimReporterPayout` pays from one detection window after the proof on.
    fn unlocks_at(&self, config: &StakeConfig) -> u64 {
        self.proven_at.saturating_add(config.detection_window)
    }
}

/// The unclaimed reporter shares on this chain: each evidence (FraudProven events, whose reporter
/// is in the data) with `reporterOwed` > 0, and its reporter.
pub(super) async fn reporter_payouts(ctx: &Context, staking: &Staking) -> Result<Vec<(Address, Payout)>> {
    let filter = Filter::new().address(staking.address).event_signature(StakeManager::FraudProven::SIGNATURE_HASH);
    let conn = &staking.conn;
    let from = from_block(ctx, &conn.info);
    let logs = logs_to_head(conn, &filter, from, "the stake manager's FraudProven events").await?;
    let mut payouts: Vec<(Address, Payout)> = Vec::new();
    for log in &logs {
        let Ok(event) = log.log_decode::<StakeManager::FraudProven>() else {
            continue;
        };
        let proven = event.inner.data;
        if payouts.iter().any(|(_, p)| p.evidence == proven.evidenceId) {
            continue;
        }
        let record = staking.sm().evidence(proven.evidenceId).call().await.map_err(|e| conn.read_err("evidence", e))?;
        if !record.reporterOwed.is_zero() {
            let payout = Payout { evidence: proven.evidenceId, owed: record.reporterOwed, proven_at: record.provenAt };
            payouts.push((record.reporter, payout));
        }
    }
    Ok(payouts)
}

/// Non-zero rewards of `operator` in the tokens of its lanes and of the chain's known lanes:
/// (token, units, "1.5 DEMO").
pub(super) async fn reward_balances(
    ctx: &Context,
    staking: &Staking,
    operator: Address,
) -> Result<Vec<(Address, U256, String)>> {
    let sm = staking.sm();
    let mut lanes = sm.lanesOf(operator).call().await.map_err(|e| staking.conn.read_err("lanesOf", e))?;
    for lane in known_outbound_lanes(ctx, &staking.conn.info) {
        if !lanes.contains(&lane) {
            lanes.push(lane);
        }
    }
    let mut tokens: Vec<Address> = Vec::new();
    for lane in lanes {
        let state = staking.lane(lane).await?;
        if state.token != Address::ZERO && !tokens.contains(&state.token) {
            tokens.push(state.token);
        }
    }
    let mut out = Vec::new();
    for token in tokens {
        let amount = sm.rewards(operator, token).call().await.map_err(|e| staking.conn.read_err("rewards", e))?;
        if amount.is_zero() {
            continue;
        }
        let erc20 = IERC20Token::new(token, staking.conn.provider.clone());
        let text = match (erc20.decimals().call().await, erc20.symbol().call().await) {
            (Ok(d), Ok(s)) => format!("{} {s}", format_amount(amount, d)),
            _ => format!("{amount} units of {token}"),
        };
        out.push((token, amount, text));
    }
    Ok(out)
}
