//! W3C Verifiable Credentials 2.0 as Banyan issues them: built from a [`Draft`], secured one of
//! three ways ([`Securing`]), identified on the ledger by the hash of what the issuer signed
//! ([`content_hash`]).
//!
//! A credential names its issuer and subject by `did:banyan` DIDs, its schema by a DID URL of
//! the schema's publisher (`<did>/schemas/<schema id>`), and carries two
//! `BitstringStatusListEntry` statuses (revocation and suspension) at the index the ledger
//! records, each naming its list by a DID URL of the issuer (`<did>/status/<purpose>/<list>`).
//! Its `id` is a random `urn:uuid`, so the hash on the ledger cannot be matched against guessed
//! claims.

use crate::data_integrity::{self, ProofOptions};
use crate::did::{Did, timestamp};
use crate::jcs::{JcsError, canonicalize};
use crate::{jose, sd_jwt};
use alloy_primitives::{Address, B256};
use banyan_crypto::{PublicKey, SecretKey, Suite};
use banyan_modules::identity::credentials::{LIST_BITS, MAX_LISTS, MAX_STATUS_INDEX};
use rand::RngCore;
use serde_json::{Map, Value, json};

/// The base context of every credential and presentation.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The base context document, shipped (never fetched).
pub const VC_CONTEXT_DOCUMENT: &str = include_str!("../w3c/credentials-v2.jsonld");
/// The data model's JSON Schema for credentials, shipped.
const VC_DATA_MODEL_SCHEMA: &str = include_str!("../w3c/verifiable-credential-schema.json");
/// The type of `credentialSchema`.
pub const SCHEMA_TYPE: &str = "JsonSchema";
/// The type of each `credentialStatus`.
pub const STATUS_ENTRY_TYPE: &str = "BitstringStatusListEntry";
/// The status purposes, as the ledger numbers them (1 revocation, 2 suspension).
pub const STATUS_PURPOSES: [(u8, &str); 2] = [(1, "revocation"), (2, "suspension")];
/// Largest credential accepted, as JSON text (a bound on untrusted input).
pub const MAX_CREDENTIAL_BYTES: usize = 32 * 1024;

/// Why a credential cannot be built or secured.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The draft or credential is not what a credential may be.
    #[error("{0}")]
    Invalid(String),
    /// Canonicalization failed (a non-integer number, say).
    #[error(transparent)]
    Jcs(#[from] JcsError),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// What the issuer puts in a credential.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The issuer (an authority issuer's DID).
    pub issuer: Did,
    /// The subject (the holder's DID).
    pub subject: Did,
    /// Types after `VerifiableCredential` (such as `KycCredential`).
    pub types: Vec<String>,
    /// The claims: members of `credentialSubject` besides `id`.
    pub claims: Map<String, Value>,
    /// The schema's publisher and id, as the ledger has them.
    pub schema: (Address, B256),
    /// Unix seconds from which it is valid.
    pub valid_from: u64,
    /// Unix seconds until which it is valid; 0 for no end.
    pub valid_until: u64,
    /// Its index in the issuer's status lists (the ledger's `nextStatusIndex`).
    pub status_index: u32,
}

/// The DID URL naming a schema: `<publisher DID>/schemas/<id>`.
pub fn schema_url(chain_id: u64, publisher: Address, id: B256) -> String {
    format!("{}/schemas/{id:#x}", Did::new(chain_id, publisher))
}

/// The publisher and id of a schema DID URL.
pub fn parse_schema_url(url: &str) -> Option<(Did, B256)> {
    let (did, id) = url.split_once("/schemas/")?;
    let did: Did = did.parse().ok()?;
    let hex = id.strip_prefix("0x")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then(|| hex.parse().ok())
    .flatten()
    .map(|id| (did, id))
}

/// The DID URL naming one status list of an issuer: `<issuer DID>/status/<purpose>/<list>`.
pub fn status_list_url(issuer: Did, purpose: &str, list: u32) -> String {
    format!("{issuer}/status/{purpose}/{list}")
}

/// The issuer, purpose and list number of a status list DID URL.
pub fn parse_status_list_url(url: &str) -> Option<(Did, u8, u32)> {
    let (did, rest) = url.split_once("/status/")?;
    let did: Did = did.parse().ok()?;
    let (purpose, list) = rest.split_once('/')?;
    let purpose = STATUS_PURPOSES.iter().find(|(_, name)| *name == purpose)?.0;
    let number: u32 = list.parse().ok()?;
    // One spelling per list: decimal without leading zeros.
    (number.to_string() == list && number < MAX_LISTS).then_some((did, purpose, number))
}

