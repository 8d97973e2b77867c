//! JSON shapes of blocks, transactions, receipts and logs as Ethereum clients expect them, and
//! parsing of request parameters.

use alloy_primitives::{Address, B256, Bytes, Log, U256, b256};
use banyan_execution::CallRequest;
use banyan_primitives::consensus::CommitCertificate;
use banyan_primitives::{GenesisValidator, Receipt, RecoveredTx, SealedHeader};
use banyan_sdk::wire::{WireCertificate, WireHeader, WireLog, WireReceipt, WireValidatorSet};
use serde_json::{Value, json};

use crate::error::{RpcError, invalid_params};

/// keccak256(rlp([])): the uncles hash of a block without uncles.
const EMPTY_OMMERS: B256 =
    b256!("1dcc4de8dec75d7aab85b567b8ccd41ad312451b948a7413f0a142fd40d49347");

/// Hex quantity.
pub(crate) fn q(n: impl Into<u128>) -> String {
    format!("{:#x}", n.into())
}

/// Where a block-level request reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockTag {
    /// A height.
    Number(u64),
    /// The latest committed block (also `pending`, `safe` and `finalized`: commits are final).
    Latest,
    /// A block by hash.
    Hash(B256),
}

pub(crate) fn parse_block_tag(v: Option<&Value>) -> Result<BlockTag, RpcError> {
    let Some(v) = v else {
        return Ok(BlockTag::Latest);
    };
    match v {
        Value::Null => Ok(BlockTag::Latest),
        Value::String(s) => match s.as_str() {
            "latest" | "pending" | "safe" | "finalized" => Ok(BlockTag::Latest),
            "earliest" => Ok(BlockTag::Number(0)),
            s if s.len() == 66 => s
                .parse::<B256>()
                .map(BlockTag::Hash)
                .map_err(|_| invalid_params(format!("invalid block hash {s}"))),
            s => parse_u64(s).map(BlockTag::Number),
        },
        Value::Object(o) => {
            if let Some(h) = o.get("blockHash").and_then(Value::as_str) {
                return h
                    .parse::<B256>()
                    .map(BlockTag::Hash)
                    .map_err(|_| invalid_params(format!("invalid block hash {h}")));
            }
            if let Some(n) = o.get("blockNumber") {
                return parse_block_tag(Some(n));
            }
            Err(invalid_params(
                "block object needs blockHash or blockNumber",
            ))
        }
        other => Err(invalid_params(format!("invalid block tag {other}"))),
    }
}

/// A quantity parameter (the SDK's parser: `0x` and 1 to 16 hex digits).
pub(crate) fn parse_u64(s: &str) -> Result<u64, RpcError> {
    banyan_sdk::quantity::parse(s).map_err(|e| invalid_params(e.to_string()))
}

fn parse_u256(v: &Value, field: &str) -> Result<U256, RpcError> {
    match v {
        Value::String(s) => s
            .parse::<U256>()
            .map_err(|_| invalid_params(format!("invalid {field}: {s}"))),
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| invalid_params(format!("invalid {field}"))),
        _ => Err(invalid_params(format!("invalid {field}"))),
    }
}

/// A required string parameter parsed as `T` (a hash, a slot); `"<what> required"` when it is
/// missing or does not parse.
pub(crate) fn required<T: std::str::FromStr>(v: Option<&Value>, what: &str) -> Result<T, RpcError> {
    v.and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid_params(format!("{what} required")))
}

pub(crate) fn parse_address(v: &Value, field: &str) -> Result<Address, RpcError> {
    v.as_str()
        .and_then(|s| s.parse::<Address>().ok())
        .ok_or_else(|| invalid_params(format!("invalid {field}: expected a 20-byte hex address")))
}

pub(crate) fn parse_bytes(v: &Value, field: &str) -> Result<Bytes, RpcError> {
    v.as_str()
        .and_then(|s| s.parse::<Bytes>().ok())
        .ok_or_else(|| invalid_params(format!("invalid {field}: expected 0x-prefixed hex bytes")))
}

pub(crate) fn parse_call_request(v: &Value) -> Result<CallRequest, RpcError> {
    let o = v
        .as_object()
        .ok_or_else(|| invalid_params("call request must be an object"))?;
    let get = |k: &str| o.get(k).filter(|v| !v.is_null());
    let data = match (get("input"), get("data")) {
        (Some(d), _) | (None, Some(d)) => parse_bytes(d, "data")?,
        _ => Bytes::new(),
    };
    let price = match get("gasPrice").or(get("maxFeePerGas")) {
        Some(p) => Some(
            u128::try_from(parse_u256(p, "gasPrice")?)
                .map_err(|_| invalid_params("gasPrice too large"))?,
        ),
        None => None,
    };
    Ok(CallRequest {
        from: get("from").map(|v| parse_address(v, "from")).transpose()?,
        to: get("to").map(|v| parse_address(v, "to")).transpose()?,
        gas: get("gas")
            .map(|v| parse_u256(v, "gas").map(|g| g.saturating_to::<u64>()))
            .transpose()?,
        gas_price: price,
        value: get("value").map(|v| parse_u256(v, "value")).transpose()?,
        data,
    })
}

/// A block object: the header fields of [`WireHeader`] (one definition with the SDK), plus the
/// fields Ethereum clients expect that are constant on Banyan, the size and the transactions.
pub(crate) fn header_json(h: &SealedHeader, hash: B256, txs: Value, size: usize) -> Value {
    let mut block = serde_json::to_value(WireHeader::new(&h.header, hash, &h.signature))
        .unwrap_or_else(|_| json!({}));
    let extra = json!({
        "nonce": "0x0000000000000000",
        "sha3Uncles": EMPTY_OMMERS,
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "size": q(size as u64),
        "mixHash": B256::ZERO,
        "transactions": txs,
        "uncles": [],
    });
    if let (Some(block), Value::Object(extra)) = (block.as_object_mut(), extra) {
        block.extend(extra);
    }
    block
}

