//! Identity end to end on a real network of 4 validators from `banyan init`, on both suites,
//! through the `banyan` command line and the node's VC-API: the committee admits a bank as an
//! authority issuer of type `kyc`; the bank creates its DID, registers a KYC schema and issues
//! KYC credentials to a customer's DID (with the CLI, and through node 0's `POST
//! /credentials/issue` with the bank's key it holds, for the operator's token only); a
//! verifier accepts them; a selectively disclosed
//! presentation reveals only the chosen claim and verifies once (a replay is refused as
//! `replayed`, another verifier's domain as `domain`); a tampered claim is refused as
//! `signature`, an issuer never admitted as `issuer_not_authority`, an expired credential as
//! `expired`, claims failing the schema as `schema`, a revoked credential as `revoked`, and the
//! bank once the committee removes it as `issuer_removed`. No node's data directory holds the
//! customer's claims.

use crate::common::banyan;
use banyan_testkit::TestNet;
use banyan_testkit::checks::wait_height;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);

struct Net {
    net: TestNet,
    tmp: PathBuf,
}

impl Net {
    fn url(&self) -> String {
        self.net.nodes[0].url()
    }

    fn key(&self, who: usize) -> String {
        self.net
            .dir
            .join(format!("accounts/dev{who}.key"))
            .to_str()
            .unwrap()
            .to_string()
    }

    /// `banyan <args> --rpc <node 0> [--key-file dev<who>] --json`: success, its JSON (the last
    /// line of stdout), and all its output.
    fn run(&self, who: Option<usize>, args: &[&str]) -> (bool, Value, String) {
        let url = self.url();
        let key = who.map(|w| self.key(w));
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rpc", &url, "--json"]);
        if let Some(key) = &key {
            all.extend_from_slice(&["--key-file", key]);
        }
        let out = banyan(&all);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let json = stdout
            .trim()
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(Value::Null);
        (out.status.success(), json, format!("{stdout}{stderr}"))
    }

    fn ok(&self, who: Option<usize>, args: &[&str]) -> Value {
        let (ok, json, text) = self.run(who, args);
        assert!(ok, "banyan {args:?}: {text}");
        json
    }

    fn file(&self, name: &str) -> String {
        self.tmp.join(name).to_str().unwrap().to_string()
    }

