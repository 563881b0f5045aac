// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {ZeroBridge} from "../src/ZeroBridge.sol";
import {RouteRegistry} from "../src/RouteRegistry.sol";
import {BridgeRoles} from "../src/libraries/BridgeRoles.sol";

/// @notice Deploys one chain's contracts and wires the roles. The caller becomes the manager's
/// admin: on a devnet that is one key; a real deployment hands ADMIN_ROLE to governance.
abstract contract ChainDeployer {
    struct ChainContracts {
        AccessManager manager;
        ZeroBridge bridge;
        RouteRegistry registry;
    }

    function deployChain(address admin, uint256 registrationBond) internal returns (ChainContracts memory c) {
        c.manager = new AccessManager(admin);
        c.bridge = new ZeroBridge(address(c.manager));
        c.registry = new RouteRegistry(address(c.manager), c.bridge, registrationBond);
        BridgeRoles.wire(c.manager, c.bridge, c.registry);
    }
}
