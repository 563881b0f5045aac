//! The workspace's dependency rules (docs/architecture.md), read from `cargo metadata`:
//! agents never depend on agents; only the binary and the CLI depend on agent crates; primitives
//! depend on no I/O crate; the end-to-end harness never depends on the CLI; the devnet
//! orchestrator (zb-devnet) is used only by the CLI and the tests, and the workflows (zb-ops) do
//! not depend on it (it depends on them).
//!
//! `KNOWN_VIOLATIONS` lists the edges that still break a rule while the split of issue #12 is
//! under way. The test fails on any new violation and on any listed edge that no longer exists, so
//! the list can only shrink.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

const AGENTS: &[&str] = &["zb-validator", "zb-relayer", "zb-watchtower", "zb-api"];
const MAY_DEPEND_ON_AGENTS: &[&str] = &["zerobridge", "zb-cli"];
const PRIMITIVES: &[&str] = &["zb-protocol", "zb-contracts", "zb-api-types"];
/// The one devnet orchestrator, and the crates that may use it (`zerobridge devnet` through the
/// CLI; the tests).
const DEVNET: &str = "zb-devnet";
const MAY_DEPEND_ON_DEVNET: &[&str] = &["zb-cli", "zb-e2e", "zerobridge"];
/// Crates that open sockets, files of a database or an async runtime.
const IO_CRATES: &[&str] = &["tokio", "reqwest", "hyper", "axum", "rusqlite", "sqlx", "tokio-postgres"];

/// (dependent, dependency) edges that break a rule today.
const KNOWN_VIOLATIONS: &[(&str, &str)] = &[];

/// Every workspace member with its direct dependencies (all kinds: normal, dev and build).
fn workspace() -> Vec<(String, Vec<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo metadata");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("packages is an array");
    packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().expect("package name").to_string();
            let dependencies = package["dependencies"]
                .as_array()
                .expect("dependencies is an array")
                .iter()
                .map(|d| d["name"].as_str().expect("dependency name").to_string())
                .collect();
            (name, dependencies)
        })
        .collect()
}

fn violations(packages: &[(String, Vec<String>)]) -> BTreeSet<(String, String, &'static str)> {
    let mut found = BTreeSet::new();
    for (package, dependencies) in packages {
        for dependency in dependencies {
            let edge = |rule| (package.clone(), dependency.clone(), rule);
            let to_agent = AGENTS.contains(&dependency.as_str());
            if to_agent && AGENTS.contains(&package.as_str()) {
                found.insert(edge("agents never depend on agents"));
            } else if to_agent && !MAY_DEPEND_ON_AGENTS.contains(&package.as_str()) {
                found.insert(edge("only the binary and the CLI depend on agent crates"));
            }
            if PRIMITIVES.contains(&package.as_str()) && IO_CRATES.contains(&dependency.as_str()) {
                found.insert(edge("primitives depend on no I/O crate"));
            }
            if package == "zb-e2e" && dependency == "zb-cli" {
                found.insert(edge("the end-to-end harness never depends on the CLI"));
            }
            if dependency == DEVNET && !MAY_DEPEND_ON_DEVNET.contains(&package.as_str()) {
                found.insert(edge("only the CLI and the tests use the devnet orchestrator"));
            }
        }
    }
    found
}

#[test]
fn dependency_rules_hold_apart_from_the_listed_exceptions() {
    let packages = workspace();
    let names: BTreeSet<&str> = packages.iter().map(|(name, _)| name.as_str()).collect();
    for crate_name in
        AGENTS.iter().chain(PRIMITIVES).chain(MAY_DEPEND_ON_AGENTS).chain(MAY_DEPEND_ON_DEVNET).chain([&DEVNET])
    {
        assert!(names.contains(crate_name), "{crate_name} is not a workspace member: update the rules");
    }
    let found = violations(&packages);
    let known: BTreeSet<(String, String)> =
        KNOWN_VIOLATIONS.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let new: Vec<_> = found.iter().filter(|(a, b, _)| !known.contains(&(a.clone(), b.clone()))).collect();
    assert!(new.is_empty(), "dependency rules broken: {new:?}");
    let gone: Vec<_> = known.iter().filter(|(a, b)| !found.iter().any(|(x, y, _)| x == a && y == b)).collect();
    assert!(gone.is_empty(), "fixed, remove from KNOWN_VIOLATIONS: {gone:?}");
}

#[test]
fn the_rules_catch_each_kind_of_violation() {
    let packages = vec![
        ("zb-relayer".to_string(), vec!["zb-validator".to_string()]),
        ("zb-ops".to_string(), vec!["zb-watchtower".to_string()]),
        ("zb-contracts".to_string(), vec!["tokio".to_string()]),
        ("zb-e2e".to_string(), vec!["zb-cli".to_string()]),
        ("zb-cli".to_string(), vec!["zb-relayer".to_string()]),
        ("zb-ops".to_string(), vec!["zb-devnet".to_string()]),
        ("zb-devnet".to_string(), vec!["zb-validator".to_string()]),
        ("zb-cli".to_string(), vec!["zb-devnet".to_string()]),
    ];
    let rules: Vec<&str> = violations(&packages).into_iter().map(|(_, _, rule)| rule).collect();
    assert_eq!(
        rules,
        vec![
            "primitives depend on no I/O crate",
            "only the binary and the CLI depend on agent crates",
            "the end-to-end harness never depends on the CLI",
            "only the CLI and the tests use the devnet orchestrator",
            "only the binary and the CLI depend on agent crates",
            "agents never depend on agents",
        ]
    );
}
