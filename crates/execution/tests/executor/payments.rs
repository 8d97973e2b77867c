//! Payments as the executor runs it: a currency is an ERC-20 contract to the EVM (code at its
//! address, `Transfer` logs from it, `balanceOf` by `eth_call`), a hold expires in the block-end
//! hook of the first block past its deadline, empty blocks change nothing, the pool's screen
//! refuses a payment to a frozen account, and a module's broken invariant refuses the block.

use crate::governance::governed_with;
use crate::support::*;
use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use banyan_execution::{ExecConfig, ExecError, Executor, TxInput};
use banyan_module_api::{
    ModuleCallContext, ModuleError, ModuleRegistry, ModuleState, NativeModule,
};
use banyan_modules::{GOVERNANCE_ADDRESS, IDepositToken, IGovernance, IPayments, PAYMENTS_ADDRESS};
use std::sync::Arc;

pub(crate) fn pay_tx(sender: Address, nonce: u64, to: Address, data: Vec<u8>) -> TxInput {
    tx(sender, nonce, Some(to), U256::ZERO, data)
}

/// ALICE holds every role (the dev chain's governor); USD is registered and BOB has 1,000.00.
pub(crate) fn with_usd() -> (Executor, MemState, Address) {
    let (executor, mut state) = governed_with(banyan_modules::dev_spec(ALICE));
    let register = IPayments::registerCurrencyCall {
        code: "USD".into(),
        name: "US dollar deposit token".into(),
        decimals: 2,
        cap: U256::ZERO,
    }
    .abi_encode();
    let usd = banyan_modules::payments::token_address(1);
    let mint = IPayments::mintCall {
        token: usd,
        to: BOB,
        amount: U256::from(100_000),
    }
    .abi_encode();
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[
            pay_tx(ALICE, 0, PAYMENTS_ADDRESS, register),
            pay_tx(ALICE, 1, PAYMENTS_ADDRESS, mint),
        ],
    );
    assert!(execution.skipped.is_empty(), "{:?}", execution.skipped);
    assert!(execution.outcomes.iter().all(|o| o.success));
    (executor, state, usd)
}

pub(crate) fn balance_of(
    executor: &Executor,
    state: &MemState,
    token: Address,
    account: Address,
) -> U256 {
    let out = executor
        .call(
            &env(100),
            state,
            &block_hashes,
            &call_request(token, IDepositToken::balanceOfCall { account }.abi_encode()),
        )
        .unwrap();
    assert!(out.success, "{:?}", out.revert_reason);
    IDepositToken::balanceOfCall::abi_decode_returns(&out.output).unwrap()
}

#[test]
fn a_currency_is_an_erc20_contract_to_the_evm() {
    let (executor, mut state, usd) = with_usd();
    assert_eq!(
        state.code(usd).as_ref().map(|code| code.to_vec()),
        Some(banyan_module_api::MODULE_ACCOUNT_CODE.to_vec()),
        "the token address carries code"
    );
    let send = IDepositToken::transferCall {
        to: CAROL,
        value: U256::from(2_500),
    }
    .abi_encode();
    let execution = run_block(&executor, &mut state, 2, &[pay_tx(BOB, 0, usd, send)]);
    let outcome = &execution.outcomes[0];
    assert!(outcome.success);
    assert!(IDepositToken::transferCall::abi_decode_returns(&outcome.output).unwrap());
    let transfers: Vec<_> = outcome
        .logs
        .iter()
        .filter(|log| log.address == usd)
        .filter_map(|log| IDepositToken::Transfer::decode_log_data(&log.data).ok())
        .collect();
    assert_eq!(transfers.len(), 1);
    assert_eq!((transfers[0].from, transfers[0].to), (BOB, CAROL));
    assert_eq!(balance_of(&executor, &state, usd, CAROL), U256::from(2_500));
    assert_eq!(balance_of(&executor, &state, usd, BOB), U256::from(97_500));
}

