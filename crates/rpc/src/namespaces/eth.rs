//! The `eth_` namespace: chain and fee reads, blocks, transactions, receipts, accounts, calls,
//! submission, logs and filters, and `eth_getProof` (the Ethereum execution API).

use alloy_primitives::{B256, U256};
use serde_json::{Value, json};

use crate::backend::SubmitError;
use crate::banyan_proof as proof;
use crate::error::{exec_error, invalid_params, limit_exceeded, server_error};
use crate::filters::{FilterKind, parse_log_filter};
use crate::json::*;
use crate::server::{Ctx, R, backend_err, missing, params_vec};

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("eth_chainId", |_, c, _| -> R {
        Ok(json!(q(c.backend.chain_id())))
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
        let hash: B256 = required(v.first(), "block hash")?;
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
        let hash: B256 = required(v.first(), "transaction hash")?;
        if let Some((n, i)) = c.backend.tx_location(hash).map_err(backend_err)? {
            let Some(tx) = c.backend.committed_tx(n, i).map_err(backend_err)? else {
                return Ok(Value::Null);
            };
            let block_hash = c.block_hash(n)?.ok_or_else(|| missing(n, "header"))?;
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
        let hash: B256 = required(v.first(), "transaction hash")?;
        let Some((n, i)) = c.backend.tx_location(hash).map_err(backend_err)? else {
            return Ok(Value::Null);
        };
        let receipts = c
            .backend
            .receipts(n)
            .map_err(backend_err)?
            .ok_or_else(|| missing(n, "receipts"))?;
        let Some(r) = receipts.get(i as usize) else {
            return Err(server_error("receipt missing for committed transaction"));
        };
        let block_hash = c.block_hash(n)?.ok_or_else(|| missing(n, "header"))?;
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
        let slot: U256 = required(v.get(1), "storage slot")?;
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
    // Decoding and the signature check run on the blocking pool, off the async workers that
    // also drive consensus.
    m.register_blocking_method("eth_sendRawTransaction", |p, c, _| -> R {
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
    m.register_method("eth_getProof", |p, c, _| -> R { proof(p, c) })?;
    Ok(())
}
