//! `banyan-execution` owns transaction execution: a deterministic block executor on
//! [`revm`], gas accounting, receipts' execution fields and logs, `eth_call` /
//! `eth_estimateGas`, and the registry where native modules (precompiles with Solidity
//! ABIs) plug into the EVM.
//!
//! # Chain rules applied here
//!
//! - The EVM runs the hardfork [`CHAIN_SPEC`] (Osaka), pinned so that a `revm` upgrade never
//!   changes the rules silently.
//! - The base fee is always zero: a transaction pays `gas_used × effective_gas_price` to the
//!   block's beneficiary and nothing is burned, so the sum of all balances is conserved
//!   (checked at the end of every block, see [`ExecError::Invariant`]).
//! - Transaction types 0 (legacy), 1 (EIP-2930) and 2 (EIP-1559) are executed; blob (3) and
//!   set-code (4) transactions are skipped. Other type bytes (Banyan's native transactions)
//!   are executed with the fee semantics their fields describe (see [`TxInput`]).
//! - A transaction may use up to the whole block gas limit (the EIP-7825 per-transaction
//!   cap is raised to the block gas limit).
//! - A transaction that is invalid when its turn comes (nonce, funds, gas, chain id, type) is
//!   skipped and reported, never included; a reverted one is included with `success = false`.
//!
//! # Native modules
//!
//! A [`NativeModule`] (from `banyan-module-api`) answers calls at a fixed address, next to the
//! standard Ethereum precompiles; the executor is given the chain's [`ModuleRegistry`]. Each
//! module call gets a `ModuleState` over revm's journal (see `precompiles`), so module writes
//! revert with their call frame and reach the block's [`StateChanges`](banyan_state::StateChanges)
//! like contract storage. Module accounts must never be deleted or lose their code: a block
//! that would is refused ([`ExecError::Invariant`]).
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod db;
mod executor;
mod precompiles;
mod screen;
mod types;

pub use banyan_module_api::{
    ModuleCallContext, ModuleRegistry, NativeModule, decode_revert_reason, encode_revert_reason,
};
pub use executor::{CHAIN_SPEC, Executor};
pub use screen::Refusal;

/// The hashes of earlier blocks (`BLOCKHASH`): `Ok(None)` for a height the chain does not have,
/// an error when the node cannot read its chain (the block then fails to execute; it never
/// reads as zero).
pub type BlockHashFn<'a> =
    dyn Fn(u64) -> Result<Option<alloy_primitives::B256>, banyan_state::StateError> + 'a;
pub use types::{
    BlockEnv, BlockExecution, CallOutcome, CallRequest, ExecConfig, ExecError, TxInput, TxOutcome,
};
