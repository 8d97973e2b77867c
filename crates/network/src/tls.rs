//! Mutual TLS between nodes: TLS 1.3 only, the `ring` provider, no session resumption.
//!
//! Both ends present their node certificate and check the other's with
//! [`TrustRoot::check`](crate::verify): from the chain CA, within its dates, not on the CRL, a
//! node certificate, and (when dialing a known node) the expected node id. Resumption is off so
//! that every connection is checked against the current CRL.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, ServerName, UnixTime};
use rustls::server::NoServerSessionStorage;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{AlertDescription, ClientConfig, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};

use crate::cert::{CertSerial, CertSummary, ParsedCert, PeerIdentity};
use crate::pki::{Crl, NodeIdentity, parse_cert_pem};
use crate::verify::{PeerVerifier, TrustRoot, Usage, Verdict, take_verdict};
use crate::{CertRejection, NetError};

/// A node's TLS setup: the chain CA (and CRL) it trusts and the identity it presents.
///
/// Cheap to clone. To apply a new CRL, build a new `TlsConfig` and hand it to
/// [`Listener::set_tls_config`](crate::Listener::set_tls_config) and to later dials.
#[derive(Clone)]
pub struct TlsConfig {
    inner: Arc<Inner>,
}

struct Inner {
    trust: Arc<TrustRoot>,
    key: Arc<CertifiedKey>,
    own_cert: CertSummary,
    own_identity: PeerIdentity,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("identity", &self.inner.own_identity)
            .field("chain_ca", &self.inner.trust.ca_subject())
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Refuses, from now on, the certificates with these serials, on top of the CRL file: the
    /// ones the chain's governance revoked. Every clone of this configuration sees the new set.
    pub fn set_chain_revocations(&self, serials: std::collections::BTreeSet<CertSerial>) {
        self.inner.trust.set_chain_revoked(serials);
    }

