// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {AdversarialBase} from "./AdversarialBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Lane} from "../../src/BridgeBase.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {Message, Checkpoint, RouteParams, MessageKind, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";
import {FeeOnTransferToken, ReturnsFalseToken, ReentrantToken} from "../mocks/Tokens.sol";

/// @notice Hostile or unusual canonical tokens on the home chain.
contract TokensTest is AdversarialBase {
    uint256 internal constant AMOUNT = 1_000 * UNIT;

    function _fee(uint256 amount) internal pure returns (uint256) {
        return amount * 10 / 10_000;
    }

    // ---------------------------------------------------------------------------------------
    // Fee on transfer
    // ---------------------------------------------------------------------------------------

    function test_feeOnTransfer_creditsBalanceDelta() public {
        vm.chainId(HOME);
        FeeOnTransferToken fot = new FeeOnTransferToken(tokenOwner);
        ExtraRoute memory r = _extraRoute(address(fot), defaultParams(), currentSet(toRemote));
        fot.mint(alice, 10 * AMOUNT);

        uint64 seq = sendAs(alice, r.out, bob, AMOUNT);
        uint256 received = AMOUNT - AMOUNT / 100; // the token keeps 1%
        uint256 net = received - _fee(received);
        assertEq(fot.balanceOf(address(home.bridge)), received, "bridge holds what arrived");
        Lane memory lane = home.bridge.getLane(r.out);
        assertEq(lane.locked, net, "locked is the net delta");
        assertEq(uint256(lane.ownerFees) + lane.validatorFees, _fee(received), "fee on the delta");
        assertEq(sentMessage(r.out, seq).amount, net, "message carries the net delta");

        relay(r.out);
        assertEq(r.wrapped.balanceOf(bob), net);
        assertEq(r.wrapped.totalSupply(), lane.locked);

        // Back home: the vault pays out exactly the message amount, whatever the token skims.
        uint256 back = net / 2;
        sendAs(bob, r.back, alice, back);
        relay(r.back);
        uint256 backNet = back - _fee(back);
        assertEq(home.bridge.getLane(r.out).locked, net - backNet);
        assertEq(fot.balanceOf(address(home.bridge)), received - backNet);
        assertGe(
            fot.balanceOf(address(home.bridge)),
            home.bridge.getLane(r.out).locked + home.bridge.getLane(r.out).ownerFees
                + home.bridge.getLane(r.out).validatorFees,
            "vault covers locked and fees"
        );
    }

    function test_RevertWhen_feeOnTransferDeltaBelowMinimum() public {
        // The minimum applies to what arrived, not to what the sender asked.
        vm.chainId(HOME);
        FeeOnTransferToken fot = new FeeOnTransferToken(tokenOwner);
        RouteParams memory p = defaultParams();
        p.minAmount = uint128(AMOUNT);
        ExtraRoute memory r = _extraRoute(address(fot), p, currentSet(toRemote));
        fot.mint(alice, AMOUNT);

        vm.chainId(HOME);
        vm.startPrank(alice);
        fot.approve(address(home.bridge), AMOUNT);
        vm.expectRevert(abi.encodeWithSelector(AmountBelowMinimum.selector, AMOUNT - AMOUNT / 100, AMOUNT));
        home.bridge.send(r.out, bob, AMOUNT, 0);
        vm.stopPrank();
        assertEq(fot.balanceOf(alice), AMOUNT);
        assertEq(home.bridge.getLane(r.out).sequence, 0);
        assertEq(home.bridge.getLane(r.out).locked, 0);
    }

    // ---------------------------------------------------------------------------------------
    // Returns false
    // ---------------------------------------------------------------------------------------

    function test_RevertWhen_tokenReturnsFalseOnSend() public {
        vm.chainId(HOME);
        ReturnsFalseToken rf = new ReturnsFalseToken(tokenOwner);
        ExtraRoute memory r = _extraRoute(address(rf), defaultParams(), currentSet(toRemote));
        rf.mint(alice, AMOUNT);
        rf.setFailing(true);

        vm.chainId(HOME);
        vm.startPrank(alice);
        rf.approve(address(home.bridge), AMOUNT);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(rf)));
        home.bridge.send(r.out, bob, AMOUNT, 0);
        vm.stopPrank();
        assertEq(rf.balanceOf(alice), AMOUNT);
        assertEq(rf.balanceOf(address(home.bridge)), 0);
        assertEq(home.bridge.getLane(r.out).sequence, 0);
        assertEq(home.bridge.getLane(r.out).locked, 0);

        rf.setFailing(false);
        sendAs(alice, r.out, bob, AMOUNT);
        assertEq(home.bridge.getLane(r.out).locked, _net(AMOUNT));
    }

    function test_releaseWithFalseReturningToken_failsMessageAndRefunds() public {
        vm.chainId(HOME);
        ReturnsFalseToken rf = new ReturnsFalseToken(tokenOwner);
        ExtraRoute memory r = _extraRoute(address(rf), defaultParams(), currentSet(toRemote));
        rf.mint(alice, AMOUNT);
        sendAs(alice, r.out, bob, AMOUNT);
        relay(r.out);
        uint256 net = _net(AMOUNT);

        uint256 back = 400 * UNIT;
        uint64 seq = sendAs(bob, r.back, alice, back);
        Message memory m = sentMessage(r.back, seq);
        rf.setFailing(true);

        // The delivery goes through; the transfer fails and a refund is queued on the reverse lane.
        Checkpoint memory cp = checkpointAt(r.back, seq);
        bytes memory sigs = _quorum(r.back, cp);
        bytes memory enc = encodeSet(currentSet(r.back));
        vm.chainId(HOME);
        vm.expectEmit(true, true, false, true, address(home.bridge));
        emit MessageFailed(r.back, seq, SafeERC20.SafeERC20FailedOperation.selector);
        home.bridge.deliver(cp, enc, sigs, _one(m));
        captureLogs();

        assertEq(home.bridge.getLane(r.back).sequence, seq, "lane advanced");
        assertEq(home.bridge.getLane(r.out).locked, net, "vault untouched");
        assertEq(rf.balanceOf(address(home.bridge)), AMOUNT);
        assertEq(rf.balanceOf(alice), 0);
        assertEq(home.bridge.getLane(r.out).sequence, 2, "refund appended");
        Message memory refund = sentMessage(r.out, 2);
        assertEq(refund.kind, MessageKind.REFUND);
        assertEq(refund.sender, alice);
        assertEq(refund.recipient, bob);
        assertEq(refund.amount, m.amount);
        assertEq(refund.data, _hash(m));

        // The refund travels back and re-mints bob's burned tokens, once.
        relay(r.out);
        assertEq(uint8(_refundStatusOf(remote.bridge, r.back, _hash(m))), uint8(RefundStatus.Approved));
        uint256 bobBefore = r.wrapped.balanceOf(bob);
        Message[] memory proof = batch(r.back, 0, seq);
        vm.chainId(REMOTE);
        remote.bridge.claimRefund(r.back, proof, seq - 1);
        assertEq(r.wrapped.balanceOf(bob), bobBefore + m.amount);
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, r.back, _hash(m)));
        remote.bridge.claimRefund(r.back, proof, seq - 1);
        // Supply is again fully backed by the vault (the return fee stays with the remote bridge).
        assertEq(r.wrapped.totalSupply(), home.bridge.getLane(r.out).locked);
    }

    // ---------------------------------------------------------------------------------------
    // No code
    // ---------------------------------------------------------------------------------------

    function test_RevertWhen_registeringTokenWithoutCode() public {
        address ghost = makeAddr("ghost token");
        uint256 routesBefore = home.registry.routeIds().length;
        vm.chainId(HOME);
        vm.deal(tokenOwner, 1 ether);
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.TokenHasNoCode.selector, ghost));
        home.registry.registerRoute{value: 1 ether}(ghost, REMOTE, "Ghost", "GHOST", defaultParams());

        // Governance cannot open one either.
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.TokenHasNoCode.selector, ghost));
        home.registry.registerRouteFor(tokenOwner, ghost, REMOTE, "Ghost", "GHOST", defaultParams());
        assertEq(home.registry.routeIds().length, routesBefore);
        assertEq(tokenOwner.balance, 1 ether);
    }

    function test_releaseAfterTokenLosesCode_failsMessage() public {
        // A transfer to an account without code "succeeds" at the EVM level: it must not count as paid.
        vm.chainId(HOME);
        ReturnsFalseToken t = new ReturnsFalseToken(tokenOwner);
        ExtraRoute memory r = _extraRoute(address(t), defaultParams(), currentSet(toRemote));
        t.mint(alice, AMOUNT);
        sendAs(alice, r.out, bob, AMOUNT);
        relay(r.out);
        uint64 seq = sendAs(bob, r.back, alice, 400 * UNIT);
        vm.etch(address(t), "");

        Checkpoint memory cp = checkpointAt(r.back, seq);
        bytes memory sigs = _quorum(r.back, cp);
        bytes memory enc = encodeSet(currentSet(r.back));
        vm.chainId(HOME);
        vm.expectEmit(true, true, false, true, address(home.bridge));
        emit MessageFailed(r.back, seq, SafeERC20.SafeERC20FailedOperation.selector);
        home.bridge.deliver(cp, enc, sigs, batch(r.back, 0, seq));
        captureLogs();
        assertEq(home.bridge.getLane(r.out).locked, _net(AMOUNT), "vault untouched");
        assertEq(sentMessage(r.out, 2).kind, MessageKind.REFUND);
    }

    // ---------------------------------------------------------------------------------------
    // Re-entrancy through token hooks
    // ---------------------------------------------------------------------------------------

    function test_reentrantSend_blockedAndOuterSendAccounts() public {
        vm.chainId(HOME);
        ReentrantToken rt = new ReentrantToken(tokenOwner);
        ExtraRoute memory r = _extraRoute(address(rt), defaultParams(), currentSet(toRemote));
        rt.mint(alice, 2 * AMOUNT);
        // The hook runs as the token, which holds and has approved enough for the inner send to
        // succeed were it not for the guard.
        rt.mint(address(rt), AMOUNT);
        vm.prank(address(rt));
        rt.approve(address(home.bridge), AMOUNT);
        rt.arm(address(home.bridge), abi.encodeCall(ZeroBridge.send, (r.out, bob, AMOUNT, 0)));

        sendAs(alice, r.out, bob, AMOUNT);
        assertFalse(rt.reentered());
        assertEq(
            rt.lastRevert(), abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
        );
        assertEq(rt.target(), address(0), "hook fired");
        assertEq(home.bridge.getLane(r.out).sequence, 1, "one message");
        assertEq(sentCount(r.out), 1);
        assertEq(home.bridge.getLane(r.out).locked, _net(AMOUNT));
        assertEq(rt.balanceOf(address(home.bridge)), AMOUNT);
        assertEq(rt.balanceOf(alice), AMOUNT);
        assertEq(rt.balanceOf(address(rt)), AMOUNT);

        relay(r.out);
        assertEq(r.wrapped.totalSupply(), home.bridge.getLane(r.out).locked);
    }

    function test_reentrantDeliver_blockedAndOuterReleaseAccounts() public {
        vm.chainId(HOME);
        ReentrantToken rt = new ReentrantToken(tokenOwner);
        ExtraRoute memory r = _extraRoute(address(rt), defaultParams(), currentSet(toRemote));
        rt.mint(alice, AMOUNT);
        sendAs(alice, r.out, bob, AMOUNT);
        relay(r.out);
        uint256 net = _net(AMOUNT);

        sendAs(bob, r.back, alice, 100 * UNIT);
        sendAs(bob, r.back, alice, 200 * UNIT);
        // The release of message 1 calls back with a perfectly valid delivery of message 2: only
        // the guard stands in the way.
        Checkpoint memory cp2 = checkpointAt(r.back, 2);
        bytes memory inner = abi.encodeCall(
            ZeroBridge.deliver, (cp2, encodeSet(currentSet(r.back)), _quorum(r.back, cp2), batch(r.back, 1, 2))
        );
        rt.arm(address(home.bridge), inner);

        relayTo(r.back, 1);
        assertFalse(rt.reentered());
        assertEq(
            rt.lastRevert(), abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
        );
        uint256 first = _net(100 * UNIT);
        assertEq(home.bridge.getLane(r.back).sequence, 1);
        assertEq(rt.balanceOf(alice), first);
        assertEq(home.bridge.getLane(r.out).locked, net - first);
        assertEq(rt.balanceOf(address(home.bridge)), AMOUNT - first);

        // The payload the hook tried is still deliverable, exactly once.
        relay(r.back);
        uint256 second = _net(200 * UNIT);
        assertEq(rt.balanceOf(alice), first + second);
        assertEq(home.bridge.getLane(r.out).locked, net - first - second);
        assertEq(r.wrapped.totalSupply(), home.bridge.getLane(r.out).locked);
    }

    function _refundStatusOf(ZeroBridge b, bytes32 lane, bytes32 messageHash)
        internal
        view
        returns (RefundStatus status)
    {
        (status,) = b.refunds(lane, messageHash);
    }
}
