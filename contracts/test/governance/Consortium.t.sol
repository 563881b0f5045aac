// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";

import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {RouteStatus} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Consortium mode: a new route stays Pending (pre-release) until governance approves it;
/// permissionless mode activates it as soon as its validator sets are installed.
contract ConsortiumTest is BridgeFixture {
    OwnedToken internal second;
    bytes32 internal secondRoute;

    function setUp() public override {
        super.setUp();
        vm.chainId(HOME);
        second = new OwnedToken("Second", "SEC", 18, tokenOwner);
    }

    function _registerSecond() internal {
        (secondRoute,) = _openRoute(address(second), defaultParams());
        bytes32 out = home.bridge.getRoute(secondRoute).outboundLane;
        bytes32 back = home.bridge.getRoute(secondRoute).inboundLane;
        ValidatorSet memory set = makeSet("consortium", 4, 3);
        _installSet(out, set);
        _installSet(back, set);
    }

    function test_consortiumMode_routeStaysPendingUntilApproved() public {
        vm.chainId(HOME);
        vm.expectEmit(address(home.registry));
        emit RouteRegistry.ConsortiumModeSet(true);
        home.registry.setConsortiumMode(true);
        _registerSecond();

        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteNotApproved.selector, secondRoute));
        home.registry.activateRoute(secondRoute);
        bytes32 out = home.bridge.getRoute(secondRoute).outboundLane;
        assertEq(uint8(home.bridge.getLane(out).status), uint8(RouteStatus.Pending));

        vm.expectEmit(address(home.registry));
        emit RouteRegistry.RouteApproved(secondRoute);
        home.registry.approveRoute(secondRoute);
        home.registry.activateRoute(secondRoute);
        assertEq(uint8(home.bridge.getLane(out).status), uint8(RouteStatus.Active));
    }

    function test_permissionlessMode_activatesWithoutApproval() public {
        _registerSecond();
        vm.chainId(HOME);
        home.registry.activateRoute(secondRoute);
        bytes32 out = home.bridge.getRoute(secondRoute).outboundLane;
        assertEq(uint8(home.bridge.getLane(out).status), uint8(RouteStatus.Active));
    }

    function test_RevertWhen_notGovernanceApprovesOrSwitchesMode() public {
        vm.chainId(HOME);
        home.registry.setConsortiumMode(true);
        _registerSecond();
        vm.chainId(HOME);
        address[3] memory outsiders = [tokenOwner, guardian, alice];
        for (uint256 i; i < outsiders.length; ++i) {
            vm.prank(outsiders[i]);
            vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, outsiders[i]));
            home.registry.approveRoute(secondRoute);
            vm.prank(outsiders[i]);
            vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, outsiders[i]));
            home.registry.setConsortiumMode(false);
        }
        assertFalse(home.registry.approved(secondRoute));
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.UnknownRoute.selector, bytes32(uint256(1))));
        home.registry.approveRoute(bytes32(uint256(1)));
    }
}
