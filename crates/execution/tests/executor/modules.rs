//! Stateful native modules inside the EVM: module writes are journaled with the call frame that
//! made them, refused under STATICCALL and DELEGATECALL, and reach the block's state changes.
//! Evidence is the module under test; its own rules are tested in its crate.

use crate::support::{asm::*, *};
use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use alloy_sol_types::SolCall;
use banyan_crypto::Suite;
use banyan_module_api::{
    ModuleCallContext, ModuleError, ModuleState, NativeModule, ScreenedTx, gas,
    slots::{Slot, Word},
};
use banyan_modules::{EVIDENCE_ADDRESS, IEvidence, evidence::layout::AnchorRecord};

const FORWARDER: Address = address!("000000000000000000000000000000000000f0a1");

/// Runtime that forwards its call data to `target` with `opcode` (CALL, STATICCALL or
/// DELEGATECALL). With `revert_after` it then reverts whatever the call did; otherwise it
/// stops on success and reverts when the call failed.
fn forwarder(target: Address, opcode: u8, revert_after: bool) -> Vec<u8> {
    let mut code = vec![
        CALLDATASIZE,
        PUSH1,
        0,
        PUSH1,
        0,
        CALLDATACOPY, // memory[0..] = call data
        PUSH1,
        0, // retSize
        PUSH1,
        0, // retOffset
        CALLDATASIZE,
        PUSH1,
        0, // argsOffset
    ];
    if opcode == CALL {
        code.extend([PUSH1, 0]); // value
    }
    code.push(PUSH20);
    code.extend_from_slice(target.as_slice());
    code.extend([GAS, opcode]);
    if revert_after {
        code.extend([PUSH1, 0, PUSH1, 0, REVERT]);
    } else {
        let dest = u8::try_from(code.len() + 5).expect("short code");
        code.extend([
            ISZERO, PUSH1, dest, JUMPI, STOP, JUMPDEST, PUSH1, 0, PUSH1, 0, REVERT,
        ]);
    }
    code
}

fn anchor_call(hash: B256) -> Vec<u8> {
    IEvidence::anchorCall {
        hash,
        kind: "contract".into(),
        referenceId: "C-1".into(),
        metadata: Bytes::from_static(b"v1"),
    }
    .abi_encode()
}

fn anchored_by(state: &MemState, hash: B256) -> Option<Address> {
    let head = state.storage_at(EVIDENCE_ADDRESS, AnchorRecord::new(hash).head().0);
    (!head.is_zero()).then(|| Address::from_slice(&head.to_be_bytes::<32>()[..20]))
}

#[test]
fn a_transaction_anchors_and_the_write_reaches_the_block_changes() {
    let executor = executor(Suite::Ecdsa);
    let mut state = MemState::with_balances(&[(ALICE, ether(10))]);
    let hash = keccak256(b"loan agreement");
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[tx(
            ALICE,
            0,
            Some(EVIDENCE_ADDRESS),
            U256::ZERO,
            anchor_call(hash),
        )],
    );
    assert!(execution.outcomes[0].success, "{:?}", execution.outcomes);
    assert_eq!(anchored_by(&state, hash), Some(ALICE));
    let change = execution.changes.accounts[&EVIDENCE_ADDRESS]
        .as_ref()
        .expect("module account kept");
    assert!(!change.storage.is_empty());
    assert!(!change.storage_cleared);
    let log = &execution.outcomes[0].logs[0];
    assert_eq!(log.address, EVIDENCE_ADDRESS);
    assert_eq!(log.topics()[1], hash);

    // A second anchor of the same hash reverts and leaves the module's state as it was.
    let before = state.storage_of(EVIDENCE_ADDRESS);
    let execution = run_block(
        &executor,
        &mut state,
        2,
        &[tx(
            ALICE,
            1,
            Some(EVIDENCE_ADDRESS),
            U256::ZERO,
            anchor_call(hash),
        )],
    );
    assert!(!execution.outcomes[0].success);
    assert!(execution.outcomes[0].logs.is_empty());
    assert_eq!(state.storage_of(EVIDENCE_ADDRESS), before);
}

