//! The running node: storage, state, pool, block producer and the RPC backend.

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
use banyan_storage::KvStore;
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
    pub fn open(config: &NodeConfig) -> Result<Arc<Self>, NodeError> {
        let store: Arc<dyn KvStore> = match &config.data_dir {
            DataDir::Memory => banyan_storage::open_memory(),
            DataDir::Path(p) => {
                std::fs::create_dir_all(p).map_err(|e| {
                    NodeError::Config(format!("cannot create data directory {}: {e}", p.display()))
                })?;
                banyan_storage::open_redb(p)?
            }
        };
        Self::with_store(config, store)
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
                block_gas_limit: genesis.gas_limit,
            },
            banyan_modules::registry(&genesis.modules)?,
        );
        let (events, _) = broadcast::channel(1024);
        let mut metrics_registry = Registry::default();
        let metrics = Metrics::register(&mut metrics_registry);
        metrics.set_block_height(head.0.header.number);
        Ok(Arc::new(Self {
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
            block_config: config.block.clone(),
            min_gas_price: config.txpool.min_gas_price,
            commit_lock: Mutex::new(()),
            gossip: std::sync::OnceLock::new(),
            sync: Mutex::new(None),
            executed: Mutex::new(std::collections::HashMap::new()),
            metrics,
            metrics_registry: Arc::new(metrics_registry),
            genesis,
        }))
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

    /// The genesis the node runs.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The validator set that decides block `height`: the one source every check of seals,
    /// certificates and consensus membership reads. Today the genesis set at every height;
    /// governance will change it at a defined height, here.
    pub fn validators_at(&self, height: u64) -> Result<Arc<ValidatorSet>, NodeError> {
        let _ = height;
        Ok(Arc::clone(&self.genesis_validators))
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

    /// Builds, signs and commits one block from the pool; returns it (`None` if there was nothing
    /// to do and empty blocks are off).
    pub fn produce_block(&self) -> Result<Option<CommittedBlock>, NodeError> {
        let _guard = self.commit_lock.lock();
        let started = Instant::now();
        let (parent, parent_hash) = self.head();
        let txs = self.pool_txs(&parent);
        if txs.is_empty() && !self.block_config.empty_blocks {
            return Ok(None);
        }
        let built = self.execute_on_head(&parent, parent_hash, now_secs(), txs)?;
        if built.txs.is_empty() && !self.block_config.empty_blocks {
            return Ok(None);
        }
        let sealed = self.seal(&built.header)?;
        Ok(Some(self.commit(sealed, built, None, started)?))
    }

    /// The best transactions of the pool for a child of `parent`.
    fn pool_txs(&self, parent: &SealedHeader) -> Vec<RecoveredTx> {
        self.pool
            .best(parent.header.gas_limit, self.block_config.max_txs_per_block)
            .into_iter()
            .map(|t| (*t).clone())
            .collect()
    }

    /// Executes `txs` as the child of `parent` proposed by this node at `timestamp`, dropping
    /// from the pool those that turn out invalid at their turn.
    fn execute_on_head(
        &self,
        parent: &SealedHeader,
        parent_hash: B256,
        timestamp: u64,
        txs: Vec<RecoveredTx>,
    ) -> Result<ExecutedBlock, NodeError> {
        let env = child_env(&parent.header, parent_hash, timestamp, self.validator);
        let built = execute(
            self.suite,
            &self.executor,
            &self.state,
            &self.chain,
            &parent.header,
            &env,
            txs,
        )?;
        for (hash, reason) in &built.skipped {
            tracing::warn!(tx = %hash, %reason, "transaction invalid at execution, dropped from the pool");
            self.pool.remove_with_successors(hash);
        }
        if !built.skipped.is_empty() {
            self.metrics.set_txpool_len(self.pool.len());
        }
        Ok(built)
    }

    /// `header` with this node's seal over its hash.
    fn seal(&self, header: &Header) -> Result<SealedHeader, NodeError> {
        let signature = self
            .suite
            .sign(&self.signer, header.hash(self.suite).as_slice())
            .map_err(|e| NodeError::Execution(format!("signing block: {e}")))?;
        Ok(SealedHeader {
            header: header.clone(),
            signature: Bytes::from(signature.to_bytes()),
        })
    }

    /// Writes a built (or verified) block, with its commit certificate if it has one, and prunes
    /// the proposals it makes stale, all in one batch; `started` is when building or verifying
    /// began. The caller has verified `certificate`.
    fn commit(
        &self,
        sealed: SealedHeader,
        built: ExecutedBlock,
        certificate: Option<&CommitCertificate>,
        started: Instant,
    ) -> Result<CommittedBlock, NodeError> {
        let ExecutedBlock {
            txs,
            receipts,
            mut state_batch,
            ..
        } = built;
        let hash = sealed.header.hash(self.suite);
        let number = sealed.header.number;
        let block = Block {
            header: sealed.clone(),
            transactions: txs.iter().map(|t| t.encoded().clone()).collect(),
        };
        let hashes: Vec<B256> = txs.iter().map(RecoveredTx::hash).collect();
        self.chain
            .stage_block(&block, &hashes, &receipts, &mut state_batch);
        if let Some(cert) = certificate {
            if cert.height != number || cert.block_hash != hash {
                return Err(NodeError::InvalidBlock {
                    number,
                    reason: format!(
                        "commit certificate is for block {} at height {}, not this block {hash}",
                        cert.block_hash, cert.height
                    ),
                });
            }
            self.chain.stage_certificate(&mut state_batch, cert);
        }
        self.proposals
            .prune_proposals_through(&mut state_batch, number)?;
        self.chain.kv().write(state_batch)?;
        *self.head.write() = (sealed.clone(), hash);
        let senders: Vec<Address> = txs.iter().map(RecoveredTx::sender).collect();
        self.pool.on_block(&senders, &|a| self.head_account(a));
        self.metrics.set_txpool_len(self.pool.len());
        self.metrics
            .block_committed(sealed.header.number, hashes.len(), started.elapsed());
        let committed = CommittedBlock {
            header: sealed,
            hash,
            receipts: Arc::new(receipts),
        };
        let _ = self.events.send(committed.clone());
        tracing::info!(
            number = committed.header.header.number,
            hash = %hash,
            txs = hashes.len(),
            gas_used = committed.header.header.gas_used,
            "committed block"
        );
        Ok(committed)
    }

    /// Verifies `block` by re-execution and signature, then commits it (replay, sync).
    pub fn import_block(&self, block: &Block) -> Result<CommittedBlock, NodeError> {
        self.import(block, None)
    }

    /// Like [`import_block`](Self::import_block), and first checks `certificate` against the
    /// block and the genesis validator set (more than 2/3 of the voting power precommitted
    /// it); the block and its certificate are then written in one batch.
    pub fn import_certified_block(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
    ) -> Result<CommittedBlock, NodeError> {
        self.verify_certificate(block, certificate)?;
        self.import(block, Some(certificate))
    }

    /// Checks that `certificate` proves `block` was decided by the genesis validator set.
    pub(crate) fn verify_certificate(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
    ) -> Result<(), NodeError> {
        let h = &block.header.header;
        let invalid = |reason: String| NodeError::InvalidBlock {
            number: h.number,
            reason,
        };
        let validators = self.validators_at(h.number)?;
        let chain = ChainBinding {
            chain_id: self.chain_id,
            genesis_hash: self.genesis_hash,
        };
        verify_commit_certificate(
            self.suite,
            &chain,
            &validators,
            certificate,
            h.number,
            h.hash(self.suite),
        )
        .map_err(|e| invalid(format!("commit certificate: {e}")))
    }

    fn import(
        &self,
        block: &Block,
        certificate: Option<&CommitCertificate>,
    ) -> Result<CommittedBlock, NodeError> {
        let _guard = self.commit_lock.lock();
        let started = Instant::now();
        let (parent, _) = self.head();
        self.check_seal(block)?;
        let executed = verify_block(
            self.suite,
            self.chain_id,
            &self.executor,
            &self.state,
            &self.chain,
            &parent,
            block,
        )?;
        self.commit(block.header.clone(), executed, certificate, started)
    }

    /// Checks that `block` is sealed by the validator it names as proposer.
    fn check_seal(&self, block: &Block) -> Result<(), NodeError> {
        let h = &block.header.header;
        let validators = self.validators_at(h.number)?;
        let validator = validators
            .get(&h.proposer)
            .ok_or_else(|| NodeError::InvalidBlock {
                number: h.number,
                reason: format!("proposer {} is not a validator", h.proposer),
            })?;
        let pk = validator.public_key();
        let sig = banyan_crypto::Signature::from_bytes(&block.header.signature).map_err(|e| {
            NodeError::InvalidBlock {
                number: h.number,
                reason: format!("seal: {e}"),
            }
        })?;
        self.suite
            .verify(&pk, h.hash(self.suite).as_slice(), &sig)
            .map_err(|e| NodeError::InvalidBlock {
                number: h.number,
                reason: format!("seal: {e}"),
            })?;
        Ok(())
    }

    /// Builds a proposal for the block after the head: transactions from the pool, executed
    /// on the head and sealed with this node's key. Nothing is committed; the execution result
    /// is kept so that committing the block, once decided, does not run it again.
    pub fn build_proposal(&self) -> Result<Block, NodeError> {
        let (parent, parent_hash) = self.head();
        let txs = self.pool_txs(&parent);
        // Never before the parent, whatever this machine's clock says.
        let timestamp = now_secs().max(parent.header.timestamp);
        let built = self.execute_on_head(&parent, parent_hash, timestamp, txs)?;
        let block = Block {
            header: self.seal(&built.header)?,
            transactions: built.txs.iter().map(|t| t.encoded().clone()).collect(),
        };
        self.executed
            .lock()
            .insert(block.header.header.hash(self.suite), built);
        Ok(block)
    }

    /// Checks a proposal from another validator: it extends the head, is sealed by its
    /// proposer, its clock is sane, and re-executing it on the head reproduces every root.
    /// `Ok(Err(reason))` means the block is invalid (vote nil); `Err` is a local failure.
    pub fn check_proposal(&self, block: &Block) -> Result<Result<(), String>, NodeError> {
        let hash = block.header.header.hash(self.suite);
        if self.executed.lock().contains_key(&hash) {
            return Ok(Ok(())); // We built or already verified exactly this block.
        }
        let h = &block.header.header;
        if h.timestamp > now_secs() + MAX_CLOCK_DRIFT_SECS {
            return Ok(Err(format!(
                "timestamp {} is more than {MAX_CLOCK_DRIFT_SECS} s ahead of this node's clock",
                h.timestamp
            )));
        }
        if let Err(error) = self.check_seal(block) {
            return Ok(Err(error.to_string()));
        }
        let (parent, _) = self.head();
        match verify_block(
            self.suite,
            self.chain_id,
            &self.executor,
            &self.state,
            &self.chain,
            &parent,
            block,
        ) {
            Ok(executed) => {
                self.executed.lock().insert(hash, executed);
                Ok(Ok(()))
            }
            Err(NodeError::InvalidBlock { reason, .. }) => Ok(Err(reason)),
            Err(error) => Err(error),
        }
    }

    /// Commits a block consensus decided, with its commit certificate, in one durable write.
    /// The block must extend the head; it is executed again only if this node never did.
    pub fn commit_decided(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
    ) -> Result<CommittedBlock, NodeError> {
        let _guard = self.commit_lock.lock();
        let started = Instant::now();
        let (parent, parent_hash) = self.head();
        let h = &block.header.header;
        let hash = h.hash(self.suite);
        if h.parent_hash != parent_hash || h.number != parent.header.number + 1 {
            return Err(NodeError::InvalidBlock {
                number: h.number,
                reason: format!(
                    "decided block {hash} does not extend the head {} ({parent_hash})",
                    parent.header.number
                ),
            });
        }
        let cached = self.executed.lock().remove(&hash);
        let executed = match cached {
            Some(executed) => executed,
            None => {
                self.check_seal(block)?;
                verify_block(
                    self.suite,
                    self.chain_id,
                    &self.executor,
                    &self.state,
                    &self.chain,
                    &parent,
                    block,
                )?
            }
        };
        let committed = self.commit(block.header.clone(), executed, Some(certificate), started)?;
        // Anything executed at or below this height can no longer be committed.
        self.executed
            .lock()
            .retain(|_, e| e.header.number > h.number);
        Ok(committed)
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

    /// A transaction a peer gossiped: into the pool if valid; never gossiped again.
    pub(crate) fn accept_gossiped(&self, raw: &[u8]) {
        match self.add_to_pool(raw) {
            Ok(_) => self.metrics.set_txpool_len(self.pool.len()),
            Err(error) => tracing::trace!("gossiped transaction not added: {error}"),
        }
    }

    /// Asks the producer to look at the pool now.
    fn wake_producer(&self) {
        let (lock, cv) = &self.wake;
        *lock.lock() = true;
        cv.notify_one();
    }

    /// Stops the producer loop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake_producer();
    }

    /// Whether `stop` was called.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The block producer loop; returns when stopped, or with the error that must stop the node.
    pub fn run_producer(&self) -> Result<(), NodeError> {
        let interval = Duration::from_millis(self.block_config.interval_ms);
        let mut last_block = Instant::now();
        let mut last_evict = Instant::now();
        while !self.is_stopped() {
            {
                let (lock, cv) = &self.wake;
                let mut woken = lock.lock();
                let deadline = last_block + interval;
                while !*woken && Instant::now() < deadline && !self.is_stopped() {
                    if self.block_config.produce_on_tx && !self.pool.is_empty() {
                        break;
                    }
                    cv.wait_until(&mut woken, deadline);
                }
                *woken = false;
            }
            if self.is_stopped() {
                break;
            }
            let due = last_block.elapsed() >= interval;
            let eager = self.block_config.produce_on_tx && !self.pool.is_empty();
            if !(due || eager) {
                continue;
            }
            if self.produce_block()?.is_some() || due {
                last_block = Instant::now();
            }
            if last_evict.elapsed() > Duration::from_secs(10) {
                let n = self.pool.evict_stale(Instant::now());
                if n > 0 {
                    tracing::info!(evicted = n, "dropped stale pool transactions");
                    self.metrics.set_txpool_len(self.pool.len());
                }
                last_evict = Instant::now();
            }
        }
        Ok(())
    }

    fn header_at(&self, number: u64) -> Result<Header, BackendError> {
        self.chain
            .header(number)
            .map_err(|e| BackendError(e.to_string()))?
            .map(|h| h.header)
            .ok_or_else(|| BackendError(format!("block {number} not found")))
    }

    /// Runs `f` with the environment, state and block hashes that `eth_call` sees at `number`.
    fn with_call_state<T>(
        &self,
        number: u64,
        f: impl FnOnce(
            &banyan_execution::BlockEnv,
            &banyan_state::StateView,
            &dyn Fn(u64) -> Option<B256>,
        ) -> Result<T, ExecError>,
    ) -> Result<T, ExecError> {
        let (h, env) = self.call_env(number)?;
        let view = self.state.at(h.state_root);
        let block_hash = |n: u64| {
            self.chain
                .header(n)
                .ok()
                .flatten()
                .map(|h| h.header.hash(self.suite))
        };
        f(&env, &view, &block_hash)
    }

    fn call_env(&self, number: u64) -> Result<(Header, banyan_execution::BlockEnv), ExecError> {
        let h = self.header_at(number).map_err(|e| ExecError::Evm(e.0))?;
        let env = child_env(&h, h.hash(self.suite), now_secs(), self.validator);
        Ok((h, env))
    }
}

