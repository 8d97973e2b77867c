//! The chain's PKI: the chain CA, node certificates and the certificate revocation list.
//!
//! Every key is ECDSA P-256 and every signature ECDSA with SHA-256, on both crypto suites
//! (`docs/adr/0004-node-tls.md` says why not SM2). Files are PEM:
//!
//! | file | written by | mode |
//! |---|---|---|
//! | `ca.crt`, `ca.key` | [`ChainCa::to_pem_files`] | key `0600` |
//! | `node.crt`, `node.key` | [`NodeIdentity::save`] | key `0600` |
//! | `crl.pem` | [`Crl::save`] | |
//!
//! Keys and certificates are never overwritten: a second `to_pem_files` or `save` into the same
//! folder fails with [`NetError::AlreadyExists`]. A CRL is replaced atomically, because it is
//! meant to be updated.

use std::fmt;
use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PublicKeyData, RevokedCertParams, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use time::OffsetDateTime;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::NetError;
use crate::cert::{
    CertSerial, ParsedCert, PeerIdentity, format_unix, system_time_to_unix, unix_to_system_time,
};

/// The chain CA certificate's file name.
pub const CA_CERT_FILE: &str = "ca.crt";
/// The chain CA private key's file name (mode `0600`).
pub const CA_KEY_FILE: &str = "ca.key";
/// A node certificate's file name.
pub const NODE_CERT_FILE: &str = "node.crt";
/// A node private key's file name (mode `0600`).
pub const NODE_KEY_FILE: &str = "node.key";
/// The chain CRL's conventional file name.
pub const CRL_FILE: &str = "crl.pem";

/// How far back a new certificate's validity starts, so that a peer whose clock is a little behind
/// does not refuse a certificate issued a moment ago as "not yet valid".
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(60 * 60);

/// How long a CRL says it is current. Nodes do not enforce it (see `docs/network.md`): a CRL
/// stays in force until the operator distributes a newer one.
const CRL_NEXT_UPDATE: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Longest node name: X.509's upper bound for a common name.
const MAX_NODE_NAME_LEN: usize = 64;
/// Longest node id: room for a hex public key, far more than an address needs.
const MAX_NODE_ID_LEN: usize = 128;

/// The period a certificate is valid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Validity {
    /// Valid for `days` days from now, starting [`CLOCK_SKEW_ALLOWANCE`] in the past.
    pub fn days_from_now(days: u32) -> Self {
        let now = SystemTime::now();
        Self {
            not_before: now - CLOCK_SKEW_ALLOWANCE,
            not_after: now + Duration::from_secs(u64::from(days) * 24 * 60 * 60),
        }
    }

    /// Valid from `not_before` to `not_after`, which may lie in the past (for tests of refusal).
    pub fn between(not_before: SystemTime, not_after: SystemTime) -> Result<Self, NetError> {
        if not_after <= not_before {
            return Err(NetError::InvalidArgument(format!(
                "a validity period must end after it starts ({} is not after {})",
                format_unix(system_time_to_unix(not_after)),
                format_unix(system_time_to_unix(not_before))
            )));
        }
        Ok(Self {
            not_before,
            not_after,
        })
    }

    /// Start of the period.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// End of the period.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }
}

/// A subject alternative name for a node certificate: where operators' tools may reach it.
///
/// Nodes do not check these when they connect (they check the CA and the node id); they are for
/// humans and for standard TLS tools such as `openssl s_client -verify_ip`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectAltName {
    /// An IP address.
    Ip(IpAddr),
    /// A DNS name.
    Dns(String),
}

impl FromStr for SubjectAltName {
    type Err = NetError;

    fn from_str(text: &str) -> Result<Self, NetError> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        let valid = !text.is_empty()
            && text.len() <= 253
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Err(NetError::InvalidArgument(format!(
                "'{text}' is neither an IP address nor a DNS name"
            )));
        }
        Ok(Self::Dns(text.to_owned()))
    }
}

impl From<IpAddr> for SubjectAltName {
    fn from(ip: IpAddr) -> Self {
        Self::Ip(ip)
    }
}

