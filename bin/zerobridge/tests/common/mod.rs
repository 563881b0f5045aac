//! Running the `zerobridge` binary as a user would, and checking what it printed. Shared by the
//! CLI integration tests (each test file compiles this module; not every file uses every helper).
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use eyre::{Context, Result, bail, ensure, eyre};

/// Runs the binary in `dir` (no devnet manifest there unless a test writes one).
pub async fn zerobridge(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_zerobridge"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("ZB_KEYSTORE_PASSWORD")
        .env_remove("ZB_DEVNET_DIR")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let run = command.output();
    tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .map_err(|_| eyre!("zerobridge {args:?} did not finish in 10 min"))?
        .wrap_err("running zerobridge")
}

pub fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A failure with exactly one line on stderr that contains every needle.
pub fn expect_refusal(output: &Output, needles: &[&str]) -> Result<String> {
    let (stdout, stderr) = text(output);
    ensure!(!output.status.success(), "expected a refusal, it succeeded:\n{stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(lines.len() == 1, "expected one line on stderr, got:\n{stderr}\nstdout:\n{stdout}");
    ensure!(stderr.starts_with("error: "), "stderr does not start with `error: `:\n{stderr}");
    for needle in needles {
        ensure!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    }
    Ok(stderr)
}

pub fn expect_success(output: &Output, what: &str) -> Result<String> {
    let (stdout, stderr) = text(output);
    if !output.status.success() {
        bail!("{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    }
    // Shown with --nocapture, or when the test fails.
    println!("$ zerobridge {what}\n{stdout}{stderr}");
    Ok(stdout)
}
