//! `banyan-module-governance`: the committee that runs the consortium, a stateful native module
//! at [`GOVERNANCE_ADDRESS`] with the Solidity interface `contracts/interfaces/IGovernance.sol`.
//!
//! Governors with weights propose changes and vote yes, no or abstain (changeable while the
//! proposal is open). A proposal passes when participation (voted weight / total weight) and
//! approval (yes / (yes + no)) reach the committee's thresholds, and it executes in the call
//! whose vote passes it: atomically, exactly once. An action that cannot be applied leaves the
//! proposal `Failed` with the reason and applies nothing; the call (and the block) go on.
//!
//! The committee and rules that judge a proposal are those in force when it was created: any
//! executed change of the committee or its rules starts a new *epoch*, and every proposal still
//! open from an earlier epoch becomes `Superseded` rather than pass under rules nobody voted
//! for. See `docs/modules/governance.md` for the rules, state layout ([`layout`]), events,
//! errors and gas.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod layout;
pub mod params;
pub mod permissions;
pub mod validators;

use alloy_primitives::{Address, Bytes, U256, address};
use alloy_sol_types::{SolCall, SolInterface, SolValue};
use banyan_module_api::{
    GenesisContext, GenesisError, GuardedCall, ModuleCallContext, ModuleError, ModuleState,
    NativeModule, Role, ScreenedTx, ViewAnswer, ViewKind, ViewQuery, bad_call, failure_reason, gas,
    slots::Word,
};
use layout::{ProposalFields, ProposalRecord, RulesWord};

/// The Solidity interface, generated from `contracts/interfaces/IGovernance.sol` (the file is
/// the single source of truth for the ABI and the events).
#[allow(missing_docs)]
mod abi {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        "../../../contracts/interfaces/IGovernance.sol"
    );
}
use IGovernance::IGovernanceCalls as Call;
pub use abi::IGovernance;

/// Where Governance lives on every chain that enables it.
pub const GOVERNANCE_ADDRESS: Address = address!("0000000000000000000000000000000000001002");

/// The version of the rules below. A chain spec names the version it runs.
pub const VERSION: u32 = 1;

/// Thresholds are in basis points: 10000 is 100 %.
pub const BPS: u16 = 10_000;
/// Most governors a committee has (every vote and every change stays bounded).
pub const MAX_GOVERNORS: u64 = 64;
/// Largest weight of one governor.
pub const MAX_WEIGHT: u64 = 1_000_000;
/// Most proposals open at once.
pub const MAX_OPEN: u64 = 64;
/// Longest voting period, in blocks.
pub const MAX_VOTING_PERIOD: u64 = 10_000_000;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 256;
/// Longest payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 1024;
/// Most holders of one role.
pub const MAX_ROLE_MEMBERS: u64 = 256;
/// Node certificates the chain may revoke by proposal.
pub const MAX_REVOKED: u64 = 1024;
/// Bytes of a certificate serial (RFC 5280).
pub const MAX_SERIAL_BYTES: usize = 20;
/// Longest stored failure reason, in bytes (longer reasons are cut at a character boundary).
pub const MAX_REASON_BYTES: usize = 256;

/// Default participation threshold: two thirds of the weight must vote.
pub const DEFAULT_PARTICIPATION_BPS: u16 = 6_667;
/// Default approval threshold: two thirds of the yes and no weight must be yes.
pub const DEFAULT_APPROVAL_BPS: u16 = 6_667;
/// Default voting period, in blocks (about a day at one block a second).
pub const DEFAULT_VOTING_PERIOD: u64 = 86_400;

/// The name of a proposal status, as `IGovernance.sol` spells it (`"Open"`, `"Executed"`, …).
pub fn status_name(status: IGovernance::Status) -> &'static str {
    status::name(u8::from(status))
}

/// Stored status codes (the interface's `Status` enum).
mod status {
    pub(crate) const OPEN: u8 = 1;
    pub(crate) const EXECUTED: u8 = 2;
    pub(crate) const REJECTED: u8 = 3;
    pub(crate) const EXPIRED: u8 = 4;
    pub(crate) const FAILED: u8 = 5;
    pub(crate) const SUPERSEDED: u8 = 6;
    pub(crate) const CANCELLED: u8 = 7;

    pub(crate) fn name(code: u8) -> &'static str {
        match code {
            OPEN => "Open",
            EXECUTED => "Executed",
            REJECTED => "Rejected",
            EXPIRED => "Expired",
            FAILED => "Failed",
            SUPERSEDED => "Superseded",
            CANCELLED => "Cancelled",
            _ => "None",
        }
    }
}

/// Vote codes (the interface's `Choice` enum).
const YES: u8 = 1;
const NO: u8 = 2;
const ABSTAIN: u8 = 3;

/// The genesis parameters of the `governance` module in a chain spec.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceParams {
    /// The first committee, in order.
    pub governors: Vec<GovernorParam>,
    /// Voted weight / total weight needed, in basis points.
    #[serde(default = "default_participation")]
    pub participation_bps: u16,
    /// Yes / (yes + no) needed, in basis points.
    #[serde(default = "default_approval")]
    pub approval_bps: u16,
    /// Blocks a proposal stays open unless its creator asks for another period.
    #[serde(default = "default_period")]
    pub voting_period: u64,
    /// Whether only `deployer` accounts may create contracts from genesis on (the committee
    /// can switch it either way later).
    #[serde(default)]
    pub deploy_permission: bool,
    /// Whether contract admins' per-function access lists are enforced from genesis on.
    #[serde(default)]
    pub method_permission: bool,
    /// Roles held from genesis on, by role name (`issuer`, `institution`, `regulator`,
    /// `auditor`, `deployer`, `rate_provider`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub roles: std::collections::BTreeMap<String, Vec<Address>>,
}

/// One governor of the first committee.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernorParam {
    /// The governor's account.
    pub account: Address,
    /// Its weight (1 to [`MAX_WEIGHT`]).
    pub weight: u64,
}

fn default_participation() -> u16 {
    DEFAULT_PARTICIPATION_BPS
}
fn default_approval() -> u16 {
    DEFAULT_APPROVAL_BPS
}
fn default_period() -> u64 {
    DEFAULT_VOTING_PERIOD
}

impl GovernanceParams {
    /// A committee of `governors`, each of weight 1, with the default rules.
    pub fn equal(governors: &[Address]) -> Self {
        Self {
            governors: governors
                .iter()
                .map(|&account| GovernorParam { account, weight: 1 })
                .collect(),
            participation_bps: DEFAULT_PARTICIPATION_BPS,
            approval_bps: DEFAULT_APPROVAL_BPS,
            voting_period: DEFAULT_VOTING_PERIOD,
            deploy_permission: false,
            method_permission: false,
            roles: Default::default(),
        }
    }

    /// `self` with every role held by `account` (what `banyan dev` starts with, so that one
    /// account can try every module at once).
    pub fn with_every_role(mut self, account: Address) -> Self {
        for role in Role::ALL {
            self.roles
                .entry(role.name().to_string())
                .or_default()
                .push(account);
        }
        self
    }

