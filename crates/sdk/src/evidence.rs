//! Typed bindings of the Evidence module (`IEvidence.sol`, `docs/modules/evidence.md`).

use crate::{BlockId, Client, SdkError};
use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolCall;
use banyan_crypto::Suite;
use banyan_module_api::slots::Word;
use banyan_modules::evidence::layout::{AnchorRecord, Fields};
pub use banyan_modules::{EVIDENCE_ADDRESS, IEvidence};

/// Call data of `anchor`.
pub fn anchor_call(hash: B256, kind: &str, reference: &str, metadata: &[u8]) -> Bytes {
    IEvidence::anchorCall {
        hash,
        kind: kind.to_string(),
        referenceId: reference.to_string(),
        metadata: Bytes::copy_from_slice(metadata),
    }
    .abi_encode()
    .into()
}

/// Call data of `attest`.
pub fn attest_call(hash: B256) -> Bytes {
    IEvidence::attestCall { hash }.abi_encode().into()
}

/// Call data of `revoke`.
pub fn revoke_call(hash: B256, reason: &str) -> Bytes {
    IEvidence::revokeCall {
        hash,
        reason: reason.to_string(),
    }
    .abi_encode()
    .into()
}

/// `eth_call` of one Evidence view at `at`, decoded.
async fn view<C: SolCall>(client: &Client, call: C, at: BlockId) -> Result<C::Return, SdkError> {
    crate::view_call(client, EVIDENCE_ADDRESS, call, at).await
}

/// The anchor of `hash` at block `at`, its attestations, or `None` when never anchored.
pub async fn anchor(
    client: &Client,
    hash: B256,
    at: BlockId,
) -> Result<Option<(IEvidence::Anchor, Vec<IEvidence::Attestation>)>, SdkError> {
    if !view(client, IEvidence::isAnchoredCall { hash }, at).await? {
        return Ok(None);
    }
    let anchor = view(client, IEvidence::getAnchorCall { hash }, at).await?;
    let attestations = view(client, IEvidence::attestationsCall { hash }, at).await?;
    Ok(Some((anchor, attestations)))
}

/// Up to `limit` hashes `anchorer` anchored, from `offset`, and its total, at the latest block.
pub async fn anchors_of(
    client: &Client,
    anchorer: Address,
    offset: u64,
    limit: u64,
) -> Result<(Vec<B256>, u64), SdkError> {
    let call = IEvidence::anchorsOfCall {
        anchorer,
        offset,
        limit,
    };
    let page = view(client, call, BlockId::Latest).await?;
    Ok((page.hashes, page.total))
}

/// Proves the anchor of `hash` against `state_root`, the state root of block `number` that the
/// caller has already proven (by its commit certificate): `Some` with the anchor's fixed
/// fields, or `None` when the proof shows it was never anchored. Nothing the node says is
/// trusted: the proof must follow from the root, for exactly the slots asked.
pub async fn prove_anchor(
    client: &Client,
    suite: Suite,
    number: u64,
    state_root: B256,
    hash: B256,
) -> Result<Option<Fields>, SdkError> {
    let record = AnchorRecord::new(hash);
    let slots = [record.head().to_b256(), record.times().to_b256()];
    let wire = client
        .proof(EVIDENCE_ADDRESS, &slots, BlockId::Number(number))
        .await?;
    let proof = wire.account_proof(suite);
    let bad = |reason: String| SdkError::Proof { state_root, reason };
    if proof.address != EVIDENCE_ADDRESS {
        return Err(bad(format!(
            "it proves account {} instead of {EVIDENCE_ADDRESS}",
            proof.address
        )));
    }
    let asked: Vec<_> = slots.iter().map(|s| s.0).collect();
    let answered: Vec<_> = proof
        .storage
        .iter()
        .map(|s| s.key.to_be_bytes::<32>())
        .collect();
    if answered != asked {
        return Err(bad(
            "it proves other storage slots than the ones asked for".into()
        ));
    }
    banyan_state::verify_account_proof(suite, state_root, &proof)
        .map_err(|e| bad(e.to_string()))?;
    if proof.account.is_none() {
        return Err(bad(format!(
            "it shows no account at {EVIDENCE_ADDRESS}: the chain does not run the evidence module"
        )));
    }
    Ok(Fields::decode(
        Word(proof.storage[0].value),
        Word(proof.storage[1].value),
    ))
}