/// Where a transaction sits in the chain, if it is committed.
pub(crate) struct TxPlace {
    pub(crate) block_hash: B256,
    pub(crate) number: u64,
    pub(crate) index: u32,
}

pub(crate) fn tx_json(tx: &RecoveredTx, place: Option<&TxPlace>) -> Value {
    let (v, r, s, y) = tx.signature_parts();
    let mut o = json!({
        "hash": tx.hash(),
        "type": q(tx.tx_type() as u64),
        "nonce": q(tx.nonce()),
        "from": tx.sender(),
        "to": tx.to(),
        "gas": q(tx.gas_limit()),
        "gasPrice": q(if place.is_some() { tx.effective_gas_price() } else { tx.max_fee_per_gas() }),
        "value": tx.value(),
        "input": tx.input(),
        "v": q(v),
        "r": r,
        "s": s,
        "chainId": tx.chain_id().map(q),
        "blockHash": place.map(|p| p.block_hash),
        "blockNumber": place.map(|p| q(p.number)),
        "transactionIndex": place.map(|p| q(p.index as u64)),
    });
    if tx.tx_type() != 0 {
        o["yParity"] = json!(q(y as u64));
        o["accessList"] = tx
            .access_list()
            .into_iter()
            .map(|(a, keys)| json!({"address": a, "storageKeys": keys}))
            .collect();
    }
    if let Some(tip) = tx.max_priority_fee_per_gas() {
        o["maxFeePerGas"] = json!(q(tx.max_fee_per_gas()));
        o["maxPriorityFeePerGas"] = json!(q(tip));
    }
    if let Some(pk) = tx.sm_public_key() {
        o["publicKey"] = json!(pk);
    }
    o
}

pub(crate) fn log_json(log: &Log, place: &TxPlace, tx_hash: B256, log_index: usize) -> Value {
    serde_json::to_value(wire_log(log, place, tx_hash, log_index)).unwrap_or(Value::Null)
}

fn wire_log(log: &Log, place: &TxPlace, tx_hash: B256, log_index: usize) -> WireLog {
    WireLog {
        address: log.address,
        topics: log.topics().to_vec(),
        data: log.data.data.clone(),
        block_hash: place.block_hash,
        block_number: place.number,
        transaction_hash: tx_hash,
        transaction_index: u64::from(place.index),
        log_index: log_index as u64,
        removed: false,
    }
}

/// Index of the first log of receipt `i` within its block.
pub(crate) fn first_log_index(receipts: &[Receipt], i: usize) -> usize {
    receipts[..i].iter().map(|r| r.logs.len()).sum()
}

pub(crate) fn receipt_json(r: &Receipt, receipts: &[Receipt], place: &TxPlace) -> Value {
    let first = first_log_index(receipts, place.index as usize);
    let receipt = WireReceipt {
        transaction_hash: r.tx_hash,
        transaction_index: u64::from(place.index),
        block_hash: place.block_hash,
        block_number: place.number,
        from: r.from,
        to: r.to,
        cumulative_gas_used: r.cumulative_gas_used,
        gas_used: r.gas_used,
        effective_gas_price: r.effective_gas_price,
        contract_address: r.contract_address,
        logs: r
            .logs
            .iter()
            .enumerate()
            .map(|(i, l)| wire_log(l, place, r.tx_hash, first + i))
            .collect(),
        logs_bloom: r.bloom(),
        status: u64::from(r.success),
        tx_type: u64::from(r.tx_type),
    };
    serde_json::to_value(receipt).unwrap_or(Value::Null)
}

/// `banyan_getCommitCertificate`: the certificate's fields, signatures in stored order.
pub(crate) fn certificate_json(cert: &CommitCertificate) -> Value {
    serde_json::to_value(WireCertificate::from(cert)).unwrap_or(Value::Null)
}

/// `banyan_getValidatorSet`: the validators and their total power.
pub(crate) fn validator_set_json(validators: &[GenesisValidator]) -> Value {
    serde_json::to_value(WireValidatorSet::new(validators)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use banyan_primitives::consensus::CommitSignature;

    #[test]
    fn certificate_and_validator_set_shapes() {
        let cert = CommitCertificate::new(
            10,
            2,
            B256::repeat_byte(0xab),
            vec![CommitSignature {
                validator: Address::repeat_byte(1),
                signature: Bytes::from(vec![0xcd; 3]),
            }],
        );
        assert_eq!(
            certificate_json(&cert),
            json!({
                "height": "0xa",
                "round": "0x2",
                "blockHash": format!("0x{}", "ab".repeat(32)),
                "signatures": [{
                    "validator": Address::repeat_byte(1),
                    "signature": "0xcdcdcd",
                }],
            })
        );
        let validators = [
            GenesisValidator {
                address: Address::repeat_byte(1),
                public_key: Bytes::from(vec![0x11; 2]),
                power: u64::MAX,
            },
            GenesisValidator {
                address: Address::repeat_byte(2),
                public_key: Bytes::from(vec![0x22; 2]),
                power: 1,
            },
        ];
        let set = validator_set_json(&validators);
        // The total does not wrap at u64::MAX.
        assert_eq!(set["totalPower"], "0x10000000000000000");
        assert_eq!(
            set["validators"][1],
            json!({"address": Address::repeat_byte(2), "publicKey": "0x2222", "power": "0x1"})
        );
    }
}
