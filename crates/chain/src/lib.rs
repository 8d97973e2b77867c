//! `banyan-chain`: what a node keeps, apart from how it got it. Committed blocks, receipts,
//! commit certificates and the transaction index ([`ChainStore`]); proposed blocks not yet
//! committed ([`ProposalStore`]); the meta keys (head, genesis hash, lowest held height); the
//! snapshot file format ([`snapshot`]); and the genesis block of a chain spec ([`genesis`]),
//! which a client that trusts only the genesis file can compute without running a node.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod genesis;
mod proposals;
pub mod snapshot;
mod store;

pub use proposals::{MAX_PROPOSAL_BYTES, MAX_STORED_PROPOSALS, ProposalStore};
pub use store::{ChainStore, HISTORY_MIN_KEY, block_end_tx_hash};

/// The chain data could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The storage engine failed.
    #[error(transparent)]
    Storage(#[from] banyan_storage::StorageError),
    /// Stored data does not decode; the message names what and where.
    #[error("stored chain data is corrupt: {0}")]
    Corrupt(String),
    /// The proposal store refused a proposal, or holds more than it may.
    #[error("proposal store: {0}")]
    Proposal(String),
    /// The chain spec cannot make a genesis block.
    #[error("genesis: {0}")]
    Genesis(#[from] genesis::GenesisBuildError),
}
