//! Pool limits, ordering, replacement, eviction and re-validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{TxEip1559, TxLegacy, TypedTransaction};
use alloy_primitives::{Address, TxKind, U256};
use banyan_crypto::{SecretKey, Suite};
use banyan_primitives::{RecoveredTx, sign_eth_transaction};
use banyan_txpool::*;
use std::time::{Duration, Instant};

const CHAIN: u64 = 1337;

fn tx(key: &SecretKey, nonce: u64, price: u128) -> RecoveredTx {
    let t = TypedTransaction::Legacy(TxLegacy {
        chain_id: Some(CHAIN),
        nonce,
        gas_price: price,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0xaa)),
        value: U256::from(1u64),
        input: Default::default(),
    });
    RecoveredTx::decode(&sign_eth_transaction(t, key).unwrap(), Suite::Ecdsa, CHAIN).unwrap()
}

fn rich() -> (u64, U256) {
    (0, U256::from(10u128.pow(24)))
}

fn pool(max_txs: usize, per_account: usize) -> TxPool {
    TxPool::new(PoolConfig {
        max_txs,
        max_per_account: per_account,
        ..Default::default()
    })
}

#[test]
fn nonce_order_future_nonces_and_duplicates() {
    let p = pool(100, 10);
    let k = Suite::Ecdsa.generate_secret();
    let sender = tx(&k, 0, 1).sender();
    assert_eq!(p.add(tx(&k, 0, 10), rich()), Ok(Added::New));
    assert_eq!(p.add(tx(&k, 0, 10), rich()), Err(PoolError::AlreadyKnown));
    // Ahead of the next nonce: held, queued, not offered to a block, not the pending nonce.
    assert_eq!(p.add(tx(&k, 2, 10), rich()), Ok(Added::New));
    assert_eq!(p.queued(), 1);
    assert_eq!(p.next_nonce(sender), Some(1));
    assert_eq!(p.best(u64::MAX, 100).len(), 1);
    // The gap fills: both are pending.
    assert_eq!(p.add(tx(&k, 1, 10), rich()), Ok(Added::New));
    assert_eq!(p.queued(), 0);
    assert_eq!(p.next_nonce(sender), Some(3));
    assert_eq!(
        p.best(u64::MAX, 100)
            .iter()
            .map(|t| t.nonce())
            .collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    // At most `max_per_account` ahead of the account's nonce.
    assert!(matches!(
        p.add(tx(&k, 10, 10), rich()),
        Err(PoolError::NonceTooHigh {
            expected: 3,
            got: 10,
            ahead: 10
        })
    ));
    assert_eq!(p.add(tx(&k, 9, 10), rich()), Ok(Added::New));
    // A head state where nonce 0 is used: it goes, and a new nonce 0 is too low.
    assert!(matches!(
        p.add(tx(&k, 0, 11), (1, U256::MAX)),
        Err(PoolError::NonceTooLow {
            expected: 3,
            got: 0
        })
    ));
    assert_eq!(p.len(), 3);
}

#[test]
fn any_insertion_order_gives_the_same_pending_run() {
    let k = Suite::Ecdsa.generate_secret();
    let txs: Vec<RecoveredTx> = (0..40).map(|n| tx(&k, n, 10)).collect();
    // A fixed shuffle (an LCG), so a failure is reproducible.
    let mut order: Vec<usize> = (0..txs.len()).collect();
    let mut seed = 0x2545_f491_u64;
    for i in (1..order.len()).rev() {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        order.swap(i, (seed >> 33) as usize % (i + 1));
    }
    let p = pool(100, 64);
    for (added, &i) in order.iter().enumerate() {
        p.add(txs[i].clone(), rich()).unwrap();
        let mut have: Vec<u64> = order[..=added].iter().map(|&i| i as u64).collect();
        have.sort_unstable();
        let run = have
            .iter()
            .enumerate()
            .take_while(|(i, n)| *i as u64 == **n)
            .count();
        assert_eq!(
            p.best(u64::MAX, 1000).len(),
            run,
            "after {} added",
            added + 1
        );
        assert_eq!(p.queued(), added + 1 - run);
    }
    let best: Vec<u64> = p.best(u64::MAX, 1000).iter().map(|t| t.nonce()).collect();
    assert_eq!(best, (0..40).collect::<Vec<_>>());
    assert_eq!(p.queued(), 0);
}

#[test]
fn queued_transactions_are_bounded_and_evicted_first() {
    let p = TxPool::new(PoolConfig {
        max_txs: 4,
        max_per_account: 8,
        max_queued: 2,
        ..Default::default()
    });
    let keys: Vec<_> = (0..4).map(|_| Suite::Ecdsa.generate_secret()).collect();
    let addr = |k: &SecretKey| tx(k, 0, 1).sender();
    p.add(tx(&keys[0], 0, 5), rich()).unwrap();
    p.add(tx(&keys[1], 3, 50), rich()).unwrap();
    p.add(tx(&keys[1], 5, 40), rich()).unwrap();
    // The queued bound: a third queued one must pay more than the cheapest queued.
    assert_eq!(p.add(tx(&keys[2], 1, 30), rich()), Err(PoolError::PoolFull));
    assert_eq!(p.add(tx(&keys[2], 1, 45), rich()), Ok(Added::New));
    assert_eq!(p.queued(), 2);
    assert_eq!(p.sender_count(addr(&keys[1])), 1);
    // Full: a pending newcomer evicts a queued transaction, even a dearer one, before any
    // pending one.
    assert_eq!(p.len(), 3);
    p.add(tx(&keys[3], 0, 1), rich()).unwrap();
    assert_eq!(p.len(), 4);
    assert_eq!(p.add(tx(&keys[3], 1, 1), rich()), Ok(Added::New));
    assert_eq!(p.queued(), 1);
    assert_eq!(p.sender_count(addr(&keys[0])), 1);
    // A queued newcomer evicts only a cheaper queued transaction, never a pending one.
    assert_eq!(p.add(tx(&keys[2], 5, 1000), rich()), Ok(Added::New));
    assert_eq!(p.sender_count(addr(&keys[1])), 0);
    assert_eq!(
        p.add(tx(&keys[0], 7, 900), rich()),
        Err(PoolError::PoolFull)
    );
    assert_eq!(p.add(tx(&keys[0], 7, 2000), rich()), Ok(Added::New));
    assert_eq!(p.sender_count(addr(&keys[2])), 0);
    assert_eq!(p.queued(), 1);
    // The only queued transaction is the sender's own: cheap pending ones stay.
    assert_eq!(
        p.add(tx(&keys[0], 6, 9999), rich()),
        Err(PoolError::PoolFull)
    );
    assert_eq!(p.len(), 4);
}

#[test]
fn a_block_promotes_queued_transactions_and_keeps_those_beyond_a_gap() {
    let p = pool(100, 10);
    let k = Suite::Ecdsa.generate_secret();
    let sender = tx(&k, 0, 1).sender();
    for n in [0, 2, 3, 5] {
        p.add(tx(&k, n, 10), rich()).unwrap();
    }
    assert_eq!(p.queued(), 3);
    // Another node's block included nonces 0 and 1: 2 and 3 are now pending, 5 still queued.
    assert_eq!(
        p.on_block(&[sender], &|_| Ok((2, U256::from(10u128.pow(24))))),
        0
    );
    assert_eq!(p.len(), 3);
    assert_eq!(p.queued(), 1);
    assert_eq!(p.next_nonce(sender), Some(4));
    let best: Vec<u64> = p.best(u64::MAX, 100).iter().map(|t| t.nonce()).collect();
    assert_eq!(best, vec![2, 3]);
}

#[test]
fn queued_transactions_live_shorter() {
    let p = TxPool::new(PoolConfig {
        lifetime: Duration::from_secs(600),
        queued_lifetime: Duration::from_secs(60),
        ..Default::default()
    });
    let k = Suite::Ecdsa.generate_secret();
    p.add(tx(&k, 0, 10), rich()).unwrap();
    p.add(tx(&k, 2, 10), rich()).unwrap();
    assert_eq!(p.evict_stale(Instant::now() + Duration::from_secs(61)), 1);
    assert_eq!(p.len(), 1);
    assert_eq!(p.queued(), 0);
    assert_eq!(p.evict_stale(Instant::now() + Duration::from_secs(601)), 1);
    assert!(p.is_empty());
}

#[test]
fn replacement_needs_a_price_bump() {
    let p = pool(100, 10);
    let k = Suite::Ecdsa.generate_secret();
    let first = tx(&k, 0, 100);
    let first_hash = first.hash();
    p.add(first, rich()).unwrap();
    assert!(matches!(
        p.add(tx(&k, 0, 105), rich()),
        Err(PoolError::ReplacementUnderpriced { min: 110 })
    ));
    assert_eq!(
        p.add(tx(&k, 0, 110), rich()),
        Ok(Added::Replaced(first_hash))
    );
    assert_eq!(p.len(), 1);
    assert!(!p.contains(&first_hash));
}

#[test]
fn one_account_cannot_fill_the_pool() {
    let p = pool(50, 8);
    let spammer = Suite::Ecdsa.generate_secret();
    for n in 0..8 {
        p.add(tx(&spammer, n, 10), rich()).unwrap();
    }
    assert!(matches!(
        p.add(tx(&spammer, 8, 10), rich()),
        Err(PoolError::AccountLimit { limit: 8, .. })
    ));
    // Others still get in.
    let other = Suite::Ecdsa.generate_secret();
    assert_eq!(p.add(tx(&other, 0, 10), rich()), Ok(Added::New));
    assert_eq!(p.len(), 9);
}

#[test]
fn full_pool_evicts_only_for_a_better_price() {
    let p = pool(4, 2);
    let keys: Vec<_> = (0..3).map(|_| Suite::Ecdsa.generate_secret()).collect();
    p.add(tx(&keys[0], 0, 5), rich()).unwrap();
    p.add(tx(&keys[0], 1, 5), rich()).unwrap();
    p.add(tx(&keys[1], 0, 20), rich()).unwrap();
    p.add(tx(&keys[1], 1, 20), rich()).unwrap();
    let newcomer = Suite::Ecdsa.generate_secret();
    assert_eq!(p.add(tx(&newcomer, 0, 5), rich()), Err(PoolError::PoolFull));
    assert_eq!(p.add(tx(&newcomer, 0, 30), rich()), Ok(Added::New));
    assert_eq!(p.len(), 4);
    // The cheapest sender lost its last transaction, never a middle one.
    assert_eq!(p.sender_count(tx(&keys[0], 0, 1).sender()), 1);
}

#[test]
fn funds_cover_all_pending_transactions() {
    let p = pool(100, 10);
    let k = Suite::Ecdsa.generate_secret();
    let one = tx(&k, 0, 10).max_cost();
    let balance = one * U256::from(2u64);
    p.add(tx(&k, 0, 10), (0, balance)).unwrap();
    p.add(tx(&k, 1, 10), (0, balance)).unwrap();
    assert!(matches!(
        p.add(tx(&k, 2, 10), (0, balance)),
        Err(PoolError::InsufficientFunds { .. })
    ));
}

#[test]
fn static_checks() {
    let p = TxPool::new(PoolConfig {
        min_gas_price: 7,
        block_gas_limit: 100_000,
        ..Default::default()
    });
    let k = Suite::Ecdsa.generate_secret();
    assert!(matches!(
        p.add(tx(&k, 0, 6), rich()),
        Err(PoolError::Underpriced { got: 6, min: 7 })
    ));
    let big = TypedTransaction::Eip1559(TxEip1559 {
        chain_id: CHAIN,
        gas_limit: 200_000,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 10,
        to: TxKind::Call(Address::ZERO),
        ..Default::default()
    });
    let big =
        RecoveredTx::decode(&sign_eth_transaction(big, &k).unwrap(), Suite::Ecdsa, CHAIN).unwrap();
    assert!(matches!(
        p.add(big, rich()),
        Err(PoolError::GasLimitExceeded { .. })
    ));
    let low = TypedTransaction::Eip1559(TxEip1559 {
        chain_id: CHAIN,
        gas_limit: 20_000,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 10,
        to: TxKind::Call(Address::ZERO),
        ..Default::default()
    });
    let low =
        RecoveredTx::decode(&sign_eth_transaction(low, &k).unwrap(), Suite::Ecdsa, CHAIN).unwrap();
    assert!(matches!(
        p.add(low, rich()),
        Err(PoolError::IntrinsicGasTooLow { needed: 21_000, .. })
    ));
}

#[test]
fn best_respects_nonce_order_price_and_gas() {
    let p = pool(100, 10);
    let cheap = Suite::Ecdsa.generate_secret();
    let dear = Suite::Ecdsa.generate_secret();
    for n in 0..3 {
        p.add(tx(&cheap, n, 10), rich()).unwrap();
        p.add(tx(&dear, n, 50), rich()).unwrap();
    }
    let best = p.best(21_000 * 4, 100);
    assert_eq!(best.len(), 4);
    let dear_addr = tx(&dear, 0, 1).sender();
    assert!(best[..3].iter().all(|t| t.sender() == dear_addr));
    assert_eq!(
        best.iter()
            .filter(|t| t.sender() == dear_addr)
            .map(|t| t.nonce())
            .collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(p.best(u64::MAX, 2).len(), 2);
}

#[test]
fn revalidation_after_a_block() {
    let p = pool(100, 10);
    let k = Suite::Ecdsa.generate_secret();
    let sender = tx(&k, 0, 1).sender();
    for n in 0..4 {
        p.add(tx(&k, n, 10), rich()).unwrap();
    }
    // Two were included; the balance now pays for only one more.
    let one = tx(&k, 2, 10).max_cost();
    let dropped = p.on_block(&[sender], &|_| Ok((2, one)));
    assert_eq!(dropped, 1);
    assert_eq!(p.len(), 1);
    assert_eq!(p.next_nonce(sender), Some(3));
}

#[test]
fn an_unreadable_account_is_never_guessed() {
    let p = pool(100, 10);
    let k = Suite::Ecdsa.generate_secret();
    let sender = tx(&k, 0, 1).sender();
    // Admission refuses, naming the account, and queues nothing.
    assert_eq!(
        p.add_with(tx(&k, 0, 10), &|_| Err(AccountUnavailable)),
        Err(PoolError::StateUnavailable(sender))
    );
    assert!(p.is_empty());
    // Re-validation keeps what it cannot check instead of dropping it.
    p.add(tx(&k, 0, 10), rich()).unwrap();
    p.add(tx(&k, 1, 10), rich()).unwrap();
    assert_eq!(p.on_block(&[sender], &|_| Err(AccountUnavailable)), 0);
    assert_eq!(p.len(), 2);
}

#[test]
fn stale_entries_are_evicted() {
    let p = TxPool::new(PoolConfig {
        lifetime: Duration::from_secs(60),
        ..Default::default()
    });
    let k = Suite::Ecdsa.generate_secret();
    p.add(tx(&k, 0, 10), rich()).unwrap();
    p.add(tx(&k, 1, 10), rich()).unwrap();
    assert_eq!(p.evict_stale(Instant::now()), 0);
    assert_eq!(p.evict_stale(Instant::now() + Duration::from_secs(61)), 2);
    assert!(p.is_empty());
}

#[test]
fn gas_paid_in_a_module_currency_needs_only_the_value_in_native_coin() {
    let p = pool(100, 10);
    let k = Suite::Ecdsa.generate_secret();
    let value_only = U256::from(2u64);
    let sender = tx(&k, 0, 1).sender();
    // Native gas: 21,000 gas at 10 wei plus the value is more than the balance of 2 wei.
    assert!(matches!(
        p.add(tx(&k, 0, 10), (0, value_only)),
        Err(PoolError::InsufficientFunds { .. })
    ));
    // Gas paid in a currency (checked by the module): the value of two transactions is 2 wei.
    for n in 0..2 {
        p.add_paying(tx(&k, n, 10), GasPaidIn::Module, &|_| Ok((0, value_only)))
            .unwrap();
    }
    // A third would need 3 wei of value.
    assert!(matches!(
        p.add_paying(tx(&k, 2, 10), GasPaidIn::Module, &|_| Ok((0, value_only))),
        Err(PoolError::InsufficientFunds { .. })
    ));
    // Re-validation after a block counts their value only, too.
    assert_eq!(p.on_block(&[sender], &|_| Ok((0, value_only))), 0);
    assert_eq!(p.len(), 2);
}
