// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {ZeroBridge} from "../ZeroBridge.sol";
import {RouteRegistry} from "../RouteRegistry.sol";

/// @notice Which role may call which privileged function. Anything not listed stays with the
/// manager's ADMIN_ROLE, which governance holds (unpause, peers, fee policy, exit-only, liveness
/// policy, Emergency, ...).
/// Guardians can pause but never unpause: the two are mapped to different roles. The regulator
/// (freezes) and the compliance issuer (attestations) are separate keys too; `setRouteAllowlist`
/// stays with governance.
library BridgeRoles {
    uint64 internal constant GUARDIAN = 1;
    uint64 internal constant REGISTRY = 2;
    uint64 internal constant SET_MANAGER = 3;
    uint64 internal constant FEE_DISTRIBUTOR = 4;
    /// @dev Freezes and unfreezes accounts on the bridge; cannot pause, unpause or move funds.
    uint64 internal constant REGULATOR = 5;
    /// @dev Issues and revokes identity attestations for allowlist routes; nothing else.
    uint64 internal constant COMPLIANCE_ISSUER = 6;

    /// @dev Must run as the manager's admin.
    function wire(AccessManager manager, ZeroBridge bridge, RouteRegistry registry) internal {
        bytes4[] memory guardian = new bytes4[](3);
        guardian[0] = ZeroBridge.pause.selector;
        guardian[1] = ZeroBridge.pauseLane.selector;
        guardian[2] = ZeroBridge.freezeHold.selector;
        manager.setTargetFunctionRole(address(bridge), guardian, GUARDIAN);

        bytes4[] memory registryCalls = new bytes4[](4);
        registryCalls[0] = ZeroBridge.openRoute.selector;
        registryCalls[1] = ZeroBridge.activateRoute.selector;
        registryCalls[2] = ZeroBridge.setRouteFee.selector;
        registryCalls[3] = ZeroBridge.setRouteLimits.selector;
        manager.setTargetFunctionRole(address(bridge), registryCalls, REGISTRY);
        manager.grantRole(REGISTRY, address(registry), 0);

        bytes4[] memory sets = new bytes4[](4);
        sets[0] = ZeroBridge.installValidatorSet.selector;
        sets[1] = ZeroBridge.queueValidatorSetUpdate.selector;
        sets[2] = ZeroBridge.replaceExpiredSet.selector;
        sets[3] = ZeroBridge.setFallbackSet.selector;
        manager.setTargetFunctionRole(address(bridge), sets, SET_MANAGER);

        bytes4[] memory fees = new bytes4[](1);
        fees[0] = ZeroBridge.withdrawValidatorFees.selector;
        manager.setTargetFunctionRole(address(bridge), fees, FEE_DISTRIBUTOR);

        bytes4[] memory regulator = new bytes4[](2);
        regulator[0] = ZeroBridge.freeze.selector;
        regulator[1] = ZeroBridge.unfreeze.selector;
        manager.setTargetFunctionRole(address(bridge), regulator, REGULATOR);

        bytes4[] memory issuer = new bytes4[](2);
        issuer[0] = ZeroBridge.attest.selector;
        issuer[1] = ZeroBridge.revoke.selector;
        manager.setTargetFunctionRole(address(bridge), issuer, COMPLIANCE_ISSUER);

        manager.labelRole(GUARDIAN, "GUARDIAN");
        manager.labelRole(REGISTRY, "REGISTRY");
        manager.labelRole(SET_MANAGER, "SET_MANAGER");
        manager.labelRole(FEE_DISTRIBUTOR, "FEE_DISTRIBUTOR");
        manager.labelRole(REGULATOR, "REGULATOR");
        manager.labelRole(COMPLIANCE_ISSUER, "COMPLIANCE_ISSUER");
    }
}
