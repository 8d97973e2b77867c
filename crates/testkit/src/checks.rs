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
    if let Err(e) = money_conserved(rpc, genesis, others) {
        panic!("{e}");
    }
}

/// [`check_money_conserved`] that answers instead of panicking: `Err` says what differs.
pub fn money_conserved(
    rpc: &RpcClient,
    genesis: &Genesis,
    others: &[Address],
) -> Result<(), String> {
    let mut accounts: BTreeSet<Address> = genesis.alloc.keys().copied().collect();
    accounts.extend(genesis.validators.iter().map(|v| v.address));
    accounts.extend(others.iter().copied());
    let block = head(rpc).ok_or("the node does not answer")?;
    let tag = format!("0x{block:x}");
    let mut total = U256::ZERO;
    for account in &accounts {
        let balance = rpc
            .call("eth_getBalance", json!([format!("{account}"), tag]))
            .map_err(|e| format!("balance of {account}: {e}"))?;
        let balance: U256 =
            serde_json::from_value(balance).map_err(|e| format!("balance of {account}: {e}"))?;
        total += balance;
    }
    if total != genesis.total_supply() {
        return Err(format!(
            "at block {block} the {} accounts hold {total}, genesis minted {}",
            accounts.len(),
            genesis.total_supply()
        ));
    }
    Ok(())
}

/// A `suite:hex` key file as `banyan init` writes it (funded accounts, validators): the key and
/// its address in its suite.
pub fn key_file(path: &std::path::Path) -> anyhow::Result<(banyan_crypto::SecretKey, Address)> {
    use anyhow::{Context, anyhow};
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (suite, hex) = text
        .trim()
        .split_once(':')
        .ok_or_else(|| anyhow!("{} is not suite:hex", path.display()))?;
    let suite: banyan_crypto::Suite = suite
        .parse()
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let key =
        banyan_crypto::SecretKey::from_hex(hex).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let public = suite
        .public_key(&key)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok((key, suite.address(&public)))
}

/// The funded account `dev{i}` of the network (`accounts/dev{i}.key`): its key and address.
pub fn account(net: &TestNet, i: usize) -> anyhow::Result<(banyan_crypto::SecretKey, Address)> {
    key_file(&net.dir.join(format!("accounts/dev{i}.key")))
}

/// Node `k`'s validator address, lowercase, from its `validator.key` (`suite:hex`).
pub fn validator_address(net: &TestNet, k: usize) -> String {
    let (_, address) = key_file(&net.dir.join(format!("node{k}/validator.key")))
        .unwrap_or_else(|e| panic!("{e:#}"));
    format!("{address}").to_lowercase()
}

/// What each validator was seen to sign: `(validator, kind, height, round) -> values`, from
/// every "Received vote" line of the engine (logged at `info`) in the nodes' logs. With
/// `sent_only`, a node's own votes in its own log are left out: what counts is what reached a
/// peer (a vote the safety guard held back was never sent).
pub fn votes_in_logs(net: &TestNet, sent_only: bool) -> BTreeMap<VoteSlot, BTreeSet<String>> {
    let mut votes: BTreeMap<VoteSlot, BTreeSet<String>> = BTreeMap::new();
    for (k, node) in net.nodes.iter().enumerate() {
        let own = sent_only.then(|| validator_address(net, k));
        for line in node
            .log_text()
            .lines()
            .filter(|l| l.contains("Received vote"))
        {
            let Some(msg) = line.split("vote.msg=").nth(1) else {
                continue;
            };
            let Some((kind, rest)) = msg.split_once('(') else {
                continue;
            };
            let body = rest.split(')').next().unwrap_or_default();
            let field = |name: &str| {
                body.split(", ")
                    .find_map(|f| f.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_default()
                    .to_string()
            };
            let from = field("from").to_lowercase();
            if own.as_deref() == Some(from.as_str()) {
                continue;
            }
            let (Ok(height), Ok(round)) = (field("height").parse(), field("round").parse()) else {
                continue;
            };
            let slot = VoteSlot {
                validator: from,
                kind: kind.to_string(),
                height,
                round,
            };
            votes.entry(slot).or_default().insert(field("value"));
        }
    }
    votes
}

/// One vote a validator may sign once: its address, the kind (`Prevote`, `Precommit`), height
/// and round.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VoteSlot {
    /// The validator's address, lowercase.
    pub validator: String,
    /// The vote's kind as the engine logs it.
    pub kind: String,
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u64,
}

