//! What the RPC server needs from a node. The node implements it; tests may too.

use alloy_primitives::{Address, B256, Bytes, U256};
use banyan_crypto::Suite;
use banyan_execution::{CallOutcome, CallRequest, ExecError};
use banyan_primitives::consensus::CommitCertificate;
use banyan_primitives::{GenesisValidator, Receipt, RecoveredTx, SealedHeader};
use banyan_state::{Account, AccountProof};
use std::sync::Arc;
use tokio::sync::broadcast;

/// A failure inside the node while serving a request (not the client's fault), with its source.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The node has no block at this height (its history starts later, or it was pruned).
    #[error("block {0} not found")]
    BlockNotFound(u64),
    /// The state tree could not be read.
    #[error(transparent)]
    State(#[from] banyan_state::StateError),
    /// The node could not read an account at its head (the log says why).
    #[error("the node could not read account {0} at its head state")]
    AccountUnavailable(alloy_primitives::Address),
    /// Screening or executing for the request failed inside the node.
    #[error(transparent)]
    Execution(#[from] banyan_execution::ExecError),
    /// Any other failure of the node, kept whole.
    #[error(transparent)]
    Node(Box<dyn std::error::Error + Send + Sync>),
}

/// Why a submitted transaction was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The bytes, signature or chain binding are wrong.
    #[error(transparent)]
    Decode(#[from] banyan_primitives::TxError),
    /// The pool refused it.
    #[error(transparent)]
    Pool(#[from] banyan_txpool::PoolError),
    /// A module's screen refused it (the same check runs again at execution).
    #[error(transparent)]
    Refused(#[from] banyan_execution::Refusal),
    /// The node failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// A block committed to the chain, as published to subscribers.
#[derive(Clone, Debug)]
pub struct CommittedBlock {
    /// Sealed header.
    pub header: SealedHeader,
    /// Block hash.
    pub hash: B256,
    /// Receipts in transaction order.
    pub receipts: Arc<Vec<Receipt>>,
}

/// Chain and node status for `banyan_status`.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Chain id.
    pub chain_id: u64,
    /// Crypto suite.
    pub suite: Suite,
    /// Genesis block hash.
    pub genesis_hash: B256,
    /// Latest committed height.
    pub head_number: u64,
    /// Latest committed block hash.
    pub head_hash: B256,
    /// Transactions waiting in the pool.
    pub txpool_size: usize,
    /// This node's validator address.
    pub validator: Address,
    /// Node software version.
    pub version: String,
}

/// Read and submit access to a node's chain.
pub trait Backend: Send + Sync + 'static {
    /// EIP-155 chain id.
    fn chain_id(&self) -> u64;
    /// The chain's suite.
    fn suite(&self) -> Suite;
    /// Latest committed height.
    fn head_number(&self) -> u64;
    /// Header at `number`.
    fn header(&self, number: u64) -> Result<Option<SealedHeader>, BackendError>;
    /// Height of the block with `hash`.
    fn number_by_hash(&self, hash: B256) -> Result<Option<u64>, BackendError>;
    /// Encoded transactions of block `number`.
    fn body(&self, number: u64) -> Result<Option<Vec<Bytes>>, BackendError>;
    /// Receipts of block `number`.
    fn receipts(&self, number: u64) -> Result<Option<Vec<Receipt>>, BackendError>;
    /// The logs of block `number`'s block-end hooks, as a receipt of no transaction (its
    /// `tx_hash` stands for the hooks); `None` when they logged nothing.
    fn block_end_receipt(&self, number: u64) -> Result<Option<Receipt>, BackendError> {
        let _ = number;
        Ok(None)
    }
    /// Block height and index of a committed transaction.
    fn tx_location(&self, hash: B256) -> Result<Option<(u64, u32)>, BackendError>;
    /// Commit certificate stored with block `number`; `None` for a block without one (every
    /// block of a single-validator chain).
    fn commit_certificate(&self, number: u64) -> Result<Option<CommitCertificate>, BackendError>;
    /// Validators whose precommits certify block `number`, as listed in genesis.
    fn validator_set(&self, number: u64) -> Result<Vec<GenesisValidator>, BackendError>;
    /// A transaction still waiting in the pool.
    fn pending_tx(&self, hash: B256) -> Option<Arc<RecoveredTx>>;
    /// Account at the state after block `number`.
    fn account(&self, number: u64, address: Address) -> Result<Option<Account>, BackendError>;
    /// Storage slot at the state after block `number`.
    fn storage(&self, number: u64, address: Address, slot: U256) -> Result<U256, BackendError>;
    /// Code at the state after block `number`.
    fn code(&self, number: u64, address: Address) -> Result<Bytes, BackendError>;
    /// Merkle proof at the state after block `number`.
    fn proof(
        &self,
        number: u64,
        address: Address,
        slots: &[U256],
    ) -> Result<AccountProof, BackendError>;
    /// Next nonce of `address`, counting transactions waiting in the pool.
    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError>;
    /// Executes a call on the state after block `number` without committing.
    fn call(&self, number: u64, request: &CallRequest) -> Result<CallOutcome, ExecError>;
    /// Estimates the gas `request` needs on the state after block `number`.
    fn estimate_gas(&self, number: u64, request: &CallRequest) -> Result<u64, ExecError>;
    /// Validates and queues a transaction.
    fn submit(&self, raw: &[u8]) -> Result<B256, SubmitError>;
    /// Committed blocks, as they happen.
    fn subscribe(&self) -> broadcast::Receiver<CommittedBlock>;
    /// Suggested gas price.
    fn gas_price(&self) -> u128;
    /// Status for operators.
    fn status(&self) -> NodeStatus;
    /// `(starting, current, highest)` block while catching up with peers; `None` when in step.
    fn syncing(&self) -> Option<(u64, u64, u64)> {
        None
    }
    /// Transaction `index` of committed block `number`, with the sender its receipt recorded:
    /// its signature was checked before it was committed, so nothing is recovered again.
    fn committed_tx(&self, number: u64, index: u32) -> Result<Option<RecoveredTx>, BackendError> {
        let (Some(body), Some(receipts)) = (self.body(number)?, self.receipts(number)?) else {
            return Ok(None);
        };
        let i = index as usize;
        Ok(body.get(i).zip(receipts.get(i)).and_then(|(raw, receipt)| {
            RecoveredTx::verified(raw, self.suite(), self.chain_id(), receipt.from).ok()
        }))
    }
}
