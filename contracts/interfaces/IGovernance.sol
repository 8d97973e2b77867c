// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IGovernance
/// @notice The committee that runs the consortium: governors with weights propose changes and
///         vote on them; a proposal passes when participation (voted weight / total weight) and
///         approval (yes / (yes + no)) reach the committee's thresholds, and it is executed in
///         the block whose vote passes it. If its action fails, the proposal ends `Failed` with
///         the reason and nothing of the action is applied.
/// @dev A native module at 0x0000000000000000000000000000000000001002 on chains whose spec enables
///      `governance` (see docs/modules/governance.md for the rules, state layout, gas and every
///      error). Every failure reverts with `Error(string)` naming what was wrong and who could do
///      it instead. Thresholds are in basis points (1 to 10000).
interface IGovernance {
    /// @notice Where a proposal stands. `Open` until it passes (then `Executed`, or `Failed` when
    ///         its action could not be applied), is cancelled by its creator, is superseded by a
    ///         change of the committee or its rules, or reaches its expiry height (then
    ///         `Rejected` when enough weight voted but approval fell short, else `Expired`).
    enum Status {
        None,
        Open,
        Executed,
        Rejected,
        Expired,
        Failed,
        Superseded,
        Cancelled
    }

    /// @notice A governor's vote; `None` means not voted.
    enum Choice {
        None,
        Yes,
        No,
        Abstain
    }

    /// @notice What a proposal does, with the payload it carries (ABI-encoded):
    ///         `AddGovernor` and `SetWeight` a `GovernorChange`, `RemoveGovernor` an `address`,
    ///         `SetRules` a `Rules`, `GrantRole` and `RevokeRole` a `RoleChange`, `Freeze` and
    ///         `Unfreeze` an `address` (an account or a contract), `SetPermission` a
    ///         `PermissionSwitch`, `SetContractAdmin` an `AdminChange`, `AddValidator` a
    ///         `NewValidator`, `RemoveValidator` an `address`, `SetValidatorPower` a
    ///         `ValidatorPower`, `SetChainParameter` a `ParameterChange`,
    ///         `RevokeCertificate` the certificate's serial as `bytes` (big-endian, 1 to 20 bytes),
    ///         `SetGasRate` a `GasRate`.
    enum Kind {
        None,
        AddGovernor,
        RemoveGovernor,
        SetWeight,
        SetRules,
        GrantRole,
        RevokeRole,
        Freeze,
        Unfreeze,
        SetPermission,
        SetContractAdmin,
        AddValidator,
        RemoveValidator,
        SetValidatorPower,
        SetChainParameter,
        RevokeCertificate,
        SetGasRate,
        ModuleCall
    }

    /// @notice A chain parameter the committee sets. Each has a range; 0 restores the default
    ///         (the genesis gas limit, the node's configuration for the others).
    ///         `BlockGasLimit`: gas per block (1,000,000 to 1,000,000,000). `BlockIntervalMs`: the
    ///         pace of heights on a consensus network (100 to 60,000 ms). `TxpoolMaxTxs`:
    ///         transactions a node's pool holds (1,000 to 1,000,000). `TxpoolMaxPerAccount`:
    ///         pending transactions per sender (1 to 10,000). `PaymentFeeBps`: the fee of
    ///         every payment of the Payments module, in basis points of its amount (1 to 1,000;
    ///         the default is no fee). A value set in block B applies from block B + 1.
    enum Parameter {
        None,
        BlockGasLimit,
        BlockIntervalMs,
        TxpoolMaxTxs,
        TxpoolMaxPerAccount,
        PaymentFeeBps
    }

    /// @notice Payload of `SetChainParameter`.
    struct ParameterChange {
        Parameter parameter;
        uint64 value;
    }

