//! The two 256-bit hash functions: Keccak-256 (Ethereum) and SM3 (GB/T 32905).

use alloy_primitives::B256;
use sm3::{Digest, Sm3};

/// Keccak-256 as used by Ethereum (not NIST SHA3-256: the padding differs).
pub(crate) fn keccak256(data: &[u8]) -> B256 {
    alloy_primitives::keccak256(data)
}

/// SM3 over the concatenation of `parts`.
pub(crate) fn sm3_parts(parts: &[&[u8]]) -> B256 {
    let mut hasher = Sm3::new();
    for part in parts {
        hasher.update(part);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    B256::new(digest)
}

/// SM3 of `data`.
pub(crate) fn sm3(data: &[u8]) -> B256 {
    sm3_parts(&[data])
}
