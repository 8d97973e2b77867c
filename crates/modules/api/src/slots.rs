//! Typed storage slots for module state.
//!
//! A module's state is the storage of its own account, so it is covered by the state tree,
//! proofs, snapshots and replay like any contract's. Slots are derived with Keccak-256 on both
//! suites (slot derivation is module logic, not the chain's hash; the state tree hashes the slot
//! keys again with the suite's hash), in the spirit of Solidity's layout but not identical to it:
//!
//! - [`Slot::named`]: `keccak256(namespace ‖ 0x00 ‖ key)`, one record per key (a namespaced
//!   key, not Solidity's `keccak256(key ‖ slot)` mapping rule);
//! - [`Slot::offset`]: the record's next fields, `slot + n`;
//! - [`Slot::data_area`]: `keccak256(slot)`, where a byte string's or a list's data starts
//!   ([`WordList`] is exactly Solidity's `bytes32[]` layout; byte strings keep their length in
//!   the slot, unlike Solidity's packed `bytes`).
//!
//! Each module documents its layout (`docs/modules/<name>.md`); a verifier needs nothing else.

use crate::{ModuleError, ModuleState};
use alloy_primitives::{Address, B256, U256, keccak256};
use std::fmt;

/// A storage slot of a module's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(pub U256);

impl Slot {
    /// The record slot of `key` in `namespace`.
    pub fn named(namespace: &str, key: &[u8]) -> Self {
        let mut preimage = Vec::with_capacity(namespace.len() + 1 + key.len());
        preimage.extend_from_slice(namespace.as_bytes());
        preimage.push(0);
        preimage.extend_from_slice(key);
        Self(U256::from_be_bytes(keccak256(&preimage).0))
    }

    /// The slot `n` places after this one (wrapping, as Solidity's slot arithmetic).
    pub fn offset(self, n: u64) -> Self {
        Self(self.0.wrapping_add(U256::from(n)))
    }

    /// Where the data of a byte string or list stored at this slot starts: `keccak256(slot)`.
    pub fn data_area(self) -> Self {
        Self(U256::from_be_bytes(keccak256(self.0.to_be_bytes::<32>()).0))
    }

    /// The slot as the 32-byte key `eth_getStorageAt` and `eth_getProof` take.
    pub fn to_b256(self) -> B256 {
        B256::from(self.0.to_be_bytes::<32>())
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_b256())
    }
}

/// One 32-byte storage value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Word(pub U256);

impl Word {
    /// The empty (deleted) value.
    pub const ZERO: Self = Self(U256::ZERO);

    /// A small number.
    pub fn from_u64(value: u64) -> Self {
        Self(U256::from(value))
    }

    /// The low 64 bits (what [`Self::from_u64`] stored).
    pub fn as_u64(self) -> u64 {
        self.0.as_limbs()[0]
    }

    /// The value as 32 big-endian bytes.
    pub fn to_b256(self) -> B256 {
        B256::from(self.0.to_be_bytes::<32>())
    }

    /// Whether the slot is empty.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Reads packed fields from the high end (see [`Packer`]).
    pub fn unpack(self) -> Unpacker {
        Unpacker {
            bytes: self.0.to_be_bytes::<32>(),
            at: 0,
        }
    }
}

impl From<B256> for Word {
    fn from(value: B256) -> Self {
        Self(U256::from_be_bytes(value.0))
    }
}

/// Packs fields into one word from its high end: `Packer::new().address(a).u64(n).word()`.
/// Fields that do not fit are a programming error, caught by the module's tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Packer {
    bytes: [u8; 32],
    at: usize,
}

impl Packer {
    /// An empty word.
    pub fn new() -> Self {
        Self::default()
    }

    fn put(mut self, field: &[u8]) -> Self {
        let end = self.at + field.len();
        assert!(end <= 32, "packed fields exceed one word");
        self.bytes[self.at..end].copy_from_slice(field);
        self.at = end;
        self
    }

    /// A 20-byte address.
    pub fn address(self, value: Address) -> Self {
        self.put(value.as_slice())
    }

    /// An 8-byte number.
    pub fn u64(self, value: u64) -> Self {
        self.put(&value.to_be_bytes())
    }

    /// A 2-byte number.
    pub fn u16(self, value: u16) -> Self {
        self.put(&value.to_be_bytes())
    }

    /// A 4-byte number.
    pub fn u32(self, value: u32) -> Self {
        self.put(&value.to_be_bytes())
    }

    /// A 16-byte number.
    pub fn u128(self, value: u128) -> Self {
        self.put(&value.to_be_bytes())
    }

    /// One byte.
    pub fn u8(self, value: u8) -> Self {
        self.put(&[value])
    }

    /// The packed word.
    pub fn word(self) -> Word {
        Word(U256::from_be_bytes(self.bytes))
    }
}

