//! Turning transactions into a block, and checking a received block by re-executing it: the one
//! code path used by the producer, by replay and (later) by sync.

use alloy_primitives::{Address, B256, Bloom, Bytes};
use banyan_crypto::Suite;
use banyan_execution::{BlockEnv, Executor, TxInput};
use banyan_primitives::{Block, Header, Receipt, RecoveredTx, SealedHeader, TxError};
use banyan_state::{StateDb, ordered_root};
use banyan_storage::WriteBatch;
use std::sync::Arc;

use crate::NodeError;
use banyan_chain::ChainStore;

/// A block built or re-executed, ready to be committed.
pub(crate) struct ExecutedBlock {
    /// The unsigned header.
    pub header: Header,
    /// Included transactions in order.
    pub txs: Vec<Arc<RecoveredTx>>,
    /// Their receipts.
    pub receipts: Vec<Receipt>,
    /// The logs of the block-end hooks, as a receipt of no transaction; `None` when none.
    pub block_end: Option<Receipt>,
    /// Hashes of transactions that were invalid at their turn, with the reason.
    pub skipped: Vec<(B256, String)>,
    /// How many were left out for want of room (they stay in the pool).
    pub no_room: usize,
    /// State nodes and code to write with the block.
    pub state_batch: WriteBatch,
}

pub(crate) fn tx_input(tx: &RecoveredTx) -> TxInput {
    TxInput {
        hash: tx.hash(),
        sender: tx.sender(),
        tx_type: tx.tx_type(),
        to: tx.to(),
        nonce: tx.nonce(),
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        max_priority_fee_per_gas: tx.max_priority_fee_per_gas(),
        value: tx.value(),
        data: tx.input().clone(),
        access_list: tx.access_list(),
        chain_id: tx.chain_id(),
    }
}

/// Block environment of the child of `parent`, with the chain's `gas_limit` for it.
pub(crate) fn child_env(
    parent: &Header,
    parent_hash: B256,
    timestamp: u64,
    proposer: Address,
    gas_limit: u64,
) -> BlockEnv {
    BlockEnv {
        number: parent.number + 1,
        timestamp: timestamp.max(parent.timestamp),
        beneficiary: proposer,
        gas_limit,
        prevrandao: parent_hash,
    }
}

/// `BLOCKHASH` over the chain store: a failed read is an error of the block, never a zero hash.
pub(crate) fn block_hashes(
    chain: &ChainStore,
    suite: Suite,
) -> impl Fn(u64) -> Result<Option<B256>, banyan_state::StateError> + '_ {
    move |n: u64| {
        chain
            .header(n)
            .map(|h| h.map(|h| h.header.hash(suite)))
            .map_err(|e| banyan_state::StateError::Storage(format!("block {n}'s header: {e}")))
    }
}

/// Executes `txs` on top of `parent` and assembles the header.
pub(crate) fn execute(
    suite: Suite,
    executor: &Executor,
    state: &StateDb,
    chain: &ChainStore,
    parent: &Header,
    env: &BlockEnv,
    txs: Vec<Arc<RecoveredTx>>,
) -> Result<ExecutedBlock, NodeError> {
    let inputs: Vec<TxInput> = txs.iter().map(|t| tx_input(t)).collect();
    let view = state.at(parent.state_root);
    let block_hash = block_hashes(chain, suite);
    let exec = executor.execute_block(env, &view, &block_hash, &inputs)?;
    let (state_root, state_batch) = state.apply(parent.state_root, &exec.changes)?;
    let skipped_hashes: std::collections::HashSet<B256> = exec
        .skipped
        .iter()
        .map(|(h, _)| *h)
        .chain(exec.no_room.iter().copied())
        .collect();
    let included: Vec<Arc<RecoveredTx>> = txs
        .into_iter()
        .filter(|t| !skipped_hashes.contains(&t.hash()))
        .collect();
    if included.len() != exec.outcomes.len() {
        return Err(NodeError::Invariant(format!(
            "the executor returned {} outcomes for {} included transactions",
            exec.outcomes.len(),
            included.len()
        )));
    }
    let receipts: Vec<Receipt> = included
        .iter()
        .zip(&exec.outcomes)
        .map(|(tx, o)| {
            debug_assert_eq!(tx.hash(), o.hash);
            Receipt {
                tx_hash: o.hash,
                tx_type: tx.tx_type(),
                success: o.success,
                gas_used: o.gas_used,
                cumulative_gas_used: o.cumulative_gas_used,
                effective_gas_price: o.effective_gas_price,
                from: tx.sender(),
                to: tx.to(),
                contract_address: o.contract_address,
                logs: o.logs.clone(),
            }
        })
        .collect();
    let block_end = (!exec.block_end_logs.is_empty()).then(|| Receipt {
        tx_hash: banyan_chain::block_end_tx_hash(env.number),
        tx_type: 0,
        success: true,
        gas_used: 0,
        cumulative_gas_used: exec.gas_used,
        effective_gas_price: 0,
        from: Address::ZERO,
        to: None,
        contract_address: None,
        logs: exec.block_end_logs.clone(),
    });
    // The bloom covers the block-end logs too, so that log filters find their block; the
    // receipts root covers only the transactions' receipts (one per transaction, as tools
    // expect), and the block-end logs follow from the state the header commits to.
    let mut bloom = Bloom::ZERO;
    for r in receipts.iter().chain(&block_end) {
        bloom.accrue_bloom(&r.bloom());
    }
    let header = Header {
        parent_hash: env.prevrandao,
        number: env.number,
        timestamp: env.timestamp,
        proposer: env.beneficiary,
        transactions_root: ordered_root(
            suite,
            &included
                .iter()
                .map(|t| t.encoded().to_vec())
                .collect::<Vec<_>>(),
        ),
        receipts_root: ordered_root(
            suite,
            &receipts
                .iter()
                .map(Receipt::consensus_encoding)
                .collect::<Vec<_>>(),
        ),
        state_root,
        logs_bloom: bloom,
        gas_limit: env.gas_limit,
        gas_used: exec.gas_used,
        base_fee_per_gas: 0,
        extra_data: Bytes::new(),
    };
    Ok(ExecutedBlock {
        header,
        txs: included,
        receipts,
        block_end,
        skipped: exec.skipped,
        no_room: exec.no_room.len(),
        state_batch,
    })
}

