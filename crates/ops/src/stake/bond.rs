//! `stake register | deposit | opt-in | opt-out`: an operator registers its validator's signing
//! key (with a proof of possession), bonds stake, and allocates it to lanes of the chain.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;

use super::args::{DepositArgs, OptInArgs, OptOutArgs, RegisterArgs, SignerKeyArgs};
use super::lanes::{OnLane, labelled, open_as, open_lane};
use super::manager::{Asset, PENDING, Staking, chain_now};
use super::tx::{Tx, transact};
use crate::context::Context;
use crate::context::IERC20Token;
use crate::context::signer_from_env;
use crate::format::parse_amount;
use crate::progress::Progress;

/// Parses `--amount` in the staking asset's decimals.
pub(super) fn parse_stake(text: &str, asset: &Asset) -> Result<U256> {
    parse_amount(text, asset.decimals).map_err(|e| eyre!("--amount: {e}"))
}

/// The operator, checked to be registered.
pub(super) async fn registered(staking: &Staking, operator: Address) -> Result<StakeManager::Operator> {
    let op = staking.operator(operator).await?;
    if op.signer == Address::ZERO {
        bail!(
            "{operator} is not a registered operator on {}: register with `zerobridge stake deposit --chain {} \
             --amount X --signer-keystore FILE` (FILE: your validator's keystore, which signs the proof of possession)",
            staking.on(),
            staking.on()
        );
    }
    Ok(op)
}

// ------------------------------------------------------------------------------------------
// register, deposit
// ------------------------------------------------------------------------------------------

/// What `stake register` found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// The operator was registered with that signer already.
    Already {
        operator: Address,
        signer: Address,
        chain: String,
    },
    Registered {
        operator: Address,
        signer: Address,
        chain: String,
        tx: Tx,
    },
}

/// "registered operator 0x… with signer 0x… on ethereum (tx …)".
pub fn registered_text(operator: Address, signer: Address, chain: &str, tx: &Tx) -> String {
    format!("registered operator {operator} with signer {signer} on {chain} ({})", tx.note())
}

pub async fn register(args: &RegisterArgs) -> Result<Registration> {
    let signing = signing_key(&args.signing)?;
    let Some(wanted) = registering_signer(args.signer, signing.as_ref())? else {
        bail!(
            "which signing key? pass your validator's keystore with --signer-keystore FILE (its password from \
             --signer-password-env VAR or --signer-password-file FILE), or --signer-key-env VAR"
        );
    };
    let (_, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    check_signer(&staking, operator, wanted).await?;
    let op = staking.operator(operator).await?;
    if op.signer != Address::ZERO {
        if op.signer == wanted {
            return Ok(Registration::Already { operator, signer: op.signer, chain: staking.on().to_string() });
        }
        bail!(
            "{operator} is already registered on {} with signer {}: the signer cannot be changed; register another \
             operator key for {wanted}",
            staking.on(),
            op.signer
        );
    }
    let proof = registration_proof(&staking, operator, wanted, signing.as_ref()).await?;
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.registerOperator(wanted, proof), "registerOperator", &staking.conn.info).await?;
    Ok(Registration::Registered { operator, signer: wanted, chain: staking.on().to_string(), tx: Tx::of(&receipt) })
}

/// The signing key from `--signer-keystore` (with its password) or `--signer-key-env`, if given.
fn signing_key(args: &SignerKeyArgs) -> Result<Option<PrivateKeySigner>> {
    if let Some(var) = &args.signer_key_env {
        return signer_from_env(var).map(Some).map_err(|e| eyre!("--signer-key-env: {e}"));
    }
    let Some(path) = &args.signer_keystore else {
        return Ok(None);
    };
    let source = match &args.signer_password_file {
        Some(file) => zb_keys::PasswordSource::File(file.clone()),
        None => zb_keys::PasswordSource::Env(args.signer_password_env.clone()),
    };
    let password = source.read().map_err(|e| {
        eyre!("{e}: set --signer-password-env VAR or --signer-password-file FILE for {}", path.display())
    })?;
    zb_keys::load_key(path, &password).map(Some).map_err(|e| eyre!("--signer-keystore {}: {e}", path.display()))
}

/// The signer to register: `--signer`, checked against the signing key when both are given.
fn registering_signer(wanted: Option<Address>, key: Option<&PrivateKeySigner>) -> Result<Option<Address>> {
    match (wanted, key) {
        (Some(wanted), Some(key)) if wanted != key.address() => bail!(
            "--signer {wanted} is not the address of the signing key given ({}): pass the keystore of the validator \
             that signs as {wanted}, or drop --signer",
            key.address()
        ),
        (Some(wanted), _) => Ok(Some(wanted)),
        (None, key) => Ok(key.map(PrivateKeySigner::address)),
    }
}

