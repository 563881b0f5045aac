// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdversarialBase} from "./AdversarialBase.sol";
import {HoldStatus} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Edge amounts and recipients on `send` (defaultParams: min 1, max 100_000, 10 bps).
contract AmountsTest is AdversarialBase {
    uint256 internal constant MAX = 100_000 * UNIT;

    function _sendReverts(bytes32 lane, address to, uint256 amount, bytes memory err) internal {
        Snapshot memory before = _snapshot();
        Deployment memory src = srcChain(lane);
        vm.chainId(src.chainId);
        vm.expectRevert(err);
        vm.prank(alice);
        src.bridge.send(lane, to, amount, 0);
        _assertUnchanged(before);
    }

    function test_RevertWhen_amountZero() public {
        vm.chainId(HOME);
        vm.prank(alice);
        token.approve(address(home.bridge), type(uint256).max);
        _sendReverts(toRemote, bob, 0, abi.encodeWithSelector(ZeroAmount.selector));
    }

    function test_RevertWhen_amountZeroOnBurnSide() public {
        sendAs(alice, toRemote, alice, 10 * UNIT);
        relay(toRemote);
        _sendReverts(toHome, bob, 0, abi.encodeWithSelector(ZeroAmount.selector));
    }

    function test_sendOneWei_endToEnd() public {
        uint64 seq = sendAs(alice, toRemote, bob, 1);
        assertEq(sentMessage(toRemote, seq).amount, 1, "fee rounds down to 0");
        assertEq(lockedOnHome(), 1);
        assertEq(home.bridge.getLane(toRemote).ownerFees, 0);
        assertEq(home.bridge.getLane(toRemote).validatorFees, 0);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), 1);

        uint256 aliceBefore = token.balanceOf(alice);
        sendAs(bob, toHome, alice, 1);
        relay(toHome);
        assertEq(token.balanceOf(alice), aliceBefore + 1);
        assertEq(lockedOnHome(), 0);
        assertEq(wrapped.totalSupply(), 0);
    }

    function test_sendExactMaximum_endToEnd() public {
        uint64 seq = sendAs(alice, toRemote, bob, MAX);
        uint256 net = _net(MAX);
        assertEq(sentMessage(toRemote, seq).amount, net);
        assertEq(lockedOnHome(), net);
        // At or above the large-transfer threshold: held, then released by anyone after the delay.
        relay(toRemote);
        assertEq(uint8(remote.bridge.getHold(toRemote, seq).status), uint8(HoldStatus.Held));
        assertEq(wrapped.balanceOf(bob), 0);
        vm.warp(block.timestamp + remote.bridge.holdDelay());
        vm.chainId(REMOTE);
        remote.bridge.releaseHold(toRemote, seq);
        assertEq(wrapped.balanceOf(bob), net);
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    function test_RevertWhen_amountAboveMaximumByOne() public {
        vm.chainId(HOME);
        vm.prank(alice);
        token.approve(address(home.bridge), type(uint256).max);
        _sendReverts(toRemote, bob, MAX + 1, abi.encodeWithSelector(AmountAboveMaximum.selector, MAX + 1, MAX));
    }

    function test_RevertWhen_amountUint256Max() public {
        vm.chainId(HOME);
        vm.prank(alice);
        token.approve(address(home.bridge), type(uint256).max);
        _sendReverts(
            toRemote,
            bob,
            type(uint256).max,
            abi.encodeWithSelector(AmountAboveMaximum.selector, type(uint256).max, MAX)
        );
    }

    function test_RevertWhen_amountAboveMaximumOnBurnSide() public {
        // Enough wrapped supply to try: two maximal transfers.
        sendAs(alice, toRemote, alice, MAX);
        sendAs(alice, toRemote, alice, MAX);
        relay(toRemote);
        vm.warp(block.timestamp + remote.bridge.holdDelay());
        vm.chainId(REMOTE);
        remote.bridge.releaseHold(toRemote, 1);
        remote.bridge.releaseHold(toRemote, 2);
        assertGt(wrapped.balanceOf(alice), MAX);
        _sendReverts(toHome, bob, MAX + 1, abi.encodeWithSelector(AmountAboveMaximum.selector, MAX + 1, MAX));
    }

    function test_RevertWhen_recipientZero() public {
        vm.chainId(HOME);
        vm.prank(alice);
        token.approve(address(home.bridge), type(uint256).max);
        _sendReverts(toRemote, address(0), 100 * UNIT, abi.encodeWithSelector(ZeroRecipient.selector));
    }
}
