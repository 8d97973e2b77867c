//! JSON-RPC error codes and messages.

use alloy_primitives::Bytes;
use banyan_execution::ExecError;
use jsonrpsee::types::ErrorObjectOwned;

/// The error type of every method.
pub(crate) type RpcError = ErrorObjectOwned;

/// Invalid method parameters (-32602).
pub(crate) const INVALID_PARAMS: i32 = -32602;
/// Server-side failure or refused transaction (-32000), as geth.
pub(crate) const SERVER_ERROR: i32 = -32000;
/// Execution reverted (3), as geth; `data` carries the revert bytes.
pub(crate) const EXECUTION_REVERTED: i32 = 3;
/// A request past one of the server's bounds (-32005, "limit exceeded").
pub(crate) const LIMIT_EXCEEDED: i32 = -32005;

pub(crate) fn invalid_params(msg: impl Into<String>) -> RpcError {
    ErrorObjectOwned::owned::<()>(INVALID_PARAMS, msg.into(), None)
}

pub(crate) fn server_error(msg: impl Into<String>) -> RpcError {
    ErrorObjectOwned::owned::<()>(SERVER_ERROR, msg.into(), None)
}

pub(crate) fn limit_exceeded(msg: impl Into<String>) -> RpcError {
    ErrorObjectOwned::owned::<()>(LIMIT_EXCEEDED, msg.into(), None)
}

pub(crate) fn reverted(reason: Option<&str>, data: &Bytes) -> RpcError {
    let msg = match reason {
        Some(r) => format!("execution reverted: {r}"),
        None => "execution reverted".to_string(),
    };
    ErrorObjectOwned::owned(EXECUTION_REVERTED, msg, Some(data.clone()))
}

pub(crate) fn exec_error(e: ExecError) -> RpcError {
    match e {
        ExecError::Reverted { reason, data } => reverted(reason.as_deref(), &data),
        other => server_error(other.to_string()),
    }
}
