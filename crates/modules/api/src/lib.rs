//! `banyan-module-api` is the seam every native module plugs into: the [`NativeModule`] trait,
//! the metered state handle a call gets ([`ModuleState`]), typed storage slots ([`slots`]), the
//! read-only questions modules answer for each other ([`ViewQuery`]), the gas schedule
//! ([`gas`]) and the [`ModuleRegistry`].
//!
//! It knows nothing of revm: the executor implements [`StateBackend`] over revm's journal, so
//! a module's writes revert with the call frame that made them and commit with the block, and
//! [`MemoryBackend`] runs a module alone in unit tests and at genesis. A module crate depends on
//! this crate only, which keeps it small and quick to build.
//!
//! # Rules every module follows
//!
//! - Deterministic: same input and state, same output, writes, logs and gas, on every node.
//! - Its state lives in its own account's storage, reached only through [`ModuleState`]; it reads
//!   another module's state only through that module's [`ViewQuery`] answers, never by slot.
//! - Gas is charged by [`ModuleState`] before the work it pays for; a module charges explicitly
//!   ([`ModuleState::charge`]) for work proportional to its input.
//! - Bad input reverts with Solidity's `Error(string)` saying what was wrong and what to do
//!   ([`ModuleError::revert`]); nothing is written by a call that reverts.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod gas;
mod registry;
mod revert;
pub mod slots;
mod state;
mod view;

pub use registry::AddressRange;
pub use registry::{ModuleRegistry, RegistryError};
pub use revert::{decode_revert_reason, encode_revert_reason, failure_reason};
pub use state::{AccountView, BackendFault, MemoryBackend, ModuleState, StateBackend};
pub use view::{AnchorFacts, Role, ViewAnswer, ViewKind, ViewQuery};

use alloy_primitives::{Address, Bytes, U256};
use std::fmt;

/// Addresses below this one are reserved for Ethereum's own precompiles (present and future).
pub const FIRST_MODULE_ADDRESS: u64 = 0x1000;

/// The code stored at every module account: the single byte `0xFE` (INVALID). It is never run
/// (the module answers first); it exists so that the account is never empty (EIP-161 would
/// delete an empty account a call touches) and so that Solidity's `extcodesize` check before a
/// call passes.
pub const MODULE_ACCOUNT_CODE: [u8; 1] = [0xfe];

/// What a module sees of the call it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleCallContext {
    /// The module's own address.
    pub address: Address,
    /// The immediate caller (`msg.sender`).
    pub caller: Address,
    /// The account that signed the transaction (`tx.origin`).
    pub origin: Address,
    /// Value sent with the call (always zero unless [`NativeModule::accepts_value`]).
    pub value: U256,
    /// The call is read-only (`STATICCALL`, or nested in one): writes revert.
    pub is_static: bool,
    /// Call depth (1 when a transaction calls the module directly).
    pub depth: usize,
    /// Height of the executing block.
    pub block_number: u64,
    /// Timestamp of the executing block.
    pub timestamp: u64,
    /// The chain id.
    pub chain_id: u64,
    /// The chain's crypto suite.
    pub suite: banyan_crypto::Suite,
}

/// A transaction as screening sees it, before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScreenedTx<'a> {
    /// The signer.
    pub sender: Address,
    /// The callee; `None` creates a contract.
    pub to: Option<Address>,
    /// Value sent.
    pub value: U256,
    /// Call data or init code.
    pub input: &'a [u8],
    /// The height of the block it would run in (the head's next when admitted to the pool).
    pub block_number: u64,
    /// That block's timestamp (the head's when admitted to the pool: the next block's is not
    /// known yet, and is not earlier).
    pub timestamp: u64,
}

/// A transaction whose gas a module may pay instead of the native coin (see
/// [`NativeModule::quote_gas`]), before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasTx<'a> {
    /// The signer, who would pay the gas.
    pub sender: Address,
    /// The callee; `None` creates a contract.
    pub to: Option<Address>,
    /// Call data or init code.
    pub input: &'a [u8],
    /// Gas the transaction may use.
    pub gas_limit: u64,
    /// The price per gas it pays, in wei of the native coin (never zero: a transaction that
    /// pays nothing for gas is not asked about).
    pub gas_price: u128,
    /// The height of the block it would run in (the head's next when admitted to the pool).
    pub block_number: u64,
    /// That block's timestamp (the head's when admitted to the pool).
    pub timestamp: u64,
}