#[test]
fn a_contract_calling_evidence_is_the_anchorer() {
    let executor = executor(Suite::Sm);
    let mut state = MemState::with_balances(&[(ALICE, ether(10))]);
    state.put_contract(FORWARDER, &forwarder(EVIDENCE_ADDRESS, CALL, false));
    let hash = keccak256(b"through a contract");
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[tx(ALICE, 0, Some(FORWARDER), U256::ZERO, anchor_call(hash))],
    );
    assert!(execution.outcomes[0].success, "{:?}", execution.outcomes);
    assert_eq!(anchored_by(&state, hash), Some(FORWARDER));
    // eth_call of the view through the same path reads it back.
    let result = executor
        .call(
            &env(2),
            &state,
            &block_hashes,
            &call_request(
                EVIDENCE_ADDRESS,
                IEvidence::getAnchorCall { hash }.abi_encode(),
            ),
        )
        .expect("call");
    let anchor = IEvidence::getAnchorCall::abi_decode_returns(&result.output).expect("decodes");
    assert_eq!((anchor.anchorer, anchor.blockNumber), (FORWARDER, 1));
}

#[test]
fn a_module_write_inside_a_call_that_reverts_is_gone() {
    let executor = executor(Suite::Ecdsa);
    let mut state = MemState::with_balances(&[(ALICE, ether(10))]);
    state.put_contract(FORWARDER, &forwarder(EVIDENCE_ADDRESS, CALL, true));
    let hash = keccak256(b"reverted later");
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[tx(ALICE, 0, Some(FORWARDER), U256::ZERO, anchor_call(hash))],
    );
    // The inner call succeeded, then its caller reverted: nothing of it may remain.
    assert!(!execution.outcomes[0].success);
    assert!(execution.outcomes[0].logs.is_empty());
    assert_eq!(anchored_by(&state, hash), None);
    assert!(state.storage_of(EVIDENCE_ADDRESS).is_empty());
    assert!(
        !execution.changes.accounts.contains_key(&EVIDENCE_ADDRESS),
        "{:?}",
        execution.changes.accounts.get(&EVIDENCE_ADDRESS)
    );
}

#[test]
fn a_write_through_staticcall_or_delegatecall_reverts() {
    let executor = executor(Suite::Ecdsa);
    for opcode in [STATICCALL, DELEGATECALL] {
        let mut state = MemState::with_balances(&[(ALICE, ether(10))]);
        state.put_contract(FORWARDER, &forwarder(EVIDENCE_ADDRESS, opcode, false));
        let hash = keccak256([opcode]);
        let execution = run_block(
            &executor,
            &mut state,
            1,
            &[tx(ALICE, 0, Some(FORWARDER), U256::ZERO, anchor_call(hash))],
        );
        assert!(!execution.outcomes[0].success, "opcode {opcode:#x}");
        assert_eq!(anchored_by(&state, hash), None);
        assert!(state.storage_of(EVIDENCE_ADDRESS).is_empty());
        // The reason the module gave, seen by eth_call straight at the module under a static
        // frame, names the read-only call.
        if opcode == STATICCALL {
            let direct = executor
                .call(
                    &env(2),
                    &state,
                    &block_hashes,
                    &call_request(FORWARDER, anchor_call(hash)),
                )
                .expect("call");
            assert!(!direct.success);
        }
    }
}

#[test]
fn value_sent_to_a_module_is_refused_and_its_account_survives_an_empty_touch() {
    let executor = executor(Suite::Ecdsa);
    let mut state = MemState::with_balances(&[(ALICE, ether(10))]);
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[
            tx(
                ALICE,
                0,
                Some(EVIDENCE_ADDRESS),
                U256::from(5),
                anchor_call(B256::repeat_byte(1)),
            ),
            // A plain call with no data touches the (balance-less, nonce-less) account.
            tx(ALICE, 1, Some(EVIDENCE_ADDRESS), U256::ZERO, Vec::new()),
        ],
    );
    assert!(execution.outcomes.iter().all(|o| !o.success));
    assert_eq!(state.balance(EVIDENCE_ADDRESS), U256::ZERO);
    assert!(
        state.exists(EVIDENCE_ADDRESS),
        "EIP-161 must not delete a module account"
    );
    assert!(state.code(EVIDENCE_ADDRESS).is_some_and(|c| !c.is_empty()));
}

