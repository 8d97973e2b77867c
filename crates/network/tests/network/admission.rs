//! Who gets in: real TLS connections on 127.0.0.1 between nodes with good and bad certificates.
//! Each refusal must name exactly what is wrong, on the refusing side, and the refused side must
//! learn why from the TLS alert.

use std::time::{Duration, SystemTime};

use crate::common;
use crate::common::*;
use banyan_network::{CertRejection, ChainCa, NetError, TlsConfig, Validity};

#[tokio::test]
async fn nodes_from_the_same_ca_connect_exchange_frames_and_know_each_other() {
    let (_logs, _capture) = Logs::capture();
    let ca = chain_ca();
    let node1 = node(&ca, "node1.bank-a", "0xaaaa");
    let node2 = node(&ca, "node2.bank-b", "0xbbbb");
    let mut listener = listener(tls(&ca, &node1)).await;

    let (dialed, accepted) = dial(&mut listener, &tls(&ca, &node2), Some("0xaaaa")).await;
    let (mut at_node2, mut at_node1) = (dialed.expect("dial"), accepted.expect("accept"));

    assert_eq!(at_node2.peer().node_id(), "0xaaaa");
    assert_eq!(at_node2.peer().node_name(), "node1.bank-a");
    assert_eq!(at_node1.peer().node_id(), "0xbbbb");
    assert_eq!(at_node1.peer().node_name(), "node2.bank-b");
    assert_eq!(at_node1.peer().serial(), node2.serial());

    at_node2.send(b"vote 1").await.expect("send");
    at_node2.send(b"").await.expect("send empty frame");
    at_node1.send(vec![7u8; 100_000]).await.expect("send large");
    assert_eq!(
        at_node1.recv().await.expect("recv").as_deref(),
        Some(&b"vote 1"[..])
    );
    assert_eq!(
        at_node1.recv().await.expect("recv").as_deref(),
        Some(&b""[..])
    );
    assert_eq!(
        at_node2.recv().await.expect("recv").expect("frame").len(),
        100_000
    );

    at_node2.close().await.expect("close");
    assert!(at_node1.recv().await.expect("clean close").is_none());
}

#[tokio::test]
async fn a_node_of_another_chain_is_refused_and_both_cas_are_named() {
    let (logs, _guard) = Logs::capture();
    let ours = chain_ca();
    let theirs = ChainCa::generate("other-chain", 7, Validity::days_from_now(3650)).expect("CA");
    let their_ca = "CN=Banyan Chain CA (chain 7), O=other-chain";
    let mut listener = listener(tls(&ours, &node(&ours, "node1.bank-a", "0xaaaa"))).await;
    let stranger = node(&theirs, "node9.elsewhere", "0x9999");

    // A full node of the other chain dials us: it refuses our certificate first (TLS 1.3 checks
    // the server first), and we learn why from its alert.
    let (dialed, accepted) = dial(&mut listener, &tls(&theirs, &stranger), None).await;
    let dial_error = dialed.expect_err("the stranger must refuse us").to_string();
    assert!(
        dial_error.contains("refused: its certificate (CN=node1.bank-a"),
        "{dial_error}"
    );
    assert!(
        dial_error.contains(&format!(
            "signed by CA '{OUR_CA}', not this chain's CA '{their_ca}'"
        )),
        "{dial_error}"
    );
    let accept_error = accepted.expect_err("we must not admit it").to_string();
    assert!(
        accept_error.contains("with TLS alert unknown_ca"),
        "{accept_error}"
    );
    assert!(accept_error.contains(OUR_CA), "{accept_error}");

    // A client that ignores our certificate still cannot get in with its own.
    let addr = listener.local_addr();
    let (client, accepted) = tokio::join!(bare_client(addr, Some(&stranger)), listener.accept());
    let error = accepted.expect_err("refused");
    let NetError::PeerRejected {
        reason:
            CertRejection::UnknownIssuer {
                issuer,
                chain_ca,
                cert,
            },
        ..
    } = &error
    else {
        panic!("expected an unknown issuer, got {error}");
    };
    assert_eq!(issuer, their_ca);
    assert_eq!(chain_ca, OUR_CA);
    assert_eq!(cert.node_name.as_deref(), Some("node9.elsewhere"));
    let line = logs.one_warning_with("node9.elsewhere");
    assert!(
        line.contains(&format!(
            "is signed by CA '{their_ca}', not this chain's CA '{OUR_CA}'"
        )),
        "{line}"
    );
    let alert = bare_client_verdict(&mut client.expect("handshake completes client-side")).await;
    assert_eq!(
        alert,
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA
        ))
    );
}

