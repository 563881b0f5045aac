use alloy::primitives::{Address, address};
use zb_store::{HISTORY_FORMAT, HISTORY_VERSION, ImportReport, SignDecision, SignedEntry, SigningHistory, StoreError};

use crate::{acc, lane, temp_store};

const SIGNER: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

#[test]
fn export_import_round_trip_through_json() {
    let (_old_dir, old) = temp_store();
    for l in 1..=3u8 {
        for seq in 1..=4u64 {
            old.check_and_record_signing(lane(l), seq, acc(l, seq)).expect("record");
        }
    }
    let exported = old.export_history(SIGNER).expect("export");
    assert_eq!(exported.format, HISTORY_FORMAT);
    assert_eq!(exported.version, HISTORY_VERSION);
    assert_eq!(exported.signer, SIGNER);
    assert_eq!(exported.entries.len(), 12);
    assert!(exported.entries.windows(2).all(|w| (w[0].lane, w[0].sequence) < (w[1].lane, w[1].sequence)));

    let json = serde_json::to_string_pretty(&exported).expect("to json");
    let parsed: SigningHistory = serde_json::from_str(&json).expect("from json");
    assert_eq!(parsed, exported);

    let (_new_dir, new) = temp_store();
    new.check_and_record_signing(lane(1), 1, acc(1, 1)).expect("already on the new machine");
    assert_eq!(new.import_history(&parsed).expect("import"), ImportReport { imported: 11, skipped: 1 });
    assert_eq!(new.export_history(SIGNER).expect("export"), exported);
    // Importing again changes nothing.
    assert_eq!(new.import_history(&parsed).expect("re-import"), ImportReport { imported: 0, skipped: 12 });

    // The new machine now refuses what the old one would have refused.
    for entry in &exported.entries {
        assert_eq!(
            new.check_and_record_signing(entry.lane, entry.sequence, entry.accumulator).expect("same"),
            SignDecision::AlreadySigned
        );
        assert!(matches!(
            new.check_and_record_signing(entry.lane, entry.sequence, acc(99, entry.sequence)),
            Err(StoreError::Conflict { .. })
        ));
    }
}

#[test]
fn conflicting_import_is_rejected_atomically() {
    let (_dir, store) = temp_store();
    store.check_and_record_signing(lane(1), 3, acc(1, 3)).expect("record");
    let before = store.export_history(SIGNER).expect("export");

    let mut history = SigningHistory::new(SIGNER);
    // New entries before the conflict would be written by a non-atomic import.
    for seq in [1, 2] {
        history.entries.push(SignedEntry { lane: lane(1), sequence: seq, accumulator: acc(1, seq), signed_at: 1 });
    }
    history.entries.push(SignedEntry { lane: lane(1), sequence: 3, accumulator: acc(2, 3), signed_at: 1 });
    history.entries.push(SignedEntry { lane: lane(2), sequence: 1, accumulator: acc(2, 1), signed_at: 1 });

    match store.import_history(&history) {
        Err(StoreError::Conflict { lane: l, sequence, signed, requested }) => {
            assert_eq!((l, sequence, signed, requested), (lane(1), 3, acc(1, 3), acc(2, 3)));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.export_history(SIGNER).expect("export"), before, "nothing may be written");
    // The entries that were not written are still free to sign.
    assert_eq!(store.check_and_record_signing(lane(1), 1, acc(7, 1)).expect("free"), SignDecision::New);
}

#[test]
fn self_contradictory_history_is_rejected_atomically() {
    let (_dir, store) = temp_store();
    let mut history = SigningHistory::new(SIGNER);
    history.entries.push(SignedEntry { lane: lane(1), sequence: 1, accumulator: acc(1, 1), signed_at: 1 });
    history.entries.push(SignedEntry { lane: lane(1), sequence: 2, accumulator: acc(1, 2), signed_at: 1 });
    history.entries.push(SignedEntry { lane: lane(1), sequence: 1, accumulator: acc(2, 1), signed_at: 2 });
    assert!(matches!(store.import_history(&history), Err(StoreError::Conflict { sequence: 1, .. })));
    assert!(store.export_history(SIGNER).expect("export").entries.is_empty());

    // An exact duplicate inside one history is merely skipped.
    history.entries.pop();
    history.entries.push(SignedEntry { lane: lane(1), sequence: 1, accumulator: acc(1, 1), signed_at: 1 });
    assert_eq!(store.import_history(&history).expect("import"), ImportReport { imported: 2, skipped: 1 });
}

#[test]
fn wrong_format_or_version_is_rejected() {
    let (_dir, store) = temp_store();
    let mut good = SigningHistory::new(SIGNER);
    good.entries.push(SignedEntry { lane: lane(1), sequence: 1, accumulator: acc(1, 1), signed_at: 1 });

    let mut wrong_format = good.clone();
    wrong_format.format = "eip-3076".into();
    assert!(matches!(store.import_history(&wrong_format), Err(StoreError::UnsupportedFormat(_))));

    let mut wrong_version = good.clone();
    wrong_version.version = 2;
    assert!(matches!(store.import_history(&wrong_version), Err(StoreError::UnsupportedFormat(_))));

    assert!(store.export_history(SIGNER).expect("export").entries.is_empty());
    assert_eq!(store.import_history(&good).expect("import"), ImportReport { imported: 1, skipped: 0 });
}

#[test]
fn documented_json_example_imports() {
    // Keep in sync with docs/store-format.md and the crate docs.
    let json = r#"{
      "format": "zerobridge.slashing-protection",
      "version": 1,
      "signer": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
      "entries": [
        {
          "lane": "0xd93244e7b08131ef10eda16a0717627450cf0e51d1ca713c41d301a51b9a6e54",
          "sequence": 41,
          "accumulator": "0xfb7a9f0dd0b2c08f213ca0e4c387ce14407bb833baa0b223f2879ae37c295825",
          "signed_at": 1795000000
        },
        {
          "lane": "0xd93244e7b08131ef10eda16a0717627450cf0e51d1ca713c41d301a51b9a6e54",
          "sequence": 42,
          "accumulator": "0x872b6926fae2d14f8adbb284e7bde6211b309ee8fe65fc2b21ddf74c9c442c41",
          "signed_at": 1795000012
        }
      ]
    }"#;
    let history: SigningHistory = serde_json::from_str(json).expect("documented example parses");
    assert_eq!(history.signer, SIGNER);
    let (_dir, store) = temp_store();
    assert_eq!(store.import_history(&history).expect("import"), ImportReport { imported: 2, skipped: 0 });
    let exported = store.export_history(SIGNER).expect("export");
    assert_eq!(exported, history);
    // What export writes is what the docs show (modulo whitespace).
    let reparsed: serde_json::Value = serde_json::from_str(json).expect("json");
    assert_eq!(serde_json::to_value(&exported).expect("to value"), reparsed);
}
