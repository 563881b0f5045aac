// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Script} from "forge-std/Script.sol";

import {BridgeRoles} from "../src/libraries/BridgeRoles.sol";
import {RouteParams} from "../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../test/mocks/Tokens.sol";
import {ChainDeployer} from "./ChainDeployer.sol";

/// @notice Deploys zerobridge on two chains, opens and activates a demo route, funds holders and
/// writes a JSON manifest. Used by the end-to-end tests and the devnet.
///
/// Environment: HOME_RPC, REMOTE_RPC, DEPLOYER_KEY, VALIDATORS (comma-separated signer addresses,
/// weight 1 each), THRESHOLD, HOLDERS (comma-separated, optional), MANIFEST (path under
/// contracts/deployments/). The deployer becomes admin, guardian and set manager: one key, so
/// devnet only.
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

    function run() external {
        deployerKey = vm.envUint("DEPLOYER_KEY");
        deployer = vm.addr(deployerKey);
        home.fork = vm.createFork(vm.envString("HOME_RPC"));
        remote.fork = vm.createFork(vm.envString("REMOTE_RPC"));
        _deploy(home);
        _deploy(remote);
        _peer(home, remote);
        _peer(remote, home);

        bytes memory set = _validatorSet(vm.envAddress("VALIDATORS", ","), uint96(vm.envUint("THRESHOLD")));
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
        bytes32 routeId = home.c.registry.registerRoute(address(token), remote.chainId, "Wrapped Demo", "wDEMO", params);
        bytes32 toRemote = home.c.bridge.getRoute(routeId).outboundLane;
        bytes32 toHome = home.c.bridge.getRoute(routeId).inboundLane;
        home.c.bridge.installValidatorSet(toRemote, set);
        home.c.bridge.installValidatorSet(toHome, set);
        home.c.registry.activateRoute(routeId);
        address[] memory holders = vm.envOr("HOLDERS", ",", new address[](0));
        token.mint(deployer, 1_000_000_000 ether);
        for (uint256 i; i < holders.length; ++i) {
            token.mint(holders[i], 1_000_000 ether);
        }
        vm.stopBroadcast();

        vm.selectFork(remote.fork);
        vm.startBroadcast(deployerKey);
        (, address wrapped) =
            remote.c.registry.registerRemoteRoute(deployer, home.chainId, address(token), 18, "Wrapped Demo", "wDEMO", params);
        remote.c.bridge.installValidatorSet(toRemote, set);
        remote.c.bridge.installValidatorSet(toHome, set);
        remote.c.registry.activateRoute(routeId);
        vm.stopBroadcast();

        string memory route = "route";
        vm.serializeBytes32(route, "routeId", routeId);
        vm.serializeBytes32(route, "laneToRemote", toRemote);
        vm.serializeBytes32(route, "laneToHome", toHome);
        vm.serializeAddress(route, "homeToken", address(token));
        vm.serializeAddress(route, "wrappedToken", wrapped);
        string memory routeJson = vm.serializeBytes(route, "validatorSet", set);

        string memory root = "manifest";
        vm.serializeString(root, "home", _sideJson("home", home));
        vm.serializeString(root, "remote", _sideJson("remote", remote));
        string memory json = vm.serializeString(root, "route", routeJson);
        vm.writeJson(json, vm.envString("MANIFEST"));
    }

    function _deploy(Side storage side) internal {
        vm.selectFork(side.fork);
        side.chainId = uint64(block.chainid);
        side.startBlock = block.number;
        vm.startBroadcast(deployerKey);
        side.c = deployChain(deployer, 0);
        side.c.manager.grantRole(BridgeRoles.SET_MANAGER, deployer, 0);
        side.c.manager.grantRole(BridgeRoles.GUARDIAN, deployer, 0);
        side.c.manager.grantRole(BridgeRoles.FEE_DISTRIBUTOR, deployer, 0);
        vm.stopBroadcast();
    }

    function _peer(Side storage from, Side storage to) internal {
        vm.selectFork(from.fork);
        vm.broadcast(deployerKey);
        from.c.bridge.setPeer(to.chainId, address(to.c.bridge));
    }

    /// @dev Encodes weight-1 members sorted by address, as ValidatorSetLib expects.
    function _validatorSet(address[] memory members, uint96 threshold) internal pure returns (bytes memory out) {
        for (uint256 i = 1; i < members.length; ++i) {
            for (uint256 j = i; j > 0 && members[j - 1] > members[j]; --j) {
                (members[j - 1], members[j]) = (members[j], members[j - 1]);
            }
        }
        out = abi.encodePacked(threshold);
        for (uint256 i; i < members.length; ++i) {
            out = abi.encodePacked(out, members[i], uint96(1));
        }
    }

    function _sideJson(string memory key, Side storage side) internal returns (string memory) {
        vm.serializeUint(key, "chainId", side.chainId);
        vm.serializeUint(key, "startBlock", side.startBlock);
        vm.serializeAddress(key, "manager", address(side.c.manager));
        vm.serializeAddress(key, "registry", address(side.c.registry));
        return vm.serializeAddress(key, "bridge", address(side.c.bridge));
    }
}
