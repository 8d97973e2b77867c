//! The native modules of a chain, by address, and which module answers each view kind.

use crate::{FIRST_MODULE_ADDRESS, NativeModule, ViewKind};
use alloy_primitives::{Address, U256};
use std::{collections::BTreeMap, fmt, sync::Arc};

/// A module cannot join a registry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The address lies in the range kept for Ethereum's precompiles.
    #[error(
        "module {module} at {address}: addresses below 0x1000 are reserved for Ethereum precompiles"
    )]
    ReservedAddress {
        /// The module's name.
        module: &'static str,
        /// Its address.
        address: Address,
    },
    /// Another module already has the address.
    #[error("module {module} at {address}: address already used by module {existing}")]
    AddressTaken {
        /// The module's name.
        module: &'static str,
        /// Its address.
        address: Address,
        /// The module registered there first.
        existing: &'static str,
    },
    /// Another module already answers a view kind this one claims.
    #[error("module {module} answers {kind:?}, which module {existing} already answers")]
    ViewTaken {
        /// The module's name.
        module: &'static str,
        /// The contested kind.
        kind: ViewKind,
        /// The module registered for it first.
        existing: &'static str,
    },
}

/// The native modules of a chain, by address.
#[derive(Clone, Default)]
pub struct ModuleRegistry {
    modules: BTreeMap<Address, Arc<dyn NativeModule>>,
    views: BTreeMap<ViewKind, Arc<dyn NativeModule>>,
    /// Modules that screen transactions, in address order (the order screens run in).
    screening: Vec<Arc<dyn NativeModule>>,
    /// Modules that guard call frames, in address order.
    guarding: Vec<Arc<dyn NativeModule>>,
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

    /// Adds `module`. Fails when its address is taken or reserved, or when a view kind it
    /// answers is already answered by another module.
    pub fn register(&mut self, module: Arc<dyn NativeModule>) -> Result<(), RegistryError> {
        let address = module.address();
        if U256::from_be_slice(address.as_slice()) < U256::from(FIRST_MODULE_ADDRESS) {
            return Err(RegistryError::ReservedAddress {
                module: module.name(),
                address,
            });
        }
        if let Some(existing) = self.modules.get(&address) {
            return Err(RegistryError::AddressTaken {
                module: module.name(),
                address,
                existing: existing.name(),
            });
        }
        for kind in module.views() {
            if let Some(existing) = self.views.get(kind) {
                return Err(RegistryError::ViewTaken {
                    module: module.name(),
                    kind: *kind,
                    existing: existing.name(),
                });
            }
        }
        for kind in module.views() {
            self.views.insert(*kind, Arc::clone(&module));
        }
        self.modules.insert(address, module);
        self.screening = self
            .modules
            .values()
            .filter(|m| m.screens_transactions())
            .cloned()
            .collect();
        self.guarding = self
            .modules
            .values()
            .filter(|m| m.guards_calls())
            .cloned()
            .collect();
        Ok(())
    }

    /// The module at `address`, if any.
    pub fn get(&self, address: &Address) -> Option<&Arc<dyn NativeModule>> {
        self.modules.get(address)
    }

    /// The module that answers `kind`, if any.
    pub fn answering(&self, kind: ViewKind) -> Option<&Arc<dyn NativeModule>> {
        self.views.get(&kind)
    }

    /// The modules that screen transactions, in address order.
    pub fn screening(&self) -> &[Arc<dyn NativeModule>] {
        &self.screening
    }

    /// The modules that guard call frames, in address order.
    pub fn guarding(&self) -> &[Arc<dyn NativeModule>] {
        &self.guarding
    }

    /// The module called `name`, if any.
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn NativeModule>> {
        self.modules.values().find(|m| m.name() == name)
    }

    /// Registered modules in ascending address order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Arc<dyn NativeModule>> {
        self.modules.values()
    }

    /// Registered addresses in ascending order.
    pub fn addresses(&self) -> impl ExactSizeIterator<Item = &Address> {
        self.modules.keys()
    }

    /// Whether `address` is a module's.
    pub fn contains(&self, address: &Address) -> bool {
        self.modules.contains_key(address)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ModuleCallContext, ModuleError, ModuleState};
    use alloy_primitives::{Bytes, address};

    #[derive(Debug)]
    struct At(Address, &'static [ViewKind]);

    impl NativeModule for At {
        fn address(&self) -> Address {
            self.0
        }
        fn name(&self) -> &'static str {
            "At"
        }
        fn version(&self) -> u32 {
            1
        }
        fn views(&self) -> &'static [ViewKind] {
            self.1
        }
        fn call(
            &self,
            _: &ModuleCallContext,
            _: &[u8],
            _: &mut ModuleState<'_>,
        ) -> Result<Bytes, ModuleError> {
            Err(ModuleError::OutOfGas)
        }
    }

    #[test]
    fn reserved_and_taken_addresses_and_views_are_refused() {
        let mut registry = ModuleRegistry::new();
        for reserved in [
            address!("0000000000000000000000000000000000000001"),
            address!("0000000000000000000000000000000000000100"),
            address!("0000000000000000000000000000000000000fff"),
        ] {
            assert!(matches!(
                registry.register(Arc::new(At(reserved, &[]))),
                Err(RegistryError::ReservedAddress { .. })
            ));
        }
        let ok = address!("0000000000000000000000000000000000001000");
        registry
            .register(Arc::new(At(ok, &[ViewKind::EvidenceAnchor])))
            .expect("free address");
        assert!(matches!(
            registry.register(Arc::new(At(ok, &[]))),
            Err(RegistryError::AddressTaken { .. })
        ));
        let high = address!("1000000000000000000000000000000000000000");
        assert!(matches!(
            registry.register(Arc::new(At(high, &[ViewKind::EvidenceAnchor]))),
            Err(RegistryError::ViewTaken { .. })
        ));
        registry
            .register(Arc::new(At(high, &[])))
            .expect("not reserved");
        assert_eq!(registry.len(), 2);
        assert_eq!(
            registry
                .answering(ViewKind::EvidenceAnchor)
                .map(|m| m.address()),
            Some(ok)
        );
    }
}
