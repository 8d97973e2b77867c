//! The Identity module's reads: `banyan_resolveDid`, a DID Resolution result built from the
//! module's record of the DID at a block (`docs/identity/did-banyan.md`); the one verify path
//! for credentials and presentations (`banyan_verifyCredential`, `banyan_verifyPresentation`,
//! with one-time challenges from `banyan_createChallenge`); and issuers' status lists as
//! Bitstring Status List credentials (`banyan_statusList`).
//!
//! The result is the JSON-RPC `result` whether resolution succeeds or not (the resolution error
//! is in `didResolutionMetadata.error`, as DID Resolution specifies); a JSON-RPC error means the
//! request itself was malformed (no DID string) or the node could not read its state.

use alloy_primitives::Address;
use alloy_sol_types::SolCall;
use banyan_crypto::Suite;
use banyan_execution::CallRequest;
use banyan_identity::verify::{self, Binding, Ledger, Problem, Reason};
use banyan_identity::{Did, ResolutionError, did, status_list};
use banyan_modules::identity::credentials::LIST_BITS;
use banyan_modules::{IDENTITY_ADDRESS, IIdentity};
use jsonrpsee::types::Params;
use serde_json::{Map, Value, json};

use crate::challenges::{self, Use};
use crate::error::{RpcError, invalid_params, limit_exceeded, server_error};
use crate::json::{BlockTag, parse_block_tag};
use crate::server::{Ctx, R, backend_err, missing, params_vec};

/// The resolution options `banyan_resolveDid` knows.
const OPTIONS: [&str; 2] = ["accept", "blockNumber"];

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_blocking_method("banyan_resolveDid", |p, c, _| -> R { resolve(&p, &c) })?;
    m.register_blocking_method("banyan_verifyCredential", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let (input, options) = input_and_options(&v, "banyan_verifyCredential", "credential")?;
        verify_credential(&c, input, options)
    })?;
    m.register_blocking_method("banyan_verifyPresentation", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let (input, options) = input_and_options(&v, "banyan_verifyPresentation", "presentation")?;
        verify_presentation(&c, input, options)
    })?;
    m.register_method("banyan_createChallenge", |_, c, _| -> R {
        create_challenge(c)
    })?;
    m.register_blocking_method("banyan_statusList", |p, c, _| -> R { status(&p, &c) })?;
    Ok(())
}

/// The ledger at one block, as the verify path reads it.
pub(crate) struct NodeLedger<'a> {
    c: &'a Ctx,
    number: u64,
    time: u64,
}

impl<'a> NodeLedger<'a> {
    /// The ledger after block `tag`; validity is judged at that block's time.
    pub(crate) fn at(c: &'a Ctx, tag: BlockTag) -> Result<Self, RpcError> {
        let number = c.resolve(tag)?;
        let header = c
            .backend
            .header(number)
            .map_err(backend_err)?
            .ok_or_else(|| missing(number, "header"))?;
        Ok(Self {
            c,
            number,
            time: header.header.timestamp,
        })
    }
}

impl Ledger for NodeLedger<'_> {
    fn chain_id(&self) -> u64 {
        self.c.backend.chain_id()
    }

    fn suite(&self) -> Suite {
        self.c.backend.suite()
    }

    fn time(&self) -> u64 {
        self.time
    }

    fn view(&self, to: Address, data: Vec<u8>) -> Result<Result<Vec<u8>, String>, String> {
        let request = CallRequest {
            to: Some(to),
            data: data.into(),
            ..Default::default()
        };
        let outcome = self
            .c
            .backend
            .call(self.number, &request)
            .map_err(|e| format!("reading {to} at block {}: {e}", self.number))?;
        if outcome.success {
            Ok(Ok(outcome.output.to_vec()))
        } else {
            Ok(Err(outcome.revert_reason.unwrap_or_else(|| {
                "the view reverted without a reason".into()
            })))
        }
    }
}

