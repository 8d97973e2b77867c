//! The native modules of a chain, by address, and which module answers each view kind.

use crate::{FIRST_MODULE_ADDRESS, NativeModule, ViewKind};
use alloy_primitives::{Address, U256};
use std::{collections::BTreeMap, fmt, sync::Arc};

/// The addresses whose first 16 bytes are `prefix`: 2^32 addresses a module answers besides its
/// own ([`NativeModule::address_range`]), numbered by their last four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressRange {
    /// The shared first 16 bytes.
    pub prefix: [u8; 16],
}

impl AddressRange {
    /// Whether `address` lies in the range.
    pub fn contains(&self, address: &Address) -> bool {
        address.as_slice()[..16] == self.prefix
    }

    /// The `index`-th address of the range.
    pub fn address(&self, index: u32) -> Address {
        let mut bytes = [0u8; 20];
        bytes[..16].copy_from_slice(&self.prefix);
        bytes[16..].copy_from_slice(&index.to_be_bytes());
        Address::from(bytes)
    }

    /// The index of `address`, when it lies in the range.
    pub fn index(&self, address: &Address) -> Option<u32> {
        self.contains(address).then(|| {
            let mut index = [0u8; 4];
            index.copy_from_slice(&address.as_slice()[16..]);
            u32::from_be_bytes(index)
        })
    }
}

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
    /// The module's address range overlaps another module's address or range, or reaches
    /// into the precompiles' addresses.
    #[error("module {module}: its address range {prefix} overlaps module {existing}")]
    RangeTaken {
        /// The module's name.
        module: &'static str,
        /// Its range's prefix, in hex.
        prefix: String,
        /// The module it clashes with (or "precompiles").
        existing: &'static str,
    },
    /// Another module already pays gas; a chain has at most one that does.
    #[error("module {module} pays gas, which module {existing} already does")]
    GasPayerTaken {
        /// The module's name.
        module: &'static str,
        /// The module registered for it first.
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
    /// Modules with a block-end hook, in address order (the order the hooks run in).
    block_end: Vec<Arc<dyn NativeModule>>,
    /// Address ranges and the module that answers each.
    ranges: Vec<(AddressRange, Arc<dyn NativeModule>)>,
    /// The module that lets accounts pay gas in something else than the native coin.
    gas_payer: Option<Arc<dyn NativeModule>>,
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
        if let Some(existing) = self.gas_payer.as_ref().filter(|_| module.pays_gas()) {
            return Err(RegistryError::GasPayerTaken {
                module: module.name(),
                existing: existing.name(),
            });
        }
        if let Some(range) = module.address_range() {
            let clash = |existing: &'static str| RegistryError::RangeTaken {
                module: module.name(),
                prefix: alloy_primitives::hex::encode(range.prefix),
                existing,
            };
            if U256::from_be_slice(range.address(0).as_slice()) < U256::from(FIRST_MODULE_ADDRESS) {
                return Err(clash("precompiles"));
            }
            if let Some(other) = self.modules.values().find(|m| range.contains(&m.address())) {
                return Err(clash(other.name()));
            }
            if let Some((_, other)) = self.ranges.iter().find(|(r, _)| *r == range) {
                return Err(clash(other.name()));
            }
        }
        if let Some((_, owner)) = self.ranges.iter().find(|(r, _)| r.contains(&address)) {
            return Err(RegistryError::AddressTaken {
                module: module.name(),
                address,
                existing: owner.name(),
            });
        }
        for kind in module.views() {
            self.views.insert(*kind, Arc::clone(&module));
        }
        if let Some(range) = module.address_range() {
            self.ranges.push((range, Arc::clone(&module)));
        }
        if module.pays_gas() {
            self.gas_payer = Some(Arc::clone(&module));
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
        self.block_end = self
            .modules
            .values()
            .filter(|m| m.runs_at_block_end())
            .cloned()
            .collect();
        Ok(())
    }

    /// The module that lets accounts pay gas in something else than the native coin, if any.
    pub fn gas_payer(&self) -> Option<&Arc<dyn NativeModule>> {
        self.gas_payer.as_ref()
    }

    /// The module that answers calls to `address`: the module at that address, or the one
    /// whose address range holds it.
    pub fn get(&self, address: &Address) -> Option<&Arc<dyn NativeModule>> {
        self.modules.get(address).or_else(|| {
            self.ranges
                .iter()
                .find(|(range, _)| range.contains(address))
                .map(|(_, module)| module)
        })
    }

    /// The modules with a block-end hook, in address order.
    pub fn at_block_end(&self) -> &[Arc<dyn NativeModule>] {
        &self.block_end
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

    /// Whether a module answers calls to `address` (its own address or one of its range).
    pub fn contains(&self, address: &Address) -> bool {
        self.get(address).is_some()
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
