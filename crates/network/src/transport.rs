//! Framed, authenticated connections between nodes.
//!
//! A frame is a 4-byte big-endian length followed by that many bytes. Every frame is bounded by
//! [`TransportConfig::max_frame_len`]: a peer announcing a longer one gets its connection closed,
//! and the buffer never grows past the limit.
//!
//! After the TLS handshake both ends exchange one hello frame, [`PROTOCOL_HELLO`]. The accepting
//! end speaks first: that is how the dialer learns whether it was admitted. In TLS 1.3 the
//! dialer's handshake completes before the acceptor has checked the dialer's certificate, so
//! without the hello a refusal would only show up at the first read, far from `connect`.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsStream;

use crate::cert::PeerIdentity;
use crate::{NetError, TlsConfig};

/// The largest frame accepted by default: 16 MiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// How long the TCP connect, TLS handshake and hello may take by default.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The hello frame both ends send after the TLS handshake; its version changes when the framing
/// does.
pub const PROTOCOL_HELLO: &[u8] = b"banyan-net/1";

const FRAME_HEADER_LEN: usize = 4;

/// A peer's hello may be a little longer than ours (a later version), never large.
const MAX_HELLO_LEN: usize = 64;

/// How long closing a connection may wait for the peer to take our close_notify.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the listener waits after a failed `accept` (for example out of file descriptors)
/// before trying again.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Bounds of the transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportConfig {
    /// The largest frame sent or accepted, in bytes (at most `u32::MAX`).
    pub max_frame_len: usize,
    /// Limit on TCP connect + TLS handshake + hello.
    pub handshake_timeout: Duration,
    /// Handshakes a listener runs at once; further peers wait in the kernel's backlog.
    pub max_concurrent_handshakes: usize,
    /// Handshake results a listener holds for [`Listener::accept`] before it stops accepting.
    pub accept_queue_len: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_concurrent_handshakes: 64,
            accept_queue_len: 64,
        }
    }
}

impl TransportConfig {
    fn validate(&self) -> Result<(), NetError> {
        let fail = |what: &str| {
            Err(NetError::InvalidArgument(format!(
                "transport config: {what}"
            )))
        };
        if self.max_frame_len < MAX_HELLO_LEN || u32::try_from(self.max_frame_len).is_err() {
            return fail("max_frame_len must be between 64 bytes and 4 GiB - 1");
        }
        if self.handshake_timeout.is_zero() {
            return fail("handshake_timeout must be more than zero");
        }
        if self.max_concurrent_handshakes == 0 || self.accept_queue_len == 0 {
            return fail("max_concurrent_handshakes and accept_queue_len must be at least 1");
        }
        Ok(())
    }

