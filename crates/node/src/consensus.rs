//! Runs the node under BFT consensus (`banyan-consensus`, ADR 0005) instead of the single
//! validator's block producer: the node builds, checks and commits blocks when the engine asks,
//! and gossips the transactions its RPC accepts to the other nodes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::B256;
use banyan_consensus::host::{
    self, AppError, Application, ConsensusHandle, ConsensusSettings, Role as EngineRole, StartArgs,
    StartSitOut, Verdict,
};
use banyan_consensus::network::{NetworkConfig, NetworkHandle};
use banyan_consensus::{BanyanContext, ValidatorSet};
use banyan_primitives::Block;
use banyan_primitives::consensus::{ChainBinding, CommitCertificate};
use bytes::Bytes;
use malachitebft_app_channel::app::types::core::LinearTimeouts;

use crate::NodeError;
use crate::config::{NodeConfig, Role};
use crate::node::Node;

/// The node as the consensus engine's application.
struct NodeApp {
    node: Arc<Node>,
}

/// The node's error (or the chain store's, which becomes one), kept whole for the host.
fn app_err(e: impl Into<NodeError>) -> AppError {
    AppError::application(e.into())
}

impl Application for NodeApp {
    fn head(&self) -> Result<(u64, B256), AppError> {
        let (header, hash) = self.node.head();
        Ok((header.header.number, hash))
    }

    fn validators_at(&self, height: u64) -> Result<ValidatorSet, AppError> {
        let set = self.node.validators_at(height).map_err(app_err)?;
        Ok(ValidatorSet::from_checked(&set))
    }

    fn block_interval(&self) -> Result<Option<Duration>, AppError> {
        self.node.block_interval().map_err(app_err)
    }

    fn build_block(&self, height: u64, _deadline: Instant) -> Result<Block, AppError> {
        let (head, _) = self.head()?;
        if head + 1 != height {
            return Err(AppError::Refused(format!(
                "asked to propose height {height} on head {head}"
            )));
        }
        self.node.build_proposal().map_err(app_err)
    }

    fn verify_block(&self, block: &Block) -> Result<Verdict, AppError> {
        Ok(match self.node.check_proposal(block).map_err(app_err)? {
            Ok(()) => Verdict::Valid,
            Err(reason) => Verdict::Invalid(reason),
        })
    }

    fn commit(&self, block: &Block, certificate: &CommitCertificate) -> Result<(), AppError> {
        self.node
            .commit_decided(block, certificate)
            .map(|_| ())
            .map_err(app_err)
    }

