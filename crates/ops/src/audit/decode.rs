//! Decoding the covered contracts' logs into an event name and named fields.

use std::collections::{BTreeMap, HashMap};

use alloy::dyn_abi::{DynSolValue, EventExt};
use alloy::json_abi::{Event, Param};
use alloy::primitives::B256;
use serde_json::{Map, Value};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::manager::AccessManager;
use zb_contracts::registry::RouteRegistry;

use super::TRANSFER_EVENTS;

/// Which of a chain's contracts emitted a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    Bridge,
    Registry,
    Manager,
}

impl Contract {
    pub fn name(self) -> &'static str {
        match self {
            Contract::Bridge => "bridge",
            Contract::Registry => "registry",
            Contract::Manager => "manager",
        }
    }
}

/// "transfer" or "privileged" for an event of `contract`.
pub fn classify(contract: Contract, event: &str) -> &'static str {
    if contract == Contract::Bridge && TRANSFER_EVENTS.contains(&event) { "transfer" } else { "privileged" }
}

/// Decodes logs with the events of the contract bindings (ZeroBridge, RouteRegistry,
/// AccessManager), by topic 0.
pub struct Decoder {
    bridge: HashMap<B256, Event>,
    registry: HashMap<B256, Event>,
    manager: HashMap<B256, Event>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub fn new() -> Decoder {
        fn index(events: BTreeMap<String, Vec<Event>>) -> HashMap<B256, Event> {
            events.into_values().flatten().filter(|e| !e.anonymous).map(|e| (e.selector(), e)).collect()
        }
        Decoder {
            bridge: index(ZeroBridge::abi::events()),
            registry: index(RouteRegistry::abi::events()),
            manager: index(AccessManager::abi::events()),
        }
    }

    /// The event's name and its named fields (numbers as decimal strings, addresses checksummed,
    /// bytes as 0x hex, structs as objects), or None when no event of `contract` decodes it.
    pub fn decode(&self, contract: Contract, topics: &[B256], data: &[u8]) -> Option<(String, Map<String, Value>)> {
        let table = match contract {
            Contract::Bridge => &self.bridge,
            Contract::Registry => &self.registry,
            Contract::Manager => &self.manager,
        };
        let event = table.get(topics.first()?)?;
        let decoded = event.decode_log_parts(topics.iter().copied(), data).ok()?;
        let mut indexed = decoded.indexed.into_iter();
        let mut body = decoded.body.into_iter();
        let mut fields = Map::new();
        for (i, input) in event.inputs.iter().enumerate() {
            let value = if input.indexed { indexed.next()? } else { body.next()? };
            let name = if input.name.is_empty() { format!("arg{i}") } else { input.name.clone() };
            fields.insert(name, render_value(&value, &input.components));
        }
        Some((event.name.clone(), fields))
    }
}

/// A decoded ABI value as JSON; `components` names a tuple's members.
fn render_value(value: &DynSolValue, components: &[Param]) -> Value {
    match value {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => Value::String(i.to_string()),
        DynSolValue::Uint(u, _) => Value::String(u.to_string()),
        DynSolValue::FixedBytes(word, size) => {
            Value::String(alloy::hex::encode_prefixed(word.get(..*size).unwrap_or(word.as_slice())))
        }
        DynSolValue::Address(a) => Value::String(a.to_string()),
        DynSolValue::Function(f) => Value::String(alloy::hex::encode_prefixed(f.as_slice())),
        DynSolValue::Bytes(b) => Value::String(alloy::hex::encode_prefixed(b)),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            Value::Array(items.iter().map(|item| render_value(item, components)).collect())
        }
        DynSolValue::Tuple(items) => {
            let named = components.len() == items.len() && components.iter().all(|c| !c.name.is_empty());
            if named {
                Value::Object(
                    components
                        .iter()
                        .zip(items)
                        .map(|(c, item)| (c.name.clone(), render_value(item, &c.components)))
                        .collect(),
                )
            } else {
                Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| render_value(item, components.get(i).map_or(&[], |c| &c.components)))
                        .collect(),
                )
            }
        }
        DynSolValue::CustomStruct { prop_names, tuple, .. } => Value::Object(
            prop_names
                .iter()
                .zip(tuple)
                .map(|(name, item)| {
                    let inner = components.iter().find(|c| &c.name == name).map_or(&[][..], |c| &c.components);
                    (name.clone(), render_value(item, inner))
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{U256, address, b256};
    use alloy::sol_types::SolEvent;
    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_bridge_and_manager_events_by_name() {
        let decoder = Decoder::new();
        let lane = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
        let recipient = address!("0x00000000000000000000000000000000000000aa");
        let executed = ZeroBridge::MessageExecuted { lane, sequence: 3, recipient, amount: U256::from(1234u64) };
        let data = executed.encode_log_data();
        let decoded = decoder.decode(Contract::Bridge, data.topics(), &data.data);
        let (event, fields) = decoded.unwrap_or_default();
        assert_eq!(event, "MessageExecuted");
        assert_eq!(classify(Contract::Bridge, &event), "transfer");
        assert_eq!(
            Value::Object(fields),
            json!({"lane": lane.to_string(), "sequence": "3", "recipient": recipient.to_string(), "amount": "1234"})
        );

        let sent = ZeroBridge::MessageSent {
            lane,
            sequence: 1,
            message: zb_protocol::Message {
                sequence: 1,
                kind: 0,
                sender: recipient,
                recipient,
                amount: U256::from(99u64),
                data: B256::ZERO,
                sentAt: 1_700_000_000,
                deadline: u64::MAX,
            },
            accumulator: lane,
        };
        let data = sent.encode_log_data();
        let (event, fields) = decoder.decode(Contract::Bridge, data.topics(), &data.data).unwrap_or_default();
        assert_eq!(event, "MessageSent");
        assert_eq!(fields.get("message").and_then(|m| m.get("amount")), Some(&Value::from("99")));

        let granted = AccessManager::RoleGranted {
            roleId: 1,
            account: recipient,
            delay: 0,
            since: alloy::primitives::aliases::U48::from(5u64),
            newMember: true,
        };
        let data = granted.encode_log_data();
        let (event, fields) = decoder.decode(Contract::Manager, data.topics(), &data.data).unwrap_or_default();
        assert_eq!(event, "RoleGranted");
        assert_eq!(classify(Contract::Manager, &event), "privileged");
        assert_eq!(fields.get("newMember"), Some(&Value::Bool(true)));
        assert_eq!(fields.get("roleId"), Some(&Value::from("1")));

        // A bridge event is not decoded as a manager event, nor is garbage.
        let paused = ZeroBridge::Paused {}.encode_log_data();
        assert!(decoder.decode(Contract::Manager, paused.topics(), &paused.data).is_none());
        assert_eq!(decoder.decode(Contract::Bridge, paused.topics(), &paused.data).map(|d| d.0), Some("Paused".into()));
        assert!(decoder.decode(Contract::Bridge, &[B256::ZERO], &[]).is_none());
    }
}