    /// @notice Payload of `SetGasRate`: accounts that chose `token` (a currency of the Payments
    ///         module) as their gas currency pay gas in it at `unitsPerCoin` of its smallest unit
    ///         per native coin (10^18 wei) of gas fee, rounded up per transaction; 0 withdraws
    ///         the rate (transactions paying gas in `token` are then refused). At most 10^30.
    struct GasRate {
        address token;
        uint128 unitsPerCoin;
    }

    /// @notice Payload of `ModuleCall`: the committee calls native module `module` with ABI call
    ///         data `data`, as the Governance module (`msg.sender` is its address), e.g. to
    ///         admit an authority issuer in Identity. The call is tried when the proposal is
    ///         made (a call that would fail then is refused) and made when it passes; if it
    ///         fails then, the proposal is `Failed` with the call's revert reason.
    struct ModuleCall {
        address module;
        bytes data;
    }

    /// @notice A permission check the committee switches on or off: `Deploy` (only `Deployer`
    ///         accounts create contracts) and `Method` (contract admins' per-function lists
    ///         are enforced). Both start off unless the chain spec turns them on.
    enum Permission {
        None,
        Deploy,
        Method
    }

    /// @notice Who may call one function of a contract while method permission is on: anyone
    ///         (`Open`), only the listed accounts (`AllowList`), or anyone but them (`DenyList`).
    enum Access {
        Open,
        AllowList,
        DenyList
    }

    /// @notice Payload of `SetPermission`.
    struct PermissionSwitch {
        Permission permission;
        bool enabled;
    }

    /// @notice Payload of `SetContractAdmin`: the committee names a contract's admin (for a
    ///         contract whose creator cannot claim it).
    struct AdminChange {
        address target;
        address admin;
    }

    /// @notice Payload of `AddValidator`: the node's 64-byte public key in the chain's suite
    ///         (its address is derived from it) and its voting power.
    struct NewValidator {
        bytes publicKey;
        uint64 power;
    }

    /// @notice Payload of `SetValidatorPower`.
    struct ValidatorPower {
        address validator;
        uint64 power;
    }

    /// @notice A role other modules check before letting an account act. Governors are the
    ///         committee itself, not a role.
    enum Role {
        None,
        Issuer,
        Institution,
        Regulator,
        Auditor,
        Deployer,
        RateProvider
    }

    /// @notice Payload of `GrantRole` and `RevokeRole`.
    struct RoleChange {
        address account;
        Role role;
    }

    /// @notice Payload of `AddGovernor` and `SetWeight`.
    struct GovernorChange {
        address governor;
        uint64 weight;
    }

    /// @notice The committee's rules, and the payload of `SetRules`. `votingPeriod` is the
    ///         default number of blocks a proposal stays open.
    struct Rules {
        uint16 participationBps;
        uint16 approvalBps;
        uint64 votingPeriod;
    }

    /// @notice One proposal, with the rules and total weight that judge it (those in force when
    ///         it was created) and its tally.
    struct Proposal {
        uint64 id;
        Kind kind;
        bytes payload;
        address creator;
        string description;
        uint64 createdAt;
        uint64 expiresAt;
        uint64 epoch;
        Status status;
        uint64 closedAt;
        string reason;
        uint64 yes;
        uint64 no;
        uint64 abstain;
        uint64 totalWeight;
        uint16 participationBps;
        uint16 approvalBps;
    }