    /// The parameters as chain-spec JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), String> {
        if self.governors.is_empty() {
            return Err("`governors` is empty; a chain needs at least one governor".into());
        }
        if self.governors.len() as u64 > MAX_GOVERNORS {
            return Err(format!(
                "{} governors, above the bound of {MAX_GOVERNORS}",
                self.governors.len()
            ));
        }
        for (i, g) in self.governors.iter().enumerate() {
            if g.account == Address::ZERO {
                return Err(format!("governor {i} is the zero address"));
            }
            check_weight(g.weight).map_err(|e| format!("governor {}: {e}", g.account))?;
            if self.governors[..i].iter().any(|o| o.account == g.account) {
                return Err(format!("governor {} is listed twice", g.account));
            }
        }
        for (name, accounts) in &self.roles {
            if !Role::ALL.iter().any(|r| r.name() == name) {
                return Err(format!(
                    "`roles`: unknown role `{name}`; roles are issuer, institution, regulator, \
                     auditor, deployer, rate_provider"
                ));
            }
            if accounts.len() as u64 > MAX_ROLE_MEMBERS {
                return Err(format!(
                    "`roles.{name}` lists {} accounts, above the bound of {MAX_ROLE_MEMBERS}",
                    accounts.len()
                ));
            }
            for (i, a) in accounts.iter().enumerate() {
                if *a == Address::ZERO || accounts[..i].contains(a) {
                    return Err(format!(
                        "`roles.{name}`: {a} is the zero address or listed twice"
                    ));
                }
            }
        }
        check_rules(&IGovernance::Rules {
            participationBps: self.participation_bps,
            approvalBps: self.approval_bps,
            votingPeriod: self.voting_period,
        })
    }
}

/// The Governance module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Governance;

impl NativeModule for Governance {
    fn address(&self) -> Address {
        GOVERNANCE_ADDRESS
    }

    fn name(&self) -> &'static str {
        "governance"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn views(&self) -> &'static [ViewKind] {
        &[
            ViewKind::Role,
            ViewKind::Frozen,
            ViewKind::ChainParameter,
            ViewKind::GasRate,
        ]
    }

    fn answer(
        &self,
        query: &ViewQuery,
        state: &mut ModuleState<'_>,
    ) -> Result<ViewAnswer, ModuleError> {
        match query {
            ViewQuery::HasRole { account, role } => Ok(ViewAnswer::HasRole(holds_role(
                state,
                *role as u8,
                *account,
            )?)),
            ViewQuery::FrozenBy { account } => Ok(ViewAnswer::FrozenBy(permissions::frozen_by(
                state, *account,
            )?)),
            ViewQuery::ChainParameter { parameter } => Ok(ViewAnswer::ChainParameter(
                state.sload(layout::param_slot(*parameter))?.as_u64(),
            )),
            ViewQuery::GasRate { currency } => Ok(ViewAnswer::GasRate(gas_rate(state, *currency)?)),
            other => Err(ModuleError::revert(format!(
                "governance: does not answer {:?}",
                other.kind()
            ))),
        }
    }

    fn screens_transactions(&self) -> bool {
        true
    }

    fn screen(&self, tx: &ScreenedTx<'_>, state: &mut ModuleState<'_>) -> Result<(), ModuleError> {
        permissions::screen(tx, state)
    }

    fn guards_calls(&self) -> bool {
        true
    }

    fn guard_call(
        &self,
        call: &GuardedCall,
        state: &mut ModuleState<'_>,
    ) -> Result<(), ModuleError> {
        permissions::guard(call, state)
    }

    fn genesis(
        &self,
        params: &serde_json::Value,
        chain: &GenesisContext,
        state: &mut ModuleState<'_>,
    ) -> Result<(), GenesisError> {
        if params.is_null() {
            return Err(GenesisError::Params(
                "governance needs its first committee: \
                 {\"governors\": [{\"account\": \"0x…\", \"weight\": 1}]}"
                    .into(),
            ));
        }
        let params: GovernanceParams = serde_json::from_value(params.clone())
            .map_err(|e| GenesisError::Params(e.to_string()))?;
        params.validate().map_err(GenesisError::Params)?;
        let mut total = 0u64;
        for g in &params.governors {
            let position =
                layout::members().push(state, layout::pack_member(g.account, g.weight))?;
            layout::write_member(state, g.account, g.weight, position + 1)?;
            total += g.weight;
        }
        layout::write_rules(
            state,
            &RulesWord {
                participation_bps: params.participation_bps,
                approval_bps: params.approval_bps,
                voting_period: params.voting_period,
                epoch: 0,
                total_weight: total,
            },
        )?;
        layout::write_switches(
            state,
            &layout::SwitchesWord {
                deploy: params.deploy_permission,
                method: params.method_permission,
                frozen: 0,
            },
        )?;
        if chain.validators.is_empty() {
            return Err(GenesisError::Params(
                "the chain has no validators for governance to keep".into(),
            ));
        }
        validators::genesis(state, &chain.validators)?;
        for role in Role::ALL {
            for account in params.roles.get(role.name()).into_iter().flatten() {
                let code = role as u8;
                let position =
                    layout::role_members(code).push(state, layout::pack_address(*account))?;
                state.sstore(
                    layout::role_slot(code, *account),
                    Word::from_u64(position + 1),
                )?;
            }
        }
        Ok(())
    }

    fn call(
        &self,
        ctx: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        state.charge(gas::call_cost(input.len()))?;
        let call = Call::abi_decode(input).map_err(|error| {
            bad_call(
                "Governance",
                "IGovernance.sol",
                Call::SELECTORS,
                input,
                &error,
            )
        })?;
        let output = match call {
            Call::propose(call) => {
                let id = propose(ctx, state, &call)?;
                IGovernance::proposeCall::abi_encode_returns(&id)
            }
            Call::vote(call) => {
                vote(ctx, state, call.id, u8::from(call.choice))?;
                Vec::new()
            }
            Call::cancel(call) => {
                cancel(ctx, state, call.id)?;
                Vec::new()
            }
            Call::close(call) => {
                close(ctx, state, call.id)?;
                Vec::new()
            }
            Call::getProposal(call) => {
                let proposal = read_proposal(ctx, state, call.id)?;
                IGovernance::getProposalCall::abi_encode_returns(&proposal)
            }
            Call::proposalCount(_) => {
                let count = state.sload(layout::count_slot())?.as_u64();
                IGovernance::proposalCountCall::abi_encode_returns(&count)
            }
            Call::voteOf(call) => {
                let choice = read_vote(state, call.id, call.voter)?;
                IGovernance::voteOfCall::abi_encode_returns(&choice_enum(choice))
            }
            Call::governors(_) => {
                let (words, _) = layout::members().page(state, 0, MAX_GOVERNORS)?;
                let (accounts, weights): (Vec<Address>, Vec<u64>) =
                    words.into_iter().map(layout::unpack_member).unzip();
                IGovernance::governorsCall::abi_encode_returns(&IGovernance::governorsReturn {
                    accounts,
                    weights,
                })
            }
            Call::hasRole(call) => {
                let held = holds_role(state, u8::from(call.role), call.account)?;
                IGovernance::hasRoleCall::abi_encode_returns(&held)
            }
            Call::roleMembers(call) => {
                let (words, _) =
                    layout::role_members(u8::from(call.role)).page(state, 0, MAX_ROLE_MEMBERS)?;
                let accounts: Vec<Address> =
                    words.into_iter().map(|w| w.unpack().address()).collect();
                IGovernance::roleMembersCall::abi_encode_returns(&accounts)
            }
            Call::weightOf(call) => {
                let (weight, _) = layout::read_member(state, call.account)?;
                IGovernance::weightOfCall::abi_encode_returns(&weight)
            }
            Call::claimContractAdmin(call) => {
                permissions::claim_admin(ctx, state, call.target, call.nonce)?;
                Vec::new()
            }
            Call::transferContractAdmin(call) => {
                permissions::transfer_admin(ctx, state, call.target, call.admin)?;
                Vec::new()
            }
            Call::setMethodAccess(call) => {
                permissions::set_access(
                    ctx,
                    state,
                    call.target,
                    call.selector.0,
                    u8::from(call.access),
                )?;
                Vec::new()
            }
            Call::setMethodAccount(call) => {
                permissions::set_account(
                    ctx,
                    state,
                    call.target,
                    call.selector.0,
                    call.account,
                    call.listed,
                )?;
                Vec::new()
            }
            Call::contractAdmin(call) => {
                let admin = permissions::admin_of(state, call.target)?;
                IGovernance::contractAdminCall::abi_encode_returns(&admin)
            }
            Call::methodAccess(call) => {
                let (access, accounts) =
                    permissions::method_access(state, call.target, call.selector.0)?;
                IGovernance::methodAccessCall::abi_encode_returns(
                    &IGovernance::methodAccessReturn {
                        access: IGovernance::Access::try_from(access)
                            .unwrap_or(IGovernance::Access::Open),
                        accounts,
                    },
                )
            }
            Call::frozenBy(call) => {
                let by = permissions::frozen_by(state, call.account)?;
                IGovernance::frozenByCall::abi_encode_returns(&by)
            }
            Call::permissions(_) => {
                let switches = layout::read_switches(state)?;
                IGovernance::permissionsCall::abi_encode_returns(&IGovernance::permissionsReturn {
                    deploy: switches.deploy,
                    method: switches.method,
                })
            }
            Call::canCall(call) => {
                let switches = layout::read_switches(state)?;
                let refusal = permissions::call_refusal(
                    state,
                    &switches,
                    call.caller,
                    call.target,
                    call.selector.0,
                )?;
                IGovernance::canCallCall::abi_encode_returns(&IGovernance::canCallReturn {
                    allowed: refusal.is_none(),
                    reason: refusal.unwrap_or_default(),
                })
            }
            Call::validatorsAt(call) => {
                let set = validators::at(state, call.height)?;
                let mut out = IGovernance::validatorsAtReturn {
                    accounts: Vec::with_capacity(set.len()),
                    publicKeys: Vec::with_capacity(set.len()),
                    powers: Vec::with_capacity(set.len()),
                };
                for (account, key, power) in set {
                    out.accounts.push(account);
                    out.publicKeys.push(key);
                    out.powers.push(power);
                }
                IGovernance::validatorsAtCall::abi_encode_returns(&out)
            }
            Call::validators(_) => {
                let (accounts, powers) = validators::latest(state)?.into_iter().unzip();
                let effective_from = validators::effective_from(state)?;
                IGovernance::validatorsCall::abi_encode_returns(&IGovernance::validatorsReturn {
                    accounts,
                    powers,
                    effectiveFrom: effective_from,
                })
            }
            Call::revokedCertificates(_) => {
                let (words, _) = layout::revoked_list().page(state, 0, MAX_REVOKED)?;
                let serials: Vec<Bytes> = words
                    .into_iter()
                    .map(|w| layout::unpack_serial(w.0).into())
                    .collect();
                IGovernance::revokedCertificatesCall::abi_encode_returns(&serials)
            }
            Call::chainParameters(_) => {
                let mut read = |p: u8| -> Result<u64, ModuleError> {
                    Ok(state.sload(layout::param_slot(p))?.as_u64())
                };
                IGovernance::chainParametersCall::abi_encode_returns(
                    &IGovernance::chainParametersReturn {
                        blockGasLimit: read(params::BLOCK_GAS_LIMIT)?,
                        blockIntervalMs: read(params::BLOCK_INTERVAL_MS)?,
                        txpoolMaxTxs: read(params::TXPOOL_MAX_TXS)?,
                        txpoolMaxPerAccount: read(params::TXPOOL_MAX_PER_ACCOUNT)?,
                        paymentFeeBps: read(params::PAYMENT_FEE_BPS)?,
                    },
                )
            }
            Call::gasRate(call) => {
                IGovernance::gasRateCall::abi_encode_returns(&gas_rate(state, call.token)?)
            }
            Call::rules(_) => {
                let rules = layout::read_rules(state)?;
                IGovernance::rulesCall::abi_encode_returns(&IGovernance::rulesReturn {
                    current: IGovernance::Rules {
                        participationBps: rules.participation_bps,
                        approvalBps: rules.approval_bps,
                        votingPeriod: rules.voting_period,
                    },
                    epoch: rules.epoch,
                    totalWeight: rules.total_weight,
                })
            }
        };
        Ok(output.into())
    }
}

