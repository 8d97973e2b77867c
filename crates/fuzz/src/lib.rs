//! The bodies of Banyan's coverage-guided fuzz targets, one function per decoder of untrusted
//! bytes, and the valid inputs they start from.
//!
//! Each target takes any bytes and must neither panic nor allocate beyond its decoder's
//! bounds; where a decoder has an encoder, whatever it accepts must encode back to the same
//! bytes (one encoding per message, so that hashes and signatures over them cannot be varied).
//! A broken property panics, which is what the fuzzer reports.
//!
//! The `fuzz/` directory at the workspace root is the `cargo fuzz` project that drives these
//! functions with libFuzzer (see `docs/reliability.md#fuzzing`); `tests/corpus.rs` replays the
//! committed corpus and the [`seeds`] through them in the ordinary test suite, so a
//! regression shows up without a fuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

use alloy_primitives::{Address, B256, Bytes as AlloyBytes, TxKind, U256};
use alloy_rlp::{Decodable, Encodable};
use banyan_chain::snapshot::{self, AccountRecord, HeadRecord, StoragePair};
use banyan_consensus::codec::BanyanCodec;
use banyan_consensus::context::{
    BanyanContext, BlockHash, Height, Proposal, ProposalPart, ValidatorAddress, Vote,
};
use banyan_consensus::network::{PeerFrame, decode_frame, encode_frame};
use banyan_consensus::signing::ConsensusSignature;
use banyan_crypto::at_rest::DataCipher;
use banyan_crypto::{PublicKey, SecretKey, Signature, Suite, SymmetricKey};
use banyan_primitives::{Block, Header, Receipt, RecoveredTx, SealedHeader, SmTxFields};
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, NilOrVal, PolkaCertificate, Round, SignedMessage, ValidatorProof, VoteType,
};
use malachitebft_codec::Codec;
use malachitebft_sync::{Request, Response, Status, ValueRequest};

/// A target's body: takes any bytes, panics only on a broken property.
pub type Target = fn(&[u8]);

/// Every target, by the name its `fuzz/fuzz_targets/<name>.rs` and corpus directory have.
pub const TARGETS: &[(&str, Target)] = &[
    ("peer_frame", peer_frame),
    ("consensus_codec", consensus_codec),
    ("transaction", transaction),
    ("chain_records", chain_records),
    ("snapshot", snapshot_file),
    ("tx_journal", tx_journal),
    ("sealed_record", sealed_record),
    ("certificate", certificate),
    ("credential", credential),
    ("genesis", genesis),
    ("signature", signature),
];

/// The chain id the transaction targets check against.
const CHAIN_ID: u64 = 1;

fn suite_of(selector: u8) -> Suite {
    if selector & 1 == 0 {
        Suite::Ecdsa
    } else {
        Suite::Sm
    }
}

/// A frame from a peer (the consensus network's only input): any bytes; what decodes
/// re-encodes to the same bytes, and a sync response's body goes through its own decoder.
pub fn peer_frame(data: &[u8]) {
    let frame = Bytes::copy_from_slice(data);
    let Ok(decoded) = decode_frame(&frame) else {
        return;
    };
    if let PeerFrame::Response(_, body) = &decoded {
        roundtrip::<Response<BanyanContext>>(body);
    }
    let encoded = encode_frame(&decoded).expect("a decoded frame encodes");
    assert_eq!(
        &encoded[..],
        data,
        "frame {decoded:?} re-encodes differently"
    );
}

fn roundtrip<T>(body: &[u8])
where
    BanyanCodec: Codec<T>,
    <BanyanCodec as Codec<T>>::Error: std::fmt::Debug,
    T: std::fmt::Debug,
{
    let codec = BanyanCodec;
    if let Ok(msg) = Codec::<T>::decode(&codec, Bytes::copy_from_slice(body)) {
        let encoded = Codec::<T>::encode(&codec, &msg).expect("a decoded message encodes");
        assert_eq!(&encoded[..], body, "{msg:?} re-encodes differently");
    }
}

