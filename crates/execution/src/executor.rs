//! The block executor, `eth_call` and `eth_estimateGas`.

use crate::{
    BlockEnv, BlockExecution, BlockHashFn, CallOutcome, CallRequest, ExecConfig, ExecError,
    TxInput, TxOutcome,
    db::{DbError, Overlay},
    decode_revert_reason,
    precompiles::{BanyanPrecompiles, SystemStep},
    screen::{Refusal, quote_gas, screen},
};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use banyan_module_api::{GasQuote, GasStep, GasTx, ModuleRegistry, ScreenedTx};
use banyan_state::{KECCAK_EMPTY, StateChanges, StateReader};
use revm::{
    Context, Database, ExecuteCommitEvm, ExecuteEvm, Journal, MainBuilder, MainContext,
    SystemCallCommitEvm,
    context::ContextTr as _,
    context::{BlockEnv as RevmBlockEnv, CfgEnv, Evm, Transaction, TxEnv},
    context_interface::{
        result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction, OutOfGasError},
        transaction::{AccessList, AccessListItem},
    },
    handler::{EthFrame, instructions::EthInstructions},
    interpreter::interpreter::EthInterpreter,
    primitives::{eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE, hardfork::SpecId},
};
use std::sync::Arc;

/// The hardfork rules Banyan executes with. Pinned (not revm's moving default) so that
/// upgrading revm never changes consensus rules by itself; moving it is a chain upgrade.
pub const CHAIN_SPEC: SpecId = SpecId::OSAKA;

/// Gas of the cheapest transaction (a plain transfer): the floor of `eth_estimateGas`.
const MIN_TX_GAS: u64 = 21_000;

type BanyanContext<DB> = Context<RevmBlockEnv, TxEnv, CfgEnv, DB, Journal<DB>, ()>;
type BanyanEvm<DB> = Evm<
    BanyanContext<DB>,
    (),
    EthInstructions<EthInterpreter, BanyanContext<DB>>,
    BanyanPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// Whether the EVM runs a block (full checks) or a simulation (`eth_call` relaxations).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Block,
    Simulation,
}

/// Executes blocks and calls. Holds the chain's execution config and its native modules; cheap
/// to share (`Arc<Executor>`), and every method takes `&self`.
#[derive(Debug)]
pub struct Executor {
    cfg: ExecConfig,
    modules: Arc<ModuleRegistry>,
}

impl Executor {
    /// An executor running `modules` next to the Ethereum precompiles (the chain spec's
    /// `modules` section decides which).
    pub fn new(cfg: ExecConfig, modules: ModuleRegistry) -> Self {
        Self {
            cfg,
            modules: Arc::new(modules),
        }
    }

    /// The chain's execution config.
    pub fn config(&self) -> &ExecConfig {
        &self.cfg
    }

    /// The native modules installed next to the Ethereum precompiles.
    pub fn modules(&self) -> &ModuleRegistry {
        &self.modules
    }

