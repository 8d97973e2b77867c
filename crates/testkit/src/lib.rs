//! banyan-testkit (dev-only): start real `banyan` processes on free 127.0.0.1 ports, kill them
//! (SIGKILL included) and restart them, and talk JSON-RPC to them with a small blocking client.
//! Every process is killed when its handle drops, pass or fail.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod checks;
pub mod faults;
pub mod run;
pub mod seed;

use anyhow::{Context, anyhow, bail};
pub use run::OutputWithin;
use serde_json::{Value, json};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Single ports come from here: below the kernel's ephemeral range (32768 and up, where
/// outgoing connections take their ports, so a port found free there can be taken before the
/// test binds it again), above the blocks `free_base_port` hands out (20000..29999 + offsets).
const SINGLE_PORTS: std::ops::Range<u16> = 30_100..32_700;

/// First port of the kernel's ephemeral range; no test port may be at or above it.
pub const EPHEMERAL_START: u16 = 32_768;

/// The next single port to try; starts at a per-process random offset so that test binaries
/// running at once rarely probe the same ports.
static NEXT_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// A free TCP port on 127.0.0.1, below the ephemeral range, never handed out twice by this
/// process (one process-wide reservation).
pub fn free_port() -> anyhow::Result<u16> {
    use std::sync::atomic::Ordering;
    let span = SINGLE_PORTS.end - SINGLE_PORTS.start;
    let _ =
        NEXT_PORT.compare_exchange(0, 1 + rand_u16() % span, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..span {
        let offset = NEXT_PORT.fetch_add(1, Ordering::SeqCst) % span;
        let port = SINGLE_PORTS.start + offset;
        assert!(
            port < EPHEMERAL_START,
            "test port {port} is in the ephemeral range"
        );
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port in {SINGLE_PORTS:?}")
}

/// A blocking JSON-RPC client over HTTP/1.1 (one connection per call).
#[derive(Clone, Debug)]
pub struct RpcClient {
    addr: SocketAddr,
    timeout: Duration,
}

/// A JSON-RPC error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcErrorReply {
    /// Error code.
    pub code: i64,
    /// Error message.
    pub message: String,
    /// Optional data.
    pub data: Value,
}

impl std::fmt::Display for RpcErrorReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl RpcClient {
    /// A client for the node at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            timeout: Duration::from_secs(60),
        }
    }

    /// This client with `timeout` for connecting and for each answer (60 s by default): a load
    /// that must not stall on a paused node uses a short one.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends a raw body and returns the HTTP status and the body.
    pub fn post_raw(&self, body: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut s =
            TcpStream::connect_timeout(&self.addr, self.timeout.min(Duration::from_secs(5)))?;
        s.set_read_timeout(Some(self.timeout))?;
        s.set_write_timeout(Some(self.timeout))?;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes())?;
        // The server may answer (e.g. 413) and close before the whole body is written.
        let _ = s.write_all(body);
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        let text_end = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| anyhow!("malformed HTTP response"))?;
        let head = String::from_utf8_lossy(&out[..text_end]).to_string();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("no HTTP status"))?;
        let mut body = out[text_end + 4..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body)?;
        }
        Ok((status, body))
    }

    /// Calls `method`; `Ok(Err(..))` is a JSON-RPC error answer.
    pub fn try_call(
        &self,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Result<Value, RpcErrorReply>> {
        let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (status, body) = self.post_raw(req.to_string().as_bytes())?;
        let v: Value = serde_json::from_slice(&body)
            .with_context(|| format!("HTTP {status}: {}", String::from_utf8_lossy(&body)))?;
        if let Some(e) = v.get("error") {
            return Ok(Err(RpcErrorReply {
                code: e["code"].as_i64().unwrap_or_default(),
                message: e["message"].as_str().unwrap_or_default().to_string(),
                data: e.get("data").cloned().unwrap_or(Value::Null),
            }));
        }
        Ok(Ok(v["result"].clone()))
    }

    /// Calls `method` and fails on an error answer.
    pub fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.try_call(method, params)?
            .map_err(|e| anyhow!("{method}: {e}"))
    }

    /// A hex quantity result as u64.
    pub fn quantity(&self, method: &str, params: Value) -> anyhow::Result<u64> {
        let v = self.call(method, params)?;
        parse_quantity(&v)
    }

    /// Waits for a receipt.
    pub fn wait_receipt(&self, hash: &str, timeout: Duration) -> anyhow::Result<Value> {
        let start = Instant::now();
        loop {
            let r = self.call("eth_getTransactionReceipt", json!([hash]))?;
            if !r.is_null() {
                return Ok(r);
            }
            if start.elapsed() > timeout {
                bail!("no receipt for {hash} within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Parses a 0x hex quantity (the SDK's parser, the one every client uses).
pub fn parse_quantity(v: &Value) -> anyhow::Result<u64> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("expected hex quantity, got {v}"))?;
    Ok(banyan_sdk::quantity::parse(s)?)
}

fn dechunk(mut b: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("bad chunk"))?;
        let size = usize::from_str_radix(std::str::from_utf8(&b[..line_end])?.trim(), 16)?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(b.get(..size).ok_or_else(|| anyhow!("short chunk"))?);
        b = b.get(size + 2..).unwrap_or_default();
    }
}

