//! The application side of the engine: answers every `AppMsg`, builds and verifies blocks
//! through the [`Application`] trait, streams proposals as parts and commits decided blocks
//! with their certificates.
//!
//! Rules this loop keeps (design doc §3, §4):
//! - a block is persisted in the proposal store before we answer with its hash, so a restart
//!   finds the body of anything the WAL mentions;
//! - a decided block and its certificate are committed in one durable write before `Decided`
//!   is answered; a failed commit stops the node, it never answers `Next::Restart` (which would
//!   reset the WAL for the height);
//! - consensus always resumes at `head + 1`.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, Bytes as AlloyBytes};
use banyan_primitives::Block;
use banyan_primitives::consensus::{CommitCertificate as BanyanCert, CommitSignature as BanyanSig};
use bytes::Bytes;
use malachitebft_app_channel::app::config::{
    ConsensusConfig, NodeConfig as EngineNodeConfig, ValueSyncConfig,
};
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, CommitSignature, ExtendedCommitCertificate, ExtendedCommitSignature,
    LinearTimeouts, Round, Validity,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_app_channel::{
    AppMsg, Channels, ConsensusContext, EngineBuilder, NetworkMsg, RequestContext, SyncContext,
    WalContext,
};

use crate::codec::BanyanCodec;
use crate::context::{
    BanyanContext, BlockHash, Height, ProposalPart, ValidatorAddress, ValidatorSet,
};
use crate::guard::SafetyGuard;
use crate::network::{NetworkConfig, NetworkHandle, spawn_network};
use crate::signing::{BanyanSigner, BanyanVerifier, ConsensusSignature};

/// Why consensus cannot go on. Each variant keeps its source, so the node's error (and the
/// log) says what failed underneath.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The application (the node) failed: its own error, kept whole.
    #[error(transparent)]
    Application(Box<dyn std::error::Error + Send + Sync>),
    /// A rule the host enforces was broken (a key outside the validator set, a decided block
    /// missing from the proposal store); the message says which.
    #[error("{0}")]
    Refused(String),
    /// The validator key does not work with the chain's suite.
    #[error("validator key: {0}")]
    Key(#[from] banyan_crypto::CryptoError),
    /// The peer network could not start.
    #[error("cannot start the peer network: {0}")]
    Network(String),
    /// The engine could not start, or stopped.
    #[error("consensus engine: {0}")]
    Engine(String),
    /// A blocking application task did not finish.
    #[error("application task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl AppError {
    /// Wraps the application's own error.
    pub fn application(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Application(Box::new(error))
    }
}

/// The outcome of re-executing a proposed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same roots as the header: vote for it.
    Valid,
    /// Something differs (the reason says what, with both values).
    Invalid(String),
}

/// What consensus needs from the node. Blocking calls; the host runs them off the async
/// runtime.
pub trait Application: Send + Sync + 'static {
    /// Number and hash of the last committed block.
    fn head(&self) -> Result<(u64, B256), AppError>;
    /// The validator set that decides `height`: the node's one source of it (the genesis set
    /// until governance changes it, at a defined height).
    fn validators_at(&self, height: u64) -> Result<ValidatorSet, AppError>;
    /// The pace of heights the chain sets for the next height; `None` keeps
    /// [`ConsensusSettings::target_block_time`].
    fn block_interval(&self) -> Result<Option<Duration>, AppError> {
        Ok(None)
    }
    /// A new block on the head, from the pool, executed and sealed by this validator.
    fn build_block(&self, height: u64, deadline: Instant) -> Result<Block, AppError>;
    /// Re-executes `block` on the head and compares every root and the seal.
    fn verify_block(&self, block: &Block) -> Result<Verdict, AppError>;
    /// Commits `block` (which must extend the head) with its certificate, durably.
    fn commit(&self, block: &Block, certificate: &BanyanCert) -> Result<(), AppError>;
    /// A committed block and its certificate.
    fn certified_block(&self, height: u64) -> Result<Option<(Block, BanyanCert)>, AppError>;
    /// Lowest height whose block and certificate this node can serve.
    fn history_min_height(&self) -> Result<u64, AppError>;
    /// Persists a proposed block (durably) before consensus hears about it.
    fn store_proposal(&self, height: u64, round: u32, block: &Block) -> Result<(), AppError>;
    /// A stored proposal by block hash.
    fn proposal(&self, hash: B256) -> Result<Option<Block>, AppError>;
    /// Stored proposals at `height`, with their rounds.
    fn proposals_at(&self, height: u64) -> Result<Vec<(u32, Block)>, AppError>;
}

