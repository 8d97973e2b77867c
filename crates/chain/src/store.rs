//! Committed blocks, receipts and indexes in the storage engine.

use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Decodable, Encodable};
use banyan_crypto::Suite;
use banyan_primitives::consensus::CommitCertificate;
use banyan_primitives::{Block, Receipt, SealedHeader, height_key};
use banyan_storage::{KvStore, Table, WriteBatch};
use std::sync::Arc;

use crate::ChainError;

const HEAD_KEY: &[u8] = b"head";
const GENESIS_HASH_KEY: &[u8] = b"genesis_hash";
/// Meta key of the lowest height whose block this node holds (set by a snapshot import).
pub const HISTORY_MIN_KEY: &[u8] = b"history_min";

fn corrupt(what: &str, e: impl std::fmt::Display) -> ChainError {
    ChainError::Corrupt(format!("{what}: {e}"))
}

/// Item `index` of an RLP list of byte strings (a stored body or receipt list), found by
/// skipping the headers of the items before it; `None` past the end.
fn nth_item(list: &[u8], index: usize) -> Result<Option<&[u8]>, alloy_rlp::Error> {
    let mut rest = list;
    let header = alloy_rlp::Header::decode(&mut rest)?;
    if !header.list || header.payload_length != rest.len() {
        return Err(alloy_rlp::Error::Custom("not one list"));
    }
    for _ in 0..index {
        if rest.is_empty() {
            return Ok(None);
        }
        let item = alloy_rlp::Header::decode(&mut rest)?;
        if item.payload_length > rest.len() {
            return Err(alloy_rlp::Error::InputTooShort);
        }
        rest = &rest[item.payload_length..];
    }
    if rest.is_empty() {
        return Ok(None);
    }
    let item = alloy_rlp::Header::decode_bytes(&mut rest, false)?;
    Ok(Some(item))
}

/// Read and write access to the chain's blocks.
#[derive(Clone)]
pub struct ChainStore {
    store: Arc<dyn KvStore>,
    suite: Suite,
}

impl ChainStore {
    /// Blocks in `store`, hashed with `suite`.
    pub fn new(store: Arc<dyn KvStore>, suite: Suite) -> Self {
        Self { store, suite }
    }

    /// The underlying engine.
    pub fn kv(&self) -> &Arc<dyn KvStore> {
        &self.store
    }

