//! Seeded fault schedules for a real network of `banyan node` processes, after TigerBeetle's
//! VOPR and CometBFT's e2e perturbations: a schedule generated from a seed over N validators
//! (SIGKILL and restart, SIGSTOP and SIGCONT, partitions, one-way link loss and slow links
//! through a proxy on every ordered pair of nodes, disk damage on a stopped node followed by a
//! restart that recovers from peers, clock skew within the allowed drift), run against a load of
//! transfers in a safety phase; then everything is healed and a liveness phase checks that the
//! chain moves again and its throughput comes back. Checkers answer with violations instead of
//! panicking, so that a run reports all it found and a failing seed is a bug report:
//! replay it with `BANYAN_TEST_SEED`.
//!
//! The same seed gives the same schedule (what is injected, where, when); the processes' timing
//! is the machine's, so a replay reproduces the faults, not every interleaving.

use crate::checks::{
    account, chain_of, chain_violations, conflicting_votes, genesis, head, money_conserved,
    tail_logs, votes_in_logs,
};
use crate::seed::TestRng;
use crate::{PartitionProxy, RpcClient, TestNet};
use alloy_consensus::{TxEip1559, TypedTransaction};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use anyhow::{Context, anyhow, bail};
use banyan_crypto::SecretKey;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most this many faults are active at once.
const MAX_OVERLAP: usize = 2;

/// A clock moved by more than this could make a proposal look too far ahead (the node allows
/// 2 s, in whole seconds): one node at a time is skewed, by less.
const MAX_SKEW_MS: u64 = 1_500;

/// Where Debian's `faketime` package puts the library that moves a process's clock.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// One fault, on validators numbered as `banyan init` numbers them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL; restarted when the fault ends.
    Kill(usize),
    /// SIGSTOP; SIGCONT when the fault ends.
    Pause(usize),
    /// Every link between these nodes and the others is cut, both ways.
    Partition(Vec<usize>),
    /// What `from` sends to `to` is lost; the other way flows.
    LinkLoss {
        /// The sender whose bytes are lost.
        from: usize,
        /// The receiver that hears nothing.
        to: usize,
    },
    /// Both ways between `a` and `b`, every chunk is held `delay_ms`.
    SlowLink {
        /// One end.
        a: usize,
        /// The other end.
        b: usize,
        /// Added delay per chunk.
        delay_ms: u64,
    },
    /// SIGKILL, a byte changed in every 4 KiB page of the chain store (after the first), and a
    /// restart when the fault ends: the node (with `[node] auto_recover`) moves the damaged
    /// store aside and rebuilds from peers.
    DiskDamage(usize),
    /// The node's wall clock moves by `skew_ms` (libfaketime); back when the fault ends.
    ClockSkew {
        /// The node.
        node: usize,
        /// Milliseconds ahead (positive) or behind.
        skew_ms: i64,
    },
}

impl Fault {
    /// The fault's kind, as the report counts it.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Kill(_) => "kill",
            Fault::Pause(_) => "pause",
            Fault::Partition(_) => "partition",
            Fault::LinkLoss { .. } => "link-loss",
            Fault::SlowLink { .. } => "slow-link",
            Fault::DiskDamage(_) => "disk-damage",
            Fault::ClockSkew { .. } => "clock-skew",
        }
    }

    /// The node whose process this fault acts on, if any.
    fn process(&self) -> Option<usize> {
        match self {
            Fault::Kill(n) | Fault::Pause(n) | Fault::DiskDamage(n) => Some(*n),
            Fault::ClockSkew { node, .. } => Some(*node),
            _ => None,
        }
    }

    /// The links (unordered node pairs) this fault acts on.
    fn links(&self, validators: usize) -> Vec<(usize, usize)> {
        match self {
            Fault::Partition(side) => (0..validators)
                .flat_map(|i| (i + 1..validators).map(move |j| (i, j)))
                .filter(|(i, j)| side.contains(i) != side.contains(j))
                .collect(),
            Fault::LinkLoss { from, to } => vec![(*from.min(to), *from.max(to))],
            Fault::SlowLink { a, b, .. } => vec![(*a.min(b), *a.max(b))],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Kill(n) => write!(f, "kill node{n}"),
            Fault::Pause(n) => write!(f, "pause node{n}"),
            Fault::Partition(side) => write!(f, "partition {side:?} from the rest"),
            Fault::LinkLoss { from, to } => write!(f, "lose node{from} -> node{to}"),
            Fault::SlowLink { a, b, delay_ms } => {
                write!(f, "slow node{a} <-> node{b} by {delay_ms} ms")
            }
            Fault::DiskDamage(n) => write!(f, "damage node{n}'s store"),
            Fault::ClockSkew { node, skew_ms } => {
                write!(f, "skew node{node}'s clock {skew_ms:+} ms")
            }
        }
    }
}