/// Consensus settings.
#[derive(Clone, Debug)]
pub struct ConsensusSettings {
    /// Base timeouts (they grow per round).
    pub timeouts: LinearTimeouts,
    /// Time between heights when there is nothing to wait for.
    pub target_block_time: Duration,
    /// Directory of the engine's write-ahead log.
    pub wal_dir: PathBuf,
    /// Name used in logs and metrics.
    pub moniker: String,
    /// Blocks per sync response, at most.
    pub sync_batch: usize,
}

struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    sync: ValueSyncConfig,
}

impl EngineNodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.sync
    }
}

/// Who this node is in consensus.
pub enum Role {
    /// Signs votes and proposals with this key; its address must be in the validator set.
    Validator(banyan_crypto::SecretKey),
    /// Follows and verifies, never signs.
    Observer,
}

/// A running consensus engine.
pub struct ConsensusHandle {
    /// Gossip and peer information.
    pub network: NetworkHandle,
    /// Where the node listens for peers.
    pub listen_addr: std::net::SocketAddr,
    /// Finishes when the host loop ends: `Err` says why consensus stopped.
    pub host: tokio::task::JoinHandle<Result<(), AppError>>,
    /// The engine's actor tree.
    pub engine: malachitebft_app_channel::EngineHandle,
    /// A validator's safety guard (none for an observer): told the peers' heights.
    pub guard: Option<Arc<SafetyGuard>>,
}

/// What a validator sits out at start (see the guard's `sitting_out_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartSitOut {
    /// Nothing: the node's state is whole.
    #[default]
    Nothing,
    /// The chain store was rebuilt from scratch while the safety record was kept: every height
    /// below the newest the record holds, and the rounds recorded at that one
    /// ([`SafetyGuard::sitting_out_after_rebuild`]).
    AfterRebuild,
    /// The safety record was lost: everything until peers report the network's height, then
    /// every height up to one past it (and at least `at_least`).
    UntilPeersKnown {
        /// Sit out through at least this height.
        at_least: u64,
    },
}

/// Everything [`start`] needs.
pub struct StartArgs {
    /// The chain binding and suite.
    pub ctx: BanyanContext,
    /// Validator (with its key) or observer.
    pub role: Role,
    /// Timeouts, pace, WAL location.
    pub settings: ConsensusSettings,
    /// Listen address, peers, TLS.
    pub network: NetworkConfig,
    /// The node.
    pub app: Arc<dyn Application>,
    /// Where the safety guard keeps its records (the validator's safety record).
    pub guard_store: Arc<dyn banyan_storage::KvStore>,
    /// What the validator sits out, after its node lost state.
    pub sit_out: StartSitOut,
    /// Receives transactions gossiped by peers.
    pub gossip: Option<tokio::sync::mpsc::Sender<(PeerId, Vec<AlloyBytes>)>>,
}

