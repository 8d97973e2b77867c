//! Governance on a real network of 4 validators from `banyan init` (each institution's account a
//! governor of weight 1, so 3 votes of 4 pass a proposal): a validator added by proposal votes
//! from two blocks after it passes and the chain keeps committing; a removed validator's votes
//! stop counting and it proposes no more blocks; every node switches at the documented height;
//! a node that syncs from genesis replays the changes to the same sets; a change that would
//! leave the next set without a running quorum is refused at submission with the reason; chain
//! parameters (block gas limit, pace, pool limit) apply from the next block on every node; a
//! node certificate revoked by proposal is refused by every node; a keyed payment sent twice,
//! through two nodes, moves money once and reports the same payment both times.

use crate::common::banyan;
use alloy_primitives::Address;
use banyan_testkit::checks::{self, validator_set, wait_height, wait_until};
use banyan_testkit::{RpcClient, TestNet};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);

/// `banyan gov <args> --rpc <node k> --key-file accounts/dev<who>.key --json`: its JSON. The
/// scenario sends everything through node 0: a transaction right after another through a
/// different node could be estimated on a head one block behind.
fn gov(net: &TestNet, who: usize, node: usize, args: &[&str]) -> Result<Value, String> {
    let key = net.dir.join(format!("accounts/dev{who}.key"));
    let url = net.nodes[node].url();
    let mut all = vec!["gov"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--rpc", &url, "--key-file", key.to_str().unwrap(), "--json"]);
    let out = banyan(&all);
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Proposes with governor 0 and votes yes with governors 1 and 2: returns the block of the
/// deciding vote, after checking the proposal executed there.
fn pass(net: &TestNet, proposal: &[&str]) -> u64 {
    pass_id(net, proposal).1
}

/// [`pass`], also returning the proposal's id.
fn pass_id(net: &TestNet, proposal: &[&str]) -> (String, u64) {
    let mut args = vec!["propose"];
    args.extend_from_slice(proposal);
    let made = gov(net, 0, 0, &args).unwrap();
    assert_eq!(made["proposal"]["status"], "Open", "{made}");
    let id = made["proposal"]["id"].as_u64().unwrap().to_string();
    let second = gov(net, 1, 0, &["vote", &id, "yes"]).unwrap();
    // Two of four is below both thresholds in this scenario (6667, then 7500 basis points).
    assert_eq!(second["proposal"]["status"], "Open", "{second}");
    let decided = gov(net, 2, 0, &["vote", &id, "yes"]).unwrap();
    assert_eq!(decided["proposal"]["status"], "Executed", "{decided}");
    (id, decided["block"].as_u64().unwrap())
}

fn public_key(path: &Path) -> (Address, String) {
    let out = banyan(&["account", "show", path.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["address"].as_str().unwrap().parse().unwrap(),
        v["publicKey"].as_str().unwrap().to_string(),
    )
}

fn members(rpc: &RpcClient, height: u64) -> Vec<Address> {
    let mut set: Vec<Address> = validator_set(rpc, height)
        .iter()
        .map(|v| v.address)
        .collect();
    set.sort();
    set
}

fn signers(rpc: &RpcClient, height: u64) -> Vec<Address> {
    checks::certificate(rpc, height)
        .signatures
        .iter()
        .map(|s| s.validator)
        .collect()
}

fn gas_limit(rpc: &RpcClient, height: u64) -> u64 {
    let block = rpc
        .call(
            "eth_getBlockByNumber",
            json!([format!("{height:#x}"), false]),
        )
        .unwrap();
    banyan_testkit::parse_quantity(&block["gasLimit"]).unwrap()
}

fn proposer(rpc: &RpcClient, height: u64) -> Address {
    let block = rpc
        .call(
            "eth_getBlockByNumber",
            json!([format!("{height:#x}"), false]),
        )
        .unwrap();
    block["miner"].as_str().unwrap().parse().unwrap()
}

#[test]
fn validators_join_and_leave_by_proposal_at_the_documented_height() {
    let bin = crate::common::bin();
    let mut net = TestNet::init(bin, 4, "ecdsa", &["--observers", "1"]).unwrap();
    // Node 4 runs with a validator's role but a key outside the genesis set: it follows the
    // chain until a proposal adds it.
    let config = net.config_path(4);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("role = \"observer\"", "role = \"validator\""),
    )
    .unwrap();
    let all = [0, 1, 2, 3, 4];
    net.start_nodes(&all).unwrap();
    wait_height(&net, &all, 2, WAIT);
    let genesis = checks::genesis(&net);
    let mut four: Vec<Address> = genesis.validators.iter().map(|v| v.address).collect();
    four.sort();
    let (new, new_key) = public_key(&net.dir.join("node4/observer.key"));

    // A change whose next set would have no running quorum is refused at submission: a key
    // with no node behind it, at power 2, would leave the 4 running validators 4 of 6.
    let ghost = banyan_crypto::Suite::Ecdsa.generate_secret();
    let ghost_key = format!(
        "0x{}",
        alloy_primitives::hex::encode(
            banyan_crypto::Suite::Ecdsa
                .public_key(&ghost)
                .unwrap()
                .to_bytes()
        )
    );
    let made = gov(
        &net,
        0,
        0,
        &["propose", "add-validator", &ghost_key, "--power", "2"],
    )
    .unwrap();
    let ghost_id = made["proposal"]["id"].as_u64().unwrap().to_string();
    gov(&net, 1, 0, &["vote", &ghost_id, "yes"]).unwrap();
    let refused = gov(&net, 2, 0, &["vote", &ghost_id, "yes"]).unwrap_err();
    assert!(
        refused.contains("hold 4 of its 6 voting power")
            && refused.contains("more than two thirds are needed"),
        "{refused}"
    );
    gov(&net, 0, 0, &["cancel", &ghost_id]).unwrap();

    // The committee's rules, on the network. An open proposal made under the old rules is
    // superseded when new ones pass; with 7500 basis points, 3 of 4 equal governors is exactly
    // the threshold (passes) and 2 of 4 one weight short (does not).
    let x = crate::common::address_of(&crate::common::dev_key(9)).to_string();
    let older = gov(&net, 3, 0, &["propose", "grant-role", &x, "auditor"]).unwrap();
    let older = older["proposal"]["id"].as_u64().unwrap().to_string();
    let rules = [
        "set-rules",
        "--participation-bps",
        "7500",
        "--approval-bps",
        "7500",
        "--default-period",
        "86400",
    ];
    let rules_block = pass(&net, &rules);
    let older_status = banyan(&[
        "gov",
        "show",
        &older,
        "--rpc",
        &net.nodes[0].url(),
        "--json",
    ]);
    let older_status: Value = serde_json::from_slice(&older_status.stdout).unwrap();
    assert_eq!(older_status["status"], "Superseded", "{older_status}");
    // Executed once: a later vote is refused.
    let count = banyan(&["gov", "list", "--rpc", &net.nodes[0].url(), "--json"]);
    let count: Value = serde_json::from_slice(&count.stdout).unwrap();
    let rules_id = count["proposals"][0]["id"].as_u64().unwrap().to_string();
    let late = gov(&net, 3, 0, &["vote", &rules_id, "yes"]).unwrap_err();
    assert!(late.contains("is closed: Executed"), "{late}");
    // Expired: a proposal open for 2 blocks cannot pass after them.
    let short = gov(
        &net,
        0,
        0,
        &[
            "propose",
            "grant-role",
            &x,
            "regulator",
            "--voting-period",
            "2",
        ],
    )
    .unwrap();
    let expires = short["proposal"]["expiresAt"].as_u64().unwrap();
    let short = short["proposal"]["id"].as_u64().unwrap().to_string();
    wait_height(&net, &[0], expires + 1, WAIT);
    let late = gov(&net, 1, 0, &["vote", &short, "yes"]).unwrap_err();
    assert!(late.contains("closed at its expiry"), "{late}");
    // Failed: two grants of one role; the second to pass finds it held, and blocks go on.
    let first = gov(&net, 0, 0, &["propose", "grant-role", &x, "issuer"]).unwrap();
    let first = first["proposal"]["id"].as_u64().unwrap().to_string();
    let again = gov(&net, 1, 0, &["propose", "grant-role", &x, "issuer"]).unwrap();
    let again = again["proposal"]["id"].as_u64().unwrap().to_string();
    for who in [1, 2] {
        gov(&net, who, 0, &["vote", &first, "yes"]).unwrap();
    }
    gov(&net, 0, 0, &["vote", &again, "yes"]).unwrap();
    let failed = gov(&net, 2, 0, &["vote", &again, "yes"]).unwrap();
    assert_eq!(failed["proposal"]["status"], "Failed", "{failed}");
    assert!(
        failed["proposal"]["reason"]
            .as_str()
            .unwrap()
            .contains("already holds the role issuer"),
        "{failed}"
    );
    let failed_at = failed["block"].as_u64().unwrap();
    wait_height(&net, &all, failed_at.max(rules_block) + 3, WAIT);

    // Node 4 joins: from B + 2 on it is in the set on every node, and it signs certificates.
    let (added_id, added) = pass_id(
        &net,
        &["add-validator", &new_key, "--description", "bank E joins"],
    );
    wait_height(&net, &all, added + 6, WAIT);
    let mut five = four.clone();
    five.push(new);
    five.sort();
    for node in &net.nodes {
        let rpc = node.rpc();
        assert_eq!(members(&rpc, added + 1), four, "block {} set", added + 1);
        assert_eq!(members(&rpc, added + 2), five, "block {} set", added + 2);
    }
    let rpc = net.nodes[0].rpc();
    assert!(
        !signers(&rpc, added + 1).contains(&new),
        "node 4 signed block {} before its set decided",
        added + 1
    );
    wait_until(WAIT, || {
        let head = checks::head(&rpc).unwrap_or_default();
        if (added + 2..=head).any(|h| signers(&rpc, h).contains(&new)) {
            Ok(())
        } else {
            Err(format!(
                "node 4 signed no certificate of blocks {}..={head}",
                added + 2
            ))
        }
    });

    // Node 0 leaves: from R + 2 on its votes do not count and it proposes nothing.
    let removed_validator = genesis.validators[0].address;
    let (removed_id, removed) =
        pass_id(&net, &["remove-validator", &removed_validator.to_string()]);
    wait_height(&net, &[1, 2, 3, 4], removed + 8, WAIT);
    let mut after: Vec<Address> = five
        .iter()
        .copied()
        .filter(|a| *a != removed_validator)
        .collect();
    after.sort();
    let rpc = net.nodes[1].rpc();
    assert_eq!(members(&rpc, removed + 1), five);
    assert_eq!(members(&rpc, removed + 2), after);
    for h in removed + 2..=removed + 8 {
        assert!(
            !signers(&rpc, h).contains(&removed_validator),
            "the removed validator's vote counted in block {h}"
        );
        assert_ne!(
            proposer(&rpc, h),
            removed_validator,
            "the removed validator proposed block {h}"
        );
    }
    let common = checks::check_agreement(&net, &all, 1);
    assert!(common >= removed + 8);

    // Chain parameters set by proposal apply from the next block, on every node: the block gas
    // limit in every header, the pace of heights, each pool's per-account limit.
    let gas_set = pass(&net, &["set-parameter", "block-gas-limit", "20000000"]);
    pass(&net, &["set-parameter", "txpool-max-per-account", "8"]);
    let paced = pass(&net, &["set-parameter", "block-interval-ms", "3000"]);
    wait_height(&net, &[1, 2, 3, 4], paced + 2, WAIT);
    for k in 1..5 {
        let rpc = net.nodes[k].rpc();
        assert_eq!(
            gas_limit(&rpc, gas_set),
            120_000_000,
            "node {k}, block {gas_set}"
        );
        assert_eq!(
            gas_limit(&rpc, gas_set + 1),
            20_000_000,
            "node {k}, block {}",
            gas_set + 1
        );
    }
    let rpc = net.nodes[1].rpc();
    let start = checks::head(&rpc).unwrap();
    std::thread::sleep(Duration::from_secs(6));
    let made = checks::head(&rpc).unwrap() - start;
    // At the configured 1 s pace this would be about 6.
    assert!(made <= 3, "{made} blocks in 6 s at a 3 s pace");
    let key = crate::common::dev_key(7);
    let mut refused = None;
    for nonce in 0..20u64 {
        let raw = crate::common::signed(
            &key,
            genesis.chain_id,
            nonce,
            Some(Address::repeat_byte(0x77)),
            alloy_primitives::U256::from(1),
            vec![],
            21_000,
        );
        if let Err(e) = rpc.call("eth_sendRawTransaction", json!([raw])) {
            refused = Some((nonce, e.to_string()));
            break;
        }
    }
    let (nonce, message) = refused.expect("the pool took 20 transactions from one account");
    assert!(nonce >= 8, "refused at nonce {nonce}: {message}");
    assert!(
        message.contains("already has 8 pending transactions"),
        "{message}"
    );
    pass(&net, &["set-parameter", "block-interval-ms", "0"]);

    // A node syncing from genesis replays both changes to the same sets, and every block after
    // (it waits past the head before the wipe: the gas limit changed after `common`).
    let head = banyan_testkit::parse_quantity(
        &net.nodes[1]
            .rpc()
            .call("eth_blockNumber", json!([]))
            .unwrap(),
    )
    .unwrap();
    net.nodes[0].stop(Duration::from_secs(20)).unwrap();
    std::fs::remove_dir_all(net.dir.join("node0/data")).unwrap();
    net.nodes[0].start_process().unwrap();
    wait_height(&net, &all, head.max(common) + 1, Duration::from_secs(300));
    let synced = net.nodes[0].rpc();
    for h in [added + 1, added + 2, removed + 1, removed + 2, common] {
        assert_eq!(members(&synced, h), members(&rpc, h), "set of block {h}");
    }
    assert_eq!(gas_limit(&synced, gas_set + 1), 20_000_000);
    checks::check_agreement(&net, &all, 1);

    // Node 4's certificate revoked by proposal: every node drops it and refuses it again, so
    // node 4 falls behind while the three other validators go on.
    let cert = net.dir.join("node4/tls/node.crt");
    let revoked = pass(
        &net,
        &["revoke-certificate", "--cert", cert.to_str().unwrap()],
    );
    wait_height(&net, &[1, 2, 3], revoked + 10, WAIT);
    let cut_off = checks::head(&net.nodes[4].rpc()).unwrap();
    assert!(
        cut_off <= revoked + 4,
        "node 4 reached block {cut_off}, {} after its certificate was revoked",
        cut_off - revoked
    );
    let log = net.nodes[1].log_text();
    assert!(
        log.contains("certificate is revoked by the chain: disconnecting it")
            || log.contains("is revoked by the chain's governance"),
        "node 1's log does not mention the revocation"
    );

    // The audit trail lists every action above in order, with who acted and where; the CSV
    // export is a table with one header and rows of the same width.
    let out = banyan(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--rpc",
        &net.nodes[1].url(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<String>> = text.lines().map(csv_fields).collect();
    assert_eq!(
        rows[0].join(","),
        "block,timestamp,transaction,log_index,event,proposal,actor,subject,details"
    );
    assert!(rows.iter().all(|r| r.len() == 9), "{text}");
    let governor = |i: usize| {
        let (address, _) = public_key(&net.dir.join(format!("accounts/dev{i}.key")));
        address.to_string().to_lowercase()
    };
    let of = |id: &str| -> Vec<(u64, String, String)> {
        rows[1..]
            .iter()
            .filter(|r| r[5] == id)
            .map(|r| (r[0].parse().unwrap(), r[4].clone(), r[6].to_lowercase()))
            .collect()
    };
    // The cancelled change, the addition and the removal.
    let cancelled = of(&ghost_id);
    assert_eq!(
        cancelled
            .iter()
            .map(|(_, e, _)| e.as_str())
            .collect::<Vec<_>>(),
        ["proposal-created", "vote", "vote", "proposal-cancelled"],
        "{text}"
    );
    let add = of(&added_id);
    let events: Vec<_> = add
        .iter()
        .map(|(_, e, a)| (e.as_str(), a.clone()))
        .collect();
    assert_eq!(
        events,
        [
            ("proposal-created", governor(0)),
            ("vote", governor(0)),
            ("vote", governor(1)),
            ("vote", governor(2)),
            ("validator-set-changed", governor(2)),
            ("proposal-executed", governor(2)),
        ],
        "{text}"
    );
    assert_eq!(add.last().unwrap().0, added);
    assert!(add.windows(2).all(|w| w[0].0 <= w[1].0));
    let remove = of(&removed_id);
    assert_eq!(remove.last().unwrap().0, removed);
    let blocks: Vec<u64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(blocks.windows(2).all(|w| w[0] <= w[1]), "rows out of order");
    let json_out = banyan(&[
        "audit",
        "export",
        "--format",
        "json",
        "--rpc",
        &net.nodes[1].url(),
    ]);
    let entries: Vec<Value> = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(entries.len(), rows.len() - 1);

    // Idempotency across nodes: the committee makes account 3 an issuer; it registers USD and
    // mints to account 1, who sends the same keyed payment twice, once through node 1 and once
    // through node 2. The money moves once and both submissions report the same payment.
    let issuer = governor(3);
    pass(&net, &["grant-role", &issuer, "issuer"]);
    let send = |who: usize, node: usize, args: &[&str]| -> Value {
        let key = net.dir.join(format!("accounts/dev{who}.key"));
        let url = net.nodes[node].url();
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rpc", &url, "--key-file", key.to_str().unwrap(), "--json"]);
        let out = banyan(&all);
        assert!(
            out.status.success(),
            "banyan {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let registered = send(3, 1, &["currency", "register", "USD", "--decimals", "2"]);
    assert!(registered["token"].is_string(), "{registered}");
    let (alice, bob) = (governor(1), governor(2));
    let minted = send(3, 1, &["currency", "mint", "USD", "500.00", "--to", &alice]);
    let pay = [
        "pay",
        "send",
        "USD",
        "120.00",
        "--to",
        &bob,
        "--remittance",
        "invoice 7",
        "--idempotency-key",
        "invoice-7",
    ];
    let first = send(1, 1, &pay);
    // Node 2 estimates and signs on its own head: let it reach the first payment's block.
    let paid_at = first["block"].as_u64().unwrap();
    wait_height(&net, &[2], paid_at, WAIT);
    let second = send(1, 2, &pay);
    assert!(second["block"].as_u64().unwrap() > paid_at, "{second}");
    assert_eq!(
        first["payment"]["paymentId"], second["payment"]["paymentId"],
        "{first} {second}"
    );
    assert_eq!(second["payment"]["replayed"], true, "{second}");
    assert!(minted["status"] == "success", "{minted}");
    let reader = net.nodes[3].rpc();
    wait_height(&net, &[3], second["block"].as_u64().unwrap(), WAIT);
    let balance = reader
        .call("banyan_paymentsBalance", json!(["USD", bob]))
        .unwrap();
    assert_eq!(balance["balance"], "12000", "paid once: {balance}");
    let record = reader
        .call("banyan_paymentByKey", json!([alice, "invoice-7"]))
        .unwrap();
    assert_eq!(record["outcome"], "executed");
    assert_eq!(record["paymentId"], first["payment"]["paymentId"]);
}

/// One CSV line's fields (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}
