// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title BanyanToken
/// @notice A minimal, self-contained ERC-20 used by Banyan's end-to-end tests and load generator.
/// @dev The whole supply is minted once, in the constructor, to the deployer. There is no other
///      mint path and no burn path, so `totalSupply` never changes and the sum of all balances
///      always equals it.
contract BanyanToken {
    string public constant name = "Banyan Token";
    string public constant symbol = "BYN";
    uint8 public constant decimals = 18;

    uint256 public totalSupply;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @param initialSupply Amount (in the smallest unit) minted to the deployer.
    constructor(uint256 initialSupply) {
        totalSupply = initialSupply;
        balanceOf[msg.sender] = initialSupply;
        emit Transfer(address(0), msg.sender, initialSupply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        require(spender != address(0), "BanyanToken: approve to the zero address");
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 current = allowance[from][msg.sender];
        if (current != type(uint256).max) {
            require(current >= value, "BanyanToken: insufficient allowance");
            unchecked {
                allowance[from][msg.sender] = current - value;
            }
        }
        _transfer(from, to, value);
        return true;
    }

    function _transfer(address from, address to, uint256 value) private {
        require(to != address(0), "BanyanToken: transfer to the zero address");
        uint256 fromBalance = balanceOf[from];
        require(fromBalance >= value, "BanyanToken: transfer amount exceeds balance");
        unchecked {
            // Cannot underflow (checked above) and cannot overflow: the sum of all balances is
            // bounded by totalSupply, which is fixed at construction.
            balanceOf[from] = fromBalance - value;
            balanceOf[to] += value;
        }
        emit Transfer(from, to, value);
    }
}