    fn timeout_ms(&self) -> u64 {
        u64::try_from(self.handshake_timeout.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Listens on `addr` with the default [`TransportConfig`].
pub async fn listen(addr: SocketAddr, tls: TlsConfig) -> Result<Listener, NetError> {
    listen_with(addr, tls, TransportConfig::default()).await
}

/// Listens on `addr` (port 0 picks a free port; see [`Listener::local_addr`]) and admits peers
/// in a background task until the [`Listener`] is dropped.
pub async fn listen_with(
    addr: SocketAddr,
    tls: TlsConfig,
    config: TransportConfig,
) -> Result<Listener, NetError> {
    config.validate()?;
    let socket = TcpListener::bind(addr)
        .await
        .map_err(|source| NetError::Listen { addr, source })?;
    let local_addr = socket
        .local_addr()
        .map_err(|source| NetError::Listen { addr, source })?;
    tracing::info!(
        "listening for peers on {local_addr} as {}, trusting chain CA '{}'",
        tls.local_identity(),
        tls.chain_ca_subject()
    );
    let tls = Arc::new(RwLock::new(tls));
    let (results, incoming) = mpsc::channel(config.accept_queue_len);
    let task = tokio::spawn(accept_loop(socket, Arc::clone(&tls), config, results));
    Ok(Listener {
        local_addr,
        incoming,
        tls,
        task,
    })
}

/// Dials `addr` with the default [`TransportConfig`], accepting any node of this chain.
pub async fn connect(addr: SocketAddr, tls: &TlsConfig) -> Result<Connection, NetError> {
    connect_with(addr, tls, &TransportConfig::default(), None).await
}

/// Dials `addr`; with `expected_node_id`, refuses a peer whose certificate is for another node.
///
/// A refusal on either side is logged here once at `warn` and returned; a plain TCP failure
/// (nobody listening) is logged at `debug` only, since callers retry.
pub async fn connect_with(
    addr: SocketAddr,
    tls: &TlsConfig,
    config: &TransportConfig,
    expected_node_id: Option<&str>,
) -> Result<Connection, NetError> {
    config.validate()?;
    let attempt = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|source| NetError::Connect { peer: addr, source })?;
        set_nodelay(&tcp);
        let (stream, identity) = tls.connect(tcp, addr, expected_node_id).await?;
        let mut conn = Connection::new(stream, addr, identity, config.max_frame_len);
        conn.expect_hello(tls).await?;
        conn.send_hello(tls).await?;
        Ok(conn)
    };
    let result = tokio::time::timeout(config.handshake_timeout, attempt)
        .await
        .unwrap_or(Err(NetError::HandshakeTimeout {
            peer: addr,
            timeout_ms: config.timeout_ms(),
        }));
    match &result {
        Ok(conn) => tracing::info!("connected to peer {addr}: {}", conn.peer()),
        Err(error @ NetError::Connect { .. }) => tracing::debug!("{error}"),
        Err(error) => tracing::warn!("{error}"),
    }
    result
}

/// Accepts authenticated peers. Dropping it stops accepting; established connections stay open.
#[derive(Debug)]
pub struct Listener {
    local_addr: SocketAddr,
    incoming: mpsc::Receiver<Result<Connection, NetError>>,
    tls: Arc<RwLock<TlsConfig>>,
    task: JoinHandle<()>,
}

impl Listener {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next admitted peer, or why the next peer was refused.
    ///
    /// Each refusal has already been logged once at `warn`; the listener keeps running after it.
    /// Only [`NetError::ListenerClosed`] is final. Call this continuously: while results wait
    /// here unread, the listener stops taking new peers (its queue is bounded).
    pub async fn accept(&mut self) -> Result<Connection, NetError> {
        self.incoming
            .recv()
            .await
            .unwrap_or(Err(NetError::ListenerClosed))
    }

    /// Uses `tls` for peers accepted from now on, e.g. after loading a new CRL. Established
    /// connections are not re-checked.
    pub fn set_tls_config(&self, tls: TlsConfig) {
        *self.tls.write().unwrap_or_else(PoisonError::into_inner) = tls;
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    socket: TcpListener,
    tls: Arc<RwLock<TlsConfig>>,
    config: TransportConfig,
    results: mpsc::Sender<Result<Connection, NetError>>,
) {
    let handshakes = Arc::new(Semaphore::new(config.max_concurrent_handshakes));
    loop {
        let Ok(permit) = Arc::clone(&handshakes).acquire_owned().await else {
            return; // The semaphore is never closed; nothing left to do if it were.
        };
        let (tcp, peer) = match socket.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!("accepting a peer connection failed: {error}; retrying");
                tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                continue;
            }
        };
        if results.is_closed() {
            return;
        }
        let tls = tls.read().unwrap_or_else(PoisonError::into_inner).clone();
        let results = results.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let result = admit(tcp, peer, &tls, &config).await;
            match &result {
                Ok(conn) => tracing::info!("peer {peer} admitted: {}", conn.peer()),
                Err(error) => tracing::warn!("{error}"),
            }
            // If the listener was dropped meanwhile, the connection is dropped (closed) here.
            let _unread = results.send(result).await;
            drop(permit);
        });
    }
}

