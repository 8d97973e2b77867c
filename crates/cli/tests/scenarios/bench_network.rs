//! `banyan bench` against an existing network: `--rpc` repeated spreads the senders over the
//! nodes, every transaction must be included, and a URL of another chain is refused before
//! anything is sent.

use crate::common;
use banyan_testkit::OutputWithin;
use banyan_testkit::{DevNode, TestNet};
use serde_json::Value;
use std::process::Command;

#[test]
fn bench_spreads_senders_over_the_nodes_of_a_network() {
    let net = TestNet::start(common::bin(), 4, "ecdsa", &[]).expect("start a 4-node network");
    let report = tempfile::NamedTempFile::new().unwrap();
    let pids: Vec<String> = net
        .nodes
        .iter()
        .map(|n| n.pid().expect("node running").to_string())
        .collect();
    let mut cmd = Command::new(common::bin());
    cmd.env("BANYAN_EXIT_WITH_PARENT", "1")
        .args(["bench", "--mode", "erc20", "--txs", "120", "--senders", "4"])
        .args(["--timeout-secs", "120", "--json"])
        .arg(report.path());
    for node in [0, 3] {
        cmd.args(["--rpc", &net.nodes[node].url()]);
    }
    for pid in &pids {
        cmd.args(["--pid", pid]);
    }
    let out = cmd
        .output_within(std::time::Duration::from_secs(600))
        .expect("run banyan bench");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "banyan bench failed:\n{text}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(report.path()).unwrap()).unwrap();
    assert_eq!(r["sent"], 120, "{text}");
    assert_eq!(r["included"], 120, "{text}");
    assert_eq!(
        r["rpc"],
        serde_json::json!([net.nodes[0].url(), net.nodes[3].url()])
    );
    let per_node = r["peak_rss_per_node"].as_array().unwrap();
    assert_eq!(per_node.len(), 4, "{r}");
    for (n, pid) in per_node.iter().zip(&pids) {
        assert_eq!(n["pid"].to_string(), *pid);
        assert!(n["peak_rss_kib"].as_u64().unwrap() > 0, "{r}");
    }
    // Senders 1 and 3 submitted their 60 transactions to node 3 only, and bench counts a
    // transaction as included when it finds it in a block of node 0: all 120 were.
    assert_eq!(r["accepted_by_rpc"], serde_json::json!([60, 60]), "{r}");
}

/// Two dev chains with the same chain id but different genesis allocations: bench must see that
/// they are different chains before it sends anything.
#[test]
fn bench_refuses_urls_of_two_chains() {
    let a = DevNode::start(common::bin(), &[]).expect("start banyan dev");
    let b = DevNode::start(common::bin(), &["--balance", "5000"]).expect("start banyan dev");
    let out = Command::new(common::bin())
        .args(["bench", "--txs", "10", "--senders", "1"])
        .args(["--rpc", &a.url(), "--rpc", &b.url()])
        .output_within(std::time::Duration::from_secs(600))
        .expect("run banyan bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "bench accepted two chains: {stderr}");
    assert!(
        stderr.contains(&format!("{} is not on the chain of {}", b.url(), a.url())),
        "{stderr}"
    );
    // Nothing was sent: the funder still has nonce 0 on the first chain.
    let nonce = a
        .rpc()
        .quantity(
            "eth_getTransactionCount",
            serde_json::json!([common::address_of(&common::dev_key(0)), "pending"]),
        )
        .unwrap();
    assert_eq!(nonce, 0);
}
