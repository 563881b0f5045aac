// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice One message on a lane. Its hash is chained into the lane accumulator.
struct Message {
    uint64 sequence; // position on the lane, starting at 1
    uint8 kind; // MessageKind
    address sender; // TRANSFER: the holder who sent; REFUND: the recipient that could not receive
    address recipient; // TRANSFER: who receives; REFUND: who gets the refund (the original sender)
    uint256 amount; // net amount, after fee
    bytes32 data; // REFUND: hash of the refunded message; SET_UPDATE: hash of the new validator set
    uint64 sentAt; // source block timestamp: the fallback delay counts from here
    uint64 deadline; // TRANSFER: executed only up to this time, refunded after; others: never
}

/// @notice What a validator signs: "the first `sequence` messages of `lane` hash to `accumulator`".
struct Checkpoint {
    bytes32 lane;
    uint64 sequence;
    bytes32 accumulator;
}

/// @notice Everything a route owner (or governance) chooses when opening a route on one chain.
struct RouteParams {
    uint16 feeBps;
    address feeCollector;
    uint128 minAmount;
    uint128 maxAmount; // per transfer
    uint128 outboundCapacity; // token bucket, refills fully over one day
    uint128 inboundCapacity;
    uint128 largeTransferThreshold; // inbound transfers at or above it are held
}

library MessageKind {
    uint8 internal constant TRANSFER = 1;
    uint8 internal constant REFUND = 2;
    uint8 internal constant SET_UPDATE = 3;
}

enum LaneDirection {
    None,
    Outbound,
    Inbound
}

enum RouteStatus {
    None,
    Pending,
    Active,
    /// Wound down by governance: only the way home stays open (ZeroBridge.setExitOnly).
    ExitOnly,
    /// The primary set failed (strike limit) or the committee declared it: exit-only, and for a
    /// grace period the fallback set delivers without waiting (ZeroBridge.deliverByFallback).
    Emergency
}

enum HoldStatus {
    None,
    Held,
    Frozen,
    Released,
    Refunded,
    Cancelled // by its sender, refunded on the source
}

enum RefundStatus {
    None,
    Approved,
    Claimed,
    Cancelled
}

interface IZeroBridgeEvents {
    /// @notice A message was appended to an outbound lane. Carries the full message.
    event MessageSent(bytes32 indexed lane, uint64 indexed sequence, Message message, bytes32 accumulator);
    event ValidatorSetUpdateQueued(bytes32 indexed lane, uint64 indexed sequence, bytes validatorSet);
    event ValidatorSetInstalled(bytes32 indexed lane, bytes32 setHash, bytes validatorSet);
    event ValidatorSetRotated(bytes32 indexed lane, uint64 indexed sequence, bytes32 setHash);
    event CheckpointDelivered(bytes32 indexed lane, uint64 sequence, bytes32 accumulator, uint256 messages);
    event MessageExecuted(bytes32 indexed lane, uint64 indexed sequence, address indexed recipient, uint256 amount);
    event MessageFailed(bytes32 indexed lane, uint64 indexed sequence, bytes4 reason);
    event TransferHeld(bytes32 indexed lane, uint64 indexed sequence, uint64 releaseAt);
    event HoldFrozen(bytes32 indexed lane, uint64 indexed sequence);
    event HoldUnfrozen(bytes32 indexed lane, uint64 indexed sequence);
    event HoldReleased(bytes32 indexed lane, uint64 indexed sequence);
    event HoldRefunded(bytes32 indexed lane, uint64 indexed sequence);
    event HoldCancelled(bytes32 indexed lane, uint64 indexed sequence);
    /// @notice The fallback set delivered up to `sequence`; `strikes` against the primary so far.
    event FallbackDelivered(bytes32 indexed lane, uint64 sequence, uint16 strikes);
    event FallbackSetInstalled(bytes32 indexed routeId, bytes32 setHash, bytes validatorSet);
    event LivenessPolicySet(
        bytes32 indexed routeId, uint32 defaultTimeout, uint32 fallbackDelay, uint16 strikeLimit, uint32 emergencyGrace
    );
    /// @notice The route is in Emergency on this chain; the fallback delivers without delay until `graceUntil`.
    event EmergencyDeclared(bytes32 indexed routeId, uint64 graceUntil, uint16 strikes);
    event RefundApproved(bytes32 indexed lane, bytes32 indexed messageHash);
    event RefundClaimed(bytes32 indexed lane, bytes32 indexed messageHash, address indexed to, uint256 amount);
    event RefundCancelled(bytes32 indexed lane, bytes32 indexed messageHash);
    event RouteOpened(
        bytes32 indexed routeId, bytes32 outboundLane, bytes32 inboundLane, address token, bool isHome, uint64 remoteChainId
    );
    event RouteActivated(bytes32 indexed routeId);
    event RouteExitOnly(bytes32 indexed routeId);
    event RouteFeeSet(bytes32 indexed routeId, uint16 feeBps, address feeCollector);
    event RouteLimitsSet(bytes32 indexed routeId, RouteParams params);
    event LimitBoundsSet(bytes32 indexed routeId, uint128 capacityCap, uint128 holdThresholdCap);
    event FeesClaimed(bytes32 indexed lane, address indexed to, uint256 amount);
    event ValidatorFeesWithdrawn(bytes32 indexed lane, address indexed to, uint256 amount);
    event PeerSet(uint64 indexed chainId, address bridge);
    event FeePolicySet(uint16 maxFeeBps, uint16 validatorShareBps);
    event HoldDelaySet(uint64 delay);
    event Paused();
    event Unpaused();
    event LanePaused(bytes32 indexed lane);
    event LaneUnpaused(bytes32 indexed lane);
    /// @notice Regulator: the account may no longer send from, or receive on, this chain's bridge.
    event AccountFrozen(address indexed account);
    event AccountUnfrozen(address indexed account);
    /// @notice Compliance issuer: the account counts as verified on allowlist routes of this
    /// chain until `expiresAt` (exclusive: verified while block.timestamp < expiresAt).
    event AttestationIssued(address indexed account, uint64 expiresAt);
    event AttestationRevoked(address indexed account);
    /// @notice Governance: both lanes of the route accept only verified senders and recipients.
    event RouteAllowlistSet(bytes32 indexed routeId, bool allowlistOnly);
}

