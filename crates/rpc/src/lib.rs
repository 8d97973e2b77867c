//! banyan-rpc: the Ethereum JSON-RPC (`eth_`, `net_`, `web3_`, filters and `eth_subscribe`) and
//! the `banyan_` namespace, over HTTP and WebSocket on one port (jsonrpsee).
//!
//! The server reads and submits through the [`Backend`] trait, which the node implements.
//! Every request is bounded: body size, batch length, connections, subscriptions, log block range
//! and log count, filters installed.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod backend;
mod challenges;
mod error;
mod filters;
mod issuing;
mod json;
mod namespaces;
mod server;
mod vc_api;

use namespaces::banyan::proof as banyan_proof;

pub use backend::{Backend, BackendError, CommittedBlock, NodeStatus, SubmitError};
pub use issuing::{IssuerKey, Issuing, MIN_TOKEN_LEN, OperatorToken, RECORD_WAIT};
pub use jsonrpsee::server::ServerHandle;
pub use server::{RpcConfig, method_names, start};
