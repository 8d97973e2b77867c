//! `banyan up`: run every node of a local network as a child process, and supervise them.
//!
//! Each node is `banyan node --config DIR/nodeK/config.toml`, started from this same executable,
//! with its output appended to `DIR/nodeK/node.log`. Children run in their own process group, so
//! a Ctrl-C in the terminal reaches only `banyan up`, which then stops them in order: SIGTERM to
//! every node, up to [`SHUTDOWN_GRACE`] for them to exit, SIGKILL for the rest. A node that exits
//! on its own is reported with the end of its log; the others keep running, as a BFT network
//! does when one node fails.

use alloy_primitives::{Address, U256};
use anyhow::{Context, bail, ensure};
use banyan_crypto::SecretKey;
use banyan_node::{NodeConfig, Role};
use banyan_primitives::Genesis;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::account;
use crate::init::{self, ACCOUNTS_DIR, CONFIG_FILE, GENESIS_FILE, InitArgs};

/// How long the nodes have to exit after SIGTERM before they get SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often the children are checked.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long one readiness probe of a node's JSON-RPC port may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);
/// After this long, a node that does not listen yet is reported (once) with its log.
const SLOW_START_WARNING: Duration = Duration::from_secs(60);
/// Lines of a node's log shown when it fails.
const LOG_TAIL_LINES: usize = 20;
/// Bytes read from the end of a node's log to find those lines.
const LOG_TAIL_MAX_BYTES: u64 = 16 * 1024;
/// The log file's name in each node's folder.
const LOG_FILE: &str = "node.log";
/// The start of the line written to a node's log each time `banyan up` starts it.
const RUN_MARKER: &str = "--- banyan up: starting ";

/// Options of `banyan up`.
#[derive(clap::Args)]
pub(crate) struct UpArgs {
    /// The network's folder. If it holds no network yet, `banyan init` runs first with its
    /// defaults: 4 validators, ecdsa, JSON-RPC from port 8545.
    #[arg(default_value = "banyan-net")]
    dir: PathBuf,
}

/// One node of the network, as its configuration says.
struct NodeEntry {
    name: String,
    config_path: PathBuf,
    log: PathBuf,
    role: Role,
    rpc: SocketAddr,
    metrics: Option<SocketAddr>,
}

/// A funded account whose key is in `DIR/accounts`.
struct FundedAccount {
    address: Address,
    /// `None` for a key file encrypted with a passphrase: only its address is shown.
    key: Option<SecretKey>,
    balance: U256,
}

/// `banyan up`.
pub(crate) fn run(a: UpArgs) -> anyhow::Result<()> {
    if !holds_network(&a.dir)? {
        init::run(InitArgs::defaults(a.dir.clone()))?;
        println!();
    }
    let (nodes, genesis) = discover(&a.dir)?;
    let accounts = funded_accounts(&a.dir.join(ACCOUNTS_DIR), &genesis)?;
    let exe = std::env::current_exe().context("finding the banyan executable to run the nodes")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(supervise(&a.dir, &exe, nodes, &genesis, &accounts))
}

/// Whether `dir` holds a network; `false` for an empty or absent folder, an error for a folder
/// with something else in it.
fn holds_network(dir: &Path) -> anyhow::Result<bool> {
    if init::is_empty_or_absent(dir)? {
        return Ok(false);
    }
    if dir.join(GENESIS_FILE).is_file() {
        return Ok(true);
    }
    bail!(
        "{} is not empty but holds no Banyan network (no {GENESIS_FILE}); give `banyan up` an \
         empty folder or one made by `banyan init`",
        dir.display()
    )
}

