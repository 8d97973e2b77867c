//! The binary encoding of everything the engine writes to its WAL or sends to a peer.
//!
//! A plain, bounded, length-prefixed format: integers are fixed-width big-endian, byte strings
//! and lists carry a `u32` length that is checked against both a per-field limit and the bytes
//! actually left, enums carry a one-byte tag, and a decode must consume its input exactly. Every
//! decoder returns an error on bad input; none panics (see `tests/codec.rs`).

use std::ops::RangeInclusive;

use alloy_primitives::{Address, B256, Bytes as AlloyBytes};
use banyan_primitives::SealedHeader;
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::PeerId;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, ExtendedCommitCertificate, ExtendedCommitSignature, NilOrVal,
    PolkaCertificate, PolkaSignature, Round, RoundCertificate, RoundCertificateType,
    RoundSignature, SignedMessage, ValidatorProof, Validity, VoteType,
};
use malachitebft_codec::{Codec, HasEncodedLen};
use malachitebft_sync::{RawDecidedValue, Request, Response, Status, ValueRequest, ValueResponse};

use crate::context::{
    BanyanContext, BlockHash, Height, Proposal, ProposalPart, ValidatorAddress, Vote,
};
use crate::signing::ConsensusSignature;

/// Largest single byte string (a block's RLP travels as one in sync responses).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// Most entries in one list (signatures, transactions in a part, values in a response).
pub const MAX_LIST: usize = 65_536;

/// Why bytes could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// Input ended inside a field.
    #[error("truncated input: needed {needed} more bytes for {field}")]
    Truncated {
        /// What was being read.
        field: &'static str,
        /// Bytes missing.
        needed: usize,
    },
    /// A length prefix is over its limit.
    #[error("{field} length {len} exceeds the limit {limit}")]
    TooLong {
        /// What was being read.
        field: &'static str,
        /// Declared length.
        len: usize,
        /// Allowed maximum.
        limit: usize,
    },
    /// An enum tag that does not exist.
    #[error("unknown tag {tag} for {field}")]
    BadTag {
        /// What was being read.
        field: &'static str,
        /// The tag byte.
        tag: u8,
    },
    /// A value outside its domain.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// What was being read.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Bytes left after a complete message.
    #[error("{0} trailing bytes after the message")]
    Trailing(usize),
}

