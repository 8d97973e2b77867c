//! State tree behaviour: reads, updates, history, proofs, order independence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use banyan_crypto::Suite;
use banyan_state::*;
use banyan_storage::{KvStore, open_memory};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

fn change(balance: u64, storage: &[(u64, u64)]) -> Option<AccountChange> {
    Some(AccountChange {
        nonce: 1,
        balance: U256::from(balance),
        code_hash: KECCAK_EMPTY,
        code: None,
        storage_cleared: false,
        storage: storage
            .iter()
            .map(|(k, v)| (U256::from(*k), U256::from(*v)))
            .collect(),
    })
}

fn commit(store: &Arc<dyn KvStore>, db: &StateDb, root: B256, changes: StateChanges) -> B256 {
    let (root, batch) = db.apply(root, &changes).unwrap();
    store.write(batch).unwrap();
    root
}

fn addr(i: u8) -> Address {
    Address::repeat_byte(i)
}

#[test]
fn updates_are_readable_and_history_is_kept() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let store = open_memory();
        let db = StateDb::new(store.clone(), suite);
        let mut c = StateChanges::default();
        c.accounts.insert(addr(1), change(100, &[(1, 7), (2, 9)]));
        c.accounts.insert(addr(2), change(5, &[]));
        let r1 = commit(&store, &db, db.empty_root(), c);
        assert_ne!(r1, db.empty_root());

        let mut c = StateChanges::default();
        c.accounts.insert(addr(1), change(60, &[(1, 0), (3, 4)]));
        c.accounts.insert(addr(2), None);
        let r2 = commit(&store, &db, r1, c);

        let old = db.at(r1);
        let new = db.at(r2);
        assert_eq!(
            old.account(addr(1)).unwrap().unwrap().balance,
            U256::from(100)
        );
        assert_eq!(
            new.account(addr(1)).unwrap().unwrap().balance,
            U256::from(60)
        );
        assert_eq!(old.storage(addr(1), U256::from(1)).unwrap(), U256::from(7));
        assert_eq!(new.storage(addr(1), U256::from(1)).unwrap(), U256::ZERO);
        assert_eq!(new.storage(addr(1), U256::from(2)).unwrap(), U256::from(9));
        assert_eq!(new.storage(addr(1), U256::from(3)).unwrap(), U256::from(4));
        assert!(old.account(addr(2)).unwrap().is_some());
        assert!(new.account(addr(2)).unwrap().is_none());
    }
}

#[test]
fn sm_and_ecdsa_roots_differ() {
    let mut c = StateChanges::default();
    c.accounts.insert(addr(1), change(1, &[]));
    let a = StateDb::new(open_memory(), Suite::Ecdsa);
    let b = StateDb::new(open_memory(), Suite::Sm);
    assert_ne!(
        a.apply(a.empty_root(), &c).unwrap().0,
        b.apply(b.empty_root(), &c).unwrap().0
    );
    // Ethereum's empty trie root.
    assert_eq!(
        a.empty_root(),
        "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
            .parse::<B256>()
            .unwrap()
    );
}

#[test]
fn code_is_stored_by_hash_and_storage_clear_wipes() {
    let store = open_memory();
    let db = StateDb::new(store.clone(), Suite::Ecdsa);
    let code = Bytes::from_static(&[0x60, 0x00, 0xf3]);
    let mut c = StateChanges::default();
    c.accounts.insert(
        addr(9),
        Some(AccountChange {
            nonce: 1,
            balance: U256::ZERO,
            code_hash: keccak256(&code),
            code: Some(code.clone()),
            storage_cleared: true,
            storage: BTreeMap::from([(U256::from(1), U256::from(1))]),
        }),
    );
    let r1 = commit(&store, &db, db.empty_root(), c);
    let v = db.at(r1);
    let acct = v.account(addr(9)).unwrap().unwrap();
    assert_eq!(v.code(acct.code_hash).unwrap().unwrap(), code);

    let mut c = StateChanges::default();
    let mut wipe = change(0, &[(2, 2)]).unwrap();
    wipe.storage_cleared = true;
    c.accounts.insert(addr(9), Some(wipe));
    let r2 = commit(&store, &db, r1, c);
    assert_eq!(
        db.at(r2).storage(addr(9), U256::from(1)).unwrap(),
        U256::ZERO
    );
    assert_eq!(
        db.at(r2).storage(addr(9), U256::from(2)).unwrap(),
        U256::from(2)
    );
}

