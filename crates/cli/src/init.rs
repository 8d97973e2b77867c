//! `banyan init`: everything a local BFT network needs, in one folder.
//!
//! ```text
//! DIR/
//!   ca/ca.crt, ca/ca.key     the chain CA (the key, mode 0600, admits nodes: keep it here)
//!   crl.pem                  the chain CRL, empty, signed by the CA
//!   genesis.json             chain id, suite, the validators, the funded accounts
//!   accounts/devI.key        the funded accounts' keys, `suite:hex` (banyan account list works)
//!   nodeK/config.toml        node K's configuration (paths relative to it)
//!   nodeK/validator.key      a validator's key (observer.key for an observer), mode 0600
//!   nodeK/tls/node.crt, node.key   node K's TLS identity from the chain CA
//!   nodeK/data/              node K's chain, created when it first starts
//!   nodeK/node.log           node K's output under `banyan up`
//! ```
//!
//! Node K (validators first, then observers) listens on `base_port + K` for JSON-RPC,
//! `base_port + 1000 + K` for metrics and `base_port + 2000 + K` for the node network, all on
//! 127.0.0.1, and dials every other node.

use alloy_primitives::{Address, Bytes, U256};
use anyhow::{Context, bail, ensure};
use banyan_crypto::{SecretKey, Suite};
use banyan_network::{ChainCa, SubjectAltName, Validity};
use banyan_node::config::DEFAULT_MAX_PEERS;
use banyan_primitives::{Genesis, GenesisAccount, GenesisValidator};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::account;

/// The chain id of a new local network: not `banyan dev`'s 31337, so that a wallet does not mix
/// the two up.
pub(crate) const DEFAULT_CHAIN_ID: u64 = 20261;
/// Node 0's JSON-RPC port: the port Ethereum tools try first.
pub(crate) const DEFAULT_BASE_PORT: u16 = 8545;
/// Validators in a network made by `banyan up` without `banyan init`.
pub(crate) const DEFAULT_VALIDATORS: usize = 4;
/// The distance between the JSON-RPC, metrics and node-network port ranges; also bounds the
/// number of nodes.
pub(crate) const PORT_STRIDE: u16 = 1000;
/// Most nodes (validators and observers) in one local network: every node is a process on this
/// machine, and each dials all the others.
pub(crate) const MAX_NODES: usize = 100;
/// The genesis file's name in the network folder.
pub(crate) const GENESIS_FILE: &str = "genesis.json";
/// Each node's configuration file's name in its folder.
pub(crate) const CONFIG_FILE: &str = "config.toml";
/// The folder of the funded accounts' keys.
pub(crate) const ACCOUNTS_DIR: &str = "accounts";
/// Every funded account's balance, in ether (as `banyan dev`).
const ACCOUNT_BALANCE_ETH: u64 = 10_000;
/// Block gas limit of the local chain: 5,714 transfers a block. Chosen by measurement
/// (docs/benchmarks.md): at a 1 s pace, 30M capped a 4-validator network on one 2-core machine
/// at 1,428 transfers/s, while its CPU carries about 1,900/s; 120M leaves the CPU as the limit
/// and a full block is still verified well within the propose timeout.
const GAS_LIMIT: u64 = 120_000_000;
/// Pace of the local chain: a height starts this long after the previous one did.
const BLOCK_TIME_MS: u64 = 1_000;
/// The CA's organisation name, copied into every node certificate.
const CHAIN_NAME: &str = "banyan-local";
/// The chain CA is valid this long.
const CA_VALIDITY_DAYS: u32 = 3650;
/// Node certificates are valid this long (the CA must outlive them).
const NODE_CERT_VALIDITY_DAYS: u32 = 1825;

