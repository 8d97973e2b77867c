//! Where Payments keeps its state: every record in the module account's storage, at
//! `keccak256(namespace ‖ 0x00 ‖ key)` (see `banyan_module_api::slots`). The table is in
//! `docs/modules/payments.md`.

use alloy_primitives::{Address, B256, U256};
use banyan_module_api::{
    ModuleError, ModuleState,
    slots::{Packer, Slot, Word, WordList},
};

pub(crate) fn currencies_slot() -> Slot {
    Slot::named("payments.currencies", &[])
}
pub(crate) fn currency_slot(index: u32) -> Slot {
    Slot::named("payments.currency", &index.to_be_bytes())
}
pub(crate) fn code_slot(code: &str) -> Slot {
    Slot::named("payments.code", code.as_bytes())
}
pub(crate) fn balance_slot(index: u32, account: Address) -> Slot {
    let mut key = index.to_be_bytes().to_vec();
    key.extend_from_slice(account.as_slice());
    Slot::named("payments.balance", &key)
}
pub(crate) fn allowance_slot(index: u32, owner: Address, spender: Address) -> Slot {
    let mut key = index.to_be_bytes().to_vec();
    key.extend_from_slice(owner.as_slice());
    key.extend_from_slice(spender.as_slice());
    Slot::named("payments.allowance", &key)
}
pub(crate) fn payments_slot() -> Slot {
    Slot::named("payments.payments", &[])
}
pub(crate) fn holds_slot() -> Slot {
    Slot::named("payments.holds", &[])
}
pub(crate) fn hold_slot(id: u64) -> Slot {
    Slot::named("payments.hold", &id.to_be_bytes())
}
pub(crate) fn key_slot(payer: Address, key: B256) -> Slot {
    let mut preimage = payer.to_vec();
    preimage.extend_from_slice(key.as_slice());
    Slot::named("payments.key", &preimage)
}
pub(crate) fn rate_slot(base: u32, quote: u32) -> Slot {
    let mut key = base.to_be_bytes().to_vec();
    key.extend_from_slice(&quote.to_be_bytes());
    Slot::named("payments.rate", &key)
}
/// The credential schema a currency requires of payers and payees (zero: none).
pub(crate) fn kyc_slot(token: Address) -> Slot {
    Slot::named("payments.kyc", token.as_slice())
}
/// The currency number an account pays gas in (0: the native coin).
pub(crate) fn gas_currency_slot(account: Address) -> Slot {
    Slot::named("payments.gas-currency", account.as_slice())
}
pub(crate) fn liquidity_slot(provider: Address, base: u32, quote: u32) -> Slot {
    let mut key = provider.to_vec();
    key.extend_from_slice(&base.to_be_bytes());
    key.extend_from_slice(&quote.to_be_bytes());
    Slot::named("payments.liquidity", &key)
}

/// A registered currency's fixed and running facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CurrencyRecord {
    pub(crate) index: u32,
    pub(crate) token: Address,
    pub(crate) issuer: Address,
    pub(crate) decimals: u8,
    pub(crate) supply: u128,
    /// 0: no cap.
    pub(crate) cap: u128,
    pub(crate) fee_account: Address,
}

/// Record slot `C`: issuer (20) ‖ decimals (1) ‖ exists (1); `C+1`: supply (16) ‖ cap (16);
/// `C+2`: fee account (20); `C+3`: code (byte string); `C+4`: name (byte string).
pub(crate) fn read_currency(
    state: &mut ModuleState<'_>,
    index: u32,
    token: Address,
) -> Result<Option<CurrencyRecord>, ModuleError> {
    let base = currency_slot(index);
    let mut head = state.sload(base)?.unpack();
    let (issuer, decimals, exists) = (head.address(), head.u8(), head.u8());
    if exists == 0 {
        return Ok(None);
    }
    let mut amounts = state.sload(base.offset(1))?.unpack();
    let (supply, cap) = (amounts.u128(), amounts.u128());
    let fee_account = state.sload(base.offset(2))?.unpack().address();
    Ok(Some(CurrencyRecord {
        index,
        token,
        issuer,
        decimals,
        supply,
        cap,
        fee_account,
    }))
}

pub(crate) fn write_currency_head(
    state: &mut ModuleState<'_>,
    c: &CurrencyRecord,
) -> Result<(), ModuleError> {
    let base = currency_slot(c.index);
    state.sstore(
        base,
        Packer::new().address(c.issuer).u8(c.decimals).u8(1).word(),
    )?;
    write_supply(state, c)?;
    state.sstore(base.offset(2), Packer::new().address(c.fee_account).word())
}