/// What a proposal does, decoded from its kind and payload.
#[derive(Clone)]
enum Action {
    AddGovernor {
        governor: Address,
        weight: u64,
    },
    RemoveGovernor {
        governor: Address,
    },
    SetWeight {
        governor: Address,
        weight: u64,
    },
    SetRules(IGovernance::Rules),
    GrantRole {
        account: Address,
        role: Role,
    },
    RevokeRole {
        account: Address,
        role: Role,
    },
    Freeze {
        account: Address,
    },
    Unfreeze {
        account: Address,
    },
    SetPermission {
        permission: u8,
        enabled: bool,
    },
    SetContractAdmin {
        target: Address,
        admin: Address,
    },
    AddValidator {
        validator: Address,
        key: Vec<u8>,
        power: u64,
    },
    RemoveValidator {
        validator: Address,
    },
    SetValidatorPower {
        validator: Address,
        power: u64,
    },
    SetChainParameter {
        parameter: u8,
        value: u64,
    },
    RevokeCertificate {
        serial: Vec<u8>,
    },
    SetGasRate {
        token: Address,
        rate: u128,
    },
    ModuleCall {
        module: Address,
        data: Vec<u8>,
    },
}

/// The highest gas rate the committee may set: 10^30 smallest units per native coin.
pub const MAX_GAS_RATE: u128 = 1_000_000_000_000_000_000_000_000_000_000;

/// The rate of gas paid in `token` (0: none).
fn gas_rate(state: &mut ModuleState<'_>, token: Address) -> Result<u128, ModuleError> {
    // Only `SetGasRate` writes the slot, with a value of at most MAX_GAS_RATE.
    Ok(state
        .sload(layout::gas_rate_slot(token))?
        .0
        .saturating_to::<u128>())
}

/// Whether the committee may set `rate` for `token`: a currency of this chain's Payments
/// module, within bounds, different from the current rate.
fn check_gas_rate(
    state: &mut ModuleState<'_>,
    token: Address,
    rate: u128,
) -> Result<Result<(), String>, ModuleError> {
    if rate > MAX_GAS_RATE {
        return Ok(Err(format!(
            "a gas rate is at most 10^30 smallest units per native coin, got {rate}"
        )));
    }
    if !state.answers(ViewKind::Currency) {
        return Ok(Err(
            "this chain runs no Payments module, so gas cannot be paid in a currency".into(),
        ));
    }
    let code = match state.ask(&ViewQuery::Currency { token })? {
        ViewAnswer::Currency(Some(code)) => code,
        ViewAnswer::Currency(None) => {
            return Ok(Err(format!(
                "{token} is not a currency of the Payments module (banyan currency list)"
            )));
        }
        other => {
            return Err(ModuleError::Invariant(format!(
                "Currency was answered with {other:?}"
            )));
        }
    };
    let current = gas_rate(state, token)?;
    Ok(if current == rate {
        Err(if rate == 0 {
            format!("{code} has no gas rate to withdraw")
        } else {
            format!("the gas rate of {code} is already {rate}")
        })
    } else {
        Ok(())
    })
}

