//! Installs the native modules into revm, next to the Ethereum precompiles, and gives each
//! module call a state handle over revm's journal.
//!
//! revm asks its `PrecompileProvider` first on every call frame (`run` returning `None` means
//! "not a precompile, run the account's code"). [`BanyanPrecompiles`] answers module addresses
//! itself and hands every other address to revm's [`EthPrecompiles`] for the chain's spec.
//! Module addresses are added to the warm set (EIP-2929), like the standard precompiles.
//!
//! revm opens a journal checkpoint before it runs a precompile and reverts it when the result is
//! not a success, and an outer frame that reverts reverts everything inside it: so a module's
//! storage writes, logs and balance moves, made through [`JournalBackend`], live and die with
//! the call frame that made them, exactly like a contract's.

use banyan_module_api::{
    AccountView, BackendFault, GasStep, GuardedCall, ModuleCallContext, ModuleError,
    ModuleRegistry, ModuleState, StateBackend, encode_revert_reason, function_selector,
};
use revm::{
    Database,
    context::{Block, Cfg, ContextError, ContextTr, JournalTr, Transaction},
    context_interface::journaled_state::JournalCheckpoint,
    handler::{EthPrecompiles, PrecompileProvider, precompile_output_to_interpreter_result},
    interpreter::{CallInputs, CallScheme, Gas, InstructionResult, InterpreterResult},
    precompile::{PrecompileHalt, PrecompileOutput},
    primitives::{Address, AddressSet, Bytes, Log, U256, hardfork::SpecId},
};
use std::sync::Arc;

/// revm's precompile provider for a Banyan chain: Ethereum precompiles plus native modules.
#[derive(Debug, Clone)]
pub(crate) struct BanyanPrecompiles {
    eth: EthPrecompiles,
    modules: Arc<ModuleRegistry>,
    suite: banyan_crypto::Suite,
    warm: AddressSet,
    /// Set by the executor around a system call: the call to a module then runs that step
    /// (its block-end hook, a step of paying a transaction's gas) instead of `call`. No
    /// transaction can set it.
    pub(crate) system: Option<SystemStep>,
}

/// What a system call to a module runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SystemStep {
    /// [`banyan_module_api::NativeModule::end_block`].
    BlockEnd,
    /// [`banyan_module_api::NativeModule::charge_gas`].
    Gas(GasStep),
}

impl BanyanPrecompiles {
    pub(crate) fn new(
        spec: SpecId,
        modules: Arc<ModuleRegistry>,
        suite: banyan_crypto::Suite,
    ) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = warm_set(&eth, &modules);
        Self {
            eth,
            modules,
            suite,
            warm,
            system: None,
        }
    }
}

fn warm_set(eth: &EthPrecompiles, modules: &ModuleRegistry) -> AddressSet {
    let mut warm = eth.warm_addresses().clone();
    warm.extend(modules.addresses().copied());
    warm
}

/// A module call's view of revm's journal. A failed state read is parked in the context's error
/// slot, where revm's handler picks it up and ends the transaction with the database error (the
/// executor then refuses the block), and the module is told only that the state is unavailable.
struct JournalBackend<'a, CTX: ContextTr> {
    context: &'a mut CTX,
    /// Checkpoints opened by nested module calls, innermost last.
    checkpoints: Vec<JournalCheckpoint>,
}

impl<'a, CTX: ContextTr> JournalBackend<'a, CTX> {
    fn new(context: &'a mut CTX) -> Self {
        Self {
            context,
            checkpoints: Vec::new(),
        }
    }
}

impl<CTX: ContextTr> JournalBackend<'_, CTX> {
    fn fault(&mut self, error: <CTX::Db as Database>::Error) -> BackendFault {
        *self.context.error() = Err(ContextError::Db(error));
        BackendFault
    }
}

impl<CTX: ContextTr> JournalBackend<'_, CTX> {
    /// Loads `address` into the journal, which its storage access needs: the called module's
    /// account is loaded by the call, but another module's (a view answer, a nested module call)
    /// may not be yet.
    fn load(&mut self, address: Address) -> Result<(), BackendFault> {
        match self.context.journal_mut().load_account(address) {
            Ok(_) => Ok(()),
            Err(error) => Err(self.fault(error)),
        }
    }
}

