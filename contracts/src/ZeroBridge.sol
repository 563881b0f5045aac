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
    RouteStatus
} from "./interfaces/IZeroBridge.sol";
import {BridgeBase, Lane, Route, Hold, LivenessPolicy} from "./BridgeBase.sol";
import {BridgeExtension} from "./BridgeExtension.sol";
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
/// The hot paths (send, deliver) and the views are here; holds, refunds, route configuration and
/// liveness run in the BridgeExtension this contract creates and forwards them to (same storage).
contract ZeroBridge is BridgeBase {
    using SafeERC20 for IERC20;

    /// @notice Where the functions in the sections marked "(BridgeExtension)" run, by
    /// delegatecall. Their stubs here only forward the call; they name (and mention, which keeps
    /// the compiler from warning) their parameters so that the ABI is the same as the extension's.
    address public immutable extension;

    constructor(address authority) BridgeBase(authority) {
        extension = address(new BridgeExtension());
    }

    // ---------------------------------------------------------------------------------------
    // Sending side
    // ---------------------------------------------------------------------------------------

    /// @notice Sends `amount` of the lane's token to `recipient` on the destination chain.
    /// Home chain: locks (crediting the balance actually received). Remote chain: burns.
    /// @param deadline unix seconds after which the destination refunds instead of executing;
    /// 0 takes the route's default timeout (or none, when the route has no default)
    function send(bytes32 laneId, address recipient, uint256 amount, uint64 deadline)
        external
        nonReentrant
        returns (uint64 sequence)
    {
        Lane storage lane = _lanes[laneId];
        uint64 due = _checkSend(lane, laneId, recipient, amount, deadline);
        uint256 net = _take(lane, amount);
        sequence = _append(laneId, lane, MessageKind.TRANSFER, msg.sender, recipient, net, bytes32(0), due);
    }

    /// @dev Every check of `send` that needs no token call; returns the transfer's deadline.
    function _checkSend(Lane storage lane, bytes32 laneId, address recipient, uint256 amount, uint64 deadline)
        internal
        view
        returns (uint64)
    {
        _requireUsable(lane, laneId, LaneDirection.Outbound);
        // Exit-only and Emergency: only the way home stays open.
        if (lane.isHome && lane.status != RouteStatus.Active) {
            if (lane.status == RouteStatus.ExitOnly) revert RouteIsExitOnly();
            revert RouteInEmergency();
        }
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
        if (deadline != 0) {
            if (deadline <= block.timestamp) revert InvalidDeadline(deadline);
            return deadline;
        }
        uint32 timeout = lane.defaultTimeout;
        return timeout == 0 ? NO_DEADLINE : uint64(block.timestamp) + timeout;
    }

    /// @dev Locks (home) or burns (remote) `amount` from the sender, takes it from the bucket and
    /// the fee from it; returns what the message carries.
    function _take(Lane storage lane, uint256 amount) internal returns (uint256 net) {
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
        net = received - fee;
        if (fee != 0) {
            uint256 validatorCut = fee * validatorShareBps / BPS;
            lane.validatorFees += uint128(validatorCut);
            lane.ownerFees += uint128(fee - validatorCut);
            // On the remote chain the whole amount was burned: the fee stays here as wrapped tokens.
            if (!isHome) WrappedToken(token).mint(address(this), fee);
        }
        if (isHome) lane.locked += net;
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
        // Exit-only and Emergency routes still carry exits and refunds: their sets must stay rotatable.
        if (lane.status < RouteStatus.Active) revert LaneNotActive(laneId);
        bytes32 setHash = ValidatorSetLib.validate(validatorSet);
        lane.validatorSetHash = setHash;
        sequence = _append(laneId, lane, MessageKind.SET_UPDATE, address(0), address(0), 0, setHash, NO_DEADLINE);
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
        _verifyQuorum(lane.validatorSetHash, lane.sourceDomain, checkpoint, validatorSet, signatures);
        _deliverBatch(laneId, lane, checkpoint, messages);
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
    // Chain-wide configuration (route configuration is in BridgeExtension)
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

    // ---------------------------------------------------------------------------------------
    // Holds and refunds (BridgeExtension)
    // ---------------------------------------------------------------------------------------

    function releaseHold(bytes32 laneId, uint64 sequence) external {
        laneId;
        sequence;
        _forward();
    }

    function freezeHold(bytes32 laneId, uint64 sequence) external {
        laneId;
        sequence;
        _forward();
    }

    function unfreezeHold(bytes32 laneId, uint64 sequence) external {
        laneId;
        sequence;
        _forward();
    }

    function cancelHold(bytes32 laneId, uint64 sequence) external {
        laneId;
        sequence;
        _forward();
    }

    function refundHold(bytes32 laneId, uint64 sequence) external {
        laneId;
        sequence;
        _forward();
    }

    function claimRefund(bytes32 laneId, Message[] calldata segment, uint256 index) external {
        laneId;
        segment;
        index;
        _forward();
    }

    function cancelRefund(bytes32 laneId, bytes32 messageHash) external {
        laneId;
        messageHash;
        _forward();
    }

    // ---------------------------------------------------------------------------------------
    // Route configuration (BridgeExtension)
    // ---------------------------------------------------------------------------------------

    function openRoute(bytes32 routeId, address token, bool isHome, uint64 remoteChainId, RouteParams calldata params) external {
        routeId;
        token;
        isHome;
        remoteChainId;
        params;
        _forward();
    }

    function installValidatorSet(bytes32 laneId, bytes calldata validatorSet) external {
        laneId;
        validatorSet;
        _forward();
    }

    function replaceExpiredSet(bytes32 laneId, bytes calldata expiredSet, bytes calldata validatorSet) external {
        laneId;
        expiredSet;
        validatorSet;
        _forward();
    }

    function activateRoute(bytes32 routeId) external {
        routeId;
        _forward();
    }

    function setExitOnly(bytes32 routeId) external {
        routeId;
        _forward();
    }

    function setRouteFee(bytes32 routeId, uint16 feeBps, address feeCollector) external {
        routeId;
        feeBps;
        feeCollector;
        _forward();
    }

    function setRouteLimits(bytes32 routeId, RouteParams calldata params) external {
        routeId;
        params;
        _forward();
    }

    function setLimitBounds(bytes32 routeId, uint128 capacityCap, uint128 holdThresholdCap) external {
        routeId;
        capacityCap;
        holdThresholdCap;
        _forward();
    }

    // ---------------------------------------------------------------------------------------
    // Liveness (BridgeExtension)
    // ---------------------------------------------------------------------------------------

    function deliverByFallback(Checkpoint calldata checkpoint, bytes calldata fallbackSet, bytes calldata signatures, Message[] calldata messages) external {
        checkpoint;
        fallbackSet;
        signatures;
        messages;
        _forward();
    }

    function setFallbackSet(bytes32 routeId, bytes calldata fallbackSet) external {
        routeId;
        fallbackSet;
        _forward();
    }

    function setLivenessPolicy(bytes32 routeId, LivenessPolicy calldata policy) external {
        routeId;
        policy;
        _forward();
    }

    function declareEmergency(bytes32 routeId) external {
        routeId;
        _forward();
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

    /// @notice The fields of a lane other contracts need (the stake manager, the registry).
    function laneSummary(bytes32 laneId)
        external
        view
        returns (LaneDirection direction, RouteStatus status, uint64 sequence, address token, bytes32 validatorSetHash)
    {
        Lane storage l = _lanes[laneId];
        return (l.direction, l.status, l.sequence, l.token, l.validatorSetHash);
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

    /// @notice True when `segment` is a run of messages this bridge really appended to `laneId`,
    /// proven against its own recorded accumulators. Used for refunds and slashing evidence.
    function verifySent(bytes32 laneId, Message[] calldata segment) external view returns (bool) {
        return _verifySent(laneId, segment);
    }

    /// @dev Runs the call in the extension on this contract's storage and returns its result.
    function _forward() private {
        address target = extension;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
