// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingBase} from "./StakingBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {RouteStatus} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Epoch snapshots: which operators become a lane's validator set, with which weights and
/// threshold, when a snapshot may be committed, and route activation at its security level.
contract EpochsTest is StakingBase {
    function _assertSnapshot(bytes32 lane, ValidatorSet memory expected, uint256[] memory opIdx) internal view {
        StakeManager.Snapshot memory snap = homeStake.getSnapshot(lane);
        assertTrue(snap.committed, "committed");
        assertEq(snap.members.length, expected.members.length, "member count");
        uint256 total;
        for (uint256 i; i < snap.members.length; ++i) {
            assertEq(snap.members[i].signer, expected.members[i], "signer order");
            assertEq(snap.members[i].weight, expected.weights[i], "weight");
            if (i > 0) {
                assertGt(uint160(snap.members[i].signer), uint160(snap.members[i - 1].signer), "ascending by signer");
            }
            total += snap.members[i].weight;
        }
        // every member's operator is one of the expected operators, and carries its signer
        for (uint256 i; i < snap.members.length; ++i) {
            bool found;
            for (uint256 j; j < opIdx.length; ++j) {
                if (snap.members[i].operator == ops[opIdx[j]]) {
                    assertEq(snap.members[i].signer, signers[opIdx[j]], "operator/signer pair");
                    found = true;
                }
            }
            assertTrue(found, "unexpected operator in snapshot");
        }
        assertEq(snap.totalWeight, total, "total weight");
        assertEq(snap.threshold, expected.threshold, "threshold");
        assertEq(snap.setHash, keccak256(encodeSet(expected)), "set hash = hash of the set encoding");
    }

    // ---------------------------------------------------------------------------------------
    // Selection
    // ---------------------------------------------------------------------------------------

    function test_commit_topNByStake_sortedBySigner() public {
        // six operators with 5..30 ether; the lane takes the four heaviest
        for (uint256 i; i < 6; ++i) {
            join(homeStake, i, toRemote, (i + 1) * 5 ether);
        }
        uint256[] memory chosen = idx(2, 3, 4, 5);
        ValidatorSet memory expected = expectedSet(chosen, ws(15 ether, 20 ether, 25 ether, 30 ether));
        bytes memory encoded = encodeSet(expected);
        assertEq(expected.threshold, 60 ether); // 2/3 of 90

        vm.chainId(HOME);
        vm.expectEmit(address(homeStake));
        emit StakeManager.EpochCommitted(
            toRemote, 0, keccak256(encoded), 90 ether, 60 ether, 4, uint64(block.timestamp) + LIFETIME
        );
        vm.expectEmit(address(home.bridge));
        emit ValidatorSetInstalled(toRemote, keccak256(encoded), encoded);
        vm.prank(stranger);
        bytes32 setHash = homeStake.commitEpoch(toRemote);

        assertEq(setHash, keccak256(encoded));
        _assertSnapshot(toRemote, expected, chosen);
        assertEq(homeStake.getSnapshot(toRemote).epoch, 0);
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, setHash, "installed on the Pending lane");
        (uint256 stake, uint256 validators, uint256 quorumLoss) = homeStake.laneSecurity(toRemote);
        assertEq(stake, 90 ether);
        assertEq(validators, 4);
        // slashBps = 100%: a forging quorum loses at least the threshold, less the 10% reporter
        // share it could win back by reporting itself from fresh addresses
        assertEq(quorumLoss, 54 ether);
    }

    function test_commit_weightIsAllocationCappedByActiveStake() public {
        join(homeStake, 0, toRemote, 10 ether);
        unbond(homeStake, 0, 6 ether); // allocation 10, active 4
        register(homeStake, 1);
        depositNative(homeStake, 1, 10 ether);
        optIn(homeStake, 1, toRemote, 3 ether); // allocation 3, active 10
        commit(toRemote);
        _assertSnapshot(toRemote, expectedSet(idx(0, 1), ws(4 ether, 3 ether)), idx(0, 1));
        assertEq(homeStake.allocation(ops[0], toRemote), 10 ether, "allocation itself is kept");
    }

    function test_commit_minStakeFilter() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        optIn(homeStake, 0, toRemote, MIN_STAKE);
        unbond(homeStake, 0, 10 ether - MIN_STAKE + 1); // active below the minimum: not counted
        join(homeStake, 1, toRemote, MIN_STAKE); // exactly the minimum: counted
        join(homeStake, 2, toRemote, 5 ether);
        unbond(homeStake, 2, 5 ether - MIN_STAKE + 1); // active falls below the minimum
        commit(toRemote);
        _assertSnapshot(toRemote, expectedSet(idx(1), ws(MIN_STAKE)), idx(1));
    }

    function test_commit_tieAtTheCut_lowerSignerWins() public {
        for (uint256 i; i < 5; ++i) {
            join(homeStake, i, toRemote, 10 ether);
        }
        // the one with the highest signer address is left out
        uint256 highest;
        for (uint256 i = 1; i < 5; ++i) {
            if (signers[i] > signers[highest]) highest = i;
        }
        uint256[] memory chosen = new uint256[](4);
        uint256 k;
        for (uint256 i; i < 5; ++i) {
            if (i != highest) chosen[k++] = i;
        }
        commit(toRemote);
        _assertSnapshot(toRemote, expectedSet(chosen, ws(10 ether, 10 ether, 10 ether, 10 ether)), chosen);
    }

    function test_commit_jailedCandidateSkipped() public {
        join(homeStake, 0, toRemote, 50 ether);
        join(homeStake, 1, toRemote, 10 ether);
        homeStake.jail(ops[0]);
        commit(toRemote);
        _assertSnapshot(toRemote, expectedSet(idx(1), ws(10 ether)), idx(1));
    }

    /// @dev threshold = ceil(2/3 * total) for any stakes; the bridge accepts the set as encoded.
    function testFuzz_commit_thresholdIsCeilTwoThirds(uint96[4] memory stakes, uint8 count) public {
        uint256 n = bound(count, 1, 4);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            uint256 s = bound(stakes[i], MIN_STAKE, 1_000_000 ether);
            join(homeStake, i, toRemote, s);
            total += s;
        }
        commit(toRemote);
        StakeManager.Snapshot memory snap = homeStake.getSnapshot(toRemote);
        assertEq(snap.totalWeight, total);
        assertGe(uint256(snap.threshold) * 3, total * 2, "threshold >= 2/3");
        assertLt((uint256(snap.threshold) - 1) * 3, total * 2, "threshold is the least such weight");
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, snap.setHash);
        assertEq(keccak256(encodeSet(snapshotSet(homeStake, toRemote))), snap.setHash);
    }

    function test_RevertWhen_noEligibleValidators() public {
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NoEligibleValidators.selector, toRemote));
        homeStake.commitEpoch(toRemote);

        // only a candidate under the minimum
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        optIn(homeStake, 0, toRemote, MIN_STAKE);
        unbond(homeStake, 0, 10 ether - MIN_STAKE / 2);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NoEligibleValidators.selector, toRemote));
        homeStake.commitEpoch(toRemote);

        // only a jailed candidate
        join(homeStake, 1, toRemote, 10 ether);
        homeStake.jail(ops[1]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NoEligibleValidators.selector, toRemote));
        homeStake.commitEpoch(toRemote);
        assertFalse(homeStake.getSnapshot(toRemote).committed);
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, bytes32(0));
    }

    function test_RevertWhen_commitInboundOrUnknownLane() public {
        join(homeStake, 0, toRemote, 10 ether);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotAnOutboundLane.selector, toHome));
        homeStake.commitEpoch(toHome);
        bytes32 unknown = keccak256("nowhere");
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotAnOutboundLane.selector, unknown));
        homeStake.commitEpoch(unknown);
    }

    // ---------------------------------------------------------------------------------------
    // When a snapshot may be committed
    // ---------------------------------------------------------------------------------------

    function test_commit_pendingRouteMayRecommitWithinAnEpoch() public {
        join(homeStake, 0, toRemote, 10 ether);
        join(homeStake, 1, toRemote, 20 ether);
        bytes32 first = commit(toRemote);

        join(homeStake, 2, toRemote, 30 ether);
        ValidatorSet memory expected = expectedSet(idx(0, 1, 2), ws(10 ether, 20 ether, 30 ether));
        bytes memory encoded = encodeSet(expected);
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit ValidatorSetInstalled(toRemote, keccak256(encoded), encoded);
        bytes32 second = homeStake.commitEpoch(toRemote);

        assertTrue(first != second);
        assertEq(homeStake.currentEpoch(), 0);
        assertEq(homeStake.getSnapshot(toRemote).epoch, 0);
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, keccak256(encoded));
        assertEq(home.bridge.getLane(toRemote).sequence, 0, "no SET_UPDATE message while Pending");
    }

    function test_RevertWhen_epochAlreadyCommittedOnActiveRoute() public {
        bootstrap(); // committed in epoch 0, then activated
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.EpochAlreadyCommitted.selector, toRemote, 0));
        homeStake.commitEpoch(toRemote);

        warpToEpoch(1);
        vm.warp(block.timestamp - 1); // last second of epoch 0
        vm.expectRevert(abi.encodeWithSelector(StakeManager.EpochAlreadyCommitted.selector, toRemote, 0));
        homeStake.commitEpoch(toRemote);

        vm.warp(block.timestamp + 1);
        bytes32 setHash = homeStake.commitEpoch(toRemote);
        assertEq(homeStake.getSnapshot(toRemote).epoch, 1);
        // same stake, same set: nothing to send
        assertEq(setHash, home.bridge.getLane(toRemote).validatorSetHash);
        assertEq(home.bridge.getLane(toRemote).sequence, 0, "unchanged set queues no SET_UPDATE");

        vm.expectRevert(abi.encodeWithSelector(StakeManager.EpochAlreadyCommitted.selector, toRemote, 1));
        homeStake.commitEpoch(toRemote);
        // the other chain's lane has its own epochs
        vm.chainId(REMOTE);
        remoteStake.commitEpoch(toHome);
    }

    function test_commit_skippedEpochsAreFine() public {
        bootstrap();
        warpToEpoch(7);
        commit(toRemote);
        assertEq(homeStake.getSnapshot(toRemote).epoch, 7);
    }

    // ---------------------------------------------------------------------------------------
    // Activation at the route's security level
    // ---------------------------------------------------------------------------------------

    function _prepareActivation() internal {
        for (uint256 i; i < 3; ++i) {
            join(homeStake, i, toRemote, (i + 1) * 10 ether);
            join(remoteStake, i, toHome, (i + 1) * 10 ether);
        }
        commit(toRemote);
        commit(toHome);
        vm.chainId(HOME);
        homeStake.installInboundSet(toHome, encodeSet(snapshotSet(remoteStake, toHome)));
        vm.chainId(REMOTE);
        remoteStake.installInboundSet(toRemote, encodeSet(snapshotSet(homeStake, toRemote)));
    }

    function test_activation_refusedBelowSecurityLevel_allowedOnceMet() public {
        _prepareActivation(); // 60 ether from 3 operators on each lane
        vm.chainId(HOME);
        vm.prank(tokenOwner);
        vm.expectEmit(address(home.registry));
        emit RouteRegistry.SecurityLevelSet(routeId, 100 ether, 4);
        home.registry.setSecurityLevel(routeId, 100 ether, 4);

        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.SecurityLevelNotMet.selector, 60 ether, 100 ether, 3, 4));
        home.registry.activateRoute(routeId);

        // enough stake, too few validators
        join(homeStake, 3, toRemote, 5 ether);
        join(homeStake, 0, toRemote, 35 ether); // operator 0 now has 45 allocated
        vm.prank(ops[3]);
        homeStake.optOut(toRemote);
        commit(toRemote); // Pending: a re-commit in the same epoch is allowed
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.SecurityLevelNotMet.selector, 95 ether, 100 ether, 3, 4));
        home.registry.activateRoute(routeId);

        // a fourth operator brings both over the level
        optIn(homeStake, 3, toRemote, 5 ether);
        commit(toRemote);
        (uint256 stake, uint256 validators,) = homeStake.laneSecurity(toRemote);
        assertEq(stake, 100 ether);
        assertEq(validators, 4);
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit RouteActivated(routeId);
        home.registry.activateRoute(routeId);
        assertEq(uint8(home.bridge.getLane(toRemote).status), uint8(RouteStatus.Active));

        // the remote chain checks its own outbound lane, at the default level (one validator)
        vm.chainId(REMOTE);
        remote.registry.activateRoute(routeId);
        assertEq(uint8(remote.bridge.getLane(toHome).status), uint8(RouteStatus.Active));
    }

    function test_RevertWhen_activatingWithoutAnySnapshot() public {
        // sets installed by other means cannot bypass the stake check: no snapshot, no activation
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.SecurityLevelNotMet.selector, 0, 0, 0, 1));
        home.registry.activateRoute(routeId);
    }

    function test_RevertWhen_securityLevelSetByNonOwner() public {
        vm.chainId(HOME);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(RouteRegistry.NotRouteOwner.selector, stranger, routeId));
        home.registry.setSecurityLevel(routeId, 0, 0);
    }

    // ---------------------------------------------------------------------------------------
    // Inbound sets (copied by governance from the source chain's snapshot)
    // ---------------------------------------------------------------------------------------

    function test_installInboundSet_governanceOnly_inboundOnly_pendingOnly() public {
        join(remoteStake, 0, toHome, 10 ether);
        commit(toHome);
        bytes memory encoded = encodeSet(snapshotSet(remoteStake, toHome));

        vm.chainId(HOME);
        vm.prank(stranger);
        vm.expectRevert(unauthorized(stranger));
        homeStake.installInboundSet(toHome, encoded);
        vm.prank(ops[0]);
        vm.expectRevert(unauthorized(ops[0]));
        homeStake.installInboundSet(toHome, encoded);

        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotAnInboundLane.selector, toRemote));
        homeStake.installInboundSet(toRemote, encoded);

        vm.expectEmit(address(homeStake));
        emit StakeManager.InboundSetInstalled(toHome, keccak256(encoded));
        homeStake.installInboundSet(toHome, encoded);
        assertEq(home.bridge.getLane(toHome).validatorSetHash, keccak256(encoded));

        // once the route is active, only a SET_UPDATE signed by the current set changes it
        join(homeStake, 0, toRemote, 10 ether);
        commit(toRemote);
        vm.chainId(HOME);
        home.registry.activateRoute(routeId);
        vm.expectRevert(abi.encodeWithSelector(SetAlreadyActive.selector, toHome));
        homeStake.installInboundSet(toHome, encoded);
    }

    function test_RevertWhen_setManagerRoleIsNotTheStakeManagers() public {
        // in a staked deployment nobody but the stake manager installs or queues sets
        join(homeStake, 0, toRemote, 10 ether);
        bytes memory encoded = encodeSet(expectedSet(idx(0), ws(10 ether)));
        vm.chainId(HOME);
        vm.prank(setManager);
        vm.expectRevert(unauthorized(setManager));
        home.bridge.installValidatorSet(toRemote, encoded);
        vm.prank(stranger);
        vm.expectRevert(unauthorized(stranger));
        home.bridge.withdrawValidatorFees(toRemote, stranger);
    }
}
