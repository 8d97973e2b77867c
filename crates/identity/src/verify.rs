//! The one verify path: every credential and presentation Banyan verifies (the node's VC-API,
//! `banyan_verifyCredential`, `banyan vc verify`) goes through [`credential()`] or
//! [`presentation()`], reading the ledger through a [`Ledger`] pinned at one block.
//!
//! A credential is checked, in order: its form, its issuer's DID and key, the signature, the VC
//! 2.0 data model, the ledger's record of its hash (and that the record says what the
//! credential says), the issuer's authority for the schema's issuer type, the claims against
//! the schema, the validity period at the block's time, its status, and its Evidence anchor.
//! Every check that can run does, and each failure is a [`Problem`] with its own [`Reason`].

use crate::credential::{
    self, STATUS_ENTRY_TYPE, STATUS_PURPOSES, check_data_model, content_hash, parse_schema_url,
    parse_status_list_url, parse_time,
};
use crate::did::Did;
use crate::jose;
use crate::sd_jwt::{self, SdJwtError};
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolCall;
use banyan_crypto::{PublicKey, Suite};
use banyan_modules::identity::credentials::LIST_BITS;
use banyan_modules::identity::did::suite_key_type;
use banyan_modules::{EVIDENCE_ADDRESS, IDENTITY_ADDRESS, IEvidence, IIdentity};
use serde_json::{Map, Value, json};

/// The ledger as a verifier reads it: the views of the modules at one block.
pub trait Ledger {
    /// The chain's id.
    fn chain_id(&self) -> u64;
    /// The chain's crypto suite.
    fn suite(&self) -> Suite;
    /// The time of the block read (unix seconds): validity is judged at it.
    fn time(&self) -> u64;
    /// Calls view `data` of module `to`: its output, or `Err` with its revert reason inside;
    /// the outer `Err` when the node cannot read its state.
    fn view(&self, to: Address, data: Vec<u8>) -> Result<Result<Vec<u8>, String>, String>;
}

/// Why a credential or presentation is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not a credential Banyan reads: not JSON, not a JWS, too large, a missing member.
    Malformed,
    /// Not a VC 2.0 credential (the W3C's JSON Schema of the data model).
    DataModel,
    /// The issuer's DID is unknown, deactivated, of another chain, or lacks the signing key as
    /// an assertion key.
    IssuerDid,
    /// The signature (or proof) does not verify: the credential was changed, or forged.
    Signature,
    /// The ledger has no record of the credential's hash: never issued, or changed.
    NotRecorded,
    /// The ledger's record says otherwise than the credential (issuer, subject, schema,
    /// validity, status index).
    RecordMismatch,
    /// The schema named is not on the ledger.
    SchemaUnknown,
    /// The issuer is not an authority issuer of the schema's type.
    IssuerNotAuthority,
    /// The issuer was an authority issuer and the committee removed it.
    IssuerRemoved,
    /// The claims fail the credential's schema.
    Schema,
    /// Its validity period has not begun.
    NotYetValid,
    /// Its validity period has ended.
    Expired,
    /// The issuer revoked it.
    Revoked,
    /// The issuer suspended it.
    Suspended,
    /// Its hash is not anchored in the Evidence module.
    Evidence,
    /// The presentation was made for another challenge (replayed from another session).
    Challenge,
    /// The presentation was made for another verifier (domain / audience).
    Domain,
    /// The challenge was already used: the presentation is replayed.
    Replayed,
    /// The presenter is not the credential's subject, or the key binding fails.
    Holder,
    /// The node could not read its state.
    Internal,
}

impl Reason {
    /// The reason's code, as responses and the CLI write it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::DataModel => "data_model",
            Self::IssuerDid => "issuer_did",
            Self::Signature => "signature",
            Self::NotRecorded => "not_recorded",
            Self::RecordMismatch => "record_mismatch",
            Self::SchemaUnknown => "schema_unknown",
            Self::IssuerNotAuthority => "issuer_not_authority",
            Self::IssuerRemoved => "issuer_removed",
            Self::Schema => "schema",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Suspended => "suspended",
            Self::Evidence => "evidence",
            Self::Challenge => "challenge",
            Self::Domain => "domain",
            Self::Replayed => "replayed",
            Self::Holder => "holder",
            Self::Internal => "internal",
        }
    }

    /// The VC Data Model 2.0 problem type it falls under.
    pub fn problem_type(self) -> &'static str {
        match self {
            Self::Malformed => "https://www.w3.org/TR/vc-data-model#PARSING_ERROR",
            Self::Signature | Self::Holder | Self::IssuerDid => {
                "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
            }
            Self::DataModel | Self::Schema | Self::RecordMismatch => {
                "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"
            }
            _ => "https://www.w3.org/TR/vc-data-model#RANGE_ERROR",
        }
    }
}

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Why.
    pub reason: Reason,
    /// What exactly, for a person.
    pub detail: String,
}

