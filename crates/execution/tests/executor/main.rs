//! Behaviour of the block executor, `eth_call`, `eth_estimateGas` and the native modules,
//! seen from outside the crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gas_in_currency;
mod governance;
mod modules;
mod payments;
mod support;

use alloy_primitives::{Address, B256, Bytes, U256, address, b256, keccak256};
use alloy_sol_types::{SolCall, SolEvent, sol};
use banyan_crypto::Suite;
use banyan_execution::{
    CallRequest, ExecError, Executor, TxInput, decode_revert_reason, encode_revert_reason,
};
use banyan_modules::{BANYAN_CRYPTO_ADDRESS, IBanyanCrypto};
use support::{asm::*, *};

const TOPIC: B256 = b256!("00000000000000000000000000000000000000000000000000000000000000aa");
const SM3_ABC: B256 = b256!("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");

/// Constructor stores 42 in slot 0 and emits LOG1(TOPIC, 42); the runtime increments slot 0
/// and returns the new value.
fn counter_init_code() -> Vec<u8> {
    let mut constructor = vec![
        PUSH1, 42, PUSH1, 0, SSTORE, PUSH1, 42, PUSH1, 0, MSTORE, PUSH32,
    ];
    constructor.extend_from_slice(TOPIC.as_slice());
    constructor.extend_from_slice(&[PUSH1, 32, PUSH1, 0, LOG1]);
    let runtime = [
        PUSH1, 0, SLOAD, PUSH1, 1, ADD, DUP1, PUSH1, 0, SSTORE, PUSH1, 0, MSTORE, PUSH1, 32, PUSH1,
        0, RETURN,
    ];
    init_code(&constructor, &runtime)
}

/// Runtime that always reverts with `Error("nope")`.
fn reverter_runtime() -> Vec<u8> {
    let data = encode_revert_reason("nope");
    let len = u8::try_from(data.len()).expect("short");
    let mut code = vec![
        PUSH1, len, PUSH1, 12, PUSH1, 0, CODECOPY, PUSH1, len, PUSH1, 0, REVERT,
    ];
    code.extend_from_slice(&data);
    code
}

/// Runtime that forwards its call data to BanyanCrypto with `call_opcode` (STATICCALL or
/// DELEGATECALL, which take the same arguments) and returns the word it gets back (reverts
/// empty if the call fails).
fn crypto_proxy_runtime(call_opcode: u8) -> Vec<u8> {
    vec![
        CALLDATASIZE,
        PUSH1,
        0,
        PUSH1,
        0,
        CALLDATACOPY, // memory[0..] = call data
        PUSH1,
        32,
        PUSH1,
        0,
        CALLDATASIZE,
        PUSH1,
        0,
        PUSH2,
        0x10,
        0x00,
        GAS,
        call_opcode,
        ISZERO,
        PUSH1,
        27,
        JUMPI, // failed → revert
        PUSH1,
        32,
        PUSH1,
        0,
        RETURN, //
        JUMPDEST,
        PUSH1,
        0,
        PUSH1,
        0,
        REVERT,
    ]
}

fn funded_state() -> MemState {
    MemState::with_balances(&[(ALICE, ether(100)), (BOB, ether(5))])
}

#[test]
fn transfer_moves_value_and_pays_gas_to_the_beneficiary() {
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let total_before = state.total_balance();
    let value = U256::from(1_000_000u64);

    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[transfer(ALICE, 0, CAROL, value)],
    );

    assert!(execution.skipped.is_empty(), "{:?}", execution.skipped);
    let outcome = &execution.outcomes[0];
    assert!(outcome.success);
    assert_eq!(outcome.gas_used, 21_000);
    assert_eq!(outcome.cumulative_gas_used, 21_000);
    assert_eq!(outcome.effective_gas_price, GWEI);
    assert_eq!(execution.gas_used, 21_000);
    let fee = U256::from(21_000 * GWEI);
    assert_eq!(state.balance(ALICE), ether(100) - value - fee);
    assert_eq!(state.balance(CAROL), value);
    assert_eq!(state.balance(BENEFICIARY), fee);
    assert_eq!(state.nonce(ALICE), 1);
    assert_eq!(state.total_balance(), total_before);
    // Exactly the three accounts that changed.
    let changed: Vec<_> = execution.changes.accounts.keys().copied().collect();
    let mut expected = vec![ALICE, CAROL, BENEFICIARY];
    expected.sort();
    assert_eq!(changed, expected);
}

