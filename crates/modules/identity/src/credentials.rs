//! Issued credentials: the ledger records which credential an authority issuer issued (its
//! hash), to whom, under which schema and for how long, and its status, never what it says.
//!
//! Status follows the W3C Bitstring Status List: each issuer has lists of 131,072 bits per
//! purpose (revocation, suspension); a credential takes one index when it is issued, and its
//! bit in each list says whether it is revoked or suspended. The record of each credential keeps
//! the same facts, so that the check other modules ask ([`check_held`]) and a verifier reading
//! the lists (`statusWords`; served as `BitstringStatusListCredential`s once the credential half
//! is built) always agree.

use crate::{IIdentity, did, issuers, layout, schemas, text};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolCall;
use banyan_module_api::{
    ModuleCallContext, ModuleError, ModuleState, ViewAnswer, ViewKind, ViewQuery, slots::Word,
};
use banyan_module_evidence::IEvidence;

/// Bits in one status list (16 KiB, the Bitstring Status List's minimum size).
pub const LIST_BITS: u32 = 131_072;
/// 32-byte words in one status list.
pub const LIST_WORDS: u32 = LIST_BITS / 256;
/// Status lists per issuer and purpose.
pub const MAX_LISTS: u32 = 256;
/// The first status index an issuer cannot use.
pub const MAX_STATUS_INDEX: u64 = LIST_BITS as u64 * MAX_LISTS as u64;
/// The Evidence kind credentials are anchored as.
pub const EVIDENCE_KIND: &str = "vc";

/// Status purposes (the interface's `StatusPurpose`).
pub mod purpose {
    /// Revocation: final.
    pub const REVOCATION: u8 = 1;
    /// Suspension: may be lifted.
    pub const SUSPENSION: u8 = 2;
}

/// Why a subject's credential does not count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The credential checked (zero when the subject has none of the schema).
    pub credential: B256,
    /// What is wrong with it, naming the schema.
    pub reason: String,
}

/// Records an issued credential.
pub fn issue(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: IIdentity::issueCredentialCall,
) -> Result<(), ModuleError> {
    let issuer = ctx.caller;
    if call.hash == B256::ZERO {
        return Err(ModuleError::revert(
            "Identity: the zero hash names no credential; pass the credential's hash",
        ));
    }
    if layout::CredentialFields::read(state, call.hash)?.is_some() {
        return Err(ModuleError::revert(format!(
            "Identity: credential {} is already recorded",
            call.hash
        )));
    }
    let issuer_type = schemas::issuer_type_of(state, call.schemaId)?
        .ok_or_else(|| schemas::unknown(call.schemaId))?;
    if !issuers::is_authority(state, issuer, &issuer_type)? {
        return Err(ModuleError::revert(format!(
            "Identity: {issuer} is not an authority issuer of type {issuer_type}, which schema \
             {} requires",
            call.schemaId
        )));
    }
    if !did::is_active(state, issuer)? {
        return Err(ModuleError::revert(format!(
            "Identity: the issuer {issuer} has no active DID"
        )));
    }
    if !did::is_active(state, call.subject)? {
        return Err(ModuleError::revert(format!(
            "Identity: the subject {} has no active DID; credentials are issued to DIDs",
            call.subject
        )));
    }
    if call.validUntil != 0 && call.validUntil <= call.validFrom.max(ctx.timestamp) {
        return Err(ModuleError::revert(format!(
            "Identity: validUntil {} is not after validFrom {} and the block time {}",
            call.validUntil, call.validFrom, ctx.timestamp
        )));
    }
    let index = call.statusIndex;
    if u64::from(index) >= MAX_STATUS_INDEX {
        return Err(ModuleError::revert(format!(
            "Identity: status index {index} is beyond the last list (indexes are below \
             {MAX_STATUS_INDEX})"
        )));
    }
    let index_slot = layout::status_index(issuer, index);
    let used_by = state.sload_b256(index_slot)?;
    if used_by != B256::ZERO {
        return Err(ModuleError::revert(format!(
            "Identity: status index {index} of {issuer} is used by credential {used_by}; take \
             nextStatusIndex"
        )));
    }
    layout::CredentialFields {
        issuer,
        status_index: index,
        revoked: false,
        suspended: false,
        subject: call.subject,
        issued_block: ctx.block_number,
        schema: call.schemaId,
        valid_from: call.validFrom,
        valid_until: call.validUntil,
        issued_at: ctx.timestamp,
    }
    .write(state, call.hash)?;
    state.sstore(index_slot, Word::from(call.hash))?;
    let next = layout::next_status(issuer);
    if u64::from(index) >= state.sload(next)?.as_u64() {
        state.sstore(next, Word::from_u64(u64::from(index) + 1))?;
    }
    // The subject's credential of the schema becomes this one, unless one of another issuer
    // still counts: no issuer displaces another's valid credential (with a shorter validity, or
    // by revoking its own).
    let held = layout::held(call.subject, call.schemaId);
    let current = state.sload_b256(held)?;
    let replace = current == B256::ZERO
        || layout::CredentialFields::read(state, current)?.is_none_or(|f| f.issuer == issuer)
        || check_held(ctx.timestamp, state, call.subject, call.schemaId)?.is_err();
    if replace {
        state.sstore(held, Word::from(call.hash))?;
    }
    let anchored = state.answers(ViewKind::EvidenceAnchor)
        && matches!(
            state.ask(&ViewQuery::EvidenceAnchor { hash: call.hash })?,
            ViewAnswer::EvidenceAnchor(Some(_))
        );
    // A hash someone anchored already (the issuer, or anyone who saw it first) is not anchored
    // again, so nobody can stop an issuance by anchoring its hash first; Identity's record is
    // what the checks read.
    if let (Some(evidence), false) = (state.answerer(ViewKind::EvidenceAnchor), anchored) {
        // As the issuer, who asked for this call: the anchor is theirs, as if they anchored it.
        let anchor = IEvidence::anchorCall {
            hash: call.hash,
            kind: EVIDENCE_KIND.into(),
            referenceId: String::new(),
            metadata: Bytes::new(),
        };
        state.call_module(ctx, evidence, issuer, &anchor.abi_encode())?;
    }
    state.emit(&IIdentity::CredentialIssued {
        hash: call.hash,
        issuer,
        subject: call.subject,
        schemaId: call.schemaId,
        statusIndex: index,
    })
}

