//! The engine's network actor, over Banyan's mutual-TLS transport (ADR 0004, 0005).
//!
//! Malachite's own network actor runs libp2p, which cannot admit peers by the chain's CA. This
//! actor takes its place (`EngineBuilder::with_custom_network`) and speaks the same contract:
//! it publishes what the engine hands it to every connected peer and reports what peers send
//! as `NetworkEvent`s. Every connection is a `banyan_network` connection, so a peer whose
//! certificate is not from the chain's CA, is expired or is revoked never gets this far, and
//! the refusal has already been logged with its reason.
//!
//! Topology: a full mesh. Each node listens, and dials every configured peer, redialling with
//! backoff. Two nodes may hold two connections to each other (both dialled); the peer is
//! "connected" while at least one is up. Each connection has a bounded send queue: a peer that
//! cannot keep up is disconnected and logged, never buffered without bound.
//!
//! Wire format inside a frame: one tag byte, then the message's [`BanyanCodec`] bytes
//! ([`decode_frame`], [`encode_frame`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use banyan_network::{Connection, FrameReader, FrameWriter, NetError, PeerIdentity, TlsConfig};
use bytes::{BufMut, Bytes, BytesMut};
use malachitebft_app_channel::app::consensus::{LivenessMsg, SignedConsensusMsg};
use malachitebft_app_channel::app::engine::network::{Msg, Multiaddr, NetworkEvent, Status};
use malachitebft_app_channel::app::engine::util::output_port::OutputPort;
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::PeerId;
use malachitebft_codec::Codec;
use malachitebft_network::Channel;
use malachitebft_sync::{self as sync, InboundRequestId, OutboundRequestId};
use parking_lot::Mutex;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::codec::BanyanCodec;
use crate::context::{BanyanContext, ProposalPart};
use crate::guard::SafetyGuard;
use crate::signing::BanyanSigner;
use malachitebft_signing::Signer as _;

/// Frames a connection may have queued for sending before the peer is dropped as too slow.
pub const SEND_QUEUE_LEN: usize = 1024;
/// Longest wait between two dials of an unreachable peer.
const MAX_REDIAL: Duration = Duration::from_secs(5);
/// Events buffered for the engine before the slowest subscriber starts losing them (the
/// engine recovers lost consensus messages by rebroadcast and sync).
const EVENT_BUFFER: usize = 4096;
/// Transactions gossiped in one frame, at most.
pub const MAX_GOSSIP_TXS: usize = 1024;

const TAG_CONSENSUS: u8 = 0;
const TAG_LIVENESS: u8 = 1;
const TAG_PART: u8 = 2;
const TAG_STATUS: u8 = 3;
const TAG_REQUEST: u8 = 4;
const TAG_RESPONSE: u8 = 5;
const TAG_TXS: u8 = 6;

/// Where and whom to connect.
#[derive(Clone)]
pub struct NetworkConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Addresses of the peers to dial.
    pub peers: Vec<SocketAddr>,
    /// This node's certificate and the chain's CA and CRL.
    pub tls: TlsConfig,
}

/// The engine's peer id for a node: an identity multihash of the suite-independent hash of the
/// node id in its certificate. The same on every node, derived from nothing but the
/// certificate.
pub fn peer_id_for(identity: &PeerIdentity) -> PeerId {
    let digest = banyan_crypto::Suite::Ecdsa.hash(identity.node_id().as_bytes());
    let mut bytes = Vec::with_capacity(34);
    bytes.push(0x00); // multihash code: identity
    bytes.push(32); // digest length
    bytes.extend_from_slice(digest.as_slice());
    // An identity multihash of 32 bytes is always a valid peer id (at most 42 are allowed).
    PeerId::from_bytes(&bytes).unwrap_or_else(|_| unreachable_peer_id())
}

#[allow(clippy::panic)]
fn unreachable_peer_id() -> PeerId {
    panic!("a 32-byte identity multihash is a valid peer id")
}

struct PeerConn {
    id: u64,
    tx: mpsc::Sender<Bytes>,
    task: tokio::task::AbortHandle,
}

struct PeerEntry {
    name: String,
    /// The node id its certificate carries (a validator's address).
    node_id: String,
    /// Its certificate's serial (what a revocation names).
    serial: banyan_network::CertSerial,
    conns: Vec<PeerConn>,
}