#[test]
fn proofs_verify_and_tampering_fails() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let store = open_memory();
        let db = StateDb::new(store.clone(), suite);
        let mut c = StateChanges::default();
        for i in 1..40u8 {
            c.accounts
                .insert(addr(i), change(i as u64 * 10, &[(1, i as u64), (2, 3)]));
        }
        let root = commit(&store, &db, db.empty_root(), c);

        let p = db
            .proof(root, addr(7), &[U256::from(1), U256::from(5)])
            .unwrap();
        assert_eq!(p.account.as_ref().unwrap().balance, U256::from(70));
        assert_eq!(p.storage[0].value, U256::from(7));
        assert_eq!(p.storage[1].value, U256::ZERO);
        verify_account_proof(suite, root, &p).unwrap();

        // Absent account: proof of absence verifies.
        let absent = db.proof(root, addr(200), &[]).unwrap();
        assert!(absent.account.is_none());
        verify_account_proof(suite, root, &absent).unwrap();

        // Lies are caught: wrong balance, wrong slot value, wrong root, missing nodes.
        let mut lie = p.clone();
        lie.account.as_mut().unwrap().balance = U256::from(71);
        assert!(verify_account_proof(suite, root, &lie).is_err());
        let mut lie = p.clone();
        lie.storage[0].value = U256::from(8);
        assert!(verify_account_proof(suite, root, &lie).is_err());
        assert!(verify_account_proof(suite, B256::repeat_byte(3), &p).is_err());
        let mut lie = absent.clone();
        lie.account_proof.truncate(1);
        lie.address = addr(7);
        assert!(verify_account_proof(suite, root, &lie).is_err());
        let mut lie = p.clone();
        lie.account_proof.clear();
        assert!(verify_account_proof(suite, root, &lie).is_err());
    }
}