impl Problem {
    /// A problem of `reason`, described by `detail`.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    /// As a problem details object (RFC 9457), with Banyan's `reason`.
    pub fn to_json(&self) -> Value {
        json!({
            "type": self.reason.problem_type(),
            "title": self.reason.code(),
            "reason": self.reason.code(),
            "detail": self.detail,
        })
    }
}

/// What verifying a credential found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verification {
    /// The form: `vc+jwt`, `vc+sd-jwt` or `vc` (embedded proof).
    pub media_type: String,
    /// The credential as verified (for an SD-JWT, with the disclosed claims only).
    pub credential: Value,
    /// The hash the ledger records for it.
    pub hash: Option<B256>,
    /// The issuer's DID.
    pub issuer: Option<Did>,
    /// The subject's DID.
    pub subject: Option<Did>,
    /// The checks that passed, by name.
    pub checks: Vec<&'static str>,
    /// The checks that failed.
    pub problems: Vec<Problem>,
}

impl Verification {
    /// Whether every check passed.
    pub fn verified(&self) -> bool {
        self.problems.is_empty() && !self.checks.is_empty()
    }

    /// Whether a problem of `reason` was found.
    pub fn has(&self, reason: Reason) -> bool {
        self.problems.iter().any(|p| p.reason == reason)
    }

    fn fail(&mut self, reason: Reason, detail: impl Into<String>) {
        self.problems.push(Problem::new(reason, detail));
    }

    /// As a VC-API verification response.
    pub fn to_json(&self) -> Value {
        json!({
            "verified": self.verified(),
            "mediaType": self.media_type,
            "hash": self.hash,
            "issuer": self.issuer.map(|d| d.to_string()),
            "subject": self.subject.map(|d| d.to_string()),
            "checks": self.checks,
            "problemDetails": self.problems.iter().map(Problem::to_json).collect::<Vec<_>>(),
            "credential": self.credential,
        })
    }
}

/// What a presentation must be bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The verifier's challenge (the JWT `nonce`).
    pub challenge: String,
    /// The verifier's domain (the JWT `aud`).
    pub domain: String,
}

/// Calls a view of `to` and decodes its answer.
pub(crate) fn view<C: SolCall>(
    ledger: &dyn Ledger,
    to: Address,
    call: C,
) -> Result<Result<C::Return, String>, String> {
    match ledger.view(to, call.abi_encode())? {
        Ok(output) if output.is_empty() => {
            Ok(Err("this chain does not run the module (no answer)".into()))
        }
        Ok(output) => C::abi_decode_returns(&output)
            .map(Ok)
            .map_err(|e| format!("the answer of {to} does not decode: {e}")),
        Err(reason) => Ok(Err(reason)),
    }
}

/// The form of a credential, decoded but not verified.
enum Form {
    Jwt {
        text: String,
        header: Value,
        payload: Value,
    },
    SdJwt {
        text: String,
        header: Value,
        payload: Value,
    },
    Embedded(Value),
}

