//! Standard test vectors for every primitive of both suites.
//!
//! The vectors live in `tests/vectors/*.json`; each file's `source` field names
//! the standard and section they are copied from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use alloy_primitives::U256;
use banyan_crypto::{
    Address, B256, CryptoError, PublicKey, SM2_DEFAULT_USER_ID, SecretKey, Signature, Suite,
    SymmetricKey, recover_ecdsa_prehash, sign_ecdsa_prehash, sm2_decrypt, sm2_verify_with_id,
    sm2_z_value, sm4_decrypt_block, sm4_encrypt_block,
};
use serde::Deserialize;

fn load<T: for<'de> Deserialize<'de>>(json: &str) -> T {
    serde_json::from_str(json).expect("vector file is valid JSON of the expected shape")
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("vector hex")
}

fn unhex_array<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().expect("vector length")
}

// ---------------------------------------------------------------- SM3

#[derive(Deserialize)]
struct HashVectors {
    cases: Vec<HashCase>,
}

#[derive(Deserialize)]
struct HashCase {
    name: String,
    input_ascii: String,
    digest: String,
}

#[test]
fn sm3_matches_gbt_32905_appendix_a() {
    let vectors: HashVectors = load(include_str!("vectors/sm3.json"));
    assert_eq!(vectors.cases.len(), 2);
    for case in vectors.cases {
        let digest = Suite::Sm.hash(case.input_ascii.as_bytes());
        assert_eq!(hex::encode(digest), case.digest, "{}", case.name);
    }
}

// ---------------------------------------------------------------- SM4

#[derive(Deserialize)]
struct Sm4Vectors {
    key: String,
    plaintext: String,
    ciphertext: String,
    iterated: Sm4Iterated,
}

#[derive(Deserialize)]
struct Sm4Iterated {
    iterations: u32,
    ciphertext: String,
}

#[test]
fn sm4_block_matches_gbt_32907_example_1() {
    let v: Sm4Vectors = load(include_str!("vectors/sm4.json"));
    let key = unhex_array::<16>(&v.key);
    let plaintext = unhex_array::<16>(&v.plaintext);
    let ciphertext = sm4_encrypt_block(&key, &plaintext);
    assert_eq!(hex::encode(ciphertext), v.ciphertext);
    assert_eq!(sm4_decrypt_block(&key, &ciphertext), plaintext);
}

#[test]
fn sm4_block_matches_gbt_32907_example_2_million_iterations() {
    let v: Sm4Vectors = load(include_str!("vectors/sm4.json"));
    let key = unhex_array::<16>(&v.key);
    let mut block = unhex_array::<16>(&v.plaintext);
    for _ in 0..v.iterated.iterations {
        block = sm4_encrypt_block(&key, &block);
    }
    assert_eq!(hex::encode(block), v.iterated.ciphertext);
}

// ---------------------------------------------------------------- AEADs

#[derive(Deserialize)]
struct AeadVectors {
    cases: Vec<AeadCase>,
}

#[derive(Deserialize)]
struct AeadCase {
    name: String,
    key: String,
    nonce: String,
    aad: String,
    plaintext: String,
    ciphertext: String,
    tag: String,
}

fn check_aead_vectors(suite: Suite, vectors: AeadVectors) {
    assert!(!vectors.cases.is_empty());
    for case in vectors.cases {
        let key = SymmetricKey::from_hex(&case.key).expect("vector key");
        let nonce = unhex_array::<12>(&case.nonce);
        let aad = unhex(&case.aad);
        let plaintext = unhex(&case.plaintext);
        let expected = [unhex(&case.ciphertext), unhex(&case.tag)].concat();

        let sealed = suite.seal(&key, &nonce, &aad, &plaintext).expect("seal");
        assert_eq!(
            hex::encode(&sealed),
            hex::encode(&expected),
            "{}",
            case.name
        );
        let opened = suite.open(&key, &nonce, &aad, &expected).expect("open");
        assert_eq!(opened, plaintext, "{}", case.name);

        // Any flipped bit in ciphertext or tag, or different AAD, is rejected.
        for index in [0, expected.len() - 1] {
            let mut damaged = expected.clone();
            damaged[index] ^= 0x01;
            assert_eq!(
                suite.open(&key, &nonce, &aad, &damaged),
                Err(CryptoError::DecryptionFailed),
                "{}: flipped byte {index}",
                case.name
            );
        }
        let other_aad = [aad.as_slice(), b"x"].concat();
        assert_eq!(
            suite.open(&key, &nonce, &other_aad, &expected),
            Err(CryptoError::DecryptionFailed),
            "{}: other aad",
            case.name
        );
    }
}

#[test]
fn sm4_gcm_matches_rfc_8998_and_gbt_36624() {
    check_aead_vectors(Suite::Sm, load(include_str!("vectors/sm4_gcm.json")));
}