/// The codec handed to Malachite's WAL, sync and network actors.
#[derive(Clone, Copy, Debug, Default)]
pub struct BanyanCodec;

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn len(&mut self, n: usize) {
        // Callers never produce more than u32::MAX entries: lists and byte strings we encode
        // are bounded far below that by block and message limits.
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
    fn b256(&mut self, v: &B256) {
        self.0.extend_from_slice(v.as_slice());
    }
    fn address(&mut self, v: &Address) {
        self.0.extend_from_slice(v.as_slice());
    }
    fn round(&mut self, r: Round) {
        self.0.extend_from_slice(&r.as_i64().to_be_bytes());
    }
    fn height(&mut self, h: Height) {
        self.u64(h.0);
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError::Truncated {
                field,
                needed: n - self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, CodecError> {
        Ok(self.array::<1>(field)?[0])
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }
    /// A list length, bounded by `limit` and by the bytes left at `min_item` bytes per entry.
    fn count(
        &mut self,
        field: &'static str,
        limit: usize,
        min_item: usize,
    ) -> Result<usize, CodecError> {
        let n = self.u32(field)? as usize;
        let fits = self.buf.len() / min_item.max(1);
        if n > limit {
            return Err(CodecError::TooLong {
                field,
                len: n,
                limit,
            });
        }
        if n > fits {
            return Err(CodecError::Truncated {
                field,
                needed: (n - fits) * min_item.max(1),
            });
        }
        Ok(n)
    }
    fn bytes(&mut self, field: &'static str, limit: usize) -> Result<&'a [u8], CodecError> {
        let n = self.u32(field)? as usize;
        if n > limit {
            return Err(CodecError::TooLong {
                field,
                len: n,
                limit,
            });
        }
        self.take(n, field)
    }
    fn b256(&mut self, field: &'static str) -> Result<B256, CodecError> {
        Ok(B256::from(self.array::<32>(field)?))
    }
    fn address(&mut self, field: &'static str) -> Result<Address, CodecError> {
        Ok(Address::from(self.array::<20>(field)?))
    }
    fn round(&mut self, field: &'static str) -> Result<Round, CodecError> {
        let v = i64::from_be_bytes(self.array(field)?);
        match v {
            -1 => Ok(Round::Nil),
            0..=0xFFFF_FFFF => Ok(Round::new(v as u32)),
            _ => Err(CodecError::Invalid {
                field,
                reason: format!("round {v} is neither -1 (nil) nor a u32"),
            }),
        }
    }
    fn height(&mut self, field: &'static str) -> Result<Height, CodecError> {
        Ok(Height(self.u64(field)?))
    }
    fn finish(self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError::Trailing(self.buf.len()))
        }
    }
}

/// Encoding of one type, field by field.
trait Wire: Sized {
    fn put(&self, w: &mut Writer);
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError>;
}

fn encode<T: Wire>(v: &T) -> Bytes {
    let mut w = Writer(Vec::with_capacity(128));
    v.put(&mut w);
    Bytes::from(w.0)
}

fn decode<T: Wire>(bytes: &[u8]) -> Result<T, CodecError> {
    let mut r = Reader { buf: bytes };
    let v = T::get(&mut r)?;
    r.finish()?;
    Ok(v)
}

impl Wire for ValidatorAddress {
    fn put(&self, w: &mut Writer) {
        w.address(&self.0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ValidatorAddress(r.address("address")?))
    }
}

impl Wire for BlockHash {
    fn put(&self, w: &mut Writer) {
        w.b256(&self.0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(BlockHash(r.b256("block hash")?))
    }
}

impl Wire for ConsensusSignature {
    fn put(&self, w: &mut Writer) {
        w.bytes(&self.0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let sig = r.bytes("signature", 65)?;
        if sig.len() != 64 && sig.len() != 65 {
            return Err(CodecError::Invalid {
                field: "signature",
                reason: format!("{} bytes; expected 64 (sm) or 65 (ecdsa)", sig.len()),
            });
        }
        Ok(ConsensusSignature(sig.to_vec()))
    }
}

impl Wire for NilOrVal<BlockHash> {
    fn put(&self, w: &mut Writer) {
        match self {
            NilOrVal::Nil => w.u8(0),
            NilOrVal::Val(h) => {
                w.u8(1);
                h.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("vote value tag")? {
            0 => Ok(NilOrVal::Nil),
            1 => Ok(NilOrVal::Val(BlockHash::get(r)?)),
            tag => Err(CodecError::BadTag {
                field: "vote value",
                tag,
            }),
        }
    }
}

impl Wire for VoteType {
    fn put(&self, w: &mut Writer) {
        w.u8(match self {
            VoteType::Prevote => 1,
            VoteType::Precommit => 2,
        });
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("vote type")? {
            1 => Ok(VoteType::Prevote),
            2 => Ok(VoteType::Precommit),
            tag => Err(CodecError::BadTag {
                field: "vote type",
                tag,
            }),
        }
    }
}

impl Wire for Vote {
    fn put(&self, w: &mut Writer) {
        self.vote_type.put(w);
        w.height(self.height);
        w.round(self.round);
        self.value.put(w);
        self.validator.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Vote {
            vote_type: VoteType::get(r)?,
            height: r.height("vote height")?,
            round: r.round("vote round")?,
            value: NilOrVal::get(r)?,
            validator: ValidatorAddress::get(r)?,
        })
    }
}

impl Wire for Proposal {
    fn put(&self, w: &mut Writer) {
        w.height(self.height);
        w.round(self.round);
        self.value.put(w);
        w.round(self.pol_round);
        self.proposer.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Proposal {
            height: r.height("proposal height")?,
            round: r.round("proposal round")?,
            value: BlockHash::get(r)?,
            pol_round: r.round("proposal pol round")?,
            proposer: ValidatorAddress::get(r)?,
        })
    }
}

impl<M: Wire> Wire for SignedMessage<BanyanContext, M> {
    fn put(&self, w: &mut Writer) {
        self.message.put(w);
        self.signature.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let message = M::get(r)?;
        let signature = ConsensusSignature::get(r)?;
        Ok(SignedMessage::new(message, signature))
    }
}

/// Most transactions in one `Txs` part.
pub const MAX_TXS_PER_PART: usize = 8_192;
/// Largest RLP of a sealed header.
const MAX_HEADER_BYTES: usize = 4_096;
/// Largest single transaction (the pool's own limit is lower).
const MAX_TX_BYTES: usize = 256 * 1024;

impl Wire for ProposalPart {
    fn put(&self, w: &mut Writer) {
        match self {
            ProposalPart::Init {
                height,
                round,
                valid_round,
                proposer,
            } => {
                w.u8(0);
                w.height(*height);
                w.round(*round);
                w.round(*valid_round);
                proposer.put(w);
            }
            ProposalPart::Header(header) => {
                w.u8(1);
                w.bytes(&alloy_rlp::encode(header.as_ref()));
            }
            ProposalPart::Txs { first_index, txs } => {
                w.u8(2);
                w.u32(*first_index);
                w.len(txs.len());
                for tx in txs {
                    w.bytes(tx);
                }
            }
            ProposalPart::Fin { tx_count } => {
                w.u8(3);
                w.u32(*tx_count);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("proposal part tag")? {
            0 => Ok(ProposalPart::Init {
                height: r.height("init height")?,
                round: r.round("init round")?,
                valid_round: r.round("init valid round")?,
                proposer: ValidatorAddress::get(r)?,
            }),
            1 => {
                let raw = r.bytes("header", MAX_HEADER_BYTES)?;
                let header: SealedHeader =
                    alloy_rlp::decode_exact(raw).map_err(|e| CodecError::Invalid {
                        field: "header",
                        reason: e.to_string(),
                    })?;
                Ok(ProposalPart::Header(Box::new(header)))
            }
            2 => {
                let first_index = r.u32("txs first index")?;
                let n = r.count("txs", MAX_TXS_PER_PART, 4)?;
                let mut txs = Vec::with_capacity(n);
                for _ in 0..n {
                    txs.push(AlloyBytes::copy_from_slice(r.bytes("tx", MAX_TX_BYTES)?));
                }
                Ok(ProposalPart::Txs { first_index, txs })
            }
            3 => Ok(ProposalPart::Fin {
                tx_count: r.u32("fin tx count")?,
            }),
            tag => Err(CodecError::BadTag {
                field: "proposal part",
                tag,
            }),
        }
    }
}

impl Wire for SignedConsensusMsg<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        match self {
            SignedConsensusMsg::Vote(v) => {
                w.u8(0);
                v.put(w);
            }
            SignedConsensusMsg::Proposal(p) => {
                w.u8(1);
                p.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("consensus message tag")? {
            0 => Ok(SignedConsensusMsg::Vote(SignedMessage::get(r)?)),
            1 => Ok(SignedConsensusMsg::Proposal(SignedMessage::get(r)?)),
            tag => Err(CodecError::BadTag {
                field: "consensus message",
                tag,
            }),
        }
    }
}

impl Wire for PolkaCertificate<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        w.height(self.height);
        w.round(self.round);
        self.value_id.put(w);
        w.len(self.polka_signatures.len());
        for s in &self.polka_signatures {
            s.address.put(w);
            s.signature.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let height = r.height("polka height")?;
        let round = r.round("polka round")?;
        let value_id = BlockHash::get(r)?;
        let n = r.count("polka signatures", MAX_LIST, 20 + 4 + 64)?;
        let mut polka_signatures = Vec::with_capacity(n);
        for _ in 0..n {
            polka_signatures.push(PolkaSignature {
                address: ValidatorAddress::get(r)?,
                signature: ConsensusSignature::get(r)?,
            });
        }
        Ok(PolkaCertificate {
            height,
            round,
            value_id,
            polka_signatures,
        })
    }
}

impl Wire for RoundCertificate<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        w.height(self.height);
        w.round(self.round);
        w.u8(match self.cert_type {
            RoundCertificateType::Skip => 0,
            RoundCertificateType::Precommit => 1,
        });
        w.len(self.round_signatures.len());
        for s in &self.round_signatures {
            s.vote_type.put(w);
            s.value_id.put(w);
            s.address.put(w);
            s.signature.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let height = r.height("round certificate height")?;
        let round = r.round("round certificate round")?;
        let cert_type = match r.u8("round certificate type")? {
            0 => RoundCertificateType::Skip,
            1 => RoundCertificateType::Precommit,
            tag => {
                return Err(CodecError::BadTag {
                    field: "round certificate type",
                    tag,
                });
            }
        };
        let n = r.count("round signatures", MAX_LIST, 1 + 1 + 20 + 4 + 64)?;
        let mut round_signatures = Vec::with_capacity(n);
        for _ in 0..n {
            round_signatures.push(RoundSignature {
                vote_type: VoteType::get(r)?,
                value_id: NilOrVal::get(r)?,
                address: ValidatorAddress::get(r)?,
                signature: ConsensusSignature::get(r)?,
            });
        }
        Ok(RoundCertificate {
            height,
            round,
            cert_type,
            round_signatures,
        })
    }
}

impl Wire for LivenessMsg<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        match self {
            LivenessMsg::Vote(v) => {
                w.u8(0);
                v.put(w);
            }
            LivenessMsg::PolkaCertificate(c) => {
                w.u8(1);
                c.put(w);
            }
            LivenessMsg::SkipRoundCertificate(c) => {
                w.u8(2);
                c.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("liveness message tag")? {
            0 => Ok(LivenessMsg::Vote(SignedMessage::get(r)?)),
            1 => Ok(LivenessMsg::PolkaCertificate(PolkaCertificate::get(r)?)),
            2 => Ok(LivenessMsg::SkipRoundCertificate(RoundCertificate::get(r)?)),
            tag => Err(CodecError::BadTag {
                field: "liveness message",
                tag,
            }),
        }
    }
}

/// Longest stream id (height, round and proposer address fit in 32).
const MAX_STREAM_ID: usize = 64;

impl Wire for StreamMessage<ProposalPart> {
    fn put(&self, w: &mut Writer) {
        w.bytes(&self.stream_id.to_bytes());
        w.u64(self.sequence);
        match &self.content {
            StreamContent::Data(part) => {
                w.u8(0);
                part.put(w);
            }
            StreamContent::Fin => w.u8(1),
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let stream_id = StreamId::new(Bytes::copy_from_slice(r.bytes("stream id", MAX_STREAM_ID)?));
        let sequence = r.u64("stream sequence")?;
        let content = match r.u8("stream content tag")? {
            0 => StreamContent::Data(ProposalPart::get(r)?),
            1 => StreamContent::Fin,
            tag => {
                return Err(CodecError::BadTag {
                    field: "stream content",
                    tag,
                });
            }
        };
        Ok(StreamMessage::new(stream_id, sequence, content))
    }
}

impl Wire for ValidatorProof<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        w.bytes(&self.public_key);
        w.bytes(&self.peer_id);
        self.signature.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let public_key = r.bytes("proof public key", 128)?.to_vec();
        let peer_id = r.bytes("proof peer id", 128)?.to_vec();
        let signature = ConsensusSignature::get(r)?;
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

impl Wire for ProposedValue<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        w.height(self.height);
        w.round(self.round);
        w.round(self.valid_round);
        self.proposer.put(w);
        self.value.put(w);
        w.u8(u8::from(self.validity.is_valid()));
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ProposedValue {
            height: r.height("proposed value height")?,
            round: r.round("proposed value round")?,
            valid_round: r.round("proposed value valid round")?,
            proposer: ValidatorAddress::get(r)?,
            value: BlockHash::get(r)?,
            validity: match r.u8("validity")? {
                0 => Validity::Invalid,
                1 => Validity::Valid,
                tag => {
                    return Err(CodecError::BadTag {
                        field: "validity",
                        tag,
                    });
                }
            },
        })
    }
}

fn put_peer(w: &mut Writer, peer: PeerId) {
    w.bytes(&peer.to_bytes());
}

fn get_peer(r: &mut Reader<'_>) -> Result<PeerId, CodecError> {
    let raw = r.bytes("peer id", 128)?;
    PeerId::from_bytes(raw).map_err(|e| CodecError::Invalid {
        field: "peer id",
        reason: e.to_string(),
    })
}

impl Wire for Status<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        put_peer(w, self.peer_id);
        w.height(self.tip_height);
        w.height(self.history_min_height);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Status {
            peer_id: get_peer(r)?,
            tip_height: r.height("status tip")?,
            history_min_height: r.height("status history minimum")?,
        })
    }
}

