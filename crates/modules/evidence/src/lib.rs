//! `banyan-module-evidence`: Evidence (存证, notarisation), a stateful native module at
//! [`EVIDENCE_ADDRESS`] with the Solidity interface `contracts/interfaces/IEvidence.sol`.
//!
//! An account anchors the hash of a document (with a type, an optional reference id and bounded
//! metadata); other accounts counter-sign it (attest); the anchoring account may revoke it with
//! a reason. Everything lives in the module account's storage ([`layout`]), so a third party
//! proves an anchor with `eth_getProof` against a certified block header and the genesis file
//! alone. See `docs/modules/evidence.md` for the ABI, state layout, events, errors and gas.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod layout;

use alloy_primitives::{Address, B256, Bytes, address};
use alloy_sol_types::{SolCall, SolInterface};
use banyan_module_api::{
    AnchorFacts, ModuleCallContext, ModuleError, ModuleState, NativeModule, ViewAnswer, ViewKind,
    ViewQuery, bad_call, gas,
    slots::{Word, WordList},
};
use layout::{AnchorRecord, Fields};

/// The Solidity interface, generated from `contracts/interfaces/IEvidence.sol` (the file is the
/// single source of truth for the ABI and the events).
#[allow(missing_docs)]
mod abi {
    alloy_sol_types::sol!("../../../contracts/interfaces/IEvidence.sol");
}
use IEvidence::IEvidenceCalls as Call;
pub use abi::IEvidence;

/// Where Evidence lives on every chain that enables it.
pub const EVIDENCE_ADDRESS: Address = address!("0000000000000000000000000000000000001001");

/// The version of the rules below. A chain spec names the version it runs.
pub const VERSION: u32 = 1;

/// Longest document type, in bytes (printable ASCII).
pub const MAX_KIND_BYTES: usize = 32;
/// Longest reference id, in bytes.
pub const MAX_REFERENCE_ID_BYTES: usize = 64;
/// Longest metadata, in bytes.
pub const MAX_METADATA_BYTES: usize = 1024;
/// Longest revocation reason, in bytes.
pub const MAX_REASON_BYTES: usize = 256;
/// Most attestations one anchor holds, so that reading them stays bounded.
pub const MAX_ATTESTATIONS: u16 = 32;
/// Most hashes one `anchorsOf` page returns.
pub const MAX_PAGE: u64 = 100;

/// The Evidence module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Evidence;

impl NativeModule for Evidence {
    fn address(&self) -> Address {
        EVIDENCE_ADDRESS
    }

    fn name(&self) -> &'static str {
        "evidence"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn views(&self) -> &'static [ViewKind] {
        &[ViewKind::EvidenceAnchor]
    }

    fn call(
        &self,
        ctx: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        state.charge(gas::call_cost(input.len()))?;
        let call = Call::abi_decode(input).map_err(|error| {
            bad_call("Evidence", "IEvidence.sol", Call::SELECTORS, input, &error)
        })?;
        let output = match call {
            Call::anchor(call) => {
                anchor(ctx, state, call)?;
                Vec::new()
            }
            Call::attest(call) => {
                attest(ctx, state, call.hash)?;
                Vec::new()
            }
            Call::revoke(call) => {
                revoke(ctx, state, call.hash, &call.reason)?;
                Vec::new()
            }
            Call::getAnchor(call) => {
                let anchor = read_anchor(state, call.hash)?;
                IEvidence::getAnchorCall::abi_encode_returns(&anchor)
            }
            Call::isAnchored(call) => {
                let fields = AnchorRecord::new(call.hash).head_fields(state)?;
                IEvidence::isAnchoredCall::abi_encode_returns(&fields.is_some())
            }
            Call::attestations(call) => {
                let list = read_attestations(state, call.hash)?;
                IEvidence::attestationsCall::abi_encode_returns(&list)
            }
            Call::anchorsOf(call) => {
                if call.limit > MAX_PAGE {
                    return Err(ModuleError::revert(format!(
                        "Evidence: limit {} is above the page bound {MAX_PAGE}; page with offset",
                        call.limit
                    )));
                }
                let (words, total) =
                    layout::anchors_of(call.anchorer).page(state, call.offset, call.limit)?;
                IEvidence::anchorsOfCall::abi_encode_returns(&IEvidence::anchorsOfReturn {
                    hashes: words.into_iter().map(Word::to_b256).collect(),
                    total,
                })
            }
        };
        Ok(output.into())
    }

    fn answer(
        &self,
        query: &ViewQuery,
        state: &mut ModuleState<'_>,
    ) -> Result<ViewAnswer, ModuleError> {
        match query {
            ViewQuery::EvidenceAnchor { hash } => {
                let facts =
                    AnchorRecord::new(*hash)
                        .head_fields(state)?
                        .map(|fields| AnchorFacts {
                            anchorer: fields.anchorer,
                            block_number: fields.block_number,
                            revoked: fields.revoked,
                        });
                Ok(ViewAnswer::EvidenceAnchor(facts))
            }
            other => Err(ModuleError::revert(format!(
                "evidence: does not answer {:?}",
                other.kind()
            ))),
        }
    }
}

