// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "./UnitBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Hold} from "../../src/BridgeBase.sol";
import {Message, MessageKind, HoldStatus, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";

contract HoldsTest is UnitBase {
    uint256 internal constant BIG = 60_000 * UNIT; // net 59_940 >= threshold 50_000
    uint64 internal constant HOLD_DELAY = 1 hours;

    /// @dev Alice sends BIG to bob and the relayer delivers it: held on remote.
    function _heldTransfer() internal returns (uint64 seq, uint64 releaseAt) {
        seq = sendAs(alice, toRemote, bob, BIG);
        vm.chainId(REMOTE);
        releaseAt = uint64(block.timestamp) + HOLD_DELAY;
        relay(toRemote);
    }

    function test_largeTransferHeldOnDelivery() public {
        uint64 seq = sendAs(alice, toRemote, bob, BIG);
        uint256 net = netOf(BIG);
        Delivery memory d = prepare(toRemote);
        uint64 releaseAt = uint64(block.timestamp) + HOLD_DELAY;

        vm.expectEmit(address(remote.bridge));
        emit TransferHeld(toRemote, seq, releaseAt);
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);

        // no mint, no MessageExecuted
        assertEq(wrapped.balanceOf(bob), 0, "nothing minted");
        assertEq(wrapped.totalSupply(), 0, "supply");
        assertEq(remote.bridge.getLane(toRemote).sequence, seq, "delivered");
        Hold memory h = remote.bridge.getHold(toRemote, seq);
        assertEq(uint8(h.status), uint8(HoldStatus.Held));
        assertEq(h.amount, net);
        assertEq(h.sender, alice);
        assertEq(h.recipient, bob);
        assertEq(h.releaseAt, releaseAt);
        assertEq(h.messageHash, hashOf(sentMessage(toRemote, seq)));
        // inbound capacity is consumed at delivery
        assertEq(remote.bridge.availableCapacity(toRemote), 1_000_000 * UNIT - net, "inbound bucket");
        // vault on home still holds it
        vm.chainId(HOME);
        assertEq(lockedOnHome(), net);
    }

    function test_transferAtThresholdHeld_belowNot() public {
        // fee 0 so that the delivered amount equals the amount sent
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        home.registry.setFee(routeId, 0, address(0));
        uint256 threshold = 50_000 * UNIT;

        uint64 s1 = sendAs(alice, toRemote, bob, threshold - 1);
        uint64 s2 = sendAs(alice, toRemote, carol, threshold);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), threshold - 1, "below threshold paid at once");
        assertEq(uint8(remote.bridge.getHold(toRemote, s1).status), uint8(HoldStatus.None));
        assertEq(wrapped.balanceOf(carol), 0, "at threshold held");
        assertEq(uint8(remote.bridge.getHold(toRemote, s2).status), uint8(HoldStatus.Held));
    }

    function test_releaseHoldBeforeDelay_reverts() public {
        (uint64 seq, uint64 releaseAt) = _heldTransfer();
        vm.expectRevert(abi.encodeWithSelector(HoldNotReleasable.selector, toRemote, seq, releaseAt));
        remote.bridge.releaseHold(toRemote, seq);

        vm.warp(releaseAt - 1);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(HoldNotReleasable.selector, toRemote, seq, releaseAt));
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));
    }

    function test_holdReleasedAfterDelay() public {
        (uint64 seq, uint64 releaseAt) = _heldTransfer();
        uint256 net = netOf(BIG);
        vm.warp(releaseAt);

        vm.expectEmit(address(remote.bridge));
        emit HoldReleased(toRemote, seq);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, seq, bob, net);
        vm.prank(carol); // anyone
        remote.bridge.releaseHold(toRemote, seq);

        assertEq(wrapped.balanceOf(bob), net, "recipient paid");
        assertEq(wrapped.totalSupply(), net);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Released));
        vm.chainId(HOME);
        assertEq(lockedOnHome(), net, "supply backed by vault");

        // only once
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), net);
    }

    function test_releaseUnknownHold_reverts() public {
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, uint64(7)));
        remote.bridge.releaseHold(toRemote, 7);
    }

    function test_guardianFreezeStopsRelease() public {
        (uint64 seq, uint64 releaseAt) = _heldTransfer();

        vm.expectEmit(address(remote.bridge));
        emit HoldFrozen(toRemote, seq);
        vm.prank(guardian);
        remote.bridge.freezeHold(toRemote, seq);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Frozen));

        vm.warp(releaseAt + 1 days);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), 0);

        // freezing twice is refused
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.freezeHold(toRemote, seq);
    }

    function test_nonGuardianCannotFreeze() public {
        (uint64 seq,) = _heldTransfer();
        vm.prank(carol);
        vm.expectRevert(unauthorized(carol));
        remote.bridge.freezeHold(toRemote, seq);
        vm.prank(tokenOwner);
        vm.expectRevert(unauthorized(tokenOwner));
        remote.bridge.freezeHold(toRemote, seq);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));
    }

    function test_guardianCannotUnfreezeOrRefund() public {
        (uint64 seq,) = _heldTransfer();
        vm.prank(guardian);
        remote.bridge.freezeHold(toRemote, seq);

        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        remote.bridge.unfreezeHold(toRemote, seq);

        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        remote.bridge.refundHold(toRemote, seq);

        vm.prank(carol);
        vm.expectRevert(unauthorized(carol));
        remote.bridge.unfreezeHold(toRemote, seq);

        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Frozen));
        assertEq(remote.bridge.getLane(toHome).sequence, 0, "no refund queued");
    }

    function test_governanceUnfreezeThenRelease() public {
        (uint64 seq, uint64 releaseAt) = _heldTransfer();
        uint256 net = netOf(BIG);
        vm.prank(guardian);
        remote.bridge.freezeHold(toRemote, seq);

        vm.expectEmit(address(remote.bridge));
        emit HoldUnfrozen(toRemote, seq);
        remote.bridge.unfreezeHold(toRemote, seq); // governance
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));

        // the original delay still applies
        vm.expectRevert(abi.encodeWithSelector(HoldNotReleasable.selector, toRemote, seq, releaseAt));
        remote.bridge.releaseHold(toRemote, seq);

        vm.warp(releaseAt);
        vm.prank(carol);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), net);

        // unfreezing something not frozen
        vm.expectRevert(abi.encodeWithSelector(HoldNotFrozen.selector, toRemote, seq));
        remote.bridge.unfreezeHold(toRemote, seq);
    }

    function test_unfreezeHeldHold_revertsHoldNotFrozen() public {
        (uint64 seq,) = _heldTransfer();
        vm.expectRevert(abi.encodeWithSelector(HoldNotFrozen.selector, toRemote, seq));
        remote.bridge.unfreezeHold(toRemote, seq);
    }

    function test_governanceRefundHold_refundsSenderOnSource() public {
        (uint64 seq, uint64 releaseAt) = _heldTransfer();
        uint256 net = netOf(BIG);
        Message memory original = sentMessage(toRemote, seq);
        bytes32 h = hashOf(original);
        vm.prank(guardian);
        remote.bridge.freezeHold(toRemote, seq);

        Message memory refund = refundFor(original, 1);
        assertEq(refund.recipient, alice);
        bytes32 acc = accAfter(toHome, refund);
        vm.expectEmit(address(remote.bridge));
        emit HoldRefunded(toRemote, seq);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, ZeroBridge.refundHold.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, acc);
        remote.bridge.refundHold(toRemote, seq); // governance
        captureLogs();
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Refunded));

        // never payable afterwards, and not refundable twice
        vm.warp(releaseAt);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.releaseHold(toRemote, seq);
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.refundHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), 0);

        // the refund travels back on the reverse lane
        Delivery memory d = prepare(toHome);
        vm.expectEmit(address(home.bridge));
        emit RefundApproved(toRemote, h);
        execute(d);
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved));
        assertEq(token.balanceOf(alice), ALICE_START - BIG, "not paid before the claim");

        // a large refund waits out the hold delay from its approval, like a large transfer
        (, uint64 approvedAt) = home.bridge.refunds(toRemote, h);
        uint64 refundReleaseAt = approvedAt + home.bridge.holdDelay();
        Message[] memory segment = batch(toRemote, 0, 1);
        vm.chainId(HOME);
        vm.warp(refundReleaseAt - 1);
        vm.expectRevert(abi.encodeWithSelector(RefundHeld.selector, toRemote, h, refundReleaseAt));
        home.bridge.claimRefund(toRemote, segment, 0);

        // then alice claims on the source
        vm.warp(refundReleaseAt);
        vm.expectEmit(address(home.bridge));
        emit RefundClaimed(toRemote, h, alice, net);
        vm.prank(carol); // anyone may submit; the sender is paid
        home.bridge.claimRefund(toRemote, segment, 0);
        assertEq(token.balanceOf(alice), ALICE_START - BIG + net, "sender refunded the net amount");
        assertEq(token.balanceOf(carol), 0);
        assertEq(lockedOnHome(), 0, "vault released");
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Claimed));

        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        home.bridge.claimRefund(toRemote, segment, 0);
    }

    function test_refundHoldOfHeldHold() public {
        (uint64 seq,) = _heldTransfer();
        remote.bridge.refundHold(toRemote, seq);
        captureLogs();
        assertEq(sentCount(toHome), 1);
        assertEq(sentMessage(toHome, 1).kind, MessageKind.REFUND);
        assertEq(sentMessage(toHome, 1).data, hashOf(sentMessage(toRemote, seq)));
    }

    function test_holdOnHomeReleasesFromVault() public {
        // bob first gets wrapped tokens (held, then released)
        (uint64 seq, uint64 releaseAt) = _heldTransfer();
        vm.warp(releaseAt);
        remote.bridge.releaseHold(toRemote, seq);
        uint256 bobWrapped = netOf(BIG);

        uint256 back = 55_000 * UNIT;
        uint256 backNet = netOf(back);
        uint64 bseq = sendAs(bob, toHome, alice, back);
        assertEq(wrapped.balanceOf(bob), bobWrapped - back);
        relay(toHome);
        Hold memory h = home.bridge.getHold(toHome, bseq);
        assertEq(uint8(h.status), uint8(HoldStatus.Held));
        assertEq(token.balanceOf(alice), ALICE_START - BIG, "held on home");
        assertEq(lockedOnHome(), bobWrapped);

        vm.warp(h.releaseAt);
        home.bridge.releaseHold(toHome, bseq);
        assertEq(token.balanceOf(alice), ALICE_START - BIG + backNet);
        assertEq(lockedOnHome(), bobWrapped - backNet);
        vm.chainId(REMOTE);
        // fee stays in the remote bridge as wrapped tokens: supply == vault
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    function testFuzz_holdOnlyAtOrAboveThreshold(uint256 amount) public {
        amount = bound(amount, 1, 100_000 * UNIT);
        uint64 seq = sendAs(alice, toRemote, bob, amount);
        uint256 net = sentMessage(toRemote, seq).amount;
        relay(toRemote);
        if (net >= 50_000 * UNIT) {
            assertEq(wrapped.balanceOf(bob), 0);
            assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));
        } else {
            assertEq(wrapped.balanceOf(bob), net);
            assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.None));
        }
    }

    function _refundStatusOf(ZeroBridge b, bytes32 lane, bytes32 messageHash)
        internal
        view
        returns (RefundStatus status)
    {
        (status,) = b.refunds(lane, messageHash);
    }
}
