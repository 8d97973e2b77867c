//! The state a module call reaches: [`ModuleState`], metered and scoped to the module's own
//! account, over a [`StateBackend`] (revm's journal in the executor, [`MemoryBackend`] in tests
//! and at genesis).

use crate::{
    MODULE_ACCOUNT_CODE, ModuleCallContext, ModuleError, ModuleRegistry, NativeModule, ViewAnswer,
    ViewKind, ViewQuery, gas,
    slots::{Slot, Word},
};
use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};
use alloy_sol_types::SolEvent;
use std::collections::BTreeMap;

/// The backend could not read the node's state. The backend keeps the underlying error (the
/// executor reports it and refuses the block); the module only learns that the call cannot go
/// on, and returns [`ModuleError::StateUnavailable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the node's state could not be read")]
pub struct BackendFault;

/// An account as a module may read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountView {
    /// Native balance.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Whether the account has code (a contract, or a module).
    pub has_code: bool,
}

/// Raw, unmetered state access. The executor implements it over revm's journal, so every write
/// is journaled with the call frame that makes it; modules never see this trait, only
/// [`ModuleState`].
pub trait StateBackend {
    /// The value of `slot` in `address`'s storage.
    fn sload(&mut self, address: Address, slot: U256) -> Result<U256, BackendFault>;
    /// Sets `slot` of `address` to `value`.
    fn sstore(&mut self, address: Address, slot: U256, value: U256) -> Result<(), BackendFault>;
    /// Appends a log to the current call frame.
    fn log(&mut self, log: Log);
    /// `address`'s balance, nonce and whether it has code.
    fn account(&mut self, address: Address) -> Result<AccountView, BackendFault>;
    /// Moves `amount` of native balance; `Ok(false)` when `from` holds less than `amount`
    /// (nothing moves then).
    fn transfer(&mut self, from: Address, to: Address, amount: U256) -> Result<bool, BackendFault>;
    /// Sets `address`'s code to `code` (journaled like a storage write). Used for the accounts
    /// of a module's address range, which carry [`crate::MODULE_ACCOUNT_CODE`].
    fn set_code(&mut self, address: Address, code: Bytes) -> Result<(), BackendFault>;
    /// Opens a checkpoint: the writes, logs and balance moves made after it can be undone
    /// together ([`Self::revert_checkpoint`]) or kept ([`Self::commit_checkpoint`]).
    /// Checkpoints nest; each call closes the latest open one.
    fn checkpoint(&mut self);
    /// Undoes everything since the latest open checkpoint, and closes it.
    fn revert_checkpoint(&mut self);
    /// Keeps everything since the latest open checkpoint, and closes it.
    fn commit_checkpoint(&mut self);
}

/// How deep nested module calls may go ([`ModuleState::call_module`]).
const MAX_CALL_DEPTH: u8 = 4;

/// How deep view questions may nest (a module answering one asks another, ...).
const MAX_VIEW_DEPTH: u8 = 4;

/// The state handle of one module call: the module's own storage, its logs, native balance
/// moves out of its account, reads of other accounts, and questions to other modules. Every
/// operation is charged from the call's gas before it runs (see [`gas`]); under a read-only call
/// (`STATICCALL`, or a view answer) every write reverts.
pub struct ModuleState<'a> {
    backend: &'a mut dyn StateBackend,
    registry: &'a ModuleRegistry,
    address: Address,
    read_only: bool,
    gas_limit: u64,
    gas_used: u64,
    view_depth: u8,
    call_depth: u8,
}

impl<'a> ModuleState<'a> {
    /// The handle for a call to the module at `address` with `gas_limit` gas.
    pub fn new(
        backend: &'a mut dyn StateBackend,
        registry: &'a ModuleRegistry,
        address: Address,
        read_only: bool,
        gas_limit: u64,
    ) -> Self {
        Self {
            backend,
            registry,
            address,
            read_only,
            gas_limit,
            gas_used: 0,
            view_depth: 0,
            call_depth: 0,
        }
    }

    /// The module's own address: where its storage lives.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Whether writes are refused (static call or view answer).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Gas charged so far.
    pub fn gas_used(&self) -> u64 {
        self.gas_used
    }

    /// Gas still available.
    pub fn gas_left(&self) -> u64 {
        self.gas_limit - self.gas_used
    }

