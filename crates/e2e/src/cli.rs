//! Running the built `zerobridge` binary from a test, as a user would, against the devnet whose
//! manifest `Devnet::write_cli_manifest` put in `dir`.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use eyre::{Result, WrapErr, eyre};

/// Runs `zerobridge <args>` in `dir` with `env` added, no colours, and at most 5 minutes.
pub async fn zerobridge(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
    let mut command = tokio::process::Command::new(crate::paths::zerobridge_bin()?);
    command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("ZB_DEVNET_DIR")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .map_err(|_| eyre!("zerobridge {args:?} did not finish in 5 min"))?
        .wrap_err("running zerobridge")
}
