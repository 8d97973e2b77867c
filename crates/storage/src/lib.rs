//! banyan-storage: the node's key-value storage.
//!
//! Everything the node persists goes through the small [`KvStore`] trait: point reads, ordered
//! range scans and atomic, durable [`WriteBatch`]es over a fixed set of named [`Table`]s. Two
//! engines implement it:
//!
//! - [`RedbStore`], the embedded default, one `redb` file per data directory
//!   (`docs/adr/0001-storage-engine.md` says why redb);
//! - [`MemoryStore`], a `BTreeMap` per table, for tests.
//!
//! [`open_redb`] is how a node opens its data directory: it refuses a directory another process
//! holds, migrates one written by an older supported schema to [`SCHEMA_VERSION`], and refuses
//! any other schema version.
//!
//! ```
//! use banyan_storage::{open_memory, Table, WriteBatch};
//!
//! let store = open_memory();
//! let mut batch = WriteBatch::default();
//! batch.put(Table::Headers, b"h1".to_vec(), b"header".to_vec());
//! store.write(batch)?;
//! assert_eq!(store.get(Table::Headers, b"h1")?, Some(b"header".to_vec()));
//! # Ok::<(), banyan_storage::StorageError>(())
//! ```
//!
//! [`open_redb_with`] adds encryption at rest: an [`EncryptedStore`] seals every value with a
//! [`ValueCipher`] before the engine sees it.
//!
//! The crate has no feature flags.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod batch;
mod encrypted;
mod error;
mod memory;
mod redb_store;
mod table;

use std::path::Path;
use std::sync::Arc;

pub use batch::{BatchOp, WriteBatch};
pub use encrypted::{ENCRYPTION_KEY, EncryptedStore, ValueCipher, open_encryption};
pub use error::StorageError;
pub use memory::MemoryStore;
pub use redb_store::{DB_FILE_NAME, RedbStore};
pub use table::Table;

/// Version of the on-disk layout (tables, key and value encodings) this build reads and writes.
/// Bump it, with a migration or a clear refusal, whenever the layout changes.
///
/// History (see `docs/adr/0001-storage-engine.md`): 1 is the first layout; 2 adds
/// [`Table::Certificates`] and [`Table::Proposals`].
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest schema version this build migrates to [`SCHEMA_VERSION`] on open; older ones are
/// refused.
pub const OLDEST_MIGRATED_SCHEMA_VERSION: u32 = 1;

/// Key in [`Table::Meta`] under which the schema version is stored, as a big-endian `u32`.
pub const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";

/// A key and its value, as returned by range scans.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A key-value store of named tables with atomic, durable batch writes.
///
/// Keys and values are opaque bytes; keys are ordered bytewise. Implementations are shared
/// between threads behind an `Arc`.
pub trait KvStore: Send + Sync + 'static {
    /// The value stored under `key` in `table`, if any.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Applies every operation of `batch`, in order, atomically and durably: after `Ok`, a crash
    /// (SIGKILL, power loss as far as fsync allows) keeps all of the batch or none of it.
    fn write(&self, batch: WriteBatch) -> Result<(), StorageError>;

    /// Up to `limit` entries with `start <= key < end`, in key order. Empty when `start >= end`.
    fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError>;

    /// The last entry (largest key) of `table`, if any.
    fn last(&self, table: Table) -> Result<Option<Entry>, StorageError>;
}

/// Opens (creating if empty) the redb store in `dir` and checks its schema version.
///
/// An empty store gets [`SCHEMA_VERSION`]; an older store is migrated (see
/// [`check_schema_version`]); a store of any other version is refused with
/// [`StorageError::SchemaMismatch`], and a directory another process has open with
/// [`StorageError::Locked`].
pub fn open_redb(dir: &Path) -> Result<Arc<dyn KvStore>, StorageError> {
    open_redb_with(dir, None)
}

/// Like [`open_redb`], with encryption at rest when `cipher` is given: the store's values are
/// sealed with it ([`EncryptedStore`]), and a store encrypted under another key, or not
/// encrypted while holding data, is refused ([`open_encryption`]). Without `cipher`, an
/// encrypted store is refused.
pub fn open_redb_with(
    dir: &Path,
    cipher: Option<Arc<dyn ValueCipher>>,
) -> Result<Arc<dyn KvStore>, StorageError> {
    let store: Arc<dyn KvStore> = Arc::new(RedbStore::open(dir)?);
    let store = open_encryption(store, cipher, dir)?;
    check_schema_version(store.as_ref(), dir)?;
    Ok(store)
}

/// A fresh, empty in-memory store, for tests.
pub fn open_memory() -> Arc<dyn KvStore> {
    Arc::new(MemoryStore::new())
}

/// Writes [`SCHEMA_VERSION`] into an empty store, accepts a store of that version, migrates an
/// older one (from [`OLDEST_MIGRATED_SCHEMA_VERSION`] on) to it, and refuses any other version.
/// `path` only names the store in errors.
pub fn check_schema_version(store: &dyn KvStore, path: &Path) -> Result<(), StorageError> {
    let Some(stored) = store.get(Table::Meta, SCHEMA_VERSION_KEY)? else {
        return write_schema_version(store);
    };
    let bytes: [u8; 4] = stored.as_slice().try_into().map_err(|_| {
        StorageError::Corrupt(format!(
            "schema version in {} is {} bytes long, expected 4",
            path.display(),
            stored.len()
        ))
    })?;
    match u32::from_be_bytes(bytes) {
        SCHEMA_VERSION => Ok(()),
        found if (OLDEST_MIGRATED_SCHEMA_VERSION..SCHEMA_VERSION).contains(&found) => {
            migrate(store)
        }
        found => Err(StorageError::SchemaMismatch {
            path: path.to_path_buf(),
            found,
            oldest: OLDEST_MIGRATED_SCHEMA_VERSION,
            supported: SCHEMA_VERSION,
        }),
    }
}

/// Brings a store of an older supported schema up to [`SCHEMA_VERSION`], in one batch so that a
/// crash leaves it wholly at the old version or wholly at the new.
///
/// 1 to 2 added [`Table::Certificates`] and [`Table::Proposals`], empty, and changed no existing
/// key or value. Creating tables is the engine's job ([`RedbStore::open`] creates every missing
/// table of [`Table::ALL`]; [`MemoryStore`] holds them all), so the version is the only write.
/// A future migration that rewrites data adds its changes to the same batch.
fn migrate(store: &dyn KvStore) -> Result<(), StorageError> {
    write_schema_version(store)
}

fn write_schema_version(store: &dyn KvStore) -> Result<(), StorageError> {
    let mut batch = WriteBatch::default();
    batch.put(
        Table::Meta,
        SCHEMA_VERSION_KEY,
        SCHEMA_VERSION.to_be_bytes(),
    );
    store.write(batch)
}