#[test]
fn a_hold_expires_in_the_hook_of_the_first_block_past_its_deadline() {
    let (executor, mut state, usd) = with_usd();
    // Block 2 is at time T + 2 (see `env`): the hold's deadline is T + 4.
    let place = IPayments::placeHoldCall {
        token: usd,
        payee: CAROL,
        amount: U256::from(700),
        timeoutSeconds: 2,
        remittance: "deposit".into(),
    }
    .abi_encode();
    run_block(
        &executor,
        &mut state,
        2,
        &[pay_tx(BOB, 0, PAYMENTS_ADDRESS, place)],
    );
    let held = |state: &MemState| {
        let out = executor
            .call(
                &env(100),
                state,
                &block_hashes,
                &call_request(
                    PAYMENTS_ADDRESS,
                    IPayments::balanceOfCall {
                        token: usd,
                        account: BOB,
                    }
                    .abi_encode(),
                ),
            )
            .unwrap();
        IPayments::balanceOfCall::abi_decode_returns(&out.output)
            .unwrap()
            .held
    };
    assert_eq!(held(&state), U256::from(700));
    for number in 3..=4 {
        let execution = run_block(&executor, &mut state, number, &[]);
        assert!(execution.block_end_logs.is_empty(), "block {number}");
        assert_eq!(held(&state), U256::from(700));
    }
    let execution = run_block(&executor, &mut state, 5, &[]);
    let voided: Vec<_> = execution
        .block_end_logs
        .iter()
        .filter_map(|log| IPayments::HoldVoided::decode_log_data(&log.data).ok())
        .collect();
    assert_eq!(voided.len(), 1);
    assert!(voided[0].expired);
    assert_eq!(execution.block_end_logs[0].address, PAYMENTS_ADDRESS);
    assert_eq!(held(&state), U256::ZERO);
    assert_eq!(execution.gas_used, 0, "the hook's gas is nobody's");
}

#[test]
fn an_empty_block_changes_nothing_with_the_block_end_hook_installed() {
    let (executor, mut state, _) = with_usd();
    let before = state.clone();
    let execution = run_block(&executor, &mut state, 2, &[]);
    assert!(
        execution.changes.accounts.is_empty(),
        "{:?}",
        execution.changes
    );
    assert!(execution.block_end_logs.is_empty());
    assert_eq!(state, before);
}

#[test]
fn the_pool_refuses_a_payment_to_a_frozen_account() {
    let (executor, mut state, usd) = with_usd();
    let freeze = IGovernance::proposeCall {
        kind: IGovernance::Kind::Freeze,
        payload: CAROL.abi_encode().into(),
        description: String::new(),
        votingPeriod: 0,
    }
    .abi_encode();
    run_block(
        &executor,
        &mut state,
        2,
        &[pay_tx(ALICE, 2, GOVERNANCE_ADDRESS, freeze)],
    );
    let send = IDepositToken::transferCall {
        to: CAROL,
        value: U256::from(1),
    }
    .abi_encode();
    let tx = pay_tx(BOB, 0, usd, send);
    let refusal = executor.screen(3, 0, &state, &tx).unwrap().unwrap();
    assert_eq!(refusal.module, "payments");
    assert!(
        refusal.reason.contains(&format!(
            "the payee {CAROL} is frozen by governance proposal"
        )),
        "{refusal}"
    );
    // Admitted before the freeze, it is refused again when its turn comes.
    let execution = run_block(&executor, &mut state, 3, &[tx]);
    assert_eq!(execution.skipped.len(), 1);
    assert_eq!(balance_of(&executor, &state, usd, CAROL), U256::ZERO);
}

/// A module that reports its invariant broken on every call.
#[derive(Debug)]
struct Broken;

impl NativeModule for Broken {
    fn address(&self) -> Address {
        Address::repeat_byte(0x77)
    }
    fn name(&self) -> &'static str {
        "broken"
    }
    fn version(&self) -> u32 {
        1
    }
    fn call(
        &self,
        _: &ModuleCallContext,
        _: &[u8],
        _: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        Err(ModuleError::Invariant(
            "money not conserved in currency X".into(),
        ))
    }
}

#[test]
fn a_broken_module_invariant_refuses_the_block() {
    let mut registry = ModuleRegistry::new();
    registry.register(Arc::new(Broken)).unwrap();
    let executor = Executor::new(
        ExecConfig {
            chain_id: CHAIN_ID,
            suite: banyan_crypto::Suite::Ecdsa,
            block_gas_limit: BLOCK_GAS_LIMIT,
        },
        registry,
    );
    let mut state = MemState::with_balances(&[(ALICE, ether(1))]);
    state.put_module_account(Broken.address());
    let error = executor
        .execute_block(
            &env(1),
            &state,
            &block_hashes,
            &[pay_tx(ALICE, 0, Broken.address(), vec![1, 2, 3, 4])],
        )
        .unwrap_err();
    match error {
        ExecError::Invariant(what) => {
            assert_eq!(what, "module broken: money not conserved in currency X");
        }
        other => panic!("expected an invariant violation, got {other}"),
    }
}
