//! Durability: SIGKILL the node at seeded random moments while it is under load, restart it on
//! the same data directory, and check after every restart that every block it ever served is
//! still there with the same hash (heights without transactions included), that every
//! transaction whose receipt was seen is still in the same block, that every round did real
//! work, that the chain keeps producing, and that no money appeared or vanished.
//!
//! The kill moments come from `BANYAN_TEST_SEED` when set, else from the clock; the seed is
//! printed first and in every failure, so a failing run can be replayed.

use crate::common;
use alloy_primitives::{Address, U256};
use banyan_testkit::seed::TestRng;
use banyan_testkit::{DevNode, RpcClient, parse_quantity};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SENDERS: [usize; 4] = [1, 2, 3, 4];

fn recipients() -> Vec<Address> {
    (1..=8u8).map(|i| Address::repeat_byte(0xe0 + i)).collect()
}

/// Sends transfers until stopped or the node goes away; records (hash, block hash) of every
/// receipt it sees.
fn load(rpc: RpcClient, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<(String, String)>>>) {
    let keys: Vec<_> = SENDERS.iter().map(|i| common::dev_key(*i)).collect();
    let mut nonces: Vec<u64> = Vec::new();
    for k in &keys {
        match rpc.quantity(
            "eth_getTransactionCount",
            json!([common::address_of(k), "pending"]),
        ) {
            Ok(n) => nonces.push(n),
            Err(_) => return,
        }
    }
    let to = recipients();
    let mut sent: Vec<String> = Vec::new();
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        for (i, k) in keys.iter().enumerate() {
            let raw = common::signed(
                k,
                common::CHAIN_ID,
                nonces[i],
                Some(to[(round + i) % to.len()]),
                U256::from(1_000 + round as u64),
                vec![],
                21_000,
            );
            match rpc.try_call("eth_sendRawTransaction", json!([raw])) {
                Ok(Ok(h)) => {
                    nonces[i] += 1;
                    sent.push(h.as_str().unwrap_or_default().to_string());
                }
                Ok(Err(_)) => {}
                Err(_) => return,
            }
        }
        round += 1;
        // Collect receipts of what was sent.
        let mut still = Vec::new();
        for h in sent.drain(..) {
            match rpc.try_call("eth_getTransactionReceipt", json!([h])) {
                Ok(Ok(r)) if !r.is_null() => {
                    acked
                        .lock()
                        .unwrap()
                        .push((h, r["blockHash"].as_str().unwrap_or_default().to_string()));
                }
                Ok(_) => still.push(h),
                Err(_) => return,
            }
        }
        sent = still;
    }
}

fn total_balance(rpc: &RpcClient, validator: &str) -> U256 {
    let mut addrs: Vec<String> = (0..10)
        .map(|i| common::address_of(&common::dev_key(i)).to_string())
        .collect();
    addrs.extend(recipients().iter().map(|a| a.to_string()));
    addrs.push(validator.to_string());
    addrs
        .iter()
        .map(|a| rpc.call("eth_getBalance", json!([a, "latest"])).unwrap())
        .map(|v: Value| v.as_str().unwrap().parse::<U256>().unwrap())
        .fold(U256::ZERO, |a, b| a + b)
}