fn anchor(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: IEvidence::anchorCall,
) -> Result<(), ModuleError> {
    if call.hash == B256::ZERO {
        return Err(ModuleError::revert(
            "Evidence: the zero hash cannot be anchored; pass the document's hash",
        ));
    }
    check_kind(&call.kind)?;
    check_text("referenceId", &call.referenceId, 0, MAX_REFERENCE_ID_BYTES)?;
    if call.metadata.len() > MAX_METADATA_BYTES {
        return Err(ModuleError::revert(format!(
            "Evidence: metadata is {} bytes, above the {MAX_METADATA_BYTES}-byte bound; \
             anchor a hash of larger metadata instead",
            call.metadata.len()
        )));
    }
    let record = AnchorRecord::new(call.hash);
    if let Some(existing) = record.fields(state)? {
        return Err(ModuleError::revert(format!(
            "Evidence: hash {} is already anchored by {} at block {}",
            call.hash, existing.anchorer, existing.block_number
        )));
    }
    record.write_fields(
        state,
        &Fields {
            anchorer: ctx.caller,
            block_number: ctx.block_number,
            timestamp: ctx.timestamp,
            attestation_count: 0,
            revoked: false,
            revoked_at_block: 0,
        },
    )?;
    state.store_bytes(record.kind(), call.kind.as_bytes())?;
    if !call.referenceId.is_empty() {
        state.store_bytes(record.reference_id(), call.referenceId.as_bytes())?;
    }
    if !call.metadata.is_empty() {
        state.store_bytes(record.metadata(), &call.metadata)?;
    }
    layout::anchors_of(ctx.caller).push(state, Word::from(call.hash))?;
    state.emit(&IEvidence::Anchored {
        hash: call.hash,
        anchorer: ctx.caller,
        kind: call.kind,
        referenceId: call.referenceId,
    })
}

fn attest(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    hash: B256,
) -> Result<(), ModuleError> {
    let record = AnchorRecord::new(hash);
    let mut fields = existing(state, &record, hash)?;
    if fields.anchorer == ctx.caller {
        return Err(ModuleError::revert(format!(
            "Evidence: {} anchored {hash} and cannot attest its own anchor; \
             attestations come from other parties",
            ctx.caller
        )));
    }
    if fields.revoked {
        return Err(ModuleError::revert(format!(
            "Evidence: {hash} was revoked at block {} and takes no attestations",
            fields.revoked_at_block
        )));
    }
    let marker = record.attested_by(ctx.caller);
    if !state.sload(marker)?.is_zero() {
        return Err(ModuleError::revert(format!(
            "Evidence: {} has already attested {hash}",
            ctx.caller
        )));
    }
    if fields.attestation_count >= MAX_ATTESTATIONS {
        return Err(ModuleError::revert(format!(
            "Evidence: {hash} already holds the maximum of {MAX_ATTESTATIONS} attestations"
        )));
    }
    state.sstore(marker, Word::from_u64(1))?;
    WordList(record.attestations()).push(
        state,
        layout::pack_attestation(ctx.caller, ctx.block_number),
    )?;
    fields.attestation_count += 1;
    record.write_fields(state, &fields)?;
    state.emit(&IEvidence::Attested {
        hash,
        attester: ctx.caller,
    })
}

