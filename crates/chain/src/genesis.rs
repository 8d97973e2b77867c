//! The genesis block of a chain spec: the state its allocations and modules write, and the
//! header that commits to the whole spec. The node writes it into an empty store; a client that
//! trusts only the genesis file (`banyan verify`) computes its hash the same way, without
//! running a node.

use alloy_primitives::Bytes;
use banyan_primitives::{Genesis, Header};
use banyan_state::{StateDb, StateError};
use banyan_storage::WriteBatch;

/// The chain spec cannot make a genesis block.
#[derive(Debug, thiserror::Error)]
pub enum GenesisBuildError {
    /// The spec's `modules` section cannot run on this code.
    #[error(transparent)]
    Modules(#[from] banyan_modules::ModulesError),
    /// Writing the genesis state failed.
    #[error("genesis state: {0}")]
    State(#[from] StateError),
}

/// The genesis header of `genesis` over `state`, and the batch that stores its state.
pub fn genesis_block(
    state: &StateDb,
    genesis: &Genesis,
) -> Result<(Header, WriteBatch), GenesisBuildError> {
    let suite = genesis.suite;
    let (state_root, batch) = state.genesis(&banyan_modules::genesis_with_modules(genesis)?)?;
    let header = Header {
        number: 0,
        timestamp: genesis.timestamp,
        state_root,
        transactions_root: banyan_state::empty_root(suite),
        receipts_root: banyan_state::empty_root(suite),
        gas_limit: genesis.gas_limit,
        // Commits to the whole chain specification (chain id, suite, validators, allocations,
        // modules), so that the genesis hash identifies the chain.
        extra_data: Bytes::copy_from_slice(suite.hash(genesis.to_json().as_bytes()).as_slice()),
        ..Header::default()
    };
    Ok((header, batch))
}

/// The genesis header of `genesis`, computed in memory.
pub fn genesis_header(genesis: &Genesis) -> Result<Header, GenesisBuildError> {
    let state = StateDb::new(banyan_storage::open_memory(), genesis.suite);
    Ok(genesis_block(&state, genesis)?.0)
}