/// Every message type of the consensus codec (peer messages, the WAL's entries, sync
/// messages, certificates), chosen by the first byte: what decodes re-encodes to the same
/// bytes.
pub fn consensus_codec(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 11 {
        0 => roundtrip::<ProposalPart>(body),
        1 => roundtrip::<SignedConsensusMsg<BanyanContext>>(body),
        2 => roundtrip::<LivenessMsg<BanyanContext>>(body),
        3 => roundtrip::<StreamMessage<ProposalPart>>(body),
        4 => roundtrip::<ValidatorProof<BanyanContext>>(body),
        5 => roundtrip::<ProposedValue<BanyanContext>>(body),
        6 => roundtrip::<PolkaCertificate<BanyanContext>>(body),
        7 => roundtrip::<Status<BanyanContext>>(body),
        8 => roundtrip::<Request<BanyanContext>>(body),
        9 => roundtrip::<Response<BanyanContext>>(body),
        _ => roundtrip::<CommitCertificate<BanyanContext>>(body),
    }
}

/// Transaction bytes (RPC, gossip, proposals), the suite chosen by the first byte: a
/// transaction that decodes and recovers has the hash of its bytes, and decoding it again
/// with the sender it recovered gives the same transaction.
pub fn transaction(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let suite = suite_of(selector);
    let Ok(tx) = RecoveredTx::decode(bytes, suite, CHAIN_ID) else {
        return;
    };
    assert_eq!(&tx.encoded()[..], bytes);
    assert_eq!(tx.hash(), RecoveredTx::hash_of(bytes, suite));
    let again = RecoveredTx::verified(bytes, suite, CHAIN_ID, tx.sender()).expect("decodes again");
    assert_eq!(again, tx);
}

fn rlp_roundtrip<T: Decodable + Encodable>(bytes: &[u8]) {
    if let Ok(value) = alloy_rlp::decode_exact::<T>(bytes) {
        assert_eq!(
            alloy_rlp::encode(&value),
            bytes,
            "a decoded {} re-encodes differently",
            std::any::type_name::<T>()
        );
    }
}

/// What the chain store and sync hold (blocks, sealed headers, receipts), chosen by the first
/// byte: what decodes re-encodes to the same bytes.
pub fn chain_records(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => rlp_roundtrip::<Block>(bytes),
        1 => rlp_roundtrip::<SealedHeader>(bytes),
        _ => {
            if let Ok(receipt) = Receipt::from_bytes(bytes) {
                assert_eq!(
                    receipt.to_bytes(),
                    bytes,
                    "{receipt:?} re-encodes differently"
                );
            }
        }
    }
}

/// A snapshot file (today moved by hand, then fetched from peers): the magic line, then
/// records read as the importer reads them, each decoding to what encodes back to it.
pub fn snapshot_file(data: &[u8]) {
    let Some(mut input) = data.strip_prefix(snapshot::MAGIC) else {
        return;
    };
    let Ok(head) = snapshot::read_record(&mut input) else {
        return;
    };
    rlp_roundtrip::<HeadRecord>(&head);
    while let Ok(record) = snapshot::read_record(&mut input) {
        if record.is_empty() {
            break;
        }
        rlp_roundtrip::<AccountRecord>(&record);
    }
}

/// The fixed data keys the at-rest targets use (any key would do: the inputs are random).
fn data_cipher(suite: Suite) -> DataCipher {
    let key = vec![0x5a; suite.symmetric_key_len()];
    DataCipher::new(suite, SymmetricKey::from_bytes(&key).unwrap()).unwrap()
}

/// The transaction journal file: read without a key, a read that reaches the end cleanly
/// writes back to the same bytes; read with a key, what is read is written and read back.
pub fn tx_journal(data: &[u8]) {
    use banyan_node::journal;
    if let Ok(loaded) = journal::read_from(data, None)
        && loaded.stopped.is_none()
        && !data.is_empty()
    {
        let txs: Vec<&[u8]> = loaded.txs.iter().map(|t| &t[..]).collect();
        assert_eq!(journal::encode(txs, None).unwrap(), data);
    }
    let cipher = data_cipher(Suite::Ecdsa);
    if let Ok(loaded) = journal::read_from(data, Some(&cipher)) {
        let txs: Vec<&[u8]> = loaded.txs.iter().map(|t| &t[..]).collect();
        let written = journal::encode(txs, Some(&cipher)).unwrap();
        let again = journal::read_from(&written[..], Some(&cipher)).unwrap();
        assert_eq!(again.txs, loaded.txs);
        assert!(again.stopped.is_none());
    }
}

