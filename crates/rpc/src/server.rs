//! Method registration and the HTTP + WebSocket server (one port).

use alloy_primitives::{B256, U256};
use jsonrpsee::server::{
    BatchRequestConfig, PendingSubscriptionSink, RpcModule, Server, ServerConfig, ServerHandle,
    SubscriptionMessage,
};
use jsonrpsee::types::Params;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::{Backend, CommittedBlock, SubmitError};
use crate::error::{RpcError, exec_error, invalid_params, limit_exceeded, server_error};
use crate::filters::{FilterKind, Filters, LogCriteria, parse_log_filter};
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
        }
    }
}

struct Ctx {
    backend: Arc<dyn Backend>,
    config: RpcConfig,
    filters: Filters,
}

type R = Result<Value, RpcError>;

fn params_vec(p: &Params<'_>) -> Result<Vec<Value>, RpcError> {
    if p.is_object() {
        return Err(invalid_params("positional (array) parameters expected"));
    }
    let v: Option<Vec<Value>> = p.parse().map_err(|e| invalid_params(e.to_string()))?;
    Ok(v.unwrap_or_default())
}

fn backend_err(e: impl std::fmt::Display) -> RpcError {
    server_error(e.to_string())
}

impl Ctx {
    fn resolve(&self, tag: BlockTag) -> Result<u64, RpcError> {
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

    fn block_hash(&self, number: u64) -> Result<Option<B256>, RpcError> {
        Ok(self
            .backend
            .header(number)
            .map_err(backend_err)?
            .map(|h| h.header.hash(self.backend.suite())))
    }

    fn block_json(&self, number: u64, full: bool) -> R {
        let Some(h) = self.backend.header(number).map_err(backend_err)? else {
            return Ok(Value::Null);
        };
        let hash = h.header.hash(self.backend.suite());
        let body = self
            .backend
            .body(number)
            .map_err(backend_err)?
            .unwrap_or_default();
        let size = h.header.encoded().len() + body.iter().map(|t| t.len()).sum::<usize>();
        let suite = self.backend.suite();
        let txs: Vec<Value> = body
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| {
                if !full {
                    // The hash is the suite's hash of the encoding: no signature recovery needed.
                    return Some(json!(suite.hash(raw)));
                }
                let tx = self.backend.decode_tx(raw)?;
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

    fn logs(&self, criteria: &LogCriteria, from: u64, to: u64) -> Result<Vec<Value>, RpcError> {
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
            let receipts = self
                .backend
                .receipts(n)
                .map_err(backend_err)?
                .unwrap_or_default();
            self.collect_logs(criteria, &receipts, hash, n, &mut out)?;
        }
        Ok(out)
    }

    fn collect_logs(
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
    m.register_method("eth_chainId", |_, c, _| -> R {
        Ok(json!(q(c.backend.chain_id())))
    })?;
    m.register_method("net_version", |_, c, _| -> R {
        Ok(json!(c.backend.chain_id().to_string()))
    })?;
    m.register_method("net_listening", |_, _, _| -> R { Ok(json!(true)) })?;
    m.register_method("net_peerCount", |_, _, _| -> R { Ok(json!("0x0")) })?;
    m.register_method("web3_clientVersion", |_, _, _| -> R {
        Ok(json!(format!("banyan/v{}", env!("CARGO_PKG_VERSION"))))
    })?;
    m.register_method("web3_sha3", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let data = parse_bytes(v.first().unwrap_or(&Value::Null), "data")?;
        let _ = c;
        Ok(json!(alloy_primitives::keccak256(&data)))
    })?;
    m.register_method("eth_blockNumber", |_, c, _| -> R {
        Ok(json!(q(c.backend.head_number())))
    })?;
    m.register_method("eth_syncing", |_, c, _| -> R {
        Ok(match c.backend.syncing() {
            None => json!(false),
            Some((starting, current, highest)) => json!({
                "startingBlock": q(starting),
                "currentBlock": q(current),
                "highestBlock": q(highest),
            }),
        })
    })?;
    m.register_method("eth_mining", |_, _, _| -> R { Ok(json!(false)) })?;
    m.register_method("eth_accounts", |_, _, _| -> R { Ok(json!([])) })?;
    m.register_method("eth_gasPrice", |_, c, _| -> R {
        Ok(json!(q(c.backend.gas_price())))
    })?;
    m.register_method("eth_maxPriorityFeePerGas", |_, c, _| -> R {
        Ok(json!(q(c.backend.gas_price())))
    })?;
    m.register_method("eth_feeHistory", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let count = match v.first() {
            Some(Value::String(s)) => parse_u64(s)?,
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| invalid_params("invalid block count"))?,
            _ => return Err(invalid_params("blockCount required")),
        }
        .clamp(1, 1024);
        let newest = c.resolve(parse_block_tag(v.get(1))?)?;
        let oldest = newest.saturating_sub(count - 1);
        let percentiles = v.get(2).and_then(Value::as_array).map_or(0, |a| a.len());
        let mut ratios = vec![];
        for n in oldest..=newest {
            let h = c.backend.header(n).map_err(backend_err)?;
            let r = h.map_or(0.0, |h| {
                h.header.gas_used as f64 / h.header.gas_limit.max(1) as f64
            });
            ratios.push(json!(r));
        }
        let price = q(c.backend.gas_price());
        let reward: Vec<Value> = (oldest..=newest)
            .map(|_| json!(vec![price.clone(); percentiles]))
            .collect();
        let mut o = json!({
            "oldestBlock": q(oldest),
            "baseFeePerGas": vec!["0x0"; (newest - oldest + 2) as usize],
            "gasUsedRatio": ratios,
        });
        if percentiles > 0 {
            o["reward"] = json!(reward);
        }
        Ok(o)
    })?;
    m.register_method("eth_getBlockByNumber", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let full = v.get(1).and_then(Value::as_bool).unwrap_or(false);
        match parse_block_tag(v.first())? {
            BlockTag::Number(n) if n > c.backend.head_number() => Ok(Value::Null),
            tag => c.block_json(c.resolve(tag)?, full),
        }
    })?;
    m.register_method("eth_getBlockByHash", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let hash: B256 = v
            .first()
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid_params("block hash required"))?;
        let full = v.get(1).and_then(Value::as_bool).unwrap_or(false);
        match c.backend.number_by_hash(hash).map_err(backend_err)? {
            Some(n) => c.block_json(n, full),
            None => Ok(Value::Null),
        }
    })?;
    m.register_method("eth_getBlockTransactionCountByNumber", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let n = c.resolve(parse_block_tag(v.first())?)?;
        Ok(json!(q(c
            .backend
            .body(n)
            .map_err(backend_err)?
            .map_or(0, |b| b.len()) as u64)))
    })?;
    m.register_method("eth_getTransactionByHash", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let hash: B256 = v
            .first()
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid_params("transaction hash required"))?;
        if let Some((n, i)) = c.backend.tx_location(hash).map_err(backend_err)? {
            let body = c.backend.body(n).map_err(backend_err)?.unwrap_or_default();
            let Some(tx) = body
                .get(i as usize)
                .and_then(|raw| c.backend.decode_tx(raw))
            else {
                return Ok(Value::Null);
            };
            let block_hash = c.block_hash(n)?.unwrap_or_default();
            return Ok(tx_json(
                &tx,
                Some(&TxPlace {
                    block_hash,
                    number: n,
                    index: i,
                }),
            ));
        }
        Ok(c.backend
            .pending_tx(hash)
            .map_or(Value::Null, |tx| tx_json(&tx, None)))
    })?;
    m.register_method("eth_getTransactionReceipt", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let hash: B256 = v
            .first()
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid_params("transaction hash required"))?;
        let Some((n, i)) = c.backend.tx_location(hash).map_err(backend_err)? else {
            return Ok(Value::Null);
        };
        let receipts = c
            .backend
            .receipts(n)
            .map_err(backend_err)?
            .unwrap_or_default();
        let Some(r) = receipts.get(i as usize) else {
            return Err(server_error("receipt missing for committed transaction"));
        };
        let block_hash = c.block_hash(n)?.unwrap_or_default();
        Ok(receipt_json(
            r,
            &receipts,
            &TxPlace {
                block_hash,
                number: n,
                index: i,
            },
        ))
    })?;
    m.register_method("eth_getTransactionCount", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let addr = parse_address(v.first().unwrap_or(&Value::Null), "address")?;
        if v.get(1).and_then(Value::as_str) == Some("pending") {
            return Ok(json!(q(c
                .backend
                .pending_nonce(addr)
                .map_err(backend_err)?)));
        }
        let n = c.resolve(parse_block_tag(v.get(1))?)?;
        Ok(json!(q(c
            .backend
            .account(n, addr)
            .map_err(backend_err)?
            .map_or(0, |a| a.nonce))))
    })?;
    m.register_method("eth_getBalance", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let addr = parse_address(v.first().unwrap_or(&Value::Null), "address")?;
        let n = c.resolve(parse_block_tag(v.get(1))?)?;
        Ok(json!(
            c.backend
                .account(n, addr)
                .map_err(backend_err)?
                .map_or(U256::ZERO, |a| a.balance)
        ))
    })?;
    m.register_method("eth_getCode", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let addr = parse_address(v.first().unwrap_or(&Value::Null), "address")?;
        let n = c.resolve(parse_block_tag(v.get(1))?)?;
        Ok(json!(c.backend.code(n, addr).map_err(backend_err)?))
    })?;
    m.register_method("eth_getStorageAt", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let addr = parse_address(v.first().unwrap_or(&Value::Null), "address")?;
        let slot: U256 = v
            .get(1)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid_params("storage slot required"))?;
        let n = c.resolve(parse_block_tag(v.get(2))?)?;
        let value = c.backend.storage(n, addr, slot).map_err(backend_err)?;
        Ok(json!(B256::from(value)))
    })?;
    m.register_blocking_method("eth_call", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let req = parse_call_request(v.first().unwrap_or(&Value::Null))?;
        let n = c.resolve(parse_block_tag(v.get(1))?)?;
        let out = c.backend.call(n, &req).map_err(exec_error)?;
        if !out.success {
            return Err(crate::error::reverted(
                out.revert_reason.as_deref(),
                &out.output,
            ));
        }
        Ok(json!(out.output))
    })?;
    m.register_blocking_method("eth_estimateGas", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let req = parse_call_request(v.first().unwrap_or(&Value::Null))?;
        let n = c.resolve(parse_block_tag(v.get(1))?)?;
        Ok(json!(q(c
            .backend
            .estimate_gas(n, &req)
            .map_err(exec_error)?)))
    })?;
    m.register_method("eth_sendRawTransaction", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let raw = parse_bytes(v.first().unwrap_or(&Value::Null), "transaction")?;
        match c.backend.submit(&raw) {
            Ok(hash) => Ok(json!(hash)),
            Err(SubmitError::Backend(e)) => Err(server_error(e.to_string())),
            Err(e) => Err(server_error(e.to_string())),
        }
    })?;
    m.register_blocking_method("eth_getLogs", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let f = parse_log_filter(v.first())?;
        if let Some(h) = f.block_hash {
            let Some(n) = c.backend.number_by_hash(h).map_err(backend_err)? else {
                return Err(invalid_params(format!("block {h} not found")));
            };
            return Ok(json!(c.logs(&f.criteria, n, n)?));
        }
        if let (Some(BlockTag::Number(a)), Some(BlockTag::Number(b))) = (f.from, f.to)
            && b >= a
            && b - a >= c.config.max_log_block_range
        {
            return Err(limit_exceeded(format!(
                "block range {a}..={b} exceeds the limit of {} blocks; narrow fromBlock/toBlock",
                c.config.max_log_block_range
            )));
        }
        let head = c.backend.head_number();
        let clamp = |t: BlockTag| match t {
            BlockTag::Number(n) => Ok(n.min(head)),
            other => c.resolve(other),
        };
        let from = clamp(f.from.unwrap_or(BlockTag::Latest))?;
        let to = clamp(f.to.unwrap_or(BlockTag::Latest))?;
        Ok(json!(c.logs(&f.criteria, from, to)?))
    })?;
    m.register_method("eth_newFilter", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let f = parse_log_filter(v.first())?;
        let head = c.backend.head_number();
        let start = match f.from {
            Some(t) => c.resolve(t)?.saturating_sub(1).min(head),
            None => head,
        };
        Ok(json!(q(c
            .filters
            .install(FilterKind::Logs(f.criteria), start)?)))
    })?;
    m.register_method("eth_newBlockFilter", |_, c, _| -> R {
        Ok(json!(q(c
            .filters
            .install(FilterKind::Blocks, c.backend.head_number())?)))
    })?;
    m.register_method("eth_uninstallFilter", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let id = parse_u64(v.first().and_then(Value::as_str).unwrap_or(""))?;
        Ok(json!(c.filters.uninstall(id)))
    })?;
    m.register_blocking_method("eth_getFilterChanges", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let id = parse_u64(v.first().and_then(Value::as_str).unwrap_or(""))?;
        let head = c.backend.head_number();
        let out = c.filters.poll(id, head, |kind, from| -> R {
            // Bound the work of one poll; a filter left unpolled for long returns the newest part.
            let from = from.max(head.saturating_sub(c.config.max_log_block_range - 1));
            match kind {
                FilterKind::Blocks => {
                    let mut hashes = vec![];
                    for n in from..=head {
                        if let Some(h) = c.block_hash(n)? {
                            hashes.push(json!(h));
                        }
                    }
                    Ok(json!(hashes))
                }
                FilterKind::Logs(criteria) => Ok(json!(c.logs(criteria, from, head)?)),
            }
        });
        out.unwrap_or_else(|| Err(invalid_params("filter not found")))
    })?;
    m.register_blocking_method("eth_getFilterLogs", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let id = parse_u64(v.first().and_then(Value::as_str).unwrap_or(""))?;
        let _ = id;
        let _ = c;
        Err(invalid_params(
            "eth_getFilterLogs is not supported; use eth_getLogs with the same criteria",
        ))
    })?;
    m.register_method("banyan_getProof", |p, c, _| -> R { proof(p, c) })?;
    m.register_method("eth_getProof", |p, c, _| -> R { proof(p, c) })?;
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
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        subscribe,
    )?;
    Ok(())
}

