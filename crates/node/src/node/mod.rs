//! The running node: its shared state and accessors. Block building is in [`building`],
//! importing and committing blocks in [`importing`], the RPC backend in [`backend`].

mod backend;
mod building;
mod importing;
mod journaling;
mod params;
mod recovery;
mod screen_cache;
mod validators;

pub use journaling::Restored;

use alloy_primitives::{Address, B256, Bytes, U256};
use banyan_crypto::{SecretKey, Suite};
use banyan_execution::{CallOutcome, CallRequest, ExecConfig, ExecError, Executor};
use banyan_primitives::consensus::{
    ChainBinding, CommitCertificate, ValidatorSet, verify_commit_certificate,
};
use banyan_primitives::{
    Block, Genesis, GenesisValidator, Header, Receipt, RecoveredTx, SealedHeader,
};
use banyan_rpc::{Backend, BackendError, CommittedBlock, NodeStatus, SubmitError};
use banyan_state::{Account, AccountProof, StateDb, StateReader};
use banyan_storage::{KvStore, StorageError};
use banyan_txpool::{AccountUnavailable, TxPool};
use parking_lot::{Condvar, Mutex, RwLock};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

use crate::NodeError;
use crate::config::{BlockConfig, DataDir, NodeConfig};
use crate::executor::{ExecutedBlock, child_env, execute, verify_block};
use crate::metrics::Metrics;
use banyan_chain::ChainStore;
use banyan_chain::ProposalStore;

/// Shared state of a node.
pub struct Node {
    suite: Suite,
    chain_id: u64,
    genesis: Genesis,
    genesis_hash: B256,
    /// The genesis validator set, parsed once; read only through [`Node::validators_at`].
    genesis_validators: Arc<ValidatorSet>,
    chain: ChainStore,
    proposals: ProposalStore,
    state: StateDb,
    executor: Executor,
    pool: TxPool,
    signer: SecretKey,
    validator: Address,
    head: RwLock<(SealedHeader, B256)>,
    events: broadcast::Sender<CommittedBlock>,
    wake: (Mutex<bool>, Condvar),
    stop: AtomicBool,
    /// The supervised task whose failure stopped the node, and how it failed.
    failure: Mutex<Option<(&'static str, &'static str)>>,
    block_config: BlockConfig,
    min_gas_price: u128,
    /// Serialises block commits (producer, import).
    commit_lock: Mutex<()>,
    /// Catching up: `(height when it started, highest height a peer reports)`; `None` in step.
    sync: Mutex<Option<(u64, u64)>>,
    /// Where transactions accepted over RPC go to be gossiped to peers (consensus mode).
    gossip: std::sync::OnceLock<tokio::sync::mpsc::Sender<bytes::Bytes>>,
    /// Proposals executed by this node (built or verified), by block hash, so that committing
    /// a decided block does not execute it again. Cleared of stale heights on every commit.
    executed: Mutex<std::collections::HashMap<B256, ExecutedBlock>>,
    /// Validator sets read from Governance (see [`Node::validators_at`]).
    validator_sets: Mutex<validators::SetCache>,
    /// Addresses of the peers connected now (their certificates' node ids).
    connected: Mutex<Vec<Address>>,
    /// How many certificate revocations the chain held when last read.
    revocations_seen: Mutex<Option<u64>>,
    /// The head state the pool's module screens read, with module storage cached.
    screen_state: Mutex<Option<Arc<screen_cache::ScreenState>>>,
    /// The chain store was found damaged and rebuilt empty at this start (`--recover`).
    rebuilt: AtomicBool,
    /// Where admitted transactions are journaled (a node with a data directory, `[txpool]
    /// journal` on); set once by [`Node::restore_journal`].
    journal: std::sync::OnceLock<crate::journal::TxJournal>,
    /// Encryption at rest: seals the journal's records and the safety record's values.
    data_cipher: Option<Arc<banyan_crypto::at_rest::DataCipher>>,
    metrics: Metrics,
    metrics_registry: Arc<Registry>,
}

/// Blocks behind the best peer before the node reports itself as syncing.
pub(crate) const SYNC_LAG: u64 = 2;

