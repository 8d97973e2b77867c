//! Invariant checkers and waits for process tests, defined once: every node holds the same
//! block at every height, every certificate verifies against the genesis validators, every
//! acknowledged transaction is in the same block everywhere, money is conserved; waits fail with
//! the nodes' log tails.

use crate::{DevNode, RpcClient, TestNet};
use alloy_primitives::{Address, B256, U256};
use banyan_primitives::Genesis;
use banyan_primitives::consensus::{
    ChainBinding, CommitCertificate, ValidatorSet, verify_commit_certificate,
};
use banyan_sdk::wire::{WireCertificate, WireValidatorSet};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Lines of each node's log shown when a wait or check fails.
const LOG_TAIL_LINES: usize = 20;

/// The node's height, `None` when it does not answer.
pub fn head(rpc: &RpcClient) -> Option<u64> {
    rpc.quantity("eth_blockNumber", json!([])).ok()
}

/// The last `lines` lines of `node`'s log.
pub fn log_tail(node: &DevNode, lines: usize) -> String {
    let text = node.log_text();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The log tails of `nodes`, labelled `node0`, `node1`, …
pub fn tail_logs<'a>(nodes: impl IntoIterator<Item = &'a DevNode>) -> String {
    nodes
        .into_iter()
        .enumerate()
        .map(|(i, n)| format!("--- node{i} ---\n{}\n", log_tail(n, LOG_TAIL_LINES)))
        .collect()
}