    fn address(&self, who: usize) -> String {
        let out = banyan(&["account", "show", &self.key(who), "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["address"].as_str().unwrap().to_string()
    }

    /// Proposes with governor 0, votes yes with governors 1 and 2 (3 of 4 pass).
    fn pass(&self, proposal: &[&str]) {
        let mut args = vec!["gov", "propose"];
        args.extend_from_slice(proposal);
        let made = self.ok(Some(0), &args);
        let id = made["proposal"]["id"].as_u64().unwrap().to_string();
        self.ok(Some(1), &["gov", "vote", &id, "yes"]);
        let decided = self.ok(Some(2), &["gov", "vote", &id, "yes"]);
        assert_eq!(decided["proposal"]["status"], "Executed", "{decided}");
    }

    /// `banyan vc verify FILE`: whether it verified and the reasons of its problems.
    fn verify(&self, file: &str) -> (bool, Vec<String>, Value) {
        let (ok, json, text) = self.run(None, &["vc", "verify", file]);
        assert_eq!(ok, json["verified"] == json!(true), "{text}");
        (ok, reasons(&json), json)
    }
}

fn reasons(result: &Value) -> Vec<String> {
    result["problemDetails"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["reason"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn rand_u128() -> u128 {
    use std::hash::{BuildHasher, RandomState};
    u128::from(RandomState::new().hash_one(std::process::id())) << 64
        | u128::from(RandomState::new().hash_one(std::time::SystemTime::now()))
}

/// A compact JWS with one claim of its payload changed and the signature kept.
fn tamper(jws: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let parts: Vec<&str> = jws.trim().split('.').collect();
    let mut payload: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    payload["credentialSubject"]["country"] = json!("US");
    format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    )
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

fn scenario(suite: &str) {
    let mut net = TestNet::init(crate::common::bin(), 4, suite, &[]).unwrap();
    // Node 0 holds the bank's key (account 4) for POST /credentials/issue, behind a token.
    let token = format!("operator-token-{:032x}", rand_u128());
    std::fs::write(net.dir.join("node0/operator.token"), &token).unwrap();
    let mut config = std::fs::read_to_string(net.config_path(0)).unwrap();
    config.push_str(&format!(
        "\n[operator]\ntoken_file = \"operator.token\"\n\n[[identity.issuers]]\nkey_file = {:?}\n",
        net.dir.join("accounts/dev4.key").to_str().unwrap()
    ));
    std::fs::write(net.config_path(0), config).unwrap();
    net.start_nodes(&[0, 1, 2, 3]).unwrap();
    wait_height(&net, &[0, 1, 2, 3], 2, WAIT);
    let tmp = tempfile::tempdir().unwrap();
    let n = Net {
        net,
        tmp: tmp.path().to_path_buf(),
    };
    // Accounts: 0-3 the committee, 4 the bank, 5 its customer, 6 a bank never admitted.
    let (bank, customer, outsider) = (4, 5, 6);
    let mut dids = std::collections::HashMap::new();
    for who in [bank, customer, outsider] {
        let made = n.ok(Some(who), &["did", "create"]);
        let did = made["did"].as_str().unwrap().to_string();
        assert!(did.starts_with("did:banyan:"), "{made}");
        dids.insert(who, did);
    }
    let bank_account = n.address(bank);
    let customer_account = n.address(customer);
    n.pass(&["admit-issuer", &bank_account, "kyc", "Bank A"]);
    let issuers = n.ok(None, &["issuer", "show", &bank_account]);
    assert!(issuers.to_string().contains("kyc"), "{issuers}");

    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "birthYear": {"type": "integer", "minimum": 1900},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"}
        },
        "required": ["name", "country"]
    });
    std::fs::write(n.file("schema.json"), schema.to_string()).unwrap();
    let registered = n.ok(
        Some(bank),
        &[
            "schema",
            "register",
            "kyc-basic",
            "--file",
            &n.file("schema.json"),
            "--issuer-type",
            "kyc",
        ],
    );
    let schema_id = registered["schema"].as_str().unwrap().to_string();

    // The marker: a value only the credential holds.
    let marker = format!("Marker-{}", std::process::id());
    let claims = json!({"name": marker, "birthYear": 1990, "country": "CN"}).to_string();
    let issue = |file: &str, extra: &[&str], who: usize, claims: &str| {
        let mut args = vec![
            "vc",
            "issue",
            "--subject",
            &customer_account,
            "--schema",
            &schema_id,
            "--claims",
            claims,
            "--out",
            file,
        ];
        args.extend_from_slice(extra);
        n.run(Some(who), &args)
    };
    let (jwt, sd) = (n.file("kyc.jwt"), n.file("kyc.sd-jwt"));
    let (ok, issued, text) = issue(&jwt, &[], bank, &claims);
    assert!(ok, "{text}");
    assert_eq!(issued["mediaType"], "vc+jwt", "{issued}");
    let (verified, problems, result) = n.verify(&jwt);
    assert!(verified, "{problems:?} {result}");
    for check in [
        "signature",
        "issuer",
        "schema",
        "validity",
        "status",
        "evidence",
    ] {
        assert!(
            result["checks"].to_string().contains(check),
            "{check}: {result}"
        );
    }
    // The VC-API answers the same.
    let http = http_post(
        &n.url(),
        "/credentials/verify",
        &json!({"verifiableCredential": std::fs::read_to_string(&jwt).unwrap().trim()}),
    );
    assert_eq!(http.0, 200, "{}", http.1);
    assert_eq!(http.1["verified"], true);

    // The node issues with the bank's key it holds, for the operator only.
    let schema_url = format!("{}/schemas/{schema_id}", dids[&bank]);
    let request = |issuer: usize, country: &str| {
        json!({
            "credential": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential", "KycCredential"],
                "issuer": dids[&issuer],
                "credentialSubject": {"id": dids[&customer], "name": marker, "country": country},
                "credentialSchema": {"id": schema_url, "type": "JsonSchema"}
            }
        })
    };
    let (status, refused) = http_issue(&n.url(), None, &request(bank, "CN"));
    assert_eq!(status, 401, "{refused}");
    let (status, refused) = http_issue(
        &n.url(),
        Some("wrong-token-wrong-token-wrong-token"),
        &request(bank, "CN"),
    );
    assert_eq!(status, 401, "{refused}");
    let (status, refused) = http_issue(&n.url(), Some(&token), &request(customer, "CN"));
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("holds no key"),
        "{refused}"
    );
    let (status, refused) = http_issue(&n.url(), Some(&token), &request(bank, "China"));
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("fail schema"),
        "{refused}"
    );
    let (status, node_issued) = http_issue(&n.url(), Some(&token), &request(bank, "CN"));
    assert_eq!(status, 201, "{node_issued}");
    assert_eq!(node_issued["mediaType"], "vc+jwt", "{node_issued}");
    assert_ne!(
        node_issued["statusIndex"], issued["statusIndex"],
        "{node_issued}"
    );
    let by_node = n.file("node-issued.jwt");
    std::fs::write(
        &by_node,
        node_issued["verifiableCredential"].as_str().unwrap(),
    )
    .unwrap();
    let (verified, problems, result) = n.verify(&by_node);
    assert!(verified, "{problems:?} {result}");

    // Selective disclosure: only the country is shown, to one verifier, once.
    let (ok, _, text) = issue(&sd, &["--format", "sd-jwt"], bank, &claims);
    assert!(ok, "{text}");
    let challenge = n.ok(None, &["vc", "challenge"])["challenge"]
        .as_str()
        .unwrap()
        .to_string();
    let presentation = n.file("presentation");
    let domain = "verifier.bank-b.example";
    n.ok(
        Some(customer),
        &[
            "vc",
            "present",
            &sd,
            "--challenge",
            &challenge,
            "--domain",
            domain,
            "--reveal",
            "country",
            "--out",
            &presentation,
        ],
    );
    let shown = std::fs::read_to_string(&presentation).unwrap();
    let verify_presentation = |d: &str| {
        let (ok, json, text) = n.run(
            None,
            &[
                "vc",
                "verify-presentation",
                &presentation,
                "--challenge",
                &challenge,
                "--domain",
                d,
            ],
        );
        assert_eq!(ok, json["verified"] == json!(true), "{text}");
        (ok, reasons(&json), json)
    };
    let (ok, problems, result) = verify_presentation("elsewhere.example");
    assert!(
        !ok && problems.contains(&"domain".to_string()),
        "{problems:?} {result}"
    );
    let (ok, problems, result) = verify_presentation(domain);
    assert!(ok, "{problems:?} {result}");
    let disclosed = result["credentialResults"][0]["credential"]["credentialSubject"].clone();
    assert_eq!(disclosed["country"], "CN", "{result}");
    assert!(
        disclosed.get("name").is_none() && disclosed.get("birthYear").is_none(),
        "{result}"
    );
    assert!(!result.to_string().contains(&marker), "{result}");
    assert!(
        !decoded_contains(&shown, &marker),
        "the presentation reveals the name"
    );
    let (ok, problems, _) = verify_presentation(domain);
    assert!(!ok && problems == ["replayed"], "{problems:?}");
    if suite == "ecdsa" {
        // Generic libraries in another language read them (SM2 has no JOSE library to try).
        interop(&n, &jwt, &presentation, domain, &challenge, &marker);
    }

    // A claim changed after signing.
    let tampered = n.file("tampered.jwt");
    std::fs::write(&tampered, tamper(&std::fs::read_to_string(&jwt).unwrap())).unwrap();
    let (ok, problems, _) = n.verify(&tampered);
    assert!(
        !ok && problems.contains(&"signature".to_string()),
        "{problems:?}"
    );

    // An issuer the committee never admitted: the ledger refuses to record its credential, and
    // one it signs anyway is refused by the verifier.
    let outsider_jwt = n.file("outsider.jwt");
    let (ok, _, text) = issue(&outsider_jwt, &[], outsider, &claims);
    assert!(!ok && text.contains("authority issuer"), "{text}");
    let (ok, _, text) = issue(&outsider_jwt, &["--sign-only"], outsider, &claims);
    assert!(ok, "{text}");
    let (ok, problems, _) = n.verify(&outsider_jwt);
    assert!(
        !ok && problems.contains(&"issuer_not_authority".to_string()),
        "{problems:?}"
    );

    // Claims that fail the schema: `vc issue` refuses them; signed anyway, the verifier too.
    let bad = json!({"name": "x", "country": "China"}).to_string();
    let bad_jwt = n.file("bad.jwt");
    let (ok, _, text) = issue(&bad_jwt, &[], bank, &bad);
    assert!(!ok && text.contains("fail schema"), "{text}");
    let (ok, _, text) = issue(&bad_jwt, &["--sign-only"], bank, &bad);
    assert!(ok, "{text}");
    let (ok, problems, _) = n.verify(&bad_jwt);
    assert!(
        !ok && problems.contains(&"schema".to_string()),
        "{problems:?}"
    );

    // Expired: valid for a few seconds. The ledger records only a credential still valid at its
    // block's time, so the window covers a slow block; then wait until the local clock (the
    // verifier's) is past its end.
    const VALID_FOR: u64 = 8;
    let short = n.file("short.jwt");
    let (ok, _, text) = issue(
        &short,
        &["--valid-for", &VALID_FOR.to_string()],
        bank,
        &claims,
    );
    assert!(ok, "{text}");
    let issued_by = unix_now();
    while unix_now() <= issued_by + VALID_FOR {
        std::thread::sleep(Duration::from_millis(200));
    }
    let head = banyan_testkit::checks::head(&n.net.nodes[0].rpc()).unwrap();
    wait_height(&n.net, &[0], head + 1, WAIT);
    let (ok, problems, _) = n.verify(&short);
    assert!(!ok && problems == ["expired"], "{problems:?}");

    // Revoked by the bank; the status list says so to any verifier.
    let revoked = n.ok(
        Some(bank),
        &["vc", "revoke", &jwt, "--reason", "customer request"],
    );
    assert_eq!(revoked["status"], "success", "{revoked}");
    let (ok, problems, _) = n.verify(&jwt);
    assert!(!ok && problems == ["revoked"], "{problems:?}");
    let issuer_did = issued_did(&n, &jwt);
    let (status, list) = http_get(
        &n.url(),
        &format!("/status-lists/{issuer_did}/revocation/0"),
    );
    assert_eq!(status, 200, "{list}");
    let bits = banyan_identity::status_list::decode(
        list["credentialSubject"]["encodedList"].as_str().unwrap(),
    )
    .unwrap();
    let index: u32 = issued["statusIndex"].as_u64().unwrap().try_into().unwrap();
    assert!(banyan_identity::status_list::bit(&bits, index));

    // The committee removes the bank: what it issued stops verifying.
    n.pass(&["remove-issuer", &bank_account, "kyc"]);
    let (ok, problems, _) = n.verify(&sd);
    assert!(
        !ok && problems.contains(&"issuer_removed".to_string()),
        "{problems:?}"
    );

    // No node holds the customer's claims.
    for k in 0..4 {
        let found = files_containing(&n.net.dir.join(format!("node{k}")), marker.as_bytes());
        assert!(found.is_empty(), "node {k} holds the marker in {found:?}");
    }
    drop(tmp);
}

