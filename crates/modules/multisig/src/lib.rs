//! `banyan-module-multisig`: accounts controlled by M of N owner keys, a stateful native module
//! at [`MULTISIG_ADDRESS`] with the Solidity interface `contracts/interfaces/IMultisig.sol`.
//!
//! A wallet is an address no key controls. Its owners propose *operations* (a call of one of the
//! chain's native modules, made with the wallet as `msg.sender`) and approve them, each with its
//! own transaction; the approval that reaches the threshold executes the operation in that call,
//! exactly once. A failed call leaves the operation `Failed` with the reason and applies nothing
//! of it (the module call runs under a checkpoint); the approving transaction still succeeds.
//! Owners and threshold change only through an operation of the wallet itself (`setOwners`);
//! each change bumps the wallet's version, and pending operations of an older version end
//! `Superseded` instead of passing under owners who never approved them.
//!
//! State layout (all in the module account's storage, slot = keccak256(namespace ‖ 0x00 ‖ key)):
//!
//! | slot | content |
//! |---|---|
//! | `multisig.wallets` | number of wallets created |
//! | `multisig.wallet` ‖ wallet | threshold (2) ‖ version (8) ‖ exists (1) |
//! | `multisig.owners` ‖ wallet | the owners (list of address words) |
//! | `multisig.owner` ‖ wallet ‖ owner | 1 when an owner |
//! | `multisig.operations` | number of operations |
//! | `multisig.op` ‖ id (8) = `O` | wallet (20) ‖ status (1) ‖ threshold (2); `O+1` target; `O+2` proposer; `O+3` approvals (8) ‖ version (8) ‖ created at (8) ‖ closed at (8); `O+4` data; `O+5` description; `O+6` failure reason (bytes) |
//! | `multisig.approval` ‖ id (8) ‖ owner | 1 when approved |
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use alloy_primitives::{Address, Bytes, address, keccak256};
use alloy_sol_types::{SolCall, SolInterface};
use banyan_module_api::{
    ModuleCallContext, ModuleError, ModuleState, NativeModule, ViewAnswer, ViewQuery, bad_call,
    failure_reason, gas,
    slots::{Packer, Slot, Word, WordList},
};

/// The Solidity interface, generated from `contracts/interfaces/IMultisig.sol`.
#[allow(missing_docs)]
mod abi {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        "../../../contracts/interfaces/IMultisig.sol"
    );
}
use IMultisig::IMultisigCalls as Call;
pub use abi::IMultisig;

/// Where Multisig lives on every chain that enables it.
pub const MULTISIG_ADDRESS: Address = address!("0000000000000000000000000000000000001003");
/// The version of the module's rules and state layout.
pub const VERSION: u32 = 1;
/// Owners one wallet may have.
pub const MAX_OWNERS: usize = 16;
/// Bytes of an operation's call data.
pub const MAX_DATA_BYTES: usize = 1024;
/// Bytes of an operation's description.
pub const MAX_DESCRIPTION_BYTES: usize = 256;
/// Bytes of a stored failure reason.
pub const MAX_REASON_BYTES: usize = 256;

mod status {
    pub(crate) const PENDING: u8 = 1;
    pub(crate) const EXECUTED: u8 = 2;
    pub(crate) const FAILED: u8 = 3;
    pub(crate) const SUPERSEDED: u8 = 4;
    pub(crate) const CANCELLED: u8 = 5;

    pub(crate) fn name(code: u8) -> &'static str {
        match code {
            PENDING => "Pending",
            EXECUTED => "Executed",
            FAILED => "Failed",
            SUPERSEDED => "Superseded",
            CANCELLED => "Cancelled",
            _ => "None",
        }
    }
}

/// The name of a status, as the CLI and the docs spell it.
pub fn status_name(status: IMultisig::Status) -> &'static str {
    status::name(u8::from(status))
}

fn wallets_slot() -> Slot {
    Slot::named("multisig.wallets", &[])
}
fn wallet_slot(wallet: Address) -> Slot {
    Slot::named("multisig.wallet", wallet.as_slice())
}
fn owners(wallet: Address) -> WordList {
    WordList(Slot::named("multisig.owners", wallet.as_slice()))
}
fn owner_slot(wallet: Address, owner: Address) -> Slot {
    let mut key = wallet.to_vec();
    key.extend_from_slice(owner.as_slice());
    Slot::named("multisig.owner", &key)
}
fn operations_slot() -> Slot {
    Slot::named("multisig.operations", &[])
}
fn op_slot(id: u64) -> Slot {
    Slot::named("multisig.op", &id.to_be_bytes())
}
fn approval_slot(id: u64, owner: Address) -> Slot {
    let mut key = id.to_be_bytes().to_vec();
    key.extend_from_slice(owner.as_slice());
    Slot::named("multisig.approval", &key)
}

