//! `POST /credentials/issue`: the node issues a credential with an issuer key it holds, records
//! its hash on the ledger with a transaction signed by that key, and answers once the record is
//! in a block (so the credential it returns verifies). Only for a caller holding the operator's
//! token, and only for the keys the node's configuration names (`[[identity.issuers]]`).
//!
//! Issuances by one node run one at a time: each reads the issuer's next status index after the
//! previous one is recorded, so two never claim the same index.

use alloy_primitives::{Address, B256, U256, keccak256};
use banyan_crypto::SecretKey;
use banyan_execution::{CallRequest, ExecError};
use banyan_identity::issue::{self, Keys};
use banyan_modules::IDENTITY_ADDRESS;
use banyan_sdk::Signer;
use http::StatusCode;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::json::BlockTag;
use crate::namespaces::identity::NodeLedger;
use crate::server::Ctx;

/// How long an issuance waits for its record to be in a block before answering 202.
pub const RECORD_WAIT: Duration = Duration::from_secs(60);
/// How far above the node's gas estimate the recording transaction's limit is, in percent.
const GAS_MARGIN_PERCENT: u64 = 20;
/// The shortest operator token accepted, in characters.
pub const MIN_TOKEN_LEN: usize = 32;

/// The operator's token: only its hash is kept, and compared.
#[derive(Clone)]
pub struct OperatorToken([u8; 32]);

impl OperatorToken {
    /// The token `text` (trimmed); refused when shorter than [`MIN_TOKEN_LEN`].
    pub fn new(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() < MIN_TOKEN_LEN || text.chars().any(char::is_whitespace) {
            return Err(format!(
                "an operator token is at least {MIN_TOKEN_LEN} characters without spaces \
                 (e.g. `openssl rand -hex 32`)"
            ));
        }
        Ok(Self(keccak256(text.as_bytes()).0))
    }

    /// Whether the `Authorization` header value is `Bearer <this token>`.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(given) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else {
            return false;
        };
        // Comparing hashes: the time taken says nothing about the token.
        let given = keccak256(given.trim().as_bytes()).0;
        given
            .iter()
            .zip(self.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OperatorToken(…)")
    }
}

/// An issuer key the node holds: the account's key, and optionally its Ed25519 seed (for
/// `eddsa-jcs-2022` proofs).
#[derive(Clone)]
pub struct IssuerKey {
    /// The account's key, in the chain's suite.
    pub account: SecretKey,
    /// The Ed25519 seed listed in the issuer's DID document.
    pub ed25519: Option<[u8; 32]>,
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("ed25519", &self.ed25519.is_some())
            .finish_non_exhaustive()
    }
}

/// What `POST /credentials/issue` needs: the token and the keys, and the lock that makes a
/// node's issuances run one at a time.
#[derive(Clone, Debug, Default)]
pub struct Issuing {
    /// The operator's token; without one the node issues nothing.
    pub token: Option<OperatorToken>,
    /// The issuer keys.
    pub issuers: Vec<IssuerKey>,
    /// Held while one issuance reads, signs, records and waits.
    lock: Arc<Mutex<()>>,
}

impl Issuing {
    /// The token and keys of a node's configuration.
    pub fn new(token: Option<OperatorToken>, issuers: Vec<IssuerKey>) -> Self {
        Self {
            token,
            issuers,
            lock: Arc::default(),
        }
    }
}

/// An answer: its status and JSON body (a problem's detail when not 2xx).
pub(crate) type Answer = (StatusCode, Value);

fn problem(status: StatusCode, detail: impl Into<String>) -> Answer {
    (status, Value::String(detail.into()))
}

/// Whether the caller may issue: the node has a token and the request carries it.
pub(crate) fn authorize(ctx: &Ctx, authorization: Option<&str>) -> Result<(), Answer> {
    let issuing = &ctx.config.issuing;
    let Some(token) = &issuing.token else {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "this node issues no credentials: its configuration has no [operator] token_file",
        ));
    };
    if !token.admits(authorization) {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "issuing needs the operator's token: Authorization: Bearer <token>",
        ));
    }
    Ok(())
}

/// Issues `credential` (an unsecured VC 2.0 credential) with the VC-API request's `options`.
pub(crate) fn issue_credential(
    ctx: &Ctx,
    credential: &Value,
    options: &Map<String, Value>,
) -> Answer {
    match run(ctx, credential, options) {
        Ok(answer) | Err(answer) => answer,
    }
}

