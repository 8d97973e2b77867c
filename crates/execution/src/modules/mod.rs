//! Native modules: Rust code answering EVM calls at fixed addresses, with Solidity ABIs.
//!
//! A module implements [`NativeModule`]; the [`ModuleRegistry`] maps addresses to modules and
//! is installed into revm next to the standard Ethereum precompiles (see `provider`), so a
//! module is callable from transactions, from contracts (`CALL`/`STATICCALL`) and from
//! `eth_call` alike.
//!
//! Rules every module follows:
//! - deterministic: same input, same output and gas, on every node and every run;
//! - charges gas before doing work proportional to its input, and never more than `gas_limit`;
//! - answers an unknown selector or malformed ABI with a revert carrying `Error(string)`;
//! - is stateless for now. Module state will live in the same authenticated state as contract
//!   storage: [`ModuleCallContext`] is the seam where a journaled state handle will be added,
//!   so that module writes revert and commit with the surrounding call frame.

mod crypto;
pub(crate) mod provider;

pub use crypto::{BANYAN_CRYPTO_ADDRESS, BanyanCrypto, IBanyanCrypto};

use crate::{ExecError, encode_revert_reason};
use alloy_primitives::{Address, Bytes, U256};
use std::{collections::BTreeMap, fmt, sync::Arc};

/// Addresses below this one are reserved for Ethereum's own precompiles (present and future).
const FIRST_MODULE_ADDRESS: u64 = 0x1000;

/// What a module sees of the call it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleCallContext {
    /// The immediate caller (`msg.sender`).
    pub caller: Address,
    /// Value sent with the call (always zero unless [`NativeModule::accepts_value`]).
    pub value: U256,
    /// The call is read-only (`STATICCALL`, or nested in one): the module must not change state.
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

/// The result of a module call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleResult {
    /// Returned `output`, having used `gas_used` (at most the call's gas limit).
    Success {
        /// Gas consumed.
        gas_used: u64,
        /// ABI-encoded return data.
        output: Bytes,
    },
    /// Reverted with `output` (usually `Error(string)`); the caller keeps the unused gas.
    Revert {
        /// Gas consumed.
        gas_used: u64,
        /// Revert data.
        output: Bytes,
    },
    /// The gas limit does not cover the call; all the call's gas is consumed.
    OutOfGas,
}

impl ModuleResult {
    /// A revert with Solidity's `Error(reason)` data.
    pub fn revert_with_reason(gas_used: u64, reason: &str) -> Self {
        Self::Revert {
            gas_used,
            output: encode_revert_reason(reason),
        }
    }
}

/// A native module: Rust logic at a fixed address with a Solidity interface.
pub trait NativeModule: Send + Sync + fmt::Debug {
    /// The fixed address contracts call (at or above `0x…1000`).
    fn address(&self) -> Address;
    /// A short name for logs and errors, e.g. `"BanyanCrypto"`.
    fn name(&self) -> &'static str;
    /// Whether calls may carry value. When `false` (the default) the registry reverts any call
    /// with value before the module runs, so no funds get stuck at the module's address.
    fn accepts_value(&self) -> bool {
        false
    }
    /// Answers one call with ABI-encoded `input`, using at most `gas_limit` gas.
    fn call(&self, ctx: &ModuleCallContext, input: &[u8], gas_limit: u64) -> ModuleResult;
}

/// The native modules of a chain, by address.
#[derive(Clone, Default)]
pub struct ModuleRegistry {
    modules: BTreeMap<Address, Arc<dyn NativeModule>>,
}

impl fmt::Debug for ModuleRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.modules.iter().map(|(a, m)| (a, m.name())))
            .finish()
    }
}

impl ModuleRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `module`. Fails when its address is taken or lies in the range reserved for
    /// Ethereum precompiles (below `0x…1000`).
    pub fn register(&mut self, module: Arc<dyn NativeModule>) -> Result<(), ExecError> {
        let address = module.address();
        if is_reserved_for_ethereum(address) {
            return Err(ExecError::Registry(format!(
                "module {} at {address}: addresses below 0x1000 are reserved for Ethereum precompiles",
                module.name()
            )));
        }
        if let Some(existing) = self.modules.get(&address) {
            return Err(ExecError::Registry(format!(
                "module {} at {address}: address already used by module {}",
                module.name(),
                existing.name()
            )));
        }
        self.modules.insert(address, module);
        Ok(())
    }

    /// The module at `address`, if any.
    pub fn get(&self, address: &Address) -> Option<&Arc<dyn NativeModule>> {
        self.modules.get(address)
    }

    /// Registered addresses in ascending order.
    pub fn addresses(&self) -> impl ExactSizeIterator<Item = &Address> {
        self.modules.keys()
    }

    /// Number of registered modules.
    pub fn len(&self) -> usize {
        self.modules.len()
    }

    /// `true` when no module is registered.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }
}

fn is_reserved_for_ethereum(address: Address) -> bool {
    U256::from_be_slice(address.as_slice()) < U256::from(FIRST_MODULE_ADDRESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[derive(Debug)]
    struct At(Address);

    impl NativeModule for At {
        fn address(&self) -> Address {
            self.0
        }
        fn name(&self) -> &'static str {
            "At"
        }
        fn call(&self, _: &ModuleCallContext, _: &[u8], _: u64) -> ModuleResult {
            ModuleResult::OutOfGas
        }
    }

    #[test]
    fn reserved_and_taken_addresses_are_refused() {
        let mut registry = ModuleRegistry::new();
        for reserved in [
            address!("0000000000000000000000000000000000000001"),
            address!("0000000000000000000000000000000000000100"),
            address!("0000000000000000000000000000000000000fff"),
        ] {
            assert!(registry.register(Arc::new(At(reserved))).is_err());
        }
        let ok = address!("0000000000000000000000000000000000001000");
        registry.register(Arc::new(At(ok))).expect("free address");
        assert!(registry.register(Arc::new(At(ok))).is_err());
        let high = address!("1000000000000000000000000000000000000000");
        registry.register(Arc::new(At(high))).expect("not reserved");
        assert_eq!(registry.len(), 2);
    }
}