/// A value sealed at rest (chain store, safety record, journal), the suite chosen by the
/// first byte: what opens is sealed and opened back to the same plaintext.
pub fn sealed_record(data: &[u8]) {
    let Some((&selector, record)) = data.split_first() else {
        return;
    };
    let cipher = data_cipher(suite_of(selector));
    if let Ok(plain) = cipher.open(b"fuzz", record) {
        let sealed = cipher.seal(b"fuzz", &plain).unwrap();
        assert_eq!(cipher.open(b"fuzz", &sealed).unwrap(), plain);
    }
}

/// A peer's certificate as admission reads it (DER, before any check), and the PEM files of
/// certificates and revocation lists a node loads.
pub fn certificate(data: &[u8]) {
    let _ = banyan_network::inspect_certificate(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = banyan_network::pki::Crl::from_pem(text);
        let _ = banyan_network::pki::cert_serial_from_pem(text);
    }
}

/// The texts of identity a holder or verifier presents (a JWS, a status list, DIDs, times,
/// schema and status URLs, a credential's JSON), chosen by the first byte.
pub fn credential(data: &[u8]) {
    use banyan_identity::{credential as vc, jcs, jose, status_list};
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match selector % 6 {
        0 => {
            let _ = jose::decode(text);
        }
        1 => {
            if let Ok(bits) = status_list::decode(text) {
                // A list that decodes is one this node could have written.
                assert_eq!(
                    status_list::decode(&status_list::encode(&bits)).unwrap(),
                    bits
                );
            }
        }
        2 => {
            if let Ok(did) = text.parse::<banyan_identity::Did>() {
                assert_eq!(
                    did.to_string().parse::<banyan_identity::Did>().unwrap(),
                    did
                );
            }
        }
        3 => {
            let _ = vc::parse_time(text);
        }
        4 => {
            let _ = vc::parse_schema_url(text);
            let _ = vc::parse_status_list_url(text);
        }
        _ => {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
                let _ = vc::check_data_model(&value);
                let _ = jcs::canonicalize(&value);
            }
        }
    }
}

/// A genesis file (the chain spec every node starts from).
pub fn genesis(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = banyan_primitives::Genesis::from_json(text);
    }
}

/// A public key, a signature and a message as a peer presents them (consensus votes, SM
/// transactions, credentials): `suite ‖ key length ‖ key ‖ signature length ‖ signature ‖
/// message`. Parsing and verifying never panic, and what verifies is a signature the key's
/// owner could have made.
pub fn signature(data: &[u8]) {
    let mut input = data;
    let mut take = |n: usize| -> Option<Vec<u8>> {
        let mut buf = vec![0; n];
        input.read_exact(&mut buf).ok()?;
        Some(buf)
    };
    let Some(head) = take(2) else {
        return;
    };
    let suite = suite_of(head[0]);
    let Some(key) = take(usize::from(head[1])) else {
        return;
    };
    let Some(sig_len) = take(1) else {
        return;
    };
    let Some(sig) = take(usize::from(sig_len[0])) else {
        return;
    };
    let message = input;
    let _ = SecretKey::from_bytes(&key);
    let (Ok(public), Ok(sig)) = (
        PublicKey::from_bytes(suite, &key),
        Signature::from_bytes(&sig),
    ) else {
        return;
    };
    let _ = suite.verify(&public, message, &sig);
}

