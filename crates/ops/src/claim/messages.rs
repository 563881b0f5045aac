//! The lane's messages and validator sets, as the bridges logged them.

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::{Message, ValidatorSet};

use super::read_err;
use crate::network::Leg;
use zb_chain::scan_logs;

/// First window when searching the source backwards for a lane's messages (doubles each step).
const SEARCH_WINDOW: u64 = 2_000;

/// Messages `from..=to` of `leg`'s lane as its source bridge logged them, with the accumulator
/// logged after each, searching backwards from block `upper`.
pub(super) async fn sent_messages(
    provider: &DynProvider,
    leg: &Leg,
    from: u64,
    to: u64,
    upper: u64,
) -> Result<Vec<(Message, B256)>> {
    let filter = Filter::new()
        .address(leg.source.bridge)
        .event_signature(ZeroBridge::MessageSent::SIGNATURE_HASH)
        .topic1(leg.lane);
    let mut found: BTreeMap<u64, (Message, B256)> = BTreeMap::new();
    let (mut hi, mut window) = (upper, SEARCH_WINDOW);
    loop {
        let lo = hi.saturating_sub(window - 1);
        for log in scan_logs(provider, &filter, lo, hi).await? {
            if let Ok(event) = ZeroBridge::MessageSent::decode_log(&log.inner) {
                let sequence = event.data.message.sequence;
                if (from..=to).contains(&sequence) {
                    found.insert(sequence, (event.data.message.clone(), event.data.accumulator));
                }
            }
        }
        if found.contains_key(&from) || lo == 0 {
            break;
        }
        hi = lo - 1;
        window = window.saturating_mul(2);
    }
    let messages: Vec<_> = found.into_values().collect();
    let complete = messages.len() as u64 == to + 1 - from
        && messages.iter().zip(from..).all(|((m, _), expected)| m.sequence == expected);
    if !complete {
        bail!(
            "the RPC of '{}' does not return messages {from} to {to} of lane {:#x}: use a fully synced (archive) node",
            leg.source.name,
            leg.lane
        );
    }
    Ok(messages)
}

/// Every validator set of `leg`'s lane the bridges announced: installed on the destination,
/// queued on the source (set updates), and the route's fallback sets on the destination.
pub(crate) async fn known_sets(
    leg: &Leg,
    source: &DynProvider,
    destination: &DynProvider,
) -> Result<HashMap<B256, Bytes>> {
    let mut sets = HashMap::new();
    let dest_head = destination.get_block_number().await.map_err(|e| read_err(&leg.destination, &e))?;
    let (bridge, lane) = (leg.destination.bridge, leg.lane);
    for e in events::<ZeroBridge::ValidatorSetInstalled>(destination, bridge, lane, dest_head).await? {
        sets.insert(e.setHash, e.validatorSet);
    }
    let route = leg.route.route_id;
    for e in events::<ZeroBridge::FallbackSetInstalled>(destination, bridge, route, dest_head).await? {
        sets.insert(e.setHash, e.validatorSet);
    }
    let source_head = source.get_block_number().await.map_err(|e| read_err(&leg.source, &e))?;
    for e in events::<ZeroBridge::ValidatorSetUpdateQueued>(source, leg.source.bridge, lane, source_head).await? {
        sets.insert(alloy::primitives::keccak256(&e.validatorSet), e.validatorSet);
    }
    Ok(sets)
}

/// The `E` events `bridge` logged with first topic `topic` in blocks `0..=head`.
async fn events<E: SolEvent>(provider: &DynProvider, bridge: Address, topic: B256, head: u64) -> Result<Vec<E>> {
    let filter = Filter::new().address(bridge).event_signature(E::SIGNATURE_HASH).topic1(topic);
    let logs = scan_logs(provider, &filter, 0, head).await?;
    Ok(logs.iter().filter_map(|log| E::decode_log(&log.inner).ok()).map(|e| e.data).collect())
}

pub(crate) fn set_for(
    sets: &HashMap<B256, Bytes>,
    hash: B256,
    which: &str,
    chain: &str,
) -> Result<(ValidatorSet, Bytes)> {
    let bytes = sets.get(&hash).ok_or_else(|| {
        eyre!("the {which} set {hash} that '{chain}' checks was announced in no bridge event the RPCs return: use archive nodes")
    })?;
    let set =
        ValidatorSet::decode(bytes).map_err(|e| eyre!("the {which} set {hash} on '{chain}' does not decode: {e}"))?;
    Ok((set, bytes.clone()))
}
