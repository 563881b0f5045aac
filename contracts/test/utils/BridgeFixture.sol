// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "forge-std/Test.sol";
import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {RouteRegistry} from "../../src/RouteRegistry.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {BridgeRoles} from "../../src/libraries/BridgeRoles.sol";
import {Message, Checkpoint, RouteParams, IZeroBridgeEvents, IZeroBridgeErrors} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";
import {ValidatorKit} from "./ValidatorKit.sol";
import {ChainDeployer} from "../../script/ChainDeployer.sol";

/// @notice Two bridge deployments in one EVM acting as two chains ("home" with chain id 1 and
/// "remote" with chain id 56): every call is made with the chain id of the contract it targets.
/// Validators are real secp256k1 keys; the test relayer reads MessageSent logs like the real one
/// and recomputes accumulators and EIP-712 digests independently of the contracts.
abstract contract BridgeFixture is Test, ValidatorKit, ChainDeployer, IZeroBridgeEvents, IZeroBridgeErrors {
    uint64 internal constant HOME = 1;
    uint64 internal constant REMOTE = 56;
    uint256 internal constant UNIT = 1e18;

    struct Deployment {
        uint64 chainId;
        AccessManager manager;
        ZeroBridge bridge;
        RouteRegistry registry;
    }


    Deployment internal home;
    Deployment internal remote;
    OwnedToken internal token;
    WrappedToken internal wrapped;
    bytes32 internal routeId;
    bytes32 internal toRemote; // home -> remote lane (lock, mint)
    bytes32 internal toHome; // remote -> home lane (burn, release)

    address internal governance = address(this);
    address internal tokenOwner = makeAddr("tokenOwner");
    address internal guardian = makeAddr("guardian");
    address internal setManager = makeAddr("setManager");
    address internal collector = makeAddr("collector");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    mapping(bytes32 lane => ValidatorSet) internal _sets;
    mapping(bytes32 lane => Message[]) internal _sent;
    mapping(bytes32 lane => bytes32[]) internal _accs; // _accs[lane][i] = accumulator after i+1 messages
    mapping(bytes32 lane => bool) internal _laneFromHome;

    function setUp() public virtual {
        home = _deployChain(HOME);
        remote = _deployChain(REMOTE);
        _connect(home, remote);
        _connect(remote, home);
        vm.chainId(HOME);
        token = new OwnedToken("Demo Token", "DEMO", 18, tokenOwner);
        (routeId, wrapped) = _openRoute(address(token), defaultParams());
        toRemote = home.bridge.getRoute(routeId).outboundLane;
        toHome = home.bridge.getRoute(routeId).inboundLane;
        _installAndActivate(routeId, makeSet("validators", 4, 3));
        vm.recordLogs();
        token.mint(alice, 1_000_000 * UNIT);
    }

    // ---------------------------------------------------------------------------------------
    // Deployment
    // ---------------------------------------------------------------------------------------

    function _deployChain(uint64 chainId) internal returns (Deployment memory c) {
        vm.chainId(chainId);
        c.chainId = chainId;
        ChainContracts memory deployed = deployChain(governance, 1 ether);
        (c.manager, c.bridge, c.registry) = (deployed.manager, deployed.bridge, deployed.registry);
        c.manager.grantRole(BridgeRoles.GUARDIAN, guardian, 0);
        c.manager.grantRole(BridgeRoles.SET_MANAGER, setManager, 0);
        c.manager.grantRole(BridgeRoles.FEE_DISTRIBUTOR, governance, 0);
    }

    function _connect(Deployment memory from, Deployment memory to) internal {
        vm.chainId(from.chainId);
        from.bridge.setPeer(to.chainId, address(to.bridge));
    }

    function defaultParams() internal view returns (RouteParams memory) {
        return RouteParams({
            feeBps: 10,
            feeCollector: collector,
            minAmount: 1,
            maxAmount: uint128(100_000 * UNIT),
            outboundCapacity: uint128(1_000_000 * UNIT),
            inboundCapacity: uint128(1_000_000 * UNIT),
            largeTransferThreshold: uint128(50_000 * UNIT)
        });
    }

    /// @dev The token owner registers on home; governance replays it on remote.
    function _openRoute(address canonical, RouteParams memory params)
        internal
        returns (bytes32 id, WrappedToken w)
    {
        vm.chainId(HOME);
        vm.deal(tokenOwner, 10 ether);
        vm.prank(tokenOwner);
        id = home.registry.registerRoute{value: 1 ether}(canonical, REMOTE, "Wrapped Demo", "wDEMO", params);
        vm.chainId(REMOTE);
        (, address wAddr) = remote.registry.registerRemoteRoute(tokenOwner, HOME, canonical, 18, "Wrapped Demo", "wDEMO", params);
        w = WrappedToken(wAddr);
        bytes32 out = home.bridge.getRoute(id).outboundLane;
        bytes32 back = home.bridge.getRoute(id).inboundLane;
        _laneFromHome[out] = true;
        _laneFromHome[back] = false;
    }

    function _installAndActivate(bytes32 id, ValidatorSet memory set) internal {
        bytes32 out = home.bridge.getRoute(id).outboundLane;
        bytes32 back = home.bridge.getRoute(id).inboundLane;
        _installSet(out, set);
        _installSet(back, set);
        vm.chainId(HOME);
        home.registry.activateRoute(id);
        vm.chainId(REMOTE);
        remote.registry.activateRoute(id);
    }

    /// @dev A lane's set lives on both ends: the source (for evidence) and the destination.
    function _installSet(bytes32 lane, ValidatorSet memory set) internal {
        _storeSet(lane, set);
        bytes memory encoded = encodeSet(set);
        vm.chainId(HOME);
        vm.prank(setManager);
        home.bridge.installValidatorSet(lane, encoded);
        vm.chainId(REMOTE);
        vm.prank(setManager);
        remote.bridge.installValidatorSet(lane, encoded);
    }

    function _storeSet(bytes32 lane, ValidatorSet memory set) internal {
        delete _sets[lane];
        ValidatorSet storage s = _sets[lane];
        for (uint256 i; i < set.keys.length; ++i) {
            s.keys.push(set.keys[i]);
            s.members.push(set.members[i]);
            s.weights.push(set.weights[i]);
        }
        s.threshold = set.threshold;
        s.validUntil = set.validUntil;
    }

    function currentSet(bytes32 lane) internal view returns (ValidatorSet memory) {
        return _sets[lane];
    }

    function sourceDomain(bytes32 lane) internal view returns (bytes32) {
        return _laneFromHome[lane] ? domainOf(HOME, address(home.bridge)) : domainOf(REMOTE, address(remote.bridge));
    }

    // ---------------------------------------------------------------------------------------
    // Sending and relaying
    // ---------------------------------------------------------------------------------------

    function srcChain(bytes32 lane) internal view returns (Deployment memory) {
        return _laneFromHome[lane] ? home : remote;
    }

    function dstChain(bytes32 lane) internal view returns (Deployment memory) {
        return _laneFromHome[lane] ? remote : home;
    }

    /// @notice `from` approves and sends on `lane`; returns the sequence.
    function sendAs(address from, bytes32 lane, address to, uint256 amount) internal returns (uint64 seq) {
        Deployment memory c = srcChain(lane);
        vm.chainId(c.chainId);
        address laneToken = c.bridge.getLane(lane).token;
        vm.startPrank(from);
        OwnedToken(laneToken).approve(address(c.bridge), amount);
        seq = c.bridge.send(lane, to, amount, 0);
        vm.stopPrank();
        captureLogs();
    }

    /// @notice Reads MessageSent events like a validator and checks the emitted accumulator.
    function captureLogs() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics.length == 0 || logs[i].topics[0] != MessageSent.selector) continue;
            bytes32 lane = logs[i].topics[1];
            address expectedEmitter = _laneFromHome[lane] ? address(home.bridge) : address(remote.bridge);
            if (logs[i].emitter != expectedEmitter) continue; // validators read only the source bridge
            (Message memory m, bytes32 acc) = abi.decode(logs[i].data, (Message, bytes32));
            uint256 n = _sent[lane].length;
            bytes32 prev = n == 0 ? initialAcc(lane) : _accs[lane][n - 1];
            assertEq(m.sequence, n + 1, "sequence");
            assertEq(acc, nextAcc(prev, m), "emitted accumulator");
            _sent[lane].push(m);
            _accs[lane].push(acc);
        }
    }

    function sentCount(bytes32 lane) internal view returns (uint256) {
        return _sent[lane].length;
    }

    function sentMessage(bytes32 lane, uint64 seq) internal view returns (Message memory) {
        return _sent[lane][seq - 1];
    }

    /// @notice Messages (from, to] of a lane, as the relayer would batch them.
    function batch(bytes32 lane, uint64 from, uint64 to) internal view returns (Message[] memory ms) {
        ms = new Message[](to - from);
        for (uint64 s = from + 1; s <= to; ++s) {
            ms[s - from - 1] = _sent[lane][s - 1];
        }
    }

    function checkpointAt(bytes32 lane, uint64 seq) internal view returns (Checkpoint memory) {
        return Checkpoint({lane: lane, sequence: seq, accumulator: _accs[lane][seq - 1]});
    }

    /// @notice Delivers everything pending on `lane` with a quorum of its current set.
    function relay(bytes32 lane) internal {
        uint64 head = uint64(_sent[lane].length);
        relayTo(lane, head);
    }

    function relayTo(bytes32 lane, uint64 upTo) internal {
        Deployment memory dst = dstChain(lane);
        vm.chainId(dst.chainId);
        uint64 delivered = dst.bridge.getLane(lane).sequence;
        if (upTo <= delivered) return;
        Checkpoint memory cp = checkpointAt(lane, upTo);
        ValidatorSet memory set = _sets[lane];
        bytes memory sigs = quorumSignatures(set, digestOf(sourceDomain(lane), cp));
        dst.bridge.deliver(cp, encodeSet(set), sigs, batch(lane, delivered, upTo));
        captureLogs();
    }

    /// @notice Relays both directions until nothing is pending (refunds travel back).
    function relayAll() internal {
        for (uint256 round; round < 4; ++round) {
            relay(toRemote);
            relay(toHome);
        }
    }

    function lockedOnHome() internal view returns (uint256) {
        return home.bridge.getLane(toRemote).locked;
    }
}