/// The chain's certificate authority: issues node certificates and signs the CRL.
///
/// Its private key belongs offline with the chain operator; nodes need only `ca.crt` (and the
/// CRL).
pub struct ChainCa {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    cert: ParsedCert,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for ChainCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainCa")
            .field("subject", &self.cert.subject)
            .field("serial", &self.cert.serial)
            .finish_non_exhaustive()
    }
}

impl ChainCa {
    /// A new self-signed CA named `CN=Banyan Chain CA (chain <chain_id>), O=<chain_name>`.
    ///
    /// It may sign node certificates and CRLs but no intermediate CA (path length 0).
    pub fn generate(chain_name: &str, chain_id: u64, validity: Validity) -> Result<Self, NetError> {
        check_name("chain name", chain_name, MAX_NODE_NAME_LEN)?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| NetError::generate("CA key", e))?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(
            DnType::CommonName,
            format!("Banyan Chain CA (chain {chain_id})"),
        );
        name.push(DnType::OrganizationName, chain_name);
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial());
        params.not_before = OffsetDateTime::from(validity.not_before);
        params.not_after = OffsetDateTime::from(validity.not_after);
        let cert = params
            .self_signed(&key)
            .map_err(|e| NetError::generate("CA certificate", e))?;
        let cert_pem = cert.pem();
        let cert_der = cert.der().clone();
        let parsed =
            ParsedCert::parse(&cert_der).map_err(|e| NetError::invalid("CA certificate", e))?;
        Ok(Self {
            cert_pem,
            cert_der,
            cert: parsed,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA from its PEM certificate and PEM (PKCS#8) private key.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, NetError> {
        let cert_der = parse_cert_pem("CA certificate", cert_pem)?;
        let cert =
            ParsedCert::parse(&cert_der).map_err(|e| NetError::invalid("CA certificate", e))?;
        if !cert.is_ca {
            return Err(NetError::invalid(
                "CA certificate",
                format!("'{}' is not a CA certificate", cert.subject),
            ));
        }
        let key = KeyPair::from_pem(key_pem).map_err(|e| NetError::invalid("CA key", e))?;
        if key.subject_public_key_info() != cert.spki_raw {
            return Err(NetError::invalid(
                "CA key",
                format!(
                    "the key does not belong to the CA certificate '{}'",
                    cert.subject
                ),
            ));
        }
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .map_err(|e| NetError::invalid("CA certificate", e))?;
        Ok(Self {
            cert_pem: cert_pem.to_owned(),
            cert_der,
            cert,
            issuer,
        })
    }

    /// Reads `ca.crt` and `ca.key` from `dir`. Warns if the key file is readable by others.
    pub fn load(dir: &Path) -> Result<Self, NetError> {
        let cert_pem = read_text(&dir.join(CA_CERT_FILE))?;
        let key_path = dir.join(CA_KEY_FILE);
        let key_pem = read_text(&key_path)?;
        warn_if_key_exposed(&key_path);
        Self::from_pem(&cert_pem, &key_pem)
    }

    /// Writes `ca.crt` and `ca.key` (mode `0600`) into `dir`, creating it if needed. Refuses to
    /// overwrite either file: replacing a CA key invalidates every node certificate.
    pub fn to_pem_files(&self, dir: &Path) -> Result<(), NetError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        refuse_existing(&[&cert_path, &key_path])?;
        fs::create_dir_all(dir).map_err(|e| NetError::file("create", dir, e))?;
        write_new(&key_path, &self.issuer.key().serialize_pem(), true)?;
        write_new(&cert_path, &self.cert_pem, false)
    }

    /// The CA certificate, PEM: what every node loads as `ca.crt`.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's subject, e.g. `CN=Banyan Chain CA (chain 4242), O=bank-consortium`.
    pub fn subject(&self) -> &str {
        &self.cert.subject
    }

    /// The chain name (the subject's `O`), copied into every node certificate.
    pub fn chain_name(&self) -> &str {
        self.cert.organization.as_deref().unwrap_or_default()
    }

    /// A new key pair and certificate for one node: `CN=<node_name>, O=<chain name>,
    /// UID=<node_id>`, usable for TLS client and server authentication, with a random 128-bit
    /// serial.
    pub fn issue_node_cert(
        &self,
        node_name: &str,
        node_id: &str,
        sans: &[SubjectAltName],
        validity: Validity,
    ) -> Result<NodeIdentity, NetError> {
        check_name("node name", node_name, MAX_NODE_NAME_LEN)?;
        check_name("node id", node_id, MAX_NODE_ID_LEN)?;
        if node_id.chars().any(char::is_whitespace) {
            return Err(NetError::InvalidArgument(format!(
                "node id '{node_id}' contains spaces"
            )));
        }
        if system_time_to_unix(validity.not_after) > self.cert.not_after_unix {
            return Err(NetError::InvalidArgument(format!(
                "the node certificate would outlive the chain CA, which expires on {}",
                format_unix(self.cert.not_after_unix)
            )));
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| NetError::generate("node key", e))?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, node_name);
        name.push(DnType::OrganizationName, self.chain_name());
        name.push(DnType::CustomDnType(NODE_ID_OID.to_vec()), node_id);
        params.distinguished_name = name;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial());
        params.not_before = OffsetDateTime::from(validity.not_before);
        params.not_after = OffsetDateTime::from(validity.not_after);
        params.subject_alt_names = sans.iter().map(san_type).collect::<Result<_, _>>()?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| NetError::generate("node certificate", e))?;
        NodeIdentity::from_pem(cert.pem(), key.serialize_pem())
    }

    /// A new CRL: the entries of `previous` (which must be this CA's) plus `serials`, revoked
    /// now, with the CRL number one above `previous`'s. Serials already listed keep their
    /// original revocation time.
    pub fn revoke(&self, previous: Option<&Crl>, serials: &[CertSerial]) -> Result<Crl, NetError> {
        let now = SystemTime::now();
        let (mut entries, number) = match previous {
            Some(crl) => {
                crl.check_issued_by(&self.cert_der)?;
                (crl.entries()?, crl.crl_number().unwrap_or(0))
            }
            None => (Vec::new(), 0),
        };
        for serial in serials {
            if !entries.iter().any(|e| &e.serial == serial) {
                entries.push(RevokedEntry {
                    serial: serial.clone(),
                    revoked_at: now,
                });
            }
        }
        self.sign_crl(&entries, number + 1, now)
    }

    /// A CRL with exactly `entries`, numbered `crl_number`, issued at `this_update`.
    pub fn sign_crl(
        &self,
        entries: &[RevokedEntry],
        crl_number: u64,
        this_update: SystemTime,
    ) -> Result<Crl, NetError> {
        let params = CertificateRevocationListParams {
            this_update: OffsetDateTime::from(this_update),
            next_update: OffsetDateTime::from(this_update + CRL_NEXT_UPDATE),
            crl_number: SerialNumber::from(crl_number),
            issuing_distribution_point: None,
            revoked_certs: entries
                .iter()
                .map(|e| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(e.serial.as_bytes()),
                    revocation_time: OffsetDateTime::from(e.revoked_at),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params
            .signed_by(&self.issuer)
            .map_err(|e| NetError::generate("CRL", e))?;
        let pem = crl.pem().map_err(|e| NetError::generate("CRL", e))?;
        Crl::from_pem(&pem)
    }
}

/// OID of the subject attribute that carries the node id: `UID` (RFC 4519 userId).
const NODE_ID_OID: &[u64] = &[0, 9, 2342, 19_200_300, 100, 1, 1];

/// A node's certificate and private key, PEM.
#[derive(Clone)]
pub struct NodeIdentity {
    cert_pem: String,
    key_pem: String,
    cert: ParsedCert,
}

impl fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("NodeIdentity")
            .field("cert", &self.cert.summary())
            .finish_non_exhaustive()
    }
}

