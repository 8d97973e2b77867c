//! banyan-state: accounts, code and contract storage in an authenticated Merkle Patricia tree
//! (Ethereum-shaped: a secure account tree whose leaves hold nonce, balance, storage root and code
//! hash, and one storage tree per contract), hashed with the chain's suite (Keccak-256 or SM3).
//!
//! Each block's changes are applied at a cost proportional to the keys changed; new nodes go into
//! the block's atomic write batch. Nodes are content-addressed and never deleted, so every
//! committed root stays readable (historical `eth_getBalance`, proofs at any height).
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod db;
mod head;
mod trie;
mod types;

pub use db::{
    AccountProof, NODE_CACHE_BYTES, SnapshotAccount, StateDb, StateView, StorageProof,
    decode_account, decode_storage_value, verify_account_proof,
};
pub use trie::{empty_root, ordered_root, tree_root, verify_proof};
pub use types::{Account, AccountChange, KECCAK_EMPTY, StateChanges, StateReader};

/// Errors reading or updating the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The storage engine failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The tree refers to a node that is not in storage, or a node does not decode.
    #[error("state tree is corrupt or incomplete: {0}")]
    Corrupt(String),
    /// A Merkle proof does not verify.
    #[error("invalid proof: {0}")]
    InvalidProof(String),
}
