//! `banyan-crypto` owns the chain's cryptographic suite, chosen once at genesis.
//!
//! A [`Suite`] bundles every primitive the chain needs, so that the rest of the
//! code base never names an algorithm directly:
//!
//! | suite | hash | signature | address | symmetric AEAD |
//! |---|---|---|---|---|
//! | [`Suite::Ecdsa`] (`"ecdsa"`) | Keccak-256 | secp256k1 ECDSA, RFC 6979, low-S, 65 bytes `r‖s‖v` | last 20 bytes of `keccak256(x‖y)` | AES-256-GCM |
//! | [`Suite::Sm`] (`"sm"`) | SM3 (GB/T 32905) | SM2 (GB/T 32918.2) with user id `1234567812345678`, 64 bytes `r‖s` | last 20 bytes of `SM3(x‖y)` | SM4-GCM (GB/T 32907 cipher, RFC 8998 mode) |
//!
//! The `ecdsa` suite is byte-compatible with Ethereum: a key gives the same
//! address as in MetaMask or Hardhat, and [`sign_ecdsa_prehash`] /
//! [`recover_ecdsa_prehash`] are what transaction signing and `ecrecover` use.
//!
//! Symmetric encryption ([`Suite::encrypt`]) draws a fresh random 96-bit nonce
//! per message and outputs `nonce ‖ ciphertext ‖ tag`. The SM suite uses
//! SM4 in GCM mode (as standardised for TLS by RFC 8998 and in GB/T 36624)
//! through RustCrypto's `aes-gcm`, which is generic over any 128-bit block
//! cipher: one well-kept GCM implementation serves both suites, instead of a
//! hand-assembled CTR + HMAC construction.
//!
//! What this crate does not do: TLS (node transport uses ECDSA P-256
//! certificates on both suites, see the network crate), key exchange, or key
//! storage on disk (a key-file format builds on [`Suite::encrypt_with_aad`]).
//! [`at_rest::DataCipher`] seals a node's stored values under a data key (encryption at rest).
//!
//! ```
//! use banyan_crypto::Suite;
//!
//! let suite: Suite = "sm".parse()?;
//! let sk = suite.generate_secret();
//! let pk = suite.public_key(&sk)?;
//! let sig = suite.sign(&sk, b"transfer 10 to bob")?;
//! suite.verify(&pk, b"transfer 10 to bob", &sig)?;
//! println!("address {}", suite.address(&pk));
//!
//! let key = suite.generate_symmetric_key();
//! let sealed = suite.encrypt(&key, b"validator key")?;
//! assert_eq!(suite.decrypt(&key, &sealed)?, b"validator key");
//! # Ok::<(), banyan_crypto::CryptoError>(())
//! ```
//!
//! Every primitive is checked against the test vectors of its standard in
//! `tests/vectors.rs` (vectors under `tests/vectors/`).
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod at_rest;
mod error;
mod hash;
mod keys;
pub mod keystore;
mod secp256k1;
mod sm2_dsa;
mod sm2_pke;
mod suite;
mod symmetric;

pub use alloy_primitives::{Address, B256};
pub use error::CryptoError;
pub use keys::{PublicKey, SecretKey, Signature, SymmetricKey};
pub use secp256k1::{recover_ecdsa_prehash, sign_ecdsa_prehash};
pub use sm2_dsa::{
    SM2_DEFAULT_USER_ID, SM2_MAX_USER_ID_LEN, sm2_sign_with_id, sm2_verify_with_id, sm2_z_value,
};
pub use sm2_pke::{sm2_decrypt, sm2_encrypt};
pub use suite::Suite;
pub use symmetric::{AEAD_NONCE_LEN, AEAD_TAG_LEN, sm4_decrypt_block, sm4_encrypt_block};
