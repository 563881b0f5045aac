use zb_store::{SignDecision, StoreError, ValidatorStore};

use crate::{acc, lane, temp_store};

#[test]
fn new_then_already_signed_then_conflict() {
    let (_dir, store) = temp_store();
    let (l, a, b) = (lane(1), acc(1, 5), acc(2, 5));
    assert_eq!(store.check_and_record_signing(l, 5, a).expect("first"), SignDecision::New);
    assert_eq!(store.check_and_record_signing(l, 5, a).expect("again"), SignDecision::AlreadySigned);
    match store.check_and_record_signing(l, 5, b) {
        Err(StoreError::Conflict { lane: cl, sequence, signed, requested }) => {
            assert_eq!((cl, sequence, signed, requested), (l, 5, a, b));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Other sequences and other lanes are independent.
    assert_eq!(store.check_and_record_signing(l, 6, b).expect("next sequence"), SignDecision::New);
    assert_eq!(store.check_and_record_signing(lane(2), 5, b).expect("other lane"), SignDecision::New);
}

#[test]
fn conflict_message_names_everything() {
    let (_dir, store) = temp_store();
    let (l, a, b) = (lane(1), acc(1, 9), acc(2, 9));
    store.check_and_record_signing(l, 9, a).expect("first");
    let err = store.check_and_record_signing(l, 9, b).expect_err("conflict");
    assert_eq!(
        err.to_string(),
        format!("refusing to sign lane {l} sequence 9: already signed accumulator {a}, asked for {b}")
    );
}

#[test]
fn conflict_records_nothing() {
    let (_dir, store) = temp_store();
    let (l, a, b) = (lane(1), acc(1, 3), acc(2, 3));
    store.check_and_record_signing(l, 3, a).expect("first");
    let before = store.export_history(Default::default()).expect("export");
    for _ in 0..3 {
        assert!(matches!(store.check_and_record_signing(l, 3, b), Err(StoreError::Conflict { .. })));
    }
    assert_eq!(store.export_history(Default::default()).expect("export"), before);
    assert_eq!(before.entries.len(), 1);
    assert_eq!(before.entries[0].accumulator, a);
    // The original is still the one honoured.
    assert_eq!(store.check_and_record_signing(l, 3, a).expect("again"), SignDecision::AlreadySigned);
}

#[test]
fn survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.sqlite");
    let (l, a, b) = (lane(7), acc(1, 42), acc(2, 42));
    {
        let store = ValidatorStore::open(&path).expect("open");
        assert_eq!(store.check_and_record_signing(l, 42, a).expect("record"), SignDecision::New);
    }
    let store = ValidatorStore::open(&path).expect("reopen");
    assert_eq!(store.check_and_record_signing(l, 42, a).expect("again"), SignDecision::AlreadySigned);
    assert!(matches!(
        store.check_and_record_signing(l, 42, b),
        Err(StoreError::Conflict { signed, .. }) if signed == a
    ));
}

#[test]
fn sequence_zero_and_large_sequences() {
    let (_dir, store) = temp_store();
    let l = lane(1);
    let max = i64::MAX as u64;
    assert_eq!(store.check_and_record_signing(l, 0, acc(1, 0)).expect("zero"), SignDecision::New);
    assert_eq!(store.check_and_record_signing(l, max, acc(1, max)).expect("max"), SignDecision::New);
    let history = store.export_history(Default::default()).expect("export");
    assert_eq!(history.entries.iter().map(|e| e.sequence).collect::<Vec<_>>(), vec![0, max]);
    // Beyond SQLite's INTEGER: a clean error, nothing recorded, no panic.
    assert!(matches!(store.check_and_record_signing(l, u64::MAX, acc(1, 1)), Err(StoreError::Sqlite(_))));
    assert_eq!(store.export_history(Default::default()).expect("export").entries.len(), 2);
}