#[tokio::test]
async fn a_ca_regenerated_with_the_same_name_is_told_apart_by_its_key() {
    let (_logs, _capture) = Logs::capture();
    let ours = chain_ca();
    let twin = chain_ca(); // same chain name and id, new key: `init` run twice
    let mut listener = listener(tls(&ours, &node(&ours, "node1.bank-a", "0xaaaa"))).await;

    let (dialed, accepted) = dial(
        &mut listener,
        &tls(&twin, &node(&twin, "node2", "0xbbbb")),
        None,
    )
    .await;
    let error = dialed.expect_err("refused");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::IssuerKeyMismatch { .. },
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("was the CA generated twice?"),
        "{error}"
    );
    assert!(accepted.is_err());
}

#[tokio::test]
async fn an_expired_certificate_is_refused_with_its_dates() {
    let (logs, _guard) = Logs::capture();
    let ca = chain_ca();
    let mut listener = listener(tls(&ca, &node(&ca, "node1.bank-a", "0xaaaa"))).await;
    let expired = Validity::between(unix(JAN_2019), unix(JAN_2020)).expect("validity");
    let old = node_valid(&ca, "node2.bank-b", "0xbbbb", expired);

    let (dialed, accepted) = dial(&mut listener, &tls(&ca, &old), None).await;
    let error = accepted.expect_err("refused").to_string();
    assert!(
        error.contains("its certificate (CN=node2.bank-b, node id 0xbbbb"),
        "{error}"
    );
    assert!(
        error.contains("expired on 2020-01-01T00:00:00Z (now 20"),
        "{error}"
    );
    let line = logs.one_warning_with("refused: its certificate (CN=node2.bank-b");
    assert!(line.contains("expired on 2020-01-01T00:00:00Z"), "{line}");
    let dial_error = dialed.expect_err("told").to_string();
    assert!(
        dial_error.contains("TLS alert certificate_expired"),
        "{dial_error}"
    );
    assert!(
        dial_error.contains("check node.crt's dates"),
        "{dial_error}"
    );

    // The other direction: we dial a node whose certificate has expired.
    let mut old_listener = common::listener(tls(&ca, &old)).await;
    let (dialed, _) = dial(
        &mut old_listener,
        &tls(&ca, &node(&ca, "node3", "0xcccc")),
        None,
    )
    .await;
    let error = dialed.expect_err("refused");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::Expired { .. },
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_not_yet_valid_certificate_is_refused_with_its_dates() {
    let (_logs, _capture) = Logs::capture();
    let year_2100 = unix(4_102_444_800);
    let ca = ChainCa::generate(
        CHAIN,
        CHAIN_ID,
        Validity::between(SystemTime::now() - Duration::from_secs(3600), year_2100)
            .expect("validity"),
    )
    .expect("CA");
    let mut listener = listener(tls(&ca, &node(&ca, "node1.bank-a", "0xaaaa"))).await;
    let future = Validity::between(unix(3_786_912_000), unix(3_818_448_000)).expect("2090-2091");
    let early = node_valid(&ca, "node2.bank-b", "0xbbbb", future);

    let (dialed, accepted) = dial(&mut listener, &tls(&ca, &early), None).await;
    let error = accepted.expect_err("refused");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::NotYetValid { .. },
                ..
            }
        ),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("is not valid before 2090-01-01T00:00:00Z (now 20"),
        "{text}"
    );
    assert!(text.contains("check both machines' clocks"), "{text}");
    assert!(
        dialed
            .expect_err("told")
            .to_string()
            .contains("certificate_expired")
    );
}

