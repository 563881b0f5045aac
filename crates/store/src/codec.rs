//! Column encodings: hashes, addresses and signatures as BLOBs of their exact byte length,
//! `u64` as INTEGER (up to `i64::MAX`), `u128` as decimal TEXT.

use alloy::primitives::{Address, B256, Signature};

use crate::StoreError;

/// A `u64` as an SQLite INTEGER. Values above `i64::MAX` are refused rather than wrapped, so
/// ordering by the column stays correct.
pub(crate) fn int(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| {
        StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(
            format!("{what} {value} does not fit SQLite's INTEGER (at most {})", i64::MAX).into(),
        ))
    })
}

pub(crate) fn uint(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is negative ({value})")))
}

pub(crate) fn b256(bytes: &[u8], what: &str) -> Result<B256, StoreError> {
    B256::try_from(bytes).map_err(|_| StoreError::Corrupt(format!("{what} is {} bytes, expected 32", bytes.len())))
}

pub(crate) fn address(bytes: &[u8], what: &str) -> Result<Address, StoreError> {
    Address::try_from(bytes).map_err(|_| StoreError::Corrupt(format!("{what} is {} bytes, expected 20", bytes.len())))
}

/// r ‖ s ‖ v, v being 27 or 28 (the 65-byte "Electrum" form `Signature::as_bytes` produces).
pub(crate) fn signature_bytes(signature: &Signature) -> [u8; 65] {
    signature.as_bytes()
}

pub(crate) fn signature(bytes: &[u8], what: &str) -> Result<Signature, StoreError> {
    Signature::from_raw(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn u128_text(value: u128) -> String {
    value.to_string()
}

pub(crate) fn parse_u128(text: &str, what: &str) -> Result<u128, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("{what} is not a decimal u128: {text:?}")))
}
