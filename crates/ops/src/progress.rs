//! How a long workflow (route registration, the devnet, a transfer) tells its caller what it is
//! doing while it runs. The CLI prints each step; the API and the watchtower log them or stay
//! silent. Results are returned as values, never printed here.

/// Receives a workflow's steps as they happen.
pub trait Progress: Send + Sync {
    /// One finished or started step, in words ("Opted operator-1 into lane ethereum -> bsc").
    fn step(&self, line: &str);
    /// Something the user should act on but that does not stop the workflow.
    fn warn(&self, line: &str);
}

/// Progress that goes nowhere, for callers that only want the result.
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _line: &str) {}
    fn warn(&self, _line: &str) {}
}
