//! W3C Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (VC Data Integrity 1.0 and
//! VC DI EdDSA 1.0, both Recommendations of 2025): the interoperable proof for verifiers outside
//! the chain, made with an issuer's Ed25519 key (a `Multikey` of its DID document).
//!
//! Signing input: `SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document without proof))`, the
//! proof options carrying the document's `@context`; the signature is Ed25519 (RFC 8032) and the
//! `proofValue` is `z` + base58btc of its 64 bytes.

use crate::jcs::{JcsError, canonicalize};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The proof type.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// What a proof binds besides the document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProofOptions {
    /// The DID URL of the signing key.
    pub verification_method: String,
    /// `assertionMethod` for a credential, `authentication` for a presentation.
    pub proof_purpose: String,
    /// When (`YYYY-MM-DDTHH:MM:SSZ`), if given.
    pub created: Option<String>,
    /// The verifier's challenge, for a presentation.
    pub challenge: Option<String>,
    /// The verifier's domain, for a presentation.
    pub domain: Option<String>,
}

/// Why a proof does not verify, with the Data Integrity error code it maps to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The document or proof is not shaped as the suite requires (`PARSING_ERROR`).
    #[error("the proof cannot be read: {0}")]
    Parsing(String),
    /// The signature does not verify, or the proof does not match what was expected
    /// (`PROOF_VERIFICATION_ERROR`).
    #[error("the proof does not verify: {0}")]
    Verification(String),
    /// The proof was made for another challenge (`INVALID_CHALLENGE_ERROR`).
    #[error("the proof's challenge is not the one expected")]
    Challenge,
    /// The proof was made for another domain (`INVALID_DOMAIN_ERROR`).
    #[error("the proof's domain is not the one expected")]
    Domain,
    /// The document cannot be canonicalized.
    #[error(transparent)]
    Jcs(#[from] JcsError),
}

impl ProofError {
    /// The Data Integrity error code (`https://w3id.org/security#<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parsing(_) => "PARSING_ERROR",
            Self::Verification(_) | Self::Jcs(_) => "PROOF_VERIFICATION_ERROR",
            Self::Challenge => "INVALID_CHALLENGE_ERROR",
            Self::Domain => "INVALID_DOMAIN_ERROR",
        }
    }
}

fn hash_data(proof_config: &Value, document: &Value) -> Result<[u8; 64], JcsError> {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&Sha256::digest(canonicalize(proof_config)?.as_bytes()));
    out[32..].copy_from_slice(&Sha256::digest(canonicalize(document)?.as_bytes()));
    Ok(out)
}

fn proof_config(document: &Map<String, Value>, options: &ProofOptions) -> Value {
    let mut proof = Map::new();
    proof.insert("type".into(), json!(PROOF_TYPE));
    proof.insert("cryptosuite".into(), json!(CRYPTOSUITE));
    if let Some(created) = &options.created {
        proof.insert("created".into(), json!(created));
    }
    proof.insert(
        "verificationMethod".into(),
        json!(options.verification_method),
    );
    proof.insert("proofPurpose".into(), json!(options.proof_purpose));
    if let Some(challenge) = &options.challenge {
        proof.insert("challenge".into(), json!(challenge));
    }
    if let Some(domain) = &options.domain {
        proof.insert("domain".into(), json!(domain));
    }
    if let Some(context) = document.get("@context") {
        proof.insert("@context".into(), context.clone());
    }
    Value::Object(proof)
}

