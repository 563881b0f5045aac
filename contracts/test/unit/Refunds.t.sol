// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Test.sol";

import {UnitBase} from "./UnitBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Message, MessageKind, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";

contract RefundsTest is UnitBase {
    uint64 internal constant INTERVAL = 16;

    // ---------------------------------------------------------------------------------------
    // Failed deliveries queue a refund
    // ---------------------------------------------------------------------------------------

    function test_rateLimitedDelivery_failsAndRefunds() public {
        setInboundCapacity(REMOTE, uint128(100 * UNIT));
        uint256 amount = 500 * UNIT;
        uint256 net = netOf(amount);
        uint64 seq = sendAs(alice, toRemote, bob, amount);
        Message memory original = sentMessage(toRemote, seq);
        bytes32 h = hashOf(original);
        assertEq(lockedOnHome(), net);

        Delivery memory d = prepare(toRemote);
        Message memory refund = refundFor(original, 1);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, RateLimited.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, accAfter(toHome, refund));
        execute(d); // does not revert

        assertEq(remote.bridge.getLane(toRemote).sequence, seq, "lane advanced");
        assertEq(wrapped.balanceOf(bob), 0, "nothing minted");
        assertEq(wrapped.totalSupply(), 0);
        assertEq(remote.bridge.availableCapacity(toRemote), 100 * UNIT, "failed transfer takes no capacity");
        assertEq(sentCount(toHome), 1);

        _approveAndClaimOnce(original, h, net);
    }

    function test_exitOnlyRemote_deliveryFailsAndRefunds() public {
        uint256 amount = 500 * UNIT;
        uint256 net = netOf(amount);
        uint64 seq = sendAs(alice, toRemote, bob, amount);
        Message memory original = sentMessage(toRemote, seq);

        vm.chainId(REMOTE);
        vm.expectEmit(address(remote.bridge));
        emit RouteExitOnly(routeId);
        remote.bridge.setExitOnly(routeId); // governance

        Delivery memory d = prepare(toRemote);
        Message memory refund = refundFor(original, 1);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, RouteIsExitOnly.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, accAfter(toHome, refund));
        execute(d);
        assertEq(wrapped.balanceOf(bob), 0);

        _approveAndClaimOnce(original, hashOf(original), net);
    }

    function _approveAndClaimOnce(Message memory original, bytes32 h, uint256 net) internal {
        Delivery memory back = prepare(toHome);
        vm.expectEmit(address(home.bridge));
        emit RefundApproved(toRemote, h);
        execute(back);
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved));
        (, uint64 approvedAt) = home.bridge.refunds(toRemote, h);
        assertEq(approvedAt, block.timestamp, "approval time recorded");
        assertEq(token.balanceOf(alice), ALICE_START - 500 * UNIT, "not paid before the claim");

        Message[] memory segment = batch(toRemote, 0, original.sequence);
        vm.expectEmit(address(home.bridge));
        emit RefundClaimed(toRemote, h, alice, net);
        claimAs(carol, toRemote, segment, original.sequence - 1);
        assertEq(token.balanceOf(alice), ALICE_START - 500 * UNIT + net, "sender paid");
        assertEq(lockedOnHome(), 0, "vault released");
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Claimed));

        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        home.bridge.claimRefund(toRemote, segment, original.sequence - 1);
        assertEq(token.balanceOf(alice), ALICE_START - 500 * UNIT + net, "paid exactly once");
    }

    function test_claimRefund_notApprovedReverts() public {
        uint64 seq = sendAs(alice, toRemote, bob, 500 * UNIT);
        relay(toRemote); // delivered fine
        Message[] memory segment = batch(toRemote, 0, seq);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, hashOf(segment[0])));
        home.bridge.claimRefund(toRemote, segment, 0);
    }

    function test_claimRefund_inboundLaneReverts() public {
        sendAs(alice, toRemote, bob, 500 * UNIT);
        Message[] memory segment = batch(toRemote, 0, 1);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(WrongDirection.selector, toHome));
        home.bridge.claimRefund(toHome, segment, 0);
    }

    /// @dev Remote -> home transfer refused by the home chain (its inbound bucket is too small):
    /// the refund re-mints on remote.
    function test_refundOnRemoteSourceMintsBack() public {
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);
        uint256 bobStart = wrapped.balanceOf(bob);
        uint256 back = 400 * UNIT;
        uint256 backNet = netOf(back);
        uint64 seq = sendAs(bob, toHome, alice, back);
        Message memory original = sentMessage(toHome, seq);

        setInboundCapacity(HOME, uint128(100 * UNIT));
        uint256 lockedBefore = lockedOnHome();
        Delivery memory d = prepare(toHome);
        vm.expectEmit(address(home.bridge));
        emit MessageFailed(toHome, seq, RateLimited.selector);
        execute(d);
        assertEq(lockedOnHome(), lockedBefore, "vault untouched");
        assertEq(sentMessage(toRemote, 2).kind, MessageKind.REFUND);

        Delivery memory d2 = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit RefundApproved(toHome, hashOf(original));
        execute(d2);

        claimAs(bob, toHome, batch(toHome, 0, seq), seq - 1);
        assertEq(wrapped.balanceOf(bob), bobStart - back + backNet, "net re-minted");
        // the fee stays with the remote bridge; supply still equals the vault
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    /// @dev Exit-only on the home chain: the way home stays open. A remote -> home transfer is
    /// released from the vault (not refunded), while new home sends are refused.
    function test_exitOnlyHome_releasesInboundTransfers() public {
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);
        uint256 back = 400 * UNIT;
        uint256 backNet = netOf(back);
        uint64 seq = sendAs(bob, toHome, alice, back);

        vm.chainId(HOME);
        home.bridge.setExitOnly(routeId);
        uint256 lockedBefore = lockedOnHome();
        uint256 aliceBefore = token.balanceOf(alice);
        uint256 refundsBefore = sentCount(toRemote);
        Delivery memory d = prepare(toHome);
        vm.expectEmit(address(home.bridge));
        emit MessageExecuted(toHome, seq, alice, backNet);
        execute(d);
        assertEq(token.balanceOf(alice), aliceBefore + backNet, "released home");
        assertEq(lockedOnHome(), lockedBefore - backNet, "vault released");
        assertEq(sentCount(toRemote), refundsBefore, "no refund queued");
        assertEq(wrapped.totalSupply(), lockedOnHome());

        vm.chainId(HOME);
        vm.startPrank(alice);
        token.approve(address(home.bridge), 10 * UNIT);
        vm.expectRevert(RouteIsExitOnly.selector);
        home.bridge.send(toRemote, bob, 10 * UNIT, 0);
        vm.stopPrank();
    }

    /// @dev A refund at or above the inbound lane's large-transfer threshold waits out the hold
    /// delay from its approval, then pays exactly the net amount.
    function test_largeRefund_waitsHoldDelay() public {
        setInboundCapacity(REMOTE, uint128(100 * UNIT));
        uint256 amount = 60_000 * UNIT; // above the 50,000 threshold of the home inbound lane
        uint256 net = netOf(amount);
        uint64 seq = sendAs(alice, toRemote, bob, amount);
        Message memory original = sentMessage(toRemote, seq);
        bytes32 h = hashOf(original);
        relay(toRemote);
        relay(toHome);
        vm.chainId(HOME);
        (RefundStatus status, uint64 approvedAt) = home.bridge.refunds(toRemote, h);
        assertEq(uint8(status), uint8(RefundStatus.Approved));
        uint64 releaseAt = approvedAt + home.bridge.holdDelay();

        Message[] memory segment = batch(toRemote, 0, seq);
        vm.warp(releaseAt - 1);
        vm.expectRevert(abi.encodeWithSelector(RefundHeld.selector, toRemote, h, releaseAt));
        claimAs(alice, toRemote, segment, 0);

        vm.warp(releaseAt);
        uint256 capacityBefore = home.bridge.availableCapacity(toHome);
        claimAs(alice, toRemote, segment, 0);
        assertEq(token.balanceOf(alice), ALICE_START - amount + net, "net paid");
        assertEq(lockedOnHome(), 0);
        assertEq(home.bridge.availableCapacity(toHome), capacityBefore - net, "inbound bucket consumed");
    }

    // ---------------------------------------------------------------------------------------
    // Proofs
    // ---------------------------------------------------------------------------------------

    /// @dev `n` sends of 10 units by alice to bob, all refused by an exit-only remote, and all the
    /// refunds relayed back and approved on home.
    function _failedSends(uint256 n) internal {
        for (uint256 i; i < n; ++i) {
            sendAs(alice, toRemote, bob, 10 * UNIT);
        }
        vm.chainId(REMOTE);
        remote.bridge.setExitOnly(routeId);
        relay(toRemote);
        relay(toHome);
        assertEq(sentCount(toHome), n);
        for (uint256 i; i < n; ++i) {
            bytes32 h = hashOf(sentMessage(toRemote, uint64(i + 1)));
            assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved));
        }
        vm.chainId(HOME);
    }

    function test_sparseRecords_proveMiddleAndTail() public {
        _failedSends(40);
        uint256 net = netOf(10 * UNIT);
        uint256 bal = token.balanceOf(alice);
        assertEq(bal, ALICE_START - 400 * UNIT);

        // a message between the records at 16 and 32
        Message[] memory mid = batch(toRemote, 16, 32);
        assertTrue(home.bridge.verifySent(toRemote, mid));
        vm.expectEmit(address(home.bridge));
        emit RefundClaimed(toRemote, hashOf(sentMessage(toRemote, 20)), alice, net);
        claimAs(carol, toRemote, mid, 3); // sequence 20
        assertEq(token.balanceOf(alice), bal + net);

        // a message between the last record (32) and the head (40)
        Message[] memory tail = batch(toRemote, 32, 40);
        assertTrue(home.bridge.verifySent(toRemote, tail));
        claimAs(alice, toRemote, tail, 4); // sequence 37
        assertEq(token.balanceOf(alice), bal + 2 * net);

        // before the first record
        claimAs(alice, toRemote, batch(toRemote, 0, 16), 4); // sequence 5
        assertEq(token.balanceOf(alice), bal + 3 * net);

        // a longer segment spanning two records is also a proof
        claimAs(alice, toRemote, batch(toRemote, 0, 32), 16); // sequence 17
        assertEq(token.balanceOf(alice), bal + 4 * net);

        assertEq(lockedOnHome(), 40 * net - 4 * net);
        bytes32 h20 = hashOf(sentMessage(toRemote, 20));
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h20));
        claimAs(alice, toRemote, mid, 3);
    }

    function test_verifySent_segmentBoundaries() public {
        for (uint256 i; i < 40; ++i) {
            sendAs(alice, toRemote, bob, 10 * UNIT);
        }
        vm.chainId(HOME);
        ZeroBridge b = home.bridge;
        // valid: from a record (or 0) to the next record or the head
        assertTrue(b.verifySent(toRemote, batch(toRemote, 0, 16)));
        assertTrue(b.verifySent(toRemote, batch(toRemote, 16, 32)));
        assertTrue(b.verifySent(toRemote, batch(toRemote, 32, 40)));
        assertTrue(b.verifySent(toRemote, batch(toRemote, 0, 40)));
        assertTrue(b.verifySent(toRemote, batch(toRemote, 16, 40)));
        // start not on a record
        assertFalse(b.verifySent(toRemote, batch(toRemote, 15, 32)));
        assertFalse(b.verifySent(toRemote, batch(toRemote, 17, 32)));
        assertFalse(b.verifySent(toRemote, batch(toRemote, 1, 16)));
        // end neither on a record nor the head
        assertFalse(b.verifySent(toRemote, batch(toRemote, 16, 31)));
        assertFalse(b.verifySent(toRemote, batch(toRemote, 32, 39)));
        assertFalse(b.verifySent(toRemote, batch(toRemote, 0, 17)));
        // empty
        assertFalse(b.verifySent(toRemote, new Message[](0)));
        // the inbound lane id has no sent messages
        assertFalse(b.verifySent(toHome, batch(toRemote, 0, 16)));
        // another lane's messages
        assertFalse(b.verifySent(bytes32(uint256(1)), batch(toRemote, 0, 16)));

        // out of order / duplicated
        Message[] memory swapped = batch(toRemote, 16, 32);
        (swapped[2], swapped[3]) = (swapped[3], swapped[2]);
        assertFalse(b.verifySent(toRemote, swapped));
        Message[] memory dup = batch(toRemote, 16, 32);
        dup[5] = dup[4];
        assertFalse(b.verifySent(toRemote, dup));

        // a forged message in place of a real one
        Message[] memory forged = batch(toRemote, 16, 32);
        forged[3].amount += 1;
        assertFalse(b.verifySent(toRemote, forged));
        forged = batch(toRemote, 16, 32);
        forged[3].sender = carol;
        assertFalse(b.verifySent(toRemote, forged));
        forged = batch(toRemote, 32, 40);
        forged[7].recipient = carol;
        assertFalse(b.verifySent(toRemote, forged));
        // past the head
        Message[] memory extended = new Message[](9);
        Message[] memory tail = batch(toRemote, 32, 40);
        for (uint256 i; i < 8; ++i) {
            extended[i] = tail[i];
        }
        extended[8] = Message(41, MessageKind.TRANSFER, alice, carol, 1, bytes32(0), uint64(block.timestamp), type(uint64).max);
        assertFalse(b.verifySent(toRemote, extended));
    }

    function test_claimRefund_forgedOrWrongBoundaries_revertsInvalidProof() public {
        _failedSends(40);
        uint256 bal = token.balanceOf(alice);
        uint256 locked = lockedOnHome();

        // forged amount on an approved message
        Message[] memory forged = batch(toRemote, 16, 32);
        forged[3].amount = 1_000 * UNIT;
        vm.expectRevert(InvalidProof.selector);
        claimAs(alice, toRemote, forged, 3);

        // forged sender (the thief as payee)
        forged = batch(toRemote, 16, 32);
        forged[3].sender = carol;
        vm.expectRevert(InvalidProof.selector);
        claimAs(carol, toRemote, forged, 3);

        // wrong boundaries
        vm.expectRevert(InvalidProof.selector);
        claimAs(alice, toRemote, batch(toRemote, 17, 32), 2);
        vm.expectRevert(InvalidProof.selector);
        claimAs(alice, toRemote, batch(toRemote, 16, 31), 3);
        vm.expectRevert(InvalidProof.selector);
        claimAs(alice, toRemote, batch(toRemote, 19, 20), 0);
        // index past the segment
        vm.expectRevert(InvalidProof.selector);
        claimAs(alice, toRemote, batch(toRemote, 32, 40), 8);
        // empty segment
        vm.expectRevert(InvalidProof.selector);
        claimAs(alice, toRemote, new Message[](0), 0);

        assertEq(token.balanceOf(alice), bal);
        assertEq(token.balanceOf(carol), 0);
        assertEq(lockedOnHome(), locked);
    }

    /// @dev Boundary input: a segment whose first message claims sequence 0. `verifySent` is a
    /// predicate; it should answer false, and claimRefund should revert InvalidProof.
    function test_verifySent_segmentFromSequenceZero_isInvalidProof() public {
        sendAs(alice, toRemote, bob, 10 * UNIT);
        Message[] memory seg = batch(toRemote, 0, 1);
        seg[0].sequence = 0;
        vm.chainId(HOME);
        assertFalse(home.bridge.verifySent(toRemote, seg));
        vm.expectRevert(InvalidProof.selector);
        home.bridge.claimRefund(toRemote, seg, 0);
    }

    function test_claimRefund_notATransfer() public {
        sendAs(alice, toRemote, bob, 10 * UNIT);
        vm.chainId(HOME);
        vm.prank(setManager);
        home.bridge.queueValidatorSetUpdate(toRemote, encodeSet(makeSet("next", 4, 3)));
        captureLogs();
        Message[] memory seg = batch(toRemote, 0, 2);
        assertTrue(home.bridge.verifySent(toRemote, seg));
        vm.expectRevert(abi.encodeWithSelector(NotATransfer.selector, uint64(2)));
        home.bridge.claimRefund(toRemote, seg, 1);
    }

    function test_accumulatorAt_matchesEmitted() public {
        for (uint256 i; i < 40; ++i) {
            sendAs(alice, toRemote, address(uint160(0x2000 + i)), 10 * UNIT);
        }
        vm.chainId(HOME);
        ZeroBridge b = home.bridge;
        assertEq(b.accumulatorAt(toRemote, 0), initialAcc(toRemote));
        assertEq(b.accumulatorAt(toRemote, 16), _accs[toRemote][15]);
        assertEq(b.accumulatorAt(toRemote, 32), _accs[toRemote][31]);
        assertEq(b.accumulatorAt(toRemote, 40), _accs[toRemote][39], "head");
        assertEq(b.getLane(toRemote).accumulator, _accs[toRemote][39]);
        // sparse: in-between sequences are not stored
        assertEq(b.accumulatorAt(toRemote, 17), bytes32(0));
        assertEq(b.accumulatorAt(toRemote, 39), bytes32(0));
        assertEq(b.accumulatorAt(toRemote, 48), bytes32(0));
        // the destination agrees after delivery
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).accumulator, _accs[toRemote][39]);
    }

    function test_duplicateRefund_approvesNothingNew() public {
        setInboundCapacity(REMOTE, uint128(100 * UNIT));
        uint64 seq = sendAs(alice, toRemote, bob, 500 * UNIT);
        Message memory original = sentMessage(toRemote, seq);
        bytes32 h = hashOf(original);
        uint256 net = original.amount;
        relay(toRemote);
        relay(toHome);
        vm.chainId(HOME);
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved));

        // a second REFUND for the same message, signed by the lane's quorum
        Message[] memory dup = new Message[](1);
        dup[0] = refundFor(original, home.bridge.getLane(toHome).sequence + 1);
        Delivery memory d = prepareSigned(toHome, dup);
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        _assertNoRefundApproved();
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved));

        Message[] memory segment = batch(toRemote, 0, seq);
        claimAs(alice, toRemote, segment, 0);
        assertEq(token.balanceOf(alice), ALICE_START - 500 * UNIT + net);

        // after the claim, a duplicate must not re-open it
        dup[0] = refundFor(original, home.bridge.getLane(toHome).sequence + 1);
        d = prepareSigned(toHome, dup);
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        _assertNoRefundApproved();
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Claimed));
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        claimAs(alice, toRemote, segment, 0);
        assertEq(token.balanceOf(alice), ALICE_START - 500 * UNIT + net, "paid once");
        assertEq(lockedOnHome(), 0);
    }

    function _assertNoRefundApproved() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool delivered;
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != RefundApproved.selector, "RefundApproved emitted");
            if (logs[i].topics[0] == CheckpointDelivered.selector) delivered = true;
        }
        assertTrue(delivered, "delivery happened");
    }

    function testFuzz_refundPaysOnlyApprovedSequence(uint8 n, uint8 pick) public {
        n = uint8(bound(n, 1, 40));
        uint64 target = uint64(bound(pick, 1, n));
        // only `target` fails: make it exceed the remote inbound capacity
        setInboundCapacity(REMOTE, uint128(1_000 * UNIT));
        for (uint64 s = 1; s <= n; ++s) {
            sendAs(alice, toRemote, bob, s == target ? 2_000 * UNIT : 1 * UNIT);
        }
        relay(toRemote);
        relay(toHome);
        assertEq(sentCount(toHome), 1);
        vm.chainId(HOME);
        uint64 from = target - 1 - (target - 1) % INTERVAL;
        uint64 to = from + INTERVAL < n ? from + INTERVAL : n;
        Message[] memory seg = batch(toRemote, from, to);
        uint256 bal = token.balanceOf(alice);
        // every other transfer in the segment was delivered: not refundable
        for (uint256 i; i < seg.length; ++i) {
            if (seg[i].sequence == target) continue;
            vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, hashOf(seg[i])));
            home.bridge.claimRefund(toRemote, seg, i);
        }
        home.bridge.claimRefund(toRemote, seg, target - 1 - from);
        assertEq(token.balanceOf(alice), bal + netOf(2_000 * UNIT));
    }

    function _refundStatusOf(ZeroBridge b, bytes32 lane, bytes32 messageHash)
        internal
        view
        returns (RefundStatus status)
    {
        (status,) = b.refunds(lane, messageHash);
    }
}