    /// Height of the last committed block, `None` before genesis is written.
    pub fn head(&self) -> Result<Option<u64>, ChainError> {
        match self.store.get(Table::Meta, HEAD_KEY)? {
            None => Ok(None),
            Some(b) => {
                let arr: [u8; 8] = b
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("head pointer", "not 8 bytes"))?;
                Ok(Some(u64::from_be_bytes(arr)))
            }
        }
    }

    /// Lowest height whose block this store holds: 1, or the snapshot's height after an import.
    pub fn history_min(&self) -> Result<u64, ChainError> {
        match self.store.get(Table::Meta, HISTORY_MIN_KEY)? {
            None => Ok(1),
            Some(v) => {
                let bytes: [u8; 8] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("lowest held height", "not 8 bytes"))?;
                Ok(u64::from_be_bytes(bytes))
            }
        }
    }

    /// Hash of the genesis block this store was created with.
    pub fn genesis_hash(&self) -> Result<Option<B256>, ChainError> {
        Ok(self
            .store
            .get(Table::Meta, GENESIS_HASH_KEY)?
            .map(|b| B256::from_slice(&b[..32.min(b.len())])))
    }

    /// Sealed header at `number`.
    pub fn header(&self, number: u64) -> Result<Option<SealedHeader>, ChainError> {
        self.store
            .get(Table::Headers, &height_key(number))?
            .map(|b| SealedHeader::decode(&mut b.as_slice()).map_err(|e| corrupt("header", e)))
            .transpose()
    }

    /// Height of the block with `hash`.
    pub fn number_by_hash(&self, hash: B256) -> Result<Option<u64>, ChainError> {
        Ok(self
            .store
            .get(Table::BlockHashes, hash.as_slice())?
            .and_then(|b| b.try_into().ok().map(u64::from_be_bytes)))
    }

    /// Encoded transactions of block `number`.
    pub fn body(&self, number: u64) -> Result<Option<Vec<Bytes>>, ChainError> {
        self.store
            .get(Table::Bodies, &height_key(number))?
            .map(|b| Vec::<Bytes>::decode(&mut b.as_slice()).map_err(|e| corrupt("body", e)))
            .transpose()
    }

    /// The whole block at `number`.
    pub fn block(&self, number: u64) -> Result<Option<Block>, ChainError> {
        let (Some(header), Some(transactions)) = (self.header(number)?, self.body(number)?) else {
            return Ok(None);
        };
        Ok(Some(Block {
            header,
            transactions,
        }))
    }

    /// Receipts of block `number`.
    pub fn receipts(&self, number: u64) -> Result<Option<Vec<Receipt>>, ChainError> {
        let Some(b) = self.store.get(Table::Receipts, &height_key(number))? else {
            return Ok(None);
        };
        let items = Vec::<Bytes>::decode(&mut b.as_slice()).map_err(|e| corrupt("receipts", e))?;
        items
            .iter()
            .map(|r| Receipt::from_bytes(r).map_err(|e| corrupt("receipt", e)))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Transaction `index` of block `number`, without decoding the rest of the body.
    pub fn body_item(&self, number: u64, index: u32) -> Result<Option<Bytes>, ChainError> {
        let Some(b) = self.store.get(Table::Bodies, &height_key(number))? else {
            return Ok(None);
        };
        nth_item(&b, index as usize)
            .map(|item| item.map(Bytes::copy_from_slice))
            .map_err(|e| corrupt("body", e))
    }

    /// Receipt `index` of block `number`, without decoding the others.
    pub fn receipt_item(&self, number: u64, index: u32) -> Result<Option<Receipt>, ChainError> {
        let Some(b) = self.store.get(Table::Receipts, &height_key(number))? else {
            return Ok(None);
        };
        nth_item(&b, index as usize)
            .map_err(|e| corrupt("receipts", e))?
            .map(|item| Receipt::from_bytes(item).map_err(|e| corrupt("receipt", e)))
            .transpose()
    }

    /// The logs of block `number`'s block-end hooks (holds that expired, ...) as one receipt
    /// that belongs to no transaction ([`block_end_tx_hash`]); `None` when the hooks logged
    /// nothing.
    pub fn block_end_receipt(&self, number: u64) -> Result<Option<Receipt>, ChainError> {
        let Some(b) = self.store.get(Table::Logs, &height_key(number))? else {
            return Ok(None);
        };
        Receipt::from_bytes(&b)
            .map(Some)
            .map_err(|e| corrupt("block-end logs", e))
    }

    /// Adds block `number`'s block-end receipt into `batch` (the block's batch).
    pub fn stage_block_end(&self, batch: &mut WriteBatch, number: u64, receipt: &Receipt) {
        batch.put(Table::Logs, height_key(number), receipt.to_bytes());
    }

    /// The commit certificate of block `number`, if one was stored with it. Blocks of a
    /// single-validator chain (`banyan dev`) have none.
    ///
    /// Decoding checks the encoding and that the certificate is for `number`, nothing more:
    /// certificates are verified before they are stored.
    pub fn certificate(&self, number: u64) -> Result<Option<CommitCertificate>, ChainError> {
        let Some(b) = self.store.get(Table::Certificates, &height_key(number))? else {
            return Ok(None);
        };
        let what = || format!("commit certificate of block {number}");
        let cert = CommitCertificate::from_rlp(&b).map_err(|e| corrupt(&what(), e))?;
        if cert.height != number {
            return Err(corrupt(
                &what(),
                format_args!("stored certificate is for height {}", cert.height),
            ));
        }
        Ok(Some(cert))
    }

    /// Height and index of a committed transaction.
    pub fn tx_location(&self, hash: B256) -> Result<Option<(u64, u32)>, ChainError> {
        let Some(b) = self.store.get(Table::TxLookup, hash.as_slice())? else {
            return Ok(None);
        };
        if b.len() != 12 {
            return Err(corrupt("tx index", "not 12 bytes"));
        }
        let n = u64::from_be_bytes(
            b[..8]
                .try_into()
                .map_err(|_| corrupt("tx index", "height"))?,
        );
        let i = u32::from_be_bytes(
            b[8..]
                .try_into()
                .map_err(|_| corrupt("tx index", "position"))?,
        );
        Ok(Some((n, i)))
    }

    /// Adds a block, its receipts and indexes, and moves the head to it, into `batch`; the caller
    /// writes the batch (with the block's state nodes) atomically.
    pub fn stage_block(
        &self,
        block: &Block,
        tx_hashes: &[B256],
        receipts: &[Receipt],
        batch: &mut WriteBatch,
    ) {
        let number = block.header.header.number;
        let hash = block.header.header.hash(self.suite);
        let key = height_key(number);
        let mut out = Vec::new();
        block.header.encode(&mut out);
        batch.put(Table::Headers, key, out);
        let mut out = Vec::new();
        block.transactions.encode(&mut out);
        batch.put(Table::Bodies, key, out);
        let encoded: Vec<Bytes> = receipts.iter().map(|r| Bytes::from(r.to_bytes())).collect();
        let mut out = Vec::new();
        encoded.encode(&mut out);
        batch.put(Table::Receipts, key, out);
        batch.put(Table::BlockHashes, hash.to_vec(), key.to_vec());
        for (i, h) in tx_hashes.iter().enumerate() {
            let mut loc = key.to_vec();
            loc.extend_from_slice(&(i as u32).to_be_bytes());
            batch.put(Table::TxLookup, h.to_vec(), loc);
        }
        batch.put(Table::Meta, HEAD_KEY, key.to_vec());
        if number == 0 {
            batch.put(Table::Meta, GENESIS_HASH_KEY, hash.to_vec());
        }
    }

    /// Adds `certificate` under its height into `batch`, the batch that [`stage_block`] filled
    /// with the certified block, so that the block and its certificate are written together or
    /// not at all. The caller has verified the certificate against the block.
    ///
    /// [`stage_block`]: Self::stage_block
    pub fn stage_certificate(&self, batch: &mut WriteBatch, certificate: &CommitCertificate) {
        batch.put(
            Table::Certificates,
            height_key(certificate.height),
            certificate.encoded(),
        );
    }
}

