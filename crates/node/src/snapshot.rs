//! State snapshots: start a new node from a recent certified state instead of replaying every
//! block since genesis.
//!
//! `banyan snapshot export` writes, from a (stopped) node's data: the head block, its receipts
//! and commit certificate, and every account of the state at that block with its storage and
//! code. `banyan snapshot import` loads such a file into a fresh data directory. The file is
//! untrusted: the import checks the certificate against the genesis validator set, the
//! transactions and receipts against the certified header's roots, and rebuilds the state tree
//! from the accounts, refusing the file unless the root equals the certified state root. The
//! node then starts consensus at the next height and catches up from its peers; blocks below
//! the snapshot stay unknown to it (JSON-RPC answers `null` for them).
//!
//! File layout: the magic line, then length-prefixed (u32 big-endian) RLP records: one head
//! record, then one record per account, then an empty record as the end marker.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use alloy_primitives::Bytes;
use banyan_primitives::consensus::CommitCertificate;
use banyan_primitives::{Receipt, RecoveredTx};
use banyan_state::{SnapshotAccount, StateDb, ordered_root};
use banyan_storage::Table;

use banyan_chain::ChainStore;
use banyan_chain::snapshot::{
    self, AccountRecord, HISTORY_MIN_KEY, HeadRecord, MAGIC, StoragePair,
};

use crate::NodeError;
use crate::config::NodeConfig;
use crate::node::Node;

fn io(path: &Path, e: std::io::Error) -> NodeError {
    NodeError::Config(format!("snapshot {}: {e}", path.display()))
}

fn bad(path: &Path, what: impl std::fmt::Display) -> NodeError {
    NodeError::Config(format!("snapshot {} refused: {what}", path.display()))
}

fn write_record(out: &mut impl Write, bytes: &[u8], path: &Path) -> Result<(), NodeError> {
    snapshot::write_record(out, bytes).map_err(|e| match e {
        snapshot::RecordError::Io(e) => io(path, e),
        other => bad(path, other),
    })
}

fn read_record(input: &mut impl Read, path: &Path) -> Result<Vec<u8>, NodeError> {
    snapshot::read_record(input).map_err(|e| bad(path, e))
}

/// Writes a snapshot of `node`'s head state to `path` (through a temporary file, renamed when
/// complete). Returns the height and the number of accounts.
pub fn export_snapshot(node: &Node, path: &Path) -> Result<(u64, u64), NodeError> {
    let (head, _) = node.head();
    let height = head.header.number;
    let chain = node.chain();
    let block = chain
        .block(height)?
        .ok_or_else(|| NodeError::Corrupt(format!("head block {height} missing")))?;
    let certificate = chain.certificate(height)?.ok_or_else(|| {
        NodeError::Config(format!(
            "block {height} has no commit certificate: snapshots are taken on a consensus network"
        ))
    })?;
    let receipts = chain
        .receipts(height)?
        .ok_or_else(|| NodeError::Corrupt(format!("block {height}'s receipts are missing")))?;
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    let mut out = BufWriter::new(file);
    out.write_all(MAGIC).map_err(|e| io(&tmp, e))?;
    let head_record = HeadRecord {
        genesis_hash: node.genesis_hash(),
        block,
        receipts: receipts.iter().map(|r| Bytes::from(r.to_bytes())).collect(),
        certificate: Bytes::from(certificate.encoded()),
    };
    write_record(&mut out, &alloy_rlp::encode(&head_record), &tmp)?;
    let state = StateDb::new(chain.kv().clone(), node.genesis().suite);
    let accounts = state.export_accounts(head.header.state_root, |a| {
        let record = AccountRecord {
            key: Bytes::from(a.key),
            account: Bytes::from(a.account),
            storage: a
                .storage
                .into_iter()
                .map(|(k, v)| StoragePair {
                    key: Bytes::from(k),
                    value: Bytes::from(v),
                })
                .collect(),
            code: a.code.unwrap_or_default(),
        };
        write_record(&mut out, &alloy_rlp::encode(&record), &tmp)
            .map_err(|e| banyan_state::StateError::Storage(e.to_string()))
    })?;
    write_record(&mut out, &[], &tmp)?;
    let file = out.into_inner().map_err(|e| io(&tmp, e.into_error()))?;
    file.sync_all().map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    Ok((height, accounts))
}

