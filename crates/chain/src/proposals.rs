//! Proposed blocks, kept until their height is committed.
//!
//! Malachite's WAL records only the hash of a proposed block; the block itself lives here, written
//! durably before the node answers for it, so that after a restart the node can still vote for,
//! re-propose or commit it (`docs/design/consensus.md` §4). Each commit prunes every proposal at
//! or below its height in the commit's own batch.
//!
//! A value is the RLP list `[height, round, block]`, stored under the block's 32-byte hash. A
//! block proposed again in a later round has one entry, holding the latest round.

use alloy_primitives::B256;
use alloy_rlp::{Decodable, Encodable, Header};
use banyan_crypto::Suite;
use banyan_primitives::Block;
use banyan_storage::{Entry, KvStore, Table, WriteBatch};
use std::sync::Arc;

use crate::ChainError;

/// Largest encoded proposal (height, round and block) the store writes or reads: 64 MiB, about
/// eight times the largest block the default 30M gas limit admits (calldata at 4 gas per byte).
/// A larger value is refused on write and reported as corrupt on read.
pub const MAX_PROPOSAL_BYTES: usize = 64 * 1024 * 1024;

/// Most proposals the store may hold at once. The consensus host stores a handful per height
/// and every commit prunes, so more than this means proposals are stored and never committed:
/// scans refuse with an error instead of reading without limit.
pub const MAX_STORED_PROPOSALS: usize = 256;

/// Past the last possible key: every 32-byte key sorts below 33 bytes of `0xff`.
const KEY_END: [u8; 33] = [0xff; 33];

/// Durable storage of proposed blocks, keyed by block hash.
#[derive(Clone)]
pub struct ProposalStore {
    store: Arc<dyn KvStore>,
    suite: Suite,
}

impl ProposalStore {
    /// Proposals in `store`, whose blocks hash with `suite`.
    pub fn new(store: Arc<dyn KvStore>, suite: Suite) -> Self {
        Self { store, suite }
    }

    /// Stores `block`, proposed at `height` in `round`, durably: when this returns `Ok` the
    /// proposal survives a crash. Refuses a block whose number is not `height`, and one whose
    /// encoding exceeds [`MAX_PROPOSAL_BYTES`].
    pub fn put_proposal(&self, height: u64, round: u32, block: &Block) -> Result<(), ChainError> {
        let number = block.header.header.number;
        if number != height {
            return Err(ChainError::Proposal(format!(
                "refusing to store block {number} as a proposal for height {height}"
            )));
        }
        let value = encode(height, round, block);
        if value.len() > MAX_PROPOSAL_BYTES {
            return Err(ChainError::Proposal(format!(
                "proposal at height {height} round {round} is {} bytes, above the limit of \
                 {MAX_PROPOSAL_BYTES} bytes",
                value.len()
            )));
        }
        let hash = block.header.header.hash(self.suite);
        let mut batch = WriteBatch::default();
        batch.put(Table::Proposals, hash.as_slice(), value);
        self.store.write(batch)?;
        Ok(())
    }

    /// The proposal of the block with `hash`: its height, round and the block.
    pub fn proposal(&self, hash: B256) -> Result<Option<(u64, u32, Block)>, ChainError> {
        self.store
            .get(Table::Proposals, hash.as_slice())?
            .map(|value| self.decode(hash.as_slice(), &value))
            .transpose()
    }

    /// Every proposal stored for `height`, as `(round, block)` in round order.
    pub fn proposals_at(&self, height: u64) -> Result<Vec<(u32, Block)>, ChainError> {
        let mut out = Vec::new();
        for (key, value) in self.entries()? {
            let (h, round, block) = self.decode(&key, &value)?;
            if h == height {
                out.push((round, block));
            }
        }
        out.sort_by_key(|(round, _)| *round);
        Ok(out)
    }

    /// Adds to `batch` the deletion of every proposal at or below `height`; returns how many.
    /// Meant for the batch that commits block `height`, so that pruning lands with the commit.
    pub fn prune_proposals_through(
        &self,
        batch: &mut WriteBatch,
        height: u64,
    ) -> Result<usize, ChainError> {
        let mut pruned = 0;
        for (key, value) in self.entries()? {
            let (h, _, _) = self.decode(&key, &value)?;
            if h <= height {
                batch.delete(Table::Proposals, key);
                pruned += 1;
            }
        }
        Ok(pruned)
    }

