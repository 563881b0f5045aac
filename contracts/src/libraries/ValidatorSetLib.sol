// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IZeroBridgeErrors} from "../interfaces/IZeroBridge.sol";

/// @notice Validator sets and quorum checks.
///
/// A set is passed in calldata and checked against one stored hash (cheaper than reading every
/// member from storage):
///   set        = threshold (uint96, 12 bytes) ‖ member_0 ‖ … ‖ member_{n-1}
///   member     = signer address (20 bytes) ‖ weight (uint96, 12 bytes), strictly ascending by address
/// Signatures are packed the same way, 65 bytes each, in strictly ascending member index:
///   signature  = member index (1 byte) ‖ r (32 bytes) ‖ yParityAndS (32 bytes, EIP-2098)
/// Ascending indices into an address-sorted set mean ascending, distinct signers.
library ValidatorSetLib {
    uint256 internal constant MAX_MEMBERS = 128;
    uint256 internal constant MEMBER_BYTES = 32;
    uint256 internal constant HEADER_BYTES = 12;
    uint256 internal constant SIGNATURE_BYTES = 65;

    /// @notice Checks the format and the 2/3 rule. Called whenever a set is installed or queued.
    function validate(bytes calldata set) internal pure returns (bytes32 setHash) {
        if (set.length < HEADER_BYTES + MEMBER_BYTES || (set.length - HEADER_BYTES) % MEMBER_BYTES != 0) {
            revert IZeroBridgeErrors.MalformedValidatorSet();
        }
        uint256 n = (set.length - HEADER_BYTES) / MEMBER_BYTES;
        if (n > MAX_MEMBERS) revert IZeroBridgeErrors.MalformedValidatorSet();
        uint256 threshold = uint96(bytes12(set[0:HEADER_BYTES]));
        uint256 total;
        address previous;
        for (uint256 i; i < n; ++i) {
            (address member, uint256 weight) = memberAt(set, i);
            if (member <= previous || weight == 0) revert IZeroBridgeErrors.MalformedValidatorSet();
            previous = member;
            total += weight;
        }
        // threshold >= 2/3 of the total weight, and reachable.
        if (threshold * 3 < total * 2 || threshold > total) {
            revert IZeroBridgeErrors.ThresholdTooLow(threshold, total);
        }
        return keccak256(set);
    }

    function memberAt(bytes calldata set, uint256 index) internal pure returns (address member, uint256 weight) {
        uint256 offset = HEADER_BYTES + index * MEMBER_BYTES;
        bytes32 word = bytes32(set[offset:offset + MEMBER_BYTES]);
        member = address(bytes20(word));
        weight = uint96(uint256(word));
    }

    /// @notice Reverts unless `signatures` carry a quorum of `set` over `digest`.
    /// The caller has already checked keccak256(set) against the lane's stored set hash.
    function verifyQuorum(bytes calldata set, bytes calldata signatures, bytes32 digest) internal pure {
        if (signatures.length == 0 || signatures.length % SIGNATURE_BYTES != 0) {
            revert IZeroBridgeErrors.MalformedSignatures();
        }
        uint256 count = signatures.length / SIGNATURE_BYTES;
        uint256 weight;
        uint256 nextAllowed; // smallest member index the next signature may use
        for (uint256 i; i < count; ++i) {
            (uint256 index, uint256 memberWeight) = _checkSignature(set, signatures, i, digest);
            if (index < nextAllowed) revert IZeroBridgeErrors.SignersNotAscending(i);
            nextAllowed = index + 1;
            weight += memberWeight;
        }
        uint256 threshold = uint96(bytes12(set[0:HEADER_BYTES]));
        if (weight < threshold) revert IZeroBridgeErrors.QuorumNotReached(weight, threshold);
    }

    /// @dev Recovers signature `i` and checks it against the member it names.
    function _checkSignature(bytes calldata set, bytes calldata signatures, uint256 i, bytes32 digest)
        private
        pure
        returns (uint256 index, uint256 weight)
    {
        uint256 offset = i * SIGNATURE_BYTES;
        index = uint8(signatures[offset]);
        if (index >= (set.length - HEADER_BYTES) / MEMBER_BYTES) revert IZeroBridgeErrors.SignerIndexOutOfRange(i);
        // tryRecover rejects high-s and malformed signatures instead of returning a wrong signer.
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(
            digest, bytes32(signatures[offset + 1:offset + 33]), bytes32(signatures[offset + 33:offset + 65])
        );
        if (err != ECDSA.RecoverError.NoError) revert IZeroBridgeErrors.InvalidSignature(i);
        address member;
        (member, weight) = memberAt(set, index);
        if (recovered != member) revert IZeroBridgeErrors.SignerNotInSet(i, recovered);
    }
}
