// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";

import {AdversarialBase} from "./AdversarialBase.sol";
import {Message, Checkpoint, MessageKind} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Validator-set rotation: the old set's authority ends at the SET_UPDATE message.
contract RotationTest is AdversarialBase {
    uint256 internal constant AMOUNT = 1_000 * UNIT;

    ValidatorSet internal oldSet;
    ValidatorSet internal newSet;
    bytes internal oldEncoded;
    bytes internal newEncoded;

    function setUp() public override {
        super.setUp();
        _copy(oldSet, currentSet(toRemote));
        _copy(newSet, makeSet("rotated", 5, 4));
        oldEncoded = encodeSet(oldSet);
        newEncoded = encodeSet(newSet);
    }

    function _copy(ValidatorSet storage dst, ValidatorSet memory src) internal {
        for (uint256 i; i < src.keys.length; ++i) {
            dst.keys.push(src.keys[i]);
            dst.members.push(src.members[i]);
            dst.weights.push(src.weights[i]);
        }
        dst.threshold = src.threshold;
        dst.validUntil = src.validUntil;
    }

    function _queueRotation() internal returns (uint64 seq) {
        vm.chainId(HOME);
        vm.prank(setManager);
        seq = home.bridge.queueValidatorSetUpdate(toRemote, newEncoded);
        captureLogs();
    }

    function test_RevertWhen_oldSetSignsAfterRotation() public {
        uint64 updateSeq = _queueRotation();
        assertEq(updateSeq, 1);
        Message memory update = sentMessage(toRemote, 1);
        assertEq(update.kind, MessageKind.SET_UPDATE);
        assertEq(update.data, keccak256(newEncoded));

        // The old set signs the update itself: that is how a rotation is authorised.
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));

        sendAs(alice, toRemote, bob, AMOUNT);
        Checkpoint memory cp = checkpointAt(toRemote, 2);
        Message[] memory ms = batch(toRemote, 1, 2);
        bytes memory oldSigs = quorumSignatures(oldSet, digestOf(sourceDomain(toRemote), cp));
        Snapshot memory before = _snapshot();

        // Old encoding with old signatures, in the same block the update was delivered (there is
        // no grace window): the lane no longer knows that set.
        vm.chainId(REMOTE);
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(newEncoded), keccak256(oldEncoded))
        );
        remote.bridge.deliver(cp, oldEncoded, oldSigs, ms);

        // Old signatures presented against the new encoding: index 0 is now someone else.
        assertTrue(oldSet.members[0] != newSet.members[0]);
        vm.expectRevert(abi.encodeWithSelector(SignerNotInSet.selector, 0, oldSet.members[0]));
        remote.bridge.deliver(cp, newEncoded, oldSigs, ms);
        _assertUnchanged(before);

        // The new set delivers.
        _storeSet(toRemote, newSet);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), _net(AMOUNT));
        assertEq(remote.bridge.getLane(toRemote).sequence, 2);
    }

    function test_RevertWhen_setUpdateNotLast() public {
        _queueRotation();
        sendAs(alice, toRemote, bob, AMOUNT); // sequence 2, after the update

        // The old set signs a checkpoint past its own replacement and tries to carry seq 2 along.
        Checkpoint memory cp = checkpointAt(toRemote, 2);
        Message[] memory ms = batch(toRemote, 0, 2);
        bytes memory oldSigs = quorumSignatures(oldSet, digestOf(sourceDomain(toRemote), cp));
        Snapshot memory before = _snapshot();
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(SetUpdateNotLast.selector, 1));
        remote.bridge.deliver(cp, oldEncoded, oldSigs, ms);
        _assertUnchanged(before);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));

        // Up to the update the old set is still in charge...
        relayTo(toRemote, 1);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));
        // ...and, from the moment the update is delivered, not one message further.
        Message[] memory rest = batch(toRemote, 1, 2);
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(newEncoded), keccak256(oldEncoded))
        );
        remote.bridge.deliver(cp, oldEncoded, oldSigs, rest);
        assertEq(wrapped.balanceOf(bob), 0);

        _storeSet(toRemote, newSet);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), _net(AMOUNT));
    }

    /// @dev A replaced set can neither carry a message past a set update nor sign in the next
    /// update: only the current set rotates the lane, and the old one is refused at once.
    function test_RevertWhen_oldSetCarriesTheNextSetUpdate() public {
        _queueRotation(); // seq 1: old -> new
        ValidatorSet memory third = makeSet("third", 4, 3);
        bytes memory thirdEncoded = encodeSet(third);
        vm.chainId(HOME);
        vm.prank(setManager);
        home.bridge.queueValidatorSetUpdate(toRemote, thirdEncoded); // seq 2: new -> third
        captureLogs();

        // both updates in one batch: the first is not last
        Checkpoint memory cp = checkpointAt(toRemote, 2);
        bytes memory oldSigs = quorumSignatures(oldSet, digestOf(sourceDomain(toRemote), cp));
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(SetUpdateNotLast.selector, 1));
        remote.bridge.deliver(cp, oldEncoded, oldSigs, batch(toRemote, 0, 2));

        relayTo(toRemote, 1);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));

        // the replaced set signs the second update on its own, in the same block: refused
        Snapshot memory before = _snapshot();
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(newEncoded), keccak256(oldEncoded))
        );
        remote.bridge.deliver(cp, oldEncoded, oldSigs, batch(toRemote, 1, 2));
        _assertUnchanged(before);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));

        // the current set does
        _storeSet(toRemote, newSet);
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(thirdEncoded));
    }

    function test_RevertWhen_queuedSetSignsItsOwnInstallation() public {
        // The set manager queues a set; only the current set may sign it in, not the newcomer.
        _queueRotation();
        Checkpoint memory cp = checkpointAt(toRemote, 1);
        Message[] memory ms = batch(toRemote, 0, 1);
        bytes32 digest = digestOf(sourceDomain(toRemote), cp);
        bytes memory newSigs = quorumSignatures(newSet, digest);
        Snapshot memory before = _snapshot();

        vm.chainId(REMOTE);
        vm.expectRevert(
            abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(oldEncoded), keccak256(newEncoded))
        );
        remote.bridge.deliver(cp, newEncoded, newSigs, ms);
        // New signers under the old encoding are outsiders.
        vm.expectRevert(abi.encodeWithSelector(SignerNotInSet.selector, 0, newSet.members[0]));
        remote.bridge.deliver(cp, oldEncoded, newSigs, ms);
        _assertUnchanged(before);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));

        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(newEncoded));
    }

    function test_RevertWhen_strangerQueuesSetUpdate() public {
        vm.chainId(HOME);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, alice));
        home.bridge.queueValidatorSetUpdate(toRemote, newEncoded);
        assertEq(home.bridge.getLane(toRemote).sequence, 0);
    }

    function test_RevertWhen_setReinstalledOnActiveLane() public {
        // installValidatorSet bypasses the old set's signature, so it is closed once the route is live.
        vm.chainId(REMOTE);
        vm.prank(setManager);
        vm.expectRevert(abi.encodeWithSelector(SetAlreadyActive.selector, toRemote));
        remote.bridge.installValidatorSet(toRemote, newEncoded);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(oldEncoded));
    }
}
