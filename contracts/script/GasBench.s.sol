// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Script} from "forge-std/Script.sol";
import {Vm} from "forge-std/Vm.sol";

import {ZeroBridge} from "../src/ZeroBridge.sol";
import {BridgeRoles} from "../src/libraries/BridgeRoles.sol";
import {Message, Checkpoint, RouteParams, IZeroBridgeEvents} from "../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../test/mocks/Tokens.sol";
import {ValidatorKit} from "../test/utils/ValidatorKit.sol";
import {ChainDeployer} from "./ChainDeployer.sol";

/// @notice Gas benchmark on two real anvil chains. Broadcasts real transactions, whose receipts'
/// gasUsed (base cost and calldata included) scripts/bench-gas.sh turns into a table.
///
/// For each validator set (1 of 1, 3 of 5, 7 of 10, 13 of 19) it opens a route, then measures:
/// source `send` (lock on home, burn on remote), destination `deliver` of 1 message and of
/// batches of 10 and 50 (mint on remote, release on home). Every recipient is a fresh address,
/// the worst case (a new balance slot per transfer). Labels of the measured transactions are
/// written to bench/gas-plan.json in broadcast order ("warmup" ones are not reported).
contract GasBench is Script, ValidatorKit, ChainDeployer {
    uint64 internal constant HOME = 1;
    uint64 internal constant REMOTE = 56;
    uint256 internal constant PER_CONFIG = 61; // 10 + 1 + 50

    struct Side {
        uint256 fork;
        uint64 chainId;
        ChainContracts c;
    }

    Side internal home;
    Side internal remote;
    uint256 internal deployerKey;
    uint256 internal holderKey;
    address internal holder;

    string[] internal labels;
    uint64[] internal labelChains;
    mapping(bytes32 lane => Message[]) internal sent;
    mapping(bytes32 lane => bytes32[]) internal accs;

    function run() external {
        deployerKey = vm.envUint("DEPLOYER_KEY");
        holderKey = vm.envUint("HOLDER_KEY");
        holder = vm.addr(holderKey);
        home = Side(vm.createFork(vm.envString("HOME_RPC")), HOME, _emptyContracts());
        remote = Side(vm.createFork(vm.envString("REMOTE_RPC")), REMOTE, _emptyContracts());

        _deploy(home);
        _deploy(remote);
        _peer(home, remote);
        _peer(remote, home);

        uint96[] memory threeOfFive = new uint96[](5);
        (threeOfFive[0], threeOfFive[1], threeOfFive[2], threeOfFive[3], threeOfFive[4]) = (3, 3, 3, 1, 1);
        _benchConfig("1of1", makeSet("bench-1", 1, 1));
        // 3 signatures of 5 members: weights 3,3,3,1,1 (total 11), threshold 8 >= 2/3 of 11.
        _benchConfig("3of5", _heavyFirst(makeWeightedSet("bench-5", threeOfFive, 8)));
        _benchConfig("7of10", makeSet("bench-10", 10, 7));
        _benchConfig("13of19", makeSet("bench-19", 19, 13));

        _writePlan();
    }

    function _emptyContracts() internal pure returns (ChainContracts memory c) {}

    function _deploy(Side storage side) internal {
        vm.selectFork(side.fork);
        address deployer = vm.addr(deployerKey);
        vm.startBroadcast(deployerKey);
        side.c = deployChain(deployer, 0);
        side.c.manager.grantRole(BridgeRoles.SET_MANAGER, deployer, 0);
        vm.stopBroadcast();
    }

    function _peer(Side storage from, Side storage to) internal {
        vm.selectFork(from.fork);
        vm.broadcast(deployerKey);
        from.c.bridge.setPeer(to.chainId, address(to.c.bridge));
    }

    /// @dev quorumSignatures takes members in index order; put the heavy members first so that
    /// exactly three signatures reach the threshold.
    function _heavyFirst(ValidatorSet memory set) internal pure returns (ValidatorSet memory) {
        // Sorting by address fixes the member order; re-weight so indices 0..2 carry weight 3.
        for (uint256 i; i < set.weights.length; ++i) {
            set.weights[i] = i < 3 ? 3 : 1;
        }
        return set;
    }

    function _benchConfig(string memory name, ValidatorSet memory set) internal {
        (bytes32 toRemote, bytes32 toHome) = _openRoute(name, set);

        // Holder funds itself on remote first (warm-up, not measured).
        _send(home, toRemote, holder, PER_CONFIG * 10 ether, "warmup");
        _deliver(remote, toRemote, set, 1, "warmup");

        for (uint256 i; i < PER_CONFIG; ++i) {
            _send(home, toRemote, _fresh(name, "mint", i), 1 ether, string.concat("send-lock/", name));
        }
        _deliverRuns(remote, toRemote, set, string.concat("deliver-mint/", name));

        for (uint256 i; i < PER_CONFIG; ++i) {
            _send(remote, toHome, _fresh(name, "release", i), 1 ether, string.concat("send-burn/", name));
        }
        _deliverRuns(home, toHome, set, string.concat("deliver-release/", name));
    }

    /// @dev Batch of 10 first (the lane's first delivery of real transfers), then a single
    /// transfer and a batch of 50, both in steady state.
    function _deliverRuns(Side storage dst, bytes32 lane, ValidatorSet memory set, string memory label) internal {
        _deliver(dst, lane, set, 10, string.concat(label, "/batch10"));
        _deliver(dst, lane, set, 1, string.concat(label, "/single"));
        _deliver(dst, lane, set, 50, string.concat(label, "/batch50"));
    }

    function _openRoute(string memory name, ValidatorSet memory set)
        internal
        returns (bytes32 toRemote, bytes32 toHome)
    {
        address deployer = vm.addr(deployerKey);
        RouteParams memory params = RouteParams({
            feeBps: 10,
            feeCollector: deployer,
            minAmount: 1,
            maxAmount: type(uint128).max / 4,
            outboundCapacity: type(uint128).max / 2,
            inboundCapacity: type(uint128).max / 2,
            largeTransferThreshold: 0
        });
        bytes memory encoded = encodeSet(set);

        vm.selectFork(home.fork);
        vm.startBroadcast(deployerKey);
        OwnedToken token = new OwnedToken(string.concat("Bench ", name), name, 18, deployer);
        address canonical = address(token);
        bytes32 routeId = home.c.registry.registerRoute(canonical, REMOTE, "Wrapped Bench", "wBENCH", params);
        toRemote = home.c.bridge.getRoute(routeId).outboundLane;
        toHome = home.c.bridge.getRoute(routeId).inboundLane;
        home.c.bridge.installValidatorSet(toRemote, encoded);
        home.c.bridge.installValidatorSet(toHome, encoded);
        home.c.registry.activateRoute(routeId);
        token.mint(holder, 1_000_000 ether);
        vm.stopBroadcast();
        vm.broadcast(holderKey);
        token.approve(address(home.c.bridge), 1_000_000 ether);

        vm.selectFork(remote.fork);
        vm.startBroadcast(deployerKey);
        remote.c.registry.registerRemoteRoute(deployer, HOME, canonical, 18, "Wrapped Bench", "wBENCH", params);
        remote.c.bridge.installValidatorSet(toRemote, encoded);
        remote.c.bridge.installValidatorSet(toHome, encoded);
        remote.c.registry.activateRoute(routeId);
        vm.stopBroadcast();
    }

    function _send(Side storage src, bytes32 lane, address to, uint256 amount, string memory label) internal {
        vm.selectFork(src.fork);
        vm.recordLogs();
        vm.broadcast(holderKey);
        src.c.bridge.send(lane, to, amount, 0);
        _capture(vm.getRecordedLogs());
        _label(label, src.chainId);
    }

    function _capture(Vm.Log[] memory logs) internal {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics.length == 0 || logs[i].topics[0] != IZeroBridgeEvents.MessageSent.selector) continue;
            (Message memory m, bytes32 acc) = abi.decode(logs[i].data, (Message, bytes32));
            sent[logs[i].topics[1]].push(m);
            accs[logs[i].topics[1]].push(acc);
        }
    }

    function _deliver(Side storage dst, bytes32 lane, ValidatorSet memory set, uint64 count, string memory label)
        internal
    {
        vm.selectFork(dst.fork);
        uint64 from = dst.c.bridge.getLane(lane).sequence;
        uint64 to = from + count;
        Message[] memory batch = new Message[](count);
        for (uint64 i; i < count; ++i) {
            batch[i] = sent[lane][from + i];
        }
        Checkpoint memory cp = Checkpoint({lane: lane, sequence: to, accumulator: accs[lane][to - 1]});
        Side storage src = dst.chainId == HOME ? remote : home;
        bytes memory sigs = quorumSignatures(set, digestOf(domainOf(src.chainId, address(src.c.bridge)), cp));
        vm.broadcast(deployerKey);
        dst.c.bridge.deliver(cp, encodeSet(set), sigs, batch);
        _label(label, dst.chainId);
    }

    function _label(string memory label, uint64 chainId) internal {
        labels.push(label);
        labelChains.push(chainId);
    }

    function _fresh(string memory name, string memory kind, uint256 i) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode(name, kind, i)))));
    }

    function _writePlan() internal {
        string memory obj = "plan";
        vm.serializeString(obj, "labels", labels);
        uint256[] memory chains = new uint256[](labelChains.length);
        for (uint256 i; i < chains.length; ++i) {
            chains[i] = labelChains[i];
        }
        string memory json = vm.serializeUint(obj, "chains", chains);
        vm.writeJson(json, "bench/gas-plan.json");
    }
}
