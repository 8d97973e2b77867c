//! The Payments module's reads: `banyan_paymentsCurrencies`, `banyan_paymentsBalance`,
//! `banyan_paymentByKey` (answered by the module's own views at a block) and
//! `banyan_paymentsHistory` (an account's movements, from the logs).
//!
//! Amounts are decimal strings in the currency's minor units, with `decimals` beside them.
//! A currency is named by its token address or its code (`"USD"`).

use alloy_primitives::{Address, Bloom, BloomInput};
use alloy_sol_types::SolCall;
use banyan_execution::CallRequest;
use banyan_sdk::payments::{self, HistoryEntry, IPayments, LogPlace, PAYMENTS_ADDRESS};
use jsonrpsee::types::Params;
use serde_json::{Value, json};

use crate::error::{RpcError, invalid_params, server_error};
use crate::json::{BlockTag, parse_address, parse_block_tag};
use crate::server::{Ctx, R, backend_err, params_vec};

/// Most entries one history call returns.
pub(crate) const MAX_HISTORY_ENTRIES: usize = 1_000;
const DEFAULT_HISTORY_ENTRIES: usize = 100;

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_blocking_method("banyan_paymentsCurrencies", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let n = c.resolve(parse_block_tag(v.first())?)?;
        let list = view(&c, n, IPayments::currenciesCall {})?;
        Ok(Value::Array(list.iter().map(currency_json).collect()))
    })?;
    m.register_blocking_method("banyan_paymentsBalance", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let n = c.resolve(parse_block_tag(v.get(2))?)?;
        let token = currency_param(&c, n, v.first())?;
        let account = parse_address(v.get(1).unwrap_or(&Value::Null), "account")?;
        let currency = view(&c, n, IPayments::currencyCall { token })?;
        let b = view(&c, n, IPayments::balanceOfCall { token, account })?;
        Ok(json!({
            "token": token,
            "code": currency.code,
            "decimals": currency.decimals,
            "account": account,
            "block": n,
            "balance": b.balance.to_string(),
            "held": b.held.to_string(),
            "available": b.available.to_string(),
        }))
    })?;
    m.register_blocking_method("banyan_paymentByKey", |p, c, _| -> R {
        let v = params_vec(&p)?;
        let payer = parse_address(v.first().unwrap_or(&Value::Null), "payer")?;
        let key = match v.get(1) {
            Some(Value::String(s)) => payments::key_of(s),
            _ => {
                return Err(invalid_params(
                    "key: expected 32 bytes of hex, or the key's text",
                ));
            }
        };
        let n = c.resolve(parse_block_tag(v.get(2))?)?;
        let r = view(&c, n, IPayments::paymentByKeyCall { payer, key })?;
        let outcome = match r.outcome {
            IPayments::Outcome::Executed => "executed",
            IPayments::Outcome::Failed => "failed",
            _ => return Ok(Value::Null),
        };
        Ok(json!({
            "payer": payer,
            "key": key,
            "outcome": outcome,
            "paymentId": r.payment,
            "block": r.blockNumber,
            "expiresAt": r.expiresAt,
            "fingerprint": r.fingerprint,
            "reason": r.reason,
        }))
    })?;
    m.register_blocking_method("banyan_paymentsHistory", |p, c, _| -> R { history(&p, &c) })?;
    Ok(())
}

/// Runs view `call` of the Payments module on the state after block `n`.
fn view<C: SolCall>(c: &Ctx, n: u64, call: C) -> Result<C::Return, RpcError> {
    let request = CallRequest {
        to: Some(PAYMENTS_ADDRESS),
        data: call.abi_encode().into(),
        ..Default::default()
    };
    let outcome = c
        .backend
        .call(n, &request)
        .map_err(|e| server_error(format!("Payments view {}: {e}", C::SIGNATURE)))?;
    if !outcome.success {
        let reason = outcome
            .revert_reason
            .unwrap_or_else(|| "the Payments module is not enabled on this chain".into());
        return Err(invalid_params(reason));
    }
    C::abi_decode_returns(&outcome.output)
        .map_err(|e| server_error(format!("Payments view {}: {e}", C::SIGNATURE)))
}

/// A currency given by token address or code.
fn currency_param(c: &Ctx, n: u64, v: Option<&Value>) -> Result<Address, RpcError> {
    match v {
        Some(Value::String(s)) if s.starts_with("0x") => {
            parse_address(&Value::String(s.clone()), "currency")
        }
        Some(Value::String(code)) => {
            view(c, n, IPayments::currencyByCodeCall { code: code.clone() })
        }
        _ => Err(invalid_params(
            "currency: expected a token address or a currency code such as \"USD\"",
        )),
    }
}

