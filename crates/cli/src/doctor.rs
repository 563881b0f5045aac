//! `zerobridge doctor`: prints the findings of `zb_ops::doctor`, one line each, then a tally.

use alloy::primitives::Address;
use eyre::{Result, bail};
use zb_ops::context::NetworkArgs;
use zb_ops::doctor::{DoctorInput, Finding, Level, doctor};

#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Committee contracts to check for ADMIN as well as the manifest's accounts (repeatable).
    #[arg(long)]
    pub committee: Vec<Address>,
    /// Further accounts to check for ADMIN (repeatable).
    #[arg(long)]
    pub account: Vec<Address>,
    /// A validator, relayer or watchtower config whose RPC quorums to check (repeatable).
    #[arg(long = "agent-config")]
    pub agent_config: Vec<std::path::PathBuf>,
}

pub async fn run(args: DoctorArgs) -> Result<()> {
    let input = DoctorInput {
        network: args.network,
        committees: args.committee,
        accounts: args.account,
        agent_configs: args.agent_config,
    };
    let findings = doctor(&input).await?;
    for finding in &findings {
        println!("{}", line(finding));
    }
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    let (errors, warnings) = (count(Level::Error), count(Level::Warn));
    println!("{errors} error(s), {warnings} warning(s)");
    if errors > 0 {
        bail!("doctor found {errors} error(s)");
    }
    Ok(())
}

fn line(finding: &Finding) -> String {
    // Padded so the chain names line up.
    let tag = match finding.level {
        Level::Ok => "OK   ",
        Level::Warn => "WARN ",
        Level::Error => "ERROR",
    };
    format!("{tag} {}: {}", finding.chain, finding.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_print_with_aligned_tags() {
        let f = |level| Finding { level, chain: "alpha".to_string(), text: "t".to_string() };
        assert_eq!(line(&f(Level::Ok)), "OK    alpha: t");
        assert_eq!(line(&f(Level::Warn)), "WARN  alpha: t");
        assert_eq!(line(&f(Level::Error)), "ERROR alpha: t");
    }
}
