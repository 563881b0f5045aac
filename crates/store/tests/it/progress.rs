use alloy::primitives::{Address, B256};
use zb_store::{ChainCursor, LaneHead, LaneProgress, LaneStep, StoreError, ValidatorStore};

use crate::{acc, lane, temp_store};

const BRIDGE: Address = Address::repeat_byte(0xb1);

fn block_hash(number: u64) -> B256 {
    acc(0xbb, number)
}

/// A cursor after consuming blocks up to `last`, remembering the last (up to) ten of them.
fn cursor(last: u64) -> ChainCursor {
    let recent = (last.saturating_sub(9)..=last).map(|n| (n, block_hash(n))).collect();
    ChainCursor { chain_id: 1, bridge: BRIDGE, next_block: last + 1, recent }
}

/// Messages `from..=to` of lane `tag`, one per block (block = 100 + sequence, sentAt = 1000 + 10 * sequence).
fn messages(tag: u8, from: u64, to: u64) -> Vec<LaneProgress> {
    (from..=to)
        .map(|sequence| LaneProgress {
            sequence,
            accumulator: acc(tag, sequence),
            sent_at: 1000 + 10 * sequence,
            block: 100 + sequence,
        })
        .collect()
}

fn step(tag: u8, from: u64, to: u64, next_block: u64) -> LaneStep {
    let head =
        LaneHead { lane: lane(tag), chain_id: 1, bridge: BRIDGE, next_block, sequence: to, accumulator: acc(tag, to) };
    LaneStep { head, messages: messages(tag, from, to), set_updates: vec![] }
}

#[test]
fn a_follow_step_is_read_back_after_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.sqlite");
    {
        let store = ValidatorStore::open(&path).expect("open");
        let mut first = step(1, 1, 3, 104);
        first.set_updates.push((2, B256::repeat_byte(0x5e)));
        store.record_follow_step(&[first], Some(&cursor(103))).expect("step 1");
        store.record_follow_step(&[step(1, 4, 5, 120), step(2, 1, 1, 120)], Some(&cursor(119))).expect("step 2");
    }
    let store = ValidatorStore::open(&path).expect("reopen");
    let stored = store.chain_cursor(1, BRIDGE).expect("cursor").expect("present");
    assert_eq!(stored.next_block, 120);
    // Only the newest blocks are kept for the reorg guard; the last one is the cursor's.
    assert_eq!(stored.recent.len(), zb_store::CURSOR_RECENT_BLOCKS);
    assert_eq!(stored.last(), Some((119, block_hash(119))));
    assert_eq!(store.chain_cursor(1, Address::repeat_byte(0xb2)).expect("other bridge"), None);
    assert_eq!(store.chain_cursor(2, BRIDGE).expect("other chain"), None);

    let head = store.lane_head(lane(1)).expect("head").expect("followed");
    assert_eq!((head.next_block, head.sequence, head.accumulator), (120, 5, acc(1, 5)));
    assert_eq!(store.lane_progress(lane(1), 2, 4).expect("rows"), messages(1, 2, 4));
    assert_eq!(store.lane_progress_at(lane(1), 5).expect("row"), Some(messages(1, 5, 5)[0]));
    assert_eq!(store.lane_progress_at(lane(1), 6).expect("row"), None);
    assert_eq!(store.lane_set_updates(lane(1)).expect("set updates"), vec![(2, B256::repeat_byte(0x5e))]);
    assert_eq!(store.lane_head(lane(3)).expect("head"), None);

    // sentAt 1000 + 10 * sequence: by 1035 sequences 1..=3 were sent; by 999 none.
    assert_eq!(store.lane_sent_by(lane(1), 1035).expect("sent by"), 3);
    assert_eq!(store.lane_sent_by(lane(1), 1050).expect("sent by"), 5);
    assert_eq!(store.lane_sent_by(lane(1), 999).expect("sent by"), 0);
    assert_eq!(store.lane_sent_by(lane(1), u64::MAX).expect("sent by"), 5);
}

