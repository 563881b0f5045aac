// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "./UnitBase.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {Message} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

contract PauseTest is UnitBase {
    OwnedToken internal token2;
    WrappedToken internal wrapped2;
    bytes32 internal route2;
    bytes32 internal toRemote2;
    bytes32 internal toHome2;

    function setUp() public override {
        super.setUp();
        vm.chainId(HOME);
        token2 = new OwnedToken("Second", "TWO", 18, tokenOwner);
        (route2, wrapped2) = _openRoute(address(token2), defaultParams());
        _installAndActivate(route2, makeSet("validators", 4, 3));
        toRemote2 = home.bridge.getRoute(route2).outboundLane;
        toHome2 = home.bridge.getRoute(route2).inboundLane;
        vm.chainId(HOME);
        token2.mint(alice, 1_000_000 * UNIT);
        captureLogs();
    }

    function _trySend(bytes32 lane, uint256 amount) internal {
        vm.chainId(HOME);
        address t = home.bridge.getLane(lane).token;
        vm.prank(alice);
        OwnedToken(t).approve(address(home.bridge), amount);
        vm.prank(alice);
        home.bridge.send(lane, bob, amount, 0);
    }

    // ---------------------------------------------------------------------------------------
    // Bridge-wide pause
    // ---------------------------------------------------------------------------------------

    function test_pause_blocksSend() public {
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit Paused();
        vm.prank(guardian);
        home.bridge.pause();
        assertTrue(home.bridge.paused());

        vm.prank(alice);
        token.approve(address(home.bridge), 100 * UNIT);
        vm.prank(alice);
        vm.expectRevert(BridgePaused.selector);
        home.bridge.send(toRemote, bob, 100 * UNIT, 0);
        vm.prank(alice);
        vm.expectRevert(BridgePaused.selector);
        home.bridge.send(toRemote2, bob, 100 * UNIT, 0);
        assertEq(token.balanceOf(alice), ALICE_START);
        assertEq(home.bridge.getLane(toRemote).sequence, 0);
    }

    function test_pause_blocksDeliver() public {
        sendAs(alice, toRemote, bob, 100 * UNIT);
        vm.chainId(REMOTE);
        vm.prank(guardian);
        remote.bridge.pause();

        Delivery memory d = prepare(toRemote);
        vm.expectRevert(BridgePaused.selector);
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).sequence, 0);
        assertEq(wrapped.balanceOf(bob), 0);

        remote.bridge.unpause(); // governance
        execute(prepare(toRemote));
        assertEq(wrapped.balanceOf(bob), netOf(100 * UNIT));
    }

    function test_pause_blocksReleaseHold() public {
        uint64 seq = sendAs(alice, toRemote, bob, 60_000 * UNIT);
        relay(toRemote);
        vm.warp(block.timestamp + 2 hours);
        vm.prank(guardian);
        remote.bridge.pause();

        vm.expectRevert(BridgePaused.selector);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), 0);

        remote.bridge.unpause();
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), netOf(60_000 * UNIT));
    }

    function test_pause_blocksClaimRefund() public {
        vm.chainId(REMOTE);
        remote.bridge.setExitOnly(routeId); // arriving transfers are refunded home
        uint64 seq = sendAs(alice, toRemote, bob, 100 * UNIT);
        relay(toRemote);
        relay(toHome);
        Message[] memory seg = batch(toRemote, 0, seq);

        vm.chainId(HOME);
        vm.prank(guardian);
        home.bridge.pause();
        vm.expectRevert(BridgePaused.selector);
        claimAs(alice, toRemote, seg, 0);
        assertEq(token.balanceOf(alice), ALICE_START - 100 * UNIT);

        vm.expectEmit(address(home.bridge));
        emit Unpaused();
        home.bridge.unpause();
        claimAs(alice, toRemote, seg, 0);
        assertEq(token.balanceOf(alice), ALICE_START - 100 * UNIT + netOf(100 * UNIT));
    }

    function test_guardianCannotUnpause() public {
        vm.chainId(HOME);
        vm.prank(guardian);
        home.bridge.pause();
        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        home.bridge.unpause();
        assertTrue(home.bridge.paused());

        home.bridge.unpause(); // governance
        assertFalse(home.bridge.paused());
        _trySend(toRemote, 100 * UNIT);
        assertEq(home.bridge.getLane(toRemote).sequence, 1);
    }

    function test_randomAccountCannotPauseOrUnpause() public {
        address[3] memory outsiders = [carol, tokenOwner, setManager];
        vm.chainId(HOME);
        for (uint256 i; i < outsiders.length; ++i) {
            address who = outsiders[i];
            vm.startPrank(who);
            vm.expectRevert(unauthorized(who));
            home.bridge.pause();
            vm.expectRevert(unauthorized(who));
            home.bridge.unpause();
            vm.expectRevert(unauthorized(who));
            home.bridge.pauseLane(toRemote);
            vm.expectRevert(unauthorized(who));
            home.bridge.unpauseLane(toRemote);
            vm.stopPrank();
        }
        assertFalse(home.bridge.paused());
        assertFalse(home.bridge.getLane(toRemote).paused);
    }

    /// @dev Governance holds the admin role but not GUARDIAN: pausing stays with guardians.
    function test_governanceIsNotGuardian() public {
        vm.chainId(HOME);
        vm.expectRevert(unauthorized(governance));
        home.bridge.pause();
    }

    // ---------------------------------------------------------------------------------------
    // Lane pause
    // ---------------------------------------------------------------------------------------

    function test_pauseLane_blocksThatLaneOnly() public {
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit LanePaused(toRemote);
        vm.prank(guardian);
        home.bridge.pauseLane(toRemote);
        assertTrue(home.bridge.getLane(toRemote).paused);
        assertFalse(home.bridge.paused());

        vm.prank(alice);
        token.approve(address(home.bridge), 100 * UNIT);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, toRemote));
        home.bridge.send(toRemote, bob, 100 * UNIT, 0);

        // another route's lane is unaffected
        _trySend(toRemote2, 100 * UNIT);
        assertEq(home.bridge.getLane(toRemote2).sequence, 1);
        assertEq(token2.balanceOf(address(home.bridge)), 100 * UNIT);
        assertEq(token.balanceOf(address(home.bridge)), 0);
    }

    function test_pauseLane_outboundDoesNotBlockReverseLane() public {
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);
        vm.chainId(HOME);
        vm.prank(guardian);
        home.bridge.pauseLane(toRemote);
        // bob can still come home
        sendAs(bob, toHome, alice, 500 * UNIT);
        relay(toHome);
        assertEq(token.balanceOf(alice), ALICE_START - 1_000 * UNIT + netOf(500 * UNIT));
    }

    function test_pauseLane_inboundBlocksDelivery() public {
        sendAs(alice, toRemote, bob, 100 * UNIT);
        sendAs(alice, toRemote2, bob, 100 * UNIT);
        vm.chainId(REMOTE);
        vm.prank(guardian);
        remote.bridge.pauseLane(toRemote);

        Delivery memory d = prepare(toRemote);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, toRemote));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        relay(toRemote2); // the other route delivers
        assertEq(wrapped2.balanceOf(bob), netOf(100 * UNIT));
        assertEq(wrapped.balanceOf(bob), 0);

        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        remote.bridge.unpauseLane(toRemote);

        vm.expectEmit(address(remote.bridge));
        emit LaneUnpaused(toRemote);
        remote.bridge.unpauseLane(toRemote); // governance
        execute(prepare(toRemote));
        assertEq(wrapped.balanceOf(bob), netOf(100 * UNIT));
    }

    function test_pauseLane_inboundBlocksReleaseHold() public {
        uint64 seq = sendAs(alice, toRemote, bob, 60_000 * UNIT);
        relay(toRemote);
        vm.warp(block.timestamp + 2 hours);
        vm.prank(guardian);
        remote.bridge.pauseLane(toRemote);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, toRemote));
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), 0);

        remote.bridge.unpauseLane(toRemote);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), netOf(60_000 * UNIT));
    }

    function test_pauseLane_unknownLaneReverts() public {
        bytes32 unknown = keccak256("nope");
        vm.chainId(HOME);
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(UnknownLane.selector, unknown));
        home.bridge.pauseLane(unknown);
        vm.expectRevert(abi.encodeWithSelector(UnknownLane.selector, unknown));
        home.bridge.unpauseLane(unknown);
    }

    function test_guardianCannotUnpauseLane_governanceCan() public {
        vm.chainId(HOME);
        vm.prank(guardian);
        home.bridge.pauseLane(toRemote);
        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        home.bridge.unpauseLane(toRemote);
        assertTrue(home.bridge.getLane(toRemote).paused);

        home.bridge.unpauseLane(toRemote);
        assertFalse(home.bridge.getLane(toRemote).paused);
        _trySend(toRemote, 100 * UNIT);
        assertEq(home.bridge.getLane(toRemote).sequence, 1);
    }
}
