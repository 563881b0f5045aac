// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "./UnitBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Lane, Route} from "../../src/BridgeBase.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {LaneDirection, RouteStatus, RouteParams} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken, OwnerlessToken} from "../mocks/Tokens.sol";

contract RegistryTest is UnitBase {
    OwnedToken internal six;
    bytes32 internal sixRoute;
    bytes32 internal sixOut; // home -> remote
    bytes32 internal sixIn; // remote -> home

    function setUp() public override {
        super.setUp();
        vm.chainId(HOME);
        six = new OwnedToken("Six Decimals", "SIX", 6, tokenOwner);
        sixRoute = keccak256(abi.encode(uint64(HOME), address(six), uint64(REMOTE)));
        sixOut = keccak256(abi.encode(uint64(HOME), address(home.bridge), uint64(REMOTE), address(remote.bridge), sixRoute));
        sixIn = keccak256(abi.encode(uint64(REMOTE), address(remote.bridge), uint64(HOME), address(home.bridge), sixRoute));
        vm.deal(tokenOwner, 10 ether);
        vm.deal(carol, 10 ether);
    }

    function _registerSixHome() internal returns (bytes32 id) {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        id = home.registry.registerRoute{value: 1 ether}(address(six), REMOTE, "Wrapped Six", "wSIX", defaultParams());
    }

    function _registerSixRemote() internal returns (WrappedToken w) {
        vm.chainId(REMOTE);
        (, address a) =
            remote.registry.registerRemoteRoute(tokenOwner, HOME, address(six), 6, "Wrapped Six", "wSIX", defaultParams());
        w = WrappedToken(a);
    }

    // ---------------------------------------------------------------------------------------
    // Home registration
    // ---------------------------------------------------------------------------------------

    function test_register_byTokenOwnerWithBond_createsPendingLanes() public {
        vm.chainId(HOME);
        vm.expectEmit(address(home.registry));
        emit RouteRegistry.RouteRegistered(
            sixRoute, tokenOwner, address(six), HOME, REMOTE, 6, "Wrapped Six", "wSIX", 1 ether
        );
        vm.expectEmit(address(home.bridge));
        emit RouteOpened(sixRoute, sixOut, sixIn, address(six), true, REMOTE);
        bytes32 id = _registerSixHome();
        assertEq(id, sixRoute);
        assertEq(address(home.registry).balance, 2 ether, "bond held (fixture route + this one)");

        RouteRegistry.RouteRecord memory r = home.registry.getRoute(id);
        assertEq(r.owner, tokenOwner);
        assertEq(r.homeToken, address(six));
        assertEq(r.localToken, address(six));
        assertEq(r.decimals, 6);
        assertEq(r.bond, 1 ether);
        assertTrue(r.isHome);
        assertEq(r.remoteChainId, REMOTE);

        Route memory route = home.bridge.getRoute(id);
        assertEq(route.outboundLane, sixOut);
        assertEq(route.inboundLane, sixIn);
        Lane memory out = home.bridge.getLane(sixOut);
        assertEq(uint8(out.status), uint8(RouteStatus.Pending));
        assertEq(uint8(out.direction), uint8(LaneDirection.Outbound));
        assertEq(out.token, address(six));
        assertTrue(out.isHome);
        assertEq(out.accumulator, initialAcc(sixOut));
        assertEq(out.reverseLane, sixIn);
        Lane memory inn = home.bridge.getLane(sixIn);
        assertEq(uint8(inn.status), uint8(RouteStatus.Pending));
        assertEq(uint8(inn.direction), uint8(LaneDirection.Inbound));
        assertEq(inn.sourceDomain, domainOf(REMOTE, address(remote.bridge)));

        // not usable before activation
        six.mint(alice, 100e6);
        vm.startPrank(alice);
        six.approve(address(home.bridge), 100e6);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, sixOut));
        home.bridge.send(sixOut, bob, 100e6, 0);
        vm.stopPrank();
    }

    function test_register_wrongBondReverts() public {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.WrongBond.selector, 0.5 ether, 1 ether));
        home.registry.registerRoute{value: 0.5 ether}(address(six), REMOTE, "W", "W", defaultParams());
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.WrongBond.selector, 0, 1 ether));
        home.registry.registerRoute(address(six), REMOTE, "W", "W", defaultParams());
    }

    function test_register_onlyTokenOwner() public {
        vm.chainId(HOME);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotTokenOwner.selector, carol, address(six)));
        home.registry.registerRoute{value: 1 ether}(address(six), REMOTE, "W", "W", defaultParams());

        OwnerlessToken ownerless = new OwnerlessToken();
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotTokenOwner.selector, carol, address(ownerless)));
        home.registry.registerRoute{value: 1 ether}(address(ownerless), REMOTE, "W", "W", defaultParams());

        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.TokenHasNoCode.selector, bob));
        home.registry.registerRoute{value: 1 ether}(bob, REMOTE, "W", "W", defaultParams());
        assertEq(home.registry.getRoute(sixRoute).owner, address(0));
    }

    function test_register_badInputsRevert() public {
        vm.chainId(HOME);
        vm.startPrank(tokenOwner);
        vm.expectRevert(RouteRegistry.SameChain.selector);
        home.registry.registerRoute{value: 1 ether}(address(six), HOME, "W", "W", defaultParams());
        vm.expectRevert(RouteRegistry.EmptyName.selector);
        home.registry.registerRoute{value: 1 ether}(address(six), REMOTE, "", "W", defaultParams());
        vm.expectRevert(RouteRegistry.EmptyName.selector);
        home.registry.registerRoute{value: 1 ether}(address(six), REMOTE, "W", "", defaultParams());
        vm.expectRevert(abi.encodeWithSelector(PeerUnknown.selector, uint64(137)));
        home.registry.registerRoute{value: 1 ether}(address(six), 137, "W", "W", defaultParams());
        RouteParams memory bad = defaultParams();
        bad.minAmount = 0;
        vm.expectRevert(InvalidLimits.selector);
        home.registry.registerRoute{value: 1 ether}(address(six), REMOTE, "W", "W", bad);
        vm.stopPrank();
    }

    function test_register_twiceReverts() public {
        _registerSixHome();
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteAlreadyRegistered.selector, sixRoute));
        home.registry.registerRoute{value: 1 ether}(address(six), REMOTE, "W", "W", defaultParams());
        // nor by governance on someone's behalf
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteAlreadyRegistered.selector, sixRoute));
        home.registry.registerRouteFor(carol, address(six), REMOTE, "W", "W", defaultParams());
    }

    function test_registerRouteFor_governanceOnly_noBond() public {
        vm.chainId(HOME);
        OwnerlessToken ownerless = new OwnerlessToken();
        vm.prank(carol);
        vm.expectRevert(unauthorized(carol));
        home.registry.registerRouteFor(carol, address(ownerless), REMOTE, "W", "W", defaultParams());

        bytes32 id = home.registry.registerRouteFor(carol, address(ownerless), REMOTE, "W", "W", defaultParams());
        RouteRegistry.RouteRecord memory r = home.registry.getRoute(id);
        assertEq(r.owner, carol);
        assertEq(r.bond, 0);
        assertEq(r.decimals, 18);
    }

    // ---------------------------------------------------------------------------------------
    // Remote registration and the wrapped token
    // ---------------------------------------------------------------------------------------

    function test_remoteRegistration_deploysWrappedWithCanonicalDecimals() public {
        _registerSixHome();
        vm.chainId(REMOTE);
        bytes memory initCode = abi.encodePacked(
            type(WrappedToken).creationCode, abi.encode("Wrapped Six", "wSIX", uint8(6), address(remote.bridge), sixRoute)
        );
        address predicted = vm.computeCreate2Address(sixRoute, keccak256(initCode), address(remote.registry));
        vm.expectEmit(address(remote.registry));
        emit RouteRegistry.RemoteRouteRegistered(sixRoute, predicted, tokenOwner);
        vm.expectEmit(address(remote.bridge));
        emit RouteOpened(sixRoute, sixIn, sixOut, predicted, false, HOME);
        WrappedToken w = _registerSixRemote();
        assertEq(address(w), predicted);

        assertEq(w.decimals(), 6, "canonical decimals");
        assertEq(w.decimals(), six.decimals());
        assertEq(w.name(), "Wrapped Six");
        assertEq(w.symbol(), "wSIX");
        assertEq(w.bridge(), address(remote.bridge), "bridge is the minter");
        assertEq(w.routeId(), sixRoute);
        assertEq(w.totalSupply(), 0);

        // both chains agree on the lane ids
        Route memory r = remote.bridge.getRoute(sixRoute);
        assertEq(r.outboundLane, sixIn);
        assertEq(r.inboundLane, sixOut);
        Lane memory l = remote.bridge.getLane(sixOut);
        assertEq(uint8(l.status), uint8(RouteStatus.Pending));
        assertEq(uint8(l.direction), uint8(LaneDirection.Inbound));
        assertEq(l.token, address(w));
        assertFalse(l.isHome);
        assertEq(l.sourceDomain, domainOf(HOME, address(home.bridge)));

        RouteRegistry.RouteRecord memory rec = remote.registry.getRoute(sixRoute);
        assertEq(rec.localToken, address(w));
        assertEq(rec.homeToken, address(six));
        assertEq(rec.decimals, 6);
        assertFalse(rec.isHome);
        assertEq(rec.bond, 0);
    }

    function test_remoteRegistration_governanceOnly() public {
        vm.chainId(REMOTE);
        address[3] memory others = [carol, tokenOwner, guardian];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            remote.registry.registerRemoteRoute(others[i], HOME, address(six), 6, "W", "W", defaultParams());
        }
        vm.expectRevert(RouteRegistry.SameChain.selector);
        remote.registry.registerRemoteRoute(tokenOwner, REMOTE, address(six), 6, "W", "W", defaultParams());
        _registerSixRemote();
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteAlreadyRegistered.selector, sixRoute));
        remote.registry.registerRemoteRoute(tokenOwner, HOME, address(six), 6, "W", "W", defaultParams());
    }

    function test_wrappedToken_onlyBridgeMintsAndBurns() public {
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);
        uint256 supply = wrapped.totalSupply();
        address[5] memory others = [carol, bob, governance, address(remote.registry), address(home.bridge)];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(WrappedToken.OnlyBridge.selector, others[i]));
            wrapped.mint(others[i], 1);
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(WrappedToken.OnlyBridge.selector, others[i]));
            wrapped.burn(bob, 1);
        }
        assertEq(wrapped.totalSupply(), supply);

        vm.prank(address(remote.bridge));
        wrapped.mint(carol, 5);
        vm.prank(address(remote.bridge));
        wrapped.burn(carol, 5);
        assertEq(wrapped.totalSupply(), supply);
    }

    function test_sixDecimalsRoute_endToEnd() public {
        _registerSixHome();
        WrappedToken w = _registerSixRemote();
        _laneFromHome[sixOut] = true;
        _laneFromHome[sixIn] = false;
        _installAndActivate(sixRoute, makeSet("validators", 4, 3));
        RouteParams memory p = defaultParams();
        p.maxAmount = 1_000e6;
        p.outboundCapacity = 1_000_000e6;
        p.largeTransferThreshold = 500e6;
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        home.registry.setLimits(sixRoute, p);
        vm.chainId(HOME);
        six.mint(alice, 100e6);
        sendAs(alice, sixOut, bob, 100e6);
        relay(sixOut);
        assertEq(w.balanceOf(bob), 100e6 - 100e6 * 10 / 10_000, "same units on both sides");
    }

    // ---------------------------------------------------------------------------------------
    // Activation and validator sets
    // ---------------------------------------------------------------------------------------

    function test_activateRoute_requiresBothValidatorSets() public {
        _registerSixHome();
        ValidatorSet memory set = makeSet("validators", 4, 3);
        bytes memory encoded = encodeSet(set);

        vm.chainId(HOME);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ValidatorSetMissing.selector, sixOut));
        home.registry.activateRoute(sixRoute);

        vm.expectEmit(address(home.bridge));
        emit ValidatorSetInstalled(sixOut, keccak256(encoded), encoded);
        vm.prank(setManager);
        home.bridge.installValidatorSet(sixOut, encoded);
        assertEq(home.bridge.getLane(sixOut).validatorSetHash, keccak256(encoded));

        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ValidatorSetMissing.selector, sixIn));
        home.registry.activateRoute(sixRoute);

        vm.prank(setManager);
        home.bridge.installValidatorSet(sixIn, encoded);
        vm.expectEmit(address(home.bridge));
        emit RouteActivated(sixRoute);
        vm.prank(carol); // anyone, once the sets are there
        home.registry.activateRoute(sixRoute);
        assertEq(uint8(home.bridge.getLane(sixOut).status), uint8(RouteStatus.Active));
        assertEq(uint8(home.bridge.getLane(sixIn).status), uint8(RouteStatus.Active));

        vm.expectRevert(abi.encodeWithSelector(RouteNotPending.selector, sixRoute));
        home.registry.activateRoute(sixRoute);
        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.UnknownRoute.selector, unknown));
        home.registry.activateRoute(unknown);
        // the bridge's own entry point belongs to the registry
        vm.prank(carol);
        vm.expectRevert(unauthorized(carol));
        home.bridge.activateRoute(sixRoute);
    }

    function test_deliveryToPendingRemoteReverts() public {
        _registerSixHome();
        _registerSixRemote();
        _laneFromHome[sixOut] = true;
        _laneFromHome[sixIn] = false;
        ValidatorSet memory set = makeSet("validators", 4, 3);
        _installSet(sixOut, set);
        _installSet(sixIn, set);
        vm.chainId(HOME);
        home.registry.activateRoute(sixRoute); // home only
        six.mint(alice, 100e6);
        sendAs(alice, sixOut, bob, 100e6);
        Delivery memory d = prepare(sixOut);
        vm.expectRevert(abi.encodeWithSelector(LaneNotActive.selector, sixOut));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
    }

    function test_installValidatorSet_afterActivation_revertsSetAlreadyActive() public {
        bytes memory attackerSet = encodeSet(makeSet("attacker", 3, 2));
        vm.chainId(HOME);
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(SetAlreadyActive.selector, toRemote));
        home.bridge.installValidatorSet(toRemote, attackerSet);
        vm.chainId(REMOTE);
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(SetAlreadyActive.selector, toRemote));
        remote.bridge.installValidatorSet(toRemote, attackerSet);
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(SetAlreadyActive.selector, toHome));
        remote.bridge.installValidatorSet(toHome, attackerSet);

        // no other single key either
        address[4] memory others = [governance, guardian, tokenOwner, carol];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            remote.bridge.installValidatorSet(toRemote, attackerSet);
        }
        bytes32 expected = keccak256(encodeSet(makeSet("validators", 4, 3)));
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, expected);

        // an exit-only route cannot get a new set either
        remote.bridge.setExitOnly(routeId);
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(SetAlreadyActive.selector, toRemote));
        remote.bridge.installValidatorSet(toRemote, attackerSet);
    }

    function test_installValidatorSet_unknownLaneReverts() public {
        bytes32 unknown = keccak256("unknown");
        vm.chainId(HOME);
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(UnknownLane.selector, unknown));
        home.bridge.installValidatorSet(unknown, encodeSet(makeSet("v", 4, 3)));
    }

    function _install(bytes memory encoded) internal {
        vm.chainId(HOME);
        vm.prank(setManager);
        home.bridge.installValidatorSet(sixOut, encoded);
    }

    function _expectInstallReverts(bytes memory encoded, bytes memory err) internal {
        vm.chainId(HOME);
        vm.prank(setManager);
        vm.expectRevert(err);
        home.bridge.installValidatorSet(sixOut, encoded);
    }

    function test_setValidation_thresholdBelowTwoThirds() public {
        _registerSixHome();
        // 4 x 1, threshold 2: 6 < 8
        _expectInstallReverts(encodeSet(makeSet("v", 4, 2)), abi.encodeWithSelector(ThresholdTooLow.selector, 2, 4));
        // threshold above the total is unreachable: rejected as malformed
        _expectInstallReverts(encodeSet(makeSet("v", 4, 5)), abi.encodeWithSelector(MalformedValidatorSet.selector));
        _expectInstallReverts(encodeSet(makeSet("v", 4, 0)), abi.encodeWithSelector(ThresholdTooLow.selector, 0, 4));
        // weighted: 5+1+1+1 = 8, threshold 5: 15 < 16
        _expectInstallReverts(
            encodeSet(makeWeightedSet("w", _w5111(), 5)), abi.encodeWithSelector(ThresholdTooLow.selector, 5, 8)
        );
        // exactly two thirds is enough
        _install(encodeSet(makeSet("v", 3, 2)));
        assertEq(home.bridge.getLane(sixOut).validatorSetHash, keccak256(encodeSet(makeSet("v", 3, 2))));
        bytes memory weighted = encodeSet(makeWeightedSet("w", _w5111(), 6));
        _install(weighted);
        assertEq(home.bridge.getLane(sixOut).validatorSetHash, keccak256(weighted));
    }

    /// @dev makeWeightedSet sorts the weights array in place: build a fresh one per call.
    function _w5111() internal pure returns (uint96[] memory w) {
        w = new uint96[](4);
        (w[0], w[1], w[2], w[3]) = (5, 1, 1, 1);
    }

    function test_setValidation_malformed() public {
        _registerSixHome();
        bytes memory malformed = abi.encodeWithSelector(MalformedValidatorSet.selector);

        // unsorted
        ValidatorSet memory s = makeSet("v", 4, 3);
        (s.members[0], s.members[1]) = (s.members[1], s.members[0]);
        _expectInstallReverts(encodeSet(s), malformed);
        // duplicate member
        s = makeSet("v", 4, 3);
        s.members[2] = s.members[1];
        _expectInstallReverts(encodeSet(s), malformed);
        // zero weight
        s = makeSet("v", 4, 3);
        s.weights[3] = 0;
        _expectInstallReverts(encodeSet(s), malformed);
        // zero address member
        s = makeSet("v", 4, 3);
        s.members[0] = address(0);
        _expectInstallReverts(encodeSet(s), malformed);
        // wrong lengths
        bytes memory good = encodeSet(makeSet("v", 4, 3));
        _expectInstallReverts(abi.encodePacked(good, bytes1(0x01)), malformed);
        _expectInstallReverts(abi.encodePacked(uint96(1)), malformed);
        _expectInstallReverts(abi.encodePacked(uint96(1), NEVER), malformed); // header, no member
        _expectInstallReverts(abi.encodePacked(uint96(1), NEVER, address(1)), malformed); // partial member
        _expectInstallReverts("", malformed);
        bytes memory truncated = new bytes(good.length - 1);
        for (uint256 i; i < truncated.length; ++i) {
            truncated[i] = good[i];
        }
        _expectInstallReverts(truncated, malformed);
        // too many members
        _expectInstallReverts(_sequentialSet(129, 86), malformed);
        _install(_sequentialSet(128, 86));
        assertEq(home.bridge.getLane(sixOut).validatorSetHash, keccak256(_sequentialSet(128, 86)));
    }

    function _sequentialSet(uint256 n, uint96 threshold) internal pure returns (bytes memory out) {
        out = abi.encodePacked(threshold, NEVER);
        for (uint256 i; i < n; ++i) {
            out = abi.encodePacked(out, address(uint160(i + 1)), uint96(1));
        }
    }

    function testFuzz_setValidation_thresholdRule(uint96[8] memory raw, uint8 n, uint96 threshold) public {
        _registerSixHome();
        n = uint8(bound(n, 1, 8));
        uint256 total;
        bytes memory members;
        for (uint256 i; i < n; ++i) {
            uint96 w = uint96(bound(raw[i], 1, type(uint64).max));
            total += w;
            members = abi.encodePacked(members, address(uint160(0x1000 + i)), w);
        }
        threshold = uint96(bound(threshold, 0, total + 10));
        bytes memory encoded = abi.encodePacked(threshold, NEVER, members);
        if (uint256(threshold) * 3 < total * 2) {
            _expectInstallReverts(encoded, abi.encodeWithSelector(ThresholdTooLow.selector, threshold, total));
        } else if (threshold > total) {
            _expectInstallReverts(encoded, abi.encodeWithSelector(MalformedValidatorSet.selector));
        } else {
            _install(encoded);
            assertEq(home.bridge.getLane(sixOut).validatorSetHash, keccak256(encoded));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Bonds and ownership
    // ---------------------------------------------------------------------------------------

    function test_slashBond_governanceOnly() public {
        vm.chainId(HOME);
        address[3] memory others = [tokenOwner, guardian, carol];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.registry.slashBond(routeId, payable(others[i]));
            vm.prank(others[i]);
            vm.expectRevert(unauthorized(others[i]));
            home.registry.returnBond(routeId);
        }
        assertEq(home.registry.getRoute(routeId).bond, 1 ether);

        address payable pool = payable(makeAddr("compensationPool"));
        vm.expectEmit(address(home.registry));
        emit RouteRegistry.BondSlashed(routeId, pool, 1 ether);
        home.registry.slashBond(routeId, pool);
        assertEq(pool.balance, 1 ether);
        assertEq(address(home.registry).balance, 0);
        assertEq(home.registry.getRoute(routeId).bond, 0);

        // nothing left to return or slash
        uint256 ownerBal = tokenOwner.balance;
        home.registry.returnBond(routeId);
        assertEq(tokenOwner.balance, ownerBal);
        home.registry.slashBond(routeId, pool);
        assertEq(pool.balance, 1 ether);

        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.UnknownRoute.selector, unknown));
        home.registry.slashBond(unknown, pool);
    }

    function test_returnBond_paysRouteOwner() public {
        vm.chainId(HOME);
        uint256 before = tokenOwner.balance;
        vm.expectEmit(address(home.registry));
        emit RouteRegistry.BondReturned(routeId, tokenOwner, 1 ether);
        home.registry.returnBond(routeId);
        assertEq(tokenOwner.balance, before + 1 ether);
        assertEq(home.registry.getRoute(routeId).bond, 0);
        assertEq(address(home.registry).balance, 0);
    }

    function test_transferRouteOwnership() public {
        vm.chainId(HOME);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotRouteOwner.selector, carol, routeId));
        home.registry.transferRouteOwnership(routeId, carol);

        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotRouteOwner.selector, address(0), routeId));
        home.registry.transferRouteOwnership(routeId, address(0));

        vm.expectEmit(address(home.registry));
        emit RouteRegistry.RouteOwnerTransferred(routeId, carol);
        vm.prank(tokenOwner);
        home.registry.transferRouteOwnership(routeId, carol);
        assertEq(home.registry.getRoute(routeId).owner, carol);

        // the new owner controls fee and limits; the old one no longer does
        vm.prank(carol);
        home.registry.setFee(routeId, 20, carol);
        assertEq(home.bridge.getLane(toRemote).feeBps, 20);
        assertEq(home.bridge.getLane(toRemote).feeCollector, carol);
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotRouteOwner.selector, tokenOwner, routeId));
        home.registry.setFee(routeId, 0, tokenOwner);
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotRouteOwner.selector, tokenOwner, routeId));
        home.registry.setLimits(routeId, defaultParams());
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotRouteOwner.selector, tokenOwner, routeId));
        home.registry.transferRouteOwnership(routeId, tokenOwner);
    }

    function test_setRegistrationBond_governanceOnly() public {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        vm.expectRevert(unauthorized(tokenOwner));
        home.registry.setRegistrationBond(0);
        home.registry.setRegistrationBond(2 ether);
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.WrongBond.selector, 1 ether, 2 ether));
        home.registry.registerRoute{value: 1 ether}(address(six), REMOTE, "W", "W", defaultParams());
        vm.prank(tokenOwner);
        home.registry.registerRoute{value: 2 ether}(address(six), REMOTE, "W", "W", defaultParams());
        assertEq(home.registry.getRoute(sixRoute).bond, 2 ether);
    }
}