#[derive(Default)]
struct Tables {
    peers: HashMap<PeerId, PeerEntry>,
    listening: Option<Multiaddr>,
    /// Our requests awaiting an answer: request number → peer.
    outbound: HashMap<u64, PeerId>,
    /// Peers' requests awaiting our answer.
    inbound: HashMap<InboundRequestId, (PeerId, u64)>,
    /// The latest tip height each peer reported.
    tips: HashMap<PeerId, u64>,
}

/// State shared by the actor, the listener, the dialers and every connection.
struct Shared {
    own: PeerId,
    events: OutputPort<NetworkEvent<BanyanContext>>,
    tables: Mutex<Tables>,
    next_conn: AtomicU64,
    next_request: AtomicU64,
    codec: BanyanCodec,
    gossip: Option<mpsc::Sender<(PeerId, Vec<Bytes>)>>,
}

impl Shared {
    fn emit(&self, event: NetworkEvent<BanyanContext>) {
        self.events.send(event);
    }

    /// Queues `frame` to one peer; a full queue disconnects the peer.
    fn send_to(&self, peer: &PeerId, frame: Bytes) -> bool {
        let mut tables = self.tables.lock();
        let Some(entry) = tables.peers.get_mut(peer) else {
            return false;
        };
        let Some(conn) = entry.conns.first() else {
            return false;
        };
        match conn.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    "peer {} is not keeping up ({SEND_QUEUE_LEN} messages queued): disconnecting it",
                    entry.name
                );
                conn.task.abort();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    fn broadcast(&self, frame: Bytes) {
        let peers: Vec<PeerId> = self.tables.lock().peers.keys().copied().collect();
        for peer in peers {
            self.send_to(&peer, frame.clone());
        }
    }

    fn connected(&self, peer: PeerId, identity: &PeerIdentity, conn: PeerConn) {
        let first = {
            let mut tables = self.tables.lock();
            let entry = tables.peers.entry(peer).or_insert_with(|| PeerEntry {
                name: identity.node_name().to_string(),
                node_id: identity.node_id().to_string(),
                serial: identity.serial().clone(),
                conns: Vec::new(),
            });
            entry.conns.push(conn);
            entry.conns.len() == 1
        };
        if first {
            self.emit(NetworkEvent::PeerConnected(peer));
            // The engine's sync actor sends its status to a peer once it is subscribed.
            self.emit(NetworkEvent::PeerSubscribed(peer, Channel::Sync));
        }
    }

    fn disconnected(&self, peer: PeerId, conn_id: u64) {
        let (gone, failed) = {
            let mut tables = self.tables.lock();
            let gone = match tables.peers.get_mut(&peer) {
                Some(entry) => {
                    entry.conns.retain(|c| c.id != conn_id);
                    entry.conns.is_empty()
                }
                None => false,
            };
            let mut failed = Vec::new();
            if gone {
                tables.peers.remove(&peer);
                tables.outbound.retain(|id, p| {
                    if *p == peer {
                        failed.push(*id);
                        false
                    } else {
                        true
                    }
                });
                tables.inbound.retain(|_, (p, _)| *p != peer);
                tables.tips.remove(&peer);
            }
            (gone, failed)
        };
        if gone {
            for id in failed {
                self.emit(NetworkEvent::SyncRequestFailed(
                    OutboundRequestId::new(id),
                    peer,
                    sync::OutboundFailureReason::ConnectionClosed,
                ));
            }
            self.emit(NetworkEvent::PeerDisconnected(peer));
        }
    }
}

fn frame(tag: u8, body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + body.len());
    out.put_u8(tag);
    out.put_slice(body);
    out.freeze()
}

fn request_frame(tag: u8, id: u64, body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(9 + body.len());
    out.put_u8(tag);
    out.put_u64(id);
    out.put_slice(body);
    out.freeze()
}

/// A handle for what is not the engine's business: gossiping transactions.
#[derive(Clone)]
pub struct NetworkHandle {
    shared: Arc<Shared>,
}

impl NetworkHandle {
    /// Sends raw transactions to every connected peer (bounded per frame).
    pub fn gossip_txs(&self, txs: &[Bytes]) {
        for chunk in txs.chunks(MAX_GOSSIP_TXS) {
            self.shared.broadcast(frame(TAG_TXS, &encode_txs(chunk)));
        }
    }

