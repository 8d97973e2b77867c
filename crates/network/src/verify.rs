//! Admission: is a peer's certificate from this chain's CA, within its dates, not revoked, and
//! a node certificate (for the expected node)?
//!
//! The cryptographic checks are webpki's, the same code rustls uses. Around them this module
//! classifies every refusal into a [`CertRejection`] that names the certificate, the issuer, the
//! dates or the serial involved, and picks the TLS alert the peer receives.
//!
//! rustls' verifier traits can only return a `rustls::Error`, so each connection gets its own
//! [`PeerVerifier`] whose `verdict` slot keeps the detailed rejection for the handshake code to
//! report.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};

use crate::cert::{CertSerial, CertSummary, ParsedCert, PeerIdentity, format_unix};
use crate::pki::{Crl, parse_cert_pem};
use crate::{CertRejection, NetError};

/// Which end of the handshake the checked certificate authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Usage {
    /// A peer that dialed us.
    ClientAuth,
    /// A peer we dialed.
    ServerAuth,
}

impl Usage {
    fn webpki(self) -> KeyUsage {
        match self {
            Self::ClientAuth => KeyUsage::client_auth(),
            Self::ServerAuth => KeyUsage::server_auth(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::ClientAuth => "TLS client authentication",
            Self::ServerAuth => "TLS server authentication",
        }
    }
}

/// This chain's CA and CRL, and the signature algorithms accepted.
pub(crate) struct TrustRoot {
    ca: ParsedCert,
    anchor: TrustAnchor<'static>,
    crl: Option<CertRevocationList<'static>>,
    /// Serials the chain itself revoked (by governance proposal), on top of the CRL file; the
    /// node replaces the set as blocks change it.
    chain_revoked: std::sync::RwLock<std::collections::BTreeSet<CertSerial>>,
    algorithms: WebPkiSupportedAlgorithms,
    root_hints: Vec<DistinguishedName>,
}

impl std::fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustRoot")
            .field("ca", &self.ca.subject)
            .field("crl", &self.crl.is_some())
            .finish_non_exhaustive()
    }
}

impl TrustRoot {
    /// Loads the CA certificate and, if given, the CRL, which must be signed by that CA.
    pub(crate) fn new(
        ca_cert_pem: &str,
        crl: Option<&Crl>,
        provider: &CryptoProvider,
    ) -> Result<Self, NetError> {
        let ca_der = parse_cert_pem("CA certificate", ca_cert_pem)?;
        let ca = ParsedCert::parse(&ca_der).map_err(|e| NetError::invalid("CA certificate", e))?;
        if !ca.is_ca {
            return Err(NetError::invalid(
                "CA certificate",
                format!(
                    "'{}' is not a CA certificate (it is a node or other end-entity certificate)",
                    ca.subject
                ),
            ));
        }
        let anchor = webpki::anchor_from_trusted_cert(&ca_der)
            .map_err(|e| NetError::invalid("CA certificate", format!("{e:?}")))?
            .to_owned();
        let crl = match crl {
            Some(crl) => {
                crl.check_issued_by(&ca_der)?;
                let owned = OwnedCertRevocationList::from_der(crl.der())
                    .map_err(|e| NetError::invalid("CRL", format!("{e:?}")))?;
                Some(CertRevocationList::from(owned))
            }
            None => None,
        };
        let root_hints = vec![DistinguishedName::in_sequence(anchor.subject.as_ref())];
        Ok(Self {
            ca,
            anchor,
            crl,
            chain_revoked: Default::default(),
            algorithms: provider.signature_verification_algorithms,
            root_hints,
        })
    }

    /// Replaces the serials the chain revoked.
    pub(crate) fn set_chain_revoked(&self, serials: std::collections::BTreeSet<CertSerial>) {
        *self
            .chain_revoked
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = serials;
    }

    fn chain_revokes(&self, serial: &CertSerial) -> bool {
        self.chain_revoked
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(serial)
    }

    pub(crate) fn ca_subject(&self) -> &str {
        &self.ca.subject
    }