/// A test module that screens transactions: `freeze(address)` (selector `0x00000001`, then the
/// address as a word) marks an account, and every later transaction from it is refused.
#[derive(Debug)]
struct Blocklist;

const BLOCKLIST: Address = address!("0000000000000000000000000000000000002000");

impl NativeModule for Blocklist {
    fn address(&self) -> Address {
        BLOCKLIST
    }
    fn name(&self) -> &'static str {
        "blocklist"
    }
    fn version(&self) -> u32 {
        1
    }
    fn screens_transactions(&self) -> bool {
        true
    }
    fn call(
        &self,
        _: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        state.charge(gas::call_cost(input.len()))?;
        let (selector, word) = (input.get(..4), input.get(4..36));
        let (Some([0, 0, 0, 1]), Some(word)) = (selector, word) else {
            return Err(ModuleError::revert("Blocklist: unknown call"));
        };
        let frozen = Address::from_slice(&word[12..]);
        state.sstore(Slot::named("frozen", frozen.as_slice()), Word::from_u64(1))?;
        Ok(Bytes::new())
    }
    fn screen(&self, tx: &ScreenedTx<'_>, state: &mut ModuleState<'_>) -> Result<(), ModuleError> {
        if state
            .sload(Slot::named("frozen", tx.sender.as_slice()))?
            .is_zero()
        {
            Ok(())
        } else {
            Err(ModuleError::revert(format!(
                "Blocklist: {} is frozen",
                tx.sender
            )))
        }
    }
}

#[test]
fn a_screening_module_refuses_in_the_block_and_at_admission_with_the_same_reason() {
    let mut modules = banyan_modules::registry(&banyan_modules::default_spec(&[
        alloy_primitives::Address::repeat_byte(0x60),
    ]))
    .unwrap();
    modules.register(std::sync::Arc::new(Blocklist)).unwrap();
    let executor = banyan_execution::Executor::new(
        banyan_execution::ExecConfig {
            chain_id: CHAIN_ID,
            suite: Suite::Ecdsa,
            block_gas_limit: BLOCK_GAS_LIMIT,
        },
        modules,
    );
    let mut state = MemState::with_balances(&[(ALICE, ether(10)), (BOB, ether(10))]);
    state.put_module_account(BLOCKLIST);
    let mut freeze = vec![0, 0, 0, 1];
    freeze.extend_from_slice(&[0u8; 12]);
    freeze.extend_from_slice(BOB.as_slice());
    let bob_pays = transfer(BOB, 0, CAROL, U256::from(7));
    assert_eq!(executor.screen(1, 0, &state, &bob_pays).unwrap(), None);
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[
            tx(ALICE, 0, Some(BLOCKLIST), U256::ZERO, freeze),
            bob_pays.clone(),
        ],
    );
    // Frozen by the block's first transaction, BOB's transfer is refused in the same block.
    assert_eq!(execution.outcomes.len(), 1);
    assert!(execution.outcomes[0].success);
    let expected = format!("refused by module blocklist: Blocklist: {BOB} is frozen");
    assert_eq!(execution.skipped, vec![(bob_pays.hash, expected.clone())]);
    assert_eq!(state.balance(CAROL), U256::ZERO);
    // At admission, on the new head, the same module gives the same reason.
    let refusal = executor
        .screen(2, 0, &state, &bob_pays)
        .unwrap()
        .expect("refused");
    assert_eq!(refusal.to_string(), expected);
    assert_eq!(
        executor
            .screen(2, 0, &state, &transfer(ALICE, 1, CAROL, U256::from(1)))
            .unwrap(),
        None
    );
}
