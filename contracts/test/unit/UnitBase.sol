// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";

import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Message, MessageKind, Checkpoint, RouteParams} from "../../src/interfaces/IZeroBridge.sol";

/// @notice Helpers shared by the unit suites: deliveries prepared ahead of the call (so that
/// vm.expectEmit / vm.expectRevert apply to `deliver` itself), refund claims, and quorum-signed
/// batches built by hand (what a quorum of the lane's set would sign).
abstract contract UnitBase is BridgeFixture {
    uint256 internal constant DEFAULT_FEE_BPS = 10;
    uint256 internal constant ALICE_START = 1_000_000 * UNIT;

    address internal carol = makeAddr("carol");

    struct Delivery {
        ZeroBridge bridge;
        Checkpoint cp;
        bytes set;
        bytes sigs;
        Message[] msgs;
    }

    // ---------------------------------------------------------------------------------------
    // Arithmetic and hashes computed independently of the contracts
    // ---------------------------------------------------------------------------------------

    function netOf(uint256 amount) internal pure returns (uint256) {
        return amount - amount * DEFAULT_FEE_BPS / 10_000;
    }

    function hashOf(Message memory m) internal pure returns (bytes32) {
        return keccak256(abi.encode(m));
    }

    /// @notice The REFUND message the destination appends for a failed `original`.
    function refundFor(Message memory original, uint64 seq) internal view returns (Message memory) {
        return Message({
            sequence: seq,
            kind: MessageKind.REFUND,
            sender: original.recipient,
            recipient: original.sender,
            amount: original.amount,
            data: hashOf(original),
            sentAt: uint64(block.timestamp),
            deadline: type(uint64).max
        });
    }

    /// @notice Accumulator the fixture expects after appending `m` to `lane` as its next message.
    function accAfter(bytes32 lane, Message memory m) internal view returns (bytes32) {
        uint256 n = sentCount(lane);
        bytes32 prev = n == 0 ? initialAcc(lane) : _accs[lane][n - 1];
        return nextAcc(prev, m);
    }

    // ---------------------------------------------------------------------------------------
    // Deliveries
    // ---------------------------------------------------------------------------------------

    function prepare(bytes32 lane) internal returns (Delivery memory) {
        return prepareTo(lane, uint64(sentCount(lane)));
    }

    /// @notice Everything pending on `lane` up to `upTo`, signed by a quorum of the stored set.
    /// Leaves the chain id set to the destination.
    function prepareTo(bytes32 lane, uint64 upTo) internal returns (Delivery memory d) {
        Deployment memory dst = dstChain(lane);
        vm.chainId(dst.chainId);
        uint64 delivered = dst.bridge.getLane(lane).sequence;
        d.bridge = dst.bridge;
        d.cp = checkpointAt(lane, upTo);
        ValidatorSet memory set = currentSet(lane);
        d.set = encodeSet(set);
        d.sigs = quorumSignatures(set, digestOf(sourceDomain(lane), d.cp));
        d.msgs = batch(lane, delivered, upTo);
    }

    /// @notice Same, but signed by `set` instead of the stored one.
    function prepareWith(bytes32 lane, ValidatorSet memory set) internal returns (Delivery memory d) {
        return prepareToWith(lane, uint64(sentCount(lane)), set);
    }

    /// @notice Pending messages up to `upTo`, signed by `set` (e.g. the route's fallback set).
    function prepareToWith(bytes32 lane, uint64 upTo, ValidatorSet memory set) internal returns (Delivery memory d) {
        d = prepareTo(lane, upTo);
        d.set = encodeSet(set);
        d.sigs = quorumSignatures(set, digestOf(sourceDomain(lane), d.cp));
    }

    function execute(Delivery memory d) internal {
        d.bridge.deliver(d.cp, d.set, d.sigs, d.msgs);
        captureLogs();
    }

    /// @notice Delivers through the liveness path (`deliverByFallback`) instead of `deliver`.
    function executeByFallback(Delivery memory d) internal {
        d.bridge.deliverByFallback(d.cp, d.set, d.sigs, d.msgs);
        captureLogs();
    }

    /// @notice Messages the source never sent, continuing the destination's view of `lane`,
    /// signed by a quorum of the lane's current set (a dishonest or mistaken quorum).
    function prepareSigned(bytes32 lane, Message[] memory ms) internal returns (Delivery memory d) {
        Deployment memory dst = dstChain(lane);
        vm.chainId(dst.chainId);
        bytes32 acc = dst.bridge.getLane(lane).accumulator;
        for (uint256 i; i < ms.length; ++i) {
            acc = nextAcc(acc, ms[i]);
        }
        d.bridge = dst.bridge;
        d.cp = Checkpoint({lane: lane, sequence: ms[ms.length - 1].sequence, accumulator: acc});
        ValidatorSet memory set = currentSet(lane);
        d.set = encodeSet(set);
        d.sigs = quorumSignatures(set, digestOf(sourceDomain(lane), d.cp));
        d.msgs = ms;
    }

    // ---------------------------------------------------------------------------------------
    // Refunds
    // ---------------------------------------------------------------------------------------

    /// @notice Claims on the lane's source chain.
    function claimAs(address who, bytes32 lane, Message[] memory segment, uint256 index) internal {
        Deployment memory c = srcChain(lane);
        vm.chainId(c.chainId);
        vm.prank(who);
        c.bridge.claimRefund(lane, segment, index);
    }

    // ---------------------------------------------------------------------------------------
    // Route configuration
    // ---------------------------------------------------------------------------------------

    /// @notice The route owner sets `p` on `chainId`'s registry.
    function setLimitsOn(uint64 chainId, RouteParams memory p) internal {
        Deployment memory c = chainId == HOME ? home : remote;
        vm.chainId(chainId);
        vm.prank(tokenOwner);
        c.registry.setLimits(routeId, p);
    }

    function setInboundCapacity(uint64 chainId, uint128 capacity) internal {
        RouteParams memory p = defaultParams();
        p.inboundCapacity = capacity;
        setLimitsOn(chainId, p);
    }

    function unauthorized(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, who);
    }
}
