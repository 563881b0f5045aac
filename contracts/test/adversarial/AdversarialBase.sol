// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {Message, Checkpoint, RouteParams} from "../../src/interfaces/IZeroBridge.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice Shared helpers for the adversarial suites: raw signature surgery, independent
/// accumulator recomputation, extra routes and "nothing moved" snapshots of the fixture route.
abstract contract AdversarialBase is BridgeFixture {
    uint256 internal constant HALF_N = SECP256K1_N / 2;
    uint256 internal constant S_MASK = type(uint256).max >> 1;

    struct ExtraRoute {
        bytes32 id;
        address token;
        WrappedToken wrapped;
        bytes32 out; // home -> remote
        bytes32 back; // remote -> home
    }

    /// @dev What an attacker could move on the fixture route; compared before and after a rejected attempt.
    struct Snapshot {
        uint64 remoteInboundSeq;
        bytes32 remoteInboundAcc;
        uint64 homeInboundSeq;
        bytes32 homeInboundAcc;
        uint64 homeOutboundSeq;
        uint64 remoteOutboundSeq;
        uint256 locked;
        uint256 vaultBalance;
        uint256 wrappedSupply;
        uint256 aliceBalance;
        uint256 bobWrapped;
    }

    function _snapshot() internal view returns (Snapshot memory s) {
        s.remoteInboundSeq = remote.bridge.getLane(toRemote).sequence;
        s.remoteInboundAcc = remote.bridge.getLane(toRemote).accumulator;
        s.homeInboundSeq = home.bridge.getLane(toHome).sequence;
        s.homeInboundAcc = home.bridge.getLane(toHome).accumulator;
        s.homeOutboundSeq = home.bridge.getLane(toRemote).sequence;
        s.remoteOutboundSeq = remote.bridge.getLane(toHome).sequence;
        s.locked = lockedOnHome();
        s.vaultBalance = token.balanceOf(address(home.bridge));
        s.wrappedSupply = wrapped.totalSupply();
        s.aliceBalance = token.balanceOf(alice);
        s.bobWrapped = wrapped.balanceOf(bob);
    }

    function _assertUnchanged(Snapshot memory b) internal view {
        Snapshot memory a = _snapshot();
        assertEq(a.remoteInboundSeq, b.remoteInboundSeq, "remote inbound sequence moved");
        assertEq(a.remoteInboundAcc, b.remoteInboundAcc, "remote inbound accumulator moved");
        assertEq(a.homeInboundSeq, b.homeInboundSeq, "home inbound sequence moved");
        assertEq(a.homeInboundAcc, b.homeInboundAcc, "home inbound accumulator moved");
        assertEq(a.homeOutboundSeq, b.homeOutboundSeq, "home outbound sequence moved");
        assertEq(a.remoteOutboundSeq, b.remoteOutboundSeq, "remote outbound sequence moved");
        assertEq(a.locked, b.locked, "locked moved");
        assertEq(a.vaultBalance, b.vaultBalance, "vault balance moved");
        assertEq(a.wrappedSupply, b.wrappedSupply, "wrapped supply moved");
        assertEq(a.aliceBalance, b.aliceBalance, "alice balance moved");
        assertEq(a.bobWrapped, b.bobWrapped, "bob balance moved");
    }

    // ---------------------------------------------------------------------------------------
    // Signatures
    // ---------------------------------------------------------------------------------------

    /// @notice Splits packed signature `i` into member index, r and EIP-2098 vs.
    function _sigAt(bytes memory sigs, uint256 i) internal pure returns (uint8 index, bytes32 r, bytes32 vs) {
        uint256 off = i * 65;
        index = uint8(sigs[off]);
        assembly ("memory-safe") {
            r := mload(add(add(sigs, 0x21), off))
            vs := mload(add(add(sigs, 0x41), off))
        }
    }

    function _packSig(uint8 index, bytes32 r, bytes32 vs) internal pure returns (bytes memory) {
        return abi.encodePacked(index, r, vs);
    }

    /// @notice Plain ecrecover of the compact form (no low-s check): what a forged signature recovers to.
    function _recover(bytes32 digest, bytes32 r, bytes32 vs) internal pure returns (address) {
        uint8 v = uint8(uint256(vs) >> 255) + 27;
        return ecrecover(digest, v, r, bytes32(uint256(vs) & S_MASK));
    }

    /// @notice Recovers packed signature `i` of `sigs` over `digest`.
    function _recoverAt(bytes memory sigs, uint256 i, bytes32 digest) internal pure returns (address) {
        (, bytes32 r, bytes32 vs) = _sigAt(sigs, i);
        return _recover(digest, r, vs);
    }

    function _quorum(bytes32 lane, Checkpoint memory cp) internal view returns (bytes memory) {
        return quorumSignatures(currentSet(lane), digestOf(sourceDomain(lane), cp));
    }

    function _indices(uint256 a, uint256 b) internal pure returns (uint256[] memory ix) {
        ix = new uint256[](2);
        (ix[0], ix[1]) = (a, b);
    }

    function _indices(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory ix) {
        ix = new uint256[](3);
        (ix[0], ix[1], ix[2]) = (a, b, c);
    }

    // ---------------------------------------------------------------------------------------
    // Messages and accumulators (recomputed independently, like a validator)
    // ---------------------------------------------------------------------------------------

    function _accAfter(bytes32 start, Message[] memory ms) internal pure returns (bytes32 acc) {
        acc = start;
        for (uint256 i; i < ms.length; ++i) {
            acc = nextAcc(acc, ms[i]);
        }
    }

    function _one(Message memory m) internal pure returns (Message[] memory ms) {
        ms = new Message[](1);
        ms[0] = m;
    }

    function _hash(Message memory m) internal pure returns (bytes32) {
        return keccak256(abi.encode(m));
    }

    // ---------------------------------------------------------------------------------------
    // Extra routes
    // ---------------------------------------------------------------------------------------

    /// @dev Opens and activates a home->remote route for `canonical` with `set` on both lanes.
    function _extraRoute(address canonical, RouteParams memory params, ValidatorSet memory set)
        internal
        returns (ExtraRoute memory r)
    {
        r.token = canonical;
        (r.id, r.wrapped) = _openRoute(canonical, params);
        r.out = home.bridge.getRoute(r.id).outboundLane;
        r.back = home.bridge.getRoute(r.id).inboundLane;
        _installAndActivate(r.id, set);
    }

    function _newOwnedToken(string memory symbol) internal returns (OwnedToken t) {
        vm.chainId(HOME);
        t = new OwnedToken(symbol, symbol, 18, tokenOwner);
    }

    function _net(uint256 amount) internal pure returns (uint256) {
        return amount - amount * 10 / 10_000; // defaultParams: 10 bps
    }
}
