//! The `banyan_` namespace: commit certificates, validator sets, proofs, status and the pool.

use alloy_primitives::U256;
use jsonrpsee::types::Params;
use serde_json::{Value, json};

use crate::error::{invalid_params, limit_exceeded};
use crate::json::*;
use crate::server::{Ctx, R, backend_err, params_vec};

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("banyan_getProof", |p, c, _| -> R { proof(p, c) })?;
    m.register_method("banyan_getCommitCertificate", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let n = match parse_block_tag(v.first())? {
            BlockTag::Number(n) if n > c.backend.head_number() => return Ok(Value::Null),
            tag => c.resolve(tag)?,
        };
        Ok(c.backend
            .commit_certificate(n)
            .map_err(backend_err)?
            .map_or(Value::Null, |cert| certificate_json(&cert)))
    })?;
    m.register_method("banyan_getValidatorSet", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let n = c.resolve(parse_block_tag(v.first())?)?;
        let validators = c.backend.validator_set(n).map_err(backend_err)?;
        Ok(validator_set_json(&validators))
    })?;
    m.register_method("banyan_status", |_, c, _| -> R {
        serde_json::to_value(c.backend.status()).map_err(backend_err)
    })?;
    m.register_method("banyan_txpoolStatus", |_, c, _| -> R {
        Ok(json!({"pending": c.backend.status().txpool_size}))
    })?;
    Ok(())
}

/// `eth_getProof` and `banyan_getProof` (the same answer).
pub(crate) fn proof(p: Params<'_>, c: &Ctx) -> R {
    let v = params_vec(&p)?;
    let addr = parse_address(v.first().unwrap_or(&Value::Null), "address")?;
    let slots: Vec<U256> = match v.get(1) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| {
                s.as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| invalid_params("invalid storage key"))
            })
            .collect::<Result<_, _>>()?,
        None | Some(Value::Null) => vec![],
        _ => return Err(invalid_params("storage keys must be an array")),
    };
    if slots.len() > 1_000 {
        return Err(limit_exceeded("at most 1000 storage keys per proof"));
    }
    let n = c.resolve(parse_block_tag(v.get(2))?)?;
    let pr = c.backend.proof(n, addr, &slots).map_err(backend_err)?;
    let state_root = c
        .backend
        .header(n)
        .map_err(backend_err)?
        .map(|h| h.header.state_root);
    let wire = banyan_sdk::wire::WireProof::new(c.backend.suite(), &pr, n, state_root);
    serde_json::to_value(wire).map_err(backend_err)
}