/// The kinds, by code, as errors list them.
const KINDS: &str = "AddGovernor (1), RemoveGovernor (2), SetWeight (3), SetRules (4), \
     GrantRole (5), RevokeRole (6), Freeze (7), Unfreeze (8), SetPermission (9), \
     SetContractAdmin (10), AddValidator (11), RemoveValidator (12), SetValidatorPower (13), \
     SetChainParameter (14), RevokeCertificate (15), SetGasRate (16), ModuleCall (17)";

/// Whether a `ModuleCall` could be made now: the call is made and undone, whatever its outcome.
fn try_module_call(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    module: Address,
    data: &[u8],
) -> Result<Result<(), String>, ModuleError> {
    // A revert whose data no module emits: the trial succeeded and its effects are discarded.
    const TRIAL_PASSED: &[u8] = b"governance: trial call passed";
    let trial = state.atomically(|state| {
        module_call(ctx, state, module, data)?.map_err(ModuleError::revert)?;
        Err::<(), _>(ModuleError::Revert(Bytes::from_static(TRIAL_PASSED)))
    });
    match trial {
        Err(ModuleError::Revert(data)) if data.as_ref() == TRIAL_PASSED => Ok(Ok(())),
        Err(ModuleError::Revert(data)) => Ok(Err(failure_reason(&data, MAX_REASON_BYTES))),
        Err(other) => Err(other),
        Ok(()) => Ok(Ok(())),
    }
}

/// Makes a `ModuleCall` as the committee: `Ok(Err(reason))` when the module refused it (its
/// effects are then undone), so that a passed proposal whose call fails is recorded as failed
/// with the module's reason instead of reverting the vote that passed it. Running out of gas is
/// an error of the transaction, not an answer: it reverts whole and can be sent again.
fn module_call(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    module: Address,
    data: &[u8],
) -> Result<Result<(), String>, ModuleError> {
    if module == GOVERNANCE_ADDRESS {
        return Ok(Err(
            "a ModuleCall cannot call Governance itself; propose the action's own kind".into(),
        ));
    }
    if !state.is_module(module) {
        return Ok(Err(format!(
            "{module} is not a native module of this chain"
        )));
    }
    if data.len() < 4 {
        return Ok(Err(format!(
            "the call data is {} bytes; it must start with a function selector",
            data.len()
        )));
    }
    match state.call_module(ctx, module, GOVERNANCE_ADDRESS, data) {
        Ok(_) => Ok(Ok(())),
        Err(ModuleError::Revert(data)) => Ok(Err(failure_reason(&data, MAX_REASON_BYTES))),
        // Out of gas is not the module's answer: the transaction that passed the proposal fails
        // whole (its vote included) and can be sent again with more gas.
        Err(other) => Err(other),
    }
}

fn decode_payload<T: SolValue + From<<T::SolType as alloy_sol_types::SolType>::RustType>>(
    payload: &[u8],
    what: &str,
) -> Result<T, String> {
    T::abi_decode(payload).map_err(|e| format!("the payload must be an ABI-encoded {what}: {e}"))
}

impl Action {
    fn decode(kind: u8, payload: &[u8], suite: banyan_crypto::Suite) -> Result<Self, String> {
        let change = |payload: &[u8]| {
            decode_payload::<IGovernance::GovernorChange>(
                payload,
                "GovernorChange(address, uint64)",
            )
        };
        let address = |payload: &[u8]| decode_payload::<Address>(payload, "address");
        Ok(match kind {
            1 => change(payload).map(|c| Self::AddGovernor {
                governor: c.governor,
                weight: c.weight,
            })?,
            2 => Self::RemoveGovernor {
                governor: address(payload)?,
            },
            3 => change(payload).map(|c| Self::SetWeight {
                governor: c.governor,
                weight: c.weight,
            })?,
            4 => Self::SetRules(decode_payload(payload, "Rules(uint16, uint16, uint64)")?),
            5 | 6 => {
                let change: IGovernance::RoleChange =
                    decode_payload(payload, "RoleChange(address, uint8)")?;
                let role = Role::from_code(u8::from(change.role)).ok_or_else(|| {
                    "the role must be one of issuer (1), institution (2), regulator (3), \
                     auditor (4), deployer (5), rate_provider (6)"
                        .to_string()
                })?;
                let account = change.account;
                if kind == 5 {
                    Self::GrantRole { account, role }
                } else {
                    Self::RevokeRole { account, role }
                }
            }
            7 => Self::Freeze {
                account: address(payload)?,
            },
            8 => Self::Unfreeze {
                account: address(payload)?,
            },
            9 => {
                let switch: IGovernance::PermissionSwitch =
                    decode_payload(payload, "PermissionSwitch(uint8, bool)")?;
                let permission = u8::from(switch.permission);
                if !(permissions::DEPLOY..=permissions::METHOD).contains(&permission) {
                    return Err("the permission must be Deploy (1) or Method (2)".into());
                }
                Self::SetPermission {
                    permission,
                    enabled: switch.enabled,
                }
            }
            10 => {
                let change: IGovernance::AdminChange =
                    decode_payload(payload, "AdminChange(address, address)")?;
                Self::SetContractAdmin {
                    target: change.target,
                    admin: change.admin,
                }
            }
            11 => {
                let new: IGovernance::NewValidator =
                    decode_payload(payload, "NewValidator(bytes, uint64)")?;
                let key =
                    banyan_crypto::PublicKey::from_bytes(suite, &new.publicKey).map_err(|e| {
                        format!(
                            "the public key is not a {} key of {} bytes: {e}",
                            suite.name(),
                            validators::PUBLIC_KEY_BYTES
                        )
                    })?;
                Self::AddValidator {
                    validator: suite.address(&key),
                    key: new.publicKey.to_vec(),
                    power: new.power,
                }
            }
            12 => Self::RemoveValidator {
                validator: address(payload)?,
            },
            13 => {
                let change: IGovernance::ValidatorPower =
                    decode_payload(payload, "ValidatorPower(address, uint64)")?;
                Self::SetValidatorPower {
                    validator: change.validator,
                    power: change.power,
                }
            }
            14 => {
                let change: IGovernance::ParameterChange =
                    decode_payload(payload, "ParameterChange(uint8, uint64)")?;
                Self::SetChainParameter {
                    parameter: u8::from(change.parameter),
                    value: change.value,
                }
            }
            15 => {
                let serial: Bytes = decode_payload(payload, "bytes (the certificate serial)")?;
                // As X.509 writes it: big-endian, without leading zero bytes.
                let first = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
                Self::RevokeCertificate {
                    serial: serial[first..].to_vec(),
                }
            }
            16 => {
                let rate: IGovernance::GasRate =
                    decode_payload(payload, "GasRate(address, uint128)")?;
                Self::SetGasRate {
                    token: rate.token,
                    rate: rate.unitsPerCoin,
                }
            }
            17 => {
                let call: IGovernance::ModuleCall =
                    decode_payload(payload, "ModuleCall(address, bytes)")?;
                Self::ModuleCall {
                    module: call.module,
                    data: call.data.to_vec(),
                }
            }
            other => return Err(format!("unknown proposal kind {other}; kinds are {KINDS}")),
        })
    }

