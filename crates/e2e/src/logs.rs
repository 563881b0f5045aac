//! The agents' logs: JSON lines (`ZB_LOG_FORMAT=json`, tracing-subscriber's format:
//! `{"timestamp":..,"level":"INFO","fields":{"message":"..", ...},"target":".."}`).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use eyre::{Result, WrapErr};
use serde_json::Value;

/// The complete lines of `path` from byte `offset` on, each with the offset just after it. JSON
/// lines are parsed; others (a panic message, say) are returned as JSON strings.
pub fn read_lines_with_offsets(path: &Path, offset: u64) -> Result<Vec<(Value, u64)>> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).wrap_err_with(|| format!("opening {}", path.display())),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(len) = bytes[start..].iter().position(|b| *b == b'\n') {
        let end = start + len + 1;
        let text = String::from_utf8_lossy(&bytes[start..end - 1]);
        if !text.trim().is_empty() {
            let value = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.to_string()));
            out.push((value, offset + end as u64));
        }
        start = end;
    }
    Ok(out)
}

/// The complete lines of `path` from byte `offset` on (see [`read_lines_with_offsets`]), and the
/// offset after the last one.
pub fn read_lines_from(path: &Path, offset: u64) -> Result<(Vec<Value>, u64)> {
    let lines = read_lines_with_offsets(path, offset)?;
    let end = lines.last().map_or(offset, |(_, end)| *end);
    Ok((lines.into_iter().map(|(v, _)| v).collect(), end))
}

/// The size of `path` in bytes (0 if it does not exist): where "from now on" starts.
pub fn log_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// `fields.message` of a log line.
pub fn message(line: &Value) -> Option<&str> {
    line.get("fields")?.get("message")?.as_str()
}

/// `fields.<name>` of a log line.
pub fn field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line.get("fields")?.get(name)
}

/// `fields.<name>` as a string (strings as they are, numbers printed).
pub fn field_str(line: &Value, name: &str) -> Option<String> {
    match field(line, name)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `fields.<name>` as a u64 (a JSON number or a decimal string).
pub fn field_u64(line: &Value, name: &str) -> Option<u64> {
    match field(line, name)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Lines the harness itself wrote (agent starts and kills): `{"harness": "...", ...}`.
pub fn harness_event(line: &Value) -> Option<&str> {
    line.get("harness")?.as_str()
}
