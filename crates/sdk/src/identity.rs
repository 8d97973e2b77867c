//! Typed bindings of the Identity module (`IIdentity.sol`, `docs/modules/identity.md`) and of
//! `banyan_resolveDid`.

use crate::governance::ProposalAction;
use crate::{BlockId, Client, SdkError};
use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolCall;
pub use banyan_modules::identity::schemas::schema_id;
pub use banyan_modules::{IDENTITY_ADDRESS, IIdentity};
use serde_json::{Value, json};

/// Relationship names, by bit, as DID documents spell them.
pub const RELATIONSHIPS: [(u8, &str); 5] = [
    (1, "authentication"),
    (2, "assertionMethod"),
    (4, "keyAgreement"),
    (8, "capabilityInvocation"),
    (16, "capabilityDelegation"),
];

/// The relationship bits of comma-separated names (`authentication,assertionMethod`).
pub fn relationship_bits(names: &str) -> Result<u8, String> {
    let mut bits = 0;
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let bit = RELATIONSHIPS
            .iter()
            .find(|(_, known)| known.eq_ignore_ascii_case(name))
            .map(|(bit, _)| *bit)
            .ok_or_else(|| {
                format!(
                    "unknown relationship {name:?}; use {}",
                    RELATIONSHIPS.map(|(_, n)| n).join(", ")
                )
            })?;
        bits |= bit;
    }
    if bits == 0 {
        return Err("give at least one relationship".into());
    }
    Ok(bits)
}

/// The governance action admitting `issuer` for `issuer_type`.
pub fn admit_issuer_action(issuer: Address, issuer_type: &str, name: &str) -> ProposalAction {
    ProposalAction::ModuleCall {
        module: IDENTITY_ADDRESS,
        data: IIdentity::admitIssuerCall {
            issuer,
            issuerType: issuer_type.to_string(),
            name: name.to_string(),
        }
        .abi_encode()
        .into(),
    }
}

/// The governance action withdrawing `issuer`'s authority for `issuer_type`.
pub fn remove_issuer_action(issuer: Address, issuer_type: &str) -> ProposalAction {
    ProposalAction::ModuleCall {
        module: IDENTITY_ADDRESS,
        data: IIdentity::removeIssuerCall {
            issuer,
            issuerType: issuer_type.to_string(),
        }
        .abi_encode()
        .into(),
    }
}

/// What a `ModuleCall` payload to Identity does, in words (`admit-issuer 0x… kyc "Bank A"`);
/// `None` for other calls.
pub fn describe_call(module: Address, data: &[u8]) -> Option<String> {
    if module != IDENTITY_ADDRESS {
        return None;
    }
    if let Ok(call) = IIdentity::admitIssuerCall::abi_decode(data) {
        return Some(format!(
            "admit-issuer {} {} {:?}",
            call.issuer, call.issuerType, call.name
        ));
    }
    IIdentity::removeIssuerCall::abi_decode(data)
        .ok()
        .map(|call| format!("remove-issuer {} {}", call.issuer, call.issuerType))
}

/// Call data of any Identity function.
pub fn call_data<C: SolCall>(call: C) -> Bytes {
    call.abi_encode().into()
}

/// `eth_call` of one Identity view at `at`, decoded.
async fn view<C: SolCall>(client: &Client, call: C, at: BlockId) -> Result<C::Return, SdkError> {
    crate::view_call(client, IDENTITY_ADDRESS, call, at).await
}

/// The DID record of `account` at `at` (an error when it has none).
pub async fn did(
    client: &Client,
    account: Address,
    at: BlockId,
) -> Result<IIdentity::Did, SdkError> {
    view(client, IIdentity::getDidCall { did: account }, at).await
}

/// `banyan_resolveDid`: the DID resolution result of `did` (`options` a JSON object or null).
pub async fn resolve(client: &Client, did: &str, options: Value) -> Result<Value, SdkError> {
    let mut params = vec![json!(did)];
    if !options.is_null() {
        params.push(options);
    }
    client.request("banyan_resolveDid", params).await
}

