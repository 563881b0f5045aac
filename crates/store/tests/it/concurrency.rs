use std::sync::{Arc, Barrier};
use std::thread;

use alloy::primitives::B256;
use zb_store::{SignDecision, StoreError, ValidatorStore};

use crate::{acc, lane};

/// Every thread asks to sign (lane, sequence) with its own accumulator at the same moment.
/// Exactly one must get `New`; every other must get a conflict naming the winner's accumulator.
fn race(stores: Vec<Arc<ValidatorStore>>, l: B256, sequence: u64) {
    let barrier = Arc::new(Barrier::new(stores.len()));
    let handles: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(i, store)| {
            let barrier = Arc::clone(&barrier);
            let mine = acc(i as u8 + 1, sequence);
            thread::spawn(move || {
                barrier.wait();
                (mine, store.check_and_record_signing(l, sequence, mine))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();

    let winners: Vec<B256> =
        results.iter().filter(|(_, r)| matches!(r, Ok(SignDecision::New))).map(|(a, _)| *a).collect();
    assert_eq!(winners.len(), 1, "exactly one signer may win sequence {sequence}: {results:?}");
    let winner = winners[0];
    for (mine, result) in &results {
        if *mine == winner {
            continue;
        }
        match result {
            Err(StoreError::Conflict { signed, requested, .. }) => {
                assert_eq!((*signed, *requested), (winner, *mine));
            }
            other => panic!("loser got {other:?}"),
        }
    }
}

#[test]
fn one_shared_store_exactly_one_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(ValidatorStore::open(&dir.path().join("v.sqlite")).expect("open"));
    for sequence in 1..=20 {
        race(vec![Arc::clone(&store); 8], lane(1), sequence);
    }
    let history = store.export_history(Default::default()).expect("export");
    assert_eq!(history.entries.len(), 20);
}

/// Separate connections on one file, as two processes would have: the exclusive transaction
/// (and the busy timeout) must still let exactly one win.
#[test]
fn separate_connections_exactly_one_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v.sqlite");
    let stores: Vec<_> = (0..6).map(|_| Arc::new(ValidatorStore::open(&path).expect("open"))).collect();
    for sequence in 1..=10 {
        race(stores.clone(), lane(2), sequence);
    }
    let history = stores[0].export_history(Default::default()).expect("export");
    assert_eq!(history.entries.len(), 10);
}