/// A wallet's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WalletWord {
    threshold: u16,
    version: u64,
}

fn read_wallet(
    state: &mut ModuleState<'_>,
    wallet: Address,
) -> Result<Option<WalletWord>, ModuleError> {
    let mut f = state.sload(wallet_slot(wallet))?.unpack();
    let (threshold, version, exists) = (f.u16(), f.u64(), f.u8());
    Ok((exists != 0).then_some(WalletWord { threshold, version }))
}

fn write_wallet(
    state: &mut ModuleState<'_>,
    wallet: Address,
    w: WalletWord,
) -> Result<(), ModuleError> {
    let word = Packer::new().u16(w.threshold).u64(w.version).u8(1).word();
    state.sstore(wallet_slot(wallet), word)
}

fn existing_wallet(
    state: &mut ModuleState<'_>,
    wallet: Address,
) -> Result<WalletWord, ModuleError> {
    read_wallet(state, wallet)?.ok_or_else(|| {
        ModuleError::revert(format!(
            "Multisig: {wallet} is not a multi-signature wallet; create one with createWallet \
             (banyan multisig create)"
        ))
    })
}

fn is_owner(
    state: &mut ModuleState<'_>,
    wallet: Address,
    owner: Address,
) -> Result<bool, ModuleError> {
    Ok(!state.sload(owner_slot(wallet, owner))?.is_zero())
}

fn owner_list(state: &mut ModuleState<'_>, wallet: Address) -> Result<Vec<Address>, ModuleError> {
    let (words, _) = owners(wallet).page(state, 0, MAX_OWNERS as u64)?;
    Ok(words.into_iter().map(|w| w.unpack().address()).collect())
}

fn check_owners(list: &[Address], threshold: u16) -> Result<(), ModuleError> {
    if list.is_empty() || list.len() > MAX_OWNERS {
        return Err(ModuleError::revert(format!(
            "Multisig: a wallet has 1 to {MAX_OWNERS} owners, got {}",
            list.len()
        )));
    }
    for (i, owner) in list.iter().enumerate() {
        if *owner == Address::ZERO || list[..i].contains(owner) {
            return Err(ModuleError::revert(format!(
                "Multisig: owner {owner} is the zero address or listed twice"
            )));
        }
    }
    if threshold == 0 || usize::from(threshold) > list.len() {
        return Err(ModuleError::revert(format!(
            "Multisig: the threshold must be 1 to the number of owners ({}), got {threshold}",
            list.len()
        )));
    }
    Ok(())
}

fn write_owners(
    state: &mut ModuleState<'_>,
    wallet: Address,
    list: &[Address],
) -> Result<(), ModuleError> {
    for old in owner_list(state, wallet)? {
        state.sstore(owner_slot(wallet, old), Word::ZERO)?;
    }
    let words: Vec<Word> = list
        .iter()
        .map(|a| Packer::new().address(*a).word())
        .collect();
    owners(wallet).replace(state, &words)?;
    for owner in list {
        state.sstore(owner_slot(wallet, *owner), Word::from_u64(1))?;
    }
    Ok(())
}

/// The fixed fields of an operation.
#[derive(Clone, Copy, Debug)]
struct OpFields {
    wallet: Address,
    status: u8,
    threshold: u16,
    target: Address,
    proposer: Address,
    approvals: u64,
    version: u64,
    created_at: u64,
    closed_at: u64,
}

fn read_op(state: &mut ModuleState<'_>, id: u64) -> Result<Option<OpFields>, ModuleError> {
    let base = op_slot(id);
    let head = state.sload(base)?;
    if head.is_zero() {
        return Ok(None);
    }
    let mut h = head.unpack();
    let target = state.sload(base.offset(1))?.unpack().address();
    let proposer = state.sload(base.offset(2))?.unpack().address();
    let mut t = state.sload(base.offset(3))?.unpack();
    Ok(Some(OpFields {
        wallet: h.address(),
        status: h.u8(),
        threshold: h.u16(),
        target,
        proposer,
        approvals: t.u64(),
        version: t.u64(),
        created_at: t.u64(),
        closed_at: t.u64(),
    }))
}