impl Wire for Request<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        let Request::ValueRequest(req) = self;
        w.u8(0);
        w.height(*req.range.start());
        w.height(*req.range.end());
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("sync request tag")? {
            0 => {
                let start = r.height("request start")?;
                let end = r.height("request end")?;
                let range: RangeInclusive<Height> = start..=end;
                Ok(Request::ValueRequest(ValueRequest::new(range)))
            }
            tag => Err(CodecError::BadTag {
                field: "sync request",
                tag,
            }),
        }
    }
}

impl Wire for CommitCertificate<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        w.height(self.height);
        w.round(self.round);
        self.value_id.put(w);
        w.len(self.commit_signatures.len());
        for s in &self.commit_signatures {
            s.address.put(w);
            s.signature.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let height = r.height("certificate height")?;
        let round = r.round("certificate round")?;
        let value_id = BlockHash::get(r)?;
        let n = r.count("commit signatures", MAX_LIST, 20 + 4 + 64)?;
        let mut commit_signatures = Vec::with_capacity(n);
        for _ in 0..n {
            commit_signatures.push(
                malachitebft_app_channel::app::types::core::CommitSignature {
                    address: ValidatorAddress::get(r)?,
                    signature: ConsensusSignature::get(r)?,
                },
            );
        }
        Ok(CommitCertificate {
            height,
            round,
            value_id,
            commit_signatures,
        })
    }
}