    /// Charges `amount` gas, or fails with [`ModuleError::OutOfGas`] charging nothing.
    pub fn charge(&mut self, amount: u64) -> Result<(), ModuleError> {
        if amount > self.gas_left() {
            return Err(ModuleError::OutOfGas);
        }
        self.gas_used += amount;
        Ok(())
    }

    /// Reads one slot of the module's storage.
    pub fn sload(&mut self, slot: Slot) -> Result<Word, ModuleError> {
        self.charge(gas::SLOAD)?;
        Ok(Word(self.backend.sload(self.address, slot.0)?))
    }

    /// Writes one slot of the module's storage (zero deletes it).
    pub fn sstore(&mut self, slot: Slot, value: Word) -> Result<(), ModuleError> {
        self.refuse_write("write storage")?;
        let previous = self.backend.sload(self.address, slot.0)?;
        if previous == value.0 {
            // Nothing changes: priced as the read it is, and not written.
            return self.charge(gas::SLOAD);
        }
        let cost = if previous.is_zero() {
            gas::SSTORE_SET
        } else {
            gas::SSTORE_RESET
        };
        self.charge(cost)?;
        self.backend.sstore(self.address, slot.0, value.0)?;
        Ok(())
    }

    /// Emits `event` from the module's address (declared once, in the module's interface).
    pub fn emit<E: SolEvent>(&mut self, event: &E) -> Result<(), ModuleError> {
        self.emit_log(event.encode_log_data())
    }

    /// Emits a raw log from the module's address.
    pub fn emit_log(&mut self, data: LogData) -> Result<(), ModuleError> {
        self.emit_log_from(self.address, data)
    }

    /// Emits `event` from `from`: the module's own address or one of its address range (an
    /// ERC-20 `Transfer` from the token's address).
    pub fn emit_from<E: SolEvent>(&mut self, from: Address, event: &E) -> Result<(), ModuleError> {
        self.emit_log_from(from, event.encode_log_data())
    }

    /// Emits a raw log from `from` (see [`Self::emit_from`]).
    pub fn emit_log_from(&mut self, from: Address, data: LogData) -> Result<(), ModuleError> {
        self.refuse_write("emit a log")?;
        self.ensure_owned(from)?;
        let topics = data.topics().len() as u64;
        let bytes = data.data.len() as u64;
        self.charge(
            gas::LOG
                .saturating_add(gas::LOG_TOPIC.saturating_mul(topics))
                .saturating_add(gas::LOG_BYTE.saturating_mul(bytes)),
        )?;
        self.backend.log(Log {
            address: from,
            data,
        });
        Ok(())
    }

    /// Refuses an address that is neither the module's own nor in its address range.
    fn ensure_owned(&self, address: Address) -> Result<(), ModuleError> {
        let owned = address == self.address
            || self
                .registry
                .get(&self.address)
                .and_then(|module| module.address_range())
                .is_some_and(|range| range.contains(&address));
        if owned {
            Ok(())
        } else {
            Err(ModuleError::Invariant(format!(
                "module {} acted as {address}, which it does not own",
                self.address
            )))
        }
    }

    /// Installs [`MODULE_ACCOUNT_CODE`] at `address` of the module's address range, so that the
    /// account is never empty (EIP-161) and `eth_getCode` and `extcodesize` see a contract.
    pub fn install_code(&mut self, address: Address) -> Result<(), ModuleError> {
        self.refuse_write("install code")?;
        if address == self.address {
            return Err(ModuleError::Invariant(format!(
                "module {address} installed code at its own address"
            )));
        }
        self.ensure_owned(address)?;
        self.charge(gas::INSTALL_CODE)?;
        self.backend
            .set_code(address, Bytes::from_static(&MODULE_ACCOUNT_CODE))?;
        Ok(())
    }