    /// Every stored entry, refusing a store above [`MAX_STORED_PROPOSALS`].
    fn entries(&self) -> Result<Vec<Entry>, ChainError> {
        let entries =
            self.store
                .range(Table::Proposals, &[], &KEY_END, MAX_STORED_PROPOSALS + 1)?;
        if entries.len() > MAX_STORED_PROPOSALS {
            return Err(ChainError::Proposal(format!(
                "the proposal store holds more than {MAX_STORED_PROPOSALS} proposals; each \
                 commit prunes them, so proposals are being stored without being committed"
            )));
        }
        Ok(entries)
    }

    /// Decodes the value stored under `key`, checking that it is one bounded, well-formed
    /// proposal of the block with that hash.
    fn decode(&self, key: &[u8], value: &[u8]) -> Result<(u64, u32, Block), ChainError> {
        let corrupt =
            |what: String| ChainError::Corrupt(format!("proposal {}: {what}", hex_of(key)));
        if key.len() != 32 {
            return Err(corrupt(format!(
                "key is {} bytes, expected a 32-byte block hash",
                key.len()
            )));
        }
        if value.len() > MAX_PROPOSAL_BYTES {
            return Err(corrupt(format!(
                "{} bytes, above the limit of {MAX_PROPOSAL_BYTES} bytes",
                value.len()
            )));
        }
        let (height, round, block) = decode_exact(value).map_err(|e| corrupt(e.to_string()))?;
        let number = block.header.header.number;
        if number != height {
            return Err(corrupt(format!(
                "stored for height {height} but holds block {number}"
            )));
        }
        let hash = block.header.header.hash(self.suite);
        if hash.as_slice() != key {
            return Err(corrupt(format!("holds block {hash}, another block")));
        }
        Ok((height, round, block))
    }
}

fn hex_of(bytes: &[u8]) -> String {
    format!("0x{}", alloy_primitives::hex::encode(bytes))
}

/// RLP `[height, round, block]`.
fn encode(height: u64, round: u32, block: &Block) -> Vec<u8> {
    let payload_length = height.length() + round.length() + block.length();
    let header = Header {
        list: true,
        payload_length,
    };
    let mut out = Vec::with_capacity(header.length() + payload_length);
    header.encode(&mut out);
    height.encode(&mut out);
    round.encode(&mut out);
    block.encode(&mut out);
    out
}

/// The inverse of [`encode`]; anything but exactly one such list is an error.
fn decode_exact(mut bytes: &[u8]) -> Result<(u64, u32, Block), alloy_rlp::Error> {
    let header = Header::decode(&mut bytes)?;
    if !header.list {
        return Err(alloy_rlp::Error::UnexpectedString);
    }
    if header.payload_length != bytes.len() {
        return Err(alloy_rlp::Error::Custom(
            "list length disagrees with the value's length (truncated or trailing bytes)",
        ));
    }
    let height = u64::decode(&mut bytes)?;
    let round = u32::decode(&mut bytes)?;
    let block = Block::decode(&mut bytes)?;
    if !bytes.is_empty() {
        return Err(alloy_rlp::Error::Custom("bytes left after the block"));
    }
    Ok((height, round, block))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use banyan_primitives::{Header as BlockHeader, SealedHeader};

    fn block(number: u64, salt: u8) -> Block {
        Block {
            header: SealedHeader {
                header: BlockHeader {
                    number,
                    timestamp: u64::from(salt),
                    ..BlockHeader::default()
                },
                signature: vec![salt; 65].into(),
            },
            transactions: vec![vec![salt; 3].into()],
        }
    }

    #[test]
    fn encoding_round_trips_and_rejects_anything_else() {
        let b = block(9, 1);
        let bytes = encode(9, 4, &b);
        assert_eq!(decode_exact(&bytes).unwrap(), (9, 4, b.clone()));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode_exact(&trailing).is_err());
        assert!(decode_exact(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_exact(&[]).is_err());
        // A well-formed list with an extra item after the block.
        let mut extra = Vec::new();
        let payload = 9u64.length() + 4u32.length() + b.length() + 1;
        Header {
            list: true,
            payload_length: payload,
        }
        .encode(&mut extra);
        9u64.encode(&mut extra);
        4u32.encode(&mut extra);
        b.encode(&mut extra);
        0u8.encode(&mut extra);
        assert!(decode_exact(&extra).is_err());
    }
}
