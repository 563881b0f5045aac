// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {StakingBase} from "./StakingBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {OwnedToken, FeeOnTransferToken} from "../mocks/Tokens.sol";

/// @notice Operators: registration, bonding (native coin and ERC-20), allocation to lanes
/// (restaking), unbonding and withdrawal.
contract StakingTest is StakingBase {
    // ---------------------------------------------------------------------------------------
    // Registration
    // ---------------------------------------------------------------------------------------

    function test_register_recordsSeparateSigningKey() public {
        vm.chainId(HOME);
        vm.expectEmit(address(homeStake));
        emit StakeManager.OperatorRegistered(ops[0], signers[0]);
        bytes memory proof = signerProof(homeStake, signerKeys[0], ops[0]);
        vm.prank(ops[0]);
        homeStake.registerOperator(signers[0], proof);

        StakeManager.Operator memory op = homeStake.getOperator(ops[0]);
        assertEq(op.signer, signers[0]);
        assertEq(homeStake.operatorOfSigner(signers[0]), ops[0]);
        assertEq(op.active, 0);
        assertFalse(op.jailed);
        // the other chain's stake manager knows nothing of it
        assertEq(remoteStake.getOperator(ops[0]).signer, address(0));
    }

    function test_RevertWhen_signerIsTheOperatorKey() public {
        vm.chainId(HOME);
        (, uint256 operatorKey) = makeAddrAndKey("operator0"); // ops[0]'s own key
        bytes memory proof = signerProof(homeStake, operatorKey, ops[0]); // a valid proof
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InvalidSigner.selector, ops[0]));
        homeStake.registerOperator(ops[0], proof);
        assertEq(homeStake.getOperator(ops[0]).signer, address(0));
    }

    function test_RevertWhen_signerIsZero() public {
        vm.chainId(HOME);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InvalidSigner.selector, address(0)));
        homeStake.registerOperator(address(0), "");
    }

    function test_RevertWhen_signerAlreadyUsedByAnotherOperator() public {
        register(homeStake, 0);
        bytes memory proof = signerProof(homeStake, signerKeys[0], ops[1]); // even with a valid proof
        vm.prank(ops[1]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InvalidSigner.selector, signers[0]));
        homeStake.registerOperator(signers[0], proof);
        assertEq(homeStake.operatorOfSigner(signers[0]), ops[0], "signer still maps to its first operator");
        assertEq(homeStake.getOperator(ops[1]).signer, address(0));
    }

    function test_RevertWhen_operatorRegistersTwice() public {
        register(homeStake, 0);
        bytes memory proof = signerProof(homeStake, signerKeys[1], ops[0]);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.AlreadyRegistered.selector, ops[0]));
        homeStake.registerOperator(signers[1], proof);
        assertEq(homeStake.getOperator(ops[0]).signer, signers[0], "signing key cannot be swapped");
        assertEq(homeStake.operatorOfSigner(signers[1]), address(0));
    }

    // ---------------------------------------------------------------------------------------
    // Native-coin bonds
    // ---------------------------------------------------------------------------------------

    function test_deposit_native() public {
        register(homeStake, 0);
        vm.deal(ops[0], 20 ether);
        vm.prank(ops[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.StakeDeposited(ops[0], 5 ether, 5 ether);
        homeStake.deposit{value: 5 ether}(5 ether);
        vm.prank(ops[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.StakeDeposited(ops[0], 3 ether, 8 ether);
        homeStake.deposit{value: 3 ether}(3 ether);

        assertEq(homeStake.getOperator(ops[0]).active, 8 ether);
        assertEq(homeStake.totalBonded(), 8 ether);
        assertEq(address(homeStake).balance, 8 ether);
        assertEq(ops[0].balance, 12 ether);
    }

    function test_RevertWhen_depositValueDiffersFromAmount() public {
        register(homeStake, 0);
        vm.deal(ops[0], 10 ether);
        vm.startPrank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.WrongValue.selector, 1 ether));
        homeStake.deposit{value: 1 ether}(2 ether);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.WrongValue.selector, 3 ether));
        homeStake.deposit{value: 3 ether}(2 ether);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.WrongValue.selector, 0));
        homeStake.deposit(1 ether);
        vm.stopPrank();
        assertEq(homeStake.totalBonded(), 0);
        assertEq(address(homeStake).balance, 0);
    }

    function test_RevertWhen_depositZero() public {
        register(homeStake, 0);
        vm.prank(ops[0]);
        vm.expectRevert(StakeManager.ZeroAmount.selector);
        homeStake.deposit(0);
    }

    function test_RevertWhen_depositByUnregistered() public {
        vm.chainId(HOME);
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotRegistered.selector, stranger));
        homeStake.deposit{value: 1 ether}(1 ether);
    }

    function test_deposit_upToMaxStake_countsUnbonding() public {
        uint256 max = homeStake.MAX_STAKE();
        assertEq(max, uint256(type(uint96).max) / 256);
        register(homeStake, 0);
        depositNative(homeStake, 0, max);
        assertEq(homeStake.getOperator(ops[0]).active, max);

        vm.deal(ops[0], 1);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StakeAboveMaximum.selector, max + 1));
        homeStake.deposit{value: 1}(1);

        // unbonding stake still counts towards the bond
        unbond(homeStake, 0, max / 2);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StakeAboveMaximum.selector, max + 1));
        homeStake.deposit{value: 1}(1);
    }

    /// @dev 128 members at MAX_STAKE still fit the set encoding's uint96 weights and threshold.
    function test_maxStake_fullSetFitsUint96() public view {
        uint256 max = homeStake.MAX_STAKE();
        assertLe(max * 128, type(uint96).max);
    }

    // ---------------------------------------------------------------------------------------
    // ERC-20 bonds
    // ---------------------------------------------------------------------------------------

    function _tokenStakeManager(address stakingToken) internal returns (StakeManager s) {
        StakeManager.Config memory c = stakeConfig();
        c.stakingToken = stakingToken;
        vm.chainId(HOME);
        s = new StakeManager(address(home.manager), home.bridge, c);
        bytes memory proof = signerProof(s, signerKeys[0], ops[0]);
        vm.prank(ops[0]);
        s.registerOperator(signers[0], proof);
    }

    function test_deposit_erc20_andWithdraw() public {
        OwnedToken stakeToken = new OwnedToken("Stake", "STK", 18, tokenOwner);
        StakeManager s = _tokenStakeManager(address(stakeToken));
        stakeToken.mint(ops[0], 100 ether);

        vm.startPrank(ops[0]);
        stakeToken.approve(address(s), 40 ether);
        vm.expectEmit(address(s));
        emit StakeManager.StakeDeposited(ops[0], 40 ether, 40 ether);
        s.deposit(40 ether);
        vm.stopPrank();
        assertEq(stakeToken.balanceOf(address(s)), 40 ether);
        assertEq(s.totalBonded(), 40 ether);

        vm.prank(ops[0]);
        s.unbond(15 ether);
        vm.warp(block.timestamp + UNBONDING);
        vm.prank(ops[0]);
        s.withdraw();
        assertEq(stakeToken.balanceOf(ops[0]), 75 ether);
        assertEq(stakeToken.balanceOf(address(s)), 25 ether);
        assertEq(s.totalBonded(), 25 ether);
    }

    function test_deposit_feeOnTransferToken_creditsWhatArrived() public {
        FeeOnTransferToken fot = new FeeOnTransferToken(tokenOwner);
        StakeManager s = _tokenStakeManager(address(fot));
        fot.mint(ops[0], 100 ether);

        vm.startPrank(ops[0]);
        fot.approve(address(s), 100 ether);
        vm.expectEmit(address(s));
        emit StakeManager.StakeDeposited(ops[0], 99 ether, 99 ether); // 1% stayed on the way
        s.deposit(100 ether);
        vm.stopPrank();
        assertEq(s.getOperator(ops[0]).active, 99 ether);
        assertEq(s.totalBonded(), 99 ether);
        assertEq(fot.balanceOf(address(s)), 99 ether);
    }

    function test_RevertWhen_erc20DepositCarriesValue() public {
        OwnedToken stakeToken = new OwnedToken("Stake", "STK", 18, tokenOwner);
        StakeManager s = _tokenStakeManager(address(stakeToken));
        stakeToken.mint(ops[0], 10 ether);
        vm.deal(ops[0], 1 ether);
        vm.startPrank(ops[0]);
        stakeToken.approve(address(s), 10 ether);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.WrongValue.selector, 1 ether));
        s.deposit{value: 1 ether}(1 ether);
        vm.stopPrank();
        assertEq(stakeToken.balanceOf(address(s)), 0);
        assertEq(address(s).balance, 0);
    }

    function test_RevertWhen_erc20DepositNotApproved() public {
        OwnedToken stakeToken = new OwnedToken("Stake", "STK", 18, tokenOwner);
        StakeManager s = _tokenStakeManager(address(stakeToken));
        stakeToken.mint(ops[0], 10 ether);
        vm.prank(ops[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(s), 0, 10 ether)
        );
        s.deposit(10 ether);
    }

    // ---------------------------------------------------------------------------------------
    // Allocation to lanes
    // ---------------------------------------------------------------------------------------

    function test_optIn_outboundLaneOfThisChain() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        vm.prank(ops[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.OptedIn(ops[0], toRemote, 7 ether);
        homeStake.optIn(toRemote, 7 ether);

        assertEq(homeStake.allocation(ops[0], toRemote), 7 ether);
        assertEq(homeStake.candidates(toRemote).length, 1);
        assertEq(homeStake.candidates(toRemote)[0], ops[0]);
        assertEq(homeStake.lanesOf(ops[0]).length, 1);
        assertEq(homeStake.lanesOf(ops[0])[0], toRemote);
        // allocating does not move stake
        assertEq(homeStake.getOperator(ops[0]).active, 10 ether);
        assertEq(homeStake.totalBonded(), 10 ether);
    }

    function test_optIn_againReplacesAllocation() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        optIn(homeStake, 0, toRemote, 4 ether);
        optIn(homeStake, 0, toRemote, 9 ether);
        assertEq(homeStake.allocation(ops[0], toRemote), 9 ether);
        assertEq(homeStake.candidates(toRemote).length, 1, "no duplicate candidate");
        assertEq(homeStake.lanesOf(ops[0]).length, 1, "no duplicate lane");
    }

    function test_RevertWhen_optInInboundLane() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        // toHome is inbound on home: its stake lives on remote, where fraud on it is provable
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotAnOutboundLane.selector, toHome));
        homeStake.optIn(toHome, 1 ether);
        // and toRemote is inbound on remote
        register(remoteStake, 0);
        depositNative(remoteStake, 0, 10 ether);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotAnOutboundLane.selector, toRemote));
        remoteStake.optIn(toRemote, 1 ether);
        assertEq(homeStake.candidates(toHome).length, 0);
        assertEq(remoteStake.candidates(toRemote).length, 0);
    }

    function test_RevertWhen_optInUnknownLane() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        bytes32 unknown = keccak256("no such lane");
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotAnOutboundLane.selector, unknown));
        homeStake.optIn(unknown, 1 ether);
    }

    function test_RevertWhen_optInAboveActiveStake() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        unbond(homeStake, 0, 3 ether);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InsufficientStake.selector, 8 ether, 7 ether));
        homeStake.optIn(toRemote, 8 ether);
        optIn(homeStake, 0, toRemote, 7 ether);
        assertEq(homeStake.allocation(ops[0], toRemote), 7 ether);
    }

    /// @dev A member's bond stays locked until the set that counted it has expired plus the
    /// detection window; a later snapshot that drops it does not extend the lock, and the
    /// unbonding period (longer than any lock from before the unbond) then decides.
    function test_withdraw_fullExitWaitsForSetExpiryAndUnbonding() public {
        join(homeStake, 0, toRemote, 10 ether);
        join(homeStake, 1, toRemote, 10 ether);
        commit(toRemote);
        uint64 lockedUntil = homeStake.getSnapshot(toRemote).validUntil + DETECTION;
        assertEq(lockedUntil, uint64(block.timestamp) + LIFETIME + DETECTION);
        StakeManager.Operator memory op = homeStake.getOperator(ops[0]);
        assertEq(op.lockedWeight, 10 ether);
        assertEq(op.lockedUntil, lockedUntil);

        unbond(homeStake, 0, 10 ether);
        uint64 releaseAt = homeStake.getOperator(ops[0]).unbondingReleaseAt;
        // the lane's set still counts operator 0: its signatures must stay provable
        assertEq(homeStake.withdrawable(ops[0]), 0, "locked while the set may still be accepted");

        nextEpoch();
        commit(toRemote); // drops operator 0 (no active stake left)
        assertEq(homeStake.getSnapshot(toRemote).members.length, 1);
        assertEq(homeStake.getOperator(ops[0]).lockedUntil, lockedUntil, "a set without it does not extend the lock");
        vm.warp(lockedUntil - 1);
        assertEq(homeStake.withdrawable(ops[0]), 0);
        vm.warp(lockedUntil);
        assertEq(homeStake.withdrawable(ops[0]), 10 ether, "lock over");

        assertGt(releaseAt, lockedUntil);
        vm.warp(releaseAt - 1);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StillUnbonding.selector, releaseAt));
        homeStake.withdraw();

        vm.warp(releaseAt);
        uint256 before = ops[0].balance;
        vm.prank(ops[0]);
        homeStake.withdraw();
        assertEq(ops[0].balance - before, 10 ether);
        assertEq(homeStake.getOperator(ops[0]).unbonding, 0);
    }

    function test_RevertWhen_optInZeroOrUnregistered() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.AllocationBelowMinimum.selector, 0, MIN_STAKE));
        homeStake.optIn(toRemote, 0);
        // Dust allocations could fill the bounded candidate list: refused below the minimum.
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.AllocationBelowMinimum.selector, MIN_STAKE - 1, MIN_STAKE));
        homeStake.optIn(toRemote, MIN_STAKE - 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotRegistered.selector, stranger));
        homeStake.optIn(toRemote, 1);
    }

    function test_RevertWhen_jailedOperatorOptsIn() public {
        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        vm.expectEmit(address(homeStake));
        emit StakeManager.Jailed(ops[0]);
        homeStake.jail(ops[0]); // governance
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.OperatorJailed.selector, ops[0]));
        homeStake.optIn(toRemote, 1 ether);

        vm.expectEmit(address(homeStake));
        emit StakeManager.Unjailed(ops[0]);
        homeStake.unjail(ops[0]);
        optIn(homeStake, 0, toRemote, 1 ether);
        assertEq(homeStake.allocation(ops[0], toRemote), 1 ether);
    }

    function test_RevertWhen_jailOrUnjailByNonGovernance() public {
        register(homeStake, 0);
        vm.prank(stranger);
        vm.expectRevert(unauthorized(stranger));
        homeStake.jail(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotJailed.selector, ops[0]));
        homeStake.unjail(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotRegistered.selector, stranger));
        homeStake.jail(stranger);
        homeStake.jail(ops[0]);
        vm.prank(ops[0]);
        vm.expectRevert(unauthorized(ops[0]));
        homeStake.unjail(ops[0]);
        assertTrue(homeStake.getOperator(ops[0]).jailed);
    }

    /// @dev Restaking: one bond backs the lanes of two routes at full weight on each.
    function test_restaking_oneStakeBacksTwoLanes() public {
        OwnedToken token2 = new OwnedToken("Second", "TWO", 18, tokenOwner);
        (bytes32 route2,) = _openRoute(address(token2), defaultParams());
        bytes32 lane2 = home.bridge.getRoute(route2).outboundLane;

        register(homeStake, 0);
        depositNative(homeStake, 0, 10 ether);
        optIn(homeStake, 0, toRemote, 10 ether);
        optIn(homeStake, 0, lane2, 10 ether);
        join(homeStake, 1, lane2, 5 ether);

        assertEq(homeStake.totalBonded(), 15 ether, "the same stake is not counted twice");
        bytes32[] memory lanes = homeStake.lanesOf(ops[0]);
        assertEq(lanes.length, 2);
        assertEq(lanes[0], toRemote);
        assertEq(lanes[1], lane2);

        commit(toRemote);
        vm.prank(stranger);
        homeStake.commitEpoch(lane2);
        (uint256 stake1, uint256 n1,) = homeStake.laneSecurity(toRemote);
        (uint256 stake2, uint256 n2,) = homeStake.laneSecurity(lane2);
        assertEq(stake1, 10 ether);
        assertEq(n1, 1);
        assertEq(stake2, 15 ether);
        assertEq(n2, 2);
        assertEq(
            homeStake.getSnapshot(lane2).setHash, keccak256(encodeSet(expectedSet(idx(0, 1), ws(10 ether, 5 ether))))
        );

        // unbonding part of the one bond lowers its weight on every lane it backs
        unbond(homeStake, 0, 4 ether);
        commit(toRemote);
        vm.prank(stranger);
        homeStake.commitEpoch(lane2);
        assertEq(homeStake.getSnapshot(toRemote).members[0].weight, 6 ether);
        assertEq(
            homeStake.getSnapshot(lane2).setHash, keccak256(encodeSet(expectedSet(idx(0, 1), ws(6 ether, 5 ether))))
        );
    }

    function test_optOut_leavesTheNextSnapshot() public {
        join(homeStake, 0, toRemote, 10 ether);
        join(homeStake, 1, toRemote, 20 ether);
        vm.prank(ops[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.OptedOut(ops[0], toRemote);
        homeStake.optOut(toRemote);

        assertEq(homeStake.allocation(ops[0], toRemote), 0);
        assertEq(homeStake.candidates(toRemote).length, 1);
        assertEq(homeStake.candidates(toRemote)[0], ops[1]);
        assertEq(homeStake.lanesOf(ops[0]).length, 0);
        assertEq(homeStake.getOperator(ops[0]).active, 10 ether, "stake stays bonded");

        commit(toRemote);
        StakeManager.Snapshot memory snap = homeStake.getSnapshot(toRemote);
        assertEq(snap.members.length, 1);
        assertEq(snap.members[0].operator, ops[1]);

        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotOptedIn.selector, ops[0], toRemote));
        homeStake.optOut(toRemote);
    }

    function test_RevertWhen_tooManyCandidates() public {
        uint256 max = homeStake.MAX_CANDIDATES_PER_LANE();
        vm.chainId(HOME);
        for (uint256 i; i < max + 1; ++i) {
            address operator = address(uint160(0x10000 + i));
            uint256 signerKey = 0x20000 + i;
            bytes memory proof = signerProof(homeStake, signerKey, operator);
            vm.deal(operator, 1 ether);
            vm.startPrank(operator);
            homeStake.registerOperator(vm.addr(signerKey), proof);
            homeStake.deposit{value: 1 ether}(1 ether);
            if (i == max) vm.expectRevert(abi.encodeWithSelector(StakeManager.TooManyCandidates.selector, toRemote));
            homeStake.optIn(toRemote, 1 ether);
            vm.stopPrank();
        }
        assertEq(homeStake.candidates(toRemote).length, max);
    }

    // ---------------------------------------------------------------------------------------
    // Unbonding and withdrawal
    // ---------------------------------------------------------------------------------------

    function test_unbondThenWithdraw_onlyAfterUnbondingPeriod() public {
        join(homeStake, 0, toRemote, 10 ether);
        uint64 releaseAt = uint64(block.timestamp) + UNBONDING;
        vm.prank(ops[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.UnbondingStarted(ops[0], 4 ether, releaseAt);
        homeStake.unbond(4 ether);

        StakeManager.Operator memory op = homeStake.getOperator(ops[0]);
        assertEq(op.active, 6 ether);
        assertEq(op.unbonding, 4 ether);
        assertEq(op.unbondingReleaseAt, releaseAt);
        assertEq(homeStake.totalBonded(), 10 ether, "unbonding stake stays bonded");

        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StillUnbonding.selector, releaseAt));
        homeStake.withdraw();
        vm.warp(releaseAt - 1);
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StillUnbonding.selector, releaseAt));
        homeStake.withdraw();

        vm.warp(releaseAt);
        uint256 before = ops[0].balance;
        vm.prank(ops[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.StakeWithdrawn(ops[0], 4 ether);
        homeStake.withdraw();
        assertEq(ops[0].balance, before + 4 ether);
        assertEq(homeStake.getOperator(ops[0]).unbonding, 0);
        assertEq(homeStake.getOperator(ops[0]).active, 6 ether);
        assertEq(homeStake.totalBonded(), 6 ether);
        assertEq(address(homeStake).balance, 6 ether);

        vm.prank(ops[0]);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.withdraw();
    }

    function test_unbondAgain_restartsThePeriodForAllUnbonding() public {
        join(homeStake, 0, toRemote, 10 ether);
        unbond(homeStake, 0, 2 ether);
        vm.warp(block.timestamp + UNBONDING - 1 hours);
        unbond(homeStake, 0, 3 ether);
        uint64 releaseAt = uint64(block.timestamp) + UNBONDING;
        vm.warp(block.timestamp + 1 hours); // the first unbond's period is over
        vm.prank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StillUnbonding.selector, releaseAt));
        homeStake.withdraw();
        vm.warp(releaseAt);
        vm.prank(ops[0]);
        homeStake.withdraw();
        assertEq(ops[0].balance, 5 ether);
        assertEq(homeStake.getOperator(ops[0]).active, 5 ether);
    }

    function test_RevertWhen_unbondMoreThanActiveOrZero() public {
        join(homeStake, 0, toRemote, 10 ether);
        vm.startPrank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InsufficientStake.selector, 10 ether + 1, 10 ether));
        homeStake.unbond(10 ether + 1);
        vm.expectRevert(StakeManager.ZeroAmount.selector);
        homeStake.unbond(0);
        homeStake.unbond(10 ether);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InsufficientStake.selector, 1, 0));
        homeStake.unbond(1);
        vm.stopPrank();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotRegistered.selector, stranger));
        homeStake.unbond(1);
    }

    function test_RevertWhen_withdrawWithNothingUnbonding() public {
        join(homeStake, 0, toRemote, 10 ether);
        vm.warp(block.timestamp + UNBONDING);
        vm.prank(ops[0]);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.withdraw();
        vm.prank(stranger);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.withdraw();
    }

    // ---------------------------------------------------------------------------------------
    // Configuration
    // ---------------------------------------------------------------------------------------

    function test_RevertWhen_invalidConfig() public {
        StakeManager.Config memory c = stakeConfig();
        c.unbondingPeriod = EPOCH + DETECTION; // must be strictly longer
        vm.expectRevert(
            abi.encodeWithSelector(
                StakeManager.InvalidConfig.selector, "unbonding must exceed epoch + detection window"
            )
        );
        new StakeManager(address(home.manager), home.bridge, c);

        c = stakeConfig();
        c.setLifetime = 2 * EPOCH; // must be strictly longer than two epochs
        vm.expectRevert(
            abi.encodeWithSelector(StakeManager.InvalidConfig.selector, "set lifetime must exceed two epochs")
        );
        new StakeManager(address(home.manager), home.bridge, c);

        c = stakeConfig();
        c.maxValidatorsPerLane = 129;
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InvalidConfig.selector, "validators per lane"));
        new StakeManager(address(home.manager), home.bridge, c);

        c = stakeConfig();
        c.slashCapBps = 0;
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InvalidConfig.selector, "slash cap"));
        new StakeManager(address(home.manager), home.bridge, c);

        c = stakeConfig();
        c.minStake = 0;
        vm.expectRevert(abi.encodeWithSelector(StakeManager.InvalidConfig.selector, "min stake"));
        new StakeManager(address(home.manager), home.bridge, c);
    }
}
