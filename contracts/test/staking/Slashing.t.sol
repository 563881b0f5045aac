// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingBase} from "./StakingBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {Message, Checkpoint} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Fraud proofs (DESIGN.md section 8, invariant 4): a signature over a checkpoint the
/// source never had is slashable by anyone; an honest one never is. Bootstrap: operators 0..2 bond
/// 10/20/30 ether on home; slashBps 100%, reporter 10%, cap 50% of the total bond per day.
contract SlashingTest is StakingBase {
    function setUp() public override {
        super.setUp();
        bootstrap();
    }

    /// @dev The segment between two accumulator records (or the head) that contains `seq`.
    function _segment(uint64 seq) internal view returns (Message[] memory) {
        uint64 head = uint64(sentCount(toRemote));
        uint64 start = (seq - 1) / 16 * 16;
        uint64 end = start + 16 < head ? start + 16 : head;
        return batch(toRemote, start, end);
    }

    function _reporterOwed(bytes32 evidenceId) internal view returns (uint256 owed) {
        (,,,,,, owed) = homeStake.evidence(evidenceId);
    }

    function _reporterOf(bytes32 evidenceId) internal view returns (address rep) {
        (, rep,,,,,) = homeStake.evidence(evidenceId);
    }

    /// @dev `ids`: every piece of evidence proven in the test (reporter shares are per evidence).
    function _assertBalanced(bytes32[] memory ids) internal view {
        uint256 payouts;
        for (uint256 k; k < ids.length; ++k) {
            payouts += _reporterOwed(ids[k]);
            for (uint256 i; i < NUM_OPS; ++i) {
                assertTrue(_reporterOf(ids[k]) != ops[i], "an operator is owed a reporter share");
            }
        }
        assertEq(
            address(homeStake).balance,
            homeStake.totalBonded() + payouts + homeStake.compensationPool(toRemote),
            "balance == bonded + reporter payouts + pool"
        );
    }

    function _ids(bytes32 a) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = a;
    }

    function _ids(bytes32 a, bytes32 b, bytes32 c) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    // ---------------------------------------------------------------------------------------
    // What is fraud
    // ---------------------------------------------------------------------------------------

    function test_slash_sequenceBeyondLaneCount() public {
        sendMany(3);
        Checkpoint memory cp = forged(4);
        bytes32 id = evidenceIdOf(homeDomain(), cp, signers[0]);

        vm.expectEmit(address(homeStake));
        emit StakeManager.Jailed(ops[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.FraudProven(id, ops[0], toRemote, 4, signers[0], reporter, 10 ether);
        vm.expectEmit(address(homeStake));
        emit StakeManager.Slashed(id, ops[0], 10 ether, 1 ether);
        assertEq(slashAs(reporter, 0, cp, noProof()), id);

        StakeManager.Operator memory op = homeStake.getOperator(ops[0]);
        assertEq(op.active, 0);
        assertEq(op.owed, 0);
        assertTrue(op.jailed);
        assertEq(homeStake.totalBonded(), 50 ether);
        assertEq(homeStake.compensationPool(toRemote), 9 ether);
        (
            address operator,
            address rep,
            bytes32 lane,
            uint64 provenAt,
            uint256 due,
            uint256 paid,
            uint256 reporterOwed
        ) = homeStake.evidence(id);
        assertEq(operator, ops[0]);
        assertEq(rep, reporter);
        assertEq(lane, toRemote);
        assertEq(provenAt, block.timestamp);
        assertEq(due, 10 ether);
        assertEq(paid, 10 ether);
        assertEq(reporterOwed, 1 ether);
        assertTrue(op.fraudProven);
        _assertBalanced(_ids(id));
    }

    function test_slash_sequenceFarBeyond_andOnEmptyLane() public {
        slashAs(reporter, 0, forged(1), noProof()); // the lane has no message yet
        slashAs(reporter, 1, forged(type(uint64).max), noProof());
        assertTrue(homeStake.getOperator(ops[0]).jailed);
        assertTrue(homeStake.getOperator(ops[1]).jailed);
    }

    function test_slash_wrongAccumulatorAtRecordedSequence_andAtHead_emptyProof() public {
        sendMany(17);
        vm.chainId(HOME);
        assertTrue(home.bridge.accumulatorAt(toRemote, 16) != bytes32(0), "16 is recorded");
        slashAs(reporter, 0, forged(16), noProof());
        slashAs(reporter, 1, forged(17), noProof()); // the head is always known
        assertEq(homeStake.getOperator(ops[0]).active, 0);
        assertEq(homeStake.getOperator(ops[1]).active, 0);
        assertEq(homeStake.totalBonded(), 30 ether);
    }

    function test_slash_wrongAccumulatorAtSequenceZero() public {
        sendMany(1);
        slashAs(reporter, 0, forged(0), noProof());
        assertTrue(homeStake.getOperator(ops[0]).jailed);
    }

    function test_slash_wrongAccumulatorBetweenRecords_needsProof() public {
        sendMany(20);
        Checkpoint memory cp = forged(5);
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[0], homeDomain(), cp);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.ProofRequired.selector, 5));
        homeStake.slash(cp, r, vs, noProof());

        vm.prank(reporter);
        homeStake.slash(cp, r, vs, _segment(5)); // messages 1..16
        assertTrue(homeStake.getOperator(ops[0]).jailed);

        // between the last record and the head
        slashAs(reporter, 1, forged(18), _segment(18)); // messages 17..20
        assertTrue(homeStake.getOperator(ops[1]).jailed);
        // a proof segment that covers exactly the sequence
        slashAs(reporter, 2, forged(16), batch(toRemote, 0, 16));
        assertTrue(homeStake.getOperator(ops[2]).jailed);
    }

    function test_RevertWhen_proofIsForgedOrDoesNotCoverTheSequence() public {
        sendMany(20);
        Checkpoint memory cp = forged(5);
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[0], homeDomain(), cp);
        vm.chainId(HOME);

        // a tampered message
        Message[] memory tampered = _segment(5);
        tampered[2].amount += 1;
        vm.expectRevert(StakeManager.InvalidProof.selector);
        homeStake.slash(cp, r, vs, tampered);

        // a message redirected to someone else
        Message[] memory redirected = _segment(5);
        redirected[4].recipient = stranger;
        vm.expectRevert(StakeManager.InvalidProof.selector);
        homeStake.slash(cp, r, vs, redirected);

        // not starting at a record
        vm.expectRevert(StakeManager.InvalidProof.selector);
        homeStake.slash(cp, r, vs, batch(toRemote, 1, 16));
        // not ending at a record or the head
        vm.expectRevert(StakeManager.InvalidProof.selector);
        homeStake.slash(cp, r, vs, batch(toRemote, 0, 6));
        // a valid segment that does not contain the sequence (before or after it)
        vm.expectRevert(StakeManager.InvalidProof.selector);
        homeStake.slash(cp, r, vs, batch(toRemote, 16, 20));
        Checkpoint memory late = forged(18);
        (bytes32 r2, bytes32 vs2) = signCompact(signerKeys[1], homeDomain(), late);
        vm.expectRevert(StakeManager.InvalidProof.selector);
        homeStake.slash(late, r2, vs2, batch(toRemote, 0, 16));
        // a blank message (sequence 0)
        vm.expectRevert(StakeManager.InvalidProof.selector);
        homeStake.slash(cp, r, vs, new Message[](1));

        assertFalse(homeStake.getOperator(ops[0]).jailed);
        assertEq(homeStake.totalBonded(), 60 ether);
    }

    function test_doubleSign_falseCheckpointSlashes_trueOneDoesNot() public {
        sendMany(5);
        Checkpoint memory truth = checkpointAt(toRemote, 5);
        Checkpoint memory lie = forged(5);
        // the honest signature first: not fraud
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[1], homeDomain(), truth);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, 5));
        homeStake.slash(truth, r, vs, noProof());
        // the conflicting one for the same (lane, sequence): slashed
        slashAs(reporter, 1, lie, noProof());
        assertTrue(homeStake.getOperator(ops[1]).jailed);
        // the honest one stays not-fraud after the slash
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, 5));
        homeStake.slash(truth, r, vs, noProof());

        // the same between records: proof for both
        Checkpoint memory truth3 = checkpointAt(toRemote, 3);
        (r, vs) = signCompact(signerKeys[2], homeDomain(), truth3);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, 3));
        homeStake.slash(truth3, r, vs, _segment(3));
        slashAs(reporter, 2, forged(3), _segment(3));
        assertTrue(homeStake.getOperator(ops[2]).jailed);
    }

    function test_honestCheckpoints_everySequence_neverSlashable() public {
        sendMany(35);
        vm.chainId(HOME);
        for (uint64 seq = 1; seq <= 35; ++seq) {
            Checkpoint memory cp = checkpointAt(toRemote, seq);
            (bytes32 r, bytes32 vs) = signCompact(signerKeys[seq % 3], homeDomain(), cp);
            bool known = seq % 16 == 0 || seq == 35;
            if (known) {
                vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, seq));
                homeStake.slash(cp, r, vs, noProof());
            } else {
                vm.expectRevert(abi.encodeWithSelector(StakeManager.ProofRequired.selector, seq));
                homeStake.slash(cp, r, vs, noProof());
            }
            vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, seq));
            homeStake.slash(cp, r, vs, _segment(seq));
        }
        assertEq(homeStake.totalBonded(), 60 ether);
    }

    /// @dev Any honest checkpoint, submitted with or without proof, as many times as a restarted
    /// validator would sign it again, by any member: never slashable, and nothing moves.
    function testFuzz_honestCheckpointNeverSlashable(uint8 count, uint8 seqSeed, uint8 who, bool withProof) public {
        uint64 n = uint64(bound(count, 1, 40));
        sendMany(n);
        uint64 seq = uint64(bound(seqSeed, 1, n));
        uint256 i = bound(who, 0, 2);
        Checkpoint memory cp = checkpointAt(toRemote, seq);
        vm.chainId(HOME);
        bool known = seq % 16 == 0 || seq == n;
        Message[] memory proof = withProof || !known ? _segment(seq) : noProof();
        for (uint256 attempt; attempt < 2; ++attempt) {
            // a restarted validator signs the same honest checkpoint again: the same signature
            (bytes32 r, bytes32 vs) = signCompact(signerKeys[i], homeDomain(), cp);
            vm.prank(reporter);
            vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, seq));
            homeStake.slash(cp, r, vs, proof);
        }
        // and it stays honest as the lane grows
        sendMany(3);
        (bytes32 r2, bytes32 vs2) = signCompact(signerKeys[i], homeDomain(), cp);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotFraud.selector, toRemote, seq));
        homeStake.slash(cp, r2, vs2, _segment(seq));
        StakeManager.Operator memory op = homeStake.getOperator(ops[i]);
        assertFalse(op.jailed);
        assertEq(op.active, (i + 1) * 10 ether);
        assertEq(homeStake.totalBonded(), 60 ether);
    }

    // ---------------------------------------------------------------------------------------
    // Whose signature, which lane
    // ---------------------------------------------------------------------------------------

    function test_RevertWhen_evidenceReplayed() public {
        sendMany(2);
        Checkpoint memory cp = forged(3);
        bytes32 id = slashAs(reporter, 0, cp, noProof());
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[0], homeDomain(), cp);
        vm.chainId(HOME);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.EvidenceAlreadyUsed.selector, id));
        homeStake.slash(cp, r, vs, noProof());
        assertEq(_reporterOf(id), reporter, "the first reporter keeps the evidence");
        assertEq(_reporterOwed(id), 1 ether);

        // a different false checkpoint by the same key is new evidence (nothing is left to take)
        bytes32 id2 = evidenceIdOf(homeDomain(), forged(4), signers[0]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.FraudProven(id2, ops[0], toRemote, 4, signers[0], stranger, 0);
        slashAs(stranger, 0, forged(4), noProof());
    }

    function test_RevertWhen_checkpointSignedUnderAnotherDomain() public {
        sendMany(3);
        Checkpoint memory cp = forged(4);
        bytes32[3] memory domains = [
            domainOf(REMOTE, address(home.bridge)), // another chain
            domainOf(HOME, address(remote.bridge)), // another deployment
            domainOf(HOME, address(homeStake)) // not a bridge at all
        ];
        vm.chainId(HOME);
        for (uint256 d; d < domains.length; ++d) {
            (bytes32 r, bytes32 vs) = signCompact(signerKeys[0], domains[d], cp);
            // verified under home's own domain, the signature belongs to some unknown key
            address recovered = ecrecover(
                digestOf(homeDomain(), cp),
                uint8(uint256(vs) >> 255) + 27,
                r,
                bytes32(uint256(vs) & (type(uint256).max >> 1))
            );
            assertTrue(recovered != signers[0]);
            vm.expectRevert(abi.encodeWithSelector(StakeManager.UnknownSigner.selector, recovered));
            homeStake.slash(cp, r, vs, noProof());
        }
        assertFalse(homeStake.getOperator(ops[0]).jailed);
    }

    function test_RevertWhen_signerUnknownOrSignatureInvalid() public {
        sendMany(1);
        Checkpoint memory cp = forged(2);
        uint256 outsider = uint256(keccak256("outsider")) % (SECP256K1_N - 1) + 1;
        (bytes32 r, bytes32 vs) = signCompact(outsider, homeDomain(), cp);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.UnknownSigner.selector, vm.addr(outsider)));
        homeStake.slash(cp, r, vs, noProof());

        // an operator key is not a signing key
        (, uint256 operatorKey) = makeAddrAndKey("operator with its own key");
        bytes memory proof = signerProof(homeStake, signerKeys[5], vm.addr(operatorKey));
        vm.prank(vm.addr(operatorKey));
        homeStake.registerOperator(signers[5], proof);
        (r, vs) = signCompact(operatorKey, homeDomain(), cp);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.UnknownSigner.selector, vm.addr(operatorKey)));
        homeStake.slash(cp, r, vs, noProof());

        // s above half the curve order (the malleable half) is refused, whatever r
        (r,) = signCompact(signerKeys[0], homeDomain(), cp);
        vm.expectRevert(StakeManager.InvalidSignature.selector);
        homeStake.slash(cp, r, bytes32(SECP256K1_N / 2 + 1), noProof());
        // garbage
        vm.expectRevert(StakeManager.InvalidSignature.selector);
        homeStake.slash(cp, bytes32(0), bytes32(0), noProof());
        assertFalse(homeStake.getOperator(ops[0]).jailed);
    }

    function test_RevertWhen_checkpointOfAnInboundLane() public {
        // toHome is sourced on remote: its evidence lives in remote's stake manager
        sendAs(alice, toRemote, bob, 10_000 * UNIT);
        relay(toRemote);
        sendAs(bob, toHome, alice, 1_000 * UNIT);
        Checkpoint memory cp = Checkpoint({lane: toHome, sequence: 2, accumulator: keccak256("forged")});
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[0], domainOf(REMOTE, address(remote.bridge)), cp);
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotAnOutboundLane.selector, toHome));
        homeStake.slash(cp, r, vs, noProof());

        // on its source chain it is slashable
        vm.chainId(REMOTE);
        vm.prank(reporter);
        remoteStake.slash(cp, r, vs, noProof());
        assertTrue(remoteStake.getOperator(ops[0]).jailed);
        assertEq(remoteStake.compensationPool(toHome), 9 ether);
        assertFalse(homeStake.getOperator(ops[0]).jailed, "each chain's stake answers for its own lanes");
    }

    function test_slash_fraudOnOneLaneSlashesTheRestakedBond() public {
        OwnedToken token2 = new OwnedToken("Second", "TWO", 18, tokenOwner);
        (bytes32 route2,) = _openRoute(address(token2), defaultParams());
        bytes32 lane2 = home.bridge.getRoute(route2).outboundLane;
        optIn(homeStake, 2, lane2, 30 ether);
        Checkpoint memory cp = Checkpoint({lane: lane2, sequence: 1, accumulator: keccak256("x")});
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[2], homeDomain(), cp);
        vm.chainId(HOME);
        vm.prank(reporter);
        homeStake.slash(cp, r, vs, noProof());
        assertEq(homeStake.compensationPool(lane2), 27 ether, "the defrauded lane's pool");
        assertEq(homeStake.compensationPool(toRemote), 0);
        // the bond behind toRemote is gone too, and the next snapshot drops it there
        nextEpoch();
        commit(toRemote);
        assertEq(homeStake.getSnapshot(toRemote).members.length, 2);
    }

    // ---------------------------------------------------------------------------------------
    // How much, to whom, when
    // ---------------------------------------------------------------------------------------

    function test_slash_unbondingStakeStillSlashable() public {
        unbond(homeStake, 1, 15 ether); // active 5, unbonding 15
        sendMany(1);
        slashAs(reporter, 1, forged(2), noProof());
        StakeManager.Operator memory op = homeStake.getOperator(ops[1]);
        assertEq(op.active, 0);
        assertEq(op.unbonding, 0);
        assertEq(homeStake.totalBonded(), 40 ether);
        assertEq(homeStake.compensationPool(toRemote), 18 ether);
        vm.warp(op.unbondingReleaseAt);
        vm.prank(ops[1]);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.withdraw();
    }

    /// @dev The whole quorum forges one checkpoint. With 90 ether bonded (an honest 30 outside the
    /// set) the day's budget is 45: the first two slashes are taken in full, the third in part;
    /// the rest stays owed, blocks the withdrawal, and a later period's collect takes it.
    function test_slashCap_quorumForging_restOwedThenCollected() public {
        register(homeStake, 5);
        depositNative(homeStake, 5, 30 ether); // honest, bonded, in no set
        unbond(homeStake, 1, 20 ether); // operator 1 is leaving: unbonding 20
        sendMany(3);
        Checkpoint memory cp = forged(4);
        bytes32 id0 = slashAs(reporter, 0, cp, noProof());
        bytes32 id2 = slashAs(reporter, 2, cp, noProof());
        bytes32 id1 = evidenceIdOf(homeDomain(), cp, signers[1]);
        vm.expectEmit(address(homeStake));
        emit StakeManager.Slashed(id1, ops[1], 5 ether, 0.5 ether);
        assertEq(slashAs(bob, 1, cp, noProof()), id1);

        assertEq(homeStake.slashBudgetLeft(), 0);
        assertEq(homeStake.totalBonded(), 45 ether);
        StakeManager.Operator memory op1 = homeStake.getOperator(ops[1]);
        assertEq(op1.unbonding, 15 ether);
        assertEq(op1.owed, 15 ether);
        (,,,, uint256 due, uint256 paid,) = homeStake.evidence(id1);
        assertEq(due, 20 ether);
        assertEq(paid, 5 ether);
        assertEq(homeStake.getOperator(ops[0]).owed, 0);
        assertEq(homeStake.getOperator(ops[2]).owed, 0);
        assertEq(_reporterOwed(id0) + _reporterOwed(id2), 4 ether, "reporter: 1 + 3 ether");
        assertEq(_reporterOwed(id0), 1 ether);
        assertEq(_reporterOwed(id1), 0.5 ether);
        assertEq(homeStake.compensationPool(toRemote), 40.5 ether);

        // same period: nothing more to take; fully paid evidence gives nothing either
        vm.recordLogs();
        homeStake.collectSlash(id1);
        homeStake.collectSlash(id0);
        homeStake.collectSlash(id2);
        assertEq(vm.getRecordedLogs().length, 0, "nothing slashed");
        assertEq(homeStake.getOperator(ops[1]).owed, 15 ether);
        assertEq(homeStake.totalBonded(), 45 ether);

        // unbonding over, but the slash is owed
        vm.warp(op1.unbondingReleaseAt);
        vm.prank(ops[1]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.SlashOwed.selector, 15 ether));
        homeStake.withdraw();

        // a new period, a new budget (45 * 50%): anyone collects the rest
        vm.prank(stranger);
        vm.expectEmit(address(homeStake));
        emit StakeManager.Slashed(id1, ops[1], 15 ether, 1.5 ether);
        homeStake.collectSlash(id1);
        (,,,, due, paid,) = homeStake.evidence(id1);
        assertEq(paid, 20 ether);
        assertEq(homeStake.getOperator(ops[1]).owed, 0);
        assertEq(homeStake.getOperator(ops[1]).unbonding, 0);
        assertEq(homeStake.totalBonded(), 30 ether, "only the honest bond is left");
        assertEq(_reporterOwed(id1), 2 ether, "the reporter of the evidence is owed, not the collector");
        assertEq(_reporterOf(id1), bob);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotReporter.selector, stranger));
        homeStake.claimReporterPayout(id1);
        assertEq(homeStake.compensationPool(toRemote), 54 ether);
        _assertBalanced(_ids(id0, id1, id2));

        vm.prank(ops[1]);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.withdraw();
    }

    function test_RevertWhen_collectingUnknownEvidence() public {
        bytes32 id = keccak256("nothing");
        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.UnknownEvidence.selector, id));
        homeStake.collectSlash(id);
    }

    /// @dev The reporter's share is paid per evidence, to its reporter only, once the detection
    /// window after the proof is over.
    function test_claimReporterPayout() public {
        sendMany(1);
        bytes32 id = slashAs(reporter, 2, forged(2), noProof());
        assertEq(_reporterOwed(id), 3 ether);
        uint64 unlocksAt = uint64(block.timestamp) + DETECTION;

        vm.warp(unlocksAt - 1);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.ReporterPayoutLocked.selector, unlocksAt));
        homeStake.claimReporterPayout(id);

        vm.warp(unlocksAt);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotReporter.selector, stranger));
        homeStake.claimReporterPayout(id);
        vm.prank(reporter);
        vm.expectEmit(address(homeStake));
        emit StakeManager.ReporterPaid(id, reporter, 3 ether);
        homeStake.claimReporterPayout(id);
        assertEq(reporter.balance, 3 ether);
        assertEq(_reporterOwed(id), 0);
        assertEq(address(homeStake).balance, 60 ether - 3 ether);
        vm.prank(reporter);
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.claimReporterPayout(id);
        _assertBalanced(_ids(id));
    }

    function test_payCompensation_governanceOnly_boundedByPool() public {
        sendMany(1);
        bytes32 id = slashAs(reporter, 0, forged(2), noProof()); // pool: 9 ether
        vm.chainId(HOME);
        vm.prank(stranger);
        vm.expectRevert(unauthorized(stranger));
        homeStake.payCompensation(toRemote, stranger, 1 ether);
        vm.prank(guardian);
        vm.expectRevert(unauthorized(guardian));
        homeStake.payCompensation(toRemote, guardian, 1 ether);

        vm.expectRevert(abi.encodeWithSelector(StakeManager.CompensationExceedsPool.selector, 9 ether + 1, 9 ether));
        homeStake.payCompensation(toRemote, alice, 9 ether + 1);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.CompensationExceedsPool.selector, 1, 0));
        homeStake.payCompensation(toHome, alice, 1); // another lane's pool is empty

        vm.expectEmit(address(homeStake));
        emit StakeManager.CompensationPaid(toRemote, alice, 4 ether);
        homeStake.payCompensation(toRemote, alice, 4 ether);
        assertEq(alice.balance, 4 ether);
        assertEq(homeStake.compensationPool(toRemote), 5 ether);
        homeStake.payCompensation(toRemote, bob, 5 ether);
        assertEq(homeStake.compensationPool(toRemote), 0);
        _assertBalanced(_ids(id));
    }

    function test_slashedOperator_jailed_excludedFromNextSnapshot_setUpdated() public {
        sendAs(alice, toRemote, bob, 100 * UNIT);
        slashAs(reporter, 2, forged(7), noProof());
        vm.chainId(HOME);
        vm.prank(ops[2]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.OperatorJailed.selector, ops[2]));
        homeStake.optIn(toRemote, 1);

        nextEpoch();
        commit(toRemote);
        ValidatorSet memory next = expectedSet(idx(0, 1), ws(10 ether, 20 ether));
        assertEq(homeStake.getSnapshot(toRemote).setHash, keccak256(encodeSet(next)));
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, keccak256(encodeSet(next)));

        relay(toRemote); // the old set signs the update in
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(encodeSet(next)));
        _storeSet(toRemote, next);
        sendAs(alice, toRemote, carol, 100 * UNIT);
        relay(toRemote);
        assertEq(wrapped.balanceOf(carol), netOf(100 * UNIT));

        // a later snapshot still leaves it out
        nextEpoch();
        commit(toRemote);
        assertEq(homeStake.getSnapshot(toRemote).members.length, 2);
    }
}

