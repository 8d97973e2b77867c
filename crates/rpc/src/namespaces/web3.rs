//! The `web3_` namespace.

use serde_json::{Value, json};

use crate::json::*;
use crate::server::{Ctx, R, params_vec};

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("web3_clientVersion", |_, _, _| -> R {
        Ok(json!(format!("banyan/v{}", env!("CARGO_PKG_VERSION"))))
    })?;
    m.register_method("web3_sha3", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let data = parse_bytes(v.first().unwrap_or(&Value::Null), "data")?;
        let _ = c;
        Ok(json!(alloy_primitives::keccak256(&data)))
    })?;
    Ok(())
}