async fn admit(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: &TlsConfig,
    config: &TransportConfig,
) -> Result<Connection, NetError> {
    set_nodelay(&tcp);
    let attempt = async {
        let (stream, identity) = tls.accept(tcp, peer).await?;
        let mut conn = Connection::new(stream, peer, identity, config.max_frame_len);
        conn.send_hello(tls).await?;
        conn.expect_hello(tls).await?;
        Ok(conn)
    };
    tokio::time::timeout(config.handshake_timeout, attempt)
        .await
        .unwrap_or(Err(NetError::HandshakeTimeout {
            peer,
            timeout_ms: config.timeout_ms(),
        }))
}

fn set_nodelay(tcp: &TcpStream) {
    // Consensus messages are small and latency-bound. Failing to set it only costs latency.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY: {error}");
    }
}

/// An authenticated, framed connection to one peer.
///
/// [`recv`](Self::recv) is cancel-safe (usable in `tokio::select!`); [`send`](Self::send) is not:
/// a cancelled send may leave half a frame on the wire, so drop the connection after one.
pub struct Connection {
    stream: TlsStream<TcpStream>,
    peer_addr: SocketAddr,
    peer: PeerIdentity,
    max_frame_len: usize,
    read_buf: BytesMut,
    closed: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer_addr", &self.peer_addr)
            .field("peer", &self.peer)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Connection {
    fn new(
        stream: TlsStream<TcpStream>,
        peer_addr: SocketAddr,
        peer: PeerIdentity,
        max_frame_len: usize,
    ) -> Self {
        Self {
            stream,
            peer_addr,
            peer,
            max_frame_len,
            read_buf: BytesMut::new(),
            closed: false,
        }
    }

    /// The peer's identity, from its verified certificate.
    pub fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    /// The peer's socket address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }

    /// The largest frame this connection sends or accepts.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// Sends one frame. A frame over the limit is refused before anything is written and the
    /// connection stays usable.
    pub async fn send(&mut self, frame: impl AsRef<[u8]>) -> Result<(), NetError> {
        let frame = frame.as_ref();
        if frame.len() > self.max_frame_len {
            return Err(NetError::OutgoingFrameTooLarge {
                peer: self.peer_addr,
                len: frame.len(),
                max_len: self.max_frame_len,
            });
        }
        self.write_frame(frame).await
    }

    /// The next frame, or `None` once the peer has closed the connection cleanly.
    ///
    /// A frame over the limit closes the connection and returns
    /// [`NetError::FrameTooLarge`]; nothing is allocated for it.
    pub async fn recv(&mut self) -> Result<Option<Bytes>, NetError> {
        self.read_frame(self.max_frame_len).await
    }

    /// Splits the connection into a reading and a writing half, so that one task can read
    /// while another writes (a peer that sends a large frame while we send one to it cannot
    /// then stall both ends). Dropping both halves closes the connection.
    pub fn into_split(self) -> (FrameReader, FrameWriter) {
        let (read, write) = tokio::io::split(self.stream);
        (
            FrameReader {
                stream: read,
                peer_addr: self.peer_addr,
                max_frame_len: self.max_frame_len,
                read_buf: self.read_buf,
                closed: self.closed,
            },
            FrameWriter {
                stream: write,
                peer_addr: self.peer_addr,
                max_frame_len: self.max_frame_len,
                closed: self.closed,
            },
        )
    }

    /// Closes the connection, telling the peer (TLS close_notify).
    pub async fn close(mut self) -> Result<(), NetError> {
        if self.closed {
            return Ok(());
        }
        self.shutdown().await
    }

    async fn write_frame(&mut self, frame: &[u8]) -> Result<(), NetError> {
        if self.closed {
            return Err(NetError::Closed {
                peer: self.peer_addr,
            });
        }
        let len = u32::try_from(frame.len()).map_err(|_| NetError::OutgoingFrameTooLarge {
            peer: self.peer_addr,
            len: frame.len(),
            max_len: self.max_frame_len,
        })?;
        let written = async {
            self.stream.write_all(&len.to_be_bytes()).await?;
            self.stream.write_all(frame).await?;
            self.stream.flush().await
        }
        .await;
        written.map_err(|source| {
            self.closed = true;
            NetError::Io {
                peer: self.peer_addr,
                source,
            }
        })
    }

    async fn read_frame(&mut self, max_len: usize) -> Result<Option<Bytes>, NetError> {
        if self.closed {
            return Err(NetError::Closed {
                peer: self.peer_addr,
            });
        }
        let read = read_frame_from(
            &mut self.stream,
            &mut self.read_buf,
            self.peer_addr,
            max_len,
        )
        .await;
        match read {
            Err(error @ NetError::FrameTooLarge { .. }) => {
                self.shutdown_quietly().await;
                Err(error)
            }
            Ok(None) => self.at_eof(),
            Ok(Some(frame)) => Ok(Some(frame)),
            Err(error) => {
                self.closed = true;
                Err(error)
            }
        }
    }

    fn at_eof(&mut self) -> Result<Option<Bytes>, NetError> {
        self.closed = true;
        if self.read_buf.is_empty() {
            Ok(None)
        } else {
            Err(NetError::TruncatedFrame {
                peer: self.peer_addr,
            })
        }
    }

    async fn shutdown(&mut self) -> Result<(), NetError> {
        self.closed = true;
        self.read_buf = BytesMut::new();
        match tokio::time::timeout(CLOSE_TIMEOUT, self.stream.shutdown()).await {
            Ok(Ok(())) | Err(_) => Ok(()),
            Ok(Err(source)) => Err(NetError::Io {
                peer: self.peer_addr,
                source,
            }),
        }
    }

    async fn shutdown_quietly(&mut self) {
        if let Err(error) = self.shutdown().await {
            tracing::debug!("closing the connection to {}: {error}", self.peer_addr);
        }
    }

    async fn send_hello(&mut self, tls: &TlsConfig) -> Result<(), NetError> {
        self.write_frame(PROTOCOL_HELLO)
            .await
            .map_err(|e| self.handshake_stage_error(tls, e))
    }

    async fn expect_hello(&mut self, tls: &TlsConfig) -> Result<(), NetError> {
        let hello = self.read_frame(MAX_HELLO_LEN).await;
        match hello {
            Ok(Some(hello)) if hello.as_ref() == PROTOCOL_HELLO => Ok(()),
            Ok(Some(other)) => Err(NetError::ProtocolMismatch {
                peer: self.peer_addr,
                theirs: String::from_utf8_lossy(&other).into_owned(),
                ours: String::from_utf8_lossy(PROTOCOL_HELLO).into_owned(),
            }),
            Ok(None) => Err(NetError::Handshake {
                peer: self.peer_addr,
                detail: "the peer closed the connection right after the TLS handshake without \
                         saying why; its log may say why"
                    .to_owned(),
            }),
            Err(error) => Err(self.handshake_stage_error(tls, error)),
        }
    }

    /// Errors of the hello exchange are usually the peer's TLS alert refusing our certificate.
    fn handshake_stage_error(&self, tls: &TlsConfig, error: NetError) -> NetError {
        match error {
            NetError::Io { peer, source } => tls.classify_io(peer, source),
            NetError::FrameTooLarge { peer, len, .. } => NetError::ProtocolMismatch {
                peer,
                theirs: format!("a {len}-byte first frame"),
                ours: String::from_utf8_lossy(PROTOCOL_HELLO).into_owned(),
            },
            other => other,
        }
    }
}

/// Reads one frame into `buf` from `stream`. `Ok(None)` means end of stream (the caller decides
/// whether bytes left in `buf` make that a truncated frame). Cancel-safe: all state is in `buf`.
async fn read_frame_from<R: tokio::io::AsyncRead + Unpin>(
    stream: &mut R,
    buf: &mut BytesMut,
    peer: SocketAddr,
    max_len: usize,
) -> Result<Option<Bytes>, NetError> {
    loop {
        if buf.len() >= FRAME_HEADER_LEN {
            let mut header = [0u8; FRAME_HEADER_LEN];
            header.copy_from_slice(&buf[..FRAME_HEADER_LEN]);
            let len = u32::from_be_bytes(header) as usize;
            if len > max_len {
                return Err(NetError::FrameTooLarge { peer, len, max_len });
            }
            let needed = FRAME_HEADER_LEN + len;
            if buf.len() >= needed {
                buf.advance(FRAME_HEADER_LEN);
                return Ok(Some(buf.split_to(len).freeze()));
            }
            buf.reserve(needed - buf.len());
        } else {
            buf.reserve(FRAME_HEADER_LEN);
        }
        match stream.read_buf(buf).await {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            // A peer that closes TCP without close_notify, between frames, has not cut a frame
            // short: the length prefix says where frames end.
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(source) => return Err(NetError::Io { peer, source }),
        }
    }
}

/// The reading half of a [`Connection`].
pub struct FrameReader {
    stream: tokio::io::ReadHalf<TlsStream<TcpStream>>,
    peer_addr: SocketAddr,
    max_frame_len: usize,
    read_buf: BytesMut,
    closed: bool,
}

impl FrameReader {
    /// The next frame, or `None` once the peer has closed the connection cleanly. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Option<Bytes>, NetError> {
        if self.closed {
            return Err(NetError::Closed {
                peer: self.peer_addr,
            });
        }
        let read = read_frame_from(
            &mut self.stream,
            &mut self.read_buf,
            self.peer_addr,
            self.max_frame_len,
        )
        .await;
        match read {
            Ok(Some(frame)) => Ok(Some(frame)),
            Ok(None) => {
                self.closed = true;
                if self.read_buf.is_empty() {
                    Ok(None)
                } else {
                    Err(NetError::TruncatedFrame {
                        peer: self.peer_addr,
                    })
                }
            }
            Err(error) => {
                self.closed = true;
                Err(error)
            }
        }
    }
}