/// A fault from `at_ms` (after the safety phase starts) for `duration_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Start, in milliseconds from the start of the safety phase.
    pub at_ms: u64,
    /// How long it lasts.
    pub duration_ms: u64,
    /// What it is.
    pub fault: Fault,
}

impl Step {
    fn end_ms(&self) -> u64 {
        self.at_ms + self.duration_ms
    }
}

/// The faults of one run, generated from a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The seed it was generated from.
    pub seed: u64,
    /// Validators it is for.
    pub validators: usize,
    /// Length of the safety phase; every fault ends by then.
    pub length_ms: u64,
    /// The faults, by start time.
    pub steps: Vec<Step>,
}

impl Schedule {
    /// The schedule for `seed` over `validators` nodes and a safety phase of `length`: faults
    /// of 1 to 6 s, starting 0.3 to 3 s apart, at most two (`MAX_OVERLAP`) at once, one per node
    /// process and one per link at a time, one skewed clock at a time, all ended by `length`.
    pub fn generate(seed: u64, validators: usize, length: Duration) -> Self {
        let length_ms = u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
        let mut rng = TestRng::from_seed(seed);
        let mut steps: Vec<Step> = Vec::new();
        let mut t = rng.in_range(500..2_000);
        while t < length_ms {
            let active: Vec<&Step> = steps
                .iter()
                .filter(|s| s.at_ms <= t && t < s.end_ms())
                .collect();
            if active.len() >= MAX_OVERLAP {
                t = active.iter().map(|s| s.end_ms()).min().unwrap_or(t + 1);
                continue;
            }
            let duration_ms = rng.in_range(1_000..6_000);
            if t + duration_ms > length_ms {
                break;
            }
            let busy_nodes: BTreeSet<usize> =
                active.iter().filter_map(|s| s.fault.process()).collect();
            let busy_links: BTreeSet<(usize, usize)> = active
                .iter()
                .flat_map(|s| s.fault.links(validators))
                .collect();
            let skewed = active
                .iter()
                .any(|s| matches!(s.fault, Fault::ClockSkew { .. }));
            let fault = pick(&mut rng, validators, &busy_nodes, &busy_links, skewed);
            if let Some(fault) = fault {
                steps.push(Step {
                    at_ms: t,
                    duration_ms,
                    fault,
                });
            }
            t += rng.in_range(300..3_000);
        }
        Self {
            seed,
            validators,
            length_ms,
            steps,
        }
    }

    /// Faults by kind.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for step in &self.steps {
            *counts.entry(step.fault.kind()).or_insert(0) += 1;
        }
        counts
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fault schedule of seed {} over {} validators, {} ms:",
            self.seed, self.validators, self.length_ms
        )?;
        for s in &self.steps {
            writeln!(
                f,
                "  {:>7} ms  +{:<5} ms  {}",
                s.at_ms, s.duration_ms, s.fault
            )?;
        }
        Ok(())
    }
}

