//! The Identity module's reads: `banyan_resolveDid`, a DID Resolution result built from the
//! module's record of the DID at a block (`docs/identity/did-banyan.md`).
//!
//! The result is the JSON-RPC `result` whether resolution succeeds or not (the resolution error
//! is in `didResolutionMetadata.error`, as DID Resolution specifies); a JSON-RPC error means the
//! request itself was malformed (no DID string) or the node could not read its state.

use alloy_sol_types::SolCall;
use banyan_execution::CallRequest;
use banyan_identity::{Did, ResolutionError, did};
use banyan_modules::{IDENTITY_ADDRESS, IIdentity};
use jsonrpsee::types::Params;
use serde_json::Value;

use crate::error::{RpcError, invalid_params, server_error};
use crate::json::parse_block_tag;
use crate::server::{Ctx, R, backend_err, missing, params_vec};

/// The resolution options `banyan_resolveDid` knows.
const OPTIONS: [&str; 2] = ["accept", "blockNumber"];

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_blocking_method("banyan_resolveDid", |p, c, _| -> R { resolve(&p, &c) })?;
    Ok(())
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