    /// @notice `creator` opened proposal `id`; it may be voted on until block `expiresAt`.
    event ProposalCreated(uint64 indexed id, address indexed creator, Kind kind, uint64 expiresAt);
    /// @notice `voter` voted (or changed its vote) on proposal `id` with its `weight`.
    event Voted(uint64 indexed id, address indexed voter, Choice choice, uint64 weight);
    /// @notice Proposal `id` passed and its action was applied in this block.
    event ProposalExecuted(uint64 indexed id);
    /// @notice Proposal `id` passed but its action could not be applied; nothing of it was.
    event ProposalFailed(uint64 indexed id, string reason);
    /// @notice Proposal `id` was closed unpassed at its expiry (`Rejected` or `Expired`).
    event ProposalClosed(uint64 indexed id, Status status);
    /// @notice Proposal `id` can no longer pass: the committee or its rules changed (now at
    ///         `epoch`) since it was created.
    event ProposalSuperseded(uint64 indexed id, uint64 epoch);
    /// @notice Proposal `id` was cancelled by its creator.
    event ProposalCancelled(uint64 indexed id);
    /// @notice `governor` now has `weight` (0: no longer a governor).
    event GovernorSet(address indexed governor, uint64 weight);
    /// @notice Proposal `proposal` granted `role` to `account`.
    event RoleGranted(address indexed account, Role role, uint64 indexed proposal);
    /// @notice Proposal `proposal` revoked `role` from `account`.
    event RoleRevoked(address indexed account, Role role, uint64 indexed proposal);
    /// @notice Proposal `proposal` froze `account`: it cannot send transactions or be called.
    event Frozen(address indexed account, uint64 indexed proposal);
    /// @notice Proposal `proposal` unfroze `account`.
    event Unfrozen(address indexed account, uint64 indexed proposal);
    /// @notice Proposal `proposal` switched `permission` on or off.
    event PermissionSet(Permission permission, bool enabled, uint64 indexed proposal);
    /// @notice `target`'s admin is now `admin`, named by `by` (its creator, the previous admin,
    ///         or the committee through proposal `proposal`; 0 when not by proposal).
    event ContractAdminSet(address indexed target, address indexed admin, address by, uint64 proposal);
    /// @notice `target`'s admin set who may call function `selector`.
    event MethodAccessSet(address indexed target, bytes4 selector, Access access, address indexed admin);
    /// @notice `target`'s admin put `account` on (`listed`) or off the list of `selector`.
    event MethodAccountSet(address indexed target, bytes4 selector, address indexed account, bool listed);
    /// @notice Proposal `proposal` set `validator`'s voting power to `power` (0: removed); the
    ///         new validator set decides blocks from height `effectiveFrom` on.
    event ValidatorSetChanged(address indexed validator, uint64 power, uint64 effectiveFrom, uint64 indexed proposal);
    /// @notice Proposal `proposal` revoked the node certificate with serial `serial`: every node
    ///         refuses it from the block after, and drops connections that use it.
    event CertificateRevoked(bytes serial, uint64 indexed proposal);
    /// @notice Proposal `proposal` set `parameter` to `value` (0: the default) from the next block.
    event ChainParameterSet(Parameter parameter, uint64 value, uint64 indexed proposal);
    /// @notice Proposal `proposal` set the rate of gas paid in `token` (0: withdrawn).
    event GasRateSet(address indexed token, uint128 unitsPerCoin, uint64 indexed proposal);
    /// @notice The committee's rules changed; `epoch` counts changes of the committee or rules.
    event RulesChanged(uint64 epoch, uint16 participationBps, uint16 approvalBps, uint64 votingPeriod);

    /// @notice Opens a proposal of `kind` with its ABI-encoded `payload` and a `description`
    ///         (at most 256 bytes), open for `votingPeriod` blocks (0: the committee's default).
    ///         Only a governor may propose; the creator's vote is counted as `Yes` at once, so a
    ///         proposal may pass (and execute) in the same call. The payload is checked now and
    ///         again when the proposal passes.
    function propose(Kind kind, bytes calldata payload, string calldata description, uint64 votingPeriod)
        external
        returns (uint64 id);

    /// @notice Votes on an open proposal, or changes the caller's earlier vote. Only a governor
    ///         may vote, with its weight. A vote that makes the proposal pass executes it.
    function vote(uint64 id, Choice choice) external;

    /// @notice Cancels an open proposal; only its creator may.
    function cancel(uint64 id) external;

    /// @notice Records the end of a proposal past its expiry height (`Rejected` or `Expired`),
    ///         with an event. Anyone may call it; reads show the same status before it is called.
    function close(uint64 id) external;