    /// Number of connected peers.
    pub fn peer_count(&self) -> usize {
        self.shared.tables.lock().peers.len()
    }

    /// Closes every connection of a peer whose certificate serial is in `revoked` (the chain
    /// just revoked it; its next handshake is refused). Returns the peers dropped.
    pub fn drop_revoked(
        &self,
        revoked: &std::collections::BTreeSet<banyan_network::CertSerial>,
    ) -> Vec<String> {
        let victims: Vec<(PeerId, String, Vec<u64>)> = {
            let tables = self.shared.tables.lock();
            tables
                .peers
                .iter()
                .filter(|(_, entry)| revoked.contains(&entry.serial))
                .map(|(peer, entry)| {
                    let ids = entry
                        .conns
                        .iter()
                        .map(|c| {
                            c.task.abort();
                            c.id
                        })
                        .collect();
                    (*peer, entry.name.clone(), ids)
                })
                .collect()
        };
        let mut names = Vec::new();
        for (peer, name, ids) in victims {
            tracing::warn!("peer {name}'s certificate is revoked by the chain: disconnecting it");
            for id in ids {
                self.shared.disconnected(peer, id);
            }
            names.push(name);
        }
        names
    }

    /// The node ids (from their certificates) of the peers connected now.
    pub fn peer_node_ids(&self) -> Vec<String> {
        self.shared
            .tables
            .lock()
            .peers
            .values()
            .map(|p| p.node_id.clone())
            .collect()
    }

    /// The highest tip a connected peer has reported, if any has.
    pub fn best_peer_height(&self) -> Option<u64> {
        self.shared.tables.lock().tips.values().copied().max()
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.shared.own
    }
}

/// A gossip batch: the count, then each transaction with its length (`u32` big-endian each).
fn encode_txs(txs: &[Bytes]) -> BytesMut {
    let mut body = BytesMut::new();
    body.put_u32(txs.len() as u32);
    for tx in txs {
        body.put_u32(tx.len() as u32);
        body.put_slice(tx);
    }
    body
}

fn decode_txs(mut body: &[u8]) -> Option<Vec<Bytes>> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if b.len() < n {
            return None;
        }
        let (h, t) = b.split_at(n);
        *b = t;
        Some(h)
    }
    let count = u32::from_be_bytes(take(&mut body, 4)?.try_into().ok()?) as usize;
    if count > MAX_GOSSIP_TXS {
        return None;
    }
    let mut txs = Vec::with_capacity(count);
    for _ in 0..count {
        let len = u32::from_be_bytes(take(&mut body, 4)?.try_into().ok()?) as usize;
        txs.push(Bytes::copy_from_slice(take(&mut body, len)?));
    }
    body.is_empty().then_some(txs)
}

/// The network actor. Spawn it with [`spawn_network`].
pub struct BanyanNetwork {
    shared: Arc<Shared>,
    guard: Option<(Arc<SafetyGuard>, BanyanSigner)>,
}

/// The actor's state: the tasks it owns, aborted when it stops.
pub struct NetState {
    tasks: Vec<JoinHandle<()>>,
}

