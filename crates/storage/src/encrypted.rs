//! Encryption at rest: a [`KvStore`] whose values are sealed before they reach the engine.
//!
//! [`EncryptedStore`] wraps any store and seals every value it writes with a [`ValueCipher`]
//! (the node gives it the chain suite's AEAD under a data key held outside the data directory),
//! bound to the table and key it is stored under. Keys stay in the clear: they are hashes,
//! heights and fixed names, which the store must order.
//!
//! A store records that it is encrypted in [`Table::Meta`] under [`ENCRYPTION_KEY`], in the
//! clear: the algorithm and a check value sealed under the data key, so that a wrong key, a
//! missing key, or a key for a store that was never encrypted is refused at open with a message
//! that says which ([`open_encryption`]).

use std::path::Path;
use std::sync::Arc;

use crate::{BatchOp, Entry, KvStore, SCHEMA_VERSION_KEY, StorageError, Table, WriteBatch};

/// Seals and opens stored values. Implementations are the node's AEAD under its data key.
pub trait ValueCipher: Send + Sync + 'static {
    /// The algorithm's name, recorded in the store (e.g. `AES-256-GCM`).
    fn algorithm(&self) -> &str;
    /// Seals `plaintext`, bound to `aad`.
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, String>;
    /// Opens what [`seal`](Self::seal) made with the same `aad`, or says why it cannot.
    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, String>;
}

/// Key in [`Table::Meta`] of the encryption record (stored in the clear, never through the
/// cipher): `algorithm ‖ 0x00 ‖ check`, where `check` is a fixed text sealed with
/// fixed associated data.
pub const ENCRYPTION_KEY: &[u8] = b"encryption";

const CHECK_AAD: &[u8] = b"banyan data key check";
const CHECK_PLAINTEXT: &[u8] = b"this data directory is encrypted at rest";

/// A [`KvStore`] that seals every value it writes and opens every value it reads.
pub struct EncryptedStore {
    inner: Arc<dyn KvStore>,
    cipher: Arc<dyn ValueCipher>,
}

impl std::fmt::Debug for EncryptedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedStore")
            .field("algorithm", &self.cipher.algorithm())
            .finish_non_exhaustive()
    }
}

/// Checks `store` against the data key the node was given and returns the store to use:
///
/// - no key, store not encrypted: `store` itself;
/// - a key, store encrypted under it: an [`EncryptedStore`] over `store`;
/// - a key, new empty store: the store is marked encrypted under the key, then as above;
/// - a key, store holding unencrypted data: refused (encryption is chosen when a data directory
///   is made, not later);
/// - no key, store encrypted: refused;
/// - a key that does not open the check value (another key, another suite): refused.
///
/// `path` only names the store in errors. Runs before the schema version is checked, so that the
/// check reads through the right store.
pub fn open_encryption(
    store: Arc<dyn KvStore>,
    cipher: Option<Arc<dyn ValueCipher>>,
    path: &Path,
) -> Result<Arc<dyn KvStore>, StorageError> {
    let record = store.get(Table::Meta, ENCRYPTION_KEY)?;
    match (record, cipher) {
        (None, None) => Ok(store),
        (Some(record), None) => {
            let algorithm = split_record(&record, path)?.0;
            Err(StorageError::Encryption(format!(
                "data directory {} is encrypted at rest ({algorithm}) and this node has no data \
                 key: set node.data_key_file or node.data_key_command to the key it was made with",
                path.display()
            )))
        }
        (None, Some(cipher)) => {
            if store.get(Table::Meta, SCHEMA_VERSION_KEY)?.is_some() {
                return Err(StorageError::Encryption(format!(
                    "data directory {} holds unencrypted data and a data key is configured: \
                     encryption at rest is chosen when a data directory is made; start this \
                     node without node.data_key_file/data_key_command, or sync a new node into an \
                     empty data directory with the key",
                    path.display()
                )));
            }
            let check = cipher
                .seal(CHECK_AAD, CHECK_PLAINTEXT)
                .map_err(StorageError::Encryption)?;
            let mut value = cipher.algorithm().as_bytes().to_vec();
            value.push(0);
            value.extend_from_slice(&check);
            let mut batch = WriteBatch::default();
            batch.put(Table::Meta, ENCRYPTION_KEY, value);
            store.write(batch)?;
            Ok(Arc::new(EncryptedStore::new(store, cipher)))
        }
        (Some(record), Some(cipher)) => {
            let (algorithm, check) = split_record(&record, path)?;
            if algorithm != cipher.algorithm() {
                return Err(StorageError::Encryption(format!(
                    "data directory {} is encrypted with {algorithm}, the configured data key is \
                     for {}",
                    path.display(),
                    cipher.algorithm()
                )));
            }
            match cipher.open(CHECK_AAD, check) {
                Ok(plain) if plain == CHECK_PLAINTEXT => {
                    Ok(Arc::new(EncryptedStore::new(store, cipher)))
                }
                _ => Err(StorageError::Encryption(format!(
                    "the configured data key does not open data directory {}: it was encrypted \
                     with another key",
                    path.display()
                ))),
            }
        }
    }
}

