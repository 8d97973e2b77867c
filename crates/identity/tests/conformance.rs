//! DID documents and resolution results against DID Core / DID 1.1, Controlled Identifiers and
//! DID Resolution: every required property, the value constraints the W3C test suites check, and
//! the syntax of every DID and DID URL emitted, for documents of every shape the module holds
//! (both suites, Ed25519 keys, services, several controllers, deactivated, failed resolutions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes};
use banyan_crypto::Suite;
use banyan_identity::did::{self, ChainFacts, Did, ResolutionError};
use banyan_modules::IIdentity;
use base64::Engine as _;
use serde_json::Value;
use std::collections::BTreeSet;

const CHAIN: u64 = 1337;

fn is_idchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// DID Core §3.1: `did:` method-name `:` method-specific-id, idchar or pct-encoded, colons
/// between segments, not ending with `:`.
fn check_did(s: &str) {
    let rest = s
        .strip_prefix("did:")
        .unwrap_or_else(|| panic!("{s}: no did: prefix"));
    let (method, id) = rest
        .split_once(':')
        .unwrap_or_else(|| panic!("{s}: no method id"));
    assert!(
        !method.is_empty()
            && method
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{s}: method name"
    );
    assert!(
        !id.is_empty() && !id.ends_with(':'),
        "{s}: method-specific id"
    );
    let bytes = id.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                assert!(
                    bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit),
                    "{s}: pct-encoding"
                );
                i += 3;
            }
            b':' => i += 1,
            b if is_idchar(b) => i += 1,
            other => panic!("{s}: character {:?} is not an idchar", other as char),
        }
    }
    // And it is a did:banyan DID in its one spelling.
    let parsed: Did = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(parsed.to_string(), s);
}

/// A DID URL with a fragment (RFC 3986 pchar / "/" / "?").
fn check_did_url(s: &str) {
    let (base, fragment) = s
        .split_once('#')
        .unwrap_or_else(|| panic!("{s}: no fragment"));
    check_did(base);
    assert!(!fragment.is_empty(), "{s}: empty fragment");
    assert!(
        fragment
            .bytes()
            .all(|b| is_idchar(b) || b"~!$&'()*+,;=:@/?".contains(&b)),
        "{s}: fragment characters"
    );
}

fn check_uri(s: &str) {
    let (scheme, rest) = s
        .split_once(':')
        .unwrap_or_else(|| panic!("{s}: no scheme"));
    assert!(
        scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)),
        "{s}: scheme"
    );
    assert!(
        !rest.is_empty() && !s.bytes().any(|b| b.is_ascii_whitespace()),
        "{s}"
    );
}

fn b64url(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_else(|e| panic!("{s}: not base64url without padding: {e}"))
}

fn check_timestamp(s: &Value) {
    let s = s.as_str().expect("a timestamp string");
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    assert!(
        b.len() == 20
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19)
            && b[19] == b'Z',
        "{s}: not YYYY-MM-DDTHH:MM:SSZ"
    );
}