    pub(crate) fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.algorithms
    }

    /// Every admission check on a peer's certificate, in the order that gives the most useful
    /// answer: a certificate from another chain is reported as such even when it is also expired.
    pub(crate) fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        usage: Usage,
        expected_node_id: Option<&str>,
    ) -> Result<PeerIdentity, CertRejection> {
        let parsed = ParsedCert::parse(end_entity.as_ref())
            .map_err(|detail| CertRejection::Invalid { cert: None, detail })?;
        let cert = parsed.summary();
        if parsed.issuer_raw != self.ca.subject_raw {
            return Err(CertRejection::UnknownIssuer {
                cert,
                issuer: parsed.issuer.clone(),
                chain_ca: self.ca.subject.clone(),
            });
        }
        self.check_ca_dates(now)?;
        let end_entity_cert =
            EndEntityCert::try_from(end_entity).map_err(|e| CertRejection::Invalid {
                cert: Some(cert.clone()),
                detail: format!("{e}"),
            })?;
        let crls: Vec<&CertRevocationList<'_>> = self.crl.iter().collect();
        // The CRL is this CA's and covers every certificate it issued, so an unknown status
        // cannot happen; if it somehow did, refuse. The CRL's nextUpdate is not enforced: a CRL
        // stays in force until the operator ships a newer one (docs/network.md).
        let revocation = RevocationOptionsBuilder::new(&crls).ok().map(|builder| {
            builder
                .with_depth(RevocationCheckDepth::EndEntity)
                .with_status_policy(UnknownStatusPolicy::Deny)
                .with_expiration_policy(ExpirationPolicy::Ignore)
                .build()
        });
        end_entity_cert
            .verify_for_usage(
                self.algorithms.all,
                std::slice::from_ref(&self.anchor),
                intermediates,
                now,
                usage.webpki(),
                revocation,
                None,
            )
            .map_err(|e| self.classify(e, &parsed, cert.clone(), usage))?;
        if self.chain_revokes(&parsed.serial) {
            return Err(CertRejection::RevokedByChain { cert });
        }
        let identity =
            parsed
                .node_identity()
                .map_err(|detail| CertRejection::NotANodeCertificate {
                    cert: cert.clone(),
                    detail,
                })?;
        if let Some(expected) = expected_node_id
            && identity.node_id() != expected
        {
            return Err(CertRejection::NodeIdMismatch {
                cert,
                actual: identity.node_id().to_owned(),
                expected: expected.to_owned(),
            });
        }
        Ok(identity)
    }

    /// webpki does not look at a trust anchor's dates; a chain whose CA has expired is refused
    /// here, as OpenSSL would.
    fn check_ca_dates(&self, now: UnixTime) -> Result<(), CertRejection> {
        let now = unix_secs(now);
        let detail = if now > self.ca.not_after_unix {
            format!(
                "expired on {} (now {})",
                format_unix(self.ca.not_after_unix),
                format_unix(now)
            )
        } else if now < self.ca.not_before_unix {
            format!(
                "not valid before {} (now {})",
                format_unix(self.ca.not_before_unix),
                format_unix(now)
            )
        } else {
            return Ok(());
        };
        Err(CertRejection::ChainCaNotValid {
            chain_ca: self.ca.subject.clone(),
            detail,
        })
    }

    fn classify(
        &self,
        error: webpki::Error,
        parsed: &ParsedCert,
        cert: CertSummary,
        usage: Usage,
    ) -> CertRejection {
        use webpki::Error as E;
        #[allow(deprecated)] // RequiredEkuNotFound: older webpki versions still return it.
        match error {
            E::CertExpired { time, not_after } => CertRejection::Expired {
                cert,
                not_after: format_unix(unix_secs(not_after)),
                now: format_unix(unix_secs(time)),
            },
            E::CertNotValidYet { time, not_before } => CertRejection::NotYetValid {
                cert,
                not_before: format_unix(unix_secs(not_before)),
                now: format_unix(unix_secs(time)),
            },
            E::CertRevoked => CertRejection::Revoked {
                cert,
                when: self.revocation_date(&parsed.raw_serial),
            },
            // The issuer's name matched this CA (checked before webpki), so the signature is what
            // failed: another CA with the same name.
            E::UnknownIssuer | E::InvalidSignatureForPublicKey => {
                CertRejection::IssuerKeyMismatch {
                    cert,
                    chain_ca: self.ca.subject.clone(),
                }
            }
            E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) => {
                CertRejection::WrongKeyUsage {
                    cert,
                    usage: usage.describe().to_owned(),
                    detail: match &parsed.extended_key_usage {
                        Some(allowed) => format!("it allows only {allowed}"),
                        None => "its extended key usage does not allow it".to_owned(),
                    },
                }
            }
            E::CaUsedAsEndEntity => CertRejection::NotANodeCertificate {
                cert,
                detail: "it is a CA certificate".to_owned(),
            },
            E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
            | E::UnsupportedSignatureAlgorithm
            | E::UnsupportedSignatureAlgorithmForPublicKey => CertRejection::BadSignature {
                subject: format!("its certificate ({cert})"),
                detail: "it is signed with an algorithm Banyan nodes do not accept (they accept \
                         ECDSA P-256 certificates from the chain CA)"
                    .to_owned(),
            },
            other => CertRejection::Invalid {
                cert: Some(cert),
                detail: format!("{other:?}"),
            },
        }
    }

    fn revocation_date(&self, raw_serial: &[u8]) -> String {
        self.crl
            .as_ref()
            .and_then(|crl| crl.find_serial(raw_serial).ok().flatten())
            .map(|entry| format!("revoked {}", format_unix(unix_secs(entry.revocation_date))))
            .unwrap_or_else(|| "revocation date not recorded".to_owned())
    }
}