/// Starts the engine, its network and the host loop.
pub async fn start(args: StartArgs) -> Result<ConsensusHandle, AppError> {
    let StartArgs {
        ctx,
        role,
        settings,
        network,
        app,
        guard_store,
        sit_out,
        gossip,
    } = args;
    let suite = ctx.suite();
    let first_height = app.head()?.0 + 1;
    let validators = app.validators_at(first_height)?;
    let (address, signer, guard) = match &role {
        Role::Validator(key) => {
            let public = suite.public_key(key).map_err(AppError::Key)?;
            let address = suite.address(&public);
            if !validators.contains(&address) {
                tracing::warn!(
                    "validator {address} is not in the validator set of block {first_height}; \
                     this node follows the chain and votes from the height a governance \
                     proposal adds it"
                );
            }
            (
                address,
                Some(BanyanSigner::new(ctx.clone(), key.clone())),
                Some(Arc::new({
                    let record = |e| AppError::Refused(format!("reading the safety record: {e}"));
                    let guard = SafetyGuard::open(guard_store, address).map_err(record)?;
                    match sit_out {
                        StartSitOut::Nothing => {}
                        StartSitOut::AfterRebuild => {
                            guard.sitting_out_after_rebuild().map_err(record)?;
                        }
                        StartSitOut::UntilPeersKnown { at_least } => {
                            guard.sitting_out_until_peers_known(at_least);
                        }
                    }
                    guard
                })),
            )
        }
        Role::Observer => {
            // Any address outside the set: the engine only signs for members.
            let address = Address::ZERO;
            if validators.contains(&address) {
                return Err(AppError::Refused(
                    "the zero address cannot be a validator".into(),
                ));
            }
            (address, None, None)
        }
    };
    // The bridges between the engine, our network actor and the node are watched by the host
    // loop: one that ends or panics stops consensus, naming it.
    let mut bridges = tokio::task::JoinSet::new();
    let gossip_bytes = gossip.map(|tx| {
        let (btx, mut brx) = tokio::sync::mpsc::channel::<(PeerId, Vec<Bytes>)>(256);
        bridges.spawn(async move {
            while let Some((peer, txs)) = brx.recv().await {
                let txs = txs.into_iter().map(AlloyBytes::from).collect();
                if tx.send((peer, txs)).await.is_err() {
                    break;
                }
            }
            "gossip to the node"
        });
        btx
    });
    let guard_handle = guard.clone();
    let egress = match (&guard, &role) {
        (Some(guard), Role::Validator(key)) => Some((
            Arc::clone(guard),
            BanyanSigner::new(ctx.clone(), key.clone()),
        )),
        _ => None,
    };
    let (net_ref, net_handle, listen_addr) = spawn_network(network, egress, gossip_bytes)
        .await
        .map_err(|e| AppError::Network(e.to_string()))?;
    let (tx_net, mut rx_net) = tokio::sync::mpsc::channel::<NetworkMsg<BanyanContext>>(64);
    {
        let net_ref = net_ref.clone();
        bridges.spawn(async move {
            while let Some(msg) = rx_net.recv().await {
                if net_ref.cast(msg.into()).is_err() {
                    break;
                }
            }
            "engine to network"
        });
    }
    let sync = ValueSyncConfig {
        batch_size: settings.sync_batch.max(1),
        status_update_interval: Duration::from_secs(2),
        ..ValueSyncConfig::default()
    };
    let config = EngineConfig {
        moniker: settings.moniker.clone(),
        consensus: ConsensusConfig::default(),
        sync,
    };
    let verifier = Box::new(BanyanVerifier::new(ctx.clone()));
    let consensus_ctx = match signer {
        Some(signer) => {
            ConsensusContext::new_validator(ValidatorAddress(address), verifier, Box::new(signer))
        }
        None => ConsensusContext::new_full_node(ValidatorAddress(address), verifier),
    };
    let (channels, engine) = EngineBuilder::new(ctx.clone(), config)
        .with_default_wal(WalContext::new(
            settings.wal_dir.join("consensus.wal"),
            BanyanCodec,
        ))
        .with_custom_network(net_ref, tx_net)
        .with_default_sync(SyncContext::new(BanyanCodec))
        .with_default_consensus(consensus_ctx)
        .with_default_request(RequestContext::new(64))
        .build()
        .await
        .map_err(|e| AppError::Engine(format!("cannot start: {e}")))?;
    let host = Host {
        ctx,
        app,
        validators,
        own: address,
        settings,
        assembler: Assembler::default(),
        current: (0, Round::Nil),
        pending: Vec::new(),
    };
    let host = tokio::spawn(host.run(channels, bridges));
    Ok(ConsensusHandle {
        network: net_handle,
        listen_addr,
        host,
        engine,
        guard: guard_handle,
    })
}