/// `tests/interop/verify.py`: jwcrypto verifies the vc+jwt and the sd-jwt library the
/// presentation, with the issuer key from the DID document `banyan did resolve` gives.
fn interop(n: &Net, jwt: &str, presentation: &str, domain: &str, nonce: &str, marker: &str) {
    let root = crate::common::repo_root();
    let python = std::env::var_os("BANYAN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/interop/.venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: create it with `python3 -m venv tests/interop/.venv && \
         tests/interop/.venv/bin/pip install -r tests/interop/requirements.txt` \
         (scripts/test does this)",
        python.display()
    );
    let issuer = issued_did(n, jwt);
    let resolution = n.ok(None, &["did", "resolve", &issuer]);
    let resolution_file = n.file("issuer-did.json");
    std::fs::write(&resolution_file, resolution.to_string()).unwrap();
    let out = std::process::Command::new(&python)
        .arg(root.join("tests/interop/verify.py"))
        .args([&resolution_file, jwt, presentation, domain, nonce])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "verify.py: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["credentialSubject"]["name"], marker, "{read}");
    assert_eq!(read["issuer"], issuer.as_str(), "{read}");
    assert_eq!(read["disclosedSubject"]["country"], "CN", "{read}");
    assert!(read["disclosedSubject"].get("name").is_none(), "{read}");
}

