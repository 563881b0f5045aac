//! Where `send`, `track` and `claim` report a transfer while they wait on the chains. The CLI
//! draws it on the terminal (spinners on a TTY, plain lines elsewhere); the library never prints.

use super::stages::StageView;

/// Receives a transfer's steps, stages and explanations as they happen.
pub trait TransferView: Send + Sync {
    /// A slow step has started (an approval being mined, validators being asked to sign).
    fn begin(&self, line: &str);
    /// The step begun last is over: with its permanent line, or `None` when it leaves none (it
    /// failed and the error is returned, or what follows says it).
    fn end(&self, line: Option<&str>);
    /// The transfer's five stages at one look, in order; called again on every refresh.
    fn stages(&self, views: &[StageView]);
    /// Watching stops: the stages not yet shown for good are shown as they stand.
    fn close(&self, views: &[StageView]);
    /// A permanent line: what is about to happen, a summary, an explanation, a hint.
    fn line(&self, text: &str);
}
