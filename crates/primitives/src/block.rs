//! Block headers, sealed headers and blocks.

use alloy_primitives::{Address, B256, Bloom, Bytes};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use banyan_crypto::Suite;

/// A block header. Its hash (the chain suite's hash of its RLP) is the block hash.
#[derive(Clone, Debug, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Header {
    /// Hash of the parent block (zero for genesis).
    pub parent_hash: B256,
    /// Height; genesis is 0.
    pub number: u64,
    /// Unix time in seconds.
    pub timestamp: u64,
    /// The validator that proposed the block.
    pub proposer: Address,
    /// Root of the ordered tree of the block's transactions.
    pub transactions_root: B256,
    /// Root of the ordered tree of the block's receipts.
    pub receipts_root: B256,
    /// State root after executing the block.
    pub state_root: B256,
    /// Bloom filter over the block's log addresses and topics.
    pub logs_bloom: Bloom,
    /// Gas limit of the block.
    pub gas_limit: u64,
    /// Gas used by the block's transactions.
    pub gas_used: u64,
    /// Always zero: Banyan burns no fee.
    pub base_fee_per_gas: u64,
    /// Free-form bytes (at most 32).
    pub extra_data: Bytes,
}

impl Header {
    /// The RLP encoding that is hashed and signed.
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.length());
        self.encode(&mut out);
        out
    }

    /// The block hash under `suite`.
    pub fn hash(&self, suite: Suite) -> B256 {
        suite.hash(&self.encoded())
    }
}

/// A header with the proposer's signature over its hash.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SealedHeader {
    /// The header.
    pub header: Header,
    /// The proposer's signature (suite-specific encoding) over the header hash; empty for genesis.
    pub signature: Bytes,
}

/// A block: sealed header and the EIP-2718 encodings of its transactions.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Block {
    /// Sealed header.
    pub header: SealedHeader,
    /// Transactions in execution order.
    pub transactions: Vec<Bytes>,
}
