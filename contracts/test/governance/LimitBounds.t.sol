// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";

import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {RouteParams} from "../../src/interfaces/IZeroBridge.sol";

/// @notice The route owner sets its limits, but only within the bounds governance sets.
contract LimitBoundsTest is BridgeFixture {
    uint128 internal constant CAP = uint128(2_000_000 * UNIT);
    uint128 internal constant HOLD_CAP = uint128(100_000 * UNIT);

    function _ownerSets(RouteParams memory p) internal {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        home.registry.setLimits(routeId, p);
    }

    function _bound() internal {
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit LimitBoundsSet(routeId, CAP, HOLD_CAP);
        home.bridge.setLimitBounds(routeId, CAP, HOLD_CAP);
    }

    function test_ownerLimitsWithinBoundsAreAccepted() public {
        _bound();
        RouteParams memory p = defaultParams();
        p.outboundCapacity = CAP;
        p.inboundCapacity = CAP;
        p.largeTransferThreshold = HOLD_CAP;
        _ownerSets(p);
        assertEq(home.bridge.getLane(toRemote).capacity, CAP);
        assertEq(home.bridge.getLane(toHome).largeTransferThreshold, HOLD_CAP);
    }

    function test_RevertWhen_ownerExceedsTheCapacityBound() public {
        _bound();
        RouteParams memory p = defaultParams();
        p.outboundCapacity = CAP + 1;
        vm.expectRevert(LimitsOutOfBounds.selector);
        _ownerSets(p);
        p = defaultParams();
        p.inboundCapacity = CAP + 1;
        vm.expectRevert(LimitsOutOfBounds.selector);
        _ownerSets(p);
        assertEq(home.bridge.getLane(toRemote).capacity, defaultParams().outboundCapacity, "unchanged");
    }

    function test_RevertWhen_ownerRaisesOrDisablesTheHoldThreshold() public {
        _bound();
        RouteParams memory p = defaultParams();
        p.largeTransferThreshold = HOLD_CAP + 1;
        vm.expectRevert(LimitsOutOfBounds.selector);
        _ownerSets(p);
        p.largeTransferThreshold = 0; // would switch holds off
        vm.expectRevert(LimitsOutOfBounds.selector);
        _ownerSets(p);
    }

    function test_unboundedByDefault() public {
        RouteParams memory p = defaultParams();
        p.outboundCapacity = type(uint128).max;
        p.inboundCapacity = type(uint128).max;
        p.largeTransferThreshold = 0;
        _ownerSets(p);
        assertEq(home.bridge.getLane(toRemote).capacity, type(uint128).max);
    }

    function test_RevertWhen_notGovernanceSetsBounds() public {
        vm.chainId(HOME);
        address[3] memory outsiders = [tokenOwner, guardian, alice];
        for (uint256 i; i < outsiders.length; ++i) {
            vm.prank(outsiders[i]);
            vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, outsiders[i]));
            home.bridge.setLimitBounds(routeId, 1, 1);
        }
        vm.expectRevert(abi.encodeWithSelector(UnknownRoute.selector, bytes32(uint256(7))));
        home.bridge.setLimitBounds(bytes32(uint256(7)), 1, 1);
    }
}