/// The credential of `draft`, unsecured.
pub fn build(draft: &Draft) -> Result<Value, CredentialError> {
    let chain = draft.issuer.chain_id;
    if draft.subject.chain_id != chain {
        return Err(CredentialError::Invalid(format!(
            "the subject {} is a DID of another chain than the issuer {}",
            draft.subject, draft.issuer
        )));
    }
    if draft.valid_until != 0 && draft.valid_until <= draft.valid_from {
        return Err(CredentialError::Invalid(format!(
            "validUntil {} is not after validFrom {}",
            timestamp(draft.valid_until),
            timestamp(draft.valid_from)
        )));
    }
    if u64::from(draft.status_index) >= MAX_STATUS_INDEX {
        return Err(CredentialError::Invalid(format!(
            "status index {} is beyond the issuer's lists",
            draft.status_index
        )));
    }
    if let Some(reserved) = draft
        .claims
        .keys()
        .find(|k| *k == "id" || k.starts_with('@'))
    {
        return Err(CredentialError::Invalid(format!(
            "claim {reserved:?} is reserved: the subject's id is its DID"
        )));
    }
    let mut types = vec![json!("VerifiableCredential")];
    for t in &draft.types {
        if t.is_empty() || t == "VerifiableCredential" || t.len() > 64 {
            return Err(CredentialError::Invalid(format!(
                "credential type {t:?}: 1 to 64 characters, other than VerifiableCredential"
            )));
        }
        types.push(json!(t));
    }
    let mut subject = Map::new();
    subject.insert("id".into(), json!(draft.subject.to_string()));
    subject.extend(draft.claims.clone());
    let list = draft.status_index / LIST_BITS;
    let bit = draft.status_index % LIST_BITS;
    let statuses: Vec<Value> = STATUS_PURPOSES
        .iter()
        .map(|(_, purpose)| {
            let list_url = status_list_url(draft.issuer, purpose, list);
            json!({
                "id": format!("{list_url}#{bit}"),
                "type": STATUS_ENTRY_TYPE,
                "statusPurpose": purpose,
                "statusListIndex": bit.to_string(),
                "statusListCredential": list_url,
            })
        })
        .collect();
    let mut credential = Map::new();
    credential.insert("@context".into(), json!([VC_CONTEXT]));
    credential.insert("id".into(), json!(random_urn()));
    credential.insert("type".into(), Value::Array(types));
    credential.insert("issuer".into(), json!(draft.issuer.to_string()));
    credential.insert("validFrom".into(), json!(timestamp(draft.valid_from)));
    if draft.valid_until != 0 {
        credential.insert("validUntil".into(), json!(timestamp(draft.valid_until)));
    }
    credential.insert("credentialSubject".into(), Value::Object(subject));
    credential.insert(
        "credentialSchema".into(),
        json!({
            "id": schema_url(chain, draft.schema.0, draft.schema.1),
            "type": SCHEMA_TYPE,
        }),
    );
    credential.insert("credentialStatus".into(), Value::Array(statuses));
    let credential = Value::Object(credential);
    // Canonicalizable (integers only) and within the bound, or refused now rather than by
    // every verifier later.
    let text = canonicalize(&credential)?;
    if text.len() > MAX_CREDENTIAL_BYTES {
        return Err(CredentialError::Invalid(format!(
            "the credential is {} bytes, above the {MAX_CREDENTIAL_BYTES}-byte bound",
            text.len()
        )));
    }
    check_data_model(&credential).map_err(CredentialError::Invalid)?;
    Ok(credential)
}

/// A random `urn:uuid` (version 4).
fn random_urn() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = alloy_primitives::hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Checks `credential` against the data model: the W3C's JSON Schema for VC 2.0, and the base
/// context first in `@context` (as the data model requires; the schema only requires it
/// somewhere).
#[expect(
    clippy::expect_used,
    reason = "the shipped schema is tested to compile"
)]
pub fn check_data_model(credential: &Value) -> Result<(), String> {
    // The compiled schema is not `Sync` (boon keeps its compiler state in cells), so each
    // thread compiles it once.
    thread_local! {
        static SCHEMA: crate::schema::Schema = {
            let value = serde_json::from_str(VC_DATA_MODEL_SCHEMA).expect("the shipped schema is JSON");
            crate::schema::Schema::compile(&value).expect("the shipped schema compiles")
        };
    }
    SCHEMA
        .with(|schema| schema.validate(credential))
        .map_err(|e| format!("not a VC 2.0 credential: {e}"))?;
    match credential["@context"].get(0).and_then(Value::as_str) {
        Some(VC_CONTEXT) => Ok(()),
        _ => Err(format!("@context must begin with {VC_CONTEXT}")),
    }
}