/// Reads fields in the order a [`Packer`] wrote them.
#[derive(Clone, Copy, Debug)]
pub struct Unpacker {
    bytes: [u8; 32],
    at: usize,
}

impl Unpacker {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let end = (self.at + N).min(32);
        out[..end - self.at].copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        out
    }

    /// A 20-byte address.
    pub fn address(&mut self) -> Address {
        Address::from(self.take::<20>())
    }

    /// An 8-byte number.
    pub fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take::<8>())
    }

    /// A 2-byte number.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take::<2>())
    }

    /// A 4-byte number.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take::<4>())
    }

    /// A 16-byte number.
    pub fn u128(&mut self) -> u128 {
        u128::from_be_bytes(self.take::<16>())
    }

    /// One byte.
    pub fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
}

/// A list of words: its length at the slot, element `i` at [`Slot::data_area`]` + i` (the layout
/// of a Solidity `bytes32[]`). Appending is O(1); reading a page reads only that page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WordList(pub Slot);

impl WordList {
    /// Number of elements.
    pub fn len(self, state: &mut ModuleState<'_>) -> Result<u64, ModuleError> {
        Ok(state.sload(self.0)?.as_u64())
    }

    /// Appends `word`; returns its index.
    pub fn push(self, state: &mut ModuleState<'_>, word: Word) -> Result<u64, ModuleError> {
        let index = self.len(state)?;
        state.sstore(self.0.data_area().offset(index), word)?;
        state.sstore(self.0, Word::from_u64(index + 1))?;
        Ok(index)
    }

    /// Element `index` (zero past the end).
    pub fn get(self, state: &mut ModuleState<'_>, index: u64) -> Result<Word, ModuleError> {
        state.sload(self.0.data_area().offset(index))
    }

    /// Overwrites element `index`, which must be below the length (a programming error
    /// otherwise, caught by the module's tests). Not checked here: a check would read the length,
    /// a metered read, and gas must be the same in every build.
    pub fn set(
        self,
        state: &mut ModuleState<'_>,
        index: u64,
        word: Word,
    ) -> Result<(), ModuleError> {
        state.sstore(self.0.data_area().offset(index), word)
    }

    /// Removes element `index` by moving the last element into its place (order is not kept)
    /// and clearing the last slot. Returns the element that moved into `index`, if any, so that
    /// an index kept elsewhere can follow it. `index` at or past the end changes nothing.
    pub fn swap_remove(
        self,
        state: &mut ModuleState<'_>,
        index: u64,
    ) -> Result<Option<Word>, ModuleError> {
        let len = self.len(state)?;
        if index >= len {
            return Ok(None);
        }
        let last = len - 1;
        let moved = if index == last {
            None
        } else {
            let word = self.get(state, last)?;
            state.sstore(self.0.data_area().offset(index), word)?;
            Some(word)
        };
        state.sstore(self.0.data_area().offset(last), Word::ZERO)?;
        state.sstore(self.0, Word::from_u64(last))?;
        Ok(moved)
    }

    /// Makes the list hold exactly `words`, clearing the slots of elements past their end.
    pub fn replace(self, state: &mut ModuleState<'_>, words: &[Word]) -> Result<(), ModuleError> {
        let old = self.len(state)?;
        for (index, word) in words.iter().enumerate() {
            state.sstore(self.0.data_area().offset(index as u64), *word)?;
        }
        for index in words.len() as u64..old {
            state.sstore(self.0.data_area().offset(index), Word::ZERO)?;
        }
        state.sstore(self.0, Word::from_u64(words.len() as u64))
    }

    /// Up to `limit` elements from `offset` on, and the total length.
    pub fn page(
        self,
        state: &mut ModuleState<'_>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<Word>, u64), ModuleError> {
        let total = self.len(state)?;
        let end = offset.saturating_add(limit).min(total);
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        for index in offset..end {
            out.push(self.get(state, index)?);
        }
        Ok((out, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn packed_fields_round_trip() {
        let who = address!("00112233445566778899aabbccddeeff00112233");
        let word = Packer::new().address(who).u64(7).u16(3).u8(1).word();
        let mut fields = word.unpack();
        assert_eq!(fields.address(), who);
        assert_eq!(fields.u64(), 7);
        assert_eq!(fields.u16(), 3);
        assert_eq!(fields.u8(), 1);
    }

    #[test]
    fn slots_follow_solidity_derivations() {
        // A Solidity `bytes32[]` at slot 0 keeps its data at keccak256(uint256(0)).
        let zero = Slot(U256::ZERO);
        assert_eq!(
            zero.data_area().to_b256(),
            keccak256(U256::ZERO.to_be_bytes::<32>())
        );
        assert_ne!(Slot::named("a", b"bc"), Slot::named("ab", b"c"));
    }
}
