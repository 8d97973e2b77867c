//! Faults in a real consortium network of `banyan node` processes made by `banyan init`:
//!
//! - a node holding a certificate from another chain's CA, and a node whose certificate the
//!   chain CRL revokes, are refused with one log line that says exactly why (on the side that
//!   checks the certificate: in TLS 1.3 the dialer checks the listener's first), are never
//!   counted as peers, and do not stop the others from committing;
//! - a validator cut off from the other three by a network partition (TCP proxies between every
//!   ordered pair of nodes) falls behind while the three keep committing, and catches up to the
//!   head once the partition heals.
//!
//! After each scenario the honest nodes must hold the same block hash at every height, and
//! every block's commit certificate must verify against the genesis validator set.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::common::bin;
use banyan_network::{ChainCa, Crl, NodeIdentity, PeerIdentity, SubjectAltName, Validity};
use banyan_testkit::checks::{
    check_agreement, head, metric, metrics_text, tail_logs, wait_height, wait_until,
};
use banyan_testkit::{PartitionProxy, TestNet};

/// Each test runs 4 or 5 node processes; on a small machine two such tests at once starve each
/// other's consensus timeouts, so they take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Fast heights: a block every 100 ms, and a missing proposer costs 1 s rather than 3.
fn fast_blocks(net: &TestNet) {
    net.set_consensus("target_block_ms", "100").unwrap();
    net.set_consensus("timeout_propose_ms", "1000").unwrap();
}

fn heads(net: &TestNet, nodes: &[usize]) -> Vec<Option<u64>> {
    nodes.iter().map(|&i| head(&net.nodes[i].rpc())).collect()
}