    /// @notice Proposal `id`; reverts when there is none.
    function getProposal(uint64 id) external view returns (Proposal memory);

    /// @notice Number of proposals ever made (ids run from 1 to this number).
    function proposalCount() external view returns (uint64);

    /// @notice `voter`'s current vote on proposal `id`.
    function voteOf(uint64 id, address voter) external view returns (Choice);

    /// @notice The governors and their weights, in the order they joined.
    function governors() external view returns (address[] memory accounts, uint64[] memory weights);

    /// @notice `account`'s weight; 0 when it is not a governor.
    function weightOf(address account) external view returns (uint64);

    /// @notice Whether `account` holds `role`.
    function hasRole(address account, Role role) external view returns (bool);

    /// @notice The accounts holding `role`, in no particular order.
    function roleMembers(Role role) external view returns (address[] memory);

    /// @notice Names the caller admin of `target`, a contract the caller created with `CREATE`
    ///         when its nonce was `nonce` (the contract's address proves it). Once only: later
    ///         changes go through `transferContractAdmin` or a `SetContractAdmin` proposal.
    function claimContractAdmin(address target, uint64 nonce) external;

    /// @notice Hands `target`'s admin rights to `admin`; only its admin may.
    function transferContractAdmin(address target, address admin) external;

    /// @notice Sets who may call function `selector` of `target` while method permission is on;
    ///         only `target`'s admin may. Setting `Open` clears the function's list.
    function setMethodAccess(address target, bytes4 selector, Access access) external;

    /// @notice Puts `account` on (`listed`) or off the list of `target`'s function `selector`
    ///         (at most 64 accounts per function); only `target`'s admin may.
    function setMethodAccount(address target, bytes4 selector, address account, bool listed) external;

    /// @notice `target`'s admin; the zero address when none was named.
    function contractAdmin(address target) external view returns (address);

    /// @notice Who may call `target`'s function `selector`, and the accounts on its list.
    function methodAccess(address target, bytes4 selector) external view returns (Access access, address[] memory accounts);

    /// @notice The proposal that froze `account`; 0 when it is not frozen.
    function frozenBy(address account) external view returns (uint64 proposal);

    /// @notice Whether deploy permission and method permission are on.
    function permissions() external view returns (bool deploy, bool method);

    /// @notice Whether `caller` may call `target`'s function `selector` now, and if not, why
    ///         (the message a refused transaction gets).
    function canCall(address caller, address target, bytes4 selector) external view returns (bool allowed, string memory reason);

    /// @notice The validator set that decides block `height`, read from the state after block
    ///         `height - 1` (a set change made in block H decides blocks from H + 2 on).
    function validatorsAt(uint64 height)
        external
        view
        returns (address[] memory accounts, bytes[] memory publicKeys, uint64[] memory powers);

    /// @notice The latest validator set (it may not decide blocks yet) and the height from which
    ///         it does.
    function validators() external view returns (address[] memory accounts, uint64[] memory powers, uint64 effectiveFrom);

    /// @notice The serials of the node certificates revoked by proposal, in the order revoked.
    function revokedCertificates() external view returns (bytes[] memory serials);

    /// @notice The chain parameters set by the committee (0: the default).
    function chainParameters()
        external
        view
        returns (uint64 blockGasLimit, uint64 blockIntervalMs, uint64 txpoolMaxTxs, uint64 txpoolMaxPerAccount, uint64 paymentFeeBps);

    /// @notice The rate of gas paid in currency `token`, in its smallest unit per native coin
    ///         of gas fee (0: none set, so gas cannot be paid in it).
    function gasRate(address token) external view returns (uint128 unitsPerCoin);

    /// @notice The rules in force, the epoch (changes of the committee or rules so far) and
    ///         the committee's total weight.
    function rules() external view returns (Rules memory current, uint64 epoch, uint64 totalWeight);
}