/// Starts listening and dialling, and spawns the actor.
///
/// `gossip` receives transactions peers gossip to us. `guard`, for a validator, checks every
/// vote and proposal of ours before it leaves (see [`crate::guard`]), with the validator's
/// signer for the votes the guard sends in place of ones it holds back.
pub async fn spawn_network(
    config: NetworkConfig,
    guard: Option<(Arc<SafetyGuard>, BanyanSigner)>,
    gossip: Option<mpsc::Sender<(PeerId, Vec<Bytes>)>>,
) -> Result<(ActorRef<Msg<BanyanContext>>, NetworkHandle, SocketAddr), NetError> {
    let own = peer_id_for(config.tls.local_identity());
    let shared = Arc::new(Shared {
        own,
        events: OutputPort::with_capacity(EVENT_BUFFER),
        tables: Mutex::new(Tables::default()),
        next_conn: AtomicU64::new(1),
        next_request: AtomicU64::new(1),
        codec: BanyanCodec,
        gossip,
    });
    let mut listener = banyan_network::transport::listen(config.listen, config.tls.clone()).await?;
    let local = listener.local_addr();
    let mut tasks = Vec::new();
    {
        let shared = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok(conn) => {
                        run_connection(&shared, conn);
                    }
                    // Refusals were logged by the transport with their reason.
                    Err(NetError::ListenerClosed) => return,
                    Err(_) => {}
                }
            }
        }));
    }
    for addr in config.peers.iter().copied().filter(|a| *a != local) {
        let shared = Arc::clone(&shared);
        let tls = config.tls.clone();
        tasks.push(tokio::spawn(
            async move { dial_loop(shared, addr, tls).await },
        ));
    }
    let actor = BanyanNetwork {
        shared: Arc::clone(&shared),
        guard,
    };
    let (actor_ref, _join) = Actor::spawn(None, actor, tasks)
        .await
        .map_err(|e| NetError::Io {
            peer: local,
            source: std::io::Error::other(format!("cannot start the network actor: {e}")),
        })?;
    let listening: Option<Multiaddr> = format!("/ip4/{}/tcp/{}", local.ip(), local.port())
        .parse()
        .ok();
    if let Some(addr) = listening {
        shared.tables.lock().listening = Some(addr.clone());
        shared.emit(NetworkEvent::Listening(addr));
    }
    Ok((actor_ref, NetworkHandle { shared }, local))
}

async fn dial_loop(shared: Arc<Shared>, addr: SocketAddr, tls: TlsConfig) {
    let mut delay = Duration::from_millis(100);
    let mut last_error: Option<String> = None;
    loop {
        match banyan_network::transport::connect(addr, &tls).await {
            Ok(conn) => {
                last_error = None;
                delay = Duration::from_millis(100);
                let done = run_connection(&shared, conn);
                // Wait for the session to end before dialling again.
                let _ended = done.await;
            }
            Err(error) => {
                let text = error.to_string();
                // One line per change of reason, not one per attempt.
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!("cannot connect to peer {addr}: {text}; retrying");
                    last_error = Some(text);
                }
                delay = (delay * 2).min(MAX_REDIAL);
            }
        }
        tokio::time::sleep(delay).await;
    }
}

/// Runs one admitted connection until it ends; returns the session's task.
fn run_connection(shared: &Arc<Shared>, conn: Connection) -> JoinHandle<()> {
    let identity = conn.peer().clone();
    let peer = peer_id_for(&identity);
    let name = identity.node_name().to_string();
    let conn_id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(SEND_QUEUE_LEN);
    let (reader, writer) = conn.into_split();
    let session_shared = Arc::clone(shared);
    let session_name = name.clone();
    let (start_tx, start_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // Registered before any frame is read, so replies to this peer have a route.
        if start_rx.await.is_err() {
            return;
        }
        let writing = tokio::spawn(write_loop(writer, rx));
        let result = read_loop(&session_shared, peer, reader).await;
        writing.abort();
        match result {
            Ok(()) => tracing::info!("peer {session_name} closed the connection"),
            Err(error) => tracing::info!("connection to peer {session_name} ended: {error}"),
        }
        session_shared.disconnected(peer, conn_id);
    });
    shared.connected(
        peer,
        &identity,
        PeerConn {
            id: conn_id,
            tx,
            task: task.abort_handle(),
        },
    );
    tracing::info!("connected to peer {name} ({peer})");
    let _started = start_tx.send(());
    task
}

async fn write_loop(mut writer: FrameWriter, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(frame) = rx.recv().await {
        if writer.send(&frame).await.is_err() {
            return;
        }
    }
    writer.close().await;
}

async fn read_loop(shared: &Shared, from: PeerId, mut reader: FrameReader) -> Result<(), NetError> {
    while let Some(frame) = reader.recv().await? {
        if let Err(reason) = handle_frame(shared, from, frame) {
            // A malformed message from an admitted peer is dropped, not fatal: log it once per
            // message so an operator can find a misbehaving or mismatched node.
            tracing::warn!("dropped a message from peer {from}: {reason}");
        }
    }
    Ok(())
}

