//! Log criteria and polling filters (`eth_newFilter`, `eth_newBlockFilter`, `eth_getFilterChanges`).

use alloy_primitives::{Address, B256, BloomInput, Log};
use banyan_primitives::Bloom;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::error::{RpcError, invalid_params, limit_exceeded};
use crate::json::{BlockTag, parse_address, parse_block_tag};

/// Which logs a filter or subscription wants.
#[derive(Clone, Debug, Default)]
pub(crate) struct LogCriteria {
    /// Any of these emitters (empty: any).
    pub(crate) addresses: Vec<Address>,
    /// Per position, any of these topics (empty or `None`: any).
    pub(crate) topics: Vec<Option<Vec<B256>>>,
}

impl LogCriteria {
    pub(crate) fn matches(&self, log: &Log) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&log.address) {
            return false;
        }
        let topics = log.topics();
        self.topics.iter().enumerate().all(|(i, want)| match want {
            None => true,
            Some(set) if set.is_empty() => true,
            Some(set) => topics.get(i).is_some_and(|t| set.contains(t)),
        })
    }

    /// Whether a block with this bloom may contain a matching log.
    pub(crate) fn may_match(&self, bloom: &Bloom) -> bool {
        let addr_ok = self.addresses.is_empty()
            || self
                .addresses
                .iter()
                .any(|a| bloom.contains_input(BloomInput::Raw(a.as_slice())));
        addr_ok
            && self.topics.iter().all(|t| match t {
                None => true,
                Some(set) if set.is_empty() => true,
                Some(set) => set
                    .iter()
                    .any(|x| bloom.contains_input(BloomInput::Raw(x.as_slice()))),
            })
    }
}

/// A parsed `eth_getLogs`/`eth_newFilter` object.
pub(crate) struct LogFilter {
    pub(crate) criteria: LogCriteria,
    pub(crate) from: Option<BlockTag>,
    pub(crate) to: Option<BlockTag>,
    pub(crate) block_hash: Option<B256>,
}

const MAX_ADDRESSES: usize = 1_000;
const MAX_TOPIC_OPTIONS: usize = 1_000;

pub(crate) fn parse_log_filter(v: Option<&Value>) -> Result<LogFilter, RpcError> {
    let empty = serde_json::Map::new();
    let o = match v {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid_params("log filter must be an object")),
    };
    let addresses = match o.get("address") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| parse_address(x, "address"))
            .collect::<Result<_, _>>()?,
        Some(x) => vec![parse_address(x, "address")?],
    };
    if addresses.len() > MAX_ADDRESSES {
        return Err(limit_exceeded(format!(
            "at most {MAX_ADDRESSES} addresses per filter"
        )));
    }
    let parse_topic = |x: &Value| -> Result<B256, RpcError> {
        x.as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid_params("invalid topic: expected 32-byte hex"))
    };
    let topics = match o.get("topics") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(ts)) => {
            if ts.len() > 4 {
                return Err(invalid_params("at most 4 topic positions"));
            }
            ts.iter()
                .map(|t| match t {
                    Value::Null => Ok(None),
                    Value::Array(opts) => {
                        if opts.len() > MAX_TOPIC_OPTIONS {
                            return Err(limit_exceeded("too many topic alternatives"));
                        }
                        opts.iter()
                            .map(parse_topic)
                            .collect::<Result<Vec<_>, _>>()
                            .map(Some)
                    }
                    x => parse_topic(x).map(|t| Some(vec![t])),
                })
                .collect::<Result<_, _>>()?
        }
        Some(_) => return Err(invalid_params("topics must be an array")),
    };
    let block_hash = match o.get("blockHash") {
        None | Some(Value::Null) => None,
        Some(x) => Some(
            x.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| invalid_params("invalid blockHash"))?,
        ),
    };
    let tag = |k: &str| {
        o.get(k)
            .filter(|v| !v.is_null())
            .map(|v| parse_block_tag(Some(v)))
            .transpose()
    };
    let from = tag("fromBlock")?;
    let to = tag("toBlock")?;
    if block_hash.is_some() && (from.is_some() || to.is_some()) {
        return Err(invalid_params(
            "blockHash cannot be combined with fromBlock/toBlock",
        ));
    }
    Ok(LogFilter {
        criteria: LogCriteria { addresses, topics },
        from,
        to,
        block_hash,
    })
}

/// What a polling filter returns.
pub(crate) enum FilterKind {
    /// New block hashes.
    Blocks,
    /// Logs matching the criteria.
    Logs(LogCriteria),
}

struct Installed {
    kind: FilterKind,
    /// Last height whose changes were returned.
    last_seen: u64,
    last_poll: Instant,
}

/// Installed filters, bounded in number and expired when not polled.
pub(crate) struct Filters {
    inner: Mutex<(u64, HashMap<u64, Installed>)>,
    max: usize,
    idle: Duration,
}

impl Filters {
    pub(crate) fn new(max: usize, idle: Duration) -> Self {
        Self {
            inner: Mutex::new((0, HashMap::new())),
            max,
            idle,
        }
    }

    pub(crate) fn install(&self, kind: FilterKind, head: u64) -> Result<u64, RpcError> {
        let mut g = self.inner.lock();
        let now = Instant::now();
        let idle = self.idle;
        g.1.retain(|_, f| now.duration_since(f.last_poll) < idle);
        if g.1.len() >= self.max {
            return Err(limit_exceeded(format!(
                "too many filters installed (limit {})",
                self.max
            )));
        }
        g.0 += 1;
        let id = g.0;
        g.1.insert(
            id,
            Installed {
                kind,
                last_seen: head,
                last_poll: now,
            },
        );
        Ok(id)
    }

    pub(crate) fn uninstall(&self, id: u64) -> bool {
        self.inner.lock().1.remove(&id).is_some()
    }

    /// Marks the filter polled up to `head` and returns its kind and the first unseen height.
    pub(crate) fn poll<R>(
        &self,
        id: u64,
        head: u64,
        f: impl FnOnce(&FilterKind, u64) -> R,
    ) -> Option<R> {
        let mut g = self.inner.lock();
        let flt = g.1.get_mut(&id)?;
        let from = flt.last_seen + 1;
        flt.last_seen = head.max(flt.last_seen);
        flt.last_poll = Instant::now();
        Some(f(&flt.kind, from))
    }
}