interface IZeroBridgeErrors {
    error UnknownLane(bytes32 lane);
    error UnknownRoute(bytes32 routeId);
    error LaneNotActive(bytes32 lane);
    error BridgePaused();
    error WrongDirection(bytes32 lane);
    error ZeroAmount();
    error ZeroRecipient();
    error AmountBelowMinimum(uint256 amount, uint256 minimum);
    error AmountAboveMaximum(uint256 amount, uint256 maximum);
    error RateLimited(uint256 amount, uint256 available, uint256 secondsUntilAvailable);
    error NothingReceived();
    error EmptyBatch();
    error SequenceGap(uint64 expected, uint64 got);
    error CheckpointMismatch(uint64 checkpointSequence, uint64 lastInBatch);
    error AccumulatorMismatch(bytes32 expected, bytes32 computed);
    error StaleValidatorSet(bytes32 expected, bytes32 provided);
    error MalformedValidatorSet();
    error MalformedSignatures();
    error SignersNotAscending(uint256 index);
    error SignerIndexOutOfRange(uint256 index);
    error InvalidSignature(uint256 index);
    error SignerNotInSet(uint256 index, address recovered);
    error QuorumNotReached(uint256 weight, uint256 threshold);
    error ThresholdTooLow(uint256 threshold, uint256 totalWeight);
    error SetUpdateNotLast(uint64 sequence);
    error SetAlreadyActive(bytes32 lane);
    error ValidatorSetMissing(bytes32 lane);
    error RouteExists(bytes32 routeId);
    error RouteNotPending(bytes32 routeId);
    error PeerUnknown(uint64 chainId);
    error FeeTooHigh(uint16 feeBps, uint16 maxFeeBps);
    error InvalidLimits();
    /// @notice The route owner's limits exceed the bounds governance set for the route.
    error LimitsOutOfBounds();
    error HoldNotFound(bytes32 lane, uint64 sequence);
    error HoldNotReleasable(bytes32 lane, uint64 sequence, uint64 releaseAt);
    error HoldNotFrozen(bytes32 lane, uint64 sequence);
    error RefundNotApproved(bytes32 lane, bytes32 messageHash);
    error InvalidProof();
    error NotATransfer(uint64 sequence);
    error VaultShortfall(uint256 amount, uint256 locked);
    /// @notice The route is exit-only: the home chain takes no new sends (on the remote, arriving
    /// transfers fail with this selector as the reason and are refunded).
    error RouteIsExitOnly();
    /// @notice The lane's validator set expired at `validUntil`: it must be renewed by a set update.
    error ValidatorSetExpired(uint256 validUntil);
    /// @notice A large refund waits out the hold delay, like a large transfer.
    error RefundHeld(bytes32 lane, bytes32 messageHash, uint64 releaseAt);
    /// @notice A remote route needs a fresh wrapped token made for it by this bridge's registry.
    error NotRouteWrappedToken(address token, bytes32 routeId);
    /// @notice The account is frozen by the regulator: it cannot send, and transfers to it fail
    /// and are refunded (MessageFailed reason = this selector).
    error FrozenAccount(address account);
    /// @notice Allowlist route: the account has no unexpired attestation on this chain (on the
    /// destination the transfer fails and is refunded with this selector as the reason).
    error NotVerified(address account);
    error InvalidExpiry(uint64 expiresAt);
    /// @notice The route is in Emergency: the home chain takes no new sends.
    error RouteInEmergency();
    /// @notice `send` with a deadline that has already passed.
    error InvalidDeadline(uint64 deadline);
    /// @notice Reason of a MessageFailed for a transfer that arrived after its deadline (refunded).
    error TransferTimedOut();
    error NoFallbackSet(bytes32 routeId);
    /// @notice The fallback may deliver this batch only from `dueAt` (its newest message's
    /// sentAt plus the route's fallback delay).
    error FallbackNotDue(uint64 dueAt);
    error NotHoldSender(address caller, address sender);
}
