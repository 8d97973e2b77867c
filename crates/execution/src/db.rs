//! The block overlay: revm's `Database` over a [`StateReader`], collecting each committed
//! transaction's changes in address order so that a block's [`StateChanges`] come out the same
//! on every node.

use crate::BlockHashFn;
use alloy_primitives::{Address, B256, Bytes, U256};
use banyan_state::{Account, AccountChange, KECCAK_EMPTY, StateChanges, StateError, StateReader};
use revm::{
    Database, DatabaseCommit,
    bytecode::Bytecode,
    database_interface::DBErrorMarker,
    primitives::AddressMap,
    state::{Account as EvmAccount, AccountInfo},
};
use std::collections::{BTreeMap, HashMap};

/// A state read failed; carried through revm back to the executor.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct DbError(pub(crate) StateError);

impl DBErrorMarker for DbError {}

/// An account as this block has left it so far.
#[derive(Clone, Debug)]
struct Pending {
    /// `None`: the account was deleted (self-destructed, or touched while empty per EIP-161).
    info: Option<Info>,
    /// Code deployed in this block.
    code: Option<Bytes>,
    /// Storage from before the block no longer applies.
    storage_cleared: bool,
    /// Slots written in this block.
    storage: BTreeMap<U256, U256>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Info {
    nonce: u64,
    balance: U256,
    code_hash: B256,
}

impl From<&Account> for Info {
    fn from(account: &Account) -> Self {
        Self {
            nonce: account.nonce,
            balance: account.balance,
            code_hash: account.code_hash,
        }
    }
}

impl Pending {
    fn deleted() -> Self {
        Self {
            info: None,
            code: None,
            storage_cleared: true,
            storage: BTreeMap::new(),
        }
    }
}

/// revm's database for one block (or one `eth_call`): reads fall through to the state, writes
/// stay here until [`Overlay::take_changes`].
pub(crate) struct Overlay<'a> {
    reader: &'a dyn StateReader,
    block_hash: &'a BlockHashFn<'a>,
    // Read caches: only looked up, never iterated, so hash maps are fine here.
    base_accounts: HashMap<Address, Option<Account>>,
    base_storage: HashMap<(Address, U256), U256>,
    codes: HashMap<B256, Bytecode>,
    // Iterated to build the block's changes: ordered.
    changed: BTreeMap<Address, Pending>,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(reader: &'a dyn StateReader, block_hash: &'a BlockHashFn<'a>) -> Self {
        Self {
            reader,
            block_hash,
            base_accounts: HashMap::new(),
            base_storage: HashMap::new(),
            codes: HashMap::new(),
            changed: BTreeMap::new(),
        }
    }

    fn base_account(&mut self, address: Address) -> Result<Option<Account>, StateError> {
        if let Some(account) = self.base_accounts.get(&address) {
            return Ok(account.clone());
        }
        let account = self.reader.account(address)?;
        self.base_accounts.insert(address, account.clone());
        Ok(account)
    }

    fn base_storage(&mut self, address: Address, slot: U256) -> Result<U256, StateError> {
        if let Some(value) = self.base_storage.get(&(address, slot)) {
            return Ok(*value);
        }
        let value = self.reader.storage(address, slot)?;
        self.base_storage.insert((address, slot), value);
        Ok(value)
    }

    /// The account's current nonce (zero when it does not exist).
    pub(crate) fn nonce_of(&mut self, address: Address) -> Result<u64, StateError> {
        Ok(self.current_info(address)?.map_or(0, |info| info.nonce))
    }

    /// The account's current balance (zero when it does not exist).
    pub(crate) fn balance_of(&mut self, address: Address) -> Result<U256, StateError> {
        Ok(self
            .current_info(address)?
            .map_or(U256::ZERO, |info| info.balance))
    }

    /// The account's info as the block has left it so far (`None`: does not exist).
    fn current_info(&mut self, address: Address) -> Result<Option<Info>, StateError> {
        match self.changed.get(&address) {
            Some(pending) => Ok(pending.info),
            None => Ok(self.base_account(address)?.as_ref().map(Info::from)),
        }
    }