/// Reads a credential the caller issued, for a status change.
fn own(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    hash: B256,
) -> Result<layout::CredentialFields, ModuleError> {
    let fields = layout::CredentialFields::read(state, hash)?.ok_or_else(|| unknown(hash))?;
    if fields.issuer != ctx.caller {
        return Err(ModuleError::revert(format!(
            "Identity: credential {hash} was issued by {}; only its issuer changes its status",
            fields.issuer
        )));
    }
    if fields.revoked {
        return Err(ModuleError::revert(format!(
            "Identity: credential {hash} is revoked; revocation is final"
        )));
    }
    Ok(fields)
}

fn unknown(hash: B256) -> ModuleError {
    ModuleError::revert(format!("Identity: no credential {hash} is recorded"))
}

/// Revokes a credential for good.
pub fn revoke(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    hash: B256,
    reason: &str,
) -> Result<(), ModuleError> {
    let mut fields = own(ctx, state, hash)?;
    text::label("reason", reason, text::MAX_REASON_BYTES)?;
    fields.revoked = true;
    fields.write(state, hash)?;
    set_bit(
        state,
        fields.issuer,
        purpose::REVOCATION,
        fields.status_index,
        true,
    )?;
    if let Some(evidence) = state.answerer(ViewKind::EvidenceAnchor) {
        let anchored = match state.ask(&ViewQuery::EvidenceAnchor { hash })? {
            ViewAnswer::EvidenceAnchor(Some(facts)) => {
                facts.anchorer == fields.issuer && !facts.revoked
            }
            _ => false,
        };
        if anchored {
            let revoke = IEvidence::revokeCall {
                hash,
                reason: reason.to_string(),
            };
            state.call_module(ctx, evidence, fields.issuer, &revoke.abi_encode())?;
        }
    }
    state.emit(&IIdentity::CredentialRevoked {
        hash,
        issuer: fields.issuer,
        reason: reason.to_string(),
    })
}

/// Suspends or reinstates a credential.
pub fn suspend(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    hash: B256,
    suspended: bool,
    reason: &str,
) -> Result<(), ModuleError> {
    let mut fields = own(ctx, state, hash)?;
    text::label("reason", reason, text::MAX_REASON_BYTES)?;
    if fields.suspended == suspended {
        return Err(ModuleError::revert(format!(
            "Identity: credential {hash} is already {}",
            if suspended {
                "suspended"
            } else {
                "not suspended"
            }
        )));
    }
    fields.suspended = suspended;
    fields.write(state, hash)?;
    set_bit(
        state,
        fields.issuer,
        purpose::SUSPENSION,
        fields.status_index,
        suspended,
    )?;
    state.emit(&IIdentity::CredentialSuspended {
        hash,
        issuer: fields.issuer,
        suspended,
        reason: reason.to_string(),
    })
}

/// Where status bit `index` lives: the list, the word in it and the mask (bit 0 of a list is the
/// most significant bit of its first byte, as the Bitstring Status List reads it).
fn bit_place(index: u32) -> (u32, u64, U256) {
    let list = index / LIST_BITS;
    let bit = index % LIST_BITS;
    let word = u64::from(bit / 256);
    let mask = U256::from(1u8) << (255 - (bit % 256) as usize);
    (list, word, mask)
}

fn set_bit(
    state: &mut ModuleState<'_>,
    issuer: Address,
    purpose: u8,
    index: u32,
    on: bool,
) -> Result<(), ModuleError> {
    let (list, word, mask) = bit_place(index);
    let slot = layout::status_list(issuer, purpose, list).offset(word);
    let current = state.sload(slot)?.0;
    let next = if on { current | mask } else { current & !mask };
    state.sstore(slot, Word(next))
}