impl Wire for ExtendedCommitCertificate<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        w.height(self.height);
        w.round(self.round);
        self.value_id.put(w);
        w.len(self.commit_signatures.len());
        for s in &self.commit_signatures {
            s.address.put(w);
            s.signature.put(w);
            // Vote extensions are disabled on Banyan chains; an extension is never encoded.
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let height = r.height("certificate height")?;
        let round = r.round("certificate round")?;
        let value_id = BlockHash::get(r)?;
        let n = r.count("commit signatures", MAX_LIST, 20 + 4 + 64)?;
        let mut commit_signatures = Vec::with_capacity(n);
        for _ in 0..n {
            commit_signatures.push(ExtendedCommitSignature {
                address: ValidatorAddress::get(r)?,
                signature: ConsensusSignature::get(r)?,
                extension: None,
            });
        }
        Ok(ExtendedCommitCertificate {
            height,
            round,
            value_id,
            commit_signatures,
        })
    }
}

impl Wire for Response<BanyanContext> {
    fn put(&self, w: &mut Writer) {
        let Response::ValueResponse(resp) = self;
        w.u8(0);
        w.height(resp.start_height);
        w.len(resp.values.len());
        for v in &resp.values {
            w.bytes(&v.value_bytes);
            v.certificate.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8("sync response tag")? {
            0 => {
                let start_height = r.height("response start")?;
                let n = r.count("response values", MAX_LIST, 4 + 8 + 8 + 32 + 4)?;
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    let value_bytes = Bytes::copy_from_slice(r.bytes("value", MAX_BYTES)?);
                    let certificate = ExtendedCommitCertificate::get(r)?;
                    values.push(RawDecidedValue::new(value_bytes, certificate));
                }
                Ok(Response::ValueResponse(ValueResponse::new(
                    start_height,
                    values,
                )))
            }
            tag => Err(CodecError::BadTag {
                field: "sync response",
                tag,
            }),
        }
    }
}

