//! `zerobridge route register | status | list`: the token team's commands of `zb_ops::route`,
//! printed line by line as they run.

use eyre::Result;
use zb_ops::route::{ListArgs, RegisterArgs, StatusArgs};

use crate::governance::PrintSteps;

/// `zerobridge route ...`
#[derive(Debug, clap::Subcommand)]
pub enum RouteCommand {
    /// Register a bridge for your ERC-20 between two chains (you must be its owner()).
    Register(Box<RegisterArgs>),
    /// A route's status on both chains: lanes, fee, limits, capacity, sequences, vault.
    Status(StatusArgs),
    /// Every route of the network, one line each.
    List(ListArgs),
}

/// Runs one `route` command.
pub async fn run(command: RouteCommand) -> Result<()> {
    match command {
        RouteCommand::Register(args) => zb_ops::route::register(*args, &PrintSteps).await,
        RouteCommand::Status(args) => zb_ops::route::status(args, &PrintSteps).await,
        RouteCommand::List(args) => zb_ops::route::list(args, &PrintSteps).await,
    }
}
