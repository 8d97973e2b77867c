//! Encryption at rest: the AEAD that seals a node's stored values under a data key.
//!
//! A [`DataCipher`] seals many small values (every stored record of a node) under one data key,
//! so nonces are not drawn at random (NIST SP 800-38D §8.3 bounds random 96-bit nonces to 2^32
//! messages per key, which a busy node writes in hours). Instead each [`DataCipher`] picks a
//! random 16-byte *session salt* when it is made, derives a session key from the data key and
//! the salt, and numbers its messages with a counter:
//!
//! ```text
//! session key = HMAC(data key, "banyan data at rest v1" ‖ salt)[..key length]
//!               (HMAC-SHA-256 for AES-256-GCM, HMAC-SM3 for SM4-GCM)
//! nonce       = 0x00000000 ‖ counter (u64, big-endian)
//! record      = 0x01 ‖ salt (16) ‖ counter (8, big-endian) ‖ ciphertext ‖ tag (16)
//! ```
//!
//! A nonce repeats only if two sessions draw the same 128-bit salt, so restoring an old copy of
//! a data directory (which a stored counter would not survive) is safe. The associated data
//! names where the value is stored, so that a value moved to another place fails to open.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{KeyInit, Mac, SimpleHmac};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroize;

use crate::symmetric::AEAD_TAG_LEN;
use crate::{CryptoError, Suite, SymmetricKey};

/// The format byte that starts every sealed record.
pub const RECORD_VERSION: u8 = 1;

/// Length of a session salt.
pub const SALT_LEN: usize = 16;

/// Bytes a sealed record adds to its plaintext: format byte, salt, counter and tag.
pub const RECORD_OVERHEAD: usize = 1 + SALT_LEN + 8 + AEAD_TAG_LEN;

/// The label the session keys are derived under.
const LABEL: &[u8] = b"banyan data at rest v1";

/// Session keys of other sessions kept for reading; past this many the cache is emptied.
const MAX_CACHED_SESSIONS: usize = 4096;

/// Seals and opens stored values under one data key (see the module documentation).
pub struct DataCipher {
    suite: Suite,
    key: SymmetricKey,
    salt: [u8; SALT_LEN],
    session_key: SymmetricKey,
    counter: AtomicU64,
    /// Session keys of records written by earlier sessions, by salt.
    others: RwLock<HashMap<[u8; SALT_LEN], SymmetricKey>>,
}

impl std::fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataCipher")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl DataCipher {
    /// A cipher of `suite`'s AEAD (AES-256-GCM or SM4-GCM) under `key`, which must have the
    /// suite's key length (32 or 16 bytes), with a fresh session salt.
    pub fn new(suite: Suite, key: SymmetricKey) -> Result<Self, CryptoError> {
        if key.len() != suite.symmetric_key_len() {
            return Err(CryptoError::InvalidSymmetricKey(format!(
                "a data key of the {suite} suite has {} bytes ({}), this one has {}",
                suite.symmetric_key_len(),
                suite.aead_name(),
                key.len()
            )));
        }
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let session_key = derive(suite, &key, &salt)?;
        Ok(Self {
            suite,
            key,
            salt,
            session_key,
            counter: AtomicU64::new(0),
            others: RwLock::new(HashMap::new()),
        })
    }

    /// The AEAD's name: `AES-256-GCM` or `SM4-GCM`.
    pub fn algorithm(&self) -> &'static str {
        self.suite.aead_name()
    }

    /// Seals `plaintext`, bound to `aad` (which opening must repeat); the output is
    /// [`RECORD_OVERHEAD`] bytes longer.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        if counter == u64::MAX {
            return Err(CryptoError::EncryptionFailed(
                "this session sealed 2^64 - 1 records; open the store again".into(),
            ));
        }
        let sealed = self
            .suite
            .seal(&self.session_key, &nonce(counter), aad, plaintext)?;
        let mut out = Vec::with_capacity(1 + SALT_LEN + 8 + sealed.len());
        out.push(RECORD_VERSION);
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a record [`seal`](Self::seal) made (in this session or an earlier one, under the
    /// same data key) with the same `aad`. Fails on a wrong key, a value moved to another place,
    /// damaged bytes or a record too short or of an unknown format.
    pub fn open(&self, aad: &[u8], record: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if record.len() < RECORD_OVERHEAD {
            return Err(CryptoError::CiphertextTooShort {
                len: record.len(),
                min: RECORD_OVERHEAD,
            });
        }
        if record[0] != RECORD_VERSION {
            return Err(CryptoError::EncryptionFailed(format!(
                "sealed record of format {}, this build reads format {RECORD_VERSION}",
                record[0]
            )));
        }
        let short = || CryptoError::CiphertextTooShort {
            len: record.len(),
            min: RECORD_OVERHEAD,
        };
        let (salt, rest) = record[1..]
            .split_first_chunk::<SALT_LEN>()
            .ok_or_else(short)?;
        let (counter, sealed) = rest.split_first_chunk::<8>().ok_or_else(short)?;
        let (salt, counter) = (*salt, u64::from_be_bytes(*counter));
        if salt == self.salt {
            return self
                .suite
                .open(&self.session_key, &nonce(counter), aad, sealed);
        }
        let cached = self
            .others
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&salt)
            .cloned();
        let key = match cached {
            Some(key) => key,
            None => {
                let key = derive(self.suite, &self.key, &salt)?;
                let mut others = self.others.write().unwrap_or_else(|e| e.into_inner());
                if others.len() >= MAX_CACHED_SESSIONS {
                    others.clear();
                }
                others.insert(salt, key.clone());
                key
            }
        };
        self.suite.open(&key, &nonce(counter), aad, sealed)
    }
}

