//! The embedded default engine: one redb file per data directory.

use std::io;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{BatchOp, Entry, KvStore, StorageError, Table, WriteBatch};

/// Name of the database file inside the data directory.
pub const DB_FILE_NAME: &str = "banyan.redb";

type Bytes = &'static [u8];

fn definition(table: Table) -> TableDefinition<'static, Bytes, Bytes> {
    TableDefinition::new(table.name())
}

/// A [`KvStore`] on a redb database file, `dir/banyan.redb`.
///
/// Every [`write`](KvStore::write) is one redb write transaction committed with redb's default
/// durability (fsync before returning); every read runs in its own read transaction.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    dir: PathBuf,
}

impl RedbStore {
    /// Opens the store in `dir`, creating the directory, the file and the tables as needed.
    ///
    /// Verifies the checksum of every page first, so that a file damaged outside redb is refused
    /// with [`StorageError::Corrupt`]: redb's reads do not verify pages, and may panic or return
    /// damaged bytes. The check reads the whole file (0.3-0.4 s for a 272 MiB file here, see
    /// `docs/adr/0001-storage-engine.md`). Does not check the schema version:
    /// [`open_redb`](crate::open_redb) does.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with(dir, Database::builder().set_check_integrity_on_open(true))
    }

    /// Like [`open`](Self::open) without the integrity check: opens in milliseconds whatever the
    /// size, but trusts the file. Only for a directory known to be undamaged.
    pub fn open_trusted(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with(dir, &Database::builder())
    }

    fn open_with(dir: &Path, builder: &redb::Builder) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|source| StorageError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE_NAME);
        let db = builder.create(&path).map_err(|e| map_error(dir, e))?;
        let store = Self {
            db,
            dir: dir.to_path_buf(),
        };
        store.create_tables()?;
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates any missing table, so that reads never meet an absent one.
    fn create_tables(&self) -> Result<(), StorageError> {
        let txn = self.db.begin_write().map_err(|e| self.error(e))?;
        for table in Table::ALL {
            txn.open_table(definition(table))
                .map_err(|e| self.error(e))?;
        }
        txn.commit().map_err(|e| self.error(e))
    }

    fn read_table(&self, table: Table) -> Result<redb::ReadOnlyTable<Bytes, Bytes>, StorageError> {
        let txn = self.db.begin_read().map_err(|e| self.error(e))?;
        txn.open_table(definition(table)).map_err(|e| self.error(e))
    }

    fn error(&self, err: impl Into<redb::Error>) -> StorageError {
        map_error(&self.dir, err)
    }
}

impl KvStore for RedbStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let value = self
            .read_table(table)?
            .get(key)
            .map_err(|e| self.error(e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let txn = self.db.begin_write().map_err(|e| self.error(e))?;
        // Tables are independent, so applying the batch table by table keeps its meaning: within
        // a table the ops stay in order. An error drops `txn`, which aborts the whole batch.
        for table in Table::ALL {
            let mut ops = batch
                .ops()
                .iter()
                .filter(|op| op.table() == table)
                .peekable();
            if ops.peek().is_none() {
                continue;
            }
            let mut handle = txn
                .open_table(definition(table))
                .map_err(|e| self.error(e))?;
            for op in ops {
                match op {
                    BatchOp::Put { key, value, .. } => {
                        handle.insert(key.as_slice(), value.as_slice())
                    }
                    BatchOp::Delete { key, .. } => handle.remove(key.as_slice()),
                }
                .map_err(|e| self.error(e))?;
            }
        }
        txn.commit().map_err(|e| self.error(e))
    }

    fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let handle = self.read_table(table)?;
        let mut out = Vec::new();
        for entry in handle
            .range(start..end)
            .map_err(|e| self.error(e))?
            .take(limit)
        {
            let (k, v) = entry.map_err(|e| self.error(e))?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn last(&self, table: Table) -> Result<Option<Entry>, StorageError> {
        let handle = self.read_table(table)?;
        let last = handle.last().map_err(|e| self.error(e))?;
        Ok(last.map(|(k, v)| (k.value().to_vec(), v.value().to_vec())))
    }
}

/// Maps a redb error to ours, naming the data directory `dir`.
fn map_error(dir: &Path, err: impl Into<redb::Error>) -> StorageError {
    match err.into() {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            StorageError::Locked(dir.to_path_buf())
        }
        redb::Error::Corrupted(detail) => StorageError::Corrupt(format!(
            "data directory {} is corrupt: {detail}",
            dir.display()
        )),
        // redb reports a file that is not a redb database as InvalidData.
        redb::Error::Io(source) if source.kind() == io::ErrorKind::InvalidData => {
            StorageError::Corrupt(format!(
                "{} is not a banyan database: {source}",
                dir.join(DB_FILE_NAME).display()
            ))
        }
        redb::Error::Io(source) if source.kind() == io::ErrorKind::UnexpectedEof => {
            StorageError::Corrupt(format!(
                "{} is truncated: {source}",
                dir.join(DB_FILE_NAME).display()
            ))
        }
        redb::Error::Io(source) => StorageError::Io {
            path: dir.join(DB_FILE_NAME),
            source,
        },
        other => StorageError::Engine(other.to_string()),
    }
}
