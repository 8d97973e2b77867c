//! `did:banyan:<chain id>:<address>`: parsing, DID documents and resolution results
//! (`docs/identity/did-banyan.md`).

use crate::b64url;
use alloy_primitives::{Address, B256};
use banyan_modules::IIdentity;
use serde_json::{Map, Value, json};
use std::{fmt, str::FromStr};

/// The JSON-LD context of every document: DID 1.1, which also defines `JsonWebKey` and
/// `Multikey`.
pub const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1.1";
/// The media type of a DID document.
pub const DID_MEDIA_TYPE: &str = "application/did";
/// The prefix of every DID of the method.
pub const METHOD_PREFIX: &str = "did:banyan:";
/// Banyan's JOSE algorithm identifier for SM2 signatures over SM3 (no registry has one).
pub const SM2_JOSE_ALG: &str = "SM2SM3";
/// The multicodec header of an Ed25519 public key (`ed25519-pub`, 0xed, as a varint).
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];
/// Where DID Resolution's error types live.
const ERROR_BASE: &str = "https://www.w3.org/ns/did#";

/// A `did:banyan` DID: an account of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Did {
    /// The chain's EVM chain id.
    pub chain_id: u64,
    /// The account.
    pub account: Address,
}

impl Did {
    /// The DID of `account` on chain `chain_id`.
    pub fn new(chain_id: u64, account: Address) -> Self {
        Self { chain_id, account }
    }

    /// The DID URL of fragment `fragment` (a key or a service).
    pub fn url(&self, fragment: &str) -> String {
        format!("{self}#{fragment}")
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Lower-case hex: the one spelling of each DID.
        write!(f, "{METHOD_PREFIX}{}:{:#x}", self.chain_id, self.account)
    }
}

/// Why a DID cannot be resolved, as DID Resolution names it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolutionError {
    /// Not a DID, or not a valid `did:banyan` DID.
    #[error("invalid DID: {0}")]
    InvalidDid(String),
    /// A DID of another method.
    #[error("method not supported: {0}")]
    MethodNotSupported(String),
    /// No such DID here.
    #[error("not found: {0}")]
    NotFound(String),
    /// An option the resolver does not know or a bad value.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// The `accept` option asks for a representation the resolver does not produce.
    #[error("representation not supported: {0}")]
    RepresentationNotSupported(String),
    /// The node could not read what it needed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ResolutionError {
    /// The error's type, a URL (DID Resolution's problem details).
    pub fn type_url(&self) -> String {
        let name = match self {
            Self::InvalidDid(_) => "INVALID_DID",
            Self::MethodNotSupported(_) => "METHOD_NOT_SUPPORTED",
            Self::NotFound(_) => "NOT_FOUND",
            Self::InvalidOptions(_) => "INVALID_OPTIONS",
            Self::RepresentationNotSupported(_) => "REPRESENTATION_NOT_SUPPORTED",
            Self::Internal(_) => "INTERNAL_ERROR",
        };
        format!("{ERROR_BASE}{name}")
    }

    fn title(&self) -> &'static str {
        match self {
            Self::InvalidDid(_) => "Invalid DID",
            Self::MethodNotSupported(_) => "DID method not supported",
            Self::NotFound(_) => "DID not found",
            Self::InvalidOptions(_) => "Invalid resolution options",
            Self::RepresentationNotSupported(_) => "Representation not supported",
            Self::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> &str {
        match self {
            Self::InvalidDid(d)
            | Self::MethodNotSupported(d)
            | Self::NotFound(d)
            | Self::InvalidOptions(d)
            | Self::RepresentationNotSupported(d)
            | Self::Internal(d) => d,
        }
    }

    /// The resolution result of a failed resolution: no document, empty document metadata,
    /// the error as an RFC 9457 problem.
    pub fn result(&self) -> Value {
        json!({
            "didDocument": Value::Null,
            "didResolutionMetadata": {
                "error": {
                    "type": self.type_url(),
                    "title": self.title(),
                    "detail": self.detail(),
                }
            },
            "didDocumentMetadata": {},
        })
    }
}

impl FromStr for Did {
    type Err = ResolutionError;