    /// Trust `ca_cert_pem` (and revoke what `crl_pem` lists), present `identity`.
    ///
    /// Fails if the CRL is not signed by this CA, if the key does not match the certificate, or
    /// if our own certificate is not a node certificate from this CA: those are configuration
    /// mistakes. An own certificate that is expired, not yet valid or revoked only logs a warning,
    /// since peers will refuse it with a clear message and the operator may be about to replace
    /// it.
    pub fn new(
        ca_cert_pem: &str,
        crl_pem: Option<&str>,
        identity: &NodeIdentity,
    ) -> Result<Self, NetError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let crl = crl_pem.map(Crl::from_pem).transpose()?;
        let trust = Arc::new(TrustRoot::new(ca_cert_pem, crl.as_ref(), &provider)?);
        let cert_der = parse_cert_pem("node certificate", identity.cert_pem())?;
        let key_der = PrivateKeyDer::from_pem_slice(identity.key_pem().as_bytes())
            .map_err(|e| NetError::invalid("node key", format!("no PEM private key found: {e}")))?;
        let signing_key = provider
            .key_provider
            .load_private_key(key_der)
            .map_err(|e| NetError::invalid("node key", e))?;
        let key = CertifiedKey::new(vec![cert_der.clone()], signing_key);
        if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
            key.keys_match()
        {
            return Err(NetError::invalid(
                "node key",
                "the key does not belong to node.crt",
            ));
        }
        let own = identity.parsed();
        let now = UnixTime::now();
        let mut own_identity = None;
        for usage in [Usage::ClientAuth, Usage::ServerAuth] {
            match trust.check(&cert_der, &[], now, usage, None) {
                Ok(found) => own_identity = Some(found),
                Err(
                    reason @ (CertRejection::Expired { .. }
                    | CertRejection::NotYetValid { .. }
                    | CertRejection::Revoked { .. }
                    | CertRejection::RevokedByChain { .. }),
                ) => {
                    tracing::warn!(
                        "this node's certificate will be refused by every peer: {reason}"
                    );
                    break;
                }
                Err(reason) => return Err(NetError::OwnCertificate { reason }),
            }
        }
        let own_identity = match own_identity {
            Some(found) => found,
            None => identity.identity()?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                trust,
                key: Arc::new(key),
                own_cert: own.summary(),
                own_identity,
                provider,
            }),
        })
    }

    /// Reads `ca.crt` from `ca_cert`, the CRL from `crl` if given, and `node.crt`/`node.key`
    /// from `node_dir`, then calls [`TlsConfig::new`].
    pub fn load(ca_cert: &Path, crl: Option<&Path>, node_dir: &Path) -> Result<Self, NetError> {
        let ca_pem =
            std::fs::read_to_string(ca_cert).map_err(|e| NetError::file("read", ca_cert, e))?;
        let crl = crl.map(Crl::load).transpose()?;
        let identity = NodeIdentity::load(node_dir)?;
        Self::new(&ca_pem, crl.as_ref().map(Crl::pem), &identity)
    }

    /// Who this node is, as its certificate says.
    pub fn local_identity(&self) -> &PeerIdentity {
        &self.inner.own_identity
    }

    /// The subject of the chain CA this node trusts.
    pub fn chain_ca_subject(&self) -> &str {
        self.inner.trust.ca_subject()
    }

    /// TLS handshake as the accepting side. Returns the stream and the peer's verified identity.
    pub(crate) async fn accept(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
    ) -> Result<(TlsStream<TcpStream>, PeerIdentity), NetError> {
        let verdict = Verdict::default();
        let verifier = PeerVerifier::new(
            self.inner.trust.clone(),
            Usage::ClientAuth,
            None,
            Arc::clone(&verdict),
        );
        let mut config = ServerConfig::builder_with_provider(self.inner.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| NetError::Handshake {
                peer,
                detail: e.to_string(),
            })?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(self.inner.key.clone())));
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        match TlsAcceptor::from(Arc::new(config)).accept(tcp).await {
            Ok(stream) => {
                let identity = verified_identity(peer, stream.get_ref().1.peer_certificates())?;
                Ok((TlsStream::Server(stream), identity))
            }
            Err(error) => Err(self.handshake_error(peer, error, &verdict)),
        }
    }

    /// TLS handshake as the dialing side, optionally requiring the peer's node id.
    pub(crate) async fn connect(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        expected_node_id: Option<&str>,
    ) -> Result<(TlsStream<TcpStream>, PeerIdentity), NetError> {
        let verdict = Verdict::default();
        let verifier = PeerVerifier::new(
            self.inner.trust.clone(),
            Usage::ServerAuth,
            expected_node_id.map(str::to_owned),
            Arc::clone(&verdict),
        );
        let mut config = ClientConfig::builder_with_provider(self.inner.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| NetError::Handshake {
                peer,
                detail: e.to_string(),
            })?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(self.inner.key.clone())));
        config.resumption = Resumption::disabled();
        // The name is required by the API but not checked (see PeerVerifier); an IP address
        // also means no SNI is sent.
        let server_name = ServerName::IpAddress(peer.ip().into());
        match TlsConnector::from(Arc::new(config))
            .connect(server_name, tcp)
            .await
        {
            Ok(stream) => {
                let identity = verified_identity(peer, stream.get_ref().1.peer_certificates())?;
                Ok((TlsStream::Client(stream), identity))
            }
            Err(error) => Err(self.handshake_error(peer, error, &verdict)),
        }
    }

    fn handshake_error(&self, peer: SocketAddr, error: io::Error, verdict: &Verdict) -> NetError {
        match take_verdict(verdict) {
            Some(reason) => NetError::PeerRejected { peer, reason },
            None => self.classify_io(peer, error),
        }
    }

    /// What an I/O error during or right after the handshake means: the peer's TLS alert, a
    /// missing client certificate, or a plain socket problem.
    pub(crate) fn classify_io(&self, peer: SocketAddr, error: io::Error) -> NetError {
        let tls_error = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        match tls_error {
            Some(rustls::Error::NoCertificatesPresented) => NetError::PeerRejected {
                peer,
                reason: CertRejection::NoCertificate,
            },
            Some(rustls::Error::AlertReceived(alert)) => NetError::RejectedByPeer {
                peer,
                alert: alert_name(*alert),
                our_cert: self.inner.own_cert.clone(),
                our_ca: self.inner.trust.ca_subject().to_owned(),
            },
            Some(other) => NetError::Handshake {
                peer,
                detail: other.to_string(),
            },
            None if error.kind() == io::ErrorKind::UnexpectedEof => NetError::Handshake {
                peer,
                detail: "the peer closed the connection during the handshake without saying why \
                         (it may not be a Banyan node, or it dropped us; its log may say why)"
                    .to_owned(),
            },
            None => NetError::Handshake {
                peer,
                detail: error.to_string(),
            },
        }
    }
}