    /// Applies one committed transaction's state. Independent per address, so the order in
    /// which revm's map yields accounts does not matter.
    fn commit_account(&mut self, address: Address, account: EvmAccount) {
        if !account.is_touched() {
            return;
        }
        if account.is_selfdestructed() || (account.is_empty() && !account.is_created()) {
            // Self-destruct (EIP-6780: only contracts created in the same transaction), or
            // EIP-161: an empty account that was touched is removed.
            self.changed.insert(address, Pending::deleted());
            return;
        }
        let info = Info {
            nonce: account.info.nonce,
            balance: account.info.balance,
            code_hash: account.info.code_hash,
        };
        let new_code = (info.code_hash != KECCAK_EMPTY)
            .then(|| account.info.code.clone())
            .flatten();
        if account.is_created() {
            let mut pending = Pending::deleted();
            pending.info = Some(info);
            pending.storage = account
                .storage
                .iter()
                .map(|(slot, value)| (*slot, value.present_value()))
                .collect();
            if let Some(code) = new_code {
                pending.code = Some(code.original_bytes());
                self.codes.insert(info.code_hash, code);
            }
            self.changed.insert(address, pending);
            return;
        }
        // The account existed (or was created earlier in the block); its view before this
        // transaction was loaded by revm, so it is cached and this cannot fail in practice.
        let previous_code_hash = self
            .current_info(address)
            .ok()
            .flatten()
            .map(|i| i.code_hash);
        let pending = self.changed.entry(address).or_insert_with(|| Pending {
            info: None,
            code: None,
            storage_cleared: false,
            storage: BTreeMap::new(),
        });
        pending.info = Some(info);
        if previous_code_hash != Some(info.code_hash) {
            // Code changed without a create (EIP-7702 delegation); keep the new code.
            if let Some(code) = new_code {
                pending.code = Some(code.original_bytes());
                self.codes.insert(info.code_hash, code);
            }
        }
        for (slot, value) in account.changed_storage_slots() {
            pending.storage.insert(*slot, value.present_value());
        }
    }

    /// The block's changes: one entry per account that really changed, in address order.
    pub(crate) fn take_changes(&mut self) -> Result<StateChanges, StateError> {
        let changed = std::mem::take(&mut self.changed);
        let mut changes = StateChanges::default();
        for (address, pending) in changed {
            let base = self.base_account(address)?;
            let Some(info) = pending.info else {
                if base.is_some() {
                    changes.accounts.insert(address, None);
                }
                continue;
            };
            let storage = if pending.storage_cleared {
                pending
                    .storage
                    .into_iter()
                    .filter(|(_, value)| !value.is_zero())
                    .collect()
            } else {
                let mut storage = BTreeMap::new();
                for (slot, value) in pending.storage {
                    if self.base_storage(address, slot)? != value {
                        storage.insert(slot, value);
                    }
                }
                storage
            };
            let unchanged_info = base.as_ref().map(Info::from) == Some(info);
            if unchanged_info && !pending.storage_cleared && storage.is_empty() {
                continue;
            }
            changes.accounts.insert(
                address,
                Some(AccountChange {
                    nonce: info.nonce,
                    balance: info.balance,
                    code_hash: info.code_hash,
                    code: pending.code,
                    storage_cleared: pending.storage_cleared,
                    storage,
                }),
            );
        }
        Ok(changes)
    }

    /// Sum of balances before the block and after it, over the accounts it changed.
    pub(crate) fn balance_totals(
        &mut self,
        changes: &StateChanges,
    ) -> Result<(U256, U256), StateError> {
        let mut before = U256::ZERO;
        let mut after = U256::ZERO;
        for (address, change) in &changes.accounts {
            if let Some(base) = self.base_account(*address)? {
                before = before.saturating_add(base.balance);
            }
            if let Some(change) = change {
                after = after.saturating_add(change.balance);
            }
        }
        Ok((before, after))
    }
}

impl Database for Overlay<'_> {
    type Error = DbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        let Some(info) = self.current_info(address).map_err(DbError)? else {
            return Ok(None);
        };
        let account = AccountInfo::default()
            .with_balance(info.balance)
            .with_nonce(info.nonce);
        // Code is loaded lazily through `code_by_hash` when the account is called.
        Ok(Some(if info.code_hash == KECCAK_EMPTY {
            account
        } else {
            account.with_code_hash(info.code_hash)
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self.codes.get(&code_hash) {
            return Ok(code.clone());
        }
        let raw = self
            .reader
            .code(code_hash)
            .map_err(DbError)?
            .ok_or_else(|| DbError(StateError::Corrupt(format!("code {code_hash} is missing"))))?;
        let code = Bytecode::new_raw_checked(raw).map_err(|error| {
            DbError(StateError::Corrupt(format!(
                "code {code_hash} does not decode: {error}"
            )))
        })?;
        self.codes.insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage(&mut self, address: Address, slot: U256) -> Result<U256, DbError> {
        if let Some(pending) = self.changed.get(&address) {
            if let Some(value) = pending.storage.get(&slot) {
                return Ok(*value);
            }
            if pending.storage_cleared || pending.info.is_none() {
                return Ok(U256::ZERO);
            }
        }
        self.base_storage(address, slot).map_err(DbError)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        // revm only asks for the 256 most recent blocks; an unknown one reads as zero, as in
        // Ethereum for blocks out of range. A failed read fails the block, never reads as zero.
        Ok((self.block_hash)(number)
            .map_err(DbError)?
            .unwrap_or_default())
    }
}

impl DatabaseCommit for Overlay<'_> {
    fn commit(&mut self, changes: AddressMap<EvmAccount>) {
        for (address, account) in changes {
            self.commit_account(address, account);
        }
    }
}
