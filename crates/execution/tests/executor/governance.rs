//! Governance's permissions as the executor enforces them: a freeze refuses the frozen
//! account's transaction in the very block that freezes it and again at admission, a frozen
//! contract cannot be reached through another contract (the call guard), and deploy permission
//! refuses a creation by a non-deployer, each with the reason a sender reads.

use crate::support::{asm::*, *};
use alloy_primitives::{Address, Bytes, U256, address};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use banyan_crypto::Suite;
use banyan_execution::{ExecConfig, Executor, TxInput};
use banyan_modules::{GOVERNANCE_ADDRESS, IGovernance};
use banyan_primitives::{Genesis, GenesisValidator};

const CALLEE: Address = address!("00000000000000000000000000000000ca11ee01");
const CALLER: Address = address!("00000000000000000000000000000000ca11e502");

/// An executor and a state whose committee is ALICE alone (one proposal passes at once), with
/// Governance's genesis storage written as `banyan init` writes it.
fn governed() -> (Executor, MemState) {
    governed_with(banyan_modules::default_spec(&[ALICE]))
}

/// An executor and a state running `modules`, their genesis storage written as `banyan init`
/// writes it; ALICE, BOB and CAROL hold 10 ether each.
pub(crate) fn governed_with(
    modules: std::collections::BTreeMap<String, banyan_primitives::ModuleSpec>,
) -> (Executor, MemState) {
    let suite = Suite::Ecdsa;
    let secret = suite.secret_key_from_bytes(&[7; 32]).unwrap();
    let public = suite.public_key(&secret).unwrap();
    let genesis = Genesis {
        chain_id: CHAIN_ID,
        suite,
        timestamp: 0,
        gas_limit: BLOCK_GAS_LIMIT,
        alloc: Default::default(),
        validators: vec![GenesisValidator {
            address: suite.address(&public),
            public_key: Bytes::copy_from_slice(&public.to_bytes()),
            power: 1,
        }],
        modules,
    };
    let mut state =
        MemState::with_balances(&[(ALICE, ether(10)), (BOB, ether(10)), (CAROL, ether(10))]);
    for (address, account) in banyan_modules::genesis_accounts(&genesis).unwrap() {
        for (slot, value) in account.storage {
            state.put_storage(address, slot, value);
        }
    }
    let executor = Executor::new(
        ExecConfig {
            chain_id: CHAIN_ID,
            suite,
            block_gas_limit: BLOCK_GAS_LIMIT,
        },
        banyan_modules::registry(&genesis.modules).unwrap(),
    );
    (executor, state)
}

pub(crate) fn propose(nonce: u64, kind: IGovernance::Kind, payload: Vec<u8>) -> TxInput {
    let data = IGovernance::proposeCall {
        kind,
        payload: payload.into(),
        description: String::new(),
        votingPeriod: 0,
    }
    .abi_encode();
    tx(ALICE, nonce, Some(GOVERNANCE_ADDRESS), U256::ZERO, data)
}

#[test]
fn a_frozen_account_is_refused_in_the_block_that_freezes_it_and_at_admission() {
    let (executor, mut state) = governed();
    let bob_pays = transfer(BOB, 0, CAROL, U256::from(7));
    assert_eq!(executor.screen(1, 0, &state, &bob_pays).unwrap(), None);
    let execution = run_block(
        &executor,
        &mut state,
        1,
        &[
            propose(0, IGovernance::Kind::Freeze, BOB.abi_encode()),
            bob_pays.clone(),
        ],
    );
    assert_eq!(execution.outcomes.len(), 1);
    assert!(execution.outcomes[0].success);
    let expected = format!(
        "refused by module governance: Governance: account {BOB} is frozen by governance \
         proposal 1, so it cannot send transactions; the committee can lift it: banyan account \
         unfreeze {BOB}"
    );
    assert_eq!(execution.skipped, vec![(bob_pays.hash, expected.clone())]);
    assert_eq!(state.balance(CAROL), ether(10));
    let refusal = executor.screen(2, 0, &state, &bob_pays).unwrap().unwrap();
    assert_eq!(refusal.to_string(), expected);
    // Unfrozen, BOB pays.
    run_block(
        &executor,
        &mut state,
        2,
        &[propose(1, IGovernance::Kind::Unfreeze, BOB.abi_encode())],
    );
    let execution = run_block(&executor, &mut state, 3, &[bob_pays]);
    assert!(execution.skipped.is_empty());
    assert_eq!(state.balance(CAROL), ether(10) + U256::from(7));
}

#[test]
fn a_frozen_contract_cannot_be_reached_through_another_contract() {
    let (executor, mut state) = governed();
    state.put_contract(CALLEE, &[STOP]);
    // CALLER: slot 0 = success of CALL(gas, CALLEE, 0, 0, 0, 0, 0).
    let mut code = vec![PUSH1, 0, PUSH1, 0, PUSH1, 0, PUSH1, 0, PUSH1, 0, PUSH20];
    code.extend_from_slice(CALLEE.as_slice());
    code.extend_from_slice(&[GAS, CALL, PUSH1, 0, SSTORE, STOP]);
    state.put_contract(CALLER, &code);
    let call = |nonce| tx(CAROL, nonce, Some(CALLER), U256::ZERO, Vec::new());
    run_block(&executor, &mut state, 1, &[call(0)]);
    assert_eq!(
        state.slot(CALLER, 0),
        U256::from(1),
        "reachable before the freeze"
    );
    run_block(
        &executor,
        &mut state,
        2,
        &[propose(0, IGovernance::Kind::Freeze, CALLEE.abi_encode())],
    );
    let execution = run_block(&executor, &mut state, 3, &[call(1)]);
    // The outer call runs; the inner call to the frozen contract reverts (CALL returns 0).
    assert!(execution.outcomes[0].success);
    assert_eq!(state.slot(CALLER, 0), U256::ZERO, "unreachable once frozen");
    // Called directly, it is refused before it runs, in eth_call too.
    let outcome = executor
        .call(
            &env(4),
            &state,
            &block_hashes,
            &call_request(CALLEE, Vec::new()),
        )
        .unwrap();
    assert!(!outcome.success);
    assert!(
        outcome
            .revert_reason
            .as_deref()
            .unwrap_or_default()
            .contains("is frozen by governance proposal 1, so it cannot be called"),
        "{outcome:?}"
    );
}

