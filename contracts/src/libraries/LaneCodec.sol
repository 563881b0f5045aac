// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Message, Checkpoint} from "../interfaces/IZeroBridge.sol";

/// @notice Identifiers, hashes and the accumulator of the zerobridge protocol (docs/protocol.md).
/// Off-chain agents reproduce these byte for byte.
library LaneCodec {
    bytes32 internal constant CHECKPOINT_TYPEHASH =
        keccak256("Checkpoint(bytes32 lane,uint64 sequence,bytes32 accumulator)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("zerobridge");
    bytes32 internal constant VERSION_HASH = keccak256("1");

    /// @notice routeId = keccak256(abi.encode(homeChainId, homeToken, remoteChainId)): equal on both chains.
    function routeId(uint64 homeChainId, address homeToken, uint64 remoteChainId) internal pure returns (bytes32) {
        return keccak256(abi.encode(homeChainId, homeToken, remoteChainId));
    }

    function laneId(uint64 srcChainId, address srcBridge, uint64 dstChainId, address dstBridge, bytes32 route)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(srcChainId, srcBridge, dstChainId, dstBridge, route));
    }

    /// @notice acc_0: never zero, and different for every lane.
    function initialAccumulator(bytes32 lane) internal pure returns (bytes32) {
        return keccak256(abi.encode("zerobridge.acc", lane));
    }

    function messageHash(Message memory m) internal pure returns (bytes32) {
        return keccak256(abi.encode(m));
    }

    function messageHashCalldata(Message calldata m) internal pure returns (bytes32 h) {
        // Message is eight static words: hashing the calldata copy equals keccak256(abi.encode(m)).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, m, 0x100)
            h := keccak256(ptr, 0x100)
        }
    }

    /// @notice acc_n = keccak256(abi.encode(acc_{n-1}, messageHash_n)).
    function chain(bytes32 acc, bytes32 msgHash) internal pure returns (bytes32 next) {
        assembly ("memory-safe") {
            mstore(0x00, acc)
            mstore(0x20, msgHash)
            next := keccak256(0x00, 0x40)
        }
    }

    function domainSeparator(uint256 chainId, address bridge) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chainId, bridge));
    }

    function checkpointDigest(bytes32 domain, Checkpoint calldata cp) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(CHECKPOINT_TYPEHASH, cp.lane, cp.sequence, cp.accumulator));
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }
}
