// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "./UnitBase.sol";
import {Message, MessageKind} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

contract RotationTest is UnitBase {
    ValidatorSet internal oldSet;
    ValidatorSet internal newSet;
    bytes internal oldEncoded;
    bytes internal newEncoded;

    function setUp() public override {
        super.setUp();
        ValidatorSet memory o = makeSet("validators", 4, 3);
        ValidatorSet memory n = makeSet("rotated", 5, 4);
        _copy(oldSet, o);
        _copy(newSet, n);
        oldEncoded = encodeSet(o);
        newEncoded = encodeSet(n);
    }

    function _copy(ValidatorSet storage dst, ValidatorSet memory src) internal {
        for (uint256 i; i < src.keys.length; ++i) {
            dst.keys.push(src.keys[i]);
            dst.members.push(src.members[i]);
            dst.weights.push(src.weights[i]);
        }
        dst.threshold = src.threshold;
        dst.validUntil = src.validUntil;
    }

    function _queue(bytes32 lane, bytes memory encoded) internal returns (uint64 seq) {
        Deployment memory src = srcChain(lane);
        vm.chainId(src.chainId);
        vm.prank(setManager);
        seq = src.bridge.queueValidatorSetUpdate(lane, encoded);
        captureLogs();
    }

    function test_queueValidatorSetUpdate_appendsSetUpdateMessage() public {
        sendAs(alice, toRemote, bob, 100 * UNIT);
        vm.chainId(HOME);
        Message memory expected = Message({
            sequence: 2,
            kind: MessageKind.SET_UPDATE,
            sender: address(0),
            recipient: address(0),
            amount: 0,
            data: keccak256(newEncoded),
            sentAt: uint64(block.timestamp),
            deadline: type(uint64).max
        });
        vm.expectEmit(address(home.bridge));
        emit MessageSent(toRemote, 2, expected, accAfter(toRemote, expected));
        vm.expectEmit(address(home.bridge));
        emit ValidatorSetUpdateQueued(toRemote, 2, newEncoded);
        vm.prank(setManager);
        uint64 seq = home.bridge.queueValidatorSetUpdate(toRemote, newEncoded);
        captureLogs();
        assertEq(seq, 2);
        assertEq(home.bridge.getLane(toRemote).sequence, 2);
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded), "source side updated");
        // the destination is unchanged until the old set signs it
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));
        assertEq(hashOf(sentMessage(toRemote, 2)), hashOf(expected));
    }

    function test_rotation_deliveredWithOldSet_thenNewSetDelivers() public {
        uint64 s1 = sendAs(alice, toRemote, bob, 100 * UNIT);
        uint64 su = _queue(toRemote, newEncoded);
        assertEq(su, s1 + 1);

        // old set signs the batch ending with the update
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, s1, bob, netOf(100 * UNIT));
        vm.expectEmit(address(remote.bridge));
        emit ValidatorSetRotated(toRemote, su, keccak256(newEncoded));
        execute(d);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));
        assertEq(remote.bridge.getLane(toRemote).sequence, su);

        // from then on (no grace window) the old set no longer authorises anything
        uint64 s3 = sendAs(alice, toRemote, carol, 200 * UNIT);
        Delivery memory stale = prepare(toRemote);
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(newEncoded), keccak256(oldEncoded))
        );
        stale.bridge.deliver(stale.cp, stale.set, stale.sigs, stale.msgs);

        // the new set does
        _storeSet(toRemote, newSet);
        Delivery memory fresh = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, s3, carol, netOf(200 * UNIT));
        execute(fresh);
        assertEq(wrapped.balanceOf(carol), netOf(200 * UNIT));
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    /// @dev There is no grace window: the old set is refused in the very block its replacement
    /// is delivered, and signatures it gave for later messages are useless. What it signed before
    /// the update must be delivered before it (here in the same batch, the update last).
    function test_rotation_oldSetRefusedImmediatelyAfterUpdate() public {
        uint64 s1 = sendAs(alice, toRemote, bob, 100 * UNIT);
        uint64 su = _queue(toRemote, newEncoded);
        uint64 s3 = sendAs(alice, toRemote, carol, 200 * UNIT);
        // the old set's transfer goes in before the update, in the batch ending with it
        relayTo(toRemote, su);
        assertEq(wrapped.balanceOf(bob), netOf(100 * UNIT), "delivered before the update");
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));
        assertEq(remote.bridge.getLane(toRemote).sequence, su);

        // same block: the old set's signature over the later message is refused
        Delivery memory d = prepare(toRemote); // still signed by the old set
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(newEncoded), keccak256(oldEncoded))
        );
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).sequence, su);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded), "never switches back");
        assertEq(wrapped.balanceOf(carol), 0);

        _storeSet(toRemote, newSet);
        Delivery memory fresh = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, s3, carol, netOf(200 * UNIT));
        execute(fresh);
        assertEq(wrapped.balanceOf(carol), netOf(200 * UNIT));
        assertEq(s3, s1 + 2);
    }

    function test_rotation_newSetRejectedBeforeUpdateDelivered() public {
        _queue(toRemote, newEncoded);
        Delivery memory d = prepareWith(toRemote, newSet);
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(oldEncoded), keccak256(newEncoded))
        );
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));
    }

    function test_rotation_oldSetBelowQuorumCannotRotate() public {
        _queue(toRemote, newEncoded);
        Delivery memory d = prepare(toRemote);
        // two of four signatures against a threshold of three
        uint256[] memory idx = new uint256[](2);
        (idx[0], idx[1]) = (0, 1);
        d.sigs = signBy(oldSet, idx, digestOf(sourceDomain(toRemote), d.cp));
        vm.expectRevert(abi.encodeWithSelector(QuorumNotReached.selector, 2, 3));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));
    }

    function test_setUpdateMustBeLastInBatch() public {
        uint64 su = _queue(toRemote, newEncoded);
        uint64 s2 = sendAs(alice, toRemote, bob, 100 * UNIT);
        Delivery memory d = prepare(toRemote);
        vm.expectRevert(abi.encodeWithSelector(SetUpdateNotLast.selector, su));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);

        // split at the update: the old set delivers up to it, the new set the rest
        relayTo(toRemote, su);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));
        _storeSet(toRemote, newSet);
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).sequence, s2);
        assertEq(wrapped.balanceOf(bob), netOf(100 * UNIT));
    }

    function test_rotation_reverseLane() public {
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);
        uint64 su = _queue(toHome, newEncoded);
        vm.chainId(REMOTE);
        assertEq(remote.bridge.getLane(toHome).validatorSetHash, keccak256(newEncoded));
        Delivery memory d = prepare(toHome);
        vm.expectEmit(address(home.bridge));
        emit ValidatorSetRotated(toHome, su, keccak256(newEncoded));
        execute(d);
        assertEq(home.bridge.getLane(toHome).validatorSetHash, keccak256(newEncoded));
        // the other lane keeps its own set
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));

        _storeSet(toHome, newSet);
        sendAs(bob, toHome, alice, 500 * UNIT);
        relay(toHome);
        assertEq(token.balanceOf(alice), ALICE_START - 1_000 * UNIT + netOf(500 * UNIT));
    }

    function test_onlySetManagerMayQueue() public {
        vm.chainId(HOME);
        address[5] memory others = [governance, guardian, tokenOwner, carol, address(home.registry)];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.bridge.queueValidatorSetUpdate(toRemote, newEncoded);
        }
        assertEq(home.bridge.getLane(toRemote).sequence, 0);
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));
    }

    function test_queue_invalidSetOrLaneReverts() public {
        vm.chainId(HOME);
        vm.startPrank(setManager);
        vm.expectRevert(abi.encodeWithSelector(ThresholdTooLow.selector, 2, 4));
        home.bridge.queueValidatorSetUpdate(toRemote, encodeSet(makeSet("weak", 4, 2)));
        vm.expectRevert(MalformedValidatorSet.selector);
        home.bridge.queueValidatorSetUpdate(toRemote, abi.encodePacked(newEncoded, bytes1(0)));
        // inbound lane on this chain
        vm.expectRevert(abi.encodeWithSelector(WrongDirection.selector, toHome));
        home.bridge.queueValidatorSetUpdate(toHome, newEncoded);
        vm.stopPrank();
        assertEq(home.bridge.getLane(toRemote).sequence, 0);

        // pending lane
        address t = address(new OwnedToken("Plain", "PLN", 18, tokenOwner));
        vm.deal(tokenOwner, 10 ether);
        vm.prank(tokenOwner);
        bytes32 id = home.registry.registerRoute{value: 1 ether}(t, REMOTE, "W", "W", defaultParams());
        bytes32 pendingOut = home.bridge.getRoute(id).outboundLane;
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, pendingOut));
        home.bridge.queueValidatorSetUpdate(pendingOut, newEncoded);
    }

    /// @dev An exit-only route still sends refunds and exits: its set stays rotatable.
    function test_queue_onExitOnlyRoute() public {
        vm.chainId(HOME);
        home.bridge.setExitOnly(routeId);
        uint64 su = _queue(toRemote, newEncoded);
        relayTo(toRemote, su);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));
    }

    function testFuzz_rotationChain(uint8 rotations) public {
        rotations = uint8(bound(rotations, 1, 4));
        for (uint256 r; r < rotations; ++r) {
            ValidatorSet memory next = makeSet(string(abi.encode("rot", r)), 4 + r, uint96(3 + r));
            bytes memory enc = encodeSet(next);
            sendAs(alice, toRemote, bob, 10 * UNIT);
            uint64 su = _queue(toRemote, enc);
            relayTo(toRemote, su);
            assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(enc));
            _storeSet(toRemote, next);
        }
        sendAs(alice, toRemote, bob, 10 * UNIT);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), (uint256(rotations) + 1) * netOf(10 * UNIT));
    }
}