/// The record of a credential, or a revert when there is none.
pub fn read(state: &mut ModuleState<'_>, hash: B256) -> Result<IIdentity::Credential, ModuleError> {
    let f = layout::CredentialFields::read(state, hash)?.ok_or_else(|| unknown(hash))?;
    Ok(IIdentity::Credential {
        hash,
        issuer: f.issuer,
        subject: f.subject,
        schemaId: f.schema,
        validFrom: f.valid_from,
        validUntil: f.valid_until,
        statusIndex: f.status_index,
        revoked: f.revoked,
        suspended: f.suspended,
        issuedAt: f.issued_at,
        issuedBlock: f.issued_block,
    })
}

/// One more than the highest index `issuer` used (0 before its first credential).
pub fn next_index(state: &mut ModuleState<'_>, issuer: Address) -> Result<u32, ModuleError> {
    // Only `issue` writes it, with an index below MAX_STATUS_INDEX plus one.
    Ok(u32::try_from(state.sload(layout::next_status(issuer))?.as_u64()).unwrap_or(u32::MAX))
}

/// Words of a status list.
pub fn status_words(
    state: &mut ModuleState<'_>,
    call: &IIdentity::statusWordsCall,
) -> Result<Vec<B256>, ModuleError> {
    let purpose = u8::from(call.purpose);
    if !matches!(purpose, purpose::REVOCATION | purpose::SUSPENSION) {
        return Err(ModuleError::revert(
            "Identity: the purpose must be Revocation (1) or Suspension (2)",
        ));
    }
    if call.list >= MAX_LISTS {
        return Err(ModuleError::revert(format!(
            "Identity: list {} is beyond the last ({})",
            call.list,
            MAX_LISTS - 1
        )));
    }
    let end = u64::from(call.offset) + u64::from(call.count);
    if call.count > LIST_WORDS || end > u64::from(LIST_WORDS) {
        return Err(ModuleError::revert(format!(
            "Identity: a list has {LIST_WORDS} words; words {} to {end} are out of it",
            call.offset
        )));
    }
    let base = layout::status_list(call.issuer, purpose, call.list);
    (u64::from(call.offset)..end)
        .map(|w| state.sload_b256(base.offset(w)))
        .collect()
}

/// Whether `subject`'s DID holds a credential of `schema` that counts at time `now`: the
/// latest one recorded for it, not revoked, not suspended, within its validity, issued by an
/// account that is still an authority issuer of the schema's type with an active DID.
pub fn check_held(
    now: u64,
    state: &mut ModuleState<'_>,
    subject: Address,
    schema: B256,
) -> Result<Result<B256, Problem>, ModuleError> {
    let problem = |credential: B256, reason: String| Ok(Err(Problem { credential, reason }));
    let hash = state.sload_b256(layout::held(subject, schema))?;
    if hash == B256::ZERO {
        return problem(
            hash,
            format!("{subject} holds no credential of schema {schema}"),
        );
    }
    if !did::is_active(state, subject)? {
        return problem(hash, format!("the DID of {subject} is not active"));
    }
    let Some(fields) = layout::CredentialFields::read(state, hash)? else {
        return Err(ModuleError::Invariant(format!(
            "Identity: {subject} holds credential {hash}, which has no record"
        )));
    };
    let name = format!("{subject}'s credential {hash} of schema {schema}");
    if fields.revoked {
        return problem(hash, format!("{name} is revoked"));
    }
    if fields.suspended {
        return problem(hash, format!("{name} is suspended"));
    }
    if now < fields.valid_from {
        return problem(
            hash,
            format!("{name} is valid only from {}", fields.valid_from),
        );
    }
    if fields.valid_until != 0 && now >= fields.valid_until {
        return problem(hash, format!("{name} expired at {}", fields.valid_until));
    }
    let issuer_type = schemas::issuer_type_of(state, schema)?.unwrap_or_default();
    if !issuers::is_authority(state, fields.issuer, &issuer_type)? {
        return problem(
            hash,
            format!(
                "{name} was issued by {}, no longer an authority issuer of type {issuer_type}",
                fields.issuer
            ),
        );
    }
    if !did::is_active(state, fields.issuer)? {
        return problem(
            hash,
            format!(
                "{name} was issued by {}, whose DID is deactivated",
                fields.issuer
            ),
        );
    }
    Ok(Ok(hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bits_are_placed_most_significant_first() {
        assert_eq!(bit_place(0), (0, 0, U256::from(1u8) << 255));
        assert_eq!(bit_place(7), (0, 0, U256::from(1u8) << 248));
        assert_eq!(bit_place(256), (0, 1, U256::from(1u8) << 255));
        assert_eq!(bit_place(LIST_BITS + 1), (1, 0, U256::from(1u8) << 254));
        assert_eq!(
            bit_place(LIST_BITS - 1),
            (0, u64::from(LIST_WORDS) - 1, U256::from(1u8))
        );
    }
}
