//! `banyan bench`: the load generator. Sends signed transfers, ERC-20 calls or payments of the
//! Payments module over JSON-RPC at a chosen rate (or as fast as the node takes them) and reports sustained TPS, latency from
//! submission to inclusion (p50/p99) and the nodes' peak memory. Against a network, `--rpc` may
//! be repeated: the senders are spread over the nodes.

use alloy_primitives::{Address, B256, Bytes, U256};
use anyhow::{Context, anyhow, bail};
use banyan_crypto::{SecretKey, Suite};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use banyan_sdk::payments::{self, PAYMENTS_ADDRESS};
use banyan_sdk::{Client as Rpc, Signer};

/// Creation bytecode of contracts/BanyanToken.sol (see contracts/README.md for how it was built).
const TOKEN_BIN: &str = include_str!("../../../contracts/build/BanyanToken.bin");

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    /// Plain value transfers (21,000 gas each).
    Transfer,
    /// ERC-20 `transfer` calls on a freshly deployed BanyanToken.
    Erc20,
    /// `pay` of the Payments module between many accounts in one fresh currency (the funder
    /// must hold the issuer role: account 0 of `banyan dev` does).
    Payments,
    /// Payments mixed with cross-currency payments (through the funder as liquidity provider
    /// at a posted rate) and holds that expire: 6 of 10 `pay`, 2 `payFx`, 2 `placeHold` (the
    /// funder must hold the issuer and rate_provider roles).
    PaymentsMixed,
}

/// Options of `banyan bench`.
#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// Node JSON-RPC URL (ignored with --spawn-dev). Repeat it to spread the load over several
    /// nodes of one network: sender i submits to URL i mod N; funding, deployment and watching
    /// blocks for inclusion go through the first.
    #[arg(
        long = "rpc",
        value_name = "URL",
        default_value = "http://127.0.0.1:8545"
    )]
    rpcs: Vec<String>,
    /// Start a fresh `banyan dev` node (on-disk embedded storage in a temporary directory) for the run.
    #[arg(long)]
    spawn_dev: bool,
    /// What to send (`--workload` is the same option).
    #[arg(long, alias = "workload", value_enum, default_value = "transfer")]
    mode: Mode,
    /// Transactions to send in the measured phase.
    #[arg(long, default_value_t = 20_000)]
    txs: u64,
    /// Sending accounts (funded by the funder before the measured phase).
    #[arg(long, default_value_t = 64)]
    senders: usize,
    /// Target rate in transactions per second; 0 sends as fast as the node accepts.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Most unconfirmed transactions per sender (keep below the node's per-account pool limit).
    #[arg(long, default_value_t = 48)]
    window: u64,
    /// Transactions per JSON-RPC batch request (1 sends one request per transaction).
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Funder's secret key (default: development account 0).
    #[arg(long, default_value = banyan_node::DEV_KEYS[0])]
    funder_key: String,
    /// Process id of a node, to report its peak memory (known automatically with --spawn-dev).
    /// Repeat it for every node of a network.
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// Give up waiting for inclusion after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

