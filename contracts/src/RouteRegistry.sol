// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {RouteParams, RouteStatus} from "./interfaces/IZeroBridge.sol";
import {LaneCodec} from "./libraries/LaneCodec.sol";
import {WrappedToken} from "./WrappedToken.sol";
import {ZeroBridge} from "./ZeroBridge.sol";

interface IOwnable {
    function owner() external view returns (address);
}

/// @notice What the registry needs from the stake manager (StakeManager.laneSecurity).
interface ILaneSecurity {
    function laneSecurity(bytes32 lane)
        external
        view
        returns (uint256 totalStake, uint256 validators, uint256 quorumLoss);

    function fundCompensation(bytes32 lane) external payable;
}

/// @title RouteRegistry (bridge manager)
/// @notice Registers routes on one chain and owns their configuration on the bridge.
///
/// Home chain: the token's `owner()` registers (or governance does on its behalf), paying the
/// registration bond and choosing the wrapped name and symbol. Remote chain: the registration is
/// replayed by governance, which deploys the wrapped token with the canonical decimals. Routes
/// start Pending; `activateRoute` makes them Active once both lanes have validator sets (and, in
/// consortium mode, once governance has approved the route on this chain).
contract RouteRegistry is AccessManaged, ReentrancyGuardTransient {
    struct RouteRecord {
        address owner;
        address homeToken;
        address localToken; // homeToken on the home chain, the wrapped token on the remote
        uint64 homeChainId;
        uint64 remoteChainId; // the chain on the other side, seen from this chain
        uint8 decimals;
        bool isHome;
        uint256 bond;
        string wrappedName;
        string wrappedSymbol;
    }

    struct SecurityLevel {
        uint256 minTotalStake;
        uint64 minValidators;
    }

    ZeroBridge public immutable bridge;
    uint256 public registrationBond;
    /// @notice Consortium deployments: a new route stays Pending until governance approves it
    /// (the "pre-release" state of a new asset). Permissionless deployments leave it off.
    bool public consortiumMode;
    mapping(bytes32 routeId => bool) public approved;
    /// @notice Staked deployments: this chain's stake manager. While it is set, a route activates
    /// only when the stake snapshot of its outbound lane meets the route's security level.
    ILaneSecurity public stakeManager;
    /// @notice Route owner's security level for the route's outbound lane on this chain.
    mapping(bytes32 routeId => SecurityLevel) public securityLevels;
    mapping(bytes32 routeId => RouteRecord) internal _routes;
    bytes32[] internal _routeIds;

    event RouteRegistered(
        bytes32 indexed routeId,
        address indexed owner,
        address indexed homeToken,
        uint64 homeChainId,
        uint64 remoteChainId,
        uint8 decimals,
        string wrappedName,
        string wrappedSymbol,
        uint256 bond
    );
    event RemoteRouteRegistered(bytes32 indexed routeId, address indexed wrappedToken, address owner);
    event RouteOwnerTransferred(bytes32 indexed routeId, address indexed newOwner);
    event RegistrationBondSet(uint256 amount);
    event BondSlashed(bytes32 indexed routeId, address indexed to, uint256 amount);
    event BondReturned(bytes32 indexed routeId, address indexed to, uint256 amount);
    event ConsortiumModeSet(bool enabled);
    event RouteApproved(bytes32 indexed routeId);
    event StakeManagerSet(address stakeManager);
    event SecurityLevelSet(bytes32 indexed routeId, uint256 minTotalStake, uint64 minValidators);

    error NotTokenOwner(address caller, address token);
    error NotRouteOwner(address caller, bytes32 routeId);
    error TokenHasNoCode(address token);
    error WrongBond(uint256 sent, uint256 required);
    error RouteNotInEmergency(bytes32 routeId);
    error NoCompensationPool();
    error NoBond(bytes32 routeId);
    error RouteAlreadyRegistered(bytes32 routeId);
    error UnknownRoute(bytes32 routeId);
    error SameChain();
    error EmptyName();
    error RouteNotApproved(bytes32 routeId);
    error SecurityLevelNotMet(uint256 stake, uint256 minStake, uint256 validators, uint256 minValidators);

    constructor(address authority, ZeroBridge bridge_, uint256 registrationBond_) AccessManaged(authority) {
        bridge = bridge_;
        registrationBond = registrationBond_;
    }

    /// @notice Home chain, by the token's owner: registers `token` for bridging to `remoteChainId`.
    function registerRoute(
        address token,
        uint64 remoteChainId,
        string calldata wrappedName,
        string calldata wrappedSymbol,
        RouteParams calldata params
    ) external payable nonReentrant returns (bytes32 routeId) {
        if (token.code.length == 0) revert TokenHasNoCode(token);
        address tokenOwner;
        try IOwnable(token).owner() returns (address o) {
            tokenOwner = o;
        } catch {
            revert NotTokenOwner(msg.sender, token);
        }
        if (tokenOwner != msg.sender) revert NotTokenOwner(msg.sender, token);
        if (msg.value != registrationBond) revert WrongBond(msg.value, registrationBond);
        return _registerHome(msg.sender, token, remoteChainId, wrappedName, wrappedSymbol, params, msg.value);
    }

    /// @notice Home chain, by governance: registers on behalf of `routeOwner` (no bond).
    function registerRouteFor(
        address routeOwner,
        address token,
        uint64 remoteChainId,
        string calldata wrappedName,
        string calldata wrappedSymbol,
        RouteParams calldata params
    ) external restricted returns (bytes32) {
        if (token.code.length == 0) revert TokenHasNoCode(token);
        return _registerHome(routeOwner, token, remoteChainId, wrappedName, wrappedSymbol, params, 0);
    }

    /// @notice Remote chain, by governance: replays a home registration and deploys the wrapped
    /// token (CREATE2, salted by the route id) with the canonical token's decimals.
    function registerRemoteRoute(
        address routeOwner,
        uint64 homeChainId,
        address homeToken,
        uint8 decimals,
        string calldata wrappedName,
        string calldata wrappedSymbol,
        RouteParams calldata params
    ) external restricted returns (bytes32 routeId, address wrapped) {
        if (homeChainId == block.chainid) revert SameChain();
        if (bytes(wrappedName).length == 0 || bytes(wrappedSymbol).length == 0) revert EmptyName();
        routeId = LaneCodec.routeId(homeChainId, homeToken, uint64(block.chainid));
        if (_routes[routeId].owner != address(0)) revert RouteAlreadyRegistered(routeId);
        wrapped =
            address(new WrappedToken{salt: routeId}(wrappedName, wrappedSymbol, decimals, address(bridge), routeId));
        _routes[routeId] = RouteRecord({
            owner: routeOwner,
            homeToken: homeToken,
            localToken: wrapped,
            homeChainId: homeChainId,
            remoteChainId: homeChainId,
            decimals: decimals,
            isHome: false,
            bond: 0,
            wrappedName: wrappedName,
            wrappedSymbol: wrappedSymbol
        });
        _routeIds.push(routeId);
        emit RemoteRouteRegistered(routeId, wrapped, routeOwner);
        bridge.openRoute(routeId, wrapped, false, homeChainId, params);
    }

    /// @notice Anyone: activates a Pending route once the bridge has validator sets for both lanes,
    /// the outbound lane's stake meets the route's security level (staked deployments) and, in
    /// consortium mode, governance has approved it.
    function activateRoute(bytes32 routeId) external {
        if (_routes[routeId].owner == address(0)) revert UnknownRoute(routeId);
        if (consortiumMode && !approved[routeId]) revert RouteNotApproved(routeId);
        if (address(stakeManager) != address(0)) {
            SecurityLevel memory level = securityLevels[routeId];
            (uint256 stake, uint256 validators,) = stakeManager.laneSecurity(bridge.getRoute(routeId).outboundLane);
            uint256 minValidators = level.minValidators == 0 ? 1 : level.minValidators;
            if (stake < level.minTotalStake || validators < minValidators) {
                revert SecurityLevelNotMet(stake, level.minTotalStake, validators, minValidators);
            }
        }
        bridge.activateRoute(routeId);
    }

    /// @notice Route owner: the least total stake and number of validators its outbound lane on
    /// this chain must have before the route activates.
    function setSecurityLevel(bytes32 routeId, uint256 minTotalStake, uint64 minValidators) external {
        _onlyRouteOwner(routeId);
        securityLevels[routeId] = SecurityLevel({minTotalStake: minTotalStake, minValidators: minValidators});
        emit SecurityLevelSet(routeId, minTotalStake, minValidators);
    }

    /// @notice Governance: switch to stake-based validator sets (address(0): governance-configured sets).
    function setStakeManager(ILaneSecurity stakeManager_) external restricted {
        stakeManager = stakeManager_;
        emit StakeManagerSet(address(stakeManager_));
    }

    /// @notice Governance: switch consortium mode (committee approval before activation).
    function setConsortiumMode(bool enabled) external restricted {
        consortiumMode = enabled;
        emit ConsortiumModeSet(enabled);
    }

    /// @notice Governance: approve a registered route for activation in consortium mode.
    function approveRoute(bytes32 routeId) external restricted {
        if (_routes[routeId].owner == address(0)) revert UnknownRoute(routeId);
        approved[routeId] = true;
        emit RouteApproved(routeId);
    }

    /// @notice Route owner: fee, capped by governance's maximum on the bridge.
    function setFee(bytes32 routeId, uint16 feeBps, address feeCollector) external {
        _onlyRouteOwner(routeId);
        bridge.setRouteFee(routeId, feeBps, feeCollector);
    }

    /// @notice Route owner: minimum, maximum, rate limits and hold threshold.
    function setLimits(bytes32 routeId, RouteParams calldata params) external {
        _onlyRouteOwner(routeId);
        bridge.setRouteLimits(routeId, params);
    }

    function transferRouteOwnership(bytes32 routeId, address newOwner) external {
        _onlyRouteOwner(routeId);
        if (newOwner == address(0)) revert NotRouteOwner(newOwner, routeId);
        _routes[routeId].owner = newOwner;
        emit RouteOwnerTransferred(routeId, newOwner);
    }

    function setRegistrationBond(uint256 amount) external restricted {
        registrationBond = amount;
        emit RegistrationBondSet(amount);
    }

    /// @notice Governance: slash the bond of an abandoned route.
    function slashBond(bytes32 routeId, address payable to) external restricted nonReentrant {
        uint256 amount = _takeBond(routeId);
        emit BondSlashed(routeId, to, amount);
        Address.sendValue(to, amount);
    }

    /// @notice Anyone, once the route is in Emergency on this chain (its primary validators
    /// failed): the owner's bond goes to the compensation pool of the route's outbound lane.
    function slashEmergencyBond(bytes32 routeId) external nonReentrant {
        bytes32 lane = bridge.getRoute(routeId).outboundLane;
        (, RouteStatus status,,,) = bridge.laneSummary(lane);
        if (status != RouteStatus.Emergency) revert RouteNotInEmergency(routeId);
        if (address(stakeManager) == address(0)) revert NoCompensationPool();
        uint256 amount = _takeBond(routeId);
        if (amount == 0) revert NoBond(routeId);
        emit BondSlashed(routeId, address(stakeManager), amount);
        stakeManager.fundCompensation{value: amount}(lane);
    }

    /// @notice Governance: return the bond, e.g. after an orderly wind-down (exit-only).
    function returnBond(bytes32 routeId) external restricted nonReentrant {
        uint256 amount = _takeBond(routeId);
        address payable to = payable(_routes[routeId].owner);
        emit BondReturned(routeId, to, amount);
        Address.sendValue(to, amount);
    }

    function getRoute(bytes32 routeId) external view returns (RouteRecord memory) {
        return _routes[routeId];
    }

    function routeIds() external view returns (bytes32[] memory) {
        return _routeIds;
    }

    function _registerHome(
        address routeOwner,
        address token,
        uint64 remoteChainId,
        string calldata wrappedName,
        string calldata wrappedSymbol,
        RouteParams calldata params,
        uint256 bond
    ) internal returns (bytes32 routeId) {
        if (remoteChainId == block.chainid) revert SameChain();
        if (bytes(wrappedName).length == 0 || bytes(wrappedSymbol).length == 0) revert EmptyName();
        routeId = LaneCodec.routeId(uint64(block.chainid), token, remoteChainId);
        if (_routes[routeId].owner != address(0)) revert RouteAlreadyRegistered(routeId);
        uint8 decimals = IERC20Metadata(token).decimals();
        _routes[routeId] = RouteRecord({
            owner: routeOwner,
            homeToken: token,
            localToken: token,
            homeChainId: uint64(block.chainid),
            remoteChainId: remoteChainId,
            decimals: decimals,
            isHome: true,
            bond: bond,
            wrappedName: wrappedName,
            wrappedSymbol: wrappedSymbol
        });
        _routeIds.push(routeId);
        emit RouteRegistered(
            routeId, routeOwner, token, uint64(block.chainid), remoteChainId, decimals, wrappedName, wrappedSymbol, bond
        );
        bridge.openRoute(routeId, token, true, remoteChainId, params);
    }

    function _takeBond(bytes32 routeId) internal returns (uint256 amount) {
        RouteRecord storage record = _routes[routeId];
        if (record.owner == address(0)) revert UnknownRoute(routeId);
        amount = record.bond;
        record.bond = 0;
    }

    function _onlyRouteOwner(bytes32 routeId) internal view {
        if (_routes[routeId].owner != msg.sender) revert NotRouteOwner(msg.sender, routeId);
    }
}
