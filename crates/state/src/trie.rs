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

/// Tree nodes: read from the engine, new nodes buffered until the caller writes them in the
/// block's atomic batch. Nodes are content-addressed and shared between versions and between
/// accounts, so nothing is ever deleted here (the library's stale-node removal is ignored: it
/// would corrupt other versions and other accounts' trees).
pub(crate) struct NodeStore {
    store: Option<Arc<dyn KvStore>>,
    pending: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    missing: AtomicBool,
}

impl NodeStore {
    pub(crate) fn new(store: Arc<dyn KvStore>) -> Self {
        Self {
            store: Some(store),
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
            Some(s) => s
                .get(Table::TrieNodes, key)
                .map_err(|e| NodeStoreError(e.to_string()))?,
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