    /// Parses a DID (not a DID URL): `did:banyan:<decimal chain id>:0x<40 lower-case hex>`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = |why: String| Err(ResolutionError::InvalidDid(why));
        let Some(rest) = input.strip_prefix("did:") else {
            return invalid(format!("{input:?} does not start with \"did:\""));
        };
        let (method, specific) = rest.split_once(':').unwrap_or((rest, ""));
        if method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return invalid(format!(
                "{input:?}: a method name is lower-case letters and digits"
            ));
        }
        if method != "banyan" {
            return Err(ResolutionError::MethodNotSupported(format!(
                "this resolver resolves did:banyan DIDs, not did:{method}"
            )));
        }
        let Some((chain, account)) = specific.split_once(':') else {
            return invalid(format!(
                "{input:?}: expected did:banyan:<chain id>:<address>"
            ));
        };
        let chain_ok = !chain.is_empty()
            && chain.bytes().all(|b| b.is_ascii_digit())
            && (chain == "0" || !chain.starts_with('0'));
        let chain_id = chain
            .parse::<u64>()
            .ok()
            .filter(|_| chain_ok)
            .ok_or_else(|| {
                ResolutionError::InvalidDid(format!(
                    "{input:?}: the chain id {chain:?} must be a decimal number without leading zeros"
                ))
            })?;
        let hex = account.strip_prefix("0x").unwrap_or("");
        if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return invalid(format!(
                "{input:?}: the account must be 0x followed by 40 hex digits"
            ));
        }
        if hex.bytes().any(|b| b.is_ascii_uppercase()) {
            return invalid(format!(
                "{input:?}: the address must be lower-case hex (did:banyan:{chain_id}:0x{})",
                hex.to_ascii_lowercase()
            ));
        }
        let account = Address::from_str(account)
            .map_err(|e| ResolutionError::InvalidDid(format!("{input:?}: {e}")))?;
        Ok(Self { chain_id, account })
    }
}

/// What the resolver reports of the chain beside a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainFacts {
    /// The block the DID was read at.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// The chain's genesis block hash.
    pub genesis_hash: B256,
}

/// A UTC time to the second, as DID Resolution writes it (`2026-12-02T09:00:00Z`).
pub fn timestamp(unix_seconds: u64) -> String {
    let seconds = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "9999-12-31T23:59:59Z".into())
}

/// The JWK of a key of the chain's suite (64 bytes `x ‖ y`); `None` for other lengths.
pub fn public_jwk(key_type: IIdentity::KeyType, key: &[u8]) -> Option<Value> {
    let (crv, alg) = match key_type {
        IIdentity::KeyType::Secp256k1 => ("secp256k1", "ES256K"),
        IIdentity::KeyType::Sm2 => ("SM2", SM2_JOSE_ALG),
        _ => return None,
    };
    if key.len() != 64 {
        return None;
    }
    Some(json!({
        "kty": "EC",
        "crv": crv,
        "alg": alg,
        "x": b64url(&key[..32]),
        "y": b64url(&key[32..]),
    }))
}

/// The `publicKeyMultibase` of an Ed25519 key: `z` + base58btc(`0xed 0x01` ‖ key).
pub fn ed25519_multibase(key: &[u8]) -> String {
    let mut bytes = ED25519_MULTICODEC.to_vec();
    bytes.extend_from_slice(key);
    format!("z{}", bs58::encode(bytes).into_string())
}

/// The relationship names, by bit.
const RELATIONSHIPS: [(u8, &str); 5] = [
    (1, "authentication"),
    (2, "assertionMethod"),
    (4, "keyAgreement"),
    (8, "capabilityInvocation"),
    (16, "capabilityDelegation"),
];

/// The DID document of `record` (not deactivated) on chain `chain_id`.
pub fn document(chain_id: u64, record: &IIdentity::Did) -> Value {
    let did = Did::new(chain_id, record.account);
    let id = did.to_string();
    let mut doc = Map::new();
    doc.insert("@context".into(), json!([DID_CONTEXT]));
    doc.insert("id".into(), json!(id));
    let controllers: Vec<String> = record
        .controllers
        .iter()
        .map(|c| Did::new(chain_id, *c).to_string())
        .collect();
    doc.insert("controller".into(), json!(controllers));
    let methods: Vec<Value> = record
        .methods
        .iter()
        .map(|m| {
            let mut vm = Map::new();
            vm.insert("id".into(), json!(did.url(&m.fragment)));
            match public_jwk(m.keyType, &m.publicKey) {
                Some(jwk) => {
                    vm.insert("type".into(), json!("JsonWebKey"));
                    vm.insert("controller".into(), json!(id));
                    vm.insert("publicKeyJwk".into(), jwk);
                }
                None => {
                    vm.insert("type".into(), json!("Multikey"));
                    vm.insert("controller".into(), json!(id));
                    vm.insert(
                        "publicKeyMultibase".into(),
                        json!(ed25519_multibase(&m.publicKey)),
                    );
                }
            }
            Value::Object(vm)
        })
        .collect();
    if !methods.is_empty() {
        doc.insert("verificationMethod".into(), Value::Array(methods));
    }
    for (bit, name) in RELATIONSHIPS {
        let refs: Vec<String> = record
            .methods
            .iter()
            .filter(|m| m.relationships & bit != 0)
            .map(|m| did.url(&m.fragment))
            .collect();
        if !refs.is_empty() {
            doc.insert(name.into(), json!(refs));
        }
    }
    let services: Vec<Value> = record
        .services
        .iter()
        .map(|s| {
            json!({
                "id": did.url(&s.fragment),
                "type": s.serviceType,
                "serviceEndpoint": s.endpoint,
            })
        })
        .collect();
    if !services.is_empty() {
        doc.insert("service".into(), Value::Array(services));
    }
    Value::Object(doc)
}

