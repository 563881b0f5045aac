// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "../unit/UnitBase.sol";
import {LivenessPolicy} from "../../src/BridgeBase.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice The fixture route with a liveness policy and a fallback set on both chains: a fallback
/// delivery is due DELAY after its newest message was sent, three strikes put the route into
/// Emergency on the chain that counted them, and the Emergency grace lasts GRACE. The primary set
/// "stops" in a test simply by the test never calling `relay` again.
abstract contract LivenessBase is UnitBase {
    uint256 internal constant T0 = 1_750_000_000;
    uint32 internal constant DELAY = 6 hours;
    uint32 internal constant GRACE = 2 days;
    uint16 internal constant STRIKE_LIMIT = 3;
    uint256 internal constant SMALL = 1_000 * UNIT; // net 999, far below the hold threshold

    function setUp() public virtual override {
        vm.warp(T0);
        super.setUp();
        setPolicy(HOME, policy(0));
        setPolicy(REMOTE, policy(0));
        installFallback(HOME, encodeSet(fallbackSet()));
        installFallback(REMOTE, encodeSet(fallbackSet()));
    }

    /// @notice The fallback operators of both lanes (threshold 2 of 3), unrelated to the primary set.
    function fallbackSet() internal pure returns (ValidatorSet memory) {
        return makeSet("fallback", 3, 2);
    }

    function policy(uint32 defaultTimeout) internal pure returns (LivenessPolicy memory) {
        return LivenessPolicy({
            defaultTimeout: defaultTimeout,
            fallbackDelay: DELAY,
            emergencyGrace: GRACE,
            strikeLimit: STRIKE_LIMIT
        });
    }

    function chain(uint64 chainId) internal view returns (Deployment memory) {
        return chainId == HOME ? home : remote;
    }

    function setPolicy(uint64 chainId, LivenessPolicy memory p) internal {
        vm.chainId(chainId);
        chain(chainId).bridge.setLivenessPolicy(routeId, p);
    }

    function installFallback(uint64 chainId, bytes memory encoded) internal {
        vm.chainId(chainId);
        vm.prank(setManager);
        chain(chainId).bridge.setFallbackSet(routeId, encoded);
    }

    /// @notice Like `sendAs`, with an explicit deadline (0 = the route's default).
    function sendBy(address from, bytes32 lane, address to, uint256 amount, uint64 deadline)
        internal
        returns (uint64 seq)
    {
        Deployment memory c = srcChain(lane);
        vm.chainId(c.chainId);
        address laneToken = c.bridge.getLane(lane).token;
        vm.startPrank(from);
        OwnedToken(laneToken).approve(address(c.bridge), amount);
        seq = c.bridge.send(lane, to, amount, deadline);
        vm.stopPrank();
        captureLogs();
    }

    /// @notice Everything pending on `lane` up to `upTo`, signed by the fallback set.
    function prepareFallback(bytes32 lane, uint64 upTo) internal returns (Delivery memory) {
        return prepareToWith(lane, upTo, fallbackSet());
    }

    function fallbackTo(bytes32 lane, uint64 upTo) internal {
        executeByFallback(prepareFallback(lane, upTo));
    }

    /// @notice Bob gets wrapped tokens on remote while the primary set still relays.
    function fundBob(uint256 amount) internal {
        sendAs(alice, toRemote, bob, amount);
        relay(toRemote);
    }

    function strikesOn(uint64 chainId) internal view returns (uint16) {
        return chain(chainId).bridge.getRoute(routeId).strikes;
    }

    function statusOf(uint64 chainId, bytes32 lane) internal view returns (uint8) {
        return uint8(chain(chainId).bridge.getLane(lane).status);
    }
}
