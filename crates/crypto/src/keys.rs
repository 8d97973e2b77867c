//! Key and signature types shared by both suites.
//!
//! The types hold plain bytes and do not remember their suite: every suite
//! operation parses them again into its curve's types, so a value made for one
//! suite and used with the other fails with a typed error, never silently.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use zeroize::Zeroize;

use crate::{
    CryptoError, Suite,
    error::{decode_hex, encode_hex},
};

/// A 32-byte big-endian secret scalar.
///
/// [`SecretKey::from_bytes`] accepts any value that is a valid key for at
/// least one suite (non-zero and below the secp256k1 group order, the larger of
/// the two orders); [`Suite::secret_key_from_bytes`] checks against one suite's
/// curve. Suite operations check again and fail with
/// [`CryptoError::InvalidSecretKey`] for a key outside their curve's range.
///
/// `Debug` never prints the key, and the bytes are zeroed on drop.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Length of a secret key in bytes.
    pub const LEN: usize = 32;

    /// Parses a 32-byte big-endian secret key valid for at least one suite.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array = Self::check_len(bytes)?;
        // The SM2 order is below the secp256k1 order, so every SM2 key is
        // also a valid secp256k1 key and this one check covers both suites.
        k256::SecretKey::from_slice(&array).map_err(|_| {
            CryptoError::InvalidSecretKey("zero or not below the curve order".to_owned())
        })?;
        Ok(Self(array))
    }

    /// Parses a secret key from hex (with or without `0x`).
    pub fn from_hex(input: &str) -> Result<Self, CryptoError> {
        let mut bytes = decode_hex(input)?;
        let key = Self::from_bytes(&bytes);
        bytes.zeroize();
        key
    }

    /// The 32 big-endian bytes of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The key as `0x`-prefixed lowercase hex.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// Borrows the key bytes.
    pub(crate) fn as_array(&self) -> &[u8; 32] {
        &self.0
    }

    /// Wraps bytes already checked by a suite.
    pub(crate) fn from_checked(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn check_len(bytes: &[u8]) -> Result<[u8; 32], CryptoError> {
        <[u8; 32]>::try_from(bytes).map_err(|_| {
            CryptoError::InvalidSecretKey(format!("expected 32 bytes, got {}", bytes.len()))
        })
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// An uncompressed public key: the 64 bytes `x ‖ y` without the SEC1 `0x04` prefix.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 64]);

impl PublicKey {
    /// Length of a public key in bytes.
    pub const LEN: usize = 64;

    /// Parses `x ‖ y` (64 bytes) or `0x04 ‖ x ‖ y` (65 bytes) and checks that
    /// the point is on the suite's curve.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        let key = Self::parse_unchecked(bytes)?;
        suite.validate_public_key(&key)?;
        Ok(key)
    }

    /// Parses hex (with or without `0x`) as [`PublicKey::from_bytes`] does.
    pub fn from_hex(suite: Suite, input: &str) -> Result<Self, CryptoError> {
        Self::from_bytes(suite, &decode_hex(input)?)
    }

    /// The 64 bytes `x ‖ y`.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0
    }

    /// Borrows the 64 bytes `x ‖ y`.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The SEC1 uncompressed encoding `0x04 ‖ x ‖ y` (65 bytes).
    pub fn to_sec1_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..].copy_from_slice(&self.0);
        out
    }

    /// The key as `0x`-prefixed lowercase hex of `x ‖ y`.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// Wraps the `x ‖ y` of a point that a curve library produced.
    pub(crate) fn from_curve_point(x_y: [u8; 64]) -> Self {
        Self(x_y)
    }

    /// Checks the length and the optional `0x04` prefix only.
    fn parse_unchecked(bytes: &[u8]) -> Result<Self, CryptoError> {
        let x_y = match bytes.len() {
            64 => bytes,
            65 if bytes[0] == 0x04 => &bytes[1..],
            65 => {
                return Err(CryptoError::InvalidPublicKey(format!(
                    "65-byte key must start with 0x04 (uncompressed), found 0x{:02x}",
                    bytes[0]
                )));
            }
            len => {
                return Err(CryptoError::InvalidPublicKey(format!(
                    "expected 64 bytes (x||y) or 65 bytes (0x04||x||y), got {len}"
                )));
            }
        };
        let mut array = [0u8; 64];
        array.copy_from_slice(x_y);
        Ok(Self(array))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Serialized as a `0x`-prefixed hex string of `x ‖ y`.
impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

/// Accepts hex of `x ‖ y` or `0x04 ‖ x ‖ y` that is a point of at least one
/// suite's curve (the suite is not known here; suite operations check their
/// own curve again).
impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = decode_hex(&text).map_err(D::Error::custom)?;
        let key = Self::parse_unchecked(&bytes).map_err(D::Error::custom)?;
        let on_some_curve = [Suite::Ecdsa, Suite::Sm]
            .iter()
            .any(|suite| suite.validate_public_key(&key).is_ok());
        if on_some_curve {
            Ok(key)
        } else {
            Err(D::Error::custom(CryptoError::InvalidPublicKey(
                "not a point of the secp256k1 or the SM2 curve".to_owned(),
            )))
        }
    }
}