fn proof(p: Params<'_>, c: &Ctx) -> R {
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

enum Topic {
    Heads,
    Logs(LogCriteria),
}

async fn subscribe(
    p: Params<'static>,
    pending: PendingSubscriptionSink,
    c: Arc<Ctx>,
    _: jsonrpsee::Extensions,
) -> jsonrpsee::core::SubscriptionResult {
    let v: Vec<Value> = match params_vec(&p) {
        Ok(v) => v,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    let topic = match v.first().and_then(Value::as_str) {
        Some("newHeads") => Topic::Heads,
        Some("logs") => match parse_log_filter(v.get(1)) {
            Ok(f) => Topic::Logs(f.criteria),
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        },
        other => {
            pending
                .reject(invalid_params(format!(
                    "unsupported subscription {other:?}; use newHeads or logs"
                )))
                .await;
            return Ok(());
        }
    };
    let mut rx = c.backend.subscribe();
    let sink = pending.accept().await?;
    loop {
        let block: CommittedBlock = tokio::select! {
            _ = sink.closed() => return Ok(()),
            r = rx.recv() => match r {
                Ok(b) => b,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return Ok(()),
            },
        };
        let items: Vec<Value> = match &topic {
            Topic::Heads => vec![header_json(
                &block.header,
                block.hash,
                json!([]),
                block.header.header.encoded().len(),
            )],
            Topic::Logs(criteria) => {
                let mut out = vec![];
                let mut idx = 0;
                for (i, r) in block.receipts.iter().enumerate() {
                    let place = TxPlace {
                        block_hash: block.hash,
                        number: block.header.header.number,
                        index: i as u32,
                    };
                    for log in &r.logs {
                        if criteria.matches(log) {
                            out.push(log_json(log, &place, r.tx_hash, idx));
                        }
                        idx += 1;
                    }
                }
                out
            }
        };
        for item in items {
            let raw = serde_json::value::to_raw_value(&item)?;
            if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                return Ok(());
            }
        }
    }
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
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(tower::ServiceBuilder::new().option_layer(cors))
        .build(config.listen)
        .await?;
    let addr = server.local_addr()?;
    let ctx = Ctx {
        backend,
        filters: Filters::new(config.max_filters, Duration::from_secs(300)),
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
        config: RpcConfig::default(),
    };
    let mut m = RpcModule::new(ctx);
    let _ = register(&mut m);
    let mut names: Vec<_> = m.method_names().collect();
    names.sort_unstable();
    names
}