    /// Whether the action can be applied to the state as it is now: `Ok(Err(reason))` when it
    /// cannot. Checked when the proposal is made and again when it passes, so that applying it
    /// cannot fail half-way.
    fn check(
        &self,
        ctx: &ModuleCallContext,
        state: &mut ModuleState<'_>,
    ) -> Result<Result<(), String>, ModuleError> {
        let refusal = |reason: Option<String>| reason.map_or(Ok(()), Err);
        Ok(match self {
            Self::AddGovernor { governor, weight } => {
                let (current, _) = layout::read_member(state, *governor)?;
                if *governor == Address::ZERO {
                    Err("the zero address cannot be a governor".into())
                } else if current != 0 {
                    Err(format!(
                        "{governor} is already a governor (weight {current})"
                    ))
                } else if layout::members().len(state)? >= MAX_GOVERNORS {
                    Err(format!(
                        "the committee already has the maximum of {MAX_GOVERNORS} governors"
                    ))
                } else if permissions::frozen_by(state, *governor)? != 0 {
                    Err(format!(
                        "{governor} is frozen; unfreeze it before it joins the committee"
                    ))
                } else {
                    check_weight(*weight)
                }
            }
            Self::RemoveGovernor { governor } => {
                let (current, _) = layout::read_member(state, *governor)?;
                if current == 0 {
                    Err(format!("{governor} is not a governor"))
                } else if layout::members().len(state)? <= 1 {
                    Err(format!(
                        "{governor} is the last governor; the committee cannot be left empty"
                    ))
                } else {
                    Ok(())
                }
            }
            Self::SetWeight { governor, weight } => {
                let (current, _) = layout::read_member(state, *governor)?;
                if current == 0 {
                    Err(format!("{governor} is not a governor"))
                } else if current == *weight {
                    Err(format!("{governor} already has weight {weight}"))
                } else {
                    check_weight(*weight)
                }
            }
            Self::SetRules(rules) => check_rules(rules),
            Self::GrantRole { account, role } => {
                let held = holds_role(state, *role as u8, *account)?;
                if *account == Address::ZERO {
                    Err("the zero address cannot hold a role".into())
                } else if held {
                    Err(format!("{account} already holds the role {}", role.name()))
                } else if layout::role_members(*role as u8).len(state)? >= MAX_ROLE_MEMBERS {
                    Err(format!(
                        "the role {} already has the maximum of {MAX_ROLE_MEMBERS} holders",
                        role.name()
                    ))
                } else {
                    Ok(())
                }
            }
            Self::RevokeRole { account, role } => {
                if !holds_role(state, *role as u8, *account)? {
                    Err(format!("{account} does not hold the role {}", role.name()))
                } else {
                    Ok(())
                }
            }
            Self::Freeze { account } => {
                let by = permissions::frozen_by(state, *account)?;
                let (weight, _) = layout::read_member(state, *account)?;
                if *account == Address::ZERO || permissions::is_reserved(*account) {
                    Err(format!(
                        "{account} is a precompile's or a module's address, which cannot be frozen"
                    ))
                } else if by != 0 {
                    Err(format!("{account} is already frozen by proposal {by}"))
                } else if weight != 0 {
                    Err(format!(
                        "{account} is a governor; remove it from the committee first, so that \
                         the committee can never freeze itself out"
                    ))
                } else {
                    Ok(())
                }
            }
            Self::Unfreeze { account } => {
                if permissions::frozen_by(state, *account)? == 0 {
                    Err(format!("{account} is not frozen"))
                } else {
                    Ok(())
                }
            }
            Self::SetPermission {
                permission,
                enabled,
            } => {
                let switches = layout::read_switches(state)?;
                let current = if *permission == permissions::DEPLOY {
                    switches.deploy
                } else {
                    switches.method
                };
                if current == *enabled {
                    Err(format!(
                        "{} permission is already {}",
                        permission_name(*permission),
                        if *enabled { "on" } else { "off" }
                    ))
                } else {
                    Ok(())
                }
            }
            Self::SetContractAdmin { target, admin } => {
                if *admin == Address::ZERO {
                    Err("the zero address cannot be a contract's admin".into())
                } else if !state.account(*target)?.has_code {
                    Err(format!("{target} has no code; it is not a contract"))
                } else if permissions::admin_of(state, *target)? == *admin {
                    Err(format!("{admin} is already {target}'s admin"))
                } else {
                    Ok(())
                }
            }
            Self::AddValidator {
                validator, power, ..
            } => refusal(validators::check_change(state, *validator, *power, true)?),
            Self::RemoveValidator { validator } => {
                refusal(validators::check_change(state, *validator, 0, false)?)
            }
            Self::RevokeCertificate { serial } => {
                if serial.is_empty() || serial.len() > MAX_SERIAL_BYTES {
                    Err(format!(
                        "a certificate serial is 1 to {MAX_SERIAL_BYTES} bytes (RFC 5280), got {}",
                        serial.len()
                    ))
                } else if !state.sload(layout::revoked_slot(serial))?.is_zero() {
                    Err(format!(
                        "certificate 0x{} is already revoked",
                        alloy_primitives::hex::encode(serial)
                    ))
                } else if layout::revoked_list().len(state)? >= MAX_REVOKED {
                    Err(format!(
                        "the chain already revokes the maximum of {MAX_REVOKED} certificates"
                    ))
                } else {
                    Ok(())
                }
            }
            Self::SetGasRate { token, rate } => check_gas_rate(state, *token, *rate)?,
            Self::ModuleCall { module, data } => try_module_call(ctx, state, *module, data)?,
            Self::SetChainParameter { parameter, value } => {
                match params::check(*parameter, *value) {
                    Err(reason) => Err(reason),
                    Ok(()) if state.sload(layout::param_slot(*parameter))?.as_u64() == *value => {
                        Err(format!("{} is already {value}", params::name(*parameter)))
                    }
                    Ok(()) => Ok(()),
                }
            }
            Self::SetValidatorPower { validator, power } => {
                if *power == 0 {
                    Err(format!(
                        "voting power must be 1 to {}, got 0; RemoveValidator removes a validator",
                        validators::MAX_POWER
                    ))
                } else {
                    refusal(validators::check_change(state, *validator, *power, false)?)
                }
            }
        })
    }

    /// Whether applying the action changes the committee or its rules, which starts a new
    /// epoch and supersedes every proposal still open.
    fn changes_committee(&self) -> bool {
        matches!(
            self,
            Self::AddGovernor { .. }
                | Self::RemoveGovernor { .. }
                | Self::SetWeight { .. }
                | Self::SetRules(_)
        )
    }

