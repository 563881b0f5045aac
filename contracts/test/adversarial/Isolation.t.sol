// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdversarialBase} from "./AdversarialBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Message, Checkpoint, MessageKind, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Per-lane vaults: a fully compromised validator set of route B (simulated by signing
/// forged checkpoints with B's keys) can never reach route A's locked funds.
contract IsolationTest is AdversarialBase {
    uint64 internal constant POLY = 137;
    uint256 internal constant A_AMOUNT = 20_000 * UNIT;
    uint256 internal constant B_AMOUNT = 1_000 * UNIT;

    address internal mallory = makeAddr("mallory");

    function setUp() public override {
        super.setUp();
        sendAs(alice, toRemote, bob, A_AMOUNT);
        relay(toRemote);
    }

    /// @dev Quorum of `set` over a forged one-message batch on inbound lane `lane` (source `domain`).
    function _forge(bytes32 lane, bytes32 domain, ValidatorSet memory set, uint64 seq, bytes32 prevAcc, uint256 amount)
        internal
        view
        returns (Checkpoint memory cp, bytes memory sigs, Message memory m)
    {
        m = Message({
            sequence: seq, kind: MessageKind.TRANSFER, sender: mallory, recipient: mallory, amount: amount, data: 0,
            sentAt: uint64(block.timestamp),
            deadline: type(uint64).max
        });
        cp = Checkpoint({lane: lane, sequence: seq, accumulator: nextAcc(prevAcc, m)});
        sigs = quorumSignatures(set, digestOf(domain, cp));
    }

    function _assertRouteAUntouched(uint256 lockedA, uint256 vaultA) internal view {
        assertEq(lockedOnHome(), lockedA, "route A locked");
        assertEq(token.balanceOf(address(home.bridge)), vaultA, "route A token balance");
    }

    /// @dev Route A's holders still get their funds home.
    function _assertRouteAStillRedeems() internal {
        uint256 aliceBefore = token.balanceOf(alice);
        uint256 back = wrapped.balanceOf(bob);
        sendAs(bob, toHome, alice, back);
        relay(toHome);
        assertEq(token.balanceOf(alice), aliceBefore + _net(back));
        assertEq(lockedOnHome(), _net(A_AMOUNT) - _net(back));
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    function test_forgedReleaseOnRouteB_cannotTouchRouteAVault() public {
        ValidatorSet memory setB = makeSet("routeB", 4, 3);
        OwnedToken tB = _newOwnedToken("B");
        ExtraRoute memory b = _extraRoute(address(tB), defaultParams(), setB);
        tB.mint(alice, B_AMOUNT);
        sendAs(alice, b.out, bob, B_AMOUNT);
        relay(b.out);
        uint256 lockedB = home.bridge.getLane(b.out).locked;
        uint256 lockedA = lockedOnHome();
        uint256 vaultA = token.balanceOf(address(home.bridge));
        uint256 vaultB = tB.balanceOf(address(home.bridge));

        // B's validators sign a burn that never happened, for more than B ever locked.
        (Checkpoint memory cp, bytes memory sigs, Message memory m) =
            _forge(b.back, domainOf(REMOTE, address(remote.bridge)), setB, 1, initialAcc(b.back), lockedB + 1);
        vm.chainId(HOME);
        vm.expectEmit(true, true, false, true, address(home.bridge));
        emit MessageFailed(b.back, 1, VaultShortfall.selector);
        home.bridge.deliver(cp, encodeSet(setB), sigs, _one(m));
        captureLogs();

        assertEq(home.bridge.getLane(b.out).locked, lockedB, "route B locked");
        assertEq(tB.balanceOf(address(home.bridge)), vaultB, "route B token balance");
        assertEq(tB.balanceOf(mallory), 0);
        assertEq(token.balanceOf(mallory), 0);
        _assertRouteAUntouched(lockedA, vaultA);

        // The failed forgery comes back as a refund, which the remote side cannot pay: it never sent it.
        assertEq(sentMessage(b.out, 2).kind, MessageKind.REFUND);
        relay(b.out);
        assertEq(uint8(_refundStatusOf(remote.bridge, b.back, _hash(m))), uint8(RefundStatus.Approved));
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(InvalidProof.selector));
        remote.bridge.claimRefund(b.back, _one(m), 0);
        assertEq(b.wrapped.balanceOf(mallory), 0);

        _assertRouteAStillRedeems();
    }

    /// @dev Route B carries the same token to another chain, so A's and B's vaults sit in one
    /// token balance: only the per-lane `locked` keeps them apart.
    function _sameTokenRoute(ValidatorSet memory setB)
        internal
        returns (bytes32 outB, bytes32 inB, Deployment memory poly)
    {
        poly = _deployChain(POLY);
        poly.bridge.setPeer(HOME, address(home.bridge));
        vm.chainId(HOME);
        home.bridge.setPeer(POLY, address(poly.bridge));
        vm.prank(tokenOwner);
        bytes32 idB =
            home.registry.registerRoute{value: 1 ether}(address(token), POLY, "Wrapped Demo", "wDEMO", defaultParams());
        assertTrue(idB != routeId);
        vm.chainId(POLY);
        poly.registry
            .registerRemoteRoute(tokenOwner, HOME, address(token), 18, "Wrapped Demo", "wDEMO", defaultParams());
        outB = home.bridge.getRoute(idB).outboundLane;
        inB = home.bridge.getRoute(idB).inboundLane;
        bytes memory enc = encodeSet(setB);
        vm.startPrank(setManager);
        poly.bridge.installValidatorSet(outB, enc);
        poly.bridge.installValidatorSet(inB, enc);
        vm.chainId(HOME);
        home.bridge.installValidatorSet(outB, enc);
        home.bridge.installValidatorSet(inB, enc);
        vm.stopPrank();
        home.registry.activateRoute(idB);
        vm.chainId(POLY);
        poly.registry.activateRoute(idB);
        _laneFromHome[outB] = true; // so sendAs and captureLogs read it from the home bridge
    }

    function test_forgedReleaseOnSameTokenRoute_cannotTouchOtherVault() public {
        ValidatorSet memory setB = makeSet("routeB", 4, 3);
        (bytes32 outB, bytes32 inB, Deployment memory poly) = _sameTokenRoute(setB);
        sendAs(alice, outB, bob, B_AMOUNT);
        uint256 lockedB = home.bridge.getLane(outB).locked;
        uint256 lockedA = lockedOnHome();
        uint256 vault = token.balanceOf(address(home.bridge));
        assertGt(vault, lockedB + 1, "the shared balance could pay the forgery");

        (Checkpoint memory cp, bytes memory sigs, Message memory m) =
            _forge(inB, domainOf(POLY, address(poly.bridge)), setB, 1, initialAcc(inB), lockedB + 1);
        vm.chainId(HOME);
        vm.expectEmit(true, true, false, true, address(home.bridge));
        emit MessageFailed(inB, 1, VaultShortfall.selector);
        home.bridge.deliver(cp, encodeSet(setB), sigs, _one(m));
        captureLogs();

        assertEq(home.bridge.getLane(outB).locked, lockedB, "route B locked");
        assertEq(token.balanceOf(mallory), 0);
        _assertRouteAUntouched(lockedA, vault);
        assertEq(sentMessage(outB, 2).kind, MessageKind.REFUND);
        _assertRouteAStillRedeems();
    }

    function test_compromisedRouteB_drainsAtMostItsOwnVault() public {
        ValidatorSet memory setB = makeSet("routeB", 4, 3);
        (bytes32 outB, bytes32 inB, Deployment memory poly) = _sameTokenRoute(setB);
        sendAs(alice, outB, bob, B_AMOUNT);
        uint256 lockedB = home.bridge.getLane(outB).locked;
        uint256 lockedA = lockedOnHome();
        uint256 vault = token.balanceOf(address(home.bridge));
        bytes32 domainB = domainOf(POLY, address(poly.bridge));

        // The worst a compromised B can do: empty B's own vault...
        bytes32 acc = _forgeAndDeliver(inB, domainB, setB, 1, initialAcc(inB), lockedB, bytes4(0));
        assertEq(token.balanceOf(mallory), lockedB);
        assertEq(home.bridge.getLane(outB).locked, 0);

        // ...and not one wei more, though A's funds sit in the same balance.
        _forgeAndDeliver(inB, domainB, setB, 2, acc, 1, VaultShortfall.selector);
        assertEq(token.balanceOf(mallory), lockedB);
        _assertRouteAUntouched(lockedA, vault - lockedB);

        _assertKeysWorthlessOnRouteA(setB);
        _assertRouteAUntouched(lockedA, vault - lockedB);
        _assertRouteAStillRedeems();
    }

    /// @return acc the forged accumulator after `seq`
    function _forgeAndDeliver(
        bytes32 lane,
        bytes32 domain,
        ValidatorSet memory set,
        uint64 seq,
        bytes32 prevAcc,
        uint256 amount,
        bytes4 failure
    ) internal returns (bytes32 acc) {
        (Checkpoint memory cp, bytes memory sigs, Message memory m) = _forge(lane, domain, set, seq, prevAcc, amount);
        vm.chainId(HOME);
        if (failure != bytes4(0)) {
            vm.expectEmit(true, true, false, true, address(home.bridge));
            emit MessageFailed(lane, seq, failure);
        }
        home.bridge.deliver(cp, encodeSet(set), sigs, _one(m));
        captureLogs();
        return cp.accumulator;
    }

    /// @dev B's keys cannot sign for A's inbound lane, with B's set or A's.
    function _assertKeysWorthlessOnRouteA(ValidatorSet memory setB) internal {
        bytes32 domainA = domainOf(REMOTE, address(remote.bridge));
        (Checkpoint memory cpA, bytes memory sigsA, Message memory mA) =
            _forge(toHome, domainA, setB, 1, initialAcc(toHome), 1);
        bytes memory encA = encodeSet(currentSet(toHome));
        bytes memory encB = encodeSet(setB);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(encA), keccak256(encB)));
        home.bridge.deliver(cpA, encB, sigsA, _one(mA));
        vm.expectRevert(abi.encodeWithSelector(SignerNotInSet.selector, 0, setB.members[0]));
        home.bridge.deliver(cpA, encA, sigsA, _one(mA));
        assertEq(home.bridge.getLane(toHome).sequence, 0);
    }

    function _refundStatusOf(ZeroBridge b, bytes32 lane, bytes32 messageHash)
        internal
        view
        returns (RefundStatus status)
    {
        (status,) = b.refunds(lane, messageHash);
    }
}
