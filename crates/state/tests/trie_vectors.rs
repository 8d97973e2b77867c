//! Independent references for the state tree: Ethereum's published trie test vectors
//! (ethereum/tests `TrieTests`, copied in `tests/vectors/`), and reth's `alloy-trie` computing
//! the same state and storage roots from the same accounts, on the Keccak suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, U256, keccak256};
use banyan_crypto::Suite;
use banyan_state::{AccountChange, KECCAK_EMPTY, StateChanges, StateDb, StateReader, tree_root};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn bytes(v: &str) -> Vec<u8> {
    match v.strip_prefix("0x") {
        Some(hex) => alloy_primitives::hex::decode(hex).expect("hex in a vector"),
        None => v.as_bytes().to_vec(),
    }
}

/// Runs every test of `file`; with `secure`, keys are hashed with Keccak-256 first. Returns how
/// many tests ran.
fn run_vectors(file: &str, secure: bool) -> usize {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let tests: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file")).unwrap();
    for (name, test) in &tests {
        let pairs: Vec<(String, Option<String>)> = match &test["in"] {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
                .collect(),
            Value::Array(list) => list
                .iter()
                .map(|pair| {
                    (
                        pair[0].as_str().expect("key").to_string(),
                        pair[1].as_str().map(str::to_string),
                    )
                })
                .collect(),
            other => panic!("{file} {name}: unexpected `in` {other}"),
        };
        let entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = pairs
            .iter()
            .map(|(k, v)| {
                let key = bytes(k);
                let key = if secure {
                    keccak256(&key).to_vec()
                } else {
                    key
                };
                (key, v.as_deref().map(bytes))
            })
            .collect();
        let expected: B256 = test["root"].as_str().expect("root").parse().unwrap();
        let root = tree_root(Suite::Ecdsa, &entries).unwrap();
        assert_eq!(root, expected, "{file}: {name}");
    }
    tests.len()
}

#[test]
fn ethereum_trie_vectors_give_the_published_roots() {
    let mut ran = 0;
    for (file, secure) in [
        ("trieanyorder.json", false),
        ("trietest.json", false),
        ("trieanyorder_secureTrie.json", true),
        ("trietest_secureTrie.json", true),
        ("hex_encoded_securetrie_test.json", true),
    ] {
        ran += run_vectors(file, secure);
    }
    // Every test of the five files (not a silently empty file).
    assert_eq!(ran, 25, "vectors run");
}

#[test]
fn the_tree_depends_on_content_not_on_insertion_order() {
    let entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0u8..40)
        .map(|i| (vec![i, i / 3], Some(vec![i; 1 + usize::from(i % 7)])))
        .collect();
    let mut reversed = entries.clone();
    reversed.reverse();
    assert_eq!(
        tree_root(Suite::Ecdsa, &entries).unwrap(),
        tree_root(Suite::Ecdsa, &reversed).unwrap()
    );
}

fn account_strategy() -> impl Strategy<Value = (u64, u64, Vec<(u64, u64)>)> {
    (
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec((any::<u64>(), any::<u64>()), 0..8),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same accounts and storage give the same state root in Banyan's tree (Keccak suite)
    /// as in reth's `alloy-trie`, and the same storage root for every account.
    #[test]
    fn state_roots_match_alloy_trie(
        accounts in prop::collection::btree_map(any::<[u8; 20]>(), account_strategy(), 1..12)
    ) {
        let store = banyan_storage::open_memory();
        let db = StateDb::new(store.clone(), Suite::Ecdsa);
        let mut changes = StateChanges::default();
        let mut reference = Vec::new();
        for (address, (nonce, balance, slots)) in &accounts {
            let address = Address::from(*address);
            let storage: BTreeMap<U256, U256> = slots
                .iter()
                .map(|(k, v)| (U256::from(*k), U256::from(*v)))
                .filter(|(_, v)| !v.is_zero())
                .collect();
            let storage_root = alloy_trie::root::storage_root_unhashed(
                storage.iter().map(|(k, v)| (B256::from(*k), *v)),
            );
            reference.push((
                address,
                alloy_trie::TrieAccount {
                    nonce: *nonce,
                    balance: U256::from(*balance),
                    storage_root,
                    code_hash: KECCAK_EMPTY,
                },
            ));
            changes.accounts.insert(
                address,
                Some(AccountChange {
                    nonce: *nonce,
                    balance: U256::from(*balance),
                    code_hash: KECCAK_EMPTY,
                    code: None,
                    storage_cleared: true,
                    storage,
                }),
            );
        }
        let (root, batch) = db.apply(db.empty_root(), &changes).unwrap();
        store.write(batch).unwrap();
        let expected = alloy_trie::root::state_root_unhashed(reference.clone());
        prop_assert_eq!(root, expected);
        let view = db.at(root);
        for (address, account) in &reference {
            let ours = view.account(*address).unwrap().expect("account");
            prop_assert_eq!(ours.storage_root, account.storage_root, "storage of {}", address);
        }
    }
}
