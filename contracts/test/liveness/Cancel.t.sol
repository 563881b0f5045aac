// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "../unit/UnitBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Message, HoldStatus} from "../../src/interfaces/IZeroBridge.sol";

/// @notice The sender of a held transfer takes it back: refunded once on the source, and then
/// neither releasable nor cancellable again; nobody else can cancel, nor a frozen hold, nor while paused.
contract CancelTest is UnitBase {
    uint256 internal constant BIG = 60_000 * UNIT; // net 59_940 >= threshold 50_000
    uint64 internal constant HOLD_DELAY = 1 hours;

    function _heldTransfer() internal returns (uint64 seq) {
        seq = sendAs(alice, toRemote, bob, BIG);
        relay(toRemote);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));
    }

    function _cancelAs(address who, uint64 seq) internal {
        vm.chainId(REMOTE);
        vm.prank(who);
        remote.bridge.cancelHold(toRemote, seq);
        captureLogs();
    }

    function test_senderCancels_refundedOnceOnSource() public {
        uint64 seq = _heldTransfer();
        uint256 aliceAfterSend = token.balanceOf(alice);
        Message memory original = sentMessage(toRemote, seq);
        bytes32 h = hashOf(original);
        Message memory refund = refundFor(original, 1);

        vm.chainId(REMOTE);
        vm.expectEmit(address(remote.bridge));
        emit HoldCancelled(toRemote, seq);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, ZeroBridge.cancelHold.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, accAfter(toHome, refund));
        _cancelAs(alice, seq);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Cancelled));
        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(wrapped.totalSupply(), 0);

        relay(toHome);
        Message[] memory segment = batch(toRemote, 0, seq);
        // A large refund waits out the hold delay on the source, like a large transfer.
        uint64 releaseAt = uint64(block.timestamp) + HOLD_DELAY;
        vm.expectRevert(abi.encodeWithSelector(RefundHeld.selector, toRemote, h, releaseAt));
        claimAs(alice, toRemote, segment, 0);
        vm.warp(releaseAt);
        claimAs(alice, toRemote, segment, 0);
        assertEq(token.balanceOf(alice), aliceAfterSend + netOf(BIG), "refunded");
        assertEq(lockedOnHome(), 0);
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        claimAs(alice, toRemote, segment, 0);
    }

    function test_afterCancel_noSecondCancel_release_orRefund() public {
        uint64 seq = _heldTransfer();
        _cancelAs(alice, seq);

        vm.warp(block.timestamp + HOLD_DELAY);
        bytes memory notFound = abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq);
        vm.prank(alice);
        vm.expectRevert(notFound);
        remote.bridge.cancelHold(toRemote, seq);
        vm.expectRevert(notFound);
        remote.bridge.releaseHold(toRemote, seq);
        vm.expectRevert(notFound);
        remote.bridge.refundHold(toRemote, seq);
        vm.prank(guardian);
        vm.expectRevert(notFound);
        remote.bridge.freezeHold(toRemote, seq);

        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(remote.bridge.getLane(toHome).sequence, 1, "one refund message");
    }

    function test_cancelByAnyoneButTheSender_reverts() public {
        uint64 seq = _heldTransfer();
        address[4] memory others = [bob, carol, guardian, governance];
        vm.chainId(REMOTE);
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(NotHoldSender.selector, others[i], alice));
            remote.bridge.cancelHold(toRemote, seq);
        }
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));

        vm.warp(block.timestamp + HOLD_DELAY);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), netOf(BIG), "the hold was untouched");
    }

    function test_cancelFrozenHold_reverts() public {
        uint64 seq = _heldTransfer();
        vm.prank(guardian);
        remote.bridge.freezeHold(toRemote, seq);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.cancelHold(toRemote, seq);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Frozen));

        remote.bridge.unfreezeHold(toRemote, seq);
        _cancelAs(alice, seq);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Cancelled));
    }

    function test_cancelWhilePaused_reverts() public {
        uint64 seq = _heldTransfer();
        vm.prank(guardian);
        remote.bridge.pause();
        vm.prank(alice);
        vm.expectRevert(BridgePaused.selector);
        remote.bridge.cancelHold(toRemote, seq);
        remote.bridge.unpause();

        vm.prank(guardian);
        remote.bridge.pauseLane(toRemote);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, toRemote));
        remote.bridge.cancelHold(toRemote, seq);
        remote.bridge.unpauseLane(toRemote);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));

        _cancelAs(alice, seq);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Cancelled));
    }

    function test_cancelReleasedOrUnheld_reverts() public {
        uint64 seq = _heldTransfer();
        vm.warp(block.timestamp + HOLD_DELAY);
        remote.bridge.releaseHold(toRemote, seq);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.cancelHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), netOf(BIG), "the release stands");

        uint64 small = sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);
        vm.chainId(REMOTE);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, small));
        remote.bridge.cancelHold(toRemote, small);
        assertEq(remote.bridge.getLane(toHome).sequence, 0, "nothing refunded");
    }
}
