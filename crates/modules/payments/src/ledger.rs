//! The one place money moves: [`Ledger`] debits, credits, mints and burns, checks the policy
//! for the real payer and payee of every movement, and asserts conservation when the operation
//! ends ([`Ledger::settle`]).

use crate::{
    IDepositToken,
    layout::{self, CurrencyRecord},
};
use alloy_primitives::{Address, U256};
use banyan_module_api::{ModuleError, ModuleState, ViewAnswer, ViewKind, ViewQuery};
use std::collections::BTreeMap;

/// The paths money moves by, as the policy hook and error messages name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    Pay,
    Batch,
    Capture,
    Fx,
    Erc20Transfer,
    Erc20TransferFrom,
    Mint,
    Burn,
    Hold,
    Gas,
}

impl Path {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::Batch => "batch leg",
            Self::Capture => "hold capture",
            Self::Fx => "fx leg",
            Self::Erc20Transfer => "transfer",
            Self::Erc20TransferFrom => "transferFrom",
            Self::Mint => "mint",
            Self::Burn => "burn",
            Self::Hold => "hold",
            Self::Gas => "gas payment",
        }
    }
}

/// Refuses a frozen account (Governance's freeze) on one side of a movement.
fn check_frozen(
    state: &mut ModuleState<'_>,
    account: Address,
    side: &str,
    path: Path,
) -> Result<(), ModuleError> {
    if !state.answers(ViewKind::Frozen) {
        return Ok(());
    }
    match state.ask(&ViewQuery::FrozenBy { account })? {
        ViewAnswer::FrozenBy(0) => Ok(()),
        ViewAnswer::FrozenBy(by) => Err(ModuleError::revert(format!(
            "Payments: the {side} {account} is frozen by governance proposal {by}, so this {} \
             cannot move money; the committee can lift it: banyan account unfreeze {account}",
            path.name()
        ))),
        other => Err(ModuleError::Invariant(format!(
            "FrozenBy was answered with {other:?}"
        ))),
    }
}

/// The policy every movement passes: neither side frozen, both sides holding the credential the
/// currency requires (at time `now`), and the compliance hook (when a module answers it) allows
/// it. The pool's screen and execution both call this.
pub(crate) fn policy(
    state: &mut ModuleState<'_>,
    now: u64,
    payer: Option<Address>,
    payee: Option<Address>,
    token: Address,
    amount: u128,
    path: Path,
) -> Result<(), ModuleError> {
    if let Some(payer) = payer {
        check_frozen(state, payer, "payer", path)?;
    }
    if let Some(payee) = payee {
        check_frozen(state, payee, "payee", path)?;
    }
    check_kyc(state, now, payer, payee, token, path)?;
    if state.answers(ViewKind::PaymentPolicy) {
        let answer = state.ask(&ViewQuery::PaymentPolicy {
            payer: payer.unwrap_or_default(),
            payee: payee.unwrap_or_default(),
            currency: token,
            amount: U256::from(amount),
            path: path.name(),
        })?;
        match answer {
            ViewAnswer::PaymentPolicy(None) => {}
            ViewAnswer::PaymentPolicy(Some(reason)) => {
                return Err(ModuleError::revert(format!(
                    "Payments: the compliance policy refuses this {}: {reason}",
                    path.name()
                )));
            }
            other => {
                return Err(ModuleError::Invariant(format!(
                    "PaymentPolicy was answered with {other:?}"
                )));
            }
        }
    }
    Ok(())
}

/// Refuses a side without the credential the currency requires (`setKycRequirement`).
fn check_kyc(
    state: &mut ModuleState<'_>,
    now: u64,
    payer: Option<Address>,
    payee: Option<Address>,
    token: Address,
    path: Path,
) -> Result<(), ModuleError> {
    let schema = state.sload_b256(crate::layout::kyc_slot(token))?;
    if schema == alloy_primitives::B256::ZERO || !state.answers(ViewKind::Credential) {
        return Ok(());
    }
    for (side, account) in [("payer", payer), ("payee", payee)] {
        let Some(subject) = account else { continue };
        match state.ask(&ViewQuery::Credential {
            subject,
            schema,
            at: now,
        })? {
            ViewAnswer::Credential(Ok(_)) => {}
            ViewAnswer::Credential(Err(reason)) => {
                return Err(ModuleError::revert(format!(
                    "Payments: currency {token} requires of the {side} a KYC credential of \
                     schema {schema}, so this {} cannot move money: {reason}",
                    path.name()
                )));
            }
            other => {
                return Err(ModuleError::Invariant(format!(
                    "Credential was answered with {other:?}"
                )));
            }
        }
    }
    Ok(())
}

/// The chain's payment fee in basis points (Governance's `PaymentFeeBps`; 0 without it).
pub(crate) fn fee_bps(state: &mut ModuleState<'_>) -> Result<u16, ModuleError> {
    if !state.answers(ViewKind::ChainParameter) {
        return Ok(0);
    }
    match state.ask(&ViewQuery::ChainParameter {
        parameter: crate::PAYMENT_FEE_PARAMETER,
    })? {
        ViewAnswer::ChainParameter(bps) => Ok(u16::try_from(bps.min(10_000)).unwrap_or(0)),
        other => Err(ModuleError::Invariant(format!(
            "ChainParameter was answered with {other:?}"
        ))),
    }
}

