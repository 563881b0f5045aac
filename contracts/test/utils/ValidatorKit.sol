// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {Checkpoint, Message} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Validator keys, set encoding, checkpoint signing and the protocol hashes, written
/// independently of the contracts (what a validator computes). Shared by tests and scripts.
abstract contract ValidatorKit is CommonBase {
    struct ValidatorSet {
        uint256[] keys; // sorted by address
        address[] members;
        uint96[] weights;
        uint96 threshold;
        uint64 validUntil; // the set's expiry on the destination
    }

    /// @notice Sets made by the kit never expire unless a test says otherwise (governance-configured
    /// sets; staked sets take the stake manager's expiry).
    uint64 internal constant NEVER = type(uint64).max;

    // ---------------------------------------------------------------------------------------
    // Validators
    // ---------------------------------------------------------------------------------------

    /// @notice `n` validators of weight 1 with threshold `k` (k must be at least 2n/3).
    function makeSet(string memory seed, uint256 n, uint96 k) internal pure returns (ValidatorSet memory set) {
        uint96[] memory weights = new uint96[](n);
        for (uint256 i; i < n; ++i) {
            weights[i] = 1;
        }
        return makeWeightedSet(seed, weights, k);
    }

    function makeWeightedSet(string memory seed, uint96[] memory weights, uint96 threshold)
        internal
        pure
        returns (ValidatorSet memory set)
    {
        uint256 n = weights.length;
        set.keys = new uint256[](n);
        set.members = new address[](n);
        set.weights = weights;
        set.threshold = threshold;
        set.validUntil = NEVER;
        for (uint256 i; i < n; ++i) {
            set.keys[i] = uint256(keccak256(abi.encode(seed, i))) % (SECP256K1_N - 1) + 1;
            set.members[i] = vm.addr(set.keys[i]);
        }
        // insertion sort by address; keys and weights move with their member
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && set.members[j - 1] > set.members[j]; --j) {
                (set.members[j - 1], set.members[j]) = (set.members[j], set.members[j - 1]);
                (set.keys[j - 1], set.keys[j]) = (set.keys[j], set.keys[j - 1]);
                (set.weights[j - 1], set.weights[j]) = (set.weights[j], set.weights[j - 1]);
            }
        }
    }

    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function encodeSet(ValidatorSet memory set) internal pure returns (bytes memory out) {
        out = abi.encodePacked(set.threshold, set.validUntil);
        for (uint256 i; i < set.members.length; ++i) {
            out = abi.encodePacked(out, set.members[i], set.weights[i]);
        }
    }


    /// @notice One 65-byte packed signature by member `index` of `set`.
    function signAs(ValidatorSet memory set, uint256 index, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(set.keys[index], digest);
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        return abi.encodePacked(uint8(index), r, vs);
    }

    /// @notice Signatures of the given members, in the given order.
    function signBy(ValidatorSet memory set, uint256[] memory indices, bytes32 digest)
        internal
        pure
        returns (bytes memory sigs)
    {
        for (uint256 i; i < indices.length; ++i) {
            sigs = abi.encodePacked(sigs, signAs(set, indices[i], digest));
        }
    }

    /// @notice The lowest-index members whose weight reaches the threshold.
    function quorumSignatures(ValidatorSet memory set, bytes32 digest) internal pure returns (bytes memory sigs) {
        uint256 weight;
        for (uint256 i; i < set.members.length && weight < set.threshold; ++i) {
            sigs = abi.encodePacked(sigs, signAs(set, i, digest));
            weight += set.weights[i];
        }
    }

    // ---------------------------------------------------------------------------------------
    // Independent re-implementation of the protocol hashes (what a validator computes)
    // ---------------------------------------------------------------------------------------

    function domainOf(uint64 chainId, address bridge) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes("zerobridge")),
                keccak256(bytes("1")),
                uint256(chainId),
                bridge
            )
        );
    }

    function digestOf(bytes32 domain, Checkpoint memory cp) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Checkpoint(bytes32 lane,uint64 sequence,bytes32 accumulator)"),
                cp.lane,
                cp.sequence,
                cp.accumulator
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }


    function initialAcc(bytes32 lane) internal pure returns (bytes32) {
        return keccak256(abi.encode("zerobridge.acc", lane));
    }

    function nextAcc(bytes32 acc, Message memory m) internal pure returns (bytes32) {
        return keccak256(abi.encode(acc, keccak256(abi.encode(m))));
    }
}