/// Every rule of a DID document the module can produce.
fn check_document(doc: &Value, did: &str) {
    let doc = doc.as_object().expect("the document is a map");
    let context = doc["@context"].as_array().expect("@context is a list");
    assert_eq!(context[0], "https://www.w3.org/ns/did/v1.1");
    assert_eq!(doc["id"], did, "id equals the resolved DID");
    check_did(did);
    let known = [
        "@context",
        "id",
        "controller",
        "alsoKnownAs",
        "verificationMethod",
        "authentication",
        "assertionMethod",
        "keyAgreement",
        "capabilityInvocation",
        "capabilityDelegation",
        "service",
    ];
    for key in doc.keys() {
        assert!(known.contains(&key.as_str()), "undefined term {key}");
    }
    for controller in doc["controller"].as_array().expect("controller is a set") {
        check_did(controller.as_str().expect("a controller is a DID string"));
    }
    let mut ids = BTreeSet::new();
    let mut methods = BTreeSet::new();
    for vm in doc
        .get("verificationMethod")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let vm = vm.as_object().expect("a verification method is a map");
        let id = vm["id"].as_str().expect("id");
        check_did_url(id);
        assert!(id.starts_with(did), "{id} belongs to {did}");
        check_did(vm["controller"].as_str().expect("controller"));
        let material: Vec<&String> = vm.keys().filter(|k| k.starts_with("publicKey")).collect();
        assert_eq!(material.len(), 1, "{id}: exactly one key material");
        match vm["type"].as_str().expect("type") {
            "JsonWebKey" => {
                let jwk = vm["publicKeyJwk"].as_object().expect("publicKeyJwk");
                for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
                    assert!(!jwk.contains_key(private), "{id}: private member {private}");
                }
                assert_eq!(jwk["kty"], "EC");
                assert!(["secp256k1", "SM2"].contains(&jwk["crv"].as_str().unwrap()));
                assert!(["ES256K", "SM2SM3"].contains(&jwk["alg"].as_str().unwrap()));
                assert_eq!(b64url(jwk["x"].as_str().unwrap()).len(), 32);
                assert_eq!(b64url(jwk["y"].as_str().unwrap()).len(), 32);
            }
            "Multikey" => {
                let key = vm["publicKeyMultibase"]
                    .as_str()
                    .expect("publicKeyMultibase");
                let raw = bs58_decode(key.strip_prefix('z').expect("base58btc multibase"));
                assert_eq!(&raw[..2], &[0xed, 0x01], "{id}: the ed25519-pub header");
                assert_eq!(raw.len(), 34);
            }
            other => panic!("{id}: unexpected type {other}"),
        }
        assert!(ids.insert(id.to_string()), "{id} is unique");
        methods.insert(id.to_string());
    }
    for relationship in [
        "authentication",
        "assertionMethod",
        "keyAgreement",
        "capabilityInvocation",
        "capabilityDelegation",
    ] {
        if let Some(list) = doc.get(relationship) {
            let list = list.as_array().expect("a relationship is a set");
            assert!(
                !list.is_empty(),
                "{relationship} is left out rather than empty"
            );
            for r in list {
                let r = r.as_str().expect("referenced by DID URL");
                check_did_url(r);
                assert!(methods.contains(r), "{relationship}: {r} names a method");
            }
        }
    }
    for service in doc
        .get("service")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = service["id"].as_str().expect("service id");
        check_did_url(id);
        assert!(ids.insert(id.to_string()), "{id} is unique");
        assert!(!service["type"].as_str().expect("type").is_empty());
        check_uri(service["serviceEndpoint"].as_str().expect("endpoint"));
    }
}

fn bs58_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut out: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let mut carry = ALPHABET
            .iter()
            .position(|a| *a == c)
            .expect("base58 character") as u32;
        for byte in out.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|c| *c == b'1').count();
    let mut result = vec![0u8; zeros];
    result.extend(out);
    result
}

