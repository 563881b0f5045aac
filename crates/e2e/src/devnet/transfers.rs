//! Transfers: the holder's `send`s on either lane, and moving the chains' clocks.

use alloy::primitives::{Address, TxHash, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;

use super::{Chain, Devnet, Direction, RECEIPT_TIMEOUT, SEND_GAS, Sent, wait_receipt};

impl Devnet {
    // ---------------------------------------------------------------- sending

    fn wallet(&self, chain: Chain) -> &DynProvider {
        match chain {
            Chain::Home => &self.home_wallet,
            Chain::Remote => &self.remote_wallet,
        }
    }

    fn manual(&self, chain: Chain) -> bool {
        chain == Chain::Home && self.options().manual_mining_home
    }

    /// Sends `send(lane, recipient, amount)` from the holder without waiting for it to be mined.
    pub async fn submit_send(&self, direction: Direction, amount: U256, recipient: Address) -> Result<TxHash> {
        self.submit_send_until(direction, amount, recipient, 0).await
    }

    /// Like [`Devnet::submit_send`] with a deadline (unix seconds; 0: the route's default).
    pub async fn submit_send_until(
        &self,
        direction: Direction,
        amount: U256,
        recipient: Address,
        deadline: u64,
    ) -> Result<TxHash> {
        let source = direction.source();
        let provider = self.wallet(source).clone();
        let bridge = ZeroBridge::new(self.bridge_address(source), provider.clone());
        let _serial = self.send_lock.lock().await;
        // Explicit nonces: a cached nonce would be wrong after a reorg.
        let nonce = provider.get_transaction_count(self.holder()).pending().await?;
        let pending = bridge
            .send(self.lane(direction), recipient, amount, deadline)
            .nonce(nonce)
            .gas(SEND_GAS)
            .send()
            .await
            .map_err(|e| {
                let reason = e
                    .as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>()
                    .map_or_else(|| e.to_string(), |d| format!("{d:?}"));
                eyre!("send({direction:?}, {recipient}, {amount}) was refused: {reason}")
            })?;
        Ok(*pending.tx_hash())
    }

    /// Waits for a submitted send to be mined and reads its `MessageSent`.
    pub async fn confirm_send(&self, direction: Direction, tx_hash: TxHash, amount: U256) -> Result<Sent> {
        let source = direction.source();
        let receipt = wait_receipt(self.wallet(source), tx_hash, RECEIPT_TIMEOUT).await?;
        if !receipt.status() {
            bail!("send {tx_hash} ({direction:?}, amount {amount}) reverted");
        }
        let bridge = self.bridge_address(source);
        let event = receipt
            .logs()
            .iter()
            .filter(|l| l.inner.address == bridge)
            .find_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
            .ok_or_else(|| eyre!("send {tx_hash} emitted no MessageSent"))?;
        Ok(Sent {
            direction,
            lane: event.data.lane,
            sequence: event.data.sequence,
            amount,
            net: event.data.message.amount,
            message: event.data.message.clone(),
            accumulator: event.data.accumulator,
            tx_hash,
            block_number: receipt.block_number.ok_or_else(|| eyre!("receipt without block number"))?,
            block_hash: receipt.block_hash.ok_or_else(|| eyre!("receipt without block hash"))?,
        })
    }

    /// The holder sends `amount` over `direction` to `recipient` and waits until it is mined
    /// (on a manually mined chain, one block is mined for it).
    pub async fn send(&self, direction: Direction, amount: U256, recipient: Address) -> Result<Sent> {
        self.send_until(direction, amount, recipient, 0).await
    }

    /// The holder sends with a deadline (unix seconds) and waits until it is mined.
    pub async fn send_until(
        &self,
        direction: Direction,
        amount: U256,
        recipient: Address,
        deadline: u64,
    ) -> Result<Sent> {
        let tx = self.submit_send_until(direction, amount, recipient, deadline).await?;
        if self.manual(direction.source()) {
            self.chain(direction.source()).mine(1).await?;
        }
        self.confirm_send(direction, tx, amount).await
    }

    /// Moves both chains' clocks forward by `seconds`.
    pub async fn warp(&self, seconds: u64) -> Result<()> {
        self.home().increase_time(seconds).await?;
        self.remote().increase_time(seconds).await
    }

    /// Locks `amount` on the home chain for `recipient` on the remote chain.
    pub async fn send_to_remote(&self, amount: U256, recipient: Address) -> Result<Sent> {
        self.send(Direction::ToRemote, amount, recipient).await
    }

    /// Burns `amount` of wrapped tokens on the remote chain for `recipient` on the home chain.
    pub async fn send_to_home(&self, amount: U256, recipient: Address) -> Result<Sent> {
        self.send(Direction::ToHome, amount, recipient).await
    }

    /// Submits every send first, then waits for all of them (they share blocks).
    pub async fn send_many(&self, direction: Direction, amounts: &[U256], recipient: Address) -> Result<Vec<Sent>> {
        let mut hashes = Vec::with_capacity(amounts.len());
        for amount in amounts {
            hashes.push((self.submit_send(direction, *amount, recipient).await?, *amount));
        }
        if self.manual(direction.source()) {
            self.chain(direction.source()).mine(1).await?;
        }
        let mut sent = Vec::with_capacity(hashes.len());
        for (hash, amount) in hashes {
            sent.push(self.confirm_send(direction, hash, amount).await?);
        }
        Ok(sent)
    }
}
