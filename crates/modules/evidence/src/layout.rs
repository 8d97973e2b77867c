//! Where Evidence keeps its state in its account's storage. This layout is part of the module's
//! version: a third party reads it through `eth_getProof` to prove an anchor, so it only changes
//! with a new [`crate::VERSION`].
//!
//! For an anchored hash `h`, the record starts at `R = keccak256("evidence.anchor" ‖ 0x00 ‖ h)`:
//!
//! | slot | content |
//! |---|---|
//! | `R` | anchorer (20 bytes) ‖ block number (8) ‖ attestation count (2) ‖ revoked (1) ‖ `0x01` (present) |
//! | `R+1` | timestamp (8) ‖ revoked at block (8) ‖ zero (16) |
//! | `R+2` | kind: byte length; data from `keccak256(R+2)` |
//! | `R+3` | reference id, as `R+2` |
//! | `R+4` | metadata, as `R+2` |
//! | `R+5` | revocation reason, as `R+2` |
//! | `R+6` | attestations: count; word `i` at `keccak256(R+6) + i` = attester (20) ‖ block (8) ‖ zero (4) |
//!
//! `keccak256("evidence.attested" ‖ 0x00 ‖ h ‖ attester)` is 1 once `attester` attested `h`, and
//! `keccak256("evidence.by" ‖ 0x00 ‖ anchorer)` is the list of hashes `anchorer` anchored.

use alloy_primitives::{Address, B256};
use banyan_module_api::{
    ModuleError, ModuleState,
    slots::{Packer, Slot, Word, WordList},
};

/// Marks a record slot as present (its last byte).
const PRESENT: u8 = 1;

/// The storage record of one anchored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnchorRecord {
    hash: B256,
    base: Slot,
}

/// The fixed-size fields of an anchor: slots `R` and `R+1`, what a proof of the anchor shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    /// Who anchored the hash.
    pub anchorer: Address,
    /// The block that anchored it.
    pub block_number: u64,
    /// That block's timestamp.
    pub timestamp: u64,
    /// Attestations so far.
    pub attestation_count: u16,
    /// Whether the anchorer revoked it.
    pub revoked: bool,
    /// The block that revoked it (0 when not revoked).
    pub revoked_at_block: u64,
}

impl Fields {
    /// Decodes the two words at `R` and `R+1`; `None` when the record is absent.
    pub fn decode(head: Word, times: Word) -> Option<Self> {
        let mut first = head.unpack();
        let anchorer = first.address();
        let block_number = first.u64();
        let attestation_count = first.u16();
        let revoked = first.u8() != 0;
        if first.u8() != PRESENT {
            return None;
        }
        let mut second = times.unpack();
        Some(Self {
            anchorer,
            block_number,
            timestamp: second.u64(),
            attestation_count,
            revoked,
            revoked_at_block: second.u64(),
        })
    }

    fn encode(&self) -> (Word, Word) {
        let head = Packer::new()
            .address(self.anchorer)
            .u64(self.block_number)
            .u16(self.attestation_count)
            .u8(u8::from(self.revoked))
            .u8(PRESENT)
            .word();
        let times = Packer::new()
            .u64(self.timestamp)
            .u64(self.revoked_at_block)
            .word();
        (head, times)
    }
}

impl AnchorRecord {
    /// The record of `hash`.
    pub fn new(hash: B256) -> Self {
        Self {
            hash,
            base: Slot::named("evidence.anchor", hash.as_slice()),
        }
    }

    /// Slot `R`: anchorer, block, attestation count, revoked, present.
    pub fn head(&self) -> Slot {
        self.base
    }

    /// Slot `R+1`: timestamp and revocation block.
    pub fn times(&self) -> Slot {
        self.base.offset(1)
    }

    pub(crate) fn kind(&self) -> Slot {
        self.base.offset(2)
    }

    pub(crate) fn reference_id(&self) -> Slot {
        self.base.offset(3)
    }

    pub(crate) fn metadata(&self) -> Slot {
        self.base.offset(4)
    }

    pub(crate) fn revocation_reason(&self) -> Slot {
        self.base.offset(5)
    }

    pub(crate) fn attestations(&self) -> Slot {
        self.base.offset(6)
    }

    pub(crate) fn attested_by(&self, attester: Address) -> Slot {
        let mut key = self.hash.to_vec();
        key.extend_from_slice(attester.as_slice());
        Slot::named("evidence.attested", &key)
    }

    /// Whether `hash` was ever anchored, and by whom, from slot `R` alone: anchorer, block and
    /// revoked flag (what other modules ask).
    pub(crate) fn head_fields(
        &self,
        state: &mut ModuleState<'_>,
    ) -> Result<Option<Fields>, ModuleError> {
        let head = state.sload(self.head())?;
        Ok(Fields::decode(head, Word::ZERO))
    }

    /// The fixed fields, `None` when `hash` was never anchored.
    pub(crate) fn fields(
        &self,
        state: &mut ModuleState<'_>,
    ) -> Result<Option<Fields>, ModuleError> {
        let head = state.sload(self.head())?;
        if head.is_zero() {
            return Ok(None);
        }
        let times = state.sload(self.times())?;
        Ok(Fields::decode(head, times))
    }

    pub(crate) fn write_fields(
        &self,
        state: &mut ModuleState<'_>,
        fields: &Fields,
    ) -> Result<(), ModuleError> {
        let (head, times) = fields.encode();
        state.sstore(self.head(), head)?;
        state.sstore(self.times(), times)
    }
}

/// The hashes `anchorer` anchored, oldest first.
pub(crate) fn anchors_of(anchorer: Address) -> WordList {
    WordList(Slot::named("evidence.by", anchorer.as_slice()))
}

pub(crate) fn pack_attestation(attester: Address, block_number: u64) -> Word {
    Packer::new().address(attester).u64(block_number).word()
}

pub(crate) fn unpack_attestation(word: Word) -> (Address, u64) {
    let mut fields = word.unpack();
    (fields.address(), fields.u64())
}