/// Every rule of a resolution result.
fn check_result(result: &Value, did: &str, deactivated: bool) {
    let o = result.as_object().expect("a result is a map");
    assert_eq!(
        o.keys().collect::<BTreeSet<_>>(),
        [
            "didDocument",
            "didDocumentMetadata",
            "didResolutionMetadata"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<BTreeSet<_>>()
        .iter()
        .collect()
    );
    let resolution = o["didResolutionMetadata"].as_object().expect("a map");
    assert!(!resolution.contains_key("error"));
    let meta = o["didDocumentMetadata"].as_object().expect("a map");
    check_timestamp(&meta["created"]);
    if let Some(updated) = meta.get("updated") {
        check_timestamp(updated);
    }
    assert!(meta["versionId"].as_str().unwrap().is_ascii());
    assert_eq!(meta["deactivated"], deactivated);
    for value in meta["method"].as_object().unwrap().values() {
        assert!(value.is_string(), "method metadata values are strings");
    }
    if deactivated {
        assert_eq!(o["didDocument"], Value::Null);
    } else {
        assert_eq!(resolution["contentType"], "application/did");
        check_document(&o["didDocument"], did);
    }
    let round_trip: Value = serde_json::from_str(&result.to_string()).unwrap();
    assert_eq!(&round_trip, result, "a lossless JSON round trip");
}

fn suite_key(suite: Suite, seed: u8) -> (Address, [u8; 64]) {
    let secret = suite.secret_key_from_bytes(&[seed; 32]).unwrap();
    let public = suite.public_key(&secret).unwrap();
    (suite.address(&public), public.to_bytes())
}

fn record(suite: Suite) -> IIdentity::Did {
    let (account, key) = suite_key(suite, 1);
    let (other, _) = suite_key(suite, 2);
    let key_type = match suite {
        Suite::Ecdsa => IIdentity::KeyType::Secp256k1,
        Suite::Sm => IIdentity::KeyType::Sm2,
    };
    IIdentity::Did {
        account,
        controllers: vec![account, other],
        recovery: other,
        methods: vec![
            IIdentity::VerificationMethod {
                fragment: "key-1".into(),
                keyType: key_type,
                publicKey: Bytes::copy_from_slice(&key),
                relationships: 1 | 2 | 8,
            },
            IIdentity::VerificationMethod {
                fragment: "ed-1".into(),
                keyType: IIdentity::KeyType::Ed25519,
                publicKey: vec![0u8; 32].into(),
                relationships: 2 | 4 | 16,
            },
        ],
        services: vec![IIdentity::Service {
            fragment: "vcs".into(),
            serviceType: "CredentialRegistry".into(),
            endpoint: "https://bank.example/vc".into(),
        }],
        createdAt: 1_800_000_000,
        updatedAt: 1_800_000_321,
        createdBlock: 10,
        updatedBlock: 40,
        version: 3,
        deactivated: false,
    }
}

const FACTS: ChainFacts = ChainFacts {
    block_number: 41,
    block_hash: B256::repeat_byte(4),
    genesis_hash: B256::repeat_byte(9),
};

#[test]
fn documents_of_both_suites_follow_did_core_and_cid() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let record = record(suite);
        let id = Did::new(CHAIN, record.account).to_string();
        let result = did::resolved(CHAIN, &record, &FACTS);
        check_result(&result, &id, false);
        let doc = &result["didDocument"];
        let crv = if suite == Suite::Ecdsa {
            "secp256k1"
        } else {
            "SM2"
        };
        assert_eq!(doc["verificationMethod"][0]["publicKeyJwk"]["crv"], crv);
        assert_eq!(doc["keyAgreement"][0], format!("{id}#ed-1"));
        assert_eq!(result["didDocumentMetadata"]["versionId"], "3");
        assert_eq!(
            result["didDocumentMetadata"]["updated"],
            "2027-01-15T08:05:21Z"
        );
    }
}

#[test]
fn a_fresh_did_has_no_updated_time_and_a_deactivated_one_no_document() {
    let mut fresh = record(Suite::Ecdsa);
    fresh.version = 1;
    fresh.services.clear();
    fresh.methods.truncate(1);
    let id = Did::new(CHAIN, fresh.account).to_string();
    let result = did::resolved(CHAIN, &fresh, &FACTS);
    check_result(&result, &id, false);
    assert!(result["didDocumentMetadata"].get("updated").is_none());
    assert!(result["didDocument"].get("service").is_none());
    assert!(result["didDocument"].get("keyAgreement").is_none());
    let mut gone = record(Suite::Ecdsa);
    gone.deactivated = true;
    check_result(&did::resolved(CHAIN, &gone, &FACTS), &id, true);
}

#[test]
fn failed_resolutions_carry_problem_details_and_nothing_else() {
    let errors = [
        ResolutionError::InvalidDid("x".into()),
        ResolutionError::MethodNotSupported("x".into()),
        ResolutionError::NotFound("x".into()),
        ResolutionError::InvalidOptions("x".into()),
        ResolutionError::RepresentationNotSupported("x".into()),
        ResolutionError::Internal("x".into()),
    ];
    for error in errors {
        let result = error.result();
        assert_eq!(result["didDocument"], Value::Null);
        assert_eq!(result["didDocumentMetadata"], serde_json::json!({}));
        let problem = &result["didResolutionMetadata"]["error"];
        check_uri(problem["type"].as_str().unwrap());
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .starts_with("https://www.w3.org/ns/did#")
        );
        assert!(!problem["title"].as_str().unwrap().is_empty());
        assert!(problem["detail"].is_string());
    }
}
