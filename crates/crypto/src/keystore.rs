//! Secret keys encrypted with a passphrase, in the Web3 Secret Storage format ("keystore v3")
//! that Geth, ethers, web3.py and MetaMask read and write.
//!
//! | suite | key derivation | cipher | MAC |
//! |---|---|---|---|
//! | `ecdsa` | scrypt | AES-128-CTR (`"cipher": "aes-128-ctr"`) | Keccak-256 of `dk[16..32] ‖ ciphertext` |
//! | `sm` | scrypt | SM4-CTR (`"cipher": "sm4-ctr"`) | SM3 of `dk[16..32] ‖ ciphertext` |
//!
//! In both, scrypt derives 32 bytes `dk` from the passphrase (UTF-8) and a random 32-byte salt;
//! `dk[0..16]` is the cipher key and the counter starts at a random 16-byte `iv` (big-endian
//! 128-bit counter). An `sm` file also carries `"suite": "sm"`; a file without it is `ecdsa`, as
//! every other tool writes. `address` is the key's address in the suite (lowercase hex without
//! `0x`, as Geth writes it), and reading checks it.
//!
//! A file is untrusted input: its scrypt parameters are bounded ([`MAX_SCRYPT_MEMORY`]) before
//! any work is done, and the MAC is checked in constant time before the key is decrypted.

use alloy_primitives::hex;
use ctr::cipher::{KeyIvInit, StreamCipher};
use rand::{RngCore as _, rngs::OsRng};
use serde_json::{Value, json};
use zeroize::Zeroize;

use crate::{SecretKey, Suite, hash};

/// scrypt's work factor for new files: Geth's "standard" parameters (N = 2^18, r = 8, p = 1),
/// about a quarter of a GiB and a second of one core.
pub const STANDARD: ScryptParams = ScryptParams {
    log_n: 18,
    r: 8,
    p: 1,
};

/// Geth's "light" parameters (N = 2^12, r = 8, p = 6): for development keys and tests.
pub const LIGHT: ScryptParams = ScryptParams {
    log_n: 12,
    r: 8,
    p: 6,
};

/// The most memory a file's scrypt parameters may ask for (`128 · r · N` bytes): 1 GiB, four
/// times the standard parameters.
pub const MAX_SCRYPT_MEMORY: u64 = 1 << 30;

/// The most scrypt work a file may ask for (`N · r · p`), sixteen times the standard.
const MAX_SCRYPT_WORK: u64 = 16 * (1 << 18) * 8;

/// A keystore file's longest accepted text.
pub const MAX_FILE_LEN: usize = 64 * 1024;

/// scrypt's cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptParams {
    /// log2 of N.
    pub log_n: u8,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

/// Why a keystore file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// Not JSON, or a field missing or of the wrong shape.
    #[error("not a keystore file: {0}")]
    Malformed(String),
    /// A well-formed file this implementation does not read (another version, kdf or cipher).
    #[error("unsupported keystore: {0}")]
    Unsupported(String),
    /// scrypt parameters out of the accepted bounds.
    #[error("keystore scrypt parameters refused: {0}")]
    Params(String),
    /// The MAC does not match: the passphrase is wrong or the file was changed.
    #[error("wrong passphrase (or the keystore file was changed)")]
    WrongPassphrase,
    /// The decrypted key is not a key of the file's suite, or not the key of its `address`.
    #[error("the keystore's key is invalid: {0}")]
    InvalidKey(String),
}

impl ScryptParams {
    fn check(&self) -> Result<scrypt::Params, KeystoreError> {
        let n = 1u64.checked_shl(u32::from(self.log_n)).unwrap_or(u64::MAX);
        if self.log_n == 0 || self.log_n > 30 || self.r == 0 || self.p == 0 {
            return Err(KeystoreError::Params(format!(
                "n = 2^{}, r = {}, p = {}: each must be at least 1 (n at least 2, at most 2^30)",
                self.log_n, self.r, self.p
            )));
        }
        let memory = 128u64.saturating_mul(u64::from(self.r)).saturating_mul(n);
        if memory > MAX_SCRYPT_MEMORY {
            return Err(KeystoreError::Params(format!(
                "128·r·n = {memory} bytes, more than the {MAX_SCRYPT_MEMORY} allowed"
            )));
        }
        let work = n
            .saturating_mul(u64::from(self.r))
            .saturating_mul(u64::from(self.p));
        if work > MAX_SCRYPT_WORK {
            return Err(KeystoreError::Params(format!(
                "n·r·p = {work}, more than the {MAX_SCRYPT_WORK} allowed"
            )));
        }
        scrypt::Params::new(self.log_n, self.r, self.p)
            .map_err(|e| KeystoreError::Params(e.to_string()))
    }
}

