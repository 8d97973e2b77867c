//! Read-only questions one module answers for others.
//!
//! Modules never read each other's storage layout: a module that needs another's facts asks a
//! [`ViewQuery`] through [`crate::ModuleState::ask`], and the module that owns those facts
//! answers from its own state, read-only. Each kind is answered by at most one module of a chain
//! (the registry refuses a second). New kinds are added here as the modules that answer them
//! land (roles by governance, freezes by compliance, KYC by identity).

use alloy_primitives::{Address, B256};

/// The kinds of question, one per answering capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ViewKind {
    /// Is a document hash anchored, by whom and is it revoked (Evidence).
    EvidenceAnchor,
    /// Does an account hold a role (Governance).
    Role,
    /// Is an account frozen, and by which proposal (Governance).
    Frozen,
    /// A chain parameter's value (Governance).
    ChainParameter,
    /// May a payment move (a compliance module; none answers yet, and then every payment
    /// that passes the freeze check may).
    PaymentPolicy,
    /// The rate at which gas is paid in a currency (Governance).
    GasRate,
    /// Is an address a registered currency, and its code (Payments).
    Currency,
    /// Does an account's DID hold a credential of a schema that counts now (Identity): the
    /// KYC check other modules make.
    Credential,
}

/// A question to another module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewQuery {
    /// The anchor of `hash`, if any.
    EvidenceAnchor {
        /// The anchored document hash.
        hash: B256,
    },
    /// Whether `account` holds `role`.
    HasRole {
        /// The account asked about.
        account: Address,
        /// The role.
        role: Role,
    },
    /// Whether `account` is frozen.
    FrozenBy {
        /// The account asked about.
        account: Address,
    },
    /// The value of chain parameter `parameter` (the `Parameter` enum of `IGovernance.sol`);
    /// 0 means the default.
    ChainParameter {
        /// The parameter's number.
        parameter: u8,
    },
    /// Whether `amount` of `currency` may move from `payer` to `payee` on `path`.
    PaymentPolicy {
        /// The account whose money moves.
        payer: Address,
        /// The account that receives it.
        payee: Address,
        /// The currency's token address.
        currency: Address,
        /// The amount, in the currency's minor units.
        amount: alloy_primitives::U256,
        /// Which path moves it (`transfer`, `batch`, `capture`, `fx`, `transferFrom`, ...).
        path: &'static str,
    },
    /// The rate governance set for paying gas in `currency`.
    GasRate {
        /// The currency's token address.
        currency: Address,
    },
    /// Whether `token` is a registered currency.
    Currency {
        /// The address asked about.
        token: Address,
    },
    /// Whether `subject`'s DID holds a credential of schema `schema` that counts now: not
    /// revoked, not suspended, within its validity, from an account that is still an authority
    /// issuer of the schema's issuer type.
    Credential {
        /// The account whose DID is asked about.
        subject: Address,
        /// The schema's id (`IIdentity.Schema.id`).
        schema: B256,
        /// The time to check validity at: the asking block's timestamp (Unix seconds).
        at: u64,
    },
}

impl ViewQuery {
    /// The kind of question, which selects the module that answers it.
    pub fn kind(&self) -> ViewKind {
        match self {
            Self::EvidenceAnchor { .. } => ViewKind::EvidenceAnchor,
            Self::HasRole { .. } => ViewKind::Role,
            Self::FrozenBy { .. } => ViewKind::Frozen,
            Self::ChainParameter { .. } => ViewKind::ChainParameter,
            Self::PaymentPolicy { .. } => ViewKind::PaymentPolicy,
            Self::GasRate { .. } => ViewKind::GasRate,
            Self::Currency { .. } => ViewKind::Currency,
            Self::Credential { .. } => ViewKind::Credential,
        }
    }
}

/// An answer to a [`ViewQuery`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewAnswer {
    /// The answer to [`ViewQuery::EvidenceAnchor`]: `None` when the hash was never anchored.
    EvidenceAnchor(Option<AnchorFacts>),
    /// The answer to [`ViewQuery::HasRole`].
    HasRole(bool),
    /// The answer to [`ViewQuery::FrozenBy`]: the proposal that froze it, 0 when not frozen.
    FrozenBy(u64),
    /// The answer to [`ViewQuery::ChainParameter`].
    ChainParameter(u64),
    /// The answer to [`ViewQuery::PaymentPolicy`]: `None` allows it, `Some(reason)` refuses.
    PaymentPolicy(Option<String>),
    /// The answer to [`ViewQuery::GasRate`]: the currency's smallest units per native coin
    /// (10^18 wei of gas fee), 0 when none is set.
    GasRate(u128),
    /// The answer to [`ViewQuery::Currency`]: the currency's code, `None` when `token` is not
    /// a registered currency.
    Currency(Option<String>),
    /// The answer to [`ViewQuery::Credential`]: the hash of the credential that counts, or why
    /// none does (no credential of the schema, revoked, expired, ...).
    Credential(Result<B256, String>),
}

/// A role the committee grants and revokes by proposal; other modules ask whether an account
/// holds one ([`ViewQuery::HasRole`]) before letting it act (an `Issuer` mints, a `Deployer`
/// creates contracts while deploy permission is on). The numbers are those of the `Role` enum of
/// `IGovernance.sol`. Governors are the committee itself, not a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Role {
    /// Issues currencies and credentials.
    Issuer = 1,
    /// A member institution.
    Institution = 2,
    /// Sees everything, for supervision.
    Regulator = 3,
    /// Reads the audit trail.
    Auditor = 4,
    /// May create contracts while deploy permission is on.
    Deployer = 5,
    /// Publishes exchange rates.
    RateProvider = 6,
}

impl Role {
    /// Every role, in number order.
    pub const ALL: [Role; 6] = [
        Self::Issuer,
        Self::Institution,
        Self::Regulator,
        Self::Auditor,
        Self::Deployer,
        Self::RateProvider,
    ];

    /// The role numbered `code`, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|role| *role as u8 == code)
    }

    /// The name used in messages and on the command line, e.g. `rate_provider`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Issuer => "issuer",
            Self::Institution => "institution",
            Self::Regulator => "regulator",
            Self::Auditor => "auditor",
            Self::Deployer => "deployer",
            Self::RateProvider => "rate_provider",
        }
    }
}

/// What the Evidence module tells other modules about one anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnchorFacts {
    /// The account that anchored the hash.
    pub anchorer: Address,
    /// The block that anchored it.
    pub block_number: u64,
    /// Whether the anchorer has revoked it.
    pub revoked: bool,
}
