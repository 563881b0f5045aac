// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {
    Message,
    Checkpoint,
    RouteParams,
    MessageKind,
    LaneDirection,
    RouteStatus,
    HoldStatus,
    RefundStatus,
    IZeroBridgeEvents,
    IZeroBridgeErrors
} from "./interfaces/IZeroBridge.sol";
import {LaneCodec} from "./libraries/LaneCodec.sol";
import {TokenBucket} from "./libraries/TokenBucket.sol";
import {ValidatorSetLib} from "./libraries/ValidatorSetLib.sol";
import {WrappedToken} from "./WrappedToken.sol";

/// @notice One lane as this chain's bridge keeps it (file level, so that bindings generated from
/// the ABI see the enums it uses).
struct Lane {
    // slot 0, written on every send and delivery
    uint64 sequence; // outbound: last sent; inbound: last delivered
    uint64 bucketUpdatedAt;
    uint128 bucketLevel;
    // slot 1
    bytes32 accumulator;
    // slot 2
    address token; // the local token: canonical on the home chain, wrapped on the remote
    LaneDirection direction;
    RouteStatus status;
    bool paused;
    bool isHome; // home chain: lock and release; remote chain: burn and mint
    uint16 feeBps; // outbound
    bool allowlist; // both lanes of the route: only verified senders and recipients
    uint32 defaultTimeout; // outbound: a send without a deadline gets now + this (0 = none)
    // slot 3
    uint128 capacity; // token bucket, outbound or inbound by direction
    uint128 largeTransferThreshold; // inbound; 0 disables holds
    // slot 4 (outbound)
    uint128 minAmount;
    uint128 maxAmount;
    // slot 5 (outbound): fees accrued in this bridge, in the lane's token
    uint128 ownerFees;
    uint128 validatorFees;
    // slot 6 (home outbound lane): the route's vault, released only by its own inbound lane
    uint256 locked;
    bytes32 routeId;
    bytes32 reverseLane;
    bytes32 validatorSetHash; // inbound: the set that must sign; outbound: the set attesting now
    bytes32 sourceDomain; // inbound: EIP-712 domain of the source bridge
    address feeCollector; // outbound
}

struct Route {
    bytes32 outboundLane;
    bytes32 inboundLane;
    // Governance bounds on what the route owner may set (0 = unbounded): the most either
    // token bucket may hold, and the highest large-transfer threshold (holds cannot be
    // switched off while it is set).
    uint128 capacityCap;
    uint128 holdThresholdCap;
    // Liveness of the inbound lane on this chain (docs/protocol.md, "Liveness"): a fallback
    // set may deliver what has waited `fallbackDelay` seconds since it was sent; each such
    // delivery (at most one per delay period) is a strike against the primary set, and
    // `strikeLimit` strikes put the route into Emergency.
    bytes32 fallbackSetHash;
    uint32 fallbackDelay;
    uint32 emergencyGrace; // Emergency: how long the fallback delivers without waiting
    uint16 strikeLimit; // 0: strikes never trigger Emergency
    uint16 strikes;
    uint64 lastStrikeAt;
    uint64 graceUntil; // set when the route enters Emergency
}

struct Hold {
    bytes32 messageHash;
    address sender;
    address recipient;
    uint64 releaseAt;
    HoldStatus status;
    uint256 amount;
}

/// @notice What governance sets for a route's liveness on this chain (see `Route`).
struct LivenessPolicy {
    uint32 defaultTimeout;
    uint32 fallbackDelay;
    uint32 emergencyGrace;
    uint16 strikeLimit;
}