/// The keystore text of `key` (a key of `suite`) encrypted with `passphrase`.
pub fn encrypt(
    suite: Suite,
    key: &SecretKey,
    passphrase: &str,
    params: ScryptParams,
) -> Result<String, KeystoreError> {
    let address = suite
        .public_key(key)
        .map(|pk| suite.address(&pk))
        .map_err(|e| KeystoreError::InvalidKey(e.to_string()))?;
    let mut salt = [0u8; 32];
    let mut iv = [0u8; 16];
    let mut id = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut iv);
    OsRng.fill_bytes(&mut id);
    let mut dk = derive(passphrase, &salt, params)?;
    let mut ciphertext = key.to_bytes();
    apply_ctr(suite, &dk, &iv, &mut ciphertext);
    let mac = mac(suite, &dk, &ciphertext);
    dk.zeroize();
    let mut file = json!({
        "address": hex::encode(address),
        "crypto": {
            "cipher": cipher_name(suite),
            "cipherparams": {"iv": hex::encode(iv)},
            "ciphertext": hex::encode(ciphertext),
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32,
                "n": 1u64 << params.log_n,
                "r": params.r,
                "p": params.p,
                "salt": hex::encode(salt),
            },
            "mac": hex::encode(mac),
        },
        "id": uuid_v4(id),
        "version": 3,
    });
    if suite == Suite::Sm {
        file["suite"] = json!(suite.name());
    }
    serde_json::to_string_pretty(&file).map_err(|e| KeystoreError::Malformed(e.to_string()))
}

/// Whether `text` looks like a keystore file (a JSON object) rather than a hex key.
pub fn is_keystore(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// The suite a keystore file is for (`"suite"`, `ecdsa` when absent), read without the
/// passphrase.
pub fn suite_of(text: &str) -> Result<Suite, KeystoreError> {
    let file = parse(text)?;
    file_suite(&file)
}

/// Decrypts a keystore file: its suite and its key.
pub fn decrypt(text: &str, passphrase: &str) -> Result<(Suite, SecretKey), KeystoreError> {
    let file = parse(text)?;
    let suite = file_suite(&file)?;
    match file.get("version").and_then(Value::as_u64) {
        Some(3) => {}
        Some(v) => return Err(KeystoreError::Unsupported(format!("version {v}, not 3"))),
        None => return Err(malformed("version")),
    }
    // Geth once wrote "Crypto"; readers accept both.
    let crypto = file
        .get("crypto")
        .or_else(|| file.get("Crypto"))
        .ok_or_else(|| malformed("crypto"))?;
    let text_field = |v: &Value, name: &str| -> Result<String, KeystoreError> {
        v.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| malformed(name))
    };
    let cipher = text_field(crypto, "cipher")?;
    if cipher != cipher_name(suite) {
        return Err(KeystoreError::Unsupported(format!(
            "cipher {cipher} for a {suite} key (this reads {})",
            cipher_name(suite)
        )));
    }
    let kdf = text_field(crypto, "kdf")?;
    if kdf != "scrypt" {
        return Err(KeystoreError::Unsupported(format!(
            "kdf {kdf} (this reads scrypt)"
        )));
    }
    let kdfparams = crypto
        .get("kdfparams")
        .ok_or_else(|| malformed("kdfparams"))?;
    let number = |name: &str| -> Result<u64, KeystoreError> {
        kdfparams
            .get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed(&format!("kdfparams.{name}")))
    };
    if number("dklen")? != 32 {
        return Err(KeystoreError::Unsupported("dklen other than 32".into()));
    }
    let n = number("n")?;
    if !n.is_power_of_two() || n < 2 {
        return Err(KeystoreError::Params(format!(
            "n = {n} is not a power of two above 1"
        )));
    }
    let params = ScryptParams {
        log_n: u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX),
        r: u32::try_from(number("r")?).map_err(|_| KeystoreError::Params("r too large".into()))?,
        p: u32::try_from(number("p")?).map_err(|_| KeystoreError::Params("p too large".into()))?,
    };
    let salt = hex_field(kdfparams, "salt", None)?;
    if salt.is_empty() || salt.len() > 1024 {
        return Err(KeystoreError::Malformed(format!(
            "kdfparams.salt is {} bytes (1 to 1024 allowed)",
            salt.len()
        )));
    }
    let iv: [u8; 16] = hex_field(
        crypto
            .get("cipherparams")
            .ok_or_else(|| malformed("cipherparams"))?,
        "iv",
        Some(16),
    )?
    .try_into()
    .map_err(|_| malformed("cipherparams.iv"))?;
    let ciphertext: [u8; 32] = hex_field(crypto, "ciphertext", Some(32))?
        .try_into()
        .map_err(|_| malformed("ciphertext"))?;
    let expected: [u8; 32] = hex_field(crypto, "mac", Some(32))?
        .try_into()
        .map_err(|_| malformed("mac"))?;
    // Every field is checked before the expensive derivation.
    let mut dk = derive(passphrase, &salt, params)?;
    let actual = mac(suite, &dk, &ciphertext);
    if !constant_time_eq(&actual, &expected) {
        dk.zeroize();
        return Err(KeystoreError::WrongPassphrase);
    }
    let mut plain = ciphertext;
    apply_ctr(suite, &dk, &iv, &mut plain);
    dk.zeroize();
    let key = suite.secret_key_from_bytes(&plain);
    plain.zeroize();
    let key = key.map_err(|e| KeystoreError::InvalidKey(e.to_string()))?;
    if let Some(address) = file.get("address").and_then(Value::as_str) {
        let stated =
            hex::decode(address.trim_start_matches("0x")).map_err(|_| malformed("address"))?;
        let actual = suite
            .public_key(&key)
            .map(|pk| suite.address(&pk))
            .map_err(|e| KeystoreError::InvalidKey(e.to_string()))?;
        if stated != actual.as_slice() {
            return Err(KeystoreError::InvalidKey(format!(
                "it belongs to {actual}, but the file says 0x{}",
                address.trim_start_matches("0x")
            )));
        }
    }
    Ok((suite, key))
}