/// How far ahead of this node's clock a proposed block's timestamp may be.
const MAX_CLOCK_DRIFT_SECS: u64 = 2;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Moves the chain store file of data directory `dir` into a new `damaged-<unix time>/` folder
/// beside it; returns that folder.
fn move_store_aside(dir: &std::path::Path) -> Result<std::path::PathBuf, NodeError> {
    let aside = dir.join(format!("damaged-{}", now_secs()));
    let failed = |what: &str, e: std::io::Error| {
        NodeError::Config(format!(
            "cannot move the damaged store aside ({what} {}): {e}",
            aside.display()
        ))
    };
    std::fs::create_dir_all(&aside).map_err(|e| failed("creating", e))?;
    let file = dir.join(banyan_storage::DB_FILE_NAME);
    std::fs::rename(&file, aside.join(banyan_storage::DB_FILE_NAME))
        .map_err(|e| failed("moving the store into", e))?;
    Ok(aside)
}

/// Writes the genesis block into an empty store, or checks that the store belongs to `genesis`.
fn init_genesis(
    chain: &ChainStore,
    state: &StateDb,
    genesis: &Genesis,
) -> Result<(SealedHeader, B256), NodeError> {
    let suite = genesis.suite;
    let (header, mut batch) = banyan_chain::genesis::genesis_block(state, genesis)
        .map_err(banyan_chain::ChainError::from)?;
    let hash = header.hash(suite);
    match chain.genesis_hash()? {
        Some(stored) if stored != hash => Err(NodeError::GenesisMismatch {
            stored,
            configured: hash,
        }),
        Some(_) => {
            let head = chain
                .head()?
                .ok_or_else(|| NodeError::Corrupt("genesis present but no head pointer".into()))?;
            let sealed = chain
                .header(head)?
                .ok_or_else(|| NodeError::Corrupt(format!("head block {head} missing")))?;
            let head_hash = sealed.header.hash(suite);
            Ok((sealed, head_hash))
        }
        None => {
            if chain.head()?.is_some() {
                return Err(NodeError::Corrupt(
                    "blocks present but no genesis hash".into(),
                ));
            }
            let sealed = SealedHeader {
                header,
                signature: Bytes::new(),
            };
            let block = Block {
                header: sealed.clone(),
                transactions: vec![],
            };
            chain.stage_block(&block, &[], &[], &mut batch);
            chain.kv().write(batch)?;
            Ok((sealed, hash))
        }
    }
}

impl Node {
    /// Opens (or creates) the node's data and checks it belongs to the configured chain.
    ///
    /// With `config.recover`, a chain store found damaged (by the integrity check of the file,
    /// or by missing records) is moved aside into `damaged-<unix time>/` in the data directory,
    /// never deleted, and the node starts on an empty one, to be rebuilt from its peers (blocks,
    /// each verified). The consensus folder (the engine's WAL and the safety record of what this
    /// validator signed) is another store and is kept.
    pub fn open(config: &NodeConfig) -> Result<Arc<Self>, NodeError> {
        let p = match &config.data_dir {
            DataDir::Memory => return Self::with_store(config, banyan_storage::open_memory()),
            DataDir::Path(p) => p,
        };
        std::fs::create_dir_all(p).map_err(|e| {
            NodeError::Config(format!("cannot create data directory {}: {e}", p.display()))
        })?;
        let cipher = config.store_cipher()?;
        let opened = banyan_storage::open_redb_with(p, cipher.clone())
            .map_err(NodeError::from)
            .and_then(|store| Self::with_store(config, store));
        match opened {
            Err(
                damage @ (NodeError::Corrupt(_) | NodeError::Storage(StorageError::Corrupt(_))),
            ) if config.recover => {
                let aside = move_store_aside(p)?;
                tracing::error!(
                    damage = %damage,
                    moved_to = %aside.display(),
                    "the chain store is damaged; it was moved aside and the node starts on an \
                     empty one, rebuilt from its peers (each block verified); the safety record \
                     of what this validator signed is kept"
                );
                let node = Self::with_store(config, banyan_storage::open_redb_with(p, cipher)?)?;
                node.rebuilt.store(true, Ordering::SeqCst);
                Ok(node)
            }
            other => other,
        }
    }

