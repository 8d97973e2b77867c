//! The state snapshot file format (`banyan snapshot export|import`).
//!
//! The magic line [`MAGIC`], then length-prefixed (u32 big-endian) RLP records: one
//! [`HeadRecord`], then one [`AccountRecord`] per account, then an empty record as the end
//! marker. A record is at most [`MAX_RECORD`] bytes. The file is untrusted input: the importer
//! checks everything in it against the certified header (see the node's `snapshot` module).

use alloy_primitives::{B256, Bytes};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use banyan_primitives::Block;
use std::io::{Read, Write};

pub use crate::store::HISTORY_MIN_KEY;

/// First bytes of every snapshot file (the format's version is in it).
pub const MAGIC: &[u8] = b"banyan-snapshot/1\n";
/// Largest record: a head record carries a whole block and its receipts.
pub const MAX_RECORD: usize = 64 * 1024 * 1024;

/// The snapshot's block, its receipts and commit certificate, and the chain it belongs to.
#[derive(RlpEncodable, RlpDecodable)]
pub struct HeadRecord {
    /// Genesis hash of the chain.
    pub genesis_hash: B256,
    /// The head block.
    pub block: Block,
    /// Its receipts, each encoded.
    pub receipts: Vec<Bytes>,
    /// Its commit certificate, RLP.
    pub certificate: Bytes,
}

/// One storage leaf of an account: hashed slot and encoded value.
#[derive(RlpEncodable, RlpDecodable)]
pub struct StoragePair {
    /// Tree key.
    pub key: Bytes,
    /// Encoded value.
    pub value: Bytes,
}

/// One account as stored in the state tree.
#[derive(RlpEncodable, RlpDecodable)]
pub struct AccountRecord {
    /// Tree key of the account.
    pub key: Bytes,
    /// Encoded account.
    pub account: Bytes,
    /// Its storage leaves.
    pub storage: Vec<StoragePair>,
    /// Empty when the account has no code.
    pub code: Bytes,
}

/// A record cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(std::io::Error),
    /// The file ends inside a record.
    #[error("truncated ({0})")]
    Truncated(std::io::Error),
    /// A record is longer than the format allows.
    #[error("a record of {0} bytes (limit {MAX_RECORD})")]
    TooLarge(usize),
}

/// Writes one length-prefixed record.
pub fn write_record(out: &mut impl Write, bytes: &[u8]) -> Result<(), RecordError> {
    let len = u32::try_from(bytes.len())
        .ok()
        .filter(|len| *len as usize <= MAX_RECORD)
        .ok_or(RecordError::TooLarge(bytes.len()))?;
    out.write_all(&len.to_be_bytes()).map_err(RecordError::Io)?;
    out.write_all(bytes).map_err(RecordError::Io)
}

/// Reads one length-prefixed record, refusing one above [`MAX_RECORD`]. Memory grows with the
/// bytes that actually arrive, not with the length claimed: a stream that claims 64 MiB and
/// ends after a few bytes (a damaged file, a peer that hangs up) costs a few bytes.
pub fn read_record(input: &mut impl Read) -> Result<Vec<u8>, RecordError> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len).map_err(RecordError::Truncated)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_RECORD {
        return Err(RecordError::TooLarge(len));
    }
    let mut buf = Vec::with_capacity(len.min(64 * 1024));
    input
        .take(len as u64)
        .read_to_end(&mut buf)
        .map_err(RecordError::Io)?;
    if buf.len() < len {
        return Err(RecordError::Truncated(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("the record claims {len} bytes and {} follow", buf.len()),
        )));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bounds_hold() {
        let mut file = Vec::new();
        write_record(&mut file, b"abc").expect("write");
        write_record(&mut file, &[]).expect("write");
        let mut input = file.as_slice();
        assert_eq!(read_record(&mut input).expect("read"), b"abc");
        assert!(read_record(&mut input).expect("read").is_empty());
        assert!(matches!(
            read_record(&mut input),
            Err(RecordError::Truncated(_))
        ));
        let huge = (MAX_RECORD as u32 + 1).to_be_bytes();
        assert!(matches!(
            read_record(&mut huge.as_slice()),
            Err(RecordError::TooLarge(_))
        ));
    }
}
