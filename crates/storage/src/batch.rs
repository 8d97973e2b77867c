//! Write batches: the unit of atomic, durable change.

use crate::Table;

/// One operation of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Set `key` to `value` in `table`.
    Put {
        /// Table written.
        table: Table,
        /// Key set.
        key: Vec<u8>,
        /// New value.
        value: Vec<u8>,
    },
    /// Remove `key` from `table`; nothing happens if it is absent.
    Delete {
        /// Table written.
        table: Table,
        /// Key removed.
        key: Vec<u8>,
    },
}

impl BatchOp {
    /// The table the operation writes.
    pub fn table(&self) -> Table {
        match self {
            BatchOp::Put { table, .. } | BatchOp::Delete { table, .. } => *table,
        }
    }
}

/// Operations applied together by [`KvStore::write`](crate::KvStore::write), in the order they
/// were added: a later operation on the same key wins.
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// Sets `key` to `value` in `table`.
    pub fn put(&mut self, table: Table, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Put {
            table,
            key: key.into(),
            value: value.into(),
        });
    }

    /// Removes `key` from `table`.
    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Delete {
            table,
            key: key.into(),
        });
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch has no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Appends `other`'s operations after this batch's own.
    pub fn extend(&mut self, other: WriteBatch) {
        self.ops.extend(other.ops);
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// Consumes the batch into its operations, in order.
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }
}
