//! The validator set, changed by proposal: the consensus layer reads the set that decides block
//! `h` from the state after block `h - 1` (`validatorsAt(h)`), so every node, and every node
//! replaying the chain, switches at the same height.
//!
//! Rule: a change executed in block `B` decides blocks from `B + 2` on. Block `B + 1` is still
//! decided by the set in force before (its consensus may already be under way when `B` commits).
//! Two changes in blocks `B` and `B + 1` land at `B + 2` and `B + 3`; several in one block land
//! together. The state keeps the latest set, the set in force until it takes effect, and that
//! height.

use crate::{IGovernance, layout};
use alloy_primitives::{Address, Bytes};
use banyan_module_api::{GenesisValidatorInfo, ModuleError, ModuleState, slots::Word};

/// Validators the set may hold.
pub const MAX_VALIDATORS: u64 = 64;
/// The highest voting power of one validator.
pub const MAX_POWER: u64 = 1_000_000;
/// Bytes of a validator's public key (both suites: the uncompressed point without its prefix).
pub const PUBLIC_KEY_BYTES: usize = 64;

/// A validator's `(power, position + 1)` in the latest set; zeros when it is not in it.
pub(crate) fn member(
    state: &mut ModuleState<'_>,
    account: Address,
) -> Result<(u64, u64), ModuleError> {
    layout::read_entry(state, layout::validator_slot(account))
}

fn write_member(
    state: &mut ModuleState<'_>,
    account: Address,
    power: u64,
    position_plus_one: u64,
) -> Result<(), ModuleError> {
    layout::write_entry(
        state,
        layout::validator_slot(account),
        power,
        position_plus_one,
    )
}

/// Height from which the latest set decides blocks.
pub(crate) fn effective_from(state: &mut ModuleState<'_>) -> Result<u64, ModuleError> {
    Ok(state.sload(layout::valset_slot())?.as_u64())
}

/// Writes the genesis set (deciding from block 1).
pub(crate) fn genesis(
    state: &mut ModuleState<'_>,
    validators: &[GenesisValidatorInfo],
) -> Result<(), ModuleError> {
    for v in validators {
        let index = layout::validators().push(state, layout::pack_member(v.address, v.power))?;
        write_member(state, v.address, v.power, index + 1)?;
        state.store_bytes(layout::validator_key_slot(v.address), &v.public_key)?;
    }
    Ok(())
}

/// The latest set: `(address, power)` in order.
pub(crate) fn latest(state: &mut ModuleState<'_>) -> Result<Vec<(Address, u64)>, ModuleError> {
    let (words, _) = layout::validators().page(state, 0, MAX_VALIDATORS)?;
    Ok(words.into_iter().map(layout::unpack_member).collect())
}

/// The set that decides block `height`, read from the state after block `height - 1`.
pub(crate) fn at(
    state: &mut ModuleState<'_>,
    height: u64,
) -> Result<Vec<(Address, Bytes, u64)>, ModuleError> {
    let list = if effective_from(state)? <= height {
        layout::validators()
    } else {
        layout::previous_validators()
    };
    let (words, _) = list.page(state, 0, MAX_VALIDATORS)?;
    let mut out = Vec::with_capacity(words.len());
    for word in words {
        let (account, power) = layout::unpack_member(word);
        let key = state.load_bytes(layout::validator_key_slot(account), PUBLIC_KEY_BYTES)?;
        out.push((account, key.into(), power));
    }
    Ok(out)
}

/// Why the latest set cannot take `account` at `power` (0: removed); `None` when it can.
pub(crate) fn check_change(
    state: &mut ModuleState<'_>,
    account: Address,
    power: u64,
    adding: bool,
) -> Result<Option<String>, ModuleError> {
    let (current, _) = member(state, account)?;
    let set = latest(state)?;
    Ok(if adding && current != 0 {
        Some(format!(
            "{account} is already a validator (power {current})"
        ))
    } else if !adding && current == 0 {
        Some(format!("{account} is not a validator"))
    } else if adding && set.len() as u64 >= MAX_VALIDATORS {
        Some(format!(
            "the validator set already has the maximum of {MAX_VALIDATORS} validators"
        ))
    } else if power == 0 && set.len() <= 1 {
        Some(format!(
            "{account} is the last validator; a chain cannot be left without one"
        ))
    } else if power > MAX_POWER || (power == 0 && adding) {
        Some(format!(
            "voting power must be 1 to {MAX_POWER}, got {power}"
        ))
    } else if !adding && power != 0 && power == current {
        Some(format!("{account} already has voting power {power}"))
    } else {
        None
    })
}

/// Sets `account`'s power in the latest set (0 removes it; a new account joins with `key`),
/// deciding from `block + 2`. The change was checked by [`check_change`].
pub(crate) fn apply(
    state: &mut ModuleState<'_>,
    block: u64,
    proposal: u64,
    account: Address,
    power: u64,
    key: Option<&[u8]>,
) -> Result<(), ModuleError> {
    // The set in force at `block + 1` must stay readable until the new one takes effect.
    if effective_from(state)? <= block + 1 {
        let (words, _) = layout::validators().page(state, 0, MAX_VALIDATORS)?;
        layout::previous_validators().replace(state, &words)?;
    }
    let list = layout::validators();
    let (current, position_plus_one) = member(state, account)?;
    if current == 0 {
        let index = list.push(state, layout::pack_member(account, power))?;
        write_member(state, account, power, index + 1)?;
        if let Some(key) = key {
            state.store_bytes(layout::validator_key_slot(account), key)?;
        }
    } else if power == 0 {
        let index = position_plus_one - 1;
        if let Some(moved) = list.swap_remove(state, index)? {
            let (other, other_power) = layout::unpack_member(moved);
            write_member(state, other, other_power, index + 1)?;
        }
        write_member(state, account, 0, 0)?;
    } else {
        list.set(
            state,
            position_plus_one - 1,
            layout::pack_member(account, power),
        )?;
        write_member(state, account, power, position_plus_one)?;
    }
    let from = block + 2;
    state.sstore(layout::valset_slot(), Word::from_u64(from))?;
    state.emit(&IGovernance::ValidatorSetChanged {
        validator: account,
        power,
        effectiveFrom: from,
        proposal,
    })
}
