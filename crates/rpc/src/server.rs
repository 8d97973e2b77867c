//! Method registration and the HTTP + WebSocket server (one port).

use alloy_primitives::{Address, B256};
use banyan_primitives::RecoveredTx;
use jsonrpsee::server::{BatchRequestConfig, RpcModule, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::Params;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::Backend;
use crate::error::{RpcError, invalid_params, limit_exceeded, server_error};
use crate::filters::{Filters, LogCriteria};
use crate::json::*;

/// Bounds and address of the server.
#[derive(Clone, Debug)]
pub struct RpcConfig {
    /// Listen address (HTTP and WebSocket on the same port).
    pub listen: SocketAddr,
    /// Largest request body.
    pub max_request_body_bytes: u32,
    /// Largest response body.
    pub max_response_body_bytes: u32,
    /// Most calls in one batch.
    pub max_batch_len: u32,
    /// Most simultaneous connections.
    pub max_connections: u32,
    /// Most subscriptions per WebSocket connection.
    pub max_subscriptions_per_connection: u32,
    /// Widest block range of one `eth_getLogs`.
    pub max_log_block_range: u64,
    /// Most logs one `eth_getLogs` returns.
    pub max_logs: usize,
    /// Most polling filters installed at once.
    pub max_filters: usize,
    /// Browser origins allowed to call the server (CORS): empty allows none (no CORS headers),
    /// `"*"` allows any, otherwise exact origins such as `"http://localhost:3000"`.
    pub cors_allow_origins: Vec<String>,
    /// The operator's token and the issuer keys of `POST /credentials/issue` (none by default:
    /// the node issues nothing).
    pub issuing: crate::issuing::Issuing,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8545)),
            max_request_body_bytes: 5 * 1024 * 1024,
            max_response_body_bytes: 64 * 1024 * 1024,
            max_batch_len: 100,
            max_connections: 500,
            max_subscriptions_per_connection: 64,
            max_log_block_range: 10_000,
            max_logs: 10_000,
            max_filters: 1_000,
            cors_allow_origins: Vec::new(),
            issuing: crate::issuing::Issuing::default(),
        }
    }
}

/// What every method handler gets: the node, the server's bounds and the installed filters.
pub(crate) struct Ctx {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) config: RpcConfig,
    pub(crate) filters: Filters,
    pub(crate) challenges: Arc<crate::challenges::Challenges>,
}

pub(crate) type R = Result<Value, RpcError>;

pub(crate) fn params_vec(p: &Params<'_>) -> Result<Vec<Value>, RpcError> {
    if p.is_object() {
        return Err(invalid_params("positional (array) parameters expected"));
    }
    let v: Option<Vec<Value>> = p.parse().map_err(|e| invalid_params(e.to_string()))?;
    Ok(v.unwrap_or_default())
}

/// A block the node holds lacks a part it must have: its store is damaged. Reported, never
/// answered as empty.
pub(crate) fn missing(number: u64, part: &str) -> RpcError {
    server_error(format!(
        "block {number}'s {part} is missing from the node's store (damaged data directory?)"
    ))
}

pub(crate) fn backend_err(e: impl std::fmt::Display) -> RpcError {
    server_error(e.to_string())
}

impl Ctx {
    pub(crate) fn resolve(&self, tag: BlockTag) -> Result<u64, RpcError> {
        let head = self.backend.head_number();
        match tag {
            BlockTag::Latest => Ok(head),
            BlockTag::Number(n) if n <= head => Ok(n),
            BlockTag::Number(n) => Err(invalid_params(format!(
                "block {n} not found (head is {head})"
            ))),
            BlockTag::Hash(h) => self
                .backend
                .number_by_hash(h)
                .map_err(backend_err)?
                .ok_or_else(|| invalid_params(format!("block {h} not found"))),
        }
    }

    pub(crate) fn block_hash(&self, number: u64) -> Result<Option<B256>, RpcError> {
        Ok(self
            .backend
            .header(number)
            .map_err(backend_err)?
            .map(|h| h.header.hash(self.backend.suite())))
    }

