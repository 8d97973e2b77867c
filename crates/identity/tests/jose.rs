//! Credentials as compact JWS on both suites: what is signed verifies with the issuer's key and
//! nothing else; a changed payload, another key, another algorithm and malformed input are each
//! refused; a high-S ES256K signature (as other signers make) verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use banyan_crypto::Suite;
use banyan_identity::jose::{self, JoseError};
use base64::Engine as _;
use serde_json::json;

fn credential() -> serde_json::Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:banyan:1337:0x8ba1f109551bd432803012645ac136ddd64dba72",
        "validFrom": "2026-12-02T00:00:00Z",
        "credentialSubject": {"id": "did:banyan:1337:0x0000000000000000000000000000000000000001", "name": "Li Wei"}
    })
}

#[test]
fn a_signed_credential_verifies_with_its_key_only_on_both_suites() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let key = suite.secret_key_from_bytes(&[7; 32]).unwrap();
        let public = suite.public_key(&key).unwrap();
        let other = suite
            .public_key(&suite.secret_key_from_bytes(&[8; 32]).unwrap())
            .unwrap();
        let jws = jose::sign(
            suite,
            &key,
            "did:banyan:1337:0x8ba1#key-1",
            jose::CREDENTIAL_TYP,
            &credential(),
        )
        .unwrap();
        let verified = jose::verify(suite, &public, &jws).unwrap();
        assert_eq!(verified.payload, credential());
        assert_eq!(verified.header["typ"], "vc+jwt");
        assert_eq!(verified.header["cty"], "vc");
        assert_eq!(verified.header["alg"], jose::algorithm(suite));
        assert!(matches!(
            jose::verify(suite, &other, &jws),
            Err(JoseError::Signature(_))
        ));
        // A changed claim, with the signature kept.
        let parts: Vec<&str> = jws.split('.').collect();
        let mut changed = credential();
        changed["credentialSubject"]["name"] = json!("Zhang San");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(changed.to_string()),
            parts[2]
        );
        assert!(matches!(
            jose::verify(suite, &public, &forged),
            Err(JoseError::Signature(_))
        ));
        // The other suite's algorithm is refused before any signature check.
        let other_suite = if suite == Suite::Ecdsa {
            Suite::Sm
        } else {
            Suite::Ecdsa
        };
        let other_key = other_suite.secret_key_from_bytes(&[7; 32]).unwrap();
        let alien = jose::sign(other_suite, &other_key, "k", "vc+jwt", &credential()).unwrap();
        assert!(matches!(
            jose::verify(suite, &public, &alien),
            Err(JoseError::Algorithm(..))
        ));
        for bad in ["", "a.b", "a.b.c.d", "..", "!!.b.c"] {
            assert!(
                matches!(
                    jose::verify(suite, &public, bad),
                    Err(JoseError::Malformed(_))
                ),
                "{bad}"
            );
        }
        assert!(jose::verify(suite, &public, &"a".repeat(jose::MAX_JWS_BYTES + 1)).is_err());
    }
}

#[test]
fn a_high_s_es256k_signature_verifies_after_normalising() {
    let suite = Suite::Ecdsa;
    let key = suite.secret_key_from_bytes(&[7; 32]).unwrap();
    let public = suite.public_key(&key).unwrap();
    let jws = jose::sign(suite, &key, "k", "vc+jwt", &credential()).unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let low = k256::ecdsa::Signature::from_slice(&engine.decode(parts[2]).unwrap()).unwrap();
    let (r, s) = low.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    assert!(high.normalize_s().is_some(), "the signature is high-S");
    let high_jws = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        engine.encode(high.to_bytes())
    );
    jose::verify(suite, &public, &high_jws).unwrap();
}
