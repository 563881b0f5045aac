//! `zerobridge audit verify`.

use std::collections::BTreeMap;

use alloy::primitives::B256;
use eyre::{Result, bail, eyre};
use serde_json::{Map, Value};

use super::chains::{Coverage, Target, block_hash, check_distinct, manager_of, read_records};
use super::decode::Decoder;
use super::hash::{canonical_json, check_chain};
use super::{FORMAT, UNKNOWN_EVENT, VerifyArgs};

/// (chain id, block, log index) of an event line.
type Position = (u64, u64, u64);

fn position(number: usize, line: &Map<String, Value>) -> Result<Position> {
    let get = |key: &str| {
        line.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| eyre!("line {number}: no \"{key}\" number: not an event line of `zerobridge audit export`"))
    };
    Ok((get("chainId")?, get("block")?, get("logIndex")?))
}

/// The record an event line states: the line without `seq`, `prev` and `hash`.
fn content(line: &Map<String, Value>) -> Value {
    let mut record = line.clone();
    for key in ["seq", "prev", "hash"] {
        record.remove(key);
    }
    Value::Object(record)
}

/// The first place where `file` and `chain` differ: (path, file's value, chain's value).
fn first_difference(file: &Value, chain: &Value, path: &str) -> Option<(String, String, String)> {
    let join = |key: &str| {
        if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
    };
    match (file, chain) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|key| match (a.get(key), b.get(key)) {
                (Some(x), Some(y)) => first_difference(x, y, &join(key)),
                (Some(x), None) => Some((join(key), shown(x), "absent".into())),
                (None, Some(y)) => Some((join(key), "absent".into(), shown(y))),
                (None, None) => None,
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| first_difference(x, y, &join(&i.to_string()))).or_else(
                || {
                    (a.len() != b.len())
                        .then(|| (path.to_string(), format!("{} items", a.len()), format!("{} items", b.len())))
                },
            )
        }
        _ => (file != chain).then(|| (path.to_string(), shown(file), shown(chain))),
    }
}

/// A JSON value for a one-line message, cut to a readable length.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => canonical_json(other),
    };
    if text.chars().count() > 90 { format!("{}...", text.chars().take(87).collect::<String>()) } else { text }
}

/// A verified audit log: its size and the chains it matches.
#[derive(Debug, Clone)]
pub struct AuditVerified {
    pub lines: usize,
    pub events: usize,
    pub transfers: usize,
    pub chains: Vec<String>,
    /// The last line's hash.
    pub head: String,
}