/// The resolution result of `record`, read at the block `facts` describes.
pub fn resolved(chain_id: u64, record: &IIdentity::Did, facts: &ChainFacts) -> Value {
    let mut metadata = Map::new();
    metadata.insert("created".into(), json!(timestamp(record.createdAt)));
    if record.version > 1 {
        metadata.insert("updated".into(), json!(timestamp(record.updatedAt)));
    }
    metadata.insert("versionId".into(), json!(record.version.to_string()));
    metadata.insert("deactivated".into(), json!(record.deactivated));
    metadata.insert(
        "method".into(),
        json!({
            "chainId": chain_id.to_string(),
            "blockNumber": facts.block_number.to_string(),
            "blockHash": facts.block_hash,
            "genesisHash": facts.genesis_hash,
            "createdBlock": record.createdBlock.to_string(),
            "updatedBlock": record.updatedBlock.to_string(),
        }),
    );
    if record.deactivated {
        // DID Resolution: a deactivated DID has no document, and no error.
        return json!({
            "didDocument": Value::Null,
            "didResolutionMetadata": {},
            "didDocumentMetadata": Value::Object(metadata),
        });
    }
    json!({
        "didDocument": document(chain_id, record),
        "didResolutionMetadata": { "contentType": DID_MEDIA_TYPE },
        "didDocumentMetadata": Value::Object(metadata),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dids_parse_in_exactly_one_spelling() {
        let did: Did = "did:banyan:1337:0x8ba1f109551bd432803012645ac136ddd64dba72"
            .parse()
            .unwrap();
        assert_eq!(did.chain_id, 1337);
        assert_eq!(
            did.to_string(),
            "did:banyan:1337:0x8ba1f109551bd432803012645ac136ddd64dba72"
        );
        let cases = [
            (
                "did:banyan:1337:0x8BA1f109551bd432803012645ac136ddd64dba72",
                "INVALID_DID",
            ),
            (
                "did:banyan:01337:0x8ba1f109551bd432803012645ac136ddd64dba72",
                "INVALID_DID",
            ),
            (
                "did:banyan:1337:8ba1f109551bd432803012645ac136ddd64dba72",
                "INVALID_DID",
            ),
            ("did:banyan:1337", "INVALID_DID"),
            (
                "did:banyan:1337:0x8ba1f109551bd432803012645ac136ddd64dba7",
                "INVALID_DID",
            ),
            (
                "did:banyan:1337:0x8ba1f109551bd432803012645ac136ddd64dba72#key-1",
                "INVALID_DID",
            ),
            (
                "did:Banyan:1:0x8ba1f109551bd432803012645ac136ddd64dba72",
                "INVALID_DID",
            ),
            (
                "banyan:1:0x8ba1f109551bd432803012645ac136ddd64dba72",
                "INVALID_DID",
            ),
            ("did:web:bank.example", "METHOD_NOT_SUPPORTED"),
        ];
        for (input, expected) in cases {
            let error = input.parse::<Did>().unwrap_err();
            assert!(error.type_url().ends_with(expected), "{input}: {error}");
        }
    }

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_800_000_000), "2027-01-15T08:00:00Z");
    }

    #[test]
    fn ed25519_keys_are_multikeys() {
        // The Ed25519 Multikey prefix is `z6Mk`.
        assert!(ed25519_multibase(&[7u8; 32]).starts_with("z6Mk"));
    }
}
