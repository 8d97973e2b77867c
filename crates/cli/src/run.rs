//! `banyan dev`, `banyan node` and `banyan replay`.

use anyhow::Context;
use banyan_crypto::Suite;
use banyan_node::{BlockConfig, DataDir, MetricsSection, NodeConfig, PoolSection, RpcSection};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Options of `banyan dev`.
#[derive(clap::Args)]
pub(crate) struct DevArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// JSON-RPC port (HTTP and WebSocket).
    #[arg(long, short, default_value_t = 8545)]
    port: u16,
    /// Keep the chain in this directory (embedded storage); by default a fresh temporary directory.
    #[arg(long)]
    datadir: Option<PathBuf>,
    /// Keep the chain in memory only.
    #[arg(long, conflicts_with = "datadir")]
    memory: bool,
    /// Longest time between blocks, in milliseconds (blocks come at once when transactions wait).
    #[arg(long, default_value_t = 1000)]
    block_time_ms: u64,
    /// Also produce empty blocks at every interval.
    #[arg(long)]
    empty_blocks: bool,
    /// Number of funded development accounts (at most 10).
    #[arg(long, default_value_t = 10)]
    accounts: usize,
    /// Balance of each development account, in ether.
    #[arg(long, default_value_t = 10_000)]
    balance: u64,
    /// Chain id (31337 like Hardhat and Anvil).
    #[arg(long, default_value_t = 31337)]
    chain_id: u64,
    /// Crypto suite: ecdsa (secp256k1 + Keccak) or sm (SM2 + SM3).
    #[arg(long, default_value = "ecdsa")]
    suite: Suite,
    /// Most transactions held by the pool for one account.
    #[arg(long, default_value_t = 64)]
    max_txs_per_account: usize,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics (off by default).
    #[arg(long, value_name = "PORT")]
    metrics_port: Option<u16>,
}

/// Options of `banyan node`.
#[derive(clap::Args)]
pub(crate) struct NodeArgs {
    /// The node's TOML configuration file.
    #[arg(long, short)]
    config: PathBuf,
    /// If the chain store is damaged, move it aside (never deleted) and rebuild it from the
    /// peers; the consensus folder and its safety record are kept (`[node] auto_recover`).
    #[arg(long)]
    recover: bool,
}

/// Options of `banyan replay`.
#[derive(clap::Args)]
pub(crate) struct ReplayArgs {
    /// The node's TOML configuration file (its data directory is the source, read-only use).
    #[arg(long, short)]
    config: PathBuf,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn serve(config: NodeConfig) -> anyhow::Result<()> {
    let handle = banyan_node::start(config).await?;
    let node = handle.node.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        node.stop();
                        return;
                    }
                };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        node.stop();
    });
    tracing::info!(rpc = %format!("http://{}", handle.rpc_addr), ws = %format!("ws://{}", handle.rpc_addr), "JSON-RPC listening");
    if let Some(addr) = handle.metrics_addr {
        tracing::info!(metrics = %format!("http://{addr}/metrics"), "metrics listening");
    }
    handle.wait().await?;
    Ok(())
}

pub(crate) fn dev(a: DevArgs) -> anyhow::Result<()> {
    if a.accounts == 0 || a.accounts > banyan_node::DEV_KEYS.len() {
        anyhow::bail!(
            "--accounts must be between 1 and {}",
            banyan_node::DEV_KEYS.len()
        );
    }
    let accounts = banyan_node::dev_accounts(a.suite, a.accounts)?;
    let (genesis, validator_key) =
        banyan_node::dev_genesis(a.suite, a.chain_id, &accounts, a.balance)?;
    let mut _tmp = None;
    let data_dir = match (a.memory, a.datadir) {
        (true, _) => DataDir::Memory,
        (false, Some(d)) => DataDir::Path(d),
        (false, None) => {
            let t = tempfile::Builder::new()
                .prefix("banyan-dev-")
                .tempdir()
                .context("creating a temporary data directory")?;
            let p = t.path().to_path_buf();
            _tmp = Some(t);
            DataDir::Path(p)
        }
    };
    let config = NodeConfig {
        block: BlockConfig {
            interval_ms: a.block_time_ms.max(1),
            produce_on_tx: true,
            empty_blocks: a.empty_blocks,
            max_txs_per_block: 10_000,
        },
        rpc: RpcSection {
            listen: SocketAddr::new(a.host, a.port),
            // Like Hardhat and Anvil: any web page may call the development chain.
            cors_allow_origins: vec!["*".to_string()],
            ..RpcSection::default()
        },
        txpool: PoolSection {
            max_per_account: a.max_txs_per_account,
            // A temporary data directory is deleted at exit: nothing would read a journal.
            journal: _tmp.is_none(),
            ..PoolSection::default()
        },
        metrics: MetricsSection {
            listen: a.metrics_port.map(|p| SocketAddr::new(a.host, p)),
        },
        ..NodeConfig::new(data_dir.clone(), genesis, validator_key)
    };
    banyan_node::validate(&config).map_err(anyhow::Error::msg)?;
    println!("Banyan development chain");
    println!("  chain id   {}", a.chain_id);
    println!("  suite      {}", a.suite);
    match &data_dir {
        DataDir::Memory => println!("  storage    in memory"),
        DataDir::Path(p) => println!("  storage    {}", p.display()),
    }
    println!("  JSON-RPC   http://{0}:{1}  ws://{0}:{1}", a.host, a.port);
    if let Some(p) = a.metrics_port {
        println!("  metrics    http://{}:{p}/metrics", a.host);
    }
    println!();
    println!(
        "Accounts (each {} ETH; test keys, public knowledge: never use them for real value)",
        a.balance
    );
    for (i, acc) in accounts.iter().enumerate() {
        println!(
            "  ({i}) {}  key 0x{}",
            acc.address,
            acc.key.to_hex().trim_start_matches("0x")
        );
    }
    println!();
    runtime()?.block_on(serve(config))
}

pub(crate) fn node(a: NodeArgs) -> anyhow::Result<()> {
    let mut config = banyan_node::load_config(&a.config)?;
    config.recover |= a.recover;
    runtime()?.block_on(serve(config))
}

pub(crate) fn replay(a: ReplayArgs) -> anyhow::Result<()> {
    let config = banyan_node::load_config(&a.config)?;
    let DataDir::Path(dir) = &config.data_dir else {
        anyhow::bail!("replay needs a data directory")
    };
    let source_store = banyan_storage::open_redb_with(dir, config.store_cipher()?)?;
    let source = banyan_node::ChainStore::new(source_store, config.genesis.suite);
    let target_cfg = NodeConfig {
        data_dir: DataDir::Memory,
        ..config.clone()
    };
    let target = banyan_node::Node::open(&target_cfg)?;
    let started = std::time::Instant::now();
    let n = banyan_node::replay(&source, &target, &|n, head| {
        if n % 1000 == 0 || n == head {
            tracing::info!(block = n, head, "replayed");
        }
    })?;
    println!(
        "replayed {n} blocks in {:.1}s: every state root, receipts root and block hash matches",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
