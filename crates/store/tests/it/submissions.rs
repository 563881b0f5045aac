use alloy::primitives::{Address, B256, Bytes, keccak256};
use zb_store::{RelayerStore, StoreError, Submission, SubmissionStatus};

use crate::{lane, temp_relayer_store};

fn submission(l: B256, nonce: u64, from: u64, to: u64) -> Submission {
    Submission {
        lane: l,
        from_sequence: from,
        to_sequence: to,
        nonce,
        tx_hash: keccak256([l.as_slice(), &nonce.to_be_bytes(), &to.to_be_bytes()].concat()),
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_500_000_000,
        status: SubmissionStatus::Pending,
        created_at: 1_795_000_000 + nonce,
        chain_id: 56,
        sender: Address::repeat_byte(0xaa),
        raw_tx: Bytes::from(vec![0x02, nonce as u8, 0xc0]),
    }
}

#[test]
fn insert_query_mark() {
    let (_dir, store) = temp_relayer_store();
    let (a, b) = (lane(1), lane(2));
    let s2 = submission(a, 2, 11, 20);
    let s1 = submission(a, 1, 1, 10);
    let mut s1_bumped = submission(a, 1, 1, 12);
    s1_bumped.max_fee_per_gas = u128::MAX; // fee escalation; u128 survives the TEXT column
    s1_bumped.max_priority_fee_per_gas = u128::MAX - 1;
    let other = submission(b, 1, 1, 1);
    for s in [&s2, &s1, &s1_bumped, &other] {
        store.record_submission(s).expect("record");
    }

    let pending = store.submissions_with_status(a, SubmissionStatus::Pending).expect("pending");
    assert_eq!(pending.len(), 3);
    assert_eq!(pending.iter().map(|s| s.nonce).collect::<Vec<_>>(), vec![1, 1, 2], "ordered by nonce");
    assert!(pending.contains(&s1) && pending.contains(&s1_bumped) && pending.contains(&s2));

    store.mark_submission(s1.tx_hash, SubmissionStatus::Replaced).expect("mark");
    store.mark_submission(s1_bumped.tx_hash, SubmissionStatus::Confirmed).expect("mark");
    assert_eq!(store.submissions_with_status(a, SubmissionStatus::Pending).expect("q"), vec![s2.clone()]);
    assert_eq!(
        store.submissions_with_status(a, SubmissionStatus::Replaced).expect("q"),
        vec![Submission { status: SubmissionStatus::Replaced, ..s1 }]
    );
    assert_eq!(
        store.submissions_with_status(a, SubmissionStatus::Confirmed).expect("q"),
        vec![Submission { status: SubmissionStatus::Confirmed, ..s1_bumped }]
    );
    assert!(store.submissions_with_status(a, SubmissionStatus::Failed).expect("q").is_empty());
    assert_eq!(store.submissions_with_status(b, SubmissionStatus::Pending).expect("q"), vec![other]);
}

#[test]
fn duplicate_tx_hash_and_unknown_hash_are_errors() {
    let (_dir, store) = temp_relayer_store();
    let s = submission(lane(1), 1, 1, 1);
    store.record_submission(&s).expect("record");
    let mut again = s.clone();
    again.nonce = 9;
    assert!(matches!(store.record_submission(&again), Err(StoreError::Sqlite(_))));
    assert_eq!(store.submissions_with_status(lane(1), SubmissionStatus::Pending).expect("q"), vec![s]);

    assert!(matches!(
        store.mark_submission(B256::repeat_byte(0xee), SubmissionStatus::Failed),
        Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    ));
}

#[test]
fn queue_persists_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relayer.sqlite");
    let s = submission(lane(3), 4, 5, 6);
    {
        let store = RelayerStore::open(&path).expect("open");
        store.record_submission(&s).expect("record");
        store.mark_submission(s.tx_hash, SubmissionStatus::Failed).expect("mark");
    }
    let store = RelayerStore::open(&path).expect("reopen");
    assert_eq!(
        store.submissions_with_status(lane(3), SubmissionStatus::Failed).expect("q"),
        vec![Submission { status: SubmissionStatus::Failed, ..s }]
    );
}

#[test]
fn status_serializes_snake_case() {
    assert_eq!(serde_json::to_string(&SubmissionStatus::Confirmed).expect("json"), "\"confirmed\"");
    assert_eq!(SubmissionStatus::Replaced.as_str(), "replaced");
}

#[test]
fn the_nonce_floor_is_one_above_the_account_s_highest_pending_nonce_on_that_chain() {
    let (_dir, store) = temp_relayer_store();
    let sender = Address::repeat_byte(0xaa);
    assert_eq!(store.pending_nonce_floor(56, sender).expect("floor"), None);
    let (low, high) = (submission(lane(1), 3, 1, 2), submission(lane(2), 8, 1, 2));
    let other_chain = Submission { chain_id: 1, ..submission(lane(1), 40, 3, 4) };
    let other_sender = Submission { sender: Address::repeat_byte(0xbb), ..submission(lane(1), 50, 5, 6) };
    for s in [&low, &high, &other_chain, &other_sender] {
        store.record_submission(s).expect("record");
    }
    assert_eq!(store.pending_nonce_floor(56, sender).expect("floor"), Some(9), "across lanes, per chain and account");
    store.mark_submission(high.tx_hash, SubmissionStatus::Confirmed).expect("mark");
    assert_eq!(store.pending_nonce_floor(56, sender).expect("floor"), Some(4), "mined ones no longer count");
    assert_eq!(store.pending_nonce_floor(1, sender).expect("floor"), Some(41));
}
