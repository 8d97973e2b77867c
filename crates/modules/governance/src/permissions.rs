//! Permissions the committee sets and every node enforces: frozen accounts and contracts, the
//! deploy and method permission switches, contract admins and their per-function access lists.
//!
//! Enforced in two places that read the same state and give the same reasons: the screen
//! (every transaction, when the pool admits it and again when its turn comes in a block) and
//! the call guard (every call frame to a contract, at any depth, so a contract cannot be used
//! to reach a frozen contract or a closed function).

use crate::{IGovernance, holds_role, layout};
use alloy_primitives::Address;
use banyan_module_api::{
    GuardedCall, ModuleCallContext, ModuleError, ModuleState, Role, ScreenedTx, function_selector,
    slots::Word,
};
use layout::SwitchesWord;

/// Accounts one function's access list may hold.
pub const MAX_METHOD_ACCOUNTS: u64 = 64;

/// Access codes (the interface's `Access` enum).
pub(crate) const OPEN: u8 = 0;
pub(crate) const ALLOW_LIST: u8 = 1;
pub(crate) const DENY_LIST: u8 = 2;

/// Permission codes (the interface's `Permission` enum).
pub(crate) const DEPLOY: u8 = 1;
pub(crate) const METHOD: u8 = 2;

/// The proposal that froze `account`; 0 when it is not frozen.
pub(crate) fn frozen_by(state: &mut ModuleState<'_>, account: Address) -> Result<u64, ModuleError> {
    Ok(state.sload(layout::frozen_slot(account))?.as_u64())
}

/// `contract`'s admin; zero when none was named.
pub(crate) fn admin_of(
    state: &mut ModuleState<'_>,
    contract: Address,
) -> Result<Address, ModuleError> {
    Ok(state
        .sload(layout::admin_slot(contract))?
        .unpack()
        .address())
}

fn access_of(
    state: &mut ModuleState<'_>,
    contract: Address,
    selector: [u8; 4],
) -> Result<u8, ModuleError> {
    Ok(state
        .sload(layout::access_slot(contract, selector))?
        .as_u64() as u8)
}

fn listed(
    state: &mut ModuleState<'_>,
    contract: Address,
    selector: [u8; 4],
    account: Address,
) -> Result<bool, ModuleError> {
    Ok(!state
        .sload(layout::access_member_slot(contract, selector, account))?
        .is_zero())
}

fn hex4(selector: [u8; 4]) -> String {
    format!("0x{}", alloy_primitives::hex::encode(selector))
}

/// The screen: refuses a transaction from a frozen account, a contract creation by a
/// non-deployer while deploy permission is on, and a call the call guard would refuse.
pub(crate) fn screen(tx: &ScreenedTx<'_>, state: &mut ModuleState<'_>) -> Result<(), ModuleError> {
    let switches = layout::read_switches(state)?;
    if switches.frozen > 0 {
        let by = frozen_by(state, tx.sender)?;
        if by != 0 {
            return Err(ModuleError::revert(format!(
                "Governance: account {} is frozen by governance proposal {by}, so it cannot send \
                 transactions; the committee can lift it: banyan account unfreeze {}",
                tx.sender, tx.sender
            )));
        }
    }
    match tx.to {
        None if switches.deploy => {
            if holds_role(state, Role::Deployer as u8, tx.sender)? {
                Ok(())
            } else {
                Err(ModuleError::revert(format!(
                    "Governance: only a `deployer` may create contracts while deploy permission \
                     is on, and {} does not hold the role; ask the committee for it: banyan gov \
                     propose grant-role {} deployer",
                    tx.sender, tx.sender
                )))
            }
        }
        None => Ok(()),
        Some(to) => {
            match call_refusal(state, &switches, tx.sender, to, function_selector(tx.input))? {
                Some(reason) => Err(ModuleError::revert(reason)),
                None => Ok(()),
            }
        }
    }
}