/// A module's answer to [`NativeModule::quote_gas`]: the sender pays the transaction's gas in
/// `currency`, at most `max_fee` of it (the whole gas limit at the rate of the moment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasQuote {
    /// What the gas is paid in (for Payments, a currency's token address).
    pub currency: Address,
    /// The most it may cost, in the currency's smallest unit: what is reserved before the
    /// transaction runs.
    pub max_fee: U256,
    /// The price of gas in the currency, as the module counts it (for Payments, smallest units
    /// per native coin of gas fee): the rate of the moment the transaction starts, which the
    /// settlement uses even if the rate changes while it runs.
    pub rate: U256,
}

/// The two steps, run by the executor as system calls around a transaction whose gas a module
/// pays ([`NativeModule::charge_gas`]). No transaction can trigger either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GasStep {
    /// Before the transaction: set `quote.max_fee` of the sender's money aside, so that the
    /// transaction cannot spend it.
    Reserve {
        /// The transaction's sender.
        payer: Address,
        /// What [`NativeModule::quote_gas`] answered for it.
        quote: GasQuote,
    },
    /// After it (or when it turned out invalid, with `gas_used` zero): release the reserve,
    /// charge the gas used at `gas_price` and pay it to `beneficiary`.
    Settle {
        /// The transaction's sender.
        payer: Address,
        /// What was reserved.
        quote: GasQuote,
        /// Gas the transaction used (after refunds); zero when it was not included.
        gas_used: u64,
        /// Its price per gas, in wei.
        gas_price: u128,
        /// The block's beneficiary (its proposer), who receives the fee.
        beneficiary: Address,
    },
}

impl ModuleCallContext {
    /// A transaction's own call of the module at `address` by `caller` (its signer), without
    /// value, in block `block_number` of chain 1 on the ecdsa suite, the block's timestamp
    /// `1_700_000_000 + block_number`: what module tests run calls with.
    pub fn for_test(address: Address, caller: Address, block_number: u64, is_static: bool) -> Self {
        Self {
            address,
            caller,
            origin: caller,
            value: U256::ZERO,
            is_static,
            depth: 1,
            block_number,
            timestamp: 1_700_000_000 + block_number,
            chain_id: 1,
            suite: banyan_crypto::Suite::Ecdsa,
        }
    }
}

/// The function selector a call reaches: its first four bytes of call data, zero-padded (a call
/// with no data, to `receive` or `fallback`, is selector `0x00000000`).
pub fn function_selector(input: &[u8]) -> [u8; 4] {
    let mut selector = [0u8; 4];
    let n = input.len().min(4);
    selector[..n].copy_from_slice(&input[..n]);
    selector
}

/// A call frame as the call guard sees it, before the callee runs (see
/// [`NativeModule::guard_call`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardedCall {
    /// The immediate caller (`msg.sender`).
    pub caller: Address,
    /// The account whose code runs (the callee).
    pub target: Address,
    /// The signer of the transaction (`tx.origin`).
    pub origin: Address,
    /// The function selector ([`function_selector`] of the call data).
    pub selector: [u8; 4],
    /// Call depth (1: the transaction's own call).
    pub depth: usize,
}

/// What a module's genesis hook knows of the chain besides its own parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisContext {
    /// The chain's crypto suite.
    pub suite: banyan_crypto::Suite,
    /// The genesis validator set, in the chain spec's order.
    pub validators: Vec<GenesisValidatorInfo>,
}

/// One genesis validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisValidatorInfo {
    /// Its address (derived from the key with the chain's suite).
    pub address: Address,
    /// Its 64-byte public key.
    pub public_key: Bytes,
    /// Its voting power.
    pub power: u64,
}