    /// Executes `txs` in order on top of `state`.
    ///
    /// A transaction whose gas limit is above what remains in the block (but not above the
    /// block's limit) is left out for want of room (`no_room`), and so is every later one of its sender's, so that a builder may offer
    /// more than fits and fill the block by the gas actually used. A transaction that is
    /// invalid when its turn comes (nonce mismatch, cannot pay `gas_limit × gas_price + value`,
    /// gas limit above the block's, wrong chain id, unsupported type, gas limit below its intrinsic gas) is skipped: listed
    /// in `skipped` with the reason. Neither changes anything. Every other transaction is
    /// included, a reverted or halted one with `success = false`.
    ///
    /// Errors only when the state cannot be read, the block environment breaks a chain rule,
    /// or an invariant is violated; then no part of the block may be committed.
    pub fn execute_block(
        &self,
        env: &BlockEnv,
        state: &dyn StateReader,
        block_hash: &BlockHashFn<'_>,
        txs: &[TxInput],
    ) -> Result<BlockExecution, ExecError> {
        self.check_block_env(env)?;
        let mut overlay = Overlay::new(state, block_hash);
        let mut execution = BlockExecution::default();
        {
            let mut evm = self.build_evm(&mut overlay, env, Mode::Block);
            let mut waiting = std::collections::HashSet::new();
            for tx in txs {
                if tx.gas_limit > env.gas_limit {
                    execution.skipped.push((
                        tx.hash,
                        format!(
                            "gas limit {} exceeds the block gas limit {}",
                            tx.gas_limit, env.gas_limit
                        ),
                    ));
                    continue;
                }
                let remaining_gas = env.gas_limit.saturating_sub(execution.gas_used);
                if tx.gas_limit > remaining_gas || waiting.contains(&tx.sender) {
                    waiting.insert(tx.sender);
                    execution.no_room.push(tx.hash);
                    continue;
                }
                let tx_env = match tx_env(tx) {
                    Ok(tx_env) => tx_env,
                    Err(reason) => {
                        execution.skipped.push((tx.hash, reason));
                        continue;
                    }
                };
                if !self.modules.screening().is_empty() {
                    // Between transactions the journal is empty: the overlay is the block's
                    // state so far.
                    let overlay: &mut Overlay<'_> = evm.ctx.db_mut();
                    if let Some(refusal) = screen(
                        &self.modules,
                        overlay,
                        &screened(tx, env.number, env.timestamp),
                    )? {
                        execution.skipped.push((tx.hash, refusal.to_string()));
                        continue;
                    }
                }
                // The base fee is always zero, so the whole price goes to the beneficiary.
                let effective_gas_price = tx_env.effective_gas_price(0);
                let mut tx_env = tx_env;
                let gas = match self.pay_gas_elsewhere(&mut evm, env, tx, effective_gas_price)? {
                    Ok(gas) => gas,
                    Err(reason) => {
                        execution.skipped.push((tx.hash, reason));
                        continue;
                    }
                };
                if gas.is_some() {
                    // Paid in the module's currency: nothing of the native coin.
                    tx_env.gas_price = 0;
                    tx_env.gas_priority_fee = tx_env.gas_priority_fee.map(|_| 0);
                }
                match evm.transact_commit(tx_env) {
                    Ok(result) => {
                        let gas_used = result.tx_gas_used();
                        execution.gas_used += gas_used;
                        let native_price = if gas.is_some() {
                            0
                        } else {
                            effective_gas_price
                        };
                        let mut outcome = tx_outcome(tx, result, execution.gas_used, native_price);
                        if let Some(gas) = &gas {
                            outcome.logs.extend(gas.settle(&mut evm, env, gas_used)?);
                        }
                        execution.outcomes.push(outcome);
                    }
                    Err(EVMError::Transaction(invalid)) => {
                        if let Some(gas) = &gas {
                            gas.settle(&mut evm, env, 0)?;
                        }
                        execution.skipped.push((tx.hash, invalid.to_string()));
                    }
                    Err(error) => return Err(evm_error(error)),
                }
            }
            for module in self.modules.at_block_end() {
                match system_call(&mut evm, module.address(), SystemStep::BlockEnd)? {
                    ExecutionResult::Success { logs, .. } => execution.block_end_logs.extend(logs),
                    ExecutionResult::Revert { output, .. } => {
                        return Err(ExecError::Invariant(format!(
                            "the block-end hook of module {} reverted in block {}: {}",
                            module.name(),
                            env.number,
                            decode_revert_reason(&output).unwrap_or_else(|| format!(
                                "0x{}",
                                alloy_primitives::hex::encode(&output)
                            ))
                        )));
                    }
                    ExecutionResult::Halt { reason, .. } => {
                        return Err(ExecError::Invariant(format!(
                            "the block-end hook of module {} halted in block {}: {}",
                            module.name(),
                            env.number,
                            describe_halt(&reason)
                        )));
                    }
                }
            }
        }
        execution.changes = overlay.take_changes()?;
        self.check_module_accounts(env.number, &execution.changes)?;
        let (before, after) = overlay.balance_totals(&execution.changes)?;
        if after > before {
            return Err(ExecError::Invariant(format!(
                "block {} created {} units of money",
                env.number,
                after - before
            )));
        }
        if after < before {
            // Only EIP-6780's self-destruct of a contract to itself in its creating transaction
            // can do this; it is Ethereum behaviour, so it is reported rather than refused.
            tracing::warn!(
                block = env.number,
                burned = %(before - after),
                "block destroyed money (self-destruct to self)"
            );
        }
        Ok(execution)
    }

