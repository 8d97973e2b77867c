//! Behaviour of both suites: round trips, and every way a signature, key or
//! ciphertext can be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use alloy_primitives::{U256, hex};
use banyan_crypto::{
    B256, CryptoError, PublicKey, SM2_MAX_USER_ID_LEN, SecretKey, Signature, Suite, SymmetricKey,
    recover_ecdsa_prehash, sign_ecdsa_prehash, sm2_decrypt, sm2_encrypt, sm2_verify_with_id,
};
use proptest::prelude::*;

const SECP256K1_ORDER: [u8; 32] =
    hex!("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");
const SM2_ORDER: [u8; 32] =
    hex!("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");

fn keypair(suite: Suite) -> (SecretKey, PublicKey) {
    let sk = suite.generate_secret();
    let pk = suite.public_key(&sk).expect("generated keys are valid");
    (sk, pk)
}

fn minus(a: [u8; 32], b: u64) -> [u8; 32] {
    (U256::from_be_bytes(a) - U256::from(b)).to_be_bytes()
}

#[test]
fn suite_names_parse_display_and_serialize() {
    assert_eq!(Suite::from_str("ecdsa"), Ok(Suite::Ecdsa));
    assert_eq!(Suite::from_str(" SM "), Ok(Suite::Sm));
    assert_eq!(Suite::Sm.to_string(), "sm");
    assert_eq!(Suite::Ecdsa.to_string(), "ecdsa");
    let err = Suite::from_str("rsa").expect_err("unknown suite");
    assert_eq!(
        err.to_string(),
        "unknown crypto suite \"rsa\": expected \"ecdsa\" or \"sm\""
    );
    assert_eq!(serde_json::to_string(&Suite::Sm).expect("json"), "\"sm\"");
    assert_eq!(
        serde_json::from_str::<Suite>("\"ecdsa\"").expect("json"),
        Suite::Ecdsa
    );
}

#[test]
fn sign_then_verify_round_trips_and_is_deterministic() {
    for suite in Suite::ALL {
        let (sk, pk) = keypair(suite);
        let sig = suite.sign(&sk, b"transfer 10 to bob").expect("sign");
        assert_eq!(sig.as_bytes().len(), suite.signature_len(), "{suite}");
        suite
            .verify(&pk, b"transfer 10 to bob", &sig)
            .expect("verify");
        assert_eq!(
            suite.sign(&sk, b"transfer 10 to bob").expect("sign"),
            sig,
            "{suite}"
        );
    }
}

#[test]
fn verify_rejects_wrong_key_tampered_message_and_tampered_signature() {
    for suite in Suite::ALL {
        let (sk, pk) = keypair(suite);
        let (_, other_pk) = keypair(suite);
        let sig = suite.sign(&sk, b"pay 10").expect("sign");

        assert_eq!(
            suite.verify(&other_pk, b"pay 10", &sig),
            Err(CryptoError::VerificationFailed),
            "{suite}: wrong key"
        );
        assert_eq!(
            suite.verify(&pk, b"pay 11", &sig),
            Err(CryptoError::VerificationFailed),
            "{suite}: tampered message"
        );
        let mut bytes = sig.to_bytes();
        bytes[10] ^= 0x40;
        let tampered = Signature::from_bytes(&bytes).expect("length unchanged");
        assert!(
            suite.verify(&pk, b"pay 10", &tampered).is_err(),
            "{suite}: tampered sig"
        );
    }
}

#[test]
fn signatures_of_the_other_suite_are_rejected() {
    let (sk, _) = keypair(Suite::Sm);
    let ecdsa_pk = Suite::Ecdsa
        .public_key(&sk)
        .expect("sm keys are valid ecdsa keys");
    let sm_pk = Suite::Sm.public_key(&sk).expect("derive");
    let ecdsa_sig = Suite::Ecdsa.sign(&sk, b"m").expect("sign");
    let sm_sig = Suite::Sm.sign(&sk, b"m").expect("sign");
    assert!(matches!(
        Suite::Sm.verify(&sm_pk, b"m", &ecdsa_sig),
        Err(CryptoError::InvalidSignature(_))
    ));
    assert!(matches!(
        Suite::Ecdsa.verify(&ecdsa_pk, b"m", &sm_sig),
        Err(CryptoError::InvalidSignature(_))
    ));
}