/// The writing half of a [`Connection`].
pub struct FrameWriter {
    stream: tokio::io::WriteHalf<TlsStream<TcpStream>>,
    peer_addr: SocketAddr,
    max_frame_len: usize,
    closed: bool,
}

impl FrameWriter {
    /// Sends one frame; one over the limit is refused before anything is written. Not
    /// cancel-safe: drop the writer after a cancelled send.
    pub async fn send(&mut self, frame: impl AsRef<[u8]>) -> Result<(), NetError> {
        let frame = frame.as_ref();
        if self.closed {
            return Err(NetError::Closed {
                peer: self.peer_addr,
            });
        }
        let too_large = NetError::OutgoingFrameTooLarge {
            peer: self.peer_addr,
            len: frame.len(),
            max_len: self.max_frame_len,
        };
        if frame.len() > self.max_frame_len {
            return Err(too_large);
        }
        let len = u32::try_from(frame.len()).map_err(|_| too_large)?;
        let written = async {
            self.stream.write_all(&len.to_be_bytes()).await?;
            self.stream.write_all(frame).await?;
            self.stream.flush().await
        }
        .await;
        written.map_err(|source| {
            self.closed = true;
            NetError::Io {
                peer: self.peer_addr,
                source,
            }
        })
    }

    /// Closes the writing direction (TLS close_notify), bounded in time.
    pub async fn close(mut self) {
        let _ignored = tokio::time::timeout(CLOSE_TIMEOUT, self.stream.shutdown()).await;
    }
}
