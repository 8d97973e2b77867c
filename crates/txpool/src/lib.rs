//! banyan-txpool: the bounded pool of transactions waiting for a block.
//!
//! Each sender's transactions are held by nonce. Those that can run next (the run from the
//! account's nonce that its balance pays for) are *pending*, the only ones a block takes; a
//! transaction whose nonce is ahead of that run is *queued* until the gap fills, as in Geth,
//! Reth and Anvil, so that a client sending one account's transactions concurrently or out of
//! order works. A nonce at most `max_per_account` ahead of the account's is held; queued
//! transactions are bounded in total (`max_queued`), live `queued_lifetime` at most and are the
//! first evicted when the pool is full. Replacement of a held nonce needs a fee at least
//! `price_bump_percent` higher; a global and a per-account bound keep one account from filling
//! the pool; entries older than `lifetime` are evicted, and every block re-validates its
//! senders against the new state.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use alloy_primitives::{Address, B256, U256};
use banyan_primitives::RecoveredTx;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits and prices of the pool.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Most transactions held at once.
    pub max_txs: usize,
    /// Most transactions held for one sender.
    pub max_per_account: usize,
    /// Lowest accepted (effective) gas price.
    pub min_gas_price: u128,
    /// A replacement must pay at least this many percent more than the transaction it replaces.
    pub price_bump_percent: u128,
    /// Transactions older than this are dropped.
    pub lifetime: Duration,
    /// Most queued transactions (nonce ahead of the sender's next) held at once.
    pub max_queued: usize,
    /// Queued transactions older than this are dropped.
    pub queued_lifetime: Duration,
    /// The block gas limit: a transaction asking for more can never be included.
    pub block_gas_limit: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_txs: 20_000,
            max_per_account: 64,
            min_gas_price: 0,
            price_bump_percent: 10,
            lifetime: Duration::from_secs(3 * 3600),
            max_queued: 5_000,
            queued_lifetime: Duration::from_secs(600),
            block_gas_limit: 30_000_000,
        }
    }
}

/// Why the pool refused a transaction. The messages follow geth's where one exists, since tools
/// (ethers, web3, Hardhat) recognise them.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PoolError {
    /// The transaction is already in the pool.
    #[error("already known")]
    AlreadyKnown,
    /// The nonce was already used.
    #[error("nonce too low: next nonce {expected}, tx nonce {got}")]
    NonceTooLow {
        /// Next usable nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce is further ahead of the account's than the pool holds.
    #[error(
        "nonce too high: next nonce {expected}, tx nonce {got} (at most {ahead} ahead of the account's nonce are held)"
    )]
    NonceTooHigh {
        /// Next usable nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
        /// How far ahead of the account's nonce the pool holds transactions.
        ahead: usize,
    },
    /// The sender cannot pay for this and its earlier pending transactions.
    #[error("insufficient funds for gas * price + value: balance {balance}, cost {cost}")]
    InsufficientFunds {
        /// Sender balance.
        balance: U256,
        /// Total cost of the sender's pending transactions up to this one.
        cost: U256,
    },
    /// The gas price is below the pool's minimum.
    #[error("transaction underpriced: gas price {got} below minimum {min}")]
    Underpriced {
        /// Offered price.
        got: u128,
        /// Minimum.
        min: u128,
    },
    /// A replacement that does not pay enough more.
    #[error("replacement transaction underpriced: needs gas price of at least {min}")]
    ReplacementUnderpriced {
        /// Minimum price for the replacement.
        min: u128,
    },
    /// The sender already holds its quota of pending transactions.
    #[error("account limit reached: {sender} already has {limit} pending transactions")]
    AccountLimit {
        /// The sender.
        sender: Address,
        /// The per-account limit.
        limit: usize,
    },
    /// The pool is full and the transaction does not pay more than the cheapest one held
    /// (or, for a queued one, than the cheapest queued one).
    #[error("txpool is full")]
    PoolFull,
    /// The gas limit is above the block gas limit.
    #[error("exceeds block gas limit: tx gas {got}, block gas limit {limit}")]
    GasLimitExceeded {
        /// Requested gas.
        got: u64,
        /// Block gas limit.
        limit: u64,
    },
    /// The gas limit cannot cover the transaction's intrinsic gas.
    #[error("intrinsic gas too low: tx gas {got}, needs at least {needed}")]
    IntrinsicGasTooLow {
        /// Requested gas.
        got: u64,
        /// Intrinsic gas.
        needed: u64,
    },
    /// The priority fee exceeds the max fee.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// The node could not read the sender's account at the head (its log says why); nothing
    /// was queued. Sending again later may succeed.
    #[error("the node could not read account {0} at its head state; try again later")]
    StateUnavailable(Address),
}

