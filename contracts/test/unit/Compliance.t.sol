// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "./UnitBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Hold} from "../../src/BridgeBase.sol";
import {BridgeRoles} from "../../src/libraries/BridgeRoles.sol";
import {Message, HoldStatus, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Regulator freezes and compliance-issuer attestations (allowlist routes). Both are per
/// chain: the source checks its own state before sending, the destination its own at execution
/// (and again when a hold is released), and a refusal there is a refund, never a stuck transfer.
contract ComplianceTest is UnitBase {
    uint256 internal constant AMOUNT = 500 * UNIT;
    uint256 internal constant BIG = 60_000 * UNIT; // held on delivery (threshold 50_000)

    address internal regulator = makeAddr("regulator");
    address internal issuer = makeAddr("issuer");

    function setUp() public override {
        super.setUp();
        _grant(home);
        _grant(remote);
    }

    function _grant(Deployment memory c) internal {
        vm.chainId(c.chainId);
        c.manager.grantRole(BridgeRoles.REGULATOR, regulator, 0);
        c.manager.grantRole(BridgeRoles.COMPLIANCE_ISSUER, issuer, 0);
    }

    function _chain(uint64 chainId) internal view returns (Deployment memory) {
        return chainId == HOME ? home : remote;
    }

    function freezeOn(uint64 chainId, address account) internal {
        vm.chainId(chainId);
        vm.prank(regulator);
        _chain(chainId).bridge.freeze(account);
    }

    function unfreezeOn(uint64 chainId, address account) internal {
        vm.chainId(chainId);
        vm.prank(regulator);
        _chain(chainId).bridge.unfreeze(account);
    }

    function attestOn(uint64 chainId, address account, uint256 expiresAt) internal {
        vm.chainId(chainId);
        vm.prank(issuer);
        _chain(chainId).bridge.attest(account, uint64(expiresAt));
    }

    function allowlistOn(uint64 chainId, bool on) internal {
        vm.chainId(chainId);
        _chain(chainId).bridge.setRouteAllowlist(routeId, on); // governance
    }

    function _expectSendRevert(address from, bytes32 lane, address to, bytes memory err) internal {
        Deployment memory c = srcChain(lane);
        vm.chainId(c.chainId);
        address laneToken = c.bridge.getLane(lane).token;
        vm.prank(from);
        OwnedToken(laneToken).approve(address(c.bridge), AMOUNT);
        vm.prank(from);
        vm.expectRevert(err);
        c.bridge.send(lane, to, AMOUNT, 0);
    }

    /// @dev The fixture's home->remote transfer `original` failed on remote with a REFUND at
    /// reverse-lane sequence `refundSeq`: relay it back and let anyone claim it for the sender.
    function _refundEndToEnd(Message memory original, uint64 refundSeq) internal {
        bytes32 h = hashOf(original);
        assertEq(sentCount(toHome), refundSeq, "refund queued on the reverse lane");
        assertEq(sentMessage(toHome, refundSeq).data, h, "refund names the transfer");

        Delivery memory back = prepare(toHome);
        vm.expectEmit(address(home.bridge));
        emit RefundApproved(toRemote, h);
        execute(back);
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved));

        // the proof runs from acc_0 to the head (fewer than 16 messages here)
        Message[] memory proof = batch(toRemote, 0, uint64(sentCount(toRemote)));
        uint256 threshold = home.bridge.getLane(toHome).largeTransferThreshold;
        if (threshold != 0 && original.amount >= threshold) {
            // a large refund waits out the hold delay from its approval, like a large transfer
            (, uint64 approvedAt) = home.bridge.refunds(toRemote, h);
            uint64 releaseAt = approvedAt + home.bridge.holdDelay();
            vm.expectRevert(abi.encodeWithSelector(RefundHeld.selector, toRemote, h, releaseAt));
            claimAs(carol, toRemote, proof, original.sequence - 1);
            vm.warp(releaseAt);
        }
        uint256 before = token.balanceOf(original.sender);
        uint256 lockedBefore = lockedOnHome();
        vm.expectEmit(address(home.bridge));
        emit RefundClaimed(toRemote, h, original.sender, original.amount);
        claimAs(carol, toRemote, proof, original.sequence - 1);
        assertEq(token.balanceOf(original.sender), before + original.amount, "sender refunded");
        assertEq(lockedOnHome(), lockedBefore - original.amount, "vault released");
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Claimed));
    }

    // ---------------------------------------------------------------------------------------
    // Regulator freezes
    // ---------------------------------------------------------------------------------------

    function test_freeze_setsStateAndEmits() public {
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit AccountFrozen(alice);
        vm.prank(regulator);
        home.bridge.freeze(alice);
        (uint64 until, bool frozen) = home.bridge.accounts(alice);
        assertTrue(frozen);
        assertEq(until, 0);

        vm.expectEmit(address(home.bridge));
        emit AccountUnfrozen(alice);
        vm.prank(regulator);
        home.bridge.unfreeze(alice);
        (, frozen) = home.bridge.accounts(alice);
        assertFalse(frozen);

        // per chain: nothing changed on remote
        (, frozen) = remote.bridge.accounts(alice);
        assertFalse(frozen);
    }

    function test_frozenSenderCannotSend_lock() public {
        freezeOn(HOME, alice);
        _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(FrozenAccount.selector, alice));
        assertEq(token.balanceOf(alice), ALICE_START, "nothing taken");
        assertEq(home.bridge.getLane(toRemote).sequence, 0, "nothing sent");
        assertEq(lockedOnHome(), 0);
    }

    function test_frozenSenderCannotSend_burn() public {
        sendAs(alice, toRemote, bob, AMOUNT);
        relay(toRemote);
        uint256 bobWrapped = wrapped.balanceOf(bob);
        freezeOn(REMOTE, bob);
        vm.chainId(REMOTE);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(FrozenAccount.selector, bob));
        remote.bridge.send(toHome, alice, 100 * UNIT, 0);
        assertEq(wrapped.balanceOf(bob), bobWrapped, "nothing burned");
    }

    function test_freezeIsPerChain_frozenOnRemoteMaySendFromHome() public {
        freezeOn(REMOTE, alice);
        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        relay(toRemote);
        assertEq(seq, 1);
        assertEq(wrapped.balanceOf(bob), netOf(AMOUNT));
    }

    function test_unfreezeRestoresSend() public {
        freezeOn(HOME, alice);
        _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(FrozenAccount.selector, alice));
        unfreezeOn(HOME, alice);
        sendAs(alice, toRemote, bob, AMOUNT);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), netOf(AMOUNT));
    }

    function test_transferToFrozenRecipient_refundedEndToEnd() public {
        freezeOn(REMOTE, bob);
        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        Message memory original = sentMessage(toRemote, seq);
        Message memory refund = refundFor(original, 1);

        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, FrozenAccount.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, accAfter(toHome, refund));
        execute(d); // never reverts

        assertEq(remote.bridge.getLane(toRemote).sequence, seq, "lane advanced");
        assertEq(wrapped.balanceOf(bob), 0, "frozen recipient got nothing");
        assertEq(wrapped.totalSupply(), 0);
        assertEq(remote.bridge.availableCapacity(toRemote), 1_000_000 * UNIT, "refused transfer takes no capacity");

        _refundEndToEnd(original, 1);
        assertEq(token.balanceOf(alice), ALICE_START - AMOUNT + netOf(AMOUNT));
        assertEq(lockedOnHome(), 0);
    }

    function test_transferToFrozenRecipientOnHome_refundedOnRemote() public {
        // bob gets wrapped tokens, then sends them home to alice, who is frozen on home
        sendAs(alice, toRemote, bob, AMOUNT);
        relay(toRemote);
        uint256 bobWrapped = wrapped.balanceOf(bob);
        uint256 locked = lockedOnHome();
        freezeOn(HOME, alice);

        uint64 seq = sendAs(bob, toHome, alice, 100 * UNIT);
        uint256 net = sentMessage(toHome, seq).amount;
        Delivery memory d = prepare(toHome);
        vm.expectEmit(address(home.bridge));
        emit MessageFailed(toHome, seq, FrozenAccount.selector);
        execute(d);
        assertEq(token.balanceOf(alice), ALICE_START - AMOUNT, "frozen recipient got nothing");
        assertEq(lockedOnHome(), locked, "vault untouched");

        // the refund travels to remote and mints back to bob
        relay(toRemote);
        Message memory original = sentMessage(toHome, seq);
        vm.chainId(REMOTE);
        vm.prank(carol);
        remote.bridge.claimRefund(toHome, batch(toHome, 0, seq), seq - 1);
        assertEq(wrapped.balanceOf(bob), bobWrapped - 100 * UNIT + net, "bob refunded");
        assertEq(uint8(_refundStatusOf(remote.bridge, toHome, hashOf(original))), uint8(RefundStatus.Claimed));
        assertEq(wrapped.totalSupply(), lockedOnHome(), "supply backed");
    }

    function test_unfreezeRestoresDelivery() public {
        freezeOn(REMOTE, bob);
        unfreezeOn(REMOTE, bob);
        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, seq, bob, netOf(AMOUNT));
        execute(d);
        assertEq(wrapped.balanceOf(bob), netOf(AMOUNT));
        assertEq(sentCount(toHome), 0, "no refund");
    }

    function test_frozenRecipientInBatch_othersExecute() public {
        freezeOn(REMOTE, bob);
        sendAs(alice, toRemote, carol, AMOUNT);
        uint64 bad = sendAs(alice, toRemote, bob, AMOUNT);
        sendAs(alice, toRemote, carol, AMOUNT);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, bad, FrozenAccount.selector);
        execute(d);
        assertEq(wrapped.balanceOf(carol), 2 * netOf(AMOUNT));
        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(sentCount(toHome), 1);
        _refundEndToEnd(sentMessage(toRemote, bad), 1);
        assertEq(wrapped.totalSupply(), lockedOnHome(), "supply backed");
    }

    function test_largeTransferToFrozenRecipient_failsAtDelivery_notHeld() public {
        freezeOn(REMOTE, bob);
        uint64 seq = sendAs(alice, toRemote, bob, BIG);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, FrozenAccount.selector);
        execute(d);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.None), "not held");
        assertEq(remote.bridge.availableCapacity(toRemote), 1_000_000 * UNIT, "no capacity taken");
        _refundEndToEnd(sentMessage(toRemote, seq), 1);
    }

    function test_heldTransfer_recipientFrozenBeforeRelease_refunded() public {
        uint64 seq = sendAs(alice, toRemote, bob, BIG);
        Message memory original = sentMessage(toRemote, seq);
        relay(toRemote);
        Hold memory h = remote.bridge.getHold(toRemote, seq);
        assertEq(uint8(h.status), uint8(HoldStatus.Held));

        freezeOn(REMOTE, bob);
        vm.warp(h.releaseAt);
        Message memory refund = refundFor(original, 1);
        vm.expectEmit(address(remote.bridge));
        emit HoldReleased(toRemote, seq);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, FrozenAccount.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, accAfter(toHome, refund));
        vm.prank(carol); // anyone; does not revert
        remote.bridge.releaseHold(toRemote, seq);
        captureLogs();

        assertEq(wrapped.balanceOf(bob), 0, "frozen recipient got nothing");
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Released), "settled once");
        vm.expectRevert(abi.encodeWithSelector(HoldNotFound.selector, toRemote, seq));
        remote.bridge.releaseHold(toRemote, seq);

        _refundEndToEnd(original, 1);
        assertEq(token.balanceOf(alice), ALICE_START - BIG + netOf(BIG));
    }

    function test_heldTransfer_recipientUnfrozenBeforeRelease_paid() public {
        uint64 seq = sendAs(alice, toRemote, bob, BIG);
        relay(toRemote);
        freezeOn(REMOTE, bob);
        unfreezeOn(REMOTE, bob);
        vm.warp(remote.bridge.getHold(toRemote, seq).releaseAt);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), netOf(BIG));
    }

    function test_frozenSenderCannotClaimRefund_untilUnfrozen() public {
        freezeOn(REMOTE, bob);
        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        Message memory original = sentMessage(toRemote, seq);
        relay(toRemote);
        relay(toHome);
        bytes32 h = hashOf(original);
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved));

        freezeOn(HOME, alice);
        Message[] memory seg = batch(toRemote, 0, seq);
        vm.chainId(HOME);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(FrozenAccount.selector, alice));
        home.bridge.claimRefund(toRemote, seg, 0);
        assertEq(uint8(_refundStatusOf(home.bridge, toRemote, h)), uint8(RefundStatus.Approved), "still claimable");
        assertEq(token.balanceOf(alice), ALICE_START - AMOUNT);

        unfreezeOn(HOME, alice);
        claimAs(carol, toRemote, seg, 0);
        assertEq(token.balanceOf(alice), ALICE_START - AMOUNT + netOf(AMOUNT));
    }

    // ---------------------------------------------------------------------------------------
    // Attestations
    // ---------------------------------------------------------------------------------------

    function test_attest_setsExpiryAndEmits() public {
        uint64 expiresAt = uint64(block.timestamp + 30 days);
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit AttestationIssued(alice, expiresAt);
        vm.prank(issuer);
        home.bridge.attest(alice, expiresAt);
        (uint64 until, bool frozen) = home.bridge.accounts(alice);
        assertEq(until, expiresAt);
        assertFalse(frozen);

        // a freeze keeps the attestation and the other way round
        freezeOn(HOME, alice);
        (until, frozen) = home.bridge.accounts(alice);
        assertEq(until, expiresAt);
        assertTrue(frozen);

        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit AttestationRevoked(alice);
        vm.prank(issuer);
        home.bridge.revoke(alice);
        (until, frozen) = home.bridge.accounts(alice);
        assertEq(until, 0);
        assertTrue(frozen, "revoke does not unfreeze");
    }

    function test_attest_expiryMustBeInTheFuture() public {
        vm.chainId(HOME);
        vm.warp(1_000);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(InvalidExpiry.selector, uint64(1_000)));
        home.bridge.attest(alice, 1_000);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(InvalidExpiry.selector, uint64(0)));
        home.bridge.attest(alice, 0);
        vm.prank(issuer);
        home.bridge.attest(alice, 1_001);
    }

    function test_setRouteAllowlist_setsBothLanesAndEmits() public {
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit RouteAllowlistSet(routeId, true);
        home.bridge.setRouteAllowlist(routeId, true);
        assertTrue(home.bridge.getLane(toRemote).allowlist);
        assertTrue(home.bridge.getLane(toHome).allowlist);
        assertFalse(remote.bridge.getLane(toRemote).allowlist, "per chain");

        home.bridge.setRouteAllowlist(routeId, false);
        assertFalse(home.bridge.getLane(toRemote).allowlist);
        assertFalse(home.bridge.getLane(toHome).allowlist);

        vm.expectRevert(abi.encodeWithSelector(UnknownRoute.selector, bytes32(uint256(7))));
        home.bridge.setRouteAllowlist(bytes32(uint256(7)), true);
    }

    function test_nonAllowlistRoute_needsNoAttestation() public {
        sendAs(alice, toRemote, bob, AMOUNT);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), netOf(AMOUNT));
    }

    function test_allowlist_unverifiedSenderCannotSend() public {
        allowlistOn(HOME, true);
        attestOn(HOME, bob, block.timestamp + 1 days);
        _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(NotVerified.selector, alice));
        assertEq(home.bridge.getLane(toRemote).sequence, 0);
    }

    function test_allowlist_unverifiedRecipientOnSource_cannotSend() public {
        allowlistOn(HOME, true);
        attestOn(HOME, alice, block.timestamp + 1 days);
        _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(NotVerified.selector, bob));
        assertEq(home.bridge.getLane(toRemote).sequence, 0);
    }

    function test_allowlist_revokedSenderCannotSend() public {
        allowlistOn(HOME, true);
        attestOn(HOME, alice, block.timestamp + 1 days);
        attestOn(HOME, bob, block.timestamp + 1 days);
        sendAs(alice, toRemote, bob, AMOUNT);
        vm.chainId(HOME);
        vm.prank(issuer);
        home.bridge.revoke(alice);
        _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(NotVerified.selector, alice));
    }

    function test_allowlist_expiryEnforcedAtTheExactSecond_onSource() public {
        uint256 expiresAt = block.timestamp + 1 days;
        allowlistOn(HOME, true);
        attestOn(HOME, alice, expiresAt);
        attestOn(HOME, bob, expiresAt + 1 days);

        vm.warp(expiresAt - 1);
        sendAs(alice, toRemote, bob, AMOUNT); // last verified second

        vm.warp(expiresAt);
        _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(NotVerified.selector, alice));
        assertEq(home.bridge.getLane(toRemote).sequence, 1);
    }

    function test_allowlist_verifiedBothSides_delivers() public {
        _allowlistBothChains();
        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, seq, bob, netOf(AMOUNT));
        execute(d);
        assertEq(wrapped.balanceOf(bob), netOf(AMOUNT));
    }

    function test_allowlist_unverifiedRecipientOnDestination_failsAndRefunds() public {
        allowlistOn(HOME, true);
        allowlistOn(REMOTE, true);
        attestOn(HOME, alice, block.timestamp + 1 days);
        attestOn(HOME, bob, block.timestamp + 1 days);
        attestOn(REMOTE, alice, block.timestamp + 1 days); // bob is not verified on remote

        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        Message memory original = sentMessage(toRemote, seq);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, NotVerified.selector);
        execute(d);
        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(remote.bridge.availableCapacity(toRemote), 1_000_000 * UNIT, "no capacity taken");

        // the refund is claimable even though alice's attestation has expired meanwhile
        vm.warp(block.timestamp + 2 days);
        _refundEndToEnd(original, 1);
    }

    function test_allowlist_unverifiedSenderOnDestination_failsAndRefunds() public {
        allowlistOn(HOME, true);
        allowlistOn(REMOTE, true);
        attestOn(HOME, alice, block.timestamp + 1 days);
        attestOn(HOME, bob, block.timestamp + 1 days);
        attestOn(REMOTE, bob, block.timestamp + 1 days); // alice is not verified on remote

        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, NotVerified.selector);
        execute(d);
        assertEq(wrapped.balanceOf(bob), 0);
        _refundEndToEnd(sentMessage(toRemote, seq), 1);
    }

    function test_allowlist_expiryEnforcedAtTheExactSecond_onDestination() public {
        allowlistOn(HOME, true);
        allowlistOn(REMOTE, true);
        uint256 far = block.timestamp + 10 days;
        attestOn(HOME, alice, far);
        attestOn(HOME, bob, far);
        attestOn(REMOTE, alice, far);
        uint256 expiresAt = block.timestamp + 1 days;
        attestOn(REMOTE, bob, expiresAt);

        uint64 s1 = sendAs(alice, toRemote, bob, AMOUNT);
        vm.warp(expiresAt - 1);
        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, s1, bob, netOf(AMOUNT));
        execute(d);

        uint64 s2 = sendAs(alice, toRemote, bob, AMOUNT);
        vm.warp(expiresAt);
        d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, s2, NotVerified.selector);
        execute(d);
        assertEq(wrapped.balanceOf(bob), netOf(AMOUNT), "only the first paid");
        _refundEndToEnd(sentMessage(toRemote, s2), 1);
    }

    function test_allowlist_heldTransfer_attestationRevokedBeforeRelease_refunded() public {
        _allowlistBothChains();
        uint64 seq = sendAs(alice, toRemote, bob, BIG);
        relay(toRemote);
        Hold memory h = remote.bridge.getHold(toRemote, seq);
        assertEq(uint8(h.status), uint8(HoldStatus.Held));

        vm.chainId(REMOTE);
        vm.prank(issuer);
        remote.bridge.revoke(bob);
        vm.warp(h.releaseAt);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, seq, NotVerified.selector);
        remote.bridge.releaseHold(toRemote, seq);
        captureLogs();
        assertEq(wrapped.balanceOf(bob), 0);
        _refundEndToEnd(sentMessage(toRemote, seq), 1);
    }

    function test_allowlist_frozenAndVerifiedSender_cannotSend() public {
        _allowlistBothChains();
        freezeOn(HOME, alice);
        _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(FrozenAccount.selector, alice));
    }

    function testFuzz_verifiedStrictlyBeforeExpiry(uint64 expiresAt, uint64 t) public {
        expiresAt = uint64(bound(expiresAt, 2, type(uint64).max));
        t = uint64(bound(t, 1, type(uint64).max));
        vm.warp(1);
        allowlistOn(HOME, true);
        attestOn(HOME, alice, expiresAt);
        attestOn(HOME, bob, type(uint64).max);
        vm.warp(t);
        if (t < expiresAt) {
            sendAs(alice, toRemote, bob, AMOUNT);
            assertEq(home.bridge.getLane(toRemote).sequence, 1);
        } else {
            _expectSendRevert(alice, toRemote, bob, abi.encodeWithSelector(NotVerified.selector, alice));
        }
    }

    function _allowlistBothChains() internal {
        allowlistOn(HOME, true);
        allowlistOn(REMOTE, true);
        uint256 until = block.timestamp + 30 days;
        attestOn(HOME, alice, until);
        attestOn(HOME, bob, until);
        attestOn(REMOTE, alice, until);
        attestOn(REMOTE, bob, until);
    }

    // ---------------------------------------------------------------------------------------
    // Roles: each is its own key
    // ---------------------------------------------------------------------------------------

    function test_rolesWired() public view {
        assertEq(BridgeRoles.REGULATOR, 5);
        assertEq(BridgeRoles.COMPLIANCE_ISSUER, 6);
        address b = address(home.bridge);
        assertEq(home.manager.getTargetFunctionRole(b, ZeroBridge.freeze.selector), BridgeRoles.REGULATOR);
        assertEq(home.manager.getTargetFunctionRole(b, ZeroBridge.unfreeze.selector), BridgeRoles.REGULATOR);
        assertEq(home.manager.getTargetFunctionRole(b, ZeroBridge.attest.selector), BridgeRoles.COMPLIANCE_ISSUER);
        assertEq(home.manager.getTargetFunctionRole(b, ZeroBridge.revoke.selector), BridgeRoles.COMPLIANCE_ISSUER);
        assertEq(
            home.manager.getTargetFunctionRole(b, ZeroBridge.setRouteAllowlist.selector), home.manager.ADMIN_ROLE()
        );
    }

    function test_onlyRegulatorFreezes() public {
        address[4] memory others = [guardian, governance, issuer, carol];
        vm.chainId(HOME);
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.bridge.freeze(bob);
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.bridge.unfreeze(bob);
        }
        (, bool frozen) = home.bridge.accounts(bob);
        assertFalse(frozen);
    }

    function test_onlyIssuerAttests() public {
        address[4] memory others = [guardian, governance, regulator, carol];
        vm.chainId(HOME);
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.bridge.attest(bob, uint64(block.timestamp + 1 days));
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.bridge.revoke(bob);
        }
        (uint64 until,) = home.bridge.accounts(bob);
        assertEq(until, 0);
    }

    function test_onlyGovernanceSetsAllowlist() public {
        address[5] memory others = [guardian, regulator, issuer, tokenOwner, carol];
        vm.chainId(HOME);
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.bridge.setRouteAllowlist(routeId, true);
        }
        assertFalse(home.bridge.getLane(toRemote).allowlist);
    }

    function test_regulatorCannotPauseOrMoveFunds() public {
        // a held transfer and accrued fees exist: things a funds-moving key could touch
        uint64 seq = sendAs(alice, toRemote, bob, BIG);
        relay(toRemote);
        vm.chainId(HOME);
        bytes[] memory calls = new bytes[](11);
        calls[0] = abi.encodeCall(ZeroBridge.pause, ());
        calls[1] = abi.encodeCall(ZeroBridge.unpause, ());
        calls[2] = abi.encodeCall(ZeroBridge.pauseLane, (toRemote));
        calls[3] = abi.encodeCall(ZeroBridge.unpauseLane, (toRemote));
        calls[4] = abi.encodeCall(ZeroBridge.withdrawValidatorFees, (toRemote, regulator));
        calls[5] = abi.encodeCall(ZeroBridge.setPeer, (REMOTE, regulator));
        calls[6] = abi.encodeCall(ZeroBridge.setExitOnly, (routeId));
        calls[7] = abi.encodeCall(ZeroBridge.setHoldDelay, (0));
        calls[8] = abi.encodeCall(ZeroBridge.queueValidatorSetUpdate, (toRemote, hex""));
        calls[9] = abi.encodeCall(ZeroBridge.setRouteAllowlist, (routeId, true));
        calls[10] = abi.encodeCall(ZeroBridge.cancelRefund, (toRemote, bytes32(0)));
        for (uint256 i; i < calls.length; ++i) {
            vm.prank(regulator);
            (bool ok, bytes memory ret) = address(home.bridge).call(calls[i]);
            assertFalse(ok, "regulator call succeeded");
            assertEq(ret, unauthorized(regulator));
        }

        vm.chainId(REMOTE);
        bytes[] memory holdCalls = new bytes[](3);
        holdCalls[0] = abi.encodeCall(ZeroBridge.freezeHold, (toRemote, seq));
        holdCalls[1] = abi.encodeCall(ZeroBridge.unfreezeHold, (toRemote, seq));
        holdCalls[2] = abi.encodeCall(ZeroBridge.refundHold, (toRemote, seq));
        for (uint256 i; i < holdCalls.length; ++i) {
            vm.prank(regulator);
            (bool ok, bytes memory ret) = address(remote.bridge).call(holdCalls[i]);
            assertFalse(ok, "regulator hold call succeeded");
            assertEq(ret, unauthorized(regulator));
        }
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));
        assertFalse(home.bridge.paused());
        assertEq(token.balanceOf(regulator), 0);
        assertEq(wrapped.balanceOf(regulator), 0);
    }

    function test_issuerCannotPauseOrFreeze() public {
        vm.chainId(HOME);
        vm.prank(issuer);
        vm.expectRevert(unauthorized(issuer));
        home.bridge.pause();
        vm.prank(issuer);
        vm.expectRevert(unauthorized(issuer));
        home.bridge.withdrawValidatorFees(toRemote, issuer);
    }

    function _refundStatusOf(ZeroBridge b, bytes32 lane, bytes32 messageHash)
        internal
        view
        returns (RefundStatus status)
    {
        (status,) = b.refunds(lane, messageHash);
    }
}