fn parse(text: &str) -> Result<Value, KeystoreError> {
    if text.len() > MAX_FILE_LEN {
        return Err(KeystoreError::Malformed(format!(
            "{} bytes, more than the {MAX_FILE_LEN} a keystore file may have",
            text.len()
        )));
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| KeystoreError::Malformed(e.to_string()))?;
    if !value.is_object() {
        return Err(KeystoreError::Malformed("not a JSON object".into()));
    }
    Ok(value)
}

fn file_suite(file: &Value) -> Result<Suite, KeystoreError> {
    match file.get("suite") {
        None => Ok(Suite::Ecdsa),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|e| KeystoreError::Unsupported(format!("suite {s}: {e}"))),
        Some(_) => Err(malformed("suite")),
    }
}

fn malformed(field: &str) -> KeystoreError {
    KeystoreError::Malformed(format!("`{field}` is missing or of the wrong type"))
}

fn hex_field(v: &Value, name: &str, len: Option<usize>) -> Result<Vec<u8>, KeystoreError> {
    let text = v
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(name))?;
    let bytes = hex::decode(text.trim_start_matches("0x"))
        .map_err(|e| KeystoreError::Malformed(format!("`{name}` is not hex: {e}")))?;
    match len {
        Some(len) if bytes.len() != len => Err(KeystoreError::Malformed(format!(
            "`{name}` is {} bytes, not {len}",
            bytes.len()
        ))),
        _ => Ok(bytes),
    }
}

fn cipher_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Ecdsa => "aes-128-ctr",
        Suite::Sm => "sm4-ctr",
    }
}

fn derive(passphrase: &str, salt: &[u8], params: ScryptParams) -> Result<[u8; 32], KeystoreError> {
    let checked = params.check()?;
    let mut dk = [0u8; 32];
    scrypt::scrypt(passphrase.as_bytes(), salt, &checked, &mut dk)
        .map_err(|e| KeystoreError::Params(e.to_string()))?;
    Ok(dk)
}

fn apply_ctr(suite: Suite, dk: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    let key: &[u8; 16] = dk[..16].try_into().unwrap_or(&[0; 16]);
    match suite {
        Suite::Ecdsa => {
            ctr::Ctr128BE::<aes_gcm::aes::Aes128>::new(key.into(), iv.into()).apply_keystream(data);
        }
        Suite::Sm => {
            ctr::Ctr128BE::<sm4::Sm4>::new(key.into(), iv.into()).apply_keystream(data);
        }
    }
}