#[test]
fn eip1559_pays_the_priority_fee_and_burns_nothing() {
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let tx = TxInput {
        tx_type: 2,
        gas_price: 10 * GWEI,
        max_priority_fee_per_gas: Some(3 * GWEI),
        ..transfer(ALICE, 0, BOB, U256::from(1))
    };
    let execution = run_block(&executor, &mut state, 1, &[tx]);
    assert_eq!(execution.outcomes[0].effective_gas_price, 3 * GWEI);
    assert_eq!(state.balance(BENEFICIARY), U256::from(21_000 * 3 * GWEI));
    assert_eq!(
        state.balance(ALICE),
        ether(100) - U256::from(1) - U256::from(21_000 * 3 * GWEI)
    );
}

#[test]
fn deployed_contract_stores_logs_and_runs() {
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let contract = ALICE.create(0);

    let deploy = tx(ALICE, 0, None, U256::ZERO, counter_init_code());
    let execution = run_block(&executor, &mut state, 1, std::slice::from_ref(&deploy));

    let outcome = &execution.outcomes[0];
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.hash, deploy.hash);
    assert_eq!(outcome.contract_address, Some(contract));
    assert_eq!(outcome.logs.len(), 1);
    let log = &outcome.logs[0];
    assert_eq!(log.address, contract);
    assert_eq!(log.data.topics(), &[TOPIC]);
    assert_eq!(
        log.data.data.as_ref(),
        U256::from(42).to_be_bytes::<32>().as_slice()
    );
    assert!(
        outcome.gas_used > 53_000 && outcome.gas_used < 200_000,
        "{}",
        outcome.gas_used
    );
    assert_eq!(outcome.cumulative_gas_used, outcome.gas_used);
    assert_eq!(
        state.balance(BENEFICIARY),
        U256::from(u128::from(outcome.gas_used) * GWEI)
    );

    let change = execution.changes.accounts[&contract]
        .as_ref()
        .expect("created");
    assert!(change.storage_cleared);
    assert_eq!(change.nonce, 1);
    assert_eq!(change.storage.get(&U256::ZERO), Some(&U256::from(42)));
    let runtime = change.code.clone().expect("code deployed");
    assert_eq!(change.code_hash, keccak256(&runtime));
    assert_eq!(state.slot(contract, 0), U256::from(42));

    // Calling it increments the counter, in a transaction and in the state.
    let call = tx(ALICE, 1, Some(contract), U256::ZERO, Vec::new());
    let execution = run_block(&executor, &mut state, 2, &[call]);
    let outcome = &execution.outcomes[0];
    assert!(outcome.success);
    assert_eq!(
        outcome.output.as_ref(),
        U256::from(43).to_be_bytes::<32>().as_slice()
    );
    assert_eq!(outcome.contract_address, None);
    let change = execution.changes.accounts[&contract]
        .as_ref()
        .expect("changed");
    assert!(!change.storage_cleared);
    assert!(change.code.is_none(), "code is only reported when deployed");
    assert_eq!(change.storage.len(), 1);
    assert_eq!(state.slot(contract, 0), U256::from(43));

    // eth_call sees the new value and commits nothing.
    let before = state.clone();
    let result = executor
        .call(
            &env(3),
            &state,
            &block_hashes,
            &call_request(contract, Vec::new()),
        )
        .expect("call");
    assert!(result.success);
    assert_eq!(
        result.output.as_ref(),
        U256::from(44).to_be_bytes::<32>().as_slice()
    );
    assert_eq!(state, before);
}