fn write_op(state: &mut ModuleState<'_>, id: u64, f: &OpFields) -> Result<(), ModuleError> {
    let base = op_slot(id);
    state.sstore(
        base,
        Packer::new()
            .address(f.wallet)
            .u8(f.status)
            .u16(f.threshold)
            .word(),
    )?;
    state.sstore(base.offset(1), Packer::new().address(f.target).word())?;
    state.sstore(base.offset(2), Packer::new().address(f.proposer).word())?;
    state.sstore(
        base.offset(3),
        Packer::new()
            .u64(f.approvals)
            .u64(f.version)
            .u64(f.created_at)
            .u64(f.closed_at)
            .word(),
    )
}

fn existing_op(state: &mut ModuleState<'_>, id: u64) -> Result<OpFields, ModuleError> {
    match read_op(state, id)? {
        Some(f) => Ok(f),
        None => {
            let count = state.sload(operations_slot())?.as_u64();
            Err(ModuleError::revert(format!(
                "Multisig: there is no operation {id}; ids run from 1 to {count}"
            )))
        }
    }
}

/// The status as it stands: a pending operation of an older wallet version is superseded.
fn effective_status(state: &mut ModuleState<'_>, f: &OpFields) -> Result<u8, ModuleError> {
    if f.status != status::PENDING {
        return Ok(f.status);
    }
    let wallet = existing_wallet(state, f.wallet)?;
    Ok(if wallet.version != f.version {
        status::SUPERSEDED
    } else {
        status::PENDING
    })
}

/// Refuses unless the operation is pending. A superseded one is not written as such: reads
/// compute it from the wallet's version.
fn ensure_pending(state: &mut ModuleState<'_>, id: u64, f: &OpFields) -> Result<(), ModuleError> {
    match effective_status(state, f)? {
        status::PENDING => Ok(()),
        status::SUPERSEDED => Err(ModuleError::revert(format!(
            "Multisig: operation {id} is superseded: the owners or threshold of wallet {} \
                 changed since it was proposed; propose it again",
            f.wallet
        ))),
        code => Err(ModuleError::revert(format!(
            "Multisig: operation {id} is closed: {} at block {}",
            status::name(code),
            f.closed_at
        ))),
    }
}

/// The address of the `index`-th wallet of the chain: no key controls it.
pub fn wallet_address(chain_id: u64, index: u64) -> Address {
    let mut preimage = b"banyan.multisig".to_vec();
    preimage.extend_from_slice(&chain_id.to_be_bytes());
    preimage.extend_from_slice(&index.to_be_bytes());
    Address::from_slice(&keccak256(&preimage)[12..])
}

/// The Multisig module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Multisig;

impl NativeModule for Multisig {
    fn address(&self) -> Address {
        MULTISIG_ADDRESS
    }

