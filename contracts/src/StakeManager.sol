// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {Message, Checkpoint, LaneDirection, RouteStatus} from "./interfaces/IZeroBridge.sol";
import {LaneCodec} from "./libraries/LaneCodec.sol";
import {ValidatorSetLib} from "./libraries/ValidatorSetLib.sol";
import {ZeroBridge} from "./ZeroBridge.sol";

/// @title StakeManager
/// @notice Shared, slashable security for the lanes whose source is this chain (docs/security-model.md).
///
/// Operators bond stake (the native coin or a configured ERC-20) once, register a checkpoint
/// signing key separate from their operator key, and allocate stake to any number of this
/// chain's outbound lanes (restaking: one stake backs many lanes). Each epoch anyone may commit a
/// lane's snapshot: the top `maxValidatorsPerLane` operators by allocated stake become the lane's
/// validator set, weight = stake (optionally capped per operator), threshold = two thirds. Every
/// set carries a hard expiry `validUntil` that the destination enforces. The set goes to the
/// bridge, which sends it on the lane itself as a SET_UPDATE system message that the current set
/// must sign.
///
/// Stake lives here because fraud is provable here: a checkpoint signature over a sequence the
/// lane never reached, or over an accumulator the lane never had, slashes the signer. Stake that
/// weighs in a set stays bonded until that set's expiry plus the detection window, so every
/// signature the destination can still accept is backed by stake that is still here to slash.
/// Slashing per period is capped; what the cap defers stays owed and blocks withdrawals.
contract StakeManager is AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.Bytes32Set;

    uint16 public constant BPS = 10_000;
    /// @notice Upper bound on one operator's bond, so that any set's total weight fits the
    /// set encoding's uint96 threshold.
    uint256 public constant MAX_STAKE = type(uint96).max / 256;
    uint256 public constant MAX_CANDIDATES_PER_LANE = 64;
    uint256 public constant MAX_LANES_PER_OPERATOR = 64;
    /// @notice What a signing key signs (EIP-712, under this stake manager's domain) to prove that
    /// the operator registering it controls it.
    bytes32 public constant SIGNER_REGISTRATION_TYPEHASH = keccak256("SignerRegistration(address operator)");
    /// @dev Gas given to each call into a lane token while closing an epoch: a token that reverts
    /// or burns gas must never stop set rotation.
    uint256 internal constant TOKEN_CALL_GAS = 200_000;

    struct Config {
        address stakingToken; // address(0): the native coin
        uint256 minStake; // least allocated stake that counts for a lane
        uint64 epochLength; // seconds between lane snapshots
        uint64 unbondingPeriod; // seconds from unbond to withdraw
        // Time a fraudulent signature may take to be noticed and proven after the set that gave it
        // expired (with margin for the two chains' clocks). Also the reporter payout delay.
        uint64 detectionWindow;
        // How long a committed set stays valid on the destination. Longer than two epochs, so
        // that an unchanged set is renewed (at half its life) well before it expires.
        uint64 setLifetime;
        uint16 maxValidatorsPerLane;
        uint16 slashBps; // share of an operator's bond taken per proven fraud
        uint16 reporterShareBps; // share of each slash paid to the reporter; the rest to the lane's pool
        uint16 slashCapBps; // most of the total bond that may be slashed in one slash period
        uint64 slashPeriod;
    }

    struct Operator {
        address signer;
        bool jailed;
        bool fraudProven; // a forged signature of its signer was proven: it earns no reporter share
        uint64 unbondingReleaseAt;
        uint64 penaltyEpochPlusOne; // last epoch (+1, 0 = never) in which it was slashed or jailed
        // Bond that must stay: the largest weight of the sets committed since `lockStartedAt`,
        // until the latest of their expiries plus the detection window ...
        uint96 lockedWeight;
        uint64 lockedUntil;
        uint256 active;
        uint256 unbonding;
        uint256 owed; // proven slashes not yet taken because of the per-period cap
        // ... and the same for the sets committed in the period before (see `_lockStake`).
        uint96 previousLockedWeight;
        uint64 previousLockedUntil;
        uint64 lockStartedAt;
    }

    struct Member {
        address operator;
        address signer;
        uint96 weight;
    }

    struct Snapshot {
        bool committed;
        uint64 epoch;
        uint64 validUntil; // the set's expiry, enforced by the destination
        uint96 threshold;
        uint96 totalWeight;
        bytes32 setHash;
        Member[] members; // ascending by signer, as in the set encoding
    }

    struct Evidence {
        address operator;
        address reporter;
        bytes32 lane;
        uint64 provenAt;
        uint256 due;
        uint256 paid;
        uint256 reporterOwed; // the reporter's share of what was paid, claimable after the delay
    }

    ZeroBridge public immutable bridge;
    address public immutable stakingToken;
    uint256 public immutable minStake;
    uint64 public immutable epochLength;
    uint64 public immutable unbondingPeriod;
    uint64 public immutable detectionWindow;
    uint64 public immutable setLifetime;
    uint16 public immutable maxValidatorsPerLane;
    uint16 public immutable slashBps;
    uint16 public immutable reporterShareBps;
    uint16 public immutable slashCapBps;
    uint64 public immutable slashPeriod;
    uint64 public immutable genesis;

    uint256 public totalBonded; // active + unbonding of every operator
    uint64 public slashPeriodPlusOne; // the slash period (+1) the budget below belongs to
    uint256 public slashBudgetLeft;

    mapping(address operator => Operator) internal _operators;
    mapping(address signer => address operator) public operatorOfSigner;
    mapping(address operator => mapping(bytes32 lane => uint256)) public allocation;
    mapping(address operator => EnumerableSet.Bytes32Set) internal _lanesOf;
    mapping(bytes32 lane => EnumerableSet.AddressSet) internal _candidates;
    mapping(bytes32 lane => Snapshot) internal _snapshots;
    mapping(bytes32 evidenceId => Evidence) public evidence;
    /// @notice Validator rewards, per operator and lane token, claimable by the operator.
    mapping(address operator => mapping(address token => uint256)) public rewards;
    /// @notice Lane fees no eligible member could take yet (carried to the next epoch).
    mapping(bytes32 lane => uint256) public undistributedRewards;
    /// @notice Slashed stake kept for the victims of a lane's fraud; paid out by governance.
    mapping(bytes32 lane => uint256) public compensationPool;
    /// @notice Governance: the most one operator may weigh in the lane's set, in basis points of
    /// the set's total weight (0 = no cap). Below 6,667 no single key reaches the threshold.
    mapping(bytes32 lane => uint16) public maxOperatorShareBps;

    event OperatorRegistered(address indexed operator, address indexed signer);
    event StakeDeposited(address indexed operator, uint256 amount, uint256 active);
    event OptedIn(address indexed operator, bytes32 indexed lane, uint256 amount);
    event OptedOut(address indexed operator, bytes32 indexed lane);
    /// @notice A full candidate list took a heavier operator in place of its lightest.
    event CandidateDisplaced(bytes32 indexed lane, address indexed displaced, address indexed by);
    event UnbondingStarted(address indexed operator, uint256 amount, uint64 releaseAt);
    event StakeWithdrawn(address indexed operator, uint256 amount);
    event EpochCommitted(
        bytes32 indexed lane,
        uint64 indexed epoch,
        bytes32 setHash,
        uint256 totalWeight,
        uint256 threshold,
        uint256 members,
        uint64 validUntil
    );
    event StakeLockExtended(address indexed operator, uint96 weight, uint64 until);
    event MaxOperatorShareSet(bytes32 indexed lane, uint16 shareBps);
    /// @notice The lane token refused the epoch's fee withdrawal; the fees stay in the bridge and
    /// are tried again at the next epoch. Rotation went ahead.
    event RewardWithdrawalFailed(bytes32 indexed lane, address token);
    event RewardsDistributed(bytes32 indexed lane, uint64 indexed epoch, address token, uint256 amount);
    event RewardsClaimed(address indexed operator, address indexed token, uint256 amount);
    event FraudProven(
        bytes32 indexed evidenceId,
        address indexed operator,
        bytes32 indexed lane,
        uint64 sequence,
        address signer,
        address reporter,
        uint256 due
    );
    event Slashed(bytes32 indexed evidenceId, address indexed operator, uint256 amount, uint256 reporterShare);
    event ReporterPaid(bytes32 indexed evidenceId, address indexed reporter, uint256 amount);
    event ReporterShareForfeited(bytes32 indexed evidenceId, address indexed reporter, uint256 amount);
    event Jailed(address indexed operator);
    event Unjailed(address indexed operator);
    event CompensationFunded(bytes32 indexed lane, address indexed from, uint256 amount);
    event FallbackSetCommitted(bytes32 indexed lane, bytes32 setHash, bytes validatorSet);
    event CompensationPaid(bytes32 indexed lane, address indexed to, uint256 amount);
    event InboundSetInstalled(bytes32 indexed lane, bytes32 setHash);

    error InvalidConfig(string reason);
    error AlreadyRegistered(address operator);
    error NotRegistered(address operator);
    error InvalidSigner(address signer);
    error ZeroAmount();
    error WrongValue(uint256 sent);
    error StakeAboveMaximum(uint256 stake);
    error InsufficientStake(uint256 requested, uint256 active);
    error NotAnOutboundLane(bytes32 lane);
    error NotAnInboundLane(bytes32 lane);
    error NotOptedIn(address operator, bytes32 lane);
    error TooManyCandidates(bytes32 lane);
    error TooManyLanes(address operator);
    error OperatorJailed(address operator);
    error EpochAlreadyCommitted(bytes32 lane, uint64 epoch);
    error NoEligibleValidators(bytes32 lane);
    error NothingToWithdraw();
    error StillUnbonding(uint64 releaseAt);
    error SlashOwed(uint256 owed);
    /// @notice The bond backs a set that the destination may still accept (or whose evidence
    /// window is still open): `weight` stays until `until`.
    error StakeLocked(uint256 weight, uint64 until);
    error SignerProofInvalid(address signer);
    error ShareTooHigh(uint16 shareBps);
    error ReporterPayoutLocked(uint64 until);
    error NotReporter(address caller);
    error SetLifetimeTooLong(uint64 validUntil, uint64 latest);
    error AllocationBelowMinimum(uint256 amount, uint256 minStake);
    error InvalidSignature();
    error UnknownSigner(address signer);
    error EvidenceAlreadyUsed(bytes32 evidenceId);
    error UnknownEvidence(bytes32 evidenceId);
    error NotFraud(bytes32 lane, uint64 sequence);
    error ProofRequired(uint64 sequence);
    error InvalidProof();
    error NotJailed(address operator);
    error CompensationExceedsPool(uint256 amount, uint256 pool);

    constructor(address authority, ZeroBridge bridge_, Config memory c) AccessManaged(authority) {
        if (c.epochLength == 0 || c.slashPeriod == 0) revert InvalidConfig("zero period");
        if (c.setLifetime <= uint256(c.epochLength) * 2) revert InvalidConfig("set lifetime must exceed two epochs");
        // Evidence must stay usable until the stake has left: an operator that starts unbonding
        // signs for up to one more epoch, and fraud must then still be detected and proven.
        if (c.unbondingPeriod <= uint256(c.epochLength) + c.detectionWindow) {
            revert InvalidConfig("unbonding must exceed epoch + detection window");
        }
        if (c.maxValidatorsPerLane == 0 || c.maxValidatorsPerLane > ValidatorSetLib.MAX_MEMBERS) {
            revert InvalidConfig("validators per lane");
        }
        if (c.slashBps == 0 || c.slashBps > BPS || c.reporterShareBps > BPS) revert InvalidConfig("slash shares");
        if (c.slashCapBps == 0 || c.slashCapBps > BPS) revert InvalidConfig("slash cap");
        if (c.minStake == 0) revert InvalidConfig("min stake");
        bridge = bridge_;
        stakingToken = c.stakingToken;
        minStake = c.minStake;
        epochLength = c.epochLength;
        unbondingPeriod = c.unbondingPeriod;
        detectionWindow = c.detectionWindow;
        setLifetime = c.setLifetime;
        maxValidatorsPerLane = c.maxValidatorsPerLane;
        slashBps = c.slashBps;
        reporterShareBps = c.reporterShareBps;
        slashCapBps = c.slashCapBps;
        slashPeriod = c.slashPeriod;
        genesis = uint64(block.timestamp);
    }

    // ---------------------------------------------------------------------------------------
    // Operators: register, bond, allocate, leave
    // ---------------------------------------------------------------------------------------

    /// @notice Registers the caller as an operator with `signer` as its checkpoint-signing key.
    /// The signer is a different key from the operator's: it signs checkpoints and nothing else.
    /// @param proof the signer's EIP-712 signature over SignerRegistration(operator = caller) under
    /// this stake manager's domain (`signerRegistrationDigest`): nobody can claim a key they do
    /// not hold, and a proof made for one operator, chain or stake manager is useless on another.
    function registerOperator(address signer, bytes calldata proof) external {
        if (_operators[msg.sender].signer != address(0)) revert AlreadyRegistered(msg.sender);
        if (signer == address(0) || signer == msg.sender || operatorOfSigner[signer] != address(0)) {
            revert InvalidSigner(signer);
        }
        (address recovered, ECDSA.RecoverError failure,) = ECDSA.tryRecover(signerRegistrationDigest(msg.sender), proof);
        if (failure != ECDSA.RecoverError.NoError || recovered != signer) revert SignerProofInvalid(signer);
        _operators[msg.sender].signer = signer;
        operatorOfSigner[signer] = msg.sender;
        emit OperatorRegistered(msg.sender, signer);
    }

    /// @notice Bonds `amount` more (native coin: send it as value; token: approve it first).
    function deposit(uint256 amount) external payable nonReentrant {
        Operator storage op = _registered(msg.sender);
        uint256 received;
        if (stakingToken == address(0)) {
            if (msg.value != amount) revert WrongValue(msg.value);
            received = amount;
        } else {
            if (msg.value != 0) revert WrongValue(msg.value);
            uint256 before = IERC20(stakingToken).balanceOf(address(this));
            IERC20(stakingToken).safeTransferFrom(msg.sender, address(this), amount);
            received = IERC20(stakingToken).balanceOf(address(this)) - before;
        }
        if (received == 0) revert ZeroAmount();
        uint256 bonded = op.active + op.unbonding + received;
        if (bonded > MAX_STAKE) revert StakeAboveMaximum(bonded);
        op.active += received;
        totalBonded += received;
        emit StakeDeposited(msg.sender, received, op.active);
    }

    /// @notice Allocates `amount` of the caller's stake to an outbound lane of this chain (replacing
    /// any earlier allocation). The same stake may back many lanes. Counts from the next snapshot.
    function optIn(bytes32 lane, uint256 amount) external {
        _requireDirection(lane, LaneDirection.Outbound);
        _optIn(lane, amount);
    }

    /// @notice Like `optIn`, for the lane's fallback group (the route's "master validators"):
    /// their snapshot (`commitFallbackSet`) is the set the destination accepts once a message has
    /// waited out the route's fallback delay. Opt out with `optOut(fallbackKey(lane))`.
    function optInFallback(bytes32 lane, uint256 amount) external {
        _requireDirection(lane, LaneDirection.Outbound);
        _optIn(fallbackKey(lane), amount);
    }

    /// @notice The key under which the fallback group of `lane` has candidates, allocations and
    /// a snapshot (in place of the lane id).
    function fallbackKey(bytes32 lane) public pure returns (bytes32) {
        return keccak256(abi.encode(lane, "zerobridge.fallback"));
    }

    function _optIn(bytes32 lane, uint256 amount) internal {
        Operator storage op = _registered(msg.sender);
        if (op.jailed) revert OperatorJailed(msg.sender);
        // Below the minimum an allocation could never count; refusing it keeps the bounded
        // candidate list from being filled with dust.
        if (amount < minStake) revert AllocationBelowMinimum(amount, minStake);
        if (amount > op.active) revert InsufficientStake(amount, op.active);
        if (allocation[msg.sender][lane] == 0) {
            if (_lanesOf[msg.sender].length() >= MAX_LANES_PER_OPERATOR) revert TooManyLanes(msg.sender);
            if (_candidates[lane].length() >= MAX_CANDIDATES_PER_LANE) _displaceLightest(lane, amount);
            _candidates[lane].add(msg.sender);
            _lanesOf[msg.sender].add(lane);
        }
        allocation[msg.sender][lane] = amount;
        emit OptedIn(msg.sender, lane, amount);
    }

    /// @notice Withdraws the caller's allocation from a lane from the next snapshot on. Sets already
    /// committed keep counting it until they expire, and its stake stays locked for them.
    function optOut(bytes32 lane) external {
        if (allocation[msg.sender][lane] == 0) revert NotOptedIn(msg.sender, lane);
        _removeCandidate(lane, msg.sender);
    }

    function _removeCandidate(bytes32 lane, address operator) internal {
        allocation[operator][lane] = 0;
        _candidates[lane].remove(operator);
        _lanesOf[operator].remove(lane);
        emit OptedOut(operator, lane);
    }

    /// @dev A full candidate list makes room for `amount` by dropping its lightest candidate (by
    /// the weight it would have now; jailed ones weigh nothing), which must weigh strictly less:
    /// minimum-stake operators cannot keep heavier ones out.
    function _displaceLightest(bytes32 lane, uint256 amount) internal {
        address[] memory laneCandidates = _candidates[lane].values();
        address lightest;
        uint256 lightestWeight = type(uint256).max;
        for (uint256 i; i < laneCandidates.length; ++i) {
            address candidate = laneCandidates[i];
            Operator storage op = _operators[candidate];
            uint256 weight = op.jailed ? 0 : _min(allocation[candidate][lane], op.active);
            if (weight < lightestWeight) (lightest, lightestWeight) = (candidate, weight);
        }
        if (amount <= lightestWeight) revert TooManyCandidates(lane);
        _removeCandidate(lane, lightest);
        emit CandidateDisplaced(lane, lightest, msg.sender);
    }

    /// @notice Moves `amount` from active stake into unbonding. It stops counting for lane weights
    /// at the next snapshot, stays slashable, and can be withdrawn after the unbonding period and
    /// once no unexpired set needs it (a new unbond restarts the period for the whole amount).
    function unbond(uint256 amount) external {
        Operator storage op = _registered(msg.sender);
        if (amount == 0) revert ZeroAmount();
        if (amount > op.active) revert InsufficientStake(amount, op.active);
        op.active -= amount;
        op.unbonding += amount;
        uint64 releaseAt = uint64(block.timestamp) + unbondingPeriod;
        op.unbondingReleaseAt = releaseAt;
        emit UnbondingStarted(msg.sender, amount, releaseAt);
    }

    /// @notice Pays out the caller's unbonding stake once the period is over and no slash is owed,
    /// keeping bonded whatever an unexpired set still counts (`withdrawable`). Pays the free part
    /// when only part is free.
    function withdraw() external nonReentrant {
        Operator storage op = _operators[msg.sender];
        if (op.unbonding == 0) revert NothingToWithdraw();
        if (block.timestamp < op.unbondingReleaseAt) revert StillUnbonding(op.unbondingReleaseAt);
        if (op.owed != 0) revert SlashOwed(op.owed);
        uint256 amount = _free(op);
        if (amount == 0) {
            (uint256 weight, uint64 until) = _locked(op);
            revert StakeLocked(weight, until);
        }
        op.unbonding -= amount;
        totalBonded -= amount;
        emit StakeWithdrawn(msg.sender, amount);
        _payStake(msg.sender, amount);
    }

    // ---------------------------------------------------------------------------------------
    // Epochs: lane snapshots become validator sets
    // ---------------------------------------------------------------------------------------

    /// @dev Unbonding stake whose withdrawal leaves the bond at or above the locked weight.
    function _free(Operator storage op) internal view returns (uint256) {
        (uint256 locked,) = _locked(op);
        uint256 bonded = op.active + op.unbonding;
        if (bonded <= locked) return 0;
        return _min(op.unbonding, bonded - locked);
    }

    /// @dev The weight that must stay bonded now, and until when the longest of its locks lasts.
    function _locked(Operator storage op) internal view returns (uint256 weight, uint64 until) {
        if (block.timestamp < op.lockedUntil) (weight, until) = (op.lockedWeight, op.lockedUntil);
        if (block.timestamp < op.previousLockedUntil) {
            if (op.previousLockedWeight > weight) weight = op.previousLockedWeight;
            if (op.previousLockedUntil > until) until = op.previousLockedUntil;
        }
    }

    function currentEpoch() public view returns (uint64) {
        return (uint64(block.timestamp) - genesis) / epochLength;
    }

    /// @notice Anyone: closes the lane's epoch (pays its members their share of the lane's
    /// validator fees) and snapshots the next set from the current allocations. While the route is
    /// Pending the set is installed directly and may be re-committed at any time; once it is
    /// active, a changed set is queued as a SET_UPDATE message the current set must sign. An
    /// unchanged set keeps its expiry until half its life is over, then is renewed the same way.
    /// Every member's stake is locked until the set's expiry plus the detection window, including
    /// members of a Pending set that a re-commit replaces (the destination may hold a copy).
    function commitEpoch(bytes32 lane) external nonReentrant returns (bytes32 setHash) {
        (LaneDirection direction, RouteStatus status,, address token, bytes32 current) = bridge.laneSummary(lane);
        if (direction != LaneDirection.Outbound) revert NotAnOutboundLane(lane);
        Snapshot storage snap = _snapshots[lane];
        bool pending = status == RouteStatus.Pending;
        if (snap.committed && !pending) _requireNewEpoch(lane, snap);
        if (snap.committed) _distributeRewards(lane, token, snap);
        bytes memory set;
        (set, setHash) = _snapshot(lane, snap);
        if (setHash != current) {
            if (pending) bridge.installValidatorSet(lane, set);
            else bridge.queueValidatorSetUpdate(lane, set);
        }
    }

    /// @notice Anyone: snapshots the lane's fallback group (once per epoch), locking its members'
    /// stake like a primary set's. Governance copies the set to the destination with
    /// `installFallbackSet` there; the fallback group earns no fees (in the happy path it signs
    /// nothing).
    function commitFallbackSet(bytes32 lane) external nonReentrant returns (bytes32 setHash) {
        _requireDirection(lane, LaneDirection.Outbound);
        bytes32 key = fallbackKey(lane);
        Snapshot storage snap = _snapshots[key];
        if (snap.committed) _requireNewEpoch(key, snap);
        bytes memory set;
        (set, setHash) = _snapshot(key, snap);
        emit FallbackSetCommitted(lane, setHash, set);
    }

    function _requireNewEpoch(bytes32 key, Snapshot storage snap) internal view {
        uint64 epoch = currentEpoch();
        if (snap.epoch >= epoch) revert EpochAlreadyCommitted(key, epoch);
    }

    /// @dev Snapshots the candidates of `key` (a lane, or a lane's fallback key) into `snap` and
    /// locks every member's stake until the set's expiry plus the detection window.
    function _snapshot(bytes32 key, Snapshot storage snap) internal returns (bytes memory set, bytes32 setHash) {
        (Member[] memory members, uint256 total) = _selectMembers(key);
        if (members.length == 0) revert NoEligibleValidators(key);
        uint256 threshold = (total * 2 + 2) / 3; // smallest weight >= two thirds of the total
        // An unchanged set (same encoding under its old expiry) keeps that expiry until half-life.
        uint64 validUntil = snap.validUntil;
        set = _encodeSet(threshold, validUntil, members);
        if (keccak256(set) != snap.setHash || validUntil <= block.timestamp + setLifetime / 2) {
            validUntil = uint64(block.timestamp) + setLifetime;
            set = _encodeSet(threshold, validUntil, members);
        }
        delete snap.members;
        for (uint256 i; i < members.length; ++i) {
            snap.members.push(members[i]);
            _lockStake(members[i].operator, members[i].weight, validUntil);
        }
        uint64 epoch = currentEpoch();
        setHash = keccak256(set);
        snap.committed = true;
        snap.epoch = epoch;
        snap.validUntil = validUntil;
        snap.threshold = uint96(threshold);
        snap.totalWeight = uint96(total);
        snap.setHash = setHash;
        emit EpochCommitted(key, epoch, setHash, total, threshold, members.length, validUntil);
    }

    /// @dev Bond of `weight` stays with the operator until `validUntil` plus the detection window.
    /// Locks are kept in two periods of `setLifetime + detectionWindow`: the current one (the
    /// largest weight and latest end of the sets committed in it) and the one before. A set
    /// committed in a period ends its lock within one more period, so the period before the
    /// previous one holds only finished locks and is dropped: a smaller weight in later sets frees
    /// the difference within two periods, and no live set's weight is ever dropped.
    function _lockStake(address operator, uint96 weight, uint64 validUntil) internal {
        Operator storage op = _operators[operator];
        if (block.timestamp >= uint256(op.lockStartedAt) + setLifetime + detectionWindow) {
            (op.previousLockedWeight, op.previousLockedUntil) = (op.lockedWeight, op.lockedUntil);
            (op.lockedWeight, op.lockedUntil) = (0, 0);
            op.lockStartedAt = uint64(block.timestamp);
        }
        uint64 until = validUntil + detectionWindow;
        if (weight > op.lockedWeight) op.lockedWeight = weight;
        if (until > op.lockedUntil) op.lockedUntil = until;
        emit StakeLockExtended(operator, op.lockedWeight, op.lockedUntil);
    }

    function _encodeSet(uint256 threshold, uint64 validUntil, Member[] memory members)
        internal
        pure
        returns (bytes memory set)
    {
        set = abi.encodePacked(uint96(threshold), validUntil);
        for (uint256 i; i < members.length; ++i) {
            set = abi.encodePacked(set, members[i].signer, members[i].weight);
        }
    }

    /// @notice Governance: installs the first set of an inbound lane, copied from the stake
    /// snapshot on the lane's source chain (this chain cannot read it). Only while the route is
    /// Pending, and only with an expiry no later than a set committed now would have (the source
    /// locks its members' stake only until the expiry it chose); anyone can compare the two with
    /// `zerobridge route status`.
    function installInboundSet(bytes32 lane, bytes calldata validatorSet) external restricted {
        _requireDirection(lane, LaneDirection.Inbound);
        _checkCopiedExpiry(validatorSet);
        emit InboundSetInstalled(lane, keccak256(validatorSet));
        bridge.installValidatorSet(lane, validatorSet);
    }

    /// @notice Governance: names the route's fallback set on this chain, copied from the fallback
    /// snapshot of the route's inbound lane on its source chain (`commitFallbackSet` there), with
    /// the same expiry bound as `installInboundSet`.
    function installFallbackSet(bytes32 routeId, bytes calldata fallbackSet) external restricted {
        _checkCopiedExpiry(fallbackSet);
        bridge.setFallbackSet(routeId, fallbackSet);
    }

    /// @notice Governance: replaces an inbound lane's expired set with a copy of the source chain's
    /// current snapshot (same expiry bound as `installInboundSet`). The way out when keepers let a
    /// set expire before its renewal was delivered.
    function replaceExpiredInboundSet(bytes32 lane, bytes calldata expiredSet, bytes calldata validatorSet)
        external
        restricted
    {
        _requireDirection(lane, LaneDirection.Inbound);
        _checkCopiedExpiry(validatorSet);
        emit InboundSetInstalled(lane, keccak256(validatorSet));
        bridge.replaceExpiredSet(lane, expiredSet, validatorSet);
    }

    /// @dev A copied set may not expire later than one committed now on the source could, give or
    /// take the two chains' clocks (allowed to differ by up to the detection window).
    function _checkCopiedExpiry(bytes calldata validatorSet) internal view {
        if (validatorSet.length >= ValidatorSetLib.HEADER_BYTES) {
            uint64 validUntil = ValidatorSetLib.validUntil(validatorSet);
            uint64 latest = uint64(block.timestamp) + setLifetime + detectionWindow;
            if (validUntil > latest) revert SetLifetimeTooLong(validUntil, latest);
        }
    }

    /// @dev Top `maxValidatorsPerLane` eligible candidates by weight (ties: lower signer first),
    /// returned in ascending signer order. Eligible: not jailed, weight >= minStake.
    function _selectMembers(bytes32 lane) internal view returns (Member[] memory members, uint256 total) {
        address[] memory laneCandidates = _candidates[lane].values();
        uint256 n = laneCandidates.length;
        Member[] memory pool = new Member[](n);
        uint256 eligible;
        for (uint256 i; i < n; ++i) {
            address operator = laneCandidates[i];
            Operator storage op = _operators[operator];
            uint256 weight = _min(allocation[operator][lane], op.active);
            if (op.jailed || weight < minStake) continue;
            pool[eligible++] = Member({operator: operator, signer: op.signer, weight: uint96(weight)});
        }
        uint256 count = _min(eligible, maxValidatorsPerLane);
        // Partial selection sort: the first `count` entries become the heaviest.
        for (uint256 i; i < count; ++i) {
            uint256 best = i;
            for (uint256 j = i + 1; j < eligible; ++j) {
                if (_heavier(pool[j], pool[best])) best = j;
            }
            (pool[i], pool[best]) = (pool[best], pool[i]);
        }
        uint256 cap = _weightCap(lane, pool, count);
        members = new Member[](count);
        for (uint256 i; i < count; ++i) {
            members[i] = pool[i];
            if (members[i].weight > cap) members[i].weight = uint96(cap);
            total += members[i].weight;
        }
        // Insertion sort by signer: the set encoding requires ascending addresses.
        for (uint256 i = 1; i < count; ++i) {
            Member memory m = members[i];
            uint256 j = i;
            while (j > 0 && members[j - 1].signer > m.signer) {
                members[j] = members[j - 1];
                --j;
            }
            members[j] = m;
        }
    }

    /// @dev The largest weight any member may have under the lane's share cap: the level c at which
    /// capping every heavier member to c leaves c = share x (new total). `pool[0..count)` is sorted
    /// heaviest first. With too few members for the share (count x share < 100%) all are
    /// equalised, the closest the cap can get (`zerobridge doctor` warns).
    function _weightCap(bytes32 lane, Member[] memory pool, uint256 count) internal view returns (uint256) {
        uint256 share = maxOperatorShareBps[lane];
        if (share == 0 || count == 0) return type(uint256).max;
        uint256 rest;
        for (uint256 i; i < count; ++i) {
            rest += pool[i].weight;
        }
        // With the top j members capped at c: c = share * (j * c + rest_j) / BPS.
        for (uint256 j; j < count && share * j < BPS; ++j) {
            uint256 c = share * rest / (BPS - share * j);
            if (pool[j].weight <= c) return c == 0 ? 1 : c;
            rest -= pool[j].weight;
        }
        return pool[count - 1].weight;
    }

    function _heavier(Member memory a, Member memory b) private pure returns (bool) {
        return a.weight > b.weight || (a.weight == b.weight && a.signer < b.signer);
    }

    // ---------------------------------------------------------------------------------------
    // Rewards
    // ---------------------------------------------------------------------------------------

    /// @dev Pays the validator fees the bridge accrued for `lane` to the closing snapshot's members,
    /// pro rata to weight. A member slashed or jailed since the snapshot began gets nothing; its
    /// share goes to the others. Rounding dust and epochs with nobody eligible carry over.
    function _distributeRewards(bytes32 lane, address token, Snapshot storage snap) internal {
        uint256 amount = _withdrawFees(lane, token) + undistributedRewards[lane];
        uint64 epoch = snap.epoch;
        Member[] storage members = snap.members;
        uint256 eligibleWeight;
        for (uint256 i; i < members.length; ++i) {
            if (_earns(members[i].operator, epoch)) eligibleWeight += members[i].weight;
        }
        if (amount == 0 || eligibleWeight == 0) {
            undistributedRewards[lane] = amount;
            return;
        }
        uint256 paid;
        for (uint256 i; i < members.length; ++i) {
            address operator = members[i].operator;
            if (!_earns(operator, epoch)) continue;
            uint256 share = amount * members[i].weight / eligibleWeight;
            rewards[operator][token] += share;
            paid += share;
        }
        undistributedRewards[lane] = amount - paid;
        emit RewardsDistributed(lane, epoch, token, paid);
    }

    /// @dev The lane's validator fees that arrived here, or 0 (fees left in the bridge) when the
    /// token reverts, lies or burns gas: each token call gets a bounded amount of gas.
    function _withdrawFees(bytes32 lane, address token) internal returns (uint256) {
        (bool ok, uint256 before) = _balanceOf(token);
        if (ok) {
            try bridge.withdrawValidatorFees{gas: TOKEN_CALL_GAS}(lane, address(this)) {
                uint256 afterwards;
                (ok, afterwards) = _balanceOf(token);
                if (ok && afterwards >= before) return afterwards - before;
            } catch {}
        }
        emit RewardWithdrawalFailed(lane, token);
        return 0;
    }

    function _balanceOf(address token) internal view returns (bool ok, uint256 balance) {
        bytes memory data;
        (ok, data) = token.staticcall{gas: TOKEN_CALL_GAS}(abi.encodeCall(IERC20.balanceOf, (address(this))));
        if (!ok || data.length < 32) return (false, 0);
        balance = abi.decode(data, (uint256));
    }

    function _earns(address operator, uint64 epoch) internal view returns (bool) {
        Operator storage op = _operators[operator];
        return !op.jailed && op.penaltyEpochPlusOne <= epoch;
    }

    /// @notice Pays the caller's rewards in `token` (a lane's token).
    function claimRewards(address token) external nonReentrant {
        uint256 amount = rewards[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw();
        rewards[msg.sender][token] = 0;
        emit RewardsClaimed(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------------------------------
    // Slashing
    // ---------------------------------------------------------------------------------------

    /// @notice Anyone: proves that a registered signing key signed a checkpoint this chain's
    /// bridge never had, and slashes its operator. The checkpoint is fraudulent when its sequence
    /// exceeds the lane's count, or its accumulator differs from the lane's at that sequence.
    /// Two different checkpoints for one sequence (a double sign) always include such a one.
    /// @param r,vs the EIP-2098 compact signature over the checkpoint's EIP-712 digest
    /// @param proof empty when the bridge has the accumulator at `checkpoint.sequence` recorded
    /// (a multiple of the record interval, or the head); otherwise a segment of the lane between
    /// two records that contains the sequence, as for `ZeroBridge.verifySent`
    function slash(Checkpoint calldata checkpoint, bytes32 r, bytes32 vs, Message[] calldata proof)
        external
        nonReentrant
        returns (bytes32 evidenceId)
    {
        (address operator, address signer, bytes32 id) = _proveFraud(checkpoint, r, vs, proof);
        evidenceId = id;
        Operator storage op = _operators[operator];
        // A share of the bond not already owed: evidence proven while earlier slashes are deferred
        // by the cap takes what it would have taken had they been collected at once, and `owed`
        // never exceeds the bond.
        uint256 due = (op.active + op.unbonding - op.owed) * slashBps / BPS;
        evidence[evidenceId] = Evidence({
            operator: operator,
            reporter: msg.sender,
            lane: checkpoint.lane,
            provenAt: uint64(block.timestamp),
            due: due,
            paid: 0,
            reporterOwed: 0
        });
        op.owed += due;
        op.fraudProven = true;
        _jail(operator, op);
        emit FraudProven(evidenceId, operator, checkpoint.lane, checkpoint.sequence, signer, msg.sender, due);
        _collect(evidenceId);
    }

    /// @notice Anyone: takes what the per-period cap deferred on earlier evidence.
    function collectSlash(bytes32 evidenceId) external nonReentrant {
        if (evidence[evidenceId].operator == address(0)) revert UnknownEvidence(evidenceId);
        _collect(evidenceId);
    }

    /// @dev Recovers the signer and its operator, and reverts unless the checkpoint is fraudulent
    /// and this is new evidence.
    function _proveFraud(Checkpoint calldata checkpoint, bytes32 r, bytes32 vs, Message[] calldata proof)
        internal
        view
        returns (address operator, address signer, bytes32 evidenceId)
    {
        uint64 laneCount = _outboundCount(checkpoint.lane);
        bytes32 digest =
            LaneCodec.checkpointDigest(LaneCodec.domainSeparator(block.chainid, address(bridge)), checkpoint);
        signer = ValidatorSetLib.recover(digest, r, vs);
        if (signer == address(0)) revert InvalidSignature();
        operator = operatorOfSigner[signer];
        if (operator == address(0)) revert UnknownSigner(signer);
        evidenceId = keccak256(abi.encode(digest, signer));
        if (evidence[evidenceId].operator != address(0)) revert EvidenceAlreadyUsed(evidenceId);
        if (!_isFraud(checkpoint, laneCount, proof)) revert NotFraud(checkpoint.lane, checkpoint.sequence);
    }

    function _outboundCount(bytes32 lane) internal view returns (uint64) {
        return _requireDirection(lane, LaneDirection.Outbound);
    }

    /// @dev Reverts unless `lane` is a lane of this chain's bridge in `direction`; returns its sequence.
    function _requireDirection(bytes32 lane, LaneDirection direction) internal view returns (uint64 sequence) {
        LaneDirection actual;
        (actual,, sequence,,) = bridge.laneSummary(lane);
        if (actual != direction) {
            if (direction == LaneDirection.Outbound) revert NotAnOutboundLane(lane);
            revert NotAnInboundLane(lane);
        }
    }

    function _isFraud(Checkpoint calldata cp, uint64 laneCount, Message[] calldata proof) internal view returns (bool) {
        uint64 sequence = cp.sequence;
        if (sequence > laneCount) return true;
        bytes32 truth;
        if (proof.length == 0) {
            truth = bridge.accumulatorAt(cp.lane, sequence);
            if (truth == bytes32(0)) revert ProofRequired(sequence);
        } else {
            if (!bridge.verifySent(cp.lane, proof)) revert InvalidProof();
            uint64 start = proof[0].sequence - 1;
            if (sequence < start || sequence - start > proof.length) revert InvalidProof();
            truth = bridge.accumulatorAt(cp.lane, start);
            for (uint256 i; i < sequence - start; ++i) {
                truth = LaneCodec.chain(truth, LaneCodec.messageHashCalldata(proof[i]));
            }
        }
        return truth != cp.accumulator;
    }

    /// @dev Takes as much of the evidence's unpaid due as the period's budget and the operator's
    /// remaining bond allow: active stake first, then unbonding stake.
    function _collect(bytes32 evidenceId) internal {
        Evidence storage e = evidence[evidenceId];
        Operator storage op = _operators[e.operator];
        uint64 periodPlusOne = uint64(block.timestamp) / slashPeriod + 1;
        if (periodPlusOne != slashPeriodPlusOne) {
            slashPeriodPlusOne = periodPlusOne;
            slashBudgetLeft = totalBonded * slashCapBps / BPS;
        }
        uint256 unpaid = e.due - e.paid;
        uint256 bonded = op.active + op.unbonding;
        if (bonded < unpaid) {
            // Other evidence already took the rest: nothing more exists to take.
            op.owed -= unpaid - bonded;
            e.due = e.paid + bonded;
            unpaid = bonded;
        }
        uint256 amount = _min(unpaid, slashBudgetLeft);
        if (amount == 0) return;
        slashBudgetLeft -= amount;
        e.paid += amount;
        op.owed -= amount;
        uint256 fromActive = _min(amount, op.active);
        op.active -= fromActive;
        op.unbonding -= amount - fromActive;
        totalBonded -= amount;
        uint256 reporterShare = amount * reporterShareBps / BPS;
        e.reporterOwed += reporterShare;
        compensationPool[e.lane] += amount - reporterShare;
        emit Slashed(evidenceId, e.operator, amount, reporterShare);
    }

    /// @notice Pays the evidence's reporter its share once the detection window after the proof is
    /// over. A forger reporting a fellow signer (or itself) is found out in that window: when the
    /// reporter is, or signs for, an operator proven fraudulent, anyone calling this moves the
    /// share into the lane's compensation pool instead.
    function claimReporterPayout(bytes32 evidenceId) external nonReentrant {
        Evidence storage e = evidence[evidenceId];
        if (e.operator == address(0)) revert UnknownEvidence(evidenceId);
        uint64 unlocksAt = e.provenAt + detectionWindow;
        if (block.timestamp < unlocksAt) revert ReporterPayoutLocked(unlocksAt);
        uint256 amount = e.reporterOwed;
        if (amount == 0) revert NothingToWithdraw();
        address reporter = e.reporter;
        e.reporterOwed = 0;
        if (_isProvenForger(reporter)) {
            compensationPool[e.lane] += amount;
            emit ReporterShareForfeited(evidenceId, reporter, amount);
            return;
        }
        if (msg.sender != reporter) revert NotReporter(msg.sender);
        emit ReporterPaid(evidenceId, reporter, amount);
        _payStake(reporter, amount);
    }

    /// @dev True for an operator proven to have forged, and for its signing key.
    function _isProvenForger(address account) internal view returns (bool) {
        if (_operators[account].fraudProven) return true;
        address operator = operatorOfSigner[account];
        return operator != address(0) && _operators[operator].fraudProven;
    }

    /// @notice Anyone (the route registry, with a route owner's slashed bond): adds native coin
    /// to the lane's compensation pool. Only when the staking token is the native coin.
    function fundCompensation(bytes32 lane) external payable {
        if (stakingToken != address(0) || msg.value == 0) revert WrongValue(msg.value);
        compensationPool[lane] += msg.value;
        emit CompensationFunded(lane, msg.sender, msg.value);
    }

    /// @notice Governance: compensates victims of a fraud on `lane` from its pool.
    function payCompensation(bytes32 lane, address to, uint256 amount) external restricted nonReentrant {
        uint256 pool = compensationPool[lane];
        if (amount > pool) revert CompensationExceedsPool(amount, pool);
        compensationPool[lane] = pool - amount;
        emit CompensationPaid(lane, to, amount);
        _payStake(to, amount);
    }

    /// @notice Governance: jails an operator (e.g. for a liveness fault, which is never slashed
    /// automatically). A jailed operator leaves every set at the next snapshot and earns nothing.
    function jail(address operator) external restricted {
        _jail(operator, _registered(operator));
    }

    /// @notice Governance: caps one operator's share of the lane's set weight from the next
    /// snapshot on (0 = no cap). Below 6,667 (two thirds) no operator reaches the threshold alone.
    function setMaxOperatorShare(bytes32 lane, uint16 shareBps) external restricted {
        if (shareBps > BPS) revert ShareTooHigh(shareBps);
        maxOperatorShareBps[lane] = shareBps;
        emit MaxOperatorShareSet(lane, shareBps);
    }

    /// @notice Governance: lets a jailed operator back into snapshots.
    function unjail(address operator) external restricted {
        Operator storage op = _registered(operator);
        if (!op.jailed) revert NotJailed(operator);
        op.jailed = false;
        emit Unjailed(operator);
    }

    function _jail(address operator, Operator storage op) internal {
        op.penaltyEpochPlusOne = currentEpoch() + 1;
        if (op.jailed) return;
        op.jailed = true;
        emit Jailed(operator);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    function getOperator(address operator) external view returns (Operator memory) {
        return _operators[operator];
    }

    /// @notice What `withdraw` would pay the operator now, ignoring the unbonding period and owed
    /// slashes (which block it entirely).
    function withdrawable(address operator) external view returns (uint256) {
        return _free(_operators[operator]);
    }

    /// @notice The bond the operator must keep now (its weight in the sets the destination may still
    /// accept, or whose evidence window is open), and when the last of those locks ends.
    function lockedStake(address operator) external view returns (uint256 weight, uint64 until) {
        return _locked(_operators[operator]);
    }

    /// @notice The digest a signing key signs to be registered by `operator`: EIP-712 under the
    /// domain (name "zerobridge.stake", version "1", this chain, this stake manager).
    function signerRegistrationDigest(address operator) public view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                LaneCodec.DOMAIN_TYPEHASH, keccak256("zerobridge.stake"), LaneCodec.VERSION_HASH, block.chainid, address(this)
            )
        );
        return MessageHashUtils.toTypedDataHash(domain, keccak256(abi.encode(SIGNER_REGISTRATION_TYPEHASH, operator)));
    }

    function lanesOf(address operator) external view returns (bytes32[] memory) {
        return _lanesOf[operator].values();
    }

    function candidates(bytes32 lane) external view returns (address[] memory) {
        return _candidates[lane].values();
    }

    function getSnapshot(bytes32 lane) external view returns (Snapshot memory) {
        return _snapshots[lane];
    }

    /// @notice The lane's economic security under its current snapshot: the stake behind it, its
    /// member count, and the least stake any quorum that signs a forgery would lose (every
    /// quorum weighs at least the threshold, weight never exceeds the signer's locked bond, and
    /// the forgers may report themselves from fresh addresses and win back the reporter share).
    function laneSecurity(bytes32 lane)
        external
        view
        returns (uint256 totalStake, uint256 validators, uint256 quorumLoss)
    {
        Snapshot storage snap = _snapshots[lane];
        uint256 loss = uint256(snap.threshold) * slashBps / BPS;
        return (snap.totalWeight, snap.members.length, loss - loss * reporterShareBps / BPS);
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    function _registered(address operator) internal view returns (Operator storage op) {
        op = _operators[operator];
        if (op.signer == address(0)) revert NotRegistered(operator);
    }

    function _payStake(address to, uint256 amount) internal {
        if (stakingToken == address(0)) Address.sendValue(payable(to), amount);
        else IERC20(stakingToken).safeTransfer(to, amount);
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
