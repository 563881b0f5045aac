// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Message, Checkpoint} from "../../src/interfaces/IZeroBridge.sol";
import {LaneCodec} from "../../src/libraries/LaneCodec.sol";

/// @notice The contracts' hashing against the shared vectors the Rust agents are checked against
/// too (testdata/protocol-vectors.json): both sides must agree byte for byte.
contract VectorsTest is Test {
    string internal json;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/../testdata/protocol-vectors.json"));
    }

    function _message() internal view returns (Message memory) {
        return Message({
            sequence: uint64(vm.parseJsonUint(json, ".message.sequence")),
            kind: uint8(vm.parseJsonUint(json, ".message.kind")),
            sender: vm.parseJsonAddress(json, ".message.sender"),
            recipient: vm.parseJsonAddress(json, ".message.recipient"),
            amount: vm.parseJsonUint(json, ".message.amount"),
            data: vm.parseJsonBytes32(json, ".message.data"),
            sentAt: uint64(vm.parseJsonUint(json, ".message.sentAt")),
            deadline: uint64(vm.parseJsonUint(json, ".message.deadline"))
        });
    }

    function test_vectorsMatchLaneCodec() public view {
        uint64 home = uint64(vm.parseJsonUint(json, ".homeChainId"));
        uint64 remote = uint64(vm.parseJsonUint(json, ".remoteChainId"));
        address homeBridge = vm.parseJsonAddress(json, ".homeBridge");
        address remoteBridge = vm.parseJsonAddress(json, ".remoteBridge");

        bytes32 route = LaneCodec.routeId(home, vm.parseJsonAddress(json, ".homeToken"), remote);
        assertEq(route, vm.parseJsonBytes32(json, ".routeId"), "routeId");
        bytes32 lane = LaneCodec.laneId(home, homeBridge, remote, remoteBridge, route);
        assertEq(lane, vm.parseJsonBytes32(json, ".laneId"), "laneId");
        bytes32 acc0 = LaneCodec.initialAccumulator(lane);
        assertEq(acc0, vm.parseJsonBytes32(json, ".acc0"), "acc0");
        bytes32 h = LaneCodec.messageHash(_message());
        assertEq(h, vm.parseJsonBytes32(json, ".messageHash"), "messageHash");
        bytes32 acc1 = LaneCodec.chain(acc0, h);
        assertEq(acc1, vm.parseJsonBytes32(json, ".acc1"), "acc1");
        bytes32 domain = LaneCodec.domainSeparator(home, homeBridge);
        assertEq(domain, vm.parseJsonBytes32(json, ".domainSeparator"), "domain");
        assertEq(
            this.digest(domain, Checkpoint({lane: lane, sequence: 1, accumulator: acc1})),
            vm.parseJsonBytes32(json, ".checkpointDigest"),
            "digest"
        );
    }

    /// @dev External so the checkpoint is calldata, as LaneCodec expects.
    function digest(bytes32 domain, Checkpoint calldata cp) external pure returns (bytes32) {
        return LaneCodec.checkpointDigest(domain, cp);
    }
}
