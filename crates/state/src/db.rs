//! Accounts and contract storage over the tree: reads at any committed root, per-block updates
//! and proofs.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use banyan_crypto::Suite;
use banyan_primitives::Genesis;
use banyan_storage::{KvStore, Table, WriteBatch};
use cita_trie::Trie;
use std::sync::Arc;

use crate::head::HeadCache;
use crate::trie::{self, NodeCache, NodeStore, empty_root};
use crate::{Account, AccountChange, KECCAK_EMPTY, StateChanges, StateError, StateReader};

#[derive(RlpEncodable, RlpDecodable)]
struct AccountRlp {
    nonce: u64,
    balance: U256,
    storage_root: B256,
    code_hash: B256,
}

fn encode_account(a: &Account) -> Vec<u8> {
    let mut out = Vec::new();
    AccountRlp {
        nonce: a.nonce,
        balance: a.balance,
        storage_root: a.storage_root,
        code_hash: a.code_hash,
    }
    .encode(&mut out);
    out
}

/// Decodes an account leaf of the state tree.
pub fn decode_account(mut bytes: &[u8]) -> Result<Account, StateError> {
    let a =
        AccountRlp::decode(&mut bytes).map_err(|e| StateError::Corrupt(format!("account: {e}")))?;
    Ok(Account {
        nonce: a.nonce,
        balance: a.balance,
        storage_root: a.storage_root,
        code_hash: a.code_hash,
    })
}

/// Decodes a storage leaf (RLP of the value without leading zeros).
pub fn decode_storage_value(mut bytes: &[u8]) -> Result<U256, StateError> {
    U256::decode(&mut bytes).map_err(|e| StateError::Corrupt(format!("storage value: {e}")))
}

/// A Merkle proof of one account and some of its storage slots, as `eth_getProof` returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountProof {
    /// The account's address.
    pub address: Address,
    /// The account, `None` if the proof shows it does not exist.
    pub account: Option<Account>,
    /// Tree nodes from the state root down to the account's leaf.
    pub account_proof: Vec<Bytes>,
    /// One proof per requested slot.
    pub storage: Vec<StorageProof>,
}

/// A Merkle proof of one storage slot against the account's storage root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageProof {
    /// The slot.
    pub key: U256,
    /// Its value (zero when absent).
    pub value: U256,
    /// Tree nodes from the storage root down to the slot's leaf.
    pub proof: Vec<Bytes>,
}

/// One account of a state snapshot, as stored in the tree: its key (the suite hash of the
/// address), its encoded account, its storage leaves (hashed slot, encoded value) and its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotAccount {
    /// Tree key of the account.
    pub key: Vec<u8>,
    /// The encoded account (nonce, balance, storage root, code hash).
    pub account: Vec<u8>,
    /// Storage leaves.
    pub storage: Vec<(Vec<u8>, Vec<u8>)>,
    /// Contract code, if the account has any.
    pub code: Option<Bytes>,
}

/// The state of the chain, stored as content-addressed tree nodes in the engine.
#[derive(Clone)]
pub struct StateDb {
    store: Arc<dyn KvStore>,
    suite: Suite,
    /// Tree nodes read so far, shared by every view and clone.
    cache: Arc<NodeCache>,
    /// The head state's accounts and slots, shared likewise.
    head: Arc<HeadCache>,
}

/// Memory for cached tree nodes: the top levels of the account tree and the paths of the
/// accounts and slots in use (a node is at most 532 bytes).
pub const NODE_CACHE_BYTES: usize = 64 << 20;

impl StateDb {
    /// State over `store`, hashed with `suite`, with a node cache of [`NODE_CACHE_BYTES`].
    pub fn new(store: Arc<dyn KvStore>, suite: Suite) -> Self {
        Self::with_cache(store, suite, NODE_CACHE_BYTES)
    }

    /// State over `store` with a node cache of about `cache_bytes` (0: none).
    pub fn with_cache(store: Arc<dyn KvStore>, suite: Suite, cache_bytes: usize) -> Self {
        Self {
            store,
            suite,
            cache: Arc::new(NodeCache::new(cache_bytes)),
            head: Arc::new(HeadCache::default()),
        }
    }

    /// The state at `root` is the head now (a block with it was committed, or the node
    /// started there): reads at `root` may be answered from memory from now on. Cheap when
    /// `root` is a block applied on the previous head with [`StateDb::apply`].
    pub fn advance_head(&self, root: B256) {
        self.head.advance(root);
    }