/// Most transactions in one streamed part.
const TXS_PER_PART: usize = 512;
/// Most parts in one stream (a block of the largest size fits with room to spare).
const MAX_PARTS: usize = 4096;
/// Most streams assembled at once.
const MAX_STREAMS: usize = 64;
/// Most completed proposals held for a future height.
const MAX_PENDING: usize = 16;
/// Most blocks served in one sync response.
const MAX_SERVED: u64 = 100;
/// Most bytes of blocks served in one sync response.
const MAX_SERVED_BYTES: usize = 8 * 1024 * 1024;

#[derive(Default)]
struct Stream {
    parts: BTreeMap<u64, StreamContent<ProposalPart>>,
    fin_at: Option<u64>,
}

#[derive(Default)]
struct Assembler {
    streams: HashMap<(PeerId, StreamId), Stream>,
}

/// A complete proposal from a stream.
struct Assembled {
    height: u64,
    round: Round,
    valid_round: Round,
    proposer: Address,
    block: Block,
}

impl Assembler {
    fn add(
        &mut self,
        from: PeerId,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<Assembled>, String> {
        let key = (from, msg.stream_id.clone());
        if !self.streams.contains_key(&key) && self.streams.len() >= MAX_STREAMS {
            // Drop the oldest-looking stream rather than grow.
            if let Some(k) = self.streams.keys().next().cloned() {
                self.streams.remove(&k);
            }
        }
        let stream = self.streams.entry(key.clone()).or_default();
        if msg.sequence >= MAX_PARTS as u64 {
            self.streams.remove(&key);
            return Err(format!("stream longer than {MAX_PARTS} parts"));
        }
        if msg.content.as_data().is_none() {
            stream.fin_at = Some(msg.sequence);
        }
        stream.parts.insert(msg.sequence, msg.content);
        let Some(fin) = stream.fin_at else {
            return Ok(None);
        };
        if stream.parts.len() as u64 != fin + 1 {
            return Ok(None);
        }
        let stream = self.streams.remove(&key).unwrap_or_default();
        assemble(stream).map(Some)
    }
}

fn assemble(stream: Stream) -> Result<Assembled, String> {
    let mut init = None;
    let mut header = None;
    let mut txs: Vec<AlloyBytes> = Vec::new();
    let mut count = None;
    for (_, content) in stream.parts {
        let StreamContent::Data(part) = content else {
            continue;
        };
        match part {
            ProposalPart::Init {
                height,
                round,
                valid_round,
                proposer,
            } => init = Some((height.0, round, valid_round, proposer.0)),
            ProposalPart::Header(h) => header = Some(*h),
            ProposalPart::Txs {
                first_index,
                txs: chunk,
            } => {
                if first_index as usize != txs.len() {
                    return Err(format!(
                        "transaction chunk starts at {first_index}, expected {}",
                        txs.len()
                    ));
                }
                txs.extend(chunk);
            }
            ProposalPart::Fin { tx_count } => count = Some(tx_count as usize),
        }
    }
    let (height, round, valid_round, proposer) = init.ok_or("stream without Init")?;
    let header = header.ok_or("stream without Header")?;
    let count = count.ok_or("stream without Fin")?;
    if count != txs.len() {
        return Err(format!(
            "Fin says {count} transactions, stream carried {}",
            txs.len()
        ));
    }
    if header.header.number != height {
        return Err(format!(
            "header number {} in a stream for height {height}",
            header.header.number
        ));
    }
    // A proposer re-proposes the value of an earlier round (`valid_round`, which 2f+1
    // validators prevoted): that block keeps the header, and so the proposer, it was built with.
    // A fresh proposal is built by the one who streams it.
    if header.header.proposer != proposer && !valid_round.is_defined() {
        return Err(format!(
            "header proposer {} in a stream from proposer {proposer} that re-proposes no \
             earlier round",
            header.header.proposer
        ));
    }
    Ok(Assembled {
        height,
        round,
        valid_round,
        proposer,
        block: Block {
            header,
            transactions: txs,
        },
    })
}

fn stream_id(height: u64, round: Round, proposer: Address) -> StreamId {
    let mut id = Vec::with_capacity(32);
    id.extend_from_slice(&height.to_be_bytes());
    id.extend_from_slice(&round.as_u32().unwrap_or(0).to_be_bytes());
    id.extend_from_slice(proposer.as_slice());
    StreamId::new(Bytes::from(id))
}

/// The parts of a proposal, in order.
fn parts_of(
    block: &Block,
    height: u64,
    round: Round,
    valid_round: Round,
    proposer: Address,
) -> Vec<StreamMessage<ProposalPart>> {
    let id = stream_id(height, round, proposer);
    let mut parts = vec![
        ProposalPart::Init {
            height: Height(height),
            round,
            valid_round,
            proposer: ValidatorAddress(proposer),
        },
        ProposalPart::Header(Box::new(block.header.clone())),
    ];
    for (i, chunk) in block.transactions.chunks(TXS_PER_PART).enumerate() {
        parts.push(ProposalPart::Txs {
            first_index: (i * TXS_PER_PART) as u32,
            txs: chunk.to_vec(),
        });
    }
    parts.push(ProposalPart::Fin {
        tx_count: block.transactions.len() as u32,
    });
    let mut out: Vec<StreamMessage<ProposalPart>> = parts
        .into_iter()
        .enumerate()
        .map(|(seq, part)| StreamMessage::new(id.clone(), seq as u64, StreamContent::Data(part)))
        .collect();
    out.push(StreamMessage::new(id, out.len() as u64, StreamContent::Fin));
    out
}

/// Malachite's certificate as ours (stored and served to clients).
pub fn to_banyan_cert(cert: &CommitCertificate<BanyanContext>) -> BanyanCert {
    BanyanCert::new(
        cert.height.0,
        cert.round.as_u32().unwrap_or(0),
        cert.value_id.0,
        cert.commit_signatures
            .iter()
            .map(|s| BanyanSig {
                validator: s.address.0,
                signature: AlloyBytes::from(s.signature.0.clone()),
            })
            .collect(),
    )
}

/// Ours as Malachite's, for sync.
pub fn to_engine_cert(cert: &BanyanCert) -> ExtendedCommitCertificate<BanyanContext> {
    ExtendedCommitCertificate {
        height: Height(cert.height),
        round: Round::new(cert.round),
        value_id: BlockHash(cert.block_hash),
        commit_signatures: cert
            .signatures
            .iter()
            .map(|s| ExtendedCommitSignature {
                address: ValidatorAddress(s.validator),
                signature: ConsensusSignature(s.signature.to_vec()),
                extension: None,
            })
            .collect(),
    }
}

/// Ours as Malachite's plain certificate.
pub fn to_engine_commit_cert(cert: &BanyanCert) -> CommitCertificate<BanyanContext> {
    CommitCertificate {
        height: Height(cert.height),
        round: Round::new(cert.round),
        value_id: BlockHash(cert.block_hash),
        commit_signatures: cert
            .signatures
            .iter()
            .map(|s| CommitSignature {
                address: ValidatorAddress(s.validator),
                signature: ConsensusSignature(s.signature.to_vec()),
            })
            .collect(),
    }
}

struct Host {
    ctx: BanyanContext,
    app: Arc<dyn Application>,
    validators: ValidatorSet,
    own: Address,
    settings: ConsensusSettings,
    assembler: Assembler,
    current: (u64, Round),
    /// Complete proposals for a later height than the current one.
    pending: Vec<Assembled>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::Task)?
}