/// Valid inputs for `target`, from which the fuzzer starts (written to `fuzz/corpus/` by the
/// ignored test `write_seed_corpus`, and replayed by the suite).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let key = SecretKey::from_bytes(&[0x11; 32]).unwrap();
    match target {
        "peer_frame" => {
            let mut out: Vec<Vec<u8>> = consensus_messages()
                .into_iter()
                .map(|m| encode_frame(&m).unwrap().to_vec())
                .collect();
            out.push(
                encode_frame(&PeerFrame::Txs(
                    signed_txs(&key)
                        .into_iter()
                        .map(|(_, t)| Bytes::from(t))
                        .collect(),
                ))
                .unwrap()
                .to_vec(),
            );
            out
        }
        "consensus_codec" => {
            let codec = BanyanCodec;
            let mut out = Vec::new();
            for msg in consensus_messages() {
                let (selector, bytes) = match msg {
                    PeerFrame::Consensus(m) => (1u8, codec.encode(&m).unwrap()),
                    PeerFrame::Request(_, m) => (8u8, codec.encode(&m).unwrap()),
                    _ => continue,
                };
                out.push([&[selector][..], &bytes].concat());
            }
            out
        }
        "transaction" => signed_txs(&key)
            .into_iter()
            .map(|(suite, tx)| [&[u8::from(suite == Suite::Sm)][..], &tx].concat())
            .collect(),
        "chain_records" => {
            let block = block(&key);
            vec![
                [&[0u8][..], &alloy_rlp::encode(&block)].concat(),
                [&[1u8][..], &alloy_rlp::encode(&block.header)].concat(),
            ]
        }
        "snapshot" => {
            let head = HeadRecord {
                genesis_hash: B256::repeat_byte(7),
                block: block(&key),
                receipts: vec![],
                certificate: AlloyBytes::from_static(b"certificate"),
            };
            let account = AccountRecord {
                key: AlloyBytes::from(vec![1; 32]),
                account: AlloyBytes::from_static(b"account"),
                storage: vec![StoragePair {
                    key: AlloyBytes::from(vec![2; 32]),
                    value: AlloyBytes::from_static(&[5]),
                }],
                code: AlloyBytes::from_static(&[0x60, 0x00]),
            };
            let mut file = snapshot::MAGIC.to_vec();
            snapshot::write_record(&mut file, &alloy_rlp::encode(&head)).unwrap();
            snapshot::write_record(&mut file, &alloy_rlp::encode(&account)).unwrap();
            snapshot::write_record(&mut file, &[]).unwrap();
            vec![file]
        }
        "tx_journal" => {
            let txs: Vec<Vec<u8>> = signed_txs(&key).into_iter().map(|(_, t)| t).collect();
            let refs = || txs.iter().map(|t| &t[..]);
            vec![
                banyan_node::journal::encode(refs(), None).unwrap(),
                banyan_node::journal::encode(refs(), Some(&data_cipher(Suite::Ecdsa))).unwrap(),
            ]
        }
        "sealed_record" => [Suite::Ecdsa, Suite::Sm]
            .into_iter()
            .map(|suite| {
                let sealed = data_cipher(suite).seal(b"fuzz", b"a stored value").unwrap();
                [&[u8::from(suite == Suite::Sm)][..], &sealed].concat()
            })
            .collect(),
        "certificate" => {
            use banyan_network::pki::{ChainCa, Validity};
            let ca = ChainCa::generate("fuzz", CHAIN_ID, Validity::days_from_now(30)).unwrap();
            let pem = ca.cert_pem().to_string();
            let crl = ca.revoke(None, &[]).unwrap();
            vec![
                pem_body(&pem),
                pem.into_bytes(),
                crl.pem().as_bytes().to_vec(),
            ]
        }
        "credential" => {
            use banyan_identity::{jose, status_list};
            let did = banyan_identity::Did::new(CHAIN_ID, Address::repeat_byte(0x42));
            let payload = serde_json::json!({
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "issuer": did.to_string(),
                "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"id": did.to_string()},
            });
            let jws =
                jose::sign(Suite::Ecdsa, &key, &did.url("key-1"), "vc+jwt", &payload).unwrap();
            vec![
                [&[0u8][..], jws.as_bytes()].concat(),
                [
                    &[1u8][..],
                    status_list::encode(&[0b1010_0000; 16]).as_bytes(),
                ]
                .concat(),
                [&[2u8][..], did.to_string().as_bytes()].concat(),
                [&[3u8][..], b"2026-12-04T21:41:27Z"].concat(),
                [
                    &[4u8][..],
                    banyan_identity::credential::schema_url(
                        CHAIN_ID,
                        Address::repeat_byte(1),
                        B256::repeat_byte(2),
                    )
                    .as_bytes(),
                ]
                .concat(),
                [&[5u8][..], payload.to_string().as_bytes()].concat(),
            ]
        }
        "genesis" => {
            let (genesis, _) = banyan_node::dev_genesis(Suite::Ecdsa, 1337, &[], 0).unwrap();
            vec![serde_json::to_vec(&genesis).unwrap()]
        }
        "signature" => [Suite::Ecdsa, Suite::Sm]
            .into_iter()
            .map(|suite| {
                let public = suite.public_key(&key).unwrap().to_bytes();
                let message = b"a vote";
                let sig = suite.sign(&key, message).unwrap().to_bytes();
                let mut out = vec![u8::from(suite == Suite::Sm), public.len() as u8];
                out.extend_from_slice(&public);
                out.push(sig.len() as u8);
                out.extend_from_slice(&sig);
                out.extend_from_slice(message);
                out
            })
            .collect(),
        other => panic!("no fuzz target {other}"),
    }
}

