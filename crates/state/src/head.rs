//! The head state's accounts and storage slots in memory, in front of the tree.
//!
//! Keyed by one state root: a read at that root is answered from memory when the cache holds
//! the key, and a read that walked the tree fills it. When a block is committed the cache moves
//! to the new root by applying that block's changes (recorded when the block was applied), so
//! what it holds stays exact; a root it cannot reach that way (another branch, a snapshot)
//! empties it. Bounded by entries: past the bound it starts again empty. In debug builds every
//! answer from memory is checked against the tree.

use alloy_primitives::{Address, B256, U256};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::{Account, StateChanges};

/// Most accounts and slots held (about 100 bytes each).
pub(crate) const MAX_ENTRIES: usize = 500_000;
/// Blocks applied and not yet committed whose changes are kept (proposals of a few rounds).
const RECENT: usize = 16;

/// What one applied block changed, in the form the cache needs.
pub(crate) struct Delta {
    parent: B256,
    accounts: Vec<(Address, Option<Account>)>,
    /// Accounts whose storage was wiped (or that were deleted): every slot of theirs goes.
    wiped: Vec<Address>,
    slots: Vec<(Address, U256, U256)>,
}

impl Delta {
    pub(crate) fn new(
        parent: B256,
        changes: &StateChanges,
        accounts: Vec<(Address, Option<Account>)>,
    ) -> Self {
        let mut wiped = Vec::new();
        let mut slots = Vec::new();
        for (address, change) in &changes.accounts {
            match change {
                None => wiped.push(*address),
                Some(change) => {
                    if change.storage_cleared {
                        wiped.push(*address);
                    }
                    slots.extend(change.storage.iter().map(|(k, v)| (*address, *k, *v)));
                }
            }
        }
        Self {
            parent,
            accounts,
            wiped,
            slots,
        }
    }
}

#[derive(Default)]
struct Entries {
    root: B256,
    accounts: HashMap<Address, Option<Account>>,
    storage: HashMap<Address, HashMap<U256, U256>>,
    slots: usize,
}

impl Entries {
    fn len(&self) -> usize {
        self.accounts.len() + self.slots
    }

    fn reset(&mut self, root: B256) {
        *self = Self {
            root,
            ..Self::default()
        };
    }
}

#[derive(Default)]
pub(crate) struct HeadCache {
    entries: RwLock<Entries>,
    recent: Mutex<VecDeque<(B256, Arc<Delta>)>>,
}

impl HeadCache {
    pub(crate) fn account(&self, root: B256, address: &Address) -> Option<Option<Account>> {
        let e = self.entries.read();
        (e.root == root).then(|| e.accounts.get(address).cloned())?
    }

    pub(crate) fn storage(&self, root: B256, address: &Address, slot: &U256) -> Option<U256> {
        let e = self.entries.read();
        if e.root != root {
            return None;
        }
        e.storage.get(address)?.get(slot).copied()
    }

    pub(crate) fn fill_account(&self, root: B256, address: Address, account: Option<Account>) {
        let mut e = self.entries.write();
        if e.root == root && e.len() < MAX_ENTRIES {
            e.accounts.insert(address, account);
        }
    }

    pub(crate) fn fill_storage(&self, root: B256, address: Address, slot: U256, value: U256) {
        let mut e = self.entries.write();
        if e.root == root
            && e.len() < MAX_ENTRIES
            && e.storage
                .entry(address)
                .or_default()
                .insert(slot, value)
                .is_none()
        {
            e.slots += 1;
        }
    }

    /// Keeps the changes of a block applied on top of `delta.parent`, giving `root`.
    pub(crate) fn applied(&self, root: B256, delta: Delta) {
        let mut recent = self.recent.lock();
        if recent.len() >= RECENT {
            recent.pop_front();
        }
        recent.push_back((root, Arc::new(delta)));
    }

    /// Moves the cache to `root`, the state of a committed block.
    pub(crate) fn advance(&self, root: B256) {
        let delta = self
            .recent
            .lock()
            .iter()
            .rev()
            .find(|(r, _)| *r == root)
            .map(|(_, d)| d.clone());
        let mut e = self.entries.write();
        if e.root == root {
            return;
        }
        let Some(delta) = delta.filter(|d| d.parent == e.root) else {
            e.reset(root);
            return;
        };
        for address in &delta.wiped {
            if let Some(slots) = e.storage.remove(address) {
                e.slots -= slots.len();
            }
        }
        for (address, slot, value) in &delta.slots {
            if e.storage
                .entry(*address)
                .or_default()
                .insert(*slot, *value)
                .is_none()
            {
                e.slots += 1;
            }
        }
        for (address, account) in &delta.accounts {
            e.accounts.insert(*address, account.clone());
        }
        e.root = root;
        if e.len() > MAX_ENTRIES {
            e.reset(root);
        }
    }
}
