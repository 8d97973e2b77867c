//! secp256k1 ECDSA as Ethereum uses it: RFC 6979 nonces, low-S (EIP-2),
//! 65-byte `r ‖ s ‖ v` signatures with `v` in {0, 1}, public-key recovery.

use alloy_primitives::B256;
use k256::{
    ecdsa::{RecoveryId, Signature as K1Signature, SigningKey, VerifyingKey},
    elliptic_curve::{rand_core::OsRng, scalar::IsHigh},
};

use crate::{CryptoError, PublicKey, SecretKey};

/// Parses a secret key as a secp256k1 scalar in `[1, n-1]`.
fn signing_key(sk: &SecretKey) -> Result<SigningKey, CryptoError> {
    SigningKey::from_slice(sk.as_array()).map_err(|_| {
        CryptoError::InvalidSecretKey("zero or not below the secp256k1 group order".to_owned())
    })
}

/// Parses a public key as a point of secp256k1.
fn verifying_key(pk: &PublicKey) -> Result<VerifyingKey, CryptoError> {
    VerifyingKey::from_sec1_bytes(&pk.to_sec1_uncompressed())
        .map_err(|_| CryptoError::InvalidPublicKey("not a point of the secp256k1 curve".to_owned()))
}

fn to_public_key(vk: &VerifyingKey) -> PublicKey {
    let point = vk.to_encoded_point(false);
    let mut x_y = [0u8; 64];
    // An uncompressed SEC1 point of a 256-bit curve is 0x04 followed by 64 bytes.
    x_y.copy_from_slice(&point.as_bytes()[1..]);
    PublicKey::from_curve_point(x_y)
}

/// A fresh random secret key valid for secp256k1.
pub(crate) fn generate_secret() -> SecretKey {
    let key = k256::SecretKey::random(&mut OsRng);
    SecretKey::from_checked(key.to_bytes().into())
}

/// Checks that `bytes` is a secp256k1 secret scalar.
pub(crate) fn check_secret(sk: &SecretKey) -> Result<(), CryptoError> {
    signing_key(sk).map(|_| ())
}

/// Checks that `pk` is a point of secp256k1.
pub(crate) fn check_public(pk: &PublicKey) -> Result<(), CryptoError> {
    verifying_key(pk).map(|_| ())
}

/// The public key of `sk` on secp256k1.
pub(crate) fn public_key(sk: &SecretKey) -> Result<PublicKey, CryptoError> {
    Ok(to_public_key(signing_key(sk)?.verifying_key()))
}

/// Signs a 32-byte prehash (e.g. a transaction's signing hash) with secp256k1.
///
/// The nonce is derived deterministically (RFC 6979), `s` is in the lower half
/// of the group order (EIP-2) and the result is `r ‖ s ‖ v` with `v` the
/// recovery id, 0 or 1 (add 27, or `2 * chain_id + 35`, for Ethereum's
/// transaction encodings).
pub fn sign_ecdsa_prehash(sk: &SecretKey, prehash: &B256) -> Result<[u8; 65], CryptoError> {
    let key = signing_key(sk)?;
    let (signature, recovery_id) = key
        .sign_prehash_recoverable(prehash.as_slice())
        .map_err(|e| CryptoError::SigningFailed(e.to_string()))?;
    // k256 normalises s to the lower half and flips the recovery id to match.
    if bool::from(signature.s().is_high()) {
        return Err(CryptoError::SigningFailed(
            "produced a high-S signature".to_owned(),
        ));
    }
    // An x coordinate above the group order (probability ~2^-128) cannot be
    // expressed with Ethereum's v in {0, 1}.
    if recovery_id.is_x_reduced() {
        return Err(CryptoError::SigningFailed(
            "R.x exceeds the group order; v would not fit in {0, 1}".to_owned(),
        ));
    }
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&signature.to_bytes());
    out[64] = recovery_id.to_byte();
    Ok(out)
}

/// Recovers the signer's public key from a 32-byte prehash and a 65-byte
/// `r ‖ s ‖ v` signature (`v` must be 0 or 1), as Ethereum's `ecrecover` does.
///
/// Rejects high-S signatures (EIP-2), zero or out-of-range `r`/`s`, and any
/// signature that does not verify against the recovered key.
pub fn recover_ecdsa_prehash(prehash: &B256, sig65: &[u8]) -> Result<PublicKey, CryptoError> {
    let (signature, recovery_id) = parse_signature(sig65)?;
    let key = VerifyingKey::recover_from_prehash(prehash.as_slice(), &signature, recovery_id)
        .map_err(|_| CryptoError::VerificationFailed)?;
    Ok(to_public_key(&key))
}

/// Verifies a 65-byte signature against `pk`: the key recovered with `v` must be `pk`.
///
/// Checking through recovery makes verification exactly as strict as
/// `ecrecover`: a signature accepted here is also accepted by transaction
/// sender recovery, and one with the wrong `v` is rejected by both.
pub(crate) fn verify_prehash(
    pk: &PublicKey,
    prehash: &B256,
    sig65: &[u8],
) -> Result<(), CryptoError> {
    check_public(pk)?;
    if recover_ecdsa_prehash(prehash, sig65)? == *pk {
        Ok(())
    } else {
        Err(CryptoError::VerificationFailed)
    }
}

fn parse_signature(sig65: &[u8]) -> Result<(K1Signature, RecoveryId), CryptoError> {
    let sig65: &[u8; 65] = sig65.try_into().map_err(|_| {
        CryptoError::InvalidSignature(format!(
            "ecdsa signatures are 65 bytes (r||s||v), got {}",
            sig65.len()
        ))
    })?;
    let v = sig65[64];
    let recovery_id = match v {
        0 | 1 => RecoveryId::from_byte(v),
        _ => None,
    }
    .ok_or_else(|| CryptoError::InvalidSignature(format!("v must be 0 or 1, got {v}")))?;
    let signature = K1Signature::from_slice(&sig65[..64]).map_err(|_| {
        CryptoError::InvalidSignature(
            "r or s is zero or not below the secp256k1 group order".to_owned(),
        )
    })?;
    if bool::from(signature.s().is_high()) {
        return Err(CryptoError::InvalidSignature(
            "s is in the upper half of the group order (EIP-2 requires low-S)".to_owned(),
        ));
    }
    Ok((signature, recovery_id))
}
