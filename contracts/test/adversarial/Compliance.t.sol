// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdversarialBase} from "./AdversarialBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Message, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";
import {BridgeRoles} from "../../src/libraries/BridgeRoles.sol";

/// @notice Compliance keys are not trusted with funds: a compromised regulator or compliance
/// issuer can refuse transfers (they are refunded) and delay claims, but cannot move, strand or
/// redirect funds, and a freeze cannot be bypassed with an attestation.
contract ComplianceAdversarialTest is AdversarialBase {
    uint256 internal constant AMOUNT = 1_000 * UNIT;

    address internal regulator = makeAddr("regulator");
    address internal issuer = makeAddr("issuer");
    address internal mallory = makeAddr("mallory");

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 2; ++i) {
            Deployment memory c = i == 0 ? home : remote;
            vm.chainId(c.chainId);
            c.manager.grantRole(BridgeRoles.REGULATOR, regulator, 0);
            c.manager.grantRole(BridgeRoles.COMPLIANCE_ISSUER, issuer, 0);
        }
    }

    function _freeze(Deployment memory c, address account) internal {
        vm.chainId(c.chainId);
        vm.prank(regulator);
        c.bridge.freeze(account);
    }

    /// @dev Relays the pending refunds home and claims every approved one (anyone may claim).
    function _claimAll() internal {
        relay(toHome);
        uint64 head = uint64(sentCount(toRemote));
        Message[] memory seg = batch(toRemote, 0, head);
        vm.chainId(HOME);
        for (uint64 i; i < head; ++i) {
            if (_refundStatusOf(home.bridge, toRemote, _hash(seg[i])) == RefundStatus.Approved) {
                vm.prank(mallory);
                home.bridge.claimRefund(toRemote, seg, i);
            }
        }
    }

    function test_compromisedRegulator_freezingEveryone_movesNoFunds() public {
        uint64 s1 = sendAs(alice, toRemote, bob, AMOUNT);
        uint64 s2 = sendAs(alice, toRemote, carol(), AMOUNT);
        uint256 locked = lockedOnHome();
        uint256 vault = token.balanceOf(address(home.bridge));

        // the regulator freezes every party, including the bridges themselves
        address[5] memory everyone = [alice, bob, carol(), address(home.bridge), address(remote.bridge)];
        for (uint256 i; i < everyone.length; ++i) {
            _freeze(home, everyone[i]);
            _freeze(remote, everyone[i]);
        }
        relay(toRemote); // both fail, both refunds queued
        assertEq(wrapped.totalSupply(), 0, "nothing minted");
        assertEq(sentCount(toHome), 2);
        relay(toHome);

        // alice is frozen on home: the refunds wait, approved
        Message[] memory seg = batch(toRemote, 0, s2);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(FrozenAccount.selector, alice));
        home.bridge.claimRefund(toRemote, seg, s1 - 1);
        assertEq(lockedOnHome(), locked, "vault accounting untouched");
        assertEq(token.balanceOf(address(home.bridge)), vault, "vault balance untouched");
        assertEq(token.balanceOf(regulator), 0);

        // governance replaces the regulator key; the account is unfrozen; everything is claimable
        vm.chainId(HOME);
        home.manager.revokeRole(BridgeRoles.REGULATOR, regulator);
        address newRegulator = makeAddr("newRegulator");
        home.manager.grantRole(BridgeRoles.REGULATOR, newRegulator, 0);
        vm.prank(newRegulator);
        home.bridge.unfreeze(alice);
        _claimAll();
        assertEq(token.balanceOf(alice), 1_000_000 * UNIT - 2 * AMOUNT + 2 * _net(AMOUNT), "alice whole but the fee");
        assertEq(lockedOnHome(), 0);
        assertEq(wrapped.totalSupply(), lockedOnHome(), "conservation");
    }

    function test_refundOfFrozenRecipientTransfer_paysOnlyTheSender_once() public {
        _freeze(remote, bob);
        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        relay(toRemote);
        relay(toHome);
        Message[] memory seg = batch(toRemote, 0, seq);
        bytes32 h = _hash(seg[0]);

        uint256 before = token.balanceOf(alice);
        vm.chainId(HOME);
        vm.prank(mallory);
        home.bridge.claimRefund(toRemote, seg, 0);
        assertEq(token.balanceOf(alice), before + _net(AMOUNT), "the sender is paid");
        assertEq(token.balanceOf(mallory), 0, "the caller is not");

        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, h));
        home.bridge.claimRefund(toRemote, seg, 0);

        // a segment whose message names mallory as the sender is not a message the bridge sent
        seg[0].sender = mallory;
        vm.prank(mallory);
        vm.expectRevert(InvalidProof.selector);
        home.bridge.claimRefund(toRemote, seg, 0);
    }

    function test_attestationCannotBypassFreeze() public {
        vm.chainId(HOME);
        home.bridge.setRouteAllowlist(routeId, true);
        vm.chainId(REMOTE);
        remote.bridge.setRouteAllowlist(routeId, true);
        uint64 until = uint64(block.timestamp + 1 days);
        address[2] memory parties = [alice, bob];
        for (uint256 i; i < 2; ++i) {
            vm.chainId(HOME);
            vm.prank(issuer);
            home.bridge.attest(parties[i], until);
            vm.chainId(REMOTE);
            vm.prank(issuer);
            remote.bridge.attest(parties[i], until);
        }
        _freeze(remote, bob);
        vm.chainId(REMOTE);
        vm.prank(issuer);
        remote.bridge.attest(bob, until + 1); // re-attesting does not unfreeze

        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT);
        Message memory m = sentMessage(toRemote, seq);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), 0, "frozen recipient not paid");
        assertEq(sentCount(toHome), 1, "refunded");
        assertEq(sentMessage(toHome, 1).data, _hash(m));
    }

    function test_allowlistTurnedOnMidFlight_refundsInsteadOfStranding() public {
        uint64 seq = sendAs(alice, toRemote, bob, AMOUNT); // sent on an open route
        vm.chainId(REMOTE);
        remote.bridge.setRouteAllowlist(routeId, true); // destination tightens before delivery
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), 0);
        assertEq(remote.bridge.getLane(toRemote).sequence, seq, "lane not blocked");
        _claimAll();
        assertEq(token.balanceOf(alice), 1_000_000 * UNIT - AMOUNT + _net(AMOUNT));
        assertEq(lockedOnHome(), 0);
    }

    /// @dev Any pattern of frozen recipients: every transfer is either paid or refunded, and the
    /// wrapped supply stays equal to the home vault.
    function testFuzz_frozenRecipients_everyTransferPaidOrRefunded(uint8 frozenMask, uint8 pattern) public {
        address[4] memory recipients = [bob, carol(), makeAddr("dave"), makeAddr("erin")];
        for (uint256 i; i < 4; ++i) {
            if (frozenMask & (1 << i) != 0) _freeze(remote, recipients[i]);
        }
        uint256 n = 6;
        uint256 paidExpected;
        for (uint256 i; i < n; ++i) {
            uint256 r = (uint256(pattern) >> (i % 8)) % 4;
            sendAs(alice, toRemote, recipients[r], AMOUNT);
            if (frozenMask & (1 << r) == 0) paidExpected += _net(AMOUNT);
        }
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).sequence, n, "all delivered");
        assertEq(wrapped.totalSupply(), paidExpected, "only unfrozen recipients paid");
        _claimAll();
        uint256 refunded = n * _net(AMOUNT) - paidExpected;
        assertEq(token.balanceOf(alice), 1_000_000 * UNIT - n * AMOUNT + refunded, "every refusal refunded");
        assertEq(wrapped.totalSupply(), lockedOnHome(), "conservation");
    }

    function carol() internal returns (address) {
        return makeAddr("carol");
    }

    function _refundStatusOf(ZeroBridge b, bytes32 lane, bytes32 messageHash)
        internal
        view
        returns (RefundStatus status)
    {
        (status,) = b.refunds(lane, messageHash);
    }
}
