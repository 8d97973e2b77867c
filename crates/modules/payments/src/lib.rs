//! `banyan-module-payments`: multi-currency deposit tokens, a stateful native module at
//! [`PAYMENTS_ADDRESS`] with the Solidity interface `contracts/interfaces/IPayments.sol`; each
//! currency also answers `contracts/interfaces/IDepositToken.sol` (ERC-20) at its own address
//! in [`TOKEN_RANGE`].
//!
//! - Issuers (Governance's `issuer` role) register currencies, mint and burn them; one decimals
//!   value per currency, reported the same by both interfaces.
//! - Every movement of money goes through one ledger (`ledger::Ledger`), which checks the freeze and the
//!   compliance hook for the real payer and payee (`ledger::policy`, also the pool's screen)
//!   and asserts at the end of each operation that balances changed by exactly the supply's
//!   change: by induction from an empty genesis, the sum of balances (holds included) equals the
//!   supply after every block. A violation is a [`ModuleError::Invariant`], which stops the node.
//! - Payments carry remittance information (140 characters), an end-to-end id (35) and an
//!   optional idempotency key, retained [`KEY_RETENTION_SECONDS`]; batches pay every leg or none;
//!   holds reserve money for a payee, who captures all or part of it or voids it, and a hold with
//!   a timeout voids itself at the end of the first block past its deadline; cross-currency
//!   payments pay a liquidity provider in one currency and the payee in another at the posted
//!   rate, both legs or neither.
//!
//! The state layout is in `docs/modules/payments.md`.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod gas_fee;
mod layout;
mod ledger;

pub use gas_fee::fee_for_gas;

use alloy_primitives::{Address, B256, Bytes, U256, U512, address, keccak256};
use alloy_sol_types::{SolCall, SolInterface};
use banyan_module_api::{
    AddressRange, GasQuote, GasStep, GasTx, ModuleCallContext, ModuleError, ModuleState,
    NativeModule, Role, ScreenedTx, ViewAnswer, ViewKind, ViewQuery, bad_call,
    decode_revert_reason, failure_reason, gas,
    slots::{Slot, Word},
};
use layout::{CurrencyRecord, HoldRecord, KeyFields, RateRecord, TimerQueue};
use ledger::{Ledger, Path, fee_bps, fee_of, policy};

/// The Solidity interfaces, generated from `contracts/interfaces/`. (The events of a payment
/// carry more fields than clippy's argument limit.)
#[allow(missing_docs, clippy::too_many_arguments)]
mod abi {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        "../../../contracts/interfaces/IPayments.sol"
    );
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        "../../../contracts/interfaces/IDepositToken.sol"
    );
}
use IDepositToken::IDepositTokenCalls as TokenCall;
use IPayments::IPaymentsCalls as Call;
pub use abi::{IDepositToken, IPayments};

