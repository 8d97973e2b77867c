//! A real consortium network: 4 `banyan node` processes made by `banyan init`, talking mutual
//! TLS on 127.0.0.1 and agreeing on blocks under BFT consensus. After each scenario every node
//! must hold the same block hash at every height, every block's commit certificate must verify
//! against the genesis validator set, and every transaction acknowledged with a receipt must be
//! in the same block on every node.

use banyan_testkit::OutputWithin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use alloy_primitives::{Address, B256, U256};
use banyan_primitives::Genesis;
use banyan_testkit::checks::{
    block_hash, certificate, check_acked, check_agreement, check_agreement_from,
    check_money_conserved, conflicting_votes, head, tail_logs, validator_address, votes_in_logs,
    wait_height,
};
use banyan_testkit::{RpcClient, TestNet};
use serde_json::{Value, json};

const INIT_CHAIN_ID: u64 = 20261;

/// Keeps sending transfers from `key` to whichever node is up, one at a time, recording
/// each transaction acknowledged with a receipt.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(net: &TestNet, down: Arc<AtomicUsize>, senders: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let rpcs: Vec<RpcClient> = net.nodes.iter().map(|n| n.rpc()).collect();
        let threads = (0..senders)
            .map(|s| {
                let (stop, acked, rpcs, down) =
                    (stop.clone(), acked.clone(), rpcs.clone(), down.clone());
                std::thread::spawn(move || {
                    let key = dev_key(s);
                    let from = address_of(&key);
                    let mut turn = s;
                    let mut nonce: Option<u64> = None;
                    while !stop.load(Ordering::SeqCst) {
                        turn += 1;
                        let i = turn % rpcs.len();
                        if down.load(Ordering::SeqCst) & (1 << i) != 0 {
                            continue;
                        }
                        let rpc = &rpcs[i];
                        let n = match nonce {
                            Some(n) => n,
                            None => match rpc.quantity(
                                "eth_getTransactionCount",
                                json!([format!("{from}"), "latest"]),
                            ) {
                                Ok(n) => n,
                                Err(_) => continue,
                            },
                        };
                        let raw = signed(
                            &key,
                            INIT_CHAIN_ID,
                            n,
                            Some(Address::repeat_byte(0x42)),
                            U256::from(1u64),
                            vec![],
                            21_000,
                        );
                        let Ok(hash) = rpc.call("eth_sendRawTransaction", json!([raw])) else {
                            nonce = None;
                            continue;
                        };
                        let hash = hash.as_str().unwrap().to_string();
                        match rpc.wait_receipt(&hash, Duration::from_secs(15)) {
                            Ok(_) => {
                                acked.lock().unwrap().push(hash);
                                nonce = Some(n + 1);
                            }
                            Err(_) => nonce = None,
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            acked,
            threads,
        }
    }

    fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        Arc::try_unwrap(self.acked).unwrap().into_inner().unwrap()
    }
}

fn cli_json(args: &[&str]) -> Value {
    let out = std::process::Command::new(bin())
        .args(args)
        .output_within(banyan_testkit::run::COMMAND_DEADLINE)
        .unwrap();
    assert!(
        out.status.success(),
        "banyan {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Anchors a document through node `via` with `banyan evidence anchor`, then checks on every
/// node that the anchor is visible (`evidence show`) and proven to a client holding only the
/// genesis file (`evidence verify`), and that another document is proven not anchored.
fn evidence_is_visible_and_provable_on_every_node(net: &TestNet, via: usize) {
    let genesis = net.dir.join("genesis.json");
    let suite = serde_json::from_str::<Genesis>(&std::fs::read_to_string(&genesis).unwrap())
        .unwrap()
        .suite;
    // `banyan init` funds these accounts (fresh keys on an sm chain) and writes their keys.
    let key_file = net.dir.join("accounts/dev1.key");
    let text = std::fs::read_to_string(&key_file).unwrap();
    let key = banyan_crypto::SecretKey::from_hex(text.trim().rsplit(':').next().unwrap()).unwrap();
    let anchorer = suite.address(&suite.public_key(&key).unwrap());
    let doc = net.dir.join("loan-agreement.txt");
    std::fs::write(
        &doc,
        b"loan agreement between bank A and firm B, 2026-12-01",
    )
    .unwrap();
    let doc = doc.to_str().unwrap();
    let sent = cli_json(&[
        "evidence",
        "anchor",
        "--rpc",
        &net.nodes[via].url(),
        "--key",
        &key.to_hex(),
        "--file",
        doc,
        "--kind",
        "contract",
        "--reference",
        "LA-7",
        "--json",
    ]);
    assert_eq!(sent["status"], "success", "{sent}");
    let block = sent["block"].as_u64().unwrap();
    wait_height(net, &[0, 1, 2, 3], block + 1, Duration::from_secs(60));
    for node in &net.nodes {
        let shown = cli_json(&[
            "evidence",
            "show",
            "--rpc",
            &node.url(),
            "--file",
            doc,
            "--json",
        ]);
        assert_eq!(shown["anchorer"], json!(anchorer), "{shown}");
        assert_eq!(
            (shown["block"].as_u64(), &shown["kind"]),
            (Some(block), &json!("contract"))
        );
        let proven = cli_json(&[
            "evidence",
            "verify",
            "--rpc",
            &node.url(),
            "--genesis",
            genesis.to_str().unwrap(),
            "--file",
            doc,
            "--json",
        ]);
        assert_eq!(proven["anchored"], true, "{proven}");
        assert_eq!(proven["anchorer"], json!(anchorer), "{proven}");
        assert_eq!(proven["anchoredAtBlock"].as_u64(), Some(block), "{proven}");
        assert!(proven["block"].as_u64().unwrap() >= block);
    }
    // `banyan verify` proves the same anchor along with the block it certifies.
    let via_verify = cli_json(&[
        "verify",
        "--rpc",
        &net.nodes[0].url(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--evidence-file",
        doc,
        "--json",
    ]);
    assert_eq!(via_verify["anchorer"], json!(anchorer), "{via_verify}");
    assert_eq!(via_verify["anchoredAtBlock"].as_u64(), Some(block));
    // Another document is proven absent: the answer on stdout, a failure status for scripts.
    let absent = std::process::Command::new(bin())
        .args([
            "evidence",
            "verify",
            "--rpc",
            &net.nodes[0].url(),
            "--genesis",
        ])
        .arg(&genesis)
        .args(["--hash", &format!("{}", B256::repeat_byte(0x42)), "--json"])
        .output_within(banyan_testkit::run::COMMAND_DEADLINE)
        .unwrap();
    assert!(!absent.status.success());
    let answer: Value = serde_json::from_slice(&absent.stdout).unwrap();
    assert_eq!(answer["anchored"], false, "{answer}");
    assert!(String::from_utf8_lossy(&absent.stderr).contains("proven NOT anchored"));
}

#[test]
fn four_nodes_agree_and_a_transaction_sent_to_one_is_committed_on_all() {
    let net = TestNet::start(bin(), 4, "ecdsa", &[]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    // Sent to node 3, it reaches the proposers by gossip and is committed everywhere.
    let key = dev_key(0);
    let raw = signed(
        &key,
        INIT_CHAIN_ID,
        0,
        Some(Address::repeat_byte(0x11)),
        U256::from(5u64),
        vec![],
        21_000,
    );
    let hash = net.nodes[3]
        .rpc()
        .call("eth_sendRawTransaction", json!([raw]))
        .unwrap();
    let hash = hash.as_str().unwrap().to_string();
    let receipt = net.nodes[0]
        .rpc()
        .wait_receipt(&hash, Duration::from_secs(30))
        .unwrap();
    assert_eq!(receipt["status"], "0x1");
    // The same transaction sent again is a duplicate, not a second payment.
    let again = net.nodes[1]
        .rpc()
        .try_call("eth_sendRawTransaction", json!([raw]))
        .unwrap();
    assert!(again.is_err(), "a committed transaction was accepted again");
    check_acked(&net, &[0, 1, 2, 3], &[hash]);
    wait_height(&net, &[0, 1, 2, 3], 8, Duration::from_secs(60));
    check_agreement(&net, &[0, 1, 2, 3], 1);
    let balance = net.nodes[2]
        .rpc()
        .call(
            "eth_getBalance",
            json!([format!("{}", Address::repeat_byte(0x11)), "latest"]),
        )
        .unwrap();
    assert_eq!(balance, "0x5");

    // A client holding only the genesis file checks a block from node 2 (`banyan verify`).
    let verify = |genesis: &std::path::Path| {
        std::process::Command::new(bin())
            .args(["verify", "--rpc", &net.nodes[2].url(), "--genesis"])
            .arg(genesis)
            .arg("5")
            .output_within(banyan_testkit::run::COMMAND_DEADLINE)
            .unwrap()
    };
    let out = verify(&net.dir.join("genesis.json"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("block 5 ") && text.contains("is certified"),
        "{text}"
    );
    // Against another chain's genesis (here: another chain id), the same block proves nothing.
    let other = net.dir.join("other-genesis.json");
    let mut g: Value =
        serde_json::from_str(&std::fs::read_to_string(net.dir.join("genesis.json")).unwrap())
            .unwrap();
    g["chain_id"] = json!(INIT_CHAIN_ID + 1);
    std::fs::write(&other, g.to_string()).unwrap();
    let out = verify(&other);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is NOT proven"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    evidence_is_visible_and_provable_on_every_node(&net, 3);
    check_agreement(&net, &[0, 1, 2, 3], 1);
    // Transfers, fees to proposers, module calls: no money made or lost, on any node.
    let genesis = banyan_testkit::checks::genesis(&net);
    for node in &net.nodes {
        check_money_conserved(&node.rpc(), &genesis, &[Address::repeat_byte(0x11)]);
    }
}

/// `0..n` in an order fixed by `seed` (an LCG shuffle: a failure is reproducible).
fn shuffled(n: usize, mut seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        order.swap(i, (seed >> 33) as usize % (i + 1));
    }
    order
}

/// Where each of `hashes` was committed, as (block, index), once every one has a receipt.
fn committed_places(rpc: &RpcClient, hashes: &[String]) -> Vec<(u64, u64)> {
    hashes
        .iter()
        .map(|hash| {
            let r = rpc.wait_receipt(hash, Duration::from_secs(60)).unwrap();
            assert_eq!(r["status"], "0x1", "{hash}");
            let q = |k: &str| banyan_testkit::parse_quantity(&r[k]).unwrap();
            (q("blockNumber"), q("transactionIndex"))
        })
        .collect()
}

#[test]
fn one_accounts_transactions_sent_out_of_order_are_committed_in_nonce_order() {
    const TXS: usize = 200;
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    // 200 of one account in the pool at once: more than the default 64 per account.
    net.set_config("txpool", "max_per_account", "256").unwrap();
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    let signed_all = |key: &banyan_crypto::SecretKey| -> Vec<String> {
        (0..TXS as u64)
            .map(|nonce| {
                signed(
                    key,
                    INIT_CHAIN_ID,
                    nonce,
                    Some(Address::repeat_byte(0x77)),
                    U256::from(1 + nonce),
                    vec![],
                    21_000,
                )
            })
            .collect()
    };
    let submit = |rpc: &RpcClient, raw: &str| -> String {
        rpc.call("eth_sendRawTransaction", json!([raw]))
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };
    // One account, in a random order, all to node 0.
    let raws = signed_all(&dev_key(1));
    let mut hashes = vec![String::new(); TXS];
    let rpc = net.nodes[0].rpc();
    for i in shuffled(TXS, 11) {
        hashes[i] = submit(&rpc, &raws[i]);
    }
    // Another, in a random order, from four threads, each to its own node.
    let raws = signed_all(&dev_key(2));
    let order = shuffled(TXS, 12);
    let parallel: Vec<(usize, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let (order, raws, rpc) = (&order, &raws, net.nodes[t].rpc());
                scope.spawn(move || {
                    order
                        .iter()
                        .skip(t)
                        .step_by(4)
                        .map(|&i| (i, submit(&rpc, &raws[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut in_parallel = vec![String::new(); TXS];
    for (i, hash) in parallel {
        in_parallel[i] = hash;
    }
    for (what, hashes) in [("to one node", &hashes), ("to all four", &in_parallel)] {
        let places = committed_places(&net.nodes[0].rpc(), hashes);
        assert!(
            places.windows(2).all(|w| w[0] < w[1]),
            "{what}: not committed in nonce order: {places:?}"
        );
        check_acked(&net, &[0, 1, 2, 3], hashes);
    }
    let common = head(&net.nodes[0].rpc()).unwrap();
    wait_height(&net, &[0, 1, 2, 3], common, Duration::from_secs(60));
    check_agreement(&net, &[0, 1, 2, 3], 1);
}

#[test]
fn transactions_accepted_before_every_node_was_killed_are_committed_after_restart() {
    const ACCOUNTS: usize = 5;
    const PER_ACCOUNT: u64 = 100;
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    net.set_config("txpool", "max_per_account", "256").unwrap();
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 2, Duration::from_secs(60));
    // Two of four gone: no quorum, so what node 0 accepts now stays uncommitted. The two that
    // are down never see it.
    net.nodes[2].kill9().unwrap();
    net.nodes[3].kill9().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let halted = head(&net.nodes[0].rpc()).unwrap();
    let rpc = net.nodes[0].rpc();
    let mut hashes = Vec::new();
    for k in 0..ACCOUNTS {
        let key = dev_key(3 + k);
        for nonce in 0..PER_ACCOUNT {
            let raw = signed(
                &key,
                INIT_CHAIN_ID,
                nonce,
                Some(Address::repeat_byte(0x5a)),
                U256::from(1 + nonce),
                vec![],
                21_000,
            );
            let hash = rpc.call("eth_sendRawTransaction", json!([raw])).unwrap();
            hashes.push(hash.as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        head(&rpc).unwrap(),
        halted,
        "a block was committed without a quorum"
    );
    // The two that hold them (node 1 by gossip) are killed too: every copy in memory is gone.
    net.nodes[0].kill9().unwrap();
    net.nodes[1].kill9().unwrap();
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    let rpc = net.nodes[0].rpc();
    for hash in &hashes {
        let receipt = rpc
            .wait_receipt(hash, Duration::from_secs(90))
            .unwrap_or_else(|e| {
                panic!(
                    "{hash} not committed after the restart ({e})\n{}",
                    tail_logs(&net.nodes)
                )
            });
        assert_eq!(receipt["status"], "0x1", "{hash}");
    }
    assert!(
        net.nodes[0]
            .log_text()
            .contains("transactions restored from the journal"),
        "node 0 did not say it restored its journal"
    );
    check_acked(&net, &[0, 1, 2, 3], &hashes);
    let common = head(&net.nodes[0].rpc()).unwrap();
    wait_height(&net, &[0, 1, 2, 3], common, Duration::from_secs(60));
    check_agreement(&net, &[0, 1, 2, 3], 1);
}

#[test]
fn sm_network_agrees_with_sm2_certificates() {
    let net = TestNet::start(bin(), 4, "sm", &[]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 4, Duration::from_secs(60));
    let common = check_agreement(&net, &[0, 1, 2, 3], 1);
    let cert = certificate(&net.nodes[0].rpc(), common);
    assert!(cert.signatures.iter().all(|s| s.signature.len() == 64));
    evidence_is_visible_and_provable_on_every_node(&net, 1);
}

#[test]
fn a_validator_killed_and_restarted_repeatedly_under_load_does_not_stop_the_chain() {
    let mut net = TestNet::start(bin(), 4, "ecdsa", &[]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 2, Duration::from_secs(60));
    let down = Arc::new(AtomicUsize::new(0));
    let load = Load::start(&net, down.clone(), 3);
    for round in 0..4 {
        let victim = 1 + round % 3;
        down.store(1 << victim, Ordering::SeqCst);
        net.nodes[victim].kill9().unwrap();
        let others: Vec<usize> = (0..4).filter(|i| *i != victim).collect();
        let before = head(&net.nodes[others[0]].rpc()).unwrap();
        // Three of four keep committing while one is down.
        wait_height(&net, &others, before + 3, Duration::from_secs(60));
        net.nodes[victim].start_process().unwrap();
        down.store(0, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(500));
    }
    let acked = load.finish();
    assert!(
        acked.len() >= 10,
        "only {} transfers acknowledged",
        acked.len()
    );
    let target = head(&net.nodes[0].rpc()).unwrap() + 2;
    wait_height(&net, &[0, 1, 2, 3], target, Duration::from_secs(90));
    check_agreement(&net, &[0, 1, 2, 3], 1);
    check_acked(&net, &[0, 1, 2, 3], &acked);
}

#[test]
fn two_of_four_stopped_halts_without_a_fork_and_resumes_when_one_returns() {
    let mut net = TestNet::start(bin(), 4, "ecdsa", &[]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    net.nodes[2].kill9().unwrap();
    net.nodes[3].kill9().unwrap();
    // Give in-flight heights time to finish, then watch: no quorum, no new block.
    std::thread::sleep(Duration::from_secs(3));
    let halted: Vec<u64> = [0, 1]
        .iter()
        .map(|&i| head(&net.nodes[i].rpc()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(5));
    let still: Vec<u64> = [0, 1]
        .iter()
        .map(|&i| head(&net.nodes[i].rpc()).unwrap())
        .collect();
    assert_eq!(
        halted, still,
        "two of four validators committed blocks without a quorum"
    );
    check_agreement(&net, &[0, 1], 1);
    // One returns: 3 of 4 is a quorum again.
    net.nodes[2].start_process().unwrap();
    let top = *still.iter().max().unwrap();
    wait_height(&net, &[0, 1, 2], top + 3, Duration::from_secs(90));
    check_agreement(&net, &[0, 1, 2], 1);
}

#[test]
fn a_node_started_empty_after_a_thousand_blocks_syncs_to_the_head() {
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    // Fast heights so that a thousand blocks take a minute, not a quarter of an hour.
    net.set_consensus("target_block_ms", "5").unwrap();
    net.set_consensus("timeout_propose_ms", "1000").unwrap();
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    // About a minute here; a stalled network fails in minutes, not at nextest's 15.
    wait_height(&net, &[0, 1, 2, 3], 1_000, Duration::from_secs(300));
    // Node 3 loses everything (chain, state, consensus WAL) and starts from genesis while the
    // other three keep going.
    net.nodes[3].kill9().unwrap();
    std::fs::remove_dir_all(&net.nodes[3].datadir).unwrap();
    let started = Instant::now();
    net.start_nodes(&[3]).unwrap();
    let target = head(&net.nodes[0].rpc()).unwrap();
    // While it catches up it says so (eth_syncing), then reports false.
    let rpc3 = net.nodes[3].rpc();
    let mut seen_syncing: Option<Value> = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    while head(&rpc3).unwrap_or(0) < target {
        assert!(
            Instant::now() < deadline,
            "node3 did not sync\n{}",
            tail_logs(&net.nodes)
        );
        if let Ok(s) = rpc3.call("eth_syncing", json!([]))
            && s.is_object()
            && seen_syncing.is_none()
        {
            seen_syncing = Some(s);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = started.elapsed();
    let seen = seen_syncing.expect("eth_syncing never reported progress during the sync");
    let highest = banyan_testkit::parse_quantity(&seen["highestBlock"]).unwrap();
    assert!(highest >= 1_000, "{seen}");
    assert!(net.nodes[3].log_text().contains("syncing: block"));
    eprintln!(
        "node3 synced {target} blocks from empty in {took:.1?} ({:.0} blocks/s)",
        target as f64 / took.as_secs_f64()
    );
    // It then follows the running network.
    let now = head(&net.nodes[0].rpc()).unwrap();
    wait_height(&net, &[0, 1, 2, 3], now + 3, Duration::from_secs(120));
    // Every height's hash and every certificate, on every node, the synced one included.
    check_agreement(&net, &[0, 1, 2, 3], 1);
    assert_eq!(rpc3.call("eth_syncing", json!([])).unwrap(), json!(false));
}

#[test]
fn a_validator_killed_mid_round_never_signs_a_conflicting_vote_after_restart() {
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    net.set_consensus("target_block_ms", "50").unwrap();
    for node in &mut net.nodes {
        // The engine's per-vote lines are what this test reads.
        node.set_env("RUST_LOG", "info");
    }
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    let down = Arc::new(AtomicUsize::new(0));
    let load = Load::start(&net, down.clone(), 2);
    let victim_address = validator_address(&net, 1);
    // SIGKILL at varied moments: right after restart (mid-round, votes just written), and later.
    let mut last_restart_height = 0;
    for (i, wait_ms) in [300u64, 900, 150, 1500, 600, 250].iter().enumerate() {
        std::thread::sleep(Duration::from_millis(*wait_ms));
        down.store(1 << 1, Ordering::SeqCst);
        net.nodes[1].kill9().unwrap();
        std::thread::sleep(Duration::from_millis(200 + 100 * i as u64));
        last_restart_height = head(&net.nodes[0].rpc()).unwrap();
        net.nodes[1].start_process().unwrap();
        down.store(0, Ordering::SeqCst);
    }
    // Let the victim take part again before the load stops.
    wait_height(
        &net,
        &[0, 1, 2, 3],
        last_restart_height + 5,
        Duration::from_secs(60),
    );
    let acked = load.finish();
    assert!(
        acked.len() >= 10,
        "only {} transfers acknowledged under the kills",
        acked.len()
    );
    let target = head(&net.nodes[0].rpc()).unwrap() + 3;
    wait_height(&net, &[0, 1, 2, 3], target, Duration::from_secs(120));
    check_agreement(&net, &[0, 1, 2, 3], 1);
    check_acked(&net, &[0, 1, 2, 3], &acked);

    let votes = votes_in_logs(&net, false);
    let conflicts = conflicting_votes(&votes);
    assert!(
        conflicts.is_empty(),
        "conflicting signed votes: {conflicts:?}"
    );
    // Not vacuous: the victim's votes were seen, across many heights, before and after kills.
    let victim_heights: std::collections::BTreeSet<u64> = votes
        .keys()
        .filter(|slot| slot.validator == victim_address)
        .map(|slot| slot.height)
        .collect();
    assert!(
        victim_heights.len() >= 10,
        "victim votes at {victim_heights:?}"
    );
    // And it voted again after its last restart, with the state its WAL and guard restored.
    let after_last = victim_heights
        .iter()
        .filter(|h| **h > last_restart_height)
        .count();
    assert!(
        after_last >= 3,
        "the victim voted at only {after_last} heights after its last restart (at height \
         {last_restart_height}): {victim_heights:?}"
    );
    for (i, node) in net.nodes.iter().enumerate() {
        let log = node.log_text();
        assert!(
            !log.contains("misbehaviour seen"),
            "node{i} saw equivocation"
        );
        assert!(
            !log.contains("refusing to send a conflicting"),
            "node{i} guard fired"
        );
    }
}

#[test]
fn a_validator_whose_store_was_damaged_recovers_from_peers_and_never_signs_a_conflicting_vote() {
    recover_a_damaged_validator(false);
}

#[test]
fn a_validator_that_lost_its_store_and_safety_record_sits_out_then_votes() {
    recover_a_damaged_validator(true);
}

/// Node 3 of 4 is stopped, its chain store damaged on disk (and, with `lose_safety_record`,
/// its consensus folder deleted), then started with `--recover`.
fn recover_a_damaged_validator(lose_safety_record: bool) {
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    net.set_consensus("target_block_ms", "100").unwrap();
    for node in &mut net.nodes {
        node.set_env("RUST_LOG", "info");
    }
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 20, Duration::from_secs(60));
    // Node 3 is stopped mid-run and its chain store is damaged on disk: a byte changed in
    // every page after the first.
    net.nodes[3].kill9().unwrap();
    let store = net.nodes[3].datadir.join(banyan_storage::DB_FILE_NAME);
    let mut bytes = std::fs::read(&store).unwrap();
    for page in bytes.chunks_mut(4096).skip(1) {
        page[100] ^= 0x5a;
    }
    std::fs::write(&store, &bytes).unwrap();
    if lose_safety_record {
        std::fs::remove_dir_all(net.nodes[3].datadir.join("consensus")).unwrap();
    }
    // Without --recover it refuses to start, naming the damage.
    let out = std::process::Command::new(bin())
        .args(["node", "--config"])
        .arg(net.config_path(3))
        .output_within(Duration::from_secs(60))
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started on a damaged store: {said}");
    assert!(
        said.contains("corrupt") || said.contains("truncated"),
        "{said}"
    );
    // With --recover: moved aside (kept), rebuilt from the peers, and back in step.
    net.nodes[3].add_arg("--recover");
    net.start_nodes(&[3]).unwrap();
    let aside: Vec<_> = std::fs::read_dir(&net.nodes[3].datadir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "the damaged store was not kept aside");
    assert!(aside[0].path().join(banyan_storage::DB_FILE_NAME).exists());
    let top = head(&net.nodes[0].rpc()).unwrap();
    wait_height(&net, &[0, 1, 2, 3], top + 10, Duration::from_secs(120));
    check_agreement(&net, &[0, 1, 2, 3], 1);
    assert!(
        net.nodes[3]
            .log_text()
            .contains("the chain store is damaged"),
        "node 3 did not say it recovered"
    );
    // The votes it sent, before the damage and after, never conflict (catching up, it signs
    // for heights long decided, which the safety record holds back); and it votes again.
    let votes = votes_in_logs(&net, true);
    let conflicts = conflicting_votes(&votes);
    assert!(
        conflicts.is_empty(),
        "conflicting signed votes: {conflicts:?}"
    );
    let victim = validator_address(&net, 3);
    let log = net.nodes[3].log_text();
    eprintln!(
        "node 3 held back {} messages while catching up",
        log.matches("sits out every height").count() + log.matches("sends nothing until").count()
    );
    if lose_safety_record {
        assert!(
            log.contains("safety record of what this validator signed is missing")
                && log.contains("sits out every height up to"),
            "node 3 did not sit out after losing its safety record"
        );
    }
    let after = head(&net.nodes[0].rpc()).unwrap();
    wait_height(&net, &[0, 1, 2, 3], after + 5, Duration::from_secs(60));
    let votes = votes_in_logs(&net, true);
    assert!(
        votes
            .keys()
            .any(|slot| slot.validator == victim && slot.height > after),
        "node 3 does not vote after its recovery"
    );
}

#[test]
fn an_observer_follows_and_serves_rpc_but_never_votes() {
    let mut net = TestNet::init(bin(), 4, "ecdsa", &["--observers", "1"]).unwrap();
    assert_eq!(net.nodes.len(), 5);
    for node in &mut net.nodes {
        node.set_env("RUST_LOG", "info");
    }
    net.start_nodes(&[0, 1, 2, 3, 4]).unwrap();
    wait_height(&net, &[0, 1, 2, 3, 4], 3, Duration::from_secs(60));
    // A transaction sent to the observer reaches the validators and is committed everywhere.
    let raw = signed(
        &dev_key(1),
        INIT_CHAIN_ID,
        0,
        Some(Address::repeat_byte(0x22)),
        U256::from(9u64),
        vec![],
        21_000,
    );
    let hash = net.nodes[4]
        .rpc()
        .call("eth_sendRawTransaction", json!([raw]))
        .unwrap();
    let hash = hash.as_str().unwrap().to_string();
    check_acked(&net, &[0, 1, 2, 3, 4], &[hash]);
    let top = head(&net.nodes[0].rpc()).unwrap();
    wait_height(&net, &[0, 1, 2, 3, 4], top + 2, Duration::from_secs(60));
    check_agreement(&net, &[0, 1, 2, 3, 4], 1);
    // Its key never signed a vote, and it is in no certificate.
    let key = std::fs::read_to_string(net.dir.join("node4/observer.key")).unwrap();
    let key = banyan_crypto::SecretKey::from_hex(key.trim().rsplit(':').next().unwrap()).unwrap();
    let observer = format!("{}", address_of(&key)).to_lowercase();
    let votes = votes_in_logs(&net, false);
    assert!(!votes.is_empty());
    assert!(votes.keys().all(|slot| slot.validator != observer));
    let cert = certificate(&net.nodes[4].rpc(), top);
    assert!(
        cert.signatures
            .iter()
            .all(|s| format!("{}", s.validator).to_lowercase() != observer)
    );
}

#[test]
fn a_new_node_starts_from_a_certified_snapshot_instead_of_replaying() {
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    net.set_consensus("target_block_ms", "20").unwrap();
    net.set_consensus("timeout_propose_ms", "1000").unwrap();
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    // Some state worth moving: balances at several fresh addresses.
    let key = dev_key(2);
    for i in 0..4u8 {
        let raw = signed(
            &key,
            INIT_CHAIN_ID,
            u64::from(i),
            Some(Address::repeat_byte(0x50 + i)),
            U256::from(1000u64 + u64::from(i)),
            vec![],
            21_000,
        );
        let hash = net.nodes[0]
            .rpc()
            .call("eth_sendRawTransaction", json!([raw]))
            .unwrap();
        net.nodes[0]
            .rpc()
            .wait_receipt(hash.as_str().unwrap(), Duration::from_secs(30))
            .unwrap();
    }
    wait_height(&net, &[0, 1, 2, 3], 40, Duration::from_secs(120));

    // Node 0 stops for a moment to export (one process opens a data directory at a time).
    net.nodes[0].stop(Duration::from_secs(10)).unwrap();
    let snap = net.dir.join("snap.bin");
    let config = |k: usize| net.dir.join(format!("node{k}/config.toml"));
    let out = std::process::Command::new(bin())
        .args(["snapshot", "export", "--config"])
        .arg(config(0))
        .arg("--out")
        .arg(&snap)
        .output_within(banyan_testkit::run::COMMAND_DEADLINE)
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let height: u64 = text
        .split("snapshot of block ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    net.nodes[0].start_process().unwrap();

    // Node 3 is replaced by a brand-new node that starts from the snapshot.
    net.nodes[3].kill9().unwrap();
    std::fs::remove_dir_all(&net.nodes[3].datadir).unwrap();
    let import = |file: &std::path::Path| {
        std::process::Command::new(bin())
            .args(["snapshot", "import", "--config"])
            .arg(config(3))
            .arg(file)
            .output_within(banyan_testkit::run::COMMAND_DEADLINE)
            .unwrap()
    };
    // A damaged snapshot is refused and leaves nothing behind.
    let mut bytes = std::fs::read(&snap).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x01;
    let bad = net.dir.join("bad.bin");
    std::fs::write(&bad, &bytes).unwrap();
    let out = import(&bad);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = import(&snap);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    net.start_nodes(&[3]).unwrap();
    let top = head(&net.nodes[1].rpc()).unwrap();
    wait_height(&net, &[0, 1, 2, 3], top + 3, Duration::from_secs(120));
    // It did not replay: it holds nothing below the snapshot.
    let rpc3 = net.nodes[3].rpc();
    assert!(
        rpc3.call("eth_getBlockByNumber", json!(["0x1", false]))
            .unwrap()
            .is_null()
    );
    let common = [0, 3]
        .iter()
        .map(|&i| head(&net.nodes[i].rpc()).unwrap())
        .min()
        .unwrap();
    for h in height..=common {
        assert_eq!(
            block_hash(&rpc3, h),
            block_hash(&net.nodes[0].rpc(), h),
            "height {h}"
        );
    }
    for i in 0..4u8 {
        let who = format!("{}", Address::repeat_byte(0x50 + i));
        assert_eq!(
            rpc3.call("eth_getBalance", json!([who, "latest"])).unwrap(),
            net.nodes[0]
                .rpc()
                .call("eth_getBalance", json!([who, "latest"]))
                .unwrap()
        );
    }
    check_agreement(&net, &[0, 1, 2], 1);
    // From the snapshot's block up, the new node agrees with the others at every height, and
    // every certificate it serves verifies.
    check_agreement_from(&net, &[0, 1, 2, 3], height + 1, 1);
}
