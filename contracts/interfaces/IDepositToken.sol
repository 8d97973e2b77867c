// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IDepositToken
/// @notice The ERC-20 face of one currency of the Payments module, answered at the currency's
///         own address (0xba11000000000000000000000000000000000001 for the first registered
///         currency, and so on). Wallets, ethers and explorers read it as any ERC-20 token.
///         `decimals` is the currency's minor-unit decimals, the same value the Payments module
///         reports: amounts here are in minor units (cents for a 2-decimal currency).
/// @dev `balanceOf` is the whole balance, money on hold included; `transfer` and
///      `transferFrom` spend only the available part (balance minus holds). Both pay the chain's
///      payment fee, if the committee set one, on top of the amount, and are refused for a
///      frozen payer or payee (see docs/modules/payments.md). Every failure reverts with
///      `Error(string)` saying what was wrong.
interface IDepositToken {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function name() external view returns (string memory);
    function symbol() external view returns (string memory);
    function decimals() external view returns (uint8);
    function totalSupply() external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function allowance(address owner, address spender) external view returns (uint256);

    function transfer(address to, uint256 value) external returns (bool);
    function approve(address spender, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}