    /// Runs `f` so that its writes, logs and balance moves are kept only if it returns `Ok`:
    /// on an error everything it did is undone (its gas stays spent) and the error returned.
    pub fn atomically<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ModuleError>,
    ) -> Result<T, ModuleError> {
        self.refuse_write("open a checkpoint")?;
        self.backend.checkpoint();
        let result = f(self);
        if result.is_ok() {
            self.backend.commit_checkpoint();
        } else {
            self.backend.revert_checkpoint();
        }
        result
    }

    /// Whether some module of this chain answers `kind` (a chain may run without, e.g., a
    /// compliance module; then its questions have no answer).
    pub fn answers(&self, kind: ViewKind) -> bool {
        self.registry.answering(kind).is_some()
    }

    /// The address of the module that answers `kind`, if any: e.g. the committee is the module
    /// that answers [`ViewKind::Role`], so a module lets only that address admit what the
    /// committee decides.
    pub fn answerer(&self, kind: ViewKind) -> Option<Address> {
        self.registry.answering(kind).map(|module| module.address())
    }

    /// Reads another account's balance, nonce and whether it has code.
    pub fn account(&mut self, address: Address) -> Result<AccountView, ModuleError> {
        self.charge(gas::ACCOUNT_READ)?;
        Ok(self.backend.account(address)?)
    }

    /// Moves `amount` of native balance from the module's account to `to`. Reverts when the
    /// module holds less.
    pub fn transfer(&mut self, to: Address, amount: U256) -> Result<(), ModuleError> {
        self.refuse_write("move balance")?;
        self.charge(gas::TRANSFER)?;
        if self.backend.transfer(self.address, to, amount)? {
            Ok(())
        } else {
            Err(ModuleError::revert(format!(
                "module {} holds less than {amount} to send to {to}",
                self.address
            )))
        }
    }

    /// Asks the module that answers `query`'s kind, with a read-only handle on its own state
    /// sharing this call's gas.
    pub fn ask(&mut self, query: &ViewQuery) -> Result<ViewAnswer, ModuleError> {
        self.charge(gas::VIEW)?;
        let kind = query.kind();
        let Some(module) = self.registry.answering(kind).cloned() else {
            return Err(ModuleError::revert(format!(
                "no module on this chain answers {kind:?}; enable it in the chain spec's `modules`"
            )));
        };
        if self.view_depth >= MAX_VIEW_DEPTH {
            return Err(ModuleError::revert(format!(
                "view questions nested deeper than {MAX_VIEW_DEPTH}"
            )));
        }
        let mut nested = ModuleState {
            backend: &mut *self.backend,
            registry: self.registry,
            address: module.address(),
            read_only: true,
            gas_limit: self.gas_limit - self.gas_used,
            gas_used: 0,
            view_depth: self.view_depth + 1,
            call_depth: self.call_depth,
        };
        let answer = module.answer(query, &mut nested);
        let used = nested.gas_used;
        self.gas_used += used;
        answer
    }

    /// Whether `address` is a native module of this chain.
    pub fn is_module(&self, address: Address) -> bool {
        self.registry.contains(&address)
    }

    /// Calls the native module at `target` with ABI `input`, as `caller` (`msg.sender` of the
    /// nested call; e.g. a multi-signature wallet the calling module controls). The nested call
    /// gets 63/64 of the gas left (so the caller can still record a failure) and shares this
    /// call's state: what it writes, logs and moves is kept only if it succeeds. On an error
    /// everything it did is undone and the error returned: the caller may record it and go on.
    pub fn call_module(
        &mut self,
        ctx: &ModuleCallContext,
        target: Address,
        caller: Address,
        input: &[u8],
    ) -> Result<Bytes, ModuleError> {
        self.refuse_write("call another module")?;
        self.charge(gas::CALL)?;
        let Some(module) = self.registry.get(&target).cloned() else {
            return Err(ModuleError::revert(format!(
                "there is no native module at {target} on this chain"
            )));
        };
        if self.call_depth >= MAX_CALL_DEPTH {
            return Err(ModuleError::revert(format!(
                "module calls nested deeper than {MAX_CALL_DEPTH}"
            )));
        }
        let module_address = module.address();
        let nested_ctx = ModuleCallContext {
            address: target,
            caller,
            value: U256::ZERO,
            is_static: false,
            depth: ctx.depth + 1,
            ..ctx.clone()
        };
        let left = self.gas_left();
        let gas_limit = left - left / 64;
        self.backend.checkpoint();
        let mut nested = ModuleState {
            backend: &mut *self.backend,
            registry: self.registry,
            address: module_address,
            read_only: false,
            gas_limit,
            gas_used: 0,
            view_depth: self.view_depth,
            call_depth: self.call_depth + 1,
        };
        let result = module.call(&nested_ctx, input, &mut nested);
        let used = match result {
            Err(ModuleError::OutOfGas) => gas_limit,
            _ => nested.gas_used,
        };
        self.gas_used += used;
        if result.is_ok() {
            self.backend.commit_checkpoint();
        } else {
            self.backend.revert_checkpoint();
        }
        result
    }

    fn refuse_write(&self, what: &str) -> Result<(), ModuleError> {
        if self.read_only {
            Err(ModuleError::revert(format!(
                "module {} cannot {what} in a read-only call (STATICCALL or view)",
                self.address
            )))
        } else {
            Ok(())
        }
    }

    /// Reads a 32-byte value stored as a word.
    pub fn sload_b256(&mut self, slot: Slot) -> Result<B256, ModuleError> {
        Ok(self.sload(slot)?.to_b256())
    }

    /// Reads a byte string written by [`Self::store_bytes`] (at most `max_len` bytes; a longer
    /// stored length means the state is corrupt and reads as an error).
    pub fn load_bytes(&mut self, slot: Slot, max_len: usize) -> Result<Vec<u8>, ModuleError> {
        let len = self.sload(slot)?.as_u64();
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > max_len {
            return Err(ModuleError::revert(format!(
                "stored byte string at {slot} is {len} bytes, above its bound {max_len}"
            )));
        }
        let mut out = Vec::with_capacity(len);
        let data = slot.data_area();
        for (i, remaining) in (0..len.div_ceil(32)).map(|i| (i, len - i * 32)) {
            let word = self.sload(data.offset(i as u64))?.to_b256();
            out.extend_from_slice(&word[..remaining.min(32)]);
        }
        Ok(out)
    }

    /// Stores `bytes` at `slot`: the length in `slot`, the data in 32-byte words from
    /// [`Slot::data_area`] on (the last word zero-padded). Slots a longer earlier value used
    /// are cleared.
    pub fn store_bytes(&mut self, slot: Slot, bytes: &[u8]) -> Result<(), ModuleError> {
        let old_len = self.sload(slot)?.as_u64();
        let old_words = old_len.div_ceil(32);
        let data = slot.data_area();
        for (i, chunk) in bytes.chunks(32).enumerate() {
            let mut word = [0u8; 32];
            word[..chunk.len()].copy_from_slice(chunk);
            self.sstore(data.offset(i as u64), Word::from(B256::new(word)))?;
        }
        let new_words = bytes.len().div_ceil(32) as u64;
        for i in new_words..old_words {
            self.sstore(data.offset(i), Word::ZERO)?;
        }
        self.sstore(slot, Word::from_u64(bytes.len() as u64))
    }
}

