// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {StakingBase} from "./StakingBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {Message, MessageKind, Checkpoint} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Audit findings on staking (issue "Stake must outlive the signatures it backs"), one test
/// (or group) per finding, each named after it. Run with the devnet's periods, where the exits were
/// fastest: epoch 2 min, unbonding 10 min, detection window 5 min, set lifetime 1 day.
///
/// The property behind findings 1 and 2: every signature the destination can still accept is
/// backed by stake that cannot be withdrawn until the evidence window after that acceptance ends.
contract StakingAuditFindingsTest is StakingBase {
    uint64 internal constant D_EPOCH = 120;
    uint64 internal constant D_UNBONDING = 600;
    uint64 internal constant D_DETECTION = 300;
    uint64 internal constant D_LIFETIME = 1 days;

    function stakeConfig() internal view override returns (StakeManager.Config memory c) {
        c = super.stakeConfig();
        c.epochLength = D_EPOCH;
        c.unbondingPeriod = D_UNBONDING;
        c.detectionWindow = D_DETECTION;
        c.setLifetime = D_LIFETIME;
    }

    /// @dev Operators 0..2 (10, 20, 30 ether) secure the home -> remote lane; 1 and 2 together hold
    /// 50 of 60, above the threshold of 40: the colluding quorum of these tests.
    function setUp() public override {
        super.setUp();
        bootstrap();
    }

    // ---------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------

    /// @notice A mint of `amount` to `to` on the remote that the home chain never sent, continuing
    /// the remote's view of the lane, signed by operators `ids` under `set`.
    function forgeMint(ValidatorSet memory set, uint256[] memory ids, address to, uint256 amount)
        internal
        returns (Checkpoint memory cp, bytes memory sigs, Message[] memory ms)
    {
        vm.chainId(REMOTE);
        uint64 next = remote.bridge.getLane(toRemote).sequence + 1;
        ms = new Message[](1);
        ms[0] = Message({
            sequence: next,
            kind: MessageKind.TRANSFER,
            sender: alice,
            recipient: to,
            amount: amount,
            data: bytes32(0),
            sentAt: uint64(block.timestamp),
            deadline: type(uint64).max
        });
        cp = Checkpoint({
            lane: toRemote,
            sequence: next,
            accumulator: nextAcc(remote.bridge.getLane(toRemote).accumulator, ms[0])
        });
        uint256[] memory members = new uint256[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            members[i] = _memberIndex(set, signers[ids[i]]);
        }
        sigs = signBy(set, _ascending(members), digestOf(homeDomain(), cp));
    }

    function _memberIndex(ValidatorSet memory set, address signer) internal pure returns (uint256) {
        for (uint256 i; i < set.members.length; ++i) {
            if (set.members[i] == signer) return i;
        }
        revert("not a member");
    }

    function _ascending(uint256[] memory a) internal pure returns (uint256[] memory) {
        for (uint256 i = 1; i < a.length; ++i) {
            for (uint256 j = i; j > 0 && a[j - 1] > a[j]; --j) {
                (a[j - 1], a[j]) = (a[j], a[j - 1]);
            }
        }
        return a;
    }

    function withdrawAs(uint256 i) internal {
        vm.chainId(HOME);
        vm.prank(ops[i]);
        homeStake.withdraw();
    }

    function expectLocked(uint256 i) internal {
        (uint256 weight, uint64 until) = homeStake.lockedStake(ops[i]);
        assertGt(weight, 0);
        vm.chainId(HOME);
        vm.prank(ops[i]);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.StakeLocked.selector, weight, until));
        homeStake.withdraw();
    }

    function bonded(uint256 i) internal view returns (uint256) {
        StakeManager.Operator memory op = homeStake.getOperator(ops[i]);
        return op.active + op.unbonding;
    }

    // ---------------------------------------------------------------------------------------
    // Finding 1: colluders withdraw, then forge with nothing to slash
    // ---------------------------------------------------------------------------------------

    /// Route 1: the quorum unbonds and never signs the SET_UPDATE that removes it. Its stake stays
    /// until its set expires plus the detection window; a forgery before the expiry is slashed from
    /// that stake; after the expiry the destination refuses the set.
    function test_finding1_exitThenForge_stalledRemoval() public {
        ValidatorSet memory colluding = snapshotSet(homeStake, toRemote);
        uint64 validUntil = colluding.validUntil;
        unbond(homeStake, 1, 20 ether);
        unbond(homeStake, 2, 30 ether);
        nextEpoch();
        commit(toRemote); // queues the SET_UPDATE dropping 1 and 2; they never sign it

        vm.warp(block.timestamp + D_UNBONDING + D_DETECTION + 1);
        expectLocked(1);
        expectLocked(2);

        // They forge anyway: the destination still accepts their set, and their stake pays for it.
        (Checkpoint memory cp, bytes memory sigs, Message[] memory ms) =
            forgeMint(colluding, idx(1, 2), stranger, 1_000 * UNIT);
        vm.chainId(REMOTE);
        remote.bridge.deliver(cp, encodeSet(colluding), sigs, ms);
        uint256 before = bonded(2);
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[2], homeDomain(), cp);
        vm.chainId(HOME);
        vm.prank(reporter);
        homeStake.slash(cp, r, vs, noProof());
        assertEq(before - bonded(2), before * 10_000 / BPS, "the forger's whole bond is slashed");

        // Operator 1 waits for the expiry: from then on its old set forges nothing.
        vm.warp(validUntil);
        (cp, sigs, ms) = forgeMint(colluding, idx(1, 2), stranger, 1_000 * UNIT);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(ValidatorSetExpired.selector, validUntil));
        remote.bridge.deliver(cp, encodeSet(colluding), sigs, ms);
        expectLocked(1); // and its signatures stay provable for the detection window
        vm.warp(uint256(validUntil) + D_DETECTION);
        withdrawAs(1);
        assertEq(bonded(1), 0);
    }

    /// Route 2: with the devnet periods no stall was needed: sign your own removal, withdraw at
    /// +600 s and forge inside the grace window. The window is gone and the stake stays locked.
    function test_finding1_exitThenForge_insideGraceWindow() public {
        ValidatorSet memory colluding = snapshotSet(homeStake, toRemote);
        unbond(homeStake, 1, 20 ether);
        unbond(homeStake, 2, 30 ether);
        nextEpoch();
        commit(toRemote);
        relay(toRemote); // the old set signs its own removal; delivered
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, homeStake.getSnapshot(toRemote).setHash);

        vm.warp(block.timestamp + D_UNBONDING + 1);
        expectLocked(1);
        expectLocked(2);
        (Checkpoint memory cp, bytes memory sigs, Message[] memory ms) =
            forgeMint(colluding, idx(1, 2), stranger, 1_000 * UNIT);
        vm.chainId(REMOTE);
        vm.expectRevert(
            abi.encodeWithSelector(
                StaleValidatorSet.selector, homeStake.getSnapshot(toRemote).setHash, keccak256(encodeSet(colluding))
            )
        );
        remote.bridge.deliver(cp, encodeSet(colluding), sigs, ms);
    }

    /// Route 3: an operator keeping 1 wei active skipped every membership check in `withdraw`.
    function test_finding1_exitThenForge_oneWeiActive() public {
        unbond(homeStake, 2, 30 ether - 1);
        vm.warp(block.timestamp + D_UNBONDING + D_DETECTION + 1);
        assertEq(homeStake.getOperator(ops[2]).active, 1);
        (uint256 weight,) = homeStake.lockedStake(ops[2]);
        assertEq(weight, 30 ether, "its weight in the live set");
        expectLocked(2);
        assertEq(homeStake.withdrawable(ops[2]), 0);
    }

    /// Partial withdrawals keep exactly the locked weight bonded: stake above every live weight is free.
    function test_finding1_exitThenForge_partialWithdrawKeepsLockedWeight() public {
        depositNative(homeStake, 2, 5 ether); // 35 bonded, weight 30 in the live set
        unbond(homeStake, 2, 35 ether);
        vm.warp(block.timestamp + D_UNBONDING);
        assertEq(homeStake.withdrawable(ops[2]), 5 ether);
        uint256 balance = ops[2].balance;
        withdrawAs(2);
        assertEq(ops[2].balance - balance, 5 ether);
        assertEq(bonded(2), 30 ether);
        expectLocked(2);
    }

    /// A member that stays in the set and lowers its weight gets the difference back once every
    /// set that counted the old weight has expired plus the detection window (at most two lock
    /// periods of lifetime + detection), even though it is re-committed every epoch.
    function test_stakeLock_partialExitWhileStayingInTheSet() public {
        uint64 firstExpiry = snapshotSet(homeStake, toRemote).validUntil;
        unbond(homeStake, 0, 4 ether); // operator 0: weight 10 -> 6 from the next snapshot
        uint256 exitAt = block.timestamp;
        uint256 period = uint256(D_LIFETIME) + D_DETECTION;
        // Keepers commit every epoch; the set changes once, then renews at half life.
        while (block.timestamp < exitAt + 2 * period + D_EPOCH) {
            nextEpoch();
            commit(toRemote);
            if (block.timestamp < uint256(firstExpiry) + D_DETECTION) {
                assertEq(homeStake.withdrawable(ops[0]), 0, "the weight-10 set is still live");
            }
        }
        (uint256 weight,) = homeStake.lockedStake(ops[0]);
        assertEq(weight, 6 ether, "only the current weight stays locked");
        assertEq(homeStake.withdrawable(ops[0]), 4 ether);
        uint256 balance = ops[0].balance;
        withdrawAs(0);
        assertEq(ops[0].balance - balance, 4 ether);
        assertEq(bonded(0), 6 ether);
    }

    /// Route 4: a Pending lane re-committed after its set was copied to the destination left the
    /// destination on the old set, whose dropped members could leave. Every committed set locks its
    /// members, including a Pending set that a re-commit replaces.
    function test_finding1_exitThenForge_pendingRecommit() public {
        // A second route, Pending: operators 3..5 on its home -> remote lane.
        (bytes32 laneOut, ValidatorSet memory exported) = _pendingLaneCopiedToRemote();
        // 4 and 5 leave; the lane is re-committed on the source only.
        vm.chainId(HOME);
        vm.prank(ops[4]);
        homeStake.optOut(laneOut);
        vm.prank(ops[5]);
        homeStake.optOut(laneOut);
        unbond(homeStake, 4, 10 ether);
        unbond(homeStake, 5, 10 ether);
        vm.chainId(HOME);
        homeStake.commitEpoch(laneOut);
        assertTrue(homeStake.getSnapshot(laneOut).setHash != keccak256(encodeSet(exported)));

        vm.warp(block.timestamp + D_UNBONDING + D_DETECTION + 1);
        expectLocked(4);
        expectLocked(5);
        vm.warp(uint256(exported.validUntil) + D_DETECTION);
        withdrawAs(4);
        withdrawAs(5);
    }

    /// Governance's copy of a set to the destination cannot carry a later expiry than the source
    /// could have locked stake for (a clock difference up to the detection window aside).
    function test_finding1_copiedSetCannotOutliveTheSourceLock() public {
        (bytes32 laneOut, ValidatorSet memory exported) = _pendingLaneCopiedToRemote();
        vm.chainId(REMOTE);
        uint64 latest = uint64(block.timestamp) + D_LIFETIME + D_DETECTION;
        exported.validUntil = latest + 1;
        vm.expectRevert(abi.encodeWithSelector(StakeManager.SetLifetimeTooLong.selector, latest + 1, latest));
        remoteStake.installInboundSet(laneOut, encodeSet(exported));
        exported.validUntil = NEVER;
        vm.expectRevert(abi.encodeWithSelector(StakeManager.SetLifetimeTooLong.selector, NEVER, latest));
        remoteStake.installInboundSet(laneOut, encodeSet(exported));
        exported.validUntil = latest; // the destination's clock may run behind the source's
        remoteStake.installInboundSet(laneOut, encodeSet(exported));
    }

    function _pendingLaneCopiedToRemote() internal returns (bytes32 laneOut, ValidatorSet memory exported) {
        vm.chainId(HOME);
        address other = address(new OwnedToken("Other", "OTH", 18, tokenOwner));
        vm.prank(tokenOwner);
        vm.deal(tokenOwner, 10 ether);
        bytes32 id = home.registry.registerRoute{value: 1 ether}(other, REMOTE, "Wrapped Other", "wOTH", defaultParams());
        vm.chainId(REMOTE);
        remote.registry.registerRemoteRoute(tokenOwner, HOME, other, 18, "Wrapped Other", "wOTH", defaultParams());
        vm.chainId(HOME);
        laneOut = home.bridge.getRoute(id).outboundLane;
        for (uint256 i = 3; i < 6; ++i) {
            join(homeStake, i, laneOut, 10 ether);
        }
        vm.chainId(HOME);
        homeStake.commitEpoch(laneOut);
        exported = snapshotSet(homeStake, laneOut);
        vm.chainId(REMOTE);
        remoteStake.installInboundSet(laneOut, encodeSet(exported));
    }

    // ---------------------------------------------------------------------------------------
    // Finding 2: the previous set kept full minting power during the grace window
    // ---------------------------------------------------------------------------------------

    /// Governance jails operator 2 (say its key leaked). The SET_UPDATE that removes it is signed
    /// and delivered; from that block on the old set mints nothing, even with every old signature.
    function test_finding2_replacedSetHasNoMintingPower() public {
        ValidatorSet memory old = snapshotSet(homeStake, toRemote);
        vm.chainId(HOME);
        homeStake.jail(ops[2]);
        nextEpoch();
        commit(toRemote);
        relay(toRemote);
        (Checkpoint memory cp, bytes memory sigs, Message[] memory ms) =
            forgeMint(old, idx(0, 1, 2), stranger, 1 * UNIT);
        vm.chainId(REMOTE);
        vm.expectRevert(
            abi.encodeWithSelector(
                StaleValidatorSet.selector, remote.bridge.getLane(toRemote).validatorSetHash, keccak256(encodeSet(old))
            )
        );
        remote.bridge.deliver(cp, encodeSet(old), sigs, ms);
        assertEq(wrapped.balanceOf(stranger), 0);
    }

    /// Sibling of the expiry: a set that expires before its renewal is delivered stops its lane
    /// (nothing executes under it), and governance can put the source's current snapshot in its
    /// place, but only once it has expired.
    function test_finding1_expiredSetIsReplacedByGovernanceOnly() public {
        ValidatorSet memory expiring = snapshotSet(homeStake, toRemote);
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(SetAlreadyActive.selector, toRemote));
        remoteStake.replaceExpiredInboundSet(toRemote, encodeSet(expiring), encodeSet(expiring));

        vm.warp(expiring.validUntil);
        Delivery memory d = prepare(toRemote);
        vm.expectRevert(abi.encodeWithSelector(ValidatorSetExpired.selector, expiring.validUntil));
        execute(d);

        commit(toRemote); // renewal on the source; its SET_UPDATE cannot be delivered any more
        ValidatorSet memory renewed = snapshotSet(homeStake, toRemote);
        assertGt(renewed.validUntil, block.timestamp);
        vm.chainId(REMOTE);
        vm.prank(stranger);
        vm.expectRevert(unauthorized(stranger));
        remoteStake.replaceExpiredInboundSet(toRemote, encodeSet(expiring), encodeSet(renewed));
        remoteStake.replaceExpiredInboundSet(toRemote, encodeSet(expiring), encodeSet(renewed));
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(encodeSet(renewed)));

        // The renewed set signs the rest of the lane (transfer and SET_UPDATE) and the lane moves.
        _storeSet(toRemote, renewed);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), netOf(1_000 * UNIT));
    }

    // ---------------------------------------------------------------------------------------
    // Finding 6: rotation froze when the lane token's fee withdrawal reverted
    // ---------------------------------------------------------------------------------------

    function test_finding6_rotationNeverDependsOnTheToken_transferReverts() public {
        sendMany(3); // validator fees accrue in DEMO
        uint256 fees = home.bridge.getLane(toRemote).validatorFees;
        assertGt(fees, 0);
        join(homeStake, 3, toRemote, 40 ether);
        nextEpoch();
        vm.mockCallRevert(address(token), abi.encodeWithSelector(IERC20.transfer.selector), "token paused");
        vm.chainId(HOME);
        vm.expectEmit(address(homeStake));
        emit StakeManager.RewardWithdrawalFailed(toRemote, address(token));
        homeStake.commitEpoch(toRemote);
        assertEq(homeStake.getSnapshot(toRemote).members.length, 4, "the new set was committed");
        assertEq(home.bridge.getLane(toRemote).validatorFees, fees, "fees wait in the bridge");

        vm.clearMockedCalls();
        nextEpoch();
        vm.chainId(HOME);
        homeStake.commitEpoch(toRemote);
        assertEq(home.bridge.getLane(toRemote).validatorFees, 0, "taken once the token works again");
    }

    function test_finding6_rotationNeverDependsOnTheToken_balanceOfReverts() public {
        sendMany(1);
        join(homeStake, 3, toRemote, 40 ether);
        nextEpoch();
        vm.mockCallRevert(address(token), abi.encodeWithSelector(IERC20.balanceOf.selector), "blocklisted");
        vm.chainId(HOME);
        homeStake.commitEpoch(toRemote);
        assertEq(homeStake.getSnapshot(toRemote).members.length, 4);
    }

    // ---------------------------------------------------------------------------------------
    // Finding 7: a signing key could be registered by someone who does not control it
    // ---------------------------------------------------------------------------------------

    function test_finding7_signerProofOfPossession_squatterRefused() public {
        // The squatter holds no proof by signer 6's key: a garbage proof, its own signature, a
        // proof for another operator, for another stake manager or another chain.
        address squatter = makeAddr("squatter");
        bytes[] memory proofs = new bytes[](5);
        proofs[0] = new bytes(65);
        proofs[1] = _proofBy(homeStake, uint256(keccak256("squatter key")), squatter, HOME);
        proofs[2] = _proofBy(homeStake, signerKeys[6], ops[6], HOME);
        proofs[3] = _proofBy(remoteStake, signerKeys[6], squatter, HOME);
        proofs[4] = _proofBy(homeStake, signerKeys[6], squatter, REMOTE);
        for (uint256 i; i < proofs.length; ++i) {
            vm.chainId(HOME);
            vm.prank(squatter);
            vm.expectRevert(abi.encodeWithSelector(StakeManager.SignerProofInvalid.selector, signers[6]));
            homeStake.registerOperator(signers[6], proofs[i]);
        }
        assertEq(homeStake.operatorOfSigner(signers[6]), address(0));
        // The real owner registers with its own proof.
        register(homeStake, 6);
        assertEq(homeStake.operatorOfSigner(signers[6]), ops[6]);
    }

    /// @dev StakingBase's proof, made under `chainId`'s domain.
    function _proofBy(StakeManager s, uint256 key, address operator, uint64 chainId)
        internal
        returns (bytes memory proof)
    {
        uint256 here = block.chainid;
        vm.chainId(chainId);
        proof = signerProof(s, key, operator);
        vm.chainId(here);
    }

    // ---------------------------------------------------------------------------------------
    // Finding 8: a full candidate list kept heavier operators out
    // ---------------------------------------------------------------------------------------

    function test_finding8_heavierCandidateDisplacesLightest() public {
        uint256 room = homeStake.MAX_CANDIDATES_PER_LANE() - homeStake.candidates(toRemote).length;
        address[] memory dust = new address[](room);
        for (uint256 i; i < room; ++i) {
            dust[i] = _minimumOperator(i);
        }
        assertEq(homeStake.candidates(toRemote).length, homeStake.MAX_CANDIDATES_PER_LANE());
        // Equal to the lightest: refused, nothing changes.
        address equal = _operatorWith(1000, MIN_STAKE);
        vm.prank(equal);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.TooManyCandidates.selector, toRemote));
        homeStake.optIn(toRemote, MIN_STAKE);
        // Heavier: the lightest (the first of the equal ones found) is dropped.
        address heavy = _operatorWith(1001, 50 ether);
        vm.prank(heavy);
        homeStake.optIn(toRemote, 50 ether);
        address[] memory after_ = homeStake.candidates(toRemote);
        assertEq(after_.length, homeStake.MAX_CANDIDATES_PER_LANE());
        assertEq(homeStake.allocation(heavy, toRemote), 50 ether);
        uint256 dropped;
        for (uint256 i; i < room; ++i) {
            if (homeStake.allocation(dust[i], toRemote) == 0) ++dropped;
        }
        assertEq(dropped, 1, "exactly one minimum-stake candidate made room");
        for (uint256 i; i < 3; ++i) {
            assertGt(homeStake.allocation(ops[i], toRemote), 0, "heavier candidates stay");
        }
    }

    function _minimumOperator(uint256 i) internal returns (address) {
        address op = _operatorWith(i, MIN_STAKE);
        vm.prank(op);
        homeStake.optIn(toRemote, MIN_STAKE);
        return op;
    }

    function _operatorWith(uint256 i, uint256 amount) internal returns (address op) {
        op = makeAddr(string.concat("extra", vm.toString(i)));
        uint256 key = uint256(keccak256(abi.encode("extra signer", i))) % (SECP256K1_N - 1) + 1;
        vm.chainId(HOME);
        bytes memory proof = signerProof(homeStake, key, op);
        vm.deal(op, amount);
        vm.startPrank(op);
        homeStake.registerOperator(vm.addr(key), proof);
        homeStake.deposit{value: amount}(amount);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------------------------------
    // Finding 9: one operator could reach a lane's threshold alone
    // ---------------------------------------------------------------------------------------

    function test_finding9_operatorShareCap() public {
        join(homeStake, 3, toRemote, 500 ether); // 500 of 560: alone above the threshold
        nextEpoch();
        commit(toRemote);
        StakeManager.Snapshot memory snap = homeStake.getSnapshot(toRemote);
        assertGe(_heaviest(snap), snap.threshold, "uncapped: one key reaches the threshold");

        vm.chainId(HOME);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.ShareTooHigh.selector, 10_001));
        homeStake.setMaxOperatorShare(toRemote, 10_001);
        vm.prank(stranger);
        vm.expectRevert(unauthorized(stranger));
        homeStake.setMaxOperatorShare(toRemote, 4_000);
        homeStake.setMaxOperatorShare(toRemote, 4_000);
        nextEpoch();
        commit(toRemote);
        snap = homeStake.getSnapshot(toRemote);
        // 10, 20, 30 stay; the heavy one is capped at c = 0.4 * (c + 60): c = 40.
        assertEq(_weightOf(snap, signers[3]), 40 ether);
        assertEq(snap.totalWeight, 100 ether);
        assertLt(_heaviest(snap), snap.threshold, "capped: no key reaches the threshold alone");
        assertLe(_heaviest(snap) * BPS, 4_000 * uint256(snap.totalWeight));
    }

    /// For any weights and any cap that the member count can meet, no member exceeds the share
    /// (rounding aside) and, below two thirds, nobody reaches the threshold alone.
    function testFuzz_finding9_operatorShareCap(uint96[4] memory raw, uint16 share) public {
        share = uint16(bound(share, 2_500, 6_666)); // four members can meet 25 %
        vm.chainId(HOME);
        homeStake.setMaxOperatorShare(toRemote, share);
        for (uint256 i; i < 4; ++i) {
            uint256 amount = bound(raw[i], MIN_STAKE, 1_000_000 ether);
            join(homeStake, i + 3, toRemote, amount);
        }
        nextEpoch();
        commit(toRemote);
        StakeManager.Snapshot memory snap = homeStake.getSnapshot(toRemote);
        uint256 n = snap.members.length;
        for (uint256 i; i < n; ++i) {
            assertLe(uint256(snap.members[i].weight) * BPS, uint256(share) * snap.totalWeight);
        }
        assertLt(_heaviest(snap), snap.threshold);
    }

    function _heaviest(StakeManager.Snapshot memory snap) internal pure returns (uint256 w) {
        for (uint256 i; i < snap.members.length; ++i) {
            if (snap.members[i].weight > w) w = snap.members[i].weight;
        }
    }

    function _weightOf(StakeManager.Snapshot memory snap, address signer) internal pure returns (uint256) {
        for (uint256 i; i < snap.members.length; ++i) {
            if (snap.members[i].signer == signer) return snap.members[i].weight;
        }
        return 0;
    }

    // ---------------------------------------------------------------------------------------
    // Finding 10: a forger reported itself and got the reporter share back
    // ---------------------------------------------------------------------------------------

    function test_finding10_selfReportingForgerGetsNothing() public {
        Checkpoint memory cp = forged(1);
        bytes32 id = slashAs(ops[2], 2, cp, noProof()); // reports itself, from its operator key
        (,,,,,, uint256 owed) = homeStake.evidence(id);
        assertEq(owed, 3 ether, "10% of its 30 ether, pending");
        vm.prank(ops[2]);
        vm.expectRevert(
            abi.encodeWithSelector(StakeManager.ReporterPayoutLocked.selector, uint64(block.timestamp) + D_DETECTION)
        );
        homeStake.claimReporterPayout(id);
        vm.warp(block.timestamp + D_DETECTION);
        uint256 pool = homeStake.compensationPool(toRemote);
        uint256 balance = ops[2].balance;
        vm.expectEmit(address(homeStake));
        emit StakeManager.ReporterShareForfeited(id, ops[2], 3 ether);
        vm.prank(ops[2]);
        homeStake.claimReporterPayout(id);
        assertEq(ops[2].balance, balance, "the forger is paid nothing");
        assertEq(homeStake.compensationPool(toRemote), pool + 3 ether, "the share compensates victims instead");
        vm.expectRevert(StakeManager.NothingToWithdraw.selector);
        homeStake.claimReporterPayout(id);
    }

    /// Colluders cross-report (1 reports 2 from its signing key): the delay lets anyone prove 1's
    /// own signature first, and then 1 gets nothing either.
    function test_finding10_crossReportingForgersGetNothing() public {
        Checkpoint memory cp = forged(1);
        bytes32 byOne = slashAs(signers[1], 2, cp, noProof());
        slashAs(reporter, 1, cp, noProof()); // an honest watcher proves 1's signature too
        vm.warp(block.timestamp + D_DETECTION);
        uint256 balance = signers[1].balance;
        vm.prank(signers[1]);
        homeStake.claimReporterPayout(byOne);
        assertEq(signers[1].balance, balance, "the fellow forger is paid nothing");
        (,,,,,, uint256 owed) = homeStake.evidence(byOne);
        assertEq(owed, 0, "its share went to the compensation pool");
    }

    function test_finding10_honestReporterPaidAfterDelay() public {
        bytes32 id = slashAs(reporter, 2, forged(1), noProof());
        vm.warp(block.timestamp + D_DETECTION);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StakeManager.NotReporter.selector, stranger));
        homeStake.claimReporterPayout(id);
        uint256 balance = reporter.balance;
        vm.prank(reporter);
        homeStake.claimReporterPayout(id);
        assertEq(reporter.balance - balance, 3 ether);
        // What a quorum loses is counted net of the share it could win back from a fresh address.
        (,, uint256 quorumLoss) = homeStake.laneSecurity(toRemote);
        StakeManager.Snapshot memory snap = homeStake.getSnapshot(toRemote);
        assertEq(quorumLoss, uint256(snap.threshold) * 9_000 / BPS);
    }
}
