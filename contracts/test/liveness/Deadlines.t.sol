// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LivenessBase} from "./LivenessBase.sol";
import {Message, RefundStatus, HoldStatus} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Transfer deadlines: a transfer is executed up to its deadline and refunded after it,
/// never both, whatever path is tried afterwards.
contract DeadlinesTest is LivenessBase {
    uint64 internal constant NO_DEADLINE = type(uint64).max;
    uint256 internal constant BIG = 60_000 * UNIT; // held when on time

    function test_sendWithPastDeadline_reverts() public {
        uint256 aliceBefore = token.balanceOf(alice);
        vm.chainId(HOME);
        vm.startPrank(alice);
        token.approve(address(home.bridge), SMALL);
        vm.expectRevert(abi.encodeWithSelector(InvalidDeadline.selector, uint64(T0)));
        home.bridge.send(toRemote, bob, SMALL, uint64(T0));
        vm.expectRevert(abi.encodeWithSelector(InvalidDeadline.selector, uint64(T0 - 1)));
        home.bridge.send(toRemote, bob, SMALL, uint64(T0 - 1));
        vm.stopPrank();
        assertEq(home.bridge.getLane(toRemote).sequence, 0);
        assertEq(token.balanceOf(alice), aliceBefore);

        uint64 seq = sendBy(alice, toRemote, bob, SMALL, uint64(T0 + 1));
        assertEq(sentMessage(toRemote, seq).deadline, T0 + 1, "one second ahead is fine");
    }

    function test_defaultTimeoutApplied() public {
        uint64 seq = sendAs(alice, toRemote, bob, SMALL);
        assertEq(sentMessage(toRemote, seq).deadline, NO_DEADLINE, "no default: never times out");

        setPolicy(HOME, policy(1 days));
        assertEq(home.bridge.getLane(toRemote).defaultTimeout, 1 days);
        vm.warp(T0 + 123);
        seq = sendAs(alice, toRemote, bob, SMALL);
        Message memory m = sentMessage(toRemote, seq);
        assertEq(m.sentAt, T0 + 123, "sentAt");
        assertEq(m.deadline, T0 + 123 + 1 days, "sentAt + defaultTimeout");

        // An explicit deadline wins over the default, shorter or longer.
        seq = sendBy(alice, toRemote, bob, SMALL, uint64(T0 + 500));
        assertEq(sentMessage(toRemote, seq).deadline, T0 + 500);
        seq = sendBy(alice, toRemote, bob, SMALL, uint64(T0 + 10 days));
        assertEq(sentMessage(toRemote, seq).deadline, T0 + 10 days);

        // The default is the sending chain's: remote has none.
        relay(toRemote);
        seq = sendAs(bob, toHome, alice, SMALL);
        assertEq(sentMessage(toHome, seq).deadline, NO_DEADLINE);
    }

    function test_transferAtItsDeadline_executed() public {
        uint64 deadline = uint64(T0 + 1 hours);
        uint64 seq = sendBy(alice, toRemote, bob, SMALL, deadline);
        vm.warp(deadline);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, seq, bob, netOf(SMALL));
        execute(d);
        assertEq(wrapped.balanceOf(bob), netOf(SMALL));
        assertEq(remote.bridge.getLane(toHome).sequence, 0, "no refund");
    }

    function test_lateTransfer_refundedExactlyOnce_neverDelivered() public {
        uint64 deadline = uint64(T0 + 1 hours);
        uint64 seq = sendBy(alice, toRemote, bob, SMALL, deadline);
        uint256 aliceAfterSend = token.balanceOf(alice);
        Message memory original = sentMessage(toRemote, seq);
        bytes32 h = hashOf(original);

        vm.warp(uint256(deadline) + 1);
        Delivery memory d = prepare(toRemote);
        Message memory refund = refundFor(original, 1);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, TransferTimedOut.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, accAfter(toHome, refund));
        execute(d);
        assertEq(wrapped.balanceOf(bob), 0, "not executed");
        assertEq(wrapped.totalSupply(), 0);
        assertEq(remote.bridge.getLane(toRemote).sequence, seq, "consumed");

        relay(toHome);
        (RefundStatus status,) = home.bridge.refunds(toRemote, h);
        assertEq(uint8(status), uint8(RefundStatus.Approved));
        Message[] memory segment = batch(toRemote, 0, seq);
        claimAs(alice, toRemote, segment, 0);
        assertEq(token.balanceOf(alice), aliceAfterSend + netOf(SMALL), "refunded");
        assertEq(lockedOnHome(), 0);
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        claimAs(alice, toRemote, segment, 0);

        // Refunded, so never delivered: neither the primary nor the fallback can replay it.
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(SequenceGap.selector, seq + 1, seq));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        vm.warp(uint256(deadline) + DELAY);
        bytes memory fallbackSigs = quorumSignatures(fallbackSet(), digestOf(sourceDomain(toRemote), d.cp));
        vm.expectRevert(abi.encodeWithSelector(SequenceGap.selector, seq + 1, seq));
        d.bridge.deliverByFallback(d.cp, encodeSet(fallbackSet()), fallbackSigs, d.msgs);
        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(remote.bridge.getLane(toHome).sequence, 1, "one refund only");
    }

    /// @dev Delivered on time, then past its deadline every way back is tried.
    function test_deliveredTransfer_neverRefundedAfterItsDeadline() public {
        uint64 deadline = uint64(T0 + 1 hours);
        uint64 seq = sendBy(alice, toRemote, bob, SMALL, deadline);
        Message memory original = sentMessage(toRemote, seq);
        Delivery memory d = prepare(toRemote);
        execute(d);
        assertEq(wrapped.balanceOf(bob), netOf(SMALL));

        vm.warp(uint256(deadline) + 1 days);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(SequenceGap.selector, seq + 1, seq));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        bytes memory fallbackSigs = quorumSignatures(fallbackSet(), digestOf(sourceDomain(toRemote), d.cp));
        vm.expectRevert(abi.encodeWithSelector(SequenceGap.selector, seq + 1, seq));
        d.bridge.deliverByFallback(d.cp, encodeSet(fallbackSet()), fallbackSigs, d.msgs);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.cancelHold(toRemote, seq);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.refundHold(toRemote, seq);
        assertEq(remote.bridge.getLane(toHome).sequence, 0, "no refund message");

        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, hashOf(original)));
        claimAs(alice, toRemote, batch(toRemote, 0, seq), 0);
        assertEq(wrapped.balanceOf(bob), netOf(SMALL));
        assertEq(lockedOnHome(), netOf(SMALL));
    }

    /// @dev The deadline applies to arrival: a transfer held on time is released after it, and
    /// is not refunded.
    function test_heldOnTime_releasedAfterDeadline_notRefunded() public {
        uint64 deadline = uint64(T0 + 10 minutes);
        uint64 seq = sendBy(alice, toRemote, bob, BIG, deadline);
        relay(toRemote);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));

        vm.warp(T0 + 1 hours);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), netOf(BIG));
        assertEq(remote.bridge.getLane(toHome).sequence, 0, "no refund message");
        vm.expectRevert(
            abi.encodeWithSelector(RefundNotApproved.selector, toRemote, hashOf(sentMessage(toRemote, seq)))
        );
        claimAs(alice, toRemote, batch(toRemote, 0, seq), 0);
    }

    /// @dev Too late beats the hold: refunded at once, consuming no inbound capacity.
    function test_lateLargeTransfer_refundedNotHeld() public {
        uint64 deadline = uint64(T0 + 1 hours);
        uint64 seq = sendBy(alice, toRemote, bob, BIG, deadline);
        vm.warp(uint256(deadline) + 1);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, TransferTimedOut.selector);
        execute(d);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.None), "not held");
        assertEq(remote.bridge.availableCapacity(toRemote), 1_000_000 * UNIT, "inbound bucket untouched");
        assertEq(remote.bridge.getLane(toHome).sequence, 1, "refund queued");
    }
}