    /// The chain's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Root of the empty state.
    pub fn empty_root(&self) -> B256 {
        empty_root(self.suite)
    }

    fn account_key(&self, address: Address) -> B256 {
        self.suite.hash(address.as_slice())
    }

    fn slot_key(&self, slot: U256) -> B256 {
        self.suite.hash(&slot.to_be_bytes::<32>())
    }

    /// A reader of the state at `root`.
    pub fn at(&self, root: B256) -> StateView {
        StateView {
            db: self.clone(),
            root,
        }
    }

    /// Applies a block's changes on top of `root`. Returns the new root and the batch of new tree
    /// nodes and code to write atomically with the block. Work is proportional to the keys changed.
    pub fn apply(
        &self,
        root: B256,
        changes: &StateChanges,
    ) -> Result<(B256, WriteBatch), StateError> {
        let nodes = Arc::new(NodeStore::new(self.store.clone(), self.cache.clone()));
        let mut accounts = trie::open(&nodes, self.suite, root)?;
        let mut batch = WriteBatch::default();
        let mut after = Vec::with_capacity(changes.accounts.len());
        for (address, change) in &changes.accounts {
            let key = self.account_key(*address).to_vec();
            let Some(change) = change else {
                accounts
                    .remove(&key)
                    .map_err(|e| StateError::Corrupt(e.to_string()))?;
                after.push((*address, None));
                continue;
            };
            let previous = trie::get(&accounts, &nodes, &key)?
                .map(|b| decode_account(&b))
                .transpose()?;
            let storage_root = self.apply_storage(&nodes, previous.as_ref(), change)?;
            if let Some(code) = &change.code {
                batch.put(Table::Code, change.code_hash.to_vec(), code.to_vec());
            }
            let account = Account {
                nonce: change.nonce,
                balance: change.balance,
                storage_root,
                code_hash: change.code_hash,
            };
            accounts
                .insert(key, encode_account(&account))
                .map_err(|e| StateError::Corrupt(e.to_string()))?;
            after.push((*address, Some(account)));
        }
        let new_root = trie::commit(&mut accounts)?;
        nodes.drain_into(&mut batch);
        self.head
            .applied(new_root, crate::head::Delta::new(root, changes, after));
        Ok((new_root, batch))
    }

    fn apply_storage(
        &self,
        nodes: &Arc<NodeStore>,
        previous: Option<&Account>,
        change: &AccountChange,
    ) -> Result<B256, StateError> {
        let base = match previous {
            Some(a) if !change.storage_cleared => a.storage_root,
            _ => self.empty_root(),
        };
        if change.storage.is_empty() {
            return Ok(base);
        }
        let mut tree = trie::open(nodes, self.suite, base)?;
        for (slot, value) in &change.storage {
            let key = self.slot_key(*slot).to_vec();
            if value.is_zero() {
                tree.remove(&key)
                    .map_err(|e| StateError::Corrupt(e.to_string()))?;
            } else {
                tree.insert(key, alloy_rlp::encode(value))
                    .map_err(|e| StateError::Corrupt(e.to_string()))?;
            }
        }
        trie::commit(&mut tree)
    }

    /// The genesis state: its root and the batch that stores it.
    pub fn genesis(&self, genesis: &Genesis) -> Result<(B256, WriteBatch), StateError> {
        let mut changes = StateChanges::default();
        for (address, a) in &genesis.alloc {
            let (code_hash, code) = match &a.code {
                Some(c) if !c.is_empty() => (alloy_primitives::keccak256(c), Some(c.clone())),
                _ => (KECCAK_EMPTY, None),
            };
            changes.accounts.insert(
                *address,
                Some(AccountChange {
                    nonce: a.nonce,
                    balance: a.balance,
                    code_hash,
                    code,
                    storage_cleared: true,
                    storage: a.storage.clone(),
                }),
            );
        }
        self.apply(self.empty_root(), &changes)
    }