/// Reading an account's head state failed. The reader logs the cause; the pool only needs to
/// know that it must not guess a nonce or balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("account state unavailable")]
pub struct AccountUnavailable;

/// Outcome of a successful insertion.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// A new pending transaction.
    New,
    /// It replaced the transaction with this hash.
    Replaced(B256),
}

/// Nonce and balance of an account in the head state.
pub type AccountState = (u64, U256);

/// What a transaction pays its gas in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GasPaidIn {
    /// The native coin: the sender's balance must cover `gas_limit × price + value`.
    #[default]
    Native,
    /// A currency of a module (checked by the caller, which asked the module): the native
    /// balance must cover only the value.
    Module,
}

/// Intrinsic gas of a transaction under the Prague rules (including the EIP-7623 calldata floor).
pub fn intrinsic_gas(tx: &RecoveredTx) -> u64 {
    let data = tx.input();
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = data.len() as u64 - zeros;
    let mut gas = 21_000 + zeros * 4 + nonzeros * 16;
    if tx.to().is_none() {
        gas += 32_000 + 2 * (data.len() as u64).div_ceil(32);
    }
    for (_, keys) in tx.access_list() {
        gas += 2_400 + 1_900 * keys.len() as u64;
    }
    let floor = 21_000 + 10 * (zeros + 4 * nonzeros);
    gas.max(floor)
}

#[derive(Clone)]
struct Entry {
    tx: Arc<RecoveredTx>,
    arrived: Instant,
    seq: u64,
    gas: GasPaidIn,
}

impl Entry {
    /// The most of the native coin this transaction may take from its sender.
    fn native_cost(&self) -> U256 {
        match self.gas {
            GasPaidIn::Native => self.tx.max_cost(),
            GasPaidIn::Module => self.tx.value(),
        }
    }
}

/// One sender's transactions. The run from the account's nonce that its balance pays for is
/// pending; the rest (beyond a gap, or not yet affordable) is queued.
struct Account {
    /// The account's nonce in the head state, as last read.
    nonce: u64,
    /// Its balance in the head state, as last read.
    balance: U256,
    txs: BTreeMap<u64, Entry>,
    /// How many of `txs`, from `nonce` on, are pending.
    pending: usize,
    /// How many are queued (`txs.len() - pending`), as counted in [`Inner::queued`].
    queued: usize,
}

impl Account {
    /// The nonce after the pending run: what the sender's next transaction must use to be
    /// pending at once.
    fn next(&self) -> u64 {
        self.nonce + self.pending as u64
    }

    /// Recomputes the pending run: contiguous from the account's nonce and paid for.
    fn settle(&mut self) {
        let mut cost = U256::ZERO;
        let mut run = 0;
        for (expect, (n, e)) in (self.nonce..).zip(&self.txs) {
            cost = cost.saturating_add(e.native_cost());
            if *n != expect || cost > self.balance {
                break;
            }
            run += 1;
        }
        self.pending = run;
    }
}

#[derive(Default)]
struct Inner {
    by_sender: HashMap<Address, Account>,
    by_hash: HashMap<B256, (Address, u64)>,
    seq: u64,
    /// Queued transactions in the pool.
    queued: usize,
}

impl Inner {
    /// Recomputes `sender`'s pending run and the pool's queued count after a change to its
    /// transactions or account; forgets a sender with nothing held.
    fn settle(&mut self, sender: Address) {
        let Some(account) = self.by_sender.get_mut(&sender) else {
            return;
        };
        self.queued -= account.queued;
        if account.txs.is_empty() {
            self.by_sender.remove(&sender);
            return;
        }
        account.settle();
        account.queued = account.txs.len() - account.pending;
        self.queued += account.queued;
    }

