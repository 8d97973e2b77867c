//! Authority issuers: accounts the committee admits to issue credentials of an issuer type
//! (`kyc`, `credit`, `business-licence`, ...). Only the committee changes this registry: the
//! caller of `admitIssuer` and `removeIssuer` must be the module that answers role questions
//! (Governance), which calls them when a proposal of kind `ModuleCall` passes.

use crate::{IIdentity, layout, text};
use alloy_primitives::Address;
use alloy_sol_types::SolValue;
use banyan_module_api::{
    ModuleCallContext, ModuleError, ModuleState, ViewKind,
    slots::{Packer, Word},
};

/// Most issuer types one issuer holds.
pub const MAX_TYPES_PER_ISSUER: usize = 8;
/// Most authority issuers of a chain.
pub const MAX_ISSUERS: u64 = 1024;
/// The largest stored issuer record, in bytes.
const MAX_RECORD_BYTES: usize = 2048;

/// Refuses a caller that is not the committee.
fn committee_only(
    ctx: &ModuleCallContext,
    state: &ModuleState<'_>,
    what: &str,
) -> Result<(), ModuleError> {
    match state.answerer(ViewKind::Role) {
        Some(committee) if committee == ctx.caller => Ok(()),
        Some(committee) => Err(ModuleError::revert(format!(
            "Identity: only the committee {what}, through a passed Governance proposal of kind \
             ModuleCall (the call comes from {committee}), not {}",
            ctx.caller
        ))),
        None => Err(ModuleError::revert(format!(
            "Identity: this chain runs no Governance module, so nobody {what}"
        ))),
    }
}

/// The record of `issuer`; `None` when it was never admitted.
pub fn read(
    state: &mut ModuleState<'_>,
    issuer: Address,
) -> Result<Option<IIdentity::Issuer>, ModuleError> {
    let bytes = state.load_bytes(layout::issuer(issuer), MAX_RECORD_BYTES)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    IIdentity::Issuer::abi_decode(&bytes)
        .map(Some)
        .map_err(|e| {
            ModuleError::Invariant(format!(
                "Identity: the stored issuer record of {issuer} does not decode: {e}"
            ))
        })
}

/// Whether `issuer` is now admitted for `issuer_type`.
pub fn is_authority(
    state: &mut ModuleState<'_>,
    issuer: Address,
    issuer_type: &str,
) -> Result<bool, ModuleError> {
    if issuer_type.is_empty() || issuer_type.len() > text::MAX_ISSUER_TYPE_BYTES {
        return Ok(false);
    }
    Ok(!state
        .sload(layout::authority(issuer, issuer_type))?
        .is_zero())
}

/// Admits `issuer` for `issuer_type`.
pub fn admit(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    issuer: Address,
    issuer_type: &str,
    name: &str,
) -> Result<(), ModuleError> {
    committee_only(ctx, state, "admits authority issuers")?;
    text::issuer_type(issuer_type)?;
    text::label("issuer name", name, text::MAX_NAME_BYTES)?;
    if issuer == Address::ZERO || state.is_module(issuer) {
        return Err(ModuleError::revert(format!(
            "Identity: {issuer} cannot be an authority issuer (the zero address or a module)"
        )));
    }
    let mut record = read(state, issuer)?.unwrap_or(IIdentity::Issuer {
        account: issuer,
        name: String::new(),
        issuerTypes: Vec::new(),
        admittedAt: ctx.timestamp,
    });
    if record.issuerTypes.iter().any(|t| t == issuer_type) {
        return Err(ModuleError::revert(format!(
            "Identity: {issuer} is already an authority issuer of type {issuer_type}"
        )));
    }
    if record.issuerTypes.len() >= MAX_TYPES_PER_ISSUER {
        return Err(ModuleError::revert(format!(
            "Identity: {issuer} already holds the maximum of {MAX_TYPES_PER_ISSUER} issuer types"
        )));
    }
    if record.issuerTypes.is_empty() {
        let listed = layout::issuers();
        if listed.len(state)? >= MAX_ISSUERS {
            return Err(ModuleError::revert(format!(
                "Identity: the chain already has the maximum of {MAX_ISSUERS} authority issuers"
            )));
        }
        let position = listed.push(state, address_word(issuer))?;
        state.sstore(layout::issuer_at(issuer), Word::from_u64(position + 1))?;
        record.admittedAt = ctx.timestamp;
    }
    record.name = name.to_string();
    record.issuerTypes.push(issuer_type.to_string());
    state.store_bytes(layout::issuer(issuer), &record.abi_encode())?;
    state.sstore(layout::authority(issuer, issuer_type), Word::from_u64(1))?;
    state.emit(&IIdentity::IssuerAdmitted {
        issuer,
        issuerType: issuer_type.to_string(),
        name: name.to_string(),
    })
}

/// Withdraws `issuer`'s authority for `issuer_type`.
pub fn remove(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    issuer: Address,
    issuer_type: &str,
) -> Result<(), ModuleError> {
    committee_only(ctx, state, "removes authority issuers")?;
    let mut record = read(state, issuer)?.unwrap_or_default();
    let Some(index) = record.issuerTypes.iter().position(|t| t == issuer_type) else {
        return Err(ModuleError::revert(format!(
            "Identity: {issuer} is not an authority issuer of type {issuer_type:?}"
        )));
    };
    record.issuerTypes.remove(index);
    state.sstore(layout::authority(issuer, issuer_type), Word::ZERO)?;
    if record.issuerTypes.is_empty() {
        let at = layout::issuer_at(issuer);
        let position = state.sload(at)?.as_u64().checked_sub(1).ok_or_else(|| {
            ModuleError::Invariant(format!(
                "Identity: issuer {issuer} is admitted but not listed"
            ))
        })?;
        if let Some(moved) = layout::issuers().swap_remove(state, position)? {
            let moved = moved.unpack().address();
            state.sstore(layout::issuer_at(moved), Word::from_u64(position + 1))?;
        }
        state.sstore(at, Word::ZERO)?;
    }
    state.store_bytes(layout::issuer(issuer), &record.abi_encode())?;
    state.emit(&IIdentity::IssuerRemoved {
        issuer,
        issuerType: issuer_type.to_string(),
    })
}

/// A page of the authority issuers.
pub fn page(
    state: &mut ModuleState<'_>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Address>, u64), ModuleError> {
    let (words, total) = layout::issuers().page(state, offset, limit)?;
    Ok((
        words.into_iter().map(|w| w.unpack().address()).collect(),
        total,
    ))
}

fn address_word(account: Address) -> Word {
    Packer::new().address(account).word()
}
