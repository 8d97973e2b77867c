//! The crate's error type and the precise reasons a peer's certificate is refused.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cert::CertSummary;

/// Why this node refused a peer's certificate.
///
/// Each variant's text completes the sentence "peer 10.0.0.2:30304 refused: …" and says what to
/// do about it. The matching TLS alert is sent to the peer, which reports it with
/// [`NetError::RejectedByPeer`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertRejection {
    /// The peer sent no certificate at all.
    #[error(
        "it presented no client certificate; every node must connect with its node.crt and \
         node.key from the chain CA"
    )]
    NoCertificate,
    /// The certificate was issued by a CA whose name is not this chain's CA.
    #[error(
        "its certificate ({cert}) is signed by CA '{issuer}', not this chain's CA '{chain_ca}'; \
         the peer belongs to another chain or was given a certificate from another CA"
    )]
    UnknownIssuer {
        /// The refused certificate.
        cert: CertSummary,
        /// The issuer named in the certificate.
        issuer: String,
        /// This chain's CA subject.
        chain_ca: String,
    },
    /// The certificate names this chain's CA as issuer but was signed by another key.
    #[error(
        "its certificate ({cert}) names this chain's CA '{chain_ca}' as issuer but is not signed \
         by this CA's key: it comes from another CA with the same name (was the CA generated \
         twice?)"
    )]
    IssuerKeyMismatch {
        /// The refused certificate.
        cert: CertSummary,
        /// This chain's CA subject.
        chain_ca: String,
    },
    /// The certificate's notAfter is in the past.
    #[error(
        "its certificate ({cert}) expired on {not_after} (now {now}); the chain operator must \
         issue it a new certificate"
    )]
    Expired {
        /// The refused certificate.
        cert: CertSummary,
        /// The certificate's notAfter, RFC 3339 UTC.
        not_after: String,
        /// This node's clock at the check, RFC 3339 UTC.
        now: String,
    },
    /// The certificate's notBefore is in the future.
    #[error(
        "its certificate ({cert}) is not valid before {not_before} (now {now}); check both \
         machines' clocks"
    )]
    NotYetValid {
        /// The refused certificate.
        cert: CertSummary,
        /// The certificate's notBefore, RFC 3339 UTC.
        not_before: String,
        /// This node's clock at the check, RFC 3339 UTC.
        now: String,
    },
    /// The certificate's serial is on the chain CRL.
    #[error("its certificate ({cert}) is revoked by the chain CRL ({when})")]
    Revoked {
        /// The refused certificate; its serial is the one the CRL lists.
        cert: CertSummary,
        /// `revoked <RFC 3339 time>` as the CRL records it.
        when: String,
    },
    /// The chain's governance revoked the certificate (a `RevokeCertificate` proposal).
    #[error(
        "its certificate ({cert}) is revoked by the chain's governance (a RevokeCertificate \
         proposal); the node needs a new certificate, and the committee's consent"
    )]
    RevokedByChain {
        /// The refused certificate.
        cert: CertSummary,
    },
    /// The certificate may not be used for TLS client or server authentication.
    #[error(
        "its certificate ({cert}) may not be used for {usage}: {detail}; node certificates \
         from the chain CA allow both TLS client and server authentication"
    )]
    WrongKeyUsage {
        /// The refused certificate.
        cert: CertSummary,
        /// `TLS client authentication` or `TLS server authentication`.
        usage: String,
        /// What the certificate allows instead.
        detail: String,
    },
    /// A signature did not verify: the certificate's own, or the peer's handshake signature.
    #[error("{subject}: {detail}")]
    BadSignature {
        /// `its certificate (…)` or `its handshake signature`.
        subject: String,
        /// What failed.
        detail: String,
    },
    /// The chain CA certificate itself is outside its validity period.
    #[error("this chain's CA certificate '{chain_ca}' is {detail}; the CA must be renewed")]
    ChainCaNotValid {
        /// This chain's CA subject.
        chain_ca: String,
        /// `expired on …` or `not valid before …`, with the current time.
        detail: String,
    },
    /// The certificate is from this chain's CA but is not a node certificate.
    #[error("its certificate ({cert}) is not a node certificate: {detail}")]
    NotANodeCertificate {
        /// The refused certificate.
        cert: CertSummary,
        /// What is missing.
        detail: String,
    },
    /// The certificate is valid but for another node than the one this address should be.
    #[error(
        "its certificate ({cert}) is for node id {actual} but this address was expected to be \
         node id {expected}; check the peer list"
    )]
    NodeIdMismatch {
        /// The refused certificate.
        cert: CertSummary,
        /// The node id in the certificate.
        actual: String,
        /// The node id the caller dialed.
        expected: String,
    },
    /// The certificate could not be parsed or failed another check.
    #[error("its certificate{} is invalid: {detail}", in_parentheses(.cert.as_ref()))]
    Invalid {
        /// The refused certificate, when it could be parsed.
        cert: Option<CertSummary>,
        /// What is wrong.
        detail: String,
    },
}

fn in_parentheses(cert: Option<&CertSummary>) -> String {
    cert.map(|c| format!(" ({c})")).unwrap_or_default()
}