impl Host {
    /// The parameters of `height`, with the validator set that decides it.
    fn params(&mut self, height: u64) -> Result<HeightParams<BanyanContext>, AppError> {
        self.validators = self.app.validators_at(height)?;
        let pace = self
            .app
            .block_interval()?
            .unwrap_or(self.settings.target_block_time);
        Ok(HeightParams::new(
            self.validators.clone(),
            self.settings.timeouts,
            Some(pace),
        ))
    }

    async fn next_height(&self) -> Result<u64, AppError> {
        let app = Arc::clone(&self.app);
        Ok(blocking(move || app.head()).await?.0 + 1)
    }

    async fn run(
        mut self,
        mut channels: Channels<BanyanContext>,
        mut bridges: tokio::task::JoinSet<&'static str>,
    ) -> Result<(), AppError> {
        loop {
            tokio::select! {
                msg = channels.consensus.recv() => {
                    let Some(msg) = msg else {
                        return Err(AppError::Engine("it stopped".into()));
                    };
                    if let Err(error) = self.handle(msg, &channels).await {
                        tracing::error!("consensus stops: {error}");
                        return Err(error);
                    }
                }
                Some(ended) = bridges.join_next() => {
                    let reason = match ended {
                        Ok(bridge) => format!("the {bridge} bridge ended"),
                        Err(e) if e.is_panic() => "a bridge task panicked".to_string(),
                        Err(e) => format!("a bridge task was cancelled: {e}"),
                    };
                    tracing::error!("consensus stops: {reason}");
                    return Err(AppError::Engine(reason));
                }
            }
        }
    }