/// Options of `banyan init`.
#[derive(clap::Args)]
pub(crate) struct InitArgs {
    /// Number of validators.
    #[arg(long, default_value_t = DEFAULT_VALIDATORS)]
    pub(crate) nodes: usize,
    /// Crypto suite: ecdsa (secp256k1 + Keccak) or sm (SM2 + SM3).
    #[arg(long, default_value = "ecdsa")]
    pub(crate) suite: Suite,
    /// Number of observers: nodes that follow the validators and never vote.
    #[arg(long, default_value_t = 0)]
    pub(crate) observers: usize,
    /// Chain id.
    #[arg(long, default_value_t = DEFAULT_CHAIN_ID)]
    pub(crate) chain_id: u64,
    /// Node K gets JSON-RPC on this port + K, metrics on + 1000 + K, the node network on
    /// + 2000 + K.
    #[arg(long, default_value_t = DEFAULT_BASE_PORT)]
    pub(crate) base_port: u16,
    /// Block gas limit at genesis (the committee can change it later: `block-gas-limit`).
    #[arg(long, default_value_t = GAS_LIMIT)]
    pub(crate) gas_limit: u64,
    /// Milliseconds from one height's start to the next's (each node's
    /// `[consensus] target_block_ms`; the committee's `block-interval-ms` overrides it).
    #[arg(long, default_value_t = BLOCK_TIME_MS)]
    pub(crate) block_time_ms: u64,
    /// Encrypt every key file (validators', observers', accounts') with the passphrase on this
    /// file's first line, as keystores; each node's config names the file
    /// (`node.passphrase_file`). Without it, the keys are written unencrypted (local use).
    #[arg(long)]
    pub(crate) passphrase_file: Option<PathBuf>,
    /// The cost of scrypt for encrypted keys: `standard` or `light` (test networks).
    #[arg(long, default_value = "standard", requires = "passphrase_file")]
    pub(crate) kdf: account::Kdf,
    /// Delete the network already in DIR (its CA, keys, configurations and chain data) first.
    #[arg(long)]
    pub(crate) force: bool,
    /// The folder to write the network into; must be empty or absent unless --force.
    pub(crate) dir: PathBuf,
}

impl InitArgs {
    /// What `banyan up` creates in an empty folder.
    pub(crate) fn defaults(dir: PathBuf) -> Self {
        Self {
            nodes: DEFAULT_VALIDATORS,
            suite: Suite::Ecdsa,
            observers: 0,
            chain_id: DEFAULT_CHAIN_ID,
            base_port: DEFAULT_BASE_PORT,
            gas_limit: GAS_LIMIT,
            block_time_ms: BLOCK_TIME_MS,
            passphrase_file: None,
            kdf: account::Kdf::Standard,
            force: false,
            dir,
        }
    }
}

/// The three ports of one node.
struct NodePorts {
    rpc: u16,
    metrics: u16,
    p2p: u16,
}

