//! A compromised quorum at work: validators whose keys the test holds sign a checkpoint the
//! source never had, and an attacker delivers it on the destination (it executes: the quorum is
//! valid there). What the slashing and watchtower scenarios defend against.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::{Accumulator, Checkpoint, Message, MessageKind, PackedSignature, ValidatorSet, sign_checkpoint};

use crate::devnet::{Devnet, Direction, validator_key};

/// Anvil's account 4: the attacker who relays forgeries.
pub const ATTACKER_KEY: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";

pub struct Forged {
    pub checkpoint: Checkpoint,
    /// The transfer the source never sent.
    pub message: Message,
    pub attacker: Address,
    pub receipt: TransactionReceipt,
}

/// Validators `signers` sign a checkpoint that appends one forged transfer of `amount` (to the
/// attacker) after what the destination accepted so far, and the attacker delivers it (an error
/// if the destination refuses it, e.g. a paused lane).
pub async fn forge_delivery(devnet: &Devnet, direction: Direction, signers: &[usize], amount: U256) -> Result<Forged> {
    let lane = devnet.lane(direction);
    let manifest = devnet.manifest();
    let (source, destination) = match direction {
        Direction::ToRemote => (&manifest.home, &manifest.remote),
        Direction::ToHome => (&manifest.remote, &manifest.home),
    };
    let set_bytes = match direction {
        Direction::ToRemote => manifest.route.validator_set.clone(),
        Direction::ToHome => manifest.route.validator_set_to_home.clone(),
    };
    let attacker_key: PrivateKeySigner = ATTACKER_KEY.parse()?;
    let attacker = attacker_key.address();
    let url = devnet.chain(direction.destination()).http().parse()?;
    let wallet = ProviderBuilder::new().wallet(EthereumWallet::from(attacker_key)).connect_http(url).erased();

    // Continue the destination's lane, whatever it accepted so far, with a transfer the source
    // never sent.
    let head = devnet.bridge(direction.destination()).getLane(lane).call().await?;
    let delivered = head.sequence;
    let mut accumulator = Accumulator { lane, sequence: delivered, value: head.accumulator };
    let sent_at = devnet.sent_events(lane).await?.last().map_or(0, |e| e.message.sentAt);
    let message = Message {
        sequence: delivered + 1,
        kind: MessageKind::Transfer as u8,
        sender: attacker,
        recipient: attacker,
        amount,
        data: B256::repeat_byte(0xf0),
        sentAt: sent_at,
        deadline: u64::MAX,
    };
    let forged_accumulator = accumulator.push(&message)?;
    let checkpoint = Checkpoint { lane, sequence: message.sequence, accumulator: forged_accumulator };
    let set = ValidatorSet::decode(&set_bytes)?;
    let mut signatures = Vec::new();
    for &i in signers {
        let key = PrivateKeySigner::from_bytes(&validator_key(i))?;
        let index = set.index_of(key.address()).ok_or_else(|| eyre!("validator {i} is not in the set"))?;
        let signature = sign_checkpoint(&key, &checkpoint, source.chain_id, source.bridge)?;
        signatures.push(PackedSignature { member_index: index, signature });
    }
    signatures.sort_by_key(|s| s.member_index);
    let bridge = ZeroBridge::new(destination.bridge, wallet);
    // A fixed gas limit: the estimate is made against the pending block, and timestamp-dependent
    // writes (the token bucket) can cost more in the block that includes the transaction.
    let delivery = bridge
        .deliver(checkpoint.clone(), set_bytes, PackedSignature::pack(&signatures).into(), vec![message.clone()])
        .gas(1_000_000);
    if let Err(e) = delivery.call().await {
        bail!("the forged delivery does not simulate: {e}");
    }
    let receipt = delivery.send().await?.get_receipt().await?;
    if !receipt.status() {
        bail!("the forged delivery reverted on chain: {receipt:?}");
    }
    Ok(Forged { checkpoint, message, attacker, receipt })
}