fn verified_identity(
    peer: SocketAddr,
    certs: Option<&[rustls::pki_types::CertificateDer<'static>]>,
) -> Result<PeerIdentity, NetError> {
    // The verifier has admitted this certificate; reading it again only extracts the identity.
    let first = certs.and_then(<[_]>::first).ok_or(NetError::PeerRejected {
        peer,
        reason: CertRejection::NoCertificate,
    })?;
    ParsedCert::parse(first)
        .and_then(|parsed| parsed.node_identity())
        .map_err(|detail| NetError::Handshake { peer, detail })
}

/// The RFC 8446 name of a TLS alert, as `openssl` and other stacks print it.
fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::CloseNotify => "close_notify",
        AlertDescription::UnexpectedMessage => "unexpected_message",
        AlertDescription::BadRecordMac => "bad_record_mac",
        AlertDescription::HandshakeFailure => "handshake_failure",
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::IllegalParameter => "illegal_parameter",
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::DecodeError => "decode_error",
        AlertDescription::DecryptError => "decrypt_error",
        AlertDescription::ProtocolVersion => "protocol_version",
        AlertDescription::InsufficientSecurity => "insufficient_security",
        AlertDescription::InternalError => "internal_error",
        AlertDescription::MissingExtension => "missing_extension",
        AlertDescription::UnsupportedExtension => "unsupported_extension",
        AlertDescription::CertificateRequired => "certificate_required",
        AlertDescription::NoApplicationProtocol => "no_application_protocol",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

/// What a peer means by the alert it sent when it refused us.
pub(crate) fn alert_meaning(alert: &str, our_ca: &str) -> String {
    match alert {
        "certificate_expired" => "it says our certificate has expired or is not yet valid; check \
             node.crt's dates (openssl x509 -in node.crt -noout -dates) and both machines' clocks"
            .to_owned(),
        "certificate_revoked" => {
            "it says our certificate is on the chain CRL: this node has been removed".to_owned()
        }
        "unknown_ca" => format!(
            "it does not trust the CA that signed our certificate, '{our_ca}'; both nodes need \
             the ca.crt of the same chain"
        ),
        "certificate_required" => "it requires a client certificate and we sent none".to_owned(),
        "access_denied" => "it does not accept our node identity (not the node id it expected, \
             or not a node certificate)"
            .to_owned(),
        "unsupported_certificate" => "it says our certificate may not be used for TLS client or \
             server authentication"
            .to_owned(),
        "decrypt_error" => "a signature did not verify: our certificate's or our handshake's \
             (does node.key belong to node.crt?)"
            .to_owned(),
        "bad_certificate" | "certificate_unknown" => {
            "it could not accept our certificate".to_owned()
        }
        "handshake_failure" | "protocol_version" | "insufficient_security" => "no common TLS \
             version, cipher suite or signature scheme; Banyan nodes speak TLS 1.3 with ECDSA \
             P-256 certificates"
            .to_owned(),
        _ => "an unexpected alert".to_owned(),
    }
}
