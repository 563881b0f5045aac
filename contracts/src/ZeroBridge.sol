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

/// @title ZeroBridge
/// @notice One instance per chain. Sends messages on outbound lanes, delivers quorum-signed
/// checkpoints on inbound lanes, and keeps per-lane vault accounting, limits, holds and refunds.
/// Every privileged entry point is `restricted`: the AccessManager decides which role may call it
/// (governance owns the manager; guardians may only pause and freeze holds; the regulator may only
/// freeze accounts and the compliance issuer only attest them). See docs/protocol.md.
contract ZeroBridge is AccessManaged, ReentrancyGuardTransient, IZeroBridgeEvents, IZeroBridgeErrors {
    using SafeERC20 for IERC20;

    /// @notice The accumulator is recorded in storage at every multiple of this sequence (and
    /// the newest one is always in the lane). Proving a sequence in between replays the messages
    /// from the previous record: one fresh storage slot per 16 sends instead of per send.
    uint64 public constant ACCUMULATOR_RECORD_INTERVAL = 16;
    uint16 public constant BPS = 10_000;

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
    }

    struct Hold {
        bytes32 messageHash;
        address sender;
        address recipient;
        uint64 releaseAt;
        HoldStatus status;
        uint256 amount;
    }

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
    /// the 90k source target no margin. The bytes it costs are paid for by optimizer_runs = 500
    /// (foundry.toml); an external library would need linking, which the Rust bindings' deploy
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
    // Sending side
    // ---------------------------------------------------------------------------------------

    /// @notice Sends `amount` of the lane's token to `recipient` on the destination chain.
    /// Home chain: locks (crediting the balance actually received). Remote chain: burns.
    function send(bytes32 laneId, address recipient, uint256 amount) external nonReentrant returns (uint64 sequence) {
        Lane storage lane = _lanes[laneId];
        _requireUsable(lane, laneId, LaneDirection.Outbound);
        // Exit-only: only the way home stays open.
        if (lane.status == RouteStatus.ExitOnly && lane.isHome) revert RouteIsExitOnly();
        if (recipient == address(0)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        if (amount > lane.maxAmount) revert AmountAboveMaximum(amount, lane.maxAmount);
        // Compliance: one read for the sender; the recipient is read only on allowlist routes.
        Account memory from = accounts[msg.sender];
        if (from.frozen) revert FrozenAccount(msg.sender);
        if (lane.allowlist) {
            if (from.attestedUntil <= block.timestamp) revert NotVerified(msg.sender);
            if (accounts[recipient].attestedUntil <= block.timestamp) revert NotVerified(recipient);
        }

        address token = lane.token;
        bool isHome = lane.isHome;
        uint256 received;
        if (isHome) {
            // Fee-on-transfer and rebasing tokens: credit only what arrived.
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
            received = IERC20(token).balanceOf(address(this)) - before;
            if (received == 0) revert NothingReceived();
        } else {
            WrappedToken(token).burn(msg.sender, amount);
            received = amount;
        }
        if (received < lane.minAmount) revert AmountBelowMinimum(received, lane.minAmount);
        _takeFromBucket(lane, received);

        uint256 fee = received * lane.feeBps / BPS;
        uint256 net = received - fee;
        if (fee != 0) {
            uint256 validatorCut = fee * validatorShareBps / BPS;
            lane.validatorFees += uint128(validatorCut);
            lane.ownerFees += uint128(fee - validatorCut);
            // On the remote chain the whole amount was burned: the fee stays here as wrapped tokens.
            if (!isHome) WrappedToken(token).mint(address(this), fee);
        }
        if (isHome) lane.locked += net;

        sequence = _append(laneId, lane, MessageKind.TRANSFER, msg.sender, recipient, net, bytes32(0));
    }

    /// @notice Queues a validator-set update as a system message on the lane. It takes effect on
    /// the destination only once the lane's current set has signed a checkpoint that includes it,
    /// so neither the caller (governance or stake manager) nor the validators can rotate alone.
    function queueValidatorSetUpdate(bytes32 laneId, bytes calldata validatorSet)
        external
        restricted
        returns (uint64 sequence)
    {
        Lane storage lane = _lanes[laneId];
        if (lane.direction != LaneDirection.Outbound) revert WrongDirection(laneId);
        // An exit-only route still carries exits and refunds, so its set must stay rotatable.
        if (lane.status != RouteStatus.Active && lane.status != RouteStatus.ExitOnly) revert LaneNotActive(laneId);
        bytes32 setHash = ValidatorSetLib.validate(validatorSet);
        lane.validatorSetHash = setHash;
        sequence = _append(laneId, lane, MessageKind.SET_UPDATE, address(0), address(0), 0, setHash);
        emit ValidatorSetUpdateQueued(laneId, sequence, validatorSet);
    }

    // ---------------------------------------------------------------------------------------
    // Receiving side
    // ---------------------------------------------------------------------------------------

    /// @notice Delivers every message of an inbound lane from the next expected sequence up to
    /// `checkpoint.sequence`, authorised by a quorum of the lane's current validator set.
    /// @param validatorSet the lane's current set, encoded as in ValidatorSetLib
    /// @param signatures packed signatures in ascending member index, as in ValidatorSetLib
    function deliver(
        Checkpoint calldata checkpoint,
        bytes calldata validatorSet,
        bytes calldata signatures,
        Message[] calldata messages
    ) external nonReentrant {
        bytes32 laneId = checkpoint.lane;
        Lane storage lane = _lanes[laneId];
        _requireUsable(lane, laneId, LaneDirection.Inbound);
        _verifyQuorum(lane, checkpoint, validatorSet, signatures);
        bytes32[] memory hashes = _verifyBatch(lane, checkpoint, messages);

        // Effects before any token call: the batch can never be delivered twice.
        lane.sequence = checkpoint.sequence;
        lane.accumulator = checkpoint.accumulator;
        emit CheckpointDelivered(laneId, checkpoint.sequence, checkpoint.accumulator, messages.length);
        _executeBatch(laneId, lane, messages, hashes);
    }

    function _verifyQuorum(
        Lane storage lane,
        Checkpoint calldata checkpoint,
        bytes calldata validatorSet,
        bytes calldata signatures
    ) internal view {
        bytes32 setHash = keccak256(validatorSet);
        bytes32 expected = lane.validatorSetHash;
        // Only the current set, and only before its expiry: a replaced set has no authority left,
        // and stake backs a set's signatures only until it expires (plus the detection window).
        if (setHash != expected) revert StaleValidatorSet(expected, setHash);
        uint64 validUntil = ValidatorSetLib.validUntil(validatorSet);
        if (block.timestamp >= validUntil) revert ValidatorSetExpired(validUntil);
        bytes32 digest = LaneCodec.checkpointDigest(lane.sourceDomain, checkpoint);
        ValidatorSetLib.verifyQuorum(validatorSet, signatures, digest);
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
            exitOnly: lane.status == RouteStatus.ExitOnly,
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
        _append(ctx.reverseLane, _lanes[ctx.reverseLane], MessageKind.REFUND, recipient, sender, amount, msgHash);
    }

    function _approveRefund(bytes32 outboundLane, bytes32 refundedHash) internal {
        // A duplicate refund message approves nothing new.
        Refund storage refund = refunds[outboundLane][refundedHash];
        if (refund.status != RefundStatus.None) return;
        refund.status = RefundStatus.Approved;
        refund.approvedAt = uint64(block.timestamp);
        emit RefundApproved(outboundLane, refundedHash);
    }

    // ---------------------------------------------------------------------------------------
    // Holds and refunds
    // ---------------------------------------------------------------------------------------

    /// @notice After the hold delay anyone may release a held transfer.
    function releaseHold(bytes32 laneId, uint64 sequence) external nonReentrant {
        _requireNotPaused();
        if (_lanes[laneId].paused) revert LaneNotActive(laneId);
        Hold storage hold = _holds[_holdKey(laneId, sequence)];
        if (hold.status != HoldStatus.Held) revert HoldNotFound(laneId, sequence);
        if (block.timestamp < hold.releaseAt) revert HoldNotReleasable(laneId, sequence, hold.releaseAt);
        hold.status = HoldStatus.Released;
        emit HoldReleased(laneId, sequence);
        InboundContext memory ctx = _inboundContext(laneId);
        // The regulator or the issuer may have acted during the hold: check again, refund if refused.
        bytes4 refused = _complianceReason(ctx.allowlist, hold.sender, hold.recipient);
        if (refused != bytes4(0)) {
            _fail(ctx, sequence, hold.sender, hold.recipient, hold.amount, hold.messageHash, refused);
        } else {
            _payOrRefund(ctx, sequence, hold.sender, hold.recipient, hold.amount, hold.messageHash);
        }
    }

    /// @notice Guardian: stop a held transfer until governance decides.
    function freezeHold(bytes32 laneId, uint64 sequence) external restricted {
        Hold storage hold = _holds[_holdKey(laneId, sequence)];
        if (hold.status != HoldStatus.Held) revert HoldNotFound(laneId, sequence);
        hold.status = HoldStatus.Frozen;
        emit HoldFrozen(laneId, sequence);
    }

    /// @notice Governance: let a frozen hold be released again.
    function unfreezeHold(bytes32 laneId, uint64 sequence) external restricted {
        Hold storage hold = _holds[_holdKey(laneId, sequence)];
        if (hold.status != HoldStatus.Frozen) revert HoldNotFrozen(laneId, sequence);
        hold.status = HoldStatus.Held;
        emit HoldUnfrozen(laneId, sequence);
    }

    /// @notice Governance: refuse a held transfer and refund it to its sender on the source.
    function refundHold(bytes32 laneId, uint64 sequence) external restricted {
        Hold storage hold = _holds[_holdKey(laneId, sequence)];
        if (hold.status != HoldStatus.Held && hold.status != HoldStatus.Frozen) revert HoldNotFound(laneId, sequence);
        hold.status = HoldStatus.Refunded;
        emit HoldRefunded(laneId, sequence);
        _fail(
            _inboundContext(laneId),
            sequence,
            hold.sender,
            hold.recipient,
            hold.amount,
            hold.messageHash,
            this.refundHold.selector
        );
    }

    /// @notice Pays a refund approved by the destination, but only for a message this bridge
    /// really sent: `segment` must replay to this lane's own recorded accumulators. A refund is an
    /// inbound payment like a transfer: it waits out the hold delay when it is at or above the
    /// large-transfer threshold, consumes the inbound lane's token bucket (reverting with the wait
    /// when it is empty) and stops while either lane or the bridge is paused.
    /// @param segment contiguous messages of `laneId` from just after a recorded sequence (a
    /// multiple of ACCUMULATOR_RECORD_INTERVAL, or 0) up to the next record or the lane head
    /// @param index position in `segment` of the transfer being refunded
    function claimRefund(bytes32 laneId, Message[] calldata segment, uint256 index) external nonReentrant {
        _requireNotPaused();
        Lane storage lane = _lanes[laneId];
        if (lane.direction != LaneDirection.Outbound) revert WrongDirection(laneId);
        Lane storage inbound = _lanes[lane.reverseLane];
        if (lane.paused || inbound.paused) revert LaneNotActive(lane.paused ? laneId : lane.reverseLane);
        if (!verifySent(laneId, segment) || index >= segment.length) revert InvalidProof();
        Message calldata m = segment[index];
        if (m.kind != MessageKind.TRANSFER) revert NotATransfer(m.sequence);
        bytes32 msgHash = LaneCodec.messageHashCalldata(m);
        Refund storage refund = refunds[laneId][msgHash];
        if (refund.status != RefundStatus.Approved) revert RefundNotApproved(laneId, msgHash);
        // A frozen sender receives nothing from the bridge: the refund stays Approved until unfrozen.
        if (accounts[m.sender].frozen) revert FrozenAccount(m.sender);
        uint256 amount = m.amount;
        uint256 threshold = inbound.largeTransferThreshold;
        if (threshold != 0 && amount >= threshold) {
            uint64 releaseAt = refund.approvedAt + holdDelay;
            if (block.timestamp < releaseAt) revert RefundHeld(laneId, msgHash, releaseAt);
        }
        _takeFromBucket(inbound, amount);
        refund.status = RefundStatus.Claimed;
        emit RefundClaimed(laneId, msgHash, m.sender, amount);

        if (lane.isHome) {
            uint256 locked = lane.locked;
            if (amount > locked) revert VaultShortfall(amount, locked);
            lane.locked = locked - amount;
            IERC20(lane.token).safeTransfer(m.sender, amount);
        } else {
            WrappedToken(lane.token).mint(m.sender, amount);
        }
    }

    /// @notice Governance: withdraws an approval that has not been claimed (e.g. one a forging
    /// quorum approved for a transfer that was delivered). Nothing can claim it afterwards.
    function cancelRefund(bytes32 laneId, bytes32 messageHash) external restricted {
        Refund storage refund = refunds[laneId][messageHash];
        if (refund.status != RefundStatus.Approved) revert RefundNotApproved(laneId, messageHash);
        refund.status = RefundStatus.Cancelled;
        emit RefundCancelled(laneId, messageHash);
    }

    /// @notice True when `segment` is a run of messages this bridge really appended to `laneId`,
    /// proven against its own recorded accumulators. Used for refunds (and slashing evidence).
    function verifySent(bytes32 laneId, Message[] calldata segment) public view returns (bool) {
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
    // Fees
    // ---------------------------------------------------------------------------------------

    /// @notice Pays the route owner's accrued fees to its collector. Anyone may trigger it.
    function claimFees(bytes32 laneId) external nonReentrant {
        Lane storage lane = _lanes[laneId];
        if (lane.direction != LaneDirection.Outbound) revert WrongDirection(laneId);
        uint256 amount = lane.ownerFees;
        if (amount == 0) return;
        lane.ownerFees = 0;
        emit FeesClaimed(laneId, lane.feeCollector, amount);
        IERC20(lane.token).safeTransfer(lane.feeCollector, amount);
    }

    /// @notice The validators' share of the lane's fees, withdrawn by whoever distributes it to
    /// them (the stake manager).
    function withdrawValidatorFees(bytes32 laneId, address to) external restricted nonReentrant {
        Lane storage lane = _lanes[laneId];
        if (lane.direction != LaneDirection.Outbound) revert WrongDirection(laneId);
        uint256 amount = lane.validatorFees;
        if (amount == 0) return;
        lane.validatorFees = 0;
        emit ValidatorFeesWithdrawn(laneId, to, amount);
        IERC20(lane.token).safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------------------------------
    // Route and lane configuration (called by the route registry or governance)
    // ---------------------------------------------------------------------------------------

    function setPeer(uint64 chainId, address bridge) external restricted {
        peers[chainId] = bridge;
        emit PeerSet(chainId, bridge);
    }

    function setFeePolicy(uint16 maxFeeBps_, uint16 validatorShareBps_) external restricted {
        if (maxFeeBps_ > BPS) revert FeeTooHigh(maxFeeBps_, BPS);
        if (validatorShareBps_ > BPS) revert FeeTooHigh(validatorShareBps_, BPS);
        maxFeeBps = maxFeeBps_;
        validatorShareBps = validatorShareBps_;
        emit FeePolicySet(maxFeeBps_, validatorShareBps_);
    }

    function setHoldDelay(uint64 delay) external restricted {
        holdDelay = delay;
        emit HoldDelaySet(delay);
    }

    /// @notice Creates the route's two lanes on this chain, Pending until activated.
    function openRoute(bytes32 routeId, address token, bool isHome, uint64 remoteChainId, RouteParams calldata params)
        external
        restricted
    {
        if (_routes[routeId].outboundLane != bytes32(0)) revert RouteExists(routeId);
        if (!isHome) {
            // Mint power goes only to a wrapped token made for this route and this bridge, once:
            // a new route over a live wrapped token would mint what another route's vault redeems.
            if (
                routeOfWrappedToken[token] != bytes32(0) || WrappedToken(token).routeId() != routeId
                    || WrappedToken(token).bridge() != address(this)
            ) revert NotRouteWrappedToken(token, routeId);
            routeOfWrappedToken[token] = routeId;
        }
        address remote = peers[remoteChainId];
        if (remote == address(0)) revert PeerUnknown(remoteChainId);
        uint64 here = uint64(block.chainid);
        bytes32 outbound = LaneCodec.laneId(here, address(this), remoteChainId, remote, routeId);
        bytes32 inbound = LaneCodec.laneId(remoteChainId, remote, here, address(this), routeId);
        _routes[routeId] = Route({outboundLane: outbound, inboundLane: inbound, capacityCap: 0, holdThresholdCap: 0});

        _initLane(outbound, routeId, inbound, token, isHome, LaneDirection.Outbound);
        _initLane(inbound, routeId, outbound, token, isHome, LaneDirection.Inbound);
        _lanes[inbound].sourceDomain = LaneCodec.domainSeparator(remoteChainId, remote);
        emit RouteOpened(routeId, outbound, inbound, token, isHome, remoteChainId);
        _setLimits(routeId, params);
        _setFee(routeId, params.feeBps, params.feeCollector);
    }

    function _initLane(
        bytes32 laneId,
        bytes32 routeId,
        bytes32 reverseLane,
        address token,
        bool isHome,
        LaneDirection direction
    ) internal {
        Lane storage lane = _lanes[laneId];
        lane.accumulator = LaneCodec.initialAccumulator(laneId);
        lane.token = token;
        lane.direction = direction;
        lane.status = RouteStatus.Pending;
        lane.isHome = isHome;
        lane.routeId = routeId;
        lane.reverseLane = reverseLane;
        lane.bucketUpdatedAt = uint64(block.timestamp);
    }

    /// @notice Installs a lane's first validator set. Only while the route is Pending: once it is
    /// active, sets change only through `queueValidatorSetUpdate`, which the old set must sign.
    function installValidatorSet(bytes32 laneId, bytes calldata validatorSet) external restricted {
        Lane storage lane = _lanes[laneId];
        if (lane.direction == LaneDirection.None) revert UnknownLane(laneId);
        if (lane.status != RouteStatus.Pending) revert SetAlreadyActive(laneId);
        bytes32 setHash = ValidatorSetLib.validate(validatorSet);
        lane.validatorSetHash = setHash;
        emit ValidatorSetInstalled(laneId, setHash, validatorSet);
    }

    /// @notice Recovery: replaces an inbound lane's set once it has expired (`expiredSet` is its
    /// encoding). An expired set signs nothing, and a new set otherwise arrives only as a
    /// SET_UPDATE signed by the current one, so without this the lane would be stuck for good.
    /// The expired set's members cannot sign any more, so this takes power from nobody.
    function replaceExpiredSet(bytes32 laneId, bytes calldata expiredSet, bytes calldata validatorSet)
        external
        restricted
    {
        Lane storage lane = _lanes[laneId];
        bytes32 current = keccak256(expiredSet);
        if (current != lane.validatorSetHash) revert StaleValidatorSet(lane.validatorSetHash, current);
        if (block.timestamp < ValidatorSetLib.validUntil(expiredSet)) revert SetAlreadyActive(laneId);
        bytes32 setHash = ValidatorSetLib.validate(validatorSet);
        lane.validatorSetHash = setHash;
        emit ValidatorSetInstalled(laneId, setHash, validatorSet);
    }

    function activateRoute(bytes32 routeId) external restricted {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        Lane storage outbound = _lanes[route.outboundLane];
        Lane storage inbound = _lanes[route.inboundLane];
        if (outbound.status != RouteStatus.Pending) revert RouteNotPending(routeId);
        if (outbound.validatorSetHash == bytes32(0)) revert ValidatorSetMissing(route.outboundLane);
        if (inbound.validatorSetHash == bytes32(0)) revert ValidatorSetMissing(route.inboundLane);
        outbound.status = RouteStatus.Active;
        inbound.status = RouteStatus.Active;
        emit RouteActivated(routeId);
    }

    /// @notice Governance: winds the route down without trapping anyone. Only the way home stays
    /// open: the home chain takes no new sends and refunds transfers still arriving on the remote,
    /// while holders keep burning on the remote and being released from the vault on the home
    /// chain. Set it on both chains. `activateRoute` cannot undo it; the set keeps rotating.
    function setExitOnly(bytes32 routeId) external restricted {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        _lanes[route.outboundLane].status = RouteStatus.ExitOnly;
        _lanes[route.inboundLane].status = RouteStatus.ExitOnly;
        emit RouteExitOnly(routeId);
    }

    function setRouteFee(bytes32 routeId, uint16 feeBps, address feeCollector) external restricted {
        _setFee(routeId, feeBps, feeCollector);
    }

    function setRouteLimits(bytes32 routeId, RouteParams calldata params) external restricted {
        _setLimits(routeId, params);
    }

    /// @notice Governance: bounds within which the route owner sets its limits (0 = unbounded).
    /// Applies to the next `setRouteLimits`; tighten the current limits in the same proposal.
    function setLimitBounds(bytes32 routeId, uint128 capacityCap, uint128 holdThresholdCap) external restricted {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        route.capacityCap = capacityCap;
        route.holdThresholdCap = holdThresholdCap;
        emit LimitBoundsSet(routeId, capacityCap, holdThresholdCap);
    }

    function _setFee(bytes32 routeId, uint16 feeBps, address feeCollector) internal {
        if (feeBps > maxFeeBps) revert FeeTooHigh(feeBps, maxFeeBps);
        if (feeBps != 0 && feeCollector == address(0)) revert ZeroRecipient();
        Lane storage outbound = _lanes[_routes[routeId].outboundLane];
        if (outbound.direction == LaneDirection.None) revert UnknownRoute(routeId);
        outbound.feeBps = feeBps;
        outbound.feeCollector = feeCollector;
        emit RouteFeeSet(routeId, feeBps, feeCollector);
    }

    function _setLimits(bytes32 routeId, RouteParams calldata p) internal {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        if (p.minAmount == 0 || p.minAmount > p.maxAmount || p.maxAmount > p.outboundCapacity) revert InvalidLimits();
        uint256 capacityCap = route.capacityCap;
        if (capacityCap != 0 && (p.outboundCapacity > capacityCap || p.inboundCapacity > capacityCap)) {
            revert LimitsOutOfBounds();
        }
        uint256 holdCap = route.holdThresholdCap;
        if (holdCap != 0 && (p.largeTransferThreshold == 0 || p.largeTransferThreshold > holdCap)) {
            revert LimitsOutOfBounds();
        }
        Lane storage outbound = _lanes[route.outboundLane];
        Lane storage inbound = _lanes[route.inboundLane];
        outbound.minAmount = p.minAmount;
        outbound.maxAmount = p.maxAmount;
        _resizeBucket(outbound, p.outboundCapacity);
        _resizeBucket(inbound, p.inboundCapacity);
        inbound.largeTransferThreshold = p.largeTransferThreshold;
        emit RouteLimitsSet(routeId, p);
    }

    /// @dev A pending lane starts full; on a live lane a new capacity never grants more than was
    /// already available, so raising a limit cannot be used to skip the refill.
    function _resizeBucket(Lane storage lane, uint128 capacity) internal {
        uint256 available = lane.status == RouteStatus.Pending
            ? capacity
            : TokenBucket.available(lane.capacity, lane.bucketLevel, lane.bucketUpdatedAt, block.timestamp);
        lane.bucketLevel = uint128(available > capacity ? capacity : available);
        lane.bucketUpdatedAt = uint64(block.timestamp);
        lane.capacity = capacity;
    }

    // ---------------------------------------------------------------------------------------
    // Pause: guardians pause at once; only governance unpauses (separate roles in the manager)
    // ---------------------------------------------------------------------------------------

    function pause() external restricted {
        paused = true;
        emit Paused();
    }

    function unpause() external restricted {
        paused = false;
        emit Unpaused();
    }

    function pauseLane(bytes32 laneId) external restricted {
        if (_lanes[laneId].direction == LaneDirection.None) revert UnknownLane(laneId);
        _lanes[laneId].paused = true;
        emit LanePaused(laneId);
    }

    function unpauseLane(bytes32 laneId) external restricted {
        if (_lanes[laneId].direction == LaneDirection.None) revert UnknownLane(laneId);
        _lanes[laneId].paused = false;
        emit LaneUnpaused(laneId);
    }

    // ---------------------------------------------------------------------------------------
    // Compliance: the regulator freezes, the compliance issuer attests, governance marks routes
    // allowlist-only (three separate roles in the manager; none of them can move funds or pause)
    // ---------------------------------------------------------------------------------------

    /// @notice Regulator: the account can no longer send from this chain, transfers to it fail and
    /// are refunded, held transfers to it are refunded at release, and it cannot claim refunds.
    function freeze(address account) external restricted {
        accounts[account].frozen = true;
        emit AccountFrozen(account);
    }

    function unfreeze(address account) external restricted {
        accounts[account].frozen = false;
        emit AccountUnfrozen(account);
    }

    /// @notice Compliance issuer: the account is verified on this chain until `expiresAt`
    /// (exclusive). Re-attesting replaces the expiry.
    function attest(address account, uint64 expiresAt) external restricted {
        if (expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
        accounts[account].attestedUntil = expiresAt;
        emit AttestationIssued(account, expiresAt);
    }

    function revoke(address account) external restricted {
        accounts[account].attestedUntil = 0;
        emit AttestationRevoked(account);
    }

    /// @notice Governance: both lanes of the route on this chain accept only verified senders and
    /// recipients. Set it on both chains (normally while the route is Pending).
    function setRouteAllowlist(bytes32 routeId, bool allowlistOnly) external restricted {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        _lanes[route.outboundLane].allowlist = allowlistOnly;
        _lanes[route.inboundLane].allowlist = allowlistOnly;
        emit RouteAllowlistSet(routeId, allowlistOnly);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    function getLane(bytes32 laneId) external view returns (Lane memory) {
        return _lanes[laneId];
    }

    function getRoute(bytes32 routeId) external view returns (Route memory) {
        return _routes[routeId];
    }

    function getHold(bytes32 laneId, uint64 sequence) external view returns (Hold memory) {
        return _holds[_holdKey(laneId, sequence)];
    }

    /// @notice The accumulator after `sequence` messages, if recorded (0 otherwise).
    function accumulatorAt(bytes32 laneId, uint64 sequence) external view returns (bytes32) {
        if (sequence == 0) return LaneCodec.initialAccumulator(laneId);
        if (sequence == _lanes[laneId].sequence) return _lanes[laneId].accumulator;
        return _recordedAccumulators[laneId][sequence];
    }

    function availableCapacity(bytes32 laneId) external view returns (uint256) {
        Lane storage l = _lanes[laneId];
        return TokenBucket.available(l.capacity, l.bucketLevel, l.bucketUpdatedAt, block.timestamp);
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
        bytes32 data
    ) internal returns (uint64 sequence) {
        sequence = lane.sequence + 1;
        Message memory m =
            Message({sequence: sequence, kind: kind, sender: sender, recipient: recipient, amount: amount, data: data});
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
        RouteStatus status = lane.status;
        if ((status != RouteStatus.Active && status != RouteStatus.ExitOnly) || lane.paused) {
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
