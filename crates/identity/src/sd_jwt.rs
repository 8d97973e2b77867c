//! Selective disclosure: a W3C credential secured as an SD-JWT (RFC 9901; VC-JOSE-COSE's
//! `vc+sd-jwt`), any member of `credentialSubject` disclosable, with key binding for
//! presentations.
//!
//! - Issuing: each chosen member of `credentialSubject` becomes a disclosure
//!   `base64url([salt, name, value])`, replaced in the signed payload by the SHA-256 digest of
//!   that string in `credentialSubject._sd` (digests sorted, so their order says nothing);
//!   `_sd_alg` is `sha-256`; `cnf.jwk` is the holder's key. The result is
//!   `<issuer JWS>~<disclosure>~…~`.
//! - Presenting: the holder keeps the disclosures it chooses and appends a key-binding JWT
//!   (`typ` `kb+jwt`, claims `iat`, `aud`, `nonce`, `sd_hash`) signed with its key.
//! - Verifying: the issuer's signature, every disclosure matched to exactly one digest, the
//!   key binding (its signature by `cnf.jwk`, the verifier's `aud` and `nonce`, `sd_hash`), then
//!   the payload with the disclosed members back in place.

use crate::b64url as b64;
use crate::jose::{self, JoseError};
use banyan_crypto::{PublicKey, SecretKey, Suite};
use rand::RngCore;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The `typ` of a W3C credential secured as an SD-JWT.
pub const SD_JWT_TYP: &str = "vc+sd-jwt";
/// The `typ` of a key-binding JWT.
pub const KB_JWT_TYP: &str = "kb+jwt";
/// Most disclosures one SD-JWT carries.
pub const MAX_DISCLOSURES: usize = 64;

/// Why an SD-JWT cannot be made or does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SdJwtError {
    /// A JWS inside it.
    #[error(transparent)]
    Jose(#[from] JoseError),
    /// Not shaped as RFC 9901 says.
    #[error("malformed SD-JWT: {0}")]
    Malformed(String),
    /// The key binding is missing, badly signed, or made for another presentation.
    #[error("key binding: {0}")]
    KeyBinding(String),
    /// The key binding was made for another verifier (`aud`).
    #[error("key binding: made for audience {0}, not {1}")]
    Audience(String, String),
    /// The key binding was made for another nonce (a replay, or another session).
    #[error("key binding: made for another nonce")]
    Nonce,
}

/// The digest of a disclosure (or of a presented SD-JWT, for `sd_hash`): base64url of the
/// SHA-256 of its ASCII text.
pub fn disclosure_digest(text: &str) -> String {
    digest(text)
}

fn digest(text: &str) -> String {
    b64(&Sha256::digest(text.as_bytes()))
}

/// The SD-JWT of `credential`, with the members of `credentialSubject` named in `disclosable`
/// selectively disclosable, signed by the issuer's `key` (the DID URL `kid`), bound to the
/// holder's `holder_key` (the chain suite's).
pub fn issue(
    suite: Suite,
    key: &SecretKey,
    kid: &str,
    credential: &Value,
    disclosable: &[&str],
    holder_key: &PublicKey,
) -> Result<String, SdJwtError> {
    let mut payload = credential
        .as_object()
        .cloned()
        .ok_or_else(|| SdJwtError::Malformed("the credential is not a JSON object".into()))?;
    let Some(Value::Object(subject)) = payload.get_mut("credentialSubject") else {
        return Err(SdJwtError::Malformed(
            "the credential has no credentialSubject object".into(),
        ));
    };
    if disclosable.len() > MAX_DISCLOSURES {
        return Err(SdJwtError::Malformed(format!(
            "at most {MAX_DISCLOSURES} disclosable members"
        )));
    }
    let mut disclosures = Vec::new();
    let mut digests = Vec::new();
    for name in disclosable {
        if matches!(*name, "_sd" | "..." | "id") {
            return Err(SdJwtError::Malformed(format!(
                "{name:?} cannot be selectively disclosable"
            )));
        }
        let value = subject.remove(*name).ok_or_else(|| {
            SdJwtError::Malformed(format!("credentialSubject has no member {name:?}"))
        })?;
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        let disclosure = b64(json!([b64(&salt), name, value]).to_string().as_bytes());
        digests.push(digest(&disclosure));
        disclosures.push(disclosure);
    }
    digests.sort();
    subject.insert("_sd".into(), json!(digests));
    payload.insert("_sd_alg".into(), json!("sha-256"));
    let jwk = crate::did::public_jwk(suite_key_type(suite), holder_key.as_bytes())
        .ok_or_else(|| SdJwtError::Malformed("the holder key is not a suite key".into()))?;
    payload.insert("cnf".into(), json!({ "jwk": jwk }));
    let jws = jose::sign(suite, key, kid, SD_JWT_TYP, &Value::Object(payload))?;
    let mut out = jws;
    for d in &disclosures {
        out.push('~');
        out.push_str(d);
    }
    out.push('~');
    Ok(out)
}