impl Form {
    fn read(input: &Value) -> Result<Self, String> {
        match input {
            Value::String(text) if text.contains('~') => {
                let jws = text.split('~').next().unwrap_or_default();
                let decoded = jose::decode(jws).map_err(|e| e.to_string())?;
                if decoded.header["typ"] != sd_jwt::SD_JWT_TYP {
                    return Err(format!("an SD-JWT's typ is {}", sd_jwt::SD_JWT_TYP));
                }
                Ok(Self::SdJwt {
                    text: text.clone(),
                    header: decoded.header,
                    payload: decoded.payload,
                })
            }
            Value::String(text) => {
                let text = text
                    .strip_prefix("data:application/vc+jwt,")
                    .unwrap_or(text);
                let decoded = jose::decode(text).map_err(|e| e.to_string())?;
                if decoded.header["typ"] != jose::CREDENTIAL_TYP {
                    return Err(format!(
                        "a JWS credential's typ is {}, not {}",
                        jose::CREDENTIAL_TYP,
                        decoded.header["typ"]
                    ));
                }
                Ok(Self::Jwt {
                    text: text.to_string(),
                    header: decoded.header,
                    payload: decoded.payload,
                })
            }
            Value::Object(map) if map.contains_key("proof") => {
                let size = input.to_string().len();
                if size > credential::MAX_CREDENTIAL_BYTES + 4096 {
                    return Err(format!("{size} bytes, above the bound"));
                }
                Ok(Self::Embedded(input.clone()))
            }
            Value::Object(_) => Err(
                "an unsecured credential: a credential is a vc+jwt, a vc+sd-jwt, or JSON with a \
                 proof"
                    .into(),
            ),
            _ => Err("a credential is a JWS string or a JSON object".into()),
        }
    }

    fn media_type(&self) -> &'static str {
        match self {
            Self::Jwt { .. } => jose::CREDENTIAL_TYP,
            Self::SdJwt { .. } => sd_jwt::SD_JWT_TYP,
            Self::Embedded(_) => credential::DI_MEDIA_TYPE,
        }
    }

    /// What the issuer signed.
    fn signed(&self) -> &Value {
        match self {
            Self::Jwt { payload, .. } | Self::SdJwt { payload, .. } => payload,
            Self::Embedded(document) => document,
        }
    }

    /// The DID URL of the signing key.
    fn key_id(&self) -> Option<&str> {
        match self {
            Self::Jwt { header, .. } | Self::SdJwt { header, .. } => header["kid"].as_str(),
            Self::Embedded(document) => document["proof"]["verificationMethod"].as_str(),
        }
    }
}

/// The hash the ledger records for a secured credential (a `vc+jwt` or `vc+sd-jwt` string, or
/// JSON with an embedded proof), read without verifying it.
pub fn recorded_hash(suite: Suite, input: &Value) -> Result<B256, String> {
    let form = Form::read(input)?;
    content_hash(suite, form.signed()).map_err(|e| e.to_string())
}

/// The DID a credential names as `issuer` (a string or an object with `id`).
fn issuer_of(credential: &Value) -> Option<&str> {
    match &credential["issuer"] {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// Finds verification method `fragment` of `record` with relationship `bit`.
fn method<'r>(
    record: &'r IIdentity::Did,
    fragment: &str,
    bit: u8,
) -> Result<&'r IIdentity::VerificationMethod, String> {
    let m = record
        .methods
        .iter()
        .find(|m| m.fragment == fragment)
        .ok_or_else(|| format!("its DID document has no key #{fragment}"))?;
    if m.relationships & bit == 0 {
        let relationship = if bit == 1 {
            "authentication"
        } else {
            "assertionMethod"
        };
        return Err(format!(
            "key #{fragment} is not listed under {relationship}"
        ));
    }
    Ok(m)
}

/// Reads the active DID record of `did`.
fn active_did(ledger: &dyn Ledger, did: Did) -> Result<Result<IIdentity::Did, String>, String> {
    if did.chain_id != ledger.chain_id() {
        return Ok(Err(format!(
            "{did} is a DID of chain {}, not of this chain {}",
            did.chain_id,
            ledger.chain_id()
        )));
    }
    Ok(
        match view(
            ledger,
            IDENTITY_ADDRESS,
            IIdentity::getDidCall { did: did.account },
        )? {
            Err(reason) => Err(format!("{did} cannot be resolved: {reason}")),
            Ok(record) if record.deactivated => Err(format!("{did} is deactivated")),
            Ok(record) => Ok(record),
        },
    )
}

/// Verifies a credential (a `vc+jwt` or `vc+sd-jwt` string, or JSON with an embedded proof).
/// An SD-JWT presented with a key binding is checked against `binding` when given.
pub fn credential(ledger: &dyn Ledger, input: &Value, binding: Option<&Binding>) -> Verification {
    let mut v = Verification::default();
    if let Err(e) = check(ledger, input, binding, &mut v) {
        v.fail(Reason::Internal, e);
    }
    v
}