    /// When `tx`'s sender pays gas through the chain's gas-paying module (and the transaction
    /// pays for gas at all): asks the module's quote on the block's state so far and reserves
    /// it. `Ok(Err(reason))`: the transaction is refused and skipped, having changed nothing.
    fn pay_gas_elsewhere(
        &self,
        evm: &mut BanyanEvm<&mut Overlay<'_>>,
        env: &BlockEnv,
        tx: &TxInput,
        gas_price: u128,
    ) -> Result<Result<Option<GasPayment>, String>, ExecError> {
        let Some(module) = self.modules.gas_payer().filter(|_| gas_price > 0) else {
            return Ok(Ok(None));
        };
        let gas_tx = gas_tx(tx, env.number, env.timestamp, gas_price);
        // Between transactions the journal is empty: the overlay is the block's state so far.
        let overlay: &mut Overlay<'_> = evm.ctx.db_mut();
        let quote = match quote_gas(&self.modules, overlay, &gas_tx)? {
            Ok(Some(quote)) => quote,
            Ok(None) => return Ok(Ok(None)),
            Err(refusal) => return Ok(Err(refusal.to_string())),
        };
        let payment = GasPayment {
            module: module.address(),
            payer: tx.sender,
            quote,
            gas_price,
        };
        let reserve = GasStep::Reserve {
            payer: tx.sender,
            quote,
        };
        match system_call(evm, payment.module, SystemStep::Gas(reserve))? {
            ExecutionResult::Success { .. } => Ok(Ok(Some(payment))),
            ExecutionResult::Revert { output, .. } => Ok(Err(format!(
                "refused by module {}: {}",
                module.name(),
                decode_revert_reason(&output).unwrap_or_else(|| "its gas reserve failed".into())
            ))),
            ExecutionResult::Halt { reason, .. } => Ok(Err(format!(
                "refused by module {}: its gas reserve halted: {}",
                module.name(),
                describe_halt(&reason)
            ))),
        }
    }

    /// Whether `tx`'s sender pays its gas through the chain's gas-paying module, asked as the
    /// pool admits it (on `state`, the head, for a block at `block_number`): `Ok(None)` when it
    /// pays in the native coin (or pays nothing for gas), the quote when it pays through the
    /// module, a refusal (no rate, too little money) otherwise. The block executor asks again
    /// when the transaction's turn comes.
    pub fn gas_quote(
        &self,
        block_number: u64,
        timestamp: u64,
        state: &dyn StateReader,
        tx: &TxInput,
    ) -> Result<Result<Option<GasQuote>, Refusal>, ExecError> {
        let gas_price = match tx_env(tx) {
            Ok(tx_env) => tx_env.effective_gas_price(0),
            Err(_) => return Ok(Ok(None)),
        };
        if self.modules.gas_payer().is_none() || gas_price == 0 {
            return Ok(Ok(None));
        }
        let no_hashes = |_| Ok(None);
        let mut overlay = Overlay::new(state, &no_hashes);
        Ok(quote_gas(
            &self.modules,
            &mut overlay,
            &gas_tx(tx, block_number, timestamp, gas_price),
        )?)
    }

    /// Screens `tx` as the pool admits it: every screening module's verdict on `state` (the
    /// head), for a block at `block_number`. The block executor asks the same modules again
    /// when the transaction's turn comes, on the block's state so far.
    pub fn screen(
        &self,
        block_number: u64,
        timestamp: u64,
        state: &dyn StateReader,
        tx: &TxInput,
    ) -> Result<Option<Refusal>, ExecError> {
        if self.modules.screening().is_empty() {
            return Ok(None);
        }
        let no_hashes = |_| Ok(None);
        let mut overlay = Overlay::new(state, &no_hashes);
        Ok(screen(
            &self.modules,
            &mut overlay,
            &screened(tx, block_number, timestamp),
        )?)
    }