/// Every `nodeK/config.toml` in `dir`, in K order, loaded and checked as `banyan node` will, so
/// that a broken configuration stops everything before any process starts.
fn discover(dir: &Path) -> anyhow::Result<(Vec<NodeEntry>, Genesis)> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(index) = init::node_index(&name)
            && entry.path().is_dir()
        {
            found.push((index, name, entry.path()));
        }
    }
    found.sort();
    ensure!(
        !found.is_empty(),
        "{} holds no node folders (node0, node1, …); run `banyan init --force {}` to make the \
         network again",
        dir.display(),
        dir.display()
    );
    let mut nodes = Vec::with_capacity(found.len());
    let mut genesis: Option<(String, Genesis)> = None;
    for (_, name, path) in found {
        let config_path = path.join(CONFIG_FILE);
        let config = banyan_node::load_config(&config_path)?;
        match &genesis {
            None => genesis = Some((name.clone(), config.genesis.clone())),
            Some((first, g)) => ensure!(
                *g == config.genesis,
                "{name} runs another chain than {first}: their node.genesis files differ"
            ),
        }
        nodes.push(entry(name, config_path, path.join(LOG_FILE), &config));
    }
    let (_, genesis) = genesis.context("no node configuration")?;
    Ok((nodes, genesis))
}

fn entry(name: String, config_path: PathBuf, log: PathBuf, config: &NodeConfig) -> NodeEntry {
    NodeEntry {
        name,
        config_path,
        log,
        role: config.consensus.role,
        rpc: config.rpc.listen,
        metrics: config.metrics.listen,
    }
}

/// The keys in `dir` (`banyan account new`'s format) of the chain's suite, with their genesis
/// balance, in file-name order (`dev0.key`, `dev1.key`, …).
fn funded_accounts(dir: &Path, genesis: &Genesis) -> anyhow::Result<Vec<FundedAccount>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|x| x == "key") {
            files.push(path);
        }
    }
    // dev2.key before dev10.key.
    files.sort_by_key(|p| {
        let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
        let stem = stem.unwrap_or_default();
        let number: Option<u64> = stem.trim_start_matches("dev").parse().ok();
        (number, stem)
    });
    let suite = genesis.suite;
    let mut accounts = Vec::new();
    for path in files {
        let (key_suite, address, key) = match account::stated_address(&path) {
            // Encrypted: listed by the address it states, the passphrase never asked for.
            Ok((key_suite, address)) => (key_suite, address, None),
            Err(_) => {
                let (key_suite, key) = account::parse_key_file(&path)?;
                let address = key_suite.address(&key_suite.public_key(&key)?);
                (key_suite, address, Some(key))
            }
        };
        if key_suite != suite {
            continue;
        }
        let balance = genesis
            .alloc
            .get(&address)
            .map_or(U256::ZERO, |a| a.balance);
        accounts.push(FundedAccount {
            address,
            key,
            balance,
        });
    }
    Ok(accounts)
}

/// A running (or exited) node process.
struct Running {
    node: NodeEntry,
    process: std::process::Child,
    exited: Option<ExitStatus>,
    listening: bool,
    slow_start_reported: bool,
}

/// The node processes. Dropping it (an error, a panic) SIGKILLs whatever still runs, so that no
/// node outlives `banyan up` by accident.
struct Children(Vec<Running>);

impl Children {
    fn running(&mut self) -> impl Iterator<Item = &mut Running> {
        self.0.iter_mut().filter(|c| c.exited.is_none())
    }

    fn count_running(&self) -> usize {
        self.0.iter().filter(|c| c.exited.is_none()).count()
    }

    /// Records the children that have exited since the last call and returns them.
    fn reap(&mut self) -> Vec<usize> {
        let mut newly = Vec::new();
        for (i, child) in self.0.iter_mut().enumerate() {
            if child.exited.is_some() {
                continue;
            }
            match child.process.try_wait() {
                Ok(Some(status)) => {
                    child.exited = Some(status);
                    newly.push(i);
                }
                Ok(None) => {}
                Err(e) => eprintln!("cannot check on {}: {e}", child.node.name),
            }
        }
        newly
    }