fn check(
    ledger: &dyn Ledger,
    input: &Value,
    binding: Option<&Binding>,
    v: &mut Verification,
) -> Result<(), String> {
    let suite = ledger.suite();
    let form = match Form::read(input) {
        Ok(form) => form,
        Err(e) => {
            v.fail(Reason::Malformed, e);
            return Ok(());
        }
    };
    v.media_type = form.media_type().to_string();
    v.credential = form.signed().clone();
    v.checks.push("form");

    // The issuer's DID and key.
    let issuer = match issuer_of(form.signed()).map(str::parse::<Did>) {
        Some(Ok(did)) => did,
        Some(Err(e)) => {
            v.fail(Reason::IssuerDid, format!("the issuer: {e}"));
            return Ok(());
        }
        None => {
            v.fail(Reason::Malformed, "the credential names no issuer");
            return Ok(());
        }
    };
    v.issuer = Some(issuer);
    let key = match (form.key_id(), active_did(ledger, issuer)?) {
        (None, _) => Err("the signature names no key (kid / verificationMethod)".to_string()),
        (_, Err(e)) => Err(e),
        (Some(kid), Ok(record)) => match kid.strip_prefix(&format!("{issuer}#")) {
            None => Err(format!("key {kid} is not a key of the issuer {issuer}")),
            Some(fragment) => method(&record, fragment, 2).cloned(),
        },
    };
    let key = match key {
        Ok(key) => {
            v.checks.push("issuer_did");
            Some(key)
        }
        Err(e) => {
            v.fail(Reason::IssuerDid, e);
            None
        }
    };

    // The signature; for an SD-JWT, also the disclosures and the key binding.
    if let Some(key) = &key {
        match verify_signature(suite, &form, key, binding) {
            Ok(Some(disclosed)) => {
                v.credential = disclosed;
                v.checks.push("signature");
            }
            Ok(None) => v.checks.push("signature"),
            Err(problem) => v.problems.push(problem),
        }
    }
    let shown = v.credential.clone();
    let mut unsecured = shown.clone();
    if let Value::Object(map) = &mut unsecured {
        map.remove("proof");
    }
    match check_data_model(&unsecured) {
        Ok(()) => v.checks.push("data_model"),
        Err(e) => v.fail(Reason::DataModel, e),
    }
    let subject = shown["credentialSubject"]["id"]
        .as_str()
        .and_then(|s| s.parse::<Did>().ok());
    v.subject = subject;

    // The ledger's record of the hash.
    let hash = match content_hash(suite, form.signed()) {
        Ok(hash) => hash,
        Err(e) => {
            v.fail(Reason::Malformed, e.to_string());
            return Ok(());
        }
    };
    v.hash = Some(hash);
    let record = match view(
        ledger,
        IDENTITY_ADDRESS,
        IIdentity::getCredentialCall { hash },
    )? {
        Ok(record) => {
            v.checks.push("recorded");
            Some(record)
        }
        Err(reason) => {
            v.fail(
                Reason::NotRecorded,
                format!("the ledger has no credential {hash}: {reason}"),
            );
            None
        }
    };
    let named_schema = shown["credentialSchema"]["id"]
        .as_str()
        .and_then(parse_schema_url)
        .map(|(_, id)| id);
    if let Some(record) = &record {
        let mismatches = mismatches(record, &shown, issuer, subject, named_schema);
        if mismatches.is_empty() {
            v.checks.push("record");
        } else {
            v.fail(Reason::RecordMismatch, mismatches.join("; "));
        }
    }

    // The issuer's authority for the schema's issuer type, and the claims against the schema.
    let schema_id = record.as_ref().map(|r| r.schemaId).or(named_schema);
    let schema = match schema_id {
        None => {
            v.fail(
                Reason::SchemaUnknown,
                "the credential names no schema (credentialSchema.id)",
            );
            None
        }
        Some(id) => match view(ledger, IDENTITY_ADDRESS, IIdentity::getSchemaCall { id })? {
            Ok(schema) => Some(schema),
            Err(reason) => {
                v.fail(Reason::SchemaUnknown, format!("schema {id}: {reason}"));
                None
            }
        },
    };
    if let Some(schema) = &schema {
        authority(ledger, issuer, &schema.issuerType, v)?;
        claims(&form, &shown, schema, v);
    }

    // Validity at the block's time.
    validity(ledger.time(), &shown, v);

    // Status, as the ledger records it.
    if let Some(record) = &record {
        if record.revoked {
            v.fail(
                Reason::Revoked,
                format!("{issuer} revoked credential {hash}"),
            );
        } else if record.suspended {
            v.fail(
                Reason::Suspended,
                format!("{issuer} suspended credential {hash}"),
            );
        } else {
            v.checks.push("status");
        }
    }

    // The Evidence anchor.
    match view(ledger, EVIDENCE_ADDRESS, IEvidence::getAnchorCall { hash })? {
        Ok(anchor) => {
            v.checks.push("evidence");
            if anchor.revoked && !v.has(Reason::Revoked) {
                v.fail(
                    Reason::Revoked,
                    format!(
                        "its Evidence anchor is revoked: {}",
                        anchor.revocationReason
                    ),
                );
            }
        }
        Err(reason) => v.fail(
            Reason::Evidence,
            format!("hash {hash} is not anchored: {reason}"),
        ),
    }
    Ok(())
}