#[test]
fn revert_with_error_string_is_included_as_failed_and_decoded() {
    let executor = executor(Suite::Ecdsa);
    let reverter = address!("00000000000000000000000000000000000ee001");
    let mut state = funded_state();
    state.put_contract(reverter, &reverter_runtime());

    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[tx(ALICE, 0, Some(reverter), U256::from(5), Vec::new())],
    );
    let outcome = &execution.outcomes[0];
    assert!(!outcome.success);
    assert!(outcome.logs.is_empty());
    assert_eq!(
        decode_revert_reason(&outcome.output).as_deref(),
        Some("nope")
    );
    // The sender still paid for gas and its nonce moved; the value stayed.
    assert_eq!(state.nonce(ALICE), 1);
    assert_eq!(state.balance(reverter), U256::ZERO);
    assert_eq!(
        state.balance(ALICE),
        ether(100) - U256::from(u128::from(outcome.gas_used) * GWEI)
    );

    let result = executor
        .call(
            &env(2),
            &state,
            &block_hashes,
            &call_request(reverter, Vec::new()),
        )
        .expect("call runs");
    assert!(!result.success);
    assert_eq!(result.revert_reason.as_deref(), Some("nope"));
    assert_eq!(
        decode_revert_reason(&result.output).as_deref(),
        Some("nope")
    );

    match executor.estimate_gas(
        &env(2),
        &state,
        &block_hashes,
        &call_request(reverter, Vec::new()),
    ) {
        Err(ExecError::Reverted { reason, data }) => {
            assert_eq!(reason.as_deref(), Some("nope"));
            assert_eq!(data, encode_revert_reason("nope"));
        }
        other => panic!("expected a revert, got {other:?}"),
    }
}

#[test]
fn invalid_transactions_are_skipped_and_change_nothing() {
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let poor = address!("0000000000000000000000000000000000000bad");
    let valid = transfer(ALICE, 0, CAROL, U256::from(7));
    let too_high_nonce = transfer(BOB, 3, CAROL, U256::from(1));
    let replayed_nonce = TxInput {
        hash: B256::repeat_byte(9),
        ..transfer(ALICE, 0, CAROL, U256::from(1))
    };
    let cannot_pay = transfer(poor, 0, CAROL, U256::from(1));
    let bob_too_much = transfer(BOB, 0, CAROL, ether(5));
    let wrong_chain = TxInput {
        chain_id: Some(1),
        ..transfer(BOB, 0, CAROL, U256::from(1))
    };
    let over_block = TxInput {
        gas_limit: BLOCK_GAS_LIMIT + 1,
        ..transfer(BOB, 0, CAROL, U256::from(1))
    };
    let blob = TxInput {
        tx_type: 3,
        max_priority_fee_per_gas: Some(1),
        ..transfer(BOB, 0, CAROL, U256::from(1))
    };
    let below_intrinsic = TxInput {
        gas_limit: 20_999,
        ..transfer(BOB, 0, CAROL, U256::from(1))
    };
    let skipped_txs = [
        too_high_nonce,
        replayed_nonce,
        cannot_pay,
        bob_too_much,
        wrong_chain,
        over_block,
        blob,
        below_intrinsic,
    ];
    let mut txs = vec![valid.clone()];
    txs.extend(skipped_txs.iter().cloned());

    let execution = run_block(&executor, &mut state, 1, &txs);

    assert_eq!(execution.outcomes.len(), 1);
    assert_eq!(execution.outcomes[0].hash, valid.hash);
    let skipped: Vec<B256> = execution.skipped.iter().map(|(hash, _)| *hash).collect();
    let expected: Vec<B256> = skipped_txs.iter().map(|tx| tx.hash).collect();
    assert_eq!(skipped, expected);
    for (_, reason) in &execution.skipped {
        assert!(!reason.is_empty());
    }
    assert!(
        execution.skipped[0].1.contains("nonce"),
        "{}",
        execution.skipped[0].1
    );
    assert!(
        execution.skipped[6].1.contains("blob"),
        "{}",
        execution.skipped[6].1
    );
    // Only the valid transfer changed anything.
    assert_eq!(state.nonce(BOB), 0);
    assert_eq!(state.balance(BOB), ether(5));
    assert_eq!(state.balance(CAROL), U256::from(7));
    assert!(!state.exists(poor));
}