/// @notice Partial slashes (50% of the bond per fraud) under a tight cap (0.01% of the total bond
/// per day): repeated evidence against one operator while earlier slashes are still owed.
contract PartialSlashingTest is StakingBase {
    function stakeConfig() internal view override returns (StakeManager.Config memory c) {
        c = super.stakeConfig();
        c.slashBps = 5_000;
        c.slashCapBps = 1;
    }

    function setUp() public override {
        super.setUp();
        bootstrap();
        sendMany(2);
    }

    /// @dev Each fraud takes half of what is not already owed: the total due is the same whether
    /// or not the cap deferred the earlier slashes, and `owed` never exceeds the bond.
    function test_repeatedFraud_whileOwed_owedNeverExceedsBond() public {
        uint256 budget = 60 ether / 10_000; // 0.006 ether a day
        slashAs(reporter, 2, forged(3), noProof());
        StakeManager.Operator memory op = homeStake.getOperator(ops[2]);
        assertEq(op.active, 30 ether - budget);
        assertEq(op.owed, 15 ether - budget);

        slashAs(reporter, 2, forged(4), noProof());
        slashAs(reporter, 2, forged(5), noProof());
        op = homeStake.getOperator(ops[2]);
        assertEq(op.owed, 15 ether + 7.5 ether + 3.75 ether - budget);
        assertLe(op.owed, op.active + op.unbonding, "owed <= bonded");

        // an honest bond raises the next period's budget (0.01% of 300,060 ether): all of it is
        // collected, and the operator keeps exactly 30 * (1/2)^3
        register(homeStake, 5);
        depositNative(homeStake, 5, 300_000 ether);
        vm.warp(block.timestamp + SLASH_PERIOD);
        homeStake.collectSlash(evidenceIdOf(homeDomain(), forged(3), signers[2]));
        homeStake.collectSlash(evidenceIdOf(homeDomain(), forged(4), signers[2]));
        homeStake.collectSlash(evidenceIdOf(homeDomain(), forged(5), signers[2]));
        op = homeStake.getOperator(ops[2]);
        assertEq(op.owed, 0);
        assertEq(op.active, 3.75 ether);

        // Its bootstrap weight stays locked until that set's expiry plus the detection window: its
        // signatures must stay provable. The jailed operator is in no later set.
        op = homeStake.getOperator(ops[2]);
        assertEq(op.lockedWeight, 30 ether);
        assertEq(op.lockedUntil, uint64(START) + LIFETIME + DETECTION);
        unbond(homeStake, 2, 3.75 ether);
        nextEpoch();
        commit(toRemote);
        assertEq(homeStake.getSnapshot(toRemote).members.length, 2, "the jailed operator left the set");
        assertEq(homeStake.withdrawable(ops[2]), 0, "bond below the locked weight");
        vm.warp(op.lockedUntil);
        assertEq(homeStake.withdrawable(ops[2]), 3.75 ether, "lock over");
        uint64 releaseAt = homeStake.getOperator(ops[2]).unbondingReleaseAt;
        assertGt(releaseAt, op.lockedUntil);
        vm.prank(ops[2]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StillUnbonding.selector, releaseAt));
        homeStake.withdraw();
        vm.warp(releaseAt);
        vm.prank(ops[2]);
        homeStake.withdraw();
        assertEq(ops[2].balance, 3.75 ether);
    }

    function test_slashBps_takesThatShareOfTheBond() public {
        StakeManager.Config memory c = stakeConfig();
        assertEq(c.slashBps, 5_000);
        slashAs(reporter, 0, forged(9), noProof());
        (,,,, uint256 due,,) = homeStake.evidence(evidenceIdOf(homeDomain(), forged(9), signers[0]));
        assertEq(due, 5 ether);
        (,, uint256 quorumLoss) = homeStake.laneSecurity(toRemote);
        assertEq(quorumLoss, 18 ether, "threshold 40 ether at 50%, less the 10% reporter share");
    }
}
