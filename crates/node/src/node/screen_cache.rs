//! The head state as the pool's module screens read it: module storage (Governance's switches,
//! roles, freezes) is read for almost every transaction, so it is cached per head; everything
//! else goes to the state tree.

use alloy_primitives::{Address, B256, Bytes, U256};
use banyan_state::{Account, StateError, StateReader, StateView};
use parking_lot::RwLock;
use std::collections::HashMap;

/// Module slots kept per head before the cache starts again.
const MAX_ENTRIES: usize = 4096;

/// A view of one head root that remembers the module storage it has read.
pub(crate) struct ScreenState {
    root: B256,
    view: StateView,
    modules: Vec<Address>,
    storage: RwLock<HashMap<(Address, U256), U256>>,
}

impl ScreenState {
    pub(crate) fn new(root: B256, view: StateView, modules: Vec<Address>) -> Self {
        Self {
            root,
            view,
            modules,
            storage: RwLock::new(HashMap::new()),
        }
    }

    /// The root this view reads.
    pub(crate) fn root(&self) -> B256 {
        self.root
    }
}

impl StateReader for ScreenState {
    fn account(&self, address: Address) -> Result<Option<Account>, StateError> {
        self.view.account(address)
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        if !self.modules.contains(&address) {
            return self.view.storage(address, slot);
        }
        if let Some(value) = self.storage.read().get(&(address, slot)) {
            return Ok(*value);
        }
        let value = self.view.storage(address, slot)?;
        let mut cache = self.storage.write();
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert((address, slot), value);
        Ok(value)
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, StateError> {
        self.view.code(code_hash)
    }
}
