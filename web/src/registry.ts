// ABIs of the registration's contracts: RouteRegistry, the StakeManager, OpenZeppelin's
// AccessManager (who may call a restricted function) and Ownable tokens.
import { parseAbi, type Address } from "viem";

export const ZERO = "0x0000000000000000000000000000000000000000" as Address;

export interface RouteParams {
  feeBps: number;
  feeCollector: Address;
  minAmount: bigint;
  maxAmount: bigint;
  outboundCapacity: bigint;
  inboundCapacity: bigint;
  largeTransferThreshold: bigint;
}

export const registryAbi = parseAbi([
  "struct RouteParams { uint16 feeBps; address feeCollector; uint128 minAmount; uint128 maxAmount; uint128 outboundCapacity; uint128 inboundCapacity; uint128 largeTransferThreshold; }",
  "struct RouteRecord { address owner; address homeToken; address localToken; uint64 homeChainId; uint64 remoteChainId; uint8 decimals; bool isHome; uint256 bond; string wrappedName; string wrappedSymbol; }",
  "function registerRoute(address token, uint64 remoteChainId, string wrappedName, string wrappedSymbol, RouteParams params) payable returns (bytes32 routeId)",
  "function registerRemoteRoute(address routeOwner, uint64 homeChainId, address homeToken, uint8 decimals, string wrappedName, string wrappedSymbol, RouteParams params) returns (bytes32 routeId, address wrapped)",
  "function registrationBond() view returns (uint256)",
  "function getRoute(bytes32 routeId) view returns (RouteRecord)",
  "function securityLevels(bytes32 routeId) view returns (uint256 minTotalStake, uint64 minValidators)",
  "function setSecurityLevel(bytes32 routeId, uint256 minTotalStake, uint64 minValidators)",
  "function activateRoute(bytes32 routeId)",
  "function stakeManager() view returns (address)",
]);

export const stakeAbi = parseAbi([
  "struct Member { address operator; address signer; uint96 weight; }",
  "struct Snapshot { bool committed; uint64 epoch; uint64 validUntil; uint96 threshold; uint96 totalWeight; bytes32 setHash; Member[] members; }",
  "function candidates(bytes32 lane) view returns (address[])",
  "function getSnapshot(bytes32 lane) view returns (Snapshot)",
  "function commitEpoch(bytes32 lane) returns (bytes32 setHash)",
  "function installInboundSet(bytes32 lane, bytes validatorSet)",
  "function stakingToken() view returns (address)",
]);

export const accessAbi = parseAbi([
  "function authority() view returns (address)",
  "function canCall(address caller, address target, bytes4 selector) view returns (bool immediate, uint32 delay)",
]);

export const ownableAbi = parseAbi(["function owner() view returns (address)"]);
