//! Issuance: a VC-API request read into what the issuer asks for, and a credential built from
//! the ledger's records with the `issueCredential` call that records its hash, on both suites.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolCall;
use banyan_crypto::{SecretKey, Suite};
use banyan_identity::issue::{self, Format, Keys, Records, Request};
use banyan_identity::{Did, credential, jose};
use banyan_modules::IIdentity;
use serde_json::{Map, Value, json};

const CHAIN: u64 = 20261;

fn key_pair(suite: Suite, seed: u8) -> (SecretKey, Address, [u8; 64]) {
    let secret = suite.secret_key_from_bytes(&[seed; 32]).unwrap();
    let public = suite.public_key(&secret).unwrap();
    (secret, suite.address(&public), public.to_bytes())
}

fn did_record(suite: Suite, account: Address, public: [u8; 64]) -> IIdentity::Did {
    IIdentity::Did {
        account,
        controllers: vec![account],
        recovery: Address::ZERO,
        methods: vec![IIdentity::VerificationMethod {
            fragment: "key-1".into(),
            keyType: banyan_modules::identity::did::suite_key_type(suite),
            publicKey: Bytes::copy_from_slice(&public),
            relationships: 1 | 2,
        }],
        services: vec![],
        createdAt: 1,
        updatedAt: 1,
        createdBlock: 1,
        updatedBlock: 1,
        version: 1,
        deactivated: false,
    }
}

fn schema_id() -> B256 {
    B256::repeat_byte(7)
}

fn records(suite: Suite) -> (SecretKey, Records) {
    let (issuer_key, issuer, issuer_public) = key_pair(suite, 1);
    let (_, subject, subject_public) = key_pair(suite, 2);
    let schema = json!({
        "type": "object",
        "properties": {"country": {"type": "string", "pattern": "^[A-Z]{2}$"}},
        "required": ["country"]
    });
    (
        issuer_key,
        Records {
            chain_id: CHAIN,
            suite,
            schema: IIdentity::Schema {
                id: schema_id(),
                publisher: issuer,
                name: "kyc-basic".into(),
                version: 1,
                issuerType: "kyc".into(),
                json: schema.to_string().into_bytes().into(),
                publishedAt: 1,
            },
            issuer: did_record(suite, issuer, issuer_public),
            subject: did_record(suite, subject, subject_public),
            status_index: 41,
        },
    )
}

fn request(records: &Records, claims: Value, format: Format) -> Request {
    let Value::Object(claims) = claims else {
        panic!("claims are an object")
    };
    Request {
        subject: records.subject.account,
        schema: schema_id(),
        types: vec!["KycCredential".into()],
        claims,
        valid_from: 1_800_000_000,
        valid_until: 0,
        format,
        disclosable: vec![],
        fragment: None,
        check_claims: true,
    }
}

#[test]
fn an_issued_credential_is_recorded_by_its_hash_with_the_ledgers_status_index() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let (key, records) = records(suite);
        let req = request(&records, json!({"country": "CN"}), Format::Jwt);
        let issued = issue::issue(
            &records,
            req,
            Keys {
                account: &key,
                ed25519: None,
            },
            0,
        )
        .unwrap();
        assert_eq!(issued.secured.media_type, jose::CREDENTIAL_TYP);
        assert_eq!(issued.status_index, 41);
        let call = IIdentity::issueCredentialCall::abi_decode(&issued.record).unwrap();
        assert_eq!(call.hash, issued.secured.hash);
        assert_eq!(call.subject, records.subject.account);
        assert_eq!(call.schemaId, schema_id());
        assert_eq!(call.statusIndex, 41);
        assert_eq!(call.validFrom, 1_800_000_000);
        let public =
            banyan_crypto::PublicKey::from_bytes(suite, &records.issuer.methods[0].publicKey)
                .unwrap();
        let payload = jose::verify(suite, &public, issued.secured.credential.as_str().unwrap())
            .expect("a compact JWS by the issuer's key")
            .payload;
        assert_eq!(
            payload["issuer"],
            json!(Did::new(CHAIN, records.issuer.account).to_string())
        );
        assert_eq!(payload["credentialSubject"]["country"], json!("CN"));
    }
}

