// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice A well-behaved canonical token with an owner, as token teams deploy them.
contract OwnedToken is ERC20, Ownable {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Takes a 1% fee on every transfer: the receiver gets less than the amount sent.
contract FeeOnTransferToken is OwnedToken {
    constructor(address owner_) OwnedToken("Fee Token", "FOT", 18, owner_) {}

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0xdead), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @notice Returns false instead of reverting, and moves nothing, when `failing` is set.
contract ReturnsFalseToken is OwnedToken {
    bool public failing;

    constructor(address owner_) OwnedToken("False Token", "FALSE", 18, owner_) {}

    function setFailing(bool failing_) external {
        failing = failing_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, value);
    }
}

/// @notice Calls back into a target (the bridge) from inside every transfer, like an ERC-777 hook.
contract ReentrantToken is OwnedToken {
    address public target;
    bytes public payload;
    bool public reentered;
    bytes public lastRevert;

    constructor(address owner_) OwnedToken("Hook Token", "HOOK", 18, owner_) {}

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && from != address(0) && to != address(0)) {
            address t = target;
            target = address(0);
            (bool ok, bytes memory ret) = t.call(payload);
            reentered = ok;
            lastRevert = ret;
        }
    }
}

/// @notice An ERC-20 without `owner()`: nobody can register it except governance.
contract OwnerlessToken is ERC20 {
    constructor() ERC20("Ownerless", "NOOWN") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @dev Claims whatever route id it is told, on a fixed bridge: an attacker's stand-in for a
/// WrappedToken when opening a rogue route.
contract AnyRouteToken {
    address public immutable bridge;
    bytes32 public routeId;

    constructor(address bridge_) {
        bridge = bridge_;
    }

    function answer(bytes32 id) external {
        routeId = id;
    }
}