    /// `eth_call`: runs `req` on top of `state` without committing anything.
    ///
    /// Relaxed like geth's `eth_call`: the nonce is not checked, a gas price of zero (the
    /// default) needs no funds for gas, `from` defaults to the zero address and may be a
    /// contract, and the gas defaults to (and is capped at) the block's gas limit. The caller
    /// must still hold `value`.
    pub fn call(
        &self,
        env: &BlockEnv,
        state: &dyn StateReader,
        block_hash: &BlockHashFn<'_>,
        req: &CallRequest,
    ) -> Result<CallOutcome, ExecError> {
        self.check_block_env(env)?;
        let mut overlay = Overlay::new(state, block_hash);
        let req = &self.priced_for_simulation(&mut overlay, env, req)?;
        let gas_limit = req.gas.unwrap_or(env.gas_limit).min(env.gas_limit);
        let result = self.simulate(&mut overlay, env, req, gas_limit)?;
        Ok(call_outcome(result))
    }

    /// `eth_estimateGas`: the lowest gas limit, between 21 000 and the block gas limit (or
    /// `req.gas`, or what the caller can pay for at `req.gas_price`), with which `req`
    /// succeeds. When it fails even at that cap, returns its revert (with the decoded reason)
    /// or halt as the error. Runs at most about 2 + log2(cap) simulations.
    pub fn estimate_gas(
        &self,
        env: &BlockEnv,
        state: &dyn StateReader,
        block_hash: &BlockHashFn<'_>,
        req: &CallRequest,
    ) -> Result<u64, ExecError> {
        self.check_block_env(env)?;
        let mut overlay = Overlay::new(state, block_hash);
        let req = &self.priced_for_simulation(&mut overlay, env, req)?;
        let mut cap = req.gas.unwrap_or(env.gas_limit).min(env.gas_limit);
        if let Some(price) = req.gas_price.filter(|price| *price > 0) {
            let from = req.from.unwrap_or_default();
            let balance = overlay.balance_of(from)?;
            let available = balance.saturating_sub(req.value.unwrap_or_default());
            let affordable = available / U256::from(price);
            cap = cap.min(affordable.saturating_to());
        }
        if cap < MIN_TX_GAS {
            return Err(ExecError::InvalidCall(format!(
                "gas cap {cap} is below the {MIN_TX_GAS} gas of the cheapest transaction \
                 (is the block gas limit, the given gas or the caller's balance too low?)"
            )));
        }

        let used = match self.simulate(&mut overlay, env, req, cap)? {
            result @ ExecutionResult::Success { .. } => result.tx_gas_used(),
            ExecutionResult::Revert { output, .. } => {
                return Err(ExecError::Reverted {
                    reason: decode_revert_reason(&output),
                    data: output,
                });
            }
            ExecutionResult::Halt { reason, .. } => {
                return Err(ExecError::Halted(describe_halt(&reason)));
            }
        };
        // No limit below the gas used can succeed (the limit covers gas before refunds, which
        // is at least the gas used after them), so `used - 1` is a known failure.
        let mut failing = used.max(MIN_TX_GAS) - 1;
        let mut succeeding = cap;
        // Most calls succeed with exactly what they used (always true of plain transfers).
        let first_try = failing + 1;
        if first_try < succeeding {
            if self.succeeds(&mut overlay, env, req, first_try)? {
                return Ok(first_try);
            }
            failing = first_try;
        }
        while succeeding - failing > 1 {
            let mid = failing + (succeeding - failing) / 2;
            if self.succeeds(&mut overlay, env, req, mid)? {
                succeeding = mid;
            } else {
                failing = mid;
            }
        }
        Ok(succeeding)
    }