pub(crate) fn write_supply(
    state: &mut ModuleState<'_>,
    c: &CurrencyRecord,
) -> Result<(), ModuleError> {
    state.sstore(
        currency_slot(c.index).offset(1),
        Packer::new().u128(c.supply).u128(c.cap).word(),
    )
}

/// An account's balance of one currency, money on hold included, and the part on hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BalanceWord {
    pub(crate) balance: u128,
    pub(crate) held: u128,
}

impl BalanceWord {
    pub(crate) fn available(self) -> u128 {
        self.balance.saturating_sub(self.held)
    }
}

pub(crate) fn read_balance(
    state: &mut ModuleState<'_>,
    index: u32,
    account: Address,
) -> Result<BalanceWord, ModuleError> {
    let mut f = state.sload(balance_slot(index, account))?.unpack();
    Ok(BalanceWord {
        balance: f.u128(),
        held: f.u128(),
    })
}

pub(crate) fn write_balance(
    state: &mut ModuleState<'_>,
    index: u32,
    account: Address,
    b: BalanceWord,
) -> Result<(), ModuleError> {
    if b.held > b.balance {
        return Err(ModuleError::Invariant(format!(
            "account {account} would hold {} on hold of a balance of {} (currency {index})",
            b.held, b.balance
        )));
    }
    state.sstore(
        balance_slot(index, account),
        Packer::new().u128(b.balance).u128(b.held).word(),
    )
}

pub(crate) fn read_allowance(
    state: &mut ModuleState<'_>,
    index: u32,
    owner: Address,
    spender: Address,
) -> Result<U256, ModuleError> {
    Ok(state.sload(allowance_slot(index, owner, spender))?.0)
}

pub(crate) fn write_allowance(
    state: &mut ModuleState<'_>,
    index: u32,
    owner: Address,
    spender: Address,
    value: U256,
) -> Result<(), ModuleError> {
    state.sstore(allowance_slot(index, owner, spender), Word(value))
}

/// One hold. Slot `H`: payer (20) ‖ status (1) ‖ currency (4) ‖ fee bps (2); `H+1`: payee (20)
/// ‖ deadline (8); `H+2`: amount (16) ‖ captured (16); `H+3`: created at (8) ‖ closed at (8) ‖
/// fee reserved (16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HoldRecord {
    pub(crate) payer: Address,
    pub(crate) status: u8,
    pub(crate) currency: u32,
    pub(crate) fee_bps: u16,
    pub(crate) payee: Address,
    /// Unix seconds; 0: no timeout.
    pub(crate) deadline: u64,
    pub(crate) amount: u128,
    pub(crate) captured: u128,
    pub(crate) created_at: u64,
    pub(crate) closed_at: u64,
    /// The fee held with the amount (at the rate in force when the hold was placed).
    pub(crate) fee_reserved: u128,
}

pub(crate) fn read_hold(
    state: &mut ModuleState<'_>,
    id: u64,
) -> Result<Option<HoldRecord>, ModuleError> {
    let base = hold_slot(id);
    let head = state.sload(base)?;
    if head.is_zero() {
        return Ok(None);
    }
    let mut h = head.unpack();
    let mut p = state.sload(base.offset(1))?.unpack();
    let mut a = state.sload(base.offset(2))?.unpack();
    let mut t = state.sload(base.offset(3))?.unpack();
    Ok(Some(HoldRecord {
        payer: h.address(),
        status: h.u8(),
        currency: h.u32(),
        fee_bps: h.u16(),
        payee: p.address(),
        deadline: p.u64(),
        amount: a.u128(),
        captured: a.u128(),
        created_at: t.u64(),
        closed_at: t.u64(),
        fee_reserved: t.u128(),
    }))
}

pub(crate) fn write_hold(
    state: &mut ModuleState<'_>,
    id: u64,
    h: &HoldRecord,
) -> Result<(), ModuleError> {
    let base = hold_slot(id);
    state.sstore(
        base,
        Packer::new()
            .address(h.payer)
            .u8(h.status)
            .u32(h.currency)
            .u16(h.fee_bps)
            .word(),
    )?;
    state.sstore(
        base.offset(1),
        Packer::new().address(h.payee).u64(h.deadline).word(),
    )?;
    state.sstore(
        base.offset(2),
        Packer::new().u128(h.amount).u128(h.captured).word(),
    )?;
    state.sstore(
        base.offset(3),
        Packer::new()
            .u64(h.created_at)
            .u64(h.closed_at)
            .u128(h.fee_reserved)
            .word(),
    )
}