/// One frame from a peer, decoded by [`decode_frame`].
#[derive(Debug)]
pub enum PeerFrame {
    /// A signed vote or proposal.
    Consensus(SignedConsensusMsg<BanyanContext>),
    /// A vote or certificate rebroadcast for liveness.
    Liveness(LivenessMsg<BanyanContext>),
    /// A part of a streamed proposal.
    Part(StreamMessage<ProposalPart>),
    /// The sender's sync status.
    Status(sync::Status<BanyanContext>),
    /// A sync request with the sender's id for it.
    Request(u64, sync::Request<BanyanContext>),
    /// A sync response with the id of our request and its undecoded body: it is decoded only
    /// when the request is still awaited, so that a late or unasked one costs nothing.
    Response(u64, Bytes),
    /// A batch of gossiped transactions, undecoded.
    Txs(Vec<Bytes>),
}

/// Decodes one frame as a peer sent it: a tag byte, then the message (requests and responses
/// carry an 8-byte id first). Any bytes are accepted as input; what is not a whole, valid
/// message of a known tag is an error that says why.
pub fn decode_frame(frame: &Bytes) -> Result<PeerFrame, String> {
    let Some((&tag, _)) = frame.split_first() else {
        return Err("empty frame".into());
    };
    let body = frame.slice(1..);
    let codec = BanyanCodec;
    let invalid = |e: crate::codec::CodecError| e.to_string();
    Ok(match tag {
        TAG_CONSENSUS => PeerFrame::Consensus(codec.decode(body).map_err(invalid)?),
        TAG_LIVENESS => PeerFrame::Liveness(codec.decode(body).map_err(invalid)?),
        TAG_PART => PeerFrame::Part(codec.decode(body).map_err(invalid)?),
        TAG_STATUS => PeerFrame::Status(codec.decode(body).map_err(invalid)?),
        TAG_REQUEST | TAG_RESPONSE => {
            if body.len() < 8 {
                return Err("request without an id".into());
            }
            let mut id = [0u8; 8];
            id.copy_from_slice(&body[..8]);
            let id = u64::from_be_bytes(id);
            let body = body.slice(8..);
            if tag == TAG_REQUEST {
                PeerFrame::Request(id, codec.decode(body).map_err(invalid)?)
            } else {
                PeerFrame::Response(id, body)
            }
        }
        TAG_TXS => PeerFrame::Txs(decode_txs(&body).ok_or("malformed transaction batch")?),
        other => return Err(format!("unknown message tag {other}")),
    })
}

/// The bytes of `msg` as [`decode_frame`] reads them (what this node sends).
pub fn encode_frame(msg: &PeerFrame) -> Result<Bytes, crate::codec::CodecError> {
    let codec = BanyanCodec;
    Ok(match msg {
        PeerFrame::Consensus(m) => frame(TAG_CONSENSUS, &codec.encode(m)?),
        PeerFrame::Liveness(m) => frame(TAG_LIVENESS, &codec.encode(m)?),
        PeerFrame::Part(m) => frame(TAG_PART, &codec.encode(m)?),
        PeerFrame::Status(m) => frame(TAG_STATUS, &codec.encode(m)?),
        PeerFrame::Request(id, m) => request_frame(TAG_REQUEST, *id, &codec.encode(m)?),
        PeerFrame::Response(id, body) => request_frame(TAG_RESPONSE, *id, body),
        PeerFrame::Txs(txs) => frame(TAG_TXS, &encode_txs(txs)),
    })
}

