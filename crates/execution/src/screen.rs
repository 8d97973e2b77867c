//! Transaction screening by modules (`NativeModule::screen`): the same check, with the same
//! answer, when the pool admits a transaction (head state) and when its turn comes in a block
//! (the block's state so far). A refused transaction is never included. The gas-paying module's
//! quote (`NativeModule::quote_gas`) is asked the same way.

use crate::db::Overlay;
use alloy_primitives::{Address, U256};
use banyan_module_api::{
    AccountView, BackendFault, GasQuote, GasTx, ModuleError, ModuleRegistry, ModuleState,
    NativeModule, ScreenedTx, StateBackend, decode_revert_reason, gas,
};
use banyan_state::{KECCAK_EMPTY, StateError};
use revm::{Database, primitives::Log};

/// A module refused a transaction before it ran.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("refused by module {module}: {reason}")]
pub struct Refusal {
    /// The refusing module's name.
    pub module: &'static str,
    /// Its reason, as the sender reads it.
    pub reason: String,
}

/// Read-only state for a screen, over the block overlay. Writes never reach it: the handle is
/// read-only and refuses them first.
struct ScreenBackend<'a, 'b> {
    overlay: &'a mut Overlay<'b>,
    error: Option<StateError>,
}

impl ScreenBackend<'_, '_> {
    fn fault(&mut self, error: StateError) -> BackendFault {
        self.error = Some(error);
        BackendFault
    }
}

impl StateBackend for ScreenBackend<'_, '_> {
    fn sload(&mut self, address: Address, slot: U256) -> Result<U256, BackendFault> {
        self.overlay
            .storage(address, slot)
            .map_err(|e| self.fault(e.0))
    }

    fn sstore(&mut self, _: Address, _: U256, _: U256) -> Result<(), BackendFault> {
        Err(BackendFault)
    }

    fn log(&mut self, _: Log) {}

    fn account(&mut self, address: Address) -> Result<AccountView, BackendFault> {
        match self.overlay.basic(address) {
            Ok(info) => Ok(info.map_or_else(AccountView::default, |info| AccountView {
                balance: info.balance,
                nonce: info.nonce,
                has_code: info.code_hash != KECCAK_EMPTY,
            })),
            Err(e) => Err(self.fault(e.0)),
        }
    }

    fn transfer(&mut self, _: Address, _: Address, _: U256) -> Result<bool, BackendFault> {
        Err(BackendFault)
    }

    fn set_code(&mut self, _: Address, _: alloy_primitives::Bytes) -> Result<(), BackendFault> {
        Err(BackendFault)
    }

    // Read-only: nothing to undo (a module call, which would open one, writes and is refused).
    fn checkpoint(&mut self) {}
    fn revert_checkpoint(&mut self) {}
    fn commit_checkpoint(&mut self) {}
}

/// Runs every screening module on `tx` over `overlay`. `Ok(None)`: admitted.
pub(crate) fn screen(
    registry: &ModuleRegistry,
    overlay: &mut Overlay<'_>,
    tx: &ScreenedTx<'_>,
) -> Result<Option<Refusal>, StateError> {
    for module in registry.screening() {
        if let Err(refusal) = read_only(registry, module.as_ref(), overlay, |module, state| {
            module.screen(tx, state)
        })? {
            return Ok(Some(refusal));
        }
    }
    Ok(None)
}

/// Asks the chain's gas-paying module (if any) whether `tx`'s sender pays its gas through it:
/// `Ok(Ok(None))` leaves it to the native coin, `Ok(Err(_))` refuses the transaction.
pub(crate) fn quote_gas(
    registry: &ModuleRegistry,
    overlay: &mut Overlay<'_>,
    tx: &GasTx<'_>,
) -> Result<Result<Option<GasQuote>, Refusal>, StateError> {
    match registry.gas_payer() {
        Some(module) => read_only(registry, module.as_ref(), overlay, |module, state| {
            module.quote_gas(tx, state)
        }),
        None => Ok(Ok(None)),
    }
}

/// Runs `ask` on `module` with its own state, read-only over `overlay`, with [`gas::SCREEN`]
/// gas: a revert or running out of gas is a refusal; a broken invariant, a failed read or an
/// attempted write is an error of the state.
fn read_only<T>(
    registry: &ModuleRegistry,
    module: &dyn NativeModule,
    overlay: &mut Overlay<'_>,
    ask: impl FnOnce(&dyn NativeModule, &mut ModuleState<'_>) -> Result<T, ModuleError>,
) -> Result<Result<T, Refusal>, StateError> {
    let mut backend = ScreenBackend {
        overlay,
        error: None,
    };
    let mut state = ModuleState::new(&mut backend, registry, module.address(), true, gas::SCREEN);
    let reason = match ask(module, &mut state) {
        Ok(answer) => return Ok(Ok(answer)),
        Err(ModuleError::Revert(data)) => decode_revert_reason(&data)
            .unwrap_or_else(|| format!("revert data 0x{}", alloy_primitives::hex::encode(&data))),
        Err(ModuleError::OutOfGas) => {
            format!("its check used more than the {} gas it may", gas::SCREEN)
        }
        Err(ModuleError::Invariant(what)) => {
            return Err(StateError::Corrupt(format!(
                "module {} found an invariant broken while checking a transaction: {what}",
                module.name()
            )));
        }
        Err(ModuleError::StateUnavailable) => {
            return Err(backend.error.take().unwrap_or_else(|| {
                StateError::Corrupt(format!(
                    "module {} tried to write while checking a transaction",
                    module.name()
                ))
            }));
        }
    };
    Ok(Err(Refusal {
        module: module.name(),
        reason,
    }))
}