/// The call guard: refuses a call frame to a frozen contract or to a function closed to its
/// caller.
pub(crate) fn guard(call: &GuardedCall, state: &mut ModuleState<'_>) -> Result<(), ModuleError> {
    let switches = layout::read_switches(state)?;
    match call_refusal(state, &switches, call.caller, call.target, call.selector)? {
        Some(reason) => Err(ModuleError::revert(reason)),
        None => Ok(()),
    }
}

/// Why `caller` may not call `target`'s function `selector` now; `None` when it may.
pub(crate) fn call_refusal(
    state: &mut ModuleState<'_>,
    switches: &SwitchesWord,
    caller: Address,
    target: Address,
    selector: [u8; 4],
) -> Result<Option<String>, ModuleError> {
    if switches.frozen > 0 {
        let by = frozen_by(state, target)?;
        // A frozen account without code still receives payments; a frozen contract runs no code.
        if by != 0 && state.account(target)?.has_code {
            return Ok(Some(format!(
                "Governance: contract {target} is frozen by governance proposal {by}, so it \
                 cannot be called; the committee can lift it: banyan account unfreeze {target}"
            )));
        }
    }
    if !switches.method {
        return Ok(None);
    }
    let access = access_of(state, target, selector)?;
    let on_list = match access {
        ALLOW_LIST | DENY_LIST => listed(state, target, selector, caller)?,
        _ => return Ok(None),
    };
    let admin = admin_of(state, target)?;
    let function = hex4(selector);
    Ok(match (access, on_list) {
        (ALLOW_LIST, false) => Some(format!(
            "Governance: {caller} may not call function {function} of contract {target}: method              permission is on and the contract's admin {admin} allows only the accounts on the              function's list, which does not include {caller}; ask the admin to add it              (IGovernance.setMethodAccount)"
        )),
        (DENY_LIST, true) => Some(format!(
            "Governance: {caller} may not call function {function} of contract {target}: method              permission is on and the contract's admin {admin} has put {caller} on the              function's deny list; only the admin can take it off (IGovernance.setMethodAccount)"
        )),
        _ => None,
    })
}

/// `claimContractAdmin`: the creator of a contract (proven by its `CREATE` address) names
/// itself admin, once.
pub(crate) fn claim_admin(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    target: Address,
    nonce: u64,
) -> Result<(), ModuleError> {
    if ctx.caller.create(nonce) != target {
        return Err(ModuleError::revert(format!(
            "Governance: {target} is not the contract {} created with nonce {nonce}; only a \
             contract's creator may claim it (the committee can name any admin: SetContractAdmin)",
            ctx.caller
        )));
    }
    if !state.account(target)?.has_code {
        return Err(ModuleError::revert(format!(
            "Governance: {target} has no code; deploy the contract before claiming it"
        )));
    }
    let current = admin_of(state, target)?;
    if current != Address::ZERO {
        return Err(ModuleError::revert(format!(
            "Governance: {target} already has admin {current}; it can hand the rights on with \
             transferContractAdmin"
        )));
    }
    set_admin(state, target, ctx.caller, ctx.caller, 0)
}

/// `transferContractAdmin`: the admin hands its rights on.
pub(crate) fn transfer_admin(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    target: Address,
    admin: Address,
) -> Result<(), ModuleError> {
    ensure_admin(ctx, state, target)?;
    if admin == Address::ZERO {
        return Err(ModuleError::revert(
            "Governance: the zero address cannot be a contract's admin",
        ));
    }
    set_admin(state, target, admin, ctx.caller, 0)
}

pub(crate) fn set_admin(
    state: &mut ModuleState<'_>,
    target: Address,
    admin: Address,
    by: Address,
    proposal: u64,
) -> Result<(), ModuleError> {
    state.sstore(layout::admin_slot(target), layout::pack_address(admin))?;
    state.emit(&IGovernance::ContractAdminSet {
        target,
        admin,
        by,
        proposal,
    })
}

