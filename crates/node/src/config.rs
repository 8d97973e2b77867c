//! Node configuration: a TOML file, validated at start with errors that name the file and key.

use banyan_rpc::RpcConfig;
use banyan_txpool::PoolConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::NodeError;

/// When blocks are produced.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockConfig {
    /// Longest time between blocks.
    pub interval_ms: u64,
    /// Produce a block as soon as transactions wait (instead of waiting for the interval).
    pub produce_on_tx: bool,
    /// Produce blocks without transactions at every interval.
    pub empty_blocks: bool,
    /// Most transactions in one block.
    pub max_txs_per_block: usize,
}

impl Default for BlockConfig {
    fn default() -> Self {
        Self {
            interval_ms: 1_000,
            produce_on_tx: true,
            empty_blocks: false,
            max_txs_per_block: 10_000,
        }
    }
}

/// The `[rpc]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcSection {
    /// Listen address for HTTP and WebSocket.
    pub listen: SocketAddr,
    /// Largest request body in bytes.
    pub max_request_body_bytes: u32,
    /// Most calls in a batch.
    pub max_batch_len: u32,
    /// Most simultaneous connections.
    pub max_connections: u32,
    /// Widest `eth_getLogs` block range.
    pub max_log_block_range: u64,
    /// Most logs in one response.
    pub max_logs: usize,
    /// Browser origins allowed to call JSON-RPC (CORS): `[]` none, `["*"]` any.
    pub cors_allow_origins: Vec<String>,
}

impl Default for RpcSection {
    fn default() -> Self {
        let d = RpcConfig::default();
        Self {
            listen: d.listen,
            max_request_body_bytes: d.max_request_body_bytes,
            max_batch_len: d.max_batch_len,
            max_connections: d.max_connections,
            max_log_block_range: d.max_log_block_range,
            max_logs: d.max_logs,
            cors_allow_origins: d.cors_allow_origins,
        }
    }
}

impl RpcSection {
    /// As the server's configuration.
    pub fn to_rpc_config(&self) -> RpcConfig {
        RpcConfig {
            listen: self.listen,
            max_request_body_bytes: self.max_request_body_bytes,
            max_batch_len: self.max_batch_len,
            max_connections: self.max_connections,
            max_log_block_range: self.max_log_block_range,
            max_logs: self.max_logs,
            cors_allow_origins: self.cors_allow_origins.clone(),
            ..RpcConfig::default()
        }
    }
}

/// The `[txpool]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolSection {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most transactions held per sender.
    pub max_per_account: usize,
    /// Lowest accepted gas price (wei).
    pub min_gas_price: u128,
    /// Replacement price bump, percent.
    pub price_bump_percent: u128,
    /// Drop transactions older than this.
    pub lifetime_secs: u64,
}

impl Default for PoolSection {
    fn default() -> Self {
        let d = PoolConfig::default();
        Self {
            max_txs: d.max_txs,
            max_per_account: d.max_per_account,
            min_gas_price: d.min_gas_price,
            price_bump_percent: d.price_bump_percent,
            lifetime_secs: d.lifetime.as_secs(),
        }
    }
}

/// The `[metrics]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Where to serve `GET /metrics`; absent means no metrics server.
    pub listen: Option<SocketAddr>,
}

/// Where the node keeps its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataDir {
    /// The embedded engine in this directory.
    Path(PathBuf),
    /// In memory only (tests, throw-away dev chains).
    Memory,
}

/// A complete node configuration.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Where data lives.
    pub data_dir: DataDir,
    /// The chain specification.
    pub genesis: banyan_primitives::Genesis,
    /// Hex of the validator's secret key.
    pub validator_key: banyan_crypto::SecretKey,
    /// Block production.
    pub block: BlockConfig,
    /// JSON-RPC server.
    pub rpc: RpcSection,
    /// Transaction pool.
    pub txpool: PoolSection,
    /// Prometheus metrics endpoint.
    pub metrics: MetricsSection,
}

impl NodeConfig {
    /// The pool configuration for this chain.
    pub fn pool_config(&self) -> PoolConfig {
        PoolConfig {
            max_txs: self.txpool.max_txs,
            max_per_account: self.txpool.max_per_account,
            min_gas_price: self.txpool.min_gas_price,
            price_bump_percent: self.txpool.price_bump_percent,
            lifetime: Duration::from_secs(self.txpool.lifetime_secs),
            block_gas_limit: self.genesis.gas_limit,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSection {
    data_dir: PathBuf,
    genesis: PathBuf,
    validator_key_file: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    node: NodeSection,
    #[serde(default)]
    block: BlockConfig,
    #[serde(default)]
    rpc: RpcSection,
    #[serde(default)]
    txpool: PoolSection,
    #[serde(default)]
    metrics: MetricsSection,
}

fn read(path: &Path, what: &str) -> Result<String, NodeError> {
    std::fs::read_to_string(path)
        .map_err(|e| NodeError::Config(format!("cannot read {what} {}: {e}", path.display())))
}

/// Loads a node configuration from a TOML file; relative paths are relative to the file.
pub fn load_config(path: &Path) -> Result<NodeConfig, NodeError> {
    let text = read(path, "config file")?;
    let file: FileConfig =
        toml::from_str(&text).map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let rel = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let genesis_path = rel(&file.node.genesis);
    let genesis = banyan_primitives::Genesis::from_json(&read(&genesis_path, "genesis file")?)
        .map_err(|e| {
            NodeError::Config(format!("{} (node.genesis): {e}", genesis_path.display()))
        })?;
    let key_path = rel(&file.node.validator_key_file);
    let key_hex = read(&key_path, "validator key file")?;
    let validator_key = banyan_crypto::SecretKey::from_hex(key_hex.trim()).map_err(|e| {
        NodeError::Config(format!(
            "{} (node.validator_key_file): {e}",
            key_path.display()
        ))
    })?;
    let cfg = NodeConfig {
        data_dir: DataDir::Path(rel(&file.node.data_dir)),
        genesis,
        validator_key,
        block: file.block,
        rpc: file.rpc,
        txpool: file.txpool,
        metrics: file.metrics,
    };
    validate(&cfg).map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
    Ok(cfg)
}

/// Checks values that would make the node misbehave.
pub fn validate(cfg: &NodeConfig) -> Result<(), String> {
    if cfg.block.interval_ms == 0 {
        return Err("block.interval_ms must be at least 1".into());
    }
    if cfg.block.max_txs_per_block == 0 {
        return Err("block.max_txs_per_block must be at least 1".into());
    }
    if cfg.txpool.max_txs == 0 || cfg.txpool.max_per_account == 0 {
        return Err("txpool.max_txs and txpool.max_per_account must be at least 1".into());
    }
    if cfg.rpc.max_log_block_range == 0 {
        return Err("rpc.max_log_block_range must be at least 1".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The example in docs/configuration.md is a valid configuration file.
    #[test]
    fn documented_example_parses() {
        let doc = include_str!("../../../docs/configuration.md");
        let example = doc
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap();
        let file: FileConfig = toml::from_str(example).unwrap();
        assert_eq!(
            file.metrics.listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9545)))
        );
    }

    #[test]
    fn metrics_table_is_optional_and_strict() {
        let node = "[node]\ndata_dir = \"d\"\ngenesis = \"g\"\nvalidator_key_file = \"k\"\n";
        let file: FileConfig = toml::from_str(node).unwrap();
        assert_eq!(file.metrics.listen, None);
        let err = toml::from_str::<FileConfig>(&format!("{node}[metrics]\nport = 9545\n"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("unknown field `port`"), "{err}");
    }
}
