// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {
    Message,
    Checkpoint,
    RouteParams,
    MessageKind,
    LaneDirection,
    RouteStatus,
    HoldStatus,
    RefundStatus
} from "./interfaces/IZeroBridge.sol";
import {BridgeBase, Lane, Route, Hold, LivenessPolicy} from "./BridgeBase.sol";
import {LaneCodec} from "./libraries/LaneCodec.sol";
import {TokenBucket} from "./libraries/TokenBucket.sol";
import {ValidatorSetLib} from "./libraries/ValidatorSetLib.sol";
import {WrappedToken} from "./WrappedToken.sol";

/// @notice The bridge's rarely used paths: holds, refunds, route configuration and liveness.
/// ZeroBridge forwards these calls here by delegatecall (EIP-170 caps one contract at 24,576
/// bytes), so they run on the bridge's storage, under its AccessManager and reentrancy lock.
/// Called directly, it acts on its own empty storage under an authority that is not a contract,
/// so every restricted call reverts and nothing of value is reachable.
contract BridgeExtension is BridgeBase {
    using SafeERC20 for IERC20;

    constructor() BridgeBase(address(1)) {}

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

    /// @notice The sender of a held transfer takes it back: it is refunded on the source like a
    /// failed transfer. Not while the hold is frozen (guardians' decision stands) or paused.
    function cancelHold(bytes32 laneId, uint64 sequence) external nonReentrant {
        _requireNotPaused();
        if (_lanes[laneId].paused) revert LaneNotActive(laneId);
        Hold storage hold = _holds[_holdKey(laneId, sequence)];
        if (hold.status != HoldStatus.Held) revert HoldNotFound(laneId, sequence);
        if (msg.sender != hold.sender) revert NotHoldSender(msg.sender, hold.sender);
        hold.status = HoldStatus.Cancelled;
        emit HoldCancelled(laneId, sequence);
        _refundHeld(laneId, sequence, hold, this.cancelHold.selector);
    }

    /// @notice Governance: refuse a held transfer and refund it to its sender on the source.
    function refundHold(bytes32 laneId, uint64 sequence) external restricted {
        Hold storage hold = _holds[_holdKey(laneId, sequence)];
        if (hold.status != HoldStatus.Held && hold.status != HoldStatus.Frozen) revert HoldNotFound(laneId, sequence);
        hold.status = HoldStatus.Refunded;
        emit HoldRefunded(laneId, sequence);
        _refundHeld(laneId, sequence, hold, this.refundHold.selector);
    }

    /// @dev A held transfer that will not be paid goes back to its sender on the source.
    function _refundHeld(bytes32 laneId, uint64 sequence, Hold storage hold, bytes4 reason) internal {
        _fail(
            _inboundContext(laneId), sequence, hold.sender, hold.recipient, hold.amount, hold.messageHash, reason
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
        if (!_verifySent(laneId, segment) || index >= segment.length) revert InvalidProof();
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
        Route storage route = _routes[routeId];
        route.outboundLane = outbound;
        route.inboundLane = inbound;

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
        // Emergency already keeps the way home open, and more.
        if (_lanes[route.outboundLane].status == RouteStatus.Emergency) revert RouteInEmergency();
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
    // Liveness: the fallback set, strikes and Emergency (docs/protocol.md, "Liveness")
    // ---------------------------------------------------------------------------------------

    /// @notice Delivers like `deliver`, signed by the route's fallback set instead of the lane's
    /// current set, once the newest message of the batch was sent `fallbackDelay` seconds ago
    /// (at once while the route's Emergency grace lasts). The first fallback delivery of each
    /// delay period is a strike against the primary set; the route enters Emergency at the
    /// strike limit. Fallback signatures are slashable like any others: the checkpoint is the same.
    function deliverByFallback(
        Checkpoint calldata checkpoint,
        bytes calldata fallbackSet,
        bytes calldata signatures,
        Message[] calldata messages
    ) external nonReentrant {
        bytes32 laneId = checkpoint.lane;
        Lane storage lane = _lanes[laneId];
        _requireUsable(lane, laneId, LaneDirection.Inbound);
        bytes32 routeId = lane.routeId;
        Route storage route = _routes[routeId];
        if (route.fallbackSetHash == bytes32(0)) revert NoFallbackSet(routeId);
        if (messages.length == 0) revert EmptyBatch();
        if (block.timestamp >= route.graceUntil) {
            uint256 dueAt = uint256(messages[messages.length - 1].sentAt) + route.fallbackDelay;
            if (block.timestamp < dueAt) revert FallbackNotDue(uint64(dueAt));
        }
        _verifyQuorum(route.fallbackSetHash, lane.sourceDomain, checkpoint, fallbackSet, signatures);

        uint16 strikes = route.strikes;
        // Saturating: with no strike limit the count must never stop deliveries.
        if (block.timestamp >= uint256(route.lastStrikeAt) + route.fallbackDelay && strikes < type(uint16).max) {
            strikes += 1;
            route.strikes = strikes;
            route.lastStrikeAt = uint64(block.timestamp);
        }
        emit FallbackDelivered(laneId, checkpoint.sequence, strikes);
        _deliverBatch(laneId, lane, checkpoint, messages);
        if (route.strikeLimit != 0 && strikes >= route.strikeLimit && route.graceUntil == 0) {
            _enterEmergency(routeId, route);
        }
    }

    /// @notice Governance: names (or replaces) the route's fallback set on this chain, copied
    /// from the stake snapshot of the fallback operators on the source chain
    /// (StakeManager.installFallbackSet bounds its expiry). Empty `fallbackSet` removes it.
    function setFallbackSet(bytes32 routeId, bytes calldata fallbackSet) external restricted {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        bytes32 setHash = fallbackSet.length == 0 ? bytes32(0) : ValidatorSetLib.validate(fallbackSet);
        route.fallbackSetHash = setHash;
        emit FallbackSetInstalled(routeId, setHash, fallbackSet);
    }

    /// @notice Governance: the route's default transfer timeout (outbound), fallback delay,
    /// strike limit and Emergency grace on this chain. A fallback needs a delay. A new policy
    /// starts a new strike count (governance forgives a primary set that recovered); it cannot
    /// take a route out of Emergency.
    function setLivenessPolicy(bytes32 routeId, LivenessPolicy calldata policy) external restricted {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        if (policy.fallbackDelay == 0) revert InvalidLimits();
        _lanes[route.outboundLane].defaultTimeout = policy.defaultTimeout;
        route.fallbackDelay = policy.fallbackDelay;
        route.strikeLimit = policy.strikeLimit;
        route.emergencyGrace = policy.emergencyGrace;
        route.strikes = 0;
        emit LivenessPolicySet(
            routeId, policy.defaultTimeout, policy.fallbackDelay, policy.strikeLimit, policy.emergencyGrace
        );
    }

    /// @notice Governance (committee decision): puts the route into Emergency on this chain.
    function declareEmergency(bytes32 routeId) external restricted {
        Route storage route = _routes[routeId];
        if (route.outboundLane == bytes32(0)) revert UnknownRoute(routeId);
        if (route.graceUntil != 0) revert RouteInEmergency();
        // A Pending route holds nothing yet: close it by never activating it.
        if (_lanes[route.outboundLane].status == RouteStatus.Pending) revert LaneNotActive(route.outboundLane);
        _enterEmergency(routeId, route);
    }

    /// @dev Emergency is final, like exit-only, which it includes: the home chain takes no new
    /// sends and the remote refunds what still arrives, while for the grace period the fallback
    /// set delivers the way home without waiting. The route owner's bond becomes slashable
    /// (RouteRegistry.slashEmergencyBond).
    function _enterEmergency(bytes32 routeId, Route storage route) internal {
        uint64 graceUntil = uint64(block.timestamp) + route.emergencyGrace;
        route.graceUntil = graceUntil;
        _lanes[route.outboundLane].status = RouteStatus.Emergency;
        _lanes[route.inboundLane].status = RouteStatus.Emergency;
        emit EmergencyDeclared(routeId, graceUntil, route.strikes);
    }
}