    fn name(&self) -> &'static str {
        "multisig"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn call(
        &self,
        ctx: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        state.charge(gas::call_cost(input.len()))?;
        let call = Call::abi_decode(input).map_err(|error| {
            bad_call("Multisig", "IMultisig.sol", Call::SELECTORS, input, &error)
        })?;
        let output = match call {
            Call::createWallet(call) => {
                check_owners(&call.owners, call.threshold)?;
                let index = state.sload(wallets_slot())?.as_u64();
                let wallet = wallet_address(ctx.chain_id, index);
                state.sstore(wallets_slot(), Word::from_u64(index + 1))?;
                write_wallet(
                    state,
                    wallet,
                    WalletWord {
                        threshold: call.threshold,
                        version: 0,
                    },
                )?;
                write_owners(state, wallet, &call.owners)?;
                state.emit(&IMultisig::WalletCreated {
                    wallet,
                    creator: ctx.caller,
                    owners: call.owners,
                    threshold: call.threshold,
                })?;
                IMultisig::createWalletCall::abi_encode_returns(&wallet)
            }
            Call::propose(call) => {
                let id = propose(ctx, state, &call)?;
                IMultisig::proposeCall::abi_encode_returns(&id)
            }
            Call::approve(call) => {
                approve(ctx, state, call.id)?;
                Vec::new()
            }
            Call::execute(call) => {
                let f = existing_op(state, call.id)?;
                ensure_pending(state, call.id, &f)?;
                // Pending means below the threshold: reaching it executes at once.
                return Err(ModuleError::revert(format!(
                    "Multisig: operation {} has {} of the {} approvals it needs; its wallet's \
                     owners approve it with banyan multisig approve {}",
                    call.id, f.approvals, f.threshold, call.id
                )));
            }
            Call::cancel(call) => {
                let mut f = existing_op(state, call.id)?;
                if f.proposer != ctx.caller {
                    return Err(ModuleError::revert(format!(
                        "Multisig: only operation {}'s proposer {} may cancel it, not {}",
                        call.id, f.proposer, ctx.caller
                    )));
                }
                ensure_pending(state, call.id, &f)?;
                f.status = status::CANCELLED;
                f.closed_at = ctx.block_number;
                write_op(state, call.id, &f)?;
                state.emit(&IMultisig::OperationCancelled { id: call.id })?;
                Vec::new()
            }
            Call::setOwners(call) => {
                let Some(mut wallet) = read_wallet(state, ctx.caller)? else {
                    return Err(ModuleError::revert(format!(
                        "Multisig: setOwners changes the calling wallet, and {} is not one; \
                         propose it as an operation of the wallet",
                        ctx.caller
                    )));
                };
                check_owners(&call.owners, call.threshold)?;
                write_owners(state, ctx.caller, &call.owners)?;
                wallet.threshold = call.threshold;
                wallet.version += 1;
                write_wallet(state, ctx.caller, wallet)?;
                state.emit(&IMultisig::OwnersChanged {
                    wallet: ctx.caller,
                    owners: call.owners,
                    threshold: call.threshold,
                    version: wallet.version,
                })?;
                Vec::new()
            }
            Call::getOperation(call) => {
                let op = read_operation(state, call.id)?;
                IMultisig::getOperationCall::abi_encode_returns(&op)
            }
            Call::operationCount(_) => {
                let count = state.sload(operations_slot())?.as_u64();
                IMultisig::operationCountCall::abi_encode_returns(&count)
            }
            Call::walletInfo(call) => {
                let w = existing_wallet(state, call.wallet)?;
                let owners = owner_list(state, call.wallet)?;
                IMultisig::walletInfoCall::abi_encode_returns(&IMultisig::walletInfoReturn {
                    owners,
                    threshold: w.threshold,
                    version: w.version,
                })
            }
            Call::hasApproved(call) => {
                let approved = !state.sload(approval_slot(call.id, call.owner))?.is_zero();
                IMultisig::hasApprovedCall::abi_encode_returns(&approved)
            }
        };
        Ok(output.into())
    }
}

fn check_text(field: &str, text: &[u8], max: usize) -> Result<(), ModuleError> {
    if text.len() > max {
        return Err(ModuleError::revert(format!(
            "Multisig: the {field} is {} bytes, above the {max}-byte bound",
            text.len()
        )));
    }
    Ok(())
}

fn not_an_owner(who: Address, wallet: Address, doing: &str) -> ModuleError {
    ModuleError::revert(format!(
        "Multisig: {who} is not an owner of wallet {wallet}, so it cannot {doing}; its owners \
         are listed by walletInfo (banyan multisig show {wallet})"
    ))
}