/// A block body's checked transactions, or the index of the first invalid one and why.
pub(crate) type Resolved = Result<Vec<Arc<RecoveredTx>>, (usize, TxError)>;

/// Re-executes a received block on top of its parent and checks every commitment of its header.
/// `resolve` turns the body into checked transactions (the node reuses those it recovered
/// before and recovers only the rest); it reports the index of the first that is invalid.
pub(crate) fn verify_block(
    suite: Suite,
    resolve: &dyn Fn(&[Bytes]) -> Resolved,
    executor: &Executor,
    state: &StateDb,
    chain: &ChainStore,
    parent: &SealedHeader,
    block: &Block,
) -> Result<ExecutedBlock, NodeError> {
    let h = &block.header.header;
    let parent_hash = parent.header.hash(suite);
    let bad = |what: String| NodeError::InvalidBlock {
        number: h.number,
        reason: what,
    };
    if h.number != parent.header.number + 1 || h.parent_hash != parent_hash {
        return Err(bad(format!(
            "does not extend block {} ({parent_hash})",
            parent.header.number
        )));
    }
    let txs = resolve(&block.transactions)
        .map_err(|(index, e)| bad(format!("transaction {index}: {e}")))?;
    let env = BlockEnv {
        number: h.number,
        timestamp: h.timestamp,
        beneficiary: h.proposer,
        gas_limit: h.gas_limit,
        prevrandao: parent_hash,
    };
    if h.timestamp < parent.header.timestamp {
        return Err(bad("timestamp before its parent's".into()));
    }
    if h.base_fee_per_gas != 0 || !h.extra_data.is_empty() {
        return Err(bad("base fee and extra data must be empty".into()));
    }
    let executed = execute(suite, executor, state, chain, &parent.header, &env, txs)?;
    if !executed.skipped.is_empty() {
        return Err(bad(format!(
            "contains {} transactions invalid at their turn",
            executed.skipped.len()
        )));
    }
    if executed.no_room > 0 {
        return Err(bad(format!(
            "contains {} transactions whose gas limit is above the gas left in the block",
            executed.no_room
        )));
    }
    let mine = &executed.header;
    for (name, ours, theirs) in [
        ("state root", mine.state_root, h.state_root),
        ("receipts root", mine.receipts_root, h.receipts_root),
        (
            "transactions root",
            mine.transactions_root,
            h.transactions_root,
        ),
    ] {
        if ours != theirs {
            return Err(bad(format!(
                "{name} mismatch: header says {theirs}, re-execution gives {ours}"
            )));
        }
    }
    if mine.gas_used != h.gas_used || mine.logs_bloom != h.logs_bloom {
        return Err(bad("gas used or logs bloom mismatch".into()));
    }
    Ok(ExecutedBlock {
        header: h.clone(),
        ..executed
    })
}