/// A `banyan dev` or `banyan node` process.
pub struct DevNode {
    child: Option<Child>,
    /// RPC port.
    pub port: u16,
    /// Data directory (kept across restarts).
    pub datadir: PathBuf,
    /// Log file of the process.
    pub log: PathBuf,
    bin: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    _tmp: Option<tempfile::TempDir>,
}

impl DevNode {
    /// Starts `bin dev` on a free port with a fresh data directory and `extra` arguments.
    pub fn start(bin: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        let tmp = tempfile::Builder::new().prefix("banyan-test-").tempdir()?;
        let datadir = tmp.path().join("data");
        let log = tmp.path().join("node.log");
        let port = free_port()?;
        let mut args = vec![
            "dev".to_string(),
            "--port".to_string(),
            port.to_string(),
            "--datadir".to_string(),
            datadir.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut n = Self {
            child: None,
            port,
            datadir,
            log,
            bin: bin.to_path_buf(),
            args,
            env: Vec::new(),
            _tmp: Some(tmp),
        };
        n.spawn()?;
        Ok(n)
    }

    /// A `bin node --config <config>` process serving RPC on `port`, not started yet; its
    /// output goes to `log`.
    pub fn from_config(
        bin: &Path,
        config: &Path,
        port: u16,
        datadir: PathBuf,
        log: PathBuf,
    ) -> Self {
        Self {
            child: None,
            port,
            datadir,
            log,
            bin: bin.to_path_buf(),
            args: vec![
                "node".to_string(),
                "--config".to_string(),
                config.display().to_string(),
            ],
            env: Vec::new(),
            _tmp: None,
        }
    }

    /// Adds a command-line argument for the next starts (e.g. `--recover`).
    pub fn add_arg(&mut self, arg: &str) {
        self.args.push(arg.to_string());
    }

    /// Sets an environment variable for the next start (e.g. `RUST_LOG`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Starts the process if it is not running and waits until it serves RPC.
    pub fn start_process(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        self.spawn()
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Asks the process to stop (SIGTERM) and waits up to `timeout` for it, then kills it.
    pub fn stop(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let Some(mut c) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < timeout {
            if c.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        c.kill()?;
        c.wait()?;
        bail!("process did not stop within {timeout:?} of SIGTERM; killed")
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        self.spawn_no_wait()?;
        self.wait_ready(Duration::from_secs(60))
    }

    /// Starts the process (if it is not running) without waiting for it to serve RPC: for a
    /// restart that must not hold up the caller (a fault schedule, several nodes at once).
    pub fn spawn_no_wait(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.bin)
            .args(&self.args)
            // A killed test runner leaves no node behind: the node exits when its parent does.
            .env("BANYAN_EXIT_WITH_PARENT", "1")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits up to `timeout` until the process serves RPC; fails, with its log, if it exits
    /// first.
    pub fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            if let Ok(Ok(_)) = self.rpc().try_call("eth_blockNumber", json!([])) {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && let Some(status) = c.try_wait()?
            {
                bail!(
                    "node exited with {status} before serving RPC; log:\n{}",
                    self.log_text()
                );
            }
            if start.elapsed() > timeout {
                bail!(
                    "node not ready within {timeout:?}; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The node's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A client for this node.
    pub fn rpc(&self) -> RpcClient {
        RpcClient::new(SocketAddr::from(([127, 0, 0, 1], self.port)))
    }

    /// HTTP URL of the node.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// WebSocket URL of the node.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// Restarts the process on the same data directory and port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill9()?;
        self.spawn()
    }

    /// Sends `signal` (a `kill -s` name: `STOP`, `CONT`, …) to the running process.
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self
            .pid()
            .ok_or_else(|| anyhow!("the node is not running"))?;
        let status = Command::new("kill")
            .args(["-s", signal, &pid.to_string()])
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -s {signal} {pid} failed with {status}");
        }
        Ok(())
    }

    /// How the process ended, if it was started and has ended on its own.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Process id of the running node.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

/// A network made by `banyan init` in a temporary directory, each node a separate
/// `banyan node` process. Every process is killed when this drops.
pub struct TestNet {
    /// The nodes, in `banyan init` order.
    pub nodes: Vec<DevNode>,
    /// The network's directory.
    pub dir: PathBuf,
    /// Removed on drop unless [`TestNet::keep_files`] took it.
    tmp: Option<tempfile::TempDir>,
}

impl TestNet {
    /// Runs `bin init --nodes <validators> --suite <suite> <extra>` on free ports and starts
    /// every node.
    pub fn start(
        bin: &Path,
        validators: usize,
        suite: &str,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let net = Self::init(bin, validators, suite, extra)?;
        let mut net = net;
        for node in &mut net.nodes {
            node.spawn_no_wait()?;
        }
        for node in &mut net.nodes {
            node.wait_ready(Duration::from_secs(60))?;
        }
        Ok(net)
    }

    /// Like [`TestNet::start`] without starting anything.
    pub fn init(
        bin: &Path,
        validators: usize,
        suite: &str,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let tmp = tempfile::Builder::new().prefix("banyan-net-").tempdir()?;
        let dir = tmp.path().join("net");
        let observers: usize = extra
            .windows(2)
            .find(|w| w[0] == "--observers")
            .and_then(|w| w[1].parse().ok())
            .unwrap_or(0);
        let count = validators + observers;
        let base = free_base_port(count)?;
        let out = Command::new(bin)
            .args(["init", "--nodes", &validators.to_string(), "--suite", suite])
            .args(["--base-port", &base.to_string()])
            .args(extra)
            .arg(&dir)
            .output_within(run::COMMAND_DEADLINE)
            .context("running banyan init")?;
        if !out.status.success() {
            bail!(
                "banyan init failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let nodes = (0..count)
            .map(|k| {
                let node_dir = dir.join(format!("node{k}"));
                DevNode::from_config(
                    bin,
                    &node_dir.join("config.toml"),
                    base + k as u16,
                    node_dir.join("data"),
                    node_dir.join("node.log"),
                )
            })
            .collect();
        Ok(Self {
            nodes,
            dir,
            tmp: Some(tmp),
        })
    }
}

impl TestNet {
    /// Keeps the network's directory (configurations, data, every node's log) after this drops,
    /// and returns it: what a failing run leaves for the bug report.
    pub fn keep_files(&mut self) -> PathBuf {
        if let Some(tmp) = self.tmp.take() {
            let _kept = tmp.keep();
        }
        self.dir.clone()
    }

    /// Sets `key = value` in the `[consensus]` table of every node's configuration (before the
    /// nodes start).
    pub fn set_consensus(&self, key: &str, value: &str) -> anyhow::Result<()> {
        self.set_config("consensus", key, value)
    }

    /// Sets `key = value` in table `[table]` of every node's configuration (before the nodes
    /// start): replaces the key's line if the table has one, adds it after the table's header if
    /// not, and adds the table if the file has none.
    pub fn set_config(&self, table: &str, key: &str, value: &str) -> anyhow::Result<()> {
        for k in 0..self.nodes.len() {
            let path = self.dir.join(format!("node{k}")).join("config.toml");
            let text = std::fs::read_to_string(&path)?;
            std::fs::write(&path, set_toml_key(&text, table, key, value))?;
        }
        Ok(())
    }

    /// Starts the listed nodes and waits until each serves RPC.
    pub fn start_nodes(&mut self, nodes: &[usize]) -> anyhow::Result<()> {
        for &i in nodes {
            self.nodes[i].spawn_no_wait()?;
        }
        for &i in nodes {
            self.nodes[i].wait_ready(Duration::from_secs(60))?;
        }
        Ok(())
    }
}

/// `text` (a TOML file of tables and `key = value` lines) with `key = value` in `[table]`.
fn set_toml_key(text: &str, table: &str, key: &str, value: &str) -> String {
    let header = format!("[{table}]");
    let line = format!("{key} = {value}");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let Some(at) = lines.iter().position(|l| l.trim() == header) else {
        return format!("{}\n{header}\n{line}\n", text.trim_end());
    };
    let end = lines[at + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| at + 1 + i);
    let existing = (at + 1..end).find(|&i| {
        lines[i]
            .split('=')
            .next()
            .is_some_and(|k| k.trim() == key && lines[i].contains('='))
    });
    match existing {
        Some(i) => lines[i] = line,
        None => lines.insert(at + 1, line),
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod config_tests {
    #[test]
    fn a_key_is_replaced_added_or_given_its_table() {
        let text = "[node]\ndata_dir = \"data\"\n\n[consensus]\nrole = \"validator\"\ntarget_block_ms = 1000\n";
        let set = super::set_toml_key(text, "consensus", "target_block_ms", "20");
        assert!(set.contains("target_block_ms = 20\n"), "{set}");
        assert!(!set.contains("1000"), "{set}");
        let added = super::set_toml_key(text, "consensus", "timeout_propose_ms", "1000");
        assert!(
            added.contains("[consensus]\ntimeout_propose_ms = 1000\n"),
            "{added}"
        );
        let table = super::set_toml_key(text, "txpool", "max_per_account", "256");
        assert!(
            table.ends_with("[txpool]\nmax_per_account = 256\n"),
            "{table}"
        );
        assert!(table.contains("target_block_ms = 1000"), "{table}");
    }
}

/// A base port `p` such that `p + k`, `p + 1000 + k` and `p + 2000 + k` are free for every
/// `k < count` (the layout `banyan init --base-port` uses).
pub fn free_base_port(count: usize) -> anyhow::Result<u16> {
    for _ in 0..200 {
        // Below the kernel's ephemeral range (32768 and up), so that no outgoing connection of a
        // running node can hold a port a later node needs; above the proxies' 10000..19999.
        let base = 20_000 + (rand_u16() % 8_000);
        let all_free = (0..count as u16).all(|k| {
            [base + k, base + 1000 + k, base + 2000 + k]
                .iter()
                .all(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        });
        if all_free {
            assert!(
                base + 2000 + (count as u16) < EPHEMERAL_START,
                "test ports from {base} reach the ephemeral range"
            );
            return Ok(base);
        }
    }
    bail!("no free block of ports found")
}

fn rand_u16() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    ((nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 65_536) as u16
}

impl TestNet {
    /// The configuration file of node `k`.
    pub fn config_path(&self, k: usize) -> PathBuf {
        self.dir.join(format!("node{k}")).join("config.toml")
    }

    /// The `[network] listen` address of node `k`, read from its configuration.
    pub fn p2p_addr(&self, k: usize) -> anyhow::Result<SocketAddr> {
        let path = self.config_path(k);
        let text = std::fs::read_to_string(&path)?;
        let network = text
            .split_once("[network]\n")
            .map(|(_, rest)| rest)
            .ok_or_else(|| anyhow!("{} has no [network] table", path.display()))?;
        network
            .lines()
            .take_while(|l| !l.starts_with('['))
            .find_map(|l| {
                let value = l.strip_prefix("listen")?.trim_start().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_string())
            })
            .ok_or_else(|| anyhow!("{} has no network.listen", path.display()))?
            .parse()
            .with_context(|| format!("network.listen in {}", path.display()))
    }

    /// Replaces the `[network] peers` list of node `k` (before it starts).
    pub fn set_peers(&self, k: usize, peers: &[SocketAddr]) -> anyhow::Result<()> {
        set_peers_in(&self.config_path(k), peers)
    }
}

/// Replaces the `peers = [...]` line of the `[network]` table in the configuration at `path`.
pub fn set_peers_in(path: &Path, peers: &[SocketAddr]) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let list: Vec<String> = peers.iter().map(|p| format!("\"{p}\"")).collect();
    let mut in_network = false;
    let mut replaced = false;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('[') {
            in_network = line.trim() == "[network]";
        }
        if in_network && !replaced && line.trim_start().starts_with("peers") {
            out.push_str(&format!("peers = [{}]", list.join(", ")));
            replaced = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !replaced {
        bail!("{} has no network.peers line", path.display());
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// A TCP forwarder on a free 127.0.0.1 port to a target address, which a test can cut (as a
/// network partition would) and heal. Each accepted connection is forwarded by two threads, one
/// per direction. While cut, open connections are closed and new ones are accepted and closed at
/// once, before any byte is forwarded. Dropping it stops every thread and closes every
/// connection.
pub struct PartitionProxy {
    addr: SocketAddr,
    target: SocketAddr,
    shared: std::sync::Arc<ProxyShared>,
    accept: Option<std::thread::JoinHandle<()>>,
}

struct ProxyShared {
    cut: std::sync::atomic::AtomicBool,
    stop: std::sync::atomic::AtomicBool,
    /// Bytes towards the target (`[0]`) or back from it (`[1]`) are read and discarded.
    drop: [std::sync::atomic::AtomicBool; 2],
    /// Each chunk read is held this long before it is forwarded (a slow link).
    delay_ms: std::sync::atomic::AtomicU64,
    forwarded: std::sync::atomic::AtomicU64,
    refused: std::sync::atomic::AtomicU64,
    state: std::sync::Mutex<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    next_id: u64,
    /// Open connections by id: the accepted stream and the one to the target.
    open: std::collections::HashMap<u64, (TcpStream, TcpStream)>,
    pumps: Vec<std::thread::JoinHandle<()>>,
}

impl ProxyShared {
    fn state(&self) -> std::sync::MutexGuard<'_, ProxyState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How long the accept thread sleeps when no connection is waiting.
const PROXY_POLL: Duration = Duration::from_millis(10);

impl PartitionProxy {
    /// Listens on a free 127.0.0.1 port and forwards every connection to `target`.
    ///
    /// The port is taken below 20000: outside the kernel's ephemeral range (from 32768 on
    /// Linux) and the ports [`TestNet`] lays out (from 20000), so that a proxy started after
    /// `TestNet::init` cannot take a port a node is about to listen on.
    pub fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = proxy_listener()?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = std::sync::Arc::new(ProxyShared {
            cut: false.into(),
            stop: false.into(),
            drop: [false.into(), false.into()],
            delay_ms: 0.into(),
            forwarded: 0.into(),
            refused: 0.into(),
            state: std::sync::Mutex::new(ProxyState::default()),
        });
        let accept = {
            let shared = std::sync::Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("proxy-{addr}"))
                .spawn(move || proxy_accept_loop(listener, target, &shared))?
        };
        Ok(Self {
            addr,
            target,
            shared,
            accept: Some(accept),
        })
    }

    /// The address to dial instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address connections are forwarded to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Closes every open connection and refuses new ones until [`PartitionProxy::heal`].
    pub fn cut(&self) {
        let state = self.shared.state();
        self.shared
            .cut
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for (a, b) in state.open.values() {
            let _ = a.shutdown(std::net::Shutdown::Both);
            let _ = b.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Forwards new connections again.
    pub fn heal(&self) {
        let _state = self.shared.state();
        self.shared
            .cut
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// One-way loss: from now on, the bytes sent towards the target (`towards_target`) or back
    /// from it are read and discarded while the other direction flows (the receiver sees
    /// silence, the sender sees its writes succeed). Clearing it closes the open connections
    /// (their streams have lost bytes), and the next ones are whole.
    pub fn set_loss(&self, towards_target: bool, lost: bool) {
        use std::sync::atomic::Ordering::SeqCst;
        let side = usize::from(!towards_target);
        let was = self.shared.drop[side].swap(lost, SeqCst);
        if was && !lost {
            self.close_open();
        }
    }

    /// A slow link: every chunk is held `delay` before it is forwarded, both ways (zero for a
    /// normal link).
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared
            .delay_ms
            .store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Closes every open connection; new ones are forwarded as before.
    pub fn close_open(&self) {
        let state = self.shared.state();
        for (a, b) in state.open.values() {
            let _ = a.shutdown(std::net::Shutdown::Both);
            let _ = b.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Whether the proxy is cut.
    pub fn is_cut(&self) -> bool {
        self.shared.cut.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.state().open.len()
    }

    /// Connections forwarded so far.
    pub fn forwarded(&self) -> u64 {
        self.shared
            .forwarded
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Connections accepted and closed at once so far (while cut, or the target down).
    pub fn refused(&self) -> u64 {
        self.shared
            .refused
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for PartitionProxy {
    fn drop(&mut self) {
        self.shared
            .stop
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut();
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        let pumps = std::mem::take(&mut self.shared.state().pumps);
        for pump in pumps {
            let _ = pump.join();
        }
    }
}

/// A listener on a free 127.0.0.1 port in 10000..20000 (any free port if none is found).
fn proxy_listener() -> anyhow::Result<TcpListener> {
    for attempt in 0..500u16 {
        let port = 10_000 + (rand_u16().wrapping_add(attempt.wrapping_mul(7919)) % 10_000);
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return Ok(listener);
        }
    }
    bail!("no free port for a partition proxy in 10000..20000")
}

fn proxy_accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    shared: &std::sync::Arc<ProxyShared>,
) {
    use std::sync::atomic::Ordering::SeqCst;
    while !shared.stop.load(SeqCst) {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(_) => {
                // WouldBlock (nothing waiting) or a transient error.
                std::thread::sleep(PROXY_POLL);
                continue;
            }
        };
        // Counted before the close, so that a client that sees the close sees the count.
        let refuse = |s: &TcpStream| {
            shared.refused.fetch_add(1, SeqCst);
            let _ = s.shutdown(std::net::Shutdown::Both);
        };
        if shared.cut.load(SeqCst) || client.set_nonblocking(false).is_err() {
            refuse(&client);
            continue;
        }
        let Ok(upstream) = TcpStream::connect_timeout(&target, Duration::from_secs(5)) else {
            refuse(&client);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let streams = (|| {
            Some((
                (client.try_clone().ok()?, upstream.try_clone().ok()?),
                (client.try_clone().ok()?, upstream.try_clone().ok()?),
            ))
        })();
        let mut state = shared.state();
        // Checked under the lock `cut` takes, so a connection is either closed by `cut` or
        // refused here.
        let Some((registered, (client_read, upstream_read))) = streams else {
            drop(state);
            refuse(&client);
            continue;
        };
        if shared.cut.load(SeqCst) || shared.stop.load(SeqCst) {
            drop(state);
            refuse(&client);
            let _ = upstream.shutdown(std::net::Shutdown::Both);
            continue;
        }
        let id = state.next_id;
        state.next_id += 1;
        state.open.insert(id, registered);
        shared.forwarded.fetch_add(1, SeqCst);
        // Reap the threads of connections that have ended.
        let (done, running): (Vec<_>, Vec<_>) =
            state.pumps.drain(..).partition(|h| h.is_finished());
        state.pumps = running;
        for (side, (from, to)) in [(client_read, upstream), (upstream_read, client)]
            .into_iter()
            .enumerate()
        {
            let shared = std::sync::Arc::clone(shared);
            match std::thread::Builder::new()
                .name(format!("proxy-pump-{id}"))
                .spawn(move || proxy_pump(from, to, id, side, &shared))
            {
                Ok(handle) => state.pumps.push(handle),
                Err(_) => {
                    if let Some((a, b)) = state.open.get(&id) {
                        let _ = a.shutdown(std::net::Shutdown::Both);
                        let _ = b.shutdown(std::net::Shutdown::Both);
                    }
                }
            }
        }
        drop(state);
        for handle in done {
            let _ = handle.join();
        }
    }
}

/// Copies `from` to `to` (direction `side`: 0 towards the target, 1 back) until either side
/// ends, then closes both directions of both; drops or delays what it reads as the proxy is set.
fn proxy_pump(mut from: TcpStream, mut to: TcpStream, id: u64, side: usize, shared: &ProxyShared) {
    use std::sync::atomic::Ordering::SeqCst;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if shared.drop[side].load(SeqCst) {
                    continue;
                }
                let delay = shared.delay_ms.load(SeqCst);
                if delay > 0 {
                    std::thread::sleep(Duration::from_millis(delay));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
    shared.state().open.remove(&id);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod proxy_tests {
    use super::*;

    /// An echo server on a free port, one thread per connection (ended by the client's close);
    /// the accepting thread lives as long as the test process.
    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", free_port().unwrap())).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn echo(stream: &mut TcpStream, msg: &[u8]) -> std::io::Result<Vec<u8>> {
        stream.write_all(msg)?;
        let mut got = vec![0u8; msg.len()];
        stream.read_exact(&mut got)?;
        Ok(got)
    }

    fn dial(addr: SocketAddr) -> TcpStream {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// Threads of this process (Linux).
    fn threads() -> usize {
        std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
    }

    #[test]
    fn one_way_loss_silences_one_direction_and_a_slow_link_holds_each_chunk() {
        let target = echo_server();
        let proxy = PartitionProxy::start(target).unwrap();
        let mut a = dial(proxy.addr());
        assert_eq!(echo(&mut a, b"up").unwrap(), b"up");

        // Lost towards the target: the echo server hears nothing, so nothing comes back, and
        // the sender's write succeeds.
        proxy.set_loss(true, true);
        a.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        assert!(echo(&mut a, b"lost").is_err());
        // Cleared: the broken connection is closed, a new one is whole.
        proxy.set_loss(true, false);
        let mut buf = [0u8; 8];
        assert!(matches!(a.read(&mut buf), Ok(0) | Err(_)));
        let mut b = dial(proxy.addr());
        assert_eq!(echo(&mut b, b"whole").unwrap(), b"whole");

        // Lost on the way back: the target gets the bytes, the answer never arrives.
        proxy.set_loss(false, true);
        b.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        assert!(echo(&mut b, b"gone").is_err());
        proxy.set_loss(false, false);

        // Slow: a round trip crosses the proxy twice, each chunk held 150 ms.
        proxy.set_delay(Duration::from_millis(150));
        let mut c = dial(proxy.addr());
        let start = Instant::now();
        assert_eq!(echo(&mut c, b"slow").unwrap(), b"slow");
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "{:?}",
            start.elapsed()
        );
        proxy.set_delay(Duration::ZERO);
    }

    #[test]
    fn forwards_cuts_heals_and_stops_its_threads_on_drop() {
        let target = echo_server();
        let before = threads();
        let proxy = PartitionProxy::start(target).unwrap();
        assert_eq!(proxy.target(), target);
        let mut a = dial(proxy.addr());
        assert_eq!(echo(&mut a, b"hello").unwrap(), b"hello");
        assert_eq!(proxy.forwarded(), 1);
        assert_eq!(proxy.open_connections(), 1);

        // Cut: the open connection ends, and a new one is closed before any byte goes through.
        proxy.cut();
        assert!(proxy.is_cut());
        let mut buf = [0u8; 8];
        assert!(matches!(a.read(&mut buf), Ok(0) | Err(_)));
        let mut b = dial(proxy.addr());
        assert!(echo(&mut b, b"x").is_err());
        assert_eq!(proxy.forwarded(), 1);
        assert!(proxy.refused() >= 1);
        let start = Instant::now();
        while proxy.open_connections() > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "connection not closed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }

        // Heal: new connections are forwarded again.
        proxy.heal();
        assert!(!proxy.is_cut());
        let mut c = dial(proxy.addr());
        assert_eq!(echo(&mut c, b"again").unwrap(), b"again");
        assert_eq!(proxy.forwarded(), 2);

        // Drop: every proxy thread has ended (the echo server's threads are not ours).
        let during = threads();
        assert!(
            during >= before + 3,
            "{before} threads before, {during} during"
        );
        drop(proxy);
        assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
        drop((a, b, c));
        let start = Instant::now();
        // The echo server's thread for connection `c` ends once it sees the close.
        while threads() > before {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{} threads left, {before} before the proxy",
                threads()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
