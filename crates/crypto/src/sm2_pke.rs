//! SM2 public-key encryption (GB/T 32918.4), ciphertext layout `C1 ‖ C3 ‖ C2`.

use sm2::{
    elliptic_curve::common::getrandom::SysRng,
    pke::{DecryptingKey, EncryptingKey, Mode},
};

use crate::{
    CryptoError, PublicKey, SecretKey,
    sm2_dsa::{public_key_point, secret_key},
};

/// Encrypts `plaintext` to `pk` with SM2. Output: `C1 ‖ C3 ‖ C2`, where `C1`
/// is the uncompressed ephemeral point `0x04 ‖ x ‖ y` (65 bytes), `C3` the
/// SM3 check value (32 bytes) and `C2` the masked plaintext (same length).
///
/// The plaintext must not be empty.
pub fn sm2_encrypt(pk: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if plaintext.is_empty() {
        return Err(CryptoError::EncryptionFailed(
            "SM2 cannot encrypt an empty plaintext".to_owned(),
        ));
    }
    EncryptingKey::new_with_mode(public_key_point(pk)?, Mode::C1C3C2)
        .encrypt(&mut SysRng, plaintext)
        .map_err(|_| CryptoError::EncryptionFailed("SM2 encryption failed".to_owned()))
}

/// Decrypts an SM2 `C1 ‖ C3 ‖ C2` ciphertext (with `C1` uncompressed) for `sk`.
///
/// Fails with [`CryptoError::DecryptionFailed`] when the check value `C3`
/// does not match (wrong key or tampered data) or the input is malformed.
pub fn sm2_decrypt(sk: &SecretKey, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let secret = secret_key(sk)?;
    DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), Mode::C1C3C2)
        .decrypt(ciphertext)
        .map_err(|_| CryptoError::DecryptionFailed)
}
