//! The Foundation end-to-end test: the same ethers.js + solc-js suite (tests/e2e) against
//! `banyan dev` and against a 4-validator network made by `banyan init`, each node a real
//! process. Needs `npm ci --prefix tests/e2e` (the README's test command does it).

use crate::common;
use banyan_primitives::Genesis;
use banyan_testkit::OutputWithin;
use banyan_testkit::{DevNode, TestNet};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;

/// `banyan init`'s default chain id (docs/local-network.md).
const INIT_CHAIN_ID: u64 = 20261;

/// The two tests start 1 and 4 nodes on the same 2 cores as the JS client: one at a time, so
/// that neither run's time limits are spent waiting for the other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What one `node --test` run reported: its exit status and output, and the summary counts
/// (`ℹ pass 10`, `ℹ fail 0`, …) of the spec reporter.
struct Run {
    success: bool,
    report: String,
    counts: BTreeMap<String, u64>,
}

impl Run {
    fn count(&self, what: &str) -> u64 {
        *self.counts.get(what).unwrap_or_else(|| {
            panic!(
                "no `ℹ {what} N` line in the node --test report:\n{}",
                self.report
            )
        })
    }
}

/// Runs erc20.test.mjs and build.test.mjs in tests/e2e with `env` set.
fn run_suite(env: &[(&str, String)]) -> Run {
    let e2e = common::repo_root().join("tests/e2e");
    assert!(
        e2e.join("node_modules/ethers").exists() && e2e.join("node_modules/solc").exists(),
        "tests/e2e has no node_modules: run `npm ci --prefix tests/e2e` (scripts/test does this)"
    );
    let mut cmd = Command::new("node");
    cmd.args([
        "--test",
        "--test-reporter=spec",
        "erc20.test.mjs",
        "build.test.mjs",
        "deposit-token.test.mjs",
    ])
    .current_dir(&e2e);
    // Only what this test sets: nothing inherited from the shell may point the suite elsewhere.
    for var in [
        "BANYAN_RPC_HTTP",
        "BANYAN_RPC_WS",
        "BANYAN_CHAIN_ID",
        "BANYAN_RPC_HTTP_PEERS",
        "BANYAN_DEV_KEY",
        "BANYAN_DEV_KEY2",
        "BANYAN_RPC_NO_BATCH",
        "BANYAN_EVM_VERSION",
        "BANYAN_ISSUER_KEY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output_within(std::time::Duration::from_secs(600))
        .expect("run node --test (is Node.js installed?)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = report
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ℹ "))
        .filter_map(|l| {
            let (name, n) = l.split_once(' ')?;
            Some((name.to_string(), n.trim().parse().ok()?))
        })
        .collect();
    Run {
        success: out.status.success(),
        report,
        counts,
    }
}

/// Asserts the run passed with exactly `pass` tests passing and `skipped` skipped.
fn assert_passed(run: &Run, pass: u64, skipped: u64, nodes: &[&DevNode]) {
    assert!(
        run.success && run.count("fail") == 0 && run.count("cancelled") == 0,
        "ethers.js end-to-end test failed:\n{}\n{}",
        run.report,
        banyan_testkit::checks::tail_logs(nodes.iter().copied())
    );
    assert_eq!(
        (run.count("pass"), run.count("skipped")),
        (pass, skipped),
        "(passed, skipped) tests:\n{}",
        run.report
    );
}

#[test]
fn ethers_and_solc_js_drive_banyan_dev() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let node = DevNode::start(common::bin(), &[]).expect("start banyan dev");
    let run = run_suite(&[
        ("BANYAN_RPC_HTTP", node.url()),
        ("BANYAN_RPC_WS", node.ws_url()),
        ("BANYAN_CHAIN_ID", common::CHAIN_ID.to_string()),
        // The dev chain's account 0 is its one governor and holds every role.
        ("BANYAN_ISSUER_KEY", common::dev_key(0).to_hex()),
    ]);
    // A single node has no other node to read back from: that one test is skipped. The four
    // deposit-token tests run.
    assert_passed(&run, 14, 1, &[&node]);
}

/// The same suite against node 0 of a 4-validator network under BFT consensus, with node 3 as
/// the other node: it must serve the same blocks, receipts and state as node 0, and a
/// transaction submitted to it must be committed and served by node 0.
#[test]
fn ethers_and_solc_js_drive_a_4_node_network() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let net = TestNet::start(common::bin(), 4, "ecdsa", &[]).expect("start a 4-node network");
    let genesis = std::fs::read_to_string(net.dir.join("genesis.json")).unwrap();
    let chain_id = Genesis::from_json(&genesis).unwrap().chain_id;
    assert_eq!(chain_id, INIT_CHAIN_ID, "banyan init's default chain id");
    let run = run_suite(&[
        ("BANYAN_RPC_HTTP", net.nodes[0].url()),
        ("BANYAN_RPC_WS", net.nodes[0].ws_url()),
        ("BANYAN_CHAIN_ID", chain_id.to_string()),
        ("BANYAN_RPC_HTTP_PEERS", net.nodes[3].url()),
    ]);
    let nodes: Vec<&DevNode> = net.nodes.iter().collect();
    // The network's committee has four governors: the deposit-token tests (which need one
    // governor that is also an issuer) are skipped here; the dev run covers them.
    assert_passed(&run, 11, 4, &nodes);
}

/// Runs tests/e2e/keystore.mjs (ethers v6) with `args`; its one JSON line.
fn ethers_keystore(args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg("keystore.mjs")
        .args(args)
        .current_dir(common::repo_root().join("tests/e2e"))
        .output_within(std::time::Duration::from_secs(120))
        .expect("run node keystore.mjs (is Node.js installed?)");
    assert!(
        out.status.success(),
        "node keystore.mjs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("keystore.mjs prints JSON")
}

#[test]
fn keystores_written_by_banyan_and_by_ethers_are_read_by_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let pass_text = "correct horse battery staple";
    let pass = dir.path().join("pass");
    std::fs::write(&pass, format!("{pass_text}\n")).unwrap();
    let ks = dir.path().join("ks");
    // Banyan writes (standard scrypt, as an operator's key would be); ethers decrypts.
    let out = common::banyan(&[
        "account",
        "new",
        "--keystore",
        ks.to_str().unwrap(),
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = created["keyFile"].as_str().unwrap();
    let read = ethers_keystore(&["decrypt", file, pass_text]);
    assert_eq!(
        read["address"].as_str().unwrap().to_lowercase(),
        created["address"].as_str().unwrap().to_lowercase()
    );
    // ethers writes (its defaults); Banyan reads it with the passphrase, refuses a wrong one.
    let theirs = dir.path().join("ethers.json");
    let made = ethers_keystore(&["encrypt", theirs.to_str().unwrap(), pass_text]);
    let show = |pass_file: &std::path::Path| {
        common::banyan(&[
            "account",
            "show",
            theirs.to_str().unwrap(),
            "--passphrase-file",
            pass_file.to_str().unwrap(),
            "--json",
        ])
    };
    let out = show(&pass);
    assert!(out.status.success(), "{out:?}");
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        shown["address"].as_str().unwrap().to_lowercase(),
        made["address"].as_str().unwrap().to_lowercase()
    );
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let out = show(&wrong);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"),
        "{out:?}"
    );
}