/// Where Payments lives on every chain that enables it.
pub const PAYMENTS_ADDRESS: Address = address!("0000000000000000000000000000000000001004");
/// The currencies' token addresses: `0xba11` followed by zeros and the currency's number
/// (from 1) in the last four bytes.
pub const TOKEN_RANGE: AddressRange = AddressRange {
    prefix: [0xba, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
};
/// The version of the module's rules and state layout.
pub const VERSION: u32 = 1;
/// Currencies one chain may register.
pub const MAX_CURRENCIES: u32 = 256;
/// Legs of one batch payment.
pub const MAX_LEGS: usize = 64;
/// Characters of remittance information (ISO 20022 `Max140Text`).
pub const MAX_REMITTANCE_CHARS: usize = 140;
/// Characters of an end-to-end id (ISO 20022 `Max35Text`).
pub const MAX_END_TO_END_CHARS: usize = 35;
/// Bytes of a currency's name.
pub const MAX_NAME_BYTES: usize = 64;
/// How long an idempotency key is kept after its payment: one day. Within it, the same payment
/// with the same key executes once; after it the key is forgotten and may be used again.
pub const KEY_RETENTION_SECONDS: u64 = 86_400;
/// The longest timeout of a hold: 31 days.
pub const MAX_HOLD_TIMEOUT_SECONDS: u64 = 31 * 86_400;
/// The longest validity of a posted rate: one day.
pub const MAX_RATE_VALIDITY_SECONDS: u64 = 86_400;
/// The highest spread a liquidity provider may keep: 10 %.
pub const MAX_SPREAD_BPS: u16 = 1_000;
/// Holds (and, separately, idempotency keys) expired per block at most; the rest expire in the
/// next blocks.
pub const EXPIRIES_PER_BLOCK: u64 = 256;
/// Seconds (hold timers) or minutes (key timers) scanned per block at most.
pub const BUCKETS_PER_BLOCK: u64 = 1_024;
/// Bytes of a stored failure reason.
pub const MAX_REASON_BYTES: usize = 256;

/// Governance's `PaymentFeeBps` parameter.
pub(crate) const PAYMENT_FEE_PARAMETER: u8 = 5;

const HOLD_TIMERS: TimerQueue = TimerQueue {
    name: "payments.hold-timers",
    granularity: 1,
};
const KEY_TIMERS: TimerQueue = TimerQueue {
    name: "payments.key-timers",
    granularity: 60,
};

mod hold_status {
    pub(crate) const PENDING: u8 = 1;
    pub(crate) const CAPTURED: u8 = 2;
    pub(crate) const VOIDED: u8 = 3;
    pub(crate) const EXPIRED: u8 = 4;
}

mod outcome {
    pub(crate) const EXECUTED: u8 = 1;
    pub(crate) const FAILED: u8 = 2;
}

/// The token address of currency number `index` (from 1).
pub fn token_address(index: u32) -> Address {
    TOKEN_RANGE.address(index)
}

/// The Payments module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Payments;

impl NativeModule for Payments {
    fn address(&self) -> Address {
        PAYMENTS_ADDRESS
    }

    fn name(&self) -> &'static str {
        "payments"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn address_range(&self) -> Option<AddressRange> {
        Some(TOKEN_RANGE)
    }

    fn runs_at_block_end(&self) -> bool {
        true
    }

    fn screens_transactions(&self) -> bool {
        true
    }

    fn views(&self) -> &'static [ViewKind] {
        &[ViewKind::Currency]
    }

    fn answer(
        &self,
        query: &ViewQuery,
        state: &mut ModuleState<'_>,
    ) -> Result<ViewAnswer, ModuleError> {
        match query {
            ViewQuery::Currency { token } => {
                let found = match TOKEN_RANGE.index(token) {
                    Some(index) if index > 0 => layout::read_currency(state, index, *token)?,
                    _ => None,
                };
                Ok(ViewAnswer::Currency(match found {
                    Some(c) => Some(currency_code(state, &c)?),
                    None => None,
                }))
            }
            other => Err(revert(format!("does not answer {:?}", other.kind()))),
        }
    }

    fn pays_gas(&self) -> bool {
        true
    }

    fn quote_gas(
        &self,
        tx: &GasTx<'_>,
        state: &mut ModuleState<'_>,
    ) -> Result<Option<GasQuote>, ModuleError> {
        gas_fee::quote(tx, state)
    }

    fn charge_gas(
        &self,
        ctx: &ModuleCallContext,
        step: &GasStep,
        state: &mut ModuleState<'_>,
    ) -> Result<(), ModuleError> {
        gas_fee::charge(ctx, step, state)
    }

    fn call(
        &self,
        ctx: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        state.charge(gas::call_cost(input.len()))?;
        if ctx.address == PAYMENTS_ADDRESS {
            module_call(ctx, input, state)
        } else {
            token_call(ctx, input, state)
        }
    }

    fn screen(&self, tx: &ScreenedTx<'_>, state: &mut ModuleState<'_>) -> Result<(), ModuleError> {
        let Some(to) = tx.to else {
            return Ok(());
        };
        for (payer, payee, token, amount, path) in movements(tx.sender, to, tx.input, state)? {
            policy(state, tx.timestamp, payer, payee, token, amount, path)?;
        }
        Ok(())
    }

    fn end_block(
        &self,
        ctx: &ModuleCallContext,
        state: &mut ModuleState<'_>,
    ) -> Result<(), ModuleError> {
        let now = ctx.timestamp;
        // Holds may use the hook's gas down to half of it, keys the rest: neither queue starves
        // the other, and the hook stops (carrying work to the next block) before it could run
        // out of gas, whatever the queues hold.
        let half = state.gas_left() / 2;
        HOLD_TIMERS.fire_due(
            state,
            now,
            BUCKETS_PER_BLOCK,
            EXPIRIES_PER_BLOCK,
            half,
            |state, entry| expire_hold(ctx, state, entry.as_u64()),
        )?;
        KEY_TIMERS.fire_due(
            state,
            now,
            BUCKETS_PER_BLOCK,
            EXPIRIES_PER_BLOCK,
            0,
            |state, entry| {
                let base = Slot(entry.0);
                match layout::read_key(state, base)? {
                    Some(k) if k.expires_at < now => layout::clear_key(state, base),
                    // Used again after it expired: the new record has its own timer.
                    _ => Ok(()),
                }
            },
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Checks shared by every path.

fn revert(message: impl AsRef<str>) -> ModuleError {
    ModuleError::revert(format!("Payments: {}", message.as_ref()))
}

/// The currency at `token`, or a revert naming the address.
fn currency_at(state: &mut ModuleState<'_>, token: Address) -> Result<CurrencyRecord, ModuleError> {
    let found = match TOKEN_RANGE.index(&token) {
        Some(index) if index > 0 => layout::read_currency(state, index, token)?,
        _ => None,
    };
    found.ok_or_else(|| {
        revert(format!(
            "{token} is not a registered currency; list them with banyan currency list"
        ))
    })
}

/// A U256 amount as the module keeps it (below 2^128), positive.
fn amount_of(value: U256, what: &str) -> Result<u128, ModuleError> {
    if value.is_zero() {
        return Err(revert(format!("the {what} must be positive")));
    }
    u128::try_from(value).map_err(|_| revert(format!("the {what} {value} is above 2^128 - 1")))
}

/// Refuses a payee money would be lost at: the zero address, or a module's own account.
fn check_payee(state: &ModuleState<'_>, to: Address) -> Result<(), ModuleError> {
    if to == Address::ZERO {
        return Err(revert(
            "cannot pay the zero address; an issuer takes money out of circulation with burn",
        ));
    }
    if state.is_module(to) {
        return Err(revert(format!(
            "cannot pay {to}: it is a native module or a currency's token address, where money \
             would be stuck"
        )));
    }
    Ok(())
}

/// Refuses a text longer than `max` characters, or with control characters.
fn check_text(field: &str, text: &str, max: usize) -> Result<(), ModuleError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(revert(format!(
            "the {field} is {chars} characters, above the {max} allowed"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(revert(format!("the {field} contains a control character")));
    }
    Ok(())
}

fn require_role(
    state: &mut ModuleState<'_>,
    account: Address,
    role: Role,
    doing: &str,
) -> Result<(), ModuleError> {
    let holds = matches!(
        state.ask(&ViewQuery::HasRole { account, role }),
        Ok(ViewAnswer::HasRole(true))
    );
    if holds {
        Ok(())
    } else {
        Err(revert(format!(
            "{account} does not hold the {} role, so it cannot {doing}; the committee grants it: \
             banyan gov propose grant-role {account} {}",
            role.name(),
            role.name()
        )))
    }
}

/// The issuer sets the credential its currency requires of both sides of every movement.
fn set_kyc_requirement(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    token: Address,
    schema: B256,
) -> Result<(), ModuleError> {
    let c = currency_at(state, token)?;
    require_issuer(&c, ctx.caller, "set its KYC requirement")?;
    let slot = layout::kyc_slot(token);
    if state.sload_b256(slot)? == schema {
        return Err(revert(format!(
            "currency {token} already requires schema {schema}"
        )));
    }
    if schema != B256::ZERO && !state.answers(ViewKind::Credential) {
        return Err(revert(
            "this chain runs no Identity module, so no credential can be required",
        ));
    }
    state.sstore(slot, Word::from(schema))?;
    state.emit(&IPayments::KycRequirementSet {
        token,
        schemaId: schema,
    })
}

fn require_issuer(c: &CurrencyRecord, caller: Address, doing: &str) -> Result<(), ModuleError> {
    if caller == c.issuer {
        Ok(())
    } else {
        Err(revert(format!(
            "only currency {}'s issuer {} may {doing}, not {caller}",
            c.token, c.issuer
        )))
    }
}

fn next_id(state: &mut ModuleState<'_>, slot: Slot) -> Result<u64, ModuleError> {
    let id = state.sload(slot)?.as_u64() + 1;
    state.sstore(slot, Word::from_u64(id))?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Payments.

/// The texts and key every payment carries.
#[derive(Clone, Copy, Debug)]
struct Memo<'a> {
    end_to_end_id: &'a str,
    remittance: &'a str,
    key: B256,
}

impl Memo<'_> {
    const NONE: Memo<'static> = Memo {
        end_to_end_id: "",
        remittance: "",
        key: B256::ZERO,
    };

    /// The memo of a call, refused when a text is over its bound.
    fn checked<'a>(
        end_to_end_id: &'a str,
        remittance: &'a str,
        key: B256,
    ) -> Result<Memo<'a>, ModuleError> {
        check_text("end-to-end id", end_to_end_id, MAX_END_TO_END_CHARS)?;
        check_text("remittance information", remittance, MAX_REMITTANCE_CHARS)?;
        Ok(Memo {
            end_to_end_id,
            remittance,
            key,
        })
    }
}

