//! How the workflows write amounts, times and errors for people, and read amounts, addresses and
//! hashes from them.

use alloy::primitives::{Address, TxHash, U256};
use eyre::{Result, bail, eyre};

/// An error (often alloy's, nested over several lines) on one line.
pub fn one_line(error: impl std::fmt::Display) -> String {
    error.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn parse_address(text: &str, what: &str) -> Result<Address> {
    text.trim()
        .parse()
        .map_err(|_| eyre!("{what} '{text}' is not an address: write it as 0x followed by 40 hex digits"))
}

pub fn parse_tx_hash(text: &str) -> Result<TxHash> {
    text.trim()
        .parse()
        .map_err(|_| eyre!("'{text}' is not a transaction hash: write it as 0x followed by 64 hex digits"))
}

/// Parses a decimal amount ("1.5") into token units with `decimals` places.
pub fn parse_amount(text: &str, decimals: u8) -> Result<U256> {
    let text = text.trim();
    if text.starts_with('-') {
        bail!("amount {text} is negative: send a positive amount");
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() {
        bail!("amount '{text}' is not a number: write it like 1.5");
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
        bail!("amount '{text}' is not a decimal number: write it like 1.5");
    }
    if fraction.len() > usize::from(decimals) {
        bail!("amount {text} has {} decimals but the token has {decimals}: round it to {decimals}", fraction.len());
    }
    let digits = format!("{whole}{fraction:0<width$}", width = usize::from(decimals));
    let units = U256::from_str_radix(if digits.is_empty() { "0" } else { &digits }, 10)
        .map_err(|_| eyre!("amount {text} is too large"))?;
    if units.is_zero() {
        bail!("amount {text} is zero: send a positive amount");
    }
    Ok(units)
}

/// Formats token units as a decimal string with `decimals` places, trailing zeros trimmed.
pub fn format_amount(units: U256, decimals: u8) -> String {
    let digits = units.to_string();
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") }
}

/// Seconds since the Unix epoch on this machine (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// "45 s", "12 min", "2 h 5 min".
pub fn format_wait(seconds: u64) -> String {
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let minutes = seconds.div_ceil(60);
    if minutes < 60 {
        return format!("{minutes} min");
    }
    let (hours, rest) = (minutes / 60, minutes % 60);
    if rest == 0 { format!("{hours} h") } else { format!("{hours} h {rest} min") }
}

/// A unix timestamp as "2026-01-31 23:59:59 UTC".
pub fn format_utc(timestamp: u64) -> String {
    let days = timestamp / 86_400;
    let seconds = timestamp % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", seconds / 3_600, seconds % 3_600 / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_with_token_decimals() {
        assert_eq!(parse_amount("1.5", 18).ok(), Some(U256::from(15u64) * U256::from(10u64).pow(U256::from(17u64))));
        assert_eq!(parse_amount("2", 6).ok(), Some(U256::from(2_000_000u64)));
        assert_eq!(parse_amount(".25", 2).ok(), Some(U256::from(25u64)));
        for bad in ["-1", "1.2.3", "abc", "", "0", "0.000", "1e18"] {
            assert!(parse_amount(bad, 18).is_err(), "{bad} must be refused");
        }
        let err = parse_amount("1.1234567", 6).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("has 7 decimals but the token has 6"), "{err}");
    }

    #[test]
    fn amounts_format_back() {
        assert_eq!(format_amount(U256::from(1_500_000u64), 6), "1.5");
        assert_eq!(format_amount(U256::from(5u64), 3), "0.005");
        assert_eq!(format_amount(U256::from(7u64), 0), "7");
        assert_eq!(format_amount(U256::ZERO, 18), "0");
    }

    #[test]
    fn waits_read_naturally() {
        assert_eq!(format_wait(0), "0 s");
        assert_eq!(format_wait(59), "59 s");
        assert_eq!(format_wait(60), "1 min");
        assert_eq!(format_wait(61), "2 min");
        assert_eq!(format_wait(3600), "1 h");
        assert_eq!(format_wait(3601), "1 h 1 min");
        assert_eq!(format_wait(7500), "2 h 5 min");
    }

    #[test]
    fn timestamps_read_as_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_utc(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }
}
