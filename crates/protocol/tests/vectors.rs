//! The Rust protocol code against the shared vectors that the Solidity LaneCodec is also
//! checked against (testdata/protocol-vectors.json).

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use zb_protocol::validator_set::{Member, NEVER_EXPIRES};
use zb_protocol::{
    Accumulator, Checkpoint, Message, PackedSignature, QuorumError, ValidatorSet, ValidatorSetError, checkpoint_digest,
    domain_separator, initial_accumulator, lane_id, message_hash, route_id, sign_checkpoint,
};

struct Vectors(serde_json::Value);

impl Vectors {
    fn load() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/protocol-vectors.json");
        let text = std::fs::read_to_string(path).expect("vectors file");
        Self(serde_json::from_str(&text).expect("vectors json"))
    }
    fn str(&self, key: &str) -> &str {
        self.0.pointer(key).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("missing {key}"))
    }
    fn b256(&self, key: &str) -> B256 {
        self.str(key).parse().expect("b256")
    }
    fn address(&self, key: &str) -> Address {
        self.str(key).parse().expect("address")
    }
    fn u64(&self, key: &str) -> u64 {
        self.0.pointer(key).and_then(|v| v.as_u64()).unwrap_or_else(|| panic!("missing {key}"))
    }
}

#[test]
fn hashes_match_the_contracts() {
    let v = Vectors::load();
    let (home, remote) = (v.u64("/homeChainId"), v.u64("/remoteChainId"));
    let home_bridge = v.address("/homeBridge");
    let route = route_id(home, v.address("/homeToken"), remote);
    assert_eq!(route, v.b256("/routeId"));
    let lane = lane_id(home, home_bridge, remote, v.address("/remoteBridge"), route);
    assert_eq!(lane, v.b256("/laneId"));
    assert_eq!(initial_accumulator(lane), v.b256("/acc0"));

    let message = Message {
        sequence: v.u64("/message/sequence"),
        kind: 1,
        sender: v.address("/message/sender"),
        recipient: v.address("/message/recipient"),
        amount: U256::from_str_radix(v.str("/message/amount"), 10).expect("amount"),
        data: v.b256("/message/data"),
        sentAt: v.u64("/message/sentAt"),
        deadline: v.u64("/message/deadline"),
    };
    assert_eq!(message_hash(&message), v.b256("/messageHash"));
    let mut acc = Accumulator::new(lane);
    assert_eq!(acc.push(&message).expect("in order"), v.b256("/acc1"));

    assert_eq!(domain_separator(home, home_bridge), v.b256("/domainSeparator"));
    let checkpoint = Checkpoint { lane, sequence: 1, accumulator: acc.value };
    assert_eq!(checkpoint_digest(&checkpoint, home, home_bridge), v.b256("/checkpointDigest"));
}

#[test]
fn accumulator_refuses_gaps_and_replays() {
    let lane = B256::repeat_byte(7);
    let mut acc = Accumulator::new(lane);
    let mut m = Message {
        sequence: 2,
        kind: 1,
        sender: Address::ZERO,
        recipient: Address::repeat_byte(3),
        amount: U256::from(1),
        data: B256::ZERO,
        sentAt: 1,
        deadline: u64::MAX,
    };
    assert!(acc.push(&m).is_err(), "gap");
    m.sequence = 1;
    acc.push(&m).expect("first");
    assert!(acc.push(&m).is_err(), "replay");
}

fn signers(n: usize) -> Vec<PrivateKeySigner> {
    (1..=n).map(|i| PrivateKeySigner::from_bytes(&B256::with_last_byte(i as u8)).expect("key")).collect()
}

fn equal_set(keys: &[PrivateKeySigner], threshold: u128) -> ValidatorSet {
    let members = keys.iter().map(|k| Member { signer: k.address(), weight: 1 }).collect();
    ValidatorSet::new(threshold, NEVER_EXPIRES, members).expect("valid set")
}