/// A fault that acts on nothing already taken, or `None` when the draw finds none.
fn pick(
    rng: &mut TestRng,
    n: usize,
    busy_nodes: &BTreeSet<usize>,
    busy_links: &BTreeSet<(usize, usize)>,
    skewed: bool,
) -> Option<Fault> {
    let free: Vec<usize> = (0..n).filter(|k| !busy_nodes.contains(k)).collect();
    let any_node = |rng: &mut TestRng| -> Option<usize> {
        (!free.is_empty()).then(|| free[rng.in_range(0..free.len() as u64) as usize])
    };
    let pair = |rng: &mut TestRng| -> (usize, usize) {
        let a = rng.in_range(0..n as u64) as usize;
        let b = (a + 1 + rng.in_range(0..n as u64 - 1) as usize) % n;
        (a, b)
    };
    let candidate = match rng.in_range(0..7) {
        0 => Fault::Kill(any_node(rng)?),
        1 => Fault::Pause(any_node(rng)?),
        2 => {
            let size = 1 + rng.in_range(0..(n as u64 / 2).max(1)) as usize;
            let mut side: Vec<usize> = Vec::new();
            while side.len() < size {
                let k = rng.in_range(0..n as u64) as usize;
                if !side.contains(&k) {
                    side.push(k);
                }
            }
            side.sort_unstable();
            Fault::Partition(side)
        }
        3 => {
            let (from, to) = pair(rng);
            Fault::LinkLoss { from, to }
        }
        4 => {
            let (a, b) = pair(rng);
            Fault::SlowLink {
                a,
                b,
                delay_ms: rng.in_range(50..400),
            }
        }
        5 => Fault::DiskDamage(any_node(rng)?),
        _ => {
            if skewed {
                return None;
            }
            let magnitude = rng.in_range(200..MAX_SKEW_MS) as i64;
            let skew_ms = if rng.in_range(0..2) == 0 {
                magnitude
            } else {
                -magnitude
            };
            Fault::ClockSkew {
                node: any_node(rng)?,
                skew_ms,
            }
        }
    };
    if candidate
        .links(n)
        .iter()
        .any(|link| busy_links.contains(link))
    {
        return None;
    }
    Some(candidate)
}

/// How a run is shaped.
#[derive(Clone, Debug)]
pub struct Options {
    /// Validators (4 tolerates one faulty).
    pub validators: usize,
    /// Load senders, each its own funded account (at most 10, the accounts `banyan init` funds).
    pub senders: usize,
    /// Load before the faults, to measure the baseline throughput.
    pub baseline: Duration,
    /// The safety phase: faults under load.
    pub safety: Duration,
    /// Throughput after heal is measured over windows this long.
    pub window: Duration,
    /// The chain must commit a new block within this long of the heal.
    pub progress_within: Duration,
    /// After heal, throughput must come back to this share of the baseline.
    pub throughput_share: f64,
    /// `[consensus] target_block_ms` of the nodes.
    pub target_block_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            validators: 4,
            senders: 8,
            baseline: Duration::from_secs(10),
            safety: Duration::from_secs(40),
            window: Duration::from_secs(10),
            progress_within: Duration::from_secs(20),
            throughput_share: 0.8,
            target_block_ms: 150,
        }
    }
}

/// What a run found: the figures `docs/reliability.md` records and every violation.
#[derive(Clone, Debug, Default)]
pub struct FaultReport {
    /// The seed.
    pub seed: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, usize>,
    /// Length of the safety phase, in seconds.
    pub safety_secs: u64,
    /// Transactions the RPC acknowledged with a hash.
    pub acked: usize,
    /// Acknowledged transactions the load saw committed.
    pub committed: usize,
    /// Times the load sent an acknowledged transaction again (no receipt after 20 s).
    pub resubmitted: u64,
    /// Highest common height at the end.
    pub height: u64,
    /// Heights with two hashes.
    pub forks: usize,
    /// Acknowledged transactions missing (or misplaced) on some node.
    pub lost: usize,
    /// Vote slots signed with two values.
    pub double_signs: usize,
    /// From heal to the first new block.
    pub progress_ms: Option<u64>,
    /// From heal until every node was past the height at heal.
    pub caught_up_ms: Option<u64>,
    /// Committed transfers per second before the faults.
    pub baseline_tps: f64,
    /// Best window after heal.
    pub healed_tps: f64,
    /// Everything that broke an invariant.
    pub violations: Vec<String>,
}

impl FaultReport {
    /// A Markdown table row: seed, s, faults, acked, forks, lost, double signs, progress,
    /// catch-up, throughput before / after.
    pub fn table_row(&self) -> String {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        let ms = |v: Option<u64>| {
            v.map_or("never".to_string(), |v| {
                format!("{:.1} s", v as f64 / 1000.0)
            })
        };
        format!(
            "| {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} | {:.1} / {:.1} |",
            self.seed,
            self.safety_secs,
            self.faults.values().sum::<usize>(),
            faults.join(", "),
            self.acked,
            self.resubmitted,
            self.forks,
            self.lost,
            self.double_signs,
            ms(self.progress_ms),
            ms(self.caught_up_ms),
            self.baseline_tps,
            self.healed_tps
        )
    }