#[tokio::test]
async fn a_revoked_certificate_is_refused_naming_its_serial() {
    let (logs, _guard) = Logs::capture();
    let ca = chain_ca();
    let revoked = node(&ca, "node2.bank-b", "0xbbbb");
    let kept = node(&ca, "node3.bank-c", "0xcccc");
    let crl = ca.revoke(None, &[revoked.serial().clone()]).expect("CRL");
    let mut listener = listener(tls_with_crl(
        &ca,
        &crl,
        &node(&ca, "node1.bank-a", "0xaaaa"),
    ))
    .await;

    let (dialed, accepted) = dial(&mut listener, &tls_with_crl(&ca, &crl, &revoked), None).await;
    let error = accepted.expect_err("refused");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::Revoked { .. },
                ..
            }
        ),
        "{error}"
    );
    let serial = revoked.serial().to_string();
    assert!(serial.starts_with("0x") && serial.len() == 34, "{serial}");
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "serial {serial}) is revoked by the chain CRL (revoked 20"
        )),
        "{text}"
    );
    let line = logs.one_warning_with("refused: its certificate (CN=node2.bank-b");
    assert!(
        line.contains(&format!("serial {serial}) is revoked by the chain CRL")),
        "{line}"
    );
    assert!(
        dialed
            .expect_err("told")
            .to_string()
            .contains("TLS alert certificate_revoked")
    );

    // The CRL refuses only what it lists.
    let (dialed, accepted) = dial(&mut listener, &tls_with_crl(&ca, &crl, &kept), None).await;
    assert_eq!(dialed.expect("kept node dials").peer().node_id(), "0xaaaa");
    assert_eq!(
        accepted.expect("kept node admitted").peer().node_id(),
        "0xcccc"
    );
}

#[tokio::test]
async fn a_certificate_the_chain_revokes_is_refused_from_then_on() {
    let ca = chain_ca();
    let member = node(&ca, "node2.bank-b", "0xbbbb");
    let listener_tls = tls(&ca, &node(&ca, "node1.bank-a", "0xaaaa"));
    let mut listener = listener(listener_tls.clone()).await;
    let (_, accepted) = dial(&mut listener, &tls(&ca, &member), None).await;
    accepted.expect("admitted before the revocation");

    // The chain revokes it: the same configuration (every clone) refuses it from now on.
    let serial = banyan_network::cert_serial_from_pem(member.cert_pem()).unwrap();
    assert_eq!(&serial, member.serial());
    listener_tls.set_chain_revocations([serial.clone()].into_iter().collect());
    let (dialed, accepted) = dial(&mut listener, &tls(&ca, &member), None).await;
    let error = accepted.expect_err("refused");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::RevokedByChain { .. },
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains(&format!(
            "serial {serial}) is revoked by the chain's governance"
        )),
        "{error}"
    );
    assert!(
        dialed
            .expect_err("told")
            .to_string()
            .contains("TLS alert certificate_revoked")
    );
    // Others still get in.
    let (_, accepted) = dial(
        &mut listener,
        &tls(&ca, &node(&ca, "node3", "0xcccc")),
        None,
    )
    .await;
    accepted.expect("not revoked");
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let (logs, _guard) = Logs::capture();
    let ca = chain_ca();
    let mut listener = listener(tls(&ca, &node(&ca, "node1.bank-a", "0xaaaa"))).await;

    let addr = listener.local_addr();
    let (client, accepted) = tokio::join!(bare_client(addr, None), listener.accept());
    let error = accepted.expect_err("refused");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::NoCertificate,
                ..
            }
        ),
        "{error}"
    );
    let expected = "refused: it presented no client certificate; every node must connect with \
                    its node.crt and node.key from the chain CA";
    assert!(error.to_string().ends_with(expected), "{error}");
    logs.one_warning_with("presented no client certificate");
    let alert = bare_client_verdict(&mut client.expect("handshake completes client-side")).await;
    assert_eq!(
        alert,
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
        ))
    );
}

#[tokio::test]
async fn dialing_the_wrong_node_id_is_refused() {
    let (_logs, _capture) = Logs::capture();
    let ca = chain_ca();
    let mut listener = listener(tls(&ca, &node(&ca, "node1.bank-a", "0xaaaa"))).await;

    let (dialed, accepted) = dial(
        &mut listener,
        &tls(&ca, &node(&ca, "node2", "0xbbbb")),
        Some("0xdddd"),
    )
    .await;
    let error = dialed.expect_err("refused").to_string();
    assert!(
        error.contains("is for node id 0xaaaa but this address was expected to be node id 0xdddd"),
        "{error}"
    );
    assert!(
        accepted
            .expect_err("told")
            .to_string()
            .contains("TLS alert access_denied")
    );
}

