//! Selective disclosure on both suites: digests as RFC 9901 computes them; a presentation that
//! reveals only the chosen members and verifies; and a presentation refused when it is replayed
//! to another verifier, with another nonce, without its key binding, with a disclosure the
//! issuer never made, or a disclosure sent twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use banyan_crypto::Suite;
use banyan_identity::sd_jwt::{self, KeyBinding, SdJwtError};
use serde_json::json;

#[test]
fn digests_follow_rfc_9901() {
    // RFC 9901's examples.
    assert_eq!(
        sd_jwt::disclosure_digest(
            "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
        ),
        "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
    );
    assert_eq!(
        sd_jwt::disclosure_digest("WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"),
        "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"
    );
}

fn credential() -> serde_json::Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "KycCredential"],
        "issuer": "did:banyan:1337:0x8ba1f109551bd432803012645ac136ddd64dba72",
        "validFrom": "2026-12-02T00:00:00Z",
        "credentialSubject": {
            "id": "did:banyan:1337:0x0000000000000000000000000000000000000001",
            "name": "Li Wei",
            "birthDate": "1990-01-01",
            "nationality": "CN"
        }
    })
}

#[test]
fn a_presentation_reveals_only_what_the_holder_chose_and_binds_to_one_verifier() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let issuer = suite.secret_key_from_bytes(&[1; 32]).unwrap();
        let issuer_public = suite.public_key(&issuer).unwrap();
        let holder = suite.secret_key_from_bytes(&[2; 32]).unwrap();
        let holder_public = suite.public_key(&holder).unwrap();
        let issued = sd_jwt::issue(
            suite,
            &issuer,
            "did:banyan:1337:0x8ba1#key-1",
            &credential(),
            &["name", "birthDate", "nationality"],
            &holder_public,
        )
        .unwrap();
        assert!(issued.ends_with('~'));
        // The issuer-signed payload carries digests, not the claims.
        let signed = banyan_identity::jose::decode(issued.split('~').next().unwrap()).unwrap();
        let signed_subject = &signed.payload["credentialSubject"];
        assert!(signed_subject.get("name").is_none() && signed_subject.get("birthDate").is_none());
        assert_eq!(signed_subject["_sd"].as_array().unwrap().len(), 3);
        let binding = KeyBinding {
            audience: "https://verifier.example",
            nonce: "n-1",
        };
        let presented = sd_jwt::present(
            suite,
            &issued,
            &["nationality"],
            &holder,
            binding.audience,
            binding.nonce,
            1_800_000_000,
        )
        .unwrap();
        let (shown, header) =
            sd_jwt::verify(suite, &issuer_public, &presented, Some(&binding)).unwrap();
        assert_eq!(header["typ"], "vc+sd-jwt");
        let subject = &shown["credentialSubject"];
        assert_eq!(subject["nationality"], "CN");
        assert_eq!(subject["id"], credential()["credentialSubject"]["id"]);
        assert!(subject.get("name").is_none() && subject.get("birthDate").is_none());
        assert!(subject.get("_sd").is_none() && shown.get("_sd_alg").is_none());

        // Replayed to another verifier, or with another nonce.
        let elsewhere = KeyBinding {
            audience: "https://other.example",
            nonce: "n-1",
        };
        assert!(matches!(
            sd_jwt::verify(suite, &issuer_public, &presented, Some(&elsewhere)),
            Err(SdJwtError::Audience(..))
        ));
        let later = KeyBinding {
            audience: binding.audience,
            nonce: "n-2",
        };
        assert!(matches!(
            sd_jwt::verify(suite, &issuer_public, &presented, Some(&later)),
            Err(SdJwtError::Nonce)
        ));
        // Without the key binding (the issued form, as a thief would replay it).
        assert!(matches!(
            sd_jwt::verify(suite, &issuer_public, &issued, Some(&binding)),
            Err(SdJwtError::KeyBinding(_))
        ));
        // A disclosure the issuer never made, presented with a fresh binding.
        let forged_disclosure = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(json!(["salt", "nationality", "FR"]).to_string())
        };
        let jws = issued.split('~').next().unwrap();
        let forged = format!("{jws}~{forged_disclosure}~");
        let forged = sd_jwt::present(
            suite,
            &forged,
            &["nationality"],
            &holder,
            binding.audience,
            binding.nonce,
            1,
        )
        .unwrap();
        assert!(matches!(
            sd_jwt::verify(suite, &issuer_public, &forged, Some(&binding)),
            Err(SdJwtError::Malformed(_))
        ));
        // The same disclosure twice.
        let one = issued.split('~').nth(1).unwrap();
        let twice = format!("{jws}~{one}~{one}~");
        let twice = sd_jwt::present(
            suite,
            &twice,
            &["name", "birthDate", "nationality"],
            &holder,
            binding.audience,
            binding.nonce,
            1,
        )
        .unwrap();
        assert!(matches!(
            sd_jwt::verify(suite, &issuer_public, &twice, Some(&binding)),
            Err(SdJwtError::Malformed(_))
        ));
        // Another issuer's key.
        let other = suite
            .public_key(&suite.secret_key_from_bytes(&[3; 32]).unwrap())
            .unwrap();
        assert!(sd_jwt::verify(suite, &other, &presented, Some(&binding)).is_err());
    }
}
