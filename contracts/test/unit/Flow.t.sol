// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {Message, MessageKind} from "../../src/interfaces/IZeroBridge.sol";

contract FlowTest is BridgeFixture {
    function test_roundTrip_lockMintBurnRelease() public {
        uint256 amount = 1_000 * UNIT;
        uint256 fee = amount * 10 / 10_000;
        sendAs(alice, toRemote, bob, amount);
        assertEq(token.balanceOf(alice), 1_000_000 * UNIT - amount);
        assertEq(lockedOnHome(), amount - fee);

        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), amount - fee);
        assertEq(wrapped.totalSupply(), amount - fee);

        uint256 back = 400 * UNIT;
        uint256 backFee = back * 10 / 10_000;
        sendAs(bob, toHome, alice, back);
        relay(toHome);
        assertEq(token.balanceOf(alice), 1_000_000 * UNIT - amount + back - backFee);
        // the return fee stays on remote as wrapped tokens held by the bridge
        assertEq(wrapped.balanceOf(address(remote.bridge)), backFee);
        assertEq(lockedOnHome(), amount - fee - (back - backFee));
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    function test_batchDelivery_executesEachMessageOnce() public {
        for (uint256 i; i < 10; ++i) {
            sendAs(alice, toRemote, address(uint160(0x1000 + i)), 10 * UNIT);
        }
        relay(toRemote);
        for (uint256 i; i < 10; ++i) {
            assertGt(wrapped.balanceOf(address(uint160(0x1000 + i))), 0);
        }
        assertEq(remote.bridge.getLane(toRemote).sequence, 10);
        assertEq(remote.bridge.getLane(toRemote).accumulator, home.bridge.getLane(toRemote).accumulator);
    }

    function test_sentMessageCarriesEverything() public {
        uint64 seq = sendAs(alice, toRemote, bob, 100 * UNIT);
        Message memory m = sentMessage(toRemote, seq);
        assertEq(m.kind, MessageKind.TRANSFER);
        assertEq(m.sender, alice);
        assertEq(m.recipient, bob);
        assertEq(m.amount, 100 * UNIT - 100 * UNIT * 10 / 10_000);
    }
}