    pub(crate) fn block_json(&self, number: u64, full: bool) -> R {
        let Some(h) = self.backend.header(number).map_err(backend_err)? else {
            return Ok(Value::Null);
        };
        let hash = h.header.hash(self.backend.suite());
        let body = self
            .backend
            .body(number)
            .map_err(backend_err)?
            .ok_or_else(|| missing(number, "body"))?;
        let size = h.header.encoded().len() + body.iter().map(|t| t.len()).sum::<usize>();
        let suite = self.backend.suite();
        // Full transactions take their senders from the receipts: nothing is recovered again.
        let senders: Vec<Address> = if full {
            self.backend
                .receipts(number)
                .map_err(backend_err)?
                .ok_or_else(|| missing(number, "receipts"))?
                .iter()
                .map(|r| r.from)
                .collect()
        } else {
            Vec::new()
        };
        let txs: Vec<Value> = body
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| {
                if !full {
                    // The hash is the suite's hash of the encoding: no signature recovery needed.
                    return Some(json!(RecoveredTx::hash_of(raw, suite)));
                }
                let tx =
                    RecoveredTx::verified(raw, suite, self.backend.chain_id(), *senders.get(i)?)
                        .ok()?;
                Some(tx_json(
                    &tx,
                    Some(&TxPlace {
                        block_hash: hash,
                        number,
                        index: i as u32,
                    }),
                ))
            })
            .collect();
        Ok(header_json(&h, hash, Value::Array(txs), size))
    }

    pub(crate) fn logs(
        &self,
        criteria: &LogCriteria,
        from: u64,
        to: u64,
    ) -> Result<Vec<Value>, RpcError> {
        if to < from {
            return Ok(vec![]);
        }
        if to - from >= self.config.max_log_block_range {
            return Err(limit_exceeded(format!(
                "block range {from}..={to} exceeds the limit of {} blocks; narrow fromBlock/toBlock",
                self.config.max_log_block_range
            )));
        }
        let mut out = Vec::new();
        for n in from..=to {
            let Some(h) = self.backend.header(n).map_err(backend_err)? else {
                break;
            };
            if !criteria.may_match(&h.header.logs_bloom) {
                continue;
            }
            let hash = h.header.hash(self.backend.suite());
            let mut receipts = self
                .backend
                .receipts(n)
                .map_err(backend_err)?
                .ok_or_else(|| missing(n, "receipts"))?;
            // The block-end hooks' logs come after the transactions', at the index one past
            // the last transaction.
            receipts.extend(self.backend.block_end_receipt(n).map_err(backend_err)?);
            self.collect_logs(criteria, &receipts, hash, n, &mut out)?;
        }
        Ok(out)
    }

    pub(crate) fn collect_logs(
        &self,
        criteria: &LogCriteria,
        receipts: &[banyan_primitives::Receipt],
        hash: B256,
        number: u64,
        out: &mut Vec<Value>,
    ) -> Result<(), RpcError> {
        let mut log_index = 0;
        for (i, r) in receipts.iter().enumerate() {
            let place = TxPlace {
                block_hash: hash,
                number,
                index: i as u32,
            };
            for log in &r.logs {
                if criteria.matches(log) {
                    if out.len() >= self.config.max_logs {
                        return Err(limit_exceeded(format!(
                            "query returns more than {} logs; narrow the block range or the filter",
                            self.config.max_logs
                        )));
                    }
                    out.push(log_json(log, &place, r.tx_hash, log_index));
                }
                log_index += 1;
            }
        }
        Ok(())
    }
}

fn register(m: &mut RpcModule<Ctx>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    crate::namespaces::eth::register(m)?;
    crate::namespaces::net::register(m)?;
    crate::namespaces::web3::register(m)?;
    crate::namespaces::banyan::register(m)?;
    crate::namespaces::audit::register(m)?;
    crate::namespaces::payments::register(m)?;
    crate::namespaces::identity::register(m)?;
    crate::namespaces::subscribe::register(m)
}

/// The CORS layer for `origins` (see [`RpcConfig::cors_allow_origins`]).
fn cors_layer(origins: &[String]) -> std::io::Result<Option<tower_http::cors::CorsLayer>> {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::from(Any)
    } else {
        let list = origins
            .iter()
            .map(|o| {
                o.parse::<http::HeaderValue>().map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("invalid CORS origin {o:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(list)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([http::Method::POST, http::Method::GET])
            .allow_headers([http::header::CONTENT_TYPE]),
    ))
}

/// Starts the JSON-RPC server; it runs until the handle is stopped or dropped.
pub async fn start(
    config: RpcConfig,
    backend: Arc<dyn Backend>,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_body_bytes)
        .max_response_body_size(config.max_response_body_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch_len))
        .build();
    let cors = cors_layer(&config.cors_allow_origins)?;
    let challenges: Arc<crate::challenges::Challenges> = Arc::default();
    // The VC-API routes read the same backend and share the one-time challenges.
    let vc_api = crate::vc_api::VcApiLayer::new(Ctx {
        backend: backend.clone(),
        filters: Filters::new(1, Duration::from_secs(1)),
        challenges: challenges.clone(),
        config: config.clone(),
    });
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .option_layer(cors)
                .layer(vc_api),
        )
        .build(config.listen)
        .await?;
    let addr = server.local_addr()?;
    let ctx = Ctx {
        backend,
        filters: Filters::new(config.max_filters, Duration::from_secs(300)),
        challenges,
        config,
    };
    let mut module = RpcModule::new(ctx);
    register(&mut module).map_err(std::io::Error::other)?;
    Ok((addr, server.start(module)))
}

/// Names of every method served, for documentation and tests.
pub fn method_names(backend: Arc<dyn Backend>) -> Vec<&'static str> {
    let ctx = Ctx {
        backend,
        filters: Filters::new(1, Duration::from_secs(1)),
        challenges: Arc::default(),
        config: RpcConfig::default(),
    };
    let mut m = RpcModule::new(ctx);
    let _ = register(&mut m);
    let mut names: Vec<_> = m.method_names().collect();
    names.sort_unstable();
    names
}
