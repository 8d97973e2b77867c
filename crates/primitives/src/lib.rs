//! banyan-primitives: the chain's data types and their encodings, with no I/O.
//!
//! Owns addresses, hashes, transactions (Ethereum legacy, EIP-2930 and EIP-1559, plus Banyan's
//! native SM2-signed typed transaction), block headers and bodies, receipts and the genesis
//! (chain spec). Hashing and signature checks use the chain's [`Suite`].
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod block;
pub mod consensus;
mod genesis;
mod receipt;
mod transaction;

pub use alloy_primitives::{Address, B256, Bloom, Bytes, Log, LogData, TxKind, U256, keccak256};
pub use banyan_crypto::Suite;
pub use block::{Block, Header, SealedHeader};
pub use genesis::{Genesis, GenesisAccount, GenesisError, GenesisValidator, ModuleSpec};
pub use receipt::Receipt;
pub use transaction::{
    MAX_TX_BYTES, RecoveredTx, SM_TX_TYPE, SmTransaction, SmTxFields, TxError, sign_eth_transaction,
};

/// Encodes a block number as a big-endian storage key so that keys sort by height.
pub fn height_key(number: u64) -> [u8; 8] {
    number.to_be_bytes()
}