    /// SIGKILLs and reaps every child still running.
    fn kill_all(&mut self) {
        for child in self.running() {
            if let Err(e) = child.process.kill() {
                eprintln!("cannot kill {}: {e}", child.node.name);
            }
            match child.process.wait() {
                Ok(status) => child.exited = Some(status),
                Err(e) => eprintln!("cannot reap {}: {e}", child.node.name),
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.kill_all();
    }
}

async fn supervise(
    dir: &Path,
    exe: &Path,
    nodes: Vec<NodeEntry>,
    genesis: &Genesis,
    accounts: &[FundedAccount],
) -> anyhow::Result<()> {
    // Before any child exists, so that a signal during start-up is not lost.
    let mut signals = Signals::new()?;
    let mut children = Children(Vec::with_capacity(nodes.len()));
    for node in nodes {
        let process = spawn(exe, &node)?;
        children.0.push(Running {
            node,
            process,
            exited: None,
            listening: false,
            slow_start_reported: false,
        });
    }
    print_table(dir, genesis, &children);
    print_accounts(dir, genesis, accounts);

    let started = Instant::now();
    let mut announced = false;
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    let signal = loop {
        tokio::select! {
            signal = signals.recv() => break signal,
            _ = tick.tick() => {}
        }
        for i in children.reap() {
            report_exit(&children.0[i], children.count_running());
        }
        if children.count_running() == 0 {
            bail!("every node has exited; their logs are in {}", dir.display());
        }
        probe(&mut children, started).await;
        if !announced && children.0.iter().all(|c| c.listening || c.exited.is_some()) {
            announced = true;
            println!(
                "All {} nodes are listening. Ctrl-C stops them.",
                children.count_running()
            );
        }
    };
    println!();
    println!("{signal}: stopping the network");
    shutdown(&mut children, &mut signals).await;
    Ok(())
}

/// Starts `banyan node` for `node`, its output appended to its log.
fn spawn(exe: &Path, node: &NodeEntry) -> anyhow::Result<std::process::Child> {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&node.log)
        .with_context(|| format!("opening {}", node.log.display()))?;
    writeln!(log, "{RUN_MARKER}{} ---", node.name)
        .with_context(|| format!("writing {}", node.log.display()))?;
    let mut command = Command::new(exe);
    command
        // The nodes end with `banyan up` even when it is killed outright.
        .env(crate::EXIT_WITH_PARENT_ENV, "1")
        .arg("node")
        .arg("--config")
        .arg(&node.config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("duplicating the log file handle")?)
        .stderr(log);
    // Its own process group: the terminal's Ctrl-C goes to `banyan up` alone, which stops the
    // nodes in order instead of all of them racing it.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .spawn()
        .with_context(|| format!("starting {} ({})", node.name, exe.display()))
}

fn print_table(dir: &Path, genesis: &Genesis, children: &Children) {
    println!(
        "Banyan local network in {}: chain {}, suite {}, {} nodes",
        dir.display(),
        genesis.chain_id,
        genesis.suite,
        children.0.len()
    );
    println!(
        "  {:<7} {:<10} {:<8} {:<46} {:<32} log",
        "node", "role", "pid", "JSON-RPC (HTTP and WebSocket)", "metrics"
    );
    for child in &children.0 {
        let node = &child.node;
        let rpc = format!("http://{0}  ws://{0}", node.rpc);
        let metrics = node
            .metrics
            .map_or_else(|| "off".to_owned(), |m| format!("http://{m}/metrics"));
        println!(
            "  {:<7} {:<10} {:<8} {:<46} {:<32} {}",
            node.name,
            node.role.to_string(),
            child.process.id(),
            rpc,
            metrics,
            node.log.display()
        );
    }
    println!();
}

fn print_accounts(dir: &Path, genesis: &Genesis, accounts: &[FundedAccount]) {
    if accounts.is_empty() {
        return;
    }
    let same = accounts.iter().all(|a| a.balance == accounts[0].balance);
    let each = if same {
        format!("each {}; ", format_ether(accounts[0].balance))
    } else {
        String::new()
    };
    println!(
        "Accounts ({each}keys in {}; test keys, never use them for real value)",
        dir.join(ACCOUNTS_DIR).display()
    );
    for (i, account) in accounts.iter().enumerate() {
        let balance = if same {
            String::new()
        } else {
            format!("  {}", format_ether(account.balance))
        };
        let key = account.key.as_ref().map_or_else(
            || "key encrypted".to_string(),
            |key| format!("key 0x{}", key.to_hex().trim_start_matches("0x")),
        );
        println!("  ({i}) {}  {key}{balance}", account.address);
    }
    if genesis.alloc.len() > accounts.len() {
        println!(
            "  ({} more funded in genesis without a key here)",
            genesis.alloc.len() - accounts.len()
        );
    }
    println!();
}

/// `10000 ETH`, or the exact wei when it is not a whole number of ether.
fn format_ether(wei: U256) -> String {
    let one_ether = U256::from(10u64).pow(U256::from(18u64));
    if wei % one_ether == U256::ZERO {
        format!("{} ETH", wei / one_ether)
    } else {
        format!("{wei} wei")
    }
}

fn report_exit(child: &Running, still_running: usize) {
    let status = child
        .exited
        .map_or_else(|| "an unknown status".to_owned(), |s| s.to_string());
    eprintln!(
        "{} (pid {}) exited unexpectedly ({status}); the end of {}:",
        child.node.name,
        child.process.id(),
        child.node.log.display()
    );
    eprint!("{}", indented_tail(&child.node.log));
    if still_running > 0 {
        eprintln!("{still_running} nodes still running; Ctrl-C stops them.");
    }
}

/// Checks which nodes listen on their JSON-RPC port yet; reports, once, one that is slow.
async fn probe(children: &mut Children, started: Instant) {
    let slow = started.elapsed() > SLOW_START_WARNING;
    for child in children.running() {
        if child.listening {
            continue;
        }
        let target = reachable(child.node.rpc);
        let connect = tokio::net::TcpStream::connect(target);
        if let Ok(Ok(_)) = tokio::time::timeout(PROBE_TIMEOUT, connect).await {
            child.listening = true;
        } else if slow && !child.slow_start_reported {
            child.slow_start_reported = true;
            eprintln!(
                "{} does not listen on {} after {} s; the end of {}:",
                child.node.name,
                child.node.rpc,
                SLOW_START_WARNING.as_secs(),
                child.node.log.display()
            );
            eprint!("{}", indented_tail(&child.node.log));
        }
    }
}

/// Where to reach a server listening on `listen`: loopback for a wildcard address.
fn reachable(listen: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listen.port())
    } else {
        listen
    }
}