#[test]
fn deploy_permission_refuses_creations_by_non_deployers() {
    let (executor, mut state) = governed();
    let switch = IGovernance::PermissionSwitch {
        permission: IGovernance::Permission::Deploy,
        enabled: true,
    }
    .abi_encode();
    run_block(
        &executor,
        &mut state,
        1,
        &[propose(0, IGovernance::Kind::SetPermission, switch)],
    );
    let create = tx(BOB, 0, None, U256::ZERO, init_code(&[], &[STOP]));
    let execution = run_block(&executor, &mut state, 2, std::slice::from_ref(&create));
    assert_eq!(execution.skipped.len(), 1);
    assert!(
        execution.skipped[0]
            .1
            .contains("only a `deployer` may create contracts while deploy permission is on"),
        "{:?}",
        execution.skipped
    );
    let grant = IGovernance::RoleChange {
        account: BOB,
        role: IGovernance::Role::Deployer,
    }
    .abi_encode();
    run_block(
        &executor,
        &mut state,
        3,
        &[propose(1, IGovernance::Kind::GrantRole, grant)],
    );
    let execution = run_block(&executor, &mut state, 4, &[create]);
    assert!(execution.skipped.is_empty(), "{:?}", execution.skipped);
    assert!(state.code(BOB.create(0)).is_some());
}

/// A multi-signature wallet acting in a real block: its operation calls Governance as the
/// wallet; an operation whose call fails ends `Failed`, and what the failed call wrote and
/// logged is undone by the journal while the approving transaction succeeds.
#[test]
fn a_multisig_wallet_acts_through_the_journal_and_a_failed_call_leaves_nothing() {
    use banyan_modules::{IMultisig, MULTISIG_ADDRESS};
    let (executor, mut state) = governed();
    let create = IMultisig::createWalletCall {
        owners: vec![BOB, CAROL],
        threshold: 2,
    }
    .abi_encode();
    run_block(
        &executor,
        &mut state,
        1,
        &[tx(BOB, 0, Some(MULTISIG_ADDRESS), U256::ZERO, create)],
    );
    let wallet = banyan_modules::multisig::wallet_address(CHAIN_ID, 0);
    // ALICE's committee admits the wallet as a governor.
    run_block(
        &executor,
        &mut state,
        2,
        &[propose(
            0,
            IGovernance::Kind::AddGovernor,
            IGovernance::GovernorChange {
                governor: wallet,
                weight: 1,
            }
            .abi_encode(),
        )],
    );
    let op = |nonce, data: Vec<u8>| {
        let call = IMultisig::proposeCall {
            wallet,
            target: GOVERNANCE_ADDRESS,
            data: data.into(),
            description: String::new(),
        }
        .abi_encode();
        tx(BOB, nonce, Some(MULTISIG_ADDRESS), U256::ZERO, call)
    };
    let approve = |nonce, id| {
        tx(
            CAROL,
            nonce,
            Some(MULTISIG_ADDRESS),
            U256::ZERO,
            IMultisig::approveCall { id }.abi_encode(),
        )
    };
    // Operation 1: the wallet proposes a freeze; on CAROL's approval Governance records a
    // proposal made by the wallet.
    let freeze = IGovernance::proposeCall {
        kind: IGovernance::Kind::Freeze,
        payload: X_ACCOUNT.abi_encode().into(),
        description: String::new(),
        votingPeriod: 0,
    }
    .abi_encode();
    run_block(&executor, &mut state, 3, &[op(1, freeze)]);
    let execution = run_block(&executor, &mut state, 4, &[approve(0, 1)]);
    assert!(execution.outcomes[0].success);
    let created: Vec<_> = execution.outcomes[0]
        .logs
        .iter()
        .filter_map(|l| IGovernance::ProposalCreated::decode_log_data(&l.data).ok())
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].creator, wallet);
    // Operation 2: a vote on a proposal that does not exist; Governance reverts, the operation
    // fails, and the approving transaction succeeds with no Governance log and no write.
    let bad_vote = IGovernance::voteCall {
        id: 99,
        choice: IGovernance::Choice::Yes,
    }
    .abi_encode();
    run_block(&executor, &mut state, 5, &[op(2, bad_vote)]);
    let governance_before = state.storage_of(GOVERNANCE_ADDRESS);
    let execution = run_block(&executor, &mut state, 6, &[approve(1, 2)]);
    assert!(execution.outcomes[0].success);
    let logs = &execution.outcomes[0].logs;
    assert!(
        logs.iter().all(|l| l.address == MULTISIG_ADDRESS),
        "{logs:?}"
    );
    let failed: Vec<_> = logs
        .iter()
        .filter_map(|l| IMultisig::OperationFailed::decode_log_data(&l.data).ok())
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].reason.contains("there is no proposal 99"),
        "{}",
        failed[0].reason
    );
    assert_eq!(state.storage_of(GOVERNANCE_ADDRESS), governance_before);
}

const X_ACCOUNT: Address = address!("aa000000000000000000000000000000000000aa");