/// The proof of possession `registerOperator` checks: the signing key's signature (r ‖ s ‖ v)
/// over the stake manager's `signerRegistrationDigest(operator)`.
async fn registration_proof(
    staking: &Staking,
    operator: Address,
    signer: Address,
    key: Option<&PrivateKeySigner>,
) -> Result<Bytes> {
    let Some(key) = key else {
        bail!(
            "registering signer {signer} needs a proof that you hold its key: pass your validator's keystore with \
             --signer-keystore FILE (or the key with --signer-key-env VAR)"
        );
    };
    let digest = staking
        .sm()
        .signerRegistrationDigest(operator)
        .call()
        .await
        .map_err(|e| staking.conn.read_err("signerRegistrationDigest", e))?;
    let signature = key.sign_hash_sync(&digest).map_err(|e| eyre!("signing the proof of possession failed: {e}"))?;
    Ok(Bytes::from(signature.as_bytes().to_vec()))
}

/// The contract's signer rules, checked first so the refusal names the fix.
async fn check_signer(staking: &Staking, operator: Address, signer: Address) -> Result<()> {
    if signer == Address::ZERO {
        bail!("--signer must not be the zero address: pass your validator's signing key (--signer-keystore FILE)");
    }
    if signer == operator {
        bail!(
            "--signer {signer} is the operator key itself: the validator must sign with a separate key \
             (`zerobridge keys new`)"
        );
    }
    let owner =
        staking.sm().operatorOfSigner(signer).call().await.map_err(|e| staking.conn.read_err("operatorOfSigner", e))?;
    if owner != Address::ZERO && owner != operator {
        bail!(
            "signer {signer} already belongs to operator {owner} on {}: each signing key serves one operator",
            staking.on()
        );
    }
    Ok(())
}

/// What `stake deposit` bonded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposited {
    pub chain: String,
    pub asset: Asset,
    pub amount: U256,
    pub tx: Tx,
    /// The operator's active stake after the deposit.
    pub active: U256,
}

/// Bonds stake, registering first when a signing key is given (reported as a step).
pub async fn deposit(args: &DepositArgs, progress: &dyn Progress) -> Result<Deposited> {
    let signing = signing_key(&args.operator.signing)?;
    let wanted = registering_signer(args.operator.signer, signing.as_ref())?;
    let (_, staking, signer) = open_as(&args.operator.chain, &args.operator.key).await?;
    let operator = signer.address();
    let amount = parse_stake(&args.amount, &staking.asset)?;
    let op = staking.operator(operator).await?;
    let register_first = match (op.signer, wanted) {
        (Address::ZERO, Some(wanted)) => {
            check_signer(&staking, operator, wanted).await?;
            Some((wanted, registration_proof(&staking, operator, wanted, signing.as_ref()).await?))
        }
        (Address::ZERO, None) => bail!(
            "{operator} is not a registered operator on {}: pass your validator's signing key (--signer-keystore FILE \
             with its keystore, or --signer-key-env VAR) to register with this deposit",
            staking.on()
        ),
        (current, Some(wanted)) if current != wanted => bail!(
            "{operator} is already registered on {} with signer {current}, not {wanted}: drop --signer and the signing \
             key (the signer cannot be changed)",
            staking.on()
        ),
        _ => None,
    };
    let max = staking.sm().MAX_STAKE().call().await.map_err(|e| staking.conn.read_err("MAX_STAKE", e))?;
    let bonded = op.active + op.unbonding + amount;
    if bonded > max {
        bail!(
            "a bond of {} would exceed the per-operator maximum {}: deposit at most {}",
            staking.asset.fmt(bonded),
            staking.asset.fmt(max),
            staking.asset.fmt(max.saturating_sub(op.active + op.unbonding))
        );
    }
    // The money: native value plus gas, or the token (approved below).
    let native =
        staking.conn.provider.get_balance(operator).await.map_err(|e| staking.conn.read_err("your balance", e))?;
    let (held, gas) = if staking.asset.native() {
        (native, " (plus gas)")
    } else {
        let token = IERC20Token::new(staking.asset.token, staking.conn.provider.clone());
        let balance =
            token.balanceOf(operator).call().await.map_err(|e| staking.conn.read_err("your token balance", e))?;
        (balance, "")
    };
    if held < amount {
        bail!(
            "{operator} holds {} on {}, less than the {} to deposit{gas}: fund it or lower --amount",
            staking.asset.fmt(held),
            staking.on(),
            staking.asset.fmt(amount)
        );
    }

    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let info = &staking.conn.info;
    if let Some((wanted, proof)) = register_first {
        let receipt = transact(sm.registerOperator(wanted, proof), "registerOperator", info).await?;
        progress.step(&registered_text(operator, wanted, staking.on(), &Tx::of(&receipt)));
    }
    let receipt = if staking.asset.native() {
        transact(sm.deposit(amount).value(amount), "deposit", info).await?
    } else {
        let token = IERC20Token::new(staking.asset.token, tx.provider.clone());
        let allowance = token
            .allowance(operator, staking.address)
            .call()
            .await
            .map_err(|e| staking.conn.read_err("the allowance", e))?;
        if allowance < amount {
            transact(token.approve(staking.address, amount), "approve (staking token)", info).await?;
        }
        transact(sm.deposit(amount), "deposit", info).await?
    };
    let after = staking.operator(operator).await?;
    Ok(Deposited {
        chain: staking.on().to_string(),
        asset: staking.asset.clone(),
        amount,
        tx: Tx::of(&receipt),
        active: after.active,
    })
}