    /// A node over an already opened engine.
    pub fn with_store(
        config: &NodeConfig,
        store: Arc<dyn KvStore>,
    ) -> Result<Arc<Self>, NodeError> {
        let genesis = config.genesis.clone();
        genesis
            .validate()
            .map_err(|e| NodeError::Config(e.to_string()))?;
        let suite = genesis.suite;
        let chain = ChainStore::new(store.clone(), suite);
        let proposals = ProposalStore::new(store.clone(), suite);
        let state = StateDb::new(store, suite);
        let head = init_genesis(&chain, &state, &genesis)?;
        state.advance_head(head.0.header.state_root);
        let genesis_hash = chain
            .genesis_hash()?
            .ok_or_else(|| NodeError::Corrupt("genesis hash missing".into()))?;
        let public = suite
            .public_key(&config.validator_key)
            .map_err(|e| NodeError::Config(format!("validator key: {e}")))?;
        let validator = suite.address(&public);
        let genesis_validators = Arc::new(
            ValidatorSet::new(suite, &genesis.validators)
                .map_err(|e| NodeError::Config(format!("genesis validators: {e}")))?,
        );
        let executor = Executor::new(
            ExecConfig {
                chain_id: genesis.chain_id,
                suite,
                // The most any block may have: governance may set the limit up to its bound.
                block_gas_limit: if genesis.modules.contains_key("governance") {
                    genesis
                        .gas_limit
                        .max(banyan_modules::governance::params::MAX_BLOCK_GAS_LIMIT)
                } else {
                    genesis.gas_limit
                },
            },
            banyan_modules::registry(&genesis.modules)?,
        );
        let (events, _) = broadcast::channel(1024);
        let mut metrics_registry = Registry::default();
        let metrics = Metrics::register(&mut metrics_registry);
        metrics.set_block_height(head.0.header.number);
        let node = Arc::new(Self {
            suite,
            chain_id: genesis.chain_id,
            genesis_hash,
            genesis_validators,
            chain,
            proposals,
            state,
            executor,
            pool: TxPool::new(config.pool_config()),
            signer: config.validator_key.clone(),
            validator,
            head: RwLock::new(head),
            events,
            wake: (Mutex::new(false), Condvar::new()),
            stop: AtomicBool::new(false),
            failure: Mutex::new(None),
            block_config: config.block.clone(),
            min_gas_price: config.txpool.min_gas_price,
            commit_lock: Mutex::new(()),
            gossip: std::sync::OnceLock::new(),
            sync: Mutex::new(None),
            executed: Mutex::new(std::collections::HashMap::new()),
            validator_sets: Mutex::new(validators::SetCache::default()),
            connected: Mutex::new(Vec::new()),
            revocations_seen: Mutex::new(None),
            screen_state: Mutex::new(None),
            journal: std::sync::OnceLock::new(),
            data_cipher: config.data_cipher()?,
            rebuilt: AtomicBool::new(false),
            metrics,
            metrics_registry: Arc::new(metrics_registry),
            genesis,
        });
        node.apply_pool_limits()?;
        Ok(node)
    }

    /// The cipher of encryption at rest, if the node has a data key.
    pub(crate) fn data_cipher(&self) -> Option<&Arc<banyan_crypto::at_rest::DataCipher>> {
        self.data_cipher.as_ref()
    }

    /// Whether this start rebuilt a damaged chain store from scratch (`--recover`).
    pub fn was_rebuilt(&self) -> bool {
        self.rebuilt.load(Ordering::SeqCst)
    }

    /// The committed blocks.
    pub fn chain(&self) -> &ChainStore {
        &self.chain
    }

    /// Proposed blocks not yet committed; each commit prunes those at or below its height.
    pub fn proposals(&self) -> &ProposalStore {
        &self.proposals
    }

    /// The transaction pool.
    pub fn pool(&self) -> &TxPool {
        &self.pool
    }

    /// The registry holding this node's metrics, as served at `/metrics`.
    pub(crate) fn metrics_registry(&self) -> Arc<Registry> {
        self.metrics_registry.clone()
    }

    /// This node's validator address.
    pub fn validator(&self) -> Address {
        self.validator
    }

    /// The genesis validator set.
    pub(crate) fn genesis_validators(&self) -> &ValidatorSet {
        &self.genesis_validators
    }

    /// The genesis the node runs.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Latest committed header and its hash.
    pub fn head(&self) -> (SealedHeader, B256) {
        self.head.read().clone()
    }

    /// The account's nonce and balance at the head. A failed read is logged here, with its
    /// cause, and reported as unavailable: never guessed.
    fn head_account(&self, address: Address) -> Result<(u64, U256), AccountUnavailable> {
        let root = self.head.read().0.header.state_root;
        match self.state.at(root).account(address) {
            Ok(Some(a)) => Ok((a.nonce, a.balance)),
            Ok(None) => Ok((0, U256::ZERO)),
            Err(e) => {
                tracing::error!(%address, error = %e, "reading account at head failed");
                Err(AccountUnavailable)
            }
        }
    }

