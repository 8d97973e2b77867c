//! The Foundation end-to-end test: `banyan dev` as a real process, driven by ethers.js with an
//! ERC-20 compiled by solc-js (tests/e2e). Needs `npm ci --prefix tests/e2e` (the README's test
//! command does it).
#![allow(clippy::unwrap_used)]

mod common;

use banyan_testkit::DevNode;
use std::process::Command;

#[test]
fn ethers_and_solc_js_drive_banyan_dev() {
    let e2e = common::repo_root().join("tests/e2e");
    assert!(
        e2e.join("node_modules/ethers").exists() && e2e.join("node_modules/solc").exists(),
        "tests/e2e has no node_modules: run `npm ci --prefix tests/e2e` (scripts/test does this)"
    );
    let node = DevNode::start(common::bin(), &[]).expect("start banyan dev");
    let out = Command::new("node")
        .args([
            "--test",
            "--test-reporter=spec",
            "erc20.test.mjs",
            "build.test.mjs",
        ])
        .current_dir(&e2e)
        .env("BANYAN_RPC_HTTP", node.url())
        .env("BANYAN_RPC_WS", node.ws_url())
        .output()
        .expect("run node --test (is Node.js installed?)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "ethers.js end-to-end test failed:\n{report}\n--- node log ---\n{}",
        node.log_text()
    );
    assert!(
        report.contains("pass 10") || report.contains("ℹ pass 10"),
        "expected 10 passing tests:\n{report}"
    );
}