/// The verify options: `blockNumber` (the block whose state and time to judge by, `latest` by
/// default), and for presentations `challenge` and `domain`.
const VERIFY_OPTIONS: [&str; 3] = ["blockNumber", "challenge", "domain"];

/// `[input, options?]` of a verify method.
fn input_and_options<'v>(
    v: &'v [Value],
    method: &str,
    what: &str,
) -> Result<(&'v Value, Map<String, Value>), RpcError> {
    let usage = || {
        invalid_params(format!(
            "{method} takes the {what} (a JWT or SD-JWT string, or JSON with an embedded \
             proof) and optional options {{\"blockNumber\"?, \"challenge\"?, \"domain\"?}}"
        ))
    };
    let input = v.first().filter(|i| !i.is_null()).ok_or_else(usage)?;
    if v.len() > 2 {
        return Err(usage());
    }
    let options = match v.get(1) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err(usage()),
    };
    if let Some(unknown) = options
        .keys()
        .find(|k| !VERIFY_OPTIONS.contains(&k.as_str()))
    {
        return Err(invalid_params(format!(
            "unknown option {unknown:?}; {method} takes {VERIFY_OPTIONS:?}"
        )));
    }
    Ok((input, options))
}

/// The challenge and domain of `options`, both or neither.
fn binding(options: &Map<String, Value>) -> Result<Option<Binding>, RpcError> {
    let text = |k: &str| match options.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 512 => Ok(Some(s.clone())),
        Some(_) => Err(invalid_params(format!(
            "{k} must be a non-empty string of at most 512 bytes"
        ))),
    };
    match (text("challenge")?, text("domain")?) {
        (Some(challenge), Some(domain)) => Ok(Some(Binding { challenge, domain })),
        (None, None) => Ok(None),
        _ => Err(invalid_params("challenge and domain go together")),
    }
}

/// Verifies a credential at the block `options` names.
pub(crate) fn verify_credential(c: &Ctx, input: &Value, options: Map<String, Value>) -> R {
    let ledger = NodeLedger::at(c, parse_block_tag(options.get("blockNumber"))?)?;
    let binding = binding(&options)?;
    let verification = verify::credential(&ledger, input, binding.as_ref());
    if verification.has(Reason::Internal) {
        return Err(server_error(describe(&verification.problems)));
    }
    let mut out = verification.to_json();
    stamp(&mut out, &ledger);
    Ok(out)
}