    /// Applies a checked action that leaves the committee as it is.
    fn apply_other(
        &self,
        ctx: &ModuleCallContext,
        state: &mut ModuleState<'_>,
        id: u64,
    ) -> Result<(), ModuleError> {
        match self {
            Self::GrantRole { account, role } => {
                let code = *role as u8;
                let position =
                    layout::role_members(code).push(state, layout::pack_address(*account))?;
                state.sstore(
                    layout::role_slot(code, *account),
                    Word::from_u64(position + 1),
                )?;
                state.emit(&IGovernance::RoleGranted {
                    account: *account,
                    role: role_enum(code),
                    proposal: id,
                })
            }
            Self::RevokeRole { account, role } => {
                let code = *role as u8;
                let slot = layout::role_slot(code, *account);
                let index = state.sload(slot)?.as_u64() - 1;
                if let Some(moved) = layout::role_members(code).swap_remove(state, index)? {
                    let other = moved.unpack().address();
                    state.sstore(layout::role_slot(code, other), Word::from_u64(index + 1))?;
                }
                state.sstore(slot, Word::ZERO)?;
                state.emit(&IGovernance::RoleRevoked {
                    account: *account,
                    role: role_enum(code),
                    proposal: id,
                })
            }
            Self::Freeze { account } | Self::Unfreeze { account } => {
                let freeze = matches!(self, Self::Freeze { .. });
                let mut switches = layout::read_switches(state)?;
                if freeze {
                    switches.frozen += 1;
                    state.sstore(layout::frozen_slot(*account), Word::from_u64(id))?;
                } else {
                    switches.frozen -= 1;
                    state.sstore(layout::frozen_slot(*account), Word::ZERO)?;
                }
                layout::write_switches(state, &switches)?;
                if freeze {
                    state.emit(&IGovernance::Frozen {
                        account: *account,
                        proposal: id,
                    })
                } else {
                    state.emit(&IGovernance::Unfrozen {
                        account: *account,
                        proposal: id,
                    })
                }
            }
            Self::SetPermission {
                permission,
                enabled,
            } => {
                let mut switches = layout::read_switches(state)?;
                if *permission == permissions::DEPLOY {
                    switches.deploy = *enabled;
                } else {
                    switches.method = *enabled;
                }
                layout::write_switches(state, &switches)?;
                state.emit(&IGovernance::PermissionSet {
                    permission: IGovernance::Permission::try_from(*permission)
                        .unwrap_or(IGovernance::Permission::None),
                    enabled: *enabled,
                    proposal: id,
                })
            }
            Self::SetContractAdmin { target, admin } => {
                permissions::set_admin(state, *target, *admin, GOVERNANCE_ADDRESS, id)
            }
            Self::AddValidator {
                validator,
                key,
                power,
            } => validators::apply(state, ctx.block_number, id, *validator, *power, Some(key)),
            Self::RemoveValidator { validator } => {
                validators::apply(state, ctx.block_number, id, *validator, 0, None)
            }
            Self::SetValidatorPower { validator, power } => {
                validators::apply(state, ctx.block_number, id, *validator, *power, None)
            }
            Self::RevokeCertificate { serial } => {
                layout::revoked_list().push(state, layout::pack_serial(serial))?;
                state.sstore(layout::revoked_slot(serial), Word::from_u64(1))?;
                state.emit(&IGovernance::CertificateRevoked {
                    serial: serial.clone().into(),
                    proposal: id,
                })
            }
            Self::SetGasRate { token, rate } => {
                state.sstore(layout::gas_rate_slot(*token), Word(U256::from(*rate)))?;
                state.emit(&IGovernance::GasRateSet {
                    token: *token,
                    unitsPerCoin: *rate,
                    proposal: id,
                })
            }
            Self::SetChainParameter { parameter, value } => {
                state.sstore(layout::param_slot(*parameter), Word::from_u64(*value))?;
                state.emit(&IGovernance::ChainParameterSet {
                    parameter: IGovernance::Parameter::try_from(*parameter)
                        .unwrap_or(IGovernance::Parameter::None),
                    value: *value,
                    proposal: id,
                })
            }
            // `settle` makes the call (`module_call`), since only it can record a failure.
            Self::ModuleCall { .. } => Ok(()),
            Self::AddGovernor { .. }
            | Self::RemoveGovernor { .. }
            | Self::SetWeight { .. }
            | Self::SetRules(_) => Ok(()),
        }
    }

    /// Applies a checked action; a change of the committee or its rules starts a new epoch.
    fn apply(
        &self,
        ctx: &ModuleCallContext,
        state: &mut ModuleState<'_>,
        id: u64,
    ) -> Result<(), ModuleError> {
        if !self.changes_committee() {
            return self.apply_other(ctx, state, id);
        }
        let mut rules = layout::read_rules(state)?;
        match self {
            Self::AddGovernor { governor, weight } => {
                let position =
                    layout::members().push(state, layout::pack_member(*governor, *weight))?;
                layout::write_member(state, *governor, *weight, position + 1)?;
                rules.total_weight += weight;
                state.emit(&IGovernance::GovernorSet {
                    governor: *governor,
                    weight: *weight,
                })?;
            }
            Self::RemoveGovernor { governor } => {
                let (weight, position_plus_one) = layout::read_member(state, *governor)?;
                let index = position_plus_one - 1;
                if let Some(moved) = layout::members().swap_remove(state, index)? {
                    let (account, moved_weight) = layout::unpack_member(moved);
                    layout::write_member(state, account, moved_weight, index + 1)?;
                }
                layout::write_member(state, *governor, 0, 0)?;
                rules.total_weight -= weight;
                state.emit(&IGovernance::GovernorSet {
                    governor: *governor,
                    weight: 0,
                })?;
            }
            Self::SetWeight { governor, weight } => {
                let (old, position_plus_one) = layout::read_member(state, *governor)?;
                layout::members().set(
                    state,
                    position_plus_one - 1,
                    layout::pack_member(*governor, *weight),
                )?;
                layout::write_member(state, *governor, *weight, position_plus_one)?;
                rules.total_weight = rules.total_weight - old + weight;
                state.emit(&IGovernance::GovernorSet {
                    governor: *governor,
                    weight: *weight,
                })?;
            }
            Self::SetRules(new) => {
                rules.participation_bps = new.participationBps;
                rules.approval_bps = new.approvalBps;
                rules.voting_period = new.votingPeriod;
            }
            _ => {}
        }
        rules.epoch += 1;
        layout::write_rules(state, &rules)?;
        if let Self::SetRules(_) = self {
            state.emit(&IGovernance::RulesChanged {
                epoch: rules.epoch,
                participationBps: rules.participation_bps,
                approvalBps: rules.approval_bps,
                votingPeriod: rules.voting_period,
            })?;
        }
        Ok(())
    }
}

fn permission_name(code: u8) -> &'static str {
    if code == permissions::DEPLOY {
        "deploy"
    } else {
        "method"
    }
}

/// Whether `account` holds the role numbered `role`.
pub(crate) fn holds_role(
    state: &mut ModuleState<'_>,
    role: u8,
    account: Address,
) -> Result<bool, ModuleError> {
    Ok(!state.sload(layout::role_slot(role, account))?.is_zero())
}

fn check_weight(weight: u64) -> Result<(), String> {
    if weight == 0 || weight > MAX_WEIGHT {
        Err(format!("weight must be 1 to {MAX_WEIGHT}, got {weight}"))
    } else {
        Ok(())
    }
}

fn check_rules(rules: &IGovernance::Rules) -> Result<(), String> {
    for (name, bps) in [
        ("participation", rules.participationBps),
        ("approval", rules.approvalBps),
    ] {
        if bps == 0 || bps > BPS {
            return Err(format!(
                "the {name} threshold must be 1 to {BPS} basis points, got {bps}"
            ));
        }
    }
    if rules.votingPeriod == 0 || rules.votingPeriod > MAX_VOTING_PERIOD {
        return Err(format!(
            "the voting period must be 1 to {MAX_VOTING_PERIOD} blocks, got {}",
            rules.votingPeriod
        ));
    }
    Ok(())
}

fn not_a_governor(who: Address, doing: &str) -> ModuleError {
    ModuleError::revert(format!(
        "Governance: {who} is not a governor, so it cannot {doing}; the committee is listed by \
         governors(), and a governor can propose adding it: \
         banyan gov propose add-governor {who} --weight 1"
    ))
}