#[test]
fn aes_256_gcm_matches_gcm_spec_test_cases() {
    check_aead_vectors(Suite::Ecdsa, load(include_str!("vectors/aes_256_gcm.json")));
}

// ---------------------------------------------------------------- SM2

#[derive(Deserialize)]
struct Sm2Vectors {
    private_key: String,
    public_key_x: String,
    public_key_y: String,
    signature: Sm2SignatureVector,
    encryption: Sm2EncryptionVector,
}

#[derive(Deserialize)]
struct Sm2SignatureVector {
    user_id_ascii: String,
    message_ascii: String,
    z: String,
    e: String,
    k: String,
    r: String,
    s: String,
}

#[derive(Deserialize)]
struct Sm2EncryptionVector {
    message_ascii: String,
    c1: String,
    c3: String,
    c2: String,
}

fn sm2_vectors() -> Sm2Vectors {
    load(include_str!("vectors/sm2.json"))
}

fn sm2_keys(v: &Sm2Vectors) -> (SecretKey, PublicKey) {
    let sk = Suite::Sm
        .secret_key_from_bytes(&unhex(&v.private_key))
        .expect("vector key");
    let pk = PublicKey::from_hex(Suite::Sm, &format!("{}{}", v.public_key_x, v.public_key_y))
        .expect("vector public key");
    (sk, pk)
}

#[test]
fn sm2_public_key_derivation_matches_annex_a() {
    let v = sm2_vectors();
    let (sk, pk) = sm2_keys(&v);
    assert_eq!(Suite::Sm.public_key(&sk).expect("derive"), pk);
}

#[test]
fn sm2_z_and_e_match_annex_a() {
    let v = sm2_vectors();
    let (_, pk) = sm2_keys(&v);
    let sig = &v.signature;
    assert_eq!(sig.user_id_ascii.as_bytes(), SM2_DEFAULT_USER_ID);
    let z = sm2_z_value(&pk, sig.user_id_ascii.as_bytes());
    assert_eq!(hex::encode(z), sig.z);
    let e = Suite::Sm.hash(&[z.as_slice(), sig.message_ascii.as_bytes()].concat());
    assert_eq!(hex::encode(e), sig.e);
}

#[test]
fn sm2_annex_a_signature_verifies_and_any_flipped_bit_fails() {
    let v = sm2_vectors();
    let (_, pk) = sm2_keys(&v);
    let msg = v.signature.message_ascii.as_bytes();
    let id = v.signature.user_id_ascii.as_bytes();
    let sig = [unhex(&v.signature.r), unhex(&v.signature.s)].concat();

    sm2_verify_with_id(&pk, id, msg, &sig).expect("standard signature verifies");
    let suite_sig = Signature::from_bytes(&sig).expect("64 bytes");
    Suite::Sm
        .verify(&pk, msg, &suite_sig)
        .expect("suite verify uses the default id");

    for bit in [0, 7, 255, 256, 511] {
        let mut damaged = sig.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        assert!(
            sm2_verify_with_id(&pk, id, msg, &damaged).is_err(),
            "bit {bit} flipped"
        );
    }
    let mut other_msg = msg.to_vec();
    other_msg[0] ^= 0x01;
    assert_eq!(
        sm2_verify_with_id(&pk, id, &other_msg, &sig),
        Err(CryptoError::VerificationFailed)
    );
    assert_eq!(
        sm2_verify_with_id(&pk, b"ALICE123@YAHOO.COM", msg, &sig),
        Err(CryptoError::VerificationFailed)
    );
}

/// Recomputes the Annex A signature from its nonce `k` with the curve
/// arithmetic: pins `k`, `e`, `r` and `s` of the vector to each other.
#[test]
fn sm2_annex_a_signature_follows_from_its_nonce() {
    use sm2::{
        FieldBytes, ProjectivePoint, Scalar,
        elliptic_curve::{PrimeField, ops::Reduce, point::AffineCoordinates},
    };
    let v = sm2_vectors();
    let scalar = |hex: &str| {
        Scalar::from_repr(FieldBytes::from(unhex_array::<32>(hex))).expect("scalar below n")
    };
    let d = scalar(&v.private_key);
    let k = scalar(&v.signature.k);
    let e = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(unhex_array::<32>(
        &v.signature.e,
    )));
    let x1 = (ProjectivePoint::GENERATOR * k).to_affine().x();
    let r = e + <Scalar as Reduce<FieldBytes>>::reduce(&x1);
    let s = (d + Scalar::ONE).invert().expect("d != n-1") * (k - r * d);
    assert_eq!(hex::encode(r.to_repr()), v.signature.r);
    assert_eq!(hex::encode(s.to_repr()), v.signature.s);
}

