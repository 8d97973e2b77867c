//! `eth_subscribe` / `eth_unsubscribe`: new heads and logs over WebSocket.

use jsonrpsee::server::{PendingSubscriptionSink, SubscriptionMessage};
use jsonrpsee::types::Params;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::backend::CommittedBlock;
use crate::error::invalid_params;
use crate::filters::{LogCriteria, parse_log_filter};
use crate::json::*;
use crate::server::{Ctx, params_vec};

pub(crate) fn register(
    m: &mut jsonrpsee::server::RpcModule<Ctx>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        subscribe,
    )?;
    Ok(())
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
