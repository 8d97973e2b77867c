//! Seeded fault schedules against a real 4-validator network (`banyan_testkit::faults`): kills,
//! pauses, partitions, one-way link loss, slow links, disk damage followed by recovery from
//! peers, clock skew; a safety phase under load, then a liveness phase after heal. A failing
//! seed is printed with the command that replays it.
//!
//! And the Byzantine check that proves the checkers can fail: validators run twice (twins, the
//! same key on two nodes) on the two sides of a partition. With more than f keys doubled, both
//! sides commit and the checkers must report the fork and the double signs; with at most f the
//! chain stays one.

use crate::common::bin;
use banyan_testkit::TestNet;
use banyan_testkit::checks::{
    chain_of, chain_violations, conflicting_votes, head, tail_logs, votes_in_logs,
};
use banyan_testkit::faults::{self, FaultReport, Options};
use banyan_testkit::seed::TestRng;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Runs the schedule of `seed` and fails with the report (and how to replay) on a violation.
fn run_seed(seed: u64, opts: &Options) -> FaultReport {
    let report = faults::run(bin(), seed, opts).unwrap();
    eprintln!("{report}");
    if let Ok(path) = std::env::var("BANYAN_FAULT_REPORT") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(file, "{}", report.table_row()).unwrap();
    }
    assert!(
        report.violations.is_empty(),
        "seed {seed} broke an invariant (replay: BANYAN_TEST_SEED={seed} cargo nextest run -p \
         banyan-cli --run-ignored all any_fault_schedule):\n{report}"
    );
    report
}

#[test]
fn a_short_seeded_fault_schedule_keeps_every_invariant() {
    let seed = TestRng::for_scenario("fault schedule").seed();
    let report = run_seed(seed, &Options::default());
    // Not vacuous: faults were injected under a load that got through.
    assert!(report.faults.values().sum::<usize>() >= 5, "{report}");
    assert!(report.acked >= 50, "{report}");
    assert!(report.height >= 50, "{report}");
}

/// `BANYAN_TEST_SEED` picks the seed (else the clock), `BANYAN_FAULT_SECS` the safety phase (300
/// s unless set); `BANYAN_FAULT_REPORT` names a file the report's table row is appended to.
#[test]
#[ignore = "long: run with --run-ignored, BANYAN_TEST_SEED and BANYAN_FAULT_SECS"]
fn any_fault_schedule() {
    let seed = TestRng::for_scenario("fault schedule").seed();
    let secs = std::env::var("BANYAN_FAULT_SECS")
        .map(|s| s.parse().expect("BANYAN_FAULT_SECS is a number of seconds"))
        .unwrap_or(300);
    run_seed(
        seed,
        &Options {
            safety: Duration::from_secs(secs),
            ..Options::default()
        },
    );
}

/// A 4-validator network with 2 observers turned into twins: node 4 runs node 0's validator key
/// and, with `two_twins`, node 5 runs node 1's. The peers lists make two sides that never meet:
/// {0, 1, 2} and {4, 5, 3} (or {4, 3} with one twin). Returns the network, started, and the
/// sides.
fn twins(two_twins: bool) -> (TestNet, Vec<usize>, Vec<usize>) {
    let mut net = TestNet::init(bin(), 4, "ecdsa", &["--observers", "2"]).unwrap();
    net.set_consensus("target_block_ms", "100").unwrap();
    net.set_consensus("timeout_propose_ms", "1000").unwrap();
    let pairs: &[(usize, usize)] = if two_twins {
        &[(0, 4), (1, 5)]
    } else {
        &[(0, 4)]
    };
    for &(original, twin) in pairs {
        let dir = |k: usize| net.dir.join(format!("node{k}"));
        std::fs::copy(
            dir(original).join("validator.key"),
            dir(twin).join("validator.key"),
        )
        .unwrap();
        // The twin is its original on the wire too: a validator's certificate names its key.
        for file in ["node.crt", "node.key"] {
            std::fs::copy(
                dir(original).join("tls").join(file),
                dir(twin).join("tls").join(file),
            )
            .unwrap();
        }
        let config = net.config_path(twin);
        let text = std::fs::read_to_string(&config).unwrap();
        let text = text
            .replace("role = \"observer\"", "role = \"validator\"")
            .replace(
                "validator_key_file = \"observer.key\"",
                "validator_key_file = \"validator.key\"",
            );
        assert!(
            text.contains("role = \"validator\"") && text.contains("\"validator.key\""),
            "{text}"
        );
        std::fs::write(&config, text).unwrap();
    }
    let x = vec![0, 1, 2];
    let y: Vec<usize> = pairs.iter().map(|&(_, twin)| twin).chain([3]).collect();
    let listen: Vec<SocketAddr> = (0..6).map(|k| net.p2p_addr(k).unwrap()).collect();
    for side in [&x, &y] {
        for &k in side {
            let peers: Vec<SocketAddr> = side
                .iter()
                .filter(|&&j| j != k)
                .map(|&j| listen[j])
                .collect();
            net.set_peers(k, &peers).unwrap();
        }
    }
    for node in &mut net.nodes {
        node.set_env("RUST_LOG", "info");
    }
    let started: Vec<usize> = x.iter().chain(&y).copied().collect();
    net.start_nodes(&started).unwrap();
    (net, x, y)
}