fn ensure_admin(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    target: Address,
) -> Result<(), ModuleError> {
    let admin = admin_of(state, target)?;
    if admin == ctx.caller {
        return Ok(());
    }
    Err(ModuleError::revert(if admin == Address::ZERO {
        format!(
            "Governance: {target} has no admin yet; its creator claims it with \
             claimContractAdmin(target, nonce), or the committee names one (SetContractAdmin)"
        )
    } else {
        format!(
            "Governance: only {target}'s admin {admin} may change who calls it, not {}",
            ctx.caller
        )
    }))
}

/// `setMethodAccess`.
pub(crate) fn set_access(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    target: Address,
    selector: [u8; 4],
    access: u8,
) -> Result<(), ModuleError> {
    ensure_admin(ctx, state, target)?;
    if access > DENY_LIST {
        return Err(ModuleError::revert(
            "Governance: access must be Open (0), AllowList (1) or DenyList (2)",
        ));
    }
    if access == OPEN {
        let list = layout::access_list(target, selector);
        let (words, _) = list.page(state, 0, MAX_METHOD_ACCOUNTS)?;
        for word in words {
            let account = word.unpack().address();
            state.sstore(
                layout::access_member_slot(target, selector, account),
                Word::ZERO,
            )?;
        }
        list.replace(state, &[])?;
    }
    state.sstore(
        layout::access_slot(target, selector),
        Word::from_u64(u64::from(access)),
    )?;
    state.emit(&IGovernance::MethodAccessSet {
        target,
        selector: selector.into(),
        access: IGovernance::Access::try_from(access).unwrap_or(IGovernance::Access::Open),
        admin: ctx.caller,
    })
}

/// `setMethodAccount`.
pub(crate) fn set_account(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    target: Address,
    selector: [u8; 4],
    account: Address,
    on_list: bool,
) -> Result<(), ModuleError> {
    ensure_admin(ctx, state, target)?;
    if access_of(state, target, selector)? == OPEN {
        return Err(ModuleError::revert(format!(
            "Governance: function {} of {target} is open to everyone; make it an AllowList or \
             DenyList first (setMethodAccess)",
            hex4(selector)
        )));
    }
    let slot = layout::access_member_slot(target, selector, account);
    let list = layout::access_list(target, selector);
    let position = state.sload(slot)?.as_u64();
    match (on_list, position) {
        (true, 0) => {
            if list.len(state)? >= MAX_METHOD_ACCOUNTS {
                return Err(ModuleError::revert(format!(
                    "Governance: function {} of {target} already lists the maximum of \
                     {MAX_METHOD_ACCOUNTS} accounts",
                    hex4(selector)
                )));
            }
            let index = list.push(state, layout::pack_address(account))?;
            state.sstore(slot, Word::from_u64(index + 1))?;
        }
        (false, p) if p > 0 => {
            if let Some(moved) = list.swap_remove(state, p - 1)? {
                let other = moved.unpack().address();
                state.sstore(
                    layout::access_member_slot(target, selector, other),
                    Word::from_u64(p),
                )?;
            }
            state.sstore(slot, Word::ZERO)?;
        }
        _ => {
            return Err(ModuleError::revert(format!(
                "Governance: {account} is {} the list of function {} of {target} already",
                if on_list { "on" } else { "not on" },
                hex4(selector)
            )));
        }
    }
    state.emit(&IGovernance::MethodAccountSet {
        target,
        selector: selector.into(),
        account,
        listed: on_list,
    })
}

/// `methodAccess`: the function's access and its list.
pub(crate) fn method_access(
    state: &mut ModuleState<'_>,
    target: Address,
    selector: [u8; 4],
) -> Result<(u8, Vec<Address>), ModuleError> {
    let access = access_of(state, target, selector)?;
    let (words, _) = layout::access_list(target, selector).page(state, 0, MAX_METHOD_ACCOUNTS)?;
    Ok((
        access,
        words.into_iter().map(|w| w.unpack().address()).collect(),
    ))
}

/// Whether `address` is a precompile's or a module's (the first 18 bytes zero): never frozen.
pub(crate) fn is_reserved(address: Address) -> bool {
    address.as_slice()[..18].iter().all(|b| *b == 0)
}