#[test]
fn issuance_refuses_failing_claims_another_key_and_a_deactivated_subject() {
    let suite = Suite::Ecdsa;
    let (key, records) = records(suite);
    let keys = Keys {
        account: &key,
        ed25519: None,
    };
    let failing = issue::issue(
        &records,
        request(&records, json!({"country": "China"}), Format::Jwt),
        keys,
        0,
    )
    .unwrap_err();
    assert!(
        failing.contains("the claims fail schema kyc-basic"),
        "{failing}"
    );

    let (other, _, _) = key_pair(suite, 9);
    let wrong = issue::issue(
        &records,
        request(&records, json!({"country": "CN"}), Format::Jwt),
        Keys {
            account: &other,
            ed25519: None,
        },
        0,
    )
    .unwrap_err();
    assert!(wrong.contains("not the issuer"), "{wrong}");

    let mut gone = records.clone();
    gone.subject.deactivated = true;
    let deactivated = issue::issue(
        &gone,
        request(&gone, json!({"country": "CN"}), Format::Jwt),
        keys,
        0,
    )
    .unwrap_err();
    assert!(deactivated.contains("deactivated"), "{deactivated}");

    let no_ed25519 = issue::issue(
        &records,
        request(&records, json!({"country": "CN"}), Format::DataIntegrity),
        keys,
        0,
    )
    .unwrap_err();
    assert!(no_ed25519.contains("Ed25519"), "{no_ed25519}");
}

fn vc_api_credential(records: &Records) -> Value {
    json!({
        "@context": [credential::VC_CONTEXT],
        "type": ["VerifiableCredential", "KycCredential"],
        "issuer": Did::new(CHAIN, records.issuer.account).to_string(),
        "credentialSubject": {
            "id": Did::new(CHAIN, records.subject.account).to_string(),
            "country": "CN"
        },
        "credentialSchema": {
            "id": credential::schema_url(CHAIN, records.issuer.account, schema_id()),
            "type": "JsonSchema"
        },
        "validFrom": "2027-01-15T08:00:00Z"
    })
}

#[test]
fn a_vc_api_request_names_the_issuer_subject_schema_and_claims() {
    let (_, records) = records(Suite::Ecdsa);
    let (issuer, req) =
        issue::from_vc_api(CHAIN, &vc_api_credential(&records), &Map::new(), 5).unwrap();
    assert_eq!(issuer, records.issuer.account);
    assert_eq!(req.subject, records.subject.account);
    assert_eq!(req.schema, schema_id());
    assert_eq!(req.types, vec!["KycCredential".to_string()]);
    assert_eq!(Value::Object(req.claims), json!({"country": "CN"}));
    assert_eq!(req.valid_from, 1_800_000_000);
    assert_eq!(req.valid_until, 0);
    assert_eq!(req.format, Format::Jwt);
    assert!(req.check_claims);

    let mut options = Map::new();
    options.insert("format".into(), json!("vc+sd-jwt"));
    options.insert("disclosable".into(), json!(["country"]));
    let (_, sd) = issue::from_vc_api(CHAIN, &vc_api_credential(&records), &options, 5).unwrap();
    assert_eq!(sd.format, Format::SdJwt);
    assert_eq!(sd.disclosable, vec!["country".to_string()]);

    // Without validFrom, it is valid from now.
    let mut open = vc_api_credential(&records);
    open.as_object_mut().unwrap().remove("validFrom");
    assert_eq!(
        issue::from_vc_api(CHAIN, &open, &Map::new(), 5)
            .unwrap()
            .1
            .valid_from,
        5
    );
}

#[test]
fn a_vc_api_request_the_node_cannot_honour_is_refused_with_what_is_wrong() {
    let (_, records) = records(Suite::Ecdsa);
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|c| c["credentialStatus"] = json!({"type": "BitstringStatusListEntry"})),
            "credentialStatus",
        ),
        (
            Box::new(|c| {
                c["issuer"] = json!("did:banyan:1:0x0000000000000000000000000000000000000001")
            }),
            "not of this chain",
        ),
        (
            Box::new(|c| {
                c["credentialSubject"].as_object_mut().unwrap().remove("id");
            }),
            "lacks id",
        ),
        (
            Box::new(|c| c["credentialSchema"] = json!({"id": "https://schemas.example/kyc"})),
            "schemas/<id>",
        ),
        (
            Box::new(|c| c["validFrom"] = json!("yesterday")),
            "dateTime",
        ),
        (
            Box::new(|c| c["@context"] = json!(["https://www.w3.org/2018/credentials/v1"])),
            "@context",
        ),
    ];
    for (change, expected) in cases {
        let mut c = vc_api_credential(&records);
        change(&mut c);
        let err = issue::from_vc_api(CHAIN, &c, &Map::new(), 5).unwrap_err();
        assert!(err.contains(expected), "{expected}: {err}");
    }
    let mut options = Map::new();
    options.insert("format".into(), json!("ldp_vc"));
    let err = issue::from_vc_api(CHAIN, &vc_api_credential(&records), &options, 5).unwrap_err();
    assert!(err.contains("vc+jwt"), "{err}");
    let mut options = Map::new();
    options.insert("proofPurpose".into(), json!("assertionMethod"));
    let err = issue::from_vc_api(CHAIN, &vc_api_credential(&records), &options, 5).unwrap_err();
    assert!(err.contains("unknown"), "{err}");
}