#[test]
fn ecdsa_rejects_high_s_and_wrong_v() {
    let (sk, pk) = keypair(Suite::Ecdsa);
    let sig = Suite::Ecdsa.sign(&sk, b"eip-2").expect("sign").to_bytes();
    let s = U256::from_be_slice(&sig[32..64]);
    let n = U256::from_be_bytes(SECP256K1_ORDER);
    assert!(s <= n >> 1, "signing produces low-S");

    // (r, n - s) with the flipped parity is the same signature's high-S twin:
    // mathematically valid, rejected by EIP-2.
    let mut high = sig.clone();
    high[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
    high[64] ^= 1;
    let high = Signature::from_bytes(&high).expect("65 bytes");
    let err = Suite::Ecdsa
        .verify(&pk, b"eip-2", &high)
        .expect_err("high-S");
    assert!(err.to_string().contains("low-S"), "{err}");
    let prehash = Suite::Ecdsa.hash(b"eip-2");
    assert!(recover_ecdsa_prehash(&prehash, high.as_bytes()).is_err());

    let mut wrong_v = sig.clone();
    wrong_v[64] ^= 1;
    let wrong_v = Signature::from_bytes(&wrong_v).expect("65 bytes");
    assert!(Suite::Ecdsa.verify(&pk, b"eip-2", &wrong_v).is_err());

    let mut v27 = sig;
    v27[64] += 27;
    let err = recover_ecdsa_prehash(&prehash, &v27).expect_err("v must be 0 or 1");
    assert!(err.to_string().contains("v must be 0 or 1"), "{err}");
}

#[test]
fn ecdsa_prehash_sign_and_recover_agree() {
    let (sk, pk) = keypair(Suite::Ecdsa);
    let prehash = B256::repeat_byte(0x42);
    let sig = sign_ecdsa_prehash(&sk, &prehash).expect("sign");
    assert!(sig[64] <= 1);
    assert_eq!(recover_ecdsa_prehash(&prehash, &sig).expect("recover"), pk);
    assert!(matches!(
        recover_ecdsa_prehash(&prehash, &sig[..64]),
        Err(CryptoError::InvalidSignature(_))
    ));
}

#[test]
fn address_is_last_20_bytes_of_the_public_key_hash() {
    for suite in Suite::ALL {
        let (_, pk) = keypair(suite);
        let hash = suite.hash(pk.as_bytes());
        assert_eq!(suite.address(&pk).as_slice(), &hash[12..], "{suite}");
    }
}

#[test]
fn secret_keys_are_range_checked_and_never_printed() {
    let zero = [0u8; 32];
    assert!(matches!(
        SecretKey::from_bytes(&zero),
        Err(CryptoError::InvalidSecretKey(_))
    ));
    assert!(SecretKey::from_bytes(&SECP256K1_ORDER).is_err());
    assert!(SecretKey::from_bytes(&[1u8; 31]).is_err());
    assert!(SecretKey::from_hex("0xzz").is_err());

    // n-1 is the largest secp256k1 key; for SM2, d = n-1 is excluded by GB/T 32918.1.
    assert!(
        Suite::Ecdsa
            .secret_key_from_bytes(&minus(SECP256K1_ORDER, 1))
            .is_ok()
    );
    assert!(
        Suite::Ecdsa
            .secret_key_from_bytes(&minus(SM2_ORDER, 1))
            .is_ok()
    );
    let err = Suite::Sm
        .secret_key_from_bytes(&minus(SM2_ORDER, 1))
        .expect_err("n-1");
    assert!(err.to_string().starts_with("invalid secret key:"), "{err}");
    assert!(
        Suite::Sm
            .secret_key_from_bytes(&minus(SM2_ORDER, 2))
            .is_ok()
    );
    // A key valid on secp256k1 but above the SM2 order fails when used with SM2.
    let above_sm2 = SecretKey::from_bytes(&minus(SECP256K1_ORDER, 1)).expect("valid ecdsa key");
    assert!(matches!(
        Suite::Sm.public_key(&above_sm2),
        Err(CryptoError::InvalidSecretKey(_))
    ));

    let sk = Suite::Sm.generate_secret();
    let printed = format!("{sk:?}");
    assert_eq!(printed, "SecretKey(<redacted>)");
    assert!(!printed.contains(&hex::encode(sk.to_bytes())));
    assert_eq!(
        SecretKey::from_hex(&sk.to_hex()).expect("hex").to_bytes(),
        sk.to_bytes()
    );
}

#[test]
fn public_keys_are_checked_against_the_suite_curve() {
    for suite in Suite::ALL {
        let (_, pk) = keypair(suite);
        let sec1 = pk.to_sec1_uncompressed();
        assert_eq!(
            PublicKey::from_bytes(suite, &sec1).expect("0x04 prefix"),
            pk
        );
        assert_eq!(
            PublicKey::from_bytes(suite, pk.as_bytes()).expect("64 bytes"),
            pk
        );
        assert_eq!(PublicKey::from_hex(suite, &pk.to_hex()).expect("hex"), pk);

        let mut compressed_prefix = sec1;
        compressed_prefix[0] = 0x02;
        assert!(PublicKey::from_bytes(suite, &compressed_prefix).is_err());
        assert!(PublicKey::from_bytes(suite, &sec1[..33]).is_err());

        let mut off_curve = pk.to_bytes();
        off_curve[63] ^= 0x01;
        assert!(matches!(
            PublicKey::from_bytes(suite, &off_curve),
            Err(CryptoError::InvalidPublicKey(_))
        ));
    }
    // A secp256k1 point is not on the SM2 curve.
    let (_, k1_pk) = keypair(Suite::Ecdsa);
    assert!(PublicKey::from_bytes(Suite::Sm, k1_pk.as_bytes()).is_err());
}

#[test]
fn keys_and_signatures_serialize_as_hex() {
    let suite = Suite::Sm;
    let (sk, pk) = keypair(suite);
    let sig = suite.sign(&sk, b"json").expect("sign");
    let json = serde_json::to_string(&(pk, sig.clone())).expect("json");
    assert!(json.contains(&pk.to_hex()));
    let (pk2, sig2): (PublicKey, Signature) = serde_json::from_str(&json).expect("json");
    assert_eq!((pk2, sig2), (pk, sig));
    assert!(serde_json::from_str::<PublicKey>(&format!("\"0x{}\"", "11".repeat(64))).is_err());
}

#[test]
fn encrypt_then_decrypt_round_trips_with_fresh_nonces() {
    for suite in Suite::ALL {
        let key = suite.generate_symmetric_key();
        assert_eq!(key.len(), suite.symmetric_key_len());
        let a = suite.encrypt(&key, b"validator key").expect("encrypt");
        let b = suite.encrypt(&key, b"validator key").expect("encrypt");
        assert_ne!(a, b, "{suite}: nonces must differ");
        assert_eq!(a.len(), 12 + b"validator key".len() + 16);
        assert_eq!(suite.decrypt(&key, &a).expect("decrypt"), b"validator key");
        assert_eq!(suite.decrypt(&key, &b).expect("decrypt"), b"validator key");
        let empty = suite.encrypt(&key, b"").expect("encrypt empty");
        assert_eq!(suite.decrypt(&key, &empty).expect("decrypt empty"), b"");
    }
}

#[test]
fn decrypt_rejects_wrong_key_tampering_short_input_and_wrong_aad() {
    for suite in Suite::ALL {
        let key = suite.generate_symmetric_key();
        let other = suite.generate_symmetric_key();
        let data = suite
            .encrypt_with_aad(&key, b"header", b"secret")
            .expect("encrypt");

        assert_eq!(
            suite.decrypt_with_aad(&other, b"header", &data),
            Err(CryptoError::DecryptionFailed)
        );
        assert_eq!(
            suite.decrypt_with_aad(&key, b"other", &data),
            Err(CryptoError::DecryptionFailed)
        );
        for index in [0, 12, data.len() - 1] {
            let mut tampered = data.clone();
            tampered[index] ^= 0x80;
            let err = suite
                .decrypt_with_aad(&key, b"header", &tampered)
                .expect_err("tampered");
            assert_eq!(
                err.to_string(),
                "decryption failed: authentication tag mismatch (wrong key or tampered data)"
            );
        }
        assert_eq!(
            suite.decrypt(&key, &data[..27]),
            Err(CryptoError::CiphertextTooShort { len: 27, min: 28 })
        );
        assert!(suite.decrypt(&key, &[]).is_err());
    }
}

#[test]
fn symmetric_keys_must_match_the_suite() {
    let aes_key = Suite::Ecdsa.generate_symmetric_key();
    let sm4_key = Suite::Sm.generate_symmetric_key();
    assert!(matches!(
        Suite::Sm.encrypt(&aes_key, b"x"),
        Err(CryptoError::InvalidSymmetricKey(_))
    ));
    assert!(matches!(
        Suite::Ecdsa.encrypt(&sm4_key, b"x"),
        Err(CryptoError::InvalidSymmetricKey(_))
    ));
    assert!(SymmetricKey::from_bytes(&[0u8; 24]).is_err());
    assert_eq!(format!("{sm4_key:?}"), "SymmetricKey(<redacted 16 bytes>)");
}

#[test]
fn sm2_encryption_round_trips_and_detects_the_wrong_key() {
    let (sk, pk) = keypair(Suite::Sm);
    let (other, _) = keypair(Suite::Sm);
    let ciphertext = sm2_encrypt(&pk, b"sealed for one validator").expect("encrypt");
    assert_eq!(ciphertext.len(), 65 + 32 + 24);
    assert_eq!(
        sm2_decrypt(&sk, &ciphertext).expect("decrypt"),
        b"sealed for one validator"
    );
    assert_eq!(
        sm2_decrypt(&other, &ciphertext),
        Err(CryptoError::DecryptionFailed)
    );
    assert!(sm2_encrypt(&pk, b"").is_err());
}

#[test]
fn sm2_ids_longer_than_entl_allows_are_rejected() {
    let (sk, pk) = keypair(Suite::Sm);
    let sig = Suite::Sm.sign(&sk, b"m").expect("sign");
    let long_id = vec![b'a'; SM2_MAX_USER_ID_LEN + 1];
    assert!(matches!(
        sm2_verify_with_id(&pk, &long_id, b"m", sig.as_bytes()),
        Err(CryptoError::InvalidSm2UserId { .. })
    ));
    let max_id = vec![b'a'; SM2_MAX_USER_ID_LEN];
    let sig = banyan_crypto::sm2_sign_with_id(&sk, &max_id, b"m").expect("longest id");
    sm2_verify_with_id(&pk, &max_id, b"m", sig.as_bytes()).expect("verify");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_message_signs_verifies_and_round_trips_encryption(
        msg in proptest::collection::vec(any::<u8>(), 0..300),
        flip in any::<prop::sample::Index>(),
    ) {
        for suite in Suite::ALL {
            let (sk, pk) = keypair(suite);
            let sig = suite.sign(&sk, &msg).expect("sign");
            prop_assert!(suite.verify(&pk, &msg, &sig).is_ok());

            let key = suite.generate_symmetric_key();
            let data = suite.encrypt(&key, &msg).expect("encrypt");
            prop_assert_eq!(suite.decrypt(&key, &data).expect("decrypt"), msg.clone());

            let mut tampered = data.clone();
            tampered[flip.index(data.len())] ^= 0x01;
            prop_assert_eq!(suite.decrypt(&key, &tampered), Err(CryptoError::DecryptionFailed));
        }
    }
}
