//! Shared helpers: CAs and nodes, listeners on 127.0.0.1 ports from the testkit's reservation, a bare rustls client, log capture.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use banyan_network::{
    ChainCa, Connection, Crl, Listener, NetError, NodeIdentity, SubjectAltName, TlsConfig,
    TransportConfig, Validity,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tracing_subscriber::fmt::MakeWriter;

pub(crate) const CHAIN: &str = "bank-consortium";
pub(crate) const CHAIN_ID: u64 = 4242;
pub(crate) const OUR_CA: &str = "CN=Banyan Chain CA (chain 4242), O=bank-consortium";

pub(crate) fn chain_ca() -> ChainCa {
    ChainCa::generate(CHAIN, CHAIN_ID, Validity::days_from_now(3650)).expect("CA")
}

pub(crate) fn node(ca: &ChainCa, name: &str, id: &str) -> NodeIdentity {
    node_valid(ca, name, id, Validity::days_from_now(365))
}

pub(crate) fn node_valid(ca: &ChainCa, name: &str, id: &str, validity: Validity) -> NodeIdentity {
    let sans = [SubjectAltName::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))];
    ca.issue_node_cert(name, id, &sans, validity)
        .expect("node certificate")
}

pub(crate) fn tls(ca: &ChainCa, identity: &NodeIdentity) -> TlsConfig {
    TlsConfig::new(ca.cert_pem(), None, identity).expect("TLS config")
}

pub(crate) fn tls_with_crl(ca: &ChainCa, crl: &Crl, identity: &NodeIdentity) -> TlsConfig {
    TlsConfig::new(ca.cert_pem(), Some(crl.pem()), identity).expect("TLS config")
}

pub(crate) fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub(crate) const JAN_2019: u64 = 1_546_300_800;
pub(crate) const JAN_2020: u64 = 1_577_836_800;

pub(crate) fn transport() -> TransportConfig {
    TransportConfig {
        handshake_timeout: Duration::from_secs(5),
        ..TransportConfig::default()
    }
}

pub(crate) async fn listener(tls: TlsConfig) -> Listener {
    listener_with(tls, transport()).await
}

pub(crate) async fn listener_with(tls: TlsConfig, config: TransportConfig) -> Listener {
    let port = banyan_testkit::free_port().expect("a free port below the ephemeral range");
    banyan_network::listen_with(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), tls, config)
        .await
        .expect("listen")
}

/// Dials `listener` and accepts on it at once: (dialer's result, listener's result).
pub(crate) async fn dial(
    listener: &mut Listener,
    dialer: &TlsConfig,
    expected_node_id: Option<&str>,
) -> (Result<Connection, NetError>, Result<Connection, NetError>) {
    let addr = listener.local_addr();
    let config = transport();
    tokio::join!(
        banyan_network::connect_with(addr, dialer, &config, expected_node_id),
        listener.accept()
    )
}

/// A rustls client that trusts any server and presents `identity` (or no certificate): to see
/// what a listener does with clients our own `TlsConfig` would never build.
pub(crate) async fn bare_client(
    addr: SocketAddr,
    identity: Option<&NodeIdentity>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer(provider)));
    let config = match identity {
        Some(identity) => {
            let cert =
                CertificateDer::from_pem_slice(identity.cert_pem().as_bytes()).expect("cert");
            let key = PrivateKeyDer::from_pem_slice(identity.key_pem().as_bytes()).expect("key");
            builder
                .with_client_auth_cert(vec![cert], key)
                .expect("client cert")
        }
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(addr).await?;
    let server_name = ServerName::IpAddress(addr.ip().into());
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
}

/// Reads from a bare client until the server's verdict arrives: the TLS alert as a rustls error.
pub(crate) async fn bare_client_verdict(
    stream: &mut tokio_rustls::client::TlsStream<TcpStream>,
) -> Option<rustls::Error> {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf).await {
        Ok(_) => None,
        Err(e) => e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .cloned(),
    }
}

#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Captures the process's `tracing` output into one buffer. A global subscriber is installed once;
/// scoped (thread-local) subscribers lost lines under load, because `tracing` caches callsite
/// interest process-wide. Captures are serialised and each starts from an empty buffer, so every
/// test that asserts on log lines must hold a capture for its whole run.
#[derive(Clone, Copy, Default)]
pub(crate) struct Logs;

static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static CAPTURE_SERIAL: Mutex<()> = Mutex::new(());
static INSTALL: std::sync::Once = std::sync::Once::new();

/// Keeps other captures out until dropped.
pub(crate) struct CaptureGuard {
    _serial: std::sync::MutexGuard<'static, ()>,
}

fn buffer() -> std::sync::MutexGuard<'static, Vec<u8>> {
    BUFFER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Logs {
    pub fn capture() -> (Self, CaptureGuard) {
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(Logs)
                .with_ansi(false)
                .with_max_level(tracing::Level::DEBUG)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber");
        });
        let serial = CAPTURE_SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        buffer().clear();
        (Logs, CaptureGuard { _serial: serial })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&buffer()).into_owned()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains(" WARN "))
            .map(str::to_owned)
            .collect()
    }

    /// The single warning line that mentions `needle`; fails if there are none or several.
    pub fn one_warning_with(&self, needle: &str) -> String {
        let matching: Vec<String> = self
            .warnings()
            .into_iter()
            .filter(|line| line.contains(needle))
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "expected one warning with {needle:?}, got {matching:#?}; everything captured:\n{}",
            self.text()
        );
        matching.into_iter().next().expect("one line")
    }
}

pub(crate) struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        buffer().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}
