//! The log's hash chain: canonical JSON, line hashes, sealing and checking the links.

use alloy::primitives::{B256, keccak256};
use eyre::{Result, bail, eyre};
use serde_json::{Map, Value};

use super::GENESIS_PREV;

/// Canonical JSON: object keys sorted (by their UTF-8 bytes), no whitespace, serde_json's
/// escaping and number formatting. Independent of serde_json's map ordering feature.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// keccak256 of the line's canonical JSON without its `hash` key.
pub fn line_hash(line: &Map<String, Value>) -> B256 {
    let mut content = line.clone();
    content.remove("hash");
    keccak256(canonical_json(&Value::Object(content)).as_bytes())
}

/// Numbers the lines (`seq` 0, 1, ...), links each to the previous one (`prev`) and sets every
/// `hash`. Export does this; so can anyone rewriting a log, which is why `verify` also compares
/// every line with the chain.
pub fn seal(lines: &mut [Map<String, Value>]) {
    let mut prev = GENESIS_PREV;
    for (seq, line) in lines.iter_mut().enumerate() {
        line.insert("seq".into(), Value::from(seq as u64));
        line.insert("prev".into(), Value::String(prev.to_string()));
        line.remove("hash");
        let hash = line_hash(line);
        line.insert("hash".into(), Value::String(hash.to_string()));
        prev = hash;
    }
}

/// The log file's text: one canonical JSON line per entry.
pub fn render_lines(lines: &[Map<String, Value>]) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&canonical_json(&Value::Object(line.clone())));
        out.push('\n');
    }
    out
}

