//! Gas paid in a currency. An account chooses a currency (`setGasCurrency`); while the
//! committee has set a rate for it (Governance's `SetGasRate`), every transaction of the account
//! that pays for gas pays in that currency instead of the native coin:
//!
//! 1. Before the transaction runs, the executor asks [`quote`] (the pool asks too, on the head
//!    state): the most the transaction may cost is `gas limit × gas price × rate / 10^18`,
//!    rounded up. No rate, too little available, or a policy refusal refuses the transaction
//!    there, with the reason, so it is never included and never holds a block up.
//! 2. [`reserve`] puts that amount on hold in the payer's balance: the transaction cannot spend
//!    it.
//! 3. The transaction runs with a native gas price of zero.
//! 4. [`settle`] releases the hold and moves the fee of the gas used, at the rate of step 1, to
//!    the block's proposer (`Transfer` and `GasPaid` events, in the transaction's receipt).
//!    Nothing is converted, so no swap can fail or stall: the proposer receives the currency.

use crate::{
    IPayments, PAYMENTS_ADDRESS, currency_at, layout,
    ledger::{Ledger, Path, policy},
    revert,
};
use alloy_primitives::{Address, U256, U512};
use alloy_sol_types::SolCall;
use banyan_module_api::{
    GasQuote, GasStep, GasTx, ModuleCallContext, ModuleError, ModuleState, ViewAnswer, ViewKind,
    ViewQuery, slots::Word,
};

/// Wei per native coin: rates are smallest units of a currency per coin of gas fee.
const WEI_PER_COIN: u128 = 1_000_000_000_000_000_000;

/// The rate governance set for paying gas in `token` (0: none, or no governance).
pub(crate) fn gas_rate(state: &mut ModuleState<'_>, token: Address) -> Result<u128, ModuleError> {
    if !state.answers(ViewKind::GasRate) {
        return Ok(0);
    }
    match state.ask(&ViewQuery::GasRate { currency: token })? {
        ViewAnswer::GasRate(rate) => Ok(rate),
        other => Err(ModuleError::Invariant(format!(
            "GasRate was answered with {other:?}"
        ))),
    }
}

/// `gas × price × rate / 10^18`, rounded up; `None` above 2^128 - 1.
pub fn fee_for_gas(gas: u64, price: u128, rate: u128) -> Option<u128> {
    let product = U512::from(gas) * U512::from(price) * U512::from(rate);
    let fee = product.div_ceil(U512::from(WEI_PER_COIN));
    u128::try_from(fee).ok()
}

/// The currency number `account` pays gas in (0: the native coin).
fn chosen(state: &mut ModuleState<'_>, account: Address) -> Result<u32, ModuleError> {
    Ok(state.sload(layout::gas_currency_slot(account))?.as_u64() as u32)
}

/// `setGasCurrency(token)` by `ctx.caller`.
pub(crate) fn set_gas_currency(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    token: Address,
) -> Result<(), ModuleError> {
    let index = if token == Address::ZERO {
        0
    } else {
        let c = currency_at(state, token)?;
        if gas_rate(state, token)? == 0 {
            let code = crate::currency_code(state, &c)?;
            return Err(revert(format!(
                "gas cannot be paid in {code}: the committee has set no gas rate for it \
                 (banyan gov propose set-gas-rate {code} RATE)"
            )));
        }
        c.index
    };
    state.sstore(
        layout::gas_currency_slot(ctx.caller),
        Word::from_u64(u64::from(index)),
    )?;
    state.emit(&IPayments::GasCurrencySet {
        account: ctx.caller,
        token,
    })
}

/// `gasCurrencyOf(account)`.
pub(crate) fn gas_currency_of(
    state: &mut ModuleState<'_>,
    account: Address,
) -> Result<Address, ModuleError> {
    Ok(match chosen(state, account)? {
        0 => Address::ZERO,
        index => crate::token_address(index),
    })
}

/// `gasFeeFor(token, gas, gasPrice)`: the fee and the rate.
pub(crate) fn gas_fee_for(
    state: &mut ModuleState<'_>,
    token: Address,
    gas: u64,
    price: U256,
) -> Result<(u128, u128), ModuleError> {
    let c = currency_at(state, token)?;
    let rate = gas_rate(state, c.token)?;
    if rate == 0 {
        let code = crate::currency_code(state, &c)?;
        return Err(revert(format!(
            "the committee has set no gas rate for {code}"
        )));
    }
    let price = u128::try_from(price)
        .map_err(|_| revert(format!("a gas price of {price} wei is above 2^128 - 1")))?;
    let fee = fee_for_gas(gas, price, rate)
        .ok_or_else(|| revert("the fee is above 2^128 - 1 smallest units"))?;
    Ok((fee, rate))
}

/// Which currency pays `tx`'s gas: the one a `setGasCurrency` call chooses (it pays its own gas
/// in the new currency), else the sender's choice.
fn currency_for(tx: &GasTx<'_>, state: &mut ModuleState<'_>) -> Result<u32, ModuleError> {
    if tx.to == Some(PAYMENTS_ADDRESS)
        && let Ok(call) = IPayments::setGasCurrencyCall::abi_decode(tx.input)
    {
        return Ok(crate::TOKEN_RANGE
            .index(&call.token)
            .filter(|index| *index > 0)
            .unwrap_or(0));
    }
    chosen(state, tx.sender)
}