#[test]
fn a_sender_left_out_for_room_waits_while_a_smaller_transaction_fits() {
    let executor = executor(Suite::Ecdsa);
    let state = funded_state();
    let small = support::BlockEnv {
        gas_limit: 50_000,
        ..env(1)
    };
    let mut big = transfer(BOB, 0, CAROL, U256::from(1));
    big.gas_limit = 30_000;
    let after_big = transfer(BOB, 1, CAROL, U256::from(1));
    let txs = [
        transfer(ALICE, 0, CAROL, U256::from(1)),
        big.clone(),
        after_big.clone(),
        transfer(ALICE, 1, CAROL, U256::from(1)),
    ];
    let execution = executor
        .execute_block(&small, &state, &block_hashes, &txs)
        .expect("block");
    // Bob's first did not fit, so his second waits too (it would fail its nonce otherwise);
    // Alice's second still fits.
    assert_eq!(execution.no_room, vec![big.hash, after_big.hash]);
    assert!(execution.skipped.is_empty(), "{:?}", execution.skipped);
    assert_eq!(execution.outcomes.len(), 2);
    assert_eq!(execution.gas_used, 42_000);
}

#[test]
fn block_gas_limit_counts_what_is_left() {
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let small = support::BlockEnv {
        gas_limit: 50_000,
        ..env(1)
    };
    let first = transfer(ALICE, 0, CAROL, U256::from(1));
    let second = transfer(ALICE, 1, CAROL, U256::from(1));
    let third = transfer(ALICE, 2, CAROL, U256::from(1));
    let execution = executor
        .execute_block(
            &small,
            &state,
            &block_hashes,
            &[first, second, third.clone()],
        )
        .expect("block");
    assert_eq!(execution.outcomes.len(), 2);
    assert_eq!(execution.gas_used, 42_000);
    // Left out for want of room, not invalid: it waits for the next block.
    assert!(execution.skipped.is_empty(), "{:?}", execution.skipped);
    assert_eq!(execution.no_room, vec![third.hash]);
    state.apply(&execution.changes);
    assert_eq!(state.nonce(ALICE), 2);

    let too_big = support::BlockEnv {
        gas_limit: BLOCK_GAS_LIMIT + 1,
        ..env(2)
    };
    assert!(matches!(
        executor.execute_block(&too_big, &state, &block_hashes, &[]),
        Err(ExecError::InvalidBlock(_))
    ));
}

#[test]
fn the_same_block_on_the_same_state_gives_the_same_execution() {
    let executor = executor(Suite::Sm);
    let reverter = address!("00000000000000000000000000000000000ee001");
    let mut state = funded_state();
    state.put_contract(reverter, &reverter_runtime());
    let counter = ALICE.create(0);
    let txs = vec![
        tx(ALICE, 0, None, U256::ZERO, counter_init_code()),
        tx(ALICE, 1, Some(counter), U256::ZERO, Vec::new()),
        transfer(BOB, 0, CAROL, U256::from(3)),
        tx(BOB, 1, Some(reverter), U256::ZERO, Vec::new()),
        tx(ALICE, 2, Some(BANYAN_CRYPTO_ADDRESS), U256::ZERO, {
            IBanyanCrypto::suiteHashCall {
                data: Bytes::from_static(b"abc"),
            }
            .abi_encode()
        }),
        // CAROL only holds what BOB just sent: she can send at gas price zero.
        TxInput {
            gas_price: 0,
            ..transfer(CAROL, 0, BOB, U256::from(1))
        },
        transfer(ALICE, 9, BOB, U256::from(1)),
    ];

    let first = executor
        .execute_block(&env(1), &state, &block_hashes, &txs)
        .expect("first run");
    let again = executor
        .execute_block(&env(1), &state, &block_hashes, &txs)
        .expect("second run");
    // A second executor (as on another node) agrees too.
    let other_node = support::executor(Suite::Sm)
        .execute_block(&env(1), &state.clone(), &block_hashes, &txs)
        .expect("other node");
    assert_eq!(first, again);
    assert_eq!(first, other_node);
    assert_eq!(first.outcomes.len(), 6);
    assert_eq!(first.skipped.len(), 1);
    assert_eq!(
        first.outcomes.last().map(|o| o.cumulative_gas_used),
        Some(first.gas_used)
    );
    let before = state.total_balance();
    state.apply(&first.changes);
    assert_eq!(state.total_balance(), before);
}

