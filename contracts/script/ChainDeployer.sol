// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {ZeroBridge} from "../src/ZeroBridge.sol";
import {RouteRegistry, ILaneSecurity} from "../src/RouteRegistry.sol";
import {StakeManager} from "../src/StakeManager.sol";
import {BridgeRoles} from "../src/libraries/BridgeRoles.sol";
import {Committee} from "../src/governance/Committee.sol";

/// @notice Deploys one chain's contracts and wires the roles. The caller becomes the manager's
/// admin: on a devnet that is one key; a real deployment hands ADMIN_ROLE to governance with
/// `handOverToCommittee`.
abstract contract ChainDeployer {
    struct ChainContracts {
        AccessManager manager;
        ZeroBridge bridge;
        RouteRegistry registry;
        StakeManager stakeManager; // zero for governance-configured validator sets
    }

    /// @dev AccessManager's ADMIN_ROLE.
    uint64 internal constant MANAGER_ADMIN_ROLE = 0;

    error HandOverFailed(address committee, address previousAdmin);

    function deployChain(address admin, uint256 registrationBond) internal returns (ChainContracts memory c) {
        c.manager = new AccessManager(admin);
        c.bridge = new ZeroBridge(address(c.manager));
        c.registry = new RouteRegistry(address(c.manager), c.bridge, registrationBond);
        BridgeRoles.wire(c.manager, c.bridge, c.registry);
    }

    /// @notice A chain whose validator sets come from stake: the stake manager is the only holder
    /// of SET_MANAGER and FEE_DISTRIBUTOR, and routes activate only at their security level.
    function deployStakedChain(address admin, uint256 registrationBond, StakeManager.Config memory config)
        internal
        returns (ChainContracts memory c)
    {
        c = deployChain(admin, registrationBond);
        c.stakeManager = new StakeManager(address(c.manager), c.bridge, config);
        c.manager.grantRole(BridgeRoles.SET_MANAGER, address(c.stakeManager), 0);
        c.manager.grantRole(BridgeRoles.FEE_DISTRIBUTOR, address(c.stakeManager), 0);
        c.registry.setStakeManager(ILaneSecurity(address(c.stakeManager)));
    }

    /// @notice Same as the three-argument form with this contract as the current admin (tests,
    /// or a deployer contract that is itself the admin).
    function handOverToCommittee(ChainContracts memory c, Committee committee) internal {
        handOverToCommittee(c, committee, address(this));
    }

    /// @notice Makes `committee` the manager's only admin: grants it ADMIN_ROLE with no execution
    /// delay (the committee's own timelock applies) and renounces `currentAdmin`'s. Must be called
    /// by `currentAdmin` (in a forge script: the broadcasting key). Grant any other role the
    /// committee should hold (e.g. SET_MANAGER) and revoke single-key holders before calling this:
    /// afterwards only committee proposals can change roles.
    function handOverToCommittee(ChainContracts memory c, Committee committee, address currentAdmin) internal {
        c.manager.grantRole(MANAGER_ADMIN_ROLE, address(committee), 0);
        c.manager.renounceRole(MANAGER_ADMIN_ROLE, currentAdmin);
        (bool committeeIsAdmin,) = c.manager.hasRole(MANAGER_ADMIN_ROLE, address(committee));
        (bool previousIsAdmin,) = c.manager.hasRole(MANAGER_ADMIN_ROLE, currentAdmin);
        if (!committeeIsAdmin || previousIsAdmin) revert HandOverFailed(address(committee), currentAdmin);
    }
}
