// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "../unit/UnitBase.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {BridgeRoles} from "../../src/libraries/BridgeRoles.sol";
import {TokenBucket} from "../../src/libraries/TokenBucket.sol";
import {Message, RouteStatus, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";
import {AnyRouteToken} from "../mocks/Tokens.sol";

/// @notice Audit findings on the bridge (issue "Stake must outlive the signatures it backs"): forged
/// refunds (3), rogue routes over a live wrapped token (4) and retirement trapping holders (5).
/// Staking findings are in test/staking/AuditFindings.t.sol.
contract BridgeAuditFindingsTest is UnitBase {
    // ---------------------------------------------------------------------------------------
    // Finding 3: a forged REFUND skipped holds, the inbound bucket and pauses, for good
    // ---------------------------------------------------------------------------------------

    /// @notice A quorum of the remote -> home lane approves refunds on home for `originals`, which
    /// were all delivered: what a forging quorum signs.
    function forgeRefunds(Message[] memory originals) internal {
        vm.chainId(HOME);
        uint64 next = home.bridge.getLane(toHome).sequence + 1;
        Message[] memory ms = new Message[](originals.length);
        for (uint256 i; i < originals.length; ++i) {
            ms[i] = refundFor(originals[i], next + uint64(i));
        }
        execute(prepareSigned(toHome, ms));
    }

    function one(Message memory m) internal pure returns (Message[] memory ms) {
        ms = new Message[](1);
        ms[0] = m;
    }

    /// A large forged refund waits out the hold delay, stops while the lane is paused, and
    /// governance withdraws it: the sender never gets paid twice.
    function test_finding3_forgedRefund_largeIsHeldPausedAndCancelled() public {
        uint64 seq = sendAs(alice, toRemote, bob, 60_000 * UNIT);
        relay(toRemote); // held on the remote (above the 50,000 threshold), then released to bob
        vm.warp(block.timestamp + home.bridge.holdDelay());
        vm.chainId(REMOTE);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), netOf(60_000 * UNIT));
        uint256 locked = lockedOnHome();

        Message memory original = sentMessage(toRemote, seq);
        forgeRefunds(one(original));
        bytes32 h = hashOf(original);
        (RefundStatus status, uint64 approvedAt) = home.bridge.refunds(toRemote, h);
        assertEq(uint8(status), uint8(RefundStatus.Approved));
        uint64 releaseAt = approvedAt + home.bridge.holdDelay();

        Message[] memory segment = batch(toRemote, 0, seq);
        vm.expectRevert(abi.encodeWithSelector(RefundHeld.selector, toRemote, h, releaseAt));
        claimAs(alice, toRemote, segment, 0);

        // The guardian pauses the lane the forgery arrived on; governance cancels the approval.
        vm.chainId(HOME);
        vm.prank(guardian);
        home.bridge.pauseLane(toHome);
        vm.warp(releaseAt);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, toHome));
        claimAs(alice, toRemote, segment, 0);
        vm.chainId(HOME);
        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        home.bridge.cancelRefund(toRemote, h);
        vm.expectEmit(address(home.bridge));
        emit RefundCancelled(toRemote, h);
        home.bridge.cancelRefund(toRemote, h);
        home.bridge.unpauseLane(toHome);

        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        claimAs(alice, toRemote, segment, 0);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        home.bridge.cancelRefund(toRemote, h);
        assertEq(lockedOnHome(), locked, "the vault paid nothing");
        (status,) = home.bridge.refunds(toRemote, h);
        assertEq(uint8(status), uint8(RefundStatus.Cancelled));
    }

    /// Forged refunds split into many small ones are paid only as fast as the inbound bucket of the
    /// lane they arrived on refills, like transfers.
    function test_finding3_forgedRefund_splitIntoSmallOnesHitsTheInboundBucket() public {
        uint256 capacity = 5_000 * UNIT;
        setInboundCapacity(HOME, uint128(capacity));
        uint256 n = 10;
        Message[] memory originals = new Message[](n);
        for (uint256 i; i < n; ++i) {
            uint64 seq = sendAs(alice, toRemote, bob, 1_000 * UNIT);
            originals[i] = sentMessage(toRemote, seq);
        }
        relay(toRemote);
        forgeRefunds(originals);

        Message[] memory segment = batch(toRemote, 0, uint64(n));
        uint256 paid;
        uint256 claimed;
        for (uint256 i; i < n; ++i) {
            vm.chainId(HOME);
            uint256 available = home.bridge.availableCapacity(toHome);
            if (originals[i].amount > available) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        RateLimited.selector,
                        originals[i].amount,
                        available,
                        TokenBucket.secondsUntil(capacity, available, block.timestamp, block.timestamp, originals[i].amount)
                    )
                );
                claimAs(alice, toRemote, segment, i);
                continue;
            }
            claimAs(alice, toRemote, segment, i);
            paid += originals[i].amount;
            ++claimed;
        }
        assertEq(claimed, 5, "5 x 999 fit in 5,000; the sixth waits");
        assertLe(paid, capacity);
        assertEq(home.bridge.availableCapacity(toHome), capacity - paid);
    }

    /// A refund stops while the bridge or either lane is paused (paused inbound lane covered above).
    function test_finding3_forgedRefund_respectsBridgeAndOutboundPauses() public {
        uint64 seq = sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);
        forgeRefunds(one(sentMessage(toRemote, seq)));
        Message[] memory segment = batch(toRemote, 0, seq);
        vm.chainId(HOME);
        vm.prank(guardian);
        home.bridge.pauseLane(toRemote);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, toRemote));
        claimAs(alice, toRemote, segment, 0);
        vm.chainId(HOME);
        home.bridge.unpauseLane(toRemote);
        vm.prank(guardian);
        home.bridge.pause();
        vm.expectRevert(BridgePaused.selector);
        claimAs(alice, toRemote, segment, 0);
    }

    // ---------------------------------------------------------------------------------------
    // Finding 4: the committee could mint through a rogue route over the live wrapped token
    // ---------------------------------------------------------------------------------------

    function test_finding4_rogueRouteOverLiveWrappedTokenRefused() public {
        // One proposal's worth of power: governance grants itself REGISTRY on the remote chain.
        vm.chainId(REMOTE);
        remote.manager.grantRole(BridgeRoles.REGISTRY, governance, 0);
        bytes32 rogueId = keccak256("rogue route");

        vm.expectRevert(abi.encodeWithSelector(NotRouteWrappedToken.selector, address(wrapped), rogueId));
        remote.bridge.openRoute(rogueId, address(wrapped), false, HOME, defaultParams());

        // A fresh wrapped token also needs this route id and this bridge.
        WrappedToken otherRoute = new WrappedToken("R", "R", 18, address(remote.bridge), routeId);
        vm.expectRevert(abi.encodeWithSelector(NotRouteWrappedToken.selector, address(otherRoute), rogueId));
        remote.bridge.openRoute(rogueId, address(otherRoute), false, HOME, defaultParams());
        WrappedToken otherBridge = new WrappedToken("R", "R", 18, address(home.bridge), rogueId);
        vm.expectRevert(abi.encodeWithSelector(NotRouteWrappedToken.selector, address(otherBridge), rogueId));
        remote.bridge.openRoute(rogueId, address(otherBridge), false, HOME, defaultParams());

        // Its own fresh token is accepted, and mints nothing the genuine route's vault redeems.
        WrappedToken own = new WrappedToken("R", "R", 18, address(remote.bridge), rogueId);
        remote.bridge.openRoute(rogueId, address(own), false, HOME, defaultParams());
        assertEq(remote.bridge.routeOfWrappedToken(address(own)), rogueId);
        assertEq(remote.bridge.routeOfWrappedToken(address(wrapped)), routeId);
    }

    /// A token that answers for any route id (not a real WrappedToken) still backs at most one route.
    function test_finding4_tokenBacksAtMostOneRoute() public {
        vm.chainId(REMOTE);
        remote.manager.grantRole(BridgeRoles.REGISTRY, governance, 0);
        AnyRouteToken chameleon = new AnyRouteToken(address(remote.bridge));
        bytes32 first = keccak256("first");
        chameleon.answer(first);
        remote.bridge.openRoute(first, address(chameleon), false, HOME, defaultParams());
        bytes32 second = keccak256("second");
        chameleon.answer(second);
        vm.expectRevert(abi.encodeWithSelector(NotRouteWrappedToken.selector, address(chameleon), second));
        remote.bridge.openRoute(second, address(chameleon), false, HOME, defaultParams());
    }

    // ---------------------------------------------------------------------------------------
    // Finding 5: retiring a route trapped every holder and the vault
    // ---------------------------------------------------------------------------------------

    function test_finding5_exitOnlyLetsEveryHolderReturnHome() public {
        sendAs(alice, toRemote, bob, 10_000 * UNIT);
        relay(toRemote);
        uint64 inFlight = sendAs(alice, toRemote, carol, 2_000 * UNIT); // not yet delivered
        uint256 bobWrapped = wrapped.balanceOf(bob);

        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit RouteExitOnly(routeId);
        home.bridge.setExitOnly(routeId);
        vm.chainId(REMOTE);
        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        remote.bridge.setExitOnly(routeId);
        remote.bridge.setExitOnly(routeId);
        assertEq(uint8(remote.bridge.getLane(toHome).status), uint8(RouteStatus.ExitOnly));

        // Nothing new leaves home.
        vm.chainId(HOME);
        vm.startPrank(alice);
        token.approve(address(home.bridge), 1 * UNIT);
        vm.expectRevert(RouteIsExitOnly.selector);
        home.bridge.send(toRemote, bob, 1 * UNIT, 0);
        vm.stopPrank();

        // The transfer still in flight is refused on the remote and refunded home.
        relay(toRemote);
        assertEq(wrapped.balanceOf(carol), 0);
        relay(toHome);
        Message memory original = sentMessage(toRemote, inFlight);
        uint256 aliceBefore = token.balanceOf(alice);
        claimAs(alice, toRemote, batch(toRemote, 0, inFlight), 1);
        assertEq(token.balanceOf(alice) - aliceBefore, original.amount);

        // Holders on the remote burn and are released from the vault at home.
        sendAs(bob, toHome, bob, bobWrapped);
        relay(toHome);
        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(token.balanceOf(bob), netOf(bobWrapped));
        assertEq(lockedOnHome(), wrapped.totalSupply(), "the vault still backs what is left");
    }
}
