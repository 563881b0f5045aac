// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title zerobridge governance committee
/// @notice A weighted committee (FISCO BCOS style: member weights, a participation rate and an
/// approval rate) that executes every privileged change of one chain's deployment. It is meant to
/// hold the AccessManager's ADMIN_ROLE alone (see `ChainDeployer.handOverToCommittee`): unpausing,
/// peers, fee policy, route retirement, held-transfer refunds and every role grant then need a
/// committee decision followed by a timelock.
///
/// Lifecycle of a proposal (a list of calls made by the committee, in order):
///   propose (a member) -> vote (members, once each, until the voting deadline)
///   -> Succeeded as soon as the thresholds are met (early decision; voting closes)
///   -> queue (anyone, until `queueDeadline` = voting deadline + grace period): eta = now + timelock
///   -> execute (anyone) only inside [eta, eta + grace period]; all calls or nothing.
/// A proposal that can no longer reach the approval rate even if every remaining member approves
/// is Defeated. One that is still undecided at its voting deadline, or misses its queue or
/// execution window, is Expired. The proposer, or the committee itself through an executed
/// proposal, may cancel it until it has executed.
/// Every transition made by a transaction emits an event; expiry is reached by time alone and
/// has none (read `state`). A proposal cannot execute or queue another one from inside its own
/// execution (reentrancy guard), but it can cancel one and change the configuration below.
///
/// Pass rule. With P the participating weight (for + against), A the approving weight and T the
/// member weight snapshotted when the proposal was created, a proposal passes when
///     ceil(P * 10000 / T) >= participationBps  and  ceil(A * 10000 / P) >= approvalBps,
/// i.e. each observed ratio, rounded up to a whole basis point, reaches its rate. Rounding up
/// makes the default 6667 mean exactly two thirds (2 of 3 equal members pass, 1 of 3 does not);
/// the condition is `P * 10000 > (participationBps - 1) * T` (resp. for A over P), which differs
/// from `P * 10000 >= participationBps * T` by less than one basis point of the total.
///
/// Member weights and the rates are snapshotted per proposal, so a membership or rate change
/// executed while a vote is live cannot swing it: eligibility and weight come from the snapshot
/// (a member added later cannot vote on it, one removed later still can, with its old weight).
///
/// Production: several members of which none can pass a proposal alone (`isSingleKey()` false)
/// and a non-zero timelock. A one-member committee or a zero timelock is accepted for devnets
/// only; `zerobridge doctor` reads `isSingleKey()`, `memberCount()` and `timelockDelay()` to warn.
/// The committee cannot mint, release a vault or rotate a validator set on its own: those need a
/// quorum of the lane's validators (invariant 5); `queueValidatorSetUpdate` only queues a system
/// message that the current set must sign.
contract Committee is ReentrancyGuardTransient {
    using Checkpoints for Checkpoints.Trace208;

    // ---------------------------------------------------------------------------------------
    // Types, constants
    // ---------------------------------------------------------------------------------------

    enum ProposalState {
        Active,
        Defeated,
        Succeeded,
        Queued,
        Expired,
        Executed,
        Canceled
    }

    struct Proposal {
        address proposer;
        uint48 snapshot; // membership version the weights are read at
        uint16 participationBps; // rates at creation
        uint16 approvalBps;
        uint48 voteEnd; // last second votes are accepted
        uint48 queueDeadline; // last second a Succeeded proposal can be queued
        uint48 eta; // 0 until queued
        uint48 executeDeadline; // eta + grace period, set when queued
        bool executed;
        bool canceled;
        uint96 totalWeight; // member weight at creation
        uint96 forWeight;
        uint96 againstWeight;
    }

    struct Action {
        address target;
        uint256 value;
        bytes data;
    }

    uint256 public constant BPS = 10_000;
    uint16 public constant DEFAULT_RATE_BPS = 6667; // two thirds, see the pass rule
    uint16 public constant MIN_PARTICIPATION_BPS = 5000;
    uint16 public constant MIN_APPROVAL_BPS = 5001; // strictly more than half of the participants
    uint256 public constant MAX_MEMBERS = 64;
    uint256 public constant MIN_VOTING_PERIOD = 1 minutes;
    uint256 public constant MAX_VOTING_PERIOD = 90 days;
    uint256 public constant MAX_TIMELOCK_DELAY = 90 days; // 0 is allowed (devnet only)
    uint256 public constant MIN_GRACE_PERIOD = 1 hours;
    uint256 public constant MAX_GRACE_PERIOD = 90 days;

    // ---------------------------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------------------------

    address[] private _members;
    mapping(address member => uint256 indexPlusOne) private _memberIndex;
    mapping(address member => Checkpoints.Trace208) private _weights; // keyed by membership version
    uint48 private _version;

    /// @notice Sum of the current members' weights.
    uint96 public totalWeight;
    uint16 public participationBps;
    uint16 public approvalBps;
    uint32 public votingPeriod;
    uint32 public timelockDelay;
    uint32 public gracePeriod;

    uint256 public proposalCount;
    mapping(uint256 id => Proposal) private _proposals;
    mapping(uint256 id => Action[]) private _actions;
    mapping(uint256 id => mapping(address member => bool)) private _voted;

    // ---------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------

    event MemberAdded(address indexed member, uint96 weight);
    event MemberRemoved(address indexed member);
    event MemberWeightChanged(address indexed member, uint96 oldWeight, uint96 newWeight);
    event RatesChanged(uint16 participationBps, uint16 approvalBps);
    event VotingPeriodChanged(uint32 votingPeriod);
    event TimelockDelayChanged(uint32 timelockDelay);
    event GracePeriodChanged(uint32 gracePeriod);

    event ProposalCreated(
        uint256 indexed id,
        address indexed proposer,
        address[] targets,
        uint256[] values,
        bytes[] calldatas,
        string description,
        uint48 voteEnd
    );
    event VoteCast(uint256 indexed id, address indexed member, bool support, uint96 weight);
    /// @notice The thresholds were met: the proposal can be queued.
    event ProposalSucceeded(uint256 indexed id);
    /// @notice The approval rate can no longer be reached.
    event ProposalDefeated(uint256 indexed id);
    event ProposalQueued(uint256 indexed id, uint48 eta, uint48 executeDeadline);
    event ProposalExecuted(uint256 indexed id, address indexed executor);
    event ProposalCanceled(uint256 indexed id, address indexed by);

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    error InvalidParticipationRate(uint256 bps);
    error InvalidApprovalRate(uint256 bps);
    error InvalidVotingPeriod(uint256 period);
    error InvalidTimelockDelay(uint256 delay);
    error InvalidGracePeriod(uint256 period);
    error LengthMismatch();
    error NoMembers();
    error TooManyMembers(uint256 count, uint256 max);
    error InvalidMember(address member);
    error ZeroWeight(address member);
    error DuplicateMember(address member);
    error NotMember(address account);
    error TotalWeightOverflow();
    error CannotRemoveLastMember();
    error OnlyCommittee(address caller);
    error EmptyProposal();
    error UnknownProposal(uint256 id);
    error UnexpectedProposalState(uint256 id, ProposalState current);
    error AlreadyVoted(uint256 id, address member);
    error TimelockNotElapsed(uint256 id, uint256 eta);
    error CancelNotAllowed(uint256 id, address caller);
    error TargetHasNoCode(uint256 index, address target);
    error CallFailed(uint256 index, address target);

    modifier onlySelf() {
        if (msg.sender != address(this)) revert OnlyCommittee(msg.sender);
        _;
    }

    // ---------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------

    /// @param members_ distinct non-zero addresses (1 to MAX_MEMBERS)
    /// @param weights_ non-zero weights, one per member
    /// @param participationBps_ in [5000, 10000]; 0 means DEFAULT_RATE_BPS
    /// @param approvalBps_ in [5001, 10000]; 0 means DEFAULT_RATE_BPS
    /// @param votingPeriod_ seconds, in [MIN_VOTING_PERIOD, MAX_VOTING_PERIOD]
    /// @param timelockDelay_ seconds, at most MAX_TIMELOCK_DELAY; 0 only on a devnet
    /// @param gracePeriod_ seconds, in [MIN_GRACE_PERIOD, MAX_GRACE_PERIOD]: queue and execution windows
    constructor(
        address[] memory members_,
        uint96[] memory weights_,
        uint16 participationBps_,
        uint16 approvalBps_,
        uint32 votingPeriod_,
        uint32 timelockDelay_,
        uint32 gracePeriod_
    ) {
        if (members_.length != weights_.length) revert LengthMismatch();
        if (members_.length == 0) revert NoMembers();
        if (members_.length > MAX_MEMBERS) revert TooManyMembers(members_.length, MAX_MEMBERS);
        for (uint256 i; i < members_.length; ++i) {
            _addMember(members_[i], weights_[i]);
        }
        _setRates(
            participationBps_ == 0 ? DEFAULT_RATE_BPS : participationBps_,
            approvalBps_ == 0 ? DEFAULT_RATE_BPS : approvalBps_
        );
        _setVotingPeriod(votingPeriod_);
        _setTimelockDelay(timelockDelay_);
        _setGracePeriod(gracePeriod_);
    }

    /// @notice Holds ETH for proposals whose calls carry value (e.g. a registration bond).
    receive() external payable {}

    // ---------------------------------------------------------------------------------------
    // Proposals
    // ---------------------------------------------------------------------------------------

    /// @notice A member proposes calls the committee will make, in order, if the proposal passes.
    /// The proposer does not vote by proposing.
    function propose(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description
    ) external nonReentrant returns (uint256 id) {
        if (weightOf(msg.sender) == 0) revert NotMember(msg.sender);
        if (targets.length == 0) revert EmptyProposal();
        if (targets.length != values.length || targets.length != calldatas.length) revert LengthMismatch();

        id = ++proposalCount;
        Proposal storage p = _proposals[id];
        uint48 voteEnd = uint48(block.timestamp + votingPeriod);
        p.proposer = msg.sender;
        p.snapshot = _version;
        p.participationBps = participationBps;
        p.approvalBps = approvalBps;
        p.voteEnd = voteEnd;
        p.queueDeadline = uint48(voteEnd + gracePeriod);
        p.totalWeight = totalWeight;
        Action[] storage actions = _actions[id];
        for (uint256 i; i < targets.length; ++i) {
            actions.push(Action({target: targets[i], value: values[i], data: calldatas[i]}));
        }
        emit ProposalCreated(id, msg.sender, targets, values, calldatas, description, voteEnd);
    }

    /// @notice A member of the proposal's snapshot votes once, while the proposal is Active.
    function vote(uint256 id, bool support) external nonReentrant {
        Proposal storage p = _proposal(id);
        ProposalState current = _state(p);
        if (current != ProposalState.Active) revert UnexpectedProposalState(id, current);
        uint96 weight = uint96(_weights[msg.sender].upperLookupRecent(p.snapshot));
        if (weight == 0) revert NotMember(msg.sender);
        if (_voted[id][msg.sender]) revert AlreadyVoted(id, msg.sender);

        _voted[id][msg.sender] = true;
        if (support) p.forWeight += weight;
        else p.againstWeight += weight;
        emit VoteCast(id, msg.sender, support, weight);

        current = _state(p);
        if (current == ProposalState.Succeeded) emit ProposalSucceeded(id);
        else if (current == ProposalState.Defeated) emit ProposalDefeated(id);
    }

    /// @notice Starts the timelock of a Succeeded proposal. Anyone may call it.
    function queue(uint256 id) external nonReentrant returns (uint48 eta) {
        Proposal storage p = _proposal(id);
        ProposalState current = _state(p);
        if (current != ProposalState.Succeeded) revert UnexpectedProposalState(id, current);
        eta = uint48(block.timestamp + timelockDelay);
        uint48 executeDeadline = uint48(eta + gracePeriod);
        p.eta = eta;
        p.executeDeadline = executeDeadline;
        emit ProposalQueued(id, eta, executeDeadline);
    }

    /// @notice Makes a Queued proposal's calls, in order, once its eta has come and before its
    /// execution deadline. Anyone may call it. If any call fails the whole execution reverts with
    /// that call's revert data (or `CallFailed` when it returned none) and the proposal stays Queued.
    function execute(uint256 id) external payable nonReentrant {
        Proposal storage p = _proposal(id);
        ProposalState current = _state(p);
        if (current != ProposalState.Queued) revert UnexpectedProposalState(id, current);
        if (block.timestamp < p.eta) revert TimelockNotElapsed(id, p.eta);

        p.executed = true;

        Action[] storage actions = _actions[id];
        uint256 n = actions.length;
        for (uint256 i; i < n; ++i) {
            Action storage a = actions[i];
            address target = a.target;
            bytes memory data = a.data;
            if (data.length != 0 && target.code.length == 0) revert TargetHasNoCode(i, target);
            (bool ok, bytes memory ret) = target.call{value: a.value}(data);
            if (!ok) {
                if (ret.length == 0) revert CallFailed(i, target);
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
        emit ProposalExecuted(id, msg.sender);
    }

    /// @notice The proposer, or the committee itself through an executed proposal, withdraws a
    /// proposal that has not executed (Active, Succeeded or Queued).
    function cancel(uint256 id) external {
        Proposal storage p = _proposal(id);
        if (msg.sender != p.proposer && msg.sender != address(this)) revert CancelNotAllowed(id, msg.sender);
        ProposalState current = _state(p);
        if (current != ProposalState.Active && current != ProposalState.Succeeded && current != ProposalState.Queued) {
            revert UnexpectedProposalState(id, current);
        }
        p.canceled = true;
        emit ProposalCanceled(id, msg.sender);
    }

    // ---------------------------------------------------------------------------------------
    // Self-governed configuration (only through executed proposals)
    // ---------------------------------------------------------------------------------------

    function addMember(address member, uint96 weight) external onlySelf {
        if (_members.length >= MAX_MEMBERS) revert TooManyMembers(_members.length + 1, MAX_MEMBERS);
        _bumpVersion();
        _addMember(member, weight);
    }

    function removeMember(address member) external onlySelf {
        uint256 indexPlusOne = _memberIndex[member];
        if (indexPlusOne == 0) revert NotMember(member);
        if (_members.length == 1) revert CannotRemoveLastMember();
        _bumpVersion();
        uint96 weight = weightOf(member);
        address last = _members[_members.length - 1];
        _members[indexPlusOne - 1] = last;
        _memberIndex[last] = indexPlusOne;
        _members.pop();
        delete _memberIndex[member];
        _weights[member].push(_version, 0);
        totalWeight -= weight;
        emit MemberRemoved(member);
    }

    function setWeight(address member, uint96 weight) external onlySelf {
        if (_memberIndex[member] == 0) revert NotMember(member);
        if (weight == 0) revert ZeroWeight(member);
        _bumpVersion();
        uint96 old = weightOf(member);
        uint256 total = uint256(totalWeight) - old + weight;
        if (total > type(uint96).max) revert TotalWeightOverflow();
        totalWeight = uint96(total);
        _weights[member].push(_version, weight);
        emit MemberWeightChanged(member, old, weight);
    }

    function setRates(uint16 participationBps_, uint16 approvalBps_) external onlySelf {
        _setRates(participationBps_, approvalBps_);
    }

    function setVotingPeriod(uint32 period) external onlySelf {
        _setVotingPeriod(period);
    }

    function setTimelockDelay(uint32 delay) external onlySelf {
        _setTimelockDelay(delay);
    }

    function setGracePeriod(uint32 period) external onlySelf {
        _setGracePeriod(period);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    function state(uint256 id) external view returns (ProposalState) {
        return _state(_proposal(id));
    }

    function getProposal(uint256 id) external view returns (Proposal memory) {
        return _proposal(id);
    }

    function getActions(uint256 id)
        external
        view
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        _proposal(id);
        Action[] storage actions = _actions[id];
        uint256 n = actions.length;
        targets = new address[](n);
        values = new uint256[](n);
        calldatas = new bytes[](n);
        for (uint256 i; i < n; ++i) {
            (targets[i], values[i], calldatas[i]) = (actions[i].target, actions[i].value, actions[i].data);
        }
    }

    function hasVoted(uint256 id, address member) external view returns (bool) {
        return _voted[id][member];
    }

    /// @notice Weight a member may vote with on proposal `id` (its snapshot weight).
    function votingWeight(uint256 id, address member) external view returns (uint96) {
        return uint96(_weights[member].upperLookupRecent(_proposal(id).snapshot));
    }

    function weightOf(address member) public view returns (uint96) {
        return uint96(_weights[member].latest());
    }

    function isMember(address account) external view returns (bool) {
        return _memberIndex[account] != 0;
    }

    function members() external view returns (address[] memory) {
        return _members;
    }

    function memberCount() external view returns (uint256) {
        return _members.length;
    }

    /// @notice Membership version: bumped by every member or weight change.
    function version() external view returns (uint48) {
        return _version;
    }

    /// @notice True when some single member can pass a proposal with its own vote (always the case
    /// for a one-member committee). Such a committee is a single key: devnet only.
    function isSingleKey() external view returns (bool) {
        uint256 n = _members.length;
        for (uint256 i; i < n; ++i) {
            uint96 w = weightOf(_members[i]);
            if (passes(w, w, totalWeight, participationBps, approvalBps)) return true;
        }
        return false;
    }

    /// @notice The pass rule (see the contract documentation).
    /// @param participating for + against weight
    /// @param approving for weight
    /// @param total member weight of the snapshot
    function passes(
        uint256 participating,
        uint256 approving,
        uint256 total,
        uint256 participationRate,
        uint256 approvalRate
    ) public pure returns (bool) {
        return _meets(participating, total, participationRate) && _meets(approving, participating, approvalRate);
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    /// @dev ceil(part * BPS / whole) >= rate; for a non-zero rate, false when whole is 0.
    function _meets(uint256 part, uint256 whole, uint256 rate) private pure returns (bool) {
        return rate == 0 || part * BPS > (rate - 1) * whole;
    }

    function _proposal(uint256 id) private view returns (Proposal storage p) {
        p = _proposals[id];
        if (p.proposer == address(0)) revert UnknownProposal(id);
    }

    function _state(Proposal storage p) private view returns (ProposalState) {
        if (p.canceled) return ProposalState.Canceled;
        if (p.executed) return ProposalState.Executed;
        if (p.eta != 0) return block.timestamp > p.executeDeadline ? ProposalState.Expired : ProposalState.Queued;
        uint256 total = p.totalWeight;
        uint256 participating = uint256(p.forWeight) + p.againstWeight;
        if (passes(participating, p.forWeight, total, p.participationBps, p.approvalBps)) {
            return block.timestamp > p.queueDeadline ? ProposalState.Expired : ProposalState.Succeeded;
        }
        // Best case: every member who has not voted approves (then participation is 100%).
        if (!_meets(uint256(p.forWeight) + (total - participating), total, p.approvalBps)) {
            return ProposalState.Defeated;
        }
        if (block.timestamp > p.voteEnd) return ProposalState.Expired;
        return ProposalState.Active;
    }

    function _addMember(address member, uint96 weight) private {
        if (member == address(0) || member == address(this)) revert InvalidMember(member);
        if (weight == 0) revert ZeroWeight(member);
        if (_memberIndex[member] != 0) revert DuplicateMember(member);
        uint256 total = uint256(totalWeight) + weight;
        if (total > type(uint96).max) revert TotalWeightOverflow();
        totalWeight = uint96(total);
        _members.push(member);
        _memberIndex[member] = _members.length;
        _weights[member].push(_version, weight);
        emit MemberAdded(member, weight);
    }

    function _bumpVersion() private {
        _version += 1;
    }

    function _setRates(uint16 participationBps_, uint16 approvalBps_) private {
        if (participationBps_ < MIN_PARTICIPATION_BPS || participationBps_ > BPS) {
            revert InvalidParticipationRate(participationBps_);
        }
        if (approvalBps_ < MIN_APPROVAL_BPS || approvalBps_ > BPS) revert InvalidApprovalRate(approvalBps_);
        participationBps = participationBps_;
        approvalBps = approvalBps_;
        emit RatesChanged(participationBps_, approvalBps_);
    }

    function _setVotingPeriod(uint32 period) private {
        if (period < MIN_VOTING_PERIOD || period > MAX_VOTING_PERIOD) revert InvalidVotingPeriod(period);
        votingPeriod = period;
        emit VotingPeriodChanged(period);
    }

    function _setTimelockDelay(uint32 delay) private {
        if (delay > MAX_TIMELOCK_DELAY) revert InvalidTimelockDelay(delay);
        timelockDelay = delay;
        emit TimelockDelayChanged(delay);
    }

    function _setGracePeriod(uint32 period) private {
        if (period < MIN_GRACE_PERIOD || period > MAX_GRACE_PERIOD) revert InvalidGracePeriod(period);
        gracePeriod = period;
        emit GracePeriodChanged(period);
    }
}