/// Parses a log and checks its hash chain: every line's `hash` matches its content, `prev`
/// links to the line before (zero for the first), `seq` counts from 0. Returns the lines with
/// their 1-based line numbers in the file (blank lines are skipped).
pub fn check_chain(text: &str) -> Result<Vec<(usize, Map<String, Value>)>> {
    let mut lines = Vec::new();
    let mut prev = GENESIS_PREV;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(raw).map_err(|e| eyre!("line {number}: not valid JSON ({e}): the file is corrupt"))?;
        let Value::Object(line) = value else {
            bail!("line {number}: not a JSON object: the file is corrupt");
        };
        let stated = line
            .get("hash")
            .and_then(Value::as_str)
            .and_then(|h| h.parse::<B256>().ok())
            .ok_or_else(|| eyre!("line {number}: no \"hash\" (0x and 64 hex digits): the file is corrupt"))?;
        if line_hash(&line) != stated {
            bail!("line {number}: hash does not match its content (tampered)");
        }
        let linked = line.get("prev").and_then(Value::as_str).and_then(|h| h.parse::<B256>().ok());
        if linked != Some(prev) {
            bail!(
                "line {number}: broken chain: its prev is {}, the previous line's hash is {prev} (a line was removed, \
                 inserted or rewritten)",
                line.get("prev").map_or_else(|| "absent".to_string(), Value::to_string)
            );
        }
        let expected_seq = lines.len() as u64;
        let seq = line.get("seq").and_then(Value::as_u64);
        if seq != Some(expected_seq) {
            bail!(
                "line {number}: broken chain: seq is {}, expected {expected_seq}",
                line.get("seq").map_or_else(|| "absent".to_string(), Value::to_string)
            );
        }
        // Exactly the canonical form: no duplicate keys (the parser keeps the last one, a reader
        // may see the first), no padding.
        if canonical_json(&Value::Object(line.clone())) != raw.trim_end_matches('\r') {
            bail!(
                "line {number}: not in canonical form (sorted keys, no whitespace, no duplicate keys): it was edited"
            );
        }
        prev = stated;
        lines.push((number, line));
    }
    if lines.is_empty() {
        bail!("the audit log is empty: expected a header line and events, as `zerobridge audit export` writes");
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::audit::FORMAT;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn sample() -> Vec<Map<String, Value>> {
        let mut lines = vec![
            obj(json!({"kind": "header", "format": FORMAT, "chains": []})),
            obj(
                json!({"chainId": 1, "block": 7, "logIndex": 0, "event": "Paused", "fields": {}, "kind": "privileged"}),
            ),
            obj(json!({"chainId": 1, "block": 9, "logIndex": 2, "event": "MessageSent",
                "fields": {"message": {"amount": "5", "recipient": "0xAb"}}, "kind": "transfer"})),
        ];
        seal(&mut lines);
        lines
    }

    #[test]
    fn canonical_json_sorts_keys_without_whitespace() {
        let value = json!({"b": [3, {"z": true, "a": null}], "a": "x\"y", "é": 1, "A": {"k": "v"}});
        assert_eq!(canonical_json(&value), r#"{"A":{"k":"v"},"a":"x\"y","b":[3,{"a":null,"z":true}],"é":1}"#);
        // Key order of the input does not matter.
        let reordered: Value = serde_json::from_str(r#"{"é":1,"b":[3,{"a":null,"z":true}],"A":{"k":"v"},"a":"x\"y"}"#)
            .unwrap_or(Value::Null);
        assert_eq!(canonical_json(&reordered), canonical_json(&value));
    }

    #[test]
    fn line_hash_covers_everything_but_hash() {
        let line = obj(json!({"seq": 1, "prev": GENESIS_PREV.to_string(), "event": "Paused"}));
        let expected = keccak256(format!(r#"{{"event":"Paused","prev":"{GENESIS_PREV}","seq":1}}"#));
        assert_eq!(line_hash(&line), expected);
        let mut with_hash = line.clone();
        with_hash.insert("hash".into(), Value::from("0x1234"));
        assert_eq!(line_hash(&with_hash), expected, "the hash key itself is not hashed");
    }

    #[test]
    fn seal_links_every_line_to_the_previous() {
        let lines = sample();
        assert_eq!(lines[0]["prev"], Value::from(GENESIS_PREV.to_string()));
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["seq"], Value::from(i as u64));
            assert_eq!(line["hash"], Value::from(line_hash(line).to_string()));
            if i > 0 {
                assert_eq!(line["prev"], lines[i - 1]["hash"]);
            }
        }
        let checked = check_chain(&render_lines(&lines)).map_err(|e| e.to_string());
        assert_eq!(checked.map(|l| l.len()), Ok(3));
    }

    #[test]
    fn check_chain_names_the_tampered_line() {
        let lines = sample();
        let text = render_lines(&lines);
        // An edited field without a new hash: the edited line (file line 3).
        let edited = text.replace(r#""amount":"5""#, r#""amount":"500""#);
        assert_ne!(edited, text);
        let err = check_chain(&edited).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err, "line 3: hash does not match its content (tampered)");

        // The edited line re-hashed alone: the next line's link breaks.
        let mut rehashed = lines.clone();
        if let Some(Value::Object(fields)) = rehashed[1].get_mut("fields") {
            fields.insert("extra".into(), Value::from("x"));
        }
        let hash = line_hash(&rehashed[1]);
        rehashed[1].insert("hash".into(), Value::from(hash.to_string()));
        let err = check_chain(&render_lines(&rehashed)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 3: broken chain"), "{err}");

        // A line removed: the next line's link breaks.
        let removed = [lines[0].clone(), lines[2].clone()];
        let err = check_chain(&render_lines(&removed)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 2: broken chain"), "{err}");

        // Removed and re-sealed: the chain holds (only the chain comparison can catch it).
        let mut resealed = vec![lines[0].clone(), lines[2].clone()];
        seal(&mut resealed);
        assert!(check_chain(&render_lines(&resealed)).is_ok());

        // A duplicate key whose last value is the original: hashes agree, the canonical form does not.
        let duplicated = text.replacen(r#""event":"MessageSent""#, r#""event":"Forged","event":"MessageSent""#, 1);
        assert_ne!(duplicated, text);
        let err = check_chain(&duplicated).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 3: not in canonical form"), "{err}");

        // Not JSON, and an empty file.
        let err = check_chain("{\"a\":1}\nnot json\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 1:"), "{err}");
        assert!(check_chain("\n").is_err());
    }
}
