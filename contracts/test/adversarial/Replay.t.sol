// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdversarialBase} from "./AdversarialBase.sol";
import {Message, Checkpoint} from "../../src/interfaces/IZeroBridge.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice A checkpoint signed for one lane must not authorise anything anywhere else: another
/// lane of the same bridge, the same route on another bridge, or another source domain.
contract ReplayTest is AdversarialBase {
    uint256 internal constant AMOUNT = 1_000 * UNIT;

    Checkpoint internal cp;
    bytes internal encoded;
    bytes internal sigs;
    Message[] internal msgs;

    function setUp() public override {
        super.setUp();
        sendAs(alice, toRemote, bob, AMOUNT);
        cp = checkpointAt(toRemote, 1);
        encoded = encodeSet(currentSet(toRemote));
        sigs = _quorum(toRemote, cp);
        msgs.push(sentMessage(toRemote, 1));
    }

    function test_RevertWhen_checkpointReplayedToAnotherLane() public {
        // Route B has the very same validators, and its first message is byte-identical to route A's.
        OwnedToken t = _newOwnedToken("B");
        ExtraRoute memory b = _extraRoute(address(t), defaultParams(), currentSet(toRemote));
        t.mint(alice, AMOUNT);
        sendAs(alice, b.out, bob, AMOUNT);
        assertEq(_hash(sentMessage(b.out, 1)), _hash(msgs[0]), "same message on both lanes");
        assertTrue(b.out != toRemote);

        Snapshot memory before = _snapshot();
        vm.chainId(REMOTE);
        // A's checkpoint relabelled to lane B (accumulator as signed).
        Checkpoint memory relabelled = Checkpoint({lane: b.out, sequence: 1, accumulator: cp.accumulator});
        address r1 = _recoverAt(sigs, 0, digestOf(sourceDomain(b.out), relabelled));
        vm.expectRevert(abi.encodeWithSelector(SignerNotInSet.selector, 0, r1));
        remote.bridge.deliver(relabelled, encoded, sigs, msgs);

        // Lane B's true checkpoint (the attacker recomputes the accumulator) with A's signatures.
        Checkpoint memory forB = checkpointAt(b.out, 1);
        assertTrue(forB.accumulator != cp.accumulator, "acc_0 is per lane");
        address r2 = _recoverAt(sigs, 0, digestOf(sourceDomain(b.out), forB));
        vm.expectRevert(abi.encodeWithSelector(SignerNotInSet.selector, 0, r2));
        remote.bridge.deliver(forB, encoded, sigs, msgs);

        assertEq(remote.bridge.getLane(b.out).sequence, 0);
        assertEq(b.wrapped.totalSupply(), 0);
        _assertUnchanged(before);

        // Both lanes deliver honestly, each once.
        relay(toRemote);
        relay(b.out);
        assertEq(wrapped.balanceOf(bob), _net(AMOUNT));
        assertEq(b.wrapped.balanceOf(bob), _net(AMOUNT));
    }

    function test_RevertWhen_checkpointReplayedToAnotherBridge() public {
        // A second bridge on the remote chain id, peered with the same home bridge, with its own
        // registration of the same route (same route id) and the same validators.
        Deployment memory third = _deployChain(REMOTE);
        third.bridge.setPeer(HOME, address(home.bridge));
        (bytes32 rid, address w3) = third.registry
            .registerRemoteRoute(tokenOwner, HOME, address(token), 18, "Wrapped Demo", "wDEMO", defaultParams());
        assertEq(rid, routeId, "same route id");
        bytes32 in3 = third.bridge.getRoute(rid).inboundLane;
        bytes32 out3 = third.bridge.getRoute(rid).outboundLane;
        assertTrue(in3 != toRemote, "lane id binds the destination bridge");
        vm.startPrank(setManager);
        third.bridge.installValidatorSet(in3, encoded);
        third.bridge.installValidatorSet(out3, encoded);
        vm.stopPrank();
        third.registry.activateRoute(rid);

        Snapshot memory before = _snapshot();
        vm.chainId(REMOTE);
        // Verbatim: the third bridge has no such lane.
        vm.expectRevert(abi.encodeWithSelector(UnknownLane.selector, toRemote));
        third.bridge.deliver(cp, encoded, sigs, msgs);

        // Relabelled to the third bridge's lane, accumulator recomputed for it: the signatures
        // were over another lane id, so they recover to strangers.
        Checkpoint memory forged = Checkpoint({lane: in3, sequence: 1, accumulator: _accAfter(initialAcc(in3), msgs)});
        address recovered = _recoverAt(sigs, 0, digestOf(domainOf(HOME, address(home.bridge)), forged));
        vm.expectRevert(abi.encodeWithSelector(SignerNotInSet.selector, 0, recovered));
        third.bridge.deliver(forged, encoded, sigs, msgs);

        assertEq(third.bridge.getLane(in3).sequence, 0);
        assertEq(WrappedToken(w3).totalSupply(), 0);
        _assertUnchanged(before);

        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), _net(AMOUNT));
    }

    function _rejectForeignDomain(bytes32 foreignDomain) internal {
        bytes32 trueDigest = digestOf(sourceDomain(toRemote), cp);
        bytes memory foreign = quorumSignatures(currentSet(toRemote), digestOf(foreignDomain, cp));
        address recovered = _recoverAt(foreign, 0, trueDigest);
        assertTrue(recovered != currentSet(toRemote).members[0]);

        Snapshot memory before = _snapshot();
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(SignerNotInSet.selector, 0, recovered));
        remote.bridge.deliver(cp, encoded, foreign, msgs);
        _assertUnchanged(before);

        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), _net(AMOUNT));
    }

    function test_RevertWhen_signedUnderAnotherChainId() public {
        // Same bridge address on another chain (a fork or a redeployment).
        _rejectForeignDomain(domainOf(137, address(home.bridge)));
    }

    function test_RevertWhen_signedForAnotherVerifyingContract() public {
        _rejectForeignDomain(domainOf(HOME, address(0xB0B)));
    }

    function test_RevertWhen_signedUnderDestinationDomain() public {
        // The destination bridge's own domain is not the one the lane trusts.
        _rejectForeignDomain(domainOf(REMOTE, address(remote.bridge)));
    }
}
