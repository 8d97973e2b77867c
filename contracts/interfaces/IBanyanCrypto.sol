// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IBanyanCrypto
/// @notice The chain's crypto suite, exposed to contracts as a native module (precompile).
/// @dev Deployed natively at address 0x0000000000000000000000000000000000001000 on chains whose
///      spec enables `crypto` (`banyan init` and `banyan dev` do); there is no contract code behind it. Call it like any contract:
///      ```solidity
///      IBanyanCrypto constant CRYPTO = IBanyanCrypto(address(0x1000));
///      bytes32 h = CRYPTO.suiteHash(data);
///      ```
///      Gas: 60 + 12 per started 32-byte word of the ABI-encoded call data (the same schedule as
///      the SHA-256 precompile). The module is stateless and deterministic. It reverts with
///      `Error(string)` on an unknown selector or malformed arguments, when sent value, or when
///      reached by DELEGATECALL/CALLCODE.
interface IBanyanCrypto {
    /// @notice The hash of the chain's suite chosen at genesis: keccak256 on the `ecdsa` suite,
    ///         SM3 (GB/T 32905) on the `sm` suite.
    function suiteHash(bytes calldata data) external view returns (bytes32);

    /// @notice SM3 (GB/T 32905) of `data`, on either suite.
    function sm3(bytes calldata data) external view returns (bytes32);

    /// @notice The name of the chain's suite: "ecdsa" or "sm".
    function suite() external view returns (string memory);
}