/// A signature: 65 bytes `r ‖ s ‖ v` for the `ecdsa` suite, 64 bytes `r ‖ s`
/// for the `sm` suite.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Signature(Vec<u8>);

impl Signature {
    /// Length of an `ecdsa` suite signature (`r ‖ s ‖ v`).
    pub const ECDSA_LEN: usize = 65;
    /// Length of an `sm` suite signature (`r ‖ s`).
    pub const SM2_LEN: usize = 64;

    /// Accepts 64 or 65 bytes; the suite checks the rest when verifying.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match bytes.len() {
            Self::SM2_LEN | Self::ECDSA_LEN => Ok(Self(bytes.to_vec())),
            len => Err(CryptoError::InvalidSignature(format!(
                "expected 64 bytes (r||s) or 65 bytes (r||s||v), got {len}"
            ))),
        }
    }

    /// Parses hex (with or without `0x`).
    pub fn from_hex(input: &str) -> Result<Self, CryptoError> {
        Self::from_bytes(&decode_hex(input)?)
    }

    /// The signature bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.clone()
    }

    /// Borrows the signature bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The signature as `0x`-prefixed lowercase hex.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

impl From<[u8; 65]> for Signature {
    fn from(bytes: [u8; 65]) -> Self {
        Self(bytes.to_vec())
    }
}

impl From<[u8; 64]> for Signature {
    fn from(bytes: [u8; 64]) -> Self {
        Self(bytes.to_vec())
    }
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Serialized as a `0x`-prefixed hex string.
impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text).map_err(D::Error::custom)
    }
}

/// A symmetric key: 32 bytes for AES-256-GCM (`ecdsa` suite), 16 bytes for
/// SM4-GCM (`sm` suite).
///
/// `Debug` never prints the key, and the bytes are zeroed on drop.
#[derive(Clone)]
pub struct SymmetricKey(Vec<u8>);

impl SymmetricKey {
    /// Accepts 16 bytes (SM4) or 32 bytes (AES-256); the suite checks which it needs.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match bytes.len() {
            16 | 32 => Ok(Self(bytes.to_vec())),
            len => Err(CryptoError::InvalidSymmetricKey(format!(
                "expected 16 bytes (SM4) or 32 bytes (AES-256), got {len}"
            ))),
        }
    }

    /// Parses hex (with or without `0x`).
    pub fn from_hex(input: &str) -> Result<Self, CryptoError> {
        let mut bytes = decode_hex(input)?;
        let key = Self::from_bytes(&bytes);
        bytes.zeroize();
        key
    }

    /// Borrows the key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The key as `0x`-prefixed lowercase hex.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// Wraps freshly generated bytes of a suite's key length (16 or 32).
    pub(crate) fn from_checked(bytes: Vec<u8>) -> Self {
        debug_assert!(matches!(bytes.len(), 16 | 32), "symmetric key length");
        Self(bytes)
    }

    /// Length of the key in bytes (16 or 32).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a key has 16 or 32 bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SymmetricKey(<redacted {} bytes>)", self.0.len())
    }
}

impl Drop for SymmetricKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