    /// Every account of the state at `root`, in key order, with its storage leaves and code:
    /// what a state snapshot carries. Returns the number of accounts. A missing tree node is an
    /// error (the export would otherwise be silently short).
    pub fn export_accounts(
        &self,
        root: B256,
        mut sink: impl FnMut(SnapshotAccount) -> Result<(), StateError>,
    ) -> Result<u64, StateError> {
        let nodes = Arc::new(NodeStore::new(self.store.clone(), self.cache.clone()));
        let accounts = trie::open(&nodes, self.suite, root)?;
        let mut count = 0u64;
        for (key, value) in accounts.iter() {
            let account = decode_account(&value)?;
            let mut storage = Vec::new();
            if account.storage_root != self.empty_root() {
                let tree = trie::open(&nodes, self.suite, account.storage_root)?;
                storage.extend(tree.iter());
            }
            let code = if account.code_hash == KECCAK_EMPTY {
                None
            } else {
                Some(
                    self.store
                        .get(Table::Code, account.code_hash.as_slice())
                        .map_err(|e| StateError::Storage(e.to_string()))?
                        .ok_or_else(|| {
                            StateError::Corrupt(format!("code {} is missing", account.code_hash))
                        })?,
                )
            };
            sink(SnapshotAccount {
                key,
                account: value,
                storage,
                code: code.map(Bytes::from),
            })?;
            count += 1;
        }
        if nodes.had_missing() {
            return Err(StateError::Corrupt(format!(
                "a tree node under root {root} is missing from storage"
            )));
        }
        Ok(count)
    }

    /// Rebuilds a state from snapshot accounts. Returns its root (which the caller compares with
    /// a certified header's) and the batch of tree nodes and code to write. Each account's
    /// storage root and code hash are recomputed, never taken from the snapshot.
    pub fn import_accounts(
        &self,
        accounts: impl IntoIterator<Item = SnapshotAccount>,
    ) -> Result<(B256, WriteBatch), StateError> {
        let nodes = Arc::new(NodeStore::new(self.store.clone(), self.cache.clone()));
        let mut tree = trie::open(&nodes, self.suite, self.empty_root())?;
        let mut batch = WriteBatch::default();
        for a in accounts {
            if a.key.len() != 32 {
                return Err(StateError::Corrupt(format!(
                    "snapshot account key of {} bytes",
                    a.key.len()
                )));
            }
            let account = decode_account(&a.account)?;
            let mut storage = trie::open(&nodes, self.suite, self.empty_root())?;
            for (k, v) in a.storage {
                if k.len() != 32 {
                    return Err(StateError::Corrupt(
                        "snapshot storage key not 32 bytes".into(),
                    ));
                }
                decode_storage_value(&v)?;
                storage
                    .insert(k, v)
                    .map_err(|e| StateError::Corrupt(e.to_string()))?;
            }
            let storage_root = trie::commit(&mut storage)?;
            if storage_root != account.storage_root {
                return Err(StateError::Corrupt(format!(
                    "snapshot storage of account key {} has root {storage_root}, the account says {}",
                    B256::from_slice(&a.key),
                    account.storage_root
                )));
            }
            match &a.code {
                Some(code) => {
                    let hash = alloy_primitives::keccak256(code);
                    if hash != account.code_hash {
                        return Err(StateError::Corrupt(format!(
                            "snapshot code hashes to {hash}, the account says {}",
                            account.code_hash
                        )));
                    }
                    batch.put(Table::Code, hash.to_vec(), code.to_vec());
                }
                None if account.code_hash != KECCAK_EMPTY => {
                    return Err(StateError::Corrupt(format!(
                        "snapshot lacks the code {}",
                        account.code_hash
                    )));
                }
                None => {}
            }
            tree.insert(a.key, a.account)
                .map_err(|e| StateError::Corrupt(e.to_string()))?;
        }
        let root = trie::commit(&mut tree)?;
        nodes.drain_into(&mut batch);
        Ok((root, batch))
    }

    /// Proof of `address` and `slots` at `root`.
    pub fn proof(
        &self,
        root: B256,
        address: Address,
        slots: &[U256],
    ) -> Result<AccountProof, StateError> {
        let nodes = Arc::new(NodeStore::new(self.store.clone(), self.cache.clone()));
        let accounts = trie::open(&nodes, self.suite, root)?;
        let key = self.account_key(address);
        let account_proof = accounts
            .get_proof(key.as_slice())
            .map_err(|e| StateError::Corrupt(e.to_string()))?;
        let account = trie::get(&accounts, &nodes, key.as_slice())?
            .map(|b| decode_account(&b))
            .transpose()?;
        let storage_root = account
            .as_ref()
            .map_or(self.empty_root(), |a| a.storage_root);
        let storage_tree = trie::open(&nodes, self.suite, storage_root)?;
        let mut storage = Vec::with_capacity(slots.len());
        for slot in slots {
            let k = self.slot_key(*slot);
            let proof = storage_tree
                .get_proof(k.as_slice())
                .map_err(|e| StateError::Corrupt(e.to_string()))?;
            let value = trie::get(&storage_tree, &nodes, k.as_slice())?
                .map(|b| decode_storage_value(&b))
                .transpose()?
                .unwrap_or_default();
            storage.push(StorageProof {
                key: *slot,
                value,
                proof: proof.into_iter().map(Bytes::from).collect(),
            });
        }
        Ok(AccountProof {
            address,
            account,
            account_proof: account_proof.into_iter().map(Bytes::from).collect(),
            storage,
        })
    }
}

