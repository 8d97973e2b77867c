//! `banyan-sdk`: a typed Rust client for Banyan nodes.
//!
//! - [`wire`]: the JSON shapes the node's RPC server emits for headers, commit certificates,
//!   validator sets and proofs, with their conversions to the chain's types. The server builds
//!   its answers from these types, so a client and the server share one definition.
//! - [`quantity`]: Ethereum hex quantities, parsed in one place.
//! - [`Client`]: JSON-RPC over HTTP or WebSocket with typed methods and typed errors.
//! - [`Signer`]: signs transactions for either suite (EIP-1559 on `ecdsa`, the native SM2
//!   transaction on `sm`).
//! - [`evidence`], [`crypto`], [`governance`]: typed bindings of the modules.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod audit;
mod client;
pub mod crypto;
pub mod evidence;
pub mod governance;
pub mod identity;
pub mod multisig;
pub mod payments;
pub mod quantity;
mod signer;
pub mod wire;

pub use client::{BlockId, Client, Receipt, SdkError};
pub use signer::Signer;

/// `eth_call` of one view of the module (or contract) at `to`, at block `at`, decoded as `C`'s
/// return type.
pub(crate) async fn view_call<C: alloy_sol_types::SolCall>(
    client: &Client,
    to: alloy_primitives::Address,
    call: C,
    at: BlockId,
) -> Result<C::Return, SdkError> {
    let output = client.call(to, call.abi_encode().into(), at).await?;
    C::abi_decode_returns(&output).map_err(|e| SdkError::Decode {
        method: "eth_call",
        url: client.url().to_string(),
        source: serde::de::Error::custom(format!("{}: {e}", C::SIGNATURE)),
    })
}