    /// The header of [`FaultReport::table_row`]'s table.
    pub const TABLE_HEADER: &'static str = "| seed | safety s | faults | acked | resent | forks | lost | double signs | first block after heal | all caught up | tx/s before / after |\n|---|---|---|---|---|---|---|---|---|---|---|";
}

impl fmt::Display for FaultReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", Self::TABLE_HEADER)?;
        writeln!(f, "{}", self.table_row())?;
        if self.violations.is_empty() {
            writeln!(f, "no violations")
        } else {
            writeln!(f, "{} violations:", self.violations.len())?;
            for v in &self.violations {
                writeln!(f, "  - {v}")?;
            }
            Ok(())
        }
    }
}

/// The network under test: the nodes, a proxy on every ordered pair (node i dials node j
/// through `proxies[(i, j)]`), and the clock files of the nodes whose clock may move.
struct Rig {
    net: TestNet,
    proxies: BTreeMap<(usize, usize), PartitionProxy>,
    clocks: BTreeMap<usize, PathBuf>,
}

impl Rig {
    fn start(bin: &Path, schedule: &Schedule, opts: &Options) -> anyhow::Result<Self> {
        let n = opts.validators;
        let mut net = TestNet::init(bin, n, "ecdsa", &[])?;
        net.set_consensus("target_block_ms", &opts.target_block_ms.to_string())?;
        net.set_consensus("timeout_propose_ms", "1000")?;
        net.set_config("node", "auto_recover", "true")?;
        let listen: Vec<SocketAddr> = (0..n).map(|k| net.p2p_addr(k)).collect::<Result<_, _>>()?;
        let mut proxies = BTreeMap::new();
        for i in 0..n {
            for j in (0..n).filter(|&j| j != i) {
                proxies.insert((i, j), PartitionProxy::start(listen[j])?);
            }
        }
        for i in 0..n {
            let peers: Vec<SocketAddr> = (0..n)
                .filter(|&j| j != i)
                .map(|j| proxies[&(i, j)].addr())
                .collect();
            net.set_peers(i, &peers)?;
        }
        let mut clocks = BTreeMap::new();
        for step in &schedule.steps {
            if let Fault::ClockSkew { node, .. } = step.fault {
                clocks.insert(node, net.dir.join(format!("node{node}/faketime")));
            }
        }
        if !clocks.is_empty() && !Path::new(LIBFAKETIME).exists() {
            bail!(
                "the schedule skews clocks and {LIBFAKETIME} is missing: install Debian's \
                 `faketime` package (scripts/test does)"
            );
        }
        for (k, node) in net.nodes.iter_mut().enumerate() {
            // The engine's per-vote lines are what the double-sign checker reads.
            node.set_env("RUST_LOG", "info");
            if let Some(file) = clocks.get(&k) {
                std::fs::write(file, "+0\n")?;
                node.set_env("LD_PRELOAD", LIBFAKETIME);
                node.set_env("FAKETIME_TIMESTAMP_FILE", &file.display().to_string());
                // Re-read the offset every second; timers keep the real monotonic clock.
                node.set_env("FAKETIME_CACHE_DURATION", "1");
                node.set_env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
            }
        }
        // No connection before every node listens (one on an ephemeral port could take a port
        // a later node binds).
        for p in proxies.values() {
            p.cut();
        }
        let all: Vec<usize> = (0..n).collect();
        net.start_nodes(&all)?;
        for p in proxies.values() {
            p.heal();
        }
        let rig = Self {
            net,
            proxies,
            clocks,
        };
        rig.wait_connected(Duration::from_secs(60))?;
        Ok(rig)
    }