/// @notice The bridge's storage and the delivery machinery shared by ZeroBridge and the
/// BridgeExtension it delegates its rarely used paths to. Both inherit exactly this layout, so
/// the extension, running by delegatecall, reads and writes the bridge's own storage.
abstract contract BridgeBase is AccessManaged, ReentrancyGuardTransient, IZeroBridgeEvents, IZeroBridgeErrors {
    using SafeERC20 for IERC20;

    /// @notice The accumulator is recorded in storage at every multiple of this sequence (and
    /// the newest one is always in the lane). Proving a sequence in between replays the messages
    /// from the previous record: one fresh storage slot per 16 sends instead of per send.
    uint64 public constant ACCUMULATOR_RECORD_INTERVAL = 16;
    uint16 public constant BPS = 10_000;
    /// @notice The deadline of a transfer sent without one on a route without a default timeout,
    /// and of every system message: never times out.
    uint64 public constant NO_DEADLINE = type(uint64).max;

    /// @dev Inbound execution state kept in memory for a whole batch.
    struct InboundContext {
        bytes32 lane;
        bytes32 reverseLane;
        address token;
        bool isHome;
        uint256 capacity;
        uint256 largeTransferThreshold;
        uint256 available;
        bool exitOnly;
        bool allowlist;
    }

    /// @dev A refund approved by the destination (a REFUND message), paid by `claimRefund`.
    struct Refund {
        RefundStatus status;
        uint64 approvedAt; // the hold delay of a large refund counts from here
    }


    /// @dev Compliance state of one account on this chain, packed in one slot so that each check
    /// costs one storage read per address: the regulator's freeze and the compliance issuer's
    /// attestation. Kept in the bridge rather than in a separate registry contract: a call to
    /// another contract adds a cold account access (2,600 gas) to every `send`, which would leave
    /// the 90k source target no margin. The bytes it costs are paid for by moving the rarely used
    /// paths into BridgeExtension; an external library would need linking, which the Rust bindings' deploy
    /// path does not do. Measurements: docs/protocol.md section 13.
    struct Account {
        uint64 attestedUntil; // verified while block.timestamp < attestedUntil; 0 = none
        bool frozen;
    }

    bool public paused;
    uint16 public maxFeeBps = 100;
    uint16 public validatorShareBps = 2_000;
    uint64 public holdDelay = 1 hours;

    mapping(bytes32 lane => Lane) internal _lanes;
    mapping(bytes32 routeId => Route) internal _routes;
    mapping(bytes32 lane => mapping(uint64 sequence => bytes32)) internal _recordedAccumulators;
    mapping(bytes32 holdKey => Hold) internal _holds;
    mapping(bytes32 lane => mapping(bytes32 messageHash => Refund)) public refunds;
    mapping(uint64 chainId => address bridge) public peers;
    mapping(address account => Account) public accounts;
    /// @notice The route a wrapped token of this bridge mints for (its only source of mint power).
    mapping(address token => bytes32 routeId) public routeOfWrappedToken;

    constructor(address authority) AccessManaged(authority) {}

    // ---------------------------------------------------------------------------------------
    // Delivery
    // ---------------------------------------------------------------------------------------

    /// @dev Reverts unless `signatures` carry a quorum of `validatorSet`, which must be the set
    /// stored as `expected` and not yet expired, over the checkpoint under `sourceDomain`.
    function _verifyQuorum(
        bytes32 expected,
        bytes32 sourceDomain,
        Checkpoint calldata checkpoint,
        bytes calldata validatorSet,
        bytes calldata signatures
    ) internal view {
        bytes32 setHash = keccak256(validatorSet);
        // Only the current set, and only before its expiry: a replaced set has no authority left,
        // and stake backs a set's signatures only until it expires (plus the detection window).
        if (setHash != expected) revert StaleValidatorSet(expected, setHash);
        uint64 validUntil = ValidatorSetLib.validUntil(validatorSet);
        if (block.timestamp >= validUntil) revert ValidatorSetExpired(validUntil);
        bytes32 digest = LaneCodec.checkpointDigest(sourceDomain, checkpoint);
        ValidatorSetLib.verifyQuorum(validatorSet, signatures, digest);
    }

    /// @dev Checks that `messages` continue the lane up to the checkpoint, records the new head
    /// (before any token call: a batch can never be delivered twice) and executes them.
    function _deliverBatch(bytes32 laneId, Lane storage lane, Checkpoint calldata checkpoint, Message[] calldata messages)
        internal
    {
        bytes32[] memory hashes = _verifyBatch(lane, checkpoint, messages);
        lane.sequence = checkpoint.sequence;
        lane.accumulator = checkpoint.accumulator;
        emit CheckpointDelivered(laneId, checkpoint.sequence, checkpoint.accumulator, messages.length);
        _executeBatch(laneId, lane, messages, hashes);
    }

    /// @dev Messages must continue the lane exactly and hash to the signed accumulator.
    function _verifyBatch(
        Lane storage lane,
        Checkpoint calldata checkpoint,
        Message[] calldata messages
    ) internal view returns (bytes32[] memory hashes) {
        uint256 count = messages.length;
        if (count == 0) revert EmptyBatch();
        uint64 expected = lane.sequence + 1;
        bytes32 acc = lane.accumulator;
        hashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            Message calldata m = messages[i];
            if (m.sequence != expected) revert SequenceGap(expected, m.sequence);
            // The old set's authority ends at a set update: nothing after it may ride along.
            if (m.kind == MessageKind.SET_UPDATE && i != count - 1) {
                revert SetUpdateNotLast(m.sequence);
            }
            bytes32 h = LaneCodec.messageHashCalldata(m);
            hashes[i] = h;
            acc = LaneCodec.chain(acc, h);
            ++expected;
        }
        uint64 last = expected - 1;
        if (checkpoint.sequence != last) revert CheckpointMismatch(checkpoint.sequence, last);
        if (acc != checkpoint.accumulator) revert AccumulatorMismatch(checkpoint.accumulator, acc);
    }

    function _executeBatch(bytes32 laneId, Lane storage lane, Message[] calldata messages, bytes32[] memory hashes)
        internal
    {
        InboundContext memory ctx = InboundContext({
            lane: laneId,
            reverseLane: lane.reverseLane,
            token: lane.token,
            isHome: lane.isHome,
            capacity: lane.capacity,
            largeTransferThreshold: lane.largeTransferThreshold,
            available: TokenBucket.available(lane.capacity, lane.bucketLevel, lane.bucketUpdatedAt, block.timestamp),
            exitOnly: lane.status >= RouteStatus.ExitOnly,
            allowlist: lane.allowlist
        });
        uint256 count = messages.length;
        for (uint256 i; i < count; ++i) {
            Message calldata m = messages[i];
            uint8 kind = m.kind;
            if (kind == MessageKind.TRANSFER) {
                _executeTransfer(ctx, m, hashes[i]);
            } else if (kind == MessageKind.REFUND) {
                _approveRefund(ctx.reverseLane, m.data);
            } else if (kind == MessageKind.SET_UPDATE) {
                lane.validatorSetHash = m.data;
                emit ValidatorSetRotated(laneId, m.sequence, m.data);
            } else {
                // Unknown kinds can only come from a newer source bridge: skip, never block the lane.
                emit MessageFailed(laneId, m.sequence, bytes4(0));
            }
        }
        lane.bucketLevel = uint128(ctx.available);
        lane.bucketUpdatedAt = uint64(block.timestamp);
    }

    function _executeTransfer(InboundContext memory ctx, Message calldata m, bytes32 msgHash) internal {
        uint256 amount = m.amount;
        // Too late: refunded instead, the same way as a failed transfer (it was not executed, so
        // it can never be both delivered and refunded).
        if (block.timestamp > m.deadline) {
            _fail(ctx, m.sequence, m.sender, m.recipient, amount, msgHash, TransferTimedOut.selector);
            return;
        }
        // Exit-only: transfers toward the remote chain go back home as refunds; the way home stays open.
        if (ctx.exitOnly && !ctx.isHome) {
            _fail(ctx, m.sequence, m.sender, m.recipient, amount, msgHash, RouteIsExitOnly.selector);
            return;
        }
        // Before the bucket and the hold: a refused transfer consumes no inbound capacity.
        bytes4 refused = _complianceReason(ctx.allowlist, m.sender, m.recipient);
        if (refused != bytes4(0)) {
            _fail(ctx, m.sequence, m.sender, m.recipient, amount, msgHash, refused);
            return;
        }
        if (amount > ctx.available) {
            _fail(ctx, m.sequence, m.sender, m.recipient, amount, msgHash, RateLimited.selector);
            return;
        }
        ctx.available -= amount;
        if (ctx.largeTransferThreshold != 0 && amount >= ctx.largeTransferThreshold) {
            uint64 releaseAt = uint64(block.timestamp) + holdDelay;
            _holds[_holdKey(ctx.lane, m.sequence)] = Hold({
                messageHash: msgHash,
                sender: m.sender,
                recipient: m.recipient,
                releaseAt: releaseAt,
                status: HoldStatus.Held,
                amount: amount
            });
            emit TransferHeld(ctx.lane, m.sequence, releaseAt);
            return;
        }
        _payOrRefund(ctx, m.sequence, m.sender, m.recipient, amount, msgHash);
    }

    function _payOrRefund(
        InboundContext memory ctx,
        uint64 sequence,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 msgHash
    ) internal {
        bytes4 reason = _payout(ctx.token, ctx.isHome, ctx.reverseLane, recipient, amount);
        if (reason == bytes4(0)) {
            emit MessageExecuted(ctx.lane, sequence, recipient, amount);
        } else {
            _fail(ctx, sequence, sender, recipient, amount, msgHash, reason);
        }
    }

    /// @dev Destination-side compliance, at execution and again when a hold is released: a frozen
    /// recipient, or on an allowlist route an unverified sender or recipient (attestations are
    /// per chain), makes the transfer fail and be refunded instead of reverting.
    function _complianceReason(bool allowlist, address sender, address recipient) internal view returns (bytes4) {
        Account memory to = accounts[recipient];
        if (to.frozen) return FrozenAccount.selector;
        if (allowlist && (to.attestedUntil <= block.timestamp || accounts[sender].attestedUntil <= block.timestamp)) {
            return NotVerified.selector;
        }
        return bytes4(0);
    }

    /// @dev Mints (remote) or releases from the route's own vault (home). Never reverts: returns
    /// a reason instead, so one bad recipient cannot block the lane.
    function _payout(address token, bool isHome, bytes32 outboundLane, address to, uint256 amount)
        internal
        returns (bytes4 reason)
    {
        if (to == address(0)) return ZeroRecipient.selector;
        if (isHome) {
            Lane storage vault = _lanes[outboundLane];
            uint256 locked = vault.locked;
            if (amount > locked) return VaultShortfall.selector;
            vault.locked = locked - amount;
            if (!IERC20(token).trySafeTransfer(to, amount)) {
                vault.locked = locked;
                return SafeERC20.SafeERC20FailedOperation.selector;
            }
            return bytes4(0);
        }
        try WrappedToken(token).mint(to, amount) {
            return bytes4(0);
        } catch {
            return WrappedToken.OnlyBridge.selector;
        }
    }

    /// @dev Marks a transfer failed and sends its refund back on the reverse lane (FAIL_ACK).
    function _fail(
        InboundContext memory ctx,
        uint64 sequence,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 msgHash,
        bytes4 reason
    ) internal {
        emit MessageFailed(ctx.lane, sequence, reason);
        _append(
            ctx.reverseLane, _lanes[ctx.reverseLane], MessageKind.REFUND, recipient, sender, amount, msgHash, NO_DEADLINE
        );
    }

    function _approveRefund(bytes32 outboundLane, bytes32 refundedHash) internal {
        // A duplicate refund message approves nothing new.
        Refund storage refund = refunds[outboundLane][refundedHash];
        if (refund.status != RefundStatus.None) return;
        refund.status = RefundStatus.Approved;
        refund.approvedAt = uint64(block.timestamp);
        emit RefundApproved(outboundLane, refundedHash);
    }

    /// @dev True when `segment` is a run of messages this bridge really appended to `laneId`,
    /// proven against its own recorded accumulators. Used for refunds (and slashing evidence).
    function _verifySent(bytes32 laneId, Message[] calldata segment) internal view returns (bool) {
        Lane storage lane = _lanes[laneId];
        uint256 count = segment.length;
        if (count == 0 || lane.direction != LaneDirection.Outbound || segment[0].sequence == 0) return false;
        uint64 start = segment[0].sequence - 1;
        bytes32 acc;
        if (start == 0) {
            acc = LaneCodec.initialAccumulator(laneId);
        } else if (start % ACCUMULATOR_RECORD_INTERVAL == 0) {
            acc = _recordedAccumulators[laneId][start];
        } else {
            return false;
        }
        for (uint256 i; i < count; ++i) {
            if (segment[i].sequence != start + 1 + i) return false;
            acc = LaneCodec.chain(acc, LaneCodec.messageHashCalldata(segment[i]));
        }
        uint64 end = start + uint64(count);
        if (end == lane.sequence) return acc == lane.accumulator;
        if (end % ACCUMULATOR_RECORD_INTERVAL != 0) return false;
        bytes32 recorded = _recordedAccumulators[laneId][end];
        return recorded != bytes32(0) && acc == recorded;
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    function _append(
        bytes32 laneId,
        Lane storage lane,
        uint8 kind,
        address sender,
        address recipient,
        uint256 amount,
        bytes32 data,
        uint64 deadline
    ) internal returns (uint64 sequence) {
        sequence = lane.sequence + 1;
        Message memory m = Message({
            sequence: sequence,
            kind: kind,
            sender: sender,
            recipient: recipient,
            amount: amount,
            data: data,
            sentAt: uint64(block.timestamp),
            deadline: deadline
        });
        bytes32 acc = LaneCodec.chain(lane.accumulator, LaneCodec.messageHash(m));
        lane.sequence = sequence;
        lane.accumulator = acc;
        if (sequence % ACCUMULATOR_RECORD_INTERVAL == 0) _recordedAccumulators[laneId][sequence] = acc;
        emit MessageSent(laneId, sequence, m, acc);
    }

    /// @dev Takes `amount` from the lane's token bucket, or reverts with how long to wait.
    function _takeFromBucket(Lane storage lane, uint256 amount) internal {
        uint256 available =
            TokenBucket.available(lane.capacity, lane.bucketLevel, lane.bucketUpdatedAt, block.timestamp);
        if (amount > available) {
            uint256 wait =
                TokenBucket.secondsUntil(lane.capacity, lane.bucketLevel, lane.bucketUpdatedAt, block.timestamp, amount);
            revert RateLimited(amount, available, wait);
        }
        lane.bucketLevel = uint128(available - amount);
        lane.bucketUpdatedAt = uint64(block.timestamp);
    }

    function _requireUsable(Lane storage lane, bytes32 laneId, LaneDirection direction) internal view {
        if (lane.direction != direction) {
            if (lane.direction == LaneDirection.None) revert UnknownLane(laneId);
            revert WrongDirection(laneId);
        }
        // Active, ExitOnly or Emergency: the last two keep the way home open.
        if (lane.status < RouteStatus.Active || lane.paused) {
            revert LaneNotActive(laneId);
        }
        _requireNotPaused();
    }

    function _requireNotPaused() internal view {
        if (paused) revert BridgePaused();
    }

    function _inboundContext(bytes32 laneId) internal view returns (InboundContext memory ctx) {
        Lane storage l = _lanes[laneId];
        ctx.lane = laneId;
        ctx.reverseLane = l.reverseLane;
        ctx.token = l.token;
        ctx.isHome = l.isHome;
        ctx.allowlist = l.allowlist;
    }

    function _holdKey(bytes32 laneId, uint64 sequence) internal pure returns (bytes32) {
        return keccak256(abi.encode(laneId, sequence));
    }
}
