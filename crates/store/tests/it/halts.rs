use zb_store::ValidatorStore;

use crate::{lane, temp_store};

#[test]
fn a_lane_halt_survives_reopen_until_unhalted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.sqlite");
    {
        let store = ValidatorStore::open(&path).expect("open");
        let halt = store.halt_lane(lane(1), 7, "sequence 7: emitted a, recomputed b").expect("halt");
        assert_eq!((halt.lane, halt.sequence), (lane(1), 7));
    }
    let store = ValidatorStore::open(&path).expect("reopen");
    let halts = store.lane_halts().expect("halts");
    assert_eq!(halts.len(), 1);
    let got = (halts[0].lane, halts[0].sequence, halts[0].reason.as_str());
    assert_eq!(got, (lane(1), 7, "sequence 7: emitted a, recomputed b"));

    assert_eq!(store.unhalt_lane(lane(2)).expect("unhalt other"), None);
    assert_eq!(store.unhalt_lane(lane(1)).expect("unhalt"), Some(halts[0].clone()));
    assert_eq!(store.unhalt_lane(lane(1)).expect("unhalt again"), None);
    drop(store);
    assert!(ValidatorStore::open(&path).expect("reopen").lane_halts().expect("halts").is_empty());
}

#[test]
fn a_lane_halt_keeps_its_lowest_sequence() {
    let (_dir, store) = temp_store();
    store.halt_lane(lane(1), 7, "first").expect("halt");
    let kept = store.halt_lane(lane(1), 9, "later").expect("halt again");
    assert_eq!((kept.sequence, kept.reason.as_str()), (7, "first"));
    let lowered = store.halt_lane(lane(1), 3, "lower").expect("halt lower");
    assert_eq!((lowered.sequence, lowered.reason.as_str()), (3, "lower"));
    assert_eq!(store.lane_halts().expect("halts"), vec![lowered]);
}

#[test]
fn a_chain_halt_survives_reopen_until_unhalted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.sqlite");
    {
        let store = ValidatorStore::open(&path).expect("open");
        store.halt_chain("ethereum", "deep reorg at 12").expect("halt");
        let kept = store.halt_chain("ethereum", "another").expect("halt again");
        assert_eq!(kept.reason, "deep reorg at 12");
    }
    let store = ValidatorStore::open(&path).expect("reopen");
    let halts = store.chain_halts().expect("halts");
    assert_eq!(halts.len(), 1);
    assert_eq!(store.unhalt_chain("bsc").expect("unhalt other"), None);
    assert_eq!(store.unhalt_chain("ethereum").expect("unhalt"), Some(halts[0].clone()));
    assert!(store.chain_halts().expect("halts").is_empty());
}