/// Whether `tx`'s sender pays its gas in a currency, and the most it may cost.
pub(crate) fn quote(
    tx: &GasTx<'_>,
    state: &mut ModuleState<'_>,
) -> Result<Option<GasQuote>, ModuleError> {
    let index = currency_for(tx, state)?;
    if index == 0 {
        return Ok(None);
    }
    let token = crate::token_address(index);
    let Some(c) = layout::read_currency(state, index, token)? else {
        // A setGasCurrency call naming no currency: it pays in the native coin and reverts.
        return Ok(None);
    };
    let code = crate::currency_code(state, &c)?;
    let rate = gas_rate(state, token)?;
    if rate == 0 {
        return Err(revert(format!(
            "{} pays gas in {code}, for which the committee has set no gas rate (or withdrew \
             it): the committee sets one (banyan gov propose set-gas-rate {code} RATE), or the \
             account pays in the native coin again (setGasCurrency(address(0)), paid natively)",
            tx.sender
        )));
    }
    let max_fee = fee_for_gas(tx.gas_limit, tx.gas_price, rate).ok_or_else(|| {
        revert(format!(
            "{} gas at {} wei costs more than 2^128 - 1 smallest units of {code}",
            tx.gas_limit, tx.gas_price
        ))
    })?;
    let b = layout::read_balance(state, index, tx.sender)?;
    if b.available() < max_fee {
        return Err(revert(format!(
            "{} pays gas in {code}: this transaction may cost up to {max_fee} ({} gas at {} wei, \
             {rate} per coin), but it has {} available ({} balance, {} on hold)",
            tx.sender,
            tx.gas_limit,
            tx.gas_price,
            b.available(),
            b.balance,
            b.held
        )));
    }
    policy(
        state,
        tx.timestamp,
        Some(tx.sender),
        None,
        token,
        max_fee,
        Path::Gas,
    )?;
    Ok(Some(GasQuote {
        currency: token,
        max_fee: U256::from(max_fee),
        rate: U256::from(rate),
    }))
}

/// Step 2: the quoted amount on hold.
fn reserve(
    state: &mut ModuleState<'_>,
    payer: Address,
    quote: &GasQuote,
) -> Result<(), ModuleError> {
    let c = currency_at(state, quote.currency)?;
    let amount = quote.max_fee.saturating_to::<u128>();
    let mut b = layout::read_balance(state, c.index, payer)?;
    if b.available() < amount {
        return Err(revert(format!(
            "{payer} has {} of {} available, less than the {amount} its gas may cost",
            b.available(),
            c.token
        )));
    }
    b.held += amount;
    layout::write_balance(state, c.index, payer, b)
}

/// Step 4: the hold released, the fee of the gas used paid to the proposer (or, when the block
/// has none that can hold money, to the currency's fee account).
#[allow(clippy::too_many_arguments)]
fn settle(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    payer: Address,
    quote: &GasQuote,
    gas_used: u64,
    gas_price: u128,
    beneficiary: Address,
) -> Result<(), ModuleError> {
    let c = currency_at(state, quote.currency)
        .map_err(|_| ModuleError::Invariant(format!("gas was reserved in {}", quote.currency)))?;
    let reserved = quote.max_fee.saturating_to::<u128>();
    let mut b = layout::read_balance(state, c.index, payer)?;
    b.held = b.held.checked_sub(reserved).ok_or_else(|| {
        ModuleError::Invariant(format!(
            "{payer} has {} of {} on hold, less than the {reserved} reserved for its gas",
            b.held, c.token
        ))
    })?;
    layout::write_balance(state, c.index, payer, b)?;
    if gas_used == 0 {
        return Ok(());
    }
    let rate = quote.rate.saturating_to::<u128>();
    let fee = fee_for_gas(gas_used, gas_price, rate)
        .unwrap_or(reserved)
        .min(reserved);
    let to = if beneficiary == Address::ZERO || state.is_module(beneficiary) {
        c.fee_account
    } else {
        beneficiary
    };
    if fee > 0 {
        let mut ledger = Ledger::at(ctx.timestamp);
        ledger.move_funds(state, &c, payer, to, fee)?;
        ledger.settle(ctx.block_number)?;
    }
    state.emit(&IPayments::GasPaid {
        payer,
        token: c.token,
        gasUsed: gas_used,
        gasPrice: U256::from(gas_price),
        fee: U256::from(fee),
        beneficiary: to,
    })
}

/// One step of paying a transaction's gas.
pub(crate) fn charge(
    ctx: &ModuleCallContext,
    step: &GasStep,
    state: &mut ModuleState<'_>,
) -> Result<(), ModuleError> {
    match step {
        GasStep::Reserve { payer, quote } => reserve(state, *payer, quote),
        GasStep::Settle {
            payer,
            quote,
            gas_used,
            gas_price,
            beneficiary,
        } => settle(
            ctx,
            state,
            *payer,
            quote,
            *gas_used,
            *gas_price,
            *beneficiary,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_fees_round_up_and_refuse_overflow() {
        // 21,000 gas at 1 gwei is 2.1e-5 coin: at 100 cents per coin, 0.0021 cents, so 1 cent.
        assert_eq!(fee_for_gas(21_000, 1_000_000_000, 100), Some(1));
        // Exactly one coin of gas at 250 per coin.
        assert_eq!(fee_for_gas(1_000_000_000, 1_000_000_000, 250), Some(250));
        assert_eq!(fee_for_gas(0, 1_000_000_000, 250), Some(0));
        assert_eq!(fee_for_gas(u64::MAX, u128::MAX, 10u128.pow(30)), None);
    }
}
