// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StakingBase} from "./StakingBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {Message, MessageKind} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Validator sets from stake, across chains: a stake change becomes a SET_UPDATE message on
/// the lane at the next epoch, the current set signs it in on the destination, the new set takes
/// over, and the old one is refused as soon as the update is delivered (there is no grace window).
contract SetUpdatesTest is StakingBase {
    ValidatorSet internal first; // the bootstrap set of toRemote: operators 0..2, 10/20/30 ether

    function setUp() public override {
        super.setUp();
        bootstrap();
        ValidatorSet memory s = currentSet(toRemote);
        _copy(first, s);
    }

    function _copy(ValidatorSet storage dst, ValidatorSet memory src) internal {
        delete dst.keys;
        delete dst.members;
        delete dst.weights;
        for (uint256 i; i < src.keys.length; ++i) {
            dst.keys.push(src.keys[i]);
            dst.members.push(src.members[i]);
            dst.weights.push(src.weights[i]);
        }
        dst.threshold = src.threshold;
        dst.validUntil = src.validUntil;
    }

    function _hash(ValidatorSet memory s) internal pure returns (bytes32) {
        return keccak256(encodeSet(s));
    }

    /// @dev Operator 3 joins with 40 ether, operator 0 unbonds all of its 10; the next epoch's
    /// commit queues {1, 2, 3} with 20/30/40 ether (`_changedSet`).
    function _changeStake() internal {
        join(homeStake, 3, toRemote, 40 ether);
        unbond(homeStake, 0, 10 ether);
    }

    /// @dev The set `_changeStake` leads to, as committed now (its expiry counts from the commit).
    function _changedSet() internal view returns (ValidatorSet memory) {
        return expectedSet(idx(1, 2, 3), ws(20 ether, 30 ether, 40 ether));
    }

    function test_bootstrapSetsComeFromStake() public view {
        ValidatorSet memory expected = expectedSet(idx(0, 1, 2), ws(10 ether, 20 ether, 30 ether));
        assertEq(_hash(first), _hash(expected));
        assertEq(expected.threshold, 40 ether);
        // the same set on both ends of the lane; the reverse lane's set comes from remote's stake
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, _hash(expected));
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(expected));
        assertEq(remote.bridge.getLane(toHome).validatorSetHash, remoteStake.getSnapshot(toHome).setHash);
        assertEq(home.bridge.getLane(toHome).validatorSetHash, remoteStake.getSnapshot(toHome).setHash);
    }

    function test_stakeChange_setUpdateSignedByOldSet_thenNewSetDelivers() public {
        uint64 s1 = sendAs(alice, toRemote, bob, 100 * UNIT);
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), netOf(100 * UNIT), "the bootstrap set delivers");

        _changeStake();
        nextEpoch();
        ValidatorSet memory next = _changedSet();
        bytes memory encoded = encodeSet(next);
        uint64 su = s1 + 1;
        vm.chainId(HOME);
        vm.expectEmit(address(homeStake));
        emit StakeManager.EpochCommitted(toRemote, 1, keccak256(encoded), 90 ether, 60 ether, 3, next.validUntil);
        vm.expectEmit(address(home.bridge));
        emit ValidatorSetUpdateQueued(toRemote, su, encoded);
        vm.prank(stranger);
        homeStake.commitEpoch(toRemote);
        captureLogs();

        Message memory update = sentMessage(toRemote, su);
        assertEq(update.kind, MessageKind.SET_UPDATE);
        assertEq(update.data, keccak256(encoded));
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, keccak256(encoded), "source attests the new set");
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(first), "destination not yet");
        assertEq(_hash(snapshotSet(homeStake, toRemote)), keccak256(encoded));

        // the newcomers cannot sign their own installation
        Delivery memory byNew = prepareWith(toRemote, next);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, _hash(first), keccak256(encoded)));
        byNew.bridge.deliver(byNew.cp, byNew.set, byNew.sigs, byNew.msgs);

        // the current (old) set signs it in
        Delivery memory byOld = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit ValidatorSetRotated(toRemote, su, keccak256(encoded));
        execute(byOld);
        assertEq(remote.bridge.getLane(toRemote).sequence, su);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, keccak256(encoded));
        assertEq(next.validUntil, uint64(block.timestamp) + LIFETIME, "a changed set gets a full lifetime");

        // the set from stake delivers from now on, and only it
        uint64 s3 = sendAs(alice, toRemote, carol, 200 * UNIT);
        Delivery memory stale = prepareWith(toRemote, first);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, keccak256(encoded), _hash(first)));
        stale.bridge.deliver(stale.cp, stale.set, stale.sigs, stale.msgs);
        _storeSet(toRemote, next);
        Delivery memory fresh = prepare(toRemote);
        vm.expectEmit(address(remote.bridge));
        emit MessageExecuted(toRemote, s3, carol, netOf(200 * UNIT));
        execute(fresh);
        assertEq(wrapped.balanceOf(carol), netOf(200 * UNIT));
        assertEq(wrapped.totalSupply(), lockedOnHome());
    }

    /// @dev No grace window: what the old set signed before the update is delivered with (or
    /// before) it; from the block the update lands in, the old set is refused.
    function test_oldSet_refusedAsSoonAsUpdateDelivered() public {
        _changeStake();
        uint64 s1 = sendAs(alice, toRemote, bob, 100 * UNIT); // before the update
        nextEpoch();
        commit(toRemote);
        ValidatorSet memory next = _changedSet();
        uint64 su = uint64(sentCount(toRemote));
        assertEq(su, s1 + 1);
        relay(toRemote); // the old set signs the transfer and the update, the update last
        assertEq(wrapped.balanceOf(bob), netOf(100 * UNIT));
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(next));

        // same block: the old set's signatures over anything later are refused
        uint64 s2 = sendAs(alice, toRemote, carol, 100 * UNIT);
        Delivery memory d = prepareWith(toRemote, first);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, _hash(next), _hash(first)));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).sequence, su);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(next), "never switches back");

        _storeSet(toRemote, next);
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).sequence, s2);
        assertEq(wrapped.balanceOf(carol), netOf(100 * UNIT));
    }

    /// @dev A replaced set never carries a message past a set update, and only the current set
    /// may rotate the lane again.
    function test_RevertWhen_oldSetCarriesTheNextSetUpdate() public {
        // two stake changes in two epochs: two updates queued before either is delivered
        join(homeStake, 3, toRemote, 40 ether);
        nextEpoch();
        commit(toRemote);
        uint64 su1 = uint64(sentCount(toRemote));
        ValidatorSet memory second = expectedSet(idx(0, 1, 2, 3), ws(10 ether, 20 ether, 30 ether, 40 ether));
        unbond(homeStake, 0, 10 ether);
        nextEpoch();
        commit(toRemote);
        uint64 su2 = uint64(sentCount(toRemote));
        ValidatorSet memory third = expectedSet(idx(1, 2, 3), ws(20 ether, 30 ether, 40 ether));
        assertEq(su2, su1 + 1);
        assertEq(sentMessage(toRemote, su2).data, _hash(third));

        // one batch across the first update: refused
        Delivery memory d = prepare(toRemote);
        vm.expectRevert(abi.encodeWithSelector(SetUpdateNotLast.selector, su1));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);

        relayTo(toRemote, su1);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(second));

        // the first set, replaced in this very block, may not sign the second update in
        d = prepareWith(toRemote, first);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, _hash(second), _hash(first)));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(second));

        // the current set does
        _storeSet(toRemote, second);
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(third));

        // and is itself refused from then on, like the first set; only the third delivers
        uint64 s = sendAs(alice, toRemote, bob, 100 * UNIT);
        d = prepareWith(toRemote, first);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, _hash(third), _hash(first)));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        d = prepareWith(toRemote, second);
        vm.expectRevert(abi.encodeWithSelector(StaleValidatorSet.selector, _hash(third), _hash(second)));
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        assertEq(remote.bridge.getLane(toRemote).sequence, su2);
        _storeSet(toRemote, third);
        relay(toRemote);
        assertEq(remote.bridge.getLane(toRemote).sequence, s);
    }

    function test_reverseLane_setUpdateFromRemoteStake() public {
        sendAs(alice, toRemote, bob, 1_000 * UNIT);
        relay(toRemote);

        // on remote, operator 4 joins toHome with the most stake
        join(remoteStake, 4, toHome, 50 ether);
        nextEpoch();
        commit(toHome);
        ValidatorSet memory next = expectedSet(idx(0, 1, 2, 4), ws(10 ether, 20 ether, 30 ether, 50 ether));
        assertEq(remote.bridge.getLane(toHome).validatorSetHash, _hash(next));
        // home's stake manager knows nothing of operator 4
        assertEq(homeStake.getOperator(ops[4]).signer, address(0));

        relay(toHome);
        assertEq(home.bridge.getLane(toHome).validatorSetHash, _hash(next));
        assertEq(home.bridge.getLane(toRemote).validatorSetHash, _hash(first), "the other lane keeps its set");

        _storeSet(toHome, next);
        sendAs(bob, toHome, alice, 500 * UNIT);
        relay(toHome);
        assertEq(token.balanceOf(alice), ALICE_START - 1_000 * UNIT + netOf(500 * UNIT));
    }

    function test_unchangedStake_noSetUpdate() public {
        sendAs(alice, toRemote, bob, 100 * UNIT);
        nextEpoch();
        bytes32 setHash = commit(toRemote);
        assertEq(setHash, _hash(first));
        assertEq(sentCount(toRemote), 1, "no SET_UPDATE queued");
        assertEq(homeStake.getSnapshot(toRemote).epoch, 1);
    }

    /// @dev A set update is a message of the lane: it must be relayed like any other, and until
    /// it is, the destination keeps the old set (which still signs everything up to it).
    function test_newSetUntilDelivered_oldSetSignsBeforeUpdate() public {
        _changeStake();
        uint64 s1 = sendAs(alice, toRemote, bob, 100 * UNIT);
        nextEpoch();
        commit(toRemote);
        ValidatorSet memory next = _changedSet();
        // only the transfer before the update, by the old set
        relayTo(toRemote, s1);
        assertEq(wrapped.balanceOf(bob), netOf(100 * UNIT));
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(first));
        relay(toRemote); // the old set signs the update in
        assertEq(remote.bridge.getLane(toRemote).validatorSetHash, _hash(next));
    }
}