#[test]
fn ordered_roots_depend_on_order_and_content() {
    let a = ordered_root(Suite::Ecdsa, &[b"a".to_vec(), b"b".to_vec()]);
    let b = ordered_root(Suite::Ecdsa, &[b"b".to_vec(), b"a".to_vec()]);
    assert_ne!(a, b);
    assert_eq!(ordered_root(Suite::Ecdsa, &[]), empty_root(Suite::Ecdsa));
    assert_eq!(
        a,
        ordered_root(Suite::Ecdsa, &[b"a".to_vec(), b"b".to_vec()])
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// The root is a function of the final content only: applying updates in several blocks or
    /// building the final content at once gives the same root.
    #[test]
    fn root_depends_only_on_content(
        blocks in prop::collection::vec(prop::collection::vec((1u8..20, 0u64..4, 0u64..3, 1u64..1000), 1..8), 1..5)
    ) {
        let store = open_memory();
        let db = StateDb::new(store.clone(), Suite::Ecdsa);
        let mut root = db.empty_root();
        let mut balances: BTreeMap<u8, u64> = BTreeMap::new();
        let mut slots: BTreeMap<(u8, u64), u64> = BTreeMap::new();
        for block in &blocks {
            let mut c = StateChanges::default();
            for (a, slot, value, balance) in block {
                balances.insert(*a, *balance);
                slots.insert((*a, *slot), *value);
                let mut ch = change(*balance, &[]).unwrap();
                for ((sa, s), v) in &slots { if sa == a { ch.storage.insert(U256::from(*s), U256::from(*v)); } }
                c.accounts.insert(addr(*a), Some(ch));
            }
            root = commit(&store, &db, root, c);
        }
        let fresh_store = open_memory();
        let fresh = StateDb::new(fresh_store.clone(), Suite::Ecdsa);
        let mut c = StateChanges::default();
        for (a, balance) in &balances {
            let mut ch = change(*balance, &[]).unwrap();
            for ((sa, s), v) in &slots { if sa == a && *v != 0 { ch.storage.insert(U256::from(*s), U256::from(*v)); } }
            c.accounts.insert(addr(*a), Some(ch));
        }
        let direct = commit(&fresh_store, &fresh, fresh.empty_root(), c);
        prop_assert_eq!(root, direct);
    }
}

/// Every root and read over `store`, through a cache of `cache_bytes`.
fn reads(
    db: &StateDb,
    roots: &[B256],
    accounts: u8,
    slots: u64,
) -> Vec<(Option<Account>, Vec<U256>)> {
    roots
        .iter()
        .flat_map(|root| {
            let view = db.at(*root);
            (1..=accounts)
                .map(|a| {
                    let account = view.account(addr(a)).unwrap();
                    let values = (0..slots)
                        .map(|s| view.storage(addr(a), U256::from(s)).unwrap())
                        .collect();
                    (account, values)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// The node cache changes nothing: the same blocks give the same roots, and every read at
    /// every root is the same, with no cache, a tiny one (always evicting) and the default.
    #[test]
    fn the_node_cache_changes_no_root_and_no_read(
        blocks in prop::collection::vec(prop::collection::vec((1u8..12, 0u64..4, 0u64..3, 1u64..1000), 1..8), 1..6)
    ) {
        let mut results = Vec::new();
        for cache in [0, 2_000, NODE_CACHE_BYTES] {
            let store = open_memory();
            let db = StateDb::with_cache(store.clone(), Suite::Ecdsa, cache);
            let mut roots = vec![db.empty_root()];
            for block in &blocks {
                let mut c = StateChanges::default();
                for (a, slot, value, balance) in block {
                    let mut ch = change(*balance, &[(*slot, *value)]).unwrap();
                    ch.storage_cleared = *value == 2 && *slot == 3;
                    c.accounts.insert(addr(*a), Some(ch));
                }
                let root = commit(&store, &db, *roots.last().unwrap(), c);
                roots.push(root);
            }
            // Cold for the uncached store, warm (twice) for the others.
            let first = reads(&db, &roots, 12, 4);
            prop_assert_eq!(&first, &reads(&db, &roots, 12, 4));
            results.push((roots, first));
        }
        prop_assert_eq!(&results[0], &results[1]);
        prop_assert_eq!(&results[0], &results[2]);
    }
}

#[test]
fn a_missing_node_is_found_with_a_warm_cache_and_never_cached() {
    let store = open_memory();
    let db = StateDb::new(store.clone(), Suite::Ecdsa);
    let mut c = StateChanges::default();
    for a in 1..=40 {
        c.accounts.insert(addr(a), change(u64::from(a), &[]));
    }
    let root = commit(&store, &db, db.empty_root(), c);
    // Warm the cache with one account's path, then lose the nodes of the tree from storage.
    assert!(db.at(root).account(addr(1)).unwrap().is_some());
    let nodes = store
        .range(
            banyan_storage::Table::TrieNodes,
            &[],
            &[0xff; 33],
            usize::MAX,
        )
        .unwrap();
    let mut wipe = banyan_storage::WriteBatch::default();
    for (key, _) in &nodes {
        wipe.delete(banyan_storage::Table::TrieNodes, key.clone());
    }
    store.write(wipe).unwrap();
    // The cached path still reads (its nodes are the stored ones); another account's path,
    // never read, is an error, not a wrong answer.
    assert!(db.at(root).account(addr(1)).unwrap().is_some());
    let other = (2..=40).find(|a| db.at(root).account(addr(*a)).is_err());
    assert!(other.is_some(), "no read found the nodes missing");
    // Restored, it reads: a miss is never remembered.
    let mut restore = banyan_storage::WriteBatch::default();
    for (key, value) in nodes {
        restore.put(banyan_storage::Table::TrieNodes, key, value);
    }
    store.write(restore).unwrap();
    let a = other.unwrap();
    assert_eq!(
        db.at(root).account(addr(a)).unwrap().unwrap().balance,
        U256::from(a)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// The head cache answers exactly what the tree holds: blocks of random balance, slot,
    /// storage-wipe and deletion changes, each with a competing block on the same parent that
    /// is applied but never committed, and reads (cold then warm) at the head and at older
    /// roots compared with a reader that has no head cache.
    #[test]
    fn the_head_cache_answers_what_the_tree_holds(
        blocks in prop::collection::vec(
            (
                prop::collection::vec((1u8..10, 0u64..4, 0u64..3, 1u64..1000, 0u8..8), 1..8),
                prop::collection::vec((1u8..10, 0u64..4, 1u64..3), 1..4),
            ),
            1..6,
        )
    ) {
        let store = open_memory();
        let db = StateDb::new(store.clone(), Suite::Ecdsa);
        let plain = StateDb::new(store.clone(), Suite::Ecdsa);
        let mut roots = vec![db.empty_root()];
        db.advance_head(db.empty_root());
        for (block, fork) in &blocks {
            let parent = *roots.last().unwrap();
            // Warm the cache at the parent, so that the block's changes must update it.
            let _ = reads(&db, &[parent], 10, 4);
            let mut c = StateChanges::default();
            for (a, slot, value, balance, kind) in block {
                let change = match kind {
                    0 => None,
                    1 => {
                        let mut ch = change(*balance, &[(*slot, *value)]).unwrap();
                        ch.storage_cleared = true;
                        Some(ch)
                    }
                    _ => change(*balance, &[(*slot, *value)]),
                };
                c.accounts.insert(addr(*a), change);
            }
            let mut other = StateChanges::default();
            for (a, slot, value) in fork {
                other.accounts.insert(addr(*a), change(7, &[(*slot, *value)]));
            }
            // The competing block is applied (and its nodes written) but not committed.
            let _ = commit(&store, &db, parent, other);
            let root = commit(&store, &db, parent, c);
            db.advance_head(root);
            roots.push(root);
            let head = [root];
            prop_assert_eq!(reads(&db, &head, 10, 4), reads(&plain, &head, 10, 4));
            prop_assert_eq!(reads(&db, &head, 10, 4), reads(&plain, &head, 10, 4));
        }
        prop_assert_eq!(reads(&db, &roots, 10, 4), reads(&plain, &roots, 10, 4));
        // A root the cache cannot reach by a recorded block empties it, and reads stay exact.
        db.advance_head(roots[0]);
        prop_assert_eq!(reads(&db, &roots, 10, 4), reads(&plain, &roots, 10, 4));
    }
}
