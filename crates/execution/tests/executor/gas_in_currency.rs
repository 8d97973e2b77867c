//! Gas paid in a currency of the Payments module: an account that chose one pays the gas of its
//! transactions in it, at the rate the committee set, to the block's proposer, and holds none
//! of the native coin; a missing rate or too little money refuses the transaction at the pool
//! and skips it in a block, which goes on.

use crate::governance::propose;
use crate::payments::{balance_of, pay_tx, with_usd};
use crate::support::*;
use alloy_primitives::{Address, U256, address};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use banyan_execution::{Executor, TxInput};
use banyan_modules::{IGovernance, IPayments, PAYMENTS_ADDRESS};

/// An account that holds none of the native coin.
const DAVE: Address = address!("da7e000000000000000000000000000000000005");
/// Cents of USD per native coin of gas fee: at 1 gwei, 1,000 gas cost one cent.
const RATE: u128 = 1_000_000;

fn set_rate(nonce: u64, token: Address, rate: u128) -> TxInput {
    let payload = IGovernance::GasRate {
        token,
        unitsPerCoin: rate,
    }
    .abi_encode();
    propose(nonce, IGovernance::Kind::SetGasRate, payload)
}

fn choose(token: Address, nonce: u64) -> TxInput {
    pay_tx(
        DAVE,
        nonce,
        PAYMENTS_ADDRESS,
        IPayments::setGasCurrencyCall { token }.abi_encode(),
    )
}

fn pay(token: Address, nonce: u64, to: Address, amount: u64) -> TxInput {
    let call = IPayments::payCall {
        token,
        to,
        amount: U256::from(amount),
        endToEndId: String::new(),
        remittance: "gas in USD".into(),
        key: Default::default(),
    };
    pay_tx(DAVE, nonce, PAYMENTS_ADDRESS, call.abi_encode())
}

/// USD registered, DAVE given 100.00 of it by BOB, no gas rate yet.
fn dave_with_usd() -> (Executor, MemState, Address) {
    let (executor, mut state, usd) = with_usd();
    let give = IPayments::payCall {
        token: usd,
        to: DAVE,
        amount: U256::from(10_000),
        endToEndId: String::new(),
        remittance: String::new(),
        key: Default::default(),
    };
    let execution = run_block(
        &executor,
        &mut state,
        2,
        &[pay_tx(BOB, 0, PAYMENTS_ADDRESS, give.abi_encode())],
    );
    assert!(execution.outcomes[0].success);
    assert_eq!(state.balance(DAVE), U256::ZERO);
    (executor, state, usd)
}

/// The `GasPaid` events of a transaction's logs: (gas used, fee, beneficiary).
fn gas_paid(logs: &[alloy_primitives::Log]) -> Vec<(u64, U256, Address)> {
    logs.iter()
        .filter_map(|log| IPayments::GasPaid::decode_log(log).ok())
        .map(|e| (e.gasUsed, e.fee, e.beneficiary))
        .collect()
}

fn supply(executor: &Executor, state: &MemState, token: Address) -> U256 {
    let out = executor
        .call(
            &env(100),
            state,
            &block_hashes,
            &call_request(
                PAYMENTS_ADDRESS,
                IPayments::currencyCall { token }.abi_encode(),
            ),
        )
        .unwrap();
    IPayments::currencyCall::abi_decode_returns(&out.output)
        .unwrap()
        .supply
}

#[test]
fn an_account_pays_gas_in_usd_at_the_committee_rate_and_holds_no_native_coin() {
    let (executor, mut state, usd) = dave_with_usd();
    let supply_before = supply(&executor, &state, usd);

    // Before the committee sets a rate, choosing USD is refused at the pool with the reason.
    let early = choose(usd, 0);
    let refusal = executor
        .gas_quote(3, 0, &state, &early)
        .unwrap()
        .expect_err("no rate yet");
    assert!(
        refusal.reason.contains("has set no gas rate"),
        "{}",
        refusal.reason
    );
    // In a block it is skipped, and the block goes on.
    let execution = run_block(&executor, &mut state, 3, std::slice::from_ref(&early));
    assert_eq!(execution.skipped.len(), 1);
    assert!(execution.outcomes.is_empty());

    // A rate for something that is not a currency is refused when proposed.
    let execution = run_block(&executor, &mut state, 4, &[set_rate(2, BOB, RATE)]);
    assert!(!execution.outcomes[0].success, "not a currency");
    let execution = run_block(&executor, &mut state, 5, &[set_rate(3, usd, RATE)]);
    assert!(execution.outcomes[0].success);

    // The choice pays its own gas in USD: DAVE has no native coin at all.
    assert!(
        executor
            .gas_quote(6, 0, &state, &early)
            .unwrap()
            .unwrap()
            .is_some()
    );
    let execution = run_block(&executor, &mut state, 6, &[early]);
    assert!(execution.skipped.is_empty(), "{:?}", execution.skipped);
    let outcome = &execution.outcomes[0];
    assert!(outcome.success);
    assert_eq!(outcome.effective_gas_price, 0, "no native coin paid");
    let fee_1 = U256::from(outcome.gas_used.div_ceil(1_000));
    assert_eq!(
        gas_paid(&outcome.logs),
        vec![(outcome.gas_used, fee_1, BENEFICIARY)]
    );
    assert_eq!(
        balance_of(&executor, &state, usd, DAVE),
        U256::from(10_000) - fee_1
    );
    assert_eq!(balance_of(&executor, &state, usd, BENEFICIARY), fee_1);

    // A payment: the amount to CAROL, the gas to the proposer, nothing of the native coin.
    let execution = run_block(&executor, &mut state, 7, &[pay(usd, 1, CAROL, 2_500)]);
    let outcome = &execution.outcomes[0];
    assert!(outcome.success, "{:?}", execution.skipped);
    let fee_2 = U256::from(outcome.gas_used.div_ceil(1_000));
    assert_eq!(
        gas_paid(&outcome.logs),
        vec![(outcome.gas_used, fee_2, BENEFICIARY)]
    );
    assert_eq!(balance_of(&executor, &state, usd, CAROL), U256::from(2_500));
    assert_eq!(
        balance_of(&executor, &state, usd, DAVE),
        U256::from(7_500) - fee_1 - fee_2
    );
    assert_eq!(
        balance_of(&executor, &state, usd, BENEFICIARY),
        fee_1 + fee_2
    );
    assert_eq!(state.balance(DAVE), U256::ZERO);
    assert_eq!(state.nonce(DAVE), 2);
    // Gas moved money between accounts; it created and destroyed none.
    assert_eq!(supply(&executor, &state, usd), supply_before);
}