#[tokio::test]
async fn a_certificate_without_client_authentication_is_refused_as_wrong_key_usage() {
    let (_logs, _capture) = Logs::capture();
    let ca = chain_ca();
    let dir = tempfile::tempdir().expect("tempdir");
    ca.to_pem_files(dir.path()).expect("write CA");
    let ca_key = std::fs::read_to_string(dir.path().join("ca.key")).expect("CA key");
    let server_only = server_only_cert(&ca, &ca_key);
    let mut listener = listener(tls(&ca, &node(&ca, "node1.bank-a", "0xaaaa"))).await;

    let addr = listener.local_addr();
    let (_client, accepted) =
        tokio::join!(bare_client(addr, Some(&server_only)), listener.accept());
    let error = accepted.expect_err("refused");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::WrongKeyUsage { .. },
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains(
            "may not be used for TLS client authentication: it allows only TLS server \
             authentication"
        ),
        "{error}"
    );
}

/// A certificate from the chain CA that allows only TLS server authentication; our own issuer
/// never makes one, so build it with rcgen directly.
fn server_only_cert(ca: &ChainCa, ca_key_pem: &str) -> banyan_network::NodeIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let ca_key = rcgen::KeyPair::from_pem(ca_key_pem).expect("CA key");
    let issuer = rcgen::Issuer::from_ca_cert_pem(ca.cert_pem(), ca_key).expect("issuer");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "server-only");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).expect("cert");
    banyan_network::NodeIdentity::from_pem(cert.pem(), key.serialize_pem()).expect("identity")
}

#[tokio::test]
async fn our_own_certificate_from_another_ca_is_a_configuration_error() {
    let (_logs, _capture) = Logs::capture();
    let ours = chain_ca();
    let theirs = ChainCa::generate("other-chain", 7, Validity::days_from_now(3650)).expect("CA");
    let error = TlsConfig::new(ours.cert_pem(), None, &node(&theirs, "node1", "0xaaaa"))
        .expect_err("must not start");
    let text = error.to_string();
    assert!(
        text.starts_with(
            "this node's own certificate fails the check every peer makes: its certificate \
             (CN=node1"
        ),
        "{text}"
    );
    assert!(text.contains(OUR_CA), "{text}");
}

#[tokio::test]
async fn a_silent_peer_times_out_the_handshake() {
    let (_logs, _capture) = Logs::capture();
    let ca = chain_ca();
    let config = banyan_network::TransportConfig {
        handshake_timeout: Duration::from_millis(300),
        ..banyan_network::TransportConfig::default()
    };
    let mut listener = listener_with(tls(&ca, &node(&ca, "node1", "0xaaaa")), config.clone()).await;
    let _silent = tokio::net::TcpStream::connect(listener.local_addr())
        .await
        .expect("tcp");
    let error = listener.accept().await.expect_err("timed out");
    assert!(
        matches!(
            error,
            NetError::HandshakeTimeout {
                timeout_ms: 300,
                ..
            }
        ),
        "{error}"
    );

    // And a dialer facing a port that accepts TCP but never speaks TLS.
    let port = banyan_testkit::free_port().expect("a free port");
    let mute = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    let dialer = tls(&ca, &node(&ca, "node2", "0xbbbb"));
    let error =
        banyan_network::connect_with(mute.local_addr().expect("addr"), &dialer, &config, None)
            .await
            .expect_err("timed out");
    assert!(
        error.to_string().contains("did not complete within 300 ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_crl_loaded_into_a_running_listener_applies_to_later_connections() {
    let (_logs, _capture) = Logs::capture();
    let ca = chain_ca();
    let node1 = node(&ca, "node1.bank-a", "0xaaaa");
    let node2 = node(&ca, "node2.bank-b", "0xbbbb");
    let mut listener = listener(tls(&ca, &node1)).await;
    let (dialed, accepted) = dial(&mut listener, &tls(&ca, &node2), None).await;
    let (_open_before, _) = (
        dialed.expect("admitted before"),
        accepted.expect("admitted before"),
    );

    let crl = ca.revoke(None, &[node2.serial().clone()]).expect("CRL");
    listener.set_tls_config(tls_with_crl(&ca, &crl, &node1));
    let (_, accepted) = dial(&mut listener, &tls(&ca, &node2), None).await;
    let error = accepted.expect_err("refused after the reload");
    assert!(
        matches!(
            &error,
            NetError::PeerRejected {
                reason: CertRejection::Revoked { .. },
                ..
            }
        ),
        "{error}"
    );
}
