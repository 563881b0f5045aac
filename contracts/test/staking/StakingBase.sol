// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UnitBase} from "../unit/UnitBase.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {BridgeRoles} from "../../src/libraries/BridgeRoles.sol";
import {Checkpoint, Message} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken} from "../mocks/Tokens.sol";

/// @notice BridgeFixture's two chains (home = 1, remote = 56, one EVM; UnitBase's delivery helpers
/// on top), deployed with
/// `deployStakedChain`: each chain has a StakeManager that alone holds SET_MANAGER and
/// FEE_DISTRIBUTOR, and the route's validator sets come from stake.
///
/// The fixture route starts Pending. `bootstrap()` stakes operators 0..2 (10, 20, 30 ether) on both
/// chains (home: lane toRemote, remote: lane toHome), commits the first epoch on both, copies each
/// snapshot to the other chain's inbound lane (governance) and activates the route; the fixture's
/// relayer then signs with the snapshot's signing keys. Operators sign with keys separate from
/// their operator addresses; the base keeps every signing key so that any snapshot can sign.
abstract contract StakingBase is UnitBase {
    /// @dev Day-aligned, so that slash periods (1 day) and epochs (1 hour) start together.
    uint256 internal constant START = 19_676 days;
    uint64 internal constant EPOCH = 1 hours;
    uint64 internal constant UNBONDING = 3 days;
    uint64 internal constant DETECTION = 1 days;
    uint64 internal constant LIFETIME = 6 hours;
    uint64 internal constant SLASH_PERIOD = 1 days;
    uint256 internal constant MIN_STAKE = 1 ether;
    uint16 internal constant MAX_VALIDATORS = 4;
    uint256 internal constant NUM_OPS = 8;
    uint256 internal constant BPS = 10_000;

    StakeManager internal homeStake;
    StakeManager internal remoteStake;

    address[] internal ops; // operator keys (addresses)
    uint256[] internal signerKeys; // signerKeys[i]: the checkpoint-signing key of ops[i]
    address[] internal signers;
    mapping(address signer => uint256 key) internal keyOf;

    address internal reporter = makeAddr("reporter");
    address internal stranger = makeAddr("stranger");

    /// @notice Tests override to change the stake manager's parameters (both chains).
    function stakeConfig() internal view virtual returns (StakeManager.Config memory) {
        return StakeManager.Config({
            stakingToken: address(0),
            minStake: MIN_STAKE,
            epochLength: EPOCH,
            unbondingPeriod: UNBONDING,
            detectionWindow: DETECTION,
            setLifetime: LIFETIME,
            maxValidatorsPerLane: MAX_VALIDATORS,
            slashBps: 10_000,
            reporterShareBps: 1_000,
            slashCapBps: 5_000,
            slashPeriod: SLASH_PERIOD
        });
    }

    function setUp() public virtual override {
        vm.warp(START);
        (home, homeStake) = _deployStaked(HOME);
        (remote, remoteStake) = _deployStaked(REMOTE);
        _connect(home, remote);
        _connect(remote, home);
        vm.chainId(HOME);
        token = new OwnedToken("Demo Token", "DEMO", 18, tokenOwner);
        (routeId, wrapped) = _openRoute(address(token), defaultParams());
        toRemote = home.bridge.getRoute(routeId).outboundLane;
        toHome = home.bridge.getRoute(routeId).inboundLane;

        for (uint256 i; i < NUM_OPS; ++i) {
            ops.push(makeAddr(string.concat("operator", vm.toString(i))));
            uint256 key = uint256(keccak256(abi.encode("zerobridge.test.signer", i))) % (SECP256K1_N - 1) + 1;
            signerKeys.push(key);
            signers.push(vm.addr(key));
            keyOf[vm.addr(key)] = key;
            vm.label(vm.addr(key), string.concat("signer", vm.toString(i)));
        }
        vm.recordLogs();
        token.mint(alice, 1_000_000 * UNIT);
    }

    function _deployStaked(uint64 chainId) internal returns (Deployment memory c, StakeManager s) {
        vm.chainId(chainId);
        c.chainId = chainId;
        ChainContracts memory deployed = deployStakedChain(governance, 1 ether, stakeConfig());
        (c.manager, c.bridge, c.registry, s) =
        (deployed.manager, deployed.bridge, deployed.registry, deployed.stakeManager);
        c.manager.grantRole(BridgeRoles.GUARDIAN, guardian, 0);
    }

    // ---------------------------------------------------------------------------------------
    // Chains
    // ---------------------------------------------------------------------------------------

    function chainOf(StakeManager s) internal view returns (uint64) {
        return s == homeStake ? HOME : REMOTE;
    }

    /// @dev The stake manager of a lane's source chain (where its stake and evidence live).
    function stakeOf(bytes32 lane) internal view returns (StakeManager) {
        return _laneFromHome[lane] ? homeStake : remoteStake;
    }

    // ---------------------------------------------------------------------------------------
    // Operators
    // ---------------------------------------------------------------------------------------

    function register(StakeManager s, uint256 i) internal {
        vm.chainId(chainOf(s));
        bytes memory proof = signerProof(s, signerKeys[i], ops[i]);
        vm.prank(ops[i]);
        s.registerOperator(signers[i], proof);
    }

    /// @notice The signing key's proof of possession for `operator` on `s` (65 bytes r ‖ s ‖ v).
    function signerProof(StakeManager s, uint256 key, address operator) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(key, s.signerRegistrationDigest(operator));
        return abi.encodePacked(r, sig, v);
    }

    function depositNative(StakeManager s, uint256 i, uint256 amount) internal {
        vm.chainId(chainOf(s));
        vm.deal(ops[i], ops[i].balance + amount);
        vm.prank(ops[i]);
        s.deposit{value: amount}(amount);
    }

    function optIn(StakeManager s, uint256 i, bytes32 lane, uint256 amount) internal {
        vm.chainId(chainOf(s));
        vm.prank(ops[i]);
        s.optIn(lane, amount);
    }

    function unbond(StakeManager s, uint256 i, uint256 amount) internal {
        vm.chainId(chainOf(s));
        vm.prank(ops[i]);
        s.unbond(amount);
    }

    /// @notice Registers operator `i` (once), bonds `amount` and allocates all of it to `lane`.
    function join(StakeManager s, uint256 i, bytes32 lane, uint256 amount) internal {
        if (s.getOperator(ops[i]).signer == address(0)) register(s, i);
        depositNative(s, i, amount);
        optIn(s, i, lane, s.getOperator(ops[i]).active);
    }

    // ---------------------------------------------------------------------------------------
    // Epochs and sets
    // ---------------------------------------------------------------------------------------

    function warpToEpoch(uint64 epoch) internal {
        vm.warp(uint256(homeStake.genesis()) + uint256(epoch) * EPOCH);
    }

    function nextEpoch() internal {
        warpToEpoch(homeStake.currentEpoch() + 1);
    }

    /// @notice Anyone commits the lane's epoch on its source chain; the relayer records any
    /// SET_UPDATE message it queued.
    function commit(bytes32 lane) internal returns (bytes32 setHash) {
        StakeManager s = stakeOf(lane);
        vm.chainId(chainOf(s));
        vm.prank(stranger);
        setHash = s.commitEpoch(lane);
        captureLogs();
    }

    /// @notice The lane's committed snapshot as a signing set (keys looked up by signer).
    function snapshotSet(StakeManager s, bytes32 lane) internal view returns (ValidatorSet memory set) {
        StakeManager.Snapshot memory snap = s.getSnapshot(lane);
        uint256 n = snap.members.length;
        set.keys = new uint256[](n);
        set.members = new address[](n);
        set.weights = new uint96[](n);
        for (uint256 i; i < n; ++i) {
            set.members[i] = snap.members[i].signer;
            set.weights[i] = snap.members[i].weight;
            set.keys[i] = keyOf[snap.members[i].signer];
            require(set.keys[i] != 0, "snapshot member without a test key");
        }
        set.threshold = snap.threshold;
        set.validUntil = snap.validUntil;
    }

    /// @notice The set a lane's snapshot should be, computed independently: operators `ids` with
    /// the given weights, sorted by signer, threshold = the least weight >= 2/3 of the total,
    /// expiring one lifetime from now.
    function expectedSet(uint256[] memory ids, uint96[] memory weights)
        internal
        view
        returns (ValidatorSet memory set)
    {
        uint256 n = ids.length;
        set.keys = new uint256[](n);
        set.members = new address[](n);
        set.weights = new uint96[](n);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            set.keys[i] = signerKeys[ids[i]];
            set.members[i] = signers[ids[i]];
            set.weights[i] = weights[i];
            total += weights[i];
        }
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && set.members[j - 1] > set.members[j]; --j) {
                (set.members[j - 1], set.members[j]) = (set.members[j], set.members[j - 1]);
                (set.keys[j - 1], set.keys[j]) = (set.keys[j], set.keys[j - 1]);
                (set.weights[j - 1], set.weights[j]) = (set.weights[j], set.weights[j - 1]);
            }
        }
        uint256 t = total * 2 / 3;
        if (t * 3 < total * 2) ++t;
        set.threshold = uint96(t);
        set.validUntil = uint64(block.timestamp) + LIFETIME; // as committed now
    }

    /// @notice Operators 0..2 stake 10, 20 and 30 ether on both chains, the first epoch is committed
    /// on both, governance copies each snapshot to the other chain and the route activates.
    function bootstrap() internal {
        for (uint256 i; i < 3; ++i) {
            join(homeStake, i, toRemote, (i + 1) * 10 ether);
            join(remoteStake, i, toHome, (i + 1) * 10 ether);
        }
        activate();
    }

    /// @notice Commits both lanes (Pending), cross-installs the inbound sets and activates.
    function activate() internal {
        commit(toRemote);
        commit(toHome);
        ValidatorSet memory out = snapshotSet(homeStake, toRemote);
        ValidatorSet memory back = snapshotSet(remoteStake, toHome);
        vm.chainId(HOME);
        homeStake.installInboundSet(toHome, encodeSet(back));
        vm.chainId(REMOTE);
        remoteStake.installInboundSet(toRemote, encodeSet(out));
        vm.chainId(HOME);
        home.registry.activateRoute(routeId);
        vm.chainId(REMOTE);
        remote.registry.activateRoute(routeId);
        _storeSet(toRemote, out);
        _storeSet(toHome, back);
    }

    // ---------------------------------------------------------------------------------------
    // Evidence
    // ---------------------------------------------------------------------------------------

    function homeDomain() internal view returns (bytes32) {
        return domainOf(HOME, address(home.bridge));
    }

    /// @notice EIP-2098 compact signature by `key` over the checkpoint under `domain`.
    function signCompact(uint256 key, bytes32 domain, Checkpoint memory cp) internal pure returns (bytes32, bytes32) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digestOf(domain, cp));
        return (r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
    }

    function evidenceIdOf(bytes32 domain, Checkpoint memory cp, address signer) internal pure returns (bytes32) {
        return keccak256(abi.encode(digestOf(domain, cp), signer));
    }

    /// @notice `reporter` submits operator `i`'s signature over `cp` (home domain) to the home stake manager.
    function slashAs(address who, uint256 i, Checkpoint memory cp, Message[] memory proof) internal returns (bytes32) {
        (bytes32 r, bytes32 vs) = signCompact(signerKeys[i], homeDomain(), cp);
        vm.chainId(HOME);
        vm.prank(who);
        return homeStake.slash(cp, r, vs, proof);
    }

    function noProof() internal pure returns (Message[] memory) {
        return new Message[](0);
    }

    /// @notice A checkpoint of the home outbound lane at `seq` whose accumulator the lane never had.
    function forged(uint64 seq) internal view returns (Checkpoint memory) {
        return Checkpoint({lane: toRemote, sequence: seq, accumulator: keccak256(abi.encode("forged", seq))});
    }

    /// @notice `n` transfers of 1,000 tokens from alice on the home outbound lane.
    function sendMany(uint256 n) internal {
        for (uint256 i; i < n; ++i) {
            sendAs(alice, toRemote, bob, 1_000 * UNIT);
        }
    }

    function idx(uint256 a) internal pure returns (uint256[] memory r) {
        r = new uint256[](1);
        r[0] = a;
    }

    function idx(uint256 a, uint256 b) internal pure returns (uint256[] memory r) {
        r = new uint256[](2);
        (r[0], r[1]) = (a, b);
    }

    function idx(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function idx(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (uint256[] memory r) {
        r = new uint256[](4);
        (r[0], r[1], r[2], r[3]) = (a, b, c, d);
    }

    function ws(uint256 a) internal pure returns (uint96[] memory r) {
        r = new uint96[](1);
        r[0] = uint96(a);
    }

    function ws(uint256 a, uint256 b) internal pure returns (uint96[] memory r) {
        r = new uint96[](2);
        (r[0], r[1]) = (uint96(a), uint96(b));
    }

    function ws(uint256 a, uint256 b, uint256 c) internal pure returns (uint96[] memory r) {
        r = new uint96[](3);
        (r[0], r[1], r[2]) = (uint96(a), uint96(b), uint96(c));
    }

    function ws(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (uint96[] memory r) {
        r = new uint96[](4);
        (r[0], r[1], r[2], r[3]) = (uint96(a), uint96(b), uint96(c), uint96(d));
    }
}