/// The fee of `amount` at `bps`, rounded down.
pub(crate) fn fee_of(amount: u128, bps: u16) -> u128 {
    // amount < 2^128 and bps <= 10^4: the product fits in 256 bits.
    let fee = U256::from(amount) * U256::from(bps) / U256::from(10_000u64);
    fee.to::<u128>()
}

/// Money moved by one operation, per currency: credits and debits of balances, mints and burns.
#[derive(Clone, Copy, Debug, Default)]
struct Flows {
    credited: U256,
    debited: U256,
    minted: U256,
    burned: U256,
}

/// One operation's movements. Every balance change goes through it; [`Self::settle`] then
/// checks, per currency touched, that balances changed by exactly what was minted less what was
/// burned, and that the supply record agrees.
#[derive(Debug)]
pub(crate) struct Ledger {
    flows: BTreeMap<u32, Flows>,
    /// The block's time, for the policy's checks that depend on it (a credential's validity).
    now: u64,
}

impl Ledger {
    /// A ledger for one call in a block of timestamp `now`.
    pub(crate) fn at(now: u64) -> Self {
        Self {
            flows: BTreeMap::new(),
            now,
        }
    }

    fn flows(&mut self, currency: u32) -> &mut Flows {
        self.flows.entry(currency).or_default()
    }

    /// Adds `amount` to `account`'s balance.
    pub(crate) fn credit(
        &mut self,
        state: &mut ModuleState<'_>,
        c: &CurrencyRecord,
        account: Address,
        amount: u128,
    ) -> Result<(), ModuleError> {
        let mut b = layout::read_balance(state, c.index, account)?;
        b.balance = b.balance.checked_add(amount).ok_or_else(|| {
            ModuleError::Invariant(format!(
                "crediting {amount} to {account} overflows its balance of currency {}",
                c.token
            ))
        })?;
        layout::write_balance(state, c.index, account, b)?;
        self.flows(c.index).credited += U256::from(amount);
        Ok(())
    }

    /// Takes `amount` from `account`'s available balance (balance less holds).
    pub(crate) fn debit(
        &mut self,
        state: &mut ModuleState<'_>,
        c: &CurrencyRecord,
        account: Address,
        amount: u128,
    ) -> Result<(), ModuleError> {
        let mut b = layout::read_balance(state, c.index, account)?;
        if b.available() < amount {
            return Err(ModuleError::revert(format!(
                "Payments: {account} has {} of currency {} available ({} balance, {} on hold), \
                 less than the {amount} this needs",
                b.available(),
                c.token,
                b.balance,
                b.held
            )));
        }
        b.balance -= amount;
        layout::write_balance(state, c.index, account, b)?;
        self.flows(c.index).debited += U256::from(amount);
        Ok(())
    }

    /// Moves `amount` from `from` to `to`, after the policy check, with the ERC-20 `Transfer`
    /// event from the token's address.
    pub(crate) fn transfer(
        &mut self,
        state: &mut ModuleState<'_>,
        c: &CurrencyRecord,
        from: Address,
        to: Address,
        amount: u128,
        path: Path,
    ) -> Result<(), ModuleError> {
        policy(state, self.now, Some(from), Some(to), c.token, amount, path)?;
        self.move_funds(state, c, from, to, amount)
    }

    /// Moves `amount` without the policy check: only for the fee leg, whose payer was checked
    /// on the payment itself and whose payee is the currency's fee account.
    pub(crate) fn move_funds(
        &mut self,
        state: &mut ModuleState<'_>,
        c: &CurrencyRecord,
        from: Address,
        to: Address,
        amount: u128,
    ) -> Result<(), ModuleError> {
        self.debit(state, c, from, amount)?;
        self.credit(state, c, to, amount)?;
        state.emit_from(
            c.token,
            &IDepositToken::Transfer {
                from,
                to,
                value: U256::from(amount),
            },
        )
    }

    /// Records a mint of `amount` (the supply record is written by the caller).
    pub(crate) fn minted(&mut self, currency: u32, amount: u128) {
        self.flows(currency).minted += U256::from(amount);
    }

    /// Records a burn of `amount` (the supply record is written by the caller).
    pub(crate) fn burned(&mut self, currency: u32, amount: u128) {
        self.flows(currency).burned += U256::from(amount);
    }

    /// Ends the operation: per currency touched, balances must have changed by exactly the
    /// supply's change. A difference is a bug that would create or destroy money; it stops
    /// the block (and the node) with the currency named.
    pub(crate) fn settle(self, block: u64) -> Result<(), ModuleError> {
        for (currency, f) in self.flows {
            if f.credited + f.burned != f.debited + f.minted {
                let token = crate::token_address(currency);
                return Err(ModuleError::Invariant(format!(
                    "money not conserved in currency {token} in block {block}: balances gained \
                     {} and lost {}, while {} was minted and {} burned",
                    f.credited, f.debited, f.minted, f.burned
                )));
            }
        }
        Ok(())
    }
}