/// Sends a transfer of `value` from funded account 9 on node `k` (a different value per side,
/// so that the two sides' blocks cannot be the same by chance).
fn send_on(net: &TestNet, k: usize, value: u64) {
    let (key, _) = banyan_testkit::checks::account(net, 9).unwrap();
    let raw = crate::common::signed(
        &key,
        banyan_testkit::checks::genesis(net).chain_id,
        0,
        Some(alloy_primitives::Address::repeat_byte(0x77)),
        alloy_primitives::U256::from(value),
        vec![],
        21_000,
    );
    net.nodes[k]
        .rpc()
        .call("eth_sendRawTransaction", json!([raw]))
        .unwrap();
}

fn wait_heads(net: &TestNet, nodes: &[usize], height: u64, timeout: Duration) {
    let start = Instant::now();
    while nodes
        .iter()
        .any(|&k| head(&net.nodes[k].rpc()).is_none_or(|h| h < height))
    {
        assert!(
            start.elapsed() < timeout,
            "nodes {nodes:?} not at height {height} within {timeout:?}\n{}",
            tail_logs(&net.nodes)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The checkers' findings over `nodes`: violations of the chains (forks first) and double signs.
fn findings(net: &TestNet, nodes: &[usize]) -> (Vec<String>, usize) {
    let common = nodes
        .iter()
        .filter_map(|&k| head(&net.nodes[k].rpc()))
        .min()
        .unwrap();
    let chains: Vec<_> = nodes
        .iter()
        .map(|&k| {
            (
                format!("node{k}"),
                chain_of(&net.nodes[k].rpc(), common).unwrap(),
            )
        })
        .collect();
    let violations = chain_violations(&chains, &[]);
    let double = conflicting_votes(&votes_in_logs(net, false)).len();
    (violations, double)
}

#[test]
fn twins_of_more_than_f_validators_make_the_checkers_report_the_fork_and_double_signs() {
    let (net, x, y) = twins(true);
    send_on(&net, 2, 1);
    send_on(&net, 3, 2);
    // Each side holds 3 of the 4 keys: a quorum, so both commit.
    let all: Vec<usize> = x.iter().chain(&y).copied().collect();
    wait_heads(&net, &all, 8, Duration::from_secs(120));
    let (violations, double) = findings(&net, &all);
    eprintln!(
        "{} violations, {double} double signs: {violations:#?}",
        violations.len()
    );
    assert!(
        violations.iter().any(|v| v.starts_with("fork at height")),
        "the checker missed the fork: {violations:?}"
    );
    assert!(double > 0, "the checker saw no double sign");
}

#[test]
fn twins_of_at_most_f_validators_cannot_fork_the_chain() {
    let (mut net, x, y) = twins(false);
    send_on(&net, 2, 1);
    send_on(&net, 3, 2);
    // {0, 1, 2} holds 3 keys and commits; {0's twin, 3} holds 2 and cannot.
    wait_heads(&net, &x, 15, Duration::from_secs(120));
    let stuck: Vec<Option<u64>> = y.iter().map(|&k| head(&net.nodes[k].rpc())).collect();
    assert!(
        stuck.iter().all(|h| *h == Some(0)),
        "the side without a quorum committed: {stuck:?}\n{}",
        tail_logs(&net.nodes)
    );
    // Node 3 joins the quorum side and follows its one chain.
    net.nodes[3].kill9().unwrap();
    let listen: Vec<SocketAddr> = x.iter().map(|&k| net.p2p_addr(k).unwrap()).collect();
    net.set_peers(3, &listen).unwrap();
    net.start_nodes(&[3]).unwrap();
    let top = head(&net.nodes[0].rpc()).unwrap();
    wait_heads(&net, &[0, 1, 2, 3], top + 3, Duration::from_secs(120));
    let (violations, double) = findings(&net, &[0, 1, 2, 3]);
    eprintln!("{double} conflicting votes seen in the logs; no fork");
    assert!(violations.is_empty(), "{violations:?}");
    banyan_testkit::checks::check_agreement(&net, &[0, 1, 2, 3], 1);
}