fn propose(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IGovernance::proposeCall,
) -> Result<u64, ModuleError> {
    let (weight, _) = layout::read_member(state, ctx.caller)?;
    if weight == 0 {
        return Err(not_a_governor(ctx.caller, "propose"));
    }
    let kind = u8::from(call.kind);
    if call.payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ModuleError::revert(format!(
            "Governance: the payload is {} bytes, above the {MAX_PAYLOAD_BYTES}-byte bound",
            call.payload.len()
        )));
    }
    check_text("description", &call.description, MAX_DESCRIPTION_BYTES)?;
    let action = Action::decode(kind, &call.payload, ctx.suite)
        .map_err(|e| ModuleError::revert(format!("Governance: {e}")))?;
    if let Err(reason) = action.check(ctx, state)? {
        return Err(ModuleError::revert(format!(
            "Governance: this proposal could not be applied now: {reason}"
        )));
    }
    let rules = layout::read_rules(state)?;
    let period = match call.votingPeriod {
        0 => rules.voting_period,
        p if p > MAX_VOTING_PERIOD => {
            return Err(ModuleError::revert(format!(
                "Governance: the voting period must be 0 (the default, {} blocks) to \
                 {MAX_VOTING_PERIOD} blocks, got {p}",
                rules.voting_period
            )));
        }
        p => p,
    };
    prune_open(state, ctx.block_number)?;
    if layout::open_list().len(state)? >= MAX_OPEN {
        return Err(ModuleError::revert(format!(
            "Governance: {MAX_OPEN} proposals are open, the most at once; vote on, cancel or \
             close some first"
        )));
    }
    let id = state.sload(layout::count_slot())?.as_u64() + 1;
    state.sstore(layout::count_slot(), Word::from_u64(id))?;
    let record = ProposalRecord::new(id);
    let mut fields = ProposalFields {
        creator: ctx.caller,
        kind,
        status: status::OPEN,
        participation_bps: rules.participation_bps,
        approval_bps: rules.approval_bps,
        created_at: ctx.block_number,
        expires_at: ctx.block_number.saturating_add(period),
        epoch: rules.epoch,
        closed_at: 0,
        yes: weight,
        no: 0,
        abstain: 0,
        total_weight: rules.total_weight,
    };
    record.write_fields(state, &fields)?;
    state.store_bytes(record.payload(), &call.payload)?;
    state.store_bytes(record.description(), call.description.as_bytes())?;
    layout::open_list().push(state, Word::from_u64(id))?;
    state.emit(&IGovernance::ProposalCreated {
        id,
        creator: ctx.caller,
        kind: call.kind,
        expiresAt: fields.expires_at,
    })?;
    // The creator votes yes.
    state.sstore(
        layout::vote_slot(id, ctx.caller),
        Word::from_u64(u64::from(YES)),
    )?;
    state.emit(&IGovernance::Voted {
        id,
        voter: ctx.caller,
        choice: choice_enum(YES),
        weight,
    })?;
    settle(ctx, state, id, &mut fields, action)?;
    Ok(id)
}

fn vote(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
    choice: u8,
) -> Result<(), ModuleError> {
    if !(YES..=ABSTAIN).contains(&choice) {
        return Err(ModuleError::revert(
            "Governance: the choice must be Yes (1), No (2) or Abstain (3)",
        ));
    }
    let record = ProposalRecord::new(id);
    let mut fields = existing(state, &record, id)?;
    ensure_open(&fields, id, ctx.block_number)?;
    let (weight, _) = layout::read_member(state, ctx.caller)?;
    if weight == 0 {
        return Err(not_a_governor(ctx.caller, "vote"));
    }
    let slot = layout::vote_slot(id, ctx.caller);
    let previous = state.sload(slot)?.as_u64() as u8;
    if previous == choice {
        return Err(ModuleError::revert(format!(
            "Governance: {} has already voted {} on proposal {id}",
            ctx.caller,
            choice_name(choice)
        )));
    }
    // Weights cannot have changed since the earlier vote: a change of the committee
    // supersedes every open proposal.
    if let Some(count) = tally(&mut fields, previous) {
        *count = count.saturating_sub(weight);
    }
    if let Some(count) = tally(&mut fields, choice) {
        *count += weight;
    }
    state.sstore(slot, Word::from_u64(u64::from(choice)))?;
    record.write_fields(state, &fields)?;
    state.emit(&IGovernance::Voted {
        id,
        voter: ctx.caller,
        choice: choice_enum(choice),
        weight,
    })?;
    if !passes(&fields) {
        return Ok(());
    }
    // Only a passing vote needs the action. The stored payload decoded when the proposal was
    // made; it decodes the same way now.
    let payload = state.load_bytes(record.payload(), MAX_PAYLOAD_BYTES)?;
    let action = Action::decode(fields.kind, &payload, ctx.suite)
        .map_err(|e| ModuleError::revert(format!("Governance: proposal {id}: {e}")))?;
    settle(ctx, state, id, &mut fields, action)
}

/// The tally a choice counts in; `None` for "not voted".
fn tally(fields: &mut ProposalFields, choice: u8) -> Option<&mut u64> {
    match choice {
        YES => Some(&mut fields.yes),
        NO => Some(&mut fields.no),
        ABSTAIN => Some(&mut fields.abstain),
        _ => None,
    }
}

fn participation_reached(f: &ProposalFields) -> bool {
    let voted = u128::from(f.yes) + u128::from(f.no) + u128::from(f.abstain);
    voted * u128::from(BPS) >= u128::from(f.participation_bps) * u128::from(f.total_weight)
}

fn passes(f: &ProposalFields) -> bool {
    let decided = u128::from(f.yes) + u128::from(f.no);
    participation_reached(f)
        && decided > 0
        && u128::from(f.yes) * u128::from(BPS) >= u128::from(f.approval_bps) * decided
}

/// If the proposal now passes, executes it (or records why it could not be), closes it, and
/// supersedes every other open proposal when the committee or its rules changed.
fn settle(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
    fields: &mut ProposalFields,
    action: Action,
) -> Result<(), ModuleError> {
    if !passes(fields) {
        return Ok(());
    }
    let record = ProposalRecord::new(id);
    remove_open(state, id)?;
    fields.closed_at = ctx.block_number;
    let outcome = match &action {
        // The call is its own check and its own effect: made once, it applies or says why not.
        // The proposal is recorded as executed first, so that the called module cannot vote on
        // it or settle it again (through a wallet the committee holds); a failure overwrites it.
        Action::ModuleCall { module, data } => {
            fields.status = status::EXECUTED;
            record.write_fields(state, fields)?;
            module_call(ctx, state, *module, data)?
        }
        _ => match action.check(ctx, state)? {
            Ok(()) => action.apply(ctx, state, id).map(Ok)?,
            refused => refused,
        },
    };
    match outcome {
        Err(reason) => {
            fields.status = status::FAILED;
            record.write_fields(state, fields)?;
            let reason = truncate(&reason, MAX_REASON_BYTES);
            state.store_bytes(record.reason(), reason.as_bytes())?;
            state.emit(&IGovernance::ProposalFailed {
                id,
                reason: reason.to_string(),
            })
        }
        Ok(()) => {
            fields.status = status::EXECUTED;
            record.write_fields(state, fields)?;
            state.emit(&IGovernance::ProposalExecuted { id })?;
            if action.changes_committee() {
                supersede_open(state, ctx.block_number)?;
            }
            Ok(())
        }
    }
}