struct Spawned {
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free 127.0.0.1 port for the spawned node, below the kernel's ephemeral range (32768 and
/// up): a port from that range, released and bound again by the node, can meanwhile be taken
/// by any outgoing connection on the machine (the bench's own among them).
fn free_port() -> anyhow::Result<u16> {
    const PORTS: std::ops::Range<u16> = 20_000..32_000;
    let span = u32::from(PORTS.end - PORTS.start);
    let start = std::process::id() % span;
    (0..span)
        .map(|i| PORTS.start + u16::try_from((start + i * 7_919) % span).unwrap_or_default())
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .ok_or_else(|| anyhow::anyhow!("no free port on 127.0.0.1 in {PORTS:?}"))
}

async fn spawn_dev(per_account: u64) -> anyhow::Result<(Spawned, String)> {
    let exe = std::env::current_exe().context("locating the banyan binary")?;
    let dir = tempfile::Builder::new().prefix("banyan-bench-").tempdir()?;
    let port = free_port()?;
    let log = std::fs::File::create(dir.path().join("node.log"))?;
    let child = std::process::Command::new(exe)
        .args(["dev", "--port", &port.to_string(), "--datadir"])
        .arg(dir.path().join("data"))
        .args(["--max-txs-per-account", &per_account.to_string()])
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting banyan dev")?;
    let spawned = Spawned { child, _dir: dir };
    let url = format!("http://127.0.0.1:{port}");
    let rpc = Rpc::connect(&url).await?;
    let start = Instant::now();
    while rpc.block_number().await.is_err() {
        if start.elapsed() > Duration::from_secs(30) {
            bail!("spawned node did not answer on {url} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((spawned, url))
}

/// Waits until the node's head is at least `height`.
async fn wait_height(rpc: &Rpc, height: u64, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let head = rpc.block_number().await?;
        if head >= height {
            return Ok(());
        }
        if start.elapsed() > timeout {
            bail!("still at block {head}, not {height}, after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Connects to every URL and checks that they are nodes of one chain (same chain id, suite and
/// genesis block), so that a mistyped port fails before any transaction is sent.
async fn connect_all(urls: &[String]) -> anyhow::Result<(Vec<Rpc>, u64, Suite)> {
    let mut rpcs = Vec::with_capacity(urls.len());
    let mut first: Option<(u64, Suite, Value)> = None;
    for url in urls {
        let rpc = Rpc::connect(url).await?;
        let (chain_id, suite) = rpc.chain().await?;
        let genesis: Value = rpc
            .request::<Value>("eth_getBlockByNumber", vec![json!("0x0"), json!(false)])
            .await?["hash"]
            .clone();
        match &first {
            None => first = Some((chain_id, suite, genesis)),
            Some((c, s, g)) => {
                if (*c, *s, g) != (chain_id, suite, &genesis) {
                    bail!(
                        "{url} is not on the chain of {}: chain {chain_id} ({suite}) genesis {genesis} \
                         vs chain {c} ({s}) genesis {g}",
                        urls[0]
                    );
                }
            }
        }
        rpcs.push(rpc);
    }
    let (chain_id, suite, _) = first.ok_or_else(|| anyhow!("no --rpc URL given"))?;
    Ok((rpcs, chain_id, suite))
}

fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn word(bytes: &[u8]) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[32 - bytes.len()..].copy_from_slice(bytes);
    w
}

fn erc20_transfer(to: Address, amount: U256) -> Bytes {
    let mut d = vec![0xa9, 0x05, 0x9c, 0xbb];
    d.extend_from_slice(&word(to.as_slice()));
    d.extend_from_slice(&amount.to_be_bytes::<32>());
    Bytes::from(d)
}

/// The Payments workloads' currencies and the gas each call kind is given.
struct PaymentsPlan {
    usd: Address,
    eur: Address,
    provider: Address,
    mixed: bool,
    /// Gas limits of `pay`, `payFx` and `placeHold`: 1.1 times what the node estimated for a
    /// payment to a fresh account (the dearest case: the payee's balance slot is new).
    gas: [u64; 3],
}

impl PaymentsPlan {
    /// The call data and gas limit of the `n`-th measured transaction.
    fn call(&self, n: u64, recipient: Address) -> (Bytes, u64) {
        let memo = payments::Memo::default();
        let one = U256::from(1u64);
        match (self.mixed, n % 10) {
            (true, 6 | 7) => {
                let fx = payments::Fx {
                    pay_token: self.usd,
                    amount_in: U256::from(100u64),
                    receive_token: self.eur,
                    min_amount_out: one,
                    to: recipient,
                    provider: self.provider,
                };
                (payments::fx_call(&fx, &memo), self.gas[1])
            }
            (true, 8 | 9) => (
                payments::hold_call(self.usd, recipient, one, 5, ""),
                self.gas[2],
            ),
            _ => (
                payments::pay_call(self.usd, recipient, one, &memo),
                self.gas[0],
            ),
        }
    }
}

/// Registers the workload's currencies (and, mixed, a USD→EUR rate and the funder's liquidity),
/// mints to every sender, and estimates each call kind's gas.
async fn payments_setup(
    rpc: &Rpc,
    funder: &Signer,
    senders: &[Signer],
    price: u128,
    mode: Mode,
    window: u64,
) -> anyhow::Result<PaymentsPlan> {
    let mixed = mode == Mode::PaymentsMixed;
    let at = banyan_sdk::BlockId::Number(rpc.block_number().await?);
    let first = payments::currencies(rpc, at).await?.len() as u32 + 1;
    let suffix = std::process::id() % 100_000;
    let mut nonce = rpc.pending_nonce(funder.address).await?;
    let mut setup = vec![];
    let codes = [format!("B{suffix}U"), format!("B{suffix}E")];
    for code in codes.iter().take(if mixed { 2 } else { 1 }) {
        let data = payments::register_call(code, "bench", 2, U256::ZERO);
        setup.push(funder.sign(
            nonce,
            Some(PAYMENTS_ADDRESS),
            U256::ZERO,
            data,
            1_000_000,
            price,
        )?);
        nonce += 1;
    }
    send_all(rpc, setup)
        .await
        .context("registering the bench currencies (does the funder hold the issuer role?)")?;
    let (usd, eur) = (
        payments::token_address(first),
        payments::token_address(first + 1),
    );
    let at = banyan_sdk::BlockId::Number(rpc.block_number().await?);
    if payments::resolve(rpc, &codes[0], at).await? != usd {
        bail!("another currency was registered during the setup; run the bench again");
    }
    let mut setup = vec![];
    let plenty = U256::from(10u64).pow(U256::from(15u64));
    for s in senders {
        let data = payments::mint_call(usd, s.address, plenty);
        setup.push(funder.sign(
            nonce,
            Some(PAYMENTS_ADDRESS),
            U256::ZERO,
            data,
            300_000,
            price,
        )?);
        nonce += 1;
    }
    if mixed {
        let now = rpc
            .header(at)
            .await?
            .context("the node has no head block")?
            .timestamp;
        let calls = [
            payments::mint_call(eur, funder.address, plenty),
            payments::post_rate_call(
                usd,
                eur,
                U256::from(920_000_000_000_000_000u128),
                now,
                now + 86_400,
            ),
            payments::offer_liquidity_call(usd, eur, 30, true),
        ];
        for data in calls {
            setup.push(funder.sign(
                nonce,
                Some(PAYMENTS_ADDRESS),
                U256::ZERO,
                data,
                300_000,
                price,
            )?);
            nonce += 1;
        }
    }
    for chunk in setup.chunks(window.max(1) as usize) {
        send_all(rpc, chunk.to_vec())
            .await
            .context("payments setup")?;
    }
    let mut plan = PaymentsPlan {
        usd,
        eur,
        provider: funder.address,
        mixed,
        gas: [0; 3],
    };
    let probe = Address::repeat_byte(0x5a);
    let kinds: &[u64] = if mixed { &[0, 6, 8] } else { &[0] };
    for (slot, n) in kinds.iter().enumerate() {
        let (data, _) = plan.call(*n, probe);
        let estimate = rpc
            .estimate_gas(
                senders[0].address,
                Some(PAYMENTS_ADDRESS),
                U256::ZERO,
                &data,
            )
            .await
            .context("estimating a payment's gas")?;
        plan.gas[slot] = estimate + estimate / 10;
    }
    if !mixed {
        plan.gas = [plan.gas[0]; 3];
    }
    Ok(plan)
}

/// Sends `txs` from `signer` with consecutive nonces and waits for the last receipt.
async fn send_all(rpc: &Rpc, txs: Vec<Vec<u8>>) -> anyhow::Result<()> {
    let mut last = None;
    for raw in txs {
        last = Some(rpc.send_raw(&raw).await?);
    }
    if let Some(h) = last {
        let r = rpc.wait_receipt(h, Duration::from_secs(120)).await?;
        if !r.success() {
            bail!("setup transaction {h} reverted");
        }
    }
    Ok(())
}

/// How long a sender waits before submitting again a transaction the pool refused for room.
const BACKPRESSURE_PAUSE: Duration = Duration::from_millis(20);

/// Whether a refusal means "no room now" (the account's or the pool's limit), which a client
/// meets when the node it submits to has not yet seen the blocks that emptied its pool (another
/// node of a network, behind by a block): it waits and sends the same transaction again.
fn is_pool_backpressure(error: &str) -> bool {
    error.contains("account limit reached") || error.contains("txpool is full")
}

/// Submitted hashes not yet seen in a block (with sender and first attempt), and hashes seen in
/// a block before their submission was answered (with when).
type Pending = (HashMap<B256, (usize, Instant)>, HashMap<B256, Instant>);

struct Tracker {
    /// Submitted and not yet seen in a block: sender and first attempt; and hashes seen in a
    /// block before their submission was answered (a fast node seals a block before the
    /// answer arrives), with when. One lock, so that no hash falls between the two.
    submitted: Mutex<Pending>,
    /// Transactions counted as included by their submitter (seen in a block first).
    included_early: AtomicU64,
    /// Submissions each `--rpc` URL accepted.
    accepted_by_rpc: Vec<AtomicU64>,
    committed: Vec<AtomicU64>,
    latencies_ms: Mutex<Vec<f64>>,
}

pub(crate) fn run(a: BenchArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run_async(a))
}

async fn run_async(a: BenchArgs) -> anyhow::Result<()> {
    if a.senders == 0 || a.txs == 0 || a.window == 0 {
        bail!("--senders, --txs and --window must be positive");
    }
    let (spawned, urls) = if a.spawn_dev {
        let (s, u) = spawn_dev(a.window + 16).await?;
        (Some(s), vec![u])
    } else {
        (None, a.rpcs.clone())
    };
    let mut pids = a.pids.clone();
    pids.extend(spawned.as_ref().map(|s| s.child.id()));
    let (rpcs, chain_id, suite) = connect_all(&urls).await?;
    let rpc = rpcs[0].clone();
    let url = urls.join(", ");
    let price = rpc.gas_price().await?;
    let funder = Signer::new(chain_id, suite, SecretKey::from_hex(&a.funder_key)?)?;
    let senders: Vec<Signer> = (0..a.senders)
        .map(|_| Signer::new(chain_id, suite, suite.generate_secret()))
        .collect::<Result<_, _>>()?;
    eprintln!(
        "bench: {} {:?} txs from {} senders against {url} (chain {chain_id}, {suite})",
        a.txs, a.mode, a.senders
    );

    // Setup: fund senders (and deploy and distribute the token).
    let mut nonce = rpc.pending_nonce(funder.address).await?;
    let fund = U256::from(10u64).pow(U256::from(18u64)) * U256::from(10u64);
    let mut setup = vec![];
    for s in &senders {
        setup.push(funder.sign(nonce, Some(s.address), fund, Bytes::new(), 21_000, price)?);
        nonce += 1;
    }
    let mut token = None;
    if a.mode == Mode::Erc20 {
        let mut code = hex::decode(TOKEN_BIN.trim()).context("embedded token bytecode")?;
        code.extend_from_slice(&(U256::from(10u64).pow(U256::from(27u64))).to_be_bytes::<32>());
        setup.push(funder.sign(nonce, None, U256::ZERO, Bytes::from(code), 3_000_000, price)?);
        token = Some(funder.address.create(nonce));
        nonce += 1;
        for s in &senders {
            let data = erc20_transfer(s.address, U256::from(10u64).pow(U256::from(24u64)));
            setup.push(funder.sign(nonce, token, U256::ZERO, data, 100_000, price)?);
            nonce += 1;
        }
    }
    for chunk in setup.chunks(a.window.max(1) as usize) {
        send_all(&rpc, chunk.to_vec()).await.context("setup")?;
    }
    let payments = match a.mode {
        Mode::Payments | Mode::PaymentsMixed => {
            Some(payments_setup(&rpc, &funder, &senders, price, a.mode, a.window).await?)
        }
        _ => None,
    };
    // Every node must hold the funding before a sender submits to it.
    let setup_head = rpc.block_number().await?;
    for (other, url) in rpcs.iter().zip(&urls).skip(1) {
        wait_height(other, setup_head, Duration::from_secs(60))
            .await
            .with_context(|| format!("{url} after setup"))?;
    }

    // Pre-sign the measured transactions.
    let per_sender = a.txs.div_ceil(a.senders as u64);
    let mut plans: Vec<Vec<Vec<u8>>> = Vec::with_capacity(senders.len());
    let mut total = 0u64;
    for s in &senders {
        let mut txs = vec![];
        for k in 0..per_sender {
            if total == a.txs {
                break;
            }
            let recipient = Address::from_word(B256::from(U256::from(total + 1)));
            if let Some(p) = &payments {
                // Fresh accounts far from the module and precompile addresses (which refuse
                // payments or keep them).
                let payee =
                    Address::from_slice(&alloy_primitives::keccak256(total.to_be_bytes())[12..]);
                let (data, gas) = p.call(total, payee);
                txs.push(s.sign(k, Some(PAYMENTS_ADDRESS), U256::ZERO, data, gas, price)?);
                total += 1;
                continue;
            }
            let raw = match token {
                None => s.sign(
                    k,
                    Some(recipient),
                    U256::from(1u64),
                    Bytes::new(),
                    21_000,
                    price,
                )?,
                Some(t) => s.sign(
                    k,
                    Some(t),
                    U256::ZERO,
                    erc20_transfer(recipient, U256::from(1u64)),
                    60_000,
                    price,
                )?,
            };
            txs.push(raw);
            total += 1;
        }
        plans.push(txs);
    }
    eprintln!("bench: setup done, measuring");

    let tracker = Arc::new(Tracker {
        submitted: Mutex::new((HashMap::new(), HashMap::new())),
        included_early: AtomicU64::new(0),
        accepted_by_rpc: rpcs.iter().map(|_| AtomicU64::new(0)).collect(),
        committed: (0..senders.len()).map(|_| AtomicU64::new(0)).collect(),
        latencies_ms: Mutex::new(Vec::new()),
    });
    let start_block = rpc.block_number().await?;
    let started = Instant::now();
    let rejected = Arc::new(AtomicU64::new(0));
    let backpressure = Arc::new(AtomicU64::new(0));
    let deadline = started + Duration::from_secs(a.timeout_secs);
    let mut tasks = vec![];
    let n_senders = senders.len() as u64;
    for (i, txs) in plans.into_iter().enumerate() {
        let via = i % rpcs.len();
        let rpc = rpcs[via].clone();
        let tracker = tracker.clone();
        let rejected = rejected.clone();
        let backpressure = backpressure.clone();
        let (rate, window, batch) = (a.rate, a.window, a.batch.max(1) as u64);
        tasks.push(tokio::spawn(async move {
            let mut k = 0u64;
            let mut txs = txs.into_iter().peekable();
            while txs.peek().is_some() {
                if rate > 0 {
                    let slot =
                        Duration::from_secs_f64((k * n_senders + i as u64) as f64 / rate as f64);
                    tokio::time::sleep_until((started + slot).into()).await;
                }
                let take = batch.min(window);
                while k + take > tracker.committed[i].load(Ordering::Relaxed) + window {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let chunk: Vec<Vec<u8>> = txs.by_ref().take(take as usize).collect();
                // Latency counts from the first attempt, waits for pool room included.
                let t0 = Instant::now();
                let mut rest: Vec<Vec<u8>> = chunk;
                while !rest.is_empty() {
                    let results = if rest.len() == 1 {
                        vec![rpc.send_raw(&rest[0]).await.map_err(|e| format!("{e:#}"))]
                    } else {
                        match rpc.send_raw_batch(&rest).await {
                            Ok(r) => r,
                            Err(e) => vec![Err(format!("{e:#}")); rest.len()],
                        }
                    };
                    // Those refused for want of room are sent again; the later ones the pool
                    // took meanwhile wait there (queued) for them.
                    let mut again = Vec::new();
                    for (raw, r) in rest.into_iter().zip(results) {
                        match r {
                            Ok(h) => {
                                let seen = {
                                    let mut pending = tracker.submitted.lock();
                                    let seen = pending.1.remove(&h);
                                    if seen.is_none() {
                                        pending.0.insert(h, (i, t0));
                                    }
                                    seen
                                };
                                if let Some(seen) = seen {
                                    tracker.committed[i].fetch_add(1, Ordering::Relaxed);
                                    tracker.latencies_ms.lock().push(
                                        seen.saturating_duration_since(t0).as_secs_f64() * 1e3,
                                    );
                                    tracker.included_early.fetch_add(1, Ordering::Relaxed);
                                }
                                tracker.accepted_by_rpc[via].fetch_add(1, Ordering::Relaxed);
                                k += 1;
                            }
                            Err(e) if is_pool_backpressure(&e) && Instant::now() < deadline => {
                                again.push(raw);
                                backpressure.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                rejected.fetch_add(1, Ordering::Relaxed);
                                eprintln!("bench: sender {i} tx {k} rejected: {e}");
                                k += 1;
                            }
                        }
                    }
                    if !again.is_empty() {
                        tokio::time::sleep(BACKPRESSURE_PAUSE).await;
                    }
                    rest = again;
                }
            }
        }));
    }

    // Watch blocks for inclusion.
    let mut next_block = start_block + 1;
    let mut included = 0u64;
    let mut last_inclusion = started;
    let mut blocks = 0u64;
    let mut last_report = Instant::now();
    let early = || tracker.included_early.load(Ordering::Relaxed);
    while included + early() + rejected.load(Ordering::Relaxed) < total {
        if Instant::now() > deadline {
            eprintln!("bench: timed out with {included} of {total} included");
            break;
        }
        let head = rpc.block_number().await?;
        while next_block <= head {
            let b: Value = rpc
                .request(
                    "eth_getBlockByNumber",
                    vec![json!(format!("{next_block:#x}")), json!(false)],
                )
                .await?;
            let seen = Instant::now();
            let hashes = b["transactions"]
                .as_array()
                .ok_or_else(|| anyhow!("block {next_block} without transactions"))?;
            let mut any = false;
            for h in hashes {
                let h: B256 = serde_json::from_value(h.clone())?;
                let entry = {
                    let mut pending = tracker.submitted.lock();
                    let entry = pending.0.remove(&h);
                    if entry.is_none() {
                        pending.1.insert(h, seen);
                        // Counted by its submitter once answered.
                        any = true;
                    }
                    entry
                };
                if let Some((sender, t0)) = entry {
                    tracker.committed[sender].fetch_add(1, Ordering::Relaxed);
                    tracker
                        .latencies_ms
                        .lock()
                        .push(seen.duration_since(t0).as_secs_f64() * 1e3);
                    included += 1;
                    any = true;
                }
            }
            if any {
                blocks += 1;
                last_inclusion = seen;
            }
            next_block += 1;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "bench: {}/{total} included after {:.1}s",
                included + early(),
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = last_inclusion
        .duration_since(started)
        .as_secs_f64()
        .max(1e-9);
    let mut lat = tracker.latencies_ms.lock().clone();
    lat.sort_by(|x, y| x.total_cmp(y));
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let included = included + early();
    let tps = included as f64 / elapsed;
    let mem: Vec<(u32, Option<u64>)> = pids.iter().map(|&p| (p, peak_memory_kib(p))).collect();
    println!("mode            {:?}", a.mode);
    println!(
        "sent            {total} ({} rejected)",
        rejected.load(Ordering::Relaxed)
    );
    println!("included        {included} in {blocks} blocks over {elapsed:.2} s");
    println!("throughput      {tps:.0} tx/s");
    let backpressure = backpressure.load(Ordering::Relaxed);
    if backpressure > 0 {
        println!(
            "pool full       {backpressure} submissions refused for room, sent again after {BACKPRESSURE_PAUSE:?}"
        );
    }
    println!("latency p50     {:.0} ms", pct(0.50));
    println!("latency p99     {:.0} ms", pct(0.99));
    println!(
        "latency max     {:.0} ms",
        lat.last().copied().unwrap_or(f64::NAN)
    );
    let accepted: Vec<u64> = tracker
        .accepted_by_rpc
        .iter()
        .map(|n| n.load(Ordering::Relaxed))
        .collect();
    if urls.len() > 1 {
        for (url, n) in urls.iter().zip(&accepted) {
            println!("accepted by     {url}: {n}");
        }
    }
    if mem.is_empty() {
        println!("node peak RSS   unknown (give --pid or use --spawn-dev)");
    }
    for (pid, kib) in &mem {
        match kib {
            Some(kib) => println!(
                "node peak RSS   {:.0} MiB (pid {pid})",
                *kib as f64 / 1024.0
            ),
            None => println!("node peak RSS   unknown (pid {pid}: no /proc/{pid}/status)"),
        }
    }
    if let Some(path) = a.json {
        let per_node: Vec<_> = mem
            .iter()
            .map(|(pid, kib)| json!({"pid": pid, "peak_rss_kib": kib}))
            .collect();
        let report = json!({
            "mode": format!("{:?}", a.mode), "sent": total, "included": included, "blocks": blocks,
            "seconds": elapsed, "tps": tps, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "peak_rss_kib": mem.iter().filter_map(|(_, kib)| *kib).max(),
            "peak_rss_per_node": per_node, "rpc": urls, "accepted_by_rpc": accepted,
            "pool_full_retries": backpressure,
            "senders": a.senders, "rate": a.rate,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if included < total {
        bail!("{} transactions were not included", total - included);
    }
    Ok(())
}