/// Everything that can go wrong in this crate. The text of each says what went wrong and, where
/// there is something to do, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// This node refused the peer's certificate. Logged once by this crate, at `warn`.
    #[error("peer {peer} refused: {reason}")]
    PeerRejected {
        /// The peer's socket address.
        peer: SocketAddr,
        /// Exactly what is wrong with its certificate.
        reason: CertRejection,
    },
    /// The peer refused our certificate (or the handshake) and said why with a TLS alert.
    #[error(
        "peer {peer} refused our certificate ({our_cert}) with TLS alert {alert}: {}; its log \
         says exactly why",
        crate::tls::alert_meaning(alert, our_ca)
    )]
    RejectedByPeer {
        /// The peer's socket address.
        peer: SocketAddr,
        /// The TLS alert name, e.g. `certificate_expired`, `unknown_ca`.
        alert: String,
        /// Our own certificate, as we presented it.
        our_cert: CertSummary,
        /// Our chain CA's subject.
        our_ca: String,
    },
    /// The TLS handshake failed for a reason other than a certificate.
    #[error("TLS handshake with {peer} failed: {detail}")]
    Handshake {
        /// The peer's socket address.
        peer: SocketAddr,
        /// What rustls or the socket reported.
        detail: String,
    },
    /// The TCP connect, TLS handshake and hello exchange did not finish in time.
    #[error(
        "handshake with {peer} did not complete within {timeout_ms} ms; is that address a \
         Banyan node's peer port, and is it reachable?"
    )]
    HandshakeTimeout {
        /// The peer's socket address.
        peer: SocketAddr,
        /// The configured handshake timeout.
        timeout_ms: u64,
    },
    /// The peer completed TLS but does not speak this transport's protocol version.
    #[error("peer {peer} speaks {theirs:?}, not {ours:?}; upgrade the older node")]
    ProtocolMismatch {
        /// The peer's socket address.
        peer: SocketAddr,
        /// The peer's hello, lossily decoded.
        theirs: String,
        /// Our hello.
        ours: String,
    },
    /// The TCP connection could not be opened.
    #[error("cannot connect to {peer}: {source}")]
    Connect {
        /// The address dialed.
        peer: SocketAddr,
        /// The socket error.
        source: io::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address to bind.
        addr: SocketAddr,
        /// The socket error.
        source: io::Error,
    },
    /// The peer announced a frame over the limit; the connection has been closed.
    #[error(
        "peer {peer} sent a frame of {len} bytes, over the limit of {max_len} bytes; connection \
         closed"
    )]
    FrameTooLarge {
        /// The peer's socket address.
        peer: SocketAddr,
        /// The announced frame length.
        len: usize,
        /// The configured maximum.
        max_len: usize,
    },
    /// A frame to send is over the limit; nothing was sent and the connection is still usable.
    #[error("refusing to send a frame of {len} bytes to {peer}: over the limit of {max_len} bytes")]
    OutgoingFrameTooLarge {
        /// The peer's socket address.
        peer: SocketAddr,
        /// The frame length.
        len: usize,
        /// The configured maximum.
        max_len: usize,
    },
    /// The peer closed the connection in the middle of a frame.
    #[error("peer {peer} closed the connection in the middle of a frame")]
    TruncatedFrame {
        /// The peer's socket address.
        peer: SocketAddr,
    },
    /// The connection was already closed (by an earlier error or by [`Connection::close`]).
    ///
    /// [`Connection::close`]: crate::Connection::close
    #[error("the connection to {peer} is closed")]
    Closed {
        /// The peer's socket address.
        peer: SocketAddr,
    },
    /// Reading or writing an established connection failed.
    #[error("connection to {peer} failed: {source}")]
    Io {
        /// The peer's socket address.
        peer: SocketAddr,
        /// The socket or TLS error.
        source: io::Error,
    },
    /// The listener's task has stopped; no more connections will be accepted.
    #[error("the listener has stopped")]
    ListenerClosed,
    /// This node's own certificate cannot be used with this chain CA.
    #[error("this node's own certificate fails the check every peer makes: {reason}")]
    OwnCertificate {
        /// The same check peers will make, applied to our own certificate.
        reason: CertRejection,
    },
    /// The CRL was issued by another CA.
    #[error(
        "the CRL is issued by '{crl_issuer}', not by this chain's CA '{chain_ca}'; use the crl.pem \
         made with this chain's ca.key"
    )]
    CrlNotFromChainCa {
        /// The CRL's issuer name.
        crl_issuer: String,
        /// This chain's CA subject.
        chain_ca: String,
    },
    /// The CRL names this chain's CA but its signature does not verify with the CA's key.
    #[error(
        "the CRL names this chain's CA '{chain_ca}' as issuer but its signature does not verify \
         with the CA's key ({detail}); it was made by another CA with the same name"
    )]
    CrlBadSignature {
        /// This chain's CA subject.
        chain_ca: String,
        /// The verification error.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// `read`, `write` or `create`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file that must not be overwritten exists already.
    #[error("{} already exists; refusing to overwrite it", path.display())]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// A certificate, key or CRL could not be parsed or does not fit.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was being read, e.g. `CA certificate`, `node key`.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A caller-supplied value is unusable.
    #[error("{0}")]
    InvalidArgument(String),
    /// Certificate or CRL generation failed.
    #[error("cannot generate {what}: {detail}")]
    Generate {
        /// What was being generated.
        what: &'static str,
        /// The generator's error.
        detail: String,
    },
}

impl NetError {
    pub(crate) fn invalid(what: &'static str, detail: impl ToString) -> Self {
        Self::Invalid {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn generate(what: &'static str, detail: impl ToString) -> Self {
        Self::Generate {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn file(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::File {
            action,
            path: path.into(),
            source,
        }
    }
}
