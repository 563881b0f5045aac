//! Validator sets: the packed encoding stored as a hash on chain, and the quorum rules that
//! `deliver` enforces, so a relayer can check signatures before it pays for a transaction.

use alloy::primitives::{Address, B256, Signature, keccak256};

use crate::checkpoint::PackedSignature;

pub const MAX_MEMBERS: usize = 128;
/// threshold (uint96, 12 bytes) ‖ validUntil (uint64, 8 bytes).
const THRESHOLD: usize = 12;
const HEADER: usize = THRESHOLD + 8;
const MEMBER: usize = 32;
/// `validUntil` of a set that never expires: governance-configured sets (staked sets take the
/// stake manager's expiry).
pub const NEVER_EXPIRES: u64 = u64::MAX;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub signer: Address,
    /// uint96 on chain.
    pub weight: u128,
}

/// What [`ValidatorSet::select_quorum`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub valid: Vec<PackedSignature>,
    /// The weight of every valid signature.
    pub weight: u128,
    pub quorum: Option<Vec<PackedSignature>>,
}

/// threshold (uint96) ‖ validUntil (uint64) ‖ members (address ‖ uint96 weight), strictly
/// ascending by address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidatorSet {
    pub threshold: u128,
    /// The set's hard expiry (unix seconds, exclusive): the destination refuses its signatures
    /// from then on ([`NEVER_EXPIRES`] for governance-configured sets).
    pub valid_until: u64,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    #[error("validator set is malformed: {0}")]
    Malformed(&'static str),
    #[error("threshold {threshold} is below two thirds of the total weight {total}")]
    ThresholdTooLow { threshold: u128, total: u128 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    #[error("signature {0}: signers must be strictly ascending by member index")]
    NotAscending(usize),
    #[error("signature {0}: member index out of range")]
    IndexOutOfRange(usize),
    #[error("signature {0}: invalid or high-s signature")]
    Invalid(usize),
    #[error("signature {index}: recovered {recovered}, which is not the member it names")]
    NotMember { index: usize, recovered: Address },
    #[error("signed weight {weight} is below the threshold {threshold}")]
    BelowThreshold { weight: u128, threshold: u128 },
}

const U96_MAX: u128 = (1u128 << 96) - 1;

impl ValidatorSet {
    /// Builds a set from unsorted members; checks the same rules as the contract (except the
    /// expiry, which the contract checks against its clock: see [`ValidatorSet::expired_at`]).
    pub fn new(threshold: u128, valid_until: u64, mut members: Vec<Member>) -> Result<Self, ValidatorSetError> {
        members.sort_by_key(|m| m.signer);
        let set = Self { threshold, valid_until, members };
        set.validate()?;
        Ok(set)
    }

    pub fn validate(&self) -> Result<(), ValidatorSetError> {
        if self.members.is_empty() || self.members.len() > MAX_MEMBERS {
            return Err(ValidatorSetError::Malformed("needs 1 to 128 members"));
        }
        let mut previous = Address::ZERO;
        let mut total: u128 = 0;
        for m in &self.members {
            if m.signer <= previous {
                return Err(ValidatorSetError::Malformed("members must be distinct, non-zero and ascending"));
            }
            if m.weight == 0 || m.weight > U96_MAX {
                return Err(ValidatorSetError::Malformed("weights must be in 1..2^96"));
            }
            previous = m.signer;
            total += m.weight;
        }
        if self.threshold > U96_MAX || self.threshold > total {
            return Err(ValidatorSetError::Malformed("threshold above the total weight"));
        }
        if self.threshold * 3 < total * 2 {
            return Err(ValidatorSetError::ThresholdTooLow { threshold: self.threshold, total });
        }
        Ok(())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + MEMBER * self.members.len());
        out.extend_from_slice(&self.threshold.to_be_bytes()[4..]);
        out.extend_from_slice(&self.valid_until.to_be_bytes());
        for m in &self.members {
            out.extend_from_slice(m.signer.as_slice());
            out.extend_from_slice(&m.weight.to_be_bytes()[4..]);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ValidatorSetError> {
        if bytes.len() < HEADER + MEMBER || !(bytes.len() - HEADER).is_multiple_of(MEMBER) {
            return Err(ValidatorSetError::Malformed("wrong length"));
        }
        let threshold = u96(&bytes[..THRESHOLD]);
        let mut until = [0u8; 8];
        until.copy_from_slice(&bytes[THRESHOLD..HEADER]);
        let valid_until = u64::from_be_bytes(until);
        let members = bytes[HEADER..]
            .chunks_exact(MEMBER)
            .map(|c| Member { signer: Address::from_slice(&c[..20]), weight: u96(&c[20..]) })
            .collect();
        let set = Self { threshold, valid_until, members };
        set.validate()?;
        Ok(set)
    }

    /// Whether the destination refuses the set at unix time `now` (`ValidatorSetExpired`).
    pub fn expired_at(&self, now: u64) -> bool {
        now >= self.valid_until
    }

    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }

    pub fn total_weight(&self) -> u128 {
        self.members.iter().map(|m| m.weight).sum()
    }

    pub fn index_of(&self, signer: Address) -> Option<u8> {
        self.members.iter().position(|m| m.signer == signer).and_then(|i| u8::try_from(i).ok())
    }

    /// From `(signer, signature)` answers over `digest`: the valid signatures of members (each
    /// member once, in ascending member order), their total weight, and the smallest prefix of
    /// them that passes [`ValidatorSet::verify_quorum`], if any. What a relayer or a holder
    /// submits, checked with the contract's own rules first.
    pub fn select_quorum(&self, digest: &B256, answers: impl IntoIterator<Item = (Address, Signature)>) -> Selection {
        let mut valid: Vec<PackedSignature> = answers
            .into_iter()
            .filter(|(signer, signature)| signature.recover_address_from_prehash(digest).ok() == Some(*signer))
            .filter_map(|(signer, signature)| Some(PackedSignature { member_index: self.index_of(signer)?, signature }))
            .collect();
        valid.sort_by_key(|s| s.member_index);
        valid.dedup_by_key(|s| s.member_index);
        let weight_of = |s: &PackedSignature| self.members.get(usize::from(s.member_index)).map_or(0, |m| m.weight);
        let weight = valid.iter().map(weight_of).sum();
        let mut chosen = Vec::new();
        let mut chosen_weight = 0u128;
        for signature in &valid {
            if chosen_weight >= self.threshold {
                break;
            }
            chosen_weight += weight_of(signature);
            chosen.push(*signature);
        }
        let quorum = self.verify_quorum(digest, &chosen).is_ok().then_some(chosen);
        Selection { valid, weight, quorum }
    }

    /// The same checks, in the same order, as `ValidatorSetLib.verifyQuorum` on chain.
    pub fn verify_quorum(&self, digest: &B256, signatures: &[PackedSignature]) -> Result<u128, QuorumError> {
        let mut weight: u128 = 0;
        let mut next_allowed = 0usize;
        for (i, packed) in signatures.iter().enumerate() {
            let index = usize::from(packed.member_index);
            if index < next_allowed {
                return Err(QuorumError::NotAscending(i));
            }
            let Some(member) = self.members.get(index) else {
                return Err(QuorumError::IndexOutOfRange(i));
            };
            next_allowed = index + 1;
            if packed.signature.normalize_s().is_some() {
                return Err(QuorumError::Invalid(i)); // high-s
            }
            let recovered =
                packed.signature.recover_address_from_prehash(digest).map_err(|_| QuorumError::Invalid(i))?;
            if recovered != member.signer {
                return Err(QuorumError::NotMember { index: i, recovered });
            }
            weight += member.weight;
        }
        if weight < self.threshold {
            return Err(QuorumError::BelowThreshold { weight, threshold: self.threshold });
        }
        Ok(weight)
    }
}

fn u96(bytes: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    buf[4..].copy_from_slice(bytes);
    u128::from_be_bytes(buf)
}