/// The hash that stands for the block-end hooks of block `number` where a transaction hash is
/// expected (the `transactionHash` of their logs): `keccak256("banyan.block-end" ‖ number)`.
/// No transaction has it.
pub fn block_end_tx_hash(number: u64) -> B256 {
    let mut preimage = b"banyan.block-end".to_vec();
    preimage.extend_from_slice(&number.to_be_bytes());
    alloy_primitives::keccak256(&preimage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_item_reads_what_a_full_decode_reads() {
        let items: Vec<Bytes> = [&b""[..], b"\x01", b"\x80", &[7u8; 60], &[9u8; 300]]
            .iter()
            .map(|b| Bytes::copy_from_slice(b))
            .collect();
        let mut list = Vec::new();
        items.encode(&mut list);
        for (i, item) in items.iter().enumerate() {
            assert_eq!(nth_item(&list, i).unwrap(), Some(&item[..]));
        }
        assert_eq!(nth_item(&list, items.len()).unwrap(), None);
        let mut empty = Vec::new();
        Vec::<Bytes>::new().encode(&mut empty);
        assert_eq!(nth_item(&empty, 0).unwrap(), None);
        // Damaged bytes are errors, never a panic or a wrong item.
        for cut in 0..list.len() {
            let _ = nth_item(&list[..cut], items.len() - 1);
            assert!(nth_item(&list[..cut], 0).is_err() || cut == list.len());
        }
        assert!(nth_item(b"\x85abcde", 0).is_err());
    }
}