/// The hash the ledger records for a credential: the suite's hash (Keccak-256 or SM3) of the
/// RFC 8785 canonical form of what the issuer signed (a JWT's payload, or the document without
/// its proof).
pub fn content_hash(suite: Suite, signed: &Value) -> Result<B256, JcsError> {
    let mut content = signed.clone();
    if let Value::Object(map) = &mut content {
        map.remove("proof");
    }
    Ok(suite.hash(canonicalize(&content)?.as_bytes()))
}

/// Unix seconds of a `dateTimeStamp` (`2026-12-02T09:00:00Z`, or with an offset).
pub fn parse_time(text: &str) -> Option<u64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

/// How a credential is secured.
pub enum Securing<'a> {
    /// A compact JWS (`vc+jwt`) by the issuer's suite key, `kid` its DID URL.
    Jwt {
        /// The issuer's key.
        key: &'a SecretKey,
        /// The DID URL of that key.
        kid: String,
    },
    /// An SD-JWT (`vc+sd-jwt`) with the named claims disclosable, bound to the holder's key.
    SdJwt {
        /// The issuer's key.
        key: &'a SecretKey,
        /// The DID URL of that key.
        kid: String,
        /// Claims the holder may disclose one by one.
        disclosable: Vec<String>,
        /// The holder's key (an authentication key of the subject's DID).
        holder: PublicKey,
    },
    /// A Data Integrity proof (`eddsa-jcs-2022`) by the issuer's Ed25519 key.
    DataIntegrity {
        /// The 32-byte Ed25519 seed.
        seed: &'a [u8; 32],
        /// The DID URL of that key.
        verification_method: String,
        /// Unix seconds written as the proof's `created`.
        created: u64,
    },
}

/// A secured credential and the hash the ledger records for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secured {
    /// `vc+jwt`, `vc+sd-jwt` or `vc+di` (a JSON credential with a proof).
    pub media_type: &'static str,
    /// The credential as the holder keeps it: a string (JWT, SD-JWT) or a JSON object.
    pub credential: Value,
    /// The hash to record with `issueCredential`.
    pub hash: B256,
}

/// The media type Banyan writes for a credential secured by an embedded proof.
pub const DI_MEDIA_TYPE: &str = "vc";

/// Secures `credential` (from [`build`]) as `how` says.
pub fn secure(
    suite: Suite,
    credential: &Value,
    how: &Securing<'_>,
) -> Result<Secured, CredentialError> {
    check_data_model(credential).map_err(CredentialError::Invalid)?;
    match how {
        Securing::Jwt { key, kid } => {
            let jws = jose::sign(suite, key, kid, jose::CREDENTIAL_TYP, credential)
                .map_err(|e| CredentialError::Signing(e.to_string()))?;
            Ok(Secured {
                media_type: jose::CREDENTIAL_TYP,
                hash: content_hash(suite, credential)?,
                credential: json!(jws),
            })
        }
        Securing::SdJwt {
            key,
            kid,
            disclosable,
            holder,
        } => {
            let names: Vec<&str> = disclosable.iter().map(String::as_str).collect();
            let sd = sd_jwt::issue(suite, key, kid, credential, &names, holder)
                .map_err(|e| CredentialError::Signing(e.to_string()))?;
            let jws = sd.split('~').next().unwrap_or_default();
            let payload = jose::decode(jws)
                .map_err(|e| CredentialError::Signing(e.to_string()))?
                .payload;
            Ok(Secured {
                media_type: sd_jwt::SD_JWT_TYP,
                hash: content_hash(suite, &payload)?,
                credential: json!(sd),
            })
        }
        Securing::DataIntegrity {
            seed,
            verification_method,
            created,
        } => {
            let options = ProofOptions {
                verification_method: verification_method.clone(),
                proof_purpose: "assertionMethod".into(),
                created: Some(timestamp(*created)),
                challenge: None,
                domain: None,
            };
            let secured = data_integrity::sign(credential, &options, seed)
                .map_err(|e| CredentialError::Signing(e.to_string()))?;
            Ok(Secured {
                media_type: DI_MEDIA_TYPE,
                hash: content_hash(suite, credential)?,
                credential: secured,
            })
        }
    }
}