/// What an idempotency key recorded. Slot `K`: the payment's fingerprint (32); `K+1`: outcome
/// (1) ‖ payment id (8) ‖ block (8) ‖ expires at (8); `K+2`: failure reason (byte string).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyFields {
    pub(crate) fingerprint: B256,
    pub(crate) outcome: u8,
    pub(crate) payment: u64,
    pub(crate) block_number: u64,
    pub(crate) expires_at: u64,
}

pub(crate) fn read_key(
    state: &mut ModuleState<'_>,
    base: Slot,
) -> Result<Option<KeyFields>, ModuleError> {
    let mut f = state.sload(base.offset(1))?.unpack();
    let outcome = f.u8();
    if outcome == 0 {
        return Ok(None);
    }
    let (payment, block_number, expires_at) = (f.u64(), f.u64(), f.u64());
    Ok(Some(KeyFields {
        fingerprint: state.sload_b256(base)?,
        outcome,
        payment,
        block_number,
        expires_at,
    }))
}

pub(crate) fn write_key(
    state: &mut ModuleState<'_>,
    base: Slot,
    k: &KeyFields,
) -> Result<(), ModuleError> {
    state.sstore(base, Word::from(k.fingerprint))?;
    state.sstore(
        base.offset(1),
        Packer::new()
            .u8(k.outcome)
            .u64(k.payment)
            .u64(k.block_number)
            .u64(k.expires_at)
            .word(),
    )
}

pub(crate) fn clear_key(state: &mut ModuleState<'_>, base: Slot) -> Result<(), ModuleError> {
    state.sstore(base, Word::ZERO)?;
    state.sstore(base.offset(1), Word::ZERO)?;
    state.store_bytes(base.offset(2), &[])
}

/// A posted rate. Slot `R`: rate (16) ‖ valid from (8) ‖ valid until (8); `R+1`: provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RateRecord {
    pub(crate) rate: u128,
    pub(crate) valid_from: u64,
    pub(crate) valid_until: u64,
    pub(crate) provider: Address,
}

pub(crate) fn read_rate(
    state: &mut ModuleState<'_>,
    base: u32,
    quote: u32,
) -> Result<RateRecord, ModuleError> {
    let slot = rate_slot(base, quote);
    let mut f = state.sload(slot)?.unpack();
    let (rate, valid_from, valid_until) = (f.u128(), f.u64(), f.u64());
    let provider = if rate == 0 {
        Address::ZERO
    } else {
        state.sload(slot.offset(1))?.unpack().address()
    };
    Ok(RateRecord {
        rate,
        valid_from,
        valid_until,
        provider,
    })
}

pub(crate) fn write_rate(
    state: &mut ModuleState<'_>,
    base: u32,
    quote: u32,
    r: &RateRecord,
) -> Result<(), ModuleError> {
    let slot = rate_slot(base, quote);
    state.sstore(
        slot,
        Packer::new()
            .u128(r.rate)
            .u64(r.valid_from)
            .u64(r.valid_until)
            .word(),
    )?;
    state.sstore(slot.offset(1), Packer::new().address(r.provider).word())
}

/// Most gas one fired entry may use: a hold's expiry (about 38,000) or a key record's deletion
/// with the longest failure reason (about 69,000), with a margin.
pub(crate) const ENTRY_GAS: u64 = 100_000;
/// Most gas one bucket's scan and clearing may use, besides its entries.
pub(crate) const BUCKET_GAS: u64 = 10_000;
/// Gas kept for the cursor's final write (a read and a write).
pub(crate) const CURSOR_GAS: u64 = 30_000;

/// A queue of timers by time bucket: entries scheduled for a time fire in the first block whose
/// timestamp is past the end of the entry's bucket. Cursor slot: next bucket to process (8) ‖
/// entries queued and not yet fired (8) ‖ entries of the next bucket already fired (8).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerQueue {
    pub(crate) name: &'static str,
    /// Seconds per bucket.
    pub(crate) granularity: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    next: u64,
    queued: u64,
    position: u64,
}

impl TimerQueue {
    fn cursor_slot(self) -> Slot {
        Slot::named(self.name, b"cursor")
    }

    fn bucket(self, bucket: u64) -> WordList {
        WordList(Slot::named(self.name, &bucket.to_be_bytes()))
    }

    fn read_cursor(self, state: &mut ModuleState<'_>) -> Result<Cursor, ModuleError> {
        let mut f = state.sload(self.cursor_slot())?.unpack();
        Ok(Cursor {
            next: f.u64(),
            queued: f.u64(),
            position: f.u64(),
        })
    }