impl NodeIdentity {
    /// A node identity from its PEM certificate and PEM (PKCS#8) private key. Checks that both
    /// parse and that the key belongs to the certificate; not who issued it (that is
    /// [`TlsConfig::new`](crate::TlsConfig::new)'s job).
    pub fn from_pem(
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Result<Self, NetError> {
        let cert_pem = cert_pem.into();
        let key_pem = key_pem.into();
        let der = parse_cert_pem("node certificate", &cert_pem)?;
        let cert = ParsedCert::parse(&der).map_err(|e| NetError::invalid("node certificate", e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| NetError::invalid("node key", e))?;
        if key.subject_public_key_info() != cert.spki_raw {
            return Err(NetError::invalid(
                "node key",
                format!(
                    "the key does not belong to the certificate ({})",
                    cert.summary()
                ),
            ));
        }
        Ok(Self {
            cert_pem,
            key_pem,
            cert,
        })
    }

    /// Reads `node.crt` and `node.key` from `dir`. Warns if the key file is readable by others.
    pub fn load(dir: &Path) -> Result<Self, NetError> {
        let cert_pem = read_text(&dir.join(NODE_CERT_FILE))?;
        let key_path = dir.join(NODE_KEY_FILE);
        let key_pem = read_text(&key_path)?;
        warn_if_key_exposed(&key_path);
        Self::from_pem(cert_pem, key_pem)
    }

    /// Writes `node.crt` and `node.key` (mode `0600`) into `dir`, creating it if needed. Refuses
    /// to overwrite either file.
    pub fn save(&self, dir: &Path) -> Result<(), NetError> {
        let cert_path = dir.join(NODE_CERT_FILE);
        let key_path = dir.join(NODE_KEY_FILE);
        refuse_existing(&[&cert_path, &key_path])?;
        fs::create_dir_all(dir).map_err(|e| NetError::file("create", dir, e))?;
        write_new(&key_path, &self.key_pem, true)?;
        write_new(&cert_path, &self.cert_pem, false)
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PEM (PKCS#8). Keep it out of logs.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The certificate's serial: what [`ChainCa::revoke`] takes to remove this node.
    pub fn serial(&self) -> &CertSerial {
        &self.cert.serial
    }

    /// The node name, node id and serial the certificate carries.
    pub fn identity(&self) -> Result<PeerIdentity, NetError> {
        self.cert.node_identity().map_err(|detail| {
            NetError::invalid(
                "node certificate",
                format!("not a node certificate: {detail}"),
            )
        })
    }

    pub(crate) fn parsed(&self) -> &ParsedCert {
        &self.cert
    }
}

/// One revoked certificate in a [`Crl`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The revoked certificate's serial.
    pub serial: CertSerial,
    /// When it was revoked (to the second).
    pub revoked_at: SystemTime,
}

/// A certificate revocation list, PEM. Nodes load it with
/// [`TlsConfig::new`](crate::TlsConfig::new), which checks that this chain's CA signed it.
#[derive(Clone, Debug)]
pub struct Crl {
    pem: String,
    der: CertificateRevocationListDer<'static>,
}

impl Crl {
    /// Parses a PEM CRL. Checks its structure, not its issuer.
    pub fn from_pem(pem: &str) -> Result<Self, NetError> {
        let der = CertificateRevocationListDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| NetError::invalid("CRL", format!("no PEM X509 CRL found: {e}")))?;
        let crl = Self {
            pem: pem.to_owned(),
            der,
        };
        crl.parsed()?;
        Ok(crl)
    }

    /// Reads a PEM CRL file.
    pub fn load(path: &Path) -> Result<Self, NetError> {
        Self::from_pem(&read_text(path)?)
    }

    /// Writes the CRL to `path`, replacing any previous one atomically (write, then rename).
    pub fn save(&self, path: &Path) -> Result<(), NetError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        if tmp.exists() {
            fs::remove_file(&tmp).map_err(|e| NetError::file("remove", &tmp, e))?;
        }
        write_new(&tmp, &self.pem, false)?;
        fs::rename(&tmp, path).map_err(|e| NetError::file("replace", path, e))
    }

    /// The CRL, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CRL's sequence number; a newer CRL has a higher one.
    pub fn crl_number(&self) -> Option<u64> {
        let (_, crl) = self.parsed().ok()?;
        crl.crl_number().and_then(|n| u64::try_from(n).ok())
    }

    /// The issuer's name, e.g. `CN=Banyan Chain CA (chain 4242), O=bank-consortium`.
    pub fn issuer(&self) -> String {
        self.parsed()
            .map(|(_, crl)| crl.issuer().to_string())
            .unwrap_or_default()
    }

    /// When it was issued.
    pub fn this_update(&self) -> Option<SystemTime> {
        let (_, crl) = self.parsed().ok()?;
        Some(unix_to_system_time(crl.last_update().timestamp()))
    }

    /// Every revoked serial with its revocation time.
    pub fn entries(&self) -> Result<Vec<RevokedEntry>, NetError> {
        let (_, crl) = self.parsed()?;
        Ok(crl
            .iter_revoked_certificates()
            .map(|r| RevokedEntry {
                serial: CertSerial::from_bytes(r.raw_serial()),
                revoked_at: unix_to_system_time(r.revocation_date.timestamp()),
            })
            .collect())
    }

    pub(crate) fn der(&self) -> &CertificateRevocationListDer<'static> {
        &self.der
    }

