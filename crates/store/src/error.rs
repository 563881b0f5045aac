use alloy::primitives::B256;

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite itself failed (I/O, disk full, lock held longer than the busy timeout, a constraint
    /// such as a duplicate `tx_hash`, an unknown `tx_hash` in `mark_submission`, or a `u64`
    /// above `i64::MAX` that SQLite's INTEGER cannot hold).
    #[error("sqlite store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The slashing-protection record for `(lane, sequence)` holds a different accumulator: signing
    /// `requested` would be equivocation and get the validator slashed. Nothing was recorded.
    #[error(
        "refusing to sign lane {lane} sequence {sequence}: already signed accumulator {signed}, asked for {requested}"
    )]
    Conflict { lane: B256, sequence: u64, signed: B256, requested: B256 },
    /// A signing history (or database) in a format or version this build does not understand.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    /// The database file holds something this crate never writes; do not sign from it.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
}
