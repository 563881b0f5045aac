// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Committee} from "../../src/governance/Committee.sol";
import {CommitteeBase, Recorder} from "./CommitteeBase.sol";

/// @notice The vote arithmetic against an independent reference (ceilDiv over the exact ratios),
/// on the pure rule and on whole committees driven by random weights, rates and ballots.
contract CommitteeFuzzTest is CommitteeBase {
    Committee internal c;
    Recorder internal target;

    function setUp() public {
        vm.warp(1_700_000_000);
        c = newCommittee(weights(1, 1, 1));
        target = new Recorder();
    }

    function testFuzz_passRule_matchesReference(
        uint96 total,
        uint96 participating,
        uint96 approving,
        uint16 pBps,
        uint16 aBps
    ) public view {
        total = uint96(bound(total, 1, type(uint96).max));
        participating = uint96(bound(participating, 0, total));
        approving = uint96(bound(approving, 0, participating));
        pBps = uint16(bound(pBps, 5000, 10_000));
        aBps = uint16(bound(aBps, 5001, 10_000));

        bool got = c.passes(participating, approving, total, pBps, aBps);
        assertEq(got, refPasses(participating, approving, total, pBps, aBps), "reference");

        // The exact (unrounded) rule always passes; rounding only admits ratios within 1 bps below.
        uint256 p = participating;
        uint256 t = total;
        bool exact = p > 0 && p * 10_000 >= uint256(pBps) * t && uint256(approving) * 10_000 >= uint256(aBps) * p;
        if (exact) assertTrue(got, "exact thresholds must pass");
        if (got) {
            assertGt(p * 10_000 + t, uint256(pBps) * t, "participation within 1 bps");
            assertGt(uint256(approving) * 10_000 + p, uint256(aBps) * p, "approval within 1 bps");
        }
    }

    /// @dev The smallest passing participation passes and one unit less fails.
    function testFuzz_passRule_boundary(uint96 total, uint16 pBps) public view {
        total = uint96(bound(total, 1, type(uint96).max / 2));
        pBps = uint16(bound(pBps, 5000, 10_000));
        uint256 minimum = (uint256(pBps) - 1) * total / 10_000 + 1; // smallest P with P*1e4 > (p-1)*T
        assertLe(minimum, total);
        assertTrue(c.passes(minimum, minimum, total, pBps, 10_000), "at threshold");
        assertFalse(c.passes(minimum - 1, minimum - 1, total, pBps, 5001), "below threshold");
    }

    function testFuzz_approvalNeverPassesWithoutMajority(uint96 participating, uint96 approving, uint16 aBps)
        public
        view
    {
        participating = uint96(bound(participating, 1, type(uint96).max));
        approving = uint96(bound(approving, 0, participating / 2)); // at most half
        aBps = uint16(bound(aBps, 5001, 10_000));
        assertFalse(c.passes(participating, approving, participating, 5000, aBps));
    }

    struct Run {
        Committee committee;
        uint256 id;
        uint256 total;
        uint256 forW;
        uint256 againstW;
        uint16 pBps;
        uint16 aBps;
    }

    function _expected(Run memory r) internal pure returns (Committee.ProposalState) {
        uint256 part = r.forW + r.againstW;
        if (refPasses(part, r.forW, r.total, r.pBps, r.aBps)) return Committee.ProposalState.Succeeded;
        // best case: every remaining member approves
        if (!refPasses(r.total, r.forW + (r.total - part), r.total, r.pBps, r.aBps)) {
            return Committee.ProposalState.Defeated;
        }
        return Committee.ProposalState.Active;
    }

    /// @dev Random committee, rates and ballots (abstain / for / against); the state after every
    /// vote matches the reference, decided proposals refuse further votes, and the end of the
    /// lifecycle follows from the outcome.
    function testFuzz_votesDriveState(uint256 seed, uint8 n, uint16 pBps, uint16 aBps, bool bigWeights) public {
        n = uint8(bound(n, 1, 8));
        Run memory r;
        r.pBps = uint16(bound(pBps, 5000, 10_000));
        r.aBps = uint16(bound(aBps, 5001, 10_000));
        uint96[] memory w = new uint96[](n);
        uint256 modulus = bigWeights ? 2 ** 90 : 1000;
        for (uint256 i; i < n; ++i) {
            w[i] = uint96(uint256(keccak256(abi.encode(seed, "weight", i))) % modulus + 1);
            r.total += w[i];
        }
        r.committee = newCommittee(w, r.pBps, r.aBps);
        assertEq(r.committee.totalWeight(), r.total);

        bool anySingle;
        for (uint256 i; i < n; ++i) {
            anySingle = anySingle || refPasses(w[i], w[i], r.total, r.pBps, r.aBps);
        }
        assertEq(r.committee.isSingleKey(), anySingle, "isSingleKey");

        r.id = proposeAs(memberAt(0), r.committee, address(target), abi.encodeCall(Recorder.hit, (1)));
        for (uint256 i; i < n; ++i) {
            uint256 ballot = uint256(keccak256(abi.encode(seed, "ballot", i))) % 3; // 0 abstain, 1 for, 2 against
            if (ballot == 0) continue;
            Committee.ProposalState before = _expected(r);
            if (before != Committee.ProposalState.Active) {
                vm.prank(memberAt(i));
                vm.expectRevert(badState(r.id, before));
                r.committee.vote(r.id, ballot == 1);
                continue;
            }
            voteAs(memberAt(i), r.committee, r.id, ballot == 1);
            if (ballot == 1) r.forW += w[i];
            else r.againstW += w[i];
            expectState(r.committee, r.id, _expected(r));
        }
        Committee.Proposal memory p = r.committee.getProposal(r.id);
        assertEq(p.forWeight, r.forW);
        assertEq(p.againstWeight, r.againstW);

        Committee.ProposalState outcome = _expected(r);
        if (outcome == Committee.ProposalState.Succeeded) {
            uint48 eta = r.committee.queue(r.id);
            vm.warp(eta);
            r.committee.execute(r.id);
            assertEq(target.callCount(), 1);
        } else {
            vm.expectRevert(badState(r.id, outcome));
            r.committee.queue(r.id);
            vm.warp(block.timestamp + VOTING + 1);
            expectState(
                r.committee, r.id, outcome == Committee.ProposalState.Active ? Committee.ProposalState.Expired : outcome
            );
            assertEq(target.callCount(), 0);
        }
    }
}
