//! Installs the module registry into revm, next to the Ethereum precompiles.
//!
//! revm asks its `PrecompileProvider` first on every call frame (`run` returning `None` means
//! "not a precompile, run the account's code"). [`BanyanPrecompiles`] answers module addresses
//! itself and hands every other address to revm's [`EthPrecompiles`] for the chain's spec.
//! Module addresses are added to the warm set (EIP-2929), like the standard precompiles.

use super::{ModuleCallContext, ModuleRegistry, ModuleResult};
use revm::{
    context::{Block, Cfg, ContextTr, JournalTr},
    handler::{EthPrecompiles, PrecompileProvider, precompile_output_to_interpreter_result},
    interpreter::{CallInputs, CallScheme, InterpreterResult},
    precompile::{PrecompileHalt, PrecompileOutput},
    primitives::{Address, AddressSet, hardfork::SpecId},
};
use std::sync::Arc;

/// revm's precompile provider for a Banyan chain: Ethereum precompiles plus native modules.
#[derive(Debug, Clone)]
pub(crate) struct BanyanPrecompiles {
    eth: EthPrecompiles,
    modules: Arc<ModuleRegistry>,
    suite: banyan_crypto::Suite,
    warm: AddressSet,
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
        }
    }
}

fn warm_set(eth: &EthPrecompiles, modules: &ModuleRegistry) -> AddressSet {
    let mut warm = eth.warm_addresses().clone();
    warm.extend(modules.addresses().copied());
    warm
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
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(
                &mut self.eth,
                context,
                inputs,
            );
        };
        let value = inputs.value.get();
        let result = if matches!(
            inputs.scheme,
            CallScheme::DelegateCall | CallScheme::CallCode
        ) {
            ModuleResult::revert_with_reason(
                0,
                &format!(
                    "{}: native modules cannot be called with DELEGATECALL or CALLCODE",
                    module.name()
                ),
            )
        } else if !value.is_zero() && !module.accepts_value() {
            ModuleResult::revert_with_reason(
                0,
                &format!("{}: does not accept value", module.name()),
            )
        } else {
            let ctx = ModuleCallContext {
                caller: inputs.caller,
                value,
                is_static: inputs.is_static,
                depth: context.journal().depth(),
                block_number: context.block().number().saturating_to(),
                timestamp: context.block().timestamp().saturating_to(),
                chain_id: context.cfg().chain_id(),
                suite: self.suite,
            };
            let input = inputs.input.as_bytes(context);
            module.call(&ctx, &input, inputs.gas_limit)
        };
        let output = match result {
            ModuleResult::Success { gas_used, output } => {
                PrecompileOutput::new(gas_used, output, inputs.reservoir)
            }
            ModuleResult::Revert { gas_used, output } => {
                PrecompileOutput::revert(gas_used, output, inputs.reservoir)
            }
            ModuleResult::OutOfGas => {
                PrecompileOutput::halt(PrecompileHalt::OutOfGas, inputs.reservoir)
            }
        };
        // Also turns a module that reports more gas than it had into an out-of-gas halt.
        Ok(Some(precompile_output_to_interpreter_result(
            output,
            inputs.gas_limit,
        )))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}