#[test]
fn set_encoding_round_trips_and_enforces_two_thirds() {
    let keys = signers(4);
    let set = equal_set(&keys, 3);
    let encoded = set.encode();
    // threshold (12 bytes) ‖ validUntil (8 bytes) ‖ 4 × (address ‖ weight)
    assert_eq!(encoded.len(), 20 + 4 * 32);
    assert_eq!(&encoded[..12], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
    assert_eq!(&encoded[12..20], &[0xff; 8], "a governance set never expires");
    assert_eq!(&encoded[20..40], set.members[0].signer.as_slice());
    assert_eq!(ValidatorSet::decode(&encoded).expect("decode"), set);
    // The expiry is part of the encoding, hence of the hash the bridge stores.
    let expiring = ValidatorSet { valid_until: 1_700_000_000, ..set.clone() };
    let encoded_expiring = expiring.encode();
    assert_eq!(&encoded_expiring[12..20], &1_700_000_000u64.to_be_bytes());
    assert_eq!(ValidatorSet::decode(&encoded_expiring).expect("decode"), expiring);
    assert_ne!(expiring.hash(), set.hash());
    assert!(!expiring.expired_at(1_699_999_999));
    assert!(expiring.expired_at(1_700_000_000), "validUntil is exclusive");
    assert!(!set.expired_at(u64::MAX - 1));
    // A set in the old 12-byte-header layout does not decode.
    let mut old = encoded[..12].to_vec();
    old.extend_from_slice(&encoded[20..]);
    assert_eq!(ValidatorSet::decode(&old), Err(ValidatorSetError::Malformed("wrong length")));
    let members = keys.iter().map(|k| Member { signer: k.address(), weight: 1 }).collect();
    assert_eq!(
        ValidatorSet::new(2, NEVER_EXPIRES, members),
        Err(ValidatorSetError::ThresholdTooLow { threshold: 2, total: 4 })
    );
    let mut unsorted = set.clone();
    unsorted.members.swap(0, 1);
    assert!(matches!(unsorted.validate(), Err(ValidatorSetError::Malformed(_))));
}

#[test]
fn quorum_check_mirrors_the_contract() {
    let keys = signers(4);
    let set = equal_set(&keys, 3);
    let (chain, bridge) = (1, Address::repeat_byte(0xaa));
    let checkpoint = Checkpoint { lane: B256::repeat_byte(1), sequence: 5, accumulator: B256::repeat_byte(2) };
    let digest = checkpoint_digest(&checkpoint, chain, bridge);
    let by_member = |i: usize| {
        let key = keys.iter().find(|k| k.address() == set.members[i].signer).expect("member key");
        PackedSignature {
            member_index: i as u8,
            signature: sign_checkpoint(key, &checkpoint, chain, bridge).expect("sign"),
        }
    };
    let quorum = [by_member(0), by_member(1), by_member(3)];
    assert_eq!(set.verify_quorum(&digest, &quorum), Ok(3));
    assert_eq!(set.verify_quorum(&digest, &quorum[..2]), Err(QuorumError::BelowThreshold { weight: 2, threshold: 3 }));
    assert_eq!(set.verify_quorum(&digest, &[by_member(1), by_member(0)]), Err(QuorumError::NotAscending(1)));
    assert_eq!(set.verify_quorum(&digest, &[by_member(0), by_member(0)]), Err(QuorumError::NotAscending(1)));
    let mut wrong_index = by_member(2);
    wrong_index.member_index = 1;
    assert!(matches!(
        set.verify_quorum(&digest, &[by_member(0), wrong_index]),
        Err(QuorumError::NotMember { index: 1, .. })
    ));
    // the packed form is what deliver() parses; it must round-trip
    let packed = PackedSignature::pack(&quorum);
    assert_eq!(packed.len(), 3 * PackedSignature::LEN);
    let first: [u8; 65] = packed[..65].try_into().expect("65 bytes");
    assert_eq!(PackedSignature::from_bytes(&first), quorum[0]);
}

#[test]
fn quorum_selection_keeps_valid_member_signatures_once_and_stops_at_the_threshold() {
    let keys = signers(4);
    let set = equal_set(&keys, 3);
    let (chain, bridge) = (1, Address::repeat_byte(0xaa));
    let checkpoint = Checkpoint { lane: B256::repeat_byte(1), sequence: 5, accumulator: B256::repeat_byte(2) };
    let digest = checkpoint_digest(&checkpoint, chain, bridge);
    let sign = |key: &PrivateKeySigner, cp: &Checkpoint| {
        (key.address(), sign_checkpoint(key, cp, chain, bridge).expect("sign"))
    };
    let other = Checkpoint { sequence: 6, ..checkpoint.clone() };
    let outsider = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x77)).expect("key");
    let answers = vec![
        sign(&keys[3], &checkpoint),
        sign(&keys[0], &checkpoint),
        sign(&keys[0], &checkpoint), // the same member twice counts once
        (keys[1].address(), sign(&keys[2], &checkpoint).1), // claims another signer
        sign(&keys[1], &other),      // another checkpoint
        sign(&outsider, &checkpoint), // not a member
    ];
    let two = set.select_quorum(&digest, answers.clone());
    assert_eq!(two.valid.len(), 2);
    assert_eq!(two.weight, 2);
    assert_eq!(two.quorum, None, "2 of threshold 3");
    assert!(two.valid.windows(2).all(|w| w[0].member_index < w[1].member_index), "ascending member order");

    let mut all = answers;
    all.push(sign(&keys[1], &checkpoint));
    all.push(sign(&keys[2], &checkpoint));
    let four = set.select_quorum(&digest, all);
    assert_eq!((four.valid.len(), four.weight), (4, 4));
    let quorum = four.quorum.expect("a quorum");
    assert_eq!(quorum.len(), 3, "no more than the threshold needs");
    assert_eq!(set.verify_quorum(&digest, &quorum), Ok(3));
}