    /// The genesis block's hash, which identifies the chain.
    pub fn genesis_hash(&self) -> B256 {
        self.genesis_hash
    }

    /// Records what peers report: `peers` connected, the best of them at `best_peer_height`.
    /// More than [`SYNC_LAG`] blocks behind counts as syncing (`eth_syncing`, metrics).
    pub(crate) fn observe_peers(
        &self,
        peers: usize,
        best_peer_height: Option<u64>,
    ) -> Option<(u64, u64)> {
        self.metrics.set_peers(peers);
        let head = self.head().0.header.number;
        let target = best_peer_height.unwrap_or(0);
        self.metrics.set_sync_target(target.max(head));
        let mut sync = self.sync.lock();
        if target > head + SYNC_LAG {
            let started = sync.map_or(head, |(start, _)| start);
            *sync = Some((started, target));
        } else {
            *sync = None;
        }
        *sync
    }

    /// Sends transactions accepted over RPC to `gossip` from now on.
    pub(crate) fn set_gossip(&self, gossip: tokio::sync::mpsc::Sender<bytes::Bytes>) {
        let _already_set = self.gossip.set(gossip);
    }

    /// Stops the producer loop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake_producer();
    }

    /// Records that supervised task `task` failed (`how`: "panicked" or "exited") and stops the
    /// node. The first failure is the one reported.
    pub(crate) fn fail(&self, task: &'static str, how: &'static str) {
        self.failure.lock().get_or_insert((task, how));
        self.stop();
    }

    /// The failure that stopped the node, if a supervised task failed.
    pub(crate) fn failure(&self) -> Option<NodeError> {
        self.failure
            .lock()
            .map(|(task, how)| NodeError::TaskFailed { task, how })
    }

    /// Whether `stop` was called.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn header_at(&self, number: u64) -> Result<Header, BackendError> {
        self.chain
            .header(number)
            .map_err(|e| BackendError::Node(Box::new(NodeError::from(e))))?
            .map(|h| h.header)
            .ok_or(BackendError::BlockNotFound(number))
    }

    /// Runs `f` with the environment, state and block hashes that `eth_call` sees at `number`.
    fn with_call_state<T>(
        &self,
        number: u64,
        f: impl FnOnce(
            &banyan_execution::BlockEnv,
            &banyan_state::StateView,
            &banyan_execution::BlockHashFn<'_>,
        ) -> Result<T, ExecError>,
    ) -> Result<T, ExecError> {
        let (h, env) = self.call_env(number)?;
        let view = self.state.at(h.state_root);
        let block_hash = crate::executor::block_hashes(&self.chain, self.suite);
        f(&env, &view, &block_hash)
    }

    fn call_env(&self, number: u64) -> Result<(Header, banyan_execution::BlockEnv), ExecError> {
        let h = self.header_at(number).map_err(|e| match e {
            BackendError::BlockNotFound(n) => {
                ExecError::InvalidCall(format!("block {n} not found"))
            }
            other => ExecError::State(banyan_state::StateError::Storage(other.to_string())),
        })?;
        let gas_limit = self
            .child_gas_limit(&h)
            .map_err(|e| ExecError::State(banyan_state::StateError::Storage(e.to_string())))?;
        let env = child_env(
            &h,
            h.hash(self.suite),
            now_secs(),
            self.validator,
            gas_limit,
        );
        Ok((h, env))
    }
}

/// Replays every block of `source` into `target` (which must hold only genesis), verifying each
/// block by re-execution. Returns the number of blocks replayed.
pub fn replay(
    source: &ChainStore,
    target: &Node,
    progress: &dyn Fn(u64, u64),
) -> Result<u64, NodeError> {
    let head = source
        .head()?
        .ok_or_else(|| NodeError::Corrupt("source has no blocks".into()))?;
    let start = target.head_number() + 1;
    for n in start..=head {
        let block = source
            .block(n)?
            .ok_or_else(|| NodeError::Corrupt(format!("source block {n} missing")))?;
        let committed = target.import_block(&block)?;
        let source_hash = block.header.header.hash(target.suite);
        if committed.hash != source_hash {
            return Err(NodeError::InvalidBlock {
                number: n,
                reason: "replayed block hash differs".into(),
            });
        }
        progress(n, head);
    }
    Ok(head.saturating_sub(start - 1))
}
