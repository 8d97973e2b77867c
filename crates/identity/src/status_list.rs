//! Bitstring Status List 1.0: an issuer's revocation or suspension bits, as the ledger holds them,
//! published as a `BitstringStatusListCredential`.
//!
//! The bitstring is the ledger's list as bytes (bit 0 is the most significant bit of the first
//! byte, as the specification orders them and as the Identity module stores them); the
//! `encodedList` is `u` + base64url (no padding) of its GZIP compression.

use crate::credential::{VC_CONTEXT, status_list_url};
use crate::did::{Did, timestamp};
use banyan_modules::identity::credentials::LIST_BITS;
use serde_json::{Value, json};
use std::io::{Read, Write};

/// The bytes of one list (131,072 bits: the specification's minimum, 16 KiB).
pub const LIST_BYTES: usize = LIST_BITS as usize / 8;
/// Longest `encodedList` accepted when decoding someone else's list.
pub const MAX_ENCODED_BYTES: usize = 256 * 1024;

/// Why an encoded list cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("encodedList: {0}")]
pub struct StatusListError(pub String);

/// The `encodedList` of `bits`.
#[expect(clippy::expect_used, reason = "writing to a Vec cannot fail")]
pub fn encode(bits: &[u8]) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bits).expect("writing to memory");
    let compressed = gz.finish().expect("writing to memory");
    format!("u{}", crate::b64url(&compressed))
}

/// The bits of an `encodedList`, at most [`LIST_BYTES`] × 16 once decompressed.
pub fn decode(encoded: &str) -> Result<Vec<u8>, StatusListError> {
    if encoded.len() > MAX_ENCODED_BYTES {
        return Err(StatusListError(format!(
            "{} bytes, above {MAX_ENCODED_BYTES}",
            encoded.len()
        )));
    }
    let text = encoded
        .strip_prefix('u')
        .ok_or_else(|| StatusListError("not multibase base64url (no 'u' prefix)".into()))?;
    let compressed =
        crate::unb64url(text).map_err(|e| StatusListError(format!("not base64url: {e}")))?;
    let limit = (LIST_BYTES * 16) as u64;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(limit + 1)
        .read_to_end(&mut bits)
        .map_err(|e| StatusListError(format!("not GZIP: {e}")))?;
    if bits.len() as u64 > limit {
        return Err(StatusListError(format!(
            "decompresses to more than {limit} bytes"
        )));
    }
    Ok(bits)
}

/// Bit `index` of `bits` (false beyond the end).
pub fn bit(bits: &[u8], index: u32) -> bool {
    let byte = (index / 8) as usize;
    bits.get(byte)
        .is_some_and(|b| b & (0x80 >> (index % 8)) != 0)
}

/// The `BitstringStatusListCredential` of list `list` of `purpose` of `issuer`, its bits read
/// from the ledger at a block of time `at` (unix seconds). Unsecured: a verifier reads the same
/// bits from the ledger, which is what vouches for them; an issuer's node may sign it.
pub fn credential(issuer: Did, purpose: &str, list: u32, bits: &[u8], at: u64) -> Value {
    let url = status_list_url(issuer, purpose, list);
    json!({
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.to_string(),
        "validFrom": timestamp(at),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode(bits),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_bits_most_significant_first() {
        let mut bits = vec![0u8; LIST_BYTES];
        bits[0] = 0b1000_0001;
        bits[LIST_BYTES - 1] = 1;
        let encoded = encode(&bits);
        assert!(encoded.starts_with('u'));
        // 16 KiB of mostly zeros compresses to well under 1 KiB.
        assert!(encoded.len() < 1024, "{}", encoded.len());
        let back = decode(&encoded).unwrap();
        assert_eq!(back, bits);
        assert!(bit(&back, 0));
        assert!(!bit(&back, 1));
        assert!(bit(&back, 7));
        assert!(bit(&back, LIST_BITS - 1));
        assert!(!bit(&back, LIST_BITS));
    }

    #[test]
    fn refuses_what_is_not_a_list() {
        assert!(decode("H4sI").is_err());
        assert!(decode("u!!!").is_err());
        assert!(decode(&format!("u{}", crate::b64url(b"not gzip"))).is_err());
        // A GZIP bomb: 16 MiB of zeros.
        let bomb = encode(&vec![0u8; 16 * 1024 * 1024]);
        assert!(decode(&bomb).unwrap_err().0.contains("more than"));
    }
}
