// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {StakeManager} from "../../src/StakeManager.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Checkpoint, Message} from "../../src/interfaces/IZeroBridge.sol";
import {ValidatorKit} from "../utils/ValidatorKit.sol";

/// @notice Drives one chain's StakeManager through exits in every order (deposit, allocate, opt out,
/// unbond, withdraw, commit, prove fraud, time) and records every committed set as a ghost: its
/// expiry and each member's weight. Slashes are folded into a ghost per operator, so that the
/// invariant can tell a slash (allowed to take stake below a live weight) from a withdrawal (not).
contract StakeBackingHandler is CommonBase, StdCheats, StdUtils, ValidatorKit {
    uint64 internal constant HOME = 1;

    struct GhostSet {
        uint64 validUntil;
        address[] operators;
        uint96[] weights;
    }

    StakeManager public immutable sm;
    ZeroBridge public immutable bridge;
    bytes32 public immutable lane;
    bytes32 public immutable domain;
    address[] internal _operators;
    uint256[] internal _signerKeys;

    GhostSet[] internal _sets;
    mapping(address operator => uint256) public ghostSlashed;
    uint256 public withdrawals;

    constructor(StakeManager sm_, ZeroBridge bridge_, bytes32 lane_, address[] memory ops, uint256[] memory keys) {
        sm = sm_;
        bridge = bridge_;
        lane = lane_;
        domain = domainOf(HOME, address(bridge_));
        _operators = ops;
        _signerKeys = keys;
        _recordSnapshot(); // the bootstrap's set
    }

    function _op(uint256 seed) internal view returns (address, uint256) {
        uint256 i = seed % _operators.length;
        return (_operators[i], i);
    }

    function deposit(uint256 seed, uint256 amount) external {
        (address op,) = _op(seed);
        amount = bound(amount, 1 ether, 50 ether);
        vm.deal(op, op.balance + amount);
        vm.chainId(HOME);
        vm.prank(op);
        try sm.deposit{value: amount}(amount) {} catch {}
    }

    function optIn(uint256 seed, uint256 amount) external {
        (address op,) = _op(seed);
        uint256 active = sm.getOperator(op).active;
        if (active < sm.minStake()) return;
        amount = bound(amount, sm.minStake(), active);
        vm.chainId(HOME);
        vm.prank(op);
        try sm.optIn(lane, amount) {} catch {}
    }

    function optOut(uint256 seed) external {
        (address op,) = _op(seed);
        vm.chainId(HOME);
        vm.prank(op);
        try sm.optOut(lane) {} catch {}
    }

    function unbond(uint256 seed, uint256 amount) external {
        (address op,) = _op(seed);
        uint256 active = sm.getOperator(op).active;
        if (active == 0) return;
        amount = bound(amount, 1, active);
        vm.chainId(HOME);
        vm.prank(op);
        try sm.unbond(amount) {} catch {}
    }

    function withdraw(uint256 seed) external {
        (address op,) = _op(seed);
        vm.chainId(HOME);
        vm.prank(op);
        try sm.withdraw() {
            ++withdrawals;
        } catch {}
    }

    function commit() external {
        vm.chainId(HOME);
        try sm.commitEpoch(lane) {
            _recordSnapshot();
        } catch {}
    }

    /// @notice An operator's signing key signs a checkpoint the lane never had; a reporter proves it.
    function forgeAndSlash(uint256 seed) external {
        (address op, uint256 i) = _op(seed);
        vm.chainId(HOME);
        uint64 seq = bridge.getLane(lane).sequence + 1;
        Checkpoint memory cp = Checkpoint({lane: lane, sequence: seq, accumulator: keccak256(abi.encode(seed))});
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signerKeys[i], digestOf(domain, cp));
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        uint256 before = sm.getOperator(op).active + sm.getOperator(op).unbonding;
        try sm.slash(cp, r, vs, new Message[](0)) {
            uint256 afterwards = sm.getOperator(op).active + sm.getOperator(op).unbonding;
            ghostSlashed[op] += before - afterwards;
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 6 hours));
    }

    function _recordSnapshot() internal {
        StakeManager.Snapshot memory snap = sm.getSnapshot(lane);
        GhostSet storage g = _sets.push();
        g.validUntil = snap.validUntil;
        for (uint256 i; i < snap.members.length; ++i) {
            g.operators.push(snap.members[i].operator);
            g.weights.push(snap.members[i].weight);
        }
    }

    function setCount() external view returns (uint256) {
        return _sets.length;
    }

    function ghostSet(uint256 i) external view returns (GhostSet memory) {
        return _sets[i];
    }
}
