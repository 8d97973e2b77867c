//! Typed bindings of the Governance module (`IGovernance.sol`, `docs/modules/governance.md`).

use crate::{BlockId, Client, Receipt, SdkError};
use IGovernance::{Choice, Kind, Role};
use alloy_primitives::{Address, Bytes};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
pub use banyan_modules::governance::status_name;
pub use banyan_modules::{GOVERNANCE_ADDRESS, IGovernance};

/// What a proposal asks for, with its typed payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalAction {
    /// Add `governor` with `weight`.
    AddGovernor {
        /// The new governor.
        governor: Address,
        /// Its weight.
        weight: u64,
    },
    /// Remove `governor`.
    RemoveGovernor {
        /// The governor to remove.
        governor: Address,
    },
    /// Give `governor` a new `weight`.
    SetWeight {
        /// The governor.
        governor: Address,
        /// Its new weight.
        weight: u64,
    },
    /// New thresholds (basis points) and default voting period (blocks).
    SetRules {
        /// Voted weight / total weight needed.
        participation_bps: u16,
        /// Yes / (yes + no) needed.
        approval_bps: u16,
        /// Default blocks a proposal stays open.
        voting_period: u64,
    },
    /// Grant `role` to `account`.
    GrantRole {
        /// The account.
        account: Address,
        /// The role.
        role: Role,
    },
    /// Revoke `role` from `account`.
    RevokeRole {
        /// The account.
        account: Address,
        /// The role.
        role: Role,
    },
    /// Freeze an account (it cannot send) or a contract (it cannot be called).
    Freeze {
        /// The account or contract.
        account: Address,
    },
    /// Lift a freeze.
    Unfreeze {
        /// The account or contract.
        account: Address,
    },
    /// Switch deploy permission or method permission on or off.
    SetPermission {
        /// Which check.
        permission: IGovernance::Permission,
        /// On or off.
        enabled: bool,
    },
    /// Name a contract's admin.
    SetContractAdmin {
        /// The contract.
        target: Address,
        /// Its new admin.
        admin: Address,
    },
    /// Add a validator by its node's public key (64 bytes in the chain's suite).
    AddValidator {
        /// The public key.
        public_key: Bytes,
        /// Its voting power.
        power: u64,
    },
    /// Remove a validator.
    RemoveValidator {
        /// The validator's address.
        validator: Address,
    },
    /// Change a validator's voting power.
    SetValidatorPower {
        /// The validator's address.
        validator: Address,
        /// Its new voting power.
        power: u64,
    },
    /// Revoke a node certificate by its serial (big-endian bytes): every node refuses it.
    RevokeCertificate {
        /// The serial.
        serial: Bytes,
    },
    /// Set a chain parameter (0: back to the default).
    SetChainParameter {
        /// Which one.
        parameter: IGovernance::Parameter,
        /// Its value.
        value: u64,
    },
    /// Set the rate of gas paid in a currency of the Payments module (0: withdraw it).
    SetGasRate {
        /// The currency's token address.
        token: Address,
        /// Its smallest units per native coin (10^18 wei) of gas fee.
        units_per_coin: u128,
    },
    /// Call a native module as the committee (e.g. Identity's `admitIssuer`).
    ModuleCall {
        /// The module's address.
        module: Address,
        /// The ABI call data.
        data: Bytes,
    },
}

impl ProposalAction {
    /// The proposal kind and its ABI-encoded payload.
    pub fn encode(&self) -> (Kind, Vec<u8>) {
        match self.clone() {
            Self::AddGovernor { governor, weight } => (
                Kind::AddGovernor,
                IGovernance::GovernorChange { governor, weight }.abi_encode(),
            ),
            Self::RemoveGovernor { governor } => (Kind::RemoveGovernor, governor.abi_encode()),
            Self::SetWeight { governor, weight } => (
                Kind::SetWeight,
                IGovernance::GovernorChange { governor, weight }.abi_encode(),
            ),
            Self::SetRules {
                participation_bps,
                approval_bps,
                voting_period,
            } => (
                Kind::SetRules,
                IGovernance::Rules {
                    participationBps: participation_bps,
                    approvalBps: approval_bps,
                    votingPeriod: voting_period,
                }
                .abi_encode(),
            ),
            Self::GrantRole { account, role } => (
                Kind::GrantRole,
                IGovernance::RoleChange { account, role }.abi_encode(),
            ),
            Self::RevokeRole { account, role } => (
                Kind::RevokeRole,
                IGovernance::RoleChange { account, role }.abi_encode(),
            ),
            Self::Freeze { account } => (Kind::Freeze, account.abi_encode()),
            Self::Unfreeze { account } => (Kind::Unfreeze, account.abi_encode()),
            Self::SetPermission {
                permission,
                enabled,
            } => (
                Kind::SetPermission,
                IGovernance::PermissionSwitch {
                    permission,
                    enabled,
                }
                .abi_encode(),
            ),
            Self::SetContractAdmin { target, admin } => (
                Kind::SetContractAdmin,
                IGovernance::AdminChange { target, admin }.abi_encode(),
            ),
            Self::AddValidator { public_key, power } => (
                Kind::AddValidator,
                IGovernance::NewValidator {
                    publicKey: public_key,
                    power,
                }
                .abi_encode(),
            ),
            Self::RemoveValidator { validator } => (Kind::RemoveValidator, validator.abi_encode()),
            Self::SetValidatorPower { validator, power } => (
                Kind::SetValidatorPower,
                IGovernance::ValidatorPower { validator, power }.abi_encode(),
            ),
            Self::RevokeCertificate { serial } => (Kind::RevokeCertificate, serial.abi_encode()),
            Self::SetChainParameter { parameter, value } => (
                Kind::SetChainParameter,
                IGovernance::ParameterChange { parameter, value }.abi_encode(),
            ),
            Self::SetGasRate {
                token,
                units_per_coin,
            } => (
                Kind::SetGasRate,
                IGovernance::GasRate {
                    token,
                    unitsPerCoin: units_per_coin,
                }
                .abi_encode(),
            ),
            Self::ModuleCall { module, data } => (
                Kind::ModuleCall,
                IGovernance::ModuleCall { module, data }.abi_encode(),
            ),
        }
    }
}