    fn certified_block(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, AppError> {
        let chain = self.node.chain();
        let Some(block) = chain.block(height).map_err(app_err)? else {
            return Ok(None);
        };
        Ok(chain
            .certificate(height)
            .map_err(app_err)?
            .map(|cert| (block, cert)))
    }

    fn history_min_height(&self) -> Result<u64, AppError> {
        self.node.chain().history_min().map_err(app_err)
    }

    fn store_proposal(&self, height: u64, round: u32, block: &Block) -> Result<(), AppError> {
        self.node
            .proposals()
            .put_proposal(height, round, block)
            .map_err(app_err)
    }

    fn proposal(&self, hash: B256) -> Result<Option<Block>, AppError> {
        Ok(self
            .node
            .proposals()
            .proposal(hash)
            .map_err(app_err)?
            .map(|(_, _, block)| block))
    }

    fn proposals_at(&self, height: u64) -> Result<Vec<(u32, Block)>, AppError> {
        self.node.proposals().proposals_at(height).map_err(app_err)
    }
}

/// Most transactions waiting to be gossiped; beyond this, new ones are not gossiped (they
/// still reach the proposer when this node proposes).
const GOSSIP_QUEUE: usize = 20_000;
/// How long accepted transactions are collected before one gossip frame goes out.
const GOSSIP_BATCH_WINDOW: Duration = Duration::from_millis(5);
/// Most transactions in one gossip frame.
const GOSSIP_BATCH: usize = 1024;

/// Starts consensus for `node` as `config` says. The node's RPC must already run.
pub(crate) async fn start_consensus(
    node: Arc<Node>,
    config: &NodeConfig,
) -> Result<ConsensusHandle, NodeError> {
    let network = config
        .network
        .as_ref()
        .ok_or_else(|| NodeError::Config("consensus needs the [network] table".into()))?;
    let genesis = node.genesis();
    let suite = genesis.suite;
    let ctx = BanyanContext::new(
        suite,
        ChainBinding {
            chain_id: genesis.chain_id,
            genesis_hash: node.genesis_hash(),
        },
    );
    let role = match config.consensus.role {
        Role::Validator => EngineRole::Validator(config.validator_key.clone()),
        Role::Observer => EngineRole::Observer,
    };
    let c = &config.consensus;
    let wal_dir = c.wal_dir.clone().ok_or_else(|| {
        NodeError::Config(
            "a consensus node needs a data directory for its write-ahead log (consensus.wal_dir)"
                .into(),
        )
    })?;
    let settings = ConsensusSettings {
        timeouts: LinearTimeouts {
            propose: Duration::from_millis(c.timeout_propose_ms),
            prevote: Duration::from_millis(c.timeout_prevote_ms),
            precommit: Duration::from_millis(c.timeout_precommit_ms),
            rebroadcast: Duration::from_millis(
                c.timeout_propose_ms + c.timeout_prevote_ms + c.timeout_precommit_ms,
            ),
            ..LinearTimeouts::default()
        },
        target_block_time: Duration::from_millis(c.target_block_ms),
        wal_dir,
        moniker: config
            .network
            .as_ref()
            .map(|n| n.tls.local_identity().node_name().to_string())
            .unwrap_or_else(|| "banyan".into()),
        sync_batch: 50,
    };
    let (guard_store, lost) = open_safety_record(
        &settings.wal_dir,
        node.chain().kv().as_ref(),
        crate::data_key::store_cipher(node.data_cipher()),
    )?;
    let head = node.head().0.header.number;
    // A record that is new while this node has run before (its chain is past genesis, or was
    // just rebuilt): whatever it signed is unknown, so it sits out until peers say how far the
    // network is. A record kept across a rebuilt chain store: the heights and rounds it holds.
    let sit_out = if lost && (head > 0 || node.was_rebuilt()) {
        tracing::warn!(
            dir = %settings.wal_dir.join(SAFETY_DIR).display(),
            "the safety record of what this validator signed is missing; it votes only after \
             the heights it may have signed at"
        );
        StartSitOut::UntilPeersKnown { at_least: head + 1 }
    } else if node.was_rebuilt() {
        StartSitOut::AfterRebuild
    } else {
        StartSitOut::Nothing
    };
    let (gossip_in_tx, mut gossip_in) = tokio::sync::mpsc::channel(256);
    let handle = host::start(StartArgs {
        ctx,
        role,
        settings,
        network: NetworkConfig {
            listen: network.listen,
            peers: network.peers.clone(),
            tls: network.tls.clone(),
        },
        app: Arc::new(NodeApp { node: node.clone() }),
        guard_store,
        sit_out,
        gossip: Some(gossip_in_tx),
    })
    .await?;

    // Transactions from peers go into our pool; they are not gossiped again (full mesh).
    let receiver = node.clone();
    crate::spawn_supervised(node.clone(), "gossip-in", async move {
        while let Some((_peer, txs)) = gossip_in.recv().await {
            let node = receiver.clone();
            let checked = tokio::task::spawn_blocking(move || node.accept_gossiped(&txs)).await;
            if let Err(e) = checked {
                // A panic checking gossiped transactions is a bug: the task fails with it.
                std::panic::resume_unwind(e.into_panic());
            }
        }
    });
    // Transactions our RPC accepts are batched and sent to every peer.
    let (out_tx, out_rx) = tokio::sync::mpsc::channel::<Bytes>(GOSSIP_QUEUE);
    node.set_gossip(out_tx);
    crate::spawn_supervised(
        node.clone(),
        "gossip-out",
        gossip_out(handle.network.clone(), out_rx),
    );
    crate::spawn_supervised(
        node.clone(),
        "watch-peers",
        watch_peers(
            node.clone(),
            handle.network.clone(),
            network.tls.clone(),
            handle.guard.clone(),
        ),
    );
    tracing::info!(
        "consensus running as {} on {} with {} peers configured",
        config.consensus.role,
        handle.listen_addr,
        network.peers.len()
    );
    Ok(handle)
}

async fn gossip_out(network: NetworkHandle, mut rx: tokio::sync::mpsc::Receiver<Bytes>) {
    let mut batch = Vec::with_capacity(GOSSIP_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let until = tokio::time::Instant::now() + GOSSIP_BATCH_WINDOW;
        while batch.len() < GOSSIP_BATCH {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(tx)) => batch.push(tx),
                Ok(None) | Err(_) => break,
            }
        }
        network.gossip_txs(&batch);
        batch.clear();
    }
}

