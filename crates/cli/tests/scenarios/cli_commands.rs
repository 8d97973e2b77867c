//! The `banyan` commands against real nodes: accounts, transfers and contracts on both suites,
//! `banyan node --config` (and its errors), proofs verified against a header, polling filters.

use crate::common;
use alloy_primitives::{Address, B256, U256};
use banyan_crypto::Suite;
use banyan_testkit::{DevNode, free_port};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::banyan;

fn ok(args: &[&str]) -> String {
    let out = banyan(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "banyan {args:?} failed:\n{text}");
    text
}

fn field<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

#[test]
fn accounts_transfers_and_contracts_on_an_ecdsa_chain() {
    let node = DevNode::start(common::bin(), &[]).unwrap();
    let url = node.url();
    let rpc = node.rpc();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks");
    // Encrypted with a passphrase (light scrypt: a test key); refused without one.
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse battery\n").unwrap();
    let pass = pass.to_str().unwrap();
    let refused = banyan(&["account", "new", "--keystore", ks.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--passphrase-file"),
        "{refused:?}"
    );
    let created = ok(&[
        "account",
        "new",
        "--keystore",
        ks.to_str().unwrap(),
        "--passphrase-file",
        pass,
        "--kdf",
        "light",
    ]);
    let address = field(&created, "address").to_string();
    let listed = ok(&["account", "list", "--keystore", ks.to_str().unwrap()]);
    assert!(
        listed.contains(&address) && listed.contains("encrypted"),
        "{listed}"
    );
    let key_file = field(&created, "key file").to_string();
    assert!(
        !std::fs::read_to_string(&key_file)
            .unwrap()
            .contains("ecdsa:")
    );

    ok(&[
        "tx",
        "send",
        "--rpc",
        &url,
        "--key",
        banyan_node::DEV_KEYS[0],
        "--to",
        &address,
        "--value",
        "1000000000000000000",
    ]);
    let bal = rpc
        .call("eth_getBalance", json!([address, "latest"]))
        .unwrap();
    assert_eq!(
        bal.as_str().unwrap().parse::<U256>().unwrap(),
        U256::from(10u64).pow(U256::from(18u64))
    );

    // The new account pays from its key file.
    ok(&[
        "tx",
        "send",
        "--rpc",
        &url,
        "--key-file",
        &key_file,
        "--passphrase-file",
        pass,
        "--to",
        &format!("{}", Address::repeat_byte(7)),
        "--value",
        "5",
    ]);
    assert_eq!(
        rpc.call("eth_getBalance", json!([Address::repeat_byte(7), "latest"]))
            .unwrap(),
        "0x5"
    );

    // Deploy the ERC-20 and read a balance with eth_call.
    let bin = common::repo_root().join("contracts/build/BanyanToken.bin");
    let supply = format!("0x{}", hex::encode(U256::from(777u64).to_be_bytes::<32>()));
    let deployed = ok(&[
        "contract",
        "deploy",
        "--rpc",
        &url,
        "--key",
        banyan_node::DEV_KEYS[0],
        "--bin",
        bin.to_str().unwrap(),
        "--args",
        &supply,
    ]);
    let token = field(&deployed, "contract").to_string();
    let dev0 = common::address_of(&common::dev_key(0));
    let data = format!(
        "0x70a08231{}",
        hex::encode(B256::left_padding_from(dev0.as_slice()))
    );
    let out = ok(&[
        "contract", "call", "--rpc", &url, "--to", &token, "--data", &data,
    ]);
    assert_eq!(
        U256::from_str_radix(out.trim().trim_start_matches("0x"), 16).unwrap(),
        U256::from(777u64)
    );

    // A reverting contract transaction is reported as such.
    let transfer = format!(
        "0xa9059cbb{}{}",
        hex::encode(B256::left_padding_from(&[1u8; 20])),
        hex::encode(U256::from(10_000u64).to_be_bytes::<32>())
    );
    let out = banyan(&[
        "contract",
        "send",
        "--rpc",
        &url,
        "--key",
        banyan_node::DEV_KEYS[0],
        "--to",
        &token,
        "--data",
        &transfer,
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("transfer amount exceeds balance"),
        "{out:?}"
    );
}

#[test]
fn sm_chain_signs_with_sm2_and_proves_state_with_sm3() {
    let node = DevNode::start(common::bin(), &["--suite", "sm"]).unwrap();
    let rpc = node.rpc();
    assert_eq!(rpc.call("banyan_status", json!([])).unwrap()["suite"], "sm");
    let to = Address::repeat_byte(0x33);
    ok(&[
        "tx",
        "send",
        "--rpc",
        &node.url(),
        "--key",
        banyan_node::DEV_KEYS[1],
        "--to",
        &to.to_string(),
        "--value",
        "42",
    ]);
    assert_eq!(
        rpc.call("eth_getBalance", json!([to, "latest"])).unwrap(),
        "0x2a"
    );
    // An Ethereum-signed transaction is refused on an sm chain.
    let raw = common::signed(
        &common::dev_key(1),
        common::CHAIN_ID,
        0,
        Some(to),
        U256::from(1u64),
        vec![],
        21_000,
    );
    let err = rpc
        .try_call("eth_sendRawTransaction", json!([raw]))
        .unwrap()
        .unwrap_err();
    assert!(err.message.contains("wrong signature suite"), "{err}");
    // Proofs verify with SM3 against the header's state root.
    let sender = Suite::Sm.address(&Suite::Sm.public_key(&common::dev_key(1)).unwrap());
    verify_proof_over_rpc(&rpc, Suite::Sm, sender, true);
    verify_proof_over_rpc(&rpc, Suite::Sm, Address::repeat_byte(0x99), false);
}

fn verify_proof_over_rpc(
    rpc: &banyan_testkit::RpcClient,
    suite: Suite,
    address: Address,
    exists: bool,
) {
    let v = rpc
        .call("eth_getProof", json!([address, [], "latest"]))
        .unwrap();
    let n = &v["blockNumber"];
    let header = rpc.call("eth_getBlockByNumber", json!([n, false])).unwrap();
    let root: B256 = header["stateRoot"].as_str().unwrap().parse().unwrap();
    // Parsed by the SDK's wire type, the one the server writes.
    let wire: banyan_sdk::wire::WireProof = serde_json::from_value(v).unwrap();
    let mut proof = wire.account_proof(suite);
    assert_eq!(proof.account.is_some(), exists, "{address}");
    banyan_state::verify_account_proof(suite, root, &proof).unwrap();
    // A lie about the balance does not verify.
    if let Some(a) = proof.account.as_mut() {
        a.balance += U256::from(1u64);
        assert!(banyan_state::verify_account_proof(suite, root, &proof).is_err());
    }
}

#[test]
fn proofs_and_filters_on_an_ecdsa_chain() {
    let node = DevNode::start(common::bin(), &[]).unwrap();
    let rpc = node.rpc();
    let blocks = rpc.call("eth_newBlockFilter", json!([])).unwrap();
    let logs = rpc
        .call("eth_newFilter", json!([{"topics": [null]}]))
        .unwrap();
    let r = common::transfer_and_wait(
        &rpc,
        &common::dev_key(0),
        0,
        Address::repeat_byte(5),
        9,
        Duration::from_secs(20),
    );
    let changes = rpc.call("eth_getFilterChanges", json!([blocks])).unwrap();
    assert!(
        changes.as_array().unwrap().contains(&r["blockHash"]),
        "{changes}"
    );
    assert_eq!(
        rpc.call("eth_getFilterChanges", json!([blocks])).unwrap(),
        json!([])
    );
    assert_eq!(
        rpc.call("eth_getFilterChanges", json!([logs])).unwrap(),
        json!([])
    );
    assert_eq!(
        rpc.call("eth_uninstallFilter", json!([blocks])).unwrap(),
        json!(true)
    );
    assert!(
        rpc.try_call("eth_getFilterChanges", json!([blocks]))
            .unwrap()
            .is_err()
    );
    verify_proof_over_rpc(
        &rpc,
        Suite::Ecdsa,
        common::address_of(&common::dev_key(0)),
        true,
    );
    verify_proof_over_rpc(&rpc, Suite::Ecdsa, Address::repeat_byte(0x77), false);
}

#[test]
fn node_runs_from_a_config_file_and_names_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = banyan_node::dev_accounts(Suite::Ecdsa, 2).unwrap();
    let (genesis, key) = banyan_node::dev_genesis(Suite::Ecdsa, 4242, &accounts, 5).unwrap();
    std::fs::write(dir.path().join("genesis.json"), genesis.to_json()).unwrap();
    std::fs::write(dir.path().join("validator.key"), key.to_hex()).unwrap();
    let port = free_port().unwrap();
    let config = format!(
        "[node]\ndata_dir = \"data\"\ngenesis = \"genesis.json\"\nvalidator_key_file = \"validator.key\"\n\n[rpc]\nlisten = \"127.0.0.1:{port}\"\n\n[block]\ninterval_ms = 100\n"
    );
    let path = dir.path().join("node.toml");
    std::fs::write(&path, &config).unwrap();
    let mut child = Command::new(common::bin())
        .env("BANYAN_EXIT_WITH_PARENT", "1")
        .args(["node", "--config", path.to_str().unwrap()])
        .spawn()
        .unwrap();
    let rpc = banyan_testkit::RpcClient::new(([127, 0, 0, 1], port).into());
    let start = Instant::now();
    let chain_id = loop {
        if let Ok(Ok(v)) = rpc.try_call("eth_chainId", json!([])) {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(chain_id, "0x1092");

    // Errors name the file and the key.
    let bad = config.replace("interval_ms", "intervall_ms");
    std::fs::write(&path, bad).unwrap();
    let out = banyan(&["node", "--config", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("node.toml") && err.contains("intervall_ms"),
        "{err}"
    );
    std::fs::write(&path, config.replace("validator.key", "missing.key")).unwrap();
    let out = banyan(&["node", "--config", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.key"));
    // A data directory of another chain is refused.
    let other = genesis.clone();
    let other = banyan_primitives::Genesis {
        chain_id: 4243,
        ..other
    };
    std::fs::write(dir.path().join("genesis.json"), other.to_json()).unwrap();
    std::fs::write(&path, &config).unwrap();
    let out = banyan(&["node", "--config", path.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fresh data directory"),
        "{out:?}"
    );
}

#[test]
fn dev_chain_answers_browser_preflights() {
    use std::io::{Read, Write};
    let node = DevNode::start(common::bin(), &[]).unwrap();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", node.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let lower = out.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200"), "{out}");
    assert!(lower.contains("access-control-allow-origin: *"), "{out}");
    assert!(
        lower.contains("access-control-allow-methods:") && lower.contains("post"),
        "{out}"
    );
}

/// The SDK against a real node, on both suites: a signed Evidence anchor through `Signer`, its
/// typed receipt, the anchor read back through the typed bindings, the suite hash through
/// BanyanCrypto's binding, and a revert carrying the module's reason.
#[test]
fn the_sdk_drives_a_node_with_typed_calls() {
    for (suite, flag) in [(Suite::Ecdsa, "ecdsa"), (Suite::Sm, "sm")] {
        let node = DevNode::start(common::bin(), &["--suite", flag]).unwrap();
        let runtime = common::runtime();
        runtime.block_on(async {
            let client = banyan_sdk::Client::connect(&node.url()).await.unwrap();
            let signer = banyan_sdk::Signer::for_chain(&client, common::dev_key(2))
                .await
                .unwrap();
            assert_eq!(signer.suite, suite);
            let hash = suite.hash(b"invoice INV-9");
            let data = banyan_sdk::evidence::anchor_call(hash, "invoice", "INV-9", b"");
            let receipt = signer
                .transact(
                    &client,
                    Some(banyan_sdk::evidence::EVIDENCE_ADDRESS),
                    U256::ZERO,
                    data.clone(),
                    None,
                    None,
                    Duration::from_secs(30),
                )
                .await
                .unwrap();
            assert!(receipt.success(), "{suite}: {receipt:?}");
            assert_eq!(
                receipt.logs[0].address,
                banyan_sdk::evidence::EVIDENCE_ADDRESS
            );
            let (anchor, attestations) =
                banyan_sdk::evidence::anchor(&client, hash, banyan_sdk::BlockId::Latest)
                    .await
                    .unwrap()
                    .expect("anchored");
            assert_eq!(anchor.anchorer, signer.address);
            assert_eq!(anchor.blockNumber, receipt.block_number);
            assert!(attestations.is_empty());
            // The duplicate fails at the estimate, with the module's reason.
            let again = signer
                .send(
                    &client,
                    Some(banyan_sdk::evidence::EVIDENCE_ADDRESS),
                    U256::ZERO,
                    data,
                    None,
                    None,
                )
                .await
                .unwrap_err();
            assert!(
                again.to_string().contains("is already anchored by"),
                "{suite}: {again}"
            );
            let digest = banyan_sdk::crypto::suite_hash(&client, b"abc")
                .await
                .unwrap();
            assert_eq!(digest, suite.hash(b"abc"), "{suite}");
        });
    }
}

/// A test runner killed mid-scenario leaves no `banyan` behind: started with
/// `BANYAN_EXIT_WITH_PARENT` (as the testkit and `banyan up` start nodes), a node exits soon
/// after its parent is SIGKILLed.
#[test]
fn a_node_exits_when_the_process_that_started_it_is_killed() {
    let port = free_port().unwrap();
    let script = format!(
        "BANYAN_EXIT_WITH_PARENT=1 '{}' dev --port {port} >/dev/null 2>&1 & echo $!; wait",
        common::bin().display()
    );
    let mut parent = Command::new("sh")
        .args(["-c", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(parent.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let pid: u32 = line.trim().parse().unwrap();
    let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
    // The node is up (it answers) before its parent dies.
    let rpc = banyan_testkit::RpcClient::new(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    let start = Instant::now();
    while rpc.call("eth_blockNumber", json!([])).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    parent.kill().unwrap();
    parent.wait().unwrap();
    let start = Instant::now();
    while alive(pid) && !is_zombie(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "banyan {pid} still runs 10 s after its parent was killed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An exited process not yet reaped by its new parent.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.split(") ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with('Z'))
        })
        .unwrap_or(true)
}

/// Governance on a `banyan dev` chain, through real signed transactions: the one governor (dev
/// account 0) adds a second governor and the proposal executes in its own transaction; the
/// committee read back over `eth_call` has two members; a non-governor's proposal is refused at
/// the estimate with the module's reason.
#[test]
fn the_dev_chains_one_governor_passes_a_proposal_in_one_transaction() {
    use alloy_sol_types::{SolCall, SolEvent, SolValue};
    use banyan_modules::{GOVERNANCE_ADDRESS, IGovernance};
    let node = DevNode::start(common::bin(), &[]).unwrap();
    let runtime = common::runtime();
    runtime.block_on(async {
        let client = banyan_sdk::Client::connect(&node.url()).await.unwrap();
        let governor = banyan_sdk::Signer::for_chain(&client, common::dev_key(0))
            .await
            .unwrap();
        let newcomer = common::address_of(&common::dev_key(1));
        let propose = |kind, payload: Vec<u8>| -> alloy_primitives::Bytes {
            IGovernance::proposeCall {
                kind,
                payload: payload.into(),
                description: "admit bank B".into(),
                votingPeriod: 0,
            }
            .abi_encode()
            .into()
        };
        let data = propose(
            IGovernance::Kind::AddGovernor,
            IGovernance::GovernorChange {
                governor: newcomer,
                weight: 1,
            }
            .abi_encode(),
        );
        let receipt = governor
            .transact(
                &client,
                Some(GOVERNANCE_ADDRESS),
                U256::ZERO,
                data,
                None,
                None,
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        assert!(receipt.success(), "{receipt:?}");
        let executed = receipt
            .logs
            .iter()
            .filter(|l| l.topics.first() == Some(&IGovernance::ProposalExecuted::SIGNATURE_HASH))
            .count();
        assert_eq!(executed, 1, "{receipt:?}");
        let out = client
            .call(
                GOVERNANCE_ADDRESS,
                IGovernance::governorsCall {}.abi_encode().into(),
                banyan_sdk::BlockId::Latest,
            )
            .await
            .unwrap();
        let committee = IGovernance::governorsCall::abi_decode_returns(&out).unwrap();
        assert_eq!(
            committee.accounts,
            vec![governor.address, newcomer],
            "{committee:?}"
        );
        // Someone outside the committee is refused before anything is sent.
        let outsider = banyan_sdk::Signer::for_chain(&client, common::dev_key(3))
            .await
            .unwrap();
        let err = outsider
            .send(
                &client,
                Some(GOVERNANCE_ADDRESS),
                U256::ZERO,
                propose(IGovernance::Kind::RemoveGovernor, newcomer.abi_encode()),
                None,
                None,
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("is not a governor, so it cannot propose"),
            "{err}"
        );
    });
}

/// `banyan gov` on a `banyan dev` chain: a proposal that executes at once, one that waits for a
/// second governor's vote, the committee and the list read back as JSON, and a refused repeat
/// vote that names the reason and exits non-zero.
#[test]
fn gov_commands_propose_vote_and_read_the_committee() {
    let node = DevNode::start(common::bin(), &[]).unwrap();
    let url = node.url();
    let key = |i: usize| common::dev_key(i).to_hex();
    let gov = |args: &[&str], who: usize| -> std::process::Output {
        let mut all = vec!["gov"];
        all.extend_from_slice(args);
        let k = key(who);
        all.extend_from_slice(&["--rpc", &url, "--key", &k]);
        banyan(&all)
    };
    let json_of = |out: &std::process::Output| -> serde_json::Value {
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let b = common::address_of(&common::dev_key(1)).to_string();
    let c = common::address_of(&common::dev_key(2)).to_string();
    let out = json_of(&gov(&["propose", "add-governor", &b, "--json"], 0));
    assert_eq!(out["proposal"]["status"], "Executed", "{out}");
    // Two governors now: a role grant waits for the second vote.
    let out = json_of(&gov(&["propose", "grant-role", &c, "issuer", "--json"], 0));
    assert_eq!(out["proposal"]["status"], "Open", "{out}");
    let id = out["proposal"]["id"].as_u64().unwrap().to_string();
    let refused = gov(&["vote", &id, "yes"], 0);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("has already voted Yes on proposal 2"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let out = json_of(&gov(&["vote", &id, "yes", "--json"], 1));
    assert_eq!(out["proposal"]["status"], "Executed", "{out}");
    let committee = json_of(&banyan(&["gov", "committee", "--rpc", &url, "--json"]));
    assert_eq!(
        committee["governors"].as_array().unwrap().len(),
        2,
        "{committee}"
    );
    assert_eq!(committee["epoch"], 1);
    // The dev governor holds every role from genesis; the grant added the second issuer.
    let issuers: Vec<String> = committee["roles"]["issuer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(
        issuers,
        [
            common::address_of(&common::dev_key(0))
                .to_string()
                .to_lowercase(),
            c.to_lowercase()
        ]
    );
    let list = json_of(&banyan(&["gov", "list", "--rpc", &url, "--json"]));
    assert_eq!(list["total"], 2);
    assert_eq!(list["proposals"][0]["kind"], "grant-role");
    assert_eq!(list["proposals"][1]["kind"], "add-governor");
}

/// Every permission refusal reaches the sender with the reason, at submission: a frozen
/// account's transfer, a creation by a non-deployer while deploy permission is on, a call to a
/// function its contract's admin closed; and each switch goes both ways by proposal.
#[test]
fn permission_refusals_reach_the_sender_with_the_reason() {
    use alloy_sol_types::SolCall;
    use banyan_modules::{GOVERNANCE_ADDRESS, IGovernance};

    let node = DevNode::start(common::bin(), &[]).unwrap();
    let url = node.url();
    let rpc = node.rpc();
    let key0 = common::dev_key(0).to_hex();
    let account = |i: usize| common::address_of(&common::dev_key(i));
    let ok = |args: &[&str]| -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rpc", &url, "--key", &key0, "--json"]);
        let out = banyan(&all);
        assert!(
            out.status.success(),
            "banyan {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["proposal"]["status"], "Executed", "{v}");
        v
    };
    let nonce = |i: usize| {
        rpc.quantity("eth_getTransactionCount", json!([account(i), "pending"]))
            .unwrap()
    };
    let send = |i: usize, to: Option<Address>, data: Vec<u8>| -> Result<String, String> {
        let raw = common::signed(
            &common::dev_key(i),
            common::CHAIN_ID,
            nonce(i),
            to,
            U256::ZERO,
            data,
            500_000,
        );
        match rpc.call("eth_sendRawTransaction", json!([raw])) {
            Ok(hash) => {
                let hash = hash.as_str().unwrap().to_string();
                rpc.wait_receipt(&hash, Duration::from_secs(30)).unwrap();
                Ok(hash)
            }
            Err(e) => Err(e.to_string()),
        }
    };

    // A frozen account cannot send; unfrozen, it can.
    let frozen = account(3).to_string();
    let v = ok(&["account", "freeze", &frozen]);
    let id = v["proposal"]["id"].as_u64().unwrap();
    let err = send(3, Some(account(4)), vec![]).unwrap_err();
    assert!(
        err.contains(&format!(
            "account {frozen} is frozen by governance proposal {id}, so it cannot send"
        )),
        "{err}"
    );
    ok(&["account", "unfreeze", &frozen]);
    send(3, Some(account(4)), vec![]).unwrap();

    // Deploy permission on: account 2 (no role) is refused, account 0 (every role on a dev
    // chain) deploys.
    let init = vec![
        0x60, 0x01, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x01, 0x60, 0x00, 0xf3, 0x00,
    ];
    ok(&["gov", "propose", "set-permission", "deploy", "on"]);
    let err = send(2, None, init.clone()).unwrap_err();
    assert!(
        err.contains("only a `deployer` may create contracts while deploy permission is on")
            && err.contains("banyan gov propose grant-role"),
        "{err}"
    );
    let creator_nonce = nonce(0);
    send(0, None, init.clone()).unwrap();
    let contract = account(0).create(creator_nonce);

    // Method permission: account 0 claims the contract and lists only account 1 for a function.
    let selector = [0x12, 0x34, 0x56, 0x78];
    for call in [
        IGovernance::claimContractAdminCall {
            target: contract,
            nonce: creator_nonce,
        }
        .abi_encode(),
        IGovernance::setMethodAccessCall {
            target: contract,
            selector: selector.into(),
            access: IGovernance::Access::AllowList,
        }
        .abi_encode(),
        IGovernance::setMethodAccountCall {
            target: contract,
            selector: selector.into(),
            account: account(1),
            listed: true,
        }
        .abi_encode(),
    ] {
        send(0, Some(GOVERNANCE_ADDRESS), call).unwrap();
    }
    send(2, Some(contract), selector.to_vec()).unwrap();
    ok(&["gov", "propose", "set-permission", "method", "on"]);
    let err = send(2, Some(contract), selector.to_vec()).unwrap_err();
    assert!(
        err.contains(&format!(
            "{} may not call function 0x12345678 of contract {contract}",
            account(2)
        )),
        "{err}"
    );
    send(1, Some(contract), selector.to_vec()).unwrap();
    let estimate = rpc
        .call(
            "eth_estimateGas",
            json!([{"from": account(2), "to": contract, "data": "0x12345678"}]),
        )
        .unwrap_err()
        .to_string();
    assert!(
        estimate.contains("may not call function 0x12345678"),
        "{estimate}"
    );

    // Both switches off again: everyone may deploy and call.
    ok(&["gov", "propose", "set-permission", "method", "off"]);
    ok(&["gov", "propose", "set-permission", "deploy", "off"]);
    send(2, Some(contract), selector.to_vec()).unwrap();
    send(2, None, init).unwrap();
    let roles = banyan(&["role", "list", "deployer", "--rpc", &url, "--json"]);
    let roles: serde_json::Value = serde_json::from_slice(&roles.stdout).unwrap();
    assert_eq!(
        roles["deployer"][0].as_str().unwrap().to_lowercase(),
        account(0).to_string().to_lowercase()
    );
}

/// A 2-of-3 wallet on `banyan dev` is admitted as a governor and acts only with two owners'
/// approvals; one approval short, execution is refused with the count; the audit trail shows
/// the wallet's steps.
#[test]
fn a_multisig_wallet_governs_with_two_of_three_approvals() {
    use alloy_sol_types::SolCall;
    use banyan_modules::{IMultisig, MULTISIG_ADDRESS};

    let node = DevNode::start(common::bin(), &[]).unwrap();
    let url = node.url();
    let run = |who: usize, args: &[&str]| -> (bool, serde_json::Value, String) {
        let key = common::dev_key(who).to_hex();
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rpc", &url, "--key", &key, "--json"]);
        let out = banyan(&all);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let json = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
        (out.status.success(), json, format!("{stdout}{stderr}"))
    };
    let owner = |i: usize| common::address_of(&common::dev_key(i)).to_string();
    let (ok, created, text) = run(
        1,
        &[
            "multisig",
            "create",
            "--owner",
            &owner(1),
            "--owner",
            &owner(2),
            "--owner",
            &owner(3),
            "--threshold",
            "2",
        ],
    );
    assert!(ok, "{text}");
    let wallet = created["wallet"].as_str().unwrap().to_string();
    let (ok, _, text) = run(0, &["gov", "propose", "add-governor", &wallet]);
    assert!(ok, "{text}");

    // Owner 1 proposes, as the wallet, granting the issuer role to account 5.
    let x = owner(5);
    let (ok, _, text) = run(
        1,
        &[
            "gov",
            "propose",
            "grant-role",
            &x,
            "issuer",
            "--multisig",
            &wallet,
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("proposed as operation 1 of wallet"), "{text}");
    let show = banyan(&["multisig", "show", "1", "--rpc", &url, "--json"]);
    let op: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        (op["status"].as_str(), op["approvals"].as_u64()),
        (Some("Pending"), Some(1))
    );
    // Executing it one approval short is refused with the count.
    let execute = format!(
        "0x{}",
        hex::encode(IMultisig::executeCall { id: 1 }.abi_encode())
    );
    let (ok, _, text) = run(
        3,
        &[
            "tx",
            "send",
            "--to",
            &MULTISIG_ADDRESS.to_string(),
            "--data",
            &execute,
        ],
    );
    assert!(!ok);
    assert!(
        text.contains("operation 1 has 1 of the 2 approvals it needs"),
        "{text}"
    );

    // Owner 2's approval executes it: Governance now has a proposal made by the wallet.
    let (ok, approved, text) = run(2, &["multisig", "approve", "1"]);
    assert!(ok, "{text}");
    assert_eq!(approved["operation"]["status"], "Executed", "{approved}");
    let proposal = banyan(&["gov", "show", "2", "--rpc", &url, "--json"]);
    let proposal: serde_json::Value = serde_json::from_slice(&proposal.stdout).unwrap();
    assert_eq!(
        proposal["creator"].as_str().unwrap().to_lowercase(),
        wallet.to_lowercase()
    );
    assert_eq!(
        proposal["status"], "Open",
        "the wallet is one of two governors"
    );
    let (ok, voted, text) = run(0, &["gov", "vote", "2", "yes"]);
    assert!(ok, "{text}");
    assert_eq!(voted["proposal"]["status"], "Executed", "{voted}");

    // The liveness guard also sees a set change made through the wallet: the approval that
    // would have the wallet's vote pass a validator of power 2 beside the dev chain's one
    // validator (1 of 3 running) is refused at submission.
    let ghost = banyan_crypto::Suite::Ecdsa.generate_secret();
    let ghost = format!(
        "0x{}",
        hex::encode(
            banyan_crypto::Suite::Ecdsa
                .public_key(&ghost)
                .unwrap()
                .to_bytes()
        )
    );
    let (ok, made, text) = run(
        0,
        &["gov", "propose", "add-validator", &ghost, "--power", "2"],
    );
    assert!(ok, "{text}");
    assert_eq!(made["proposal"]["status"], "Open", "{made}");
    let id = made["proposal"]["id"].as_u64().unwrap().to_string();
    let (ok, _, text) = run(1, &["gov", "vote", &id, "yes", "--multisig", &wallet]);
    assert!(ok, "{text}");
    let op = text
        .split("proposed as operation ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no operation id in {text}"))
        .to_string();
    let (ok, _, text) = run(2, &["multisig", "approve", &op]);
    assert!(!ok, "{text}");
    assert!(text.contains("hold 1 of its 3 voting power"), "{text}");

    let out = banyan(&["audit", "export", "--format", "json", "--rpc", &url]);
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let events: Vec<&str> = entries.iter().filter_map(|e| e["event"].as_str()).collect();
    for expected in [
        "wallet-created",
        "operation-proposed",
        "operation-approved",
        "operation-executed",
        "role-granted",
    ] {
        assert!(
            events.contains(&expected),
            "{expected} missing from {events:?}"
        );
    }
}
