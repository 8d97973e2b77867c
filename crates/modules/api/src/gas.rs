//! The gas schedule of module operations. Fixed numbers, the same on every node, modelled on the
//! EVM's cold-access prices (EIP-2929) so that a module call costs about what the equivalent
//! Solidity contract would. Changing a number changes consensus: it is a new module version.

/// Every call: the EVM's warm-call cost.
pub const CALL: u64 = 100;
/// Per started 32-byte word of call data (ABI decoding), as the identity precompile's word cost.
pub const CALL_WORD: u64 = 3;
/// One storage read (cold `SLOAD`).
pub const SLOAD: u64 = 2_100;
/// A storage write from zero to non-zero (cold `SSTORE` set).
pub const SSTORE_SET: u64 = 22_100;
/// Any other storage write (cold `SSTORE` reset); no refunds are given for clearing. Writing
/// the value a slot already holds costs [`SLOAD`] and writes nothing.
pub const SSTORE_RESET: u64 = 5_000;
/// A log, plus [`LOG_TOPIC`] per topic and [`LOG_BYTE`] per data byte (as `LOGn`).
pub const LOG: u64 = 375;
/// Per log topic.
pub const LOG_TOPIC: u64 = 375;
/// Per byte of log data.
pub const LOG_BYTE: u64 = 8;
/// Reading another account (cold account access).
pub const ACCOUNT_READ: u64 = 2_600;
/// Moving native balance (the EVM's value-transfer surcharge).
pub const TRANSFER: u64 = 9_000;
/// Asking another module a view question (plus what its answer reads).
pub const VIEW: u64 = 700;
/// Per started 32-byte word hashed by a module (`KECCAK256`'s word cost).
pub const HASH_WORD: u64 = 6;

/// Gas each screening module may use per transaction ([`crate::NativeModule::screen`]). Not
/// charged to the sender: it bounds the work a screen may do, the same on every node.
pub const SCREEN: u64 = 1_000_000;

/// Gas each module's block-end hook may use per block ([`crate::NativeModule::end_block`]).
/// Charged to nobody and not counted in the block's gas used: it bounds the work the hook may
/// do, the same on every node.
pub const BLOCK_END: u64 = 30_000_000;

/// Installing code at an address a module owns (a new account's storage write).
pub const INSTALL_CODE: u64 = 22_100;

/// The fixed charge of a call with `input_len` bytes of call data.
pub fn call_cost(input_len: usize) -> u64 {
    CALL.saturating_add(CALL_WORD.saturating_mul(input_len.div_ceil(32) as u64))
}