/// Slots where a validator was seen signing more than one value (a double sign), each with
/// the values.
pub fn conflicting_votes(
    votes: &BTreeMap<VoteSlot, BTreeSet<String>>,
) -> Vec<(VoteSlot, BTreeSet<String>)> {
    votes
        .iter()
        .filter(|(_, values)| values.len() > 1)
        .map(|(slot, values)| (slot.clone(), values.clone()))
        .collect()
}

/// One node's chain as [`chain_of`] reads it: per height from 0, the block hash and the
/// hashes of its transactions.
pub type Chain = Vec<(B256, Vec<B256>)>;

/// Each listed node's blocks from 0 to `up_to`: hash and transaction hashes per height, read
/// with `eth_getBlockByNumber`.
pub fn chain_of(rpc: &RpcClient, up_to: u64) -> Result<Chain, String> {
    (0..=up_to)
        .map(|height| {
            let block = rpc
                .call(
                    "eth_getBlockByNumber",
                    json!([format!("0x{height:x}"), false]),
                )
                .map_err(|e| format!("block {height}: {e}"))?;
            let hash: B256 = serde_json::from_value(block["hash"].clone())
                .map_err(|e| format!("block {height} has no hash: {e}"))?;
            let txs: Vec<B256> = serde_json::from_value(block["transactions"].clone())
                .map_err(|e| format!("block {height} has no transaction list: {e}"))?;
            Ok((hash, txs))
        })
        .collect()
}

/// What differs between chains read with [`chain_of`] (one per node, labelled): a height with
/// two hashes (a fork), an `acked` transaction missing from a chain or in different blocks, a
/// transaction committed twice on one chain. Empty when they agree.
pub fn chain_violations(chains: &[(String, Chain)], acked: &[B256]) -> Vec<String> {
    let mut out = Vec::new();
    let common = chains.iter().map(|(_, c)| c.len()).min().unwrap_or(0);
    for height in 0..common {
        let hashes: BTreeSet<B256> = chains.iter().map(|(_, c)| c[height].0).collect();
        if hashes.len() > 1 {
            let by_node: Vec<String> = chains
                .iter()
                .map(|(name, c)| format!("{name} {}", c[height].0))
                .collect();
            out.push(format!("fork at height {height}: {}", by_node.join(", ")));
        }
    }
    let mut placed: Vec<(&str, BTreeMap<B256, Vec<B256>>)> = Vec::new();
    for (name, chain) in chains {
        let mut at: BTreeMap<B256, Vec<B256>> = BTreeMap::new();
        for (block, txs) in chain {
            for tx in txs {
                at.entry(*tx).or_default().push(*block);
            }
        }
        for (tx, blocks) in &at {
            if blocks.len() > 1 {
                out.push(format!("{name} committed {tx} {} times", blocks.len()));
            }
        }
        placed.push((name, at));
    }
    for tx in acked {
        let blocks: Vec<(&str, Option<B256>)> = placed
            .iter()
            .map(|(name, at)| (*name, at.get(tx).and_then(|b| b.first().copied())))
            .collect();
        let missing: Vec<&str> = blocks
            .iter()
            .filter(|(_, b)| b.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            out.push(format!("acknowledged {tx} is not committed on {missing:?}"));
            continue;
        }
        let distinct: BTreeSet<B256> = blocks.iter().filter_map(|(_, b)| *b).collect();
        if distinct.len() > 1 {
            out.push(format!(
                "acknowledged {tx} is in different blocks: {blocks:?}"
            ));
        }
    }
    out
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
