//! The suite chosen at genesis and the one entry point to every primitive.

use std::{fmt, str::FromStr};

use alloy_primitives::{Address, B256};
use rand::{RngCore as _, rngs::OsRng};

use crate::{
    CryptoError, PublicKey, SecretKey, Signature, SymmetricKey, hash, secp256k1, sm2_dsa,
    symmetric::{AEAD_NONCE_LEN, AEAD_TAG_LEN, AeadAlgorithm},
};

/// The chain's cryptographic suite, fixed in the genesis file.
///
/// Serialized, parsed and displayed as `"ecdsa"` or `"sm"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// Ethereum-compatible: secp256k1 ECDSA, Keccak-256, AES-256-GCM.
    Ecdsa,
    /// Chinese national standards: SM2, SM3, SM4-GCM.
    Sm,
}

impl Suite {
    /// Both suites, `ecdsa` first.
    pub const ALL: [Self; 2] = [Self::Ecdsa, Self::Sm];

    /// The suite's name as written in configuration: `"ecdsa"` or `"sm"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ecdsa => "ecdsa",
            Self::Sm => "sm",
        }
    }

    /// Length in bytes of the signatures [`Suite::sign`] produces (65 or 64).
    pub fn signature_len(&self) -> usize {
        match self {
            Self::Ecdsa => Signature::ECDSA_LEN,
            Self::Sm => Signature::SM2_LEN,
        }
    }

    /// Length in bytes of the suite's symmetric keys (32 for AES-256, 16 for SM4).
    pub fn symmetric_key_len(&self) -> usize {
        self.aead().key_len()
    }

    /// The suite's 256-bit hash: Keccak-256 (`ecdsa`) or SM3 (`sm`).
    pub fn hash(&self, data: &[u8]) -> B256 {
        match self {
            Self::Ecdsa => hash::keccak256(data),
            Self::Sm => hash::sm3(data),
        }
    }

    /// A fresh secret key from the operating system's random source, valid for
    /// this suite's curve.
    pub fn generate_secret(&self) -> SecretKey {
        match self {
            Self::Ecdsa => secp256k1::generate_secret(),
            Self::Sm => sm2_dsa::generate_secret(),
        }
    }

    /// Parses a 32-byte secret key and checks it against this suite's curve
    /// (`[1, n-1]` for secp256k1, `[1, n-2]` for SM2).
    pub fn secret_key_from_bytes(&self, bytes: &[u8]) -> Result<SecretKey, CryptoError> {
        let key = SecretKey::from_bytes(bytes)?;
        match self {
            Self::Ecdsa => secp256k1::check_secret(&key)?,
            Self::Sm => {
                sm2_dsa::secret_key(&key)?;
            }
        }
        Ok(key)
    }

    /// The public key of `sk` on this suite's curve.
    pub fn public_key(&self, sk: &SecretKey) -> Result<PublicKey, CryptoError> {
        match self {
            Self::Ecdsa => secp256k1::public_key(sk),
            Self::Sm => sm2_dsa::public_key(sk),
        }
    }

    /// The account address of `pk`: the last 20 bytes of the suite's hash of
    /// the 64-byte `x ‖ y` (for `ecdsa`, exactly Ethereum's address).
    pub fn address(&self, pk: &PublicKey) -> Address {
        Address::from_word(self.hash(pk.as_bytes()))
    }

    /// Signs `msg`.
    ///
    /// - `ecdsa`: `keccak256(msg)` signed with secp256k1 (RFC 6979, low-S),
    ///   65 bytes `r ‖ s ‖ v` with `v` in {0, 1}.
    /// - `sm`: SM2 over `SM3(Z ‖ msg)` with the default user id
    ///   `1234567812345678`, 64 bytes `r ‖ s`.
    ///
    /// Both are deterministic: the same key and message give the same signature.
    pub fn sign(&self, sk: &SecretKey, msg: &[u8]) -> Result<Signature, CryptoError> {
        match self {
            Self::Ecdsa => {
                secp256k1::sign_ecdsa_prehash(sk, &hash::keccak256(msg)).map(Signature::from)
            }
            Self::Sm => sm2_dsa::sm2_sign_with_id(sk, sm2_dsa::SM2_DEFAULT_USER_ID, msg),
        }
    }

    /// Verifies a signature made by [`Suite::sign`].
    ///
    /// `ecdsa` rejects high-S signatures (EIP-2) and a `v` that does not
    /// recover `pk`.
    pub fn verify(&self, pk: &PublicKey, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        match self {
            Self::Ecdsa => secp256k1::verify_prehash(pk, &hash::keccak256(msg), sig.as_bytes()),
            Self::Sm => {
                sm2_dsa::sm2_verify_with_id(pk, sm2_dsa::SM2_DEFAULT_USER_ID, msg, sig.as_bytes())
            }
        }
    }

    /// A fresh random symmetric key of the suite's length.
    pub fn generate_symmetric_key(&self) -> SymmetricKey {
        let mut bytes = vec![0u8; self.symmetric_key_len()];
        OsRng.fill_bytes(&mut bytes);
        SymmetricKey::from_checked(bytes)
    }

    /// Encrypts with a fresh random nonce: AES-256-GCM (`ecdsa`) or SM4-GCM
    /// (`sm`). Output: `nonce (12) ‖ ciphertext ‖ tag (16)`.
    ///
    /// Random 96-bit nonces are safe for up to 2^32 messages per key
    /// (NIST SP 800-38D §8.3); rotate keys long before that.
    pub fn encrypt(&self, key: &SymmetricKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_with_aad(key, &[], plaintext)
    }

    /// Decrypts the output of [`Suite::encrypt`]. Fails on a wrong key,
    /// tampered bytes or input shorter than nonce plus tag.
    pub fn decrypt(&self, key: &SymmetricKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.decrypt_with_aad(key, &[], data)
    }

    /// Like [`Suite::encrypt`], also authenticating `aad` (associated data
    /// that is not encrypted, e.g. a file header); decryption needs the same `aad`.
    pub fn encrypt_with_aad(
        &self,
        key: &SymmetricKey,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; AEAD_NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self.seal(key, &nonce, aad, plaintext)?;
        let mut out = Vec::with_capacity(AEAD_NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts the output of [`Suite::encrypt_with_aad`] given the same `aad`.
    pub fn decrypt_with_aad(
        &self,
        key: &SymmetricKey,
        aad: &[u8],
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let min = AEAD_NONCE_LEN + AEAD_TAG_LEN;
        let Some((nonce, sealed)) = data.split_first_chunk::<AEAD_NONCE_LEN>() else {
            return Err(CryptoError::CiphertextTooShort {
                len: data.len(),
                min,
            });
        };
        if sealed.len() < AEAD_TAG_LEN {
            return Err(CryptoError::CiphertextTooShort {
                len: data.len(),
                min,
            });
        }
        self.open(key, nonce, aad, sealed)
    }

    /// The raw AEAD with a caller-chosen nonce; returns `ciphertext ‖ tag`.
    ///
    /// A nonce must never be used twice with the same key: that reveals the
    /// XOR of the plaintexts and lets an attacker forge tags. Prefer
    /// [`Suite::encrypt`], which draws a random nonce.
    pub fn seal(
        &self,
        key: &SymmetricKey,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.aead().seal(key.as_bytes(), nonce, aad, plaintext)
    }

    /// Inverse of [`Suite::seal`]: checks the tag and decrypts `ciphertext ‖ tag`.
    pub fn open(
        &self,
        key: &SymmetricKey,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.aead()
            .open(key.as_bytes(), nonce, aad, ciphertext_and_tag)
    }

    /// Checks that `pk` is a point of this suite's curve.
    pub(crate) fn validate_public_key(&self, pk: &PublicKey) -> Result<(), CryptoError> {
        match self {
            Self::Ecdsa => secp256k1::check_public(pk),
            Self::Sm => sm2_dsa::public_key_point(pk).map(|_| ()),
        }
    }

    /// The name of the suite's AEAD: `AES-256-GCM` (`ecdsa`) or `SM4-GCM` (`sm`).
    pub fn aead_name(&self) -> &'static str {
        self.aead().name()
    }

    fn aead(&self) -> AeadAlgorithm {
        match self {
            Self::Ecdsa => AeadAlgorithm::Aes256Gcm,
            Self::Sm => AeadAlgorithm::Sm4Gcm,
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Suite {
    type Err = CryptoError;

    /// Parses `"ecdsa"` or `"sm"`, ignoring ASCII case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        Self::ALL
            .into_iter()
            .find(|suite| suite.name().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| CryptoError::UnknownSuite(s.to_owned()))
    }
}
