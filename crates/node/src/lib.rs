//! banyan-node: wiring of storage, state, execution, pool and RPC into a running node;
//! configuration (TOML), the block producer as a supervised task, replay, and the development
//! chain of `banyan dev`; Prometheus metrics and their `/metrics` endpoint; commit certificates
//! stored with their blocks, and the store of proposed blocks that consensus commits from.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod config;
mod consensus;
pub mod data_key;
mod dev;
mod executor;
pub mod journal;
mod metrics;
mod metrics_server;
mod node;
mod snapshot;

pub use banyan_chain::{
    ChainError, ChainStore, MAX_PROPOSAL_BYTES, MAX_STORED_PROPOSALS, ProposalStore,
};
pub use config::{
    BlockConfig, ConsensusSection, DataDir, MetricsSection, NetworkSection, NodeConfig,
    PoolSection, Role, RpcSection, load_config, validate,
};
pub use dev::{DEV_KEYS, DEV_VALIDATOR_KEY, DevAccount, dev_accounts, dev_genesis};
pub use node::{Node, Restored, replay};
pub use snapshot::{export_snapshot, import_snapshot};

use alloy_primitives::B256;
use std::net::SocketAddr;
use std::sync::Arc;

/// Errors that stop a node or refuse its start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Configuration is wrong; the message names the file and key.
    #[error("configuration error: {0}")]
    Config(String),
    /// The storage engine failed.
    #[error(transparent)]
    Storage(#[from] banyan_storage::StorageError),
    /// Stored data does not decode.
    #[error("stored chain data is corrupt: {0}")]
    Corrupt(String),
    /// The chain store (blocks, certificates, proposals) failed or refused.
    #[error(transparent)]
    Chain(#[from] banyan_chain::ChainError),
    /// The data directory belongs to another chain.
    #[error(
        "data directory holds chain {stored}, but the configured genesis is {configured}; use the matching genesis or a fresh data directory"
    )]
    GenesisMismatch {
        /// Genesis hash in the data directory.
        stored: B256,
        /// Genesis hash of the configuration.
        configured: B256,
    },
    /// Execution failed for a reason other than a transaction's own fault.
    #[error("execution failed: {0}")]
    Execution(#[from] banyan_execution::ExecError),
    /// The state tree could not be read or updated.
    #[error(transparent)]
    State(#[from] banyan_state::StateError),
    /// Signing failed (the validator key does not work with the chain's suite).
    #[error("signing: {0}")]
    Crypto(#[from] banyan_crypto::CryptoError),
    /// Consensus could not start, or stopped.
    #[error("consensus: {0}")]
    Consensus(#[from] banyan_consensus::host::AppError),
    /// A ledger invariant broke: a bug. The node stops rather than commit anything more.
    #[error(
        "invariant violated: {0}; the node stopped without committing it. Report this as a bug \
         with the log; restarting replays from the last committed block"
    )]
    Invariant(String),
    /// A thread could not be started.
    #[error("cannot start the {task} thread: {source}")]
    Spawn {
        /// Which.
        task: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// A received block does not verify.
    #[error("block {number} is invalid: {reason}")]
    InvalidBlock {
        /// Its height.
        number: u64,
        /// What is wrong.
        reason: String,
    },
    /// The RPC server could not start.
    #[error("cannot start JSON-RPC server: {0}")]
    Rpc(String),
    /// The metrics server could not start, or stopped.
    #[error("metrics server: {0}")]
    Metrics(String),
    /// A supervised task panicked or ended while the node was running; the node stopped.
    #[error("task `{task}` {how}; the node stopped (the log above says why)")]
    TaskFailed {
        /// The task's name.
        task: &'static str,
        /// "panicked" or "exited".
        how: &'static str,
    },
    /// The chain spec's `modules` section cannot run on this node.
    #[error(transparent)]
    Modules(#[from] banyan_modules::ModulesError),
}

/// A started node: its RPC and metrics addresses and the supervised tasks.
pub struct NodeHandle {
    /// The node.
    pub node: Arc<Node>,
    /// Where JSON-RPC listens.
    pub rpc_addr: SocketAddr,
    /// Where `GET /metrics` is served, if configured.
    pub metrics_addr: Option<SocketAddr>,
    /// Where consensus listens for peers, when the node runs consensus.
    pub p2p_addr: Option<SocketAddr>,
    rpc: banyan_rpc::ServerHandle,
    producer: Option<std::thread::JoinHandle<Result<(), NodeError>>>,
    consensus: Option<banyan_consensus::host::ConsensusHandle>,
    metrics: Option<tokio::task::JoinHandle<()>>,
    /// The `txpool-journal` thread, which syncs the journal a last time when the node stops.
    journal: Option<std::thread::JoinHandle<()>>,
}

/// Spawns `task` under the node's supervision: if it panics, or ends while the node is
/// running, the node logs which task and how, and stops (`NodeHandle::wait` then returns
/// [`NodeError::TaskFailed`]). A task that ends because the node is stopping is not a failure.
pub(crate) fn spawn_supervised(
    node: Arc<Node>,
    name: &'static str,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let handle = tokio::spawn(task);
    tokio::spawn(async move {
        let how = match handle.await {
            Ok(()) => "exited",
            Err(e) if e.is_panic() => "panicked",
            Err(_) => "was cancelled",
        };
        if node.is_stopped() && how != "panicked" {
            return;
        }
        tracing::error!("task `{name}` {how}; the node is shutting down");
        node.fail(name, how);
    });
}

/// Runs consensus until it fails or the node is asked to stop.
async fn drive_consensus(
    node: Arc<Node>,
    consensus: banyan_consensus::host::ConsensusHandle,
) -> Result<(), NodeError> {
    let mut host = consensus.host;
    loop {
        tokio::select! {
            result = &mut host => {
                node.stop();
                consensus.engine.actor.stop(None);
                return match result {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(NodeError::Consensus(e)),
                    Err(e) => Err(NodeError::TaskFailed {
                        task: "consensus",
                        how: if e.is_panic() { "panicked" } else { "was cancelled" },
                    }),
                };
            }
            () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                if node.is_stopped() {
                    host.abort();
                    consensus.engine.actor.stop(None);
                    return node.failure().map_or(Ok(()), Err);
                }
            }
        }
    }
}

impl NodeHandle {
    /// Waits until the producer stops (on `stop` or a fatal error), or the metrics server ends
    /// (which stops the node), and shuts the servers down.
    pub async fn wait(mut self) -> Result<(), NodeError> {
        let producer = self.producer.take();
        let consensus = self.consensus.take();
        let consensus_node = self.node.clone();
        let mut producer = tokio::spawn(async move {
            match (producer, consensus) {
                (Some(p), _) => tokio::task::spawn_blocking(move || {
                    p.join().unwrap_or(Err(NodeError::TaskFailed {
                        task: "block-producer",
                        how: "panicked",
                    }))
                })
                .await
                .unwrap_or(Err(NodeError::TaskFailed {
                    task: "block-producer",
                    how: "was cancelled",
                })),
                (None, Some(c)) => drive_consensus(consensus_node, c).await,
                (None, None) => Ok(()),
            }
        });
        let producer_result = |r: Result<Result<(), NodeError>, tokio::task::JoinError>| {
            r.map_err(|e| NodeError::TaskFailed {
                task: "block-producer",
                how: if e.is_panic() {
                    "panicked"
                } else {
                    "was cancelled"
                },
            })?
        };
        let result = match self.metrics.take() {
            None => producer_result(producer.await),
            Some(mut metrics) => tokio::select! {
                r = &mut producer => {
                    metrics.abort();
                    producer_result(r)
                }
                r = &mut metrics => {
                    // `serve` only ends by abort, which only `wait` does: this is a panic.
                    let reason = match r {
                        Err(e) if e.is_panic() => "panicked",
                        _ => "exited",
                    };
                    tracing::error!("metrics server {reason}; the node is shutting down");
                    self.node.stop();
                    let _ = producer_result(producer.await);
                    Err(NodeError::Metrics(reason.into()))
                }
            },
        };
        let _ = self.rpc.stop();
        self.rpc.clone().stopped().await;
        self.node.stop();
        if let Some(journal) = self.journal.take() {
            let _joined = tokio::task::spawn_blocking(move || journal.join()).await;
        }
        match (result, self.node.failure()) {
            (Ok(()), Some(failure)) => Err(failure),
            (result, _) => result,
        }
    }

    /// Asks the node to stop; `wait` then returns.
    pub fn stop(&self) {
        self.node.stop();
    }
}

/// Opens the node and starts its RPC server and block producer.
pub async fn start(config: NodeConfig) -> Result<NodeHandle, NodeError> {
    let node = Node::open(&config)?;
    start_node(node, &config).await
}

/// Starts RPC, the metrics server (if configured) and the producer for an opened node.
pub async fn start_node(node: Arc<Node>, config: &NodeConfig) -> Result<NodeHandle, NodeError> {
    // Bind first, so that a taken address refuses the start before anything runs.
    let metrics_listener = match config.metrics.listen {
        Some(listen) => Some(metrics_server::bind(listen).await?),
        None => None,
    };
    // The journal's transactions are back in the pool before the RPC answers anyone.
    let journal = match &config.data_dir {
        DataDir::Path(dir) if config.txpool.journal => {
            node.restore_journal(dir)?;
            let journal_node = node.clone();
            Some(
                std::thread::Builder::new()
                    .name("txpool-journal".into())
                    .spawn(move || journal_node.run_journal())
                    .map_err(|source| NodeError::Spawn {
                        task: "txpool-journal",
                        source,
                    })?,
            )
        }
        _ => None,
    };
    let backend: Arc<dyn banyan_rpc::Backend> = node.clone();
    let rpc_config = banyan_rpc::RpcConfig {
        issuing: config.issuing.clone(),
        ..config.rpc.to_rpc_config()
    };
    let (rpc_addr, rpc) = banyan_rpc::start(rpc_config, backend)
        .await
        .map_err(|e| NodeError::Rpc(format!("{}: {e}", config.rpc.listen)))?;
    // A node with peers runs BFT consensus; a node alone on its chain (`banyan dev`) runs the
    // single validator's producer.
    let (producer, consensus) = if config.network.is_some() {
        let handle = consensus::start_consensus(node.clone(), config).await?;
        (None, Some(handle))
    } else {
        let producer_node = node.clone();
        let producer = std::thread::Builder::new()
            .name("block-producer".into())
            .spawn(move || {
                let r = producer_node.run_producer();
                if let Err(e) = &r {
                    tracing::error!(error = %e, "block producer stopped; the node is shutting down");
                }
                producer_node.stop();
                r
            })
            .map_err(|source| NodeError::Spawn {
                task: "block-producer",
                source,
            })?;
        (Some(producer), None)
    };
    let p2p_addr = consensus.as_ref().map(|c| c.listen_addr);
    let mut metrics_addr = None;
    let metrics = match metrics_listener {
        Some(listener) => {
            metrics_addr = Some(listener.local_addr().map_err(|e| {
                NodeError::Metrics(format!("listen address of the metrics server: {e}"))
            })?);
            let registry = node.metrics_registry();
            Some(tokio::spawn(metrics_server::serve(listener, registry)))
        }
        None => None,
    };
    Ok(NodeHandle {
        node,
        rpc_addr,
        metrics_addr,
        p2p_addr,
        rpc,
        producer,
        consensus,
        metrics,
        journal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev_node() -> Arc<Node> {
        let accounts = dev_accounts(banyan_crypto::Suite::Ecdsa, 1).expect("dev accounts");
        let (genesis, key) =
            dev_genesis(banyan_crypto::Suite::Ecdsa, 1, &accounts, 1).expect("dev genesis");
        Node::open(&NodeConfig::new(DataDir::Memory, genesis, key)).expect("node")
    }

    #[tokio::test]
    async fn a_supervised_task_that_panics_or_exits_stops_the_node_naming_it() {
        let node = dev_node();
        spawn_supervised(node.clone(), "doomed", async { panic!("a bug") });
        for _ in 0..100 {
            if node.is_stopped() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(node.is_stopped());
        let failure = node.failure().expect("failure recorded").to_string();
        assert!(failure.contains("`doomed` panicked"), "{failure}");

        let node = dev_node();
        spawn_supervised(node.clone(), "quitter", async {});
        for _ in 0..100 {
            if node.is_stopped() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(matches!(
            node.failure(),
            Some(NodeError::TaskFailed {
                task: "quitter",
                how: "exited"
            })
        ));
    }

    #[tokio::test]
    async fn a_task_ending_because_the_node_stops_is_not_a_failure() {
        let node = dev_node();
        node.stop();
        spawn_supervised(node.clone(), "done", async {});
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(node.failure().is_none());
    }
}
