use alloy::primitives::B256;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use zb_store::{SignedCheckpoint, ValidatorStore};

use crate::{acc, lane, temp_store};

fn signed(signer: &PrivateKeySigner, lane: B256, sequence: u64, accumulator: B256) -> SignedCheckpoint {
    // Any 32-byte digest will do here: the store does not interpret signatures.
    let digest =
        alloy::primitives::keccak256([lane.as_slice(), &sequence.to_be_bytes(), accumulator.as_slice()].concat());
    SignedCheckpoint {
        lane,
        sequence,
        accumulator,
        signer: signer.address(),
        signature: signer.sign_hash_sync(&digest).expect("sign"),
    }
}

#[test]
fn save_then_read_at_and_latest() {
    let (_dir, store) = temp_store();
    let key = PrivateKeySigner::random();
    let (a, b) = (lane(1), lane(2));
    assert_eq!(store.latest_signed(a).expect("latest"), None);

    // Saved out of order: latest is by sequence, not by insertion.
    let cps: Vec<_> = [3u64, 10, 7].iter().map(|&s| signed(&key, a, s, acc(1, s))).collect();
    for cp in &cps {
        store.save_signed(cp).expect("save");
    }
    let other = signed(&key, b, 50, acc(2, 50));
    store.save_signed(&other).expect("save other lane");

    assert_eq!(store.signed_at(a, 3).expect("at"), Some(cps[0].clone()));
    assert_eq!(store.signed_at(a, 7).expect("at"), Some(cps[2].clone()));
    assert_eq!(store.signed_at(a, 4).expect("at"), None);
    assert_eq!(store.signed_at(a, 50).expect("at"), None);
    assert_eq!(store.latest_signed(a).expect("latest"), Some(cps[1].clone()));
    assert_eq!(store.latest_signed(b).expect("latest"), Some(other));
}

#[test]
fn save_is_an_upsert_and_persists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.sqlite");
    let (first, second) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let replacement = signed(&second, lane(1), 5, acc(1, 5));
    {
        let store = ValidatorStore::open(&path).expect("open");
        store.save_signed(&signed(&first, lane(1), 5, acc(1, 5))).expect("save");
        store.save_signed(&replacement).expect("upsert");
    }
    let store = ValidatorStore::open(&path).expect("reopen");
    let got = store.signed_at(lane(1), 5).expect("at").expect("present");
    assert_eq!(got, replacement);
    assert_eq!(got.signer, second.address());
    // The signature survives the 65-byte encoding exactly, and still recovers the signer.
    let digest = alloy::primitives::keccak256([lane(1).as_slice(), &5u64.to_be_bytes(), acc(1, 5).as_slice()].concat());
    assert_eq!(got.signature.recover_address_from_prehash(&digest).expect("recover"), second.address());
}

#[test]
fn a_store_knows_checkpoints_of_another_signer() {
    let (_dir, store) = temp_store();
    let (own, other) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    assert_eq!(store.foreign_signer(own.address()).expect("read"), None, "an empty store belongs to no one");
    store.save_signed(&signed(&own, lane(1), 1, acc(1, 1))).expect("save");
    assert_eq!(store.foreign_signer(own.address()).expect("read"), None);
    assert_eq!(store.foreign_signer(other.address()).expect("read"), Some(own.address()));
}