/// Verifies the signature of `form` with `key`; for an SD-JWT returns the credential with its
/// disclosed claims.
fn verify_signature(
    suite: Suite,
    form: &Form,
    key: &IIdentity::VerificationMethod,
    binding: Option<&Binding>,
) -> Result<Option<Value>, Problem> {
    let suite_key = || {
        if key.keyType != suite_key_type(suite) {
            return Err(Problem::new(
                Reason::IssuerDid,
                format!(
                    "key #{} is not a {} key, which this form needs",
                    key.fragment,
                    suite.name()
                ),
            ));
        }
        PublicKey::from_bytes(suite, &key.publicKey)
            .map_err(|e| Problem::new(Reason::IssuerDid, format!("key #{}: {e}", key.fragment)))
    };
    match form {
        Form::Jwt { text, .. } => {
            let public = suite_key()?;
            jose::verify(suite, &public, text)
                .map(|_| None)
                .map_err(|e| Problem::new(Reason::Signature, e.to_string()))
        }
        Form::SdJwt { text, .. } => {
            let public = suite_key()?;
            let kb = binding.map(|b| sd_jwt::KeyBinding {
                audience: &b.domain,
                nonce: &b.challenge,
            });
            match sd_jwt::verify(suite, &public, text, kb.as_ref()) {
                Ok((disclosed, _)) => Ok(Some(disclosed)),
                Err(e @ SdJwtError::Audience(..)) => {
                    Err(Problem::new(Reason::Domain, e.to_string()))
                }
                Err(e @ SdJwtError::Nonce) => Err(Problem::new(Reason::Challenge, e.to_string())),
                Err(e @ SdJwtError::KeyBinding(_)) => {
                    Err(Problem::new(Reason::Holder, e.to_string()))
                }
                Err(e) => Err(Problem::new(Reason::Signature, e.to_string())),
            }
        }
        Form::Embedded(document) => {
            if key.keyType != IIdentity::KeyType::Ed25519 {
                return Err(Problem::new(
                    Reason::IssuerDid,
                    format!(
                        "key #{} is not an Ed25519 key, which eddsa-jcs-2022 needs",
                        key.fragment
                    ),
                ));
            }
            let public: [u8; 32] = key
                .publicKey
                .as_ref()
                .try_into()
                .map_err(|_| Problem::new(Reason::IssuerDid, "an Ed25519 key is 32 bytes"))?;
            let expected = crate::data_integrity::Expected {
                proof_purpose: "assertionMethod".into(),
                challenge: None,
                domain: None,
            };
            crate::data_integrity::verify(document, &public, &expected)
                .map(|_| None)
                .map_err(|e| Problem::new(Reason::Signature, e.to_string()))
        }
    }
}

