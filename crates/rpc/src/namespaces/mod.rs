//! One file per JSON-RPC namespace, each registering its methods.

pub(crate) mod audit;
pub(crate) mod banyan;
pub(crate) mod eth;
pub(crate) mod identity;
pub(crate) mod net;
pub(crate) mod payments;
pub(crate) mod subscribe;
pub(crate) mod web3;