/// Refuses a frozen wallet (Governance's freeze applies to wallets as to any account).
fn ensure_not_frozen(state: &mut ModuleState<'_>, wallet: Address) -> Result<(), ModuleError> {
    match state.ask(&ViewQuery::FrozenBy { account: wallet }) {
        Ok(ViewAnswer::FrozenBy(by)) if by != 0 => Err(ModuleError::revert(format!(
            "Multisig: wallet {wallet} is frozen by governance proposal {by}, so it cannot act; \
             the committee can lift it: banyan account unfreeze {wallet}"
        ))),
        // A chain without Governance has no freezes.
        Ok(_) | Err(ModuleError::Revert(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

fn propose(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: &IMultisig::proposeCall,
) -> Result<u64, ModuleError> {
    let wallet = existing_wallet(state, call.wallet)?;
    if !is_owner(state, call.wallet, ctx.caller)? {
        return Err(not_an_owner(ctx.caller, call.wallet, "propose"));
    }
    check_text("call data", &call.data, MAX_DATA_BYTES)?;
    check_text(
        "description",
        call.description.as_bytes(),
        MAX_DESCRIPTION_BYTES,
    )?;
    if !state.is_module(call.target) {
        return Err(ModuleError::revert(format!(
            "Multisig: {} is not a native module of this chain; a wallet acts on native modules \
             only (governance, evidence, and the payment and identity modules)",
            call.target
        )));
    }
    ensure_not_frozen(state, call.wallet)?;
    let id = state.sload(operations_slot())?.as_u64() + 1;
    state.sstore(operations_slot(), Word::from_u64(id))?;
    let mut f = OpFields {
        wallet: call.wallet,
        status: status::PENDING,
        threshold: wallet.threshold,
        target: call.target,
        proposer: ctx.caller,
        approvals: 1,
        version: wallet.version,
        created_at: ctx.block_number,
        closed_at: 0,
    };
    write_op(state, id, &f)?;
    let base = op_slot(id);
    state.store_bytes(base.offset(4), &call.data)?;
    state.store_bytes(base.offset(5), call.description.as_bytes())?;
    state.sstore(approval_slot(id, ctx.caller), Word::from_u64(1))?;
    state.emit(&IMultisig::OperationProposed {
        id,
        wallet: call.wallet,
        proposer: ctx.caller,
        target: call.target,
    })?;
    state.emit(&IMultisig::Approved {
        id,
        owner: ctx.caller,
        approvals: 1,
    })?;
    settle(ctx, state, id, &mut f)?;
    Ok(id)
}

fn approve(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
) -> Result<(), ModuleError> {
    let mut f = existing_op(state, id)?;
    ensure_pending(state, id, &f)?;
    if !is_owner(state, f.wallet, ctx.caller)? {
        return Err(not_an_owner(ctx.caller, f.wallet, "approve"));
    }
    let slot = approval_slot(id, ctx.caller);
    if !state.sload(slot)?.is_zero() {
        return Err(ModuleError::revert(format!(
            "Multisig: {} has already approved operation {id} ({} of {})",
            ctx.caller, f.approvals, f.threshold
        )));
    }
    state.sstore(slot, Word::from_u64(1))?;
    f.approvals += 1;
    write_op(state, id, &f)?;
    state.emit(&IMultisig::Approved {
        id,
        owner: ctx.caller,
        approvals: f.approvals,
    })?;
    settle(ctx, state, id, &mut f)
}

/// Executes the operation once its approvals reach the threshold: the call is made as the
/// wallet under a checkpoint; a failure is recorded and applies nothing.
fn settle(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    id: u64,
    f: &mut OpFields,
) -> Result<(), ModuleError> {
    if f.approvals < u64::from(f.threshold) {
        return Ok(());
    }
    ensure_not_frozen(state, f.wallet)?;
    let data = state.load_bytes(op_slot(id).offset(4), MAX_DATA_BYTES)?;
    f.closed_at = ctx.block_number;
    match state.call_module(ctx, f.target, f.wallet, &data) {
        Ok(_) => {
            f.status = status::EXECUTED;
            write_op(state, id, f)?;
            state.emit(&IMultisig::OperationExecuted { id })
        }
        Err(ModuleError::Revert(data)) => {
            let reason = failure_reason(&data, MAX_REASON_BYTES);
            f.status = status::FAILED;
            write_op(state, id, f)?;
            state.store_bytes(op_slot(id).offset(6), reason.as_bytes())?;
            state.emit(&IMultisig::OperationFailed { id, reason })
        }
        // Out of gas or unreadable state: the approving call fails as a whole.
        Err(other) => Err(other),
    }
}

fn read_operation(
    state: &mut ModuleState<'_>,
    id: u64,
) -> Result<IMultisig::Operation, ModuleError> {
    let f = existing_op(state, id)?;
    let status = effective_status(state, &f)?;
    let base = op_slot(id);
    let text = |state: &mut ModuleState<'_>, slot, max| -> Result<String, ModuleError> {
        Ok(String::from_utf8_lossy(&state.load_bytes(slot, max)?).into_owned())
    };
    Ok(IMultisig::Operation {
        id,
        wallet: f.wallet,
        target: f.target,
        data: state.load_bytes(base.offset(4), MAX_DATA_BYTES)?.into(),
        description: text(state, base.offset(5), MAX_DESCRIPTION_BYTES)?,
        proposer: f.proposer,
        status: IMultisig::Status::try_from(status).unwrap_or(IMultisig::Status::None),
        approvals: f.approvals,
        threshold: f.threshold,
        version: f.version,
        createdAt: f.created_at,
        closedAt: f.closed_at,
        reason: text(state, base.offset(6), MAX_REASON_BYTES)?,
    })
}
