//! The `net_` namespace.

use serde_json::json;

use crate::server::{Ctx, R};

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("net_version", |_, c, _| -> R {
        Ok(json!(c.backend.chain_id().to_string()))
    })?;
    m.register_method("net_listening", |_, _, _| -> R { Ok(json!(true)) })?;
    m.register_method("net_peerCount", |_, _, _| -> R { Ok(json!("0x0")) })?;
    Ok(())
}
