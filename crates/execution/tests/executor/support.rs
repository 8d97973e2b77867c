//! Test support: an in-memory state, hand-assembled contracts and transaction builders.

use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use banyan_crypto::Suite;
pub(crate) use banyan_execution::BlockEnv;
use banyan_execution::{BlockExecution, ExecConfig, Executor, TxInput};
use banyan_state::{Account, KECCAK_EMPTY, StateChanges, StateError, StateReader};
use std::collections::BTreeMap;

pub(crate) const CHAIN_ID: u64 = 7070;
pub(crate) const BLOCK_GAS_LIMIT: u64 = 30_000_000;
pub(crate) const GWEI: u128 = 1_000_000_000;
pub(crate) const ALICE: Address = address!("a11ce00000000000000000000000000000000001");
pub(crate) const BOB: Address = address!("b0b0000000000000000000000000000000000002");
pub(crate) const CAROL: Address = address!("ca201000000000000000000000000000000000c3");
pub(crate) const BENEFICIARY: Address = address!("bef1c1a100000000000000000000000000000004");

pub(crate) fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// A state held in ordered maps; `apply` plays the role of the state tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MemState {
    accounts: BTreeMap<Address, Account>,
    storage: BTreeMap<(Address, U256), U256>,
    codes: BTreeMap<B256, Bytes>,
}

impl MemState {
    /// Accounts with `balances`, plus every built-in module's account as genesis writes it.
    pub(crate) fn with_balances(balances: &[(Address, U256)]) -> Self {
        let mut state = Self::default();
        for address in executor(Suite::Ecdsa).modules().addresses() {
            state.put_module_account(*address);
        }
        for (address, balance) in balances {
            state
                .accounts
                .insert(*address, account(0, *balance, KECCAK_EMPTY));
        }
        state
    }

    /// A module's account as genesis writes it: no balance, code `0xFE`.
    pub(crate) fn put_module_account(&mut self, address: Address) {
        let code = Bytes::from_static(&banyan_module_api::MODULE_ACCOUNT_CODE);
        let code_hash = keccak256(&code);
        self.codes.insert(code_hash, code);
        self.accounts
            .insert(address, account(0, U256::ZERO, code_hash));
    }

    /// Sets one storage slot.
    pub(crate) fn put_storage(&mut self, address: Address, slot: U256, value: U256) {
        self.storage.insert((address, slot), value);
    }

    pub(crate) fn put_contract(&mut self, address: Address, code: &[u8]) {
        let code_hash = keccak256(code);
        self.codes.insert(code_hash, Bytes::copy_from_slice(code));
        self.accounts
            .insert(address, account(1, U256::ZERO, code_hash));
    }

    pub(crate) fn put_empty_account(&mut self, address: Address) {
        self.accounts
            .insert(address, account(0, U256::ZERO, KECCAK_EMPTY));
    }

    pub(crate) fn apply(&mut self, changes: &StateChanges) {
        for (address, change) in &changes.accounts {
            let Some(change) = change else {
                assert!(
                    self.accounts.remove(address).is_some(),
                    "deleting missing {address}"
                );
                self.storage.retain(|(a, _), _| a != address);
                continue;
            };
            if change.storage_cleared {
                self.storage.retain(|(a, _), _| a != address);
            }
            for (slot, value) in &change.storage {
                if value.is_zero() {
                    self.storage.remove(&(*address, *slot));
                } else {
                    self.storage.insert((*address, *slot), *value);
                }
            }
            if let Some(code) = &change.code {
                assert_eq!(
                    keccak256(code),
                    change.code_hash,
                    "code does not match its hash"
                );
                self.codes.insert(change.code_hash, code.clone());
            }
            assert!(
                change.code_hash == KECCAK_EMPTY || self.codes.contains_key(&change.code_hash),
                "account {address} refers to unknown code"
            );
            self.accounts.insert(
                *address,
                account(change.nonce, change.balance, change.code_hash),
            );
        }
    }

    pub(crate) fn balance(&self, address: Address) -> U256 {
        self.accounts
            .get(&address)
            .map_or(U256::ZERO, |a| a.balance)
    }

    pub(crate) fn nonce(&self, address: Address) -> u64 {
        self.accounts.get(&address).map_or(0, |a| a.nonce)
    }

    pub(crate) fn exists(&self, address: Address) -> bool {
        self.accounts.contains_key(&address)
    }

    pub(crate) fn code(&self, address: Address) -> Option<Bytes> {
        let hash = self.accounts.get(&address)?.code_hash;
        self.codes.get(&hash).cloned()
    }

    pub(crate) fn slot(&self, address: Address, slot: u64) -> U256 {
        self.storage
            .get(&(address, U256::from(slot)))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn storage_at(&self, address: Address, slot: U256) -> U256 {
        self.storage
            .get(&(address, slot))
            .copied()
            .unwrap_or_default()
    }

    /// Every non-zero storage slot of `address`.
    pub(crate) fn storage_of(&self, address: Address) -> Vec<(U256, U256)> {
        self.storage
            .iter()
            .filter(|((a, _), _)| *a == address)
            .map(|((_, slot), value)| (*slot, *value))
            .collect()
    }

    pub(crate) fn total_balance(&self) -> U256 {
        self.accounts.values().map(|a| a.balance).sum()
    }
}

fn account(nonce: u64, balance: U256, code_hash: B256) -> Account {
    Account {
        nonce,
        balance,
        storage_root: B256::ZERO,
        code_hash,
    }
}

impl StateReader for MemState {
    fn account(&self, address: Address) -> Result<Option<Account>, StateError> {
        Ok(self.accounts.get(&address).cloned())
    }