macro_rules! codec_for {
    ($($t:ty),* $(,)?) => {$(
        impl Codec<$t> for BanyanCodec {
            type Error = CodecError;

            fn decode(&self, bytes: Bytes) -> Result<$t, CodecError> {
                decode(&bytes)
            }

            fn encode(&self, msg: &$t) -> Result<Bytes, CodecError> {
                Ok(encode(msg))
            }
        }
    )*};
}

codec_for!(
    ProposalPart,
    SignedConsensusMsg<BanyanContext>,
    LivenessMsg<BanyanContext>,
    StreamMessage<ProposalPart>,
    ValidatorProof<BanyanContext>,
    ProposedValue<BanyanContext>,
    PolkaCertificate<BanyanContext>,
    Status<BanyanContext>,
    Request<BanyanContext>,
    Response<BanyanContext>,
    CommitCertificate<BanyanContext>,
);

impl HasEncodedLen<Response<BanyanContext>> for BanyanCodec {
    fn encoded_len(&self, msg: &Response<BanyanContext>) -> Result<usize, CodecError> {
        let Response::ValueResponse(resp) = msg;
        // tag + start height + count, then per value: length prefix, bytes, certificate.
        let mut len = 1 + 8 + 4;
        for v in &resp.values {
            let sigs: usize = v
                .certificate
                .commit_signatures
                .iter()
                .map(|s| 20 + 4 + s.signature.0.len())
                .sum();
            len += 4 + v.value_bytes.len() + 8 + 8 + 32 + 4 + sigs;
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use banyan_primitives::Header;
    use proptest::prelude::*;

    /// Decoding arbitrary bytes as `T` never panics, and whatever decodes re-encodes to bytes
    /// that decode again to the same encoding (the codec has one reading of every value).
    fn decodes_safely<T: Wire>(bytes: &[u8]) -> Result<(), TestCaseError> {
        if let Ok(value) = decode::<T>(bytes) {
            let encoded = encode(&value);
            let again = decode::<T>(&encoded)
                .map_err(|e| TestCaseError::fail(format!("re-encoding does not decode: {e}")))?;
            prop_assert_eq!(encode(&again), encoded);
        }
        Ok(())
    }

    fn round() -> impl Strategy<Value = Round> {
        prop_oneof![Just(Round::Nil), any::<u32>().prop_map(Round::new)]
    }

    fn header() -> impl Strategy<Value = SealedHeader> {
        (
            any::<[u8; 32]>(),
            any::<u64>(),
            any::<u64>(),
            any::<[u8; 20]>(),
            any::<u64>(),
            prop::collection::vec(any::<u8>(), 0..64),
            prop::collection::vec(any::<u8>(), 0..70),
        )
            .prop_map(|(parent, number, timestamp, proposer, gas, extra, seal)| {
                SealedHeader {
                    header: Header {
                        parent_hash: B256::from(parent),
                        number,
                        timestamp,
                        proposer: Address::from(proposer),
                        gas_limit: gas,
                        gas_used: gas / 2,
                        extra_data: extra.into(),
                        ..Header::default()
                    },
                    signature: seal.into(),
                }
            })
    }

    fn part() -> impl Strategy<Value = ProposalPart> {
        prop_oneof![
            (any::<u64>(), round(), round(), any::<[u8; 20]>()).prop_map(
                |(height, round, valid_round, proposer)| ProposalPart::Init {
                    height: Height(height),
                    round,
                    valid_round,
                    proposer: ValidatorAddress(Address::from(proposer)),
                }
            ),
            header().prop_map(|h| ProposalPart::Header(Box::new(h))),
            (
                any::<u32>(),
                prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8)
            )
                .prop_map(|(first_index, txs)| ProposalPart::Txs {
                    first_index,
                    txs: txs.into_iter().map(AlloyBytes::from).collect(),
                }),
            any::<u32>().prop_map(|tx_count| ProposalPart::Fin { tx_count }),
        ]
    }

    proptest! {
        #[test]
        fn proposal_parts_round_trip(part in part()) {
            let encoded = encode(&part);
            prop_assert_eq!(decode::<ProposalPart>(&encoded).expect("decodes"), part);
        }

        #[test]
        fn stream_messages_round_trip(
            part in part(),
            id in prop::collection::vec(any::<u8>(), 0..=MAX_STREAM_ID),
            sequence in any::<u64>(),
            fin in any::<bool>(),
        ) {
            let content = if fin { StreamContent::Fin } else { StreamContent::Data(part) };
            let message = StreamMessage::new(StreamId::new(Bytes::from(id)), sequence, content);
            let encoded = encode(&message);
            let decoded = decode::<StreamMessage<ProposalPart>>(&encoded).expect("decodes");
            prop_assert_eq!(encode(&decoded), encoded);
        }

        #[test]
        fn truncated_or_extended_parts_are_refused(part in part(), cut in any::<prop::sample::Index>(), extra in 1u8..) {
            let encoded = encode(&part);
            let short = &encoded[..cut.index(encoded.len())];
            prop_assert!(decode::<ProposalPart>(short).is_err());
            let mut long = encoded.to_vec();
            long.push(extra);
            prop_assert!(decode::<ProposalPart>(&long).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_decode_one_way(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            decodes_safely::<ProposalPart>(&bytes)?;
            decodes_safely::<StreamMessage<ProposalPart>>(&bytes)?;
            decodes_safely::<SignedConsensusMsg<BanyanContext>>(&bytes)?;
            decodes_safely::<LivenessMsg<BanyanContext>>(&bytes)?;
            decodes_safely::<PolkaCertificate<BanyanContext>>(&bytes)?;
            decodes_safely::<ProposedValue<BanyanContext>>(&bytes)?;
            decodes_safely::<Status<BanyanContext>>(&bytes)?;
            decodes_safely::<Request<BanyanContext>>(&bytes)?;
            decodes_safely::<Response<BanyanContext>>(&bytes)?;
            decodes_safely::<CommitCertificate<BanyanContext>>(&bytes)?;
            decodes_safely::<ValidatorProof<BanyanContext>>(&bytes)?;
        }

        /// Arbitrary bytes behind each valid tag reach the field decoders, not just the tag check.
        #[test]
        fn arbitrary_bodies_behind_valid_tags_never_panic(tag in 0u8..4, body in prop::collection::vec(any::<u8>(), 0..400)) {
            let mut bytes = vec![tag];
            bytes.extend_from_slice(&body);
            decodes_safely::<ProposalPart>(&bytes)?;
            decodes_safely::<SignedConsensusMsg<BanyanContext>>(&bytes)?;
            decodes_safely::<LivenessMsg<BanyanContext>>(&bytes)?;
            decodes_safely::<Response<BanyanContext>>(&bytes)?;
        }
    }

    fn address() -> impl Strategy<Value = ValidatorAddress> {
        any::<[u8; 20]>().prop_map(|a| ValidatorAddress(Address::from(a)))
    }

    fn hash() -> impl Strategy<Value = BlockHash> {
        any::<[u8; 32]>().prop_map(|h| BlockHash(B256::from(h)))
    }

    /// 65 bytes (secp256k1 with recovery id) or 64 (SM2).
    fn signature() -> impl Strategy<Value = ConsensusSignature> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 65..=65),
            prop::collection::vec(any::<u8>(), 64..=64)
        ]
        .prop_map(ConsensusSignature)
    }

