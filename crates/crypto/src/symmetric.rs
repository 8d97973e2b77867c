//! Authenticated symmetric encryption: AES-256-GCM and SM4-GCM, plus raw SM4
//! blocks for the standard's test vectors.
//!
//! SM4-GCM is `aes-gcm`'s generic GCM instantiated with the SM4 block cipher;
//! RFC 8998 §A.1 and GB/T 36624 vectors pin it down in `tests/vectors.rs`.

use aes_gcm::{
    AeadCore, Aes256Gcm, AesGcm,
    aead::{Aead, KeyInit, Payload, array::Array, consts::U12},
};
use sm4::{
    Sm4,
    cipher::{BlockCipherDecrypt, BlockCipherEncrypt},
};

use crate::CryptoError;

/// Length of a GCM nonce in bytes (96 bits, the length GCM is designed for).
pub const AEAD_NONCE_LEN: usize = 12;

/// Length of a GCM authentication tag in bytes (128 bits).
pub const AEAD_TAG_LEN: usize = 16;

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag.
type Sm4Gcm = AesGcm<Sm4, U12>;

/// Which AEAD, and so which key length.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AeadAlgorithm {
    /// AES-256-GCM, 32-byte keys.
    Aes256Gcm,
    /// SM4-GCM, 16-byte keys.
    Sm4Gcm,
}

impl AeadAlgorithm {
    /// Key length in bytes.
    pub(crate) fn key_len(self) -> usize {
        match self {
            Self::Aes256Gcm => 32,
            Self::Sm4Gcm => 16,
        }
    }

    /// The algorithm's name: `AES-256-GCM` or `SM4-GCM`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "AES-256-GCM",
            Self::Sm4Gcm => "SM4-GCM",
        }
    }

    /// Encrypts and authenticates; returns `ciphertext ‖ tag`.
    pub(crate) fn seal(
        self,
        key: &[u8],
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Aes256Gcm => seal_with::<Aes256Gcm>(self, key, nonce, aad, plaintext),
            Self::Sm4Gcm => seal_with::<Sm4Gcm>(self, key, nonce, aad, plaintext),
        }
    }

    /// Checks the tag and decrypts `ciphertext ‖ tag`.
    pub(crate) fn open(
        self,
        key: &[u8],
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if ciphertext_and_tag.len() < AEAD_TAG_LEN {
            return Err(CryptoError::CiphertextTooShort {
                len: ciphertext_and_tag.len(),
                min: AEAD_TAG_LEN,
            });
        }
        match self {
            Self::Aes256Gcm => open_with::<Aes256Gcm>(self, key, nonce, aad, ciphertext_and_tag),
            Self::Sm4Gcm => open_with::<Sm4Gcm>(self, key, nonce, aad, ciphertext_and_tag),
        }
    }

    fn cipher<C: KeyInit>(self, key: &[u8]) -> Result<C, CryptoError> {
        if key.len() != self.key_len() {
            return Err(CryptoError::InvalidSymmetricKey(format!(
                "{} needs a {}-byte key, got {} bytes",
                self.name(),
                self.key_len(),
                key.len()
            )));
        }
        C::new_from_slice(key).map_err(|_| {
            CryptoError::InvalidSymmetricKey(format!("{} rejected the key", self.name()))
        })
    }
}

fn seal_with<C: KeyInit + Aead + AeadCore<NonceSize = U12>>(
    algorithm: AeadAlgorithm,
    key: &[u8],
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher: C = algorithm.cipher(key)?;
    cipher
        .encrypt(
            &Array::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| {
            CryptoError::EncryptionFailed(format!(
                "{} refused the input (plaintext or associated data too long)",
                algorithm.name()
            ))
        })
}

fn open_with<C: KeyInit + Aead + AeadCore<NonceSize = U12>>(
    algorithm: AeadAlgorithm,
    key: &[u8],
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher: C = algorithm.cipher(key)?;
    cipher
        .decrypt(
            &Array::from(*nonce),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map_err(|_| CryptoError::DecryptionFailed)
}

/// Encrypts one 16-byte block with SM4 (GB/T 32907), no mode of operation.
///
/// For test vectors and interoperability checks; use [`crate::Suite::encrypt`]
/// to encrypt data.
pub fn sm4_encrypt_block(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let cipher = Sm4::new(&Array::from(*key));
    let mut buffer = Array::from(*block);
    cipher.encrypt_block(&mut buffer);
    buffer.into()
}

/// Decrypts one 16-byte block with SM4 (GB/T 32907), no mode of operation.
pub fn sm4_decrypt_block(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let cipher = Sm4::new(&Array::from(*key));
    let mut buffer = Array::from(*block);
    cipher.decrypt_block(&mut buffer);
    buffer.into()
}