// ------------------------------------------------------------------------------------------
// opt-in, opt-out
// ------------------------------------------------------------------------------------------

/// An allocation changed by `stake opt-in` or `stake opt-out`, and when the lane's set sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneChange {
    pub chain: String,
    pub lane: B256,
    /// The lane with its network name: "0x… (DEMO ethereum -> bsc)".
    pub label: String,
    /// What opt-in allocated (None for opt-out).
    pub allocated: Option<String>,
    pub tx: Tx,
    pub next: NextSnapshot,
}

/// When an allocation change reaches the lane's set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextSnapshot {
    /// The route is Pending: the snapshot can be committed again at once.
    Pending,
    /// At the next epoch, which starts at `starts` (unix seconds; `now` on the chain's clock).
    Epoch { epoch: u64, starts: u64, now: u64 },
}

pub async fn opt_in(args: &OptInArgs) -> Result<LaneChange> {
    let OnLane { ctx, staking, signer, lane, state } = open_lane(&args.chain, &args.key, &args.lane).await?;
    let operator = signer.address();
    let op = registered(&staking, operator).await?;
    if op.jailed {
        bail!(
            "operator {operator} is jailed on {}: it cannot opt in until governance unjails it (StakeManager.unjail)",
            staking.on()
        );
    }
    let amount = match &args.amount {
        Some(text) => parse_stake(text, &staking.asset)?,
        None => op.active,
    };
    if op.active.is_zero() {
        bail!(
            "{operator} has no active stake on {}: deposit first (`zerobridge stake deposit --chain {} --amount X`)",
            staking.on(),
            staking.on()
        );
    }
    if amount > op.active {
        bail!(
            "insufficient stake: opting in {} but {operator} has only {} active on {}: deposit more or lower --amount",
            staking.asset.fmt(amount),
            staking.asset.fmt(op.active),
            staking.on()
        );
    }
    if amount < staking.config.min_stake {
        bail!(
            "an allocation of {} is below the minimum {} a lane counts on {}: raise --amount",
            staking.asset.fmt(amount),
            staking.asset.fmt(staking.config.min_stake),
            staking.on()
        );
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.optIn(lane, amount), "optIn", &staking.conn.info).await?;
    lane_change(&ctx, &staking, &state, lane, Some(staking.asset.fmt(amount)), &receipt).await
}

pub async fn opt_out(args: &OptOutArgs) -> Result<LaneChange> {
    let OnLane { ctx, staking, signer, lane, state } = open_lane(&args.chain, &args.key, &args.lane).await?;
    let operator = signer.address();
    let allocated =
        staking.sm().allocation(operator, lane).call().await.map_err(|e| staking.conn.read_err("allocation", e))?;
    if allocated.is_zero() {
        bail!("{operator} is not opted in to lane {} on {}: nothing to opt out of", labelled(&ctx, lane), staking.on());
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.optOut(lane), "optOut", &staking.conn.info).await?;
    lane_change(&ctx, &staking, &state, lane, None, &receipt).await
}

async fn lane_change(
    ctx: &Context,
    staking: &Staking,
    state: &ZeroBridge::Lane,
    lane: B256,
    allocated: Option<String>,
    receipt: &TransactionReceipt,
) -> Result<LaneChange> {
    let next = if state.status == PENDING {
        NextSnapshot::Pending
    } else {
        let now = chain_now(&staking.conn).await?;
        let epoch = staking.current_epoch(now) + 1;
        NextSnapshot::Epoch { epoch, starts: staking.epoch_start(epoch), now }
    };
    Ok(LaneChange {
        chain: staking.on().to_string(),
        lane,
        label: labelled(ctx, lane),
        allocated,
        tx: Tx::of(receipt),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signing_key_and_signer_must_agree() {
        let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).expect("key");
        assert_eq!(registering_signer(None, Some(&key)).expect("from the key"), Some(key.address()));
        assert_eq!(registering_signer(Some(key.address()), Some(&key)).expect("same"), Some(key.address()));
        assert_eq!(registering_signer(None, None).expect("nothing"), None);
        let other = Address::repeat_byte(9);
        let err = registering_signer(Some(other), Some(&key)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("is not the address of the signing key"), "{err}");
        // The command-line half of this test (--signer-keystore and --signer-key-env exclude each
        // other) is in zb-cli's stake module, with the clap tree.
    }
}
