// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";

import {StakeManager} from "../../src/StakeManager.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Checkpoint, Message, IZeroBridgeEvents} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";
import {ValidatorKit} from "../utils/ValidatorKit.sol";

/// @notice Invariant handler for one chain's StakeManager (home, chain 1) behind an active route:
/// operators deposit, unbond, withdraw, opt in and out of two lanes (one Active, one Pending), and
/// anyone commits epochs, sends transfers (validator fees), proves fraud, collects deferred
/// slashes and claims rewards and reporter payouts. Time moves only through `warp`.
///
/// Money entering and leaving the stake manager is folded into ghost totals from the events of
/// successful calls (deposits, withdrawals, Slashed, reporter payouts per evidence, fees withdrawn
/// from the bridge, RewardsClaimed), so that the invariant test compares the contract against an
/// independent ledger. Nothing here asserts; a slash that succeeds on an honest checkpoint is counted.
contract StakingHandler is CommonBase, StdCheats, StdUtils, ValidatorKit {
    uint64 internal constant HOME = 1;

    StakeManager public immutable sm;
    ZeroBridge public immutable bridge;
    OwnedToken public immutable token;
    bytes32 public immutable domain;

    bytes32[] internal _lanes; // [0]: Active (fees, once per epoch), [1]: Pending (any time)
    address[] internal _operators;
    uint256[] internal _signerKeys;
    address[] internal _reporters;
    address internal immutable _sender;

    uint256 public time;
    uint256 public nonce; // counts successful state changes, orders jailings and commits

    // ---------------------------------------------------------------------------------------
    // Ghost ledger
    // ---------------------------------------------------------------------------------------

    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostSlashed;
    uint256 public ghostReporterShares;
    uint256 public ghostReporterClaimed;
    uint256 public ghostFeesIn; // validator fees the bridge paid to the stake manager
    uint256 public ghostRewardsClaimed;
    mapping(bytes32 evidenceId => uint256) public ghostReporterOwed;

    mapping(address operator => uint256) public jailedAt; // nonce of the first jailing, 0 = never
    mapping(bytes32 lane => uint256) public committedAt; // nonce of the lane's last commit

    bytes32[] internal _evidence;

    // ---------------------------------------------------------------------------------------
    // Counters
    // ---------------------------------------------------------------------------------------

    uint256 public honestSlashSuccesses; // must stay 0
    uint256 public withdrawMismatches; // must stay 0: a withdrawal paid other than the free unbonding stake
    uint256 public honestSlashAttempts;
    uint256 public fraudsProven;
    uint256 public deferredSlashes; // evidence left partly owed by the cap
    uint256 public commits;
    uint256 public withdrawals;
    uint256 public collections;

    constructor(
        StakeManager sm_,
        ZeroBridge bridge_,
        OwnedToken token_,
        bytes32[] memory lanes_,
        address[] memory operators_,
        uint256[] memory signerKeys_
    ) {
        sm = sm_;
        bridge = bridge_;
        token = token_;
        domain = domainOf(HOME, address(bridge_));
        _lanes = lanes_;
        _operators = operators_;
        _signerKeys = signerKeys_;
        _reporters.push(makeAddr("reporterA"));
        _reporters.push(makeAddr("reporterB"));
        _sender = makeAddr("holder");
        time = block.timestamp;
        ghostDeposited = sm_.totalBonded(); // bonded before the handler took over
        committedAt[lanes_[0]] = 1;
        nonce = 1;
    }

    // =======================================================================================
    // Operators
    // =======================================================================================

    function deposit(uint256 opSeed, uint256 amount) external {
        _enter();
        uint256 i = opSeed % _operators.length;
        address operator = _operators[i];
        if (sm.getOperator(operator).signer == address(0)) {
            // the handler holds the signing keys: it signs the proof of possession
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signerKeys[i], sm.signerRegistrationDigest(operator));
            vm.prank(operator);
            sm.registerOperator(vm.addr(_signerKeys[i]), abi.encodePacked(r, s, v));
        }
        amount = bound(amount, 1, 50 ether);
        vm.deal(operator, operator.balance + amount);
        vm.prank(operator);
        try sm.deposit{value: amount}(amount) {
            ghostDeposited += amount;
            ++nonce;
        } catch {}
    }

    function unbond(uint256 opSeed, uint256 amount) external {
        _enter();
        address operator = _operators[opSeed % _operators.length];
        uint256 active = sm.getOperator(operator).active;
        if (active == 0) return;
        vm.prank(operator);
        sm.unbond(bound(amount, 1, active));
        ++nonce;
    }

    function withdraw(uint256 opSeed) external {
        _enter();
        address operator = _operators[opSeed % _operators.length];
        uint256 amount = _freeUnbonding(operator, sm.getOperator(operator));
        uint256 before = operator.balance;
        vm.prank(operator);
        try sm.withdraw() {
            uint256 paidOut = operator.balance - before;
            ghostWithdrawn += paidOut;
            if (paidOut != amount) ++withdrawMismatches;
            ++withdrawals;
            ++nonce;
        } catch {}
    }

    /// @dev What a withdrawal may pay: only what leaves the bond at or above the weight locked now
    /// (all the unbonding stake once every lock is over).
    function _freeUnbonding(address operator, StakeManager.Operator memory op) internal view returns (uint256) {
        (uint256 locked,) = sm.lockedStake(operator);
        uint256 bonded = op.active + op.unbonding;
        if (bonded <= locked) return 0;
        uint256 free = bonded - locked;
        return free < op.unbonding ? free : op.unbonding;
    }

    function optIn(uint256 opSeed, uint256 laneSeed, uint256 amount) external {
        _enter();
        address operator = _operators[opSeed % _operators.length];
        uint256 active = sm.getOperator(operator).active;
        if (active == 0) return;
        vm.prank(operator);
        try sm.optIn(_lanes[laneSeed % _lanes.length], bound(amount, 1, active)) {
            ++nonce;
        } catch {}
    }

    function optOut(uint256 opSeed, uint256 laneSeed) external {
        _enter();
        vm.prank(_operators[opSeed % _operators.length]);
        try sm.optOut(_lanes[laneSeed % _lanes.length]) {
            ++nonce;
        } catch {}
    }

    function claimRewards(uint256 opSeed) external {
        _enter();
        address operator = _operators[opSeed % _operators.length];
        uint256 before = token.balanceOf(operator);
        vm.prank(operator);
        try sm.claimRewards(address(token)) {
            ghostRewardsClaimed += token.balanceOf(operator) - before;
        } catch {}
    }

    // =======================================================================================
    // Anyone
    // =======================================================================================

    function commit(uint256 laneSeed) external {
        _enter();
        bytes32 lane = _lanes[laneSeed % _lanes.length];
        try sm.commitEpoch(lane) {
            ++nonce;
            committedAt[lane] = nonce;
            ++commits;
            _ingest();
        } catch {}
    }

    /// @notice A holder sends on the Active lane: fees accrue to its validators.
    function send(uint256 amount) external {
        _enter();
        amount = bound(amount, 1 ether, 10_000 ether);
        token.mint(_sender, amount);
        vm.startPrank(_sender);
        token.approve(address(bridge), amount);
        try bridge.send(_lanes[0], _sender, amount, 0) {} catch {}
        vm.stopPrank();
    }

    function warp(uint256 secondsForward) external {
        time += bound(secondsForward, 1 minutes, 2 days);
        _enter();
    }

    /// @notice A registered signer signs a checkpoint of either lane, and a reporter submits it.
    /// Modes: 0 beyond the lane's count, 1 a wrong accumulator at the head, 2 a wrong accumulator
    /// at a recorded sequence, 3 and 4 the honest checkpoint at the head or at a record.
    function slash(uint256 opSeed, uint256 laneSeed, uint256 mode, uint256 reporterSeed, uint256 seqSeed) external {
        _enter();
        uint256 i = opSeed % _operators.length;
        if (sm.getOperator(_operators[i]).signer == address(0)) return;
        mode = mode % 5;
        bool honest = mode >= 3;
        Checkpoint memory cp = _checkpoint(_lanes[laneSeed % _lanes.length], mode, seqSeed);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signerKeys[i], digestOf(domain, cp));
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        if (honest) ++honestSlashAttempts;
        vm.prank(_reporters[reporterSeed % _reporters.length]);
        try sm.slash(cp, r, vs, new Message[](0)) returns (bytes32 id) {
            if (honest) ++honestSlashSuccesses;
            _proven(_operators[i], id);
        } catch {}
    }

    function _checkpoint(bytes32 lane, uint256 mode, uint256 seqSeed) internal view returns (Checkpoint memory cp) {
        uint64 head = bridge.getLane(lane).sequence;
        uint64 interval = bridge.ACCUMULATOR_RECORD_INTERVAL();
        cp.lane = lane;
        if (mode == 0) {
            cp.sequence = uint64(bound(seqSeed, uint256(head) + 1, uint256(head) + 1_000));
            cp.accumulator = keccak256(abi.encode("forged", seqSeed));
            return cp;
        }
        if (mode == 1 || mode == 3) {
            cp.sequence = head;
        } else {
            cp.sequence = head / interval == 0 ? 0 : uint64(bound(seqSeed, 1, head / interval)) * interval;
        }
        cp.accumulator = bridge.accumulatorAt(lane, cp.sequence);
        if (mode < 3) cp.accumulator = keccak256(abi.encode(cp.accumulator, "tampered"));
    }

    function _proven(address operator, bytes32 id) internal {
        ++nonce;
        if (jailedAt[operator] == 0) jailedAt[operator] = nonce;
        _evidence.push(id);
        ++fraudsProven;
        (,,,, uint256 due, uint256 paid,) = sm.evidence(id);
        if (paid < due) ++deferredSlashes;
        _ingest();
    }

    function collect(uint256 evidenceSeed) external {
        _enter();
        if (_evidence.length == 0) return;
        try sm.collectSlash(_evidence[evidenceSeed % _evidence.length]) {
            ++collections;
            _ingest();
        } catch {}
    }

    /// @notice The reporter of one piece of evidence claims its share (after the delay).
    function claimReporterPayout(uint256 evidenceSeed) external {
        _enter();
        if (_evidence.length == 0) return;
        bytes32 id = _evidence[evidenceSeed % _evidence.length];
        (, address reporter,,,,,) = sm.evidence(id);
        uint256 before = reporter.balance;
        vm.prank(reporter);
        try sm.claimReporterPayout(id) {
            uint256 paid = reporter.balance - before;
            ghostReporterClaimed += paid;
            ghostReporterOwed[id] -= paid;
        } catch {}
    }

    // =======================================================================================
    // Views for the invariant test
    // =======================================================================================

    function operators() external view returns (address[] memory) {
        return _operators;
    }

    function lanes() external view returns (bytes32[] memory) {
        return _lanes;
    }

    function reporters() external view returns (address[] memory) {
        return _reporters;
    }

    function evidenceIds() external view returns (bytes32[] memory) {
        return _evidence;
    }

    // =======================================================================================
    // Internals
    // =======================================================================================

    function _enter() internal {
        vm.warp(time);
        vm.chainId(HOME);
        vm.recordLogs();
    }

    /// @dev Slashed and ValidatorFeesWithdrawn events of the last call.
    function _ingest() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 k; k < logs.length; ++k) {
            Vm.Log memory l = logs[k];
            if (l.topics.length == 0) continue;
            if (l.emitter == address(sm) && l.topics[0] == StakeManager.Slashed.selector) {
                (uint256 amount, uint256 reporterShare) = abi.decode(l.data, (uint256, uint256));
                ghostSlashed += amount;
                ghostReporterShares += reporterShare;
                ghostReporterOwed[l.topics[1]] += reporterShare;
            } else if (
                l.emitter == address(bridge) && l.topics[0] == IZeroBridgeEvents.ValidatorFeesWithdrawn.selector
                    && address(uint160(uint256(l.topics[2]))) == address(sm)
            ) {
                ghostFeesIn += abi.decode(l.data, (uint256));
            }
        }
    }
}
