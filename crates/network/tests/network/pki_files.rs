//! The chain's PKI on disk: CA and node files, and CRLs that nodes load.

use crate::common::*;
use banyan_network::{ChainCa, Crl, NetError, NodeIdentity, TlsConfig, Validity};

#[tokio::test]
async fn ca_and_node_certificates_round_trip_through_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_dir = dir.path().join("ca");
    let original = chain_ca();
    original.to_pem_files(&ca_dir).expect("write CA");

    let loaded = ChainCa::load(&ca_dir).expect("load CA");
    assert_eq!(loaded.cert_pem(), original.cert_pem());
    assert_eq!(loaded.subject(), OUR_CA);
    assert_eq!(loaded.chain_name(), CHAIN);

    // The reloaded CA issues certificates the original ca.crt accepts.
    let node1_dir = dir.path().join("node1");
    let node2_dir = dir.path().join("node2");
    node(&loaded, "node1.bank-a", "0xaaaa")
        .save(&node1_dir)
        .expect("save node1");
    node(&loaded, "node2.bank-b", "0xbbbb")
        .save(&node2_dir)
        .expect("save node2");
    let node1 = NodeIdentity::load(&node1_dir).expect("load node1");
    assert_eq!(node1.identity().expect("identity").node_id(), "0xaaaa");

    let ca_crt = ca_dir.join("ca.crt");
    let server = TlsConfig::load(&ca_crt, None, &node1_dir).expect("node1 config");
    let client = TlsConfig::load(&ca_crt, None, &node2_dir).expect("node2 config");
    assert_eq!(client.local_identity().node_name(), "node2.bank-b");
    let mut listener = listener(server).await;
    let (dialed, accepted) = dial(&mut listener, &client, Some("0xaaaa")).await;
    assert_eq!(dialed.expect("dial").peer().node_id(), "0xaaaa");
    assert_eq!(accepted.expect("accept").peer().node_id(), "0xbbbb");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in [ca_dir.join("ca.key"), node1_dir.join("node.key")] {
            let mode = std::fs::metadata(&key)
                .expect("key file")
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
    }

    // Keys are never overwritten.
    let again = original
        .to_pem_files(&ca_dir)
        .expect_err("must not overwrite the CA");
    assert!(matches!(again, NetError::AlreadyExists { .. }), "{again}");
    assert!(
        again
            .to_string()
            .ends_with("ca.crt already exists; refusing to overwrite it"),
        "{again}"
    );
    assert!(node1.save(&node1_dir).is_err());
}

#[test]
fn a_key_that_does_not_match_its_certificate_is_refused() {
    let ca = chain_ca();
    let a = node(&ca, "a", "0xaaaa");
    let b = node(&ca, "b", "0xbbbb");
    let error = NodeIdentity::from_pem(a.cert_pem(), b.key_pem()).expect_err("mismatch");
    assert!(
        error
            .to_string()
            .contains("the key does not belong to the certificate (CN=a"),
        "{error}"
    );
}

#[test]
fn a_crl_signed_by_another_ca_is_rejected_at_load() {
    let ours = chain_ca();
    let identity = node(&ours, "node1", "0xaaaa");
    let theirs = ChainCa::generate("other-chain", 7, Validity::days_from_now(3650)).expect("CA");
    let foreign = theirs
        .revoke(None, &[identity.serial().clone()])
        .expect("CRL");

    let error =
        TlsConfig::new(ours.cert_pem(), Some(foreign.pem()), &identity).expect_err("refused");
    assert!(
        matches!(error, NetError::CrlNotFromChainCa { .. }),
        "{error}"
    );
    assert!(
        error.to_string().starts_with(&format!(
            "the CRL is issued by 'CN=Banyan Chain CA (chain 7), O=other-chain', not by this \
             chain's CA '{OUR_CA}'"
        )),
        "{error}"
    );

    // Same name, different key: caught by the signature.
    let twin = chain_ca();
    let forged = twin
        .revoke(None, &[identity.serial().clone()])
        .expect("CRL");
    let error =
        TlsConfig::new(ours.cert_pem(), Some(forged.pem()), &identity).expect_err("refused");
    assert!(matches!(error, NetError::CrlBadSignature { .. }), "{error}");

    // Nor can it be extended by this CA.
    assert!(matches!(
        ours.revoke(Some(&forged), &[]),
        Err(NetError::CrlBadSignature { .. })
    ));
}

#[test]
fn revocations_accumulate_and_the_crl_round_trips_through_a_file() {
    let ca = chain_ca();
    let (a, b) = (node(&ca, "a", "0xaaaa"), node(&ca, "b", "0xbbbb"));
    let first = ca.revoke(None, &[a.serial().clone()]).expect("CRL 1");
    let second = ca
        .revoke(Some(&first), &[b.serial().clone(), a.serial().clone()])
        .expect("CRL 2");
    assert_eq!(first.crl_number(), Some(1));
    assert_eq!(second.crl_number(), Some(2));
    assert_eq!(second.issuer(), OUR_CA);
    let serials: Vec<_> = second
        .entries()
        .expect("entries")
        .into_iter()
        .map(|e| e.serial)
        .collect();
    assert_eq!(serials, vec![a.serial().clone(), b.serial().clone()]);
    assert_eq!(
        second.entries().expect("entries")[0].revoked_at,
        first.entries().expect("entries")[0].revoked_at,
        "a serial revoked again keeps its first revocation time"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crl.pem");
    first.save(&path).expect("save");
    second.save(&path).expect("replace");
    let loaded = Crl::load(&path).expect("load");
    assert_eq!(loaded.pem(), second.pem());
    // The serial printed in refusals is what revoke accepts back.
    let parsed: banyan_network::CertSerial = a.serial().to_string().parse().expect("serial");
    assert_eq!(&parsed, a.serial());
}

#[test]
fn a_node_certificate_may_not_outlive_its_ca() {
    let ca = ChainCa::generate(CHAIN, CHAIN_ID, Validity::days_from_now(30)).expect("CA");
    let sans = [];
    let error = ca
        .issue_node_cert("node1", "0xaaaa", &sans, Validity::days_from_now(365))
        .expect_err("outlives the CA");
    assert!(
        error.to_string().contains("would outlive the chain CA"),
        "{error}"
    );
}