#[test]
fn a_step_that_contradicts_a_stored_row_writes_nothing_and_leaves_the_cursor_behind() {
    let (_dir, store) = temp_store();
    store.record_follow_step(&[step(1, 1, 3, 104)], Some(&cursor(103))).expect("step 1");

    // The same rows again (a lane caught up again over the same chain) are accepted.
    store.record_follow_step(&[step(1, 1, 3, 104)], None).expect("same rows");

    // Lane 2 is fine, lane 1 says sequence 3 had another accumulator: the whole step is refused.
    let mut lying = step(1, 3, 4, 110);
    lying.messages[0].accumulator = acc(9, 3);
    let error = store
        .record_follow_step(&[step(2, 1, 2, 110), lying], Some(&cursor(109)))
        .expect_err("a stored row contradicted");
    assert!(matches!(&error, StoreError::Corrupt(m) if m.contains("sequence 3")), "{error}");
    assert_eq!(store.chain_cursor(1, BRIDGE).expect("cursor").expect("present").next_block, 104);
    assert_eq!(store.lane_head(lane(2)).expect("head"), None, "lane 2's rows were rolled back too");
    assert!(store.lane_progress(lane(2), 1, 2).expect("rows").is_empty());
    assert_eq!(store.lane_head(lane(1)).expect("head").expect("head").sequence, 3);
    assert_eq!(store.lane_progress_at(lane(1), 4).expect("row"), None);
}

#[test]
fn a_cursor_must_end_at_its_last_consumed_block() {
    let (_dir, store) = temp_store();
    let mut gap = cursor(103);
    gap.next_block = 200;
    assert!(matches!(store.record_follow_step(&[step(1, 1, 1, 200)], Some(&gap)), Err(StoreError::Corrupt(_))));
    let empty = ChainCursor { recent: vec![], ..cursor(103) };
    assert!(matches!(store.record_follow_step(&[], Some(&empty)), Err(StoreError::Corrupt(_))));
    assert_eq!(store.chain_cursor(1, BRIDGE).expect("cursor"), None);
    assert_eq!(store.lane_head(lane(1)).expect("head"), None, "the lane rows of a refused step are not kept");
}

#[test]
fn forgetting_a_chain_drops_its_cursor_and_lanes_only() {
    let (_dir, store) = temp_store();
    store.record_follow_step(&[step(1, 1, 3, 104), step(2, 1, 2, 104)], Some(&cursor(103))).expect("chain 1");
    let mut other = step(3, 1, 2, 50);
    other.head.chain_id = 56;
    let other_cursor = ChainCursor { chain_id: 56, ..cursor(49) };
    store.record_follow_step(&[other], Some(&other_cursor)).expect("chain 56");
    store.check_and_record_signing(lane(1), 3, acc(1, 3)).expect("signed");

    assert_eq!(store.forget_follow_progress(1, BRIDGE).expect("forget"), 2);
    assert_eq!(store.chain_cursor(1, BRIDGE).expect("cursor"), None);
    assert_eq!(store.lane_head(lane(1)).expect("head"), None);
    assert!(store.lane_progress(lane(2), 1, 10).expect("rows").is_empty());
    // Rows read again from a changed chain are accepted now.
    let mut changed = step(1, 1, 3, 104);
    changed.messages[2].accumulator = acc(9, 3);
    store.record_follow_step(&[changed], Some(&cursor(103))).expect("rewritten");
    // The other chain and slashing protection are untouched.
    assert_eq!(store.chain_cursor(56, BRIDGE).expect("cursor").expect("kept").next_block, 50);
    assert_eq!(store.lane_head(lane(3)).expect("head").expect("kept").sequence, 2);
    assert_eq!(store.export_history(Address::ZERO).expect("history").entries.len(), 1);
}