#[test]
fn banyan_crypto_hashes_with_the_suite_from_calls_and_contracts() {
    let sm3_abc = IBanyanCrypto::sm3Call {
        data: Bytes::from_static(b"abc"),
    }
    .abi_encode();
    let suite_hash_abc = IBanyanCrypto::suiteHashCall {
        data: Bytes::from_static(b"abc"),
    }
    .abi_encode();
    for (suite, expected_suite_hash, name) in [
        (Suite::Ecdsa, keccak256(b"abc"), "ecdsa"),
        (Suite::Sm, SM3_ABC, "sm"),
    ] {
        let executor = executor(suite);
        let state = funded_state();
        let call = |data: &[u8]| {
            executor
                .call(
                    &env(1),
                    &state,
                    &block_hashes,
                    &call_request(BANYAN_CRYPTO_ADDRESS, data.to_vec()),
                )
                .expect("call")
        };
        let result = call(&sm3_abc);
        assert!(result.success, "{result:?}");
        assert_eq!(B256::from_slice(&result.output), SM3_ABC);
        let result = call(&suite_hash_abc);
        assert_eq!(B256::from_slice(&result.output), expected_suite_hash);
        let result = call(&IBanyanCrypto::suiteCall {}.abi_encode());
        let decoded = IBanyanCrypto::suiteCall::abi_decode_returns(&result.output).expect("string");
        assert_eq!(decoded, name);

        let result = call(&[0xde, 0xad, 0xbe, 0xef]);
        assert!(!result.success);
        let reason = result.revert_reason.expect("reason");
        assert!(reason.contains("unknown function selector"), "{reason}");
    }

    // From a contract, with STATICCALL, inside a transaction.
    let executor = executor(Suite::Sm);
    let proxy = address!("000000000000000000000000000000000000c0de");
    let mut state = funded_state();
    state.put_contract(proxy, &crypto_proxy_runtime(STATICCALL));
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[
            tx(ALICE, 0, Some(proxy), U256::ZERO, suite_hash_abc.clone()),
            tx(
                ALICE,
                1,
                Some(BANYAN_CRYPTO_ADDRESS),
                U256::ZERO,
                sm3_abc.clone(),
            ),
        ],
    );
    assert!(
        execution.outcomes.iter().all(|o| o.success),
        "{:?}",
        execution.outcomes
    );
    assert_eq!(B256::from_slice(&execution.outcomes[0].output), SM3_ABC);
    assert_eq!(B256::from_slice(&execution.outcomes[1].output), SM3_ABC);
    // Gas: 21000 + calldata + the module's 60 + 12 × 4 words, or the EIP-7623 calldata floor
    // (10 gas per token) when that is more, as it is for this short call.
    let tokens: u64 = sm3_abc.iter().map(|b| if *b == 0 { 1 } else { 4 }).sum();
    let executed = 21_000 + 4 * tokens + 108;
    let floor = 21_000 + 10 * tokens;
    assert_eq!(execution.outcomes[1].gas_used, executed.max(floor));
    // Hashing changed no state but the sender's and the beneficiary's.
    assert!(
        !execution
            .changes
            .accounts
            .contains_key(&BANYAN_CRYPTO_ADDRESS)
    );
    assert!(!execution.changes.accounts.contains_key(&proxy));
}

