//! What a certificate says about a node: its serial, subject, node name, node id and dates.
//!
//! Node certificates carry the node name in the subject's `CN` and the node id (for example the
//! validator address) in the subject's `UID` attribute (RFC 4519 userId,
//! `0.9.2342.19200300.100.1.1`), so `openssl x509 -noout -subject` shows both.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::OID_USERID;
use x509_parser::x509::X509Name;

use crate::NetError;

/// A certificate serial number, as the CA wrote it (big-endian, without leading zero bytes).
///
/// Shown and parsed as `0x` followed by lowercase hex, the form every refusal message uses and
/// [`ChainCa::revoke`](crate::ChainCa::revoke) accepts. `openssl x509 -serial` prints the same
/// digits in upper case without `0x`; [`FromStr`] accepts that form and `aa:bb` too.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertSerial(Vec<u8>);

impl CertSerial {
    /// The serial from its big-endian bytes; leading zero bytes are dropped.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Self(bytes[first..].to_vec())
    }

    /// The big-endian bytes, without leading zeros.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for CertSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        if self.0.is_empty() {
            return f.write_str("0");
        }
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CertSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for CertSerial {
    type Err = NetError;

    fn from_str(text: &str) -> Result<Self, NetError> {
        let invalid = || {
            NetError::InvalidArgument(format!(
                "'{text}' is not a certificate serial: expected hex such as 0x1f2e or 1F:2E"
            ))
        };
        let trimmed = text.trim();
        let digits: String = trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
            .unwrap_or(trimmed)
            .chars()
            .filter(|c| *c != ':')
            .collect();
        // RFC 5280 caps serials at 20 bytes.
        if digits.is_empty() || digits.len() > 40 {
            return Err(invalid());
        }
        let padded = if digits.len() % 2 == 1 {
            format!("0{digits}")
        } else {
            digits
        };
        let mut bytes = Vec::with_capacity(padded.len() / 2);
        for pair in padded.as_bytes().chunks(2) {
            let hex = std::str::from_utf8(pair).map_err(|_| invalid())?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| invalid())?);
        }
        Ok(Self::from_bytes(&bytes))
    }
}

/// Enough of a certificate to recognise it in a log line: `CN=…, node id …, serial 0x…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSummary {
    /// The full subject distinguished name, e.g. `CN=node2.bank-b, O=consortium, UID=0xab…`.
    pub subject: String,
    /// The subject's common name: for node certificates, the node name.
    pub node_name: Option<String>,
    /// The subject's `UID` attribute: for node certificates, the node id.
    pub node_id: Option<String>,
    /// The serial number, which is what a CRL lists.
    pub serial: CertSerial,
}

impl fmt::Display for CertSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node_name {
            Some(name) => write!(f, "CN={name}")?,
            None => write!(f, "subject '{}'", self.subject)?,
        }
        if let Some(id) = &self.node_id {
            write!(f, ", node id {id}")?;
        }
        write!(f, ", serial {}", self.serial)
    }
}

/// The authenticated identity of a node, read from a certificate that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    node_name: String,
    node_id: String,
    serial: CertSerial,
    subject: String,
    not_after: SystemTime,
}

impl PeerIdentity {
    /// The node name, from the certificate's `CN`.
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// The node id (for example the validator address), from the certificate's `UID`.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The certificate's serial number.
    pub fn serial(&self) -> &CertSerial {
        &self.serial
    }

    /// The certificate's full subject distinguished name.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When the certificate expires.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }
}

impl fmt::Display for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (node id {}, serial {})",
            self.node_name, self.node_id, self.serial
        )
    }
}

/// What a DER certificate says of its holder, read as admission reads a peer's. Any bytes are
/// accepted: what is not one whole X.509 certificate is an error that says why. Nothing is
/// verified here (that is the handshake's work).
pub fn inspect_certificate(der: &[u8]) -> Result<CertSummary, String> {
    ParsedCert::parse(der).map(|parsed| parsed.summary())
}

/// The fields of a certificate that admission and the error messages use.
#[derive(Clone, Debug)]
pub(crate) struct ParsedCert {
    pub(crate) subject: String,
    pub(crate) subject_raw: Vec<u8>,
    pub(crate) issuer: String,
    pub(crate) issuer_raw: Vec<u8>,
    pub(crate) serial: CertSerial,
    /// The serial exactly as encoded (a leading zero byte included), which CRL lookups compare.
    pub(crate) raw_serial: Vec<u8>,
    pub(crate) common_name: Option<String>,
    pub(crate) organization: Option<String>,
    pub(crate) node_id: Option<String>,
    pub(crate) not_before_unix: i64,
    pub(crate) not_after_unix: i64,
    pub(crate) is_ca: bool,
    /// The full SubjectPublicKeyInfo DER, to match a key file against the certificate.
    pub(crate) spki_raw: Vec<u8>,
    /// What the extended key usage extension allows, in words; `None` when it is absent.
    pub(crate) extended_key_usage: Option<String>,
}