    fn parsed(&self) -> Result<(&[u8], CertificateRevocationList<'_>), NetError> {
        x509_parser::parse_x509_crl(&self.der)
            .map_err(|e| NetError::invalid("CRL", format!("not a DER X.509 CRL: {e}")))
    }

    /// Checks the CRL names the CA in `ca_der` as issuer and carries that CA's signature.
    pub(crate) fn check_issued_by(&self, ca_der: &[u8]) -> Result<(), NetError> {
        let (_, ca) = x509_parser::parse_x509_certificate(ca_der)
            .map_err(|e| NetError::invalid("CA certificate", e))?;
        let (_, crl) = self.parsed()?;
        let chain_ca = ca.subject().to_string();
        if crl.issuer().as_raw() != ca.subject().as_raw() {
            return Err(NetError::CrlNotFromChainCa {
                crl_issuer: crl.issuer().to_string(),
                chain_ca,
            });
        }
        crl.verify_signature(ca.public_key())
            .map_err(|e| NetError::CrlBadSignature {
                chain_ca,
                detail: e.to_string(),
            })
    }
}

fn san_type(san: &SubjectAltName) -> Result<SanType, NetError> {
    match san {
        SubjectAltName::Ip(ip) => Ok(SanType::IpAddress(*ip)),
        SubjectAltName::Dns(name) => name
            .clone()
            .try_into()
            .map(SanType::DnsName)
            .map_err(|e| NetError::InvalidArgument(format!("DNS name '{name}': {e}"))),
    }
}