#[test]
fn banyan_crypto_cannot_be_delegate_called() {
    let executor = executor(Suite::Ecdsa);
    let proxy = address!("000000000000000000000000000000000000c0de");
    let mut state = funded_state();
    state.put_contract(proxy, &crypto_proxy_runtime(DELEGATECALL));
    let data = IBanyanCrypto::sm3Call {
        data: Bytes::from_static(b"abc"),
    }
    .abi_encode();
    let result = executor
        .call(&env(1), &state, &block_hashes, &call_request(proxy, data))
        .expect("call");
    assert!(!result.success, "{result:?}");
}

#[test]
fn banyan_crypto_refuses_value_and_reverts_in_transactions() {
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let data = IBanyanCrypto::sm3Call {
        data: Bytes::from_static(b"abc"),
    }
    .abi_encode();
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[tx(
            ALICE,
            0,
            Some(BANYAN_CRYPTO_ADDRESS),
            U256::from(1),
            data,
        )],
    );
    let outcome = &execution.outcomes[0];
    assert!(!outcome.success);
    let reason = decode_revert_reason(&outcome.output).expect("reason");
    assert!(reason.contains("does not accept value"), "{reason}");
    assert_eq!(state.balance(BANYAN_CRYPTO_ADDRESS), U256::ZERO);
}

#[test]
fn estimate_gas_finds_the_lowest_limit_that_succeeds() {
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let transfer_request = CallRequest {
        from: Some(ALICE),
        to: Some(BOB),
        value: Some(U256::from(1)),
        ..CallRequest::default()
    };
    let estimate = executor
        .estimate_gas(&env(1), &state, &block_hashes, &transfer_request)
        .expect("estimate");
    assert_eq!(estimate, 21_000);

    // A contract call: the estimate succeeds and one gas less fails.
    run_block(
        &executor,
        &mut state,
        1,
        &[tx(ALICE, 0, None, U256::ZERO, counter_init_code())],
    );
    let counter = ALICE.create(0);
    let request = CallRequest {
        from: Some(ALICE),
        ..call_request(counter, Vec::new())
    };
    let estimate = executor
        .estimate_gas(&env(2), &state, &block_hashes, &request)
        .expect("estimate");
    let with = |gas: u64| {
        executor
            .call(
                &env(2),
                &state,
                &block_hashes,
                &CallRequest {
                    gas: Some(gas),
                    ..request.clone()
                },
            )
            .expect("call")
            .success
    };
    assert!(with(estimate));
    assert!(!with(estimate - 1));
    // The limit is enough for a real transaction too.
    let execution = run_block(
        &executor,
        &mut state,
        2,
        &[TxInput {
            gas_limit: estimate,
            ..tx(ALICE, 1, Some(counter), U256::ZERO, Vec::new())
        }],
    );
    assert!(execution.outcomes[0].success);

    // Cannot pay for the value: an error, not an estimate.
    let broke = CallRequest {
        from: Some(CAROL),
        to: Some(BOB),
        value: Some(U256::from(1)),
        ..CallRequest::default()
    };
    assert!(matches!(
        executor.estimate_gas(&env(2), &state, &block_hashes, &broke),
        Err(ExecError::InvalidCall(_))
    ));
}

#[test]
fn eth_call_needs_no_funds_at_zero_gas_price() {
    let executor = executor(Suite::Ecdsa);
    let state = funded_state();
    let nobody = CallRequest {
        to: Some(BANYAN_CRYPTO_ADDRESS),
        data: IBanyanCrypto::suiteCall {}.abi_encode().into(),
        ..CallRequest::default()
    };
    assert!(
        executor
            .call(&env(1), &state, &block_hashes, &nobody)
            .expect("call")
            .success
    );

    let priced = CallRequest {
        from: Some(CAROL),
        gas_price: Some(GWEI),
        ..nobody.clone()
    };
    assert!(matches!(
        executor.call(&env(1), &state, &block_hashes, &priced),
        Err(ExecError::InvalidCall(_))
    ));
}

