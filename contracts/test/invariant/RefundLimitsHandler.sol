// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {ZeroBridge} from "../../src/ZeroBridge.sol";
import {Lane} from "../../src/BridgeBase.sol";
import {WrappedToken} from "../../src/WrappedToken.sol";
import {Message, MessageKind, Checkpoint, RouteParams, RefundStatus} from "../../src/interfaces/IZeroBridge.sol";
import {OwnedToken, AnyRouteToken} from "../mocks/Tokens.sol";
import {ValidatorKit} from "../utils/ValidatorKit.sol";

/// @notice A forging quorum on the remote -> home lane, against the home bridge: alice sends on the
/// home outbound lane, the quorum approves refunds for any of those transfers (delivered or not),
/// and anyone claims them, in any order and split, while time passes. Also tries to open remote
/// routes over tokens that already back one (the live wrapped token, a token that answers any
/// route id, a fresh one). Ghosts: refund payouts, claims made during a hold, routes opened.
contract RefundLimitsHandler is CommonBase, StdCheats, StdUtils, ValidatorKit {
    uint64 internal constant HOME = 1;
    uint64 internal constant REMOTE = 56;
    uint256 internal constant ACCUMULATOR_RECORD_INTERVAL = 16;

    ZeroBridge public immutable home;
    ZeroBridge public immutable remote;
    OwnedToken public immutable token;
    bytes32 public immutable outbound; // home -> remote
    bytes32 public immutable inbound; // remote -> home, where forged refunds arrive
    bytes32 public immutable remoteDomain;
    address public immutable alice;
    RouteParams internal _params;
    ValidatorSet internal _set;

    Message[] internal _sent;
    bytes32[] internal _accs;
    uint256 public ghostRefundPaid;
    uint256 public claimsDuringHold; // must stay 0
    uint256 public claimsTwice; // must stay 0
    mapping(bytes32 messageHash => bool) internal _claimed;

    address[] internal _routeTokens; // non-home tokens of routes opened on the remote
    bytes32[] internal _routeIds;

    constructor(
        ZeroBridge home_,
        ZeroBridge remote_,
        OwnedToken token_,
        bytes32 outbound_,
        bytes32 inbound_,
        ValidatorSet memory set,
        address alice_,
        RouteParams memory params,
        address wrapped,
        bytes32 routeId
    ) {
        (home, remote, token, outbound, inbound, alice) = (home_, remote_, token_, outbound_, inbound_, alice_);
        remoteDomain = domainOf(REMOTE, address(remote_));
        _params = params;
        _set = set;
        _routeTokens.push(wrapped);
        _routeIds.push(routeId);
    }

    function send(uint256 amount) external {
        amount = bound(amount, 1_000 ether, 3_000 ether);
        vm.chainId(HOME);
        vm.startPrank(alice);
        token.approve(address(home), amount);
        uint256 net = amount - amount * home.getLane(outbound).feeBps / 10_000; // a plain ERC-20
        try home.send(outbound, alice, amount, 0) returns (uint64 seq) {
            _record(
                Message({
                    sequence: seq,
                    kind: MessageKind.TRANSFER,
                    sender: alice,
                    recipient: alice,
                    amount: net,
                    data: bytes32(0),
                    sentAt: uint64(block.timestamp),
                    deadline: type(uint64).max
                })
            );
        } catch {}
        vm.stopPrank();
    }

    function _record(Message memory m) internal {
        bytes32 prev = _accs.length == 0 ? initialAcc(outbound) : _accs[_accs.length - 1];
        _sent.push(m);
        _accs.push(nextAcc(prev, m));
    }

    /// @notice The quorum approves refunds for `count` sent transfers starting at `first`.
    function forgeRefunds(uint256 first, uint256 count) external {
        if (_sent.length == 0) return;
        first = bound(first, 0, _sent.length - 1);
        count = bound(count, 1, 5);
        if (first + count > _sent.length) count = _sent.length - first;
        vm.chainId(HOME);
        Lane memory lane = home.getLane(inbound);
        Message[] memory ms = new Message[](count);
        bytes32 acc = lane.accumulator;
        for (uint256 i; i < count; ++i) {
            Message memory original = _sent[first + i];
            ms[i] = Message({
                sequence: lane.sequence + 1 + uint64(i),
                kind: MessageKind.REFUND,
                sender: original.recipient,
                recipient: original.sender,
                amount: original.amount,
                data: keccak256(abi.encode(original)),
                sentAt: uint64(block.timestamp),
                deadline: type(uint64).max
            });
            acc = nextAcc(acc, ms[i]);
        }
        Checkpoint memory cp = Checkpoint({lane: inbound, sequence: ms[count - 1].sequence, accumulator: acc});
        bytes memory sigs = quorumSignatures(_set, digestOf(remoteDomain, cp));
        home.deliver(cp, encodeSet(_set), sigs, ms);
    }

    function claim(uint256 index) external {
        if (_sent.length == 0) return;
        index = bound(index, 0, _sent.length - 1);
        uint256 start = index / ACCUMULATOR_RECORD_INTERVAL * ACCUMULATOR_RECORD_INTERVAL;
        uint256 end = start + ACCUMULATOR_RECORD_INTERVAL;
        if (end > _sent.length) end = _sent.length;
        Message[] memory segment = new Message[](end - start);
        for (uint256 i; i < segment.length; ++i) {
            segment[i] = _sent[start + i];
        }
        Message memory m = _sent[index];
        bytes32 h = keccak256(abi.encode(m));
        vm.chainId(HOME);
        (, uint64 approvedAt) = home.refunds(outbound, h);
        uint256 balance = token.balanceOf(m.sender);
        try home.claimRefund(outbound, segment, index - start) {
            ghostRefundPaid += token.balanceOf(m.sender) - balance;
            if (m.amount >= home.getLane(inbound).largeTransferThreshold && block.timestamp < approvedAt + home.holdDelay()) {
                ++claimsDuringHold;
            }
            if (_claimed[h]) ++claimsTwice;
            _claimed[h] = true;
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 6 hours));
    }

    /// @notice One proposal's worth of registry power opens a remote route over some token.
    function openRoute(uint256 kind, uint256 idSeed) external {
        bytes32 id = keccak256(abi.encode("route", idSeed % 4));
        address t;
        kind %= 3;
        vm.chainId(REMOTE);
        if (kind == 0) {
            t = _routeTokens[idSeed % _routeTokens.length];
        } else if (kind == 1) {
            AnyRouteToken any = new AnyRouteToken(address(remote));
            any.answer(id);
            t = address(any);
            // a token that already backs a route claims the new id as well
            if (_routeTokens.length > 1 && idSeed % 2 == 0) {
                t = _routeTokens[1 + idSeed % (_routeTokens.length - 1)];
                if (t.code.length != 0) try AnyRouteToken(t).answer(id) {} catch {}
            }
        } else {
            t = address(new WrappedToken("R", "R", 18, address(remote), id));
        }
        try remote.openRoute(id, t, false, HOME, _params) {
            _routeTokens.push(t);
            _routeIds.push(id);
        } catch {}
    }

    function sentCount() external view returns (uint256) {
        return _sent.length;
    }

    function routeTokens() external view returns (address[] memory) {
        return _routeTokens;
    }

    function routeIds() external view returns (bytes32[] memory) {
        return _routeIds;
    }
}
