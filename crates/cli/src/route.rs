//! `zerobridge route register | status | list`: the token team's commands of `zb_ops::route`,
//! printed line by line as they run.

use eyre::Result;
use zb_ops::route::{ListArgs, RegisterArgs, RouteRow, StatusArgs};

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
        RouteCommand::Status(args) => {
            let status = zb_ops::route::status(args).await?;
            for line in crate::route_status::lines(&status) {
                println!("{line}");
            }
            Ok(())
        }
        RouteCommand::List(args) => {
            let rows = zb_ops::route::list(args).await?;
            print!("{}", table(&rows));
            Ok(())
        }
    }
}

/// `route list`'s table: SYMBOL, ROUTE, STATUS, ROUTE ID columns.
fn table(rows: &[RouteRow]) -> String {
    if rows.is_empty() {
        return "no routes yet: register one with `zerobridge route register`\n".to_string();
    }
    let w0 = rows.iter().map(|r| r.symbol.len()).max().unwrap_or(0).max(6);
    let w1 = rows.iter().map(|r| r.route.len()).max().unwrap_or(0).max(5);
    let w2 = rows.iter().map(|r| r.status.len()).max().unwrap_or(0).max(6);
    let mut out = format!("{:<w0$}  {:<w1$}  {:<w2$}  ROUTE ID\n", "SYMBOL", "ROUTE", "STATUS");
    for r in rows {
        out.push_str(&format!("{:<w0$}  {:<w1$}  {:<w2$}  {}\n", r.symbol, r.route, r.status, r.route_id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::B256;

    #[test]
    fn list_table_aligns_columns() {
        assert!(table(&[]).starts_with("no routes yet"));
        let row = |symbol: &str, status: &str| RouteRow {
            symbol: symbol.into(),
            route: "ethereum -> bsc".into(),
            status: status.into(),
            route_id: B256::repeat_byte(1),
        };
        let text = table(&[row("DEMO", "Active"), row("LONGER", "Pending (lane paused)")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "SYMBOL  ROUTE            STATUS                 ROUTE ID");
        assert_eq!(lines[1], format!("DEMO    ethereum -> bsc  Active                 {}", B256::repeat_byte(1)));
    }
}