/// Why a module call did not return normally.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// The call reverts with this data (usually `Error(string)`); its writes are undone and the
    /// caller keeps the gas not yet used.
    #[error("reverted")]
    Revert(Bytes),
    /// The call's gas does not cover the work; all of it is consumed.
    #[error("out of gas")]
    OutOfGas,
    /// The node could not read its state. The block cannot be executed on this node; the
    /// backend keeps the underlying error for the executor to report.
    #[error("state unavailable")]
    StateUnavailable,
    /// A ledger invariant the module asserts is broken (e.g. money created outside a mint): a
    /// bug. The executor refuses the block and the node stops rather than commit it; the text
    /// names what broke, where.
    #[error("invariant violated: {0}")]
    Invariant(String),
}

impl ModuleError {
    /// A revert with Solidity's `Error(reason)` data.
    pub fn revert(reason: impl AsRef<str>) -> Self {
        Self::Revert(encode_revert_reason(reason.as_ref()))
    }
}

/// A module's genesis parameters cannot start a chain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// The parameters are malformed or out of bounds; says which and why.
    #[error("invalid parameters: {0}")]
    Params(String),
    /// Writing the initial state failed.
    #[error("initial state: {0}")]
    State(#[from] ModuleError),
}

impl From<BackendFault> for ModuleError {
    fn from(_: BackendFault) -> Self {
        Self::StateUnavailable
    }
}

