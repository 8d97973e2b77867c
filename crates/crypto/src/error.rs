//! The one error type of this crate.

/// Everything that can go wrong in `banyan-crypto`.
///
/// Messages say what was wrong with the input; none of them carries key
/// material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The secret key bytes are not a valid scalar for the curve.
    #[error("invalid secret key: {0}")]
    InvalidSecretKey(String),
    /// The public key bytes are malformed or not a point of the curve.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    /// The signature bytes are malformed (length, range of `r`/`s`, recovery id).
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// The signature is well formed but does not match the key and message.
    #[error("signature verification failed")]
    VerificationFailed,
    /// Signing failed; happens only with negligible probability.
    #[error("signing failed: {0}")]
    SigningFailed(String),
    /// An SM2 user id longer than the standard's 16-bit bit-length field allows.
    #[error("invalid SM2 user id: {len} bytes, at most {max} allowed")]
    InvalidSm2UserId {
        /// Length of the rejected id in bytes.
        len: usize,
        /// Longest id allowed, in bytes.
        max: usize,
    },
    /// The symmetric key has the wrong length for the suite.
    #[error("invalid symmetric key: {0}")]
    InvalidSymmetricKey(String),
    /// The input is shorter than nonce plus tag, so it cannot be a ciphertext.
    #[error(
        "decryption failed: input is {len} bytes, shorter than the {min} bytes of nonce and tag"
    )]
    CiphertextTooShort {
        /// Length of the rejected input.
        len: usize,
        /// Smallest possible ciphertext (nonce plus tag).
        min: usize,
    },
    /// Authentication failed: wrong key, wrong associated data, or tampered bytes.
    #[error("decryption failed: authentication tag mismatch (wrong key or tampered data)")]
    DecryptionFailed,
    /// Encryption refused the input (e.g. the plaintext exceeds the AEAD's limit).
    #[error("encryption failed: {0}")]
    EncryptionFailed(String),
    /// A hex string could not be decoded.
    #[error("invalid hex: {0}")]
    InvalidHex(String),
    /// A suite name other than `ecdsa` or `sm`.
    #[error("unknown crypto suite {0:?}: expected \"ecdsa\" or \"sm\"")]
    UnknownSuite(String),
}

/// Decodes hex with or without a `0x` prefix.
pub(crate) fn decode_hex(input: &str) -> Result<Vec<u8>, CryptoError> {
    let trimmed = input.trim();
    let digits = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    hex::decode(digits).map_err(|e| CryptoError::InvalidHex(e.to_string()))
}

/// Encodes bytes as lowercase hex with a `0x` prefix.
pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