/// Verifies a presentation bound to the challenge and domain of `options`; a challenge this node
/// issued is used up by the first presentation that verifies its binding.
pub(crate) fn verify_presentation(c: &Ctx, input: &Value, options: Map<String, Value>) -> R {
    let ledger = NodeLedger::at(c, parse_block_tag(options.get("blockNumber"))?)?;
    let binding = binding(&options)?.ok_or_else(|| {
        invalid_params("a presentation is verified against the verifier's challenge and domain")
    })?;
    let mut verification = verify::presentation(&ledger, input, &binding);
    if verification.has(Reason::Internal) {
        let mut all = verification.problems.clone();
        for credential in &verification.credentials {
            all.extend(credential.problems.iter().cloned());
        }
        return Err(server_error(describe(&all)));
    }
    // Only a presentation really bound to the challenge (by its holder, for this verifier)
    // uses it up: a forged or misdirected one must not burn a challenge its holder is about to
    // use.
    let bound = ![
        Reason::Malformed,
        Reason::Signature,
        Reason::Holder,
        Reason::Challenge,
        Reason::Domain,
    ]
    .iter()
    .any(|r| verification.has(*r));
    if bound {
        match c.challenges.consume(&binding.challenge) {
            Use::Foreign | Use::First => {}
            Use::Replayed => verification.problems.push(Problem::new(
                Reason::Replayed,
                format!(
                    "challenge {} was already used by a presentation: this one is replayed",
                    binding.challenge
                ),
            )),
            Use::Unknown => verification.problems.push(Problem::new(
                Reason::Challenge,
                format!(
                    "challenge {} is not one this node issued, or it expired (a challenge \
                     lasts {} s and does not survive a restart)",
                    binding.challenge,
                    challenges::LIFETIME.as_secs()
                ),
            )),
        }
    }
    let mut out = verification.to_json();
    stamp(&mut out, &ledger);
    Ok(out)
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .filter(|p| p.reason == Reason::Internal)
        .map(|p| p.detail.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Adds the block a verification was judged at.
fn stamp(out: &mut Value, ledger: &NodeLedger<'_>) {
    if let Some(o) = out.as_object_mut() {
        o.insert("blockNumber".into(), json!(format!("{:#x}", ledger.number)));
        o.insert("blockTime".into(), json!(ledger.time));
    }
}

/// A one-time challenge for a presentation.
pub(crate) fn create_challenge(c: &Ctx) -> R {
    let challenge = c.challenges.issue().ok_or_else(|| {
        limit_exceeded(format!(
            "the node holds {} unused challenges; try again when some expire",
            challenges::MAX_CHALLENGES
        ))
    })?;
    Ok(json!({
        "challenge": challenge,
        "expiresInSeconds": challenges::LIFETIME.as_secs(),
    }))
}

fn status(p: &Params<'_>, c: &Ctx) -> R {
    let v = params_vec(p)?;
    let usage = || {
        invalid_params(
            "banyan_statusList takes [issuer DID, \"revocation\"|\"suspension\", list number, \
             block?]",
        )
    };
    let (Some(Value::String(issuer)), Some(Value::String(purpose)), Some(list)) =
        (v.first(), v.get(1), v.get(2))
    else {
        return Err(usage());
    };
    let list = list
        .as_u64()
        .and_then(|l| u32::try_from(l).ok())
        .ok_or_else(usage)?;
    status_list_credential(c, issuer, purpose, list, parse_block_tag(v.get(3))?)
}

/// Issuer `issuer`'s status list `list` of `purpose` after block `tag`, as an (unsecured)
/// `BitstringStatusListCredential`.
pub(crate) fn status_list_credential(
    c: &Ctx,
    issuer: &str,
    purpose: &str,
    list: u32,
    tag: BlockTag,
) -> R {
    let did: Did = issuer
        .parse()
        .map_err(|e: ResolutionError| invalid_params(format!("issuer: {e}")))?;
    if did.chain_id != c.backend.chain_id() {
        return Err(invalid_params(format!(
            "{did} is a DID of chain {}; this node serves chain {}",
            did.chain_id,
            c.backend.chain_id()
        )));
    }
    let which = match purpose {
        "revocation" => IIdentity::StatusPurpose::Revocation,
        "suspension" => IIdentity::StatusPurpose::Suspension,
        other => {
            return Err(invalid_params(format!(
                "status purpose {other:?}: revocation or suspension"
            )));
        }
    };
    let ledger = NodeLedger::at(c, tag)?;
    let words = LIST_BITS / 256;
    let call = IIdentity::statusWordsCall {
        issuer: did.account,
        purpose: which,
        list,
        offset: 0,
        count: words,
    };
    let output = ledger
        .view(IDENTITY_ADDRESS, call.abi_encode())
        .map_err(server_error)?
        .map_err(|why| invalid_params(format!("status list {list} of {did}: {why}")))?;
    if output.is_empty() {
        return Err(invalid_params(
            "this chain does not run the Identity module",
        ));
    }
    let words = IIdentity::statusWordsCall::abi_decode_returns(&output)
        .map_err(|e| server_error(format!("statusWords does not decode: {e}")))?;
    let bits: Vec<u8> = words.iter().flat_map(|w| w.0).collect();
    Ok(status_list::credential(
        did,
        purpose,
        list,
        &bits,
        ledger.time,
    ))
}

fn resolve(p: &Params<'_>, c: &Ctx) -> R {
    let v = params_vec(p)?;
    let Some(Value::String(input)) = v.first() else {
        return Err(invalid_params(
            "banyan_resolveDid takes a DID string and optional resolution options: \
             [\"did:banyan:<chain id>:<address>\", {\"blockNumber\"?, \"accept\"?}]",
        ));
    };
    match resolve_did(c, input, v.get(1)) {
        Ok(result) => Ok(result),
        Err(Failure::Resolution(error)) => Ok(error.result()),
        Err(Failure::Rpc(error)) => Err(error),
    }
}

enum Failure {
    Resolution(ResolutionError),
    Rpc(RpcError),
}

impl From<ResolutionError> for Failure {
    fn from(e: ResolutionError) -> Self {
        Self::Resolution(e)
    }
}

impl From<RpcError> for Failure {
    fn from(e: RpcError) -> Self {
        Self::Rpc(e)
    }
}

fn resolve_did(c: &Ctx, input: &str, options: Option<&Value>) -> Result<Value, Failure> {
    let did: Did = input.parse()?;
    let options = match options {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(ResolutionError::InvalidOptions(
                "resolution options must be a JSON object".into(),
            )
            .into());
        }
    };
    if let Some(unknown) = options.keys().find(|k| !OPTIONS.contains(&k.as_str())) {
        return Err(ResolutionError::InvalidOptions(format!(
            "unknown option {unknown:?}; this resolver takes {OPTIONS:?}"
        ))
        .into());
    }
    if let Some(accept) = options.get("accept") {
        let ok = accept.as_str().is_some_and(|a| {
            a.split(',')
                .any(|t| matches!(t.trim(), "application/did" | "*/*"))
        });
        if !ok {
            return Err(ResolutionError::RepresentationNotSupported(format!(
                "accept {accept}: this resolver returns {}",
                did::DID_MEDIA_TYPE
            ))
            .into());
        }
    }
    let chain_id = c.backend.chain_id();
    if did.chain_id != chain_id {
        return Err(ResolutionError::NotFound(format!(
            "{did} is a DID of chain {}; this node serves chain {chain_id}",
            did.chain_id
        ))
        .into());
    }
    let tag = parse_block_tag(options.get("blockNumber"))
        .map_err(|e| ResolutionError::InvalidOptions(format!("blockNumber: {}", e.message())))?;
    let n = c
        .resolve(tag)
        .map_err(|e| ResolutionError::InvalidOptions(format!("blockNumber: {}", e.message())))?;
    let request = CallRequest {
        to: Some(IDENTITY_ADDRESS),
        data: IIdentity::getDidCall { did: did.account }
            .abi_encode()
            .into(),
        ..Default::default()
    };
    let outcome = c
        .backend
        .call(n, &request)
        .map_err(|e| server_error(format!("Identity view getDid: {e}")))?;
    if !outcome.success {
        // The module reverts for a DID never created; a chain without the module has no code
        // there and returns nothing.
        let why = outcome
            .revert_reason
            .unwrap_or_else(|| "this chain does not run the Identity module".into());
        return Err(ResolutionError::NotFound(format!("{did} at block {n}: {why}")).into());
    }
    if outcome.output.is_empty() {
        return Err(ResolutionError::NotFound(format!(
            "{did}: this chain does not run the Identity module"
        ))
        .into());
    }
    let record = IIdentity::getDidCall::abi_decode_returns(&outcome.output)
        .map_err(|e| ResolutionError::Internal(format!("the DID record does not decode: {e}")))?;
    let header = |number: u64| -> Result<_, Failure> {
        let h = c
            .backend
            .header(number)
            .map_err(backend_err)?
            .ok_or_else(|| missing(number, "header"))?;
        Ok(h.header.hash(c.backend.suite()))
    };
    let facts = did::ChainFacts {
        block_number: n,
        block_hash: header(n)?,
        genesis_hash: header(0)?,
    };
    Ok(did::resolved(chain_id, &record, &facts))
}
