// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";

import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Lane} from "../../src/BridgeBase.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {
    Message,
    Checkpoint,
    MessageKind,
    RefundStatus,
    IZeroBridgeEvents,
    IZeroBridgeErrors
} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";
import {ValidatorKit} from "../utils/ValidatorKit.sol";

/// @notice Invariant handler for one zerobridge route between "home" (chain 1) and "remote"
/// (chain 56), both living in one EVM. It plays holders (a fixed set of actors), a relayer and an
/// attacker. The relayer knows only what a real one knows: the MessageSent events emitted by the
/// source bridge (read with vm.recordLogs/getRecordedLogs), the validators' keys (to sign
/// checkpoints) and the destination's delivered sequence. Every other bridge event of a
/// successful call is folded into ghost state, which the invariant test compares against the
/// contracts' own storage.
///
/// Nothing here asserts: violations are counted in ghost variables so that a reverting check can
/// never be mistaken for a harmlessly reverting call (fail_on_revert = false).
contract BridgeHandler is CommonBase, StdCheats, StdUtils, ValidatorKit {
    uint64 internal constant HOME = 1;
    uint64 internal constant REMOTE = 56;
    uint256 internal constant NUM_ACTORS = 3;
    uint256 internal constant FORGE_MODES = 8;

    // ---------------------------------------------------------------------------------------
    // Deployment (received from the test)
    // ---------------------------------------------------------------------------------------

    ZeroBridge public immutable home;
    ZeroBridge public immutable remote;
    OwnedToken public immutable token;
    WrappedToken public immutable wrapped;
    bytes32 public immutable toRemote; // home -> remote: lock on home, mint on remote
    bytes32 public immutable toHome; // remote -> home: burn on remote, release on home

    // the lanes' validator set (the same set secures both lanes), sorted by address
    uint256[] internal _keys;
    address[] internal _members;
    uint96[] internal _weights;
    uint96 internal _threshold;
    bytes internal _encodedSet;

    // keys that are not in the set, sorted by address (wrong-key and foreign-set forgeries)
    uint256[] internal _outsiderKeys;
    address[] internal _outsiders;

    address[] public actors;
    address public attacker;

    /// @notice Ghost clock: every action warps here first, so time only moves through `warp`.
    uint256 public time;

    // ---------------------------------------------------------------------------------------
    // Relayer bookkeeping: what the source bridges emitted
    // ---------------------------------------------------------------------------------------

    mapping(bytes32 lane => Message[]) internal _sent;
    mapping(bytes32 lane => bytes32[]) internal _accs; // _accs[lane][i] = accumulator after i+1 messages
    mapping(bytes32 lane => mapping(bytes32 msgHash => uint64 sequence)) internal _seqOf;

    struct LastBatch {
        uint64 from; // delivered before
        uint64 to; // checkpoint sequence
        bytes signatures;
    }

    mapping(bytes32 lane => LastBatch) internal _last;

    // ---------------------------------------------------------------------------------------
    // Ghost state derived from the destination's and source's events
    // ---------------------------------------------------------------------------------------

    struct MsgState {
        bool executed; // MessageExecuted (at delivery or at hold release)
        bool failed; // MessageFailed: a REFUND went back on the reverse lane
        bool held; // TransferHeld
        bool released; // HoldReleased, or HoldCancelled: the hold ended
        bool cancelled; // HoldCancelled by the sender
        bool refundApproved; // RefundApproved on the source
        bool refundClaimed; // RefundClaimed on the source
        bytes4 failReason;
    }

    mapping(bytes32 lane => mapping(uint64 sequence => MsgState)) internal _state;
    mapping(bytes32 lane => uint64) public deliveredCount; // sum of delivered batch lengths

    // running totals of net amounts (TRANSFER messages only)
    mapping(bytes32 lane => uint256) public sentNet;
    mapping(bytes32 lane => uint256) public executedNet;
    mapping(bytes32 lane => uint256) public refundedNet;

    struct HoldRef {
        bytes32 lane;
        uint64 sequence;
        uint64 releaseAt;
        bool done;
    }

    HoldRef[] internal _holds;
    mapping(bytes32 lane => mapping(uint64 sequence => uint256 indexPlusOne)) internal _holdIndex;

    struct RefundRef {
        bytes32 lane; // the outbound lane the refunded transfer was sent on
        uint64 sequence;
        bool claimed;
    }

    RefundRef[] internal _refunds;
    mapping(bytes32 lane => mapping(uint64 sequence => uint256 indexPlusOne)) internal _refundIndex;

    /// @notice Rate-limit ledger: (timestamp, amount taken from the bucket).
    struct Flow {
        uint64 t;
        uint256 amount;
    }

    mapping(bytes32 lane => Flow[]) internal _outFlow; // source bucket: gross amount sent
    mapping(bytes32 lane => Flow[]) internal _inFlow; // destination bucket: amount executed or held

    struct Counters {
        uint256 sends;
        uint256 sendsRateLimited;
        uint256 deliveries;
        uint256 messagesDelivered;
        uint256 executed;
        uint256 failed;
        uint256 failedRateLimited;
        uint256 held;
        uint256 released;
        uint256 cancelled; // held transfers taken back by their sender
        uint256 timedOut; // failed with TransferTimedOut: arrived after the deadline
        uint256 refundMessages; // REFUND messages appended to this lane
        uint256 refundsApproved; // refunds of this lane's transfers approved on its source
        uint256 refundsClaimed;
        uint256 partialBatches;
    }

    mapping(bytes32 lane => Counters) internal _c;

    // ---------------------------------------------------------------------------------------
    // Violation and attack counters (all violation counters must stay 0)
    // ---------------------------------------------------------------------------------------

    uint256 public calls;
    uint256 public duplicateOutcomes; // a (lane, sequence) executed/failed twice, held or released twice
    uint256 public doubleRefundClaims; // a refund claimed twice (seen in events)
    uint256 public claimsWithoutFailure; // a refund paid for a transfer that never failed
    uint256 public approvalsWithoutFailure; // a refund approved for a transfer that never failed
    uint256 public logMismatches; // event content disagrees with the relayer's own records
    uint256 public legitDeliverReverts; // a correctly signed, correctly ordered batch was refused
    uint256 public legitClaimReverts; // an approved refund with a valid proof was refused
    uint256 public legitReleaseReverts; // a due hold could not be released
    uint256 public legitCancelReverts; // a held transfer's sender could not cancel it
    uint256 public unexpectedSendReverts; // a send reverted for a reason other than the rate limit
    bytes public lastUnexpectedRevert;

    uint256 public forgedAttempts;
    uint256 public forgedSuccesses; // must stay 0
    mapping(uint256 mode => uint256) public forgedAttemptsByMode;
    mapping(uint256 mode => bytes4) public lastForgedError; // why the last attempt of a mode was refused
    uint256 public forgedClaimAttempts;
    uint256 public forgedClaimSuccesses; // must stay 0 (tampered proof, unapproved, or second claim)
    uint256 public compromisedRefundAttempts; // approvals of a never-sent transfer, forced by a stolen quorum
    uint256 public compromisedRefundSuccesses; // must stay 0: the source's own record still refuses to pay
    uint256 public earlyReleaseAttempts;
    uint256 public earlyReleaseSuccesses; // must stay 0
    uint256 public foreignCancelAttempts;
    uint256 public foreignCancelSuccesses; // must stay 0: only the sender cancels a hold
    uint256 public repeatCancelSuccesses; // must stay 0: a cancelled hold cannot be cancelled again
    uint256 public lateExecutions; // must stay 0: a transfer executed after its deadline
    uint256 public feeClaims;

    constructor(
        ZeroBridge home_,
        ZeroBridge remote_,
        OwnedToken token_,
        WrappedToken wrapped_,
        bytes32 toRemote_,
        bytes32 toHome_,
        uint256[] memory keys,
        address[] memory members,
        uint96[] memory weights,
        uint96 threshold
    ) {
        home = home_;
        remote = remote_;
        token = token_;
        wrapped = wrapped_;
        toRemote = toRemote_;
        toHome = toHome_;
        _keys = keys;
        _members = members;
        _weights = weights;
        _threshold = threshold;
        _encodedSet = _encode(threshold, members, weights);

        (_outsiderKeys, _outsiders) = _sortedKeys("outsiders", members.length);

        for (uint256 i; i < NUM_ACTORS; ++i) {
            address a = makeAddr(string.concat("actor", vm.toString(i)));
            actors.push(a);
            token.mint(a, 5_000_000 ether);
        }
        attacker = makeAddr("attacker");
        time = block.timestamp;
    }

    // =======================================================================================
    // Actions: holders
    // =======================================================================================

    /// @notice An actor locks canonical tokens on home for another actor on remote.
    function sendHomeToRemote(uint256 actorSeed, uint256 recipientSeed, uint256 amount) external {
        _enter(HOME);
        address from = actors[actorSeed % NUM_ACTORS];
        address to = actors[recipientSeed % NUM_ACTORS];
        Lane memory lane = home.getLane(toRemote);
        amount = bound(amount, lane.minAmount, lane.maxAmount);
        if (token.balanceOf(from) < amount) token.mint(from, amount);

        vm.startPrank(from);
        token.approve(address(home), amount);
        bool ok;
        try home.send(toRemote, to, amount, _deadline(actorSeed)) {
            ok = true;
        } catch (bytes memory err) {
            _sendReverted(toRemote, err);
        }
        vm.stopPrank();
        if (ok) _afterSend(toRemote, amount);
    }

    /// @notice An actor burns wrapped tokens on remote to release canonical ones on home.
    function sendRemoteToHome(uint256 actorSeed, uint256 recipientSeed, uint256 amount) external {
        _enter(REMOTE);
        address from = actors[actorSeed % NUM_ACTORS];
        address to = actors[recipientSeed % NUM_ACTORS];
        Lane memory lane = remote.getLane(toHome);
        uint256 balance = wrapped.balanceOf(from);
        if (balance < lane.minAmount || (actorSeed / NUM_ACTORS) % 2 == 1) {
            // half of the time, or when this actor has nothing to return: the richest actor sends
            for (uint256 i; i < NUM_ACTORS; ++i) {
                if (wrapped.balanceOf(actors[i]) > balance) {
                    from = actors[i];
                    balance = wrapped.balanceOf(from);
                }
            }
            if (balance < lane.minAmount) return;
        }
        uint256 max = balance < lane.maxAmount ? balance : lane.maxAmount;
        amount = bound(amount, lane.minAmount, max);

        vm.prank(from);
        try remote.send(toHome, to, amount, _deadline(recipientSeed)) {
            _afterSend(toHome, amount);
        } catch (bytes memory err) {
            _sendReverted(toHome, err);
        }
    }

    /// @dev A third of the sends carry a deadline between 1 minute and 6 hours away (warps of up
    /// to 36 hours make some arrive late); the others none (the route has no default timeout).
    function _deadline(uint256 seed) internal view returns (uint64) {
        if ((seed / 11) % 3 != 0) return 0;
        return uint64(time + 1 minutes + (seed / 33) % 6 hours);
    }

    function _afterSend(bytes32 lane, uint256 gross) internal {
        _ingest(vm.getRecordedLogs());
        _outFlow[lane].push(Flow(uint64(time), gross));
        _c[lane].sends++;
    }

    function _sendReverted(bytes32 lane, bytes memory err) internal {
        if (bytes4(err) == IZeroBridgeErrors.RateLimited.selector) {
            _c[lane].sendsRateLimited++;
        } else {
            unexpectedSendReverts++;
            lastUnexpectedRevert = err;
        }
    }

    // =======================================================================================
    // Actions: relayer
    // =======================================================================================

    /// @notice Delivers pending home -> remote messages, the whole backlog or a prefix of it.
    function relayToRemote(uint256 upToSeed, uint256 signerSeed) external {
        _relay(toRemote, upToSeed, signerSeed);
    }

    /// @notice Delivers pending remote -> home messages, the whole backlog or a prefix of it.
    function relayToHome(uint256 upToSeed, uint256 signerSeed) external {
        _relay(toHome, upToSeed, signerSeed);
    }

    function _relay(bytes32 lane, uint256 upToSeed, uint256 signerSeed) internal {
        ZeroBridge dst = _dst(lane);
        _enter(_dstChain(lane));
        uint64 delivered = dst.getLane(lane).sequence;
        uint64 head = uint64(_sent[lane].length);
        if (head <= delivered) return;
        uint64 pending = head - delivered;
        // a quarter of the time the whole backlog, otherwise any prefix (partial batches)
        uint64 upTo = upToSeed % 4 == 0 ? head : delivered + 1 + uint64((upToSeed / 4) % pending);

        Checkpoint memory cp = Checkpoint({lane: lane, sequence: upTo, accumulator: _accs[lane][upTo - 1]});
        bytes memory sigs = _quorumSignatures(_digest(lane, cp), signerSeed);
        Message[] memory batch = _batch(lane, delivered, upTo);

        try dst.deliver(cp, _encodedSet, sigs, batch) {
            _ingest(vm.getRecordedLogs());
            _recordInbound(lane, batch);
            _last[lane] = LastBatch({from: delivered, to: upTo, signatures: sigs});
            if (upTo < head) _c[lane].partialBatches++;
        } catch (bytes memory err) {
            legitDeliverReverts++;
            lastUnexpectedRevert = err;
        }
    }

    /// @dev What the destination bucket took: every transfer of the batch except those refused by
    /// the rate limit itself or arriving after their deadline (held transfers take their capacity
    /// at delivery).
    function _recordInbound(bytes32 lane, Message[] memory batch) internal {
        uint256 taken;
        for (uint256 i; i < batch.length; ++i) {
            if (batch[i].kind != MessageKind.TRANSFER) continue;
            MsgState storage s = _state[lane][batch[i].sequence];
            if (
                s.failed
                    && (s.failReason == IZeroBridgeErrors.RateLimited.selector
                        || s.failReason == IZeroBridgeErrors.TransferTimedOut.selector)
            ) continue;
            taken += batch[i].amount;
        }
        if (taken != 0) _inFlow[lane].push(Flow(uint64(time), taken));
    }

    // =======================================================================================
    // Actions: time, holds, refunds, fees
    // =======================================================================================

    /// @notice Moves both chains' clocks forward (buckets refill, holds mature).
    function warp(uint256 secondsForward) external {
        time += bound(secondsForward, 1 minutes, 36 hours);
        _enter(HOME);
    }

    /// @notice Releases every hold whose delay has passed; tries one that has not (must fail).
    function releaseHolds(uint256 seed) external {
        ++calls;
        vm.warp(time);
        bool triedEarly;
        for (uint256 i; i < _holds.length; ++i) {
            HoldRef memory h = _holds[i];
            if (h.done) continue;
            ZeroBridge dst = _dst(h.lane);
            _enterNoCount(_dstChain(h.lane));
            if (h.releaseAt <= time) {
                vm.prank(actors[seed % NUM_ACTORS]);
                try dst.releaseHold(h.lane, h.sequence) {
                    _ingest(vm.getRecordedLogs());
                } catch (bytes memory err) {
                    legitReleaseReverts++;
                    lastUnexpectedRevert = err;
                }
            } else if (!triedEarly) {
                triedEarly = true;
                earlyReleaseAttempts++;
                vm.prank(attacker);
                try dst.releaseHold(h.lane, h.sequence) {
                    earlyReleaseSuccesses++;
                } catch {}
            }
        }
    }

    /// @notice The sender of the first open hold takes it back; before that a stranger tries
    /// (must fail), and after it the sender tries again (must fail).
    function cancelHolds(uint256 seed) external {
        ++calls;
        for (uint256 i; i < _holds.length; ++i) {
            HoldRef memory h = _holds[i];
            if (h.done) continue;
            ZeroBridge dst = _dst(h.lane);
            _enterNoCount(_dstChain(h.lane));
            address sender = dst.getHold(h.lane, h.sequence).sender;
            address stranger = actors[seed % NUM_ACTORS] == sender ? attacker : actors[seed % NUM_ACTORS];
            foreignCancelAttempts++;
            vm.prank(stranger);
            try dst.cancelHold(h.lane, h.sequence) {
                foreignCancelSuccesses++;
            } catch {}
            vm.prank(sender);
            try dst.cancelHold(h.lane, h.sequence) {
                _ingest(vm.getRecordedLogs());
            } catch (bytes memory err) {
                legitCancelReverts++;
                lastUnexpectedRevert = err;
            }
            vm.prank(sender);
            try dst.cancelHold(h.lane, h.sequence) {
                repeatCancelSuccesses++;
            } catch {}
            return;
        }
    }

    /// @notice Claims every approved refund on its source chain with a verifySent-compatible
    /// segment, then tries to cheat the refund path (second claim, tampered proof, unapproved).
    function claimRefunds(uint256 seed) external {
        ++calls;
        vm.warp(time);
        int256 firstClaimed = -1;
        for (uint256 i; i < _refunds.length; ++i) {
            RefundRef memory r = _refunds[i];
            if (r.claimed) continue;
            ZeroBridge src = _src(r.lane);
            _enterNoCount(_srcChain(r.lane));
            // like a transfer, a refund waits out the hold delay when large and takes the inbound
            // bucket: an honest claimer comes back later (what is claimed must then succeed)
            if (!_refundClaimable(src, r)) continue;
            (Message[] memory segment, uint256 index) = _segment(r.lane, r.sequence, seed >> i);
            vm.prank(actors[(seed % NUM_ACTORS + i) % NUM_ACTORS]); // anyone may claim; the sender is paid
            try src.claimRefund(r.lane, segment, index) {
                _ingest(vm.getRecordedLogs());
                if (firstClaimed < 0) firstClaimed = int256(i);
            } catch (bytes memory err) {
                legitClaimReverts++;
                lastUnexpectedRevert = err;
            }
        }
        _attackRefundPath(seed, firstClaimed);
    }

    /// @dev True when the approved refund is past its hold (if large) and fits the bucket of the
    /// source's inbound lane, so that a claim with a valid proof must succeed now.
    function _refundClaimable(ZeroBridge src, RefundRef memory r) internal view returns (bool) {
        Message memory m = _sent[r.lane][r.sequence - 1];
        bytes32 inbound = src.getLane(r.lane).reverseLane;
        uint256 threshold = src.getLane(inbound).largeTransferThreshold;
        (, uint64 approvedAt) = src.refunds(r.lane, keccak256(abi.encode(m)));
        if (threshold != 0 && m.amount >= threshold && time < uint256(approvedAt) + src.holdDelay()) return false;
        return m.amount <= src.availableCapacity(inbound);
    }

    function _attackRefundPath(uint256 seed, int256 justClaimed) internal {
        // 1. the same refund a second time, with an identical proof
        if (justClaimed >= 0) {
            RefundRef memory r = _refunds[uint256(justClaimed)];
            _enterNoCount(_srcChain(r.lane));
            (Message[] memory segment, uint256 index) = _segment(r.lane, r.sequence, seed);
            _tryForgedClaim(r.lane, segment, index);
            // 2. the same refund with an inflated amount (no longer matches the recorded accumulator)
            segment[index].amount += 1 + seed % 1e24;
            _tryForgedClaim(r.lane, segment, index);
        }
        // 3. a refund for a transfer that was delivered and executed (never failed)
        bytes32 lane = seed % 2 == 0 ? toRemote : toHome;
        uint64 delivered = _dst(lane).getLane(lane).sequence;
        if (delivered == 0) return;
        uint64 seq = uint64(1 + (seed >> 8) % delivered);
        Message memory m = _sent[lane][seq - 1];
        if (m.kind != MessageKind.TRANSFER || !_state[lane][seq].executed) return;
        _enterNoCount(_srcChain(lane));
        (Message[] memory seg, uint256 idx) = _segment(lane, seq, seed >> 16);
        _tryForgedClaim(lane, seg, idx);
    }

    function _tryForgedClaim(bytes32 lane, Message[] memory segment, uint256 index) internal {
        forgedClaimAttempts++;
        vm.prank(attacker);
        try _src(lane).claimRefund(lane, segment, index) {
            forgedClaimSuccesses++;
        } catch {}
    }

    /// @notice Anyone may push the route owner's fees to its collector.
    function claimFees(uint256 seed) external {
        bytes32 lane = seed % 2 == 0 ? toRemote : toHome;
        _enter(_srcChain(lane));
        try _src(lane).claimFees(lane) {
            feeClaims++;
        } catch (bytes memory err) {
            unexpectedSendReverts++;
            lastUnexpectedRevert = err;
        }
    }

    // =======================================================================================
    // Actions: attacker
    // =======================================================================================

    /// @notice Tries to deliver something no quorum of the lane's current set signed over the
    /// source's real history. Every mode must revert.
    ///  0 sub-quorum: one signature short of the threshold
    ///  1 wrong keys: outsiders sign, claiming members' indices
    ///  2 foreign set: a self-made set with its own quorum
    ///  3 tampered batch: real quorum over the real checkpoint, one message altered
    ///  4 replay: the lane's last delivered batch, verbatim
    ///  5 duplicate signer: one member signs `threshold` times
    ///  6 wrong domain: real quorum, but under the destination bridge's domain
    ///  7 cross-lane: real quorum over the same (sequence, accumulator) for the other lane
    function deliverForged(uint256 mode, uint256 laneSeed, uint256 seed) external {
        bytes32 lane = laneSeed % 2 == 0 ? toRemote : toHome;
        ZeroBridge dst = _dst(lane);
        _enter(_dstChain(lane));
        mode = mode % FORGE_MODES;

        bytes memory set = _encodedSet;
        Checkpoint memory cp;
        bytes memory sigs;
        Message[] memory batch;
        bool real;

        if (mode == 4) {
            LastBatch memory last = _last[lane];
            if (last.to == 0) return;
            batch = _batch(lane, last.from, last.to);
            cp = Checkpoint({lane: lane, sequence: last.to, accumulator: _accs[lane][last.to - 1]});
            sigs = last.signatures;
        } else {
            (cp, batch, real) = _forgeryBase(lane, dst.getLane(lane).sequence, seed);
            bytes32 digest = _digest(lane, cp);
            if (mode == 0) {
                sigs = _subQuorumSignatures(digest);
            } else if (mode == 1) {
                for (uint256 i; i < _threshold; ++i) {
                    sigs = abi.encodePacked(sigs, _sign(_outsiderKeys[i], uint8(i), digest));
                }
            } else if (mode == 2) {
                uint96[] memory w = new uint96[](_outsiders.length);
                for (uint256 i; i < w.length; ++i) {
                    w[i] = 1;
                }
                set = _encode(uint96(w.length), _outsiders, w);
                for (uint256 i; i < w.length; ++i) {
                    sigs = abi.encodePacked(sigs, _sign(_outsiderKeys[i], uint8(i), digest));
                }
            } else if (mode == 3) {
                if (!real) {
                    // no real backlog: the validators never signed anything beyond the delivered
                    // head, so reuse the quorum's signature over the head for the fabricated message
                    uint64 delivered = dst.getLane(lane).sequence;
                    if (delivered == 0) return;
                    cp = Checkpoint({lane: lane, sequence: delivered, accumulator: _accs[lane][delivered - 1]});
                    sigs = _quorumSignatures(_digest(lane, cp), seed);
                } else {
                    // real quorum over the real checkpoint; the relayer alters one message
                    sigs = _quorumSignatures(digest, seed);
                    uint256 k = (seed >> 8) % batch.length;
                    if ((seed >> 16) % 2 == 0 || batch[k].recipient == attacker) {
                        batch[k].amount += 1 + (seed >> 24) % 1e24;
                    } else {
                        batch[k].recipient = attacker;
                    }
                }
            } else if (mode == 5) {
                bytes memory one = _sign(_keys[0], 0, digest);
                for (uint256 i; i < _threshold; ++i) {
                    sigs = abi.encodePacked(sigs, one);
                }
            } else if (mode == 6) {
                bytes32 wrongDomain = domainOf(_dstChain(lane), address(dst));
                sigs = _quorumSignatures(digestOf(wrongDomain, cp), seed);
            } else {
                bytes32 other = lane == toRemote ? toHome : toRemote;
                Checkpoint memory otherCp = Checkpoint({lane: other, sequence: cp.sequence, accumulator: cp.accumulator});
                sigs = _quorumSignatures(_digest(other, otherCp), seed);
            }
        }

        forgedAttempts++;
        forgedAttemptsByMode[mode]++;
        vm.prank(attacker);
        try dst.deliver(cp, set, sigs, batch) {
            forgedSuccesses++;
        } catch (bytes memory err) {
            lastForgedError[mode] = bytes4(err);
        }
    }

    /// @notice Design invariant 7 under a stolen quorum: the validators of the reverse lane sign a
    /// REFUND approving a transfer the source never sent (a real sequence with another sender and
    /// amount, or one past the lane head), the approval lands, and the attacker claims it with a
    /// proof containing the forged transfer. The source's recorded accumulators must refuse it.
    /// Runs in a state snapshot that is reverted: only the result survives, in the ghost counters.
    function refundForgedMessage(uint256 laneSeed, uint256 seed) external {
        bytes32 lane = laneSeed % 2 == 0 ? toRemote : toHome; // lane of the "refunded" transfer
        _enter(_srcChain(lane));
        Message memory f = _forgedTransfer(lane, seed);

        uint256 snapshot = vm.snapshotState();
        bool approved = _stolenApproval(lane, f, seed);
        bool paid;
        if (approved) {
            (Message[] memory segment, uint256 index) = _forgedProof(lane, f, seed);
            vm.prank(attacker);
            try _src(lane).claimRefund(lane, segment, index) {
                paid = true;
            } catch {}
        }
        vm.revertToState(snapshot);
        if (approved) compromisedRefundAttempts++;
        if (paid) compromisedRefundSuccesses++;
    }

    /// @dev A transfer the source never sent: a real sequence with another sender and amount, or
    /// the sequence just past the lane head.
    function _forgedTransfer(bytes32 lane, uint256 seed) internal view returns (Message memory f) {
        uint64 head = uint64(_sent[lane].length);
        if (head != 0 && seed % 2 == 0) {
            f = _sent[lane][(seed >> 8) % head];
            f.kind = MessageKind.TRANSFER;
        } else {
            f.sequence = head + 1;
            f.kind = MessageKind.TRANSFER;
            f.recipient = attacker;
        }
        f.sender = attacker;
        f.amount = 1_000 ether + (seed >> 16) % 50_000 ether;
        f.data = bytes32(0);
    }

    /// @dev The stolen quorum of the reverse lane signs its real backlog plus a REFUND approving
    /// `f`, delivered to the source of `lane`. True when the approval landed.
    function _stolenApproval(bytes32 lane, Message memory f, uint256 seed) internal returns (bool) {
        bytes32 reverse = lane == toRemote ? toHome : toRemote;
        ZeroBridge src = _src(lane);
        (Checkpoint memory cp, Message[] memory batch) = _backlogWithRefund(reverse, src.getLane(reverse).sequence, f);
        try src.deliver(cp, _encodedSet, _quorumSignatures(_digest(reverse, cp), seed), batch) {
            (RefundStatus status,) = src.refunds(lane, keccak256(abi.encode(f)));
            return status == RefundStatus.Approved;
        } catch {
            return false;
        }
    }

    /// @dev The reverse lane's undelivered real messages, then a REFUND of `f`, and the
    /// checkpoint over them.
    function _backlogWithRefund(bytes32 reverse, uint64 delivered, Message memory f)
        internal
        view
        returns (Checkpoint memory cp, Message[] memory batch)
    {
        uint64 head = uint64(_sent[reverse].length);
        batch = new Message[](head - delivered + 1);
        bytes32 acc = _accAt(reverse, delivered);
        for (uint64 i; i < head - delivered; ++i) {
            batch[i] = _sent[reverse][delivered + i];
            acc = nextAcc(acc, batch[i]);
        }
        Message memory refund;
        refund.sequence = head + 1;
        refund.kind = MessageKind.REFUND;
        refund.sender = f.recipient;
        refund.recipient = f.sender;
        refund.amount = f.amount;
        refund.data = keccak256(abi.encode(f));
        batch[batch.length - 1] = refund;
        cp = Checkpoint({lane: reverse, sequence: head + 1, accumulator: nextAcc(acc, refund)});
    }

    /// @dev A claim proof shaped like a valid one, with `f` in place of the real message at its
    /// sequence or appended after the head.
    function _forgedProof(bytes32 lane, Message memory f, uint256 seed)
        internal
        view
        returns (Message[] memory segment, uint256 index)
    {
        uint64 head = uint64(_sent[lane].length);
        if (f.sequence <= head) {
            (segment, index) = _segment(lane, f.sequence, seed >> 4);
        } else {
            uint64 interval = _src(lane).ACCUMULATOR_RECORD_INTERVAL();
            uint64 start = ((f.sequence - 1) / interval) * interval;
            segment = new Message[](f.sequence - start);
            for (uint64 i = start; i < head; ++i) {
                segment[i - start] = _sent[lane][i];
            }
            index = segment.length - 1;
        }
        segment[index] = f;
    }

    /// @dev The real pending backlog (when there is one and the seed says so), otherwise one
    /// fabricated message continuing the destination's accumulator: a mint or release of a large
    /// amount to the attacker, or a REFUND approving the refund of an executed transfer.
    function _forgeryBase(bytes32 lane, uint64 delivered, uint256 seed)
        internal
        view
        returns (Checkpoint memory cp, Message[] memory batch, bool real)
    {
        uint64 head = uint64(_sent[lane].length);
        if (head > delivered && seed % 3 != 0) {
            batch = _batch(lane, delivered, head);
            cp = Checkpoint({lane: lane, sequence: head, accumulator: _accs[lane][head - 1]});
            return (cp, batch, true);
        }
        Message memory m = Message({
            sequence: delivered + 1,
            kind: MessageKind.TRANSFER,
            sender: attacker,
            recipient: attacker,
            amount: 1_000 ether + (seed >> 32) % 100_000 ether,
            data: bytes32(0),
            sentAt: uint64(block.timestamp),
            deadline: type(uint64).max
        });
        bytes32 reverse = lane == toRemote ? toHome : toRemote;
        if ((seed >> 4) % 2 == 1 && _sent[reverse].length != 0) {
            // refund a message of the reverse lane (e.g. one that was executed): double spend
            Message memory victim = _sent[reverse][(seed >> 40) % _sent[reverse].length];
            m.kind = MessageKind.REFUND;
            m.sender = victim.recipient;
            m.recipient = victim.sender;
            m.amount = victim.amount;
            m.data = keccak256(abi.encode(victim));
        }
        batch = new Message[](1);
        batch[0] = m;
        cp = Checkpoint({lane: lane, sequence: delivered + 1, accumulator: nextAcc(_accAt(lane, delivered), m)});
    }

    // =======================================================================================
    // Log ingestion (what a validator/relayer/indexer sees)
    // =======================================================================================

    function _ingest(Vm.Log[] memory logs) internal {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.topics.length < 2) continue;
            if (log.emitter != address(home) && log.emitter != address(remote)) continue;
            bytes32 sig = log.topics[0];
            bytes32 lane = log.topics[1];
            bool known = lane == toRemote || lane == toHome;

            if (sig == IZeroBridgeEvents.MessageSent.selector) {
                if (!known || log.emitter != address(_src(lane))) {
                    logMismatches++;
                    continue;
                }
                (Message memory m, bytes32 acc) = abi.decode(log.data, (Message, bytes32));
                _onSent(lane, uint64(uint256(log.topics[2])), m, acc);
            } else if (sig == IZeroBridgeEvents.CheckpointDelivered.selector) {
                if (!known || log.emitter != address(_dst(lane))) {
                    logMismatches++;
                    continue;
                }
                (uint64 seq, bytes32 acc, uint256 n) = abi.decode(log.data, (uint64, bytes32, uint256));
                _onCheckpoint(lane, seq, acc, n);
            } else if (sig == IZeroBridgeEvents.MessageExecuted.selector) {
                if (!known || log.emitter != address(_dst(lane))) {
                    logMismatches++;
                    continue;
                }
                _onExecuted(
                    lane,
                    uint64(uint256(log.topics[2])),
                    address(uint160(uint256(log.topics[3]))),
                    abi.decode(log.data, (uint256))
                );
            } else if (sig == IZeroBridgeEvents.MessageFailed.selector) {
                if (!known || log.emitter != address(_dst(lane))) {
                    logMismatches++;
                    continue;
                }
                _onFailed(lane, uint64(uint256(log.topics[2])), abi.decode(log.data, (bytes4)));
            } else if (sig == IZeroBridgeEvents.TransferHeld.selector) {
                if (!known || log.emitter != address(_dst(lane))) {
                    logMismatches++;
                    continue;
                }
                _onHeld(lane, uint64(uint256(log.topics[2])), abi.decode(log.data, (uint64)));
            } else if (sig == IZeroBridgeEvents.HoldCancelled.selector) {
                if (!known || log.emitter != address(_dst(lane))) {
                    logMismatches++;
                    continue;
                }
                uint64 seq = uint64(uint256(log.topics[2]));
                _onHoldEnded(lane, seq);
                _state[lane][seq].cancelled = true;
                _c[lane].cancelled++;
            } else if (sig == IZeroBridgeEvents.HoldReleased.selector) {
                if (!known || log.emitter != address(_dst(lane))) {
                    logMismatches++;
                    continue;
                }
                _onHoldEnded(lane, uint64(uint256(log.topics[2])));
                _c[lane].released++;
            } else if (sig == IZeroBridgeEvents.RefundApproved.selector) {
                // emitted on the source of the refunded lane (home for toRemote)
                if (!known || log.emitter != address(_src(lane))) {
                    logMismatches++;
                    continue;
                }
                _onRefundApproved(lane, log.topics[2]);
            } else if (sig == IZeroBridgeEvents.RefundClaimed.selector) {
                if (!known || log.emitter != address(_src(lane))) {
                    logMismatches++;
                    continue;
                }
                _onRefundClaimed(
                    lane, log.topics[2], address(uint160(uint256(log.topics[3]))), abi.decode(log.data, (uint256))
                );
            }
        }
    }

    function _onSent(bytes32 lane, uint64 seq, Message memory m, bytes32 acc) internal {
        uint256 n = _sent[lane].length;
        bytes32 prev = _accAt(lane, uint64(n));
        if (seq != n + 1 || m.sequence != n + 1 || acc != nextAcc(prev, m)) logMismatches++;
        _sent[lane].push(m);
        _accs[lane].push(acc);
        if (m.kind == MessageKind.TRANSFER) {
            sentNet[lane] += m.amount;
            _seqOf[lane][keccak256(abi.encode(m))] = m.sequence;
        } else if (m.kind == MessageKind.REFUND) {
            _c[lane].refundMessages++;
        }
    }

    function _onCheckpoint(bytes32 lane, uint64 seq, bytes32 acc, uint256 n) internal {
        deliveredCount[lane] += uint64(n);
        if (deliveredCount[lane] != seq || seq > _sent[lane].length || acc != _accAt(lane, seq)) logMismatches++;
        _c[lane].deliveries++;
        _c[lane].messagesDelivered += n;
    }

    function _onExecuted(bytes32 lane, uint64 seq, address recipient, uint256 amount) internal {
        if (seq == 0 || seq > _sent[lane].length) {
            logMismatches++;
            return;
        }
        MsgState storage s = _state[lane][seq];
        if (s.executed || s.failed || (s.held && !s.released)) duplicateOutcomes++;
        Message memory m = _sent[lane][seq - 1];
        if (m.kind != MessageKind.TRANSFER || m.recipient != recipient || m.amount != amount) logMismatches++;
        // Executed at delivery after the deadline (a hold released later was on time on arrival).
        if (!s.held && time > m.deadline) lateExecutions++;
        s.executed = true;
        executedNet[lane] += amount;
        _c[lane].executed++;
    }

    function _onFailed(bytes32 lane, uint64 seq, bytes4 reason) internal {
        if (seq == 0 || seq > _sent[lane].length) {
            logMismatches++;
            return;
        }
        MsgState storage s = _state[lane][seq];
        if (s.executed || s.failed || (s.held && !s.released)) duplicateOutcomes++;
        s.failed = true;
        s.failReason = reason;
        _c[lane].failed++;
        if (reason == IZeroBridgeErrors.RateLimited.selector) _c[lane].failedRateLimited++;
        if (reason == IZeroBridgeErrors.TransferTimedOut.selector) _c[lane].timedOut++;
    }

    function _onHeld(bytes32 lane, uint64 seq, uint64 releaseAt) internal {
        if (seq == 0 || seq > _sent[lane].length) {
            logMismatches++;
            return;
        }
        MsgState storage s = _state[lane][seq];
        if (s.held || s.executed || s.failed) duplicateOutcomes++;
        s.held = true;
        _holds.push(HoldRef({lane: lane, sequence: seq, releaseAt: releaseAt, done: false}));
        _holdIndex[lane][seq] = _holds.length;
        _c[lane].held++;
    }

    /// @dev A hold ends once, released (then paid or refused) or cancelled by its sender.
    function _onHoldEnded(bytes32 lane, uint64 seq) internal {
        MsgState storage s = _state[lane][seq];
        if (!s.held || s.released) duplicateOutcomes++;
        s.released = true;
        uint256 idx = _holdIndex[lane][seq];
        if (idx != 0) _holds[idx - 1].done = true;
    }

    function _onRefundApproved(bytes32 lane, bytes32 msgHash) internal {
        uint64 seq = _seqOf[lane][msgHash];
        if (seq == 0) {
            // approval for something this lane never sent
            approvalsWithoutFailure++;
            return;
        }
        MsgState storage s = _state[lane][seq];
        if (!s.failed) approvalsWithoutFailure++;
        if (s.refundApproved) duplicateOutcomes++;
        s.refundApproved = true;
        _refunds.push(RefundRef({lane: lane, sequence: seq, claimed: false}));
        _refundIndex[lane][seq] = _refunds.length;
        _c[lane].refundsApproved++;
    }

    function _onRefundClaimed(bytes32 lane, bytes32 msgHash, address to, uint256 amount) internal {
        uint64 seq = _seqOf[lane][msgHash];
        if (seq == 0) {
            claimsWithoutFailure++;
            return;
        }
        MsgState storage s = _state[lane][seq];
        if (!s.failed || !s.refundApproved) claimsWithoutFailure++;
        if (s.refundClaimed) doubleRefundClaims++;
        Message memory m = _sent[lane][seq - 1];
        if (m.sender != to || m.amount != amount) logMismatches++;
        s.refundClaimed = true;
        refundedNet[lane] += amount;
        uint256 idx = _refundIndex[lane][seq];
        if (idx != 0) _refunds[idx - 1].claimed = true;
        _c[lane].refundsClaimed++;
    }

    // =======================================================================================
    // Relayer helpers: batches, segments, checkpoints, signatures
    // =======================================================================================

    /// @dev Messages (from, to] of a lane, from the relayer's own record of MessageSent events.
    function _batch(bytes32 lane, uint64 from, uint64 to) internal view returns (Message[] memory ms) {
        ms = new Message[](to - from);
        for (uint64 s = from + 1; s <= to; ++s) {
            ms[s - from - 1] = _sent[lane][s - 1];
        }
    }

    /// @dev A verifySent-compatible segment around `seq`: from just after the previous multiple
    /// of ACCUMULATOR_RECORD_INTERVAL (or 0) to the next multiple, or to the lane head when the
    /// next multiple is not reached yet; on odd seeds, all the way to the head.
    function _segment(bytes32 lane, uint64 seq, uint256 seed)
        internal
        view
        returns (Message[] memory segment, uint256 index)
    {
        uint64 interval = home.ACCUMULATOR_RECORD_INTERVAL();
        uint64 head = uint64(_sent[lane].length);
        uint64 start = ((seq - 1) / interval) * interval;
        uint64 end = start + interval;
        if (end > head || seed % 2 == 1) end = head;
        segment = _batch(lane, start, end);
        index = seq - 1 - start;
    }

    function _accAt(bytes32 lane, uint64 seq) internal view returns (bytes32) {
        return seq == 0 ? initialAcc(lane) : _accs[lane][seq - 1];
    }

    /// @dev The checkpoint digest under the lane's source bridge domain.
    function _digest(bytes32 lane, Checkpoint memory cp) internal view returns (bytes32) {
        return digestOf(domainOf(_srcChain(lane), address(_src(lane))), cp);
    }


    function _sign(uint256 key, uint8 index, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        return abi.encodePacked(index, r, vs);
    }

    /// @dev A quorum in ascending member order: everyone, or everyone but one member when the
    /// rest still reaches the threshold (the seed picks which).
    function _quorumSignatures(bytes32 digest, uint256 seed) internal view returns (bytes memory sigs) {
        uint256 n = _members.length;
        uint256 skip = seed % (n + 1); // n = skip nobody
        uint256 total;
        for (uint256 i; i < n; ++i) {
            total += _weights[i];
        }
        if (skip < n && total - _weights[skip] < _threshold) skip = n;
        for (uint256 i; i < n; ++i) {
            if (i == skip) continue;
            sigs = abi.encodePacked(sigs, _sign(_keys[i], uint8(i), digest));
        }
    }

    /// @dev The heaviest signer subset that stays below the threshold, taken in index order.
    function _subQuorumSignatures(bytes32 digest) internal view returns (bytes memory sigs) {
        uint256 weight;
        for (uint256 i; i < _members.length; ++i) {
            if (weight + _weights[i] >= _threshold) continue;
            weight += _weights[i];
            sigs = abi.encodePacked(sigs, _sign(_keys[i], uint8(i), digest));
        }
        if (sigs.length == 0) sigs = new bytes(65); // a malformed empty signature
    }

    function _encode(uint96 threshold, address[] memory members, uint96[] memory weights)
        internal
        pure
        returns (bytes memory out)
    {
        out = abi.encodePacked(threshold, NEVER); // governance-configured: never expires
        for (uint256 i; i < members.length; ++i) {
            out = abi.encodePacked(out, members[i], weights[i]);
        }
    }

    function _sortedKeys(string memory seed, uint256 n)
        internal
        pure
        returns (uint256[] memory keys, address[] memory addrs)
    {
        keys = new uint256[](n);
        addrs = new address[](n);
        for (uint256 i; i < n; ++i) {
            keys[i] = uint256(keccak256(abi.encode(seed, i))) % (SECP256K1_N - 1) + 1;
            addrs[i] = vm.addr(keys[i]);
        }
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && addrs[j - 1] > addrs[j]; --j) {
                (addrs[j - 1], addrs[j]) = (addrs[j], addrs[j - 1]);
                (keys[j - 1], keys[j]) = (keys[j], keys[j - 1]);
            }
        }
    }

    // =======================================================================================
    // Chains
    // =======================================================================================

    function _enter(uint64 chainId) internal {
        ++calls;
        _enterNoCount(chainId);
    }

    /// @dev Every call runs at the ghost time, with the chain id of the contract it targets and
    /// a fresh log buffer (logs of reverted calls are never ingested).
    function _enterNoCount(uint64 chainId) internal {
        vm.warp(time);
        vm.chainId(chainId);
        vm.recordLogs();
    }

    function _src(bytes32 lane) internal view returns (ZeroBridge) {
        return lane == toRemote ? home : remote;
    }

    function _dst(bytes32 lane) internal view returns (ZeroBridge) {
        return lane == toRemote ? remote : home;
    }

    function _srcChain(bytes32 lane) internal view returns (uint64) {
        return lane == toRemote ? HOME : REMOTE;
    }

    function _dstChain(bytes32 lane) internal view returns (uint64) {
        return lane == toRemote ? REMOTE : HOME;
    }

    // =======================================================================================
    // Views for the invariant test
    // =======================================================================================

    function actorCount() external pure returns (uint256) {
        return NUM_ACTORS;
    }

    function sentCount(bytes32 lane) external view returns (uint64) {
        return uint64(_sent[lane].length);
    }

    function sentAt(bytes32 lane, uint64 seq) external view returns (Message memory) {
        return _sent[lane][seq - 1];
    }

    function accAt(bytes32 lane, uint64 seq) external view returns (bytes32) {
        return _accAt(lane, seq);
    }

    function stateOf(bytes32 lane, uint64 seq) external view returns (MsgState memory) {
        return _state[lane][seq];
    }

    function counters(bytes32 lane) external view returns (Counters memory) {
        return _c[lane];
    }

    function outFlow(bytes32 lane) external view returns (Flow[] memory) {
        return _outFlow[lane];
    }

    function inFlow(bytes32 lane) external view returns (Flow[] memory) {
        return _inFlow[lane];
    }

    function holdCount() external view returns (uint256) {
        return _holds.length;
    }

    function refundCount() external view returns (uint256) {
        return _refunds.length;
    }
}
