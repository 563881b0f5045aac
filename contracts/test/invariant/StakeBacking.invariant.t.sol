// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingBase} from "../staking/StakingBase.sol";
import {StakeBackingHandler} from "./StakeBackingHandler.sol";
import {StakeManager} from "../../src/StakeManager.sol";

/// @notice "No withdrawal leaves an accepted-but-unexpired signature unbacked": for every set ever
/// committed on the lane, until its expiry plus the detection window (the last moment evidence of
/// a signature the destination accepted must still find stake), each member's bond plus what was
/// slashed from it is at least its weight in that set. Five operators, the Active fixture lane,
/// with periods where the lock (not the unbonding period) decides when stake leaves: epoch 2 min,
/// unbonding 10 min, detection 5 min, set lifetime 1 hour.
contract StakeBackingInvariantTest is StakingBase {
    StakeBackingHandler internal handler;

    function stakeConfig() internal view override returns (StakeManager.Config memory c) {
        c = super.stakeConfig();
        (c.epochLength, c.unbondingPeriod, c.detectionWindow, c.setLifetime) = (120, 600, 300, 1 hours);
    }

    function setUp() public override {
        super.setUp();
        bootstrap();
        address[] memory operators = new address[](5);
        uint256[] memory keys = new uint256[](5);
        for (uint256 i; i < 5; ++i) {
            operators[i] = ops[i];
            keys[i] = signerKeys[i];
            if (i >= 3) register(homeStake, i);
        }
        vm.chainId(HOME);
        handler = new StakeBackingHandler(homeStake, home.bridge, toRemote, operators, keys);
        targetContract(address(handler));
    }

    /// @dev The handler's exits do happen (so the invariants are not vacuous): stake that no live
    /// set needs leaves, stake a live set needs stays.
    function test_handlerExitsAndLocks() public {
        handler.unbond(2, 30 ether); // operator 2 leaves entirely
        handler.warp(601);
        handler.commit(); // drops it
        handler.withdraw(2);
        assertEq(handler.withdrawals(), 0, "locked by the bootstrap set");
        vm.warp(uint256(handler.ghostSet(0).validUntil) + homeStake.detectionWindow());
        handler.withdraw(2);
        assertEq(handler.withdrawals(), 1);
        assertGe(handler.setCount(), 2);
    }

    /// @dev Every (member, weight, lock end) of the ghost sets whose evidence window is still open.
    function _liveMembers()
        internal
        view
        returns (address[] memory members, uint96[] memory weights, uint256[] memory lockEnds)
    {
        uint256 n = handler.setCount();
        uint256 count;
        for (uint256 s; s < n; ++s) {
            StakeBackingHandler.GhostSet memory g = handler.ghostSet(s);
            if (block.timestamp < _lockEnd(g)) count += g.operators.length;
        }
        (members, weights, lockEnds) = (new address[](count), new uint96[](count), new uint256[](count));
        count = 0;
        for (uint256 s; s < n; ++s) {
            StakeBackingHandler.GhostSet memory g = handler.ghostSet(s);
            uint256 lockEnd = _lockEnd(g);
            if (block.timestamp >= lockEnd) continue;
            for (uint256 m; m < g.operators.length; ++m) {
                (members[count], weights[count], lockEnds[count]) = (g.operators[m], g.weights[m], lockEnd);
                ++count;
            }
        }
    }

    function _lockEnd(StakeBackingHandler.GhostSet memory g) internal view returns (uint256) {
        return uint256(g.validUntil) + homeStake.detectionWindow();
    }

    function invariant_everyLiveSetIsBackedByStake() public view {
        (address[] memory members, uint96[] memory weights,) = _liveMembers();
        for (uint256 i; i < members.length; ++i) {
            StakeManager.Operator memory op = homeStake.getOperator(members[i]);
            assertGe(
                op.active + op.unbonding + handler.ghostSlashed(members[i]),
                weights[i],
                "a member withdrew stake its set still needs"
            );
        }
    }

    /// @dev The lock the contract keeps covers every live ghost set.
    function invariant_lockCoversEveryLiveSet() public view {
        (address[] memory members, uint96[] memory weights, uint256[] memory lockEnds) = _liveMembers();
        for (uint256 i; i < members.length; ++i) {
            (uint256 weight, uint64 until) = homeStake.lockedStake(members[i]);
            assertGe(weight, weights[i], "locked weight below a live weight");
            assertGe(until, lockEnds[i], "lock ends before the evidence window");
        }
    }
}