    async fn handle(
        &mut self,
        msg: AppMsg<BanyanContext>,
        channels: &Channels<BanyanContext>,
    ) -> Result<(), AppError> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let height = self.next_height().await?;
                tracing::info!("consensus starting at height {height}");
                let params = self.params(height)?;
                let _ignored = reply.send((Height(height), params));
            }
            AppMsg::StartedRound {
                height,
                round,
                reply_value,
                ..
            } => {
                self.current = (height.0, round);
                // Proposals that were complete before the parent block was committed can be
                // checked now; valid ones land in the proposal store and are reported below.
                let pending = std::mem::take(&mut self.pending);
                for a in pending {
                    if a.height == height.0 {
                        let _reported_below = self.verify_and_store(a).await?;
                    } else if a.height > height.0 {
                        self.pending.push(a);
                    }
                }
                let app = Arc::clone(&self.app);
                let h = height.0;
                let stored = blocking(move || app.proposals_at(h)).await?;
                let values = stored
                    .into_iter()
                    .filter(|(r, _)| Round::new(*r) == round)
                    .map(|(_, block)| ProposedValue {
                        height,
                        round,
                        valid_round: Round::Nil,
                        proposer: ValidatorAddress(block.header.header.proposer),
                        value: BlockHash(block.header.header.hash(self.ctx.suite())),
                        validity: Validity::Valid,
                    })
                    .collect();
                let _ignored = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                let app = Arc::clone(&self.app);
                let h = height.0;
                let r = round.as_u32().unwrap_or(0);
                let own = self.own;
                let suite = self.ctx.suite();
                let existing = blocking(move || app.proposals_at(h)).await?;
                let block = match existing
                    .into_iter()
                    .find(|(pr, b)| *pr == r && b.header.header.proposer == own)
                {
                    Some((_, block)) => block,
                    None => {
                        let app = Arc::clone(&self.app);
                        // Leave time for streaming and the others' re-execution.
                        let deadline = Instant::now() + timeout / 2;
                        let block = blocking(move || app.build_block(h, deadline)).await?;
                        let app = Arc::clone(&self.app);
                        let stored = block.clone();
                        blocking(move || app.store_proposal(h, r, &stored)).await?;
                        block
                    }
                };
                let hash = block.header.header.hash(suite);
                tracing::debug!(
                    "proposing block {hash} at height {h} round {r} with {} transactions",
                    block.transactions.len()
                );
                let _ignored =
                    reply.send(LocallyProposedValue::new(height, round, BlockHash(hash)));
                for part in parts_of(&block, h, round, Round::Nil, own) {
                    channels
                        .network
                        .send(NetworkMsg::PublishProposalPart(part))
                        .await
                        .map_err(|_| AppError::Engine("the network actor stopped".into()))?;
                }
            }
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                let from = published_by.unwrap_or(from);
                let value = match self.assembler.add(from, part) {
                    Ok(Some(assembled)) => {
                        let (current, _) = self.current;
                        if assembled.height > current {
                            if self.pending.len() < MAX_PENDING {
                                self.pending.push(assembled);
                            }
                            None
                        } else if assembled.height < current {
                            None
                        } else {
                            self.verify_and_store(assembled).await?
                        }
                    }
                    Ok(None) => None,
                    Err(reason) => {
                        tracing::warn!("dropped a proposal stream from peer {from}: {reason}");
                        None
                    }
                };
                let _ignored = reply.send(value);
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                let hash = certificate.value_id.0;
                let app = Arc::clone(&self.app);
                let block = blocking(move || app.proposal(hash)).await?.ok_or_else(|| {
                    AppError::Refused(format!(
                        "decided block {hash} at height {} is not in the proposal store",
                        certificate.height
                    ))
                })?;
                let cert = to_banyan_cert(&certificate);
                let app = Arc::clone(&self.app);
                blocking(move || app.commit(&block, &cert)).await?;
                let _ignored = reply.send(());
            }
            AppMsg::Finalized {
                certificate,
                evidence,
                reply,
                ..
            } => {
                if !evidence.is_empty() {
                    tracing::warn!(
                        "misbehaviour seen at height {}: {:?}",
                        certificate.height,
                        evidence
                    );
                }
                let next = self.next_height().await?;
                let params = self.params(next)?;
                let _ignored = reply.send(Next::Start(Height(next), params));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let app = Arc::clone(&self.app);
                let values = blocking(move || decided_values(app.as_ref(), range)).await?;
                let _ignored = reply.send(values);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = match alloy_rlp::decode_exact::<Block>(&value_bytes[..]) {
                    Err(_) => SyncedValueOutcome::PeerFault,
                    Ok(block) if block.header.header.number != height.0 => {
                        SyncedValueOutcome::PeerFault
                    }
                    Ok(block) => {
                        let assembled = Assembled {
                            height: height.0,
                            round,
                            valid_round: Round::Nil,
                            proposer: proposer.0,
                            block,
                        };
                        match self.verify_and_store(assembled).await {
                            Ok(Some(value)) => SyncedValueOutcome::Verdict(value),
                            Ok(None) => SyncedValueOutcome::PeerFault,
                            Err(error) => {
                                tracing::warn!("cannot check synced block {height}: {error}");
                                SyncedValueOutcome::LocalTransientError
                            }
                        }
                    }
                };
                let _ignored = reply.send(outcome);
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ignored = reply.send(Height(self.app.history_min_height()?));
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                address,
                value_id,
            } => {
                let app = Arc::clone(&self.app);
                let hash = value_id.0;
                if let Some(block) = blocking(move || app.proposal(hash)).await? {
                    for part in parts_of(&block, height.0, round, valid_round, address.0) {
                        channels
                            .network
                            .send(NetworkMsg::PublishProposalPart(part))
                            .await
                            .map_err(|_| AppError::Engine("the network actor stopped".into()))?;
                    }
                }
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ignored = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                let verdicts = extensions
                    .into_iter()
                    .map(|(addr, _)| {
                        (
                            addr,
                            Err(malachitebft_app_channel::app::consensus::VoteExtensionError::InvalidVoteExtension),
                        )
                    })
                    .collect();
                let _ignored = reply.send(verdicts);
            }
        }
        Ok(())
    }

    /// Re-executes a complete proposal; stores it if valid. `None` if it is not even a
    /// candidate (wrong proposer for the set).
    async fn verify_and_store(
        &mut self,
        a: Assembled,
    ) -> Result<Option<ProposedValue<BanyanContext>>, AppError> {
        let validators = self.app.validators_at(a.height)?;
        if !validators.contains(&a.proposer) {
            tracing::warn!(
                "ignored a proposal from {}, which is not a validator",
                a.proposer
            );
            return Ok(None);
        }
        if !validators.contains(&a.block.header.header.proposer) {
            tracing::warn!(
                "ignored a re-proposal by {} of a block built by {}, which is not a validator",
                a.proposer,
                a.block.header.header.proposer
            );
            return Ok(None);
        }
        let suite = self.ctx.suite();
        let hash = a.block.header.header.hash(suite);
        let app = Arc::clone(&self.app);
        let block = a.block;
        let (verdict, block) = blocking(move || {
            let verdict = app.verify_block(&block)?;
            Ok((verdict, block))
        })
        .await?;
        let validity = match verdict {
            Verdict::Valid => {
                let app = Arc::clone(&self.app);
                let (h, r) = (a.height, a.round.as_u32().unwrap_or(0));
                blocking(move || app.store_proposal(h, r, &block)).await?;
                Validity::Valid
            }
            Verdict::Invalid(reason) => {
                tracing::warn!(
                    "proposal {hash} at height {} round {} from {} is invalid: {reason}",
                    a.height,
                    a.round,
                    a.proposer
                );
                Validity::Invalid
            }
        };
        Ok(Some(ProposedValue {
            height: Height(a.height),
            round: a.round,
            valid_round: a.valid_round,
            proposer: ValidatorAddress(a.proposer),
            value: BlockHash(hash),
            validity,
        }))
    }
}