/// Waits until node `k`'s log has a line containing every one of `parts`; returns that line.
fn wait_log_line(net: &TestNet, k: usize, parts: &[&str], timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let text = net.nodes[k].log_text();
        if let Some(line) = text.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
            return line.to_string();
        }
        assert!(
            start.elapsed() < timeout,
            "node{k}'s log has no line with all of {parts:?} within {timeout:?}; log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The lines of node `k`'s log that record an admitted peer connection: the consensus layer's
/// `connected to peer <name> (…)`, the dialer's `connected to peer <addr>: <identity>` and the
/// listener's `peer <addr> admitted: <identity>`.
fn admission_lines(net: &TestNet, k: usize) -> Vec<String> {
    net.nodes[k]
        .log_text()
        .lines()
        .filter(|l| l.contains("connected to peer") || l.contains(" admitted: "))
        .map(str::to_string)
        .collect()
}

/// The `banyan_peers` gauge of node `k` (metrics on RPC port + 1000, as `banyan init` lays out).
fn peers_gauge(net: &TestNet, k: usize) -> Option<f64> {
    metric(&metrics_text(net.nodes[k].port + 1000)?, "banyan_peers")
}

/// Waits until the `banyan_peers` gauge of each node `k` in `expected` equals its value.
fn wait_peers(net: &TestNet, expected: &[(usize, f64)], timeout: Duration) {
    let start = Instant::now();
    loop {
        let now: Vec<(usize, Option<f64>)> = expected
            .iter()
            .map(|&(k, _)| (k, peers_gauge(net, k)))
            .collect();
        if expected
            .iter()
            .zip(&now)
            .all(|((_, want), (_, got))| *got == Some(*want))
        {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "peer counts {now:?}, expected {expected:?}, within {timeout:?}\n{}",
            tail_logs(&net.nodes)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn node_identity(net: &TestNet, k: usize) -> (NodeIdentity, PeerIdentity) {
    let node = NodeIdentity::load(&net.dir.join(format!("node{k}")).join("tls")).unwrap();
    let identity = node.identity().unwrap();
    (node, identity)
}

/// How a refusal names a certificate: `CN=<name>, node id <id>, serial <serial>`.
fn cert_text(id: &PeerIdentity) -> String {
    format!(
        "CN={}, node id {}, serial {}",
        id.node_name(),
        id.node_id(),
        id.serial()
    )
}

#[test]
fn a_node_with_a_certificate_from_another_ca_is_refused_with_a_clear_log_line() {
    let _turn = one_at_a_time();
    let all = [0, 1, 2, 3];

    // --- A node of chain B (its own CA) and node0 of chain A dial each other. ---
    let mut a = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    fast_blocks(&a);
    // Another chain id gives B's CA another name: `CN=Banyan Chain CA (chain 4242), …`.
    let mut b = TestNet::init(bin(), 1, "ecdsa", &["--chain-id", "4242"]).unwrap();
    let ca_a = ChainCa::load(&a.dir.join("ca")).unwrap();
    let ca_b = ChainCa::load(&b.dir.join("ca")).unwrap();
    assert_ne!(ca_a.subject(), ca_b.subject());
    // `banyan init` names every network's first node `node0`; give B's node a name of its own
    // (same node id, B's CA) so that A's logs can be searched for it.
    let b_tls = b.dir.join("node0").join("tls");
    let (_, b_old) = node_identity(&b, 0);
    std::fs::remove_dir_all(&b_tls).unwrap();
    ca_b.issue_node_cert(
        "intruder0",
        b_old.node_id(),
        &["127.0.0.1".parse::<SubjectAltName>().unwrap()],
        Validity::days_from_now(365),
    )
    .unwrap()
    .save(&b_tls)
    .unwrap();
    let (_, b_id) = node_identity(&b, 0);
    let (_, a0_id) = node_identity(&a, 0);
    let a0 = a.p2p_addr(0).unwrap();
    let b0 = b.p2p_addr(0).unwrap();
    // B's node dials A's node0, and A's node0 has B's node in its peer list by mistake: both
    // directions are tried. In TLS 1.3 the dialer checks the listener's certificate first and
    // aborts before sending its own, so the dialer is the side that refuses.
    b.set_peers(0, &[a0]).unwrap();
    let mut a0_peers: Vec<SocketAddr> = (1..4).map(|k| a.p2p_addr(k).unwrap()).collect();
    a0_peers.push(b0);
    a.set_peers(0, &a0_peers).unwrap();

    // B first: until A listens, B holds no connection whose (ephemeral) port could be one that
    // A's nodes are about to listen on.
    b.start_nodes(&[0]).unwrap();
    a.start_nodes(&all).unwrap();
    let both_cas = |theirs: &ChainCa, ours: &ChainCa| {
        format!(
            "is signed by CA '{}', not this chain's CA '{}'",
            theirs.subject(),
            ours.subject()
        )
    };

    // A's node0 dials B's node: one line says who was refused, which CA signed its certificate
    // and which CA this chain trusts.
    let refusal = wait_log_line(
        &a,
        0,
        &[
            "WARN",
            &format!("peer {b0} refused: its certificate ({})", cert_text(&b_id)),
            &both_cas(&ca_b, &ca_a),
        ],
        Duration::from_secs(60),
    );
    eprintln!("A node0 refuses B: {refusal}");
    // ... and B's node is told so, with the alert and its meaning.
    let refused = wait_log_line(
        &b,
        0,
        &[
            "WARN",
            &format!("refused our certificate ({})", cert_text(&b_id)),
            "with TLS alert unknown_ca",
            ca_b.subject(),
        ],
        Duration::from_secs(60),
    );
    eprintln!("B node0 is refused: {refused}");

    // B's node dials A's node0: B refuses A's certificate (naming both CAs) ...
    let refusal = wait_log_line(
        &b,
        0,
        &[
            "WARN",
            &format!("peer {a0} refused: its certificate ({})", cert_text(&a0_id)),
            &both_cas(&ca_a, &ca_b),
        ],
        Duration::from_secs(60),
    );
    eprintln!("B node0 refuses A node0: {refusal}");
    // ... and A's node0, which never sees B's certificate, logs the alert it received.
    let refused = wait_log_line(
        &a,
        0,
        &[
            "WARN",
            &format!("refused our certificate ({})", cert_text(&a0_id)),
            "with TLS alert unknown_ca",
        ],
        Duration::from_secs(60),
    );
    eprintln!("A node0 is refused by B's dial: {refused}");

    // A keeps committing with B knocking on node0's door, and counts 3 peers, not 4.
    let before = heads(&a, &all).into_iter().flatten().max().unwrap_or(0);
    wait_height(&a, &all, before + 10, Duration::from_secs(180));
    check_agreement(&a, &all, 1);
    wait_peers(
        &a,
        &[(0, 3.0), (1, 3.0), (2, 3.0), (3, 3.0)],
        Duration::from_secs(30),
    );
    // B's node was never admitted anywhere in A, nor A's node0 by B.
    for k in all {
        for line in admission_lines(&a, k) {
            assert!(
                !line.contains(b_id.node_name())
                    && !line.contains(b_id.node_id())
                    && !line.contains(&b_id.serial().to_string()),
                "A's node{k} admitted B's node: {line}"
            );
        }
    }
    assert!(
        admission_lines(&b, 0).is_empty(),
        "B's node connected to someone: {:?}",
        admission_lines(&b, 0)
    );
    assert!(
        b.nodes[0].is_running(),
        "B's node exited:\n{}",
        tail_logs(&b.nodes)
    );
    drop(b);
    drop(a);

    // --- A validator whose certificate the chain CRL revokes. ---
    let mut c = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    fast_blocks(&c);
    // What an operator does (docs/network.md, "How to revoke a node"), with the CA in DIR/ca.
    let (node3, id3) = node_identity(&c, 3);
    let crl_path = c.dir.join("crl.pem");
    let ca = ChainCa::load(&c.dir.join("ca")).unwrap();
    let previous = Crl::load(&crl_path).unwrap();
    let crl = ca
        .revoke(Some(&previous), std::slice::from_ref(node3.serial()))
        .unwrap();
    assert_eq!(crl.entries().unwrap().len(), 1);
    crl.save(&crl_path).unwrap();

    c.start_nodes(&all).unwrap();
    let serial = id3.serial().to_string();
    for k in 0..3 {
        let line = wait_log_line(
            &c,
            k,
            &[
                "WARN",
                " refused: its certificate (",
                &cert_text(&id3),
                "is revoked by the chain CRL (revoked ",
            ],
            Duration::from_secs(60),
        );
        eprintln!("node{k}: {line}");
        assert!(line.contains(&serial));
    }
    let line = wait_log_line(
        &c,
        3,
        &[
            "WARN",
            "refused our certificate (",
            &cert_text(&id3),
            "with TLS alert certificate_revoked",
        ],
        Duration::from_secs(60),
    );
    eprintln!("node3: {line}");

    // 3 of 4 is a quorum: the others commit; node3 is never admitted and stays at genesis.
    wait_height(&c, &[0, 1, 2], 10, Duration::from_secs(180));
    check_agreement(&c, &[0, 1, 2], 1);
    wait_peers(
        &c,
        &[(0, 2.0), (1, 2.0), (2, 2.0), (3, 0.0)],
        Duration::from_secs(30),
    );
    for k in 0..3 {
        for line in admission_lines(&c, k) {
            assert!(
                !line.contains(id3.node_name()) && !line.contains(&serial),
                "node{k} admitted the revoked node3: {line}"
            );
        }
    }
    assert!(
        admission_lines(&c, 3).is_empty(),
        "the revoked node3 connected to someone: {:?}",
        admission_lines(&c, 3)
    );
    assert_eq!(head(&c.nodes[3].rpc()), Some(0), "{}", tail_logs(&c.nodes));
}

#[test]
fn an_isolated_validator_catches_up_after_the_partition_heals() {
    let _turn = one_at_a_time();
    let all = [0, 1, 2, 3];
    let mut net = TestNet::init(bin(), 4, "ecdsa", &[]).unwrap();
    fast_blocks(&net);

    // Node i dials node j through proxy (i, j); nobody dials a listen port directly.
    let listen: Vec<SocketAddr> = all.iter().map(|&k| net.p2p_addr(k).unwrap()).collect();
    let mut proxies = BTreeMap::new();
    for i in all {
        for j in all {
            if i != j {
                proxies.insert((i, j), PartitionProxy::start(listen[j]).unwrap());
            }
        }
    }
    for i in all {
        let peers: Vec<SocketAddr> = all
            .iter()
            .filter(|&&j| j != i)
            .map(|&j| proxies[&(i, j)].addr())
            .collect();
        net.set_peers(i, &peers).unwrap();
    }

    // The proxies refuse connections until every node listens, so that no connection is open
    // (on an ephemeral port) while a node is still to bind its ports.
    for p in proxies.values() {
        p.cut();
    }
    net.start_nodes(&all).unwrap();
    for p in proxies.values() {
        p.heal();
    }
    wait_height(&net, &all, 3, Duration::from_secs(120));
    wait_peers(
        &net,
        &[(0, 3.0), (1, 3.0), (2, 3.0), (3, 3.0)],
        Duration::from_secs(60),
    );
    // Every node's dial to every other node is up, through its proxy (a dialer may still be
    // in its redial backoff from before the others listened).
    wait_until(Duration::from_secs(60), || {
        let down: Vec<_> = proxies
            .iter()
            .filter(|(_, p)| p.open_connections() == 0)
            .map(|(pair, _)| *pair)
            .collect();
        down.is_empty()
            .then_some(())
            .ok_or_else(|| format!("no connection through the proxies {down:?}"))
    });
    check_agreement(&net, &all, 1);

    // Partition: every connection to or from node 3 is closed, and redials are refused.
    let isolating = |(i, j): &(usize, usize)| *i == 3 || *j == 3;
    for (pair, p) in &proxies {
        if isolating(pair) {
            p.cut();
        }
    }
    wait_peers(
        &net,
        &[(0, 2.0), (1, 2.0), (2, 2.0), (3, 0.0)],
        Duration::from_secs(30),
    );
    // A block decided just before the cut may still be committing on node 3.
    std::thread::sleep(Duration::from_secs(1));
    let stuck = head(&net.nodes[3].rpc()).unwrap();
    let before = heads(&net, &[0, 1, 2]).into_iter().flatten().max().unwrap();
    wait_height(&net, &[0, 1, 2], before + 10, Duration::from_secs(180));
    assert_eq!(
        head(&net.nodes[3].rpc()),
        Some(stuck),
        "the isolated node 3 committed blocks\n{}",
        tail_logs(&net.nodes)
    );
    let lead = heads(&net, &[0, 1, 2]).into_iter().flatten().min().unwrap();
    assert!(
        lead >= stuck + 10,
        "node 3 at {stuck}, the others at {lead}"
    );
    check_agreement(&net, &[0, 1, 2], 1);
    for (pair, p) in &proxies {
        if isolating(pair) {
            assert_eq!(p.open_connections(), 0, "{pair:?} still has a connection");
            assert!(p.refused() >= 1, "nobody redialed through {pair:?}");
        }
    }
    let admitted_before = admission_lines(&net, 3).len();

    // Heal: node 3 reconnects, syncs the blocks it missed and follows the head again.
    for p in proxies.values() {
        p.heal();
    }
    let target = heads(&net, &[0, 1, 2]).into_iter().flatten().max().unwrap();
    let healed = Instant::now();
    wait_height(&net, &[3], target, Duration::from_secs(180));
    eprintln!(
        "node 3 went from block {stuck} to {target} in {:.1?} after the partition healed",
        healed.elapsed()
    );
    wait_peers(
        &net,
        &[(0, 3.0), (1, 3.0), (2, 3.0), (3, 3.0)],
        Duration::from_secs(60),
    );
    assert!(admission_lines(&net, 3).len() > admitted_before);
    let now = heads(&net, &all).into_iter().flatten().max().unwrap();
    wait_height(&net, &all, now + 3, Duration::from_secs(120));
    check_agreement(&net, &all, 1);
    drop(net);
    drop(proxies);
}