/// `zerobridge audit verify`.
pub async fn verify(args: &VerifyArgs) -> Result<AuditVerified> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| eyre!("cannot read the audit log {}: {e}", args.file.display()))?;
    // 1. The hash chain, without any chain access.
    let lines = check_chain(&text)?;
    let head = lines.last().and_then(|(_, l)| l.get("hash")).and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(expected) = &args.head {
        let expected: B256 = expected
            .trim()
            .parse()
            .map_err(|_| eyre!("--head '{expected}' is not a hash: write it as 0x followed by 64 hex digits"))?;
        if head.parse::<B256>().ok() != Some(expected) {
            bail!(
                "the log ends at hash {head}, not at the expected head {expected}: lines were cut or added at the end, \
                 or this is another export"
            );
        }
    }
    let ((header_number, header_line), events) = match lines.split_first() {
        Some((first, rest)) => (first, rest),
        None => bail!("the audit log is empty"),
    };
    if header_line.get("kind").and_then(Value::as_str) != Some("header")
        || header_line.get("format").and_then(Value::as_str) != Some(FORMAT)
    {
        bail!("line {header_number}: not a {FORMAT} header: this is not a log written by `zerobridge audit export`");
    }
    let coverage: Vec<Coverage> = serde_json::from_value(header_line.get("chains").cloned().unwrap_or(Value::Null))
        .map_err(|e| eyre!("line {header_number}: the header's \"chains\" is not valid ({e})"))?;
    if coverage.windows(2).any(|w| w[0].chain_id >= w[1].chain_id) {
        bail!("line {header_number}: the header's chains are not in ascending chain id order, or repeat one");
    }

    // Event lines: in (chain id, block, log index) order, each on a covered chain and block.
    let mut stated: Vec<(usize, Position, &Map<String, Value>)> = Vec::with_capacity(events.len());
    for (number, line) in events {
        let at = position(*number, line)?;
        if let Some((_, before, _)) = stated.last()
            && *before >= at
        {
            bail!("line {number}: out of order: lines must be sorted by chain id, block and log index");
        }
        stated.push((*number, at, line));
    }

    // 2. Every covered range, read again from the chain.
    let target = Target::load(args.network.as_deref())?;
    let decoder = Decoder::new();
    let mut truth: Vec<(Position, Map<String, Value>)> = Vec::new();
    let mut ranges: BTreeMap<u64, (String, u64, u64)> = BTreeMap::new();
    for scope in &coverage {
        let chain = target.ctx.chain_by_id(scope.chain_id).ok_or_else(|| {
            eyre!(
                "the log covers chain '{}' (chain id {}), which the network does not configure: verify with the \
                 network file the log was exported from",
                scope.chain,
                scope.chain_id
            )
        })?;
        check_distinct(scope)?;
        let provider = target.connect(chain).await?;
        let manager = manager_of(&provider, chain).await?;
        for (what, in_log, configured) in [
            ("bridge", scope.bridge, chain.bridge),
            ("registry", scope.registry, chain.registry),
            ("manager", scope.manager, manager),
        ] {
            if in_log != configured {
                bail!(
                    "line {header_number}: the log covers {what} {in_log} on {}, but the network's {what} there is \
                     {configured}: the header was altered, or verify with the network file the log was exported from",
                    scope.chain
                );
            }
        }
        ranges.insert(scope.chain_id, (scope.chain.clone(), scope.from_block, scope.to_block));
        let Some(expected_hash) = scope.to_block_hash else {
            if scope.to_block >= scope.from_block {
                bail!("line {header_number}: {} has blocks but no toBlockHash: the header was altered", scope.blocks());
            }
            continue;
        };
        let actual = block_hash(&provider, &scope.chain, scope.to_block).await?;
        if actual != expected_hash {
            bail!(
                "line {header_number}: block {} of {} is {expected_hash} in the log but {actual} on chain: the chain \
                 reorganised past the export, or this is another chain",
                scope.to_block,
                scope.chain
            );
        }
        for record in read_records(&provider, scope, &decoder).await? {
            let at = (
                scope.chain_id,
                record.get("block").and_then(Value::as_u64).unwrap_or_default(),
                record.get("logIndex").and_then(Value::as_u64).unwrap_or_default(),
            );
            truth.push((at, record));
        }
    }
    truth.sort_by_key(|(at, _)| *at);

    // Merge the two ordered lists: equal positions must be equal records; anything on one side
    // only is fabricated (file) or missing (chain).
    let describe = |at: &Position| {
        let name = ranges.get(&at.0).map_or_else(|| format!("chain id {}", at.0), |r| r.0.clone());
        format!("{name} block {} log index {}", at.1, at.2)
    };
    let mut file_iter = stated.iter().peekable();
    let mut chain_iter = truth.iter().peekable();
    loop {
        let file = file_iter.peek().copied();
        let chain = chain_iter.peek().copied();
        let missing = match (file, chain) {
            (None, None) => break,
            (Some((number, at, line)), Some((chain_at, record))) if at == chain_at => {
                if let Some((path, in_file, on_chain)) =
                    first_difference(&content(line), &Value::Object(record.clone()), "")
                {
                    bail!(
                        "line {number}: {path} is {in_file} in the log but {on_chain} on chain ({}): the line was \
                         altered",
                        describe(at)
                    );
                }
                file_iter.next();
                chain_iter.next();
                continue;
            }
            (Some((_, at, _)), Some((chain_at, _))) => chain_at < at,
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        if missing && let Some((chain_at, record)) = chain {
            let event = record.get("event").and_then(Value::as_str).unwrap_or(UNKNOWN_EVENT);
            let tx = record.get("tx").and_then(Value::as_str).unwrap_or_default();
            let place = match file {
                Some((number, ..)) => format!("before line {number}"),
                None => "after the last line".to_string(),
            };
            bail!(
                "missing event {place}: {} ({event}, tx {tx}) is on chain in the covered blocks but not in the log: \
                 lines were deleted",
                describe(chain_at)
            );
        }
        // A line before the next chain record (or after the last one): the chain has no such log.
        if let Some((number, at, _)) = file {
            let covered = match ranges.get(&at.0) {
                Some((name, from, to)) if (*from..=*to).contains(&at.1) => {
                    format!(
                        "the chain has no bridge, registry or manager event there ({name} blocks {from}..={to} covered)"
                    )
                }
                Some((name, from, to)) => {
                    format!("outside the covered blocks {from}..={to} of {name}")
                }
                None => "on a chain the header does not cover".to_string(),
            };
            bail!("line {number}: no such event: {}: {covered}: the line was fabricated", describe(at));
        }
        break;
    }

    let transfers = stated.iter().filter(|(_, _, l)| l.get("kind").and_then(Value::as_str) == Some("transfer")).count();
    Ok(AuditVerified {
        lines: lines.len(),
        events: stated.len(),
        transfers,
        chains: coverage.iter().map(|c| c.chain.clone()).collect(),
        head,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn differences_name_the_field() {
        let file = json!({"a": 1, "fields": {"message": {"amount": "5"}}, "list": [1, 2]});
        let chain = json!({"a": 1, "fields": {"message": {"amount": "6"}}, "list": [1, 2]});
        assert_eq!(first_difference(&file, &chain, ""), Some(("fields.message.amount".into(), "5".into(), "6".into())));
        let chain = json!({"a": 1, "fields": {"message": {"amount": "5"}}, "list": [1, 2], "from": "0xA"});
        assert_eq!(first_difference(&file, &chain, ""), Some(("from".into(), "absent".into(), "0xA".into())));
        assert_eq!(first_difference(&file, &file, ""), None);
    }
}