/// Node `index`'s ports. `check_args` has made sure they fit in a `u16`.
fn ports(base_port: u16, index: usize) -> NodePorts {
    // `index < MAX_NODES <= PORT_STRIDE`, checked with the arguments.
    let k = index as u16;
    NodePorts {
        rpc: base_port + k,
        metrics: base_port + PORT_STRIDE + k,
        p2p: base_port + 2 * PORT_STRIDE + k,
    }
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

/// The folder of node `index`.
pub(crate) fn node_dir_name(index: usize) -> String {
    format!("node{index}")
}

fn check_args(a: &InitArgs) -> anyhow::Result<()> {
    ensure!(a.nodes >= 1, "--nodes must be at least 1");
    let total = a.nodes + a.observers;
    ensure!(
        total <= MAX_NODES,
        "--nodes plus --observers is {total}; a local network has at most {MAX_NODES} nodes"
    );
    ensure!(a.chain_id != 0, "--chain-id must not be 0");
    let (low, high) = (
        1_000_000,
        banyan_modules::governance::params::MAX_BLOCK_GAS_LIMIT,
    );
    ensure!(
        (low..=high).contains(&a.gas_limit),
        "--gas-limit {} is outside {low}..={high}, the range the committee may set",
        a.gas_limit
    );
    ensure!(
        (1..=60_000).contains(&a.block_time_ms),
        "--block-time-ms {} is outside 1..=60000",
        a.block_time_ms
    );
    ensure!(a.base_port != 0, "--base-port must not be 0");
    let highest = u32::from(a.base_port) + 2 * u32::from(PORT_STRIDE) + total as u32 - 1;
    ensure!(
        highest <= u32::from(u16::MAX),
        "--base-port {} is too high: {total} nodes need ports up to {highest} (base + {} + nodes \
         - 1), above 65535",
        a.base_port,
        2 * PORT_STRIDE
    );
    Ok(())
}

/// `banyan init`.
pub(crate) fn run(a: InitArgs) -> anyhow::Result<()> {
    check_args(&a)?;
    let sealing = a
        .passphrase_file
        .as_deref()
        .map(|path| -> anyhow::Result<Sealing> {
            let passphrase = banyan_node::config::read_passphrase_file(path)
                .map_err(|e| anyhow::anyhow!("--passphrase-file {}: {e}", path.display()))?;
            let path = std::fs::canonicalize(path)
                .with_context(|| format!("--passphrase-file {}", path.display()))?;
            Ok(Sealing {
                passphrase,
                path,
                params: a.kdf.params(),
            })
        })
        .transpose()?;
    prepare_dir(&a.dir, a.force)?;
    write_network(&a, sealing.as_ref()).with_context(|| {
        format!(
            "{} is left incomplete; run `banyan init --force` on it again",
            a.dir.display()
        )
    })
}

/// Whether `dir` holds nothing (or does not exist).
pub(crate) fn is_empty_or_absent(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

/// Makes sure `dir` exists and holds no network; with `force`, deletes the one it holds.
fn prepare_dir(dir: &Path, force: bool) -> anyhow::Result<()> {
    if !is_empty_or_absent(dir)? {
        if !force {
            bail!(
                "{} is not empty; choose an empty or new folder, or pass --force to delete the \
                 network in it (its CA, keys and chain data)",
                dir.display()
            );
        }
        remove_network(dir)?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Deletes what `banyan init` writes, and nothing else: `ca/`, `crl.pem`, `genesis.json`,
/// `accounts/` and every `node<number>/` folder.
fn remove_network(dir: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = matches!(
            name.as_ref(),
            "ca" | "crl.pem" | GENESIS_FILE | ACCOUNTS_DIR
        ) || node_index(&name).is_some();
        if !ours {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

/// `Some(K)` for a folder named `nodeK`.
pub(crate) fn node_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("node")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One node to write.
struct PlannedNode {
    index: usize,
    validator: bool,
    key: SecretKey,
    address: Address,
}

/// How `banyan init` encrypts key files: with `--passphrase-file`.
struct Sealing {
    passphrase: String,
    /// The passphrase file, absolute: each node's config names it.
    path: PathBuf,
    params: banyan_crypto::keystore::ScryptParams,
}

/// A key file's text: a keystore when sealing, else `suite:hex` (`banyan account new --plain`).
fn key_text(suite: Suite, key: &SecretKey, sealing: Option<&Sealing>) -> anyhow::Result<String> {
    match sealing {
        Some(s) => Ok(banyan_crypto::keystore::encrypt(
            suite,
            key,
            &s.passphrase,
            s.params,
        )?),
        None => Ok(key_file_text(suite, key)),
    }
}

/// [`key_text`] for every key, on all cores (scrypt is made to be slow).
fn key_texts(
    suite: Suite,
    keys: &[&SecretKey],
    sealing: Option<&Sealing>,
) -> anyhow::Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let share = keys.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = keys
            .chunks(share)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|key| key_text(suite, key, sealing))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut texts = Vec::with_capacity(keys.len());
        for worker in workers {
            match worker.join() {
                Ok(chunk) => texts.extend(chunk?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(texts)
    })
}

fn write_network(a: &InitArgs, sealing: Option<&Sealing>) -> anyhow::Result<()> {
    let dir = &a.dir;
    let suite = a.suite;
    let ca = ChainCa::generate(
        CHAIN_NAME,
        a.chain_id,
        Validity::days_from_now(CA_VALIDITY_DAYS),
    )?;
    ca.to_pem_files(&dir.join("ca"))?;
    ca.revoke(None, &[])?
        .save(&dir.join(banyan_network::pki::CRL_FILE))?;

    let nodes = (0..a.nodes + a.observers)
        .map(|index| {
            let key = suite.generate_secret();
            let address = suite.address(&suite.public_key(&key)?);
            Ok(PlannedNode {
                index,
                validator: index < a.nodes,
                key,
                address,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let accounts = funded_accounts(suite)?;
    let keys: Vec<&SecretKey> = nodes
        .iter()
        .map(|n| &n.key)
        .chain(accounts.iter().map(|(_, k)| k))
        .collect();
    let mut texts = key_texts(suite, &keys, sealing)?;
    let account_texts = texts.split_off(nodes.len());
    write_accounts(&dir.join(ACCOUNTS_DIR), &account_texts)?;
    let genesis = genesis(a, &nodes, &accounts)?;
    let genesis_path = dir.join(GENESIS_FILE);
    std::fs::write(&genesis_path, genesis.to_json())
        .with_context(|| format!("writing {}", genesis_path.display()))?;

    let p2p: Vec<SocketAddr> = nodes
        .iter()
        .map(|n| localhost(ports(a.base_port, n.index).p2p))
        .collect();
    for (node, key_text) in nodes.iter().zip(&texts) {
        write_node(
            dir,
            &ca,
            a,
            node,
            &p2p,
            key_text,
            sealing.map(|s| s.path.as_path()),
        )?;
    }
    print_summary(a, &nodes);
    Ok(())
}

/// The accounts funded at genesis: `banyan dev`'s well-known keys on an ecdsa chain, fresh keys
/// on an sm chain.
fn funded_accounts(suite: Suite) -> anyhow::Result<Vec<(Address, SecretKey)>> {
    let count = banyan_node::DEV_KEYS.len();
    match suite {
        Suite::Ecdsa => Ok(banyan_node::dev_accounts(suite, count)?
            .into_iter()
            .map(|a| (a.address, a.key))
            .collect()),
        Suite::Sm => (0..count)
            .map(|_| {
                let key = suite.generate_secret();
                Ok((suite.address(&suite.public_key(&key)?), key))
            })
            .collect(),
    }
}

/// Writes `accounts/devI.key` (mode 0600): each a keystore, or `suite:hex` unencrypted.
fn write_accounts(dir: &Path, texts: &[String]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (i, text) in texts.iter().enumerate() {
        account::write_private(&dir.join(format!("dev{i}.key")), text)?;
    }
    Ok(())
}

fn key_file_text(suite: Suite, key: &SecretKey) -> String {
    format!("{suite}:{}\n", key.to_hex().trim_start_matches("0x"))
}

fn genesis(
    a: &InitArgs,
    nodes: &[PlannedNode],
    accounts: &[(Address, SecretKey)],
) -> anyhow::Result<Genesis> {
    let suite = a.suite;
    let balance = U256::from(ACCOUNT_BALANCE_ETH) * U256::from(10u64).pow(U256::from(18u64));
    let alloc: BTreeMap<Address, GenesisAccount> = accounts
        .iter()
        .map(|(address, _)| {
            let account = GenesisAccount {
                balance,
                ..Default::default()
            };
            (*address, account)
        })
        .collect();
    let validators = nodes
        .iter()
        .filter(|n| n.validator)
        .map(|n| {
            let public = suite.public_key(&n.key)?;
            Ok(GenesisValidator {
                address: n.address,
                public_key: Bytes::copy_from_slice(&public.to_bytes()),
                power: 1,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // One governor per validator's institution, of equal weight: account i for node i
    // (docs/modules/governance.md).
    let governors: Vec<Address> = accounts
        .iter()
        .take(validators.len().max(1))
        .map(|(address, _)| *address)
        .collect();
    let genesis = Genesis {
        chain_id: a.chain_id,
        suite,
        timestamp: 0,
        gas_limit: a.gas_limit,
        alloc,
        validators,
        modules: banyan_modules::default_spec(&governors),
    };
    genesis.validate()?;
    Ok(genesis)
}

/// Writes `nodeK/`: the key, the TLS identity (node id = the key's address) and `config.toml`.
fn write_node(
    dir: &Path,
    ca: &ChainCa,
    a: &InitArgs,
    node: &PlannedNode,
    p2p: &[SocketAddr],
    key_text: &str,
    passphrase_file: Option<&Path>,
) -> anyhow::Result<()> {
    let base_port = a.base_port;
    let node_dir = dir.join(node_dir_name(node.index));
    std::fs::create_dir_all(&node_dir)
        .with_context(|| format!("creating {}", node_dir.display()))?;
    let key_file = if node.validator {
        "validator.key"
    } else {
        "observer.key"
    };
    account::write_private(&node_dir.join(key_file), key_text)?;
    let sans = [SubjectAltName::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))];
    ca.issue_node_cert(
        &node_dir_name(node.index),
        &node.address.to_string(),
        &sans,
        Validity::days_from_now(NODE_CERT_VALIDITY_DAYS),
    )?
    .save(&node_dir.join("tls"))?;
    let ports = ports(base_port, node.index);
    let peers: Vec<String> = p2p
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != node.index)
        .map(|(_, addr)| format!("\"{addr}\""))
        .collect();
    let mut config = config_text(node, key_file, &ports, &peers, a.block_time_ms);
    if let Some(path) = passphrase_file {
        // A JSON string is a TOML basic string: backslashes and quotes escaped.
        let quoted = serde_json::to_string(&path.display().to_string())?;
        config = config.replacen(
            &format!("validator_key_file = \"{key_file}\"\n"),
            &format!("validator_key_file = \"{key_file}\"\npassphrase_file = {quoted}\n"),
            1,
        );
    }
    let path = node_dir.join(CONFIG_FILE);
    std::fs::write(&path, config).with_context(|| format!("writing {}", path.display()))
}

fn config_text(
    node: &PlannedNode,
    key_file: &str,
    ports: &NodePorts,
    peers: &[String],
    block_time_ms: u64,
) -> String {
    let role = if node.validator {
        "validator"
    } else {
        "observer"
    };
    let max_peers = peers.len().max(DEFAULT_MAX_PEERS);
    format!(
        r#"# Node {index} of a local Banyan network, written by `banyan init`.
# Paths are relative to this file; docs/configuration.md explains every key.

[node]
data_dir = "data"
genesis = "../{GENESIS_FILE}"
validator_key_file = "{key_file}"

[rpc]
listen = "{rpc}"
cors_allow_origins = ["*"]        # any web page may call it, as with `banyan dev`

[metrics]
listen = "{metrics}"

[network]
listen = "{p2p}"
ca_cert = "../ca/ca.crt"
node_dir = "tls"
crl = "../crl.pem"
peers = [{peers}]
max_peers = {max_peers}

[consensus]
role = "{role}"
target_block_ms = {block_time_ms}
"#,
        index = node.index,
        rpc = localhost(ports.rpc),
        metrics = localhost(ports.metrics),
        p2p = localhost(ports.p2p),
        peers = peers.join(", "),
    )
}

fn print_summary(a: &InitArgs, nodes: &[PlannedNode]) {
    let dir = a.dir.display();
    println!("Created a local Banyan network in {dir}");
    println!("  chain id    {}", a.chain_id);
    println!("  suite       {}", a.suite);
    println!("  genesis     {dir}/{GENESIS_FILE}");
    println!(
        "  blocks      every {} ms, gas limit {}",
        a.block_time_ms, a.gas_limit
    );
    println!("  chain CA    {dir}/ca/ca.crt (ca/ca.key admits nodes: keep it private)");
    match &a.passphrase_file {
        Some(p) => println!(
            "  keys        encrypted (keystores, scrypt {}) with the passphrase in {}",
            format!("{:?}", a.kdf).to_lowercase(),
            p.display()
        ),
        None => println!("  keys        unencrypted (local use; --passphrase-file encrypts them)"),
    }
    println!(
        "  accounts    {} funded with {ACCOUNT_BALANCE_ETH} ETH each, keys in {dir}/{ACCOUNTS_DIR}",
        banyan_node::DEV_KEYS.len()
    );
    println!();
    println!(
        "  {:<7} {:<10} {:<43} {:<29} {:<38} node network",
        "node", "role", "address", "JSON-RPC", "metrics"
    );
    for node in nodes {
        let p = ports(a.base_port, node.index);
        println!(
            "  {:<7} {:<10} {:<43} {:<29} {:<38} {}",
            node_dir_name(node.index),
            if node.validator {
                "validator"
            } else {
                "observer"
            },
            node.address.to_string(),
            format!("http://{}", localhost(p.rpc)),
            format!("http://{}/metrics", localhost(p.metrics)),
            localhost(p.p2p)
        );
    }
    println!();
    println!("Start it with: banyan up {dir}");
}