fn currency_json(c: &IPayments::Currency) -> Value {
    json!({
        "token": c.token,
        "code": c.code,
        "name": c.name,
        "decimals": c.decimals,
        "issuer": c.issuer,
        "supply": c.supply.to_string(),
        "cap": c.cap.to_string(),
        "feeAccount": c.feeAccount,
    })
}

/// `banyan_paymentsHistory({account, currency?, fromBlock?, toBlock?, after?, limit?})`:
/// `{"entries": [...], "next": {"block", "logIndex"} | null}`. One call scans at most the
/// `eth_getLogs` block range; `next` then points past what it scanned.
fn history(p: &Params<'_>, c: &Ctx) -> R {
    let v = params_vec(p)?;
    let Some(Value::Object(o)) = v.first() else {
        return Err(invalid_params(
            "banyan_paymentsHistory takes one object: {account, currency?, fromBlock?, toBlock?, after?, limit?}",
        ));
    };
    const KNOWN: [&str; 6] = [
        "account",
        "currency",
        "fromBlock",
        "toBlock",
        "after",
        "limit",
    ];
    if let Some(unknown) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(invalid_params(format!(
            "unknown field `{unknown}`; fields are {}",
            KNOWN.join(", ")
        )));
    }
    let account = parse_address(o.get("account").unwrap_or(&Value::Null), "account")?;
    let head = c.backend.head_number();
    let tag = |name: &str, default: u64| -> Result<u64, RpcError> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => match parse_block_tag(Some(v))? {
                BlockTag::Number(n) => Ok(n.min(head)),
                other => c.resolve(other),
            },
        }
    };
    let (from, to) = (tag("fromBlock", 0)?, tag("toBlock", head)?);
    let token = match o.get("currency") {
        None | Some(Value::Null) => None,
        some => Some(currency_param(c, head, some)?),
    };
    let number = |v: &Value, name: &str| -> Result<u64, RpcError> {
        v.as_u64()
            .ok_or_else(|| invalid_params(format!("{name} must be a non-negative integer")))
    };
    let after = match o.get("after") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => Some((
            number(a.get("block").unwrap_or(&Value::Null), "after.block")?,
            number(a.get("logIndex").unwrap_or(&Value::Null), "after.logIndex")?,
        )),
        Some(_) => return Err(invalid_params("after: expected {block, logIndex}")),
    };
    let limit = match o.get("limit") {
        None | Some(Value::Null) => DEFAULT_HISTORY_ENTRIES,
        Some(v) => number(v, "limit")? as usize,
    };
    if limit == 0 || limit > MAX_HISTORY_ENTRIES {
        return Err(invalid_params(format!(
            "limit must be 1 to {MAX_HISTORY_ENTRIES}, got {limit}"
        )));
    }
    let start = after.map_or(from, |(block, _)| block.max(from));
    let mut entries: Vec<HistoryEntry> = Vec::new();
    if start > to {
        return Ok(json!({"entries": entries, "next": Value::Null}));
    }
    let last = to.min(start.saturating_add(c.config.max_log_block_range - 1));
    // Blocks whose bloom cannot hold a Transfer to or from the account are skipped unread.
    let mut topic = [0u8; 32];
    topic[12..].copy_from_slice(account.as_slice());
    let mut wanted = Bloom::default();
    wanted.accrue(BloomInput::Raw(&topic));
    for n in start..=last {
        let Some(h) = c.backend.header(n).map_err(backend_err)? else {
            break;
        };
        if !h.header.logs_bloom.contains(&wanted) {
            continue;
        }
        let mut receipts = c
            .backend
            .receipts(n)
            .map_err(backend_err)?
            .ok_or_else(|| invalid_params(format!("block {n}'s receipts are missing")))?;
        receipts.extend(c.backend.block_end_receipt(n).map_err(backend_err)?);
        let mut first_log_index = 0u64;
        for r in &receipts {
            let place = LogPlace {
                block: n,
                timestamp: h.header.timestamp,
                tx_hash: r.tx_hash,
                first_log_index,
            };
            first_log_index += r.logs.len() as u64;
            for e in payments::history_entries(&r.logs, place, account, token) {
                if after.is_some_and(|(b, i)| n == b && e.log_index <= i) {
                    continue;
                }
                let cursor = (e.block, e.log_index);
                entries.push(e);
                if entries.len() == limit {
                    return Ok(json!({"entries": entries, "next": cursor_json(cursor)}));
                }
            }
        }
    }
    let next = if last < to {
        // Scanned as far as one call may: go on after the last block scanned.
        cursor_json((last, u64::MAX))
    } else {
        Value::Null
    };
    Ok(json!({"entries": entries, "next": next}))
}

fn cursor_json((block, log_index): (u64, u64)) -> Value {
    json!({"block": block, "logIndex": log_index})
}
