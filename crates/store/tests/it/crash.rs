//! Real crashes: the test re-executes this test binary as a child (filtered to the same test,
//! told by `CHILD_ENV` to act as the child), which records signings and then dies without any
//! clean shutdown: killed with SIGKILL by the parent, or `abort()` right after the call returns.
//! The parent then reopens the database.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use zb_store::{SignDecision, StoreError, ValidatorStore};

use crate::{acc, lane};

const CHILD_ENV: &str = "ZB_STORE_CRASH_CHILD_DB";
const RECORDED: &str = "zb-store-crash-child recorded";

/// libtest's name for a test in this module (module_path! starts with the crate name, which
/// libtest leaves out).
fn test_name(function: &str) -> String {
    let module = module_path!().split_once("::").map(|(_, rest)| rest).unwrap_or_default();
    format!("{module}::{function}")
}

fn spawn_child(function: &str, db: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().expect("current_exe"))
        .args([test_name(function).as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child test binary")
}

/// Child: records sequences 1, 2, 3, ... on lane(1) and reports each after the call returns,
/// until it is killed. It never drops the store.
fn child_record_forever(db: &Path) -> ! {
    let store = ValidatorStore::open(db).expect("child open");
    for sequence in 1u64.. {
        assert_eq!(
            store.check_and_record_signing(lane(1), sequence, acc(1, sequence)).expect("record"),
            SignDecision::New
        );
        println!("{RECORDED} {sequence}");
    }
    unreachable!()
}

#[test]
fn sigkill_while_recording_loses_nothing_acknowledged() {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        child_record_forever(Path::new(&db));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("validator.sqlite");
    let mut child = spawn_child("sigkill_while_recording_loses_nothing_acknowledged", &db);

    // Wait until the child has acknowledged 25 signings, then SIGKILL it while it keeps writing.
    let mut acknowledged = 0u64;
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    while acknowledged < 25 {
        let line = lines.next().expect("child exited before recording").expect("read child stdout");
        if let Some(seq) = line.strip_prefix(RECORDED) {
            acknowledged = seq.trim().parse().expect("sequence");
        }
    }
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(9), "child must die by SIGKILL, got {status:?}");
    // The child's WAL was never checkpointed by a clean close.
    assert!(dir.path().join("validator.sqlite-wal").exists());

    let store = ValidatorStore::open(&db).expect("reopen after crash");
    for sequence in 1..=acknowledged {
        assert_eq!(
            store.check_and_record_signing(lane(1), sequence, acc(1, sequence)).expect("same accumulator"),
            SignDecision::AlreadySigned,
            "sequence {sequence} was acknowledged before the kill"
        );
        assert!(matches!(
            store.check_and_record_signing(lane(1), sequence, acc(2, sequence)),
            Err(StoreError::Conflict { signed, .. }) if signed == acc(1, sequence)
        ));
    }
    // Whatever was in flight is either fully there or absent; the file is intact.
    let raw = rusqlite::Connection::open(&db).expect("raw");
    let check: String = raw.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
}

#[test]
fn abort_right_after_record_keeps_it() {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        let store = ValidatorStore::open(Path::new(&db)).expect("child open");
        let decision = store.check_and_record_signing(lane(4), 7, acc(1, 7));
        // No drop, no flush, no clean close: die the instant the call returns.
        if decision.is_ok() {
            std::process::abort();
        }
        std::process::exit(3);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("validator.sqlite");
    let status = spawn_child("abort_right_after_record_keeps_it", &db).wait().expect("wait");
    assert_eq!(status.signal(), Some(6), "child must die by SIGABRT after recording, got {status:?}");

    let store = ValidatorStore::open(&db).expect("reopen after crash");
    match store.check_and_record_signing(lane(4), 7, acc(2, 7)) {
        Err(StoreError::Conflict { signed, requested, .. }) => {
            assert_eq!((signed, requested), (acc(1, 7), acc(2, 7)));
        }
        other => panic!("the crashed child's record is missing: {other:?}"),
    }
    assert_eq!(store.check_and_record_signing(lane(4), 7, acc(1, 7)).expect("same"), SignDecision::AlreadySigned);
}