/// SIGTERM to every node still running, then up to [`SHUTDOWN_GRACE`] for them to exit (a second
/// signal cuts it short), then SIGKILL.
async fn shutdown(children: &mut Children, signals: &mut Signals) {
    for child in children.running() {
        if let Err(e) = terminate(&mut child.process) {
            eprintln!("cannot send SIGTERM to {}: {e:#}", child.node.name);
        }
    }
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    loop {
        for i in children.reap() {
            let child = &children.0[i];
            match child.exited {
                Some(status) if status.success() => println!("{} stopped", child.node.name),
                Some(status) => eprintln!(
                    "{} stopped with {status}; see {}",
                    child.node.name,
                    child.node.log.display()
                ),
                None => {}
            }
        }
        if children.count_running() == 0 {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::time::sleep_until(deadline) => {
                report_stragglers(children, &format!("did not stop within {} s", SHUTDOWN_GRACE.as_secs()));
                break;
            }
            signal = signals.recv() => {
                report_stragglers(children, &format!("{signal} again"));
                break;
            }
        }
    }
    children.kill_all();
}

fn report_stragglers(children: &mut Children, why: &str) {
    for child in children.running() {
        eprintln!("{} {why}: sending SIGKILL", child.node.name);
    }
}

/// Asks a node to shut down cleanly.
#[cfg(unix)]
fn terminate(process: &mut std::process::Child) -> anyhow::Result<()> {
    // The standard library can only SIGKILL, and the workspace forbids `unsafe` (so no
    // `libc::kill`): kill(1), which POSIX requires on every system, sends the SIGTERM.
    let status = Command::new("kill")
        .args(["-s", "TERM", &process.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running kill(1)")?;
    ensure!(
        status.success(),
        "kill -s TERM {} failed: {status}",
        process.id()
    );
    Ok(())
}

/// Asks a node to shut down: without Unix signals, that is ending the process.
#[cfg(not(unix))]
fn terminate(process: &mut std::process::Child) -> anyhow::Result<()> {
    process.kill().context("ending the process")
}

/// The last [`LOG_TAIL_LINES`] lines of `log`, each indented, or why it cannot be read.
fn indented_tail(log: &Path) -> String {
    match tail(log) {
        Ok(lines) if lines.is_empty() => "    (the log is empty)\n".to_owned(),
        Ok(lines) => lines.iter().map(|l| format!("    {l}\n")).collect(),
        Err(e) => format!("    (cannot read the log: {e})\n"),
    }
}

fn tail(log: &Path) -> std::io::Result<Vec<String>> {
    let mut file = File::open(log)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(LOG_TAIL_MAX_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(LOG_TAIL_MAX_BYTES).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        // The first line was cut by the byte limit.
        lines.remove(0);
    }
    // Only this run's lines: the log is appended to across runs.
    if let Some(run_start) = lines.iter().rposition(|l| l.starts_with(RUN_MARKER)) {
        lines.drain(..run_start);
    }
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    Ok(lines[skip..].iter().map(|l| (*l).to_owned()).collect())
}

/// The signals that stop the network: Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).with_context(|| format!("listening for {name}"))
        };
        Ok(Self {
            interrupt: listen(SignalKind::interrupt(), "SIGINT")?,
            terminate: listen(SignalKind::terminate(), "SIGTERM")?,
            hangup: listen(SignalKind::hangup(), "SIGHUP")?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> anyhow::Result<Self> {
        Ok(Self {})
    }

    /// Waits for the next signal and names it.
    #[cfg(unix)]
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }

    /// Waits for the next Ctrl-C.
    #[cfg(not(unix))]
    async fn recv(&mut self) -> &'static str {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            // Without a way to hear Ctrl-C, never stop on one.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_of_a_bounded_read() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("node.log");
        let lines: Vec<String> = (0..5_000).map(|i| format!("line {i}")).collect();
        std::fs::write(&log, lines.join("\n"))?;
        let last = tail(&log)?;
        assert_eq!(last.len(), LOG_TAIL_LINES);
        assert_eq!(last.last().map(String::as_str), Some("line 4999"));
        assert_eq!(last.first().map(String::as_str), Some("line 4980"));
        std::fs::write(&log, "")?;
        assert!(indented_tail(&log).contains("empty"));
        let runs = format!("{RUN_MARKER}node0 ---\nold run\n{RUN_MARKER}node0 ---\nnew run\n");
        std::fs::write(&log, runs)?;
        assert_eq!(
            tail(&log)?,
            [format!("{RUN_MARKER}node0 ---"), "new run".to_owned()]
        );
        Ok(())
    }

    #[test]
    fn whole_ether_is_shown_as_ether() {
        let ether = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(format_ether(ether * U256::from(10_000u64)), "10000 ETH");
        assert_eq!(
            format_ether(ether + U256::from(1u64)),
            "1000000000000000001 wei"
        );
    }
}
