//! `eddsa-jcs-2022` against the test vector of the W3C specification (VC DI EdDSA 1.0,
//! Appendix B.3): the same canonical forms, the same signature, and a proof that verifies; then
//! every kind of tampering refused with its own code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use banyan_identity::data_integrity::{self, Expected, ProofOptions};
use banyan_identity::jcs::canonicalize;
use serde_json::{Value, json};

const SEED: &str = "c96ef9ea10c5e414c471723aff9de72c35fa5b70fae97e8832ecac7d2e2b8ed6";
const PUBLIC: &str = "b00d8d938e7f773d51565aad36a623f5344f7f5d1960f9cf3e8e12620ea2810f";
const METHOD: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
const PROOF_VALUE: &str =
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX";

fn bytes32(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn credential() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"}
    })
}

fn options() -> ProofOptions {
    ProofOptions {
        verification_method: METHOD.into(),
        proof_purpose: "assertionMethod".into(),
        created: Some("2023-02-24T23:36:38Z".into()),
        challenge: None,
        domain: None,
    }
}

fn expected() -> Expected {
    Expected {
        proof_purpose: "assertionMethod".into(),
        ..Default::default()
    }
}

#[test]
fn the_specification_vector_signs_and_verifies_byte_for_byte() {
    assert_eq!(
        canonicalize(&credential()).unwrap(),
        r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},"description":"A minimum viable example of an Alumni Credential.","id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678","name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-01-01T00:00:00Z"}"#
    );
    let secured = data_integrity::sign(&credential(), &options(), &bytes32(SEED)).unwrap();
    assert_eq!(secured["proof"]["proofValue"], PROOF_VALUE);
    assert_eq!(secured["proof"]["@context"], credential()["@context"]);
    let method = data_integrity::verify(&secured, &bytes32(PUBLIC), &expected()).unwrap();
    assert_eq!(method, METHOD);
}

#[test]
fn tampering_is_refused_with_its_own_code() {
    let secured = data_integrity::sign(&credential(), &options(), &bytes32(SEED)).unwrap();
    let public = bytes32(PUBLIC);
    let mut changed = secured.clone();
    changed["credentialSubject"]["alumniOf"] = json!("Another School");
    let error = data_integrity::verify(&changed, &public, &expected()).unwrap_err();
    assert_eq!(error.code(), "PROOF_VERIFICATION_ERROR", "{error}");
    let mut other_key = public;
    other_key[0] ^= 1;
    assert!(data_integrity::verify(&secured, &other_key, &expected()).is_err());
    let purpose = Expected {
        proof_purpose: "authentication".into(),
        ..Default::default()
    };
    assert_eq!(
        data_integrity::verify(&secured, &public, &purpose)
            .unwrap_err()
            .code(),
        "PROOF_VERIFICATION_ERROR"
    );
    // A presentation's proof is bound to the verifier's challenge and domain.
    let bound = ProofOptions {
        proof_purpose: "authentication".into(),
        challenge: Some("nonce-1".into()),
        domain: Some("verifier.example".into()),
        ..options()
    };
    let presented = data_integrity::sign(&credential(), &bound, &bytes32(SEED)).unwrap();
    let mut want = Expected {
        proof_purpose: "authentication".into(),
        challenge: Some("nonce-1".into()),
        domain: Some("verifier.example".into()),
    };
    data_integrity::verify(&presented, &public, &want).unwrap();
    want.challenge = Some("nonce-2".into());
    assert_eq!(
        data_integrity::verify(&presented, &public, &want)
            .unwrap_err()
            .code(),
        "INVALID_CHALLENGE_ERROR"
    );
    want.challenge = Some("nonce-1".into());
    want.domain = Some("elsewhere.example".into());
    assert_eq!(
        data_integrity::verify(&presented, &public, &want)
            .unwrap_err()
            .code(),
        "INVALID_DOMAIN_ERROR"
    );
    let mut no_proof = secured.clone();
    no_proof.as_object_mut().unwrap().remove("proof");
    assert_eq!(
        data_integrity::verify(&no_proof, &public, &expected())
            .unwrap_err()
            .code(),
        "PARSING_ERROR"
    );
    assert!(data_integrity::sign(&secured, &options(), &bytes32(SEED)).is_err());
}
