// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdversarialBase} from "./AdversarialBase.sol";
import {Message, Checkpoint} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Batches that do not continue the lane exactly or do not hash to the signed accumulator.
/// Every attack carries a valid quorum over a real checkpoint, so only the batch checks stand in the way.
contract BatchesTest is AdversarialBase {
    address internal carol = makeAddr("carol");
    address internal mallory = makeAddr("mallory");

    function setUp() public override {
        super.setUp();
        sendAs(alice, toRemote, bob, 100 * UNIT);
        sendAs(alice, toRemote, carol, 200 * UNIT);
        sendAs(alice, toRemote, bob, 300 * UNIT);
    }

    function _messages(uint64[] memory seqs) internal view returns (Message[] memory ms) {
        ms = new Message[](seqs.length);
        for (uint256 i; i < seqs.length; ++i) {
            ms[i] = sentMessage(toRemote, seqs[i]);
        }
    }

    function _seqs(uint64 a, uint64 b) internal pure returns (uint64[] memory s) {
        s = new uint64[](2);
        (s[0], s[1]) = (a, b);
    }

    function _seqs(uint64 a, uint64 b, uint64 c) internal pure returns (uint64[] memory s) {
        s = new uint64[](3);
        (s[0], s[1], s[2]) = (a, b, c);
    }

    /// @dev Delivers `ms` under the honest, quorum-signed checkpoint at `seq`; expects `err`;
    /// checks nothing moved and that the honest relay still delivers everything.
    function _attack(uint64 seq, Message[] memory ms, bytes memory err) internal {
        Checkpoint memory cp = checkpointAt(toRemote, seq);
        bytes memory sigs = _quorum(toRemote, cp);
        bytes memory enc = encodeSet(currentSet(toRemote));
        Snapshot memory before = _snapshot();
        vm.chainId(REMOTE);
        vm.expectRevert(err);
        remote.bridge.deliver(cp, enc, sigs, ms);
        _assertUnchanged(before);
        _relayAndCheck();
    }

    function _relayAndCheck() internal {
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).sequence, 3);
        assertEq(wrapped.balanceOf(bob), _net(100 * UNIT) + _net(300 * UNIT));
        assertEq(wrapped.balanceOf(carol), _net(200 * UNIT));
        assertEq(wrapped.balanceOf(mallory), 0);
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    function test_RevertWhen_batchSkipsSequence() public {
        _attack(3, _messages(_seqs(1, 3)), abi.encodeWithSelector(SequenceGap.selector, 2, 3));
    }

    function test_RevertWhen_batchSkipsFirstSequence() public {
        _attack(3, _messages(_seqs(2, 3)), abi.encodeWithSelector(SequenceGap.selector, 1, 2));
    }

    function test_RevertWhen_messagesReordered() public {
        _attack(3, _messages(_seqs(1, 3, 2)), abi.encodeWithSelector(SequenceGap.selector, 2, 3));
    }

    function test_RevertWhen_messagesReorderedAndRenumbered() public {
        // Contents of 2 and 3 swapped, sequence fields kept in order: the chain no longer matches.
        Message[] memory ms = _messages(_seqs(1, 3, 2));
        (ms[1].sequence, ms[2].sequence) = (2, 3);
        bytes32 computed = _accAfter(initialAcc(toRemote), ms);
        _attack(
            3, ms, abi.encodeWithSelector(AccumulatorMismatch.selector, checkpointAt(toRemote, 3).accumulator, computed)
        );
    }

    function test_RevertWhen_batchTruncated() public {
        // Checkpoint at 3, only messages 1..2 supplied.
        _attack(3, _messages(_seqs(1, 2)), abi.encodeWithSelector(CheckpointMismatch.selector, 3, 2));
    }

    function test_RevertWhen_batchExtendsPastCheckpoint() public {
        // Message 3 rides along under a checkpoint that only covers 1..2.
        _attack(2, _messages(_seqs(1, 2, 3)), abi.encodeWithSelector(CheckpointMismatch.selector, 2, 3));
    }

    function test_RevertWhen_amountTampered() public {
        Message[] memory ms = _messages(_seqs(1, 2, 3));
        ms[1].amount += 1;
        bytes32 computed = _accAfter(initialAcc(toRemote), ms);
        _attack(
            3, ms, abi.encodeWithSelector(AccumulatorMismatch.selector, checkpointAt(toRemote, 3).accumulator, computed)
        );
    }

    function test_RevertWhen_recipientTampered() public {
        Message[] memory ms = _messages(_seqs(1, 2, 3));
        ms[2].recipient = mallory;
        bytes32 computed = _accAfter(initialAcc(toRemote), ms);
        _attack(
            3, ms, abi.encodeWithSelector(AccumulatorMismatch.selector, checkpointAt(toRemote, 3).accumulator, computed)
        );
    }

    function test_RevertWhen_kindTampered() public {
        // A transfer relabelled as an unknown kind would be skipped: it must not even verify.
        Message[] memory ms = _messages(_seqs(1, 2, 3));
        ms[0].kind = 9;
        bytes32 computed = _accAfter(initialAcc(toRemote), ms);
        _attack(
            3, ms, abi.encodeWithSelector(AccumulatorMismatch.selector, checkpointAt(toRemote, 3).accumulator, computed)
        );
    }

    function test_RevertWhen_deliveredBatchReplayed() public {
        Checkpoint memory cp = checkpointAt(toRemote, 3);
        bytes memory sigs = _quorum(toRemote, cp);
        bytes memory enc = encodeSet(currentSet(toRemote));
        Message[] memory ms = batch(toRemote, 0, 3);
        vm.chainId(REMOTE);
        remote.bridge.deliver(cp, enc, sigs, ms);
        captureLogs();

        Snapshot memory before = _snapshot();
        vm.expectRevert(abi.encodeWithSelector(SequenceGap.selector, 4, 1));
        remote.bridge.deliver(cp, enc, sigs, ms);
        // Nor the tail alone, nor an older checkpoint.
        vm.expectRevert(abi.encodeWithSelector(SequenceGap.selector, 4, 3));
        remote.bridge.deliver(cp, enc, sigs, _tail(ms));
        Checkpoint memory older = checkpointAt(toRemote, 1);
        bytes memory olderSigs = _quorum(toRemote, older);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(SequenceGap.selector, 4, 1));
        remote.bridge.deliver(older, enc, olderSigs, batch(toRemote, 0, 1));
        _assertUnchanged(before);
        _relayAndCheck();
    }

    function _tail(Message[] memory ms) internal pure returns (Message[] memory) {
        return _one(ms[ms.length - 1]);
    }

    function test_RevertWhen_batchEmpty() public {
        _attack(3, new Message[](0), abi.encodeWithSelector(EmptyBatch.selector));
    }
}
