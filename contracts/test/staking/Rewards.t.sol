// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingBase} from "./StakingBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";

/// @notice Validator rewards: the validators' share of a lane's fees, paid at each epoch commit to
/// the closing snapshot's members pro rata to weight (bootstrap stakes 10/20/30 ether = 1:2:3).
///
/// Fee arithmetic (defaultParams: 10 bps fee, bridge validatorShareBps 20%):
///   send 1,000 tokens: fee 1e18, validators 2e17;  send 7 tokens: fee 7e15, validators 1.4e15.
contract RewardsTest is StakingBase {
    uint256 internal constant FEES = 201_400_000_000_000_000; // 2e17 + 1.4e15

    function setUp() public override {
        super.setUp();
        bootstrap();
    }

    function _validatorCut(uint256 amount) internal pure returns (uint256) {
        return (amount * 10 / 10_000) * 2_000 / 10_000;
    }

    function _sendFees() internal {
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        sendAs(alice, toRemote, bob, 7 * UNIT);
        assertEq(home.bridge.getLane(toRemote).validatorFees, FEES, "validator fees accrued on the bridge");
    }

    function _rewards(uint256 i) internal view returns (uint256) {
        return homeStake.rewards(ops[i], address(token));
    }

    function test_rewards_proRataToWeight_dustCarriedToNextEpoch() public {
        _sendFees();
        assertEq(_validatorCut(1_000 * UNIT) + _validatorCut(7 * UNIT), FEES);
        nextEpoch();
        vm.chainId(HOME);
        vm.expectEmit(address(home.bridge));
        emit ValidatorFeesWithdrawn(toRemote, address(homeStake), FEES);
        vm.expectEmit(address(homeStake));
        emit StakeManager.RewardsDistributed(toRemote, 0, address(token), FEES - 1);
        homeStake.commitEpoch(toRemote);

        // FEES * 1/6, 2/6, 3/6, rounded down; one wei of dust stays for the next epoch
        assertEq(_rewards(0), 33_566_666_666_666_666);
        assertEq(_rewards(1), 67_133_333_333_333_333);
        assertEq(_rewards(2), 100_700_000_000_000_000);
        assertEq(homeStake.undistributedRewards(toRemote), 1);
        assertEq(home.bridge.getLane(toRemote).validatorFees, 0);
        assertEq(token.balanceOf(address(homeStake)), FEES);

        // epoch 1: 2e17 more, plus the carried wei
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        nextEpoch();
        vm.expectEmit(address(homeStake));
        emit StakeManager.RewardsDistributed(toRemote, 1, address(token), 200_000_000_000_000_000);
        homeStake.commitEpoch(toRemote);
        assertEq(_rewards(0), 33_566_666_666_666_666 + 33_333_333_333_333_333);
        assertEq(_rewards(1), 67_133_333_333_333_333 + 66_666_666_666_666_667);
        assertEq(_rewards(2), 100_700_000_000_000_000 + 100_000_000_000_000_000);
        assertEq(homeStake.undistributedRewards(toRemote), 1);
        assertEq(token.balanceOf(address(homeStake)), FEES + 200_000_000_000_000_000);
    }

    function test_claimRewards_paysAndZeroes() public {
        _sendFees();
        nextEpoch();
        commit(toRemote);
        uint256 due = _rewards(1);
        assertEq(due, 67_133_333_333_333_333);

        vm.prank(ops[1]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.RewardsClaimed(ops[1], address(token), due);
        homeStake.claimRewards(address(token));
        assertEq(token.balanceOf(ops[1]), due);
        assertEq(_rewards(1), 0);
        assertEq(token.balanceOf(address(homeStake)), FEES - due);

        vm.prank(ops[1]);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.claimRewards(address(token));
        // rewards are per operator: the signing key has none
        vm.prank(signers[0]);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.claimRewards(address(token));
    }

    function test_rewards_jailedMemberGetsNothing_othersShare() public {
        _sendFees();
        homeStake.jail(ops[1]); // governance, during epoch 0
        nextEpoch();
        commit(toRemote);
        assertEq(_rewards(1), 0);
        assertEq(_rewards(0), FEES / 4); // 10 of the 40 still eligible
        assertEq(_rewards(2), FEES * 3 / 4);
        assertEq(_rewards(0) + _rewards(2), FEES);
        assertEq(homeStake.undistributedRewards(toRemote), 0);
        // and it left the set
        assertEq(homeStake.getSnapshot(toRemote).members.length, 2);
    }

    function test_rewards_memberJailedAndUnjailedInTheEpoch_forfeitsThatEpochOnly() public {
        _sendFees();
        homeStake.jail(ops[1]);
        homeStake.unjail(ops[1]);
        nextEpoch(); // epoch 1
        commit(toRemote); // pays epoch 0 without operator 1; operator 1 is back in the new set
        assertEq(_rewards(1), 0);
        assertEq(_rewards(0), FEES / 4);
        assertEq(homeStake.getSnapshot(toRemote).members.length, 3);

        sendAs(alice, toRemote, bob, 1_000 * UNIT); // 2e17
        nextEpoch();
        commit(toRemote);
        assertEq(_rewards(1), 66_666_666_666_666_666, "earns again in the next epoch: 2e17 * 20/60");
    }

    function test_rewards_slashedMemberGetsNothing_othersShare() public {
        _sendFees();
        slashAs(reporter, 2, forged(100), noProof());
        nextEpoch();
        commit(toRemote);
        assertEq(_rewards(2), 0);
        assertEq(_rewards(0), 67_133_333_333_333_333); // FEES * 10/30
        assertEq(_rewards(1), 134_266_666_666_666_666); // FEES * 20/30
        assertEq(homeStake.undistributedRewards(toRemote), 1);
    }

    function test_rewards_nobodyEligible_allCarried() public {
        _sendFees();
        for (uint256 i; i < 3; ++i) {
            homeStake.jail(ops[i]);
        }
        join(homeStake, 3, toRemote, 5 ether);
        nextEpoch();
        commit(toRemote);
        assertEq(homeStake.undistributedRewards(toRemote), FEES);
        assertEq(_rewards(0) + _rewards(1) + _rewards(2) + _rewards(3), 0);
        assertEq(token.balanceOf(address(homeStake)), FEES, "withdrawn from the bridge all the same");

        // the next set (operator 3 alone) takes what was carried
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        nextEpoch();
        commit(toRemote);
        assertEq(_rewards(3), FEES + 200_000_000_000_000_000);
        assertEq(homeStake.undistributedRewards(toRemote), 0);
    }

    function test_rewards_remoteLane_paidInWrappedTokens() public {
        sendAs(alice, toRemote, bob, 10_000 * UNIT);
        relay(toRemote);
        sendAs(bob, toHome, alice, 1_000 * UNIT); // burns on remote; the fee stays minted there
        assertEq(remote.bridge.getLane(toHome).validatorFees, 200_000_000_000_000_000);
        nextEpoch();
        commit(toHome);
        assertEq(remoteStake.rewards(ops[0], address(wrapped)), 33_333_333_333_333_333);
        assertEq(remoteStake.rewards(ops[1], address(wrapped)), 66_666_666_666_666_666);
        assertEq(remoteStake.rewards(ops[2], address(wrapped)), 100_000_000_000_000_000);
        assertEq(remoteStake.undistributedRewards(toHome), 1);

        vm.chainId(REMOTE);
        vm.prank(ops[2]);
        remoteStake.claimRewards(address(wrapped));
        assertEq(wrapped.balanceOf(ops[2]), 100_000_000_000_000_000);
        // the home lane's rewards are separate
        assertEq(homeStake.rewards(ops[2], address(token)), 0);
    }

    /// @dev Whatever the stakes, fees and jailings: everything withdrawn from the bridge is either
    /// credited to an operator or carried, and the carried dust is below the number of members.
    function testFuzz_rewards_distributedPlusCarriedEqualsFeesIn(
        uint96[3] memory stakes,
        uint256[4] memory amounts,
        uint8 jailMask
    ) public {
        // operators 3..5 join the bootstrap set with fuzzed stakes (six candidates, four seats)
        for (uint256 i; i < 3; ++i) {
            join(homeStake, 3 + i, toRemote, bound(stakes[i], MIN_STAKE, 1_000_000 ether));
        }
        uint256 feesIn;
        for (uint256 e; e < 2; ++e) {
            for (uint256 k; k < 2; ++k) {
                uint256 amount = bound(amounts[e * 2 + k], 1, 100_000 * UNIT);
                token.mint(alice, amount);
                sendAs(alice, toRemote, bob, amount);
                feesIn += _validatorCut(amount);
            }
            uint256[6] memory before;
            for (uint256 i; i < 6; ++i) {
                before[i] = _rewards(i);
            }
            uint256 jailed = type(uint256).max;
            if ((jailMask >> e) & 1 == 1) {
                jailed = (jailMask >> 4) % 6;
                if (!homeStake.getOperator(ops[jailed]).jailed) homeStake.jail(ops[jailed]);
            }
            nextEpoch();
            commit(toRemote);
            if (jailed != type(uint256).max) assertEq(_rewards(jailed), before[jailed], "jailed member earned");
        }
        uint256 credited;
        for (uint256 i; i < 6; ++i) {
            credited += _rewards(i);
        }
        uint256 carried = homeStake.undistributedRewards(toRemote);
        assertEq(credited + carried, feesIn, "distributed + carried == fees in");
        assertEq(token.balanceOf(address(homeStake)), feesIn);
        assertEq(home.bridge.getLane(toRemote).validatorFees, 0);
        assertLt(carried, MAX_VALIDATORS, "dust below one wei per member");
    }
}