/// Call data of `propose`; `voting_period` 0 takes the committee's default.
pub fn propose_call(action: &ProposalAction, description: &str, voting_period: u64) -> Bytes {
    let (kind, payload) = action.encode();
    IGovernance::proposeCall {
        kind,
        payload: payload.into(),
        description: description.to_string(),
        votingPeriod: voting_period,
    }
    .abi_encode()
    .into()
}

/// Call data of `vote`.
pub fn vote_call(id: u64, choice: Choice) -> Bytes {
    IGovernance::voteCall { id, choice }.abi_encode().into()
}

/// Call data of `cancel`.
pub fn cancel_call(id: u64) -> Bytes {
    IGovernance::cancelCall { id }.abi_encode().into()
}

/// Call data of `close`.
pub fn close_call(id: u64) -> Bytes {
    IGovernance::closeCall { id }.abi_encode().into()
}

/// The id of the proposal a `propose` transaction made, from its `ProposalCreated` log.
pub fn created_id(receipt: &Receipt) -> Option<u64> {
    receipt
        .logs
        .iter()
        .filter(|log| log.address == GOVERNANCE_ADDRESS)
        .find_map(|log| {
            IGovernance::ProposalCreated::decode_raw_log(log.topics.iter().copied(), &log.data).ok()
        })
        .map(|event| event.id)
}

/// `eth_call` of one Governance view at `at`, decoded.
async fn view<C: SolCall>(client: &Client, call: C, at: BlockId) -> Result<C::Return, SdkError> {
    crate::view_call(client, GOVERNANCE_ADDRESS, call, at).await
}

/// Proposal `id` at block `at`.
pub async fn proposal(
    client: &Client,
    id: u64,
    at: BlockId,
) -> Result<IGovernance::Proposal, SdkError> {
    view(client, IGovernance::getProposalCall { id }, at).await
}

/// The number of proposals ever made, at block `at`.
pub async fn proposal_count(client: &Client, at: BlockId) -> Result<u64, SdkError> {
    view(client, IGovernance::proposalCountCall {}, at).await
}

/// The committee (governors and weights, in order) and its rules, epoch and total weight, at
/// block `at`.
pub async fn committee(
    client: &Client,
    at: BlockId,
) -> Result<(Vec<(Address, u64)>, IGovernance::rulesReturn), SdkError> {
    let members = view(client, IGovernance::governorsCall {}, at).await?;
    let rules = view(client, IGovernance::rulesCall {}, at).await?;
    Ok((
        members.accounts.into_iter().zip(members.weights).collect(),
        rules,
    ))
}

/// The holders of `role` at block `at`.
pub async fn role_members(
    client: &Client,
    role: Role,
    at: BlockId,
) -> Result<Vec<Address>, SdkError> {
    view(client, IGovernance::roleMembersCall { role }, at).await
}

/// The latest validator set (address and power) and the height from which it decides blocks,
/// at block `at`.
pub async fn validators(
    client: &Client,
    at: BlockId,
) -> Result<(Vec<(Address, u64)>, u64), SdkError> {
    let set = view(client, IGovernance::validatorsCall {}, at).await?;
    Ok((
        set.accounts.into_iter().zip(set.powers).collect(),
        set.effectiveFrom,
    ))
}

/// The proposal that froze `account` (0: not frozen), at block `at`.
pub async fn frozen_by(client: &Client, account: Address, at: BlockId) -> Result<u64, SdkError> {
    view(client, IGovernance::frozenByCall { account }, at).await
}

/// Whether deploy permission and method permission are on, at block `at`.
pub async fn permissions(client: &Client, at: BlockId) -> Result<(bool, bool), SdkError> {
    let p = view(client, IGovernance::permissionsCall {}, at).await?;
    Ok((p.deploy, p.method))
}

/// The chain parameters the committee set (0: the default), at block `at`.
pub async fn chain_parameters(
    client: &Client,
    at: BlockId,
) -> Result<IGovernance::chainParametersReturn, SdkError> {
    view(client, IGovernance::chainParametersCall {}, at).await
}

/// The module and call data of a `ModuleCall` proposal's payload.
pub fn module_call_of(payload: &[u8]) -> Option<(Address, Bytes)> {
    IGovernance::ModuleCall::abi_decode(payload)
        .ok()
        .map(|call| (call.module, call.data))
}

/// The name of a kind, as the CLI spells it.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::AddGovernor => "add-governor",
        Kind::RemoveGovernor => "remove-governor",
        Kind::SetWeight => "set-weight",
        Kind::SetRules => "set-rules",
        Kind::GrantRole => "grant-role",
        Kind::RevokeRole => "revoke-role",
        Kind::Freeze => "freeze",
        Kind::Unfreeze => "unfreeze",
        Kind::SetPermission => "set-permission",
        Kind::SetContractAdmin => "set-contract-admin",
        Kind::AddValidator => "add-validator",
        Kind::RemoveValidator => "remove-validator",
        Kind::SetValidatorPower => "set-power",
        Kind::SetChainParameter => "set-parameter",
        Kind::RevokeCertificate => "revoke-certificate",
        Kind::SetGasRate => "set-gas-rate",
        Kind::ModuleCall => "module-call",
        _ => "none",
    }
}
