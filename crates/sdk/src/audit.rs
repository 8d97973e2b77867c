//! The audit trail: every privileged action and every vote, decoded from the events of the
//! Governance and Multisig modules (`banyan_auditTrail`, `banyan audit export`).

use crate::governance::{GOVERNANCE_ADDRESS, IGovernance, kind_name, status_name};
use crate::multisig::{IMultisig, MULTISIG_ADDRESS};
use alloy_primitives::{Address, B256, Log};
use alloy_sol_types::SolEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One entry of the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Block it happened in.
    pub block: u64,
    /// That block's timestamp (seconds since the Unix epoch).
    pub timestamp: u64,
    /// The transaction.
    pub transaction: B256,
    /// The event's index among the block's logs.
    pub log_index: u64,
    /// What happened, e.g. `vote`, `proposal-created`, `frozen` (see [`EVENTS`]).
    pub event: String,
    /// The governance proposal (or, for `operation-*` entries, the multisig operation) it
    /// belongs to, if any.
    pub proposal: Option<u64>,
    /// Who acted: the transaction's signer (the proposer or voter whose call it was).
    pub actor: Address,
    /// The account the action is about, if any.
    pub subject: Option<Address>,
    /// The event's other fields.
    pub details: Value,
}

/// The event names, as the trail spells them.
pub const EVENTS: &[&str] = &[
    "proposal-created",
    "vote",
    "proposal-executed",
    "proposal-failed",
    "proposal-closed",
    "proposal-superseded",
    "proposal-cancelled",
    "governor-set",
    "role-granted",
    "role-revoked",
    "rules-changed",
    "frozen",
    "unfrozen",
    "permission-set",
    "contract-admin-set",
    "method-access-set",
    "method-account-set",
    "validator-set-changed",
    "chain-parameter-set",
    "certificate-revoked",
    "wallet-created",
    "owners-changed",
    "operation-proposed",
    "operation-approved",
    "operation-executed",
    "operation-failed",
    "operation-cancelled",
];

fn role_name(role: IGovernance::Role) -> &'static str {
    match role {
        IGovernance::Role::Issuer => "issuer",
        IGovernance::Role::Institution => "institution",
        IGovernance::Role::Regulator => "regulator",
        IGovernance::Role::Auditor => "auditor",
        IGovernance::Role::Deployer => "deployer",
        IGovernance::Role::RateProvider => "rate-provider",
        _ => "none",
    }
}

fn choice_name(choice: IGovernance::Choice) -> &'static str {
    match choice {
        IGovernance::Choice::Yes => "yes",
        IGovernance::Choice::No => "no",
        IGovernance::Choice::Abstain => "abstain",
        _ => "none",
    }
}

/// Returns `$body` from the enclosing decoder when `$data` decodes as event `$ty`.
macro_rules! try_event {
    ($data:ident, $ty:ty, |$e:ident| $body:expr) => {
        if let Ok($e) = <$ty>::decode_log_data($data) {
            return Some($body);
        }
    };
}

/// `(event, proposal, subject, details)` of one Governance log; `None` for a log that is not one
/// of its events.
#[allow(clippy::too_many_lines)]
fn decode(log: &Log) -> Option<(&'static str, Option<u64>, Option<Address>, Value)> {
    use IGovernance as G;
    let data = &log.data;
    try_event!(data, G::ProposalCreated, |e| (
        "proposal-created",
        Some(e.id),
        None,
        json!({"kind": kind_name(e.kind), "expiresAt": e.expiresAt})
    ));
    try_event!(data, G::Voted, |e| (
        "vote",
        Some(e.id),
        Some(e.voter),
        json!({"choice": choice_name(e.choice), "weight": e.weight})
    ));
    try_event!(data, G::ProposalExecuted, |e| (
        "proposal-executed",
        Some(e.id),
        None,
        json!({})
    ));
    try_event!(data, G::ProposalFailed, |e| (
        "proposal-failed",
        Some(e.id),
        None,
        json!({"reason": e.reason})
    ));
    try_event!(data, G::ProposalClosed, |e| (
        "proposal-closed",
        Some(e.id),
        None,
        json!({"status": status_name(e.status)})
    ));
    try_event!(data, G::ProposalSuperseded, |e| (
        "proposal-superseded",
        Some(e.id),
        None,
        json!({"epoch": e.epoch})
    ));
    try_event!(data, G::ProposalCancelled, |e| (
        "proposal-cancelled",
        Some(e.id),
        None,
        json!({})
    ));
    try_event!(data, G::GovernorSet, |e| (
        "governor-set",
        None,
        Some(e.governor),
        json!({"weight": e.weight})
    ));
    try_event!(data, G::RoleGranted, |e| (
        "role-granted",
        Some(e.proposal),
        Some(e.account),
        json!({"role": role_name(e.role)})
    ));
    try_event!(data, G::RoleRevoked, |e| (
        "role-revoked",
        Some(e.proposal),
        Some(e.account),
        json!({"role": role_name(e.role)})
    ));
    try_event!(data, G::RulesChanged, |e| (
        "rules-changed",
        None,
        None,
        json!({"epoch": e.epoch, "participationBps": e.participationBps,
               "approvalBps": e.approvalBps, "votingPeriod": e.votingPeriod})
    ));
    try_event!(data, G::Frozen, |e| (
        "frozen",
        Some(e.proposal),
        Some(e.account),
        json!({})
    ));
    try_event!(data, G::Unfrozen, |e| (
        "unfrozen",
        Some(e.proposal),
        Some(e.account),
        json!({})
    ));
    try_event!(data, G::PermissionSet, |e| (
        "permission-set",
        Some(e.proposal),
        None,
        json!({"permission": if e.permission == G::Permission::Deploy { "deploy" } else { "method" },
               "enabled": e.enabled})
    ));
    try_event!(data, G::ContractAdminSet, |e| (
        "contract-admin-set",
        (e.proposal != 0).then_some(e.proposal),
        Some(e.target),
        json!({"admin": e.admin, "by": e.by})
    ));
    try_event!(data, G::MethodAccessSet, |e| (
        "method-access-set",
        None,
        Some(e.target),
        json!({"selector": e.selector, "access": match e.access {
            G::Access::AllowList => "allow-list",
            G::Access::DenyList => "deny-list",
            _ => "open",
        }})
    ));
    try_event!(data, G::MethodAccountSet, |e| (
        "method-account-set",
        None,
        Some(e.target),
        json!({"selector": e.selector, "account": e.account, "listed": e.listed})
    ));
    try_event!(data, G::CertificateRevoked, |e| (
        "certificate-revoked",
        Some(e.proposal),
        None,
        json!({"serial": e.serial})
    ));
    try_event!(data, G::ChainParameterSet, |e| (
        "chain-parameter-set",
        Some(e.proposal),
        None,
        json!({"parameter": banyan_modules::governance::params::name(u8::from(e.parameter)),
               "value": e.value})
    ));
    try_event!(data, G::ValidatorSetChanged, |e| (
        "validator-set-changed",
        Some(e.proposal),
        Some(e.validator),
        json!({"power": e.power, "effectiveFrom": e.effectiveFrom})
    ));
    None
}

