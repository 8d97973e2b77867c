//! Banyan's BFT consensus: the Malachite engine (ADR 0005) bound to Banyan's blocks, crypto
//! suites and mutual-TLS network.
//!
//! - [`context`]: the types the engine is parameterised by (the decided value is a block hash;
//!   the block travels as proposal parts).
//! - [`signing`]: votes and proposals signed with the chain's suite (SM2 on `sm` chains).
//! - [`host`]: the application loop and the [`host::Application`] trait the node implements.
//! - [`guard`]: the egress safety guard that refuses to send a conflicting vote.
//! - [`network`]: the engine's network actor over the mutual-TLS transport.
//! - [`codec`]: the bounded binary encoding of everything the engine writes to its WAL or
//!   sends to peers.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod codec;
pub mod context;
pub mod guard;
pub mod host;
pub mod network;
pub mod signing;

pub use context::{
    BanyanContext, BlockHash, Height, Proposal, ProposalPart, ValidatorAddress, ValidatorSet, Vote,
};
pub use signing::{BanyanSigner, BanyanVerifier, ConsensusKey, ConsensusSignature};
