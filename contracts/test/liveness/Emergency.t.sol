// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OwnedToken} from "../mocks/Tokens.sol";
import {LivenessBase} from "./LivenessBase.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {Message, RouteStatus} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Emergency: entered at the strike limit or by governance, per chain, final. The home
/// chain takes no new sends, the remote refunds what still arrives, and for the grace period the
/// fallback set brings holders home without waiting.
contract EmergencyTest is LivenessBase {
    uint8 internal constant ACTIVE = uint8(RouteStatus.Active);
    uint8 internal constant EMERGENCY = uint8(RouteStatus.Emergency);

    /// @dev Three transfers on `lane`, delivered one by one by the fallback a delay period apart:
    /// the third delivery reaches the strike limit on the lane's destination. Returns the time of it.
    function _strikeOut(bytes32 lane, address from, address to) internal returns (uint256 at) {
        uint256 start = block.timestamp;
        uint64 first = sendAs(from, lane, to, SMALL);
        sendAs(from, lane, to, SMALL);
        sendAs(from, lane, to, SMALL);
        for (uint256 i; i < STRIKE_LIMIT; ++i) {
            vm.warp(start + (i + 1) * DELAY);
            fallbackTo(lane, first + uint64(i));
        }
        return block.timestamp;
    }

    function test_strikeLimit_bothLanesEmergency_homeRefusesSends() public {
        fundBob(10 * SMALL);
        uint256 aliceBefore = token.balanceOf(alice);
        sendAs(bob, toHome, alice, SMALL);
        sendAs(bob, toHome, alice, SMALL);
        sendAs(bob, toHome, alice, SMALL);

        vm.warp(T0 + DELAY);
        fallbackTo(toHome, 1);
        vm.warp(T0 + 2 * uint256(DELAY));
        fallbackTo(toHome, 2);
        assertEq(strikesOn(HOME), 2);
        assertEq(statusOf(HOME, toHome), ACTIVE, "below the limit");

        vm.warp(T0 + 3 * uint256(DELAY));
        Delivery memory d = prepareFallback(toHome, 3);
        uint64 graceUntil = uint64(block.timestamp) + GRACE;
        vm.expectEmit(address(home.bridge));
        emit FallbackDelivered(toHome, 3, 3);
        vm.expectEmit(address(home.bridge));
        emit MessageExecuted(toHome, 3, alice, netOf(SMALL));
        vm.expectEmit(address(home.bridge));
        emit EmergencyDeclared(routeId, graceUntil, 3);
        executeByFallback(d);

        assertEq(token.balanceOf(alice), aliceBefore + 3 * netOf(SMALL), "the striking batch was delivered");
        assertEq(statusOf(HOME, toHome), EMERGENCY, "inbound lane");
        assertEq(statusOf(HOME, toRemote), EMERGENCY, "outbound lane");
        assertEq(home.bridge.getRoute(routeId).graceUntil, graceUntil);
        assertEq(statusOf(REMOTE, toHome), ACTIVE, "the other chain decides for itself");
        assertEq(statusOf(REMOTE, toRemote), ACTIVE);

        vm.chainId(HOME);
        vm.startPrank(alice);
        token.approve(address(home.bridge), SMALL);
        vm.expectRevert(RouteInEmergency.selector);
        home.bridge.send(toRemote, bob, SMALL, 0);
        vm.stopPrank();

        // Emergency is entered once: a governance declaration on top is refused.
        vm.expectRevert(RouteInEmergency.selector);
        home.bridge.declareEmergency(routeId);

        // The primary, should it come back, still brings holders home.
        uint64 exit = sendAs(bob, toHome, alice, SMALL);
        relay(toHome);
        assertEq(home.bridge.getLane(toHome).sequence, exit);
        assertEq(token.balanceOf(alice), aliceBefore + 4 * netOf(SMALL));
        assertEq(home.bridge.getRoute(routeId).graceUntil, graceUntil, "grace unchanged");
    }

    /// @dev Remote strikes out on the home -> remote lane; governance declares Emergency on home.
    /// A transfer arriving on remote is refunded; holders burn on remote and the fallback brings
    /// them (and the refund) home at once during home's grace, after it only with the delay.
    function test_emergency_remoteRefundsArrivals_exitsHomeDuringGrace() public {
        fundBob(10 * SMALL);
        _strikeOut(toRemote, alice, bob);
        assertEq(statusOf(REMOTE, toRemote), EMERGENCY);
        assertEq(statusOf(REMOTE, toHome), EMERGENCY);
        assertEq(wrapped.balanceOf(bob), netOf(10 * SMALL) + 3 * netOf(SMALL), "the three were executed");

        // Home does not know yet: alice still sends, and it arrives at once (remote's grace).
        uint64 late = sendAs(alice, toRemote, carol, 2 * SMALL);
        Message memory original = sentMessage(toRemote, late);
        Delivery memory d = prepareFallback(toRemote, late);
        Message memory refund = refundFor(original, 1);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, late, RouteIsExitOnly.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageSent(toHome, 1, refund, accAfter(toHome, refund));
        executeByFallback(d);
        assertEq(wrapped.balanceOf(carol), 0, "refused on remote");

        // The committee declares Emergency on home.
        vm.chainId(HOME);
        uint64 graceUntil = uint64(block.timestamp) + GRACE;
        vm.expectEmit(address(home.bridge));
        emit EmergencyDeclared(routeId, graceUntil, 0);
        home.bridge.declareEmergency(routeId);

        // Holders still burn on remote; the fallback delivers home without waiting.
        uint256 aliceBefore = token.balanceOf(alice);
        uint64 exit = sendAs(bob, toHome, alice, SMALL);
        d = prepareFallback(toHome, exit);
        vm.expectEmit(address(home.bridge));
        emit RefundApproved(toRemote, hashOf(original));
        vm.expectEmit(address(home.bridge));
        emit MessageExecuted(toHome, exit, alice, netOf(SMALL));
        executeByFallback(d);
        assertEq(token.balanceOf(alice), aliceBefore + netOf(SMALL), "exit released");

        claimAs(alice, toRemote, batch(toRemote, 0, late), late - 1);
        assertEq(token.balanceOf(alice), aliceBefore + netOf(SMALL) + netOf(2 * SMALL), "refund paid");
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, hashOf(original)));
        claimAs(alice, toRemote, batch(toRemote, 0, late), late - 1);

        // Last second of the grace: still no wait.
        vm.warp(graceUntil - 1);
        exit = sendAs(bob, toHome, alice, SMALL);
        fallbackTo(toHome, exit);
        assertEq(home.bridge.getLane(toHome).sequence, exit);

        // Grace over: the delay applies again.
        vm.warp(graceUntil);
        exit = sendAs(bob, toHome, alice, SMALL);
        d = prepareFallback(toHome, exit);
        vm.expectRevert(abi.encodeWithSelector(FallbackNotDue.selector, graceUntil + DELAY));
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        vm.warp(uint256(graceUntil) + DELAY);
        executeByFallback(d);
        assertEq(token.balanceOf(alice), aliceBefore + 3 * netOf(SMALL) + netOf(2 * SMALL));

        // Home takes no new sends; the vault still backs every wrapped token.
        vm.chainId(HOME);
        vm.startPrank(alice);
        token.approve(address(home.bridge), SMALL);
        vm.expectRevert(RouteInEmergency.selector);
        home.bridge.send(toRemote, bob, SMALL, 0);
        vm.stopPrank();
        assertEq(lockedOnHome(), wrapped.totalSupply(), "vault = wrapped supply");
    }

    function test_declareEmergencyOnAPendingRoute_reverts() public {
        vm.chainId(HOME);
        OwnedToken other = new OwnedToken("Other", "OTH", 18, tokenOwner);
        (bytes32 pending,) = _openRoute(address(other), defaultParams());
        bytes32 lane = home.bridge.getRoute(pending).outboundLane;
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, lane));
        home.bridge.declareEmergency(pending);
        assertEq(statusOf(HOME, lane), 1, "still Pending: it can still be activated");
    }

    function test_declareEmergency_onlyGovernance() public {
        vm.chainId(HOME);
        address[3] memory others = [alice, guardian, setManager];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.bridge.declareEmergency(routeId);
        }
        assertEq(statusOf(HOME, toRemote), ACTIVE);

        vm.expectRevert(abi.encodeWithSelector(UnknownRoute.selector, bytes32("no route")));
        home.bridge.declareEmergency(bytes32("no route"));

        uint64 graceUntil = uint64(block.timestamp) + GRACE;
        vm.expectEmit(address(home.bridge));
        emit EmergencyDeclared(routeId, graceUntil, 0);
        home.bridge.declareEmergency(routeId);
        assertEq(statusOf(HOME, toRemote), EMERGENCY);
        assertEq(statusOf(HOME, toHome), EMERGENCY);
        assertEq(home.bridge.getRoute(routeId).graceUntil, graceUntil);
        assertEq(statusOf(REMOTE, toRemote), ACTIVE, "per chain");

        vm.expectRevert(RouteInEmergency.selector);
        home.bridge.declareEmergency(routeId);
    }

    /// @dev Remote in Emergency by strikes, home by governance: neither exit-only nor activation
    /// leads out of it on either chain.
    function test_emergencyIsFinal() public {
        _strikeOut(toRemote, alice, bob);
        vm.chainId(HOME);
        home.bridge.declareEmergency(routeId);

        uint64[2] memory ids = [HOME, REMOTE];
        for (uint256 i; i < ids.length; ++i) {
            Deployment memory c = chain(ids[i]);
            vm.chainId(c.chainId);
            vm.expectRevert(RouteInEmergency.selector);
            c.bridge.setExitOnly(routeId);
            vm.expectRevert(abi.encodeWithSelector(RouteNotPending.selector, routeId));
            c.registry.activateRoute(routeId);
            assertEq(statusOf(c.chainId, toRemote), EMERGENCY);
            assertEq(statusOf(c.chainId, toHome), EMERGENCY);
        }
    }

    /// @dev Without a stake manager the bond has nowhere to go: it stays with the registry.
    function test_slashEmergencyBond_withoutCompensationPool_reverts() public {
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteNotInEmergency.selector, routeId));
        home.registry.slashEmergencyBond(routeId);
        home.bridge.declareEmergency(routeId);
        vm.expectRevert(RouteRegistry.NoCompensationPool.selector);
        home.registry.slashEmergencyBond(routeId);
        assertEq(home.registry.getRoute(routeId).bond, 1 ether);
    }
}
