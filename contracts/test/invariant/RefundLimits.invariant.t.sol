// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "../unit/UnitBase.sol";
import {RefundLimitsHandler} from "./RefundLimitsHandler.sol";
import {BridgeRoles} from "../../src/libraries/BridgeRoles.sol";
import {RouteParams} from "../../src/interfaces/IZeroBridge.sol";

/// @notice "Refunds never exceed limits" and "a token backs at most one route", against a quorum of
/// the remote -> home lane that approves refunds for transfers it may well have delivered. Home's
/// inbound bucket holds 5,000 and refunds from 2,000 up are held.
contract RefundLimitsInvariantTest is UnitBase {
    uint256 internal constant CAPACITY = 5_000 * UNIT;
    RefundLimitsHandler internal handler;
    uint256 internal start;

    function setUp() public override {
        super.setUp();
        RouteParams memory p = defaultParams();
        p.inboundCapacity = uint128(CAPACITY);
        p.largeTransferThreshold = uint128(2_000 * UNIT);
        setLimitsOn(HOME, p);
        vm.chainId(HOME);
        handler = new RefundLimitsHandler(
            home.bridge, remote.bridge, token, toRemote, toHome, currentSet(toHome), alice, defaultParams(), address(wrapped), routeId
        );
        vm.chainId(REMOTE);
        remote.manager.grantRole(BridgeRoles.REGISTRY, address(handler), 0);
        start = block.timestamp;
        targetContract(address(handler));
    }

    /// @dev The handler's paths reach payouts, holds and the bucket (so the invariants are not vacuous).
    function test_handlerReachesPayoutsAndLimits() public {
        for (uint256 i; i < 4; ++i) {
            handler.send(3_000 * UNIT);
        }
        handler.forgeRefunds(0, 4);
        for (uint256 i; i < 4; ++i) {
            handler.claim(i); // all large: held
        }
        assertEq(handler.ghostRefundPaid(), 0, "held refunds paid");
        handler.warp(1 hours);
        for (uint256 i; i < 4; ++i) {
            handler.claim(i); // the bucket takes one, maybe two
        }
        uint256 paid = handler.ghostRefundPaid();
        assertGt(paid, 0);
        assertLe(paid, CAPACITY + 1 hours * CAPACITY / 1 days);
        handler.openRoute(0, 0); // the live wrapped token for a new id: refused
        assertEq(handler.routeTokens().length, 1);
        handler.openRoute(2, 1); // a fresh wrapped token for its own id: accepted
        assertEq(handler.routeTokens().length, 2);
    }

    /// @dev The token bucket's bound: over any window of t seconds at most capacity + capacity x t / 1 day.
    function invariant_refundPayoutsWithinTheInboundBucket() public view {
        assertLe(handler.ghostRefundPaid(), CAPACITY + (block.timestamp - start) * CAPACITY / 1 days);
    }

    function invariant_noLargeRefundBeforeItsHoldEnds() public view {
        assertEq(handler.claimsDuringHold(), 0);
    }

    function invariant_noRefundPaidTwice() public view {
        assertEq(handler.claimsTwice(), 0);
    }

    function invariant_aTokenBacksAtMostOneRoute() public view {
        address[] memory tokens = handler.routeTokens();
        bytes32[] memory ids = handler.routeIds();
        for (uint256 i; i < tokens.length; ++i) {
            assertEq(remote.bridge.routeOfWrappedToken(tokens[i]), ids[i], "token mints for another route");
            for (uint256 j = i + 1; j < tokens.length; ++j) {
                assertTrue(tokens[i] != tokens[j], "one token backs two routes");
            }
        }
    }
}