    fn vote_type() -> impl Strategy<Value = VoteType> {
        prop_oneof![Just(VoteType::Prevote), Just(VoteType::Precommit)]
    }

    fn nil_or_hash() -> impl Strategy<Value = NilOrVal<BlockHash>> {
        prop_oneof![Just(NilOrVal::Nil), hash().prop_map(NilOrVal::Val)]
    }

    fn vote() -> impl Strategy<Value = SignedMessage<BanyanContext, Vote>> {
        (
            vote_type(),
            any::<u64>(),
            round(),
            nil_or_hash(),
            address(),
            signature(),
        )
            .prop_map(|(vote_type, height, round, value, validator, sig)| {
                SignedMessage::new(
                    Vote {
                        vote_type,
                        height: Height(height),
                        round,
                        value,
                        validator,
                    },
                    sig,
                )
            })
    }

    fn consensus_msg() -> impl Strategy<Value = SignedConsensusMsg<BanyanContext>> {
        let proposal = (
            any::<u64>(),
            round(),
            hash(),
            round(),
            address(),
            signature(),
        )
            .prop_map(|(height, round, value, pol_round, proposer, sig)| {
                SignedConsensusMsg::Proposal(SignedMessage::new(
                    Proposal {
                        height: Height(height),
                        round,
                        value,
                        pol_round,
                        proposer,
                    },
                    sig,
                ))
            });
        prop_oneof![vote().prop_map(SignedConsensusMsg::Vote), proposal]
    }

