//! banyan-network: the chain's PKI and the mutually-authenticated TLS transport between nodes.
//!
//! - [`pki`]: the chain CA ([`ChainCa`]), node certificates ([`NodeIdentity`]) and the
//!   certificate revocation list ([`Crl`]). ECDSA P-256 on both crypto suites
//!   (`docs/adr/0004-node-tls.md`).
//! - [`TlsConfig`]: TLS 1.3 with client certificates required. A peer is admitted only if its
//!   certificate is a node certificate from this chain's CA, within its dates and not on the CRL.
//!   Every refusal is one [`NetError`] (logged once, at `warn`, by the side that refuses) that
//!   says exactly what is wrong; the refused side gets the matching TLS alert and explains it.
//! - [`transport`]: [`listen`] and [`connect`] give [`Connection`]s that carry length-prefixed
//!   frames of bounded size and know the peer's [`PeerIdentity`].
//!
//! ```
//! use banyan_network::{ChainCa, SubjectAltName, TlsConfig, Validity};
//!
//! # async fn run() -> Result<(), banyan_network::NetError> {
//! let ca = ChainCa::generate("bank-consortium", 4242, Validity::days_from_now(3650))?;
//! let sans = ["127.0.0.1".parse::<SubjectAltName>()?];
//! let node1 = ca.issue_node_cert("node1.bank-a", "0xaaaa", &sans, Validity::days_from_now(365))?;
//! let node2 = ca.issue_node_cert("node2.bank-b", "0xbbbb", &sans, Validity::days_from_now(365))?;
//!
//! let any_port = "127.0.0.1:0".parse().expect("an address");
//! let mut listener =
//!     banyan_network::listen(any_port, TlsConfig::new(ca.cert_pem(), None, &node1)?).await?;
//! let addr = listener.local_addr();
//! let dialer = TlsConfig::new(ca.cert_pem(), None, &node2)?;
//! let (client, server) = tokio::join!(banyan_network::connect(addr, &dialer), listener.accept());
//! let (mut client, mut server) = (client?, server?);
//! assert_eq!(client.peer().node_id(), "0xaaaa");
//! assert_eq!(server.peer().node_id(), "0xbbbb");
//!
//! client.send(b"hello").await?;
//! assert_eq!(server.recv().await?.as_deref(), Some(&b"hello"[..]));
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().expect("runtime").block_on(run()).expect("example");
//! ```
//!
//! The crate has no feature flags.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![allow(
    clippy::result_large_err,
    reason = "errors carry the refused certificate's details for the one log line that explains \
              a refusal; they are rare and cold next to a TLS handshake, so size does not matter"
)]

mod cert;
mod error;
pub mod pki;
mod tls;
pub mod transport;
mod verify;

/// The Rust examples in `docs/network.md`, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/network.md")]
pub struct NetworkDocExamples;

pub use cert::{CertSerial, CertSummary, PeerIdentity, inspect_certificate};
pub use error::{CertRejection, NetError};
pub use pki::{
    ChainCa, Crl, NodeIdentity, RevokedEntry, SubjectAltName, Validity, cert_serial_from_pem,
};
pub use tls::TlsConfig;
pub use transport::{
    Connection, FrameReader, FrameWriter, Listener, TransportConfig, connect, connect_with, listen,
    listen_with,
};
