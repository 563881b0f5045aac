// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingBase} from "../staking/StakingBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {LivenessPolicy} from "../../src/BridgeBase.sol";
import {Checkpoint, Message} from "../../src/interfaces/IZeroBridge.sol";

/// @notice The staked fallback path: operators 3..5 form the fallback group of the home -> remote
/// lane on the home stake manager, their snapshot is copied to remote, and what they sign is
/// backed by their locked stake and slashable on home like a primary signature. Short periods
/// (as in the staking audit tests) so that the lock, not the unbonding period, decides.
contract FallbackStakeTest is StakingBase {
    uint64 internal constant D_EPOCH = 120;
    uint64 internal constant D_UNBONDING = 600;
    uint64 internal constant D_DETECTION = 300;
    uint64 internal constant D_LIFETIME = 1 days;
    uint32 internal constant DELAY = 6 hours;

    function stakeConfig() internal view override returns (StakeManager.Config memory c) {
        c = super.stakeConfig();
        c.epochLength = D_EPOCH;
        c.unbondingPeriod = D_UNBONDING;
        c.detectionWindow = D_DETECTION;
        c.setLifetime = D_LIFETIME;
    }

    function setUp() public override {
        super.setUp();
        bootstrap();
        for (uint256 i = 3; i < 6; ++i) {
            register(homeStake, i);
            depositNative(homeStake, i, (i - 2) * 10 ether);
            vm.prank(ops[i]);
            homeStake.optInFallback(toRemote, (i - 2) * 10 ether);
        }
    }

    /// @dev The fallback snapshot as committed now (expectedSet assumes the default lifetime).
    function _expectedFallback() internal view returns (ValidatorSet memory f) {
        f = expectedSet(idx(3, 4, 5), ws(10 ether, 20 ether, 30 ether));
        f.validUntil = uint64(block.timestamp) + D_LIFETIME;
    }

    /// @dev Anyone commits the fallback group on home; governance copies it to remote.
    function _commitAndInstall() internal returns (ValidatorSet memory f) {
        f = _expectedFallback();
        bytes memory encoded = encodeSet(f);
        vm.chainId(HOME);
        vm.expectEmit(address(homeStake));
        emit StakeManager.FallbackSetCommitted(toRemote, keccak256(encoded), encoded);
        vm.prank(stranger);
        assertEq(homeStake.commitFallbackSet(toRemote), keccak256(encoded));
        assertEq(homeStake.getSnapshot(homeStake.fallbackKey(toRemote)).setHash, keccak256(encoded));
        assertEq(homeStake.getSnapshot(toRemote).setHash, keccak256(encodeSet(currentSet(toRemote))), "primary untouched");

        vm.chainId(REMOTE);
        remoteStake.installFallbackSet(routeId, encoded);
        remote.bridge.setLivenessPolicy(
            routeId,
            LivenessPolicy({defaultTimeout: 0, fallbackDelay: DELAY, emergencyGrace: 1 days, strikeLimit: 3})
        );
        assertEq(remote.bridge.getRoute(routeId).fallbackSetHash, keccak256(encoded));
    }

    function test_commitFallbackSet_locksStake() public {
        ValidatorSet memory f = _commitAndInstall();
        uint64 until = f.validUntil + D_DETECTION;
        (uint256 weight, uint64 lockedUntil) = homeStake.lockedStake(ops[3]);
        assertEq(weight, 10 ether, "locked weight");
        assertEq(lockedUntil, until, "until expiry + detection window");

        unbond(homeStake, 3, 10 ether);
        vm.warp(block.timestamp + D_UNBONDING);
        vm.prank(ops[3]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StakeLocked.selector, 10 ether, until));
        homeStake.withdraw();

        vm.warp(until);
        uint256 before = ops[3].balance;
        vm.prank(ops[3]);
        homeStake.withdraw();
        assertEq(ops[3].balance, before + 10 ether, "free once the set can no longer be used");
    }

    function test_installFallbackSet_expiryBounded_governanceOnly() public {
        ValidatorSet memory f = _expectedFallback();
        uint64 latest = uint64(block.timestamp) + D_LIFETIME + D_DETECTION;
        f.validUntil = latest + 1;
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.SetLifetimeTooLong.selector, latest + 1, latest));
        remoteStake.installFallbackSet(routeId, encodeSet(f));

        f.validUntil = latest;
        vm.prank(stranger);
        vm.expectRevert(unauthorized(stranger));
        remoteStake.installFallbackSet(routeId, encodeSet(f));
    }

    function test_forgedFallbackCheckpoint_refusedOnChain_slashableOnSource() public {
        ValidatorSet memory f = _commitAndInstall();
        sendMany(1);
        vm.warp(block.timestamp + DELAY);

        Checkpoint memory cp = forged(1);
        bytes32 real = home.bridge.accumulatorAt(toRemote, 1);
        bytes memory sigs = quorumSignatures(f, digestOf(homeDomain(), cp));
        Message[] memory msgs = batch(toRemote, 0, 1);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(AccumulatorMismatch.selector, cp.accumulator, real));
        remote.bridge.deliverByFallback(cp, encodeSet(f), sigs, msgs);

        // The same signature is evidence on the source chain.
        uint256 poolBefore = homeStake.compensationPool(toRemote);
        bytes32 id = slashAs(reporter, 3, cp, noProof());
        assertEq(id, evidenceIdOf(homeDomain(), cp, signers[3]));
        StakeManager.Operator memory op = homeStake.getOperator(ops[3]);
        assertTrue(op.jailed, "jailed");
        assertTrue(op.fraudProven, "fraud proven");
        assertEq(op.active, 0, "slashed in full");
        assertEq(homeStake.compensationPool(toRemote), poolBefore + 9 ether, "less the reporter share");
        (address evidenceOperator,,,,,,) = homeStake.evidence(id);
        assertEq(evidenceOperator, ops[3]);

        // The honest fallback checkpoint delivers, and is no evidence.
        Delivery memory d = prepareToWith(toRemote, 1, f);
        executeByFallback(d);
        assertEq(wrapped.balanceOf(bob), netOf(1_000 * UNIT));
        assertEq(remote.bridge.getRoute(routeId).strikes, 1);
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[4], homeDomain(), d.cp);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, uint64(1)));
        homeStake.slash(d.cp, r, vs, noProof());
    }

    function test_slashEmergencyBond_onceIntoCompensationPool() public {
        vm.chainId(HOME);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.RouteNotInEmergency.selector, routeId));
        home.registry.slashEmergencyBond(routeId);

        home.bridge.declareEmergency(routeId);
        uint256 poolBefore = homeStake.compensationPool(toRemote);
        uint256 registryBefore = address(home.registry).balance;
        vm.expectEmit(address(home.registry));
        emit RouteRegistry.BondSlashed(routeId, address(homeStake), 1 ether);
        vm.prank(stranger);
        home.registry.slashEmergencyBond(routeId);
        assertEq(homeStake.compensationPool(toRemote), poolBefore + 1 ether, "bond in the pool");
        assertEq(address(home.registry).balance, registryBefore - 1 ether);
        assertEq(home.registry.getRoute(routeId).bond, 0);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NoBond.selector, routeId));
        home.registry.slashEmergencyBond(routeId);
        assertEq(homeStake.compensationPool(toRemote), poolBefore + 1 ether, "exactly once");

        // The remote record holds no bond.
        vm.chainId(REMOTE);
        remote.bridge.declareEmergency(routeId);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NoBond.selector, routeId));
        remote.registry.slashEmergencyBond(routeId);
    }
}