fn suite_key_type(suite: Suite) -> banyan_modules::IIdentity::KeyType {
    banyan_modules::identity::did::suite_key_type(suite)
}

/// The parts of an SD-JWT: the issuer JWS, the disclosures and the key-binding JWT (if any).
fn split(sd_jwt: &str) -> Result<(&str, Vec<&str>, Option<&str>), SdJwtError> {
    if sd_jwt.len() > jose::MAX_JWS_BYTES {
        return Err(SdJwtError::Malformed(format!(
            "{} bytes, above the {}-byte bound",
            sd_jwt.len(),
            jose::MAX_JWS_BYTES
        )));
    }
    let parts: Vec<&str> = sd_jwt.split('~').collect();
    if parts.len() < 2 {
        return Err(SdJwtError::Malformed(
            "an SD-JWT is the issuer JWT, then disclosures, each followed by '~'".into(),
        ));
    }
    let last = parts[parts.len() - 1];
    let disclosures = parts[1..parts.len() - 1].to_vec();
    if disclosures.len() > MAX_DISCLOSURES {
        return Err(SdJwtError::Malformed(format!(
            "{} disclosures, above {MAX_DISCLOSURES}",
            disclosures.len()
        )));
    }
    Ok((parts[0], disclosures, (!last.is_empty()).then_some(last)))
}

/// The holder's presentation: the disclosures of the members named in `reveal`, and a
/// key-binding JWT for `audience` and `nonce` at time `iat`, signed with `holder_key`.
pub fn present(
    suite: Suite,
    sd_jwt: &str,
    reveal: &[&str],
    holder_key: &SecretKey,
    audience: &str,
    nonce: &str,
    iat: u64,
) -> Result<String, SdJwtError> {
    let (jws, disclosures, _) = split(sd_jwt)?;
    let mut out = format!("{jws}~");
    for d in disclosures {
        let (_, name, _) = decode_disclosure(d)?;
        if reveal.contains(&name.as_str()) {
            out.push_str(d);
            out.push('~');
        }
    }
    let header = json!({"alg": jose::algorithm(suite), "typ": KB_JWT_TYP});
    let claims = json!({"iat": iat, "aud": audience, "nonce": nonce, "sd_hash": digest(&out)});
    let kb = jose::sign_with_header(suite, holder_key, &header, &claims)?;
    out.push_str(&kb);
    Ok(out)
}

fn decode_disclosure(d: &str) -> Result<(String, String, Value), SdJwtError> {
    let bytes = crate::unb64url(d)
        .map_err(|e| SdJwtError::Malformed(format!("a disclosure is not base64url: {e}")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(items)) if items.len() == 3 => match (&items[0], &items[1]) {
            (Value::String(salt), Value::String(name)) => {
                Ok((salt.clone(), name.clone(), items[2].clone()))
            }
            _ => Err(SdJwtError::Malformed(
                "a disclosure's salt and name are strings".into(),
            )),
        },
        _ => Err(SdJwtError::Malformed(
            "a disclosure of a member is a JSON array [salt, name, value]".into(),
        )),
    }
}

/// What the verifier expects of the key binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBinding<'a> {
    /// The verifier's own identifier (`aud`).
    pub audience: &'a str,
    /// The nonce the verifier gave the holder.
    pub nonce: &'a str,
}