#[test]
fn the_reserve_cannot_be_spent_by_the_transaction_it_pays_for() {
    let (executor, mut state, usd) = dave_with_usd();
    run_block(&executor, &mut state, 3, &[set_rate(2, usd, RATE)]);
    run_block(&executor, &mut state, 4, &[choose(usd, 0)]);
    let left = balance_of(&executor, &state, usd, DAVE).to::<u64>();
    // 1,000,000 gas may cost 1,000 cents: paying all of the balance would spend the reserve.
    let execution = run_block(&executor, &mut state, 5, &[pay(usd, 1, CAROL, left)]);
    let outcome = &execution.outcomes[0];
    assert!(!outcome.success, "the payment reverts");
    let fee = U256::from(outcome.gas_used.div_ceil(1_000));
    assert_eq!(gas_paid(&outcome.logs).len(), 1, "its gas is still paid");
    assert_eq!(balance_of(&executor, &state, usd, CAROL), U256::ZERO);
    assert_eq!(
        balance_of(&executor, &state, usd, DAVE),
        U256::from(left) - fee
    );
}

#[test]
fn too_little_money_or_a_withdrawn_rate_refuses_at_the_pool_and_skips_in_a_block() {
    let (executor, mut state, usd) = dave_with_usd();
    run_block(&executor, &mut state, 3, &[set_rate(2, usd, RATE)]);
    run_block(&executor, &mut state, 4, &[choose(usd, 0)]);
    // 20,000,000 gas at 1 gwei may cost 20,000 cents; DAVE has less than 10,000.
    let mut greedy = pay(usd, 1, CAROL, 1);
    greedy.gas_limit = 20_000_000;
    let refusal = executor
        .gas_quote(5, 0, &state, &greedy)
        .unwrap()
        .unwrap_err();
    assert!(
        refusal.reason.contains("may cost up to 20000"),
        "{}",
        refusal.reason
    );
    let modest = pay(usd, 1, CAROL, 1);
    let execution = run_block(&executor, &mut state, 5, &[greedy.clone(), modest]);
    assert_eq!(execution.skipped, vec![(greedy.hash, refusal.to_string())]);
    assert_eq!(execution.outcomes.len(), 1, "the block goes on");
    assert!(execution.outcomes[0].success);

    // The committee withdraws the rate: DAVE's next transaction is refused, naming the way out.
    run_block(&executor, &mut state, 6, &[set_rate(3, usd, 0)]);
    let next = pay(usd, 2, CAROL, 1);
    let refusal = executor
        .gas_quote(7, 0, &state, &next)
        .unwrap()
        .unwrap_err();
    assert!(
        refusal.reason.contains("setGasCurrency(address(0))"),
        "{}",
        refusal.reason
    );
    // A transaction paying nothing for gas is not asked about.
    let mut free = next.clone();
    free.gas_price = 0;
    assert_eq!(executor.gas_quote(7, 0, &state, &free).unwrap(), Ok(None));
}

#[test]
fn estimating_gas_for_an_account_paying_in_usd_needs_no_native_coin() {
    let (executor, mut state, usd) = dave_with_usd();
    run_block(&executor, &mut state, 3, &[set_rate(2, usd, RATE)]);
    run_block(&executor, &mut state, 4, &[choose(usd, 0)]);
    let req = banyan_execution::CallRequest {
        from: Some(DAVE),
        gas_price: Some(GWEI),
        ..call_request(
            PAYMENTS_ADDRESS,
            IPayments::gasCurrencyOfCall { account: DAVE }.abi_encode(),
        )
    };
    let gas = executor
        .estimate_gas(&env(5), &state, &block_hashes, &req)
        .unwrap();
    assert!(gas > 21_000);
    let out = executor.call(&env(5), &state, &block_hashes, &req).unwrap();
    assert_eq!(
        IPayments::gasCurrencyOfCall::abi_decode_returns(&out.output).unwrap(),
        usd
    );
}
