//! `banyan_auditTrail`: every privileged action and every vote (the Governance and Multisig
//! modules' events), filtered by account, event and block or time range, a page at a time.
//!
//! Params: one object, every field optional: `fromBlock`, `toBlock` (block tags), `fromTime`,
//! `toTime` (Unix seconds, inclusive), `account` (the actor or the account acted on), `event`
//! (a name of `banyan_sdk::audit::EVENTS`), `after` (`{"block", "logIndex"}` of the last entry
//! already read) and `limit` (1 to 1000, default 100). Answer: `{"entries": [...], "next":
//! {"block", "logIndex"} | null}`; `next` is the `after` of the following page. One call scans
//! at most the `eth_getLogs` block range; `next` then points past what it scanned.

use alloy_primitives::{Address, Bloom, BloomInput};
use banyan_sdk::audit::{self, AuditEntry};
use banyan_sdk::governance::GOVERNANCE_ADDRESS;
use banyan_sdk::multisig::MULTISIG_ADDRESS;
use jsonrpsee::types::Params;
use serde_json::{Value, json};

use crate::error::invalid_params;
use crate::json::{BlockTag, parse_address, parse_block_tag};
use crate::server::{Ctx, R, backend_err, params_vec};

/// Most entries one call returns.
pub(crate) const MAX_AUDIT_ENTRIES: usize = 1_000;
const DEFAULT_AUDIT_ENTRIES: usize = 100;

struct Query {
    from: u64,
    to: u64,
    from_time: Option<u64>,
    to_time: Option<u64>,
    account: Option<Address>,
    event: Option<String>,
    after: Option<(u64, u64)>,
    limit: usize,
}

fn field_u64(
    o: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<u64>, crate::error::RpcError> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid_params(format!("{name} must be a non-negative integer"))),
        Some(Value::String(s)) => crate::json::parse_u64(s).map(Some),
        Some(other) => Err(invalid_params(format!(
            "{name}: expected a number, got {other}"
        ))),
    }
}

fn parse(c: &Ctx, v: Option<&Value>) -> Result<Query, crate::error::RpcError> {
    let empty = serde_json::Map::new();
    let o = match v {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(invalid_params(format!(
                "banyan_auditTrail takes one object of filters, got {other}"
            )));
        }
    };
    const KNOWN: [&str; 8] = [
        "fromBlock",
        "toBlock",
        "fromTime",
        "toTime",
        "account",
        "event",
        "after",
        "limit",
    ];
    if let Some(unknown) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(invalid_params(format!(
            "unknown filter `{unknown}`; filters are {}",
            KNOWN.join(", ")
        )));
    }
    let tag = |name: &str, default: BlockTag| -> Result<u64, crate::error::RpcError> {
        match o.get(name) {
            None | Some(Value::Null) => c.resolve(default),
            Some(v) => match parse_block_tag(Some(v))? {
                BlockTag::Number(n) => Ok(n.min(c.backend.head_number())),
                other => c.resolve(other),
            },
        }
    };
    let event = match o.get("event") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) if audit::EVENTS.contains(&e.as_str()) => Some(e.clone()),
        Some(other) => {
            return Err(invalid_params(format!(
                "event {other} is not one of {}",
                audit::EVENTS.join(", ")
            )));
        }
    };
    let after = match o.get("after") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => Some((
            field_u64(a, "block")?.ok_or_else(|| invalid_params("after.block is missing"))?,
            field_u64(a, "logIndex")?.ok_or_else(|| invalid_params("after.logIndex is missing"))?,
        )),
        Some(other) => {
            return Err(invalid_params(format!(
                "after: expected an object, got {other}"
            )));
        }
    };
    let limit = field_u64(o, "limit")?.map_or(DEFAULT_AUDIT_ENTRIES as u64, |l| l);
    if limit == 0 || limit > MAX_AUDIT_ENTRIES as u64 {
        return Err(invalid_params(format!(
            "limit must be 1 to {MAX_AUDIT_ENTRIES}, got {limit}"
        )));
    }
    Ok(Query {
        from: tag("fromBlock", BlockTag::Number(0))?,
        to: tag("toBlock", BlockTag::Latest)?,
        from_time: field_u64(o, "fromTime")?,
        to_time: field_u64(o, "toTime")?,
        account: o
            .get("account")
            .filter(|v| !v.is_null())
            .map(|v| parse_address(v, "account"))
            .transpose()?,
        event,
        after,
        limit: limit as usize,
    })
}

fn cursor(block: u64, log_index: u64) -> Value {
    json!({"block": block, "logIndex": log_index})
}

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_blocking_method("banyan_auditTrail", |p, c, _| -> R { trail(&p, &c) })?;
    Ok(())
}

fn trail(p: &Params<'_>, c: &Ctx) -> R {
    let v = params_vec(p)?;
    let q = parse(c, v.first())?;
    let start = q.after.map_or(q.from, |(block, _)| block.max(q.from));
    let mut entries: Vec<AuditEntry> = Vec::new();
    if start > q.to {
        return Ok(json!({"entries": entries, "next": Value::Null}));
    }
    let last =
        q.to.min(start.saturating_add(c.config.max_log_block_range - 1));
    let bloom_of = |address: &alloy_primitives::Address| {
        let mut bloom = Bloom::default();
        bloom.accrue(BloomInput::Raw(address.as_slice()));
        bloom
    };
    let (governance, multisig) = (bloom_of(&GOVERNANCE_ADDRESS), bloom_of(&MULTISIG_ADDRESS));
    for n in start..=last {
        let Some(h) = c.backend.header(n).map_err(backend_err)? else {
            break;
        };
        let timestamp = h.header.timestamp;
        if q.to_time.is_some_and(|t| timestamp > t) {
            return Ok(json!({"entries": entries, "next": Value::Null}));
        }
        let bloom = &h.header.logs_bloom;
        if q.from_time.is_some_and(|t| timestamp < t)
            || !(bloom.contains(&governance) || bloom.contains(&multisig))
        {
            continue;
        }
        let receipts = c
            .backend
            .receipts(n)
            .map_err(backend_err)?
            .ok_or_else(|| invalid_params(format!("block {n}'s receipts are missing")))?;
        let mut log_index = 0u64;
        for r in &receipts {
            for log in &r.logs {
                let index = log_index;
                log_index += 1;
                if q.after.is_some_and(|(b, i)| n == b && index <= i) {
                    continue;
                }
                let Some(e) = audit::entry(log, n, timestamp, r.tx_hash, index, r.from) else {
                    continue;
                };
                if q.account.is_some_and(|a| !e.involves(a))
                    || q.event.as_ref().is_some_and(|ev| *ev != e.event)
                {
                    continue;
                }
                entries.push(e);
                if entries.len() == q.limit {
                    return Ok(json!({"entries": entries, "next": cursor(n, index)}));
                }
            }
        }
    }
    let next = if last < q.to {
        // Scanned as far as one call may: go on after the last block scanned.
        cursor(last, u64::MAX)
    } else {
        Value::Null
    };
    Ok(json!({"entries": entries, "next": next}))
}