/// `(event, operation, subject, details)` of one Multisig log.
fn decode_multisig(log: &Log) -> Option<(&'static str, Option<u64>, Option<Address>, Value)> {
    use IMultisig as M;
    let data = &log.data;
    try_event!(data, M::WalletCreated, |e| (
        "wallet-created",
        None,
        Some(e.wallet),
        json!({"owners": e.owners, "threshold": e.threshold})
    ));
    try_event!(data, M::OwnersChanged, |e| (
        "owners-changed",
        None,
        Some(e.wallet),
        json!({"owners": e.owners, "threshold": e.threshold, "version": e.version})
    ));
    try_event!(data, M::OperationProposed, |e| (
        "operation-proposed",
        Some(e.id),
        Some(e.wallet),
        json!({"target": e.target})
    ));
    try_event!(data, M::Approved, |e| (
        "operation-approved",
        Some(e.id),
        None,
        json!({"approvals": e.approvals})
    ));
    try_event!(data, M::OperationExecuted, |e| (
        "operation-executed",
        Some(e.id),
        None,
        json!({})
    ));
    try_event!(data, M::OperationFailed, |e| (
        "operation-failed",
        Some(e.id),
        None,
        json!({"reason": e.reason})
    ));
    try_event!(data, M::OperationCancelled, |e| (
        "operation-cancelled",
        Some(e.id),
        None,
        json!({})
    ));
    None
}

/// The audit entry of `log` (emitted by the transaction `transaction` of `actor`, the
/// `log_index`-th log of block `block`); `None` when it is not a Governance event.
pub fn entry(
    log: &Log,
    block: u64,
    timestamp: u64,
    transaction: B256,
    log_index: u64,
    actor: Address,
) -> Option<AuditEntry> {
    let (event, proposal, subject, details) = match log.address {
        GOVERNANCE_ADDRESS => decode(log)?,
        MULTISIG_ADDRESS => decode_multisig(log)?,
        _ => return None,
    };
    Some(AuditEntry {
        block,
        timestamp,
        transaction,
        log_index,
        event: event.to_string(),
        proposal,
        actor,
        subject,
        details,
    })
}

impl AuditEntry {
    /// Whether `account` acted or was acted on.
    pub fn involves(&self, account: Address) -> bool {
        self.actor == account || self.subject == Some(account)
    }
}

/// The CSV header of [`to_csv_row`].
pub const CSV_HEADER: &str =
    "block,timestamp,transaction,log_index,event,proposal,actor,subject,details";

/// One CSV row (RFC 4180: fields with a comma, quote or line break are quoted).
pub fn to_csv_row(e: &AuditEntry) -> String {
    let field = |text: String| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    [
        e.block.to_string(),
        e.timestamp.to_string(),
        e.transaction.to_string(),
        e.log_index.to_string(),
        e.event.clone(),
        e.proposal.map(|p| p.to_string()).unwrap_or_default(),
        e.actor.to_string(),
        e.subject.map(|s| s.to_string()).unwrap_or_default(),
        e.details.to_string(),
    ]
    .into_iter()
    .map(field)
    .collect::<Vec<_>>()
    .join(",")
}