#[test]
fn sm2_annex_c_ciphertext_decrypts() {
    let v = sm2_vectors();
    let (sk, _) = sm2_keys(&v);
    let enc = &v.encryption;
    let ciphertext = unhex(&format!("{}{}{}", enc.c1, enc.c3, enc.c2));
    assert_eq!(
        sm2_decrypt(&sk, &ciphertext).expect("decrypt"),
        enc.message_ascii.as_bytes()
    );

    // A damaged check value C3 or masked message C2 is detected.
    for index in [65, ciphertext.len() - 1] {
        let mut damaged = ciphertext.clone();
        damaged[index] ^= 0x01;
        assert_eq!(
            sm2_decrypt(&sk, &damaged),
            Err(CryptoError::DecryptionFailed)
        );
    }
}

#[test]
fn sm_suite_signatures_verify_with_the_sm2_crate_default_id() {
    use sm2::dsa::{VerifyingKey, signature::Verifier};
    let v = sm2_vectors();
    let (sk, pk) = sm2_keys(&v);
    let msg = b"cross-check our Z against the sm2 crate's own Z";
    let sig = Suite::Sm.sign(&sk, msg).expect("sign");
    let id = std::str::from_utf8(SM2_DEFAULT_USER_ID).expect("ascii id");
    let verifying =
        VerifyingKey::from_sec1_bytes(id, &pk.to_sec1_uncompressed()).expect("sm2 crate key");
    let sm2_sig = sm2::dsa::Signature::from_slice(sig.as_bytes()).expect("64 bytes");
    verifying
        .verify(msg, &sm2_sig)
        .expect("sm2 crate accepts our signature");
}

// ---------------------------------------------------------------- Ethereum

#[derive(Deserialize)]
struct EthereumVectors {
    keccak256: Vec<EthereumHash>,
    addresses: Vec<EthereumAddress>,
    eip155: Eip155Vector,
}

#[derive(Deserialize)]
struct EthereumHash {
    input_ascii: String,
    digest: String,
}

#[derive(Deserialize)]
struct EthereumAddress {
    name: String,
    private_key: String,
    address: String,
}

#[derive(Deserialize)]
struct Eip155Vector {
    private_key: String,
    signing_hash: String,
    chain_id: u64,
    v: u64,
    r_decimal: String,
    s_decimal: String,
    r: String,
    s: String,
    address: String,
}

fn ethereum_vectors() -> EthereumVectors {
    load(include_str!("vectors/ethereum.json"))
}

#[test]
fn keccak256_matches_ethereum() {
    for case in ethereum_vectors().keccak256 {
        assert_eq!(
            hex::encode(Suite::Ecdsa.hash(case.input_ascii.as_bytes())),
            case.digest
        );
    }
}

#[test]
fn ecdsa_addresses_match_hardhat_and_geth() {
    for case in ethereum_vectors().addresses {
        let sk = SecretKey::from_hex(&case.private_key).expect("vector key");
        let pk = Suite::Ecdsa.public_key(&sk).expect("derive");
        let expected = Address::from_str(&case.address).expect("vector address");
        assert_eq!(Suite::Ecdsa.address(&pk), expected, "{}", case.name);
    }
}

fn eip155_signature(v: &Eip155Vector) -> [u8; 65] {
    // The EIP gives r and s in decimal; the hex in the file must agree.
    let r = U256::from_str_radix(&v.r_decimal, 10).expect("decimal r");
    let s = U256::from_str_radix(&v.s_decimal, 10).expect("decimal s");
    assert_eq!(hex::encode(r.to_be_bytes::<32>()), v.r);
    assert_eq!(hex::encode(s.to_be_bytes::<32>()), v.s);
    let recovery_id = v.v - 35 - 2 * v.chain_id;
    let mut sig = [0u8; 65];
    sig[..32].copy_from_slice(&r.to_be_bytes::<32>());
    sig[32..64].copy_from_slice(&s.to_be_bytes::<32>());
    sig[64] = u8::try_from(recovery_id).expect("recovery id 0 or 1");
    sig
}

#[test]
fn eip155_example_recovers_its_sender() {
    let v = ethereum_vectors().eip155;
    let hash = B256::from_str(&v.signing_hash).expect("hash");
    let pk = recover_ecdsa_prehash(&hash, &eip155_signature(&v)).expect("recover");
    assert_eq!(
        Suite::Ecdsa.address(&pk),
        Address::from_str(&v.address).expect("address")
    );

    let sk = SecretKey::from_hex(&v.private_key).expect("key");
    assert_eq!(Suite::Ecdsa.public_key(&sk).expect("derive"), pk);
}

#[test]
fn eip155_example_is_reproduced_by_rfc6979_signing() {
    let v = ethereum_vectors().eip155;
    let hash = B256::from_str(&v.signing_hash).expect("hash");
    let sk = SecretKey::from_hex(&v.private_key).expect("key");
    let sig = sign_ecdsa_prehash(&sk, &hash).expect("sign");
    assert_eq!(hex::encode(sig), hex::encode(eip155_signature(&v)));
}
