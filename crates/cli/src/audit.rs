//! `zerobridge audit export | verify`: writes the log `zb_ops::audit` exports and prints what it
//! covers; prints what `verify` checked.

use std::io::Write as _;

use eyre::{Result, eyre};
use zb_ops::audit::{Coverage, ExportArgs, VerifyArgs, export, verify};

/// `zerobridge audit ...`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Write the hash-chained audit log (JSON lines) of every privileged action and every
    /// transfer, from the chains' events. Read-only: needs RPC access only, never a key.
    Export(ExportArgs),
    /// Check an audit log: its hash chain, and every line against the chains (nothing altered,
    /// nothing missing in the covered blocks). Read-only: needs RPC access only, never a key.
    Verify(VerifyArgs),
}

/// Runs one `audit` command.
pub async fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Export(args) => run_export(&args).await,
        AuditCommand::Verify(args) => {
            let v = verify(&args).await?;
            println!(
                "{} lines verified ({} events: {} transfer, {} privileged), chain intact, matches {}; head {}",
                v.lines,
                v.events,
                v.transfers,
                v.events - v.transfers,
                v.chains.join("/"),
                v.head
            );
            Ok(())
        }
    }
}

async fn run_export(args: &ExportArgs) -> Result<()> {
    let log = export(args).await?;
    let ranges: Vec<String> = log.coverage.iter().map(Coverage::blocks).collect();
    let summary = format!(
        "{} events ({} transfer, {} privileged) from {}; head {}",
        log.transfers + log.privileged,
        log.transfers,
        log.privileged,
        ranges.join(", "),
        log.head
    );
    match &args.out {
        Some(path) => {
            std::fs::write(path, &log.text).map_err(|e| eyre!("cannot write {}: {e}", path.display()))?;
            println!("{summary}; written to {}", path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(log.text.as_bytes()).map_err(|e| eyre!("cannot write the log to stdout: {e}"))?;
            stdout.flush().map_err(|e| eyre!("cannot write the log to stdout: {e}"))?;
            eprintln!("{summary}");
        }
    }
    Ok(())
}
