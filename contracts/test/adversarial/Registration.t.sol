// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";

import {AdversarialBase} from "./AdversarialBase.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {RouteStatus} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken, OwnerlessToken} from "../mocks/Tokens.sol";

/// @notice Who may open a route, and at what price.
contract RegistrationTest is AdversarialBase {
    uint256 internal constant BOND = 1 ether;

    OwnedToken internal fresh;

    function setUp() public override {
        super.setUp();
        fresh = _newOwnedToken("FRESH");
        vm.deal(alice, 10 ether);
        vm.deal(tokenOwner, 10 ether);
        vm.chainId(HOME);
    }

    function _routeCount() internal view returns (uint256 homeCount, uint256 remoteCount) {
        homeCount = home.registry.routeIds().length;
        remoteCount = remote.registry.routeIds().length;
    }

    function _freshRouteId() internal view returns (bytes32) {
        return keccak256(abi.encode(uint64(HOME), address(fresh), uint64(REMOTE)));
    }

    /// @dev No route record, no lanes on the bridge, no bond taken.
    function _assertNotRegistered(uint256 homeCount, uint256 aliceEth, uint256 ownerEth) internal view {
        (uint256 h,) = _routeCount();
        assertEq(h, homeCount, "route recorded");
        assertEq(home.bridge.getRoute(_freshRouteId()).outboundLane, bytes32(0), "lanes opened");
        assertEq(address(home.registry).balance, 1 ether, "only the fixture's bond is held");
        assertEq(alice.balance, aliceEth);
        assertEq(tokenOwner.balance, ownerEth);
    }

    function test_RevertWhen_registrantNotTokenOwner() public {
        (uint256 h,) = _routeCount();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotTokenOwner.selector, alice, address(fresh)));
        home.registry.registerRoute{value: BOND}(address(fresh), REMOTE, "Wrapped", "wF", defaultParams());
        _assertNotRegistered(h, 10 ether, 10 ether);

        // The owner still can.
        vm.prank(tokenOwner);
        bytes32 id = home.registry.registerRoute{value: BOND}(address(fresh), REMOTE, "Wrapped", "wF", defaultParams());
        assertEq(id, _freshRouteId());
        assertEq(uint8(home.bridge.getLane(home.bridge.getRoute(id).outboundLane).status), uint8(RouteStatus.Pending));
    }

    function test_RevertWhen_tokenHasNoOwnerFunction() public {
        OwnerlessToken t = new OwnerlessToken();
        (uint256 h,) = _routeCount();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotTokenOwner.selector, alice, address(t)));
        home.registry.registerRoute{value: BOND}(address(t), REMOTE, "Wrapped", "wN", defaultParams());
        (uint256 after_,) = _routeCount();
        assertEq(after_, h);
        assertEq(alice.balance, 10 ether);

        // Only governance can register it, on someone's behalf and without a bond.
        bytes32 id = home.registry.registerRouteFor(alice, address(t), REMOTE, "Wrapped", "wN", defaultParams());
        assertEq(home.registry.getRoute(id).owner, alice);
        assertEq(home.registry.getRoute(id).bond, 0);
    }

    function test_RevertWhen_bondTooLow() public {
        (uint256 h,) = _routeCount();
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.WrongBond.selector, BOND - 1, BOND));
        home.registry.registerRoute{value: BOND - 1}(address(fresh), REMOTE, "Wrapped", "wF", defaultParams());
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.WrongBond.selector, 0, BOND));
        home.registry.registerRoute(address(fresh), REMOTE, "Wrapped", "wF", defaultParams());
        _assertNotRegistered(h, 10 ether, 10 ether);
    }

    function test_RevertWhen_bondTooHigh() public {
        // An overpayment is refused rather than silently kept.
        (uint256 h,) = _routeCount();
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.WrongBond.selector, BOND + 1, BOND));
        home.registry.registerRoute{value: BOND + 1}(address(fresh), REMOTE, "Wrapped", "wF", defaultParams());
        _assertNotRegistered(h, 10 ether, 10 ether);
    }

    function test_RevertWhen_routeRegisteredTwice() public {
        (uint256 h, uint256 r) = _routeCount();
        uint256 registryEth = address(home.registry).balance;
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteAlreadyRegistered.selector, routeId));
        home.registry.registerRoute{value: BOND}(address(token), REMOTE, "Again", "AGAIN", defaultParams());

        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteAlreadyRegistered.selector, routeId));
        home.registry.registerRouteFor(alice, address(token), REMOTE, "Again", "AGAIN", defaultParams());

        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteAlreadyRegistered.selector, routeId));
        remote.registry.registerRemoteRoute(alice, HOME, address(token), 18, "Again", "AGAIN", defaultParams());

        (uint256 h2, uint256 r2) = _routeCount();
        assertEq(h2, h);
        assertEq(r2, r);
        assertEq(address(home.registry).balance, registryEth);
        assertEq(tokenOwner.balance, 10 ether);
        assertEq(home.registry.getRoute(routeId).owner, tokenOwner, "owner unchanged");
        assertEq(home.bridge.getRoute(routeId).outboundLane, toRemote, "lanes unchanged");
    }

    function test_RevertWhen_strangerCallsRegisterRouteFor() public {
        (uint256 h,) = _routeCount();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, alice));
        home.registry.registerRouteFor(alice, address(fresh), REMOTE, "Wrapped", "wF", defaultParams());
        // Not even the token's owner: this path skips the bond.
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, tokenOwner));
        home.registry.registerRouteFor(tokenOwner, address(fresh), REMOTE, "Wrapped", "wF", defaultParams());
        _assertNotRegistered(h, 10 ether, 10 ether);
    }

    function test_RevertWhen_strangerCallsRegisterRemoteRoute() public {
        (, uint256 r) = _routeCount();
        vm.chainId(REMOTE);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, alice));
        remote.registry.registerRemoteRoute(alice, HOME, address(fresh), 18, "Wrapped", "wF", defaultParams());
        (, uint256 r2) = _routeCount();
        assertEq(r2, r);
        assertEq(remote.bridge.getRoute(_freshRouteId()).outboundLane, bytes32(0));
    }

    function test_RevertWhen_strangerOpensRouteOnBridge() public {
        // Going around the registry to the bridge is no better.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, alice));
        home.bridge.openRoute(_freshRouteId(), address(fresh), true, REMOTE, defaultParams());
        assertEq(home.bridge.getRoute(_freshRouteId()).outboundLane, bytes32(0));
    }
}