fn mac(suite: Suite, dk: &[u8; 32], ciphertext: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(16 + ciphertext.len());
    input.extend_from_slice(&dk[16..]);
    input.extend_from_slice(ciphertext);
    let digest = match suite {
        Suite::Ecdsa => hash::keccak256(&input),
        Suite::Sm => hash::sm3(&input),
    };
    input.zeroize();
    digest.0
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random (version 4) UUID from 16 random bytes.
fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scrypt example of the Web3 Secret Storage Definition.
    const SPEC_SCRYPT: &str = r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": "83dbcc02d8ccb40e466191a123791e0e"},
            "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32, "n": 262144, "p": 8, "r": 1,
                "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"
            },
            "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#;

    #[test]
    fn the_specifications_scrypt_vector_decrypts_to_its_key() {
        let (suite, key) = decrypt(SPEC_SCRYPT, "testpassword").unwrap();
        assert_eq!(suite, Suite::Ecdsa);
        assert_eq!(
            key.to_hex(),
            "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
        );
        assert!(matches!(
            decrypt(SPEC_SCRYPT, "testpasswort"),
            Err(KeystoreError::WrongPassphrase)
        ));
    }

    #[test]
    fn both_suites_round_trip_and_refuse_a_wrong_passphrase_or_a_changed_file() {
        for suite in [Suite::Ecdsa, Suite::Sm] {
            let key = suite.generate_secret();
            let text = encrypt(suite, &key, "correct horse", LIGHT).unwrap();
            assert!(is_keystore(&text));
            assert_eq!(suite_of(&text).unwrap(), suite);
            let (read_suite, read) = decrypt(&text, "correct horse").unwrap();
            assert_eq!((read_suite, read.to_bytes()), (suite, key.to_bytes()));
            assert!(
                !text.contains(&key.to_hex()[2..]),
                "the key is in plain form"
            );
            assert!(matches!(
                decrypt(&text, "wrong horse"),
                Err(KeystoreError::WrongPassphrase)
            ));
            let mut file: Value = serde_json::from_str(&text).unwrap();
            let ct = file["crypto"]["ciphertext"].as_str().unwrap().to_owned();
            let flipped = format!("{}{}", if &ct[..1] == "0" { "1" } else { "0" }, &ct[1..]);
            file["crypto"]["ciphertext"] = json!(flipped);
            assert!(matches!(
                decrypt(&file.to_string(), "correct horse"),
                Err(KeystoreError::WrongPassphrase)
            ));
        }
    }

    #[test]
    fn a_file_is_checked_before_any_expensive_work() {
        let key = Suite::Ecdsa.generate_secret();
        let text = encrypt(Suite::Ecdsa, &key, "pw", LIGHT).unwrap();
        let with = |edit: &dyn Fn(&mut Value)| {
            let mut file: Value = serde_json::from_str(&text).unwrap();
            edit(&mut file);
            decrypt(&file.to_string(), "pw").map(|_| ())
        };
        // A memory-hungry n is refused before scrypt runs (2^40 would take the machine down).
        let err = with(&|f| f["crypto"]["kdfparams"]["n"] = json!(1u64 << 40)).unwrap_err();
        assert!(matches!(err, KeystoreError::Params(_)), "{err}");
        let err = with(&|f| f["crypto"]["kdfparams"]["p"] = json!(1_000_000)).unwrap_err();
        assert!(matches!(err, KeystoreError::Params(_)), "{err}");
        let err = with(&|f| f["crypto"]["kdfparams"]["n"] = json!(1000)).unwrap_err();
        assert!(err.to_string().contains("power of two"), "{err}");
        let err = with(&|f| f["crypto"]["kdf"] = json!("pbkdf2")).unwrap_err();
        assert!(matches!(err, KeystoreError::Unsupported(_)), "{err}");
        let err = with(&|f| f["crypto"]["cipher"] = json!("aes-128-cbc")).unwrap_err();
        assert!(matches!(err, KeystoreError::Unsupported(_)), "{err}");
        let err = with(&|f| f["version"] = json!(4)).unwrap_err();
        assert!(matches!(err, KeystoreError::Unsupported(_)), "{err}");
        let err = with(&|f| f["crypto"]["cipherparams"]["iv"] = json!("00")).unwrap_err();
        assert!(matches!(err, KeystoreError::Malformed(_)), "{err}");
        let err = with(&|f| f["address"] = json!("00".repeat(20))).unwrap_err();
        assert!(matches!(err, KeystoreError::InvalidKey(_)), "{err}");
        assert!(matches!(
            decrypt("[1, 2]", "pw"),
            Err(KeystoreError::Malformed(_))
        ));
        assert!(matches!(
            decrypt(&" ".repeat(MAX_FILE_LEN + 1), "pw"),
            Err(KeystoreError::Malformed(_))
        ));
        // An SM file read as ecdsa (its suite field removed) has the wrong cipher.
        let sm = encrypt(Suite::Sm, &Suite::Sm.generate_secret(), "pw", LIGHT).unwrap();
        let mut file: Value = serde_json::from_str(&sm).unwrap();
        file.as_object_mut().unwrap().remove("suite");
        let err = decrypt(&file.to_string(), "pw").unwrap_err();
        assert!(matches!(err, KeystoreError::Unsupported(_)), "{err}");
    }

    #[test]
    fn ids_are_version_4_uuids() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
