//! EIP-712 checkpoints and the packed signature format `deliver` expects.

use alloy::primitives::{Address, B256, Signature};
use alloy::signers::SignerSync;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};

use crate::Checkpoint;

/// The domain validators sign under: the source bridge on the source chain.
pub fn domain(source_chain: u64, source_bridge: Address) -> Eip712Domain {
    eip712_domain! {
        name: "zerobridge",
        version: "1",
        chain_id: source_chain,
        verifying_contract: source_bridge,
    }
}

pub fn domain_separator(source_chain: u64, source_bridge: Address) -> B256 {
    domain(source_chain, source_bridge).separator()
}

/// The digest a validator signs: "the first `sequence` messages of `lane` hash to `accumulator`".
pub fn checkpoint_digest(checkpoint: &Checkpoint, source_chain: u64, source_bridge: Address) -> B256 {
    checkpoint.eip712_signing_hash(&domain(source_chain, source_bridge))
}

/// Signs a checkpoint; the result is low-s (EIP-2), as the contracts require.
pub fn sign_checkpoint<S: SignerSync>(
    signer: &S,
    checkpoint: &Checkpoint,
    source_chain: u64,
    source_bridge: Address,
) -> alloy::signers::Result<Signature> {
    signer.sign_hash_sync(&checkpoint_digest(checkpoint, source_chain, source_bridge))
}

/// One entry of `deliver`'s signature bytes: member index ‖ r ‖ yParityAndS (EIP-2098).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedSignature {
    pub member_index: u8,
    pub signature: Signature,
}

impl PackedSignature {
    pub const LEN: usize = 65;

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = self.member_index;
        out[1..].copy_from_slice(&self.signature.as_erc2098());
        out
    }

    pub fn from_bytes(bytes: &[u8; Self::LEN]) -> Self {
        Self { member_index: bytes[0], signature: Signature::from_erc2098(&bytes[1..]) }
    }

    /// Concatenates signatures, which must already be in ascending member order.
    pub fn pack(signatures: &[PackedSignature]) -> Vec<u8> {
        signatures.iter().flat_map(|s| s.to_bytes()).collect()
    }
}