    fn commit_certificate() -> impl Strategy<Value = CommitCertificate<BanyanContext>> {
        (
            any::<u64>(),
            round(),
            hash(),
            prop::collection::vec((address(), signature()), 0..8),
        )
            .prop_map(|(height, round, value_id, sigs)| CommitCertificate {
                height: Height(height),
                round,
                value_id,
                commit_signatures: sigs
                    .into_iter()
                    .map(|(address, signature)| {
                        malachitebft_app_channel::app::types::core::CommitSignature {
                            address,
                            signature,
                        }
                    })
                    .collect(),
            })
    }

    fn liveness_msg() -> impl Strategy<Value = LivenessMsg<BanyanContext>> {
        let polka = (
            any::<u64>(),
            round(),
            hash(),
            prop::collection::vec((address(), signature()), 0..8),
        )
            .prop_map(|(height, round, value_id, sigs)| {
                LivenessMsg::PolkaCertificate(PolkaCertificate {
                    height: Height(height),
                    round,
                    value_id,
                    polka_signatures: sigs
                        .into_iter()
                        .map(|(address, signature)| PolkaSignature { address, signature })
                        .collect(),
                })
            });
        let skip = (
            any::<u64>(),
            round(),
            any::<bool>(),
            prop::collection::vec((vote_type(), nil_or_hash(), address(), signature()), 0..8),
        )
            .prop_map(|(height, round, skip, sigs)| {
                LivenessMsg::SkipRoundCertificate(RoundCertificate {
                    height: Height(height),
                    round,
                    cert_type: if skip {
                        RoundCertificateType::Skip
                    } else {
                        RoundCertificateType::Precommit
                    },
                    round_signatures: sigs
                        .into_iter()
                        .map(|(vote_type, value_id, address, signature)| RoundSignature {
                            vote_type,
                            value_id,
                            address,
                            signature,
                        })
                        .collect(),
                })
            });
        prop_oneof![vote().prop_map(LivenessMsg::Vote), polka, skip]
    }