impl<CTX: ContextTr> StateBackend for JournalBackend<'_, CTX> {
    fn sload(&mut self, address: Address, slot: U256) -> Result<U256, BackendFault> {
        self.load(address)?;
        match self.context.journal_mut().sload(address, slot) {
            Ok(load) => Ok(load.data),
            Err(error) => Err(self.fault(error)),
        }
    }

    fn sstore(&mut self, address: Address, slot: U256, value: U256) -> Result<(), BackendFault> {
        self.load(address)?;
        match self.context.journal_mut().sstore(address, slot, value) {
            Ok(_) => Ok(()),
            Err(error) => Err(self.fault(error)),
        }
    }

    fn log(&mut self, log: Log) {
        self.context.journal_mut().log(log);
    }

    fn account(&mut self, address: Address) -> Result<AccountView, BackendFault> {
        match self.context.journal_mut().load_account(address) {
            Ok(load) => Ok(AccountView {
                balance: load.data.info.balance,
                nonce: load.data.info.nonce,
                has_code: !load.data.info.is_empty_code_hash(),
            }),
            Err(error) => Err(self.fault(error)),
        }
    }

    fn transfer(&mut self, from: Address, to: Address, amount: U256) -> Result<bool, BackendFault> {
        match self.context.journal_mut().transfer(from, to, amount) {
            Ok(None) => Ok(true),
            // Only "out of funds" can happen here: both accounts are loaded, balances are
            // checked, and an overflow of the receiver would need more than the total supply.
            Ok(Some(_)) => Ok(false),
            Err(error) => Err(self.fault(error)),
        }
    }

    fn set_code(&mut self, address: Address, code: Bytes) -> Result<(), BackendFault> {
        self.load(address)?;
        self.context
            .journal_mut()
            .set_code(address, revm::bytecode::Bytecode::new_raw(code));
        Ok(())
    }

    fn checkpoint(&mut self) {
        let checkpoint = self.context.journal_mut().checkpoint();
        self.checkpoints.push(checkpoint);
    }

    fn revert_checkpoint(&mut self) {
        if let Some(checkpoint) = self.checkpoints.pop() {
            self.context.journal_mut().checkpoint_revert(checkpoint);
        }
    }

    fn commit_checkpoint(&mut self) {
        if self.checkpoints.pop().is_some() {
            self.context.journal_mut().checkpoint_commit();
        }
    }
}

/// Asks every guarding module about a call frame to a contract (or an account without code)
/// before its code runs; `Some` is the revert of a refused frame, or the halt of a state read
/// that failed.
fn guard<CTX: ContextTr>(
    modules: &Arc<ModuleRegistry>,
    context: &mut CTX,
    inputs: &CallInputs,
) -> Option<InterpreterResult> {
    let selector = function_selector(&inputs.input.as_bytes(context));
    let call = GuardedCall {
        caller: inputs.caller,
        target: inputs.bytecode_address,
        origin: context.tx().caller(),
        selector,
        depth: context.journal().depth(),
    };
    for module in modules.guarding() {
        // The guard reads the module's storage through the journal, which needs the account
        // loaded (module accounts are warm from the start, so this costs the sender nothing).
        if let Err(error) = context.journal_mut().load_account(module.address()) {
            *context.error() = Err(ContextError::Db(error));
            return Some(fatal(inputs.gas_limit));
        }
        let mut backend = JournalBackend::new(&mut *context);
        let mut state = ModuleState::new(
            &mut backend,
            modules,
            module.address(),
            true,
            banyan_module_api::gas::SCREEN,
        );
        match module.guard_call(&call, &mut state) {
            Ok(()) => {}
            Err(ModuleError::Revert(output)) => {
                return Some(finish(
                    PrecompileOutput::revert(0, output, inputs.reservoir),
                    inputs.gas_limit,
                ));
            }
            Err(ModuleError::OutOfGas) => {
                let reason = format!(
                    "module {}: its call guard used more than the {} gas it may",
                    module.name(),
                    banyan_module_api::gas::SCREEN
                );
                return Some(finish(
                    PrecompileOutput::revert(0, encode_revert_reason(&reason), inputs.reservoir),
                    inputs.gas_limit,
                ));
            }
            Err(ModuleError::StateUnavailable) => return Some(fatal(inputs.gas_limit)),
            Err(ModuleError::Invariant(what)) => {
                return Some(invariant(context, module.name(), what, inputs.gas_limit));
            }
        }
    }
    None
}

/// The result of a frame whose module found a ledger invariant broken: the violation is parked
/// in the context's error slot as a custom error, which revm's handler returns as
/// `EVMError::Custom`, and the executor refuses the block as an invariant violation.
fn invariant<CTX: ContextTr>(
    context: &mut CTX,
    module: &str,
    what: String,
    gas_limit: u64,
) -> InterpreterResult {
    *context.error() = Err(ContextError::Custom(format!(
        "{INVARIANT_PREFIX}module {module}: {what}"
    )));
    fatal(gas_limit)
}

