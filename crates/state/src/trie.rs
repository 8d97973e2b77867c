//! The Merkle Patricia tree over the storage engine, hashed with the chain's suite.

use alloy_primitives::B256;
use banyan_crypto::Suite;
use banyan_storage::{KvStore, Table, WriteBatch};
use cita_trie::{DB, Hasher, PatriciaTrie, Trie};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::StateError;

/// The chain suite's hash as the tree's node hasher.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SuiteHasher(pub(crate) Suite);

impl Hasher for SuiteHasher {
    const LENGTH: usize = 32;
    fn digest(&self, data: &[u8]) -> Vec<u8> {
        self.0.hash(data).to_vec()
    }
}

/// Error type the tree library requires of its node store.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct NodeStoreError(String);

/// Tree nodes read from the engine, kept in memory by their hash and shared by every reader of
/// the state. Nodes are content-addressed and never change or go away, so a cached node is the
/// stored one: the cache cannot change a root or a read. It holds only what was read from
/// storage (never a node that is missing, so damaged storage is still found). Bounded by bytes
/// in two generations: when the newer is full the older is dropped, and a node read from the
/// older moves to the newer, so nodes in use (the top of the tree, recent accounts) stay.
pub(crate) struct NodeCache {
    budget: usize,
    inner: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<B256, Arc<[u8]>>,
    current_bytes: usize,
    previous: HashMap<B256, Arc<[u8]>>,
}

/// What an entry costs besides its bytes (key, `Arc` header, map slot), roughly.
const ENTRY_OVERHEAD: usize = 96;

impl NodeCache {
    /// A cache holding up to about `budget` bytes of nodes.
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::default(),
        }
    }

    fn get(&self, key: &B256) -> Option<Arc<[u8]>> {
        let mut g = self.inner.lock();
        if let Some(v) = g.current.get(key) {
            return Some(v.clone());
        }
        let v = g.previous.remove(key)?;
        g.insert(*key, v.clone(), self.budget);
        Some(v)
    }

    fn put(&self, key: B256, value: &[u8]) {
        if self.budget > 0 {
            self.inner.lock().insert(key, value.into(), self.budget);
        }
    }

    /// Nodes held, for tests.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let g = self.inner.lock();
        g.current.len() + g.previous.len()
    }
}

impl Generations {
    fn insert(&mut self, key: B256, value: Arc<[u8]>, budget: usize) {
        let cost = value.len() + ENTRY_OVERHEAD;
        if self.current_bytes + cost > budget / 2 {
            self.previous = std::mem::take(&mut self.current);
            self.current_bytes = 0;
        }
        if self.current.insert(key, value).is_none() {
            self.current_bytes += cost;
        }
    }
}

/// Tree nodes: read through the [`NodeCache`] from the engine, new nodes buffered until the
/// caller writes them in the block's atomic batch. Nodes are content-addressed and shared between versions and between
/// accounts, so nothing is ever deleted here (the library's stale-node removal is ignored: it
/// would corrupt other versions and other accounts' trees).
pub(crate) struct NodeStore {
    store: Option<(Arc<dyn KvStore>, Arc<NodeCache>)>,
    pending: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    missing: AtomicBool,
}

impl NodeStore {
    pub(crate) fn new(store: Arc<dyn KvStore>, cache: Arc<NodeCache>) -> Self {
        Self {
            store: Some((store, cache)),
            pending: Mutex::default(),
            missing: AtomicBool::new(false),
        }
    }

    /// A store holding only the given nodes (for proofs and ordered roots).
    pub(crate) fn detached() -> Self {
        Self {
            store: None,
            pending: Mutex::default(),
            missing: AtomicBool::new(false),
        }
    }

    /// Whether a lookup found no node (an incomplete proof or a damaged store).
    pub(crate) fn had_missing(&self) -> bool {
        self.missing.load(Ordering::Relaxed)
    }

    /// Moves the new nodes into `batch`.
    pub(crate) fn drain_into(&self, batch: &mut WriteBatch) {
        let mut pending = self.pending.lock();
        let mut nodes: Vec<_> = pending.drain().collect();
        nodes.sort_unstable();
        for (k, v) in nodes {
            batch.put(Table::TrieNodes, k, v);
        }
    }
}