/// Verifies an SD-JWT with the issuer's `issuer_key`; returns the credential with the disclosed
/// members in place (without `_sd`, `_sd_alg`), and the issuer JWS's header.
///
/// With `binding` (a presentation), a key binding for it is required. Without (the holder
/// checking what it was issued), a key binding is not looked at.
pub fn verify(
    suite: Suite,
    issuer_key: &PublicKey,
    sd_jwt: &str,
    binding: Option<&KeyBinding<'_>>,
) -> Result<(Value, Value), SdJwtError> {
    let (jws, disclosures, kb) = split(sd_jwt)?;
    let verified = jose::verify(suite, issuer_key, jws)?;
    if verified.header["typ"] != SD_JWT_TYP {
        return Err(SdJwtError::Malformed(format!(
            "the issuer JWT's typ is {}, not {SD_JWT_TYP}",
            verified.header["typ"]
        )));
    }
    let mut payload = verified.payload.as_object().cloned().unwrap_or_default();
    if payload.get("_sd_alg").and_then(Value::as_str) != Some("sha-256") {
        return Err(SdJwtError::Malformed("_sd_alg must be sha-256".into()));
    }
    // Key binding: signed by the key in cnf, for this verifier and nonce, over exactly what
    // was presented.
    if let Some(binding) = binding {
        let kb = kb.ok_or_else(|| {
            SdJwtError::KeyBinding("the presentation has no key-binding JWT".into())
        })?;
        let holder = holder_key(suite, &payload)?;
        let bound = jose::verify(suite, &holder, kb)?;
        if bound.header["typ"] != KB_JWT_TYP {
            return Err(SdJwtError::KeyBinding(format!("typ is not {KB_JWT_TYP}")));
        }
        let presented = &sd_jwt[..sd_jwt.len() - kb.len()];
        let claims = &bound.payload;
        if claims["aud"] != binding.audience {
            return Err(SdJwtError::Audience(
                claims["aud"].to_string(),
                binding.audience.to_string(),
            ));
        }
        if claims["nonce"] != binding.nonce {
            return Err(SdJwtError::Nonce);
        }
        if claims["sd_hash"] != digest(presented) {
            return Err(SdJwtError::KeyBinding(
                "sd_hash does not match the presented SD-JWT".into(),
            ));
        }
    }
    // Disclosures: each matches exactly one digest of credentialSubject._sd.
    let Some(Value::Object(subject)) = payload.get_mut("credentialSubject") else {
        return Err(SdJwtError::Malformed("no credentialSubject object".into()));
    };
    let digests: Vec<String> = match subject.remove("_sd") {
        Some(Value::Array(list)) => list
            .into_iter()
            .map(|d| d.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| SdJwtError::Malformed("_sd holds strings".into()))?,
        None => Vec::new(),
        Some(_) => return Err(SdJwtError::Malformed("_sd is an array".into())),
    };
    let mut seen = BTreeMap::new();
    for d in &digests {
        if seen.insert(d.clone(), false).is_some() {
            return Err(SdJwtError::Malformed(format!("digest {d} appears twice")));
        }
    }
    let mut disclosed = Map::new();
    for d in disclosures {
        let hash = digest(d);
        match seen.get_mut(&hash) {
            Some(used) if !*used => *used = true,
            Some(_) => return Err(SdJwtError::Malformed("a disclosure is sent twice".into())),
            None => {
                return Err(SdJwtError::Malformed(
                    "a disclosure matches no digest of the issuer's JWT".into(),
                ));
            }
        }
        let (_, name, value) = decode_disclosure(d)?;
        if matches!(name.as_str(), "_sd" | "...")
            || subject.contains_key(&name)
            || disclosed.contains_key(&name)
        {
            return Err(SdJwtError::Malformed(format!(
                "disclosed member {name:?} clashes with a member already there"
            )));
        }
        disclosed.insert(name, value);
    }
    subject.extend(disclosed);
    payload.remove("_sd_alg");
    Ok((Value::Object(payload), verified.header))
}

/// The holder's key from `cnf.jwk` (the chain suite's `EC` key) of an issuer JWT's payload.
pub fn holder_key(suite: Suite, payload: &Map<String, Value>) -> Result<PublicKey, SdJwtError> {
    let jwk = payload
        .get("cnf")
        .and_then(|c| c.get("jwk"))
        .ok_or_else(|| {
            SdJwtError::KeyBinding("the credential binds no holder key (cnf.jwk)".into())
        })?;
    let coordinate = |name: &str| -> Result<Vec<u8>, SdJwtError> {
        let text = jwk[name]
            .as_str()
            .ok_or_else(|| SdJwtError::KeyBinding(format!("cnf.jwk has no {name}")))?;
        crate::unb64url(text)
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                SdJwtError::KeyBinding(format!("cnf.jwk.{name} is not 32 bytes of base64url"))
            })
    };
    let mut bytes = coordinate("x")?;
    bytes.extend(coordinate("y")?);
    PublicKey::from_bytes(suite, &bytes)
        .map_err(|e| SdJwtError::KeyBinding(format!("cnf.jwk is not a {} key: {e}", suite.name())))
}
