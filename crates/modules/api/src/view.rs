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
}

/// A question to another module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewQuery {
    /// The anchor of `hash`, if any.
    EvidenceAnchor {
        /// The anchored document hash.
        hash: B256,
    },
}

impl ViewQuery {
    /// The kind of question, which selects the module that answers it.
    pub fn kind(&self) -> ViewKind {
        match self {
            Self::EvidenceAnchor { .. } => ViewKind::EvidenceAnchor,
        }
    }
}

/// An answer to a [`ViewQuery`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewAnswer {
    /// The answer to [`ViewQuery::EvidenceAnchor`]: `None` when the hash was never anchored.
    EvidenceAnchor(Option<AnchorFacts>),
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
