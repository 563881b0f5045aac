// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Script} from "forge-std/Script.sol";

import {BridgeRoles} from "../src/libraries/BridgeRoles.sol";
import {RouteParams} from "../src/interfaces/IZeroBridge.sol";
import {LivenessPolicy} from "../src/BridgeBase.sol";
import {RouteRegistry} from "../src/RouteRegistry.sol";
import {StakeManager} from "../src/StakeManager.sol";
import {ZeroBridge} from "../src/ZeroBridge.sol";
import {OwnedToken} from "../test/mocks/Tokens.sol";
import {ChainDeployer} from "./ChainDeployer.sol";

/// @notice Deploys staked zerobridge on two chains, stakes one operator per validator on both
/// chains, opens the demo route, lets the operators opt in to its lanes, commits the first epoch
/// (so the route's validator sets come from stake), funds holders and writes a JSON manifest
/// (`run`); then, in a second run once those transactions are mined, copies each lane's snapshot
/// to its destination, activates the route at its security level and adds the sets to the
/// manifest (`activate`). Two runs because a committed set carries its expiry (commit time plus
/// the set lifetime): the real one is known only once the commit is mined, while a script's
/// transactions are all made in its simulation first. Used by the end-to-end tests and the devnet.
///
/// Environment: HOME_RPC, REMOTE_RPC, DEPLOYER_KEY, VALIDATOR_KEYS (comma-separated private keys of
/// the validators' signing keys: devnet keys, they sign each operator's proof of possession), STAKE
/// (wei each operator bonds on each chain), HOLDERS (comma-separated, optional), MANIFEST (path
/// under contracts/deployments/). Operator keys are derived from the validator index (devnet keys,
/// written to the manifest). The deployer becomes admin and guardian: one key, so devnet only.
/// Liveness (optional): FALLBACK_KEYS (signing keys of the fallback group, the "master
/// validators", staked the same way; their sets become each route's fallback set), FALLBACK_DELAY,
/// STRIKE_LIMIT, EMERGENCY_GRACE and DEFAULT_TIMEOUT (seconds; see `LivenessPolicy`). WATCHTOWER
/// (optional): an address that gets the GUARDIAN role on both chains.
contract Deploy is Script, ChainDeployer {
    struct Side {
        uint256 fork;
        uint64 chainId;
        uint256 startBlock;
        ChainContracts c;
    }

    Side internal home;
    Side internal remote;
    uint256 internal deployerKey;
    address internal deployer;
    address[] internal signers;
    uint256[] internal signerKeys;
    uint256[] internal operatorKeys;
    uint256[] internal fallbackSignerKeys;
    uint256[] internal fallbackOperatorKeys;
    uint256 internal stake;

    /// @notice The route owner's registration bond on the devnet (slashed if the route enters
    /// Emergency).
    uint256 public constant REGISTRATION_BOND = 1 ether;

    /// @notice Devnet staking parameters (docs/security-model.md): short periods so that a whole
    /// unbonding fits a demo; the ratios are the ones a production deployment starts from.
    function devnetStakeConfig() public pure returns (StakeManager.Config memory) {
        return StakeManager.Config({
            stakingToken: address(0),
            minStake: 1 ether,
            epochLength: 120,
            unbondingPeriod: 600,
            detectionWindow: 300,
            // A day: the demo keeps running for a day without anyone committing an epoch, and an
            // operator that leaves waits at most epoch + lifetime + detection window.
            setLifetime: 1 days,
            maxValidatorsPerLane: 32,
            slashBps: 10_000,
            reporterShareBps: 1_000,
            slashCapBps: 5_000,
            slashPeriod: 1 days
        });
    }

    function run() external {
        deployerKey = vm.envUint("DEPLOYER_KEY");
        deployer = vm.addr(deployerKey);
        home.fork = vm.createFork(vm.envString("HOME_RPC"));
        remote.fork = vm.createFork(vm.envString("REMOTE_RPC"));
        // Devnet signing keys: each signs the proof of possession its operator registers with.
        signerKeys = vm.envUint("VALIDATOR_KEYS", ",");
        for (uint256 i; i < signerKeys.length; ++i) {
            signers.push(vm.addr(signerKeys[i]));
        }
        stake = vm.envUint("STAKE");
        for (uint256 i; i < signers.length; ++i) {
            operatorKeys.push(operatorKey(i));
        }
        fallbackSignerKeys = vm.envOr("FALLBACK_KEYS", ",", new uint256[](0));
        for (uint256 i; i < fallbackSignerKeys.length; ++i) {
            fallbackOperatorKeys.push(fallbackOperatorKey(i));
        }
        _deploy(home);
        _deploy(remote);
        _peer(home, remote);
        _peer(remote, home);
        _stakeOperators(home, signerKeys, operatorKeys);
        _stakeOperators(remote, signerKeys, operatorKeys);
        _stakeOperators(home, fallbackSignerKeys, fallbackOperatorKeys);
        _stakeOperators(remote, fallbackSignerKeys, fallbackOperatorKeys);
        RouteParams memory params = RouteParams({
            feeBps: 10,
            feeCollector: deployer,
            minAmount: 1,
            maxAmount: 1_000_000 ether,
            outboundCapacity: 100_000_000 ether,
            inboundCapacity: 100_000_000 ether,
            largeTransferThreshold: 500_000 ether
        });

        vm.selectFork(home.fork);
        vm.startBroadcast(deployerKey);
        OwnedToken token = new OwnedToken("Demo Token", "DEMO", 18, deployer);
        bytes32 routeId = home.c.registry.registerRoute{value: REGISTRATION_BOND}(
            address(token), remote.chainId, "Wrapped Demo", "wDEMO", params
        );
        address[] memory holders = vm.envOr("HOLDERS", ",", new address[](0));
        token.mint(deployer, 1_000_000_000 ether);
        for (uint256 i; i < holders.length; ++i) {
            token.mint(holders[i], 1_000_000 ether);
        }
        vm.stopBroadcast();
        bytes32 toRemote = home.c.bridge.getRoute(routeId).outboundLane;
        bytes32 toHome = home.c.bridge.getRoute(routeId).inboundLane;

        vm.selectFork(remote.fork);
        vm.broadcast(deployerKey);
        (, address wrapped) = remote.c.registry
            .registerRemoteRoute(deployer, home.chainId, address(token), 18, "Wrapped Demo", "wDEMO", params);

        // Each chain's stake secures the lane whose source it is; `activate` copies the sets.
        _commitFromStake(home, toRemote);
        _commitFromStake(remote, toHome);

        string memory route = "route";
        vm.serializeBytes32(route, "routeId", routeId);
        vm.serializeBytes32(route, "laneToRemote", toRemote);
        vm.serializeBytes32(route, "laneToHome", toHome);
        vm.serializeAddress(route, "homeToken", address(token));
        vm.serializeAddress(route, "wrappedToken", wrapped);
        // Filled in by `activate` from the committed snapshots.
        vm.serializeBytes(route, "validatorSetToHome", "");
        vm.serializeBytes(route, "fallbackSet", "");
        vm.serializeBytes(route, "fallbackSetToHome", "");
        string memory routeJson = vm.serializeBytes(route, "validatorSet", "");

        string memory root = "manifest";
        vm.serializeString(root, "home", _sideJson("home", home));
        vm.serializeString(root, "remote", _sideJson("remote", remote));
        vm.serializeUint(root, "operatorKeys", operatorKeys);
        vm.serializeUint(root, "fallbackOperatorKeys", fallbackOperatorKeys);
        vm.serializeUint(root, "stake", stake);
        string memory json = vm.serializeString(root, "route", routeJson);
        vm.writeJson(json, vm.envString("MANIFEST"));
    }

    /// @notice Second run, once `run`'s transactions are mined: each lane's set is read from its
    /// source chain's snapshot (with the expiry the mined commit gave it), governance copies it to
    /// the destination, the route owner sets the security level (all of the demo stake) and the
    /// route activates on both chains; the sets go into the manifest. Same environment as `run`.
    function activate() external {
        deployerKey = vm.envUint("DEPLOYER_KEY");
        stake = vm.envUint("STAKE");
        uint256 validators = vm.envUint("VALIDATOR_KEYS", ",").length;
        string memory path = vm.envString("MANIFEST");
        string memory json = vm.readFile(path);
        home.fork = vm.createFork(vm.envString("HOME_RPC"));
        remote.fork = vm.createFork(vm.envString("REMOTE_RPC"));
        _load(home, json, ".home");
        _load(remote, json, ".remote");
        bytes32 routeId = vm.parseJsonBytes32(json, ".route.routeId");
        bytes memory setToRemote = _snapshotSet(home, vm.parseJsonBytes32(json, ".route.laneToRemote"));
        bytes memory setToHome = _snapshotSet(remote, vm.parseJsonBytes32(json, ".route.laneToHome"));
        _activate(home, routeId, vm.parseJsonBytes32(json, ".route.laneToHome"), setToHome, validators);
        _activate(remote, routeId, vm.parseJsonBytes32(json, ".route.laneToRemote"), setToRemote, validators);
        vm.writeJson(string.concat('"', vm.toString(setToRemote), '"'), path, ".route.validatorSet");
        vm.writeJson(string.concat('"', vm.toString(setToHome), '"'), path, ".route.validatorSetToHome");

        LivenessPolicy memory policy = LivenessPolicy({
            defaultTimeout: uint32(vm.envOr("DEFAULT_TIMEOUT", uint256(1 days))),
            fallbackDelay: uint32(vm.envOr("FALLBACK_DELAY", uint256(120))),
            emergencyGrace: uint32(vm.envOr("EMERGENCY_GRACE", uint256(1 days))),
            strikeLimit: uint16(vm.envOr("STRIKE_LIMIT", uint256(3)))
        });
        _setLiveness(home, routeId, policy);
        _setLiveness(remote, routeId, policy);
        if (vm.envOr("FALLBACK_KEYS", ",", new uint256[](0)).length != 0) {
            bytes memory fallbackToRemote =
                _fallbackSet(home, vm.parseJsonBytes32(json, ".route.laneToRemote"));
            bytes memory fallbackToHome = _fallbackSet(remote, vm.parseJsonBytes32(json, ".route.laneToHome"));
            _installFallback(remote, routeId, fallbackToRemote);
            _installFallback(home, routeId, fallbackToHome);
            vm.writeJson(string.concat('"', vm.toString(fallbackToRemote), '"'), path, ".route.fallbackSet");
            vm.writeJson(string.concat('"', vm.toString(fallbackToHome), '"'), path, ".route.fallbackSetToHome");
        }
    }

    /// @notice Devnet operator key of validator `i` (funded by the deployer).
    function operatorKey(uint256 i) public pure returns (uint256) {
        return uint256(keccak256(abi.encode("zerobridge.devnet.operator", i))) % (SECP256K1_ORDER - 1) + 1;
    }

    /// @notice Devnet operator key of fallback validator `i` (funded by the deployer).
    function fallbackOperatorKey(uint256 i) public pure returns (uint256) {
        return uint256(keccak256(abi.encode("zerobridge.devnet.fallback-operator", i))) % (SECP256K1_ORDER - 1) + 1;
    }

    function _stakeOperators(Side storage side, uint256[] storage signingKeys, uint256[] storage opKeys) internal {
        vm.selectFork(side.fork);
        for (uint256 i; i < signingKeys.length; ++i) {
            address operator = vm.addr(opKeys[i]);
            vm.broadcast(deployerKey);
            payable(operator).transfer(stake + 10 ether);
            (uint8 v, bytes32 r, bytes32 s) =
                vm.sign(signingKeys[i], side.c.stakeManager.signerRegistrationDigest(operator));
            vm.startBroadcast(opKeys[i]);
            side.c.stakeManager.registerOperator(vm.addr(signingKeys[i]), abi.encodePacked(r, s, v));
            side.c.stakeManager.deposit{value: stake}(stake);
            vm.stopBroadcast();
        }
    }

    /// @dev Every operator allocates its whole stake to `lane` (sourced on `side`), then the
    /// first epoch is committed: the stake manager installs the set on the bridge.
    function _commitFromStake(Side storage side, bytes32 lane) internal {
        vm.selectFork(side.fork);
        for (uint256 i; i < signers.length; ++i) {
            vm.broadcast(operatorKeys[i]);
            side.c.stakeManager.optIn(lane, stake);
        }
        vm.broadcast(deployerKey);
        side.c.stakeManager.commitEpoch(lane);
        if (fallbackOperatorKeys.length == 0) return;
        for (uint256 i; i < fallbackOperatorKeys.length; ++i) {
            vm.broadcast(fallbackOperatorKeys[i]);
            side.c.stakeManager.optInFallback(lane, stake);
        }
        vm.broadcast(deployerKey);
        side.c.stakeManager.commitFallbackSet(lane);
    }

    /// @dev The fallback set of `lane` (sourced on `side`), from its fallback snapshot.
    function _fallbackSet(Side storage side, bytes32 lane) internal returns (bytes memory) {
        vm.selectFork(side.fork);
        return _snapshotSet(side, side.c.stakeManager.fallbackKey(lane));
    }

    /// @dev Governance names the fallback set of the route's inbound lane on `side`.
    function _installFallback(Side storage side, bytes32 routeId, bytes memory set) internal {
        vm.selectFork(side.fork);
        vm.broadcast(deployerKey);
        side.c.stakeManager.installFallbackSet(routeId, set);
    }

    function _setLiveness(Side storage side, bytes32 routeId, LivenessPolicy memory policy) internal {
        vm.selectFork(side.fork);
        vm.broadcast(deployerKey);
        side.c.bridge.setLivenessPolicy(routeId, policy);
    }

    /// @dev The set `lane`'s (or a fallback key's) committed snapshot on `side` encodes, as its
    /// bridge stores it.
    function _snapshotSet(Side storage side, bytes32 lane) internal returns (bytes memory set) {
        vm.selectFork(side.fork);
        StakeManager.Snapshot memory snap = side.c.stakeManager.getSnapshot(lane);
        set = abi.encodePacked(snap.threshold, snap.validUntil);
        for (uint256 i; i < snap.members.length; ++i) {
            set = abi.encodePacked(set, snap.members[i].signer, snap.members[i].weight);
        }
        require(keccak256(set) == snap.setHash, "snapshot encoding");
    }

    /// @dev Governance copies the other chain's snapshot to the inbound lane, the route owner sets
    /// the security level (all of the demo stake), and the route activates.
    function _activate(Side storage side, bytes32 routeId, bytes32 inbound, bytes memory inboundSet, uint256 validators)
        internal
    {
        vm.selectFork(side.fork);
        vm.startBroadcast(deployerKey);
        side.c.stakeManager.installInboundSet(inbound, inboundSet);
        side.c.registry.setSecurityLevel(routeId, stake * validators, uint64(validators));
        side.c.registry.activateRoute(routeId);
        vm.stopBroadcast();
    }

    /// @dev The contracts `run` deployed on `side`, from the manifest it wrote.
    function _load(Side storage side, string memory json, string memory key) internal {
        vm.selectFork(side.fork);
        side.chainId = uint64(vm.parseJsonUint(json, string.concat(key, ".chainId")));
        require(side.chainId == block.chainid, "the manifest names another chain");
        side.c.registry = RouteRegistry(vm.parseJsonAddress(json, string.concat(key, ".registry")));
        side.c.bridge = ZeroBridge(vm.parseJsonAddress(json, string.concat(key, ".bridge")));
        side.c.stakeManager = StakeManager(payable(vm.parseJsonAddress(json, string.concat(key, ".stakeManager"))));
    }

    function _deploy(Side storage side) internal {
        vm.selectFork(side.fork);
        side.chainId = uint64(block.chainid);
        side.startBlock = block.number;
        vm.startBroadcast(deployerKey);
        side.c = deployStakedChain(deployer, REGISTRATION_BOND, devnetStakeConfig());
        side.c.manager.grantRole(BridgeRoles.GUARDIAN, deployer, 0);
        // The watchtower's own key: GUARDIAN only (pause, pauseLane, freezeHold).
        address watchtower = vm.envOr("WATCHTOWER", address(0));
        if (watchtower != address(0)) side.c.manager.grantRole(BridgeRoles.GUARDIAN, watchtower, 0);
        vm.stopBroadcast();
    }

    function _peer(Side storage from, Side storage to) internal {
        vm.selectFork(from.fork);
        vm.broadcast(deployerKey);
        from.c.bridge.setPeer(to.chainId, address(to.c.bridge));
    }

    function _sideJson(string memory key, Side storage side) internal returns (string memory) {
        vm.serializeUint(key, "chainId", side.chainId);
        vm.serializeUint(key, "startBlock", side.startBlock);
        vm.serializeAddress(key, "manager", address(side.c.manager));
        vm.serializeAddress(key, "registry", address(side.c.registry));
        vm.serializeAddress(key, "stakeManager", address(side.c.stakeManager));
        return vm.serializeAddress(key, "bridge", address(side.c.bridge));
    }
}
