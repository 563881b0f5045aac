// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LivenessBase} from "./LivenessBase.sol";
import {Lane, Route, LivenessPolicy} from "../../src/BridgeBase.sol";
import {Message} from "../../src/interfaces/IZeroBridge.sol";

/// @notice The fallback set delivers only what has waited out the route's delay, only with the
/// installed (unexpired) fallback set, only what the source really sent; each delay period counts
/// one strike against the primary set.
contract FallbackTest is LivenessBase {
    function _fallbackHash() internal pure returns (bytes32) {
        return keccak256(encodeSet(fallbackSet()));
    }

    function test_fallbackBeforeDelay_refusedWithDueAt() public {
        uint64 seq = sendAs(alice, toRemote, bob, SMALL);
        uint64 dueAt = uint64(T0) + DELAY;
        Delivery memory d = prepareFallback(toRemote, seq);

        vm.expectRevert(abi.encodeWithSelector(FallbackNotDue.selector, dueAt));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        vm.warp(dueAt - 1);
        vm.expectRevert(abi.encodeWithSelector(FallbackNotDue.selector, dueAt));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).sequence, 0, "nothing delivered");
        assertEq(strikesOn(REMOTE), 0, "no strike for a refused delivery");

        vm.warp(dueAt);
        executeByFallback(d);
        assertEq(wrapped.balanceOf(bob), netOf(SMALL), "delivered at dueAt");
    }

    function test_dueAtCountsFromNewestMessageOfBatch() public {
        sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + 1 hours);
        uint64 second = sendAs(alice, toRemote, carol, SMALL);
        vm.warp(T0 + DELAY);

        Delivery memory both = prepareFallback(toRemote, second);
        vm.expectRevert(abi.encodeWithSelector(FallbackNotDue.selector, uint64(T0 + 1 hours + DELAY)));
        both.bridge.deliverByFallback(both.cp, both.set, both.sigs, both.msgs);

        // The older message alone is due.
        fallbackTo(toRemote, 1);
        assertEq(wrapped.balanceOf(bob), netOf(SMALL));
        assertEq(wrapped.balanceOf(carol), 0);

        vm.warp(T0 + 1 hours + DELAY);
        fallbackTo(toRemote, second);
        assertEq(wrapped.balanceOf(carol), netOf(SMALL));
    }

    /// @dev The primary relays the first transfer, the second is sent while it still runs and the
    /// third after it stopped; the fallback delivers both undelivered ones in one batch.
    function test_fallbackDeliversWhatThePrimaryLeft() public {
        sendAs(alice, toRemote, bob, SMALL);
        relay(toRemote);
        uint64 before = sendAs(alice, toRemote, carol, 2 * SMALL);
        vm.warp(T0 + 2 hours);
        uint64 afterStop = sendAs(alice, toRemote, bob, 3 * SMALL);
        vm.warp(T0 + 2 hours + DELAY);

        Delivery memory d = prepareFallback(toRemote, afterStop);
        assertEq(d.msgs.length, 2, "batch");
        vm.expectEmit(address(remote.bridge));
        emit FallbackDelivered(toRemote, afterStop, 1);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, before, carol, netOf(2 * SMALL));
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, afterStop, bob, netOf(3 * SMALL));
        executeByFallback(d);

        assertEq(wrapped.balanceOf(carol), netOf(2 * SMALL), "sent before the stop");
        assertEq(wrapped.balanceOf(bob), netOf(SMALL) + netOf(3 * SMALL), "sent after the stop");
        Lane memory lane = remote.bridge.getLane(toRemote);
        assertEq(lane.sequence, afterStop);
        assertEq(lane.accumulator, checkpointAt(toRemote, afterStop).accumulator);
        Route memory route = remote.bridge.getRoute(routeId);
        assertEq(route.strikes, 1, "strike");
        assertEq(route.lastStrikeAt, T0 + 2 hours + DELAY);
        assertEq(uint8(lane.status), 2, "still Active");
        assertEq(strikesOn(HOME), 0, "strikes are per chain");

        // The primary is not locked out: it continues the lane from the fallback's head.
        uint64 next = sendAs(alice, toRemote, carol, SMALL);
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).sequence, next);
        assertEq(strikesOn(REMOTE), 1, "a primary delivery is no strike");
    }

    function test_atMostOneStrikePerDelayPeriod() public {
        sendAs(alice, toRemote, bob, SMALL);
        sendAs(alice, toRemote, bob, SMALL);
        sendAs(alice, toRemote, bob, SMALL);

        vm.warp(T0 + DELAY);
        Delivery memory d = prepareFallback(toRemote, 1);
        vm.expectEmit(address(remote.bridge));
        emit FallbackDelivered(toRemote, 1, 1);
        executeByFallback(d);

        // Still inside the period opened by the first strike.
        vm.warp(T0 + 2 * uint256(DELAY) - 1);
        d = prepareFallback(toRemote, 2);
        vm.expectEmit(address(remote.bridge));
        emit FallbackDelivered(toRemote, 2, 1);
        executeByFallback(d);
        assertEq(strikesOn(REMOTE), 1, "second delivery in the period");
        assertEq(remote.bridge.getRoute(routeId).lastStrikeAt, T0 + DELAY, "period not restarted");

        vm.warp(T0 + 2 * uint256(DELAY));
        d = prepareFallback(toRemote, 3);
        vm.expectEmit(address(remote.bridge));
        emit FallbackDelivered(toRemote, 3, 2);
        executeByFallback(d);
        assertEq(strikesOn(REMOTE), 2, "next period");
        assertEq(remote.bridge.getRoute(routeId).lastStrikeAt, T0 + 2 * uint256(DELAY));
        assertEq(wrapped.balanceOf(bob), 3 * netOf(SMALL));
        assertEq(statusOf(REMOTE, toRemote), 2, "below the strike limit: Active");
    }

    function test_newPolicyStartsANewStrikeCount() public {
        sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + DELAY);
        fallbackTo(toRemote, 1);
        assertEq(strikesOn(REMOTE), 1);

        setPolicy(REMOTE, policy(0));
        assertEq(strikesOn(REMOTE), 0, "governance forgives a recovered primary");
        assertEq(remote.bridge.getRoute(routeId).fallbackDelay, DELAY, "the policy itself is kept");
    }

    function test_setsOtherThanTheInstalledFallback_refused() public {
        uint64 seq = sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + DELAY);
        bytes32 fallbackHash = _fallbackHash();

        ValidatorSet memory impostor = makeSet("impostor", 3, 2);
        Delivery memory d = prepareToWith(toRemote, seq, impostor);
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, fallbackHash, keccak256(encodeSet(impostor)))
        );
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);

        // The primary set has no authority on the fallback path ...
        bytes32 primaryHash = keccak256(encodeSet(currentSet(toRemote)));
        d = prepareTo(toRemote, seq);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, fallbackHash, primaryHash));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);

        // ... nor the fallback set on the primary path (no delay there).
        d = prepareFallback(toRemote, seq);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, primaryHash, fallbackHash));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);

        // One fallback member is not a quorum of the fallback set.
        uint256[] memory one = new uint256[](1);
        d.sigs = signBy(fallbackSet(), one, digestOf(sourceDomain(toRemote), d.cp));
        vm.expectRevert(abi.encodeWithSelector(QuorumNotReached.selector, 1, 2));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);

        // A replaced fallback set has no authority left.
        ValidatorSet memory next = makeSet("fallback.next", 4, 3);
        installFallback(REMOTE, encodeSet(next));
        d = prepareFallback(toRemote, seq);
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(encodeSet(next)), fallbackHash)
        );
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).sequence, 0, "nothing delivered");
        assertEq(strikesOn(REMOTE), 0);

        executeByFallback(prepareToWith(toRemote, seq, next));
        assertEq(wrapped.balanceOf(bob), netOf(SMALL), "the installed set delivers");
    }

    function test_expiredFallbackSet_refused() public {
        ValidatorSet memory f = fallbackSet();
        uint64 validUntil = uint64(T0 + 1 days);
        f.validUntil = validUntil;
        installFallback(REMOTE, encodeSet(f));

        sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + DELAY);
        executeByFallback(prepareToWith(toRemote, 1, f));
        assertEq(wrapped.balanceOf(bob), netOf(SMALL), "valid before its expiry");

        uint64 seq = sendAs(alice, toRemote, bob, SMALL);
        vm.warp(validUntil);
        Delivery memory d = prepareToWith(toRemote, seq, f);
        vm.expectRevert(abi.encodeWithSelector(ValidatorSetExpired.selector, validUntil));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).sequence, 1);

        // Nor can an already expired set be installed as the fallback.
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(ValidatorSetExpired.selector, validUntil));
        remote.bridge.setFallbackSet(routeId, encodeSet(f));
    }

    function test_noFallbackSet_reverts() public {
        vm.chainId(REMOTE);
        vm.expectEmit(address(remote.bridge));
        emit FallbackSetInstalled(routeId, bytes32(0), "");
        vm.prank(setManager);
        remote.bridge.setFallbackSet(routeId, "");
        assertEq(remote.bridge.getRoute(routeId).fallbackSetHash, bytes32(0));

        uint64 seq = sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + 30 days);
        Delivery memory d = prepareFallback(toRemote, seq);
        vm.expectRevert(abi.encodeWithSelector(NoFallbackSet.selector, routeId));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);

        // Only the set manager names fallback sets.
        vm.prank(alice);
        vm.expectRevert(unauthorized(alice));
        remote.bridge.setFallbackSet(routeId, d.set);
    }

    function test_forgedFallbackCheckpoint_accumulatorMismatch() public {
        uint64 seq = sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + DELAY);
        Delivery memory d = prepareFallback(toRemote, seq);
        bytes32 real = d.cp.accumulator;

        // The fallback quorum signs an accumulator the lane never had.
        d.cp.accumulator = keccak256("forged");
        d.sigs = quorumSignatures(fallbackSet(), digestOf(sourceDomain(toRemote), d.cp));
        vm.expectRevert(abi.encodeWithSelector(AccumulatorMismatch.selector, d.cp.accumulator, real));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);

        // The honest checkpoint with an altered message.
        d = prepareFallback(toRemote, seq);
        Message memory altered = d.msgs[0];
        altered.amount *= 2;
        vm.expectRevert(
            abi.encodeWithSelector(AccumulatorMismatch.selector, real, nextAcc(initialAcc(toRemote), altered))
        );
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);

        assertEq(remote.bridge.getLane(toRemote).sequence, 0, "nothing delivered");
        assertEq(strikesOn(REMOTE), 0, "no strike for a refused batch");
        assertEq(wrapped.totalSupply(), 0);
    }

    function test_fallbackStopsWhilePaused() public {
        uint64 seq = sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + DELAY);
        Delivery memory d = prepareFallback(toRemote, seq);

        vm.prank(guardian);
        remote.bridge.pause();
        vm.expectRevert(BridgePaused.selector);
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        remote.bridge.unpause();

        vm.prank(guardian);
        remote.bridge.pauseLane(toRemote);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, toRemote));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        remote.bridge.unpauseLane(toRemote);

        executeByFallback(d);
        assertEq(wrapped.balanceOf(bob), netOf(SMALL));
    }

    /// @dev Exactly at dueAt (the newest message's sentAt plus the delay) and not a second before.
    function testFuzz_fallbackDueExactlyAtDelay(uint32 delay, uint32 gap, uint32 wait) public {
        delay = uint32(bound(delay, 1, 30 days));
        gap = uint32(bound(gap, 0, 10 days));
        wait = uint32(bound(wait, 0, 2 * uint256(delay)));
        LivenessPolicy memory p = policy(0);
        p.fallbackDelay = delay;
        setPolicy(REMOTE, p);

        sendAs(alice, toRemote, bob, SMALL);
        vm.warp(T0 + gap);
        uint64 seq = sendAs(alice, toRemote, carol, SMALL);
        vm.warp(T0 + uint256(gap) + wait);
        Delivery memory d = prepareFallback(toRemote, seq);

        if (wait < delay) {
            vm.expectRevert(abi.encodeWithSelector(FallbackNotDue.selector, uint64(T0 + uint256(gap) + delay)));
            d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
            assertEq(remote.bridge.getLane(toRemote).sequence, 0);
            assertEq(strikesOn(REMOTE), 0);
        } else {
            executeByFallback(d);
            assertEq(remote.bridge.getLane(toRemote).sequence, seq);
            assertEq(wrapped.balanceOf(carol), netOf(SMALL));
            assertEq(strikesOn(REMOTE), 1);
        }
    }
}
