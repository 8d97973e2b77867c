//! The fixed set of tables every store holds.

/// A named table of `bytes -> bytes`. The set is fixed: adding one is a schema change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Store-wide metadata: schema version, chain tip pointers.
    Meta,
    /// Block headers.
    Headers,
    /// Block bodies (transactions).
    Bodies,
    /// Transaction receipts.
    Receipts,
    /// Block number to block hash.
    BlockHashes,
    /// Transaction hash to its block and index.
    TxLookup,
    /// Nodes of the authenticated state tree.
    TrieNodes,
    /// Contract bytecode by code hash.
    Code,
    /// Logs of each block's block-end hooks (one receipt per block that has any), keyed like
    /// [`Table::Headers`].
    Logs,
    /// The consensus write-ahead log (votes signed, so a restart never double-signs).
    ConsensusWal,
    /// Commit certificates, keyed like [`Table::Headers`] by big-endian height. Schema 2.
    Certificates,
    /// Proposed blocks not yet committed, keyed by 32-byte block hash. Schema 2.
    Proposals,
}

impl Table {
    /// Every table, in declaration order.
    pub const ALL: [Table; 12] = [
        Table::Meta,
        Table::Headers,
        Table::Bodies,
        Table::Receipts,
        Table::BlockHashes,
        Table::TxLookup,
        Table::TrieNodes,
        Table::Code,
        Table::Logs,
        Table::ConsensusWal,
        Table::Certificates,
        Table::Proposals,
    ];

    /// The table's name on disk. Part of the schema: never rename one.
    pub fn name(&self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Headers => "headers",
            Table::Bodies => "bodies",
            Table::Receipts => "receipts",
            Table::BlockHashes => "block_hashes",
            Table::TxLookup => "tx_lookup",
            Table::TrieNodes => "trie_nodes",
            Table::Code => "code",
            Table::Logs => "logs",
            Table::ConsensusWal => "consensus_wal",
            Table::Certificates => "certificates",
            Table::Proposals => "proposals",
        }
    }

    /// Position of the table in [`Table::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn all_lists_every_table_once_at_its_index_with_a_unique_name() {
        let names: HashSet<_> = Table::ALL.iter().map(Table::name).collect();
        assert_eq!(names.len(), Table::ALL.len());
        for (i, table) in Table::ALL.iter().enumerate() {
            assert_eq!(table.index(), i);
        }
    }
}
