// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {Committee} from "../../src/governance/Committee.sol";
import {CommitteeBase, Recorder} from "./CommitteeBase.sol";

contract CommitteeTest is CommitteeBase {
    Committee internal c; // three members of weight 1, default rates
    Recorder internal target;
    address internal m0 = memberAt(0);
    address internal m1 = memberAt(1);
    address internal m2 = memberAt(2);

    function setUp() public {
        vm.warp(1_700_000_000);
        c = newCommittee(weights(1, 1, 1));
        target = new Recorder();
    }

    function _hit(uint256 x) internal pure returns (bytes memory) {
        return abi.encodeCall(Recorder.hit, (x));
    }

    // ---------------------------------------------------------------------------------------
    // Construction and configuration views
    // ---------------------------------------------------------------------------------------

    function test_constructor_defaultsAndViews() public view {
        assertEq(c.participationBps(), 6667);
        assertEq(c.approvalBps(), 6667);
        assertEq(c.DEFAULT_RATE_BPS(), 6667);
        assertEq(c.memberCount(), 3);
        assertEq(c.totalWeight(), 3);
        assertEq(c.weightOf(m1), 1);
        assertEq(c.weightOf(outsider), 0);
        assertTrue(c.isMember(m2));
        assertFalse(c.isMember(outsider));
        assertEq(c.members()[0], m0);
        assertEq(c.votingPeriod(), VOTING);
        assertEq(c.timelockDelay(), TIMELOCK);
        assertEq(c.gracePeriod(), GRACE);
        assertEq(c.version(), 0);
        assertFalse(c.isSingleKey());
    }

    function test_constructor_explicitRates() public {
        Committee x = newCommittee(weights(1, 1), 5000, 10_000);
        assertEq(x.participationBps(), 5000);
        assertEq(x.approvalBps(), 10_000);
        x = newCommittee(weights(1, 1), 10_000, 5001);
        assertEq(x.participationBps(), 10_000);
        assertEq(x.approvalBps(), 5001);
    }

    function test_constructor_rateBounds() public {
        address[] memory ms = membersOf(2);
        uint96[] memory w = weights(1, 1);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidParticipationRate.selector, 4999));
        new Committee(ms, w, 4999, 6667, VOTING, TIMELOCK, GRACE);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidParticipationRate.selector, 10_001));
        new Committee(ms, w, 10_001, 6667, VOTING, TIMELOCK, GRACE);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidApprovalRate.selector, 5000));
        new Committee(ms, w, 6667, 5000, VOTING, TIMELOCK, GRACE);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidApprovalRate.selector, 10_001));
        new Committee(ms, w, 6667, 10_001, VOTING, TIMELOCK, GRACE);
    }

    function test_constructor_periodBounds() public {
        address[] memory ms = membersOf(2);
        uint96[] memory w = weights(1, 1);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidVotingPeriod.selector, 59));
        new Committee(ms, w, 0, 0, 59, TIMELOCK, GRACE);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidVotingPeriod.selector, 90 days + 1));
        new Committee(ms, w, 0, 0, 90 days + 1, TIMELOCK, GRACE);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidTimelockDelay.selector, 90 days + 1));
        new Committee(ms, w, 0, 0, VOTING, 90 days + 1, GRACE);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidGracePeriod.selector, 1 hours - 1));
        new Committee(ms, w, 0, 0, VOTING, TIMELOCK, 1 hours - 1);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidGracePeriod.selector, 90 days + 1));
        new Committee(ms, w, 0, 0, VOTING, TIMELOCK, 90 days + 1);
        // a zero timelock is accepted (devnet), as are the bounds themselves
        Committee x = new Committee(ms, w, 0, 0, 1 minutes, 0, 1 hours);
        assertEq(x.timelockDelay(), 0);
        x = new Committee(ms, w, 0, 0, 90 days, 90 days, 90 days);
        assertEq(x.gracePeriod(), 90 days);
    }

    function test_constructor_memberChecks() public {
        address[] memory ms = membersOf(2);
        vm.expectRevert(Committee.LengthMismatch.selector);
        new Committee(ms, weights(1), 0, 0, VOTING, TIMELOCK, GRACE);
        vm.expectRevert(Committee.NoMembers.selector);
        new Committee(new address[](0), new uint96[](0), 0, 0, VOTING, TIMELOCK, GRACE);

        address[] memory withZero = membersOf(2);
        withZero[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidMember.selector, address(0)));
        new Committee(withZero, weights(1, 1), 0, 0, VOTING, TIMELOCK, GRACE);

        address[] memory dup = membersOf(2);
        dup[1] = dup[0];
        vm.expectRevert(abi.encodeWithSelector(Committee.DuplicateMember.selector, dup[0]));
        new Committee(dup, weights(1, 1), 0, 0, VOTING, TIMELOCK, GRACE);

        vm.expectRevert(abi.encodeWithSelector(Committee.ZeroWeight.selector, ms[1]));
        new Committee(ms, weights(1, 0), 0, 0, VOTING, TIMELOCK, GRACE);

        vm.expectRevert(Committee.TotalWeightOverflow.selector);
        new Committee(ms, weights(type(uint96).max, 1), 0, 0, VOTING, TIMELOCK, GRACE);

        vm.expectRevert(abi.encodeWithSelector(Committee.TooManyMembers.selector, 65, 64));
        new Committee(membersOf(65), new uint96[](65), 0, 0, VOTING, TIMELOCK, GRACE);
    }

    function test_isSingleKey() public {
        assertTrue(newCommittee(weights(1)).isSingleKey(), "one member");
        assertEq(newCommittee(weights(1)).memberCount(), 1);
        assertFalse(newCommittee(weights(1, 1)).isSingleKey(), "1 of 2 is 50%");
        assertTrue(newCommittee(weights(2, 1)).isSingleKey(), "2 of 3 is two thirds");
        assertFalse(newCommittee(weights(3, 1, 1)).isSingleKey(), "3 of 5 is 60%");
        assertTrue(newCommittee(weights(7, 1, 1, 1)).isSingleKey(), "7 of 10 is 70%");
        assertFalse(newCommittee(weights(7, 1, 1, 1), 7001, 6667).isSingleKey(), "higher participation rate");
    }

    // ---------------------------------------------------------------------------------------
    // Proposing and voting
    // ---------------------------------------------------------------------------------------

    function test_propose_storesAndEmits() public {
        address[] memory t = new address[](2);
        uint256[] memory v = new uint256[](2);
        bytes[] memory d = new bytes[](2);
        (t[0], t[1]) = (address(target), address(c));
        (v[0], v[1]) = (5, 0);
        (d[0], d[1]) = (_hit(1), abi.encodeCall(Committee.setGracePeriod, (2 days)));
        vm.expectEmit(address(c));
        emit Committee.ProposalCreated(1, m1, t, v, d, "two calls", uint48(block.timestamp + VOTING));
        vm.prank(m1);
        uint256 id = c.propose(t, v, d, "two calls");
        assertEq(id, 1);
        assertEq(c.proposalCount(), 1);

        Committee.Proposal memory p = c.getProposal(id);
        assertEq(p.proposer, m1);
        assertEq(p.voteEnd, block.timestamp + VOTING);
        assertEq(p.queueDeadline, block.timestamp + VOTING + GRACE);
        assertEq(p.totalWeight, 3);
        assertEq(p.participationBps, 6667);
        assertEq(p.approvalBps, 6667);
        assertEq(p.eta, 0);
        (address[] memory t2, uint256[] memory v2, bytes[] memory d2) = c.getActions(id);
        assertEq(t2, t);
        assertEq(v2, v);
        assertEq(d2[1], d[1]);
        expectState(c, id, Committee.ProposalState.Active);
        assertEq(c.votingWeight(id, m2), 1);
    }

    function test_propose_rejectsNonMembersAndMalformed() public {
        (address[] memory t, uint256[] memory v, bytes[] memory d) = single(address(target), 0, _hit(1));
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, outsider));
        c.propose(t, v, d, "");

        vm.startPrank(m0);
        vm.expectRevert(Committee.EmptyProposal.selector);
        c.propose(new address[](0), new uint256[](0), new bytes[](0), "");
        vm.expectRevert(Committee.LengthMismatch.selector);
        c.propose(t, new uint256[](2), d, "");
        vm.expectRevert(Committee.LengthMismatch.selector);
        c.propose(t, v, new bytes[](0), "");
        vm.stopPrank();
        assertEq(c.proposalCount(), 0);
    }

    function test_vote_rejectsNonMembersDoubleVotesAndUnknownIds() public {
        uint256 id = proposeAs(m0, c, address(target), _hit(1));
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, outsider));
        c.vote(id, true);

        voteAs(m0, c, id, true);
        assertTrue(c.hasVoted(id, m0));
        vm.prank(m0);
        vm.expectRevert(abi.encodeWithSelector(Committee.AlreadyVoted.selector, id, m0));
        c.vote(id, true);
        vm.prank(m0);
        vm.expectRevert(abi.encodeWithSelector(Committee.AlreadyVoted.selector, id, m0));
        c.vote(id, false);
        assertEq(c.getProposal(id).forWeight, 1);
        assertEq(c.getProposal(id).againstWeight, 0);

        vm.prank(m1);
        vm.expectRevert(abi.encodeWithSelector(Committee.UnknownProposal.selector, 99));
        c.vote(99, true);
        vm.expectRevert(abi.encodeWithSelector(Committee.UnknownProposal.selector, 0));
        c.state(0);
    }

    function test_singleMemberCannotPassOnItsOwnVote() public {
        uint256 id = proposeAs(m0, c, address(target), _hit(1));
        voteAs(m0, c, id, true);
        expectState(c, id, Committee.ProposalState.Active);
        vm.expectRevert(badState(id, Committee.ProposalState.Active));
        c.queue(id);
        vm.expectRevert(badState(id, Committee.ProposalState.Active));
        c.execute(id);
        vm.warp(block.timestamp + VOTING + 1);
        expectState(c, id, Committee.ProposalState.Expired);
        vm.expectRevert(badState(id, Committee.ProposalState.Expired));
        c.queue(id);
        assertEq(target.callCount(), 0);
    }

    function test_twoOfThreePasses_roundingUpToTwoThirds() public {
        uint256 id = proposeAs(m0, c, address(target), _hit(1));
        voteAs(m0, c, id, true);
        vm.expectEmit(address(c));
        emit Committee.VoteCast(id, m2, true, 1);
        vm.expectEmit(address(c));
        emit Committee.ProposalSucceeded(id);
        voteAs(m2, c, id, true);
        expectState(c, id, Committee.ProposalState.Succeeded);
        // the decision is taken: voting is closed
        vm.prank(m1);
        vm.expectRevert(badState(id, Committee.ProposalState.Succeeded));
        c.vote(id, false);
    }

    function test_vote_afterDeadlineReverts() public {
        uint256 id = proposeAs(m0, c, address(target), _hit(1));
        uint48 voteEnd = c.getProposal(id).voteEnd;
        vm.warp(voteEnd); // last second still open
        voteAs(m0, c, id, true);
        vm.warp(voteEnd + 1);
        vm.prank(m1);
        vm.expectRevert(badState(id, Committee.ProposalState.Expired));
        c.vote(id, true);
        expectState(c, id, Committee.ProposalState.Expired);
    }

    // ---------------------------------------------------------------------------------------
    // Participation and approval rates, exactly at and just below the thresholds
    // ---------------------------------------------------------------------------------------

    function test_participationBelowRate_fails() public {
        Committee x = newCommittee(weights(6666, 3334));
        uint256 id = proposeAs(memberAt(0), x, address(target), _hit(1));
        voteAs(memberAt(0), x, id, true); // 66.66% participation, 100% approval
        expectState(x, id, Committee.ProposalState.Active);
        vm.expectRevert(badState(id, Committee.ProposalState.Active));
        x.queue(id);
        vm.warp(block.timestamp + VOTING + 1);
        expectState(x, id, Committee.ProposalState.Expired);
    }

    function test_participationExactlyAtRate_passes() public {
        Committee x = newCommittee(weights(6667, 3333));
        uint256 id = proposeAs(memberAt(1), x, address(target), _hit(1));
        voteAs(memberAt(0), x, id, true); // exactly 66.67%
        expectState(x, id, Committee.ProposalState.Succeeded);
    }

    function test_approvalBelowRate_withFullParticipation_fails() public {
        Committee x = newCommittee(weights(6666, 3334));
        uint256 id = proposeAs(memberAt(0), x, address(target), _hit(1));
        voteAs(memberAt(0), x, id, true);
        vm.expectEmit(address(x));
        emit Committee.ProposalDefeated(id);
        voteAs(memberAt(1), x, id, false); // 100% participation, 66.66% approval
        expectState(x, id, Committee.ProposalState.Defeated);
        vm.expectRevert(badState(id, Committee.ProposalState.Defeated));
        x.queue(id);
        vm.warp(block.timestamp + VOTING + 1);
        expectState(x, id, Committee.ProposalState.Defeated);
    }

    function test_approvalExactlyAtRate_passes() public {
        // everyone must take part, so the approval rate decides
        Committee x = newCommittee(weights(6667, 3333), 10_000, 6667);
        uint256 id = proposeAs(memberAt(0), x, address(target), _hit(1));
        voteAs(memberAt(0), x, id, true);
        expectState(x, id, Committee.ProposalState.Active);
        voteAs(memberAt(1), x, id, false); // exactly 66.67% approval
        expectState(x, id, Committee.ProposalState.Succeeded);
    }

    function test_approvalJustBelowRate_withRequiredFullParticipation_fails() public {
        Committee x = newCommittee(weights(6666, 3334), 10_000, 6667);
        uint256 id = proposeAs(memberAt(0), x, address(target), _hit(1));
        voteAs(memberAt(0), x, id, true);
        voteAs(memberAt(1), x, id, false);
        expectState(x, id, Committee.ProposalState.Defeated);
    }

    function test_approvalRounding_twoOfThreeParticipants() public {
        Committee x = newCommittee(weights(1, 1, 1), 10_000, 6667);
        uint256 id = proposeAs(memberAt(0), x, address(target), _hit(1));
        voteAs(memberAt(0), x, id, true);
        voteAs(memberAt(1), x, id, false);
        expectState(x, id, Committee.ProposalState.Active); // 2 of 3 approvals still reachable
        voteAs(memberAt(2), x, id, true); // 2/3 approval rounds up to 6667
        expectState(x, id, Committee.ProposalState.Succeeded);

        uint256 id2 = proposeAs(memberAt(0), x, address(target), _hit(2));
        voteAs(memberAt(0), x, id2, true);
        voteAs(memberAt(1), x, id2, false);
        voteAs(memberAt(2), x, id2, false);
        expectState(x, id2, Committee.ProposalState.Defeated);
    }

    function test_strictMajorityApproval() public {
        Committee x = newCommittee(weights(1, 1), 10_000, 5001);
        uint256 id = proposeAs(memberAt(0), x, address(target), _hit(1));
        voteAs(memberAt(0), x, id, true);
        voteAs(memberAt(1), x, id, false); // exactly half is not a majority
        expectState(x, id, Committee.ProposalState.Defeated);
    }

    function test_earlyDefeat_whenApprovalUnreachable() public {
        uint256 id = proposeAs(m0, c, address(target), _hit(1));
        voteAs(m0, c, id, false);
        expectState(c, id, Committee.ProposalState.Active);
        voteAs(m1, c, id, false); // at most 1 of 3 can still approve
        expectState(c, id, Committee.ProposalState.Defeated);
        vm.prank(m2);
        vm.expectRevert(badState(id, Committee.ProposalState.Defeated));
        c.vote(id, true);
    }

    // ---------------------------------------------------------------------------------------
    // Timelock and expiry
    // ---------------------------------------------------------------------------------------

    function _succeeded(bytes memory data) internal returns (uint256 id) {
        id = proposeAs(m0, c, address(target), data);
        voteAs(m0, c, id, true);
        voteAs(m1, c, id, true);
    }

    function test_timelock_executeBeforeEtaReverts() public {
        uint256 id = _succeeded(_hit(7));
        uint48 expectedEta = uint48(block.timestamp + TIMELOCK);
        vm.expectEmit(address(c));
        emit Committee.ProposalQueued(id, expectedEta, expectedEta + GRACE);
        vm.prank(outsider); // anyone may queue
        uint48 eta = c.queue(id);
        assertEq(eta, expectedEta);
        expectState(c, id, Committee.ProposalState.Queued);

        vm.expectRevert(abi.encodeWithSelector(Committee.TimelockNotElapsed.selector, id, eta));
        c.execute(id);
        vm.warp(eta - 1);
        vm.expectRevert(abi.encodeWithSelector(Committee.TimelockNotElapsed.selector, id, eta));
        c.execute(id);
        // queueing twice is not possible
        vm.expectRevert(badState(id, Committee.ProposalState.Queued));
        c.queue(id);

        vm.warp(eta);
        vm.expectEmit(address(c));
        emit Committee.ProposalExecuted(id, outsider);
        vm.prank(outsider); // anyone may execute
        c.execute(id);
        expectState(c, id, Committee.ProposalState.Executed);
        assertEq(target.calls(0), 7);
        vm.expectRevert(badState(id, Committee.ProposalState.Executed));
        c.execute(id);
        assertEq(target.callCount(), 1);
    }

    function test_timelock_lastSecondOfWindowExecutes() public {
        uint256 id = _succeeded(_hit(1));
        uint48 eta = c.queue(id);
        vm.warp(eta + GRACE);
        c.execute(id);
        assertEq(target.callCount(), 1);
    }

    function test_timelock_missedWindowExpires() public {
        uint256 id = _succeeded(_hit(1));
        uint48 eta = c.queue(id);
        vm.warp(eta + GRACE + 1);
        expectState(c, id, Committee.ProposalState.Expired);
        vm.expectRevert(badState(id, Committee.ProposalState.Expired));
        c.execute(id);
        assertEq(target.callCount(), 0);
    }

    function test_succeededButNeverQueued_expires() public {
        uint256 id = _succeeded(_hit(1));
        Committee.Proposal memory p = c.getProposal(id);
        vm.warp(p.queueDeadline);
        expectState(c, id, Committee.ProposalState.Succeeded);
        vm.warp(p.queueDeadline + 1);
        expectState(c, id, Committee.ProposalState.Expired);
        vm.expectRevert(badState(id, Committee.ProposalState.Expired));
        c.queue(id);
    }

    function test_zeroTimelock_executesInTheSameBlock() public {
        Committee x = new Committee(membersOf(3), weights(1, 1, 1), 0, 0, VOTING, 0, GRACE);
        uint256 id = proposeAs(memberAt(0), x, address(target), _hit(3));
        passAndExecute(x, id, 2);
        assertEq(target.calls(0), 3);
    }

    // ---------------------------------------------------------------------------------------
    // Execution
    // ---------------------------------------------------------------------------------------

    function test_execute_callsInOrderWithValue() public {
        address payee = makeAddr("payee");
        address[] memory t = new address[](3);
        uint256[] memory v = new uint256[](3);
        bytes[] memory d = new bytes[](3);
        (t[0], v[0], d[0]) = (address(target), 1 ether, _hit(1));
        (t[1], v[1], d[1]) = (address(target), 0, _hit(2));
        (t[2], v[2], d[2]) = (payee, 2 ether, ""); // plain transfer to an account without code
        uint256 id = proposeAs(m2, c, t, v, d);
        vm.deal(address(c), 2 ether);
        vm.deal(outsider, 1 ether);
        voteAs(m0, c, id, true);
        voteAs(m1, c, id, true);
        uint48 eta = c.queue(id);
        vm.warp(eta);
        vm.prank(outsider);
        c.execute{value: 1 ether}(id); // the executor may fund the calls
        assertEq(target.calls(0), 1);
        assertEq(target.calls(1), 2);
        assertEq(target.received(), 1 ether);
        assertEq(payee.balance, 2 ether);
        assertEq(address(c).balance, 0);
    }

    function _queued(address[] memory t, bytes[] memory d) internal returns (uint256 id) {
        id = proposeAs(m0, c, t, new uint256[](t.length), d);
        voteAs(m0, c, id, true);
        voteAs(m1, c, id, true);
        uint48 eta = c.queue(id);
        vm.warp(eta);
    }

    function test_execute_failingCallRevertsEverythingAndBubbles() public {
        address[] memory t = new address[](3);
        bytes[] memory d = new bytes[](3);
        (t[0], d[0]) = (address(target), _hit(1));
        (t[1], d[1]) = (address(target), abi.encodeCall(Recorder.fail, (42)));
        (t[2], d[2]) = (address(target), _hit(3));
        uint256 id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Recorder.Boom.selector, 42));
        c.execute(id);
        assertEq(target.callCount(), 0, "first call rolled back");
        expectState(c, id, Committee.ProposalState.Queued); // still executable within its window
    }

    function test_execute_silentFailureReportsTheCall() public {
        address[] memory t = new address[](2);
        bytes[] memory d = new bytes[](2);
        (t[0], d[0]) = (address(target), _hit(1));
        (t[1], d[1]) = (address(target), abi.encodeCall(Recorder.failSilently, ()));
        uint256 id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Committee.CallFailed.selector, 1, address(target)));
        c.execute(id);
    }

    function test_execute_calldataToAccountWithoutCodeReverts() public {
        address[] memory t = new address[](1);
        bytes[] memory d = new bytes[](1);
        (t[0], d[0]) = (outsider, _hit(1));
        uint256 id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Committee.TargetHasNoCode.selector, 0, outsider));
        c.execute(id);
    }

    function test_execute_reentrancyBlocked() public {
        address[] memory t = new address[](1);
        bytes[] memory d = new bytes[](1);
        t[0] = address(target);
        d[0] = abi.encodeCall(Recorder.reenterExecute, (c, 1));
        uint256 id = _queued(t, d);
        assertEq(id, 1);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        c.execute(id);
    }

    // ---------------------------------------------------------------------------------------
    // Cancel
    // ---------------------------------------------------------------------------------------

    function test_cancel_byProposerWhileActive() public {
        uint256 id = proposeAs(m0, c, address(target), _hit(1));
        voteAs(m1, c, id, true);
        vm.prank(m1);
        vm.expectRevert(abi.encodeWithSelector(Committee.CancelNotAllowed.selector, id, m1));
        c.cancel(id);
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(Committee.CancelNotAllowed.selector, id, outsider));
        c.cancel(id);

        vm.expectEmit(address(c));
        emit Committee.ProposalCanceled(id, m0);
        vm.prank(m0);
        c.cancel(id);
        expectState(c, id, Committee.ProposalState.Canceled);
        vm.prank(m2);
        vm.expectRevert(badState(id, Committee.ProposalState.Canceled));
        c.vote(id, true);
        vm.expectRevert(badState(id, Committee.ProposalState.Canceled));
        c.queue(id);
        vm.prank(m0);
        vm.expectRevert(badState(id, Committee.ProposalState.Canceled));
        c.cancel(id);
    }

    function test_cancel_queuedProposalCannotExecute() public {
        uint256 id = _succeeded(_hit(1));
        uint48 eta = c.queue(id);
        vm.prank(m0);
        c.cancel(id);
        vm.warp(eta);
        vm.expectRevert(badState(id, Committee.ProposalState.Canceled));
        c.execute(id);
        assertEq(target.callCount(), 0);
    }

    function test_cancel_byCommitteeDecision() public {
        uint256 victim = _succeeded(_hit(1));
        c.queue(victim);
        uint256 id = proposeAs(m2, c, address(c), abi.encodeCall(Committee.cancel, (victim)));
        passAndQueue(c, id, 2);
        vm.expectEmit(address(c));
        emit Committee.ProposalCanceled(victim, address(c));
        c.execute(id);
        expectState(c, victim, Committee.ProposalState.Canceled);
        vm.expectRevert(badState(victim, Committee.ProposalState.Canceled));
        c.execute(victim);
    }

    function test_cancel_finalStatesRevert() public {
        uint256 id = proposeAs(m0, c, address(target), _hit(1));
        passAndExecute(c, id, 2);
        vm.prank(m0);
        vm.expectRevert(badState(id, Committee.ProposalState.Executed));
        c.cancel(id);

        uint256 defeated = proposeAs(m0, c, address(target), _hit(1));
        voteAs(m1, c, defeated, false);
        voteAs(m2, c, defeated, false);
        vm.prank(m0);
        vm.expectRevert(badState(defeated, Committee.ProposalState.Defeated));
        c.cancel(defeated);
    }

    // ---------------------------------------------------------------------------------------
    // Self-governed configuration
    // ---------------------------------------------------------------------------------------

    function test_configuration_onlyThroughOwnProposals() public {
        address[3] memory callers = [m0, outsider, address(this)];
        for (uint256 i; i < callers.length; ++i) {
            bytes memory err = abi.encodeWithSelector(Committee.OnlyCommittee.selector, callers[i]);
            vm.startPrank(callers[i]);
            vm.expectRevert(err);
            c.addMember(callers[i], 100);
            vm.expectRevert(err);
            c.removeMember(m1);
            vm.expectRevert(err);
            c.setWeight(m0, 100);
            vm.expectRevert(err);
            c.setRates(5000, 5001);
            vm.expectRevert(err);
            c.setVotingPeriod(1 minutes);
            vm.expectRevert(err);
            c.setTimelockDelay(0);
            vm.expectRevert(err);
            c.setGracePeriod(1 hours);
            vm.stopPrank();
        }
        assertEq(c.memberCount(), 3);
        assertEq(c.timelockDelay(), TIMELOCK);
    }

    function test_configuration_membersWeightsAndRatesViaProposal() public {
        address m3 = memberAt(3);
        address[] memory t = new address[](6);
        bytes[] memory d = new bytes[](6);
        for (uint256 i; i < 6; ++i) {
            t[i] = address(c);
        }
        d[0] = abi.encodeCall(Committee.addMember, (m3, 2));
        d[1] = abi.encodeCall(Committee.setWeight, (m1, 3));
        d[2] = abi.encodeCall(Committee.removeMember, (m0));
        d[3] = abi.encodeCall(Committee.setRates, (7500, 8000));
        d[4] = abi.encodeCall(Committee.setTimelockDelay, (1 days));
        d[5] = abi.encodeCall(Committee.setVotingPeriod, (1 days));
        uint256 id = proposeAs(m0, c, t, new uint256[](6), d);
        passAndQueue(c, id, 2);
        vm.expectEmit(address(c));
        emit Committee.MemberAdded(m3, 2);
        vm.expectEmit(address(c));
        emit Committee.MemberWeightChanged(m1, 1, 3);
        vm.expectEmit(address(c));
        emit Committee.MemberRemoved(m0);
        vm.expectEmit(address(c));
        emit Committee.RatesChanged(7500, 8000);
        c.execute(id);
        expectState(c, id, Committee.ProposalState.Executed);

        assertEq(c.memberCount(), 3);
        assertFalse(c.isMember(m0));
        assertEq(c.weightOf(m0), 0);
        assertEq(c.weightOf(m1), 3);
        assertEq(c.weightOf(m3), 2);
        assertEq(c.totalWeight(), 6);
        assertEq(c.participationBps(), 7500);
        assertEq(c.approvalBps(), 8000);
        assertEq(c.timelockDelay(), 1 days);
        assertEq(c.votingPeriod(), 1 days);
        assertEq(c.version(), 3);

        // the removed member can no longer propose
        vm.prank(m0);
        vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, m0));
        c.propose(new address[](1), new uint256[](1), new bytes[](1), "");
    }

    function test_configuration_rangeChecksBubbleOutOfExecution() public {
        address[] memory t = new address[](1);
        bytes[] memory d = new bytes[](1);
        t[0] = address(c);
        d[0] = abi.encodeCall(Committee.setRates, (4999, 6667));
        uint256 id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidParticipationRate.selector, 4999));
        c.execute(id);

        d[0] = abi.encodeCall(Committee.setRates, (6667, 5000));
        id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Committee.InvalidApprovalRate.selector, 5000));
        c.execute(id);

        d[0] = abi.encodeCall(Committee.addMember, (m1, 1));
        id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Committee.DuplicateMember.selector, m1));
        c.execute(id);

        d[0] = abi.encodeCall(Committee.setWeight, (m1, 0));
        id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Committee.ZeroWeight.selector, m1));
        c.execute(id);

        d[0] = abi.encodeCall(Committee.removeMember, (outsider));
        id = _queued(t, d);
        vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, outsider));
        c.execute(id);
    }

    function test_configuration_cannotRemoveLastMember() public {
        Committee solo = new Committee(membersOf(1), weights(1), 0, 0, VOTING, 0, GRACE);
        uint256 id = proposeAs(memberAt(0), solo, address(solo), abi.encodeCall(Committee.removeMember, (memberAt(0))));
        voteAs(memberAt(0), solo, id, true);
        solo.queue(id);
        vm.expectRevert(Committee.CannotRemoveLastMember.selector);
        solo.execute(id);
    }

    /// @dev Membership and rate changes executed while a vote is live do not apply to it.
    function test_snapshot_changesCannotSwingALiveVote() public {
        uint256 live = proposeAs(m0, c, address(target), _hit(99));
        address newcomer = memberAt(3);

        address[] memory t = new address[](4);
        bytes[] memory d = new bytes[](4);
        (t[0], t[1], t[2], t[3]) = (address(c), address(c), address(c), address(c));
        d[0] = abi.encodeCall(Committee.addMember, (newcomer, 10));
        d[1] = abi.encodeCall(Committee.setWeight, (m0, 20));
        d[2] = abi.encodeCall(Committee.removeMember, (m2));
        d[3] = abi.encodeCall(Committee.setRates, (5000, 5001));
        uint256 change = proposeAs(m1, c, t, new uint256[](4), d);
        passAndExecute(c, change, 2); // m0 and m1 approve
        assertTrue(c.isSingleKey(), "m0 alone now holds 20 of 31 with a 50% participation rate");

        // On the live proposal: the newcomer has no weight, m0 still weighs 1 and the old rates apply.
        assertEq(c.votingWeight(live, newcomer), 0);
        assertEq(c.votingWeight(live, m0), 1);
        vm.prank(newcomer);
        vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, newcomer));
        c.vote(live, true);
        voteAs(m0, c, live, true);
        expectState(c, live, Committee.ProposalState.Active);
        // the removed member still votes on it with its snapshot weight
        voteAs(m2, c, live, true);
        expectState(c, live, Committee.ProposalState.Succeeded);
        assertEq(c.getProposal(live).forWeight, 2);

        // New proposals use the new configuration.
        uint256 next = proposeAs(newcomer, c, address(target), _hit(1));
        assertEq(c.votingWeight(next, newcomer), 10);
        assertEq(c.votingWeight(next, m2), 0);
        assertEq(c.getProposal(next).totalWeight, 31);
        vm.prank(m2);
        vm.expectRevert(abi.encodeWithSelector(Committee.NotMember.selector, m2));
        c.vote(next, true);
    }

    function test_receiveEther() public {
        vm.deal(outsider, 1 ether);
        vm.prank(outsider);
        (bool ok,) = address(c).call{value: 1 ether}("");
        assertTrue(ok);
        assertEq(address(c).balance, 1 ether);
    }
}
