//! Encryption at rest on a real 4-validator network: nodes 0 and 1 get a data key (one from a
//! key file, one from a key manager's command), nodes 2 and 3 none. A transaction carrying a
//! marker in its input is committed everywhere; then every file under each data directory is
//! searched for the marker. The plain nodes must hold it (so the search can fail), the
//! encrypted ones must not. An encrypted node then refuses to start without its key or with
//! another one, and starts again with it.

use crate::common::{self, bin};
use alloy_primitives::{Address, U256};
use banyan_testkit::TestNet;
use banyan_testkit::checks::{genesis, wait_height};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// Every file under `dir` (recursively) that contains `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

fn key_hex(byte: u8) -> String {
    format!("{byte:02x}").repeat(32)
}

#[test]
fn with_encryption_at_rest_a_marker_in_a_transaction_is_nowhere_in_plain_form_on_disk() {
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    let keys = net.dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let key0 = keys.join("node0.datakey");
    std::fs::write(&key0, key_hex(0x41)).unwrap();
    let key1 = keys.join("node1.datakey");
    std::fs::write(&key1, key_hex(0x42)).unwrap();
    let set = |k: usize, line: &str| {
        let path = net.config_path(k);
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replacen("[node]\n", &format!("[node]\n{line}\n"), 1);
        std::fs::write(&path, text).unwrap();
    };
    set(
        0,
        &format!("data_key_file = {:?}", key0.display().to_string()),
    );
    set(
        1,
        &format!(
            "data_key_command = [\"cat\", {:?}]",
            key1.display().to_string()
        ),
    );
    net.start_nodes(&[0, 1, 2, 3]).unwrap();

    let marker = b"BANYAN-AT-REST-MARKER-5f0c19e2";
    let (key, _) = banyan_testkit::checks::account(&net, 9).unwrap();
    let raw = common::signed(
        &key,
        genesis(&net).chain_id,
        0,
        Some(Address::repeat_byte(0x55)),
        U256::from(1),
        marker.to_vec(),
        100_000,
    );
    let hash = net.nodes[0]
        .rpc()
        .call("eth_sendRawTransaction", json!([raw]))
        .unwrap();
    let receipt = net.nodes[0]
        .rpc()
        .wait_receipt(hash.as_str().unwrap(), Duration::from_secs(60))
        .unwrap();
    let height = banyan_testkit::parse_quantity(&receipt["blockNumber"]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], height + 2, Duration::from_secs(60));
    // Read back through the encrypted nodes: the input is there, in the clear, over RPC.
    for k in [0, 1] {
        let tx = net.nodes[k]
            .rpc()
            .call("eth_getTransactionByHash", json!([hash]))
            .unwrap();
        assert_eq!(
            tx["input"].as_str().unwrap(),
            format!("0x{}", hex::encode(marker)),
            "node{k}"
        );
    }
    for node in &mut net.nodes {
        node.stop(Duration::from_secs(20)).unwrap();
    }

    for k in 0..4 {
        let data = net.dir.join(format!("node{k}/data"));
        let found = files_holding(&data, marker);
        if k < 2 {
            assert!(
                found.is_empty(),
                "node{k} is encrypted at rest, yet the marker is in {found:?}"
            );
        } else {
            assert!(
                found.iter().any(|f| f.ends_with("banyan.redb")),
                "node{k} stores in the clear, so its chain store must hold the marker \
                 (else this search proves nothing): found in {found:?}"
            );
        }
    }

    // Without its key, or with another one, node 0 refuses to start, saying why.
    let config = net.config_path(0);
    let text = std::fs::read_to_string(&config).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("data_key_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, &without).unwrap();
    let out = common::banyan(&["node", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("encrypted at rest"), "{stderr}");
    std::fs::write(&key0, key_hex(0x99)).unwrap();
    std::fs::write(&config, &text).unwrap();
    let out = common::banyan(&["node", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("another key"), "{stderr}");
    // With its key it starts again and serves the same chain.
    std::fs::write(&key0, key_hex(0x41)).unwrap();
    net.start_nodes(&[0]).unwrap();
    let tx = net.nodes[0]
        .rpc()
        .call("eth_getTransactionByHash", json!([hash]))
        .unwrap();
    assert_eq!(
        tx["input"].as_str().unwrap(),
        format!("0x{}", hex::encode(marker))
    );
}