/// 16 random bytes, positive and without a leading zero byte so that the serial always encodes
/// in 16 bytes.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn check_name(what: &str, value: &str, max_len: usize) -> Result<(), NetError> {
    if value.is_empty() || value.chars().count() > max_len || value.chars().any(char::is_control) {
        return Err(NetError::InvalidArgument(format!(
            "{what} '{}' must be 1 to {max_len} printable characters",
            value.escape_debug()
        )));
    }
    Ok(())
}

/// The serial of the certificate in `pem` (e.g. a node's `node.crt`), as a CRL or a
/// `RevokeCertificate` proposal names it.
pub fn cert_serial_from_pem(pem: &str) -> Result<crate::CertSerial, NetError> {
    let der = parse_cert_pem("certificate", pem)?;
    let parsed = crate::cert::ParsedCert::parse(der.as_ref())
        .map_err(|e| NetError::invalid("certificate", e))?;
    Ok(parsed.serial)
}

pub(crate) fn parse_cert_pem(
    what: &'static str,
    pem: &str,
) -> Result<CertificateDer<'static>, NetError> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| NetError::invalid(what, format!("no PEM CERTIFICATE found: {e}")))
}

fn read_text(path: &Path) -> Result<String, NetError> {
    fs::read_to_string(path).map_err(|e| NetError::file("read", path, e))
}

fn refuse_existing(paths: &[&Path]) -> Result<(), NetError> {
    match paths.iter().find(|p| p.exists()) {
        Some(path) => Err(NetError::AlreadyExists {
            path: path.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Creates `path` (failing if it exists), writes `contents` and syncs it to disk. A private file
/// is created with mode `0600` so that the key is never readable by others, not even briefly.
fn write_new(path: &Path, contents: &str, private: bool) -> Result<(), NetError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .map_err(|e| NetError::file("create", path, e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| NetError::file("write", path, e))?;
    file.sync_all()
        .map_err(|e| NetError::file("write", path, e))
}

fn warn_if_key_exposed(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "private key {} is readable by other users (mode {mode:o}); chmod 600 it",
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