/// `document` (a JSON object without `proof`) with an `eddsa-jcs-2022` proof by the Ed25519
/// key of 32-byte `seed`.
pub fn sign(
    document: &Value,
    options: &ProofOptions,
    seed: &[u8; 32],
) -> Result<Value, ProofError> {
    let Value::Object(map) = document else {
        return Err(ProofError::Parsing(
            "the document is not a JSON object".into(),
        ));
    };
    if map.contains_key("proof") {
        return Err(ProofError::Parsing(
            "the document already has a proof; sign the unsecured document".into(),
        ));
    }
    let mut proof = proof_config(map, options);
    let data = hash_data(&proof, document)?;
    let signature = SigningKey::from_bytes(seed).sign(&data);
    if let Value::Object(p) = &mut proof {
        p.insert(
            "proofValue".into(),
            json!(format!(
                "z{}",
                bs58::encode(signature.to_bytes()).into_string()
            )),
        );
    }
    let mut secured = map.clone();
    secured.insert("proof".into(), proof);
    Ok(Value::Object(secured))
}

/// What a verifier expects of a proof.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// The purpose the proof must have.
    pub proof_purpose: String,
    /// The challenge it must carry, if the verifier gave one.
    pub challenge: Option<String>,
    /// The domain it must carry, if the verifier gave one.
    pub domain: Option<String>,
}

/// Verifies the `eddsa-jcs-2022` proof of `secured` with the 32-byte Ed25519 `public_key` of
/// its verification method; returns that method's DID URL.
pub fn verify(
    secured: &Value,
    public_key: &[u8; 32],
    expected: &Expected,
) -> Result<String, ProofError> {
    let Value::Object(map) = secured else {
        return Err(ProofError::Parsing(
            "the document is not a JSON object".into(),
        ));
    };
    let Some(Value::Object(proof)) = map.get("proof") else {
        return Err(ProofError::Parsing(
            "the document has no proof object".into(),
        ));
    };
    let text = |name: &str| proof.get(name).and_then(Value::as_str);
    if text("type") != Some(PROOF_TYPE) || text("cryptosuite") != Some(CRYPTOSUITE) {
        return Err(ProofError::Parsing(format!(
            "the proof is not a {PROOF_TYPE} of {CRYPTOSUITE}"
        )));
    }
    let method = text("verificationMethod")
        .ok_or_else(|| ProofError::Parsing("the proof has no verificationMethod".into()))?
        .to_string();
    if text("proofPurpose") != Some(expected.proof_purpose.as_str()) {
        return Err(ProofError::Verification(format!(
            "its purpose is {:?}, not {}",
            text("proofPurpose"),
            expected.proof_purpose
        )));
    }
    if let Some(challenge) = &expected.challenge
        && text("challenge") != Some(challenge.as_str())
    {
        return Err(ProofError::Challenge);
    }
    if let Some(domain) = &expected.domain
        && text("domain") != Some(domain.as_str())
    {
        return Err(ProofError::Domain);
    }
    let value = text("proofValue")
        .and_then(|v| v.strip_prefix('z'))
        .ok_or_else(|| ProofError::Parsing("proofValue is not base58btc multibase".into()))?;
    let bytes = bs58::decode(value)
        .into_vec()
        .map_err(|e| ProofError::Parsing(format!("proofValue: {e}")))?;
    let signature = Signature::from_slice(&bytes)
        .map_err(|_| ProofError::Parsing(format!("proofValue is {} bytes, not 64", bytes.len())))?;
    let mut unsecured = map.clone();
    unsecured.remove("proof");
    let mut config = proof.clone();
    config.remove("proofValue");
    // The proof's context, when it has one, must begin the document's.
    if let Some(Value::Array(proof_context)) = config.get("@context") {
        let document_context = unsecured.get("@context").and_then(Value::as_array);
        let starts = document_context.is_some_and(|d| {
            d.len() >= proof_context.len() && d[..proof_context.len()] == proof_context[..]
        });
        if !starts {
            return Err(ProofError::Verification(
                "the proof's @context does not begin the document's".into(),
            ));
        }
    }
    let data = hash_data(&Value::Object(config), &Value::Object(unsecured))?;
    let key = VerifyingKey::from_bytes(public_key)
        .map_err(|e| ProofError::Verification(format!("the key is not an Ed25519 key: {e}")))?;
    key.verify_strict(&data, &signature)
        .map_err(|_| ProofError::Verification("the signature does not match".into()))?;
    Ok(method)
}