/// Where the ledger's record and the credential disagree.
fn mismatches(
    record: &IIdentity::Credential,
    shown: &Value,
    issuer: Did,
    subject: Option<Did>,
    named_schema: Option<B256>,
) -> Vec<String> {
    let mut out = Vec::new();
    if record.issuer != issuer.account {
        out.push(format!("recorded issuer {}", record.issuer));
    }
    if subject.map(|s| s.account) != Some(record.subject) {
        out.push(format!("recorded subject {}", record.subject));
    }
    if named_schema != Some(record.schemaId) {
        out.push(format!("recorded schema {}", record.schemaId));
    }
    let time = |name: &str| shown[name].as_str().and_then(parse_time);
    if time("validFrom").unwrap_or(0) != record.validFrom {
        out.push(format!("recorded validFrom {}", record.validFrom));
    }
    if time("validUntil").unwrap_or(0) != record.validUntil {
        out.push(format!("recorded validUntil {}", record.validUntil));
    }
    let entries: Vec<&Value> = match &shown["credentialStatus"] {
        Value::Array(list) => list.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let list = record.statusIndex / LIST_BITS;
    let bit = (record.statusIndex % LIST_BITS).to_string();
    for (purpose, name) in STATUS_PURPOSES {
        let found = entries.iter().any(|e| {
            e["type"] == STATUS_ENTRY_TYPE
                && e["statusPurpose"] == name
                && e["statusListIndex"] == bit.as_str()
                && e["statusListCredential"]
                    .as_str()
                    .and_then(parse_status_list_url)
                    == Some((issuer, purpose, list))
        });
        if !found {
            out.push(format!(
                "no {name} status entry at the recorded index {}",
                record.statusIndex
            ));
        }
    }
    out
}

/// Whether `issuer` holds `issuer_type`; records the check or its problem.
fn authority(
    ledger: &dyn Ledger,
    issuer: Did,
    issuer_type: &str,
    v: &mut Verification,
) -> Result<(), String> {
    let record = view(
        ledger,
        IDENTITY_ADDRESS,
        IIdentity::getIssuerCall {
            issuer: issuer.account,
        },
    )?;
    match record {
        Ok(r) if r.issuerTypes.iter().any(|t| t == issuer_type) => v.checks.push("authority"),
        Ok(r) if r.admittedAt != 0 && r.issuerTypes.is_empty() => v.fail(
            Reason::IssuerRemoved,
            format!("the committee removed {issuer} as an authority issuer"),
        ),
        Ok(r) if r.admittedAt != 0 => v.fail(
            Reason::IssuerNotAuthority,
            format!(
                "{issuer} is an authority issuer of {:?}, not of {issuer_type:?}",
                r.issuerTypes
            ),
        ),
        _ => v.fail(
            Reason::IssuerNotAuthority,
            format!("{issuer} was never admitted as an authority issuer of {issuer_type:?}"),
        ),
    }
    Ok(())
}

/// The claims against the schema: all of them, or for an SD-JWT each disclosed one alone.
fn claims(form: &Form, shown: &Value, schema: &IIdentity::Schema, v: &mut Verification) {
    let parsed: Result<Value, _> = serde_json::from_slice(&schema.json);
    let compiled = parsed
        .map_err(|e| e.to_string())
        .and_then(|s| crate::schema::Schema::compile(&s).map_err(|e| e.to_string()));
    let mut compiled = match compiled {
        Ok(c) => c,
        Err(e) => {
            v.fail(
                Reason::Schema,
                format!("schema {} does not compile: {e}", schema.id),
            );
            return;
        }
    };
    let mut subject: Map<String, Value> = shown["credentialSubject"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    subject.remove("id");
    let result = match form {
        Form::SdJwt { .. } => {
            subject.remove("cnf");
            subject
                .iter()
                .try_for_each(|(name, value)| compiled.validate_member(name, value))
        }
        _ => compiled.validate(&Value::Object(subject)),
    };
    match result {
        Ok(()) => v.checks.push("schema"),
        Err(e) => v.fail(
            Reason::Schema,
            format!(
                "the claims fail schema {} ({}): {e}",
                schema.name, schema.id
            ),
        ),
    }
}

/// The validity period against the block's time.
fn validity(now: u64, shown: &Value, v: &mut Verification) {
    let read = |name: &str| -> Result<Option<u64>, String> {
        match &shown[name] {
            Value::Null => Ok(None),
            Value::String(s) => parse_time(s)
                .map(Some)
                .ok_or_else(|| format!("{name} {s:?} is not a date-time")),
            other => Err(format!("{name} {other} is not a date-time")),
        }
    };
    match (read("validFrom"), read("validUntil")) {
        (Err(e), _) | (_, Err(e)) => v.fail(Reason::Malformed, e),
        (Ok(Some(from)), _) if now < from => v.fail(
            Reason::NotYetValid,
            format!(
                "valid from {}; the block's time is {}",
                crate::did::timestamp(from),
                crate::did::timestamp(now)
            ),
        ),
        (_, Ok(Some(until))) if now >= until => v.fail(
            Reason::Expired,
            format!(
                "expired at {}; the block's time is {}",
                crate::did::timestamp(until),
                crate::did::timestamp(now)
            ),
        ),
        _ => v.checks.push("validity"),
    }
}

/// What verifying a presentation found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PresentationVerification {
    /// `vp+jwt`, or `vc+sd-jwt` (an SD-JWT with key binding is its own presentation).
    pub media_type: String,
    /// The holder's DID.
    pub holder: Option<Did>,
    /// Problems of the presentation itself (its signature, challenge, domain, holder).
    pub problems: Vec<Problem>,
    /// Each credential's verification.
    pub credentials: Vec<Verification>,
}

impl PresentationVerification {
    /// Whether the presentation and every credential in it verified.
    pub fn verified(&self) -> bool {
        self.problems.is_empty()
            && !self.credentials.is_empty()
            && self.credentials.iter().all(Verification::verified)
    }

    /// Whether the presentation or one of its credentials has a problem of `reason`.
    pub fn has(&self, reason: Reason) -> bool {
        self.problems.iter().any(|p| p.reason == reason)
            || self.credentials.iter().any(|c| c.has(reason))
    }

    /// As a VC-API verification response.
    pub fn to_json(&self) -> Value {
        let mut problems: Vec<Value> = self.problems.iter().map(Problem::to_json).collect();
        for c in &self.credentials {
            problems.extend(c.problems.iter().map(Problem::to_json));
        }
        json!({
            "verified": self.verified(),
            "mediaType": self.media_type,
            "holder": self.holder.map(|d| d.to_string()),
            "problemDetails": problems,
            "credentialResults": self.credentials.iter().map(Verification::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Verifies a presentation (a `vp+jwt`, or an SD-JWT with key binding) bound to `binding`.
pub fn presentation(
    ledger: &dyn Ledger,
    input: &Value,
    binding: &Binding,
) -> PresentationVerification {
    let mut p = PresentationVerification::default();
    if let Err(e) = check_presentation(ledger, input, binding, &mut p) {
        p.problems.push(Problem::new(Reason::Internal, e));
    }
    p
}

fn check_presentation(
    ledger: &dyn Ledger,
    input: &Value,
    binding: &Binding,
    p: &mut PresentationVerification,
) -> Result<(), String> {
    let suite = ledger.suite();
    let Value::String(text) = input else {
        p.media_type = "unknown".into();
        p.problems.push(Problem::new(
            Reason::Malformed,
            "a presentation is a vp+jwt or a key-bound vc+sd-jwt string",
        ));
        return Ok(());
    };
    if text.contains('~') {
        // An SD-JWT with key binding: the binding is checked with the credential; the bound
        // key must be an authentication key of the subject's DID.
        p.media_type = sd_jwt::SD_JWT_TYP.into();
        let v = credential(ledger, input, Some(binding));
        p.holder = v.subject;
        if let Some(subject) = v.subject {
            let jws = text.split('~').next().unwrap_or_default();
            let payload = jose::decode(jws).map(|d| d.payload).unwrap_or_default();
            let bound = payload
                .as_object()
                .ok_or_else(|| "no payload".to_string())
                .and_then(|m| sd_jwt::holder_key(suite, m).map_err(|e| e.to_string()));
            match (bound, active_did(ledger, subject)?) {
                (Ok(key), Ok(record)) => {
                    let listed = record.methods.iter().any(|m| {
                        m.relationships & 1 != 0 && m.publicKey.as_ref() == key.as_bytes()
                    });
                    if !listed {
                        p.problems.push(Problem::new(
                            Reason::Holder,
                            format!(
                                "the credential is bound to a key that is not an authentication \
                                 key of its subject {subject}"
                            ),
                        ));
                    }
                }
                (Err(e), _) | (_, Err(e)) => p.problems.push(Problem::new(Reason::Holder, e)),
            }
        }
        p.credentials.push(v);
        return Ok(());
    }
    p.media_type = PRESENTATION_TYP.into();
    let decoded = match jose::decode(text) {
        Ok(d) if d.header["typ"] == PRESENTATION_TYP => d,
        Ok(d) => {
            p.problems.push(Problem::new(
                Reason::Malformed,
                format!("typ {} is not {PRESENTATION_TYP}", d.header["typ"]),
            ));
            return Ok(());
        }
        Err(e) => {
            p.problems
                .push(Problem::new(Reason::Malformed, e.to_string()));
            return Ok(());
        }
    };
    let payload = &decoded.payload;
    let holder = match payload["holder"].as_str().map(str::parse::<Did>) {
        Some(Ok(did)) => did,
        _ => {
            p.problems.push(Problem::new(
                Reason::Malformed,
                "the presentation names no did:banyan holder",
            ));
            return Ok(());
        }
    };
    p.holder = Some(holder);
    // The holder's signature, by one of its authentication keys.
    let key = match (decoded.header["kid"].as_str(), active_did(ledger, holder)?) {
        (_, Err(e)) => Err(e),
        (None, _) => Err("the presentation names no key (kid)".to_string()),
        (Some(kid), Ok(record)) => match kid.strip_prefix(&format!("{holder}#")) {
            None => Err(format!("key {kid} is not a key of the holder {holder}")),
            Some(fragment) => method(&record, fragment, 1).and_then(|m| {
                PublicKey::from_bytes(suite, &m.publicKey).map_err(|e| e.to_string())
            }),
        },
    };
    match key {
        Ok(key) => {
            if let Err(e) = jose::verify(suite, &key, text) {
                p.problems
                    .push(Problem::new(Reason::Signature, e.to_string()));
            }
        }
        Err(e) => p.problems.push(Problem::new(Reason::Holder, e)),
    }
    if payload["nonce"] != binding.challenge.as_str() {
        p.problems.push(Problem::new(
            Reason::Challenge,
            "the presentation was made for another challenge",
        ));
    }
    if payload["aud"] != binding.domain.as_str() {
        p.problems.push(Problem::new(
            Reason::Domain,
            format!(
                "the presentation was made for {}, not {}",
                payload["aud"], binding.domain
            ),
        ));
    }
    let items: Vec<Value> = match &payload["verifiableCredential"] {
        Value::Array(list) => list.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    if items.is_empty() || items.len() > MAX_PRESENTED {
        p.problems.push(Problem::new(
            Reason::Malformed,
            format!("a presentation carries 1 to {MAX_PRESENTED} credentials"),
        ));
        return Ok(());
    }
    for item in items {
        // An enveloped credential carries the JWS in its id (a data: URL).
        let inner = match (&item["type"], &item["id"]) {
            (t, Value::String(id)) if t == "EnvelopedVerifiableCredential" => json!(id),
            _ => item,
        };
        let v = credential(ledger, &inner, None);
        if v.subject != Some(holder) {
            p.problems.push(Problem::new(
                Reason::Holder,
                format!(
                    "{holder} presents a credential whose subject is {}",
                    v.subject.map_or("unknown".into(), |d| d.to_string())
                ),
            ));
        }
        p.credentials.push(v);
    }
    Ok(())
}

/// The `typ` of a presentation secured as a JWS.
pub const PRESENTATION_TYP: &str = "vp+jwt";
/// Most credentials one presentation carries.
pub const MAX_PRESENTED: usize = 8;

/// A `vp+jwt` presentation of `credentials` (each a `vc+jwt` string or JSON with a proof) by
/// `holder`, signed with its authentication key `key` (DID URL `kid`), bound to `binding`, made
/// at `iat` (unix seconds).
pub fn present(
    suite: Suite,
    holder: Did,
    key: &banyan_crypto::SecretKey,
    kid: &str,
    credentials: &[Value],
    binding: &Binding,
    iat: u64,
) -> Result<String, jose::JoseError> {
    if credentials.is_empty() || credentials.len() > MAX_PRESENTED {
        return Err(jose::JoseError::Malformed(format!(
            "a presentation carries 1 to {MAX_PRESENTED} credentials"
        )));
    }
    let items: Vec<Value> = credentials
        .iter()
        .map(|c| match c {
            Value::String(jws) => json!({
                "@context": [credential::VC_CONTEXT],
                "id": format!("data:application/vc+jwt,{jws}"),
                "type": "EnvelopedVerifiableCredential",
            }),
            other => other.clone(),
        })
        .collect();
    let payload = json!({
        "@context": [credential::VC_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder.to_string(),
        "verifiableCredential": items,
        "nonce": binding.challenge,
        "aud": binding.domain,
        "iat": iat,
    });
    let header = json!({"alg": jose::algorithm(suite), "typ": PRESENTATION_TYP, "kid": kid});
    jose::sign_with_header(suite, key, &header, &payload)
}