fn run(ctx: &Ctx, credential: &Value, options: &Map<String, Value>) -> Result<Answer, Answer> {
    let bad = |detail: String| problem(StatusCode::BAD_REQUEST, detail);
    let backend = &ctx.backend;
    let (chain_id, suite) = (backend.chain_id(), backend.suite());
    let now = unix_now();
    let (issuer, request) = issue::from_vc_api(chain_id, credential, options, now).map_err(bad)?;
    let key = ctx
        .config
        .issuing
        .issuers
        .iter()
        .find(|k| {
            suite
                .public_key(&k.account)
                .is_ok_and(|p| suite.address(&p) == issuer)
        })
        .ok_or_else(|| {
            problem(
                StatusCode::FORBIDDEN,
                format!("this node holds no key of issuer {issuer} ([[identity.issuers]])"),
            )
        })?;
    let Some(_one_at_a_time) = ctx.config.issuing.lock.try_lock_for(RECORD_WAIT) else {
        return Err(problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the node is still recording earlier credentials; try again",
        ));
    };
    let internal = |e: String| problem(StatusCode::INTERNAL_SERVER_ERROR, e);
    let ledger = NodeLedger::at(ctx, BlockTag::Latest).map_err(|e| internal(e.message().into()))?;
    let records = issue::read(&ledger, issuer, &request).map_err(bad)?;
    let issued = issue::issue(
        &records,
        request,
        Keys {
            account: &key.account,
            ed25519: key.ed25519.as_ref(),
        },
        now,
    )
    .map_err(bad)?;
    let tx = record(ctx, issuer, &key.account, issued.record.clone())?;
    let mut answer = json!({
        "verifiableCredential": issued.secured.credential,
        "id": issued.unsigned["id"],
        "hash": issued.secured.hash,
        "mediaType": issued.secured.media_type,
        "statusIndex": issued.status_index,
        "transactionHash": tx,
    });
    match wait_recorded(ctx, tx) {
        Recorded::In(number) => {
            answer["blockNumber"] = json!(format!("0x{number:x}"));
            Ok((StatusCode::CREATED, answer))
        }
        Recorded::Reverted(number) => Err(internal(format!(
            "recording the credential reverted in block {number} (transaction {tx}); it was \
             not issued"
        ))),
        Recorded::Unreadable(number) => Err(internal(format!(
            "transaction {tx} is in block {number}, whose receipts the node cannot read \
             (damaged data directory?)"
        ))),
        Recorded::Pending => {
            answer["detail"] = json!(format!(
                "the record is not in a block within {} s; the credential verifies once \
                 transaction {tx} is",
                RECORD_WAIT.as_secs()
            ));
            Ok((StatusCode::ACCEPTED, answer))
        }
    }
}

/// Signs and submits the recording transaction as `issuer`.
fn record(ctx: &Ctx, issuer: Address, key: &SecretKey, data: Vec<u8>) -> Result<B256, Answer> {
    let backend = &ctx.backend;
    let head = backend.head_number();
    let request = CallRequest {
        from: Some(issuer),
        to: Some(IDENTITY_ADDRESS),
        data: data.clone().into(),
        ..Default::default()
    };
    let estimate = backend.estimate_gas(head, &request).map_err(|e| match e {
        ExecError::Reverted { .. } => problem(
            StatusCode::BAD_REQUEST,
            format!("the ledger refuses the record: {e}"),
        ),
        other => problem(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    })?;
    let gas = estimate.saturating_add(estimate * GAS_MARGIN_PERCENT / 100);
    let nonce = backend
        .pending_nonce(issuer)
        .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let signer = Signer::new(backend.chain_id(), backend.suite(), key.clone())
        .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let raw = signer
        .sign(
            nonce,
            Some(IDENTITY_ADDRESS),
            U256::ZERO,
            data.into(),
            gas,
            backend.gas_price(),
        )
        .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    backend.submit(&raw).map_err(|e| {
        problem(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the node's pool refused the record: {e}"),
        )
    })
}

enum Recorded {
    In(u64),
    Reverted(u64),
    /// In a block whose receipts the node cannot read (a damaged store).
    Unreadable(u64),
    Pending,
}

fn wait_recorded(ctx: &Ctx, tx: B256) -> Recorded {
    let deadline = Instant::now() + RECORD_WAIT;
    while Instant::now() < deadline {
        if let Ok(Some((number, index))) = ctx.backend.tx_location(tx) {
            let success = ctx
                .backend
                .receipts(number)
                .ok()
                .flatten()
                .and_then(|r| r.get(index as usize).map(|r| r.success));
            return match success {
                Some(true) => Recorded::In(number),
                Some(false) => Recorded::Reverted(number),
                None => Recorded::Unreadable(number),
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Recorded::Pending
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_token_admits_only_itself_as_a_bearer_token() {
        let secret = "4f1c9a0e7b2d8c3f6a5e1b0d9c8f7a6e5d4c3b2a1f0e9d8c";
        let token = OperatorToken::new(&format!("{secret}\n")).unwrap();
        assert!(token.admits(Some(&format!("Bearer {secret}"))));
        assert!(!token.admits(Some(secret)));
        assert!(!token.admits(Some(&format!("Basic {secret}"))));
        assert!(!token.admits(Some(&format!("Bearer {secret}0"))));
        assert!(!token.admits(Some("Bearer ")));
        assert!(!token.admits(None));
        assert_eq!(format!("{token:?}"), "OperatorToken(…)");
        assert!(OperatorToken::new("short").is_err());
        assert!(OperatorToken::new(&format!("{secret} {secret}")).is_err());
    }
}
