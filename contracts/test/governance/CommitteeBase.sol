// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {Committee} from "../../src/governance/Committee.sol";

/// @notice A call target that records calls, fails on demand and can re-enter the committee.
contract Recorder {
    uint256[] public calls;
    uint256 public received;

    error Boom(uint256 code);

    function hit(uint256 x) external payable {
        calls.push(x);
        received += msg.value;
    }

    function fail(uint256 code) external pure {
        revert Boom(code);
    }

    function failSilently() external pure {
        revert();
    }

    function reenterExecute(Committee committee, uint256 id) external {
        committee.execute(id);
    }

    function callCount() external view returns (uint256) {
        return calls.length;
    }
}

/// @notice Helpers shared by the governance suites: committees built from weight lists, one-call
/// proposals, votes and the pass rule recomputed independently (ceilDiv over the exact ratios).
abstract contract CommitteeBase is Test {
    uint32 internal constant VOTING = 3 days;
    uint32 internal constant TIMELOCK = 2 days;
    uint32 internal constant GRACE = 7 days;

    address internal outsider = makeAddr("outsider");

    function memberAt(uint256 i) internal pure returns (address) {
        return vm.addr(uint256(keccak256(abi.encode("committee member", i))) % (SECP256K1_ORDER - 1) + 1);
    }

    function membersOf(uint256 n) internal pure returns (address[] memory ms) {
        ms = new address[](n);
        for (uint256 i; i < n; ++i) {
            ms[i] = memberAt(i);
        }
    }

    function weights(uint96 a) internal pure returns (uint96[] memory w) {
        w = new uint96[](1);
        w[0] = a;
    }

    function weights(uint96 a, uint96 b) internal pure returns (uint96[] memory w) {
        w = new uint96[](2);
        (w[0], w[1]) = (a, b);
    }

    function weights(uint96 a, uint96 b, uint96 c) internal pure returns (uint96[] memory w) {
        w = new uint96[](3);
        (w[0], w[1], w[2]) = (a, b, c);
    }

    function weights(uint96 a, uint96 b, uint96 c, uint96 d) internal pure returns (uint96[] memory w) {
        w = new uint96[](4);
        (w[0], w[1], w[2], w[3]) = (a, b, c, d);
    }

    function newCommittee(uint96[] memory w, uint16 participation, uint16 approval) internal returns (Committee) {
        return new Committee(membersOf(w.length), w, participation, approval, VOTING, TIMELOCK, GRACE);
    }

    function newCommittee(uint96[] memory w) internal returns (Committee) {
        return newCommittee(w, 0, 0);
    }

    function single(address target, uint256 value, bytes memory data)
        internal
        pure
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        targets = new address[](1);
        values = new uint256[](1);
        calldatas = new bytes[](1);
        (targets[0], values[0], calldatas[0]) = (target, value, data);
    }

    function proposeAs(address proposer, Committee c, address target, bytes memory data) internal returns (uint256) {
        (address[] memory t, uint256[] memory v, bytes[] memory d) = single(target, 0, data);
        vm.prank(proposer);
        return c.propose(t, v, d, "proposal");
    }

    function proposeAs(
        address proposer,
        Committee c,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas
    ) internal returns (uint256) {
        vm.prank(proposer);
        return c.propose(targets, values, calldatas, "proposal");
    }

    function voteAs(address member, Committee c, uint256 id, bool support) internal {
        vm.prank(member);
        c.vote(id, support);
    }

    /// @notice Members 0..n-1 approve (until the proposal is decided); anyone queues; time moves to the eta.
    function passAndQueue(Committee c, uint256 id, uint256 approvers) internal {
        for (uint256 i; i < approvers; ++i) {
            if (c.state(id) != Committee.ProposalState.Active) break;
            voteAs(memberAt(i), c, id, true);
        }
        assertEq(uint8(c.state(id)), uint8(Committee.ProposalState.Succeeded), "not succeeded");
        vm.prank(outsider);
        uint48 eta = c.queue(id);
        vm.warp(eta);
    }

    /// @notice Members 0..n-1 approve; then anyone queues, waits out the timelock and executes.
    function passAndExecute(Committee c, uint256 id, uint256 approvers) internal {
        passAndQueue(c, id, approvers);
        vm.prank(outsider);
        c.execute(id);
        assertEq(uint8(c.state(id)), uint8(Committee.ProposalState.Executed), "not executed");
    }

    function expectState(Committee c, uint256 id, Committee.ProposalState s) internal view {
        assertEq(uint8(c.state(id)), uint8(s), "proposal state");
    }

    function badState(uint256 id, Committee.ProposalState s) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(Committee.UnexpectedProposalState.selector, id, s);
    }

    /// @notice Reference pass rule: each ratio rounded up to a whole basis point reaches its rate.
    function refPasses(uint256 participating, uint256 approving, uint256 total, uint256 pBps, uint256 aBps)
        internal
        pure
        returns (bool)
    {
        if (participating == 0) return false;
        return
            Math.ceilDiv(participating * 10_000, total) >= pBps
                && Math.ceilDiv(approving * 10_000, participating) >= aBps;
    }
}