    /// Waits until every node is past height 2 and every proxy carries a connection.
    fn wait_connected(&self, timeout: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let heads: Vec<Option<u64>> = self.net.nodes.iter().map(|n| head(&n.rpc())).collect();
            let idle: Vec<(usize, usize)> = self
                .proxies
                .iter()
                .filter(|(_, p)| p.open_connections() == 0)
                .map(|(pair, _)| *pair)
                .collect();
            if heads.iter().all(|h| h.is_some_and(|h| h > 2)) && idle.is_empty() {
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!(
                    "within {timeout:?} the nodes reached heights {heads:?} and the proxies \
                     {idle:?} carried no connection\n{}",
                    tail_logs(&self.net.nodes)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn links(&self, a: usize, b: usize) -> [&PartitionProxy; 2] {
        [&self.proxies[&(a, b)], &self.proxies[&(b, a)]]
    }

    /// Starts (`on`) or ends a fault.
    fn apply(&mut self, fault: &Fault, on: bool) -> anyhow::Result<()> {
        match fault {
            Fault::Kill(k) => {
                if on {
                    self.net.nodes[*k].kill9()?;
                } else {
                    self.net.nodes[*k].spawn_no_wait()?;
                }
            }
            Fault::Pause(k) => self.net.nodes[*k].signal(if on { "STOP" } else { "CONT" })?,
            Fault::Partition(side) => {
                for ((i, j), p) in &self.proxies {
                    if side.contains(i) != side.contains(j) {
                        if on {
                            p.cut();
                        } else {
                            p.heal();
                        }
                    }
                }
            }
            Fault::LinkLoss { from, to } => {
                // Node `from` dials `to` through (from, to): its bytes go towards the target
                // there; through (to, from) they come back from the target.
                self.proxies[&(*from, *to)].set_loss(true, on);
                self.proxies[&(*to, *from)].set_loss(false, on);
            }
            Fault::SlowLink { a, b, delay_ms } => {
                let delay = Duration::from_millis(if on { *delay_ms } else { 0 });
                for p in self.links(*a, *b) {
                    p.set_delay(delay);
                }
            }
            Fault::DiskDamage(k) => {
                if on {
                    self.net.nodes[*k].kill9()?;
                    damage_store(&self.net.nodes[*k].datadir)?;
                } else {
                    self.net.nodes[*k].spawn_no_wait()?;
                }
            }
            Fault::ClockSkew { node, skew_ms } => {
                let file = self
                    .clocks
                    .get(node)
                    .ok_or_else(|| anyhow!("node{node} was not started with a movable clock"))?;
                let offset = if on {
                    format!("{:+.3}\n", *skew_ms as f64 / 1000.0)
                } else {
                    "+0\n".to_string()
                };
                std::fs::write(file, offset)?;
            }
        }
        Ok(())
    }
}

/// Changes one byte in every 4 KiB page of the chain store after the first (the header page
/// is left alone so that the damage is found by the checks of the pages, not the file magic).
fn damage_store(datadir: &Path) -> anyhow::Result<()> {
    let store = datadir.join(banyan_storage::DB_FILE_NAME);
    let mut bytes =
        std::fs::read(&store).with_context(|| format!("reading {}", store.display()))?;
    for page in bytes.chunks_mut(4096).skip(1) {
        let at = 100.min(page.len() - 1);
        page[at] ^= 0x5a;
    }
    std::fs::write(&store, &bytes).with_context(|| format!("writing {}", store.display()))?;
    Ok(())
}

/// Every transfer of the load goes here.
const SINK: Address = Address::repeat_byte(0x42);

/// A sender without a receipt this long after sending sends the same bytes again, to another
/// node (as a client would).
const RESEND_AFTER: Duration = Duration::from_secs(20);

#[derive(Default)]
struct LoadShared {
    /// No new transaction (the one in flight is still seen through).
    stop: AtomicBool,
    /// Give up even on the one in flight.
    abandon: AtomicBool,
    acked: Mutex<Vec<B256>>,
    commits: Mutex<Vec<Instant>>,
    resent: AtomicU64,
}

/// Closed-loop transfers, one sender per account: each signs its next nonce once, sends it to
/// the next node until one acknowledges it, waits for a receipt from any node (sending the same
/// bytes again after [`RESEND_AFTER`]), and only then goes on.
struct Load {
    shared: Arc<LoadShared>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(net: &TestNet, senders: usize) -> anyhow::Result<Self> {
        let chain_id = genesis(net).chain_id;
        let rpcs: Vec<RpcClient> = net
            .nodes
            .iter()
            .map(|n| n.rpc().with_timeout(Duration::from_secs(2)))
            .collect();
        let shared = Arc::new(LoadShared::default());
        let mut threads = Vec::new();
        for s in 0..senders {
            let (key, _) = account(net, s)?;
            let (shared, rpcs) = (Arc::clone(&shared), rpcs.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("load-{s}"))
                    .spawn(move || send_loop(&key, chain_id, s, &rpcs, &shared))?,
            );
        }
        Ok(Self { shared, threads })
    }

    fn commits_between(&self, from: Instant, to: Instant) -> usize {
        lock(&self.shared.commits)
            .iter()
            .filter(|t| **t >= from && **t < to)
            .count()
    }

    /// Stops sending, waits up to `timeout` for the transactions in flight, and returns the
    /// acknowledged hashes, the committed count and the resends.
    fn finish(self, timeout: Duration) -> (Vec<B256>, usize, u64) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while self.threads.iter().any(|t| !t.is_finished()) && start.elapsed() < timeout {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.shared.abandon.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        let acked = lock(&self.shared.acked).clone();
        let committed = lock(&self.shared.commits).len();
        (acked, committed, self.shared.resent.load(Ordering::SeqCst))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn send_loop(key: &SecretKey, chain_id: u64, s: usize, rpcs: &[RpcClient], shared: &LoadShared) {
    let mut turn = s;
    let next = |turn: &mut usize| {
        *turn += 1;
        &rpcs[*turn % rpcs.len()]
    };
    let mut nonce = 0u64;
    while !shared.stop.load(Ordering::SeqCst) {
        let tx = TypedTransaction::Eip1559(TxEip1559 {
            chain_id,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 1_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(SINK),
            value: U256::from(1u64),
            input: Bytes::new(),
            access_list: Default::default(),
        });
        let Ok(raw) = banyan_primitives::sign_eth_transaction(tx, key) else {
            return;
        };
        let hash = keccak256(&raw);
        let raw = format!("0x{}", alloy_primitives::hex::encode(&raw));
        let send = |rpc: &RpcClient| -> Option<bool> {
            match rpc.try_call("eth_sendRawTransaction", json!([raw])) {
                Ok(Ok(_)) => Some(true),
                Ok(Err(e)) if e.message.contains("already known") => Some(true),
                // Committed already (sent before to a node that did not answer in time).
                Ok(Err(e)) if e.message.contains("nonce too low") => Some(false),
                _ => None,
            }
        };
        // Sent until a node takes it.
        let mut acked = loop {
            if shared.abandon.load(Ordering::SeqCst) {
                return;
            }
            match send(next(&mut turn)) {
                Some(taken) => break taken,
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        if acked {
            lock(&shared.acked).push(hash);
        }
        // Until committed.
        let mut sent_at = Instant::now();
        loop {
            if shared.abandon.load(Ordering::SeqCst) {
                return;
            }
            let rpc = next(&mut turn);
            if let Ok(Ok(receipt)) = rpc.try_call("eth_getTransactionReceipt", json!([hash]))
                && !receipt.is_null()
            {
                lock(&shared.commits).push(Instant::now());
                break;
            }
            if sent_at.elapsed() > RESEND_AFTER && send(rpc).is_some() {
                shared.resent.fetch_add(1, Ordering::SeqCst);
                if !acked {
                    acked = true;
                    lock(&shared.acked).push(hash);
                }
                sent_at = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        nonce += 1;
    }
}

/// Runs the schedule of `seed` against a network of `bin` shaped by `opts`, and reports what
/// the checkers found. `Err` is a harness failure (the network could not be set up), not a
/// violation.
pub fn run(bin: &Path, seed: u64, opts: &Options) -> anyhow::Result<FaultReport> {
    let schedule = Schedule::generate(seed, opts.validators, opts.safety);
    eprint!("{schedule}");
    let mut rig = Rig::start(bin, &schedule, opts)?;
    let mut report = FaultReport {
        seed,
        faults: schedule.counts(),
        safety_secs: opts.safety.as_secs(),
        ..FaultReport::default()
    };

    // Baseline.
    let load = Load::start(&rig.net, opts.senders)?;
    let warm = Instant::now() + Duration::from_secs(2);
    std::thread::sleep(opts.baseline + Duration::from_secs(2));
    report.baseline_tps =
        load.commits_between(warm, Instant::now()) as f64 / opts.baseline.as_secs_f64();
    eprintln!("baseline: {:.1} committed transfers/s", report.baseline_tps);

    // Safety phase: the schedule, in time.
    let mut events: Vec<(u64, bool, usize)> = schedule
        .steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| [(s.at_ms, true, i), (s.end_ms(), false, i)])
        .collect();
    // At one moment, ends before starts: a node freed by one fault may take the next.
    events.sort_by_key(|&(t, on, i)| (t, on, i));
    let t0 = Instant::now();
    for (t, on, i) in events {
        let at = t0 + Duration::from_millis(t);
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let fault = &schedule.steps[i].fault;
        eprintln!(
            "[{:>7} ms] {} {fault}",
            t0.elapsed().as_millis(),
            if on { "+" } else { "-" }
        );
        if let Err(e) = rig.apply(fault, on) {
            report.violations.push(format!(
                "{fault} ({}): {e:#}",
                if on { "start" } else { "end" }
            ));
        }
    }
    if let Some(wait) = (t0 + opts.safety).checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }

    // Healed: every fault has ended. A node that exited on its own is a violation.
    let healed = Instant::now();
    for (k, node) in rig.net.nodes.iter_mut().enumerate() {
        if let Some(status) = node.exit_status() {
            report.violations.push(format!(
                "node{k} exited on its own with {status}; log tail:\n{}",
                crate::checks::log_tail(node, 30)
            ));
            let _ = node.kill9();
            node.spawn_no_wait()?;
        }
    }
    let top = rig
        .net
        .nodes
        .iter()
        .filter_map(|n| head(&n.rpc().with_timeout(Duration::from_secs(2))))
        .max()
        .unwrap_or(0);
    eprintln!("healed at height {top}");
    let catch_up_limit = Duration::from_secs(90);
    loop {
        let heads: Vec<Option<u64>> = rig
            .net
            .nodes
            .iter()
            .map(|n| head(&n.rpc().with_timeout(Duration::from_secs(2))))
            .collect();
        let elapsed = healed.elapsed();
        let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        if report.progress_ms.is_none() && heads.iter().flatten().any(|&h| h > top) {
            report.progress_ms = Some(ms);
        }
        if heads.iter().all(|h| h.is_some_and(|h| h > top)) {
            report.caught_up_ms = Some(ms);
            break;
        }
        if elapsed > catch_up_limit {
            report.violations.push(format!(
                "{catch_up_limit:?} after heal the nodes are at {heads:?}, healed at {top}\n{}",
                tail_logs(&rig.net.nodes)
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    match report.progress_ms {
        Some(ms) if ms <= opts.progress_within.as_millis() as u64 => {}
        got => report.violations.push(format!(
            "no new block within {:?} of heal (first after {got:?} ms)",
            opts.progress_within
        )),
    }

    // Throughput back: the best of three windows.
    for _ in 0..3 {
        let from = Instant::now();
        std::thread::sleep(opts.window);
        let tps = load.commits_between(from, Instant::now()) as f64 / opts.window.as_secs_f64();
        report.healed_tps = report.healed_tps.max(tps);
        if tps >= opts.throughput_share * report.baseline_tps {
            break;
        }
    }
    if report.healed_tps < opts.throughput_share * report.baseline_tps {
        report.violations.push(format!(
            "throughput after heal {:.1}/s, under {:.0} % of the baseline {:.1}/s",
            report.healed_tps,
            opts.throughput_share * 100.0,
            report.baseline_tps
        ));
    }
    let (acked, committed, resent) = load.finish(Duration::from_secs(60));
    report.acked = acked.len();
    report.committed = committed;
    report.resubmitted = resent;

    check(&rig.net, &acked, &mut report);
    if !report.violations.is_empty() {
        let kept = rig.net.keep_files();
        report.violations.push(format!(
            "the network's files (configurations, data, node logs) are kept in {}",
            kept.display()
        ));
    }
    Ok(report)
}

/// The invariants at the end: one hash per height, every acknowledged transaction once and in
/// the same block on every node, no double sign, money conserved.
fn check(net: &TestNet, acked: &[B256], report: &mut FaultReport) {
    let rpcs: Vec<RpcClient> = net.nodes.iter().map(|n| n.rpc()).collect();
    // Every node at one height (a few blocks past the highest now).
    let target = rpcs.iter().filter_map(head).max().unwrap_or(0) + 2;
    let start = Instant::now();
    while rpcs.iter().any(|r| head(r).is_none_or(|h| h < target)) {
        if start.elapsed() > Duration::from_secs(60) {
            report.violations.push(format!(
                "the nodes did not all reach height {target}: {:?}",
                rpcs.iter().map(head).collect::<Vec<_>>()
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let common = rpcs.iter().filter_map(head).min().unwrap_or(0);
    report.height = common;
    let mut chains = Vec::new();
    for (k, rpc) in rpcs.iter().enumerate() {
        match chain_of(rpc, common) {
            Ok(chain) => chains.push((format!("node{k}"), chain)),
            Err(e) => report
                .violations
                .push(format!("reading node{k}'s chain: {e}")),
        }
    }
    let found = chain_violations(&chains, acked);
    report.forks = found.iter().filter(|v| v.starts_with("fork")).count();
    report.lost = found.len() - report.forks;
    report.violations.extend(found);
    if report.forks == 0 {
        // The certificates, checked by the panicking checker every test uses.
        let nodes: Vec<usize> = (0..net.nodes.len()).collect();
        let certified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::checks::check_agreement(net, &nodes, 1)
        }));
        if let Err(panic) = certified {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            report.violations.push(format!("certificates: {text}"));
        }
    }
    let double = conflicting_votes(&votes_in_logs(net, true));
    report.double_signs = double.len();
    for (slot, values) in double.iter().take(10) {
        report
            .violations
            .push(format!("double sign: {slot:?} signed {values:?}"));
    }
    if let Err(e) = money_conserved(&rpcs[0], &genesis(net), &[SINK]) {
        report.violations.push(format!("money: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_schedule_within_its_limits() {
        let a = Schedule::generate(7, 4, Duration::from_secs(120));
        let b = Schedule::generate(7, 4, Duration::from_secs(120));
        let c = Schedule::generate(8, 4, Duration::from_secs(120));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.steps.len() >= 20, "{a}");
        for seed in 0..200 {
            let s = Schedule::generate(seed, 4, Duration::from_secs(60));
            for (i, step) in s.steps.iter().enumerate() {
                assert!(step.end_ms() <= s.length_ms, "{s}");
                let overlapping: Vec<&Step> = s
                    .steps
                    .iter()
                    .filter(|o| o.at_ms <= step.at_ms && step.at_ms < o.end_ms())
                    .collect();
                assert!(
                    overlapping.len() <= MAX_OVERLAP,
                    "seed {seed} step {i}: {s}"
                );
                for other in overlapping.iter().filter(|o| **o != step) {
                    if let (Some(x), Some(y)) = (step.fault.process(), other.fault.process()) {
                        assert_ne!(x, y, "seed {seed}: one node, two faults: {s}");
                    }
                    let links: BTreeSet<_> = step.fault.links(4).into_iter().collect();
                    assert!(
                        other.fault.links(4).iter().all(|l| !links.contains(l)),
                        "seed {seed}: one link, two faults: {s}"
                    );
                    assert!(
                        !(matches!(step.fault, Fault::ClockSkew { .. })
                            && matches!(other.fault, Fault::ClockSkew { .. })),
                        "seed {seed}: two clocks skewed: {s}"
                    );
                }
                if let Fault::ClockSkew { skew_ms, .. } = step.fault {
                    assert!(skew_ms.unsigned_abs() < MAX_SKEW_MS);
                }
                if let Fault::LinkLoss { from, to } = step.fault {
                    assert_ne!(from, to);
                }
            }
        }
        // Every kind of fault turns up.
        let kinds: BTreeSet<&str> = (0..20)
            .flat_map(|seed| Schedule::generate(seed, 4, Duration::from_secs(60)).steps)
            .map(|s| s.fault.kind())
            .collect();
        assert_eq!(kinds.len(), 7, "{kinds:?}");
    }

    #[test]
    fn a_partition_acts_on_the_links_across_it() {
        let p = Fault::Partition(vec![1, 3]);
        assert_eq!(p.links(4), vec![(0, 1), (0, 3), (1, 2), (2, 3)]);
        assert_eq!(Fault::LinkLoss { from: 3, to: 1 }.links(4), vec![(1, 3)]);
        assert_eq!(Fault::Kill(2).process(), Some(2));
        assert!(Fault::Kill(2).links(4).is_empty());
    }
}