/// How a module's invariant violation is told apart from revm's own custom errors.
pub(crate) const INVARIANT_PREFIX: &str = "banyan invariant: ";

/// The result of a frame whose state could not be read: the database error sits in the
/// context's error slot, where revm's handler picks it up and the executor refuses the block.
fn fatal(gas_limit: u64) -> InterpreterResult {
    let mut gas = Gas::new(gas_limit);
    gas.spend_all();
    InterpreterResult::new(InstructionResult::FatalExternalError, Bytes::new(), gas)
}

/// The interpreter result of a module call that ended with `output`, within `gas_limit`.
fn finish(output: PrecompileOutput, gas_limit: u64) -> InterpreterResult {
    // Also turns a module that reports more gas than it had into an out-of-gas halt.
    precompile_output_to_interpreter_result(output, gas_limit)
}

impl<CTX: ContextTr> PrecompileProvider<CTX> for BanyanPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <CTX::Cfg as Cfg>::Spec) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        if changed {
            self.warm = warm_set(&self.eth, &self.modules);
        }
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let Some(module) = self.modules.get(&inputs.bytecode_address).cloned() else {
            let is_precompile = <EthPrecompiles as PrecompileProvider<CTX>>::contains(
                &self.eth,
                &inputs.bytecode_address,
            );
            if !is_precompile && !self.modules.guarding().is_empty() {
                if let Some(refused) = guard(&self.modules, context, inputs) {
                    return Ok(Some(refused));
                }
                return Ok(None);
            }
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(
                &mut self.eth,
                context,
                inputs,
            );
        };
        let revert = |reason: String| {
            finish(
                PrecompileOutput::revert(0, encode_revert_reason(&reason), inputs.reservoir),
                inputs.gas_limit,
            )
        };
        if matches!(
            inputs.scheme,
            CallScheme::DelegateCall | CallScheme::CallCode
        ) {
            return Ok(Some(revert(format!(
                "module {}: native modules cannot be called with DELEGATECALL or CALLCODE",
                module.name()
            ))));
        }
        let value = inputs.value.get();
        if !value.is_zero() && !module.accepts_value() {
            return Ok(Some(revert(format!(
                "module {}: does not accept value",
                module.name()
            ))));
        }
        let ctx = ModuleCallContext {
            address: inputs.target_address,
            caller: inputs.caller,
            origin: context.tx().caller(),
            value,
            is_static: inputs.is_static,
            depth: context.journal().depth(),
            block_number: context.block().number().saturating_to(),
            timestamp: context.block().timestamp().saturating_to(),
            chain_id: context.cfg().chain_id(),
            suite: self.suite,
        };
        // Copied out: the module gets the context mutably (its state handle) while it reads this.
        let input = inputs.input.as_bytes(context).to_vec();
        let modules = Arc::clone(&self.modules);
        let system = self.system.filter(|_| ctx.depth <= 1);
        let mut backend = JournalBackend::new(context);
        // The state is the module's own account's, also for a call to an address of its range.
        let mut state = ModuleState::new(
            &mut backend,
            &modules,
            module.address(),
            ctx.is_static,
            inputs.gas_limit,
        );
        let system_ctx = || ModuleCallContext {
            caller: Address::ZERO,
            origin: Address::ZERO,
            ..ctx.clone()
        };
        let result = match system {
            Some(SystemStep::BlockEnd) => module
                .end_block(&system_ctx(), &mut state)
                .map(|()| Bytes::new()),
            Some(SystemStep::Gas(step)) => module
                .charge_gas(&system_ctx(), &step, &mut state)
                .map(|()| Bytes::new()),
            None => module.call(&ctx, &input, &mut state),
        };
        let gas_used = state.gas_used();
        let output = match result {
            Ok(output) => PrecompileOutput::new(gas_used, output, inputs.reservoir),
            Err(ModuleError::Revert(output)) => {
                PrecompileOutput::revert(gas_used, output, inputs.reservoir)
            }
            Err(ModuleError::OutOfGas) => {
                PrecompileOutput::halt(PrecompileHalt::OutOfGas, inputs.reservoir)
            }
            // The database error sits in the context's error slot; revm's handler turns it
            // into `EVMError::Database` when the transaction ends, and the executor refuses
            // the block.
            Err(ModuleError::StateUnavailable) => return Ok(Some(fatal(inputs.gas_limit))),
            Err(ModuleError::Invariant(what)) => {
                return Ok(Some(invariant(
                    context,
                    module.name(),
                    what,
                    inputs.gas_limit,
                )));
            }
        };
        Ok(Some(finish(output, inputs.gas_limit)))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}
