// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdversarialBase} from "./AdversarialBase.sol";
import {Message, Checkpoint} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Quorum and signature-format attacks on `deliver` (the fixture's 4-member set, threshold 3).
contract SignaturesTest is AdversarialBase {
    uint256 internal constant AMOUNT = 1_000 * UNIT;

    Checkpoint internal cp;
    bytes32 internal digest;
    bytes internal encoded;
    Message[] internal msgs;

    function setUp() public override {
        super.setUp();
        sendAs(alice, toRemote, bob, AMOUNT);
        cp = checkpointAt(toRemote, 1);
        digest = digestOf(sourceDomain(toRemote), cp);
        encoded = encodeSet(currentSet(toRemote));
        Message[] memory b = batch(toRemote, 0, 1);
        msgs.push(b[0]);
        vm.chainId(REMOTE);
    }

    function _attack(bytes memory sigs, bytes memory expectedError) internal {
        Snapshot memory before = _snapshot();
        vm.chainId(REMOTE);
        vm.expectRevert(expectedError);
        remote.bridge.deliver(cp, encoded, sigs, msgs);
        _assertUnchanged(before);
        // The honest relayer is not blocked by the failed attempt.
        relay(toRemote);
        assertEq(wrapped.balanceOf(bob), _net(AMOUNT), "honest delivery");
        assertEq(remote.bridge.getLane(toRemote).sequence, 1);
    }

    function _sigs(uint256[] memory indices) internal view returns (bytes memory) {
        return signBy(currentSet(toRemote), indices, digest);
    }

    // ---------------------------------------------------------------------------------------
    // Quorum
    // ---------------------------------------------------------------------------------------

    function test_RevertWhen_quorumOneWeightShort() public {
        // 2 of 4 equal-weight signers, threshold 3.
        _attack(_sigs(_indices(0, 1)), abi.encodeWithSelector(QuorumNotReached.selector, 2, 3));
    }

    function test_RevertWhen_singleSigner() public {
        uint256[] memory one = new uint256[](1);
        one[0] = 3;
        _attack(_sigs(one), abi.encodeWithSelector(QuorumNotReached.selector, 1, 3));
    }

    /// @dev Two heavy members (30 each) and ten light ones (4 each); threshold 67 of 100.
    /// All light signers together, or one heavy plus nine light, stay below the threshold.
    function test_RevertWhen_weightedLightSignersMissThreshold() public {
        uint96[] memory weights = new uint96[](12);
        weights[0] = 30;
        weights[1] = 30;
        for (uint256 i = 2; i < 12; ++i) {
            weights[i] = 4;
        }
        ValidatorSet memory set = makeWeightedSet("weighted", weights, 67);
        OwnedToken t = _newOwnedToken("W");
        ExtraRoute memory r = _extraRoute(address(t), defaultParams(), set);
        t.mint(alice, AMOUNT);
        sendAs(alice, r.out, bob, AMOUNT);

        Checkpoint memory c = checkpointAt(r.out, 1);
        bytes32 d = digestOf(sourceDomain(r.out), c);
        Message[] memory ms = batch(r.out, 0, 1);
        bytes memory enc = encodeSet(set);

        (bytes memory lights, bytes memory nearly, bytes memory enough) = _weightedSigs(set, d);
        vm.chainId(REMOTE);
        vm.expectRevert(abi.encodeWithSelector(QuorumNotReached.selector, 40, 67));
        remote.bridge.deliver(c, enc, lights, ms);

        // one heavy and nine light: 30 + 36 = 66, one short
        vm.expectRevert(abi.encodeWithSelector(QuorumNotReached.selector, 66, 67));
        remote.bridge.deliver(c, enc, nearly, ms);
        assertEq(remote.bridge.getLane(r.out).sequence, 0);
        assertEq(r.wrapped.totalSupply(), 0);

        // one heavy and all ten light: 70 >= 67
        remote.bridge.deliver(c, enc, enough, ms);
        assertEq(r.wrapped.balanceOf(bob), _net(AMOUNT));
    }

    /// @return lights every light member (10 * 4 = 40); nearly one heavy and nine light (66);
    /// enough one heavy and all light (70). Each list in ascending member index.
    function _weightedSigs(ValidatorSet memory set, bytes32 d)
        internal
        pure
        returns (bytes memory lights, bytes memory nearly, bytes memory enough)
    {
        uint256 firstHeavy = type(uint256).max;
        for (uint256 i; i < set.members.length; ++i) {
            if (set.weights[i] != 4 && firstHeavy == type(uint256).max) firstHeavy = i;
        }
        uint256 lightCount;
        for (uint256 i; i < set.members.length; ++i) {
            bytes memory sig = signAs(set, i, d);
            bool light = set.weights[i] == 4;
            if (light) lights = abi.encodePacked(lights, sig);
            if (light || i == firstHeavy) enough = abi.encodePacked(enough, sig);
            if (i == firstHeavy || (light && lightCount < 9)) nearly = abi.encodePacked(nearly, sig);
            if (light) ++lightCount;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Signature list format
    // ---------------------------------------------------------------------------------------

    function test_RevertWhen_signerDuplicated() public {
        // Counting member 0 twice would reach 3.
        _attack(_sigs(_indices(0, 0, 1)), abi.encodeWithSelector(SignersNotAscending.selector, 1));
    }

    function test_RevertWhen_signersUnsorted() public {
        // Three distinct valid signers in descending order.
        _attack(_sigs(_indices(2, 1, 0)), abi.encodeWithSelector(SignersNotAscending.selector, 1));
    }

    function test_RevertWhen_signatureHighS() public {
        bytes memory sigs = _sigs(_indices(0, 1, 2));
        (uint8 index, bytes32 r, bytes32 vs) = _sigAt(sigs, 1);
        uint256 s = uint256(vs) & S_MASK;
        uint256 parity = uint256(vs) >> 255;
        uint256 highS = SECP256K1_N - s;
        // The malleated twin really is member 1's signature in the classic (v, r, s) form.
        assertEq(ecrecover(digest, uint8(28 - parity), r, bytes32(highS)), currentSet(toRemote).members[1]);

        bytes32 highVs = bytes32(highS | ((1 - parity) << 255));
        bytes memory forged = abi.encodePacked(
            signAs(currentSet(toRemote), 0, digest), _packSig(index, r, highVs), signAs(currentSet(toRemote), 2, digest)
        );
        // n - s does not fit the 255-bit compact field: whatever the field decodes to is rejected.
        uint256 decodedS = uint256(highVs) & S_MASK;
        address decoded = _recover(digest, r, highVs);
        bytes memory expected = decodedS > HALF_N || decoded == address(0)
            ? abi.encodeWithSelector(InvalidSignature.selector, 1)
            : abi.encodeWithSelector(SignerNotInSet.selector, 1, decoded);
        assertTrue(decoded != currentSet(toRemote).members[1]);
        _attack(forged, expected);
    }

    function test_RevertWhen_sAboveHalfOrder() public {
        // An s in the upper half of the order (representable in the compact field) is refused
        // outright, not recovered to some other address.
        bytes memory sigs = _sigs(_indices(0, 1, 2));
        (uint8 index, bytes32 r,) = _sigAt(sigs, 1);
        bytes32 highVs = bytes32(HALF_N + 1);
        assertTrue(_recover(digest, r, highVs) != address(0), "ecrecover alone would accept it");
        bytes memory forged = abi.encodePacked(
            signAs(currentSet(toRemote), 0, digest), _packSig(index, r, highVs), signAs(currentSet(toRemote), 2, digest)
        );
        _attack(forged, abi.encodeWithSelector(InvalidSignature.selector, 1));
    }

    function test_RevertWhen_signatureUnrecoverable() public {
        // r = 0 makes ecrecover return the zero address.
        bytes memory forged = abi.encodePacked(
            signAs(currentSet(toRemote), 0, digest),
            _packSig(1, bytes32(0), bytes32(uint256(1))),
            signAs(currentSet(toRemote), 2, digest)
        );
        _attack(forged, abi.encodeWithSelector(InvalidSignature.selector, 1));
    }

    function test_RevertWhen_signatureRandomBytesOffCurve() public {
        // Random r that is no x-coordinate on the curve: nothing recovers.
        bytes32 r = keccak256("random r");
        bytes32 vs = bytes32(uint256(keccak256("random s")) >> 2); // low s, parity 0
        assertEq(_recover(digest, r, vs), address(0), "precondition: r is off the curve");
        bytes memory forged = abi.encodePacked(
            signAs(currentSet(toRemote), 0, digest), _packSig(1, r, vs), signAs(currentSet(toRemote), 2, digest)
        );
        _attack(forged, abi.encodeWithSelector(InvalidSignature.selector, 1));
    }

    function test_RevertWhen_signatureRandomBytes() public {
        // Random (r, vs) that recovers to some arbitrary address.
        bytes32 vs = bytes32(uint256(keccak256("random s")) >> 2);
        bytes32 r;
        address recovered;
        for (uint256 j; recovered == address(0); ++j) {
            r = keccak256(abi.encode("random r", j));
            recovered = _recover(digest, r, vs);
        }
        bytes memory forged = abi.encodePacked(
            signAs(currentSet(toRemote), 0, digest), _packSig(1, r, vs), signAs(currentSet(toRemote), 2, digest)
        );
        _attack(forged, abi.encodeWithSelector(SignerNotInSet.selector, 1, recovered));
    }

    function test_RevertWhen_signerIndexOutOfRange() public {
        // Member 2's genuine signature, claiming index 4 in a 4-member set.
        bytes memory bad = signAs(currentSet(toRemote), 2, digest);
        bad[0] = bytes1(uint8(4));
        _attack(abi.encodePacked(_sigs(_indices(0, 1)), bad), abi.encodeWithSelector(SignerIndexOutOfRange.selector, 2));
    }

    function test_RevertWhen_signerIndexMaxByte() public {
        bytes memory bad = signAs(currentSet(toRemote), 0, digest);
        bad[0] = bytes1(uint8(255));
        _attack(abi.encodePacked(bad, _sigs(_indices(1, 2))), abi.encodeWithSelector(SignerIndexOutOfRange.selector, 0));
    }

    function test_RevertWhen_signatureBytesTooLong() public {
        bytes memory sigs = abi.encodePacked(_sigs(_indices(0, 1, 2)), bytes1(0));
        _attack(sigs, abi.encodeWithSelector(MalformedSignatures.selector));
    }

    function test_RevertWhen_signatureBytesTruncated() public {
        bytes memory sigs = _sigs(_indices(0, 1, 2));
        assembly ("memory-safe") {
            mstore(sigs, sub(mload(sigs), 1))
        }
        _attack(sigs, abi.encodeWithSelector(MalformedSignatures.selector));
    }

    function test_RevertWhen_signaturesEmpty() public {
        _attack("", abi.encodeWithSelector(MalformedSignatures.selector));
    }

    // ---------------------------------------------------------------------------------------
    // Signers outside the set
    // ---------------------------------------------------------------------------------------

    function test_RevertWhen_signerNotInSet() public {
        // A valid signature by an outside key, claiming member 1's slot.
        uint256 outsiderKey = uint256(keccak256("outsider")) % (SECP256K1_N - 1) + 1;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(outsiderKey, digest);
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        bytes memory forged = abi.encodePacked(
            signAs(currentSet(toRemote), 0, digest), _packSig(1, r, vs), signAs(currentSet(toRemote), 2, digest)
        );
        _attack(forged, abi.encodeWithSelector(SignerNotInSet.selector, 1, vm.addr(outsiderKey)));
    }

    function test_RevertWhen_memberClaimsAnotherMembersIndex() public {
        // Member 3 signs twice, once under member 1's index, to reach weight 3 with two keys.
        bytes memory relabelled = signAs(currentSet(toRemote), 3, digest);
        relabelled[0] = bytes1(uint8(1));
        bytes memory forged = abi.encodePacked(
            signAs(currentSet(toRemote), 0, digest), relabelled, signAs(currentSet(toRemote), 3, digest)
        );
        _attack(forged, abi.encodeWithSelector(SignerNotInSet.selector, 1, currentSet(toRemote).members[3]));
    }
}