/// The DER inside a PEM block.
fn pem_body(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// A vote, a proposal and a sync request, as peer frames.
fn consensus_messages() -> Vec<PeerFrame> {
    let signature = ConsensusSignature(vec![1; 65]);
    let vote = Vote {
        vote_type: VoteType::Prevote,
        height: Height(169),
        round: Round::new(5),
        value: NilOrVal::Val(BlockHash(B256::repeat_byte(0xc6))),
        validator: ValidatorAddress(Address::repeat_byte(0xaa)),
    };
    let proposal = Proposal {
        height: Height(169),
        round: Round::new(1),
        value: BlockHash(B256::repeat_byte(0x3b)),
        pol_round: Round::Nil,
        proposer: ValidatorAddress(Address::repeat_byte(0xbb)),
    };
    vec![
        PeerFrame::Consensus(SignedConsensusMsg::Vote(SignedMessage::new(
            vote.clone(),
            signature.clone(),
        ))),
        PeerFrame::Liveness(LivenessMsg::Vote(SignedMessage::new(
            vote,
            signature.clone(),
        ))),
        PeerFrame::Consensus(SignedConsensusMsg::Proposal(SignedMessage::new(
            proposal, signature,
        ))),
        PeerFrame::Request(
            7,
            Request::ValueRequest(ValueRequest::new(Height(10)..=Height(12))),
        ),
    ]
}

/// One signed transaction per suite, on [`CHAIN_ID`].
fn signed_txs(key: &SecretKey) -> Vec<(Suite, Vec<u8>)> {
    let eth = alloy_consensus::TypedTransaction::Eip1559(alloy_consensus::TxEip1559 {
        chain_id: CHAIN_ID,
        nonce: 3,
        gas_limit: 21_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x22)),
        value: U256::from(1_000u64),
        ..Default::default()
    });
    let sm = SmTxFields {
        chain_id: CHAIN_ID,
        nonce: 0,
        max_priority_fee_per_gas: 0,
        max_fee_per_gas: 1_000_000_000,
        gas_limit: 50_000,
        to: TxKind::Call(Address::repeat_byte(0x33)),
        value: U256::from(5u64),
        input: AlloyBytes::from_static(b"\x12\x34\x56\x78"),
    }
    .sign(key)
    .unwrap();
    vec![
        (
            Suite::Ecdsa,
            banyan_primitives::sign_eth_transaction(eth, key).unwrap(),
        ),
        (Suite::Sm, sm.encoded_2718()),
    ]
}

/// A block holding the [`signed_txs`].
fn block(key: &SecretKey) -> Block {
    Block {
        header: SealedHeader {
            header: Header::default(),
            signature: AlloyBytes::from(vec![9; 65]),
        },
        transactions: signed_txs(key)
            .into_iter()
            .map(|(_, t)| AlloyBytes::from(t))
            .collect(),
    }
}