    /// Removes one entry without settling (the caller settles once it is done).
    fn take(&mut self, sender: Address, nonce: u64) -> Option<Entry> {
        let e = self.by_sender.get_mut(&sender)?.txs.remove(&nonce)?;
        self.by_hash.remove(&e.tx.hash());
        Some(e)
    }

    fn remove(&mut self, sender: Address, nonce: u64) -> Option<Entry> {
        let e = self.take(sender, nonce);
        self.settle(sender);
        e
    }

    /// Removes `nonce` and every later transaction of `sender` (they could not run without it).
    fn remove_from(&mut self, sender: Address, nonce: u64) -> usize {
        let nonces: Vec<u64> = match self.by_sender.get(&sender) {
            Some(a) => a.txs.range(nonce..).map(|(n, _)| *n).collect(),
            None => return 0,
        };
        let removed = nonces
            .iter()
            .filter(|n| self.take(sender, **n).is_some())
            .count();
        self.settle(sender);
        removed
    }

    /// Records `sender`'s account as read from the head state: what it has used up goes.
    fn refresh(&mut self, sender: Address, nonce: u64, balance: U256) {
        let Some(account) = self.by_sender.get_mut(&sender) else {
            return;
        };
        account.nonce = nonce;
        account.balance = balance;
        let used: Vec<u64> = account.txs.range(..nonce).map(|(n, _)| *n).collect();
        for n in used {
            self.take(sender, n);
        }
        self.settle(sender);
    }
}

/// The transaction pool. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct TxPool {
    config: PoolConfig,
    /// The limits in force: the configuration's until the chain sets others ([`Self::set_limits`]).
    limits: Mutex<Limits>,
    inner: Mutex<Inner>,
}

/// The limits a chain's governance may change while the pool runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most transactions held at once.
    pub max_txs: usize,
    /// Most transactions held for one sender.
    pub max_per_account: usize,
    /// The block gas limit.
    pub block_gas_limit: u64,
}

