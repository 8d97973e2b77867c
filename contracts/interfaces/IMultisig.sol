// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IMultisig
/// @notice Multi-signature wallets: an account controlled by M of its N owners, so that a bank's
///         treasury never hangs on one key. An owner proposes an operation (a call of one of the
///         chain's native modules, made as the wallet); each approval is an owner's own
///         transaction; the approval that reaches the threshold executes it in that call. If the
///         call fails, the operation ends `Failed` with the reason and nothing of it is applied.
///         The owners and threshold change only by an operation of the wallet itself
///         (`setOwners`), which makes every other pending operation `Superseded`.
/// @dev A native module at 0x0000000000000000000000000000000000001003 on chains whose spec enables
///      `multisig` (docs/modules/multisig.md). A wallet acts on native modules only (Governance,
///      Evidence, and the payment and identity modules): it has no key, sends no transaction
///      and calls no EVM contract. Every failure reverts with `Error(string)`.
interface IMultisig {
    /// @notice Where an operation stands.
    enum Status {
        None,
        Pending,
        Executed,
        Failed,
        Superseded,
        Cancelled
    }

    /// @notice One operation of a wallet.
    struct Operation {
        uint64 id;
        address wallet;
        address target;
        bytes data;
        string description;
        address proposer;
        Status status;
        uint64 approvals;
        uint16 threshold;
        uint64 version;
        uint64 createdAt;
        uint64 closedAt;
        string reason;
    }

    /// @notice `creator` created `wallet`, controlled by `threshold` of `owners`.
    event WalletCreated(address indexed wallet, address indexed creator, address[] owners, uint16 threshold);
    /// @notice `wallet`'s owners or threshold changed (by its own operation); `version` counts changes.
    event OwnersChanged(address indexed wallet, address[] owners, uint16 threshold, uint64 version);
    /// @notice `proposer` proposed operation `id` of `wallet`: a call of `target`.
    event OperationProposed(uint64 indexed id, address indexed wallet, address indexed proposer, address target);
    /// @notice `owner` approved operation `id`, which now has `approvals`.
    event Approved(uint64 indexed id, address indexed owner, uint64 approvals);
    /// @notice Operation `id` reached its threshold and its call succeeded.
    event OperationExecuted(uint64 indexed id);
    /// @notice Operation `id` reached its threshold but its call failed; nothing of it was applied.
    event OperationFailed(uint64 indexed id, string reason);
    /// @notice Operation `id` was cancelled by its proposer.
    event OperationCancelled(uint64 indexed id);

    /// @notice Creates a wallet controlled by `threshold` (1 to N) of `owners` (1 to 16
    ///         distinct accounts); returns its address.
    function createWallet(address[] calldata owners, uint16 threshold) external returns (address wallet);

    /// @notice Proposes that `wallet` call the native module `target` with `data`; only an owner
    ///         may, and its approval counts at once (a 1-of-N wallet executes in this call).
    function propose(address wallet, address target, bytes calldata data, string calldata description)
        external
        returns (uint64 id);

    /// @notice Approves operation `id` as one of its wallet's owners; the approval that reaches
    ///         the threshold executes it.
    function approve(uint64 id) external;

    /// @notice Executes operation `id`; refused while it has fewer approvals than its threshold.
    function execute(uint64 id) external;

    /// @notice Cancels a pending operation; only its proposer may.
    function cancel(uint64 id) external;

    /// @notice Replaces the caller's owners and threshold. The caller must be a wallet: this is
    ///         called by one of its own operations (key rotation by the same M of N).
    function setOwners(address[] calldata owners, uint16 threshold) external;

    /// @notice Operation `id`; reverts when there is none.
    function getOperation(uint64 id) external view returns (Operation memory);

    /// @notice Number of operations ever proposed (ids run from 1 to this number).
    function operationCount() external view returns (uint64);

    /// @notice `wallet`'s owners, threshold and version; reverts when it is not a wallet.
    function walletInfo(address wallet) external view returns (address[] memory owners, uint16 threshold, uint64 version);

    /// @notice Whether `owner` approved operation `id`.
    function hasApproved(uint64 id, address owner) external view returns (bool);
}
