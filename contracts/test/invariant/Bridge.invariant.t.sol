// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {console2} from "forge-std/console2.sol";

import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {BridgeHandler} from "./BridgeHandler.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Lane} from "../../src/BridgeBase.sol";
import {Message, MessageKind, RouteParams, HoldStatus, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Stateful invariants of one route (DESIGN.md section 8), driven by BridgeHandler.
///
/// The route is configured so that every path really happens:
/// - home -> remote: outbound bucket 150k/day on home, inbound bucket only 50k/day on remote, so
///   deliveries fail with RateLimited and come back as REFUND messages to be claimed on home;
///   transfers of 20k or more are held on remote.
/// - remote -> home: outbound bucket 120k/day on remote, inbound 25k/day on home, hold at 10k.
///
/// Accounting (derived from ZeroBridge): with L = locked in the home vault (toRemote lane) and
/// W = wrapped total supply (holders + remote-side fees minted to the remote bridge),
///   L == W + outstanding(toRemote) + outstanding(toHome)
/// where outstanding(lane) sums the net amount of every TRANSFER of the lane that is
///   not yet delivered, or held on the destination, or failed and not yet refunded
///   (REFUND still travelling back, or approved on the source and not yet claimed).
/// Home-side fees are not in L (they sit in the home bridge next to it).
contract BridgeInvariantTest is BridgeFixture {
    BridgeHandler internal handler;

    uint256 internal constant DAY = 1 days;

    function setUp() public override {
        super.setUp();

        vm.chainId(HOME);
        vm.prank(tokenOwner);
        home.registry.setLimits(routeId, homeParams());
        vm.chainId(REMOTE);
        vm.prank(tokenOwner);
        remote.registry.setLimits(routeId, remoteParams());

        ValidatorSet memory set = currentSet(toRemote);
        assertEq(keccak256(encodeSet(set)), keccak256(encodeSet(currentSet(toHome))), "one set for both lanes");
        handler = new BridgeHandler(
            home.bridge, remote.bridge, token, wrapped, toRemote, toHome, set.keys, set.members, set.weights, set.threshold
        );

        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = BridgeHandler.sendHomeToRemote.selector;
        selectors[1] = BridgeHandler.sendRemoteToHome.selector;
        selectors[2] = BridgeHandler.relayToRemote.selector;
        selectors[3] = BridgeHandler.relayToHome.selector;
        selectors[4] = BridgeHandler.warp.selector;
        selectors[5] = BridgeHandler.releaseHolds.selector;
        selectors[6] = BridgeHandler.claimRefunds.selector;
        selectors[7] = BridgeHandler.deliverForged.selector;
        selectors[8] = BridgeHandler.claimFees.selector;
        selectors[9] = BridgeHandler.refundForgedMessage.selector;
        selectors[10] = BridgeHandler.cancelHolds.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Applied on home: outbound = toRemote lane, inbound = toHome lane.
    function homeParams() internal view returns (RouteParams memory) {
        return RouteParams({
            feeBps: 10,
            feeCollector: collector,
            minAmount: uint128(1 * UNIT),
            maxAmount: uint128(40_000 * UNIT),
            outboundCapacity: uint128(150_000 * UNIT),
            inboundCapacity: uint128(25_000 * UNIT),
            largeTransferThreshold: uint128(10_000 * UNIT)
        });
    }

    /// @dev Applied on remote: outbound = toHome lane, inbound = toRemote lane.
    function remoteParams() internal view returns (RouteParams memory) {
        return RouteParams({
            feeBps: 10,
            feeCollector: collector,
            minAmount: uint128(1 * UNIT),
            maxAmount: uint128(40_000 * UNIT),
            outboundCapacity: uint128(120_000 * UNIT),
            inboundCapacity: uint128(50_000 * UNIT),
            largeTransferThreshold: uint128(20_000 * UNIT)
        });
    }

    // =======================================================================================
    // 1. Supply conservation
    // =======================================================================================

    struct Outstanding {
        uint256 pending; // sent, not delivered
        uint256 held; // delivered, held on the destination
        uint256 refundInFlight; // failed, REFUND not yet delivered back to the source
        uint256 refundApproved; // refund approved on the source, not claimed
    }

    function _outstanding(bytes32 lane) internal view returns (Outstanding memory o) {
        ZeroBridge src = lane == toRemote ? home.bridge : remote.bridge;
        ZeroBridge dst = lane == toRemote ? remote.bridge : home.bridge;
        uint64 delivered = dst.getLane(lane).sequence;
        uint64 n = handler.sentCount(lane);
        for (uint64 s = 1; s <= n; ++s) {
            Message memory m = handler.sentAt(lane, s);
            if (m.kind != MessageKind.TRANSFER) continue;
            if (s > delivered) {
                o.pending += m.amount;
                continue;
            }
            HoldStatus hs = dst.getHold(lane, s).status;
            if (hs == HoldStatus.Held || hs == HoldStatus.Frozen) {
                o.held += m.amount;
                continue;
            }
            (RefundStatus rs,) = src.refunds(lane, keccak256(abi.encode(m)));
            if (rs == RefundStatus.Approved) {
                o.refundApproved += m.amount;
            } else if (rs == RefundStatus.None && handler.stateOf(lane, s).failed) {
                o.refundInFlight += m.amount;
            }
            // otherwise executed (minted / released) or refund claimed: settled
        }
    }

    function _sum(Outstanding memory o) internal pure returns (uint256) {
        return o.pending + o.held + o.refundInFlight + o.refundApproved;
    }

    function invariant_supplyConservation() public view {
        uint256 locked = home.bridge.getLane(toRemote).locked;
        uint256 supply = wrapped.totalSupply();

        // design invariant 1: wrapped supply never exceeds what the home vault holds for the route
        assertLe(supply, locked, "wrapped supply > locked on home");

        // exact equation, classified from the contracts' own state
        Outstanding memory out = _outstanding(toRemote);
        Outstanding memory back = _outstanding(toHome);
        assertEq(locked, supply + _sum(out) + _sum(back), "locked != supply + in flight + held + refunds owed");

        // the same from the handler's running ghosts, one chain at a time
        assertEq(
            locked + handler.executedNet(toHome) + handler.refundedNet(toRemote),
            handler.sentNet(toRemote),
            "home vault != locked - released - refunded"
        );
        assertEq(
            supply + handler.sentNet(toHome),
            handler.executedNet(toRemote) + handler.refundedNet(toHome),
            "wrapped supply != minted + refunded - burned(net)"
        );

        // the vault holds the route's locked amount and the unclaimed fees next to it
        Lane memory homeOut = home.bridge.getLane(toRemote);
        assertGe(
            token.balanceOf(address(home.bridge)),
            locked + homeOut.ownerFees + homeOut.validatorFees,
            "home bridge balance < locked + fees"
        );
        Lane memory remoteOut = remote.bridge.getLane(toHome);
        assertGe(
            wrapped.balanceOf(address(remote.bridge)),
            uint256(remoteOut.ownerFees) + remoteOut.validatorFees,
            "remote bridge wrapped balance < fees"
        );
    }

    // =======================================================================================
    // 2. Exactly once
    // =======================================================================================

    function invariant_exactlyOnce() public view {
        assertEq(handler.duplicateOutcomes(), 0, "a message executed, failed, held or released twice");
        assertEq(handler.doubleRefundClaims(), 0, "a refund was claimed twice");
        assertEq(handler.lateExecutions(), 0, "a transfer was executed after its deadline");
        assertEq(handler.claimsWithoutFailure(), 0, "a refund was paid for a transfer that did not fail");
        assertEq(handler.approvalsWithoutFailure(), 0, "a refund was approved for a transfer that did not fail");
        assertEq(handler.logMismatches(), 0, "events disagree with the relayer's record");
        _checkLane(toRemote);
        _checkLane(toHome);
    }

    function _checkLane(bytes32 lane) internal view {
        ZeroBridge src = lane == toRemote ? home.bridge : remote.bridge;
        ZeroBridge dst = lane == toRemote ? remote.bridge : home.bridge;
        Lane memory out = src.getLane(lane);
        Lane memory inb = dst.getLane(lane);
        uint64 head = handler.sentCount(lane);

        // the relayer's record is the source's history
        assertEq(out.sequence, head, "source sequence != messages seen");
        assertEq(out.accumulator, handler.accAt(lane, head), "source accumulator != recomputed");
        uint64 interval = src.ACCUMULATOR_RECORD_INTERVAL();
        for (uint64 k = interval; k <= head; k += interval) {
            assertEq(src.accumulatorAt(lane, k), handler.accAt(lane, k), "recorded accumulator");
        }

        // the destination delivered exactly what was relayed, and agrees with the source
        assertEq(inb.sequence, handler.deliveredCount(lane), "destination sequence != messages delivered");
        assertLe(inb.sequence, head, "delivered beyond the source head");
        assertEq(inb.accumulator, handler.accAt(lane, inb.sequence), "destination accumulator != source's");
        if (inb.sequence == head || inb.sequence % interval == 0) {
            assertEq(inb.accumulator, src.accumulatorAt(lane, inb.sequence), "destination accumulator != recorded");
        }

        for (uint64 s = 1; s <= head; ++s) {
            Message memory m = handler.sentAt(lane, s);
            BridgeHandler.MsgState memory st = handler.stateOf(lane, s);
            if (s > inb.sequence || m.kind != MessageKind.TRANSFER) {
                assertTrue(!st.executed && !st.failed && !st.held, "outcome for undelivered or non-transfer");
                continue;
            }
            uint256 finals = (st.executed ? 1 : 0) + (st.failed ? 1 : 0);
            HoldStatus hs = dst.getHold(lane, s).status;
            if (st.held && !st.released) {
                assertEq(finals, 0, "held transfer already settled");
                assertEq(uint8(hs), uint8(HoldStatus.Held), "hold status");
            } else {
                assertEq(finals, 1, "delivered transfer not settled exactly once");
                if (st.held) {
                    HoldStatus ended = st.cancelled ? HoldStatus.Cancelled : HoldStatus.Released;
                    assertEq(uint8(hs), uint8(ended), "ended hold status");
                }
            }
            (RefundStatus rs,) = src.refunds(lane, keccak256(abi.encode(m)));
            if (st.refundClaimed) {
                assertEq(uint8(rs), uint8(RefundStatus.Claimed), "claimed refund status");
            } else if (st.refundApproved) {
                assertEq(uint8(rs), uint8(RefundStatus.Approved), "approved refund status");
            } else {
                assertEq(uint8(rs), uint8(RefundStatus.None), "refund status without approval");
            }
            if (rs != RefundStatus.None) assertTrue(st.failed, "refund status for a transfer that did not fail");
        }
    }

    // =======================================================================================
    // 3. Quorum soundness (and the refund/hold paths cannot be cheated)
    // =======================================================================================

    function invariant_quorumSoundness() public view {
        assertEq(handler.forgedSuccesses(), 0, "a forged delivery succeeded");
        assertEq(handler.forgedClaimSuccesses(), 0, "a forged or repeated refund claim succeeded");
        assertEq(handler.earlyReleaseSuccesses(), 0, "a hold was released before its delay");
        assertEq(handler.foreignCancelSuccesses(), 0, "someone other than the sender cancelled a hold");
        assertEq(handler.repeatCancelSuccesses(), 0, "a hold was cancelled twice");
        assertEq(handler.compromisedRefundSuccesses(), 0, "a refund paid for a transfer the source never sent");
    }

    // =======================================================================================
    // 4. Limits hold under any split of transfers
    // =======================================================================================

    function invariant_rateLimits() public view {
        _checkFlow(handler.outFlow(toRemote), home.bridge.getLane(toRemote).capacity, "toRemote outbound");
        _checkFlow(handler.inFlow(toRemote), remote.bridge.getLane(toRemote).capacity, "toRemote inbound");
        _checkFlow(handler.outFlow(toHome), remote.bridge.getLane(toHome).capacity, "toHome outbound");
        _checkFlow(handler.inFlow(toHome), home.bridge.getLane(toHome).capacity, "toHome inbound");
    }

    /// @dev Over every window [t_i, t_j] between two recorded takes, the bucket can have given at
    /// most its capacity plus the linear refill: sum * 1 day <= capacity * (1 day + t_j - t_i).
    function _checkFlow(BridgeHandler.Flow[] memory flows, uint256 capacity, string memory what) internal pure {
        for (uint256 i; i < flows.length; ++i) {
            uint256 sum;
            for (uint256 j = i; j < flows.length; ++j) {
                sum += flows[j].amount;
                uint256 window = flows[j].t - flows[i].t;
                assertLe(sum * DAY, capacity * (DAY + window), what);
            }
        }
    }

    // =======================================================================================
    // Liveness of honest actions: a correct relay, claim or release is never refused
    // =======================================================================================

    function invariant_honestActionsNeverBlocked() public view {
        assertEq(handler.legitDeliverReverts(), 0, "a correctly signed batch was refused");
        assertEq(handler.legitClaimReverts(), 0, "an approved refund with a valid proof was refused");
        assertEq(handler.legitReleaseReverts(), 0, "a due hold could not be released");
        assertEq(handler.legitCancelReverts(), 0, "a held transfer's sender could not cancel it");
        assertEq(handler.unexpectedSendReverts(), 0, "a send or fee claim reverted for an unexpected reason");
    }

    // =======================================================================================
    // Call summary (forge test -vv)
    // =======================================================================================

    function afterInvariant() public view {
        _summary();
    }

    function _summary() internal view {
        BridgeHandler.Counters memory a = handler.counters(toRemote);
        BridgeHandler.Counters memory b = handler.counters(toHome);
        console2.log("calls", handler.calls());
        console2.log("toRemote sends/rateLimited", a.sends, a.sendsRateLimited);
        console2.log("toRemote deliveries/partial", a.deliveries, a.partialBatches);
        console2.log("toRemote executed/failed/held", a.executed, a.failed, a.held);
        console2.log("toRemote released/refundsApproved/claimed", a.released, a.refundsApproved, a.refundsClaimed);
        console2.log("toRemote timed out/cancelled", a.timedOut, a.cancelled);
        console2.log("toHome sends/rateLimited", b.sends, b.sendsRateLimited);
        console2.log("toHome deliveries/partial", b.deliveries, b.partialBatches);
        console2.log("toHome executed/failed/held", b.executed, b.failed, b.held);
        console2.log("toHome released/refundsApproved/claimed", b.released, b.refundsApproved, b.refundsClaimed);
        console2.log("toHome timed out/cancelled", b.timedOut, b.cancelled);
        console2.log("forged attempts/claims/early releases", handler.forgedAttempts(), handler.forgedClaimAttempts(), handler.earlyReleaseAttempts());
        console2.log("refunds of never-sent transfers attempted", handler.compromisedRefundAttempts());
    }

    // =======================================================================================
    // Deterministic run of the handler: every path is really exercised
    // =======================================================================================

    function _checkAll() internal view {
        invariant_supplyConservation();
        invariant_exactlyOnce();
        invariant_quorumSoundness();
        invariant_rateLimits();
        invariant_honestActionsNeverBlocked();
    }

    function test_handler_exercisesEveryPath() public {
        // actor 0 funds actor 1 on remote: 15k now, 2 x 15k a day later (remote inbound 50k/day)
        handler.sendHomeToRemote(0, 1, 15_000 * UNIT);
        handler.relayToRemote(0, 0);
        handler.warp(1 days);
        handler.sendHomeToRemote(0, 1, 15_000 * UNIT);
        handler.sendHomeToRemote(0, 1, 15_000 * UNIT);
        handler.relayToRemote(0, 1);
        _checkAll();
        assertEq(handler.counters(toRemote).executed, 3);

        // next day: 30k (held on remote) and 25k (over the remaining inbound capacity: fails)
        handler.warp(1 days);
        handler.sendHomeToRemote(0, 2, 30_000 * UNIT);
        handler.sendHomeToRemote(2, 0, 25_000 * UNIT);
        handler.relayToRemote(1, 2); // partial: only the held one
        handler.relayToRemote(0, 3); // the rest: fails with RateLimited, REFUND goes back
        _checkAll();
        assertEq(handler.counters(toRemote).held, 1, "held on remote");
        assertEq(handler.counters(toRemote).failedRateLimited, 1, "rate limited on remote");
        assertEq(handler.counters(toRemote).partialBatches, 1, "partial batch");

        // actor 1 returns 12k (held on home, 10k threshold) and 14k (over home's 25k inbound)
        handler.sendRemoteToHome(1, 0, 12_000 * UNIT);
        handler.sendRemoteToHome(1, 2, 14_000 * UNIT);
        handler.relayToHome(0, 4); // REFUND for toRemote #5, held #1, failed #2 (REFUND back)
        _checkAll();
        assertEq(handler.counters(toHome).held, 1, "held on home");
        assertEq(handler.counters(toHome).failedRateLimited, 1, "rate limited on home");
        assertEq(handler.counters(toRemote).refundsApproved, 1, "refund approved on home");

        // the refund on home (24,975) is at or above home's 10k hold threshold and over what is
        // left of its 25k inbound bucket today: like a transfer, it is not claimable yet
        handler.claimRefunds(0);
        assertEq(handler.counters(toRemote).refundsClaimed, 0, "large refund claimed before its hold");
        handler.relayToRemote(0, 0); // REFUND approves the toHome refund on remote
        handler.claimRefunds(1); // mints back to actor 1 on remote (13,986: not held, fits the bucket)
        _checkAll();
        assertEq(handler.counters(toHome).refundsClaimed, 1, "refund claimed on remote");

        // holds: an early release fails, a due one succeeds
        handler.releaseHolds(0);
        assertEq(handler.counters(toRemote).released + handler.counters(toHome).released, 0, "released early");
        handler.warp(2 hours);
        handler.releaseHolds(0);
        assertEq(handler.counters(toRemote).released, 1, "released on remote");
        assertEq(handler.counters(toHome).released, 1, "released on home");
        _checkAll();

        // past the refund's hold, and home's inbound bucket has refilled: pays actor 2 on home
        // (released from the vault)
        handler.warp(12 hours);
        handler.claimRefunds(0);
        assertEq(handler.counters(toRemote).refundsClaimed, 1, "refund claimed on home");
        _checkAll();
        handler.warp(1 days); // the claim took home's inbound bucket: let it refill

        // every forgery mode on both lanes, with and without a real backlog
        handler.sendHomeToRemote(0, 1, 100 * UNIT);
        handler.sendRemoteToHome(1, 0, 100 * UNIT);
        for (uint256 mode; mode < 8; ++mode) {
            for (uint256 seed; seed < 6; ++seed) {
                handler.deliverForged(mode, seed, seed * 0x1234567 + 1);
            }
        }
        for (uint256 mode; mode < 8; ++mode) {
            assertGt(handler.forgedAttemptsByMode(mode), 0, "forgery mode not exercised");
        }
        // each forgery is refused by the check it targets, not by something incidental
        assertEq(handler.lastForgedError(0), QuorumNotReached.selector, "sub-quorum");
        assertEq(handler.lastForgedError(1), SignerNotInSet.selector, "wrong keys");
        assertEq(handler.lastForgedError(2), StaleValidatorSet.selector, "foreign set");
        bytes4 tampered = handler.lastForgedError(3);
        assertTrue(
            tampered == AccumulatorMismatch.selector || tampered == CheckpointMismatch.selector, "tampered batch"
        );
        assertEq(handler.lastForgedError(4), SequenceGap.selector, "replayed batch");
        assertEq(handler.lastForgedError(5), SignersNotAscending.selector, "duplicate signer");
        assertEq(handler.lastForgedError(6), SignerNotInSet.selector, "wrong domain");
        assertEq(handler.lastForgedError(7), SignerNotInSet.selector, "cross-lane signatures");
        // a stolen quorum approves refunds of transfers never sent: the source still refuses them
        for (uint256 seed; seed < 8; ++seed) {
            handler.refundForgedMessage(seed, seed * 0x9e3779b9);
        }
        assertEq(handler.compromisedRefundAttempts(), 8, "forged approvals landed");

        handler.relayToRemote(0, 0);
        handler.relayToHome(0, 0);
        handler.claimFees(0);
        handler.claimFees(1);
        assertGt(handler.forgedClaimAttempts(), 0, "refund path not attacked");
        assertGt(handler.earlyReleaseAttempts(), 0, "early release not attempted");
        _checkAll();
        _summary();

        // after all of it the route balances exactly: nothing in flight, nothing owed
        assertEq(_sum(_outstanding(toRemote)) + _sum(_outstanding(toHome)), 0, "settled");
        assertEq(home.bridge.getLane(toRemote).locked, wrapped.totalSupply(), "locked == supply once settled");
    }

    /// @notice Refund proofs on both sides of recorded accumulators: 40 transfers in one day, of
    /// which only the first 16 fit the remote inbound bucket; the other 24 (sequences 17-40) are
    /// refunded with segments (16, 32], (32, 40] and (16, 40] / (32, 40] up to the head. Refund
    /// claims take home's 25k/day inbound bucket: 8 refunds of 2,997 a day, over three days.
    function test_handler_refundsAcrossRecordedSegments() public {
        for (uint256 i; i < 40; ++i) {
            handler.sendHomeToRemote(i, i + 1, 3_000 * UNIT);
        }
        assertEq(handler.sentCount(toRemote), 40);
        handler.relayToRemote(0, 0);
        assertEq(handler.counters(toRemote).executed, 16, "fit the inbound bucket");
        assertEq(handler.counters(toRemote).failedRateLimited, 24, "refused by the inbound bucket");
        handler.relayToHome(5, 1); // partial
        handler.relayToHome(0, 2); // rest
        assertEq(handler.counters(toRemote).refundsApproved, 24);
        _checkAll();

        // odd seeds prove to the head, even ones to the next record
        handler.claimRefunds(2); // sequences 17-24: (16, 32] and (16, 40]
        assertEq(handler.counters(toRemote).refundsClaimed, 8, "the inbound bucket's worth");
        _checkAll();
        handler.warp(1 days);
        handler.claimRefunds(3 << 8); // sequences 25-32: (16, 32] and (16, 40]
        assertEq(handler.counters(toRemote).refundsClaimed, 16, "the next day's worth");
        handler.warp(1 days);
        handler.claimRefunds(2); // sequences 33-40: (32, 40]
        assertEq(handler.counters(toRemote).refundsClaimed, 24, "every refund claimed");
        handler.claimRefunds(3); // nothing left: only the attacks run
        assertEq(handler.counters(toRemote).refundsClaimed, 24);
        for (uint256 seed; seed < 6; ++seed) {
            handler.refundForgedMessage(0, seed * 0x51ed27 + seed);
        }
        _checkAll();

        // everything sent is settled, and 40 more messages round the lane past sequence 64
        handler.warp(1 days);
        for (uint256 i; i < 30; ++i) {
            handler.sendHomeToRemote(i, i, 1_000 * UNIT);
        }
        handler.relayToRemote(0, 0);
        assertGt(handler.sentCount(toRemote), 64);
        _checkAll();
        assertEq(_sum(_outstanding(toRemote)) + _sum(_outstanding(toHome)), 0, "settled");
        assertEq(home.bridge.getLane(toRemote).locked, wrapped.totalSupply(), "locked == supply once settled");
    }
}
