// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingBase} from "../staking/StakingBase.sol";
import {StakingHandler} from "./StakingHandler.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Stateful invariants of the home chain's StakeManager, driven by StakingHandler: six
/// operators (three of them bonded by the bootstrap: 10/20/30 ether on the Active lane) on two
/// lanes (toRemote, Active; a second route's lane, Pending), with deposits, unbonding,
/// withdrawals, allocations, epoch commits, fee-paying sends, fraud proofs (and honest checkpoints
/// submitted as if they were), deferred-slash collection and every claim.
///
/// Native staking, so the stake manager's coin balance holds exactly: the bonds, the reporters'
/// unclaimed shares and the compensation pools. Rewards are in the lane's token.
contract StakingInvariantTest is StakingBase {
    StakingHandler internal handler;
    bytes32 internal lane2;

    function setUp() public override {
        super.setUp();
        bootstrap();
        OwnedToken token2 = new OwnedToken("Second", "TWO", 18, tokenOwner);
        (bytes32 route2,) = _openRoute(address(token2), defaultParams());
        lane2 = home.bridge.getRoute(route2).outboundLane;

        bytes32[] memory lanes = new bytes32[](2);
        (lanes[0], lanes[1]) = (toRemote, lane2);
        address[] memory operators = new address[](6);
        uint256[] memory keys = new uint256[](6);
        for (uint256 i; i < 6; ++i) {
            operators[i] = ops[i];
            keys[i] = signerKeys[i];
        }
        vm.chainId(HOME);
        handler = new StakingHandler(homeStake, home.bridge, token, lanes, operators, keys);

        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = StakingHandler.deposit.selector;
        selectors[1] = StakingHandler.unbond.selector;
        selectors[2] = StakingHandler.withdraw.selector;
        selectors[3] = StakingHandler.optIn.selector;
        selectors[4] = StakingHandler.optOut.selector;
        selectors[5] = StakingHandler.claimRewards.selector;
        selectors[6] = StakingHandler.commit.selector;
        selectors[7] = StakingHandler.send.selector;
        selectors[8] = StakingHandler.warp.selector;
        selectors[9] = StakingHandler.slash.selector;
        selectors[10] = StakingHandler.collect.selector;
        selectors[11] = StakingHandler.claimReporterPayout.selector;
        selectors[12] = StakingHandler.warp.selector; // time matters for epochs, unbonding, periods
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function _reporterOwed(bytes32 evidenceId) internal view returns (uint256 owed) {
        (,,,,,, owed) = homeStake.evidence(evidenceId);
    }

    function _sumPayouts() internal view returns (uint256 sum) {
        bytes32[] memory ids = handler.evidenceIds();
        for (uint256 i; i < ids.length; ++i) {
            sum += _reporterOwed(ids[i]);
        }
    }

    function _sumPools() internal view returns (uint256) {
        return homeStake.compensationPool(toRemote) + homeStake.compensationPool(lane2);
    }

    /// @dev The coin in the contract is exactly what it owes: bonds, reporter shares, pools.
    function invariant_balanceIsBondsPlusPayoutsPlusPools() public view {
        assertEq(
            address(homeStake).balance,
            homeStake.totalBonded() + _sumPayouts() + _sumPools(),
            "balance != totalBonded + reporter payouts + compensation pools"
        );
    }

    function invariant_totalBondedIsSumOfOperators() public view {
        address[] memory operators = handler.operators();
        uint256 sum;
        for (uint256 i; i < operators.length; ++i) {
            StakeManager.Operator memory op = homeStake.getOperator(operators[i]);
            sum += op.active + op.unbonding;
        }
        assertEq(homeStake.totalBonded(), sum, "totalBonded != sum of active + unbonding");
        assertEq(
            homeStake.totalBonded(),
            handler.ghostDeposited() - handler.ghostWithdrawn() - handler.ghostSlashed(),
            "totalBonded != deposited - withdrawn - slashed"
        );
        assertEq(handler.withdrawMismatches(), 0, "a withdrawal paid other than the free unbonding stake");
    }

    function invariant_owedNeverExceedsBond() public view {
        address[] memory operators = handler.operators();
        bytes32[] memory ids = handler.evidenceIds();
        for (uint256 i; i < operators.length; ++i) {
            StakeManager.Operator memory op = homeStake.getOperator(operators[i]);
            assertLe(op.owed, op.active + op.unbonding, "owed > bonded");
            uint256 unpaid;
            for (uint256 k; k < ids.length; ++k) {
                (address operator,,,, uint256 due, uint256 paid,) = homeStake.evidence(ids[k]);
                assertLe(paid, due, "evidence paid more than due");
                if (operator == operators[i]) unpaid += due - paid;
            }
            assertEq(op.owed, unpaid, "owed != unpaid evidence");
        }
    }

    function invariant_slashProceedsAccounted() public view {
        assertEq(
            _sumPools(), handler.ghostSlashed() - handler.ghostReporterShares(), "pools != slashed - reporter shares"
        );
        bytes32[] memory ids = handler.evidenceIds();
        for (uint256 i; i < ids.length; ++i) {
            assertEq(_reporterOwed(ids[i]), handler.ghostReporterOwed(ids[i]), "reporter payout");
        }
        assertEq(
            handler.ghostReporterShares(), _sumPayouts() + handler.ghostReporterClaimed(), "reporter shares leaked"
        );
    }

    /// @dev A jailed operator never appears in a snapshot committed after its jailing.
    function invariant_jailedNeverInLaterSnapshot() public view {
        bytes32[] memory lanes = handler.lanes();
        for (uint256 l; l < lanes.length; ++l) {
            StakeManager.Snapshot memory snap = homeStake.getSnapshot(lanes[l]);
            uint256 committedAt = handler.committedAt(lanes[l]);
            for (uint256 m; m < snap.members.length; ++m) {
                uint256 jailedAt = handler.jailedAt(snap.members[m].operator);
                assertTrue(jailedAt == 0 || jailedAt > committedAt, "jailed operator in a later snapshot");
            }
        }
    }

    function invariant_snapshotsWellFormed() public view {
        bytes32[] memory lanes = handler.lanes();
        for (uint256 l; l < lanes.length; ++l) {
            StakeManager.Snapshot memory snap = homeStake.getSnapshot(lanes[l]);
            if (!snap.committed) continue;
            assertLe(snap.members.length, MAX_VALIDATORS, "more members than seats");
            bytes memory encoded = abi.encodePacked(snap.threshold, snap.validUntil);
            uint256 total;
            for (uint256 m; m < snap.members.length; ++m) {
                if (m > 0) assertGt(uint160(snap.members[m].signer), uint160(snap.members[m - 1].signer), "order");
                assertGe(snap.members[m].weight, MIN_STAKE, "member under the minimum stake");
                encoded = abi.encodePacked(encoded, snap.members[m].signer, snap.members[m].weight);
                total += snap.members[m].weight;
            }
            assertEq(snap.totalWeight, total, "total weight");
            assertGe(uint256(snap.threshold) * 3, total * 2, "threshold < 2/3");
            assertLt((uint256(snap.threshold) - 1) * 3, total * 2, "threshold above ceil(2/3)");
            assertEq(snap.setHash, keccak256(encoded), "set hash");
            // the source side attests with the latest snapshot (installed or queued)
            assertEq(home.bridge.getLane(lanes[l]).validatorSetHash, snap.setHash, "bridge set != snapshot");
        }
    }

    function invariant_honestCheckpointsNeverSlashed() public view {
        assertEq(handler.honestSlashSuccesses(), 0, "an honest checkpoint was slashed");
    }

    function invariant_rewardsConserved() public view {
        address[] memory operators = handler.operators();
        uint256 credited;
        for (uint256 i; i < operators.length; ++i) {
            credited += homeStake.rewards(operators[i], address(token));
        }
        uint256 carried = homeStake.undistributedRewards(toRemote) + homeStake.undistributedRewards(lane2);
        assertEq(token.balanceOf(address(homeStake)), credited + carried, "token balance != rewards owed");
        assertEq(handler.ghostFeesIn(), credited + carried + handler.ghostRewardsClaimed(), "fees in != out + owed");
    }

    /// @dev The handler really reaches every path the invariants are about (a handler whose
    /// calls all revert would make every invariant above pass vacuously).
    function test_handler_reachesEveryPath() public {
        handler.deposit(3, 5 ether); // registers operator 3
        handler.optIn(3, 0, 5 ether);
        handler.send(1_000 ether);
        handler.warp(1 hours);
        handler.commit(0); // pays epoch 0's fees, snapshots operator 3 in
        assertEq(handler.commits(), 1);
        assertGt(handler.ghostFeesIn(), 0);
        handler.claimRewards(2);
        assertGt(handler.ghostRewardsClaimed(), 0);

        handler.slash(1, 0, 3, 0, 0); // honest head checkpoint: refused
        handler.slash(1, 1, 4, 0, 0); // honest, pending lane: refused
        assertEq(handler.honestSlashAttempts(), 2);
        handler.slash(0, 0, 0, 0, 0); // beyond the count
        handler.slash(2, 0, 1, 1, 0); // wrong accumulator at the head
        handler.slash(3, 1, 2, 0, 0); // wrong accumulator at sequence 0 of the pending lane
        assertEq(handler.fraudsProven(), 3);
        assertEq(handler.honestSlashSuccesses(), 0);
        assertGt(handler.ghostSlashed(), 0);
        assertGt(handler.deferredSlashes(), 0, "the 50% cap deferred part of operator 2's slash");

        handler.warp(1 days);
        handler.collect(1);
        assertEq(handler.collections(), 1);
        handler.claimReporterPayout(0); // detection window after the proof is over
        assertGt(handler.ghostReporterClaimed(), 0);

        handler.unbond(1, 20 ether);
        handler.warp(2 days);
        // A full exit waits until every set that counted the operator has expired, plus the
        // detection window; a newcomer takes its place in the next snapshots.
        handler.deposit(5, 5 ether);
        handler.optIn(5, 0, 5 ether);
        handler.optIn(5, 1, 5 ether);
        handler.commit(0);
        handler.commit(1);
        handler.warp(1 days);
        handler.withdraw(1);
        assertEq(handler.withdrawals(), 1);

        invariant_balanceIsBondsPlusPayoutsPlusPools();
        invariant_totalBondedIsSumOfOperators();
        invariant_owedNeverExceedsBond();
        invariant_slashProceedsAccounted();
        invariant_jailedNeverInLaterSnapshot();
        invariant_snapshotsWellFormed();
        invariant_rewardsConserved();
    }
}