/// Records every height from `from` up that the node serves, as it serves it: `height -> (hash,
/// transaction count)`, until stopped or the node goes away.
fn watch(rpc: RpcClient, stop: Arc<AtomicBool>, from: u64) -> BTreeMap<u64, (String, usize)> {
    let mut seen = BTreeMap::new();
    let mut next = from;
    while !stop.load(Ordering::Relaxed) {
        let Ok(Ok(head)) = rpc.try_call("eth_blockNumber", json!([])) else {
            return seen;
        };
        let head = parse_quantity(&head).unwrap();
        while next <= head {
            let Ok(Ok(block)) =
                rpc.try_call("eth_getBlockByNumber", json!([format!("{next:#x}"), false]))
            else {
                return seen;
            };
            let hash = block["hash"].as_str().unwrap().to_string();
            let txs = block["transactions"].as_array().unwrap().len();
            seen.insert(next, (hash, txs));
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    seen
}

/// Rounds of load, kill and restart.
const ROUNDS: usize = 6;
/// What every round must have done before its kill for the round to mean anything.
const MIN_ACKED_PER_ROUND: usize = 4;
const MIN_HEIGHTS_PER_ROUND: usize = 2;

#[test]
fn sigkill_under_load_loses_no_committed_block_or_transaction() {
    let mut rng = TestRng::for_scenario("durability");
    let seed = rng.seed();
    let mut node = DevNode::start(common::bin(), &["--block-time-ms", "200", "--empty-blocks"])
        .expect("start");
    let rpc = node.rpc();
    let status = rpc.call("banyan_status", json!([])).unwrap();
    let validator = status["validator"].as_str().unwrap().to_string();
    let supply = total_balance(&rpc, &validator);
    assert_eq!(
        supply,
        U256::from(10u64) * U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64))
    );

    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    // Every height served before any kill: (hash, transaction count).
    let mut served: BTreeMap<u64, (String, usize)> = BTreeMap::new();
    for round in 0..ROUNDS {
        let acked_before = acked.lock().unwrap().len();
        let served_before = served.len();
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (rpc, stop) = (node.rpc(), stop.clone());
            let from = served.last_key_value().map_or(0, |(h, _)| h + 1);
            std::thread::spawn(move || watch(rpc, stop, from))
        };
        // Empty heights first (no load yet), then load.
        let quiet_from = rpc.quantity("eth_blockNumber", json!([])).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while rpc.quantity("eth_blockNumber", json!([])).unwrap() < quiet_from + 2 {
            assert!(
                Instant::now() < deadline,
                "seed {seed} round {round}: no empty blocks"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let loader = {
            let (rpc, stop, acked) = (node.rpc(), stop.clone(), acked.clone());
            std::thread::spawn(move || load(rpc, stop, acked))
        };
        let wait_ms = rng.in_range(600..2_000);
        std::thread::sleep(Duration::from_millis(wait_ms));
        node.kill9().expect("kill -9");
        stop.store(true, Ordering::Relaxed);
        loader.join().expect("load thread");
        for (height, seen) in watcher.join().expect("watch thread") {
            if let Some(earlier) = served.insert(height, seen.clone()) {
                assert_eq!(
                    earlier, seen,
                    "seed {seed} round {round}: height {height} was served with two hashes"
                );
            }
        }
        node.restart().expect("restart after SIGKILL");

        // The head never goes back: the last block served before the kill is still the head
        // or below it.
        let top = served.last_key_value().map_or(0, |(h, _)| *h);
        let head = rpc.quantity("eth_blockNumber", json!([])).unwrap();
        assert!(
            head >= top,
            "seed {seed} round {round} (kill after {wait_ms} ms): the head went back from \
             {top}, served before the kill, to {head} after the restart"
        );
        // Every block ever served is still there, unchanged; so is every acknowledged
        // transaction.
        for (height, (hash, _)) in &served {
            let block = rpc
                .call(
                    "eth_getBlockByNumber",
                    json!([format!("{height:#x}"), false]),
                )
                .unwrap();
            assert!(
                !block.is_null(),
                "seed {seed} round {round} (kill after {wait_ms} ms): block {height}, served \
                 before the kill, is gone after the restart"
            );
            assert_eq!(
                block["hash"].as_str().unwrap(),
                hash,
                "seed {seed} round {round} (kill after {wait_ms} ms): block {height} changed \
                 across the restart"
            );
        }
        let acked_now = acked.lock().unwrap().clone();
        for (hash, block_hash) in &acked_now {
            let r = rpc
                .call("eth_getTransactionReceipt", json!([hash]))
                .unwrap_or_else(|e| {
                    panic!(
                        "seed {seed} round {round} (kill after {wait_ms} ms): the receipt of \
                         acknowledged transaction {hash} is not served after the restart: {e}"
                    )
                });
            assert!(
                !r.is_null(),
                "seed {seed} round {round}: acknowledged transaction {hash} lost after SIGKILL"
            );
            assert_eq!(
                r["blockHash"].as_str().unwrap(),
                block_hash,
                "seed {seed} round {round}: {hash} moved to another block"
            );
        }
        let new_acked = acked_now.len() - acked_before;
        let new_heights = served.len() - served_before;
        eprintln!(
            "round {round}: killed after {wait_ms} ms; {new_acked} new acknowledged transactions, \
             {new_heights} new heights; all {} blocks and {} transactions intact",
            served.len(),
            acked_now.len()
        );
        assert!(
            new_acked >= MIN_ACKED_PER_ROUND && new_heights >= MIN_HEIGHTS_PER_ROUND,
            "seed {seed} round {round}: the round did too little to mean anything \
             ({new_acked} acknowledged transactions, {new_heights} heights)"
        );
    }
    // Heights without transactions were among those checked.
    let empty = served.values().filter(|(_, txs)| *txs == 0).count();
    assert!(
        empty >= ROUNDS,
        "seed {seed}: only {empty} empty heights were checked"
    );

    // The chain keeps producing after the last restart.
    let k = common::dev_key(5);
    let nonce = rpc
        .quantity(
            "eth_getTransactionCount",
            json!([common::address_of(&k), "pending"]),
        )
        .unwrap();
    let r = common::transfer_and_wait(&rpc, &k, nonce, recipients()[0], 1, Duration::from_secs(20));
    assert_eq!(r["status"], "0x1");

    // Money is conserved across every crash: fees went to the validator, nothing was burned.
    assert_eq!(total_balance(&rpc, &validator), supply, "seed {seed}");

    // Heights are contiguous and every block links to its parent.
    let head = rpc.quantity("eth_blockNumber", json!([])).unwrap();
    let mut parent = rpc
        .call("eth_getBlockByNumber", json!(["0x0", false]))
        .unwrap()["hash"]
        .clone();
    let started = Instant::now();
    for n in 1..=head {
        let b = rpc
            .call("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
            .unwrap();
        assert_eq!(
            b["parentHash"], parent,
            "block {n} does not link to its parent"
        );
        assert_eq!(parse_quantity(&b["number"]).unwrap(), n);
        parent = b["hash"].clone();
        assert!(started.elapsed() < Duration::from_secs(120));
    }
}