/// A native module: Rust logic at a fixed address with a Solidity interface.
pub trait NativeModule: Send + Sync + fmt::Debug {
    /// The fixed address contracts call (at or above `0x…1000`).
    fn address(&self) -> Address;
    /// The name used in the chain spec's `modules` section and in errors, e.g. `"evidence"`.
    fn name(&self) -> &'static str;
    /// The version of the module's rules. The chain spec names the version a chain runs, so a
    /// node whose module code is of another version refuses to start instead of forking.
    fn version(&self) -> u32;
    /// Whether calls may carry value. When `false` (the default) the call reverts before the
    /// module runs, so no funds get stuck at the module's address.
    fn accepts_value(&self) -> bool {
        false
    }
    /// The questions this module answers for other modules (see [`ViewQuery`]).
    fn views(&self) -> &'static [ViewKind] {
        &[]
    }
    /// Writes the module's initial state at genesis from its chain-spec `params` (`null` when
    /// none are given) and what `chain` says of the chain. The default accepts only `null`: a
    /// module without parameters.
    fn genesis(
        &self,
        params: &serde_json::Value,
        chain: &GenesisContext,
        state: &mut ModuleState<'_>,
    ) -> Result<(), GenesisError> {
        let _ = (chain, state);
        if params.is_null() {
            Ok(())
        } else {
            Err(GenesisError::Params(
                "this module takes no parameters".into(),
            ))
        }
    }
    /// Answers one call with ABI-encoded `input`. Gas is metered by `state`.
    fn call(
        &self,
        ctx: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError>;
    /// Whether this module screens transactions before they run (see [`Self::screen`]).
    fn screens_transactions(&self) -> bool {
        false
    }
    /// Refuses a transaction before it runs (a frozen sender, a rule broken). Called, with the
    /// same answer, twice: when the pool admits the transaction (on the head state) and when its
    /// turn comes in a block (on the block's state so far); a refused transaction is never
    /// included. `state` is this module's own, read-only, with [`gas::SCREEN`] gas. Refuse with
    /// [`ModuleError::revert`]: the reason is what the sender reads.
    fn screen(&self, tx: &ScreenedTx<'_>, state: &mut ModuleState<'_>) -> Result<(), ModuleError> {
        let _ = (tx, state);
        Ok(())
    }
    /// Addresses besides [`Self::address`] that this module answers: every call to an address
    /// in the range reaches [`Self::call`] with the called address in
    /// [`ModuleCallContext::address`] (e.g. one ERC-20 face per currency). The state stays the
    /// module's own account's; the module installs [`MODULE_ACCOUNT_CODE`] at each address it
    /// hands out ([`ModuleState::install_code`]).
    fn address_range(&self) -> Option<AddressRange> {
        None
    }
    /// Whether this module runs at the end of every block (see [`Self::end_block`]).
    fn runs_at_block_end(&self) -> bool {
        false
    }
    /// Runs after the last transaction of every block, as a system call: no sender, no fee,
    /// [`gas::BLOCK_END`] gas, its writes and logs part of the block (e.g. holds that expire,
    /// records whose retention ended). `ctx.caller` is the zero address. It must not fail on
    /// any state a block can reach: an error makes the block impossible to build, so it bounds
    /// its work per block and carries the rest over.
    fn end_block(
        &self,
        ctx: &ModuleCallContext,
        state: &mut ModuleState<'_>,
    ) -> Result<(), ModuleError> {
        let _ = (ctx, state);
        Ok(())
    }
    /// Whether this module lets accounts pay gas in something else than the native coin (see
    /// [`Self::quote_gas`]). At most one module of a chain does.
    fn pays_gas(&self) -> bool {
        false
    }
    /// Whether `tx`'s sender pays its gas through this module, and the most it may cost:
    /// `Ok(None)` leaves the gas to the native coin; [`ModuleError::revert`] refuses the
    /// transaction (no rate for the sender's currency, too little of it), with the reason the
    /// sender reads. Asked, with the same answer, when the pool admits the transaction (on the
    /// head state) and when its turn comes in a block (on the block's state so far): a refused
    /// transaction is never included, so it never holds a block up. `state` is this module's
    /// own, read-only, with [`gas::SCREEN`] gas.
    fn quote_gas(
        &self,
        tx: &GasTx<'_>,
        state: &mut ModuleState<'_>,
    ) -> Result<Option<GasQuote>, ModuleError> {
        let _ = (tx, state);
        Ok(None)
    }
    /// Runs one [`GasStep`] of a transaction this module quoted for, as a system call with
    /// [`gas::BLOCK_END`] gas not counted in the block; its logs join the transaction's
    /// receipt. `Reserve` may refuse (the transaction is then skipped); `Settle` must not fail
    /// on any state a block can reach, since the transaction already ran.
    fn charge_gas(
        &self,
        ctx: &ModuleCallContext,
        step: &GasStep,
        state: &mut ModuleState<'_>,
    ) -> Result<(), ModuleError> {
        let _ = (ctx, step, state);
        Err(ModuleError::revert(format!(
            "module {} does not pay gas",
            self.name()
        )))
    }
    /// Whether this module guards call frames (see [`Self::guard_call`]).
    fn guards_calls(&self) -> bool {
        false
    }
    /// Refuses a call frame before its callee's code runs: a frozen contract, a function its
    /// admin closed to this caller. Called for every call to an account that is not a module,
    /// at every depth, in blocks and in `eth_call`; a refusal reverts that frame (its caller may
    /// go on, as after any revert). `state` is this module's own, read-only, with
    /// [`gas::SCREEN`] gas not charged to the sender. Refuse with [`ModuleError::revert`].
    fn guard_call(
        &self,
        call: &GuardedCall,
        state: &mut ModuleState<'_>,
    ) -> Result<(), ModuleError> {
        let _ = (call, state);
        Ok(())
    }
    /// Answers a read-only question of another module. `state` is this module's own, read-only,
    /// and shares the asking call's gas. Called only for kinds listed in [`Self::views`].
    fn answer(
        &self,
        query: &ViewQuery,
        state: &mut ModuleState<'_>,
    ) -> Result<ViewAnswer, ModuleError> {
        let _ = state;
        Err(ModuleError::revert(format!(
            "{}: does not answer {:?}",
            self.name(),
            query.kind()
        )))
    }
}

/// An ABI-level revert for input a module cannot decode: unknown selector or malformed
/// arguments, naming the interface file to read.
pub fn bad_call(
    module: &str,
    interface: &str,
    selectors: &[[u8; 4]],
    input: &[u8],
    error: &alloy_sol_types::Error,
) -> ModuleError {
    if input.len() < 4 {
        return ModuleError::revert(format!(
            "{module}: call data of {} bytes has no function selector; call a function of {interface}",
            input.len()
        ));
    }
    let known = input
        .get(..4)
        .is_some_and(|selector| selectors.iter().any(|known| known.as_slice() == selector));
    if known {
        ModuleError::revert(format!("{module}: malformed arguments: {error}"))
    } else {
        ModuleError::revert(format!(
            "{module}: unknown function selector 0x{}; see {interface}",
            alloy_primitives::hex::encode(input.get(..4).unwrap_or(input))
        ))
    }
}
