// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "./UnitBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Lane} from "../../src/BridgeBase.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {Message, MessageKind} from "../../src/interfaces/IZeroBridge.sol";
import {FeeOnTransferToken} from "../mocks/Tokens.sol";

contract FeesTest is UnitBase {
    address internal validatorPool = makeAddr("validatorPool");

    function _fee(uint256 received, uint256 feeBps) internal pure returns (uint256) {
        return received * feeBps / 10_000;
    }

    function _validatorCut(uint256 fee, uint256 shareBps) internal pure returns (uint256) {
        return fee * shareBps / 10_000;
    }

    function test_feeSplitAccruesOnLane() public {
        uint256 amount = 1_000 * UNIT;
        uint256 fee = _fee(amount, 10); // 1 unit
        uint256 vCut = _validatorCut(fee, 2_000); // 0.2 unit
        assertEq(fee, 1 * UNIT);
        uint64 seq = sendAs(alice, toRemote, bob, amount);

        Lane memory l = home.bridge.getLane(toRemote);
        assertEq(l.validatorFees, vCut, "validator share");
        assertEq(l.ownerFees, fee - vCut, "owner share");
        assertEq(l.locked, amount - fee, "vault holds the net");
        assertEq(sentMessage(toRemote, seq).amount, amount - fee, "message carries the net");
        assertEq(token.balanceOf(address(home.bridge)), amount, "bridge holds net + fee");

        // a second send accumulates
        sendAs(alice, toRemote, bob, amount);
        l = home.bridge.getLane(toRemote);
        assertEq(l.validatorFees, 2 * vCut);
        assertEq(l.ownerFees, 2 * (fee - vCut));

        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), 2 * (amount - fee), "recipient gets the net");
    }

    function test_claimFees_anyonePaysCollector() public {
        uint256 amount = 1_000 * UNIT;
        uint256 fee = _fee(amount, 10);
        uint256 ownerFee = fee - _validatorCut(fee, 2_000);
        sendAs(alice, toRemote, bob, amount);

        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit FeesClaimed(toRemote, collector, ownerFee);
        vm.prank(carol);
        home.bridge.claimFees(toRemote);
        assertEq(token.balanceOf(collector), ownerFee);
        assertEq(token.balanceOf(carol), 0);
        assertEq(home.bridge.getLane(toRemote).ownerFees, 0);
        assertEq(home.bridge.getLane(toRemote).validatorFees, _validatorCut(fee, 2_000), "validator share untouched");
        assertEq(lockedOnHome(), amount - fee, "vault untouched");

        // nothing left: a second claim pays nothing
        vm.prank(carol);
        home.bridge.claimFees(toRemote);
        assertEq(token.balanceOf(collector), ownerFee);
        assertEq(token.balanceOf(address(home.bridge)), amount - ownerFee);
    }

    function test_claimFees_inboundLaneReverts() public {
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(WrongDirection.selector, toHome));
        home.bridge.claimFees(toHome);
    }

    function test_claimFees_remoteLanePaysWrapped() public {
        sendAs(alice, toRemote, bob, 10_000 * UNIT);
        relay(toRemote);
        uint256 back = 2_000 * UNIT;
        uint256 fee = _fee(back, 10);
        uint256 vCut = _validatorCut(fee, 2_000);
        sendAs(bob, toHome, alice, back);
        Lane memory l = remote.bridge.getLane(toHome);
        assertEq(l.ownerFees, fee - vCut);
        assertEq(l.validatorFees, vCut);
        assertEq(wrapped.balanceOf(address(remote.bridge)), fee, "fee kept as wrapped");

        vm.prank(carol);
        remote.bridge.claimFees(toHome);
        assertEq(wrapped.balanceOf(collector), fee - vCut);
        remote.bridge.withdrawValidatorFees(toHome, validatorPool);
        assertEq(wrapped.balanceOf(validatorPool), vCut);
        assertEq(wrapped.balanceOf(address(remote.bridge)), 0);
    }

    function test_withdrawValidatorFees_onlyFeeDistributor() public {
        uint256 amount = 1_000 * UNIT;
        uint256 vCut = _validatorCut(_fee(amount, 10), 2_000);
        sendAs(alice, toRemote, bob, amount);
        vm.chainId(HOME);

        address[4] memory outsiders = [carol, guardian, tokenOwner, collector];
        for (uint256 i; i < outsiders.length; ++i) {
            vm.prank(outsiders[i]);
            vm.expectRevert(unauthorized(outsiders[i]));
            home.bridge.withdrawValidatorFees(toRemote, outsiders[i]);
        }
        assertEq(home.bridge.getLane(toRemote).validatorFees, vCut);

        vm.expectEmit(address(home.bridge));
        emit ValidatorFeesWithdrawn(toRemote, validatorPool, vCut);
        home.bridge.withdrawValidatorFees(toRemote, validatorPool); // governance holds FEE_DISTRIBUTOR
        assertEq(token.balanceOf(validatorPool), vCut);
        assertEq(home.bridge.getLane(toRemote).validatorFees, 0);
        assertEq(lockedOnHome(), amount - _fee(amount, 10));

        // twice pays nothing more
        home.bridge.withdrawValidatorFees(toRemote, validatorPool);
        assertEq(token.balanceOf(validatorPool), vCut);
    }

    function test_setFee_aboveMaxReverts() public {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(FeeTooHigh.selector, uint16(101), uint16(100)));
        home.registry.setFee(routeId, 101, collector);

        vm.prank(tokenOwner);
        vm.expectEmit(address(home.bridge));
        emit RouteFeeSet(routeId, 100, collector);
        home.registry.setFee(routeId, 100, collector); // the cap itself is allowed
        assertEq(home.bridge.getLane(toRemote).feeBps, 100);
    }

    function test_setFee_nonZeroWithoutCollectorReverts() public {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        vm.expectRevert(ZeroRecipient.selector);
        home.registry.setFee(routeId, 5, address(0));
    }

    function test_setFee_onlyRouteOwner() public {
        vm.chainId(HOME);
        address[3] memory others = [carol, guardian, governance];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotRouteOwner.selector, others[i], routeId));
            home.registry.setFee(routeId, 0, carol);
        }
        // nor directly on the bridge (REGISTRY role only)
        vm.prank(tokenOwner);
        vm.expectRevert(unauthorized(tokenOwner));
        home.bridge.setRouteFee(routeId, 0, carol);
        vm.expectRevert(unauthorized(governance));
        home.bridge.setRouteFee(routeId, 0, carol);
        assertEq(home.bridge.getLane(toRemote).feeBps, 10);
        assertEq(home.bridge.getLane(toRemote).feeCollector, collector);
    }

    function test_newFeeAndCollectorApply() public {
        address newCollector = makeAddr("newCollector");
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        home.registry.setFee(routeId, 50, newCollector);
        uint256 amount = 10_000 * UNIT;
        sendAs(alice, toRemote, bob, amount);
        uint256 fee = _fee(amount, 50);
        assertEq(sentMessage(toRemote, 1).amount, amount - fee);
        home.bridge.claimFees(toRemote);
        assertEq(token.balanceOf(newCollector), fee - _validatorCut(fee, 2_000));
        assertEq(token.balanceOf(collector), 0);
    }

    function test_zeroFee_nothingAccrues() public {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        home.registry.setFee(routeId, 0, address(0));
        sendAs(alice, toRemote, bob, 777 * UNIT);
        Lane memory l = home.bridge.getLane(toRemote);
        assertEq(l.ownerFees, 0);
        assertEq(l.validatorFees, 0);
        assertEq(l.locked, 777 * UNIT);
    }

    function test_feePolicy_governanceOnly() public {
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        vm.expectRevert(unauthorized(tokenOwner));
        home.bridge.setFeePolicy(1_000, 0);
        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        home.bridge.setFeePolicy(1_000, 0);
        vm.expectRevert(abi.encodeWithSelector(FeeTooHigh.selector, uint16(10_001), uint16(10_000)));
        home.bridge.setFeePolicy(10_001, 0);

        vm.expectEmit(address(home.bridge));
        emit FeePolicySet(50, 5_000);
        home.bridge.setFeePolicy(50, 5_000);
        vm.prank(tokenOwner);
        vm.expectRevert(abi.encodeWithSelector(FeeTooHigh.selector, uint16(60), uint16(50)));
        home.registry.setFee(routeId, 60, collector);

        uint256 amount = 1_000 * UNIT;
        sendAs(alice, toRemote, bob, amount);
        uint256 fee = _fee(amount, 10);
        assertEq(home.bridge.getLane(toRemote).validatorFees, fee / 2);
        assertEq(home.bridge.getLane(toRemote).ownerFees, fee - fee / 2);
    }

    function testFuzz_feeMath(uint256 amount, uint16 feeBps, uint16 shareBps) public {
        amount = bound(amount, 1, 100_000 * UNIT);
        feeBps = uint16(bound(feeBps, 0, 100));
        shareBps = uint16(bound(shareBps, 0, 10_000));
        vm.chainId(HOME);
        home.bridge.setFeePolicy(100, shareBps);
        vm.prank(tokenOwner);
        home.registry.setFee(routeId, feeBps, collector);

        uint64 seq = sendAs(alice, toRemote, bob, amount);
        uint256 fee = _fee(amount, feeBps);
        uint256 vCut = _validatorCut(fee, shareBps);
        Message memory m = sentMessage(toRemote, seq);
        Lane memory l = home.bridge.getLane(toRemote);
        assertEq(m.amount + fee, amount, "net + fee == received");
        assertEq(l.locked, m.amount);
        assertEq(uint256(l.validatorFees) + l.ownerFees, fee, "shares add up");
        assertEq(l.validatorFees, vCut);
        assertEq(token.balanceOf(address(home.bridge)), l.locked + l.ownerFees + l.validatorFees);
        assertLe(fee, amount / 100, "never above the cap");
    }

    function testFuzz_feeMath_feeOnTransferToken(uint256 amount) public {
        amount = bound(amount, 100, 100_000 * UNIT);
        vm.chainId(HOME);
        FeeOnTransferToken fot = new FeeOnTransferToken(tokenOwner);
        (bytes32 fotRoute,) = _openRoute(address(fot), defaultParams());
        _installAndActivate(fotRoute, makeSet("validators", 4, 3));
        bytes32 lane = home.bridge.getRoute(fotRoute).outboundLane;
        vm.chainId(HOME);
        fot.mint(alice, amount);

        uint64 seq = sendAs(alice, lane, bob, amount);
        uint256 received = amount - amount / 100;
        uint256 fee = _fee(received, 10);
        Lane memory l = home.bridge.getLane(lane);
        assertEq(sentMessage(lane, seq).amount + fee, received, "fee on the received amount");
        assertEq(l.locked + l.ownerFees + l.validatorFees, received);
        assertEq(fot.balanceOf(address(home.bridge)), received, "accounting equals the balance");
        assertEq(l.validatorFees, _validatorCut(fee, 2_000));
    }
}