impl TxPool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        let limits = Limits {
            max_txs: config.max_txs,
            max_per_account: config.max_per_account,
            block_gas_limit: config.block_gas_limit,
        };
        Self {
            config,
            limits: Mutex::new(limits),
            inner: Mutex::default(),
        }
    }

    /// The pool's configuration, as it started.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        *self.limits.lock()
    }

    /// Replaces the limits (the chain's governance set new ones). Transactions already held
    /// stay; new ones are checked against these.
    pub fn set_limits(&self, limits: Limits) {
        *self.limits.lock() = limits;
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.inner.lock().by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a transaction is held.
    pub fn contains(&self, hash: &B256) -> bool {
        self.inner.lock().by_hash.contains_key(hash)
    }

    /// A held transaction.
    pub fn get(&self, hash: &B256) -> Option<Arc<RecoveredTx>> {
        let inner = self.inner.lock();
        let (sender, nonce) = inner.by_hash.get(hash)?;
        inner
            .by_sender
            .get(sender)?
            .txs
            .get(nonce)
            .map(|e| e.tx.clone())
    }

    /// The nonce after the sender's last pending transaction, if it has any pending (queued
    /// ones, beyond a gap, do not count: the gap's nonce is still the next one).
    pub fn next_nonce(&self, sender: Address) -> Option<u64> {
        let inner = self.inner.lock();
        let account = inner.by_sender.get(&sender)?;
        (account.pending > 0).then(|| account.next())
    }

    /// Number of transactions held for `sender`, pending and queued.
    pub fn sender_count(&self, sender: Address) -> usize {
        self.inner
            .lock()
            .by_sender
            .get(&sender)
            .map_or(0, |a| a.txs.len())
    }

    /// Number of queued transactions (nonce ahead of their sender's next) held.
    pub fn queued(&self) -> usize {
        self.inner.lock().queued
    }

    /// Validates and inserts `tx`; `account` is the sender's nonce and balance at the head.
    pub fn add(&self, tx: RecoveredTx, account: AccountState) -> Result<Added, PoolError> {
        self.add_with(tx, &|_| Ok(account))
    }

    /// As [`TxPool::add`], reading the sender's head state while the pool is locked, so that a
    /// block committed concurrently (head moved, then [`TxPool::on_block`]) is seen consistently.
    pub fn add_with(
        &self,
        tx: RecoveredTx,
        account: &dyn Fn(Address) -> Result<AccountState, AccountUnavailable>,
    ) -> Result<Added, PoolError> {
        self.add_paying(tx, GasPaidIn::Native, account)
    }

    /// As [`TxPool::add_with`], for a transaction whose gas is paid in `gas`.
    pub fn add_paying(
        &self,
        tx: RecoveredTx,
        gas: GasPaidIn,
        account: &dyn Fn(Address) -> Result<AccountState, AccountUnavailable>,
    ) -> Result<Added, PoolError> {
        self.check_static(&tx)?;
        let sender = tx.sender();
        let nonce = tx.nonce();
        let limits = self.limits();
        let mut inner = self.inner.lock();
        let (state_nonce, balance) =
            account(sender).map_err(|AccountUnavailable| PoolError::StateUnavailable(sender))?;
        if inner.by_hash.contains_key(&tx.hash()) {
            return Err(PoolError::AlreadyKnown);
        }
        inner.refresh(sender, state_nonce, balance);
        let held = inner.by_sender.get(&sender);
        let next = held.map_or(state_nonce, Account::next);
        if nonce < state_nonce {
            return Err(PoolError::NonceTooLow {
                expected: next,
                got: nonce,
            });
        }
        let replaced = held.and_then(|a| a.txs.get(&nonce)).cloned();
        if replaced.is_none() && held.map_or(0, |a| a.txs.len()) >= limits.max_per_account {
            return Err(PoolError::AccountLimit {
                sender,
                limit: limits.max_per_account,
            });
        }
        if nonce - state_nonce >= limits.max_per_account as u64 {
            return Err(PoolError::NonceTooHigh {
                expected: next,
                got: nonce,
                ahead: limits.max_per_account,
            });
        }
        if let Some(old) = &replaced {
            let old_price = old.tx.effective_gas_price();
            let min = old_price + old_price * self.config.price_bump_percent / 100;
            let bumped = tx.effective_gas_price() >= min.max(old_price + 1)
                && tx.max_fee_per_gas() >= old.tx.max_fee_per_gas();
            if !bumped {
                return Err(PoolError::ReplacementUnderpriced {
                    min: min.max(old_price + 1),
                });
            }
        }
        let earlier: U256 = held
            .map(|a| {
                a.txs
                    .range(..nonce)
                    .map(|(_, e)| e.native_cost())
                    .fold(U256::ZERO, |a, c| a.saturating_add(c))
            })
            .unwrap_or_default();
        let own = match gas {
            GasPaidIn::Native => tx.max_cost(),
            GasPaidIn::Module => tx.value(),
        };
        let cost = earlier.saturating_add(own);
        if cost > balance {
            return Err(PoolError::InsufficientFunds { balance, cost });
        }
        // Ahead of the pending run: it waits for the gap to fill.
        let queued = nonce > next;
        let price = tx.effective_gas_price();
        if replaced.is_none() {
            if queued && inner.queued >= self.config.max_queued {
                Self::evict_queued(&mut inner, sender, Some(price))?;
            }
            if inner.by_hash.len() >= limits.max_txs {
                Self::evict_cheapest(&mut inner, sender, price, queued)?;
            }
        }
        if let Some(old) = &replaced {
            inner.by_hash.remove(&old.tx.hash());
        }
        inner.seq += 1;
        let entry = Entry {
            tx: Arc::new(tx),
            arrived: Instant::now(),
            seq: inner.seq,
            gas,
        };
        inner.by_hash.insert(entry.tx.hash(), (sender, nonce));
        inner
            .by_sender
            .entry(sender)
            .or_insert_with(|| Account {
                nonce: state_nonce,
                balance,
                txs: BTreeMap::new(),
                pending: 0,
                queued: 0,
            })
            .txs
            .insert(nonce, entry);
        inner.settle(sender);
        Ok(match replaced {
            Some(old) => Added::Replaced(old.tx.hash()),
            None => Added::New,
        })
    }

    fn check_static(&self, tx: &RecoveredTx) -> Result<(), PoolError> {
        if tx
            .max_priority_fee_per_gas()
            .is_some_and(|tip| tip > tx.max_fee_per_gas())
        {
            return Err(PoolError::TipAboveFeeCap);
        }
        if tx.effective_gas_price() < self.config.min_gas_price {
            return Err(PoolError::Underpriced {
                got: tx.effective_gas_price(),
                min: self.config.min_gas_price,
            });
        }
        let block_gas_limit = self.limits().block_gas_limit;
        if tx.gas_limit() > block_gas_limit {
            return Err(PoolError::GasLimitExceeded {
                got: tx.gas_limit(),
                limit: block_gas_limit,
            });
        }
        let needed = intrinsic_gas(tx);
        if tx.gas_limit() < needed {
            return Err(PoolError::IntrinsicGasTooLow {
                got: tx.gas_limit(),
                needed,
            });
        }
        Ok(())
    }

    /// Makes room by dropping the last transaction of the cheapest other sender (the oldest
    /// among equals), among senders with queued transactions only if `queued_only` (their last
    /// one is then queued), if it pays less than `price` when one is given.
    fn evict_last(
        inner: &mut Inner,
        sender: Address,
        queued_only: bool,
        price: Option<u128>,
    ) -> Result<(), PoolError> {
        let victim = inner
            .by_sender
            .iter()
            .filter(|(s, a)| **s != sender && (!queued_only || a.queued > 0))
            .filter_map(|(s, a)| {
                a.txs
                    .last_key_value()
                    .map(|(n, e)| (e.tx.effective_gas_price(), std::cmp::Reverse(e.seq), *s, *n))
            })
            .min();
        match victim {
            Some((victim_price, _, s, n)) if price.is_none_or(|p| victim_price < p) => {
                inner.remove(s, n);
                Ok(())
            }
            _ => Err(PoolError::PoolFull),
        }
    }

    /// Makes room by dropping a queued transaction of another sender, paying less than
    /// `price` if one is given.
    fn evict_queued(
        inner: &mut Inner,
        sender: Address,
        price: Option<u128>,
    ) -> Result<(), PoolError> {
        Self::evict_last(inner, sender, true, price)
    }

    /// Makes room for a transaction paying `price`: queued transactions of other senders go
    /// first (whatever they pay, for a pending newcomer; cheaper ones only, for a queued one),
    /// then the cheapest last-in-line pending transaction of another sender, if it pays less.
    fn evict_cheapest(
        inner: &mut Inner,
        sender: Address,
        price: u128,
        queued: bool,
    ) -> Result<(), PoolError> {
        if queued {
            return Self::evict_queued(inner, sender, Some(price));
        }
        if Self::evict_queued(inner, sender, None).is_ok() {
            return Ok(());
        }
        Self::evict_last(inner, sender, false, Some(price))
    }

    /// Transactions for the next block: each sender's pending ones in nonce order, senders
    /// interleaved by price (highest first, then arrival), within `max_gas` and `max_txs`.
    pub fn best(&self, max_gas: u64, max_txs: usize) -> Vec<Arc<RecoveredTx>> {
        type Pending<'a> = std::iter::Take<std::collections::btree_map::Values<'a, u64, Entry>>;
        let inner = self.inner.lock();
        let mut cursors: Vec<(Address, Pending<'_>)> = inner
            .by_sender
            .iter()
            .map(|(s, a)| (*s, a.txs.values().take(a.pending)))
            .collect();
        let mut heads: std::collections::BinaryHeap<(u128, std::cmp::Reverse<u64>, usize)> =
            Default::default();
        let mut current: Vec<Option<&Entry>> = Vec::with_capacity(cursors.len());
        for (i, (_, it)) in cursors.iter_mut().enumerate() {
            let e = it.next();
            if let Some(e) = e {
                heads.push((e.tx.effective_gas_price(), std::cmp::Reverse(e.seq), i));
            }
            current.push(e);
        }
        let mut out = Vec::new();
        let mut gas = 0u64;
        while let Some((_, _, i)) = heads.pop() {
            if out.len() >= max_txs {
                break;
            }
            let Some(e) = current[i] else { continue };
            if gas + e.tx.gas_limit() > max_gas {
                // This sender's later transactions cannot go before this one: skip the sender.
                continue;
            }
            gas += e.tx.gas_limit();
            out.push(e.tx.clone());
            let next = cursors[i].1.next();
            if let Some(n) = next {
                heads.push((n.tx.effective_gas_price(), std::cmp::Reverse(n.seq), i));
            }
            current[i] = next;
        }
        out
    }

    /// After a block: drops included and now-invalid transactions, and makes pending the
    /// queued ones whose gap the block filled. `account` gives each affected sender's nonce and
    /// balance in the new head state; a sender whose account cannot be read keeps its
    /// transactions until the next block re-validates them (they are checked again at
    /// execution anyway). Returns how many were dropped as invalid (not counting those the
    /// block included).
    pub fn on_block(
        &self,
        senders: &[Address],
        account: &dyn Fn(Address) -> Result<AccountState, AccountUnavailable>,
    ) -> usize {
        let mut inner = self.inner.lock();
        let mut dropped = 0;
        let mut unique: Vec<Address> = senders.to_vec();
        unique.sort_unstable();
        unique.dedup();
        for sender in unique {
            if !inner.by_sender.contains_key(&sender) {
                continue;
            }
            let Ok((nonce, balance)) = account(sender) else {
                continue;
            };
            inner.refresh(sender, nonce, balance);
            // The run from the nonce must be paid for: from the first that is not, it and the
            // sender's later transactions go. Beyond a gap they stay queued.
            let mut cost = U256::ZERO;
            let mut cut = None;
            if let Some(a) = inner.by_sender.get(&sender) {
                for (expect, (n, e)) in (nonce..).zip(&a.txs) {
                    if *n != expect {
                        break;
                    }
                    cost = cost.saturating_add(e.native_cost());
                    if cost > balance {
                        cut = Some(*n);
                        break;
                    }
                }
            }
            if let Some(n) = cut {
                dropped += inner.remove_from(sender, n);
            }
        }
        dropped
    }

    /// Removes a transaction and the sender's later ones (e.g. it proved invalid at execution).
    pub fn remove_with_successors(&self, hash: &B256) -> usize {
        let mut inner = self.inner.lock();
        match inner.by_hash.get(hash).copied() {
            Some((sender, nonce)) => inner.remove_from(sender, nonce),
            None => 0,
        }
    }

    /// Removes transactions (and their successors) that waited longer than the lifetime (the
    /// queued lifetime, for queued ones).
    pub fn evict_stale(&self, now: Instant) -> usize {
        let mut inner = self.inner.lock();
        let lifetime = self.config.lifetime;
        let queued_lifetime = self.config.queued_lifetime;
        let old: Vec<(Address, u64)> = inner
            .by_sender
            .iter()
            .filter_map(|(s, a)| {
                a.txs
                    .iter()
                    .enumerate()
                    .find(|(i, (_, e))| {
                        let limit = if *i < a.pending {
                            lifetime
                        } else {
                            queued_lifetime
                        };
                        now.saturating_duration_since(e.arrived) > limit
                    })
                    .map(|(_, (n, _))| (*s, *n))
            })
            .collect();
        old.into_iter().map(|(s, n)| inner.remove_from(s, n)).sum()
    }

    /// All held transactions, grouped by sender in nonce order (for `txpool_content`-style views).
    pub fn snapshot(&self) -> Vec<Arc<RecoveredTx>> {
        let inner = self.inner.lock();
        let mut senders: Vec<_> = inner.by_sender.keys().copied().collect();
        senders.sort_unstable();
        senders
            .iter()
            .flat_map(|s| {
                inner.by_sender[s]
                    .txs
                    .values()
                    .map(|e| e.tx.clone())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
