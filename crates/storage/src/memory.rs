//! The in-memory engine, for tests.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};

use parking_lot::RwLock;

use crate::{BatchOp, Entry, KvStore, StorageError, Table, WriteBatch};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// A `BTreeMap` per table behind one lock. Batches are atomic (applied under the write lock)
/// but nothing is durable. For tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RwLock<[Map; Table::ALL.len()]>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl KvStore for MemoryStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.tables.read()[table.index()].get(key).cloned())
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut tables = self.tables.write();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { table, key, value } => {
                    tables[table.index()].insert(key, value);
                }
                BatchOp::Delete { table, key } => {
                    tables[table.index()].remove(&key);
                }
            }
        }
        Ok(())
    }

    fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        let tables = self.tables.read();
        let entries = tables[table.index()].range::<[u8], _>((Included(start), Excluded(end)));
        Ok(entries
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn last(&self, table: Table) -> Result<Option<Entry>, StorageError> {
        let tables = self.tables.read();
        Ok(tables[table.index()]
            .last_key_value()
            .map(|(k, v)| (k.clone(), v.clone())))
    }
}