/// Loads the snapshot at `path` into the node's (empty) data directory, after checking its
/// certificate against the chain's genesis validators. Returns the snapshot's height.
pub fn import_snapshot(config: &NodeConfig, path: &Path) -> Result<u64, NodeError> {
    let node = Node::open(config)?;
    if node.head().0.header.number != 0 {
        return Err(NodeError::Config(format!(
            "the data directory already holds blocks up to {}: import a snapshot into a fresh one",
            node.head().0.header.number
        )));
    }
    let suite = node.genesis().suite;
    let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let mut input = BufReader::new(file);
    let mut magic = vec![0u8; MAGIC.len()];
    input
        .read_exact(&mut magic)
        .map_err(|e| bad(path, format!("not a snapshot ({e})")))?;
    if magic != MAGIC {
        return Err(bad(path, "not a Banyan snapshot (wrong magic)"));
    }
    let head: HeadRecord = alloy_rlp::decode_exact(&read_record(&mut input, path)?[..])
        .map_err(|e| bad(path, format!("head record: {e}")))?;
    if head.genesis_hash != node.genesis_hash() {
        return Err(bad(
            path,
            format!(
                "it belongs to the chain with genesis {}, this node's is {}",
                head.genesis_hash,
                node.genesis_hash()
            ),
        ));
    }
    let certificate = CommitCertificate::from_rlp(&head.certificate)
        .map_err(|e| bad(path, format!("certificate: {e}")))?;
    let block = head.block;
    let header = &block.header.header;
    let height = header.number;
    // Against the genesis set: the set the chain has now is in the snapshot's own state, which
    // the certificate is what vouches for. So a snapshot verifies while validators holding more
    // than two thirds of the genesis set's power still sign blocks; after a committee has
    // replaced most of them, a new node syncs from genesis instead, replaying every change.
    node.verify_certificate_against(&block, &certificate, node.genesis_validators())
        .map_err(|e| {
            bad(
                path,
                format!(
                    "{e} (a snapshot is checked against the genesis validators; if governance has                      since replaced most of them, sync the node from genesis instead)"
                ),
            )
        })?;
    // The body and receipts must be the ones the certified header commits to.
    let raw: Vec<Vec<u8>> = block.transactions.iter().map(|t| t.to_vec()).collect();
    if ordered_root(suite, &raw) != header.transactions_root {
        return Err(bad(
            path,
            "its transactions do not match the certified header",
        ));
    }
    let receipts = head
        .receipts
        .iter()
        .map(|r| Receipt::from_bytes(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(path, format!("receipts: {e}")))?;
    let consensus: Vec<Vec<u8>> = receipts.iter().map(Receipt::consensus_encoding).collect();
    if ordered_root(suite, &consensus) != header.receipts_root {
        return Err(bad(path, "its receipts do not match the certified header"));
    }
    // Certified, so checked by the validators that signed it: the hashes are those of the bytes.
    let tx_hashes: Vec<alloy_primitives::B256> = block
        .transactions
        .iter()
        .map(|t| RecoveredTx::hash_of(t, suite))
        .collect();
    // The accounts: the rebuilt tree must have the certified state root.
    let mut accounts = Vec::new();
    loop {
        let record = read_record(&mut input, path)?;
        if record.is_empty() {
            break;
        }
        let a: AccountRecord =
            alloy_rlp::decode_exact(&record[..]).map_err(|e| bad(path, format!("account: {e}")))?;
        accounts.push(SnapshotAccount {
            key: a.key.to_vec(),
            account: a.account.to_vec(),
            storage: a
                .storage
                .into_iter()
                .map(|p| (p.key.to_vec(), p.value.to_vec()))
                .collect(),
            code: (!a.code.is_empty()).then_some(a.code),
        });
    }
    let count = accounts.len();
    let state = StateDb::new(node.chain().kv().clone(), suite);
    let (root, mut batch) = state.import_accounts(accounts).map_err(|e| bad(path, e))?;
    if root != header.state_root {
        return Err(bad(
            path,
            format!(
                "its {count} accounts give state root {root}, the certified block {height} says {}",
                header.state_root
            ),
        ));
    }
    let chain: &ChainStore = node.chain();
    chain.stage_block(&block, &tx_hashes, &receipts, &mut batch);
    chain.stage_certificate(&mut batch, &certificate);
    batch.put(Table::Meta, HISTORY_MIN_KEY, height.to_be_bytes().to_vec());
    chain.kv().write(batch)?;
    tracing::info!(
        "imported the snapshot of block {height} ({count} accounts); the node starts at {}",
        height + 1
    );
    Ok(height)
}