/// Verifies an [`AccountProof`] against a state root taken from a block header: the account (or
/// its absence) and every storage value must follow from the root by the proof's nodes.
pub fn verify_account_proof(
    suite: Suite,
    state_root: B256,
    proof: &AccountProof,
) -> Result<(), StateError> {
    let nodes: Vec<Vec<u8>> = proof.account_proof.iter().map(|b| b.to_vec()).collect();
    let key = suite.hash(proof.address.as_slice());
    let leaf = trie::verify_proof(suite, state_root, key.as_slice(), &nodes)?;
    let proven = leaf.map(|b| decode_account(&b)).transpose()?;
    if proven != proof.account {
        return Err(StateError::InvalidProof(format!(
            "account {} in the proof does not match the tree",
            proof.address
        )));
    }
    let storage_root = proven.map_or(empty_root(suite), |a| a.storage_root);
    for s in &proof.storage {
        let nodes: Vec<Vec<u8>> = s.proof.iter().map(|b| b.to_vec()).collect();
        let key = suite.hash(&s.key.to_be_bytes::<32>());
        let value = trie::verify_proof(suite, storage_root, key.as_slice(), &nodes)?
            .map(|b| decode_storage_value(&b))
            .transpose()?
            .unwrap_or_default();
        if value != s.value {
            return Err(StateError::InvalidProof(format!(
                "slot {} value does not match the tree",
                s.key
            )));
        }
    }
    Ok(())
}

/// The state at one root.
#[derive(Clone)]
pub struct StateView {
    db: StateDb,
    root: B256,
}

impl StateView {
    /// The root this view reads.
    pub fn root(&self) -> B256 {
        self.root
    }
}

impl StateView {
    fn account_in_tree(&self, address: Address) -> Result<Option<Account>, StateError> {
        let nodes = Arc::new(NodeStore::new(self.db.store.clone(), self.db.cache.clone()));
        let tree = trie::open(&nodes, self.db.suite, self.root)?;
        let key = self.db.account_key(address);
        trie::get(&tree, &nodes, key.as_slice())?
            .map(|b| decode_account(&b))
            .transpose()
    }

    fn storage_in_tree(&self, account: &Account, slot: U256) -> Result<U256, StateError> {
        if account.storage_root == self.db.empty_root() {
            return Ok(U256::ZERO);
        }
        let nodes = Arc::new(NodeStore::new(self.db.store.clone(), self.db.cache.clone()));
        let tree = trie::open(&nodes, self.db.suite, account.storage_root)?;
        let key = self.db.slot_key(slot);
        Ok(trie::get(&tree, &nodes, key.as_slice())?
            .map(|b| decode_storage_value(&b))
            .transpose()?
            .unwrap_or_default())
    }
}

impl StateReader for StateView {
    fn account(&self, address: Address) -> Result<Option<Account>, StateError> {
        if let Some(cached) = self.db.head.account(self.root, &address) {
            // Debug builds (every test) check each answer from memory against the tree.
            debug_assert_eq!(
                Some(&cached),
                self.account_in_tree(address).ok().as_ref(),
                "head cache disagrees with the tree for account {address} at {}",
                self.root
            );
            return Ok(cached);
        }
        let account = self.account_in_tree(address)?;
        self.db
            .head
            .fill_account(self.root, address, account.clone());
        Ok(account)
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        if let Some(value) = self.db.head.storage(self.root, &address, &slot) {
            debug_assert_eq!(
                Some(value),
                self.account_in_tree(address)
                    .ok()
                    .flatten()
                    .and_then(|a| self.storage_in_tree(&a, slot).ok())
                    .or(Some(U256::ZERO)),
                "head cache disagrees with the tree for slot {slot} of {address} at {}",
                self.root
            );
            return Ok(value);
        }
        let Some(account) = self.account(address)? else {
            return Ok(U256::ZERO);
        };
        let value = self.storage_in_tree(&account, slot)?;
        self.db.head.fill_storage(self.root, address, slot, value);
        Ok(value)
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Some(Bytes::new()));
        }
        self.db
            .store
            .get(Table::Code, code_hash.as_slice())
            .map(|o| o.map(Bytes::from))
            .map_err(|e| StateError::Storage(e.to_string()))
    }
}