fn revoke(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    hash: B256,
    reason: &str,
) -> Result<(), ModuleError> {
    let record = AnchorRecord::new(hash);
    let mut fields = existing(state, &record, hash)?;
    if fields.anchorer != ctx.caller {
        return Err(ModuleError::revert(format!(
            "Evidence: only the anchorer {} may revoke {hash}, not {}",
            fields.anchorer, ctx.caller
        )));
    }
    if fields.revoked {
        return Err(ModuleError::revert(format!(
            "Evidence: {hash} was already revoked at block {}",
            fields.revoked_at_block
        )));
    }
    check_text("reason", reason, 1, MAX_REASON_BYTES)?;
    fields.revoked = true;
    fields.revoked_at_block = ctx.block_number;
    record.write_fields(state, &fields)?;
    state.store_bytes(record.revocation_reason(), reason.as_bytes())?;
    state.emit(&IEvidence::Revoked {
        hash,
        anchorer: ctx.caller,
        reason: reason.to_string(),
    })
}

fn existing(
    state: &mut ModuleState<'_>,
    record: &AnchorRecord,
    hash: B256,
) -> Result<Fields, ModuleError> {
    record
        .fields(state)?
        .ok_or_else(|| ModuleError::revert(format!("Evidence: {hash} is not anchored")))
}

fn read_anchor(state: &mut ModuleState<'_>, hash: B256) -> Result<IEvidence::Anchor, ModuleError> {
    let record = AnchorRecord::new(hash);
    let fields = existing(state, &record, hash)?;
    let text = |state: &mut ModuleState<'_>, slot, max| -> Result<String, ModuleError> {
        let bytes = state.load_bytes(slot, max)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    Ok(IEvidence::Anchor {
        hash,
        anchorer: fields.anchorer,
        blockNumber: fields.block_number,
        timestamp: fields.timestamp,
        kind: text(state, record.kind(), MAX_KIND_BYTES)?,
        referenceId: text(state, record.reference_id(), MAX_REFERENCE_ID_BYTES)?,
        metadata: state
            .load_bytes(record.metadata(), MAX_METADATA_BYTES)?
            .into(),
        revoked: fields.revoked,
        revokedAtBlock: fields.revoked_at_block,
        revocationReason: text(state, record.revocation_reason(), MAX_REASON_BYTES)?,
        attestationCount: fields.attestation_count,
    })
}

fn read_attestations(
    state: &mut ModuleState<'_>,
    hash: B256,
) -> Result<Vec<IEvidence::Attestation>, ModuleError> {
    let record = AnchorRecord::new(hash);
    existing(state, &record, hash)?;
    let (words, _) = WordList(record.attestations()).page(state, 0, u64::from(MAX_ATTESTATIONS))?;
    Ok(words
        .into_iter()
        .map(|word| {
            let (attester, block_number) = layout::unpack_attestation(word);
            IEvidence::Attestation {
                attester,
                blockNumber: block_number,
            }
        })
        .collect())
}

fn check_kind(kind: &str) -> Result<(), ModuleError> {
    if kind.is_empty() || kind.len() > MAX_KIND_BYTES {
        return Err(ModuleError::revert(format!(
            "Evidence: kind must be 1 to {MAX_KIND_BYTES} bytes, got {}",
            kind.len()
        )));
    }
    if !kind.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        || !kind.bytes().any(|b| b.is_ascii_graphic())
    {
        return Err(ModuleError::revert(
            "Evidence: kind must be printable ASCII (letters, digits, punctuation, spaces), \
             not only spaces",
        ));
    }
    Ok(())
}

fn check_text(field: &str, text: &str, min: usize, max: usize) -> Result<(), ModuleError> {
    if text.len() < min || text.len() > max {
        return Err(ModuleError::revert(format!(
            "Evidence: {field} must be {min} to {max} bytes, got {}",
            text.len()
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(ModuleError::revert(format!(
            "Evidence: {field} must not contain control characters"
        )));
    }
    Ok(())
}