#[test]
fn deletions_follow_eip161_and_selfdestruct() {
    let executor = executor(Suite::Ecdsa);
    let empty = address!("00000000000000000000000000000000000e0e01");
    let mut state = funded_state();
    state.put_empty_account(empty);

    // Init code that self-destructs at once, sending its value to CAROL.
    let mut init = vec![PUSH20];
    init.extend_from_slice(CAROL.as_slice());
    init.push(SELFDESTRUCT);
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[
            transfer(ALICE, 0, empty, U256::ZERO),
            tx(ALICE, 1, None, U256::from(99), init),
        ],
    );
    assert!(
        execution.outcomes.iter().all(|o| o.success),
        "{:?}",
        execution.outcomes
    );
    // The touched empty account is deleted; the destroyed contract never shows up.
    assert_eq!(execution.changes.accounts.get(&empty), Some(&None));
    assert!(!execution.changes.accounts.contains_key(&ALICE.create(1)));
    assert!(!state.exists(empty));
    assert_eq!(state.balance(CAROL), U256::from(99));
}

sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function balanceOf(address owner) external view returns (uint256);
    event Transfer(address indexed from, address indexed to, uint256 value);
}

#[test]
fn solc_compiled_erc20_deploys_and_transfers() {
    let bin = include_str!("../../../../contracts/build/BanyanToken.bin");
    let mut init = alloy_primitives::hex::decode(bin.trim()).expect("hex");
    init.extend_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    let executor = executor(Suite::Ecdsa);
    let mut state = funded_state();
    let token = ALICE.create(0);

    let transfer_data = transferCall {
        to: BOB,
        value: U256::from(250u64),
    }
    .abi_encode();
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[
            TxInput {
                gas_limit: 2_000_000,
                ..tx(ALICE, 0, None, U256::ZERO, init)
            },
            tx(ALICE, 1, Some(token), U256::ZERO, transfer_data),
        ],
    );
    assert!(
        execution.outcomes.iter().all(|o| o.success),
        "{:?}",
        execution.outcomes
    );
    let log = &execution.outcomes[1].logs[0];
    let event = Transfer::decode_log_data(&log.data).expect("Transfer event");
    assert_eq!(
        (event.from, event.to, event.value),
        (ALICE, BOB, U256::from(250u64))
    );

    let balance_of = |owner: Address| {
        let result = executor
            .call(
                &env(2),
                &state,
                &block_hashes,
                &call_request(token, balanceOfCall { owner }.abi_encode()),
            )
            .expect("call");
        balanceOfCall::abi_decode_returns(&result.output).expect("uint256")
    };
    assert_eq!(balance_of(BOB), U256::from(250u64));
    assert_eq!(balance_of(ALICE), U256::from(999_750u64));
    assert!(state.code(token).is_some());

    // Overdraft: reverts with a decodable reason (or a panic), included as failed.
    let overdraft = transferCall {
        to: CAROL,
        value: U256::from(10_000u64),
    }
    .abi_encode();
    let execution = run_block(
        &executor,
        &mut state,
        2,
        &[tx(BOB, 0, Some(token), U256::ZERO, overdraft)],
    );
    assert!(!execution.outcomes[0].success);
}

#[test]
fn executor_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Executor>();
    let executor = std::sync::Arc::new(executor(Suite::Ecdsa));
    let state = funded_state();
    let txs = [transfer(ALICE, 0, CAROL, U256::from(1))];
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let executor = &executor;
                let state = &state;
                let txs = &txs;
                scope.spawn(move || {
                    executor
                        .execute_block(&env(1), state, &block_hashes, txs)
                        .expect("block")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(results[0], results[1]);
}