fn unix_secs(time: UnixTime) -> i64 {
    i64::try_from(time.as_secs()).unwrap_or(i64::MAX)
}

/// The rustls error for a rejection: it decides which TLS alert the peer receives, and so what
/// the peer's [`NetError::RejectedByPeer`] says.
fn alert_error(rejection: &CertRejection) -> CertificateError {
    match rejection {
        CertRejection::UnknownIssuer { .. }
        | CertRejection::IssuerKeyMismatch { .. }
        | CertRejection::ChainCaNotValid { .. } => CertificateError::UnknownIssuer,
        CertRejection::Expired { .. } => CertificateError::Expired,
        CertRejection::NotYetValid { .. } => CertificateError::NotValidYet,
        CertRejection::Revoked { .. } | CertRejection::RevokedByChain { .. } => {
            CertificateError::Revoked
        }
        CertRejection::WrongKeyUsage { .. } => CertificateError::InvalidPurpose,
        CertRejection::BadSignature { .. } => CertificateError::BadSignature,
        CertRejection::NotANodeCertificate { .. } | CertRejection::NodeIdMismatch { .. } => {
            CertificateError::ApplicationVerificationFailure
        }
        CertRejection::NoCertificate | CertRejection::Invalid { .. } => {
            CertificateError::BadEncoding
        }
    }
}

/// Where a connection's verifier leaves the reason it refused the peer.
pub(crate) type Verdict = Arc<Mutex<Option<CertRejection>>>;

pub(crate) fn take_verdict(verdict: &Verdict) -> Option<CertRejection> {
    verdict
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
}

/// One connection's certificate verifier, for either end of the handshake.
///
/// Server names are not checked: nodes are dialed by IP and port, often through NAT or
/// containers, and what admission needs is "a node of this chain" (the CA) and, when the dialer
/// knows it, "the node I meant" (the node id), not "the host at this address".
#[derive(Debug)]
pub(crate) struct PeerVerifier {
    trust: Arc<TrustRoot>,
    usage: Usage,
    expected_node_id: Option<String>,
    verdict: Verdict,
}

impl PeerVerifier {
    pub(crate) fn new(
        trust: Arc<TrustRoot>,
        usage: Usage,
        expected_node_id: Option<String>,
        verdict: Verdict,
    ) -> Self {
        Self {
            trust,
            usage,
            expected_node_id,
            verdict,
        }
    }

    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let outcome = self.trust.check(
            end_entity,
            intermediates,
            now,
            self.usage,
            self.expected_node_id.as_deref(),
        );
        match outcome {
            Ok(_) => Ok(()),
            Err(rejection) => Err(self.refuse(rejection)),
        }
    }

    fn refuse(&self, rejection: CertRejection) -> rustls::Error {
        let error = rustls::Error::InvalidCertificate(alert_error(&rejection));
        *self.verdict.lock().unwrap_or_else(PoisonError::into_inner) = Some(rejection);
        error
    }

    fn verify_signature(
        &self,
        result: Result<HandshakeSignatureValid, rustls::Error>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        result.map_err(|e| {
            self.refuse(CertRejection::BadSignature {
                subject: "its handshake signature".to_owned(),
                detail: format!(
                    "it does not verify with its certificate's key ({e}); its node.key may not \
                     belong to its node.crt"
                ),
            })
        })
    }
}

/// The signature check of a TLS handshake message, shared by the client and server verifiers.
type SignatureCheck = fn(
    &[u8],
    &CertificateDer<'_>,
    &DigitallySignedStruct,
    &rustls::crypto::WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error>;

impl PeerVerifier {
    fn handshake_signature(
        &self,
        check: SignatureCheck,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_signature(check(message, cert, dss, self.trust.algorithms()))
    }
}

impl ClientCertVerifier for PeerVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.trust.root_hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.verify(end_entity, intermediates, now)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake_signature(rustls::crypto::verify_tls12_signature, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake_signature(rustls::crypto::verify_tls13_signature, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.trust.algorithms().supported_schemes()
    }
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verify(end_entity, intermediates, now)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake_signature(rustls::crypto::verify_tls12_signature, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.handshake_signature(rustls::crypto::verify_tls13_signature, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.trust.algorithms().supported_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        Some(&self.trust.root_hints)
    }
}
