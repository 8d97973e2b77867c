//! VC-JOSE-COSE: a credential secured as a compact JWS (`typ` `vc+jwt`, `cty` `vc`), its payload
//! the credential itself and `kid` the DID URL of the issuer's key.
//!
//! - `ES256K` (RFC 8812) on ecdsa chains: ECDSA over secp256k1 of SHA-256(signing input),
//!   signature `r ‖ s` (64 bytes). Signatures made here are low-S; signatures of other signers
//!   are normalised before verifying, since JOSE does not require low-S and common signers
//!   (Python's) produce high-S half the time.
//! - `SM2SM3` on sm chains: SM2 with SM3 and the default user id `1234567812345678` (GB/T
//!   32918.2), signature `r ‖ s`. Banyan's identifier: no JOSE registry has SM2.

use crate::b64url as b64;
use banyan_crypto::{PublicKey, SecretKey, Suite};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The `typ` of a JWS-secured credential.
pub const CREDENTIAL_TYP: &str = "vc+jwt";
/// Longest compact JWS accepted, in bytes (a bound on untrusted input).
pub const MAX_JWS_BYTES: usize = 64 * 1024;

/// Why a JWS cannot be made or does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// Not a compact JWS of the expected shape.
    #[error("malformed JWS: {0}")]
    Malformed(String),
    /// An algorithm other than the chain's.
    #[error("unsupported algorithm {0:?}: this chain signs with {1}")]
    Algorithm(String, &'static str),
    /// The signature does not verify with the key.
    #[error("the signature does not verify with the key {0}")]
    Signature(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

fn unb64(part: &str, what: &str) -> Result<Vec<u8>, JoseError> {
    crate::unb64url(part)
        .map_err(|e| JoseError::Malformed(format!("the {what} is not base64url: {e}")))
}

/// The JOSE algorithm of a suite.
pub fn algorithm(suite: Suite) -> &'static str {
    match suite {
        Suite::Ecdsa => "ES256K",
        Suite::Sm => crate::did::SM2_JOSE_ALG,
    }
}

/// A compact JWS of `payload` (a credential) signed by `key` with the suite's algorithm.
pub fn sign(
    suite: Suite,
    key: &SecretKey,
    kid: &str,
    typ: &str,
    payload: &Value,
) -> Result<String, JoseError> {
    let header = json!({"alg": algorithm(suite), "typ": typ, "cty": "vc", "kid": kid});
    sign_with_header(suite, key, &header, payload)
}

/// A compact JWS of `payload` under `header` (whose `alg` must be the suite's).
pub fn sign_with_header(
    suite: Suite,
    key: &SecretKey,
    header: &Value,
    payload: &Value,
) -> Result<String, JoseError> {
    if header["alg"].as_str() != Some(algorithm(suite)) {
        return Err(JoseError::Algorithm(
            header["alg"].as_str().unwrap_or_default().to_string(),
            algorithm(suite),
        ));
    }
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = match suite {
        Suite::Ecdsa => {
            let prehash = banyan_crypto::B256::from_slice(&Sha256::digest(input.as_bytes()));
            let rsv = banyan_crypto::sign_ecdsa_prehash(key, &prehash)
                .map_err(|e| JoseError::Signing(e.to_string()))?;
            rsv[..64].to_vec()
        }
        Suite::Sm => banyan_crypto::sm2_sign_with_id(
            key,
            banyan_crypto::SM2_DEFAULT_USER_ID,
            input.as_bytes(),
        )
        .map_err(|e| JoseError::Signing(e.to_string()))?
        .as_bytes()
        .to_vec(),
    };
    Ok(format!("{input}.{}", b64(&signature)))
}

/// A verified JWS: its protected header and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The protected header.
    pub header: Value,
    /// The payload (the credential).
    pub payload: Value,
}

/// The protected header and payload of a compact JWS, not yet verified (to find the key by
/// `kid` before verifying).
pub fn decode(jws: &str) -> Result<Verified, JoseError> {
    let (header, payload, _) = split(jws)?;
    Ok(Verified {
        header: parse(&unb64(header, "header")?, "header")?,
        payload: parse(&unb64(payload, "payload")?, "payload")?,
    })
}

fn split(jws: &str) -> Result<(&str, &str, &str), JoseError> {
    if jws.len() > MAX_JWS_BYTES {
        return Err(JoseError::Malformed(format!(
            "{} bytes, above the {MAX_JWS_BYTES}-byte bound",
            jws.len()
        )));
    }
    let mut parts = jws.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty() => {
            Ok((h, p, s))
        }
        _ => Err(JoseError::Malformed(
            "a compact JWS is three non-empty base64url parts joined by '.'".into(),
        )),
    }
}

fn parse(bytes: &[u8], what: &str) -> Result<Value, JoseError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(JoseError::Malformed(format!(
            "the {what} is not a JSON object"
        ))),
        Err(e) => Err(JoseError::Malformed(format!("the {what} is not JSON: {e}"))),
    }
}

/// Verifies a compact JWS with `public_key` (the chain suite's) and returns its header and
/// payload. The header's `alg` must be the suite's.
pub fn verify(suite: Suite, public_key: &PublicKey, jws: &str) -> Result<Verified, JoseError> {
    let decoded = decode(jws)?;
    let (header, payload, signature) = split(jws)?;
    let alg = decoded.header["alg"].as_str().unwrap_or_default();
    if alg != algorithm(suite) {
        return Err(JoseError::Algorithm(alg.to_string(), algorithm(suite)));
    }
    let signature = unb64(signature, "signature")?;
    if signature.len() != 64 {
        return Err(JoseError::Malformed(format!(
            "the signature is {} bytes, not 64 (r ‖ s)",
            signature.len()
        )));
    }
    let input = format!("{header}.{payload}");
    let refused = |e: String| JoseError::Signature(e);
    match suite {
        Suite::Ecdsa => {
            use k256::ecdsa::signature::hazmat::PrehashVerifier;
            let key =
                k256::ecdsa::VerifyingKey::from_sec1_bytes(&public_key.to_sec1_uncompressed())
                    .map_err(|e| refused(e.to_string()))?;
            let parsed = k256::ecdsa::Signature::from_slice(&signature)
                .map_err(|e| refused(e.to_string()))?;
            let low_s = parsed.normalize_s().unwrap_or(parsed);
            key.verify_prehash(&Sha256::digest(input.as_bytes()), &low_s)
                .map_err(|e| refused(e.to_string()))?;
        }
        Suite::Sm => banyan_crypto::sm2_verify_with_id(
            public_key,
            banyan_crypto::SM2_DEFAULT_USER_ID,
            input.as_bytes(),
            &signature,
        )
        .map_err(|e| refused(e.to_string()))?,
    }
    Ok(decoded)
}