/// A state held in memory: for module unit tests, and for writing a module's genesis state.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    /// Storage by account and slot (zero values are removed).
    pub storage: BTreeMap<Address, BTreeMap<U256, U256>>,
    /// Accounts by address.
    pub accounts: BTreeMap<Address, AccountView>,
    /// Logs emitted, in order.
    pub logs: Vec<Log>,
    /// Open checkpoints: what storage, accounts and the log count were.
    checkpoints: Vec<MemoryCheckpoint>,
}

type MemoryCheckpoint = (
    BTreeMap<Address, BTreeMap<U256, U256>>,
    BTreeMap<Address, AccountView>,
    usize,
);

impl MemoryBackend {
    /// Runs one call of `module` as the executor would, with `ctx.is_static` deciding whether
    /// writes are allowed. On any error the backend is left as it was before the call (as revm's
    /// journal reverts the call frame). Returns the result and the gas used; an out-of-gas call
    /// used all of `gas_limit`.
    pub fn call(
        &mut self,
        registry: &ModuleRegistry,
        module: &dyn NativeModule,
        ctx: &ModuleCallContext,
        input: &[u8],
        gas_limit: u64,
    ) -> (Result<Bytes, ModuleError>, u64) {
        let before = self.clone();
        let mut state =
            ModuleState::new(self, registry, module.address(), ctx.is_static, gas_limit);
        let result = module.call(ctx, input, &mut state);
        let gas_used = match result {
            Err(ModuleError::OutOfGas) => gas_limit,
            _ => state.gas_used(),
        };
        if result.is_err() {
            *self = before;
        }
        (result, gas_used)
    }
}

impl MemoryBackend {
    /// Runs `module`'s block-end hook as the executor would, with [`gas::BLOCK_END`] gas. On an
    /// error the backend is left as it was.
    pub fn end_block(
        &mut self,
        registry: &ModuleRegistry,
        module: &dyn NativeModule,
        ctx: &ModuleCallContext,
    ) -> Result<(), ModuleError> {
        let before = self.clone();
        let mut state = ModuleState::new(self, registry, module.address(), false, gas::BLOCK_END);
        let result = module.end_block(ctx, &mut state);
        if result.is_err() {
            *self = before;
        }
        result
    }
}

