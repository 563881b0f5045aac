// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IZeroBridgeErrors} from "../interfaces/IZeroBridge.sol";

/// @notice Validator sets and quorum checks.
///
/// A set is passed in calldata and checked against one stored hash (cheaper than reading every
/// member from storage):
///   set        = threshold (uint96, 12 bytes) ‖ validUntil (uint64, 8 bytes) ‖ member_0 ‖ … ‖ member_{n-1}
///   member     = signer address (20 bytes) ‖ weight (uint96, 12 bytes), strictly ascending by address
/// `validUntil` is the set's hard expiry (unix seconds, exclusive): the destination refuses its
/// signatures from then on, and the source's stake manager keeps every member's stake bonded until
/// that moment plus the detection window (docs/security-model.md).
/// Signatures are packed the same way, 65 bytes each, in strictly ascending member index:
///   signature  = member index (1 byte) ‖ r (32 bytes) ‖ yParityAndS (32 bytes, EIP-2098)
/// Ascending indices into an address-sorted set mean ascending, distinct signers.
library ValidatorSetLib {
    uint256 internal constant MAX_MEMBERS = 128;
    uint256 internal constant MEMBER_BYTES = 32;
    uint256 internal constant THRESHOLD_BYTES = 12;
    uint256 internal constant HEADER_BYTES = 20;
    uint256 internal constant SIGNATURE_BYTES = 65;
    /// @dev secp256k1 order / 2: signatures with a larger s are rejected (EIP-2).
    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice Checks the format, the 2/3 rule and that the set has not expired. Called whenever a
    /// set is installed or queued.
    function validate(bytes calldata set) internal view returns (bytes32 setHash) {
        if (set.length < HEADER_BYTES + MEMBER_BYTES || (set.length - HEADER_BYTES) % MEMBER_BYTES != 0) {
            revert IZeroBridgeErrors.MalformedValidatorSet();
        }
        uint256 n = (set.length - HEADER_BYTES) / MEMBER_BYTES;
        if (n > MAX_MEMBERS) revert IZeroBridgeErrors.MalformedValidatorSet();
        uint256 threshold = uint96(bytes12(set[0:THRESHOLD_BYTES]));
        uint256 expiry = validUntil(set);
        if (expiry <= block.timestamp) revert IZeroBridgeErrors.ValidatorSetExpired(expiry);
        uint256 total;
        address previous;
        for (uint256 i; i < n; ++i) {
            (address member, uint256 weight) = memberAt(set, i);
            if (member <= previous || weight == 0) revert IZeroBridgeErrors.MalformedValidatorSet();
            previous = member;
            total += weight;
        }
        // threshold >= 2/3 of the total weight, and reachable.
        if (threshold * 3 < total * 2) revert IZeroBridgeErrors.ThresholdTooLow(threshold, total);
        if (threshold > total) revert IZeroBridgeErrors.MalformedValidatorSet();
        return keccak256(set);
    }

    /// @notice The set's expiry. Callers have checked that `set` holds at least the header.
    function validUntil(bytes calldata set) internal pure returns (uint64) {
        return uint64(bytes8(set[THRESHOLD_BYTES:HEADER_BYTES]));
    }

    function memberAt(bytes calldata set, uint256 index) internal pure returns (address member, uint256 weight) {
        // Callers bound `index` by the member count, so the word lies inside `set`.
        bytes32 word;
        assembly ("memory-safe") {
            word := calldataload(add(set.offset, add(HEADER_BYTES, mul(index, MEMBER_BYTES))))
        }
        member = address(bytes20(word));
        weight = uint96(uint256(word));
    }

    /// @notice Reverts unless `signatures` carry a quorum of `set` over `digest`.
    /// The caller has already checked keccak256(set) against the lane's stored set hash.
    function verifyQuorum(bytes calldata set, bytes calldata signatures, bytes32 digest) internal view {
        if (signatures.length == 0 || signatures.length % SIGNATURE_BYTES != 0) {
            revert IZeroBridgeErrors.MalformedSignatures();
        }
        uint256 members = (set.length - HEADER_BYTES) / MEMBER_BYTES;
        uint256 count = signatures.length / SIGNATURE_BYTES;
        uint256 weight;
        uint256 nextAllowed; // smallest member index the next signature may use
        for (uint256 i; i < count; ++i) {
            (uint256 index, address recovered) = _signerAt(signatures, i, digest);
            if (index < nextAllowed) revert IZeroBridgeErrors.SignersNotAscending(i);
            if (index >= members) revert IZeroBridgeErrors.SignerIndexOutOfRange(i);
            nextAllowed = index + 1;
            if (recovered == address(0)) revert IZeroBridgeErrors.InvalidSignature(i);
            (address member, uint256 memberWeight) = memberAt(set, index);
            if (recovered != member) revert IZeroBridgeErrors.SignerNotInSet(i, recovered);
            weight += memberWeight;
        }
        uint256 threshold = uint96(bytes12(set[0:THRESHOLD_BYTES]));
        if (weight < threshold) revert IZeroBridgeErrors.QuorumNotReached(weight, threshold);
    }

    /// @notice ecrecover of an EIP-2098 signature; address(0) for an invalid or high-s one
    /// (a high-s signature is a malleable twin of a valid one and must not count as distinct).
    /// Hand-written rather than OpenZeppelin's ECDSA: it is the hot loop of every delivery, and
    /// this form saves about 2k gas per signature. Tests cover high-s, garbage and wrong signers.
    function recover(bytes32 digest, bytes32 r, bytes32 vs) internal view returns (address signer) {
        uint256 s = uint256(vs) & ((1 << 255) - 1);
        if (s > HALF_ORDER) return address(0);
        uint256 v = (uint256(vs) >> 255) + 27;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, digest)
            mstore(add(ptr, 0x20), v)
            mstore(add(ptr, 0x40), r)
            mstore(add(ptr, 0x60), s)
            mstore(0x00, 0)
            // precompile 1 returns nothing for an invalid signature: the zeroed word stays 0
            if staticcall(gas(), 1, ptr, 0x80, 0x00, 0x20) { signer := mload(0x00) }
        }
    }

    /// @dev Member index and recovered signer of signature `i`.
    function _signerAt(bytes calldata signatures, uint256 i, bytes32 digest)
        private
        view
        returns (uint256 index, address signer)
    {
        bytes32 r;
        bytes32 vs;
        // The loop bounds `i` by signatures.length / 65, so all 65 bytes lie inside the array.
        assembly ("memory-safe") {
            let p := add(signatures.offset, mul(i, SIGNATURE_BYTES))
            index := byte(0, calldataload(p))
            r := calldataload(add(p, 1))
            vs := calldataload(add(p, 33))
        }
        signer = recover(digest, r, vs);
    }
}