fn handle_frame(shared: &Shared, from: PeerId, frame: Bytes) -> Result<(), String> {
    match decode_frame(&frame)? {
        PeerFrame::Consensus(msg) => shared.emit(match msg {
            SignedConsensusMsg::Vote(v) => NetworkEvent::Vote(from, v),
            SignedConsensusMsg::Proposal(p) => NetworkEvent::Proposal(from, p),
        }),
        PeerFrame::Liveness(msg) => shared.emit(match msg {
            LivenessMsg::Vote(v) => NetworkEvent::Vote(from, v),
            LivenessMsg::PolkaCertificate(c) => NetworkEvent::PolkaCertificate(from, c),
            LivenessMsg::SkipRoundCertificate(c) => NetworkEvent::RoundCertificate(from, c),
        }),
        PeerFrame::Part(msg) => shared.emit(NetworkEvent::ProposalPart(from, None, msg)),
        PeerFrame::Status(status) => {
            if status.peer_id != from {
                return Err(format!(
                    "status names peer {} instead of the sender",
                    status.peer_id
                ));
            }
            shared.tables.lock().tips.insert(from, status.tip_height.0);
            shared.emit(NetworkEvent::Status(
                from,
                Status::new(status.tip_height, status.history_min_height),
            ));
        }
        PeerFrame::Request(id, request) => {
            let inbound = InboundRequestId::new(format!("{from}/{id}"));
            shared
                .tables
                .lock()
                .inbound
                .insert(inbound.clone(), (from, id));
            shared.emit(NetworkEvent::SyncRequest(inbound, from, request));
        }
        PeerFrame::Response(id, body) => {
            let expected = shared.tables.lock().outbound.remove(&id);
            if expected != Some(from) {
                // Late (cancelled or timed out) or not ours: nothing waits for it.
                return Ok(());
            }
            let response: Option<sync::Response<BanyanContext>> =
                Codec::<sync::Response<BanyanContext>>::decode(&shared.codec, body).ok();
            shared.emit(NetworkEvent::SyncResponse(
                OutboundRequestId::new(id),
                from,
                response,
            ));
        }
        PeerFrame::Txs(txs) => {
            if let Some(gossip) = &shared.gossip {
                // A full gossip queue drops the batch: the transactions reach the proposer
                // through the other peers, or the client resends.
                let _dropped = gossip.try_send((from, txs));
            }
        }
    }
    Ok(())
}

/// What the safety guard's answer (`None`: not one of our messages, or no guard) means for a
/// message: `Ok(true)` send it; `Ok(false)` hold it back, logged (a height long decided, or sat
/// out after the node lost state: not sending is always safe, and the chain goes on without
/// it); `Err` a refusal, logged, and the actor stops.
fn let_out<M>(
    checked: Option<Result<(), crate::guard::GuardError>>,
    myself: &ActorRef<M>,
) -> Result<bool, ActorProcessingErr> {
    match checked {
        Some(Err(held)) if SafetyGuard::holds_back(&held) => {
            tracing::warn!("{held}");
            Ok(false)
        }
        Some(Err(refusal)) => {
            tracing::error!("{refusal}");
            myself.stop(Some(refusal.to_string()));
            Err(refusal.into())
        }
        _ => Ok(true),
    }
}

impl BanyanNetwork {
    /// When the guard held a vote back at a slot its record holds another vote for, signs
    /// that vote again and sends it: the same vote as before, so nothing new is signed, and
    /// the round gets the votes it needs from a validator whose engine forgot them.
    async fn send_recorded(&self, checked: &Option<Result<(), crate::guard::GuardError>>) {
        let (
            Some((guard, signer)),
            Some(Err(crate::guard::GuardError::EarlierRound {
                recorded: Some(vote),
                ..
            })),
        ) = (&self.guard, checked)
        else {
            return;
        };
        let described = format!(
            "{:?} for {:?} at height {} round {}",
            vote.vote_type, vote.value, vote.height.0, vote.round
        );
        match signer.sign_vote(vote.clone()).await {
            // Identical to the record, so the guard lets it out as a rebroadcast.
            Ok(signed) => match guard.check_vote(&signed) {
                Ok(()) => {
                    tracing::info!("sending the {described} this validator recorded instead");
                    let msg = SignedConsensusMsg::Vote(signed);
                    match self.shared.codec.encode(&msg) {
                        Ok(bytes) => self.shared.broadcast(frame(TAG_CONSENSUS, &bytes)),
                        Err(e) => tracing::warn!("cannot encode the recorded {described}: {e}"),
                    }
                }
                Err(e) => tracing::warn!("the recorded {described} is not sent: {e}"),
            },
            Err(e) => tracing::warn!("cannot sign the recorded {described} again: {e:?}"),
        }
    }
}