impl StateBackend for MemoryBackend {
    fn sload(&mut self, address: Address, slot: U256) -> Result<U256, BackendFault> {
        Ok(self
            .storage
            .get(&address)
            .and_then(|s| s.get(&slot))
            .copied()
            .unwrap_or_default())
    }

    fn sstore(&mut self, address: Address, slot: U256, value: U256) -> Result<(), BackendFault> {
        let storage = self.storage.entry(address).or_default();
        if value.is_zero() {
            storage.remove(&slot);
        } else {
            storage.insert(slot, value);
        }
        Ok(())
    }

    fn log(&mut self, log: Log) {
        self.logs.push(log);
    }

    fn account(&mut self, address: Address) -> Result<AccountView, BackendFault> {
        Ok(self.accounts.get(&address).copied().unwrap_or_default())
    }

    fn transfer(&mut self, from: Address, to: Address, amount: U256) -> Result<bool, BackendFault> {
        let from_balance = self.accounts.get(&from).map_or(U256::ZERO, |a| a.balance);
        if from_balance < amount {
            return Ok(false);
        }
        self.accounts.entry(from).or_default().balance = from_balance - amount;
        let to_account = self.accounts.entry(to).or_default();
        to_account.balance = to_account.balance.saturating_add(amount);
        Ok(true)
    }

    fn set_code(&mut self, address: Address, _code: Bytes) -> Result<(), BackendFault> {
        self.accounts.entry(address).or_default().has_code = true;
        Ok(())
    }

    fn checkpoint(&mut self) {
        self.checkpoints
            .push((self.storage.clone(), self.accounts.clone(), self.logs.len()));
    }

    fn revert_checkpoint(&mut self) {
        if let Some((storage, accounts, logs)) = self.checkpoints.pop() {
            self.storage = storage;
            self.accounts = accounts;
            self.logs.truncate(logs);
        }
    }

    fn commit_checkpoint(&mut self) {
        self.checkpoints.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    const MODULE: Address = address!("0000000000000000000000000000000000001234");

    #[test]
    fn writes_are_refused_when_read_only_and_gas_is_charged_first() {
        let registry = ModuleRegistry::new();
        let mut backend = MemoryBackend::default();
        let slot = Slot::named("test", b"a");
        {
            let mut state = ModuleState::new(&mut backend, &registry, MODULE, true, 1_000_000);
            assert!(matches!(
                state.sstore(slot, Word::from_u64(1)),
                Err(ModuleError::Revert(_))
            ));
            assert_eq!(state.gas_used(), 0);
        }
        assert!(backend.storage.is_empty());
        {
            let mut state =
                ModuleState::new(&mut backend, &registry, MODULE, false, gas::SSTORE_SET - 1);
            assert_eq!(
                state.sstore(slot, Word::from_u64(1)),
                Err(ModuleError::OutOfGas)
            );
        }
        assert!(
            backend.storage.values().all(BTreeMap::is_empty),
            "nothing written"
        );
        let mut state = ModuleState::new(&mut backend, &registry, MODULE, false, gas::SSTORE_SET);
        state
            .sstore(slot, Word::from_u64(1))
            .expect("exactly enough gas");
        assert_eq!(state.gas_left(), 0);
    }

    #[test]
    fn byte_strings_round_trip_and_shrink_cleanly() {
        let registry = ModuleRegistry::new();
        let mut backend = MemoryBackend::default();
        let slot = Slot::named("test", b"bytes");
        {
            let mut state = ModuleState::new(&mut backend, &registry, MODULE, false, u64::MAX);
            let long: Vec<u8> = (0..=99u8).collect();
            state.store_bytes(slot, &long).expect("store");
            assert_eq!(state.load_bytes(slot, 100).expect("load"), long);
            assert!(state.load_bytes(slot, 99).is_err(), "bound enforced");
            state.store_bytes(slot, b"short").expect("store");
            assert_eq!(state.load_bytes(slot, 100).expect("load"), b"short");
        }
        // Length slot plus one data word: the three words of the longer value are gone.
        assert_eq!(backend.storage[&MODULE].len(), 2);
    }
}