impl DB for NodeStore {
    type Error = NodeStoreError;

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error> {
        if let Some(v) = self.pending.lock().get(key) {
            return Ok(Some(v.clone()));
        }
        let found = match &self.store {
            Some((store, cache)) => {
                let hash = B256::try_from(key).ok();
                if let Some(node) = hash.and_then(|h| cache.get(&h)) {
                    return Ok(Some(node.to_vec()));
                }
                let found = store
                    .get(Table::TrieNodes, key)
                    .map_err(|e| NodeStoreError(e.to_string()))?;
                if let (Some(hash), Some(node)) = (hash, &found) {
                    cache.put(hash, node);
                }
                found
            }
            None => None,
        };
        if found.is_none() {
            self.missing.store(true, Ordering::Relaxed);
        }
        Ok(found)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, Self::Error> {
        Ok(self.get(key)?.is_some())
    }

    fn insert(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), Self::Error> {
        self.pending.lock().insert(key, value);
        Ok(())
    }

    fn remove(&self, _key: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }

    fn flush(&self) -> Result<(), Self::Error> {
        Ok(())
    }
}

pub(crate) type Tree = PatriciaTrie<NodeStore, SuiteHasher>;

/// The root of a tree with no keys under `suite`.
pub fn empty_root(suite: Suite) -> B256 {
    suite.hash(&[0x80])
}

pub(crate) fn open(nodes: &Arc<NodeStore>, suite: Suite, root: B256) -> Result<Tree, StateError> {
    let hasher = Arc::new(SuiteHasher(suite));
    if root == empty_root(suite) {
        return Ok(PatriciaTrie::new(nodes.clone(), hasher));
    }
    let tree = PatriciaTrie::from(nodes.clone(), hasher, root.as_slice())
        .map_err(|e| StateError::Corrupt(format!("root {root}: {e}")))?;
    if nodes.had_missing() {
        return Err(StateError::Corrupt(format!(
            "root node {root} is not in storage"
        )));
    }
    Ok(tree)
}

pub(crate) fn get(
    tree: &Tree,
    nodes: &NodeStore,
    key: &[u8],
) -> Result<Option<Vec<u8>>, StateError> {
    let v = tree
        .get(key)
        .map_err(|e| StateError::Corrupt(e.to_string()))?;
    if nodes.had_missing() {
        return Err(StateError::Corrupt(
            "a tree node on the path is missing from storage".into(),
        ));
    }
    Ok(v)
}

pub(crate) fn commit(tree: &mut Tree) -> Result<B256, StateError> {
    let root = tree
        .root()
        .map_err(|e| StateError::Corrupt(e.to_string()))?;
    if root.len() != 32 {
        return Err(StateError::Corrupt(format!(
            "tree root of {} bytes",
            root.len()
        )));
    }
    Ok(B256::from_slice(&root))
}

/// Root of the tree made by applying `entries` in order to an empty tree (`Some(value)`
/// inserts or replaces, `None` deletes): the tree the state uses, on raw keys, so that it can be
/// checked against independent references (Ethereum's trie test vectors).
pub fn tree_root(suite: Suite, entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<B256, StateError> {
    let nodes = Arc::new(NodeStore::detached());
    let mut tree = PatriciaTrie::new(nodes, Arc::new(SuiteHasher(suite)));
    for (key, value) in entries {
        match value {
            // The library treats an empty value as absent, as Ethereum's trie does.
            Some(value) if !value.is_empty() => tree
                .insert(key.clone(), value.clone())
                .map_err(|e| StateError::Corrupt(e.to_string()))?,
            _ => {
                tree.remove(key)
                    .map_err(|e| StateError::Corrupt(e.to_string()))?;
            }
        }
    }
    commit(&mut tree)
}

/// Root of the ordered tree `rlp(index) -> item`, as Ethereum's transactions and receipts roots.
pub fn ordered_root(suite: Suite, items: &[Vec<u8>]) -> B256 {
    let nodes = Arc::new(NodeStore::detached());
    let mut tree = PatriciaTrie::new(nodes, Arc::new(SuiteHasher(suite)));
    for (i, item) in items.iter().enumerate() {
        let key = alloy_rlp::encode(i as u64);
        // Inserting into a fresh in-memory tree cannot fail: no node is ever loaded from storage.
        let _ = tree.insert(key, item.clone());
    }
    match tree.root() {
        Ok(r) if r.len() == 32 => B256::from_slice(&r),
        _ => empty_root(suite),
    }
}

/// Checks a Merkle proof for `key` against `root`: `Ok(Some(value))` for inclusion, `Ok(None)`
/// for a proven absence, an error if the proof is incomplete or does not lead to `root`.
pub fn verify_proof(
    suite: Suite,
    root: B256,
    key: &[u8],
    proof: &[Vec<u8>],
) -> Result<Option<Vec<u8>>, StateError> {
    let nodes = Arc::new(NodeStore::detached());
    let mut has_root = root == empty_root(suite) && proof.is_empty();
    for node in proof {
        let hash = suite.hash(node);
        has_root |= hash == root;
        if hash == root || node.len() >= 32 {
            let _ = nodes.insert(hash.to_vec(), node.clone());
        }
    }
    if !has_root {
        return Err(StateError::InvalidProof(
            "the proof does not contain the root node".into(),
        ));
    }
    let tree = open(&nodes, suite, root).map_err(|e| StateError::InvalidProof(e.to_string()))?;
    let value = tree
        .get(key)
        .map_err(|e| StateError::InvalidProof(e.to_string()))?;
    if nodes.had_missing() {
        return Err(StateError::InvalidProof(
            "the proof is missing a node on the key's path".into(),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn the_node_cache_stays_within_its_budget_and_keeps_what_is_read() {
        let cache = NodeCache::new(20_000);
        let node = |i: u32| {
            (
                B256::left_padding_from(&i.to_be_bytes()),
                vec![i as u8; 100],
            )
        };
        let (hot, hot_value) = node(0);
        cache.put(hot, &hot_value);
        for i in 1..1_000 {
            let (key, value) = node(i);
            cache.put(key, &value);
            // Read in use: it moves to the newer generation and stays.
            assert_eq!(cache.get(&hot).as_deref(), Some(&hot_value[..]));
        }
        // At most the budget, in bytes with their overhead (two generations of half of it).
        assert!(
            cache.len() * (100 + ENTRY_OVERHEAD) <= 20_000,
            "{}",
            cache.len()
        );
        assert!(cache.len() > 50);
        assert!(cache.get(&node(1).0).is_none(), "the oldest stayed");
        // A budget of 0 holds nothing.
        let none = NodeCache::new(0);
        none.put(hot, &hot_value);
        assert_eq!(none.len(), 0);
    }
}