    fn storage(&self, address: Address, slot: U256) -> Result<U256, StateError> {
        Ok(self
            .storage
            .get(&(address, slot))
            .copied()
            .unwrap_or_default())
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, StateError> {
        Ok(self.codes.get(&code_hash).cloned())
    }
}

/// An executor with every built-in module (as `banyan init` enables them).
pub(crate) fn executor(suite: Suite) -> Executor {
    let modules = banyan_modules::registry(&banyan_modules::default_spec(&[
        alloy_primitives::Address::repeat_byte(0x60),
    ]))
    .expect("built-ins");
    Executor::new(
        ExecConfig {
            chain_id: CHAIN_ID,
            suite,
            block_gas_limit: BLOCK_GAS_LIMIT,
        },
        modules,
    )
}

pub(crate) fn env(number: u64) -> BlockEnv {
    BlockEnv {
        number,
        timestamp: 1_700_000_000 + number,
        beneficiary: BENEFICIARY,
        gas_limit: BLOCK_GAS_LIMIT,
        prevrandao: B256::repeat_byte(0x42),
    }
}

pub(crate) fn block_hashes(number: u64) -> Result<Option<B256>, StateError> {
    Ok(Some(keccak256(number.to_be_bytes())))
}

/// An `eth_call` of `data` to `to` with every other field defaulted.
pub(crate) fn call_request(to: Address, data: Vec<u8>) -> banyan_execution::CallRequest {
    banyan_execution::CallRequest {
        to: Some(to),
        data: data.into(),
        ..Default::default()
    }
}

/// Executes one block and applies it to `state`.
pub(crate) fn run_block(
    executor: &Executor,
    state: &mut MemState,
    number: u64,
    txs: &[TxInput],
) -> BlockExecution {
    let execution = executor
        .execute_block(&env(number), state, &block_hashes, txs)
        .expect("block executes");
    let before = state.total_balance();
    state.apply(&execution.changes);
    assert_eq!(state.total_balance(), before, "money must be conserved");
    execution
}

/// A legacy transaction with a unique hash and a generous gas limit.
pub(crate) fn tx(
    sender: Address,
    nonce: u64,
    to: Option<Address>,
    value: U256,
    data: Vec<u8>,
) -> TxInput {
    let mut hash_input = sender.to_vec();
    hash_input.extend_from_slice(&nonce.to_be_bytes());
    hash_input.extend_from_slice(&data);
    TxInput {
        hash: keccak256(&hash_input),
        sender,
        tx_type: 0,
        to,
        nonce,
        gas_limit: 1_000_000,
        gas_price: GWEI,
        max_priority_fee_per_gas: None,
        value,
        data: data.into(),
        access_list: Vec::new(),
        chain_id: Some(CHAIN_ID),
    }
}

pub(crate) fn transfer(sender: Address, nonce: u64, to: Address, value: U256) -> TxInput {
    TxInput {
        gas_limit: 21_000,
        ..tx(sender, nonce, Some(to), value, Vec::new())
    }
}

/// Hand-assembled EVM code.
pub(crate) mod asm {
    pub(crate) const STOP: u8 = 0x00;
    pub(crate) const ADD: u8 = 0x01;
    pub(crate) const ISZERO: u8 = 0x15;
    pub(crate) const CALLDATASIZE: u8 = 0x36;
    pub(crate) const CALLDATACOPY: u8 = 0x37;
    pub(crate) const CODECOPY: u8 = 0x39;
    pub(crate) const MSTORE: u8 = 0x52;
    pub(crate) const SLOAD: u8 = 0x54;
    pub(crate) const SSTORE: u8 = 0x55;
    pub(crate) const JUMPI: u8 = 0x57;
    pub(crate) const GAS: u8 = 0x5a;
    pub(crate) const JUMPDEST: u8 = 0x5b;
    pub(crate) const PUSH1: u8 = 0x60;
    pub(crate) const PUSH2: u8 = 0x61;
    pub(crate) const PUSH20: u8 = 0x73;
    pub(crate) const PUSH32: u8 = 0x7f;
    pub(crate) const DUP1: u8 = 0x80;
    pub(crate) const LOG1: u8 = 0xa1;
    pub(crate) const CALL: u8 = 0xf1;
    pub(crate) const RETURN: u8 = 0xf3;
    pub(crate) const DELEGATECALL: u8 = 0xf4;
    pub(crate) const STATICCALL: u8 = 0xfa;
    pub(crate) const REVERT: u8 = 0xfd;
    pub(crate) const SELFDESTRUCT: u8 = 0xff;

    /// Init code: runs `constructor`, then returns `runtime` as the contract's code.
    pub(crate) fn init_code(constructor: &[u8], runtime: &[u8]) -> Vec<u8> {
        const TRAILER_LEN: usize = 12;
        let offset = u8::try_from(constructor.len() + TRAILER_LEN).expect("short constructor");
        let len = u8::try_from(runtime.len()).expect("short runtime");
        let mut code = constructor.to_vec();
        code.extend_from_slice(&[
            PUSH1, len, PUSH1, offset, PUSH1, 0, CODECOPY, PUSH1, len, PUSH1, 0, RETURN,
        ]);
        code.extend_from_slice(runtime);
        code
    }
}