/// Pays `amount` from `from` to `to` plus the chain's fee at `bps` to the fee account; returns
/// the payment's id.
#[allow(clippy::too_many_arguments)]
fn pay_one(
    state: &mut ModuleState<'_>,
    ledger: &mut Ledger,
    c: &CurrencyRecord,
    from: Address,
    to: Address,
    amount: u128,
    bps: u16,
    path: Path,
    memo: &Memo<'_>,
) -> Result<u64, ModuleError> {
    check_payee(state, to)?;
    ledger.transfer(state, c, from, to, amount, path)?;
    let fee = fee_of(amount, bps);
    if fee > 0 {
        ledger.move_funds(state, c, from, c.fee_account, fee)?;
    }
    let id = next_id(state, layout::payments_slot())?;
    state.emit(&IPayments::Payment {
        id,
        token: c.token,
        from,
        to,
        amount: U256::from(amount),
        fee: U256::from(fee),
        endToEndId: memo.end_to_end_id.to_string(),
        remittance: memo.remittance.to_string(),
        key: memo.key,
    })?;
    Ok(id)
}

/// Runs a payment under its idempotency key (none when `key` is zero: then `run`'s errors
/// revert as usual). With a key: a live record of the same payment (same call data) returns its
/// result without running anything; of another payment, reverts; otherwise `run` executes
/// atomically and its result, success or failure, is recorded for [`KEY_RETENTION_SECONDS`].
fn keyed(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    key: B256,
    input: &[u8],
    run: impl FnOnce(&mut ModuleState<'_>) -> Result<u64, ModuleError>,
) -> Result<u64, ModuleError> {
    if key.is_zero() {
        return run(state);
    }
    let payer = ctx.caller;
    let base = layout::key_slot(payer, key);
    state.charge(gas::HASH_WORD.saturating_mul(input.len().div_ceil(32) as u64))?;
    let fingerprint = keccak256(input);
    if let Some(k) = layout::read_key(state, base)?
        && ctx.timestamp <= k.expires_at
    {
        if k.fingerprint != fingerprint {
            return Err(revert(format!(
                "idempotency key {key} of {payer} was already used for a different payment \
                 (recorded in block {}, kept until time {}); a retry must repeat the same payment \
                 exactly, and a new payment needs a new key",
                k.block_number, k.expires_at
            )));
        }
        state.emit(&IPayments::PaymentReplayed {
            payer,
            key,
            outcome: IPayments::Outcome::try_from(k.outcome).unwrap_or(IPayments::Outcome::None),
            payment: k.payment,
        })?;
        return Ok(k.payment);
    }
    let (outcome, payment, reason) = match state.atomically(run) {
        Ok(id) => (outcome::EXECUTED, id, None),
        Err(ModuleError::Revert(data)) => (
            outcome::FAILED,
            0,
            Some(failure_reason(&data, MAX_REASON_BYTES)),
        ),
        Err(other) => return Err(other),
    };
    let expires_at = ctx.timestamp.saturating_add(KEY_RETENTION_SECONDS);
    layout::write_key(
        state,
        base,
        &KeyFields {
            fingerprint,
            outcome,
            payment,
            block_number: ctx.block_number,
            expires_at,
        },
    )?;
    state.store_bytes(base.offset(2), reason.as_deref().unwrap_or("").as_bytes())?;
    KEY_TIMERS.schedule(state, expires_at, ctx.timestamp, Word(base.0))?;
    if let Some(reason) = reason {
        state.emit(&IPayments::PaymentFailed { payer, key, reason })?;
    }
    Ok(payment)
}

fn pay(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    input: &[u8],
    call: &IPayments::payCall,
) -> Result<u64, ModuleError> {
    let memo = Memo::checked(&call.endToEndId, &call.remittance, call.key)?;
    let amount = amount_of(call.amount, "amount")?;
    // Malformed payments revert before the key is looked at: only a business failure is
    // recorded under it.
    let c = currency_at(state, call.token)?;
    check_payee(state, call.to)?;
    keyed(ctx, state, call.key, input, |state| {
        let bps = fee_bps(state)?;
        let mut ledger = Ledger::at(ctx.timestamp);
        let id = pay_one(
            state,
            &mut ledger,
            &c,
            ctx.caller,
            call.to,
            amount,
            bps,
            Path::Pay,
            &memo,
        )?;
        ledger.settle(ctx.block_number)?;
        Ok(id)
    })
}

fn pay_batch(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    input: &[u8],
    call: &IPayments::payBatchCall,
) -> Result<u64, ModuleError> {
    let memo = Memo::checked(&call.endToEndId, &call.remittance, call.key)?;
    if call.legs.is_empty() || call.legs.len() > MAX_LEGS {
        return Err(revert(format!(
            "a batch has 1 to {MAX_LEGS} legs, got {}",
            call.legs.len()
        )));
    }
    let amounts = call
        .legs
        .iter()
        .enumerate()
        .map(|(i, leg)| amount_of(leg.amount, &format!("amount of leg {}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    // Malformed legs revert before the key is looked at.
    let mut currencies: Vec<CurrencyRecord> = Vec::new();
    let mut leg_currency = Vec::with_capacity(call.legs.len());
    for (i, leg) in call.legs.iter().enumerate() {
        let c = match currencies.iter().find(|c| c.token == leg.token) {
            Some(c) => *c,
            None => {
                let c = currency_at(state, leg.token).map_err(|e| leg_error(e, i + 1))?;
                currencies.push(c);
                c
            }
        };
        check_payee(state, leg.to).map_err(|e| leg_error(e, i + 1))?;
        leg_currency.push(c);
    }
    keyed(ctx, state, call.key, input, |state| {
        let bps = fee_bps(state)?;
        let mut ledger = Ledger::at(ctx.timestamp);
        let mut first = 0;
        for (i, ((leg, amount), c)) in call.legs.iter().zip(amounts).zip(leg_currency).enumerate() {
            let id = pay_one(
                state,
                &mut ledger,
                &c,
                ctx.caller,
                leg.to,
                amount,
                bps,
                Path::Batch,
                &memo,
            )
            .map_err(|error| leg_error(error, i + 1))?;
            if i == 0 {
                first = id;
            }
        }
        ledger.settle(ctx.block_number)?;
        Ok(first)
    })
}

/// Names the leg a batch failed at.
fn leg_error(error: ModuleError, leg: usize) -> ModuleError {
    match error {
        ModuleError::Revert(data) => match decode_revert_reason(&data) {
            Some(reason) => ModuleError::revert(format!(
                "{} (leg {leg}; no leg of the batch was paid)",
                reason
            )),
            None => ModuleError::Revert(data),
        },
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Holds.

fn place_hold(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IPayments::placeHoldCall,
) -> Result<u64, ModuleError> {
    check_text(
        "remittance information",
        &call.remittance,
        MAX_REMITTANCE_CHARS,
    )?;
    let amount = amount_of(call.amount, "amount")?;
    if call.timeoutSeconds > MAX_HOLD_TIMEOUT_SECONDS {
        return Err(revert(format!(
            "a hold's timeout is at most {MAX_HOLD_TIMEOUT_SECONDS} seconds (31 days), got {}",
            call.timeoutSeconds
        )));
    }
    let c = currency_at(state, call.token)?;
    check_payee(state, call.payee)?;
    if call.payee == ctx.caller {
        return Err(revert(
            "a hold's payee must be another account than its payer",
        ));
    }
    policy(
        state,
        ctx.timestamp,
        Some(ctx.caller),
        Some(call.payee),
        c.token,
        amount,
        Path::Hold,
    )?;
    let bps = fee_bps(state)?;
    let fee = fee_of(amount, bps);
    let need = amount
        .checked_add(fee)
        .ok_or_else(|| revert("the amount and its fee overflow"))?;
    let mut b = layout::read_balance(state, c.index, ctx.caller)?;
    if b.available() < need {
        return Err(revert(format!(
            "{} has {} of currency {} available ({} balance, {} on hold), less than the {need} \
             this hold reserves (amount {amount} and fee {fee})",
            ctx.caller,
            b.available(),
            c.token,
            b.balance,
            b.held
        )));
    }
    b.held += need;
    layout::write_balance(state, c.index, ctx.caller, b)?;
    let id = next_id(state, layout::holds_slot())?;
    let deadline = if call.timeoutSeconds == 0 {
        0
    } else {
        ctx.timestamp.saturating_add(call.timeoutSeconds)
    };
    layout::write_hold(
        state,
        id,
        &HoldRecord {
            payer: ctx.caller,
            status: hold_status::PENDING,
            currency: c.index,
            fee_bps: bps,
            payee: call.payee,
            deadline,
            amount,
            captured: 0,
            created_at: ctx.block_number,
            closed_at: 0,
            fee_reserved: fee,
        },
    )?;
    if deadline > 0 {
        HOLD_TIMERS.schedule(state, deadline, ctx.timestamp, Word::from_u64(id))?;
    }
    state.emit(&IPayments::HoldPlaced {
        id,
        token: c.token,
        payer: ctx.caller,
        payee: call.payee,
        amount: U256::from(amount),
        deadline,
        remittance: call.remittance.clone(),
    })?;
    Ok(id)
}

/// The pending hold `id` the caller (its payee) may close.
fn pending_hold(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
    doing: &str,
) -> Result<HoldRecord, ModuleError> {
    let Some(h) = layout::read_hold(state, id)? else {
        let count = state.sload(layout::holds_slot())?.as_u64();
        return Err(revert(format!(
            "there is no hold {id}; ids run from 1 to {count}"
        )));
    };
    if h.payee != ctx.caller {
        return Err(revert(format!(
            "only hold {id}'s payee {} may {doing} it, not {}",
            h.payee, ctx.caller
        )));
    }
    if h.status != hold_status::PENDING {
        return Err(revert(format!(
            "hold {id} is closed: {} at block {}",
            hold_status_name(h.status),
            h.closed_at
        )));
    }
    if h.deadline > 0 && ctx.timestamp > h.deadline {
        return Err(revert(format!(
            "hold {id} expired at time {}; it is being released to its payer",
            h.deadline
        )));
    }
    Ok(h)
}

fn hold_status_name(status: u8) -> &'static str {
    match status {
        hold_status::PENDING => "Pending",
        hold_status::CAPTURED => "Captured",
        hold_status::VOIDED => "Voided",
        hold_status::EXPIRED => "Expired",
        _ => "None",
    }
}

/// Takes a hold's reservation off its payer's balance.
fn release(state: &mut ModuleState<'_>, h: &HoldRecord) -> Result<u128, ModuleError> {
    let reserved = h.amount + h.fee_reserved;
    let mut b = layout::read_balance(state, h.currency, h.payer)?;
    b.held = b.held.checked_sub(reserved).ok_or_else(|| {
        ModuleError::Invariant(format!(
            "releasing a hold of {reserved} from {} which has only {} on hold",
            h.payer, b.held
        ))
    })?;
    layout::write_balance(state, h.currency, h.payer, b)?;
    Ok(reserved)
}

fn capture_hold(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IPayments::captureHoldCall,
) -> Result<u64, ModuleError> {
    let mut h = pending_hold(ctx, state, call.id, "capture")?;
    let amount = amount_of(call.amount, "captured amount")?;
    if amount > h.amount {
        return Err(revert(format!(
            "hold {} is of {}; {amount} cannot be captured from it",
            call.id, h.amount
        )));
    }
    let token = token_address(h.currency);
    let c = currency_at(state, token)?;
    release(state, &h)?;
    let mut ledger = Ledger::at(ctx.timestamp);
    let payment = pay_one(
        state,
        &mut ledger,
        &c,
        h.payer,
        h.payee,
        amount,
        h.fee_bps,
        Path::Capture,
        &Memo::NONE,
    )?;
    ledger.settle(ctx.block_number)?;
    h.status = hold_status::CAPTURED;
    h.captured = amount;
    h.closed_at = ctx.block_number;
    layout::write_hold(state, call.id, &h)?;
    state.emit(&IPayments::HoldCaptured {
        id: call.id,
        amount: U256::from(amount),
        released: U256::from(h.amount - amount),
        payment,
    })?;
    Ok(payment)
}

fn void_hold(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
) -> Result<(), ModuleError> {
    let mut h = pending_hold(ctx, state, id, "void")?;
    release(state, &h)?;
    h.status = hold_status::VOIDED;
    h.closed_at = ctx.block_number;
    layout::write_hold(state, id, &h)?;
    state.emit(&IPayments::HoldVoided {
        id,
        released: U256::from(h.amount),
        expired: false,
    })
}

/// Expires hold `id` if it is still pending past its deadline (its timer fired).
fn expire_hold(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
) -> Result<(), ModuleError> {
    let Some(mut h) = layout::read_hold(state, id)? else {
        return Err(ModuleError::Invariant(format!(
            "the timer of hold {id} fired, but there is no such hold"
        )));
    };
    if h.status != hold_status::PENDING || h.deadline == 0 || h.deadline >= ctx.timestamp {
        return Ok(());
    }
    release(state, &h)?;
    h.status = hold_status::EXPIRED;
    h.closed_at = ctx.block_number;
    layout::write_hold(state, id, &h)?;
    state.emit(&IPayments::HoldVoided {
        id,
        released: U256::from(h.amount),
        expired: true,
    })
}

// ---------------------------------------------------------------------------------------------
// Cross-currency payments.

/// `amount` minor units of a currency with `from_decimals` in one with `to_decimals` at `rate`
/// (whole units of the second per whole unit of the first, times 10^18), rounded down.
pub fn convert(amount: u128, rate: u128, from_decimals: u8, to_decimals: u8) -> Option<u128> {
    let ten = U512::from(10u64);
    let numerator = U512::from(amount) * U512::from(rate) * ten.pow(U512::from(to_decimals));
    let denominator = ten.pow(U512::from(u64::from(from_decimals) + 18));
    u128::try_from(numerator / denominator).ok()
}

fn post_rate(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IPayments::postRateCall,
) -> Result<(), ModuleError> {
    require_role(state, ctx.caller, Role::RateProvider, "post rates")?;
    let base = currency_at(state, call.base)?;
    let quote = currency_at(state, call.quote)?;
    if base.index == quote.index {
        return Err(revert("a rate converts between two different currencies"));
    }
    let rate = amount_of(call.rate, "rate")?;
    if call.validFrom > call.validUntil
        || call.validUntil - call.validFrom > MAX_RATE_VALIDITY_SECONDS
    {
        return Err(revert(format!(
            "a rate is valid for 0 to {MAX_RATE_VALIDITY_SECONDS} seconds, from validFrom to \
             validUntil; got {} to {}",
            call.validFrom, call.validUntil
        )));
    }
    if call.validUntil < ctx.timestamp {
        return Err(revert(format!(
            "the rate would be valid until {}, before this block's time {}",
            call.validUntil, ctx.timestamp
        )));
    }
    layout::write_rate(
        state,
        base.index,
        quote.index,
        &RateRecord {
            rate,
            valid_from: call.validFrom,
            valid_until: call.validUntil,
            provider: ctx.caller,
        },
    )?;
    state.emit(&IPayments::RatePosted {
        base: call.base,
        quote: call.quote,
        provider: ctx.caller,
        rate: call.rate,
        validFrom: call.validFrom,
        validUntil: call.validUntil,
    })
}

fn offer_liquidity(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IPayments::offerLiquidityCall,
) -> Result<(), ModuleError> {
    let base = currency_at(state, call.base)?;
    let quote = currency_at(state, call.quote)?;
    if base.index == quote.index {
        return Err(revert(
            "liquidity converts between two different currencies",
        ));
    }
    if call.spreadBps > MAX_SPREAD_BPS {
        return Err(revert(format!(
            "the spread is at most {MAX_SPREAD_BPS} basis points, got {}",
            call.spreadBps
        )));
    }
    let word = banyan_module_api::slots::Packer::new()
        .u8(u8::from(call.enabled))
        .u16(call.spreadBps)
        .word();
    state.sstore(
        layout::liquidity_slot(ctx.caller, base.index, quote.index),
        word,
    )?;
    state.emit(&IPayments::LiquidityOffered {
        provider: ctx.caller,
        base: call.base,
        quote: call.quote,
        spreadBps: call.spreadBps,
        enabled: call.enabled,
    })
}

fn read_liquidity(
    state: &mut ModuleState<'_>,
    provider: Address,
    base: u32,
    quote: u32,
) -> Result<(bool, u16), ModuleError> {
    let mut f = state
        .sload(layout::liquidity_slot(provider, base, quote))?
        .unpack();
    Ok((f.u8() != 0, f.u16()))
}

fn pay_fx(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    input: &[u8],
    call: &IPayments::payFxCall,
) -> Result<u64, ModuleError> {
    let memo = Memo::checked(&call.endToEndId, &call.remittance, call.key)?;
    let amount_in = amount_of(call.amountIn, "amount paid")?;
    let min_out = u128::try_from(call.minAmountOut)
        .map_err(|_| revert("the minimum amount received is above 2^128 - 1"))?;
    // Malformed payments revert before the key is looked at.
    let a = currency_at(state, call.payToken)?;
    let b = currency_at(state, call.receiveToken)?;
    if a.index == b.index {
        return Err(revert(
            "a cross-currency payment pays and receives two different currencies; use pay",
        ));
    }
    check_payee(state, call.to)?;
    keyed(ctx, state, call.key, input, |state| {
        let rate = layout::read_rate(state, a.index, b.index)?;
        if rate.rate == 0 {
            return Err(revert(format!(
                "no rate of {} in {} has been posted",
                a.token, b.token
            )));
        }
        if ctx.timestamp < rate.valid_from || ctx.timestamp > rate.valid_until {
            return Err(revert(format!(
                "the rate of {} in {} is stale: valid from {} to {}, and this block's time is {}",
                a.token, b.token, rate.valid_from, rate.valid_until, ctx.timestamp
            )));
        }
        let (enabled, spread_bps) = read_liquidity(state, call.provider, a.index, b.index)?;
        if !enabled {
            return Err(revert(format!(
                "{} offers no liquidity from {} to {}",
                call.provider, a.token, b.token
            )));
        }
        let gross = convert(amount_in, rate.rate, a.decimals, b.decimals)
            .ok_or_else(|| revert("the converted amount is above 2^128 - 1"))?;
        let spread = fee_of(gross, spread_bps);
        let out = gross - spread;
        if out == 0 {
            return Err(revert(format!(
                "{amount_in} converts to nothing at this rate"
            )));
        }
        if out < min_out {
            return Err(revert(format!(
                "slippage: the payee would receive {out}, below the minimum {min_out} (rate {}, \
                 spread {spread_bps} basis points)",
                rate.rate
            )));
        }
        let available = layout::read_balance(state, b.index, call.provider)?.available();
        if available < out {
            return Err(revert(format!(
                "no liquidity: provider {} has {available} of {} available, less than the {out} \
                 this payment needs",
                call.provider, b.token
            )));
        }
        let bps = fee_bps(state)?;
        let mut ledger = Ledger::at(ctx.timestamp);
        let id = pay_one(
            state,
            &mut ledger,
            &a,
            ctx.caller,
            call.provider,
            amount_in,
            bps,
            Path::Fx,
            &memo,
        )?;
        ledger.transfer(state, &b, call.provider, call.to, out, Path::Fx)?;
        state.emit(&IPayments::Payment {
            id,
            token: b.token,
            from: call.provider,
            to: call.to,
            amount: U256::from(out),
            fee: U256::ZERO,
            endToEndId: memo.end_to_end_id.to_string(),
            remittance: memo.remittance.to_string(),
            key: memo.key,
        })?;
        state.emit(&IPayments::FxSettled {
            id,
            payer: ctx.caller,
            provider: call.provider,
            payee: call.to,
            payToken: a.token,
            amountIn: U256::from(amount_in),
            receiveToken: b.token,
            amountOut: U256::from(out),
            rate: U256::from(rate.rate),
            spread: U256::from(spread),
        })?;
        ledger.settle(ctx.block_number)?;
        Ok(id)
    })
}

// ---------------------------------------------------------------------------------------------
// Currencies.

/// ISO 4217 codes and chain-local ones: 2 to 12 of A-Z, 0-9, '-' and '.'.
fn check_code(code: &str) -> Result<(), ModuleError> {
    let ok = (2..=12).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(revert(format!(
            "currency code {code:?} must be 2 to 12 characters of A-Z, 0-9, '-' and '.' (an ISO \
             4217 code such as USD, or a chain-local one)"
        )))
    }
}

fn register_currency(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IPayments::registerCurrencyCall,
) -> Result<Address, ModuleError> {
    require_role(state, ctx.caller, Role::Issuer, "register a currency")?;
    check_code(&call.code)?;
    if call.name.len() > MAX_NAME_BYTES || call.name.chars().any(char::is_control) {
        return Err(revert(format!(
            "a currency's name is at most {MAX_NAME_BYTES} bytes without control characters"
        )));
    }
    if call.decimals > 18 {
        return Err(revert(format!(
            "a currency has 0 to 18 decimals, got {}",
            call.decimals
        )));
    }
    let cap = u128::try_from(call.cap).map_err(|_| revert("the cap is above 2^128 - 1"))?;
    let existing = state.sload(layout::code_slot(&call.code))?.as_u64();
    if existing != 0 {
        return Err(revert(format!(
            "currency code {} is already registered, at {}",
            call.code,
            token_address(existing as u32)
        )));
    }
    let count = state.sload(layout::currencies_slot())?.as_u64() as u32;
    if count >= MAX_CURRENCIES {
        return Err(revert(format!(
            "this chain has the {MAX_CURRENCIES} currencies it may register"
        )));
    }
    let index = count + 1;
    let token = token_address(index);
    state.sstore(layout::currencies_slot(), Word::from_u64(u64::from(index)))?;
    state.sstore(
        layout::code_slot(&call.code),
        Word::from_u64(u64::from(index)),
    )?;
    state.install_code(token)?;
    let c = CurrencyRecord {
        index,
        token,
        issuer: ctx.caller,
        decimals: call.decimals,
        supply: 0,
        cap,
        fee_account: ctx.caller,
    };
    layout::write_currency_head(state, &c)?;
    let base = layout::currency_slot(index);
    state.store_bytes(base.offset(3), call.code.as_bytes())?;
    state.store_bytes(base.offset(4), call.name.as_bytes())?;
    state.emit(&IPayments::CurrencyRegistered {
        token,
        code: call.code.clone(),
        decimals: call.decimals,
        issuer: ctx.caller,
        cap: call.cap,
    })?;
    Ok(token)
}

fn mint(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IPayments::mintCall,
) -> Result<(), ModuleError> {
    let mut c = currency_at(state, call.token)?;
    require_issuer(&c, ctx.caller, "mint it")?;
    let amount = amount_of(call.amount, "amount")?;
    check_payee(state, call.to)?;
    policy(
        state,
        ctx.timestamp,
        None,
        Some(call.to),
        c.token,
        amount,
        Path::Mint,
    )?;
    let supply = c
        .supply
        .checked_add(amount)
        .filter(|s| c.cap == 0 || *s <= c.cap)
        .ok_or_else(|| {
            revert(format!(
                "minting {amount} would bring currency {}'s supply from {} above its cap {}",
                c.token,
                c.supply,
                if c.cap == 0 { u128::MAX } else { c.cap }
            ))
        })?;
    let mut ledger = Ledger::at(ctx.timestamp);
    ledger.credit(state, &c, call.to, amount)?;
    ledger.minted(c.index, amount);
    c.supply = supply;
    layout::write_supply(state, &c)?;
    state.emit_from(
        c.token,
        &IDepositToken::Transfer {
            from: Address::ZERO,
            to: call.to,
            value: call.amount,
        },
    )?;
    state.emit(&IPayments::Minted {
        token: c.token,
        to: call.to,
        amount: call.amount,
    })?;
    ledger.settle(ctx.block_number)
}

fn burn(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IPayments::burnCall,
) -> Result<(), ModuleError> {
    let mut c = currency_at(state, call.token)?;
    require_issuer(&c, ctx.caller, "burn it")?;
    let amount = amount_of(call.amount, "amount")?;
    if call.from != c.issuer {
        spend_allowance(state, &c, call.from, ctx.caller, amount)?;
    }
    policy(
        state,
        ctx.timestamp,
        Some(call.from),
        None,
        c.token,
        amount,
        Path::Burn,
    )?;
    let mut ledger = Ledger::at(ctx.timestamp);
    ledger.debit(state, &c, call.from, amount)?;
    ledger.burned(c.index, amount);
    c.supply = c.supply.checked_sub(amount).ok_or_else(|| {
        ModuleError::Invariant(format!(
            "burning {amount} of currency {} exceeds its supply {}",
            c.token, c.supply
        ))
    })?;
    layout::write_supply(state, &c)?;
    state.emit_from(
        c.token,
        &IDepositToken::Transfer {
            from: call.from,
            to: Address::ZERO,
            value: call.amount,
        },
    )?;
    state.emit(&IPayments::Burned {
        token: c.token,
        from: call.from,
        amount: call.amount,
    })?;
    ledger.settle(ctx.block_number)
}

/// Takes `amount` off what `owner` allowed `spender` (an unlimited allowance stays unlimited).
fn spend_allowance(
    state: &mut ModuleState<'_>,
    c: &CurrencyRecord,
    owner: Address,
    spender: Address,
    amount: u128,
) -> Result<(), ModuleError> {
    let allowed = layout::read_allowance(state, c.index, owner, spender)?;
    if allowed == U256::MAX {
        return Ok(());
    }
    if allowed < U256::from(amount) {
        return Err(revert(format!(
            "{owner} allowed {spender} {allowed} of currency {}, less than the {amount} this \
             needs (amount and fee); it raises the allowance with approve",
            c.token
        )));
    }
    layout::write_allowance(state, c.index, owner, spender, allowed - U256::from(amount))
}

/// A currency's code (`CNY`, `USD`, ...).
fn currency_code(state: &mut ModuleState<'_>, c: &CurrencyRecord) -> Result<String, ModuleError> {
    let base = layout::currency_slot(c.index);
    Ok(String::from_utf8_lossy(&state.load_bytes(base.offset(3), 12)?).into_owned())
}

fn currency_info(
    state: &mut ModuleState<'_>,
    c: &CurrencyRecord,
) -> Result<IPayments::Currency, ModuleError> {
    let base = layout::currency_slot(c.index);
    let code = currency_code(state, c)?;
    let name =
        String::from_utf8_lossy(&state.load_bytes(base.offset(4), MAX_NAME_BYTES)?).into_owned();
    Ok(IPayments::Currency {
        token: c.token,
        code,
        name,
        decimals: c.decimals,
        issuer: c.issuer,
        supply: U256::from(c.supply),
        cap: U256::from(c.cap),
        feeAccount: c.fee_account,
    })
}

// ---------------------------------------------------------------------------------------------
// Dispatch.

fn module_call(
    ctx: &ModuleCallContext,
    input: &[u8],
    state: &mut ModuleState<'_>,
) -> Result<Bytes, ModuleError> {
    let call = Call::abi_decode(input)
        .map_err(|error| bad_call("Payments", "IPayments.sol", Call::SELECTORS, input, &error))?;
    let output = match call {
        Call::registerCurrency(call) => {
            let token = register_currency(ctx, state, &call)?;
            IPayments::registerCurrencyCall::abi_encode_returns(&token)
        }
        Call::mint(call) => {
            mint(ctx, state, &call)?;
            Vec::new()
        }
        Call::burn(call) => {
            burn(ctx, state, &call)?;
            Vec::new()
        }
        Call::setFeeAccount(call) => {
            let c = currency_at(state, call.token)?;
            require_issuer(&c, ctx.caller, "set its fee account")?;
            check_payee(state, call.account)?;
            state.sstore(
                layout::currency_slot(c.index).offset(2),
                banyan_module_api::slots::Packer::new()
                    .address(call.account)
                    .word(),
            )?;
            state.emit(&IPayments::FeeAccountSet {
                token: c.token,
                account: call.account,
            })?;
            Vec::new()
        }
        Call::pay(call) => {
            let id = pay(ctx, state, input, &call)?;
            IPayments::payCall::abi_encode_returns(&id)
        }
        Call::payBatch(call) => {
            let id = pay_batch(ctx, state, input, &call)?;
            IPayments::payBatchCall::abi_encode_returns(&id)
        }
        Call::placeHold(call) => {
            let id = place_hold(ctx, state, &call)?;
            IPayments::placeHoldCall::abi_encode_returns(&id)
        }
        Call::captureHold(call) => {
            let id = capture_hold(ctx, state, &call)?;
            IPayments::captureHoldCall::abi_encode_returns(&id)
        }
        Call::voidHold(call) => {
            void_hold(ctx, state, call.id)?;
            Vec::new()
        }
        Call::postRate(call) => {
            post_rate(ctx, state, &call)?;
            Vec::new()
        }
        Call::offerLiquidity(call) => {
            offer_liquidity(ctx, state, &call)?;
            Vec::new()
        }
        Call::payFx(call) => {
            let id = pay_fx(ctx, state, input, &call)?;
            IPayments::payFxCall::abi_encode_returns(&id)
        }
        Call::setGasCurrency(call) => {
            gas_fee::set_gas_currency(ctx, state, call.token)?;
            Vec::new()
        }
        Call::setKycRequirement(call) => {
            set_kyc_requirement(ctx, state, call.token, call.schemaId)?;
            Vec::new()
        }
        Call::kycRequirementOf(call) => IPayments::kycRequirementOfCall::abi_encode_returns(
            &state.sload_b256(layout::kyc_slot(call.token))?,
        ),
        Call::gasCurrencyOf(call) => IPayments::gasCurrencyOfCall::abi_encode_returns(
            &gas_fee::gas_currency_of(state, call.account)?,
        ),
        Call::gasFeeFor(call) => {
            let (fee, rate) = gas_fee::gas_fee_for(state, call.token, call.gas, call.gasPrice)?;
            IPayments::gasFeeForCall::abi_encode_returns(&IPayments::gasFeeForReturn {
                fee: U256::from(fee),
                rate,
            })
        }
        Call::currencies(_) => {
            let count = state.sload(layout::currencies_slot())?.as_u64() as u32;
            let mut out = Vec::with_capacity(count as usize);
            for index in 1..=count {
                let c = currency_at(state, token_address(index))?;
                out.push(currency_info(state, &c)?);
            }
            IPayments::currenciesCall::abi_encode_returns(&out)
        }
        Call::currency(call) => {
            let c = currency_at(state, call.token)?;
            let info = currency_info(state, &c)?;
            IPayments::currencyCall::abi_encode_returns(&info)
        }
        Call::currencyByCode(call) => {
            let index = state.sload(layout::code_slot(&call.code))?.as_u64();
            if index == 0 {
                return Err(revert(format!(
                    "no currency has the code {:?}; list them with banyan currency list",
                    call.code
                )));
            }
            IPayments::currencyByCodeCall::abi_encode_returns(&token_address(index as u32))
        }
        Call::balanceOf(call) => {
            let c = currency_at(state, call.token)?;
            let b = layout::read_balance(state, c.index, call.account)?;
            IPayments::balanceOfCall::abi_encode_returns(&IPayments::balanceOfReturn {
                balance: U256::from(b.balance),
                held: U256::from(b.held),
                available: U256::from(b.available()),
            })
        }
        Call::getHold(call) => {
            let Some(h) = layout::read_hold(state, call.id)? else {
                return Err(revert(format!("there is no hold {}", call.id)));
            };
            IPayments::getHoldCall::abi_encode_returns(&IPayments::Hold {
                id: call.id,
                token: token_address(h.currency),
                payer: h.payer,
                payee: h.payee,
                amount: U256::from(h.amount),
                captured: U256::from(h.captured),
                status: IPayments::HoldStatus::try_from(h.status)
                    .unwrap_or(IPayments::HoldStatus::None),
                deadline: h.deadline,
                createdAt: h.created_at,
                closedAt: h.closed_at,
            })
        }
        Call::rateOf(call) => {
            let a = currency_at(state, call.base)?;
            let b = currency_at(state, call.quote)?;
            let r = layout::read_rate(state, a.index, b.index)?;
            IPayments::rateOfCall::abi_encode_returns(&IPayments::Rate {
                rate: U256::from(r.rate),
                validFrom: r.valid_from,
                validUntil: r.valid_until,
                provider: r.provider,
            })
        }
        Call::liquidity(call) => {
            let a = currency_at(state, call.base)?;
            let b = currency_at(state, call.quote)?;
            let (enabled, spread_bps) = read_liquidity(state, call.provider, a.index, b.index)?;
            IPayments::liquidityCall::abi_encode_returns(&IPayments::liquidityReturn {
                enabled,
                spreadBps: spread_bps,
            })
        }
        Call::paymentByKey(call) => {
            let base = layout::key_slot(call.payer, call.key);
            let record = match layout::read_key(state, base)? {
                Some(k) if ctx.timestamp <= k.expires_at => IPayments::KeyRecord {
                    outcome: IPayments::Outcome::try_from(k.outcome)
                        .unwrap_or(IPayments::Outcome::None),
                    payment: k.payment,
                    blockNumber: k.block_number,
                    expiresAt: k.expires_at,
                    fingerprint: k.fingerprint,
                    reason: String::from_utf8_lossy(
                        &state.load_bytes(base.offset(2), MAX_REASON_BYTES)?,
                    )
                    .into_owned(),
                },
                _ => IPayments::KeyRecord {
                    outcome: IPayments::Outcome::None,
                    payment: 0,
                    blockNumber: 0,
                    expiresAt: 0,
                    fingerprint: B256::ZERO,
                    reason: String::new(),
                },
            };
            IPayments::paymentByKeyCall::abi_encode_returns(&record)
        }
        Call::paymentCount(_) => {
            let count = state.sload(layout::payments_slot())?.as_u64();
            IPayments::paymentCountCall::abi_encode_returns(&count)
        }
        Call::feeFor(call) => {
            let bps = fee_bps(state)?;
            let amount = u128::try_from(call.amount).unwrap_or(u128::MAX);
            IPayments::feeForCall::abi_encode_returns(&IPayments::feeForReturn {
                fee: U256::from(fee_of(amount, bps)),
                bps: u64::from(bps),
            })
        }
    };
    Ok(output.into())
}

fn token_call(
    ctx: &ModuleCallContext,
    input: &[u8],
    state: &mut ModuleState<'_>,
) -> Result<Bytes, ModuleError> {
    let c = currency_at(state, ctx.address)?;
    let call = TokenCall::abi_decode(input).map_err(|error| {
        bad_call(
            "Payments token",
            "IDepositToken.sol",
            TokenCall::SELECTORS,
            input,
            &error,
        )
    })?;
    let base = layout::currency_slot(c.index);
    let output = match call {
        TokenCall::name(_) => {
            let name = state.load_bytes(base.offset(4), MAX_NAME_BYTES)?;
            IDepositToken::nameCall::abi_encode_returns(
                &String::from_utf8_lossy(&name).into_owned(),
            )
        }
        TokenCall::symbol(_) => {
            let code = state.load_bytes(base.offset(3), 12)?;
            IDepositToken::symbolCall::abi_encode_returns(
                &String::from_utf8_lossy(&code).into_owned(),
            )
        }
        TokenCall::decimals(_) => IDepositToken::decimalsCall::abi_encode_returns(&c.decimals),
        TokenCall::totalSupply(_) => {
            IDepositToken::totalSupplyCall::abi_encode_returns(&U256::from(c.supply))
        }
        TokenCall::balanceOf(call) => {
            let b = layout::read_balance(state, c.index, call.account)?;
            IDepositToken::balanceOfCall::abi_encode_returns(&U256::from(b.balance))
        }
        TokenCall::allowance(call) => {
            let allowed = layout::read_allowance(state, c.index, call.owner, call.spender)?;
            IDepositToken::allowanceCall::abi_encode_returns(&allowed)
        }
        TokenCall::approve(call) => {
            if call.spender == Address::ZERO {
                return Err(revert("cannot approve the zero address"));
            }
            layout::write_allowance(state, c.index, ctx.caller, call.spender, call.value)?;
            state.emit_from(
                c.token,
                &IDepositToken::Approval {
                    owner: ctx.caller,
                    spender: call.spender,
                    value: call.value,
                },
            )?;
            IDepositToken::approveCall::abi_encode_returns(&true)
        }
        TokenCall::transfer(call) => {
            let amount = amount_of(call.value, "amount")?;
            let bps = fee_bps(state)?;
            let mut ledger = Ledger::at(ctx.timestamp);
            pay_one(
                state,
                &mut ledger,
                &c,
                ctx.caller,
                call.to,
                amount,
                bps,
                Path::Erc20Transfer,
                &Memo::NONE,
            )?;
            ledger.settle(ctx.block_number)?;
            IDepositToken::transferCall::abi_encode_returns(&true)
        }
        TokenCall::transferFrom(call) => {
            let amount = amount_of(call.value, "amount")?;
            let bps = fee_bps(state)?;
            let need = amount.saturating_add(fee_of(amount, bps));
            if call.from != ctx.caller {
                spend_allowance(state, &c, call.from, ctx.caller, need)?;
            }
            let mut ledger = Ledger::at(ctx.timestamp);
            pay_one(
                state,
                &mut ledger,
                &c,
                call.from,
                call.to,
                amount,
                bps,
                Path::Erc20TransferFrom,
                &Memo::NONE,
            )?;
            ledger.settle(ctx.block_number)?;
            IDepositToken::transferFromCall::abi_encode_returns(&true)
        }
    };
    Ok(output.into())
}

// ---------------------------------------------------------------------------------------------
// Screening: the movements a transaction asks for, checked by the same policy as execution.

type Movement = (Option<Address>, Option<Address>, Address, u128, Path);

/// The movements of money `input` to `to` asks for, by payer and payee (those the pool can know
/// before the transaction runs). Input that does not decode asks for none: execution reverts it.
fn movements(
    sender: Address,
    to: Address,
    input: &[u8],
    state: &mut ModuleState<'_>,
) -> Result<Vec<Movement>, ModuleError> {
    let small = |v: U256| u128::try_from(v).unwrap_or(u128::MAX);
    if TOKEN_RANGE.contains(&to) {
        return Ok(match TokenCall::abi_decode(input) {
            Ok(TokenCall::transfer(call)) => vec![(
                Some(sender),
                Some(call.to),
                to,
                small(call.value),
                Path::Erc20Transfer,
            )],
            Ok(TokenCall::transferFrom(call)) => vec![(
                Some(call.from),
                Some(call.to),
                to,
                small(call.value),
                Path::Erc20TransferFrom,
            )],
            _ => Vec::new(),
        });
    }
    if to != PAYMENTS_ADDRESS {
        return Ok(Vec::new());
    }
    Ok(match Call::abi_decode(input) {
        Ok(Call::pay(call)) => vec![(
            Some(sender),
            Some(call.to),
            call.token,
            small(call.amount),
            Path::Pay,
        )],
        Ok(Call::payBatch(call)) => call
            .legs
            .iter()
            .take(MAX_LEGS)
            .map(|leg| {
                (
                    Some(sender),
                    Some(leg.to),
                    leg.token,
                    small(leg.amount),
                    Path::Batch,
                )
            })
            .collect(),
        Ok(Call::placeHold(call)) => vec![(
            Some(sender),
            Some(call.payee),
            call.token,
            small(call.amount),
            Path::Hold,
        )],
        Ok(Call::captureHold(call)) => match layout::read_hold(state, call.id)? {
            Some(h) => vec![(
                Some(h.payer),
                Some(h.payee),
                token_address(h.currency),
                small(call.amount),
                Path::Capture,
            )],
            None => Vec::new(),
        },
        Ok(Call::payFx(call)) => vec![
            (
                Some(sender),
                Some(call.provider),
                call.payToken,
                small(call.amountIn),
                Path::Fx,
            ),
            (
                Some(call.provider),
                Some(call.to),
                call.receiveToken,
                small(call.minAmountOut),
                Path::Fx,
            ),
        ],
        Ok(Call::mint(call)) => vec![(
            None,
            Some(call.to),
            call.token,
            small(call.amount),
            Path::Mint,
        )],
        Ok(Call::burn(call)) => {
            vec![(
                Some(call.from),
                None,
                call.token,
                small(call.amount),
                Path::Burn,
            )]
        }
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rounds_down_across_decimals() {
        // 100.00 USD at 0.92 EUR/USD, both 2 decimals: 92.00 EUR.
        let rate = 920_000_000_000_000_000u128;
        assert_eq!(convert(10_000, rate, 2, 2), Some(9_200));
        // 1.00 USD (2 decimals) in a 0-decimal currency at 150.5: 150.
        assert_eq!(convert(100, 150_500_000_000_000_000_000, 2, 0), Some(150));
        // 1 unit (0 decimals) into 18 decimals at 1.0: 10^18.
        assert_eq!(
            convert(1, 1_000_000_000_000_000_000, 0, 18),
            Some(1_000_000_000_000_000_000)
        );
        // The largest amount at the largest rate does not overflow the arithmetic.
        assert_eq!(convert(u128::MAX, u128::MAX, 0, 18), None);
    }

    #[test]
    fn token_addresses_number_from_one() {
        let first = token_address(1);
        assert_eq!(first, address!("ba11000000000000000000000000000000000001"));
        assert_eq!(TOKEN_RANGE.index(&first), Some(1));
        assert_eq!(TOKEN_RANGE.index(&PAYMENTS_ADDRESS), None);
    }
}