    /// `req` as a simulation runs it: when its sender pays gas through the gas-paying module
    /// (asked for the cheapest transaction, so that the answer does not depend on the gas
    /// limit being estimated), its gas price is dropped, since the transaction will pay no
    /// native coin for gas; when the module refuses even that, the simulation fails with its
    /// reason.
    fn priced_for_simulation(
        &self,
        overlay: &mut Overlay<'_>,
        env: &BlockEnv,
        req: &CallRequest,
    ) -> Result<CallRequest, ExecError> {
        let (Some(from), Some(price)) = (req.from, req.gas_price.filter(|price| *price > 0)) else {
            return Ok(req.clone());
        };
        let probe = GasTx {
            sender: from,
            to: req.to,
            input: &req.data,
            gas_limit: MIN_TX_GAS,
            gas_price: price,
            block_number: env.number,
            timestamp: env.timestamp,
        };
        match quote_gas(&self.modules, overlay, &probe)? {
            Ok(Some(_)) => Ok(CallRequest {
                gas_price: None,
                ..req.clone()
            }),
            Ok(None) => Ok(req.clone()),
            // Not even the cheapest transaction would be admitted: say why.
            Err(refusal) => Err(ExecError::InvalidCall(refusal.to_string())),
        }
    }

    fn succeeds(
        &self,
        overlay: &mut Overlay<'_>,
        env: &BlockEnv,
        req: &CallRequest,
        gas_limit: u64,
    ) -> Result<bool, ExecError> {
        match self.simulate(overlay, env, req, gas_limit) {
            Ok(result) => Ok(result.is_success()),
            // E.g. a limit below the intrinsic gas: simply not enough.
            Err(ExecError::InvalidCall(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Runs `req` with `gas_limit` without committing.
    fn simulate(
        &self,
        overlay: &mut Overlay<'_>,
        env: &BlockEnv,
        req: &CallRequest,
        gas_limit: u64,
    ) -> Result<ExecutionResult, ExecError> {
        let from = req.from.unwrap_or_default();
        let nonce = overlay.nonce_of(from)?;
        let tx = TxEnv {
            tx_type: 0,
            caller: from,
            gas_limit,
            gas_price: req.gas_price.unwrap_or_default(),
            kind: req.to.map_or(TxKind::Create, TxKind::Call),
            value: req.value.unwrap_or_default(),
            data: req.data.clone(),
            nonce,
            chain_id: None,
            access_list: AccessList::default(),
            gas_priority_fee: None,
            blob_hashes: Vec::new(),
            max_fee_per_blob_gas: 0,
            authorization_list: Vec::new(),
        };
        let mut evm = self.build_evm(overlay, env, Mode::Simulation);
        match evm.transact(tx) {
            Ok(result_and_state) => Ok(result_and_state.result),
            Err(EVMError::Transaction(invalid)) => Err(ExecError::InvalidCall(invalid.to_string())),
            Err(error) => Err(evm_error(error)),
        }
    }

    /// A module account is never deleted and never loses its code: its storage is the module's
    /// state. Only a bug (in revm's handling of the account, or here) could break this.
    fn check_module_accounts(&self, number: u64, changes: &StateChanges) -> Result<(), ExecError> {
        for address in self.modules.addresses() {
            match changes.accounts.get(address) {
                None => {}
                Some(Some(change))
                    if change.code_hash != KECCAK_EMPTY && !change.storage_cleared => {}
                Some(_) => {
                    return Err(ExecError::Invariant(format!(
                        "block {number} would delete or clear module account {address}; \
                         the block is refused (report this as a bug)"
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_block_env(&self, env: &BlockEnv) -> Result<(), ExecError> {
        if env.gas_limit > self.cfg.block_gas_limit {
            return Err(ExecError::InvalidBlock(format!(
                "block gas limit {} is above the chain's limit {}",
                env.gas_limit, self.cfg.block_gas_limit
            )));
        }
        Ok(())
    }

    /// One EVM for `env` over `db`, with the chain's rules and precompiles installed.
    fn build_evm<DB: Database>(&self, db: DB, env: &BlockEnv, mode: Mode) -> BanyanEvm<DB> {
        let mut cfg = CfgEnv::new_with_spec(CHAIN_SPEC);
        cfg.chain_id = self.cfg.chain_id;
        // No per-transaction cap (EIP-7825) beyond the block gas limit.
        cfg.tx_gas_limit_cap = Some(u64::MAX);
        if mode == Mode::Simulation {
            cfg.disable_nonce_check = true;
            cfg.disable_eip3607 = true;
        }

        let mut block = RevmBlockEnv {
            number: U256::from(env.number),
            timestamp: U256::from(env.timestamp),
            beneficiary: env.beneficiary,
            gas_limit: env.gas_limit,
            basefee: 0,
            difficulty: U256::ZERO,
            prevrandao: Some(env.prevrandao),
            ..RevmBlockEnv::default()
        };
        // Blob transactions are refused before revm sees them; revm still wants the field.
        block.set_blob_excess_gas_and_price(0, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE);

        Context::mainnet()
            .with_db(db)
            .with_cfg(cfg)
            .with_block(block)
            .build_mainnet()
            .with_precompiles(BanyanPrecompiles::new(
                CHAIN_SPEC,
                Arc::clone(&self.modules),
                self.cfg.suite,
            ))
    }
}

/// A transaction whose gas a module pays: what was reserved, to settle after it ran.
struct GasPayment {
    module: Address,
    payer: Address,
    quote: GasQuote,
    gas_price: u128,
}

impl GasPayment {
    /// Releases the reserve and charges `gas_used` (zero: the transaction was not included).
    /// Must succeed: the module's contract is that settling cannot fail on a state a block
    /// can reach, so a failure refuses the block as a broken invariant.
    fn settle(
        &self,
        evm: &mut BanyanEvm<&mut Overlay<'_>>,
        env: &BlockEnv,
        gas_used: u64,
    ) -> Result<Vec<revm::primitives::Log>, ExecError> {
        let step = GasStep::Settle {
            payer: self.payer,
            quote: self.quote,
            gas_used,
            gas_price: self.gas_price,
            beneficiary: env.beneficiary,
        };
        match system_call(evm, self.module, SystemStep::Gas(step))? {
            ExecutionResult::Success { logs, .. } => Ok(logs),
            ExecutionResult::Revert { output, .. } => Err(ExecError::Invariant(format!(
                "settling the gas of {}'s transaction in block {} reverted: {}",
                self.payer,
                env.number,
                decode_revert_reason(&output)
                    .unwrap_or_else(|| format!("0x{}", alloy_primitives::hex::encode(&output)))
            ))),
            ExecutionResult::Halt { reason, .. } => Err(ExecError::Invariant(format!(
                "settling the gas of {}'s transaction in block {} halted: {}",
                self.payer,
                env.number,
                describe_halt(&reason)
            ))),
        }
    }
}

/// Runs `step` as a system call to the module at `module` (no sender, no fee, not counted in
/// the block), committing what it did when it succeeds.
fn system_call(
    evm: &mut BanyanEvm<&mut Overlay<'_>>,
    module: Address,
    step: SystemStep,
) -> Result<ExecutionResult, ExecError> {
    evm.precompiles.system = Some(step);
    let result = evm.system_call_commit(module, Bytes::new());
    evm.precompiles.system = None;
    result.map_err(evm_error)
}

fn gas_tx(tx: &TxInput, block_number: u64, timestamp: u64, gas_price: u128) -> GasTx<'_> {
    GasTx {
        sender: tx.sender,
        to: tx.to,
        input: &tx.data,
        gas_limit: tx.gas_limit,
        gas_price,
        block_number,
        timestamp,
    }
}

fn screened(tx: &TxInput, block_number: u64, timestamp: u64) -> ScreenedTx<'_> {
    ScreenedTx {
        sender: tx.sender,
        to: tx.to,
        value: tx.value,
        input: &tx.data,
        block_number,
        timestamp,
    }
}

/// revm's transaction for `tx`, or why it cannot be executed at all.
fn tx_env(tx: &TxInput) -> Result<TxEnv, String> {
    let tx_type = match tx.tx_type {
        0..=2 => tx.tx_type,
        3 => return Err("blob transactions (type 3) are not supported".to_string()),
        4 => return Err("set-code transactions (type 4, EIP-7702) are not supported".to_string()),
        // Banyan's native types: the fee fields say which fee model applies.
        _ if tx.max_priority_fee_per_gas.is_some() => 2,
        _ if !tx.access_list.is_empty() => 1,
        _ => 0,
    };
    if tx_type == 2 && tx.max_priority_fee_per_gas.is_none() {
        return Err("EIP-1559 transaction without max_priority_fee_per_gas".to_string());
    }
    if tx_type != 2 && tx.max_priority_fee_per_gas.is_some() {
        return Err(format!(
            "type {} transaction with max_priority_fee_per_gas",
            tx.tx_type
        ));
    }
    if tx_type == 0 && !tx.access_list.is_empty() {
        return Err("legacy transaction with an access list".to_string());
    }
    let access_list = tx
        .access_list
        .iter()
        .map(|(address, storage_keys)| AccessListItem {
            address: *address,
            storage_keys: storage_keys.clone(),
        })
        .collect::<Vec<_>>();
    Ok(TxEnv {
        tx_type,
        caller: tx.sender,
        gas_limit: tx.gas_limit,
        gas_price: tx.gas_price,
        kind: tx.to.map_or(TxKind::Create, TxKind::Call),
        value: tx.value,
        data: tx.data.clone(),
        nonce: tx.nonce,
        chain_id: tx.chain_id,
        access_list: AccessList(access_list),
        gas_priority_fee: tx.max_priority_fee_per_gas,
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list: Vec::new(),
    })
}

fn tx_outcome(
    tx: &TxInput,
    result: ExecutionResult,
    cumulative_gas_used: u64,
    effective_gas_price: u128,
) -> TxOutcome {
    let gas_used = result.tx_gas_used();
    // As in Ethereum receipts, a create reports the address it targeted even when it failed.
    let contract_address: Option<Address> = tx.to.is_none().then(|| tx.sender.create(tx.nonce));
    let (success, output, logs) = match result {
        ExecutionResult::Success { output, logs, .. } => (true, output.into_data(), logs),
        // Failed transactions leave no logs in their receipt.
        ExecutionResult::Revert { output, .. } => (false, output, Vec::new()),
        ExecutionResult::Halt { .. } => (false, Bytes::new(), Vec::new()),
    };
    TxOutcome {
        hash: tx.hash,
        success,
        gas_used,
        cumulative_gas_used,
        logs,
        contract_address,
        output,
        effective_gas_price,
    }
}

fn call_outcome(result: ExecutionResult) -> CallOutcome {
    let gas_used = result.tx_gas_used();
    match result {
        ExecutionResult::Success { output, logs, .. } => CallOutcome {
            success: true,
            gas_used,
            output: output.into_data(),
            revert_reason: None,
            logs,
        },
        ExecutionResult::Revert { output, .. } => CallOutcome {
            success: false,
            gas_used,
            revert_reason: decode_revert_reason(&output),
            output,
            logs: Vec::new(),
        },
        ExecutionResult::Halt { reason, .. } => CallOutcome {
            success: false,
            gas_used,
            output: Bytes::new(),
            revert_reason: Some(describe_halt(&reason)),
            logs: Vec::new(),
        },
    }
}

/// The halt reason in the words geth uses where they differ.
fn describe_halt(reason: &HaltReason) -> String {
    match reason {
        HaltReason::OutOfGas(OutOfGasError::Basic | OutOfGasError::Memory) => "out of gas".into(),
        HaltReason::OpcodeNotFound | HaltReason::InvalidFEOpcode => "invalid opcode".into(),
        other => other.to_string(),
    }
}

fn evm_error(error: EVMError<DbError, InvalidTransaction>) -> ExecError {
    match error {
        EVMError::Database(DbError(error)) => ExecError::State(error),
        EVMError::Custom(message) if message.starts_with(crate::precompiles::INVARIANT_PREFIX) => {
            ExecError::Invariant(message[crate::precompiles::INVARIANT_PREFIX.len()..].to_string())
        }
        other => ExecError::Evm(other.to_string()),
    }
}