/// Every open proposal of an earlier epoch can no longer pass: it becomes `Superseded`.
fn supersede_open(state: &mut ModuleState<'_>, block: u64) -> Result<(), ModuleError> {
    let epoch = layout::read_rules(state)?.epoch;
    let open = layout::open_list();
    // From the end, so that swap_remove only moves entries already visited.
    for index in (0..open.len(state)?).rev() {
        let id = open.get(state, index)?.as_u64();
        let record = ProposalRecord::new(id);
        let Some(mut fields) = record.fields(state)? else {
            continue;
        };
        if fields.epoch >= epoch {
            continue;
        }
        open.swap_remove(state, index)?;
        // An open proposal past its expiry ended then; close() records how.
        if fields.status == status::OPEN && block <= fields.expires_at {
            fields.status = status::SUPERSEDED;
            fields.closed_at = block;
            record.write_fields(state, &fields)?;
            state.emit(&IGovernance::ProposalSuperseded { id, epoch })?;
        }
    }
    Ok(())
}

/// Drops proposals past their expiry from the open list (their stored status stays `Open`
/// until `close`; reads show the final status either way).
fn prune_open(state: &mut ModuleState<'_>, block: u64) -> Result<(), ModuleError> {
    let open = layout::open_list();
    for index in (0..open.len(state)?).rev() {
        let id = open.get(state, index)?.as_u64();
        if let Some(fields) = ProposalRecord::new(id).fields(state)?
            && block > fields.expires_at
        {
            open.swap_remove(state, index)?;
        }
    }
    Ok(())
}

fn remove_open(state: &mut ModuleState<'_>, id: u64) -> Result<(), ModuleError> {
    let open = layout::open_list();
    for index in 0..open.len(state)? {
        if open.get(state, index)?.as_u64() == id {
            open.swap_remove(state, index)?;
            break;
        }
    }
    Ok(())
}

fn cancel(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
) -> Result<(), ModuleError> {
    let record = ProposalRecord::new(id);
    let mut fields = existing(state, &record, id)?;
    if fields.creator != ctx.caller {
        return Err(ModuleError::revert(format!(
            "Governance: only proposal {id}'s creator {} may cancel it, not {}",
            fields.creator, ctx.caller
        )));
    }
    ensure_open(&fields, id, ctx.block_number)?;
    fields.status = status::CANCELLED;
    fields.closed_at = ctx.block_number;
    record.write_fields(state, &fields)?;
    remove_open(state, id)?;
    state.emit(&IGovernance::ProposalCancelled { id })
}

fn close(ctx: &ModuleCallContext, state: &mut ModuleState<'_>, id: u64) -> Result<(), ModuleError> {
    let record = ProposalRecord::new(id);
    let mut fields = existing(state, &record, id)?;
    if fields.status != status::OPEN {
        return Err(ModuleError::revert(format!(
            "Governance: proposal {id} is already closed ({})",
            status::name(fields.status)
        )));
    }
    if ctx.block_number <= fields.expires_at {
        return Err(ModuleError::revert(format!(
            "Governance: proposal {id} is open until block {}; it can be closed after that",
            fields.expires_at
        )));
    }
    fields.status = effective_status(&fields, ctx.block_number);
    fields.closed_at = fields.expires_at + 1;
    record.write_fields(state, &fields)?;
    remove_open(state, id)?;
    state.emit(&IGovernance::ProposalClosed {
        id,
        status: status_enum(fields.status),
    })
}

/// The status as it stands at `block`: an open proposal past its expiry ended `Rejected` when
/// enough weight voted (but approval fell short), else `Expired`.
fn effective_status(f: &ProposalFields, block: u64) -> u8 {
    if f.status == status::OPEN && block > f.expires_at {
        if participation_reached(f) {
            status::REJECTED
        } else {
            status::EXPIRED
        }
    } else {
        f.status
    }
}

fn ensure_open(f: &ProposalFields, id: u64, block: u64) -> Result<(), ModuleError> {
    match effective_status(f, block) {
        status::OPEN => Ok(()),
        code @ (status::REJECTED | status::EXPIRED) => Err(ModuleError::revert(format!(
            "Governance: proposal {id} closed at its expiry, block {} ({})",
            f.expires_at,
            status::name(code)
        ))),
        code => Err(ModuleError::revert(format!(
            "Governance: proposal {id} is closed: {} at block {}",
            status::name(code),
            f.closed_at
        ))),
    }
}

fn existing(
    state: &mut ModuleState<'_>,
    record: &ProposalRecord,
    id: u64,
) -> Result<ProposalFields, ModuleError> {
    match record.fields(state)? {
        Some(fields) => Ok(fields),
        None => {
            let count = state.sload(layout::count_slot())?.as_u64();
            Err(ModuleError::revert(format!(
                "Governance: there is no proposal {id}; ids run from 1 to {count}"
            )))
        }
    }
}

fn read_vote(state: &mut ModuleState<'_>, id: u64, voter: Address) -> Result<u8, ModuleError> {
    Ok(state.sload(layout::vote_slot(id, voter))?.as_u64() as u8)
}

fn read_proposal(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
) -> Result<IGovernance::Proposal, ModuleError> {
    let record = ProposalRecord::new(id);
    let f = existing(state, &record, id)?;
    let status = effective_status(&f, ctx.block_number);
    let closed_at = if status != f.status {
        f.expires_at + 1
    } else {
        f.closed_at
    };
    let text = |state: &mut ModuleState<'_>, slot, max| -> Result<String, ModuleError> {
        Ok(String::from_utf8_lossy(&state.load_bytes(slot, max)?).into_owned())
    };
    Ok(IGovernance::Proposal {
        id,
        kind: kind_enum(f.kind),
        payload: state
            .load_bytes(record.payload(), MAX_PAYLOAD_BYTES)?
            .into(),
        creator: f.creator,
        description: text(state, record.description(), MAX_DESCRIPTION_BYTES)?,
        createdAt: f.created_at,
        expiresAt: f.expires_at,
        epoch: f.epoch,
        status: status_enum(status),
        closedAt: closed_at,
        reason: text(state, record.reason(), MAX_REASON_BYTES)?,
        yes: f.yes,
        no: f.no,
        abstain: f.abstain,
        totalWeight: f.total_weight,
        participationBps: f.participation_bps,
        approvalBps: f.approval_bps,
    })
}

fn choice_name(choice: u8) -> &'static str {
    match choice {
        YES => "Yes",
        NO => "No",
        ABSTAIN => "Abstain",
        _ => "None",
    }
}

fn choice_enum(code: u8) -> IGovernance::Choice {
    IGovernance::Choice::try_from(code).unwrap_or(IGovernance::Choice::None)
}

fn status_enum(code: u8) -> IGovernance::Status {
    IGovernance::Status::try_from(code).unwrap_or(IGovernance::Status::None)
}

fn role_enum(code: u8) -> IGovernance::Role {
    IGovernance::Role::try_from(code).unwrap_or(IGovernance::Role::None)
}

fn kind_enum(code: u8) -> IGovernance::Kind {
    IGovernance::Kind::try_from(code).unwrap_or(IGovernance::Kind::None)
}

fn check_text(field: &str, text: &str, max: usize) -> Result<(), ModuleError> {
    if text.len() > max {
        return Err(ModuleError::revert(format!(
            "Governance: the {field} is {} bytes, above the {max}-byte bound",
            text.len()
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(ModuleError::revert(format!(
            "Governance: the {field} must not contain control characters"
        )));
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
