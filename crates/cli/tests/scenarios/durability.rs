//! Durability: SIGKILL the node at random moments while it is under load, restart it on the same
//! data directory, and check that every transaction whose receipt was seen before the kill is
//! still there, in the same block, that the chain keeps producing, and that no money appeared or
//! vanished.

use crate::common;
use alloy_primitives::{Address, U256};
use banyan_testkit::{DevNode, RpcClient, parse_quantity};
use serde_json::{Value, json};
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

#[test]
fn sigkill_under_load_loses_no_committed_transaction() {
    let mut node = DevNode::start(common::bin(), &["--block-time-ms", "200"]).expect("start");
    let rpc = node.rpc();
    let status = rpc.call("banyan_status", json!([])).unwrap();
    let validator = status["validator"].as_str().unwrap().to_string();
    let supply = total_balance(&rpc, &validator);
    assert_eq!(
        supply,
        U256::from(10u64) * U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64))
    );

    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut seed = 0x9e3779b97f4a7c15u64;
    for round in 0..6 {
        let stop = Arc::new(AtomicBool::new(false));
        let t = {
            let (rpc, stop, acked) = (node.rpc(), stop.clone(), acked.clone());
            std::thread::spawn(move || load(rpc, stop, acked))
        };
        // A pseudo-random moment between 300 and 1500 ms into the load.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(300 + seed % 1200));
        node.kill9().expect("kill -9");
        stop.store(true, Ordering::Relaxed);
        t.join().expect("load thread");
        node.restart().expect("restart after SIGKILL");

        let acked_now = acked.lock().unwrap().clone();
        for (hash, block_hash) in &acked_now {
            let r = rpc
                .call("eth_getTransactionReceipt", json!([hash]))
                .unwrap();
            assert!(
                !r.is_null(),
                "round {round}: acknowledged transaction {hash} lost after SIGKILL"
            );
            assert_eq!(
                r["blockHash"].as_str().unwrap(),
                block_hash,
                "round {round}: {hash} moved to another block"
            );
        }
        eprintln!(
            "round {round}: {} acknowledged transactions intact",
            acked_now.len()
        );
    }
    let total_acked = acked.lock().unwrap().len();
    assert!(
        total_acked > 20,
        "the load produced too few receipts ({total_acked}) to mean anything"
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
    assert_eq!(total_balance(&rpc, &validator), supply);

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