impl ParsedCert {
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("not a DER X.509 certificate: {e}"))?;
        if !rest.is_empty() {
            return Err(format!(
                "{} trailing bytes after the certificate",
                rest.len()
            ));
        }
        Ok(Self::from_x509(&cert))
    }

    fn from_x509(cert: &X509Certificate<'_>) -> Self {
        let subject = cert.subject();
        Self {
            subject: subject.to_string(),
            subject_raw: subject.as_raw().to_vec(),
            issuer: cert.issuer().to_string(),
            issuer_raw: cert.issuer().as_raw().to_vec(),
            serial: CertSerial::from_bytes(cert.raw_serial()),
            raw_serial: cert.raw_serial().to_vec(),
            common_name: first_string(subject.iter_common_name()),
            organization: first_string(subject.iter_organization()),
            node_id: node_id_of(subject),
            not_before_unix: cert.validity().not_before.timestamp(),
            not_after_unix: cert.validity().not_after.timestamp(),
            is_ca: cert.is_ca(),
            spki_raw: cert.public_key().raw.to_vec(),
            extended_key_usage: describe_eku(cert),
        }
    }

    pub(crate) fn summary(&self) -> CertSummary {
        CertSummary {
            subject: self.subject.clone(),
            node_name: self.common_name.clone(),
            node_id: self.node_id.clone(),
            serial: self.serial.clone(),
        }
    }

    /// The node identity, or why this certificate is not a node certificate.
    pub(crate) fn node_identity(&self) -> Result<PeerIdentity, String> {
        if self.is_ca {
            return Err("it is a CA certificate, not a node certificate".to_owned());
        }
        let node_name = self
            .common_name
            .clone()
            .ok_or("its subject has no CN (node name)")?;
        let node_id = self
            .node_id
            .clone()
            .ok_or("its subject has no UID (node id)")?;
        Ok(PeerIdentity {
            node_name,
            node_id,
            serial: self.serial.clone(),
            subject: self.subject.clone(),
            not_after: unix_to_system_time(self.not_after_unix),
        })
    }
}

fn first_string<'a, 'b>(
    mut attrs: impl Iterator<Item = &'b x509_parser::x509::AttributeTypeAndValue<'a>>,
) -> Option<String>
where
    'a: 'b,
{
    attrs
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

fn describe_eku(cert: &X509Certificate<'_>) -> Option<String> {
    let eku = match cert.extended_key_usage() {
        Ok(Some(ext)) => ext.value,
        Ok(None) => return None,
        Err(e) => return Some(format!("an unreadable extended key usage ({e})")),
    };
    let mut allowed = Vec::new();
    for (present, name) in [
        (eku.any, "any purpose"),
        (eku.server_auth, "TLS server authentication"),
        (eku.client_auth, "TLS client authentication"),
        (eku.code_signing, "code signing"),
        (eku.email_protection, "email protection"),
        (eku.time_stamping, "time stamping"),
        (eku.ocsp_signing, "OCSP signing"),
    ] {
        if present {
            allowed.push(name.to_owned());
        }
    }
    allowed.extend(eku.other.iter().map(|oid| oid.to_id_string()));
    if allowed.is_empty() {
        return Some("no purpose at all".to_owned());
    }
    Some(allowed.join(", "))
}

fn node_id_of(name: &X509Name<'_>) -> Option<String> {
    first_string(name.iter_by_oid(&OID_USERID))
}

/// Seconds since 1970 as an RFC 3339 UTC time, e.g. `2026-01-01T00:00:00Z`.
pub(crate) fn format_unix(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("unix time {secs}"))
}

pub(crate) fn system_time_to_unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

pub(crate) fn unix_to_system_time(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_parses_every_printed_form() {
        let serial = CertSerial::from_bytes(&[0x00, 0x1f, 0xa0]);
        assert_eq!(serial.to_string(), "0x1fa0");
        for text in ["0x1fa0", "1FA0", "1f:a0", "0x001fa0", "fa0"] {
            let parsed: CertSerial = text.parse().expect(text);
            let expected = if text == "fa0" {
                CertSerial::from_bytes(&[0x0f, 0xa0])
            } else {
                serial.clone()
            };
            assert_eq!(parsed, expected, "{text}");
        }
        assert!("0xzz".parse::<CertSerial>().is_err());
        assert!("".parse::<CertSerial>().is_err());
    }

    #[test]
    fn times_format_as_rfc3339_utc() {
        assert_eq!(format_unix(1_767_225_600), "2026-01-01T00:00:00Z");
        let t = unix_to_system_time(-5);
        assert_eq!(system_time_to_unix(t), -5);
    }
}