fn nonce(counter: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

/// The session key for `salt`: HMAC of the label and salt under the data key, cut to the suite's
/// key length.
fn derive(
    suite: Suite,
    key: &SymmetricKey,
    salt: &[u8; SALT_LEN],
) -> Result<SymmetricKey, CryptoError> {
    let mut out = match suite {
        Suite::Ecdsa => hmac::<sha2::Sha256>(key.as_bytes(), salt)?,
        Suite::Sm => hmac::<sm3::Sm3>(key.as_bytes(), salt)?,
    };
    let session = SymmetricKey::from_checked(out[..suite.symmetric_key_len()].to_vec());
    out.zeroize();
    Ok(session)
}

fn hmac<D>(key: &[u8], salt: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    D: hmac::digest::Digest + hmac::digest::common::BlockSizeUser,
{
    // HMAC takes keys of any length: the error does not happen.
    let mut mac = <SimpleHmac<D> as KeyInit>::new_from_slice(key)
        .map_err(|_| CryptoError::InvalidSymmetricKey("HMAC refused the data key".into()))?;
    mac.update(LABEL);
    mac.update(salt);
    Ok(mac.finalize().into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(suite: Suite) -> (SymmetricKey, DataCipher) {
        let key = suite.generate_symmetric_key();
        (key.clone(), DataCipher::new(suite, key).unwrap())
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?"; our helper puts the
        // label first, so feed the data through the same HMAC type directly.
        let mut mac = <SimpleHmac<sha2::Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_sealed_value_opens_in_its_session_and_in_a_later_one_with_the_same_aad_only() {
        for suite in [Suite::Ecdsa, Suite::Sm] {
            let (key, first) = cipher(suite);
            let record = first.seal(b"bodies\0k1", b"marker-1234").unwrap();
            assert_eq!(record.len(), b"marker-1234".len() + RECORD_OVERHEAD);
            assert!(
                !record
                    .windows(b"marker".len())
                    .any(|w| w == b"marker".as_slice()),
                "{suite}: plaintext visible in the record"
            );
            assert_eq!(first.open(b"bodies\0k1", &record).unwrap(), b"marker-1234");
            let later = DataCipher::new(suite, key).unwrap();
            assert_eq!(later.open(b"bodies\0k1", &record).unwrap(), b"marker-1234");
            assert_eq!(
                later.open(b"bodies\0k2", &record),
                Err(CryptoError::DecryptionFailed),
                "{suite}: a value moved to another key must not open"
            );
        }
    }

    #[test]
    fn a_wrong_key_a_changed_byte_or_a_short_or_unknown_record_is_refused() {
        let (_, cipher_a) = cipher(Suite::Ecdsa);
        let (_, cipher_b) = cipher(Suite::Ecdsa);
        let record = cipher_a.seal(b"aad", b"value").unwrap();
        assert_eq!(
            cipher_b.open(b"aad", &record),
            Err(CryptoError::DecryptionFailed)
        );
        for i in 0..record.len() {
            let mut damaged = record.clone();
            damaged[i] ^= 0x01;
            assert!(cipher_a.open(b"aad", &damaged).is_err(), "byte {i} changed");
        }
        for len in 0..RECORD_OVERHEAD {
            assert!(matches!(
                cipher_a.open(b"aad", &record[..len]),
                Err(CryptoError::CiphertextTooShort { .. })
            ));
        }
    }

    #[test]
    fn nonces_never_repeat_within_a_session_and_sessions_have_their_own_salt() {
        let (key, first) = cipher(Suite::Sm);
        let a = first.seal(b"", b"same").unwrap();
        let b = first.seal(b"", b"same").unwrap();
        assert_ne!(a, b);
        assert_eq!(&a[1..1 + SALT_LEN], &b[1..1 + SALT_LEN]);
        assert_ne!(
            &a[1 + SALT_LEN..1 + SALT_LEN + 8],
            &b[1 + SALT_LEN..1 + SALT_LEN + 8]
        );
        let second = DataCipher::new(Suite::Sm, key).unwrap();
        let c = second.seal(b"", b"same").unwrap();
        assert_ne!(&a[1..1 + SALT_LEN], &c[1..1 + SALT_LEN]);
    }

    #[test]
    fn a_key_of_the_other_suites_length_is_refused() {
        let sm_key = Suite::Sm.generate_symmetric_key();
        let err = DataCipher::new(Suite::Ecdsa, sm_key).unwrap_err();
        assert!(err.to_string().contains("32 bytes"), "{err}");
    }
}