/// The credential's issuer DID (from the JWT payload).
fn issued_did(n: &Net, file: &str) -> String {
    let (_, json, _) = n.run(None, &["vc", "verify", file]);
    json["issuer"].as_str().unwrap().to_string()
}

/// Whether any dot- or tilde-separated base64url part of `text` decodes to bytes holding
/// `needle`.
fn decoded_contains(text: &str, needle: &str) -> bool {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    text.contains(needle)
        || text.split(['.', '~']).any(|part| {
            B64.decode(part.trim())
                .is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
        })
}

fn http_post(url: &str, path: &str, body: &Value) -> (u16, Value) {
    http(url, "POST", path, Some(body), "")
}

fn http_get(url: &str, path: &str) -> (u16, Value) {
    http(url, "GET", path, None, "")
}

/// `POST /credentials/issue` with `Authorization: Bearer <token>` when a token is given.
fn http_issue(url: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    http(url, "POST", "/credentials/issue", Some(body), &auth)
}

/// One HTTP/1.1 request over a plain socket (`headers` ends each with CRLF): the status and
/// the JSON body.
fn http(url: &str, method: &str, path: &str, body: Option<&Value>, headers: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         {headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (_, rest) = response.split_once("\r\n\r\n").unwrap();
    // A chunked body: its one chunk's data.
    let json = serde_json::from_str(rest).unwrap_or_else(|_| {
        let start = rest.find('{').unwrap_or(0);
        let end = rest.rfind('}').map_or(rest.len(), |e| e + 1);
        serde_json::from_str(&rest[start..end]).unwrap_or(Value::Null)
    });
    (status, json)
}

#[test]
fn credentials_end_to_end_on_ecdsa() {
    scenario("ecdsa");
}

#[test]
fn credentials_end_to_end_on_sm() {
    scenario("sm");
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}