/// Waits until every listed node is at `height` or above; fails with the heights and the log
/// tails after `timeout`.
pub fn wait_height(net: &TestNet, nodes: &[usize], height: u64, timeout: Duration) {
    let start = Instant::now();
    loop {
        let heads: Vec<Option<u64>> = nodes.iter().map(|&i| head(&net.nodes[i].rpc())).collect();
        if heads.iter().all(|h| h.is_some_and(|h| h >= height)) {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "nodes {nodes:?} at heights {heads:?} did not reach {height} within {timeout:?}\n{}",
            tail_logs(&net.nodes)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `check` until it is `Ok`, failing with its last error after `timeout`.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> Result<(), String>) {
    let start = Instant::now();
    loop {
        match check() {
            Ok(()) => return,
            Err(e) => assert!(start.elapsed() < timeout, "{e} after {timeout:?}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The hash of block `height` as `rpc` serves it.
pub fn block_hash(rpc: &RpcClient, height: u64) -> B256 {
    let block = rpc
        .call(
            "eth_getBlockByNumber",
            json!([format!("0x{height:x}"), false]),
        )
        .unwrap_or_else(|e| panic!("block {height}: {e}"));
    serde_json::from_value(block["hash"].clone())
        .unwrap_or_else(|e| panic!("block {height} has no hash: {e}"))
}

/// The commit certificate of block `height` as `rpc` serves it (parsed by the SDK's wire type,
/// the one the server writes).
pub fn certificate(rpc: &RpcClient, height: u64) -> CommitCertificate {
    let answer = rpc
        .call(
            "banyan_getCommitCertificate",
            json!([format!("0x{height:x}")]),
        )
        .unwrap_or_else(|e| panic!("certificate of block {height}: {e}"));
    assert!(
        !answer.is_null(),
        "block {height} has no commit certificate"
    );
    let wire: WireCertificate = serde_json::from_value(answer)
        .unwrap_or_else(|e| panic!("certificate of block {height} does not parse: {e}"));
    CommitCertificate::from(wire)
}

/// The network's genesis file.
pub fn genesis(net: &TestNet) -> Genesis {
    let path = net.dir.join("genesis.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Genesis::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every listed node holds the same hash at every height up to their common head, and on each
/// of them the certificate of every `cert_every`-th block (and of the last) verifies against the
/// validator set of that height, which every listed node reports alike (the genesis set until
/// governance changes it). Returns the common height.
pub fn check_agreement(net: &TestNet, nodes: &[usize], cert_every: u64) -> u64 {
    check_agreement_from(net, nodes, 0, cert_every)
}

/// The validator set node `rpc` says decides block `height` (`banyan_getValidatorSet`).
pub fn validator_set(rpc: &RpcClient, height: u64) -> Vec<banyan_primitives::GenesisValidator> {
    let value = rpc
        .call("banyan_getValidatorSet", json!([format!("{height:#x}")]))
        .unwrap_or_else(|e| panic!("banyan_getValidatorSet({height}): {e}"));
    let wire: WireValidatorSet = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("banyan_getValidatorSet({height}): {e}: {value}"));
    wire.genesis_validators()
}

/// [`check_agreement`] from height `from` up: for a node that started from a snapshot of block
/// `from` and holds nothing below it. Every listed node must hold every height from `from` to
/// the common head; the first must hold genesis (its hash binds the certificates).
pub fn check_agreement_from(net: &TestNet, nodes: &[usize], from: u64, cert_every: u64) -> u64 {
    let genesis = genesis(net);
    let rpcs: Vec<RpcClient> = nodes.iter().map(|&i| net.nodes[i].rpc()).collect();
    let chain = ChainBinding {
        chain_id: genesis.chain_id,
        genesis_hash: block_hash(&rpcs[0], 0),
    };
    let common = rpcs
        .iter()
        .map(|r| head(r).unwrap_or_else(|| panic!("a node of {nodes:?} does not answer")))
        .min()
        .unwrap_or_default();
    assert!(
        common >= from,
        "nodes {nodes:?} have a common head {common}, below height {from}"
    );
    let mut sets: BTreeMap<Vec<(Address, u64)>, ValidatorSet> = BTreeMap::new();
    for height in from..=common {
        let hashes: Vec<B256> = rpcs.iter().map(|r| block_hash(r, height)).collect();
        assert!(
            hashes.windows(2).all(|w| w[0] == w[1]),
            "nodes {nodes:?} disagree at height {height}: {hashes:?}"
        );
        if height > 0 && (height % cert_every.max(1) == 0 || height == common) {
            let reported: Vec<_> = rpcs.iter().map(|r| validator_set(r, height)).collect();
            assert!(
                reported.windows(2).all(|w| w[0] == w[1]),
                "nodes {nodes:?} report different validator sets for block {height}: {reported:?}"
            );
            let key: Vec<(Address, u64)> =
                reported[0].iter().map(|v| (v.address, v.power)).collect();
            let set = sets.entry(key).or_insert_with(|| {
                ValidatorSet::new(genesis.suite, &reported[0])
                    .unwrap_or_else(|e| panic!("validator set of block {height}: {e}"))
            });
            for r in &rpcs {
                let cert = certificate(r, height);
                verify_commit_certificate(genesis.suite, &chain, set, &cert, height, hashes[0])
                    .unwrap_or_else(|e| panic!("certificate of block {height}: {e}"));
            }
        }
    }
    common
}

/// Every acknowledged transaction (hash with a receipt) is in the same block on every listed
/// node.
pub fn check_acked(net: &TestNet, nodes: &[usize], acked: &[String]) {
    for hash in acked {
        let mut blocks = BTreeMap::new();
        for &i in nodes {
            let r = net.nodes[i]
                .rpc()
                .wait_receipt(hash, Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("acknowledged {hash} missing on node{i}: {e}"));
            blocks.insert(i, r["blockHash"].as_str().unwrap_or_default().to_string());
        }
        let first = blocks.values().next().cloned().unwrap_or_default();
        assert!(
            blocks.values().all(|b| *b == first),
            "{hash} is in different blocks: {blocks:?}"
        );
    }
}

/// Money is neither created nor destroyed: at the latest block, the balances of every account
/// in genesis, every validator (fees go to the proposer) and every account in `others` add up
/// to the genesis supply. `others` must hold every other account the test paid.
pub fn check_money_conserved(rpc: &RpcClient, genesis: &Genesis, others: &[Address]) {
    let mut accounts: BTreeSet<Address> = genesis.alloc.keys().copied().collect();
    accounts.extend(genesis.validators.iter().map(|v| v.address));
    accounts.extend(others.iter().copied());
    let block = head(rpc).unwrap_or_else(|| panic!("the node does not answer"));
    let tag = format!("0x{block:x}");
    let mut total = U256::ZERO;
    for account in &accounts {
        let balance = rpc
            .call("eth_getBalance", json!([format!("{account}"), tag]))
            .unwrap_or_else(|e| panic!("balance of {account}: {e}"));
        let balance: U256 =
            serde_json::from_value(balance).unwrap_or_else(|e| panic!("balance of {account}: {e}"));
        total += balance;
    }
    assert_eq!(
        total,
        genesis.total_supply(),
        "at block {block} the {} accounts hold {total}, genesis minted {}",
        accounts.len(),
        genesis.total_supply()
    );
}

/// One HTTP/1.1 `GET path` to 127.0.0.1:`port`: the status line's code, the headers and the
/// body; `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, head.to_string(), body.to_string()))
}

/// The body of `GET /metrics` from 127.0.0.1:`port`; `None` when it does not answer.
pub fn metrics_text(port: u16) -> Option<String> {
    http_get(port, "/metrics").map(|(_, _, body)| body)
}

/// The value of the metric line `name value` in `text`.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}
