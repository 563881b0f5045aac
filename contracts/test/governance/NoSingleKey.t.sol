// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakeManager} from "../../src/StakeManager.sol";
import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";
import {IAccessManager} from "@openzeppelin/contracts/access/manager/IAccessManager.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {BridgeRoles} from "../../src/libraries/BridgeRoles.sol";
import {Committee} from "../../src/governance/Committee.sol";
import {Checkpoint, Message} from "../../src/interfaces/IZeroBridge.sol";
import {CommitteeBase} from "./CommitteeBase.sol";

/// @notice Invariant 5 (DESIGN.md section 8): no single key can mint, unlock, change a validator
/// set or lift a pause. Both chains of the fixture are handed to a 3-member committee (weights
/// 1, 1, 1, default rates, 2-day timelock) that holds ADMIN_ROLE and SET_MANAGER alone; the
/// deployer renounced its admin role and the single-key SET_MANAGER / FEE_DISTRIBUTOR holders of
/// the fixture were revoked first.
contract NoSingleKeyTest is BridgeFixture, CommitteeBase {
    Committee internal homeCommittee;
    Committee internal remoteCommittee;
    address internal m0 = memberAt(0);
    address internal m1 = memberAt(1);
    address internal m2 = memberAt(2);
    address internal deployer; // the fixture's governance: the test contract itself

    function setUp() public override {
        super.setUp();
        deployer = governance;
        // traffic before the hand-over: a vault balance on home, wrapped supply on remote
        sendAs(alice, toRemote, bob, 10_000 * UNIT);
        relay(toRemote);
        homeCommittee = _handOver(home);
        remoteCommittee = _handOver(remote);
    }

    function _handOver(Deployment memory d) internal returns (Committee c) {
        vm.chainId(d.chainId);
        c = new Committee(membersOf(3), weights(1, 1, 1), 0, 0, VOTING, TIMELOCK, GRACE);
        d.manager.grantRole(BridgeRoles.SET_MANAGER, address(c), 0);
        d.manager.revokeRole(BridgeRoles.SET_MANAGER, setManager);
        d.manager.revokeRole(BridgeRoles.FEE_DISTRIBUTOR, governance);
        handOverToCommittee(
            ChainContracts({
                manager: d.manager, bridge: d.bridge, registry: d.registry, stakeManager: StakeManager(address(0))
            }),
            c
        );
    }

    /// @dev Every single key in the deployment: each member, the guardian, the former set manager
    /// and the deployer (former admin).
    function _singleKeys() internal view returns (address[] memory keys) {
        keys = new address[](6);
        (keys[0], keys[1], keys[2], keys[3], keys[4], keys[5]) = (m0, m1, m2, guardian, setManager, deployer);
    }

    function _deployments() internal view returns (Deployment[2] memory ds) {
        ds[0] = home;
        ds[1] = remote;
    }

    function _unauthorized(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, who);
    }

    function _pauseEverything() internal {
        vm.chainId(HOME);
        vm.startPrank(guardian);
        home.bridge.pause();
        home.bridge.pauseLane(toRemote);
        vm.stopPrank();
        vm.chainId(REMOTE);
        vm.startPrank(guardian);
        remote.bridge.pause();
        remote.bridge.pauseLane(toRemote);
        vm.stopPrank();
    }

    function _unpauseCalls(Deployment memory d)
        internal
        view
        returns (address[] memory t, uint256[] memory v, bytes[] memory data)
    {
        t = new address[](2);
        v = new uint256[](2);
        data = new bytes[](2);
        (t[0], data[0]) = (address(d.bridge), abi.encodeCall(ZeroBridge.unpause, ()));
        (t[1], data[1]) = (address(d.bridge), abi.encodeCall(ZeroBridge.unpauseLane, (toRemote)));
    }

    // ---------------------------------------------------------------------------------------
    // Hand-over
    // ---------------------------------------------------------------------------------------

    function test_handOver_committeeIsTheOnlyAdmin() public view {
        Deployment[2] memory ds = _deployments();
        Committee[2] memory cs = [homeCommittee, remoteCommittee];
        for (uint256 i; i < 2; ++i) {
            (bool committeeAdmin,) = ds[i].manager.hasRole(MANAGER_ADMIN_ROLE, address(cs[i]));
            (bool deployerAdmin,) = ds[i].manager.hasRole(MANAGER_ADMIN_ROLE, deployer);
            (bool committeeSets,) = ds[i].manager.hasRole(BridgeRoles.SET_MANAGER, address(cs[i]));
            (bool oldSets,) = ds[i].manager.hasRole(BridgeRoles.SET_MANAGER, setManager);
            (bool deployerFees,) = ds[i].manager.hasRole(BridgeRoles.FEE_DISTRIBUTOR, deployer);
            assertTrue(committeeAdmin && committeeSets, "committee roles");
            assertFalse(deployerAdmin || oldSets || deployerFees, "single-key roles left");
            for (uint256 j; j < 3; ++j) {
                (bool memberAdmin,) = ds[i].manager.hasRole(MANAGER_ADMIN_ROLE, memberAt(j));
                assertFalse(memberAdmin);
            }
            assertEq(cs[i].memberCount(), 3);
            assertFalse(cs[i].isSingleKey());
        }
    }

    // ---------------------------------------------------------------------------------------
    // No single key lifts a pause
    // ---------------------------------------------------------------------------------------

    function test_noSingleKeyCanLiftAPause() public {
        _pauseEverything();
        address[] memory keys = _singleKeys();
        Deployment[2] memory ds = _deployments();
        for (uint256 i; i < 2; ++i) {
            Deployment memory d = ds[i];
            vm.chainId(d.chainId);
            for (uint256 k; k < keys.length; ++k) {
                vm.startPrank(keys[k]);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.unpause();
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.unpauseLane(toRemote);
                // nor through the manager's own relay
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IAccessManager.AccessManagerUnauthorizedCall.selector,
                        keys[k],
                        address(d.bridge),
                        ZeroBridge.unpause.selector
                    )
                );
                d.manager.execute(address(d.bridge), abi.encodeCall(ZeroBridge.unpause, ()));
                vm.stopPrank();
            }
            assertTrue(d.bridge.paused());
            assertTrue(d.bridge.getLane(toRemote).paused);
        }
    }

    function test_singleMemberProposalCannotPassOnItsOwnVote() public {
        _pauseEverything();
        vm.chainId(HOME);
        (address[] memory t, uint256[] memory v, bytes[] memory d) = _unpauseCalls(home);
        uint256 id = proposeAs(m0, homeCommittee, t, v, d);
        voteAs(m0, homeCommittee, id, true);
        vm.prank(m0);
        vm.expectRevert(abi.encodeWithSelector(Committee.AlreadyVoted.selector, id, m0));
        homeCommittee.vote(id, true);
        expectState(homeCommittee, id, Committee.ProposalState.Active);
        vm.prank(m0);
        vm.expectRevert(badState(id, Committee.ProposalState.Active));
        homeCommittee.queue(id);
        vm.prank(m0);
        vm.expectRevert(badState(id, Committee.ProposalState.Active));
        homeCommittee.execute(id);

        vm.warp(block.timestamp + VOTING + 1);
        expectState(homeCommittee, id, Committee.ProposalState.Expired);
        vm.expectRevert(badState(id, Committee.ProposalState.Expired));
        homeCommittee.queue(id);
        assertTrue(home.bridge.paused());

        // outsiders and the guardian cannot even propose or vote
        address[3] memory nonMembers = [guardian, deployer, alice];
        for (uint256 k; k < nonMembers.length; ++k) {
            vm.prank(nonMembers[k]);
            vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, nonMembers[k]));
            homeCommittee.propose(t, v, d, "unpause");
        }
        uint256 id2 = proposeAs(m1, homeCommittee, t, v, d);
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, guardian));
        homeCommittee.vote(id2, true);
    }

    /// @dev The proper path: 2 of 3 members approve, the timelock runs, anyone executes.
    function test_committeeUnpausesAfterQuorumAndTimelock() public {
        _pauseEverything();
        vm.chainId(HOME);
        (address[] memory t, uint256[] memory v, bytes[] memory d) = _unpauseCalls(home);
        uint256 id = proposeAs(m0, homeCommittee, t, v, d);
        voteAs(m0, homeCommittee, id, true);
        expectState(homeCommittee, id, Committee.ProposalState.Active);
        voteAs(m2, homeCommittee, id, true);
        expectState(homeCommittee, id, Committee.ProposalState.Succeeded);

        vm.prank(alice);
        uint48 eta = homeCommittee.queue(id);
        assertEq(eta, block.timestamp + TIMELOCK);
        vm.expectRevert(abi.encodeWithSelector(Committee.TimelockNotElapsed.selector, id, eta));
        homeCommittee.execute(id);
        vm.warp(eta - 1);
        vm.expectRevert(abi.encodeWithSelector(Committee.TimelockNotElapsed.selector, id, eta));
        homeCommittee.execute(id);
        assertTrue(home.bridge.paused());

        vm.warp(eta);
        vm.expectEmit(address(home.bridge));
        emit Unpaused();
        vm.expectEmit(address(home.bridge));
        emit LaneUnpaused(toRemote);
        vm.prank(alice);
        homeCommittee.execute(id);
        assertFalse(home.bridge.paused());
        assertFalse(home.bridge.getLane(toRemote).paused);
        // the home decision does not touch the other chain
        assertTrue(remote.bridge.paused());

        uint64 seq = sendAs(alice, toRemote, bob, 100 * UNIT);
        assertEq(seq, 2);
    }

    function test_committeeUnpause_missedWindowExpires() public {
        _pauseEverything();
        vm.chainId(REMOTE);
        (address[] memory t, uint256[] memory v, bytes[] memory d) = _unpauseCalls(remote);
        uint256 id = proposeAs(m1, remoteCommittee, t, v, d);
        voteAs(m1, remoteCommittee, id, true);
        voteAs(m2, remoteCommittee, id, true);
        uint48 eta = remoteCommittee.queue(id);
        vm.warp(uint256(eta) + GRACE + 1);
        expectState(remoteCommittee, id, Committee.ProposalState.Expired);
        vm.expectRevert(badState(id, Committee.ProposalState.Expired));
        remoteCommittee.execute(id);
        assertTrue(remote.bridge.paused());
    }

    function test_canceledUnpauseCannotExecute() public {
        _pauseEverything();
        vm.chainId(HOME);
        (address[] memory t, uint256[] memory v, bytes[] memory d) = _unpauseCalls(home);
        uint256 id = proposeAs(m0, homeCommittee, t, v, d);
        voteAs(m0, homeCommittee, id, true);
        voteAs(m1, homeCommittee, id, true);
        uint48 eta = homeCommittee.queue(id);
        vm.prank(m0);
        homeCommittee.cancel(id);
        vm.warp(eta);
        vm.expectRevert(badState(id, Committee.ProposalState.Canceled));
        homeCommittee.execute(id);
        assertTrue(home.bridge.paused());
    }

    // ---------------------------------------------------------------------------------------
    // No single key changes a validator set, a peer, a policy or a role
    // ---------------------------------------------------------------------------------------

    function test_noSingleKeyCanChangeValidatorSetsPeersOrPolicies() public {
        bytes memory rogue = encodeSet(makeSet("rogue", 4, 3));
        address[] memory keys = _singleKeys();
        Deployment[2] memory ds = _deployments();
        for (uint256 i; i < 2; ++i) {
            Deployment memory d = ds[i];
            vm.chainId(d.chainId);
            bytes32 outbound = d.chainId == HOME ? toRemote : toHome;
            bytes32 setBefore = d.bridge.getLane(outbound).validatorSetHash;
            for (uint256 k; k < keys.length; ++k) {
                vm.startPrank(keys[k]);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.installValidatorSet(outbound, rogue);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.queueValidatorSetUpdate(outbound, rogue);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.setPeer(999, keys[k]);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.setFeePolicy(1000, 0);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.setExitOnly(routeId);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.refundHold(outbound, 1);
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.cancelRefund(outbound, bytes32(0));
                vm.expectRevert(_unauthorized(keys[k]));
                d.bridge.withdrawValidatorFees(outbound, keys[k]);
                vm.stopPrank();
            }
            assertEq(d.bridge.getLane(outbound).validatorSetHash, setBefore);
            assertEq(d.bridge.getLane(outbound).sequence, d.chainId == HOME ? 1 : 0);
        }
    }

    function test_noSingleKeyCanObtainARole() public {
        address[] memory keys = _singleKeys();
        Deployment[2] memory ds = _deployments();
        uint64[4] memory roles =
            [MANAGER_ADMIN_ROLE, BridgeRoles.GUARDIAN, BridgeRoles.SET_MANAGER, BridgeRoles.FEE_DISTRIBUTOR];
        bytes4[] memory sel = new bytes4[](1);
        sel[0] = ZeroBridge.unpause.selector;
        for (uint256 i; i < 2; ++i) {
            Deployment memory d = ds[i];
            vm.chainId(d.chainId);
            for (uint256 k; k < keys.length; ++k) {
                bytes memory err = abi.encodeWithSelector(
                    IAccessManager.AccessManagerUnauthorizedAccount.selector, keys[k], MANAGER_ADMIN_ROLE
                );
                vm.startPrank(keys[k]);
                for (uint256 r; r < roles.length; ++r) {
                    vm.expectRevert(err);
                    d.manager.grantRole(roles[r], keys[k], 0);
                }
                // nor remap unpause to a role it holds, nor take a role away from the committee
                vm.expectRevert(err);
                d.manager.setTargetFunctionRole(address(d.bridge), sel, BridgeRoles.GUARDIAN);
                vm.expectRevert(err);
                d.manager.revokeRole(MANAGER_ADMIN_ROLE, address(remoteCommittee));
                vm.expectRevert(err);
                d.manager.setRoleAdmin(BridgeRoles.GUARDIAN, BridgeRoles.GUARDIAN);
                vm.stopPrank();
                (bool admin,) = d.manager.hasRole(MANAGER_ADMIN_ROLE, keys[k]);
                assertFalse(admin);
            }
        }
    }

    /// @dev The committee grants roles only by decision; then the new guardian can pause.
    function test_committeeRotatesTheGuardianByDecision() public {
        address newGuardian = makeAddr("newGuardian");
        vm.chainId(HOME);
        address[] memory t = new address[](2);
        bytes[] memory d = new bytes[](2);
        (t[0], t[1]) = (address(home.manager), address(home.manager));
        d[0] = abi.encodeCall(IAccessManager.grantRole, (BridgeRoles.GUARDIAN, newGuardian, 0));
        d[1] = abi.encodeCall(IAccessManager.revokeRole, (BridgeRoles.GUARDIAN, guardian));
        uint256 id = proposeAs(m0, homeCommittee, t, new uint256[](2), d);
        passAndExecute(homeCommittee, id, 2);

        vm.prank(guardian);
        vm.expectRevert(_unauthorized(guardian));
        home.bridge.pause();
        vm.prank(newGuardian);
        home.bridge.pause();
        assertTrue(home.bridge.paused());
    }

    /// @dev Even the whole committee cannot rotate a lane's set alone: it queues the update as a
    /// system message which takes effect on the destination only once the current set signs it.
    function test_committeeSetUpdateNeedsTheCurrentValidatorQuorum() public {
        ValidatorSet memory next = makeSet("rotated", 5, 4);
        bytes memory encoded = encodeSet(next);
        bytes32 oldHash = remote.bridge.getLane(toRemote).validatorSetHash;
        vm.chainId(HOME);
        uint256 id = proposeAs(
            m0,
            homeCommittee,
            address(home.bridge),
            abi.encodeCall(ZeroBridge.queueValidatorSetUpdate, (toRemote, encoded))
        );
        passAndExecute(homeCommittee, id, 3);
        captureLogs();
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, oldHash, "destination unchanged");

        // a sub-quorum of the old set cannot deliver it
        uint64 head = uint64(sentCount(toRemote));
        Checkpoint memory cp = checkpointAt(toRemote, head);
        ValidatorSet memory current = currentSet(toRemote);
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (0, 1);
        bytes memory weak = signBy(current, two, digestOf(sourceDomain(toRemote), cp));
        Message[] memory ms = batch(toRemote, 1, head);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(QuorumNotReached.selector, 2, 3));
        remote.bridge.deliver(cp, encodeSet(current), weak, ms);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, oldHash);

        relay(toRemote); // a quorum of the old set signs it
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(encoded));
    }

    // ---------------------------------------------------------------------------------------
    // No single key mints or unlocks: only a quorum-signed delivery does
    // ---------------------------------------------------------------------------------------

    function test_noSingleKeyNorTheCommitteeCanMint() public {
        vm.chainId(REMOTE);
        uint256 supply = wrapped.totalSupply();
        address[] memory keys = _singleKeys();
        for (uint256 k; k < keys.length; ++k) {
            vm.prank(keys[k]);
            vm.expectRevert(abi.encodeWithSelector(WrappedToken.OnlyBridge.selector, keys[k]));
            wrapped.mint(keys[k], 1);
        }
        // even a unanimous committee decision cannot mint
        uint256 id = proposeAs(m0, remoteCommittee, address(wrapped), abi.encodeCall(WrappedToken.mint, (m0, 1e24)));
        voteAs(m0, remoteCommittee, id, true);
        voteAs(m1, remoteCommittee, id, true);
        vm.prank(m2);
        vm.expectRevert(badState(id, Committee.ProposalState.Succeeded));
        remoteCommittee.vote(id, true);
        uint48 eta = remoteCommittee.queue(id);
        vm.warp(eta);
        vm.expectRevert(abi.encodeWithSelector(WrappedToken.OnlyBridge.selector, address(remoteCommittee)));
        remoteCommittee.execute(id);
        assertEq(wrapped.totalSupply(), supply);

        // a delivery signed below the lane's quorum mints nothing; a quorum-signed one does
        sendAs(alice, toRemote, carolOf(), 100 * UNIT);
        uint64 head = uint64(sentCount(toRemote));
        Checkpoint memory cp = checkpointAt(toRemote, head);
        ValidatorSet memory set = currentSet(toRemote);
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (1, 3);
        bytes memory weak = signBy(set, two, digestOf(sourceDomain(toRemote), cp));
        Message[] memory ms = batch(toRemote, head - 1, head);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(QuorumNotReached.selector, 2, 3));
        remote.bridge.deliver(cp, encodeSet(set), weak, ms);
        assertEq(wrapped.totalSupply(), supply);

        relay(toRemote);
        assertGt(wrapped.balanceOf(carolOf()), 0);
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    function test_noSingleKeyNorTheCommitteeCanUnlockTheVault() public {
        // bob returns half home: the burn is on remote, the release needs delivery on home
        sendAs(bob, toHome, alice, 5_000 * UNIT);
        vm.chainId(HOME);
        uint256 vault = token.balanceOf(address(home.bridge));
        uint256 aliceBefore = token.balanceOf(alice);
        assertGt(vault, 0);

        address[] memory keys = _singleKeys();
        for (uint256 k; k < keys.length; ++k) {
            vm.prank(keys[k]);
            vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, keys[k], 0, 1));
            token.transferFrom(address(home.bridge), keys[k], 1);
        }
        // a committee decision has no path to the vault either
        uint256 id = proposeAs(
            m0, homeCommittee, address(token), abi.encodeCall(IERC20.transferFrom, (address(home.bridge), m0, vault))
        );
        voteAs(m0, homeCommittee, id, true);
        voteAs(m1, homeCommittee, id, true);
        uint48 eta = homeCommittee.queue(id);
        vm.warp(eta);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(homeCommittee), 0, vault)
        );
        homeCommittee.execute(id);

        // sub-quorum delivery of the burn message releases nothing
        uint64 head = uint64(sentCount(toHome));
        Checkpoint memory cp = checkpointAt(toHome, head);
        ValidatorSet memory set = currentSet(toHome);
        uint256[] memory two = new uint256[](2);
        (two[0], two[1]) = (0, 2);
        bytes memory weak = signBy(set, two, digestOf(sourceDomain(toHome), cp));
        Message[] memory ms = batch(toHome, 0, head);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(QuorumNotReached.selector, 2, 3));
        home.bridge.deliver(cp, encodeSet(set), weak, ms);
        assertEq(token.balanceOf(address(home.bridge)), vault);

        relay(toHome); // quorum-signed
        assertGt(token.balanceOf(alice), aliceBefore);
        assertLt(token.balanceOf(address(home.bridge)), vault);
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    function carolOf() internal returns (address) {
        return makeAddr("carol");
    }
}