    /// A WAL record of a proposed value (the other WAL records are consensus messages).
    fn proposed_value() -> impl Strategy<Value = ProposedValue<BanyanContext>> {
        (
            any::<u64>(),
            round(),
            round(),
            address(),
            hash(),
            any::<bool>(),
        )
            .prop_map(|(height, round, valid_round, proposer, value, valid)| {
                ProposedValue {
                    height: Height(height),
                    round,
                    valid_round,
                    proposer,
                    value,
                    validity: if valid {
                        Validity::Valid
                    } else {
                        Validity::Invalid
                    },
                }
            })
    }

    fn sync_response() -> impl Strategy<Value = Response<BanyanContext>> {
        (
            any::<u64>(),
            prop::collection::vec(
                (
                    prop::collection::vec(any::<u8>(), 0..200),
                    commit_certificate(),
                ),
                0..4,
            ),
        )
            .prop_map(|(start, values)| {
                let values = values
                    .into_iter()
                    .map(|(bytes, c)| {
                        let certificate = ExtendedCommitCertificate {
                            height: c.height,
                            round: c.round,
                            value_id: c.value_id,
                            commit_signatures: c
                                .commit_signatures
                                .into_iter()
                                .map(|s| ExtendedCommitSignature {
                                    address: s.address,
                                    signature: s.signature,
                                    extension: None,
                                })
                                .collect(),
                        };
                        RawDecidedValue::new(Bytes::from(bytes), certificate)
                    })
                    .collect();
                Response::ValueResponse(ValueResponse::new(Height(start), values))
            })
    }

    fn sync_request() -> impl Strategy<Value = Request<BanyanContext>> {
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| {
            Request::ValueRequest(ValueRequest::new(Height(a.min(b))..=Height(a.max(b))))
        })
    }

    /// `value` encodes to bytes that decode to a value with the same encoding; every proper
    /// prefix of them and the bytes with one more byte are refused.
    fn round_trips<T: Wire>(value: &T, extra: u8) -> Result<(), TestCaseError> {
        let encoded = encode(value);
        let decoded = decode::<T>(&encoded)
            .map_err(|e| TestCaseError::fail(format!("does not decode: {e}")))?;
        prop_assert_eq!(encode(&decoded), encoded.clone());
        for cut in 0..encoded.len() {
            prop_assert!(
                decode::<T>(&encoded[..cut]).is_err(),
                "prefix of {} bytes decoded",
                cut
            );
        }
        let mut long = encoded.to_vec();
        long.push(extra);
        prop_assert!(decode::<T>(&long).is_err());
        Ok(())
    }

    proptest! {
        #[test]
        fn votes_and_proposals_round_trip(msg in consensus_msg(), extra in any::<u8>()) {
            round_trips(&msg, extra)?;
            // And the fields survive, not just the bytes.
            if let (SignedConsensusMsg::Vote(v), Ok(SignedConsensusMsg::Vote(d))) =
                (&msg, decode::<SignedConsensusMsg<BanyanContext>>(&encode(&msg)))
            {
                prop_assert_eq!(&d.message, &v.message);
                prop_assert_eq!(&d.signature, &v.signature);
            }
        }

        #[test]
        fn liveness_messages_round_trip(msg in liveness_msg(), extra in any::<u8>()) {
            round_trips(&msg, extra)?;
        }

        #[test]
        fn commit_certificates_round_trip(cert in commit_certificate(), extra in any::<u8>()) {
            round_trips(&cert, extra)?;
            let decoded = decode::<CommitCertificate<BanyanContext>>(&encode(&cert)).expect("decodes");
            prop_assert_eq!(decoded.height, cert.height);
            prop_assert_eq!(decoded.round, cert.round);
            prop_assert_eq!(decoded.value_id, cert.value_id);
            prop_assert_eq!(decoded.commit_signatures.len(), cert.commit_signatures.len());
        }

        #[test]
        fn wal_records_round_trip(value in proposed_value(), extra in any::<u8>()) {
            round_trips(&value, extra)?;
            let decoded = decode::<ProposedValue<BanyanContext>>(&encode(&value)).expect("decodes");
            prop_assert_eq!(decoded, value);
        }

        #[test]
        fn sync_requests_and_responses_round_trip(
            request in sync_request(),
            response in sync_response(),
            extra in any::<u8>(),
        ) {
            round_trips(&request, extra)?;
            round_trips(&response, extra)?;
            // The length the sync actor budgets with is the length written.
            let len = BanyanCodec.encoded_len(&response).expect("length");
            prop_assert_eq!(len, encode(&response).len());
        }
    }
}
