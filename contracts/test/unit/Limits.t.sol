// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "./UnitBase.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Lane} from "../../src/BridgeBase.sol";
import {Message, RouteParams, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";

contract LimitsTest is UnitBase {
    uint256 internal constant DAY = 1 days;
    uint128 internal constant MIN = uint128(10 * UNIT);
    uint128 internal constant MAX = uint128(1_000 * UNIT);
    uint128 internal constant CAP = uint128(5_000 * UNIT);

    function _params(uint128 min, uint128 max, uint128 cap) internal view returns (RouteParams memory p) {
        p = defaultParams();
        p.minAmount = min;
        p.maxAmount = max;
        p.outboundCapacity = cap;
    }

    function setUp() public override {
        super.setUp();
        setLimitsOn(HOME, _params(MIN, MAX, CAP));
        vm.chainId(HOME);
        vm.prank(alice);
        token.approve(address(home.bridge), type(uint256).max);
    }

    function _send(uint256 amount) internal {
        vm.chainId(HOME);
        vm.prank(alice);
        home.bridge.send(toRemote, bob, amount, 0);
    }

    function _expectRateLimited(uint256 amount, uint256 available, uint256 cap) internal {
        uint256 secs = amount <= available ? 0 : ((amount - available) * DAY + cap - 1) / cap;
        vm.expectRevert(abi.encodeWithSelector(RateLimited.selector, amount, available, secs));
    }

    function test_limitsStoredOnLane() public view {
        Lane memory l = home.bridge.getLane(toRemote);
        assertEq(l.minAmount, MIN);
        assertEq(l.maxAmount, MAX);
        assertEq(l.capacity, CAP);
        assertEq(home.bridge.availableCapacity(toRemote), CAP, "live lane clamped to the new capacity");
    }

    function test_belowMinimum_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(AmountBelowMinimum.selector, MIN - 1, MIN));
        _send(MIN - 1);
        _send(MIN); // the minimum itself is fine
        assertEq(home.bridge.getLane(toRemote).sequence, 1);
    }

    function test_aboveMaximum_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(AmountAboveMaximum.selector, uint256(MAX) + 1, MAX));
        _send(uint256(MAX) + 1);
        _send(MAX);
        assertEq(home.bridge.getLane(toRemote).sequence, 1);
    }

    function test_zeroAmountOrRecipient_reverts() public {
        vm.expectRevert(ZeroAmount.selector);
        _send(0);
        vm.prank(alice);
        vm.expectRevert(ZeroRecipient.selector);
        home.bridge.send(toRemote, address(0), MIN, 0);
    }

    function test_outboundBucket_exhaustedThenRateLimited() public {
        for (uint256 i; i < 5; ++i) {
            _send(MAX);
        }
        assertEq(home.bridge.availableCapacity(toRemote), 0);
        uint256 bal = token.balanceOf(alice);

        // (1000 * 1 day) / 5000 = 17_280 seconds until 1000 fits again
        vm.expectRevert(abi.encodeWithSelector(RateLimited.selector, uint256(MAX), uint256(0), uint256(17_280)));
        _send(MAX);
        assertEq(token.balanceOf(alice), bal, "nothing taken");

        vm.warp(block.timestamp + 17_279);
        uint256 avail = 17_279 * uint256(CAP) / DAY;
        assertEq(home.bridge.availableCapacity(toRemote), avail);
        assertLt(avail, MAX);
        vm.expectPartialRevert(RateLimited.selector);
        _send(MAX);

        vm.warp(block.timestamp + 1);
        _send(MAX);
        assertEq(home.bridge.availableCapacity(toRemote), 0);
        assertEq(home.bridge.getLane(toRemote).sequence, 6);
    }

    /// @dev After a partial refill the reported wait must still be the exact wait: here the
    /// bucket holds floor(17_279 * cap / 1 day) and 1000 units fit one second later.
    function test_rateLimited_secondsUntilExactAfterPartialRefill() public {
        for (uint256 i; i < 5; ++i) {
            _send(MAX);
        }
        vm.warp(block.timestamp + 17_279);
        uint256 avail = 17_279 * uint256(CAP) / DAY;
        vm.expectRevert(abi.encodeWithSelector(RateLimited.selector, uint256(MAX), avail, uint256(1)));
        _send(MAX);
        vm.warp(block.timestamp + 1);
        _send(MAX); // fits after exactly one second
    }

    /// @dev The reported wait is exact: one second earlier the transfer still does not fit,
    /// after waiting it, it does.
    function testFuzz_rateLimited_reportedWaitIsExact(uint256 used, uint256 dt, uint256 amount) public {
        used = bound(used, 0, 5);
        for (uint256 i; i < used; ++i) {
            _send(MAX);
        }
        vm.warp(block.timestamp + bound(dt, 0, 2 days));
        amount = bound(amount, MIN, MAX);
        uint256 avail = home.bridge.availableCapacity(toRemote);
        vm.assume(amount > avail);
        uint256 secs = _reportedWait(amount);
        assertGt(secs, 0, "a transfer that does not fit must wait");
        vm.warp(block.timestamp + secs - 1);
        assertLt(home.bridge.availableCapacity(toRemote), amount, "fits a second early: wait overstated");
        vm.warp(block.timestamp + 1);
        _send(amount);
    }

    function _reportedWait(uint256 amount) internal returns (uint256 secs) {
        vm.chainId(HOME);
        vm.prank(alice);
        (bool ok, bytes memory ret) = address(home.bridge).call(abi.encodeCall(home.bridge.send, (toRemote, bob, amount, 0)));
        assertFalse(ok, "send should have been rate limited");
        assertEq(bytes4(ret), RateLimited.selector, "RateLimited");
        bytes memory args = new bytes(ret.length - 4);
        for (uint256 i; i < args.length; ++i) {
            args[i] = ret[i + 4];
        }
        (,, secs) = abi.decode(args, (uint256, uint256, uint256));
    }

    function test_outboundBucket_refillsLinearly() public {
        for (uint256 i; i < 5; ++i) {
            _send(MAX);
        }
        uint256 t0 = block.timestamp;
        uint256[5] memory steps = [uint256(1), 600, 3_600, 12 hours, DAY - 1];
        for (uint256 i; i < steps.length; ++i) {
            vm.warp(t0 + steps[i]);
            assertEq(home.bridge.availableCapacity(toRemote), steps[i] * CAP / DAY, "linear refill");
        }
        vm.warp(t0 + DAY);
        assertEq(home.bridge.availableCapacity(toRemote), CAP, "full after one day");
        vm.warp(t0 + 3 * DAY);
        assertEq(home.bridge.availableCapacity(toRemote), CAP, "never above capacity");
    }

    function test_raisingCapacityOnLiveLane_grantsNoInstantCapacity() public {
        _send(MAX);
        _send(MAX);
        _send(MAX);
        uint256 left = CAP - 3 * uint256(MAX);
        assertEq(home.bridge.availableCapacity(toRemote), left);

        uint128 bigCap = uint128(50_000 * UNIT);
        setLimitsOn(HOME, _params(MIN, MAX, bigCap));
        assertEq(home.bridge.getLane(toRemote).capacity, bigCap);
        assertEq(home.bridge.availableCapacity(toRemote), left, "no instant capacity");

        _send(MAX);
        _send(MAX);
        _expectRateLimited(MIN, 0, bigCap);
        _send(MIN);

        // it refills at the new rate from here
        vm.warp(block.timestamp + 1 hours);
        assertEq(home.bridge.availableCapacity(toRemote), 1 hours * uint256(bigCap) / DAY);
    }

    function test_loweringCapacityOnLiveLane_clampsAvailable() public {
        _send(MAX);
        setLimitsOn(HOME, _params(MIN, MAX, uint128(2_000 * UNIT)));
        assertEq(home.bridge.availableCapacity(toRemote), 2_000 * UNIT);
        _send(MAX);
        _send(MAX);
        _expectRateLimited(MIN, 0, 2_000 * UNIT);
        _send(MIN);
    }

    function test_invalidLimits_revert() public {
        vm.chainId(HOME);
        RouteParams[3] memory bad = [_params(0, MAX, CAP), _params(MAX + 1, MAX, CAP), _params(MIN, CAP + 1, CAP)];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(tokenOwner);
            vm.expectRevert(InvalidLimits.selector);
            home.registry.setLimits(routeId, bad[i]);
        }
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSignature("NotRouteOwner(address,bytes32)", carol, routeId));
        home.registry.setLimits(routeId, _params(MIN, MAX, CAP));
    }

    function test_inboundBucket_failsAndRefundsInsteadOfReverting() public {
        setInboundCapacity(REMOTE, uint128(1_500 * UNIT));
        uint256 net = netOf(MAX); // 999 units
        sendAs(alice, toRemote, bob, MAX);
        sendAs(alice, toRemote, bob, MAX);
        sendAs(alice, toRemote, carol, MAX);

        Delivery memory d = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, 1, bob, net);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, 2, RateLimited.selector);
        vm.expectEmit(address(remote.bridge));
        emit MessageFailed(toRemote, 3, RateLimited.selector);
        execute(d);
        assertEq(remote.bridge.getLane(toRemote).sequence, 3, "whole batch delivered");
        assertEq(wrapped.balanceOf(bob), net);
        assertEq(wrapped.balanceOf(carol), 0);
        assertEq(remote.bridge.availableCapacity(toRemote), 1_500 * UNIT - net);
        assertEq(sentCount(toHome), 2, "two refunds queued");

        relay(toHome);
        uint256 bal = token.balanceOf(alice);
        Message[] memory seg = batch(toRemote, 0, 3);
        claimAs(alice, toRemote, seg, 1);
        claimAs(alice, toRemote, seg, 2);
        assertEq(token.balanceOf(alice), bal + 2 * net);
        vm.expectRevert(abi.encodeWithSelector(RefundNotApproved.selector, toRemote, hashOf(seg[0])));
        claimAs(alice, toRemote, seg, 0);
        vm.chainId(REMOTE);
        assertEq(wrapped.totalSupply(), lockedOnHome(), "supply == vault");

        // after a refill the inbound lane accepts again
        vm.warp(block.timestamp + 1 days);
        sendAs(alice, toRemote, carol, MAX);
        relay(toRemote);
        assertEq(wrapped.balanceOf(carol), net);
    }

    /// @dev Ghost model of the outbound bucket: arbitrary splits and waits never move more than
    /// capacity + capacity * elapsed / 1 day, and the contract's availability matches the model.
    function testFuzz_bucketNeverExceedsCapacity(uint256 seed) public {
        setLimitsOn(HOME, _params(1, MAX, CAP));
        uint256 start = block.timestamp;
        uint256 level = CAP;
        uint256 updatedAt = block.timestamp;
        uint256 sent;
        for (uint256 i; i < 40; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 dt = r % 5 == 0 ? r % (6 hours) : r % 5 == 1 ? 0 : r % 600;
            uint256 amount = 1 + (r >> 64) % MAX;
            if ((r >> 128) % 3 == 0) amount = 1 + (r >> 64) % (MAX / 100); // many small ones
            vm.warp(block.timestamp + dt);

            uint256 avail = level + (block.timestamp - updatedAt) * CAP / DAY;
            if (avail > CAP) avail = CAP;
            assertEq(home.bridge.availableCapacity(toRemote), avail, "model");
            if (amount > avail) {
                _expectRateLimited(amount, avail, CAP);
                _send(amount);
            } else {
                _send(amount);
                level = avail - amount;
                updatedAt = block.timestamp;
                sent += amount;
            }
            assertLe(sent, CAP + (block.timestamp - start) * CAP / DAY, "flow bound");
        }
        assertEq(home.bridge.getLane(toRemote).locked + home.bridge.getLane(toRemote).ownerFees
            + home.bridge.getLane(toRemote).validatorFees, sent);
    }

    /// @dev The inbound bucket bounds what a whole batch can mint, however it is split.
    function testFuzz_inboundBucketBoundsMinting(uint256 seed) public {
        uint256 inCap = 2_500 * UNIT;
        setInboundCapacity(REMOTE, uint128(inCap));
        uint256 n = 5 + seed % 20;
        for (uint256 i; i < n; ++i) {
            uint256 amount = MIN + uint256(keccak256(abi.encode(seed, i))) % (200 * UNIT - MIN);
            sendAs(alice, toRemote, bob, amount);
        }
        relay(toRemote);
        assertLe(wrapped.totalSupply(), inCap, "minted within the inbound capacity");
        assertEq(remote.bridge.availableCapacity(toRemote), inCap - wrapped.totalSupply());
        // everything not minted is refunded
        uint256 refunded;
        for (uint64 s = 1; s <= sentCount(toHome); ++s) {
            refunded += sentMessage(toHome, s).amount;
        }
        assertEq(refunded + wrapped.totalSupply(), lockedOnHome());
    }
}