    fn write_cursor(self, state: &mut ModuleState<'_>, c: Cursor) -> Result<(), ModuleError> {
        state.sstore(
            self.cursor_slot(),
            Packer::new()
                .u64(c.next)
                .u64(c.queued)
                .u64(c.position)
                .word(),
        )
    }

    /// Schedules `entry` to fire after time `at`; `now` is the current block's timestamp.
    pub(crate) fn schedule(
        self,
        state: &mut ModuleState<'_>,
        at: u64,
        now: u64,
        entry: Word,
    ) -> Result<(), ModuleError> {
        let mut cursor = self.read_cursor(state)?;
        if cursor.queued == 0 {
            // Nothing is queued: every earlier bucket is empty, so processing may start here.
            cursor.next = now / self.granularity;
            cursor.position = 0;
        }
        self.bucket(at / self.granularity).push(state, entry)?;
        cursor.queued += 1;
        self.write_cursor(state, cursor)
    }

    /// Fires due entries in time order, at most `max_entries` of them, scanning at most
    /// `max_buckets` buckets, and stopping before the gas left could fall below `keep_gas`
    /// (each entry is allowed [`ENTRY_GAS`], each bucket scan [`BUCKET_GAS`]); what is left
    /// fires in the next block. `fire` gets each entry. `keep_gas` must cover the cursor's
    /// write ([`CURSOR_GAS`]), so the hook never runs out of gas whatever the queues hold.
    pub(crate) fn fire_due(
        self,
        state: &mut ModuleState<'_>,
        now: u64,
        max_buckets: u64,
        max_entries: u64,
        keep_gas: u64,
        mut fire: impl FnMut(&mut ModuleState<'_>, Word) -> Result<(), ModuleError>,
    ) -> Result<(), ModuleError> {
        let keep_gas = keep_gas.max(CURSOR_GAS);
        let mut cursor = self.read_cursor(state)?;
        if cursor.queued == 0 {
            return Ok(());
        }
        let before = cursor;
        let (mut buckets, mut fired) = (0u64, 0u64);
        // A bucket is due once the block's time is past its last second.
        while cursor.queued > 0
            && buckets < max_buckets
            && fired < max_entries
            && state.gas_left() >= keep_gas.saturating_add(BUCKET_GAS)
            && (cursor.next + 1).saturating_mul(self.granularity) <= now
        {
            let list = self.bucket(cursor.next);
            let len = list.len(state)?;
            while cursor.position < len
                && fired < max_entries
                && state.gas_left() >= keep_gas.saturating_add(ENTRY_GAS)
            {
                let entry = list.get(state, cursor.position)?;
                fire(state, entry)?;
                list.set(state, cursor.position, Word::ZERO)?;
                cursor.position += 1;
                cursor.queued = cursor.queued.saturating_sub(1);
                fired += 1;
            }
            if cursor.position < len {
                break;
            }
            if len > 0 {
                // Its elements were cleared as they fired.
                state.sstore(list.0, Word::ZERO)?;
            }
            cursor.next += 1;
            cursor.position = 0;
            buckets += 1;
        }
        if (cursor.next, cursor.queued, cursor.position)
            != (before.next, before.queued, before.position)
        {
            self.write_cursor(state, cursor)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use banyan_module_api::{MemoryBackend, ModuleRegistry};

    /// A queue with more due work than the gas allows fires what fits, never runs out of gas,
    /// and finishes in later calls (without the gas check the first call fails out of gas).
    #[test]
    fn firing_stops_before_the_gas_runs_out_and_resumes() {
        let registry = ModuleRegistry::new();
        let mut backend = MemoryBackend::default();
        let queue = TimerQueue {
            name: "test.timers",
            granularity: 1,
        };
        let address = Address::repeat_byte(0x42);
        {
            let mut state = ModuleState::new(&mut backend, &registry, address, false, u64::MAX);
            for i in 0..100 {
                queue
                    .schedule(&mut state, 10 + i % 3, 5, Word::from_u64(i))
                    .unwrap();
            }
        }
        let mut fired = Vec::new();
        let mut calls = 0;
        while fired.len() < 100 {
            calls += 1;
            assert!(calls < 20, "no progress");
            let mut state = ModuleState::new(&mut backend, &registry, address, false, 2_000_000);
            queue
                .fire_due(&mut state, 100, 1_024, 256, 0, |state, entry| {
                    state.charge(60_000)?;
                    fired.push(entry.as_u64());
                    Ok(())
                })
                .expect("stops before running out of gas");
        }
        assert!(calls > 1, "the work did not fit one call's gas");
        let mut sorted = fired.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 100, "each entry fired exactly once");
    }
}