fn split_record<'a>(record: &'a [u8], path: &Path) -> Result<(&'a str, &'a [u8]), StorageError> {
    let corrupt = || {
        StorageError::Corrupt(format!(
            "the encryption record of data directory {} is damaged",
            path.display()
        ))
    };
    let zero = record.iter().position(|b| *b == 0).ok_or_else(corrupt)?;
    let algorithm = std::str::from_utf8(&record[..zero]).map_err(|_| corrupt())?;
    Ok((algorithm, &record[zero + 1..]))
}

impl EncryptedStore {
    /// Seals what is written to `inner` with `cipher`. Use [`open_encryption`], which checks
    /// the key against the store first.
    pub fn new(inner: Arc<dyn KvStore>, cipher: Arc<dyn ValueCipher>) -> Self {
        Self { inner, cipher }
    }

    fn open_value(&self, table: Table, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StorageError> {
        self.cipher.open(&aad(table, key), sealed).map_err(|e| {
            StorageError::Corrupt(format!(
                "the value under {}/{} fails to decrypt ({e}): damaged, or moved from elsewhere",
                table.name(),
                hex_prefix(key)
            ))
        })
    }

    fn open_entry(&self, table: Table, (key, sealed): Entry) -> Result<Entry, StorageError> {
        let value = self.open_value(table, &key, &sealed)?;
        Ok((key, value))
    }
}

/// What a value is bound to: its table and key.
fn aad(table: Table, key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(table.name().len() + 1 + key.len());
    aad.extend_from_slice(table.name().as_bytes());
    aad.push(0);
    aad.extend_from_slice(key);
    aad
}

fn hex_prefix(key: &[u8]) -> String {
    let shown: String = key.iter().take(16).map(|b| format!("{b:02x}")).collect();
    if key.len() > 16 {
        format!("{shown}…")
    } else {
        shown
    }
}

fn is_record(table: Table, key: &[u8]) -> bool {
    table == Table::Meta && key == ENCRYPTION_KEY
}

impl KvStore for EncryptedStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if is_record(table, key) {
            return Ok(None);
        }
        self.inner
            .get(table, key)?
            .map(|sealed| self.open_value(table, key, &sealed))
            .transpose()
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut sealed = WriteBatch::default();
        for op in batch.into_ops() {
            let (BatchOp::Put { table, key, .. } | BatchOp::Delete { table, key }) = &op;
            if is_record(*table, key) {
                return Err(StorageError::Engine(
                    "meta/encryption is the store's own record and cannot be written or deleted"
                        .into(),
                ));
            }
            match op {
                BatchOp::Put { table, key, value } => {
                    let value = self
                        .cipher
                        .seal(&aad(table, &key), &value)
                        .map_err(StorageError::Encryption)?;
                    sealed.put(table, key, value);
                }
                BatchOp::Delete { table, key } => sealed.delete(table, key),
            }
        }
        self.inner.write(sealed)
    }

    fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        // The record is skipped, so one more entry is asked for in case it is in range.
        let extra = usize::from(table == Table::Meta);
        let mut out = Vec::new();
        for entry in self
            .inner
            .range(table, start, end, limit.saturating_add(extra))?
        {
            if is_record(table, &entry.0) {
                continue;
            }
            if out.len() == limit {
                break;
            }
            out.push(self.open_entry(table, entry)?);
        }
        Ok(out)
    }

    fn last(&self, table: Table) -> Result<Option<Entry>, StorageError> {
        let Some(entry) = self.inner.last(table)? else {
            return Ok(None);
        };
        if !is_record(table, &entry.0) {
            return self.open_entry(table, entry).map(Some);
        }
        // The record is the last key of meta: the entry before it, if any.
        let before = self.inner.range(table, &[], ENCRYPTION_KEY, usize::MAX)?;
        before
            .into_iter()
            .last()
            .map(|e| self.open_entry(table, e))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, check_schema_version};
    use std::path::PathBuf;

    /// A toy cipher for the wrapper's own logic (the node's real AEAD is tested in
    /// banyan-crypto): XOR with a key byte, then the AAD's length and a checksum byte.
    struct Xor(u8);

    impl ValueCipher for Xor {
        fn algorithm(&self) -> &str {
            "XOR-TEST"
        }
        fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, String> {
            let mut out: Vec<u8> = plaintext.iter().map(|b| b ^ self.0).collect();
            out.push(tag(self.0, aad, plaintext));
            Ok(out)
        }
        fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, String> {
            let (last, body) = sealed.split_last().ok_or("empty")?;
            let plain: Vec<u8> = body.iter().map(|b| b ^ self.0).collect();
            if tag(self.0, aad, &plain) != *last {
                return Err("tag mismatch".into());
            }
            Ok(plain)
        }
    }

    fn tag(key: u8, aad: &[u8], plain: &[u8]) -> u8 {
        aad.iter()
            .chain(plain)
            .fold(key, |acc, b| acc.rotate_left(3) ^ b)
    }

    fn refused(opened: Result<Arc<dyn KvStore>, StorageError>) -> StorageError {
        match opened {
            Err(e) => e,
            Ok(_) => panic!("the store was opened"),
        }
    }

    fn path() -> PathBuf {
        PathBuf::from("/test/data")
    }

    fn encrypted(inner: &Arc<dyn KvStore>, key: u8) -> Result<Arc<dyn KvStore>, StorageError> {
        let store = open_encryption(inner.clone(), Some(Arc::new(Xor(key))), &path())?;
        check_schema_version(store.as_ref(), &path())?;
        Ok(store)
    }

    #[test]
    fn values_are_sealed_underneath_and_read_back_in_the_clear() {
        let inner: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let store = encrypted(&inner, 0x5a).unwrap();
        let mut batch = WriteBatch::default();
        batch.put(Table::Bodies, b"k1".to_vec(), b"marker".to_vec());
        batch.put(Table::Bodies, b"k2".to_vec(), b"second".to_vec());
        batch.put(Table::Meta, b"zz".to_vec(), b"after the record".to_vec());
        store.write(batch).unwrap();
        assert_eq!(store.get(Table::Bodies, b"k1").unwrap().unwrap(), b"marker");
        assert_ne!(inner.get(Table::Bodies, b"k1").unwrap().unwrap(), b"marker");
        let all = store.range(Table::Bodies, b"", b"\xff", 10).unwrap();
        assert_eq!(
            all,
            vec![
                (b"k1".to_vec(), b"marker".to_vec()),
                (b"k2".to_vec(), b"second".to_vec())
            ]
        );
        assert_eq!(
            store.last(Table::Bodies).unwrap().unwrap().1,
            b"second".to_vec()
        );
        // Meta: the record is invisible to reads and scans, and refused to writes.
        assert_eq!(store.get(Table::Meta, ENCRYPTION_KEY).unwrap(), None);
        let meta = store.range(Table::Meta, b"", b"\xff", 10).unwrap();
        assert!(meta.iter().all(|(k, _)| k != ENCRYPTION_KEY));
        assert_eq!(meta.len(), 2, "schema version and zz");
        let one = store.range(Table::Meta, b"", b"\xff", 1).unwrap();
        assert_eq!(one.len(), 1);
        let mut bad = WriteBatch::default();
        bad.delete(Table::Meta, ENCRYPTION_KEY.to_vec());
        assert!(store.write(bad).is_err());
    }

    #[test]
    fn last_of_meta_skips_the_record() {
        let inner: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let store = encrypted(&inner, 1).unwrap();
        // Meta holds "a", "encryption" (the record) and "schema_version", in that order.
        let mut batch = WriteBatch::default();
        batch.put(Table::Meta, b"a".to_vec(), b"first".to_vec());
        store.write(batch).unwrap();
        let (key, _) = store.last(Table::Meta).unwrap().unwrap();
        assert_eq!(key, SCHEMA_VERSION_KEY);
        // With only keys before the record, `last` is the one before it.
        let inner: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let store = open_encryption(inner.clone(), Some(Arc::new(Xor(1))), &path()).unwrap();
        let mut batch = WriteBatch::default();
        batch.put(Table::Meta, b"a".to_vec(), b"first".to_vec());
        store.write(batch).unwrap();
        assert_eq!(
            store.last(Table::Meta).unwrap(),
            Some((b"a".to_vec(), b"first".to_vec()))
        );
    }

    #[test]
    fn a_missing_wrong_or_late_key_is_refused_with_what_to_do() {
        let inner: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        drop(encrypted(&inner, 7).unwrap());
        let no_key = refused(open_encryption(inner.clone(), None, &path()));
        assert!(no_key.to_string().contains("no data key"), "{no_key}");
        let wrong = refused(encrypted(&inner, 8));
        assert!(wrong.to_string().contains("another key"), "{wrong}");
        assert!(encrypted(&inner, 7).is_ok(), "the right key opens it again");

        let plain: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        check_schema_version(plain.as_ref(), &path()).unwrap();
        let late = refused(encrypted(&plain, 7));
        assert!(late.to_string().contains("unencrypted data"), "{late}");
        assert!(open_encryption(plain, None, &path()).is_ok());
    }

    #[test]
    fn a_value_moved_to_another_key_or_damaged_is_corrupt() {
        let inner: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let store = encrypted(&inner, 3).unwrap();
        let mut batch = WriteBatch::default();
        batch.put(Table::Bodies, b"k1".to_vec(), b"value one".to_vec());
        store.write(batch).unwrap();
        let sealed = inner.get(Table::Bodies, b"k1").unwrap().unwrap();
        let mut moved = WriteBatch::default();
        moved.put(Table::Bodies, b"k2".to_vec(), sealed);
        inner.write(moved).unwrap();
        let err = store.get(Table::Bodies, b"k2").unwrap_err();
        assert!(matches!(err, StorageError::Corrupt(_)), "{err}");
        assert!(err.to_string().contains("bodies/6b32"), "{err}");
    }
}
