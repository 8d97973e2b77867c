//! Inputs and outputs of the executor.

use alloy_primitives::{Address, B256, Bytes, Log, U256};
use banyan_state::{StateChanges, StateError};

/// Chain-wide execution parameters, fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecConfig {
    /// EIP-155 chain id: the `CHAINID` opcode and the check on signed transactions.
    pub chain_id: u64,
    /// The crypto suite chosen at genesis (what `IBanyanCrypto.suiteHash` hashes with).
    pub suite: banyan_crypto::Suite,
    /// Most gas a block may use; a block whose header asks for more is rejected.
    pub block_gas_limit: u64,
}

/// The block a batch of transactions executes in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// Block height (`NUMBER`).
    pub number: u64,
    /// Unix time in seconds (`TIMESTAMP`).
    pub timestamp: u64,
    /// Receives every transaction's fee (`COINBASE`).
    pub beneficiary: Address,
    /// This block's gas limit (`GASLIMIT`); at most [`ExecConfig::block_gas_limit`].
    pub gas_limit: u64,
    /// `PREVRANDAO`. Consensus decides where it comes from; it must be the same on every node.
    pub prevrandao: B256,
}

/// A transaction already decoded and signature-checked by the caller.
///
/// Fees: `gas_price` is the legacy / EIP-2930 gas price, or the EIP-1559 `max_fee_per_gas`.
/// When `max_priority_fee_per_gas` is set the transaction pays
/// `min(gas_price, max_priority_fee_per_gas)` per gas (the base fee is always zero), otherwise
/// it pays `gas_price`. Type 2 requires `max_priority_fee_per_gas`; types 3 and 4 are skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxInput {
    /// Transaction hash (as computed by the caller with the chain's suite).
    pub hash: B256,
    /// Recovered signer.
    pub sender: Address,
    /// EIP-2718 type byte.
    pub tx_type: u8,
    /// Callee; `None` creates a contract.
    pub to: Option<Address>,
    /// Must equal the sender's nonce when the transaction's turn comes.
    pub nonce: u64,
    /// Gas the sender allows this transaction to use.
    pub gas_limit: u64,
    /// Legacy/2930 gas price, or the 1559 `max_fee_per_gas`.
    pub gas_price: u128,
    /// EIP-1559 tip cap.
    pub max_priority_fee_per_gas: Option<u128>,
    /// Value transferred to `to` (or to the new contract).
    pub value: U256,
    /// Call data, or init code for a create.
    pub data: Bytes,
    /// EIP-2930 access list.
    pub access_list: Vec<(Address, Vec<B256>)>,
    /// Chain id the transaction was signed for (`None`: pre-EIP-155 legacy).
    pub chain_id: Option<u64>,
}

/// What executing one included transaction did (the execution half of its receipt).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOutcome {
    /// Transaction hash.
    pub hash: B256,
    /// `true` unless the transaction reverted or halted (EIP-658 status).
    pub success: bool,
    /// Gas charged to the sender (after refunds).
    pub gas_used: u64,
    /// Gas used by this and all previous transactions of the block.
    pub cumulative_gas_used: u64,
    /// Logs emitted; empty when the transaction failed.
    pub logs: Vec<Log>,
    /// For a create, the address derived from sender and nonce (set even when the create failed,
    /// as Ethereum receipts do).
    pub contract_address: Option<Address>,
    /// Return data, or revert data when the transaction reverted.
    pub output: Bytes,
    /// Price per gas actually paid (to the beneficiary).
    pub effective_gas_price: u128,
}

/// The result of executing a block's transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockExecution {
    /// Included transactions, in block order.
    pub outcomes: Vec<TxOutcome>,
    /// Transactions that were invalid at their turn, with the reason; they are not part of the
    /// block and changed nothing.
    pub skipped: Vec<(B256, String)>,
    /// Transactions left out for want of room: their gas limit was above the gas left in the
    /// block, or an earlier transaction of their sender's was left out. They are valid and
    /// wait for a later block; they changed nothing.
    pub no_room: Vec<B256>,
    /// Every state change of the block, ready for the state tree.
    pub changes: StateChanges,
    /// Gas used by all included transactions.
    pub gas_used: u64,
    /// Logs of the modules' block-end hooks (holds that expired, ...), after the last
    /// transaction's. They belong to no transaction; their effects are in `changes`.
    pub block_end_logs: Vec<Log>,
}

/// An `eth_call` / `eth_estimateGas` request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Caller; the zero address when absent.
    pub from: Option<Address>,
    /// Callee; `None` simulates a contract creation.
    pub to: Option<Address>,
    /// Gas limit; the block gas limit when absent (and capped to it).
    pub gas: Option<u64>,
    /// Gas price; zero when absent (then the caller needs no funds for gas).
    pub gas_price: Option<u128>,
    /// Value sent; zero when absent. The caller must hold it.
    pub value: Option<U256>,
    /// Call data, or init code.
    pub data: Bytes,
}

/// The result of an `eth_call`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// `true` when the call returned normally.
    pub success: bool,
    /// Gas the call used (after refunds).
    pub gas_used: u64,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Human-readable failure: the decoded `Error(string)` / `Panic(uint256)` of a revert, or
    /// the halt reason (e.g. out of gas) of a call that halted.
    pub revert_reason: Option<String>,
    /// Logs the call would emit.
    pub logs: Vec<Log>,
}

/// Errors of the executor. A transaction that merely reverts is not an error.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Reading the state failed; the block cannot be executed on this node now.
    #[error("state: {0}")]
    State(#[from] StateError),
    /// The EVM failed for a reason other than the transaction (a bug or misconfiguration).
    #[error("evm: {0}")]
    Evm(String),
    /// The call reverted (`eth_estimateGas` at the gas cap).
    #[error("execution reverted{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted {
        /// Decoded `Error(string)` / `Panic(uint256)`, if the data was one.
        reason: Option<String>,
        /// Raw revert data.
        data: Bytes,
    },
    /// The call halted (out of gas, invalid opcode, ...) at the gas cap.
    #[error("execution halted: {0}")]
    Halted(String),
    /// The call is not a valid transaction (e.g. the caller cannot pay for value or gas).
    #[error("invalid call: {0}")]
    InvalidCall(String),
    /// The block environment breaks a chain rule.
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    /// An invariant of the ledger was violated (e.g. a block created money). This is a bug:
    /// the node must stop rather than commit the block.
    #[error(
        "invariant violated: {0}; the block is refused and nothing of it is committed. This is a \
         bug: report it with the node's log"
    )]
    Invariant(String),
}