#[async_trait]
impl Actor for BanyanNetwork {
    type Msg = Msg<BanyanContext>;
    type State = NetState;
    type Arguments = Vec<JoinHandle<()>>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        tasks: Vec<JoinHandle<()>>,
    ) -> Result<NetState, ActorProcessingErr> {
        Ok(NetState { tasks })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut NetState,
    ) -> Result<(), ActorProcessingErr> {
        for task in &state.tasks {
            task.abort();
        }
        let conns: Vec<tokio::task::AbortHandle> = self
            .shared
            .tables
            .lock()
            .peers
            .values()
            .flat_map(|e| e.conns.iter().map(|c| c.task.clone()))
            .collect();
        for task in conns {
            task.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        _state: &mut NetState,
    ) -> Result<(), ActorProcessingErr> {
        let shared = &self.shared;
        let codec = &shared.codec;
        match msg {
            Msg::Subscribe(subscriber) => {
                let (listening, peers) = {
                    let tables = shared.tables.lock();
                    (
                        tables.listening.clone(),
                        tables.peers.keys().copied().collect::<Vec<_>>(),
                    )
                };
                if let Some(addr) = listening {
                    subscriber.send(NetworkEvent::Listening(addr));
                }
                for peer in peers {
                    subscriber.send(NetworkEvent::PeerConnected(peer));
                    subscriber.send(NetworkEvent::PeerSubscribed(peer, Channel::Sync));
                }
                subscriber.subscribe_to_port(&shared.events);
            }
            Msg::PublishConsensusMsg(msg) => {
                let checked = self.guard.as_ref().map(|(g, _)| g.check_consensus(&msg));
                self.send_recorded(&checked).await;
                if !let_out(checked, &myself)? {
                    return Ok(());
                }
                shared.broadcast(frame(TAG_CONSENSUS, &codec.encode(&msg)?));
            }
            Msg::PublishLivenessMsg(msg) => {
                let checked = match (&self.guard, &msg) {
                    (Some((guard, _)), LivenessMsg::Vote(vote)) => Some(guard.check_vote(vote)),
                    _ => None,
                };
                self.send_recorded(&checked).await;
                if !let_out(checked, &myself)? {
                    return Ok(());
                }
                shared.broadcast(frame(TAG_LIVENESS, &codec.encode(&msg)?));
            }
            Msg::PublishProposalPart(part) => {
                shared.broadcast(frame(TAG_PART, &codec.encode(&part)?));
            }
            Msg::BroadcastStatus(status) => {
                let status = sync::Status {
                    peer_id: shared.own,
                    tip_height: status.tip_height,
                    history_min_height: status.history_min_height,
                };
                shared.broadcast(frame(TAG_STATUS, &codec.encode(&status)?));
            }
            Msg::OutgoingRequest(peer, request, reply) => {
                let id = shared.next_request.fetch_add(1, Ordering::Relaxed);
                shared.tables.lock().outbound.insert(id, peer);
                let sent = shared.send_to(
                    &peer,
                    request_frame(TAG_REQUEST, id, &codec.encode(&request)?),
                );
                // The requester may have gone; that is not our failure.
                let _ignored = reply.send(OutboundRequestId::new(id));
                if !sent {
                    shared.tables.lock().outbound.remove(&id);
                    shared.emit(NetworkEvent::SyncRequestFailed(
                        OutboundRequestId::new(id),
                        peer,
                        sync::OutboundFailureReason::ConnectionClosed,
                    ));
                }
            }
            Msg::CancelRequest(id) => {
                if let Ok(n) = id.to_string().parse::<u64>() {
                    shared.tables.lock().outbound.remove(&n);
                }
            }
            Msg::OutgoingResponse(id, response) => {
                let route = shared.tables.lock().inbound.remove(&id);
                if let Some((peer, remote_id)) = route {
                    let body = codec.encode(&response)?;
                    shared.send_to(&peer, request_frame(TAG_RESPONSE, remote_id, &body));
                }
            }
            Msg::CancelInboundRequest(id) => {
                shared.tables.lock().inbound.remove(&id);
            }
            Msg::DumpState(reply) => {
                let _ignored = reply.send(None);
            }
            Msg::UpdatePersistentPeers(_op, reply) => {
                // Peers come from the configuration; changing them at runtime is not offered.
                let _ignored = reply.send(Err(
                    malachitebft_app_channel::app::engine::network::PersistentPeerError::NetworkStopped,
                ));
            }
            Msg::UpdateValidatorSet(_) | Msg::ValidatorProofVerified { .. } | Msg::NewEvent(_) => {}
        }
        Ok(())
    }
}