/// Every half second: peers and sync progress into the metrics and `eth_syncing`, and a progress
/// line every five seconds while catching up.
async fn watch_peers(
    node: Arc<Node>,
    network: NetworkHandle,
    tls: banyan_network::TlsConfig,
    guard: Option<Arc<banyan_consensus::guard::SafetyGuard>>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut last_report: Option<(Instant, u64)> = None;
    loop {
        tick.tick().await;
        if node.is_stopped() {
            return;
        }
        let head = node.head().0.header.number;
        // Certificates the chain revoked: refused from now on, and their connections closed.
        match node.chain_revocations() {
            Ok(Some(revoked)) => {
                tls.set_chain_revocations(revoked.clone());
                network.drop_revoked(&revoked);
            }
            Ok(None) => {}
            Err(error) => tracing::warn!("cannot read the certificates the chain revoked: {error}"),
        }
        node.observe_connected(&network.peer_node_ids());
        if let Some(guard) = &guard
            && let Err(error) = guard.peers_report(network.best_peer_height())
        {
            tracing::error!("cannot record the heights this validator sits out: {error}");
        }
        match node.observe_peers(network.peer_count(), network.best_peer_height()) {
            Some((_, target)) => match last_report {
                Some((at, from)) if at.elapsed() >= Duration::from_secs(5) => {
                    let rate = (head.saturating_sub(from)) as f64 / at.elapsed().as_secs_f64();
                    tracing::info!(
                        "syncing: block {head} of {target}, {rate:.0} blocks/s, {} to go",
                        target.saturating_sub(head)
                    );
                    last_report = Some((Instant::now(), head));
                }
                Some(_) => {}
                None => {
                    tracing::info!(
                        "syncing: block {head} of {target}; fetching certified blocks from peers"
                    );
                    last_report = Some((Instant::now(), head));
                }
            },
            None => {
                if last_report.take().is_some() {
                    tracing::info!("synced: at block {head}, in step with peers");
                }
            }
        }
    }
}

/// The folder of the validator's safety record (what it signed, see
/// `banyan_consensus::guard`), inside the consensus WAL's folder: a store of its own, so that
/// damage to the chain store leaves it alone and `--recover` keeps it.
pub(crate) const SAFETY_DIR: &str = "safety";

/// Opens the safety record in `wal_dir`, and says whether it was missing (created now, with
/// nothing to copy in). A node whose records are still in its chain store (written before the
/// record had a store of its own) has them copied over once.
fn open_safety_record(
    wal_dir: &std::path::Path,
    chain: &dyn banyan_storage::KvStore,
    cipher: Option<Arc<dyn banyan_storage::ValueCipher>>,
) -> Result<(Arc<dyn banyan_storage::KvStore>, bool), NodeError> {
    use banyan_storage::{Table, WriteBatch};
    let dir = wal_dir.join(SAFETY_DIR);
    let mut missing = !dir.join(banyan_storage::DB_FILE_NAME).exists();
    let store = banyan_storage::open_redb_with(&dir, cipher)?;
    if store.last(Table::ConsensusWal)?.is_none() {
        let old = chain.range(Table::ConsensusWal, &[], &[0xff; 16], 100_000)?;
        if !old.is_empty() {
            let mut batch = WriteBatch::default();
            for (k, v) in &old {
                batch.put(Table::ConsensusWal, k.clone(), v.clone());
            }
            store.write(batch)?;
            tracing::info!(
                records = old.len(),
                dir = %dir.display(),
                "moved the safety record out of the chain store into its own"
            );
            missing = false;
        }
    }
    Ok((store, missing))
}
