//! Plain data types shared by the state tree and the executor.

use alloy_primitives::{Address, B256, Bytes, U256, b256};
use std::collections::BTreeMap;

/// keccak256 of the empty byte string: the code hash of an account without code.
pub const KECCAK_EMPTY: B256 =
    b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// An account as stored in the state tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Number of transactions sent from this account (or contracts created by it).
    pub nonce: u64,
    /// Balance in the chain's smallest unit.
    pub balance: U256,
    /// Root of this account's storage tree (the suite's empty-tree root when it has no storage).
    pub storage_root: B256,
    /// keccak256 of the account's code ([`KECCAK_EMPTY`] when it has none); EVM semantics on both suites.
    pub code_hash: B256,
}

/// The new values of one account after a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountChange {
    /// New nonce.
    pub nonce: u64,
    /// New balance.
    pub balance: U256,
    /// New code hash (keccak256).
    pub code_hash: B256,
    /// Code to store under `code_hash` when the account got new code in this block.
    pub code: Option<Bytes>,
    /// The account's storage was wiped before `storage` applies (created anew or self-destructed).
    pub storage_cleared: bool,
    /// Storage slots written in this block; a zero value deletes the slot.
    pub storage: BTreeMap<U256, U256>,
}

/// Everything a block changed in the state. `None` deletes the account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// Changed accounts in address order (the order is irrelevant to the resulting root).
    pub accounts: BTreeMap<Address, Option<AccountChange>>,
}

/// Read access to one version of the state (a state root).
pub trait StateReader: Send + Sync {
    /// The account at `address`, `None` if it does not exist.
    fn account(&self, address: Address) -> Result<Option<Account>, crate::StateError>;
    /// The value of storage slot `slot` of `address` (zero when unset).
    fn storage(&self, address: Address, slot: U256) -> Result<U256, crate::StateError>;
    /// Code by its keccak256 hash.
    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, crate::StateError>;
}
