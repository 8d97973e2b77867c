//! SM2 signatures (GB/T 32918.2, GM/T 0003.2) over the curve sm2p256v1.
//!
//! The `Z` value (hash of the signer's id and public key) is computed here
//! rather than by the `sm2` crate, so that user ids may be any bytes, not only
//! UTF-8; the `sm2` crate then signs and verifies `e = SM3(Z ‖ M)`.

use alloy_primitives::{B256, hex};
use sm2::{
    Scalar,
    dsa::{
        Signature as Sm2Signature, SigningKey, VerifyingKey,
        signature::hazmat::{PrehashSigner, PrehashVerifier},
    },
    elliptic_curve::sec1::ToSec1Point,
};

use crate::{CryptoError, PublicKey, SecretKey, Signature, hash::sm3_parts};

/// The default SM2 user id of GM/T 0009-2012 §10, used by the `sm` suite.
pub const SM2_DEFAULT_USER_ID: &[u8] = b"1234567812345678";

/// The longest user id in bytes: its length in bits must fit the 16-bit
/// `ENTL` field of `Z`.
pub const SM2_MAX_USER_ID_LEN: usize = (u16::MAX / 8) as usize;

/// sm2p256v1 curve coefficients and base point (GB/T 32918.5 §2).
const SM2_A: [u8; 32] = hex!("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
const SM2_B: [u8; 32] = hex!("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
const SM2_GX: [u8; 32] = hex!("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
const SM2_GY: [u8; 32] = hex!("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

/// The distinguishing id handed to the `sm2` crate. It only feeds the crate's
/// own `Z`, which is never used: we sign and verify prehashes built from our `Z`.
const UNUSED_DISTID: &str = "";

/// `Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)` (GB/T 32918.2 §5.5).
///
/// `ENTL` is the id's length in bits as two big-endian bytes. An id longer
/// than [`SM2_MAX_USER_ID_LEN`] bytes has no standard `Z`; its length wraps
/// here, and [`sm2_sign_with_id`] / [`sm2_verify_with_id`] reject such ids
/// before hashing.
pub fn sm2_z_value(pk: &PublicKey, id: &[u8]) -> B256 {
    let entl = (id.len().wrapping_mul(8) as u16).to_be_bytes();
    sm3_parts(&[&entl, id, &SM2_A, &SM2_B, &SM2_GX, &SM2_GY, pk.as_bytes()])
}

/// Signs `msg` with SM2 for the signer id `id` (GB/T 32918.2 §6).
///
/// The per-signature nonce `k` is derived deterministically from the key and
/// `e` (RFC 6979 with SM3), so equal inputs give equal signatures. Returns
/// 64 bytes `r ‖ s`.
pub fn sm2_sign_with_id(sk: &SecretKey, id: &[u8], msg: &[u8]) -> Result<Signature, CryptoError> {
    check_user_id(id)?;
    let secret = secret_key(sk)?;
    let signing = SigningKey::new(UNUSED_DISTID, &secret)
        .map_err(|e| CryptoError::SigningFailed(e.to_string()))?;
    let pk = to_public_key(&sm2::PublicKey::from(signing.verifying_key()));
    let e = sm3_parts(&[sm2_z_value(&pk, id).as_slice(), msg]);
    let signature: Sm2Signature = signing
        .sign_prehash(e.as_slice())
        .map_err(|e| CryptoError::SigningFailed(e.to_string()))?;
    let bytes: [u8; 64] = signature.to_bytes().into();
    Ok(Signature::from(bytes))
}

/// Verifies a 64-byte `r ‖ s` SM2 signature of `msg` by the holder of `pk`
/// with signer id `id` (GB/T 32918.2 §7).
pub fn sm2_verify_with_id(
    pk: &PublicKey,
    id: &[u8],
    msg: &[u8],
    sig64: &[u8],
) -> Result<(), CryptoError> {
    check_user_id(id)?;
    if sig64.len() != Signature::SM2_LEN {
        return Err(CryptoError::InvalidSignature(format!(
            "SM2 signatures are 64 bytes (r||s), got {}",
            sig64.len()
        )));
    }
    let verifying = VerifyingKey::new(UNUSED_DISTID, public_key_point(pk)?)
        .map_err(|_| CryptoError::InvalidPublicKey("not usable as an SM2 key".to_owned()))?;
    let signature = Sm2Signature::from_slice(sig64).map_err(|_| {
        CryptoError::InvalidSignature("r or s is zero or not below the SM2 group order".to_owned())
    })?;
    let e = sm3_parts(&[sm2_z_value(pk, id).as_slice(), msg]);
    verifying
        .verify_prehash(e.as_slice(), &signature)
        .map_err(|_| CryptoError::VerificationFailed)
}

/// Parses a secret key as an SM2 private key `d` in `[1, n-2]`
/// (GB/T 32918.1 §6.1: signing inverts `1 + d`, so `d = n-1` is excluded).
pub(crate) fn secret_key(sk: &SecretKey) -> Result<sm2::SecretKey, CryptoError> {
    let secret = sm2::SecretKey::from_slice(sk.as_array()).map_err(|_| {
        CryptoError::InvalidSecretKey("zero or not below the SM2 group order".to_owned())
    })?;
    let d_plus_one = *secret.to_nonzero_scalar() + Scalar::ONE;
    if bool::from(d_plus_one.is_zero()) {
        return Err(CryptoError::InvalidSecretKey(
            "n-1 is not a valid SM2 private key (GB/T 32918.1 requires d <= n-2)".to_owned(),
        ));
    }
    Ok(secret)
}

/// Parses a public key as a point of sm2p256v1.
pub(crate) fn public_key_point(pk: &PublicKey) -> Result<sm2::PublicKey, CryptoError> {
    sm2::PublicKey::from_sec1_bytes(&pk.to_sec1_uncompressed())
        .map_err(|_| CryptoError::InvalidPublicKey("not a point of the SM2 curve".to_owned()))
}

/// Converts an `sm2` crate public key to ours.
pub(crate) fn to_public_key(point: &sm2::PublicKey) -> PublicKey {
    let encoded = point.to_uncompressed_point();
    let mut x_y = [0u8; 64];
    x_y.copy_from_slice(&encoded[1..]);
    PublicKey::from_curve_point(x_y)
}

/// The public key of `sk` on sm2p256v1.
pub(crate) fn public_key(sk: &SecretKey) -> Result<PublicKey, CryptoError> {
    Ok(to_public_key(&secret_key(sk)?.public_key()))
}

/// A fresh random secret key valid for SM2.
pub(crate) fn generate_secret() -> SecretKey {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    // Rejection sampling: a uniform 256-bit value falls outside [1, n-2] with
    // probability below 2^-32, so this loop almost always runs once.
    loop {
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let candidate = SecretKey::from_checked(bytes);
        if secret_key(&candidate).is_ok() {
            zeroize::Zeroize::zeroize(&mut bytes);
            return candidate;
        }
    }
}

fn check_user_id(id: &[u8]) -> Result<(), CryptoError> {
    if id.len() > SM2_MAX_USER_ID_LEN {
        return Err(CryptoError::InvalidSm2UserId {
            len: id.len(),
            max: SM2_MAX_USER_ID_LEN,
        });
    }
    Ok(())
}