/// An authority issuer at `at`.
pub async fn issuer(
    client: &Client,
    account: Address,
    at: BlockId,
) -> Result<IIdentity::Issuer, SdkError> {
    view(client, IIdentity::getIssuerCall { issuer: account }, at).await
}

/// Every authority issuer at `at`, page by page.
pub async fn issuers(client: &Client, at: BlockId) -> Result<Vec<IIdentity::Issuer>, SdkError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = view(
            client,
            IIdentity::issuersCall {
                offset,
                limit: banyan_modules::identity::MAX_PAGE,
            },
            at,
        )
        .await?;
        let n = page.accounts.len() as u64;
        for account in page.accounts {
            out.push(issuer(client, account, at).await?);
        }
        offset += n;
        if n == 0 || offset >= page.total {
            return Ok(out);
        }
    }
}

/// A published schema at `at`.
pub async fn schema(client: &Client, id: B256, at: BlockId) -> Result<IIdentity::Schema, SdkError> {
    view(client, IIdentity::getSchemaCall { id }, at).await
}

/// Every schema `publisher` published, oldest first, at `at`.
pub async fn schemas_of(
    client: &Client,
    publisher: Address,
    at: BlockId,
) -> Result<Vec<IIdentity::Schema>, SdkError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = view(
            client,
            IIdentity::schemasOfCall {
                publisher,
                offset,
                limit: banyan_modules::identity::MAX_PAGE,
            },
            at,
        )
        .await?;
        let n = page.ids.len() as u64;
        for id in page.ids {
            out.push(schema(client, id, at).await?);
        }
        offset += n;
        if n == 0 || offset >= page.total {
            return Ok(out);
        }
    }
}

/// Whether `subject` holds a credential of `schema` that counts at `at`.
pub async fn holds_credential(
    client: &Client,
    subject: Address,
    schema: B256,
    at: BlockId,
) -> Result<IIdentity::holdsCredentialReturn, SdkError> {
    view(
        client,
        IIdentity::holdsCredentialCall {
            subject,
            schemaId: schema,
        },
        at,
    )
    .await
}

/// The ledger's record of the credential of hash `hash` at `at` (an error when none).
pub async fn credential(
    client: &Client,
    hash: B256,
    at: BlockId,
) -> Result<IIdentity::Credential, SdkError> {
    view(client, IIdentity::getCredentialCall { hash }, at).await
}

/// The first status index `issuer` has not used, at `at`.
pub async fn next_status_index(
    client: &Client,
    issuer: Address,
    at: BlockId,
) -> Result<u32, SdkError> {
    view(client, IIdentity::nextStatusIndexCall { issuer }, at).await
}

/// `banyan_verifyCredential`: the one verify path's answer for `credential` (a JWT or SD-JWT
/// string, or JSON with an embedded proof); `options` a JSON object or null.
pub async fn verify_credential(
    client: &Client,
    credential: Value,
    options: Value,
) -> Result<Value, SdkError> {
    let mut params = vec![credential];
    if !options.is_null() {
        params.push(options);
    }
    client.request("banyan_verifyCredential", params).await
}

/// `banyan_verifyPresentation`: `presentation` checked against the verifier's `challenge` and
/// `domain`, and every credential in it.
pub async fn verify_presentation(
    client: &Client,
    presentation: Value,
    challenge: &str,
    domain: &str,
) -> Result<Value, SdkError> {
    client
        .request(
            "banyan_verifyPresentation",
            vec![
                presentation,
                json!({"challenge": challenge, "domain": domain}),
            ],
        )
        .await
}

/// `banyan_createChallenge`: a one-time challenge the node will accept in one presentation.
pub async fn create_challenge(client: &Client) -> Result<String, SdkError> {
    #[derive(serde::Deserialize)]
    struct Challenge {
        challenge: String,
    }
    let c: Challenge = client.request("banyan_createChallenge", vec![]).await?;
    Ok(c.challenge)
}