fn decided_values(
    app: &dyn Application,
    range: RangeInclusive<Height>,
) -> Result<Vec<RawDecidedValue<BanyanContext>>, AppError> {
    let (head, _) = app.head()?;
    let start = range.start().0.max(app.history_min_height()?);
    let end = range
        .end()
        .0
        .min(head)
        .min(start.saturating_add(MAX_SERVED - 1));
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for height in start..=end {
        let Some((block, cert)) = app.certified_block(height)? else {
            break;
        };
        let value_bytes = Bytes::from(alloy_rlp::encode(&block));
        bytes += value_bytes.len();
        if bytes > MAX_SERVED_BYTES && !out.is_empty() {
            break;
        }
        out.push(RawDecidedValue::new(value_bytes, to_engine_cert(&cert)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use banyan_primitives::{Header, SealedHeader};

    fn block_by(builder: Address, height: u64) -> Block {
        Block {
            header: SealedHeader {
                header: Header {
                    number: height,
                    proposer: builder,
                    ..Header::default()
                },
                signature: AlloyBytes::new(),
            },
            transactions: vec![AlloyBytes::from_static(b"tx")],
        }
    }

    fn stream_of(parts: Vec<StreamMessage<ProposalPart>>) -> Stream {
        let mut stream = Stream::default();
        for msg in parts {
            if msg.content.as_data().is_none() {
                stream.fin_at = Some(msg.sequence);
            }
            stream.parts.insert(msg.sequence, msg.content);
        }
        stream
    }

    #[test]
    fn a_fresh_proposal_is_built_by_the_one_who_streams_it() {
        let (builder, other) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let block = block_by(builder, 4);
        let own = assemble(stream_of(parts_of(
            &block,
            4,
            Round::new(0),
            Round::Nil,
            builder,
        )));
        assert_eq!(own.map(|a| a.block), Ok(block.clone()));
        let forged = assemble(stream_of(parts_of(
            &block,
            4,
            Round::new(1),
            Round::Nil,
            other,
        )));
        assert!(forged.is_err_and(|e| e.contains("re-proposes no earlier round")));
    }

    #[test]
    fn a_re_proposal_keeps_the_block_of_the_round_it_names() {
        // Round 0's proposer built the block and 2f+1 prevoted it; it stopped before the
        // commit, and round 2's proposer streams the same block naming round 0.
        let (builder, next) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let block = block_by(builder, 4);
        let again = assemble(stream_of(parts_of(
            &block,
            4,
            Round::new(2),
            Round::new(0),
            next,
        )))
        .unwrap();
        assert_eq!(again.proposer, next);
        assert_eq!(again.valid_round, Round::new(0));
        assert_eq!(again.block, block);
    }
}
