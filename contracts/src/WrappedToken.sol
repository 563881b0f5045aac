// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice The remote-chain representation of a route's canonical token. Same decimals as the
/// canonical token; only the bridge mints (on arrival) and burns (on departure).
contract WrappedToken is ERC20 {
    address public immutable bridge;
    bytes32 public immutable routeId;
    uint8 private immutable _decimals;

    error OnlyBridge(address caller);

    modifier onlyBridge() {
        if (msg.sender != bridge) revert OnlyBridge(msg.sender);
        _;
    }

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address bridge_, bytes32 routeId_)
        ERC20(name_, symbol_)
    {
        _decimals = decimals_;
        bridge = bridge_;
        routeId = routeId_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    /// @dev The bridge burns from the holder that called `send`; no allowance round trip needed.
    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }
}