fn be<E: std::fmt::Display>(e: E) -> BackendError {
    BackendError(e.to_string())
}

impl Backend for Node {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }
    fn suite(&self) -> Suite {
        self.suite
    }
    fn head_number(&self) -> u64 {
        self.head.read().0.header.number
    }
    fn header(&self, number: u64) -> Result<Option<SealedHeader>, BackendError> {
        self.chain.header(number).map_err(be)
    }
    fn number_by_hash(&self, hash: B256) -> Result<Option<u64>, BackendError> {
        self.chain.number_by_hash(hash).map_err(be)
    }
    fn body(&self, number: u64) -> Result<Option<Vec<Bytes>>, BackendError> {
        self.chain.body(number).map_err(be)
    }
    fn receipts(&self, number: u64) -> Result<Option<Vec<Receipt>>, BackendError> {
        self.chain.receipts(number).map_err(be)
    }
    fn tx_location(&self, hash: B256) -> Result<Option<(u64, u32)>, BackendError> {
        self.chain.tx_location(hash).map_err(be)
    }
    fn commit_certificate(&self, number: u64) -> Result<Option<CommitCertificate>, BackendError> {
        self.chain.certificate(number).map_err(be)
    }
    fn validator_set(&self, number: u64) -> Result<Vec<GenesisValidator>, BackendError> {
        let set = self.validators_at(number).map_err(be)?;
        Ok(set
            .validators()
            .iter()
            .map(|v| GenesisValidator {
                address: v.address(),
                public_key: Bytes::copy_from_slice(&v.public_key().to_bytes()),
                power: v.voting_power(),
            })
            .collect())
    }
    fn pending_tx(&self, hash: B256) -> Option<Arc<RecoveredTx>> {
        self.pool.get(&hash)
    }
    fn account(&self, number: u64, address: Address) -> Result<Option<Account>, BackendError> {
        let root = self.header_at(number)?.state_root;
        self.state.at(root).account(address).map_err(be)
    }
    fn storage(&self, number: u64, address: Address, slot: U256) -> Result<U256, BackendError> {
        let root = self.header_at(number)?.state_root;
        self.state.at(root).storage(address, slot).map_err(be)
    }
    fn code(&self, number: u64, address: Address) -> Result<Bytes, BackendError> {
        let view = self.state.at(self.header_at(number)?.state_root);
        match view.account(address).map_err(be)? {
            Some(a) => Ok(view.code(a.code_hash).map_err(be)?.unwrap_or_default()),
            None => Ok(Bytes::new()),
        }
    }
    fn proof(
        &self,
        number: u64,
        address: Address,
        slots: &[U256],
    ) -> Result<AccountProof, BackendError> {
        let root = self.header_at(number)?.state_root;
        self.state.proof(root, address, slots).map_err(be)
    }
    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError> {
        let (nonce, _) = self.head_account(address).map_err(|_| {
            BackendError(format!(
                "the node could not read account {address} at its head state"
            ))
        })?;
        Ok(self
            .pool
            .next_nonce(address)
            .map_or(nonce, |n| n.max(nonce)))
    }
    fn call(&self, number: u64, request: &CallRequest) -> Result<CallOutcome, ExecError> {
        self.with_call_state(number, |env, view, block_hash| {
            self.executor.call(env, view, block_hash, request)
        })
    }
    fn estimate_gas(&self, number: u64, request: &CallRequest) -> Result<u64, ExecError> {
        self.with_call_state(number, |env, view, block_hash| {
            self.executor.estimate_gas(env, view, block_hash, request)
        })
    }
    fn submit(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let result = self.add_to_pool(raw);
        match result {
            Ok(_) => {
                self.metrics.set_txpool_len(self.pool.len());
                if let Some(gossip) = self.gossip.get() {
                    // A full queue skips gossip for this transaction; it still waits in our pool
                    // for our turn to propose.
                    let _queued = gossip.try_send(bytes::Bytes::copy_from_slice(raw));
                }
            }
            Err(_) => self.metrics.txpool_rejected(),
        }
        result
    }
    fn syncing(&self) -> Option<(u64, u64, u64)> {
        let head = self.head().0.header.number;
        (*self.sync.lock())
            .and_then(|(start, target)| (target > head).then_some((start, head, target)))
    }
    fn subscribe(&self) -> broadcast::Receiver<CommittedBlock> {
        self.events.subscribe()
    }
    fn gas_price(&self) -> u128 {
        self.min_gas_price.max(1)
    }
    fn status(&self) -> NodeStatus {
        let (h, hash) = self.head();
        NodeStatus {
            chain_id: self.chain_id,
            suite: self.suite,
            genesis_hash: self.genesis_hash,
            head_number: h.header.number,
            head_hash: hash,
            txpool_size: self.pool.len(),
            validator: self.validator,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

impl Node {
    /// Decodes, checks and queues a raw transaction (the body of `submit`).
    fn add_to_pool(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let tx = RecoveredTx::decode(raw, self.suite, self.chain_id)?;
        let hash = tx.hash();
        if self.chain.tx_location(hash).map_err(be)?.is_some() {
            return Err(SubmitError::Pool(banyan_txpool::PoolError::AlreadyKnown));
        }
        // Module screens on the head state, outside the pool's lock; the block executor asks the
        // same modules again when the transaction's turn comes.
        let head = self.head().0.header;
        let screened = self
            .executor
            .screen(
                head.number + 1,
                &self.state.at(head.state_root),
                &crate::executor::tx_input(&tx),
            )
            .map_err(|e| BackendError(format!("screening the transaction failed: {e}")))?;
        if let Some(refusal) = screened {
            return Err(SubmitError::Refused(refusal));
        }
        self.pool
            .add_with(tx, &|sender| self.head_account(sender))?;
        self.wake_producer();
        Ok(hash)
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
