//! Bad input over JSON-RPC gets a clear error and changes nothing: malformed bytes, bad
//! signatures, wrong chain id, nonces too far ahead, insufficient balance, oversized payloads, oversized
//! bodies and batches, too-wide log ranges.

use crate::common;
use alloy_primitives::{Address, U256};
use banyan_testkit::{DevNode, RpcClient};
use serde_json::json;

fn rejected(rpc: &RpcClient, raw: &str, expect: &str) {
    let before = rpc.call("banyan_status", json!([])).unwrap();
    let err = rpc
        .try_call("eth_sendRawTransaction", json!([raw]))
        .unwrap()
        .expect_err("must be rejected");
    assert!(
        err.message.contains(expect),
        "expected an error containing {expect:?}, got {err}"
    );
    assert_eq!(err.code, -32000, "{err}");
    let after = rpc.call("banyan_status", json!([])).unwrap();
    assert_eq!(
        after["txpoolSize"], 0,
        "a rejected transaction reached the pool"
    );
    assert_eq!(
        after["headNumber"], before["headNumber"],
        "a rejected transaction produced a block"
    );
    // Nothing stored under the transaction's hash, if it has one.
    if let Ok(bytes) = hex::decode(raw.trim_start_matches("0x")) {
        let hash = alloy_primitives::keccak256(&bytes);
        assert!(
            rpc.call("eth_getTransactionByHash", json!([hash]))
                .unwrap()
                .is_null()
        );
        assert!(
            rpc.call("eth_getTransactionReceipt", json!([hash]))
                .unwrap()
                .is_null()
        );
    }
}

#[test]
fn bad_input_is_rejected_and_stores_nothing() {
    let node = DevNode::start(common::bin(), &[]).expect("start");
    let rpc = node.rpc();
    let key = common::dev_key(0);
    let to = Some(Address::repeat_byte(0x42));
    let one = U256::from(1u64);

    rejected(&rpc, "0x1234", "invalid transaction encoding");
    rejected(&rpc, "0x", "invalid transaction encoding");
    rejected(&rpc, "0x02", "invalid transaction encoding");

    // A valid signature over different content: the recovered sender has no funds (or none recovers).
    let good = common::signed(&key, common::CHAIN_ID, 0, to, one, vec![], 21_000);
    let mut bytes = hex::decode(good.trim_start_matches("0x")).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x01; // inside r
    let tampered = format!("0x{}", hex::encode(&bytes));
    let err = rpc
        .try_call("eth_sendRawTransaction", json!([tampered]))
        .unwrap()
        .expect_err("tampered");
    assert!(
        err.message.contains("invalid sender") || err.message.contains("insufficient funds"),
        "{err}"
    );
    assert_eq!(
        rpc.call("banyan_status", json!([])).unwrap()["txpoolSize"],
        0
    );

    rejected(
        &rpc,
        &common::signed(&key, 1, 0, to, one, vec![], 21_000),
        "invalid chain id",
    );
    rejected(
        &rpc,
        &common::signed(&key, common::CHAIN_ID, 10_000, to, one, vec![], 21_000),
        "nonce too high",
    );
    let pauper = banyan_crypto::Suite::Ecdsa.generate_secret();
    rejected(
        &rpc,
        &common::signed(&pauper, common::CHAIN_ID, 0, to, one, vec![], 21_000),
        "insufficient funds",
    );
    let huge = U256::from(10u64).pow(U256::from(30u64));
    rejected(
        &rpc,
        &common::signed(&key, common::CHAIN_ID, 0, to, huge, vec![], 21_000),
        "insufficient funds",
    );
    rejected(
        &rpc,
        &common::signed(&key, common::CHAIN_ID, 0, to, one, vec![], 20_000),
        "intrinsic gas too low",
    );
    rejected(
        &rpc,
        &common::signed(
            &key,
            common::CHAIN_ID,
            0,
            to,
            one,
            vec![1u8; 130 * 1024],
            30_000_000,
        ),
        "oversized data",
    );
    rejected(
        &rpc,
        &common::signed(&key, common::CHAIN_ID, 0, to, one, vec![], 31_000_000),
        "exceeds block gas limit",
    );

    // Bad parameters are -32602 with a message.
    let err = rpc
        .try_call("eth_getBalance", json!(["0x1234", "latest"]))
        .unwrap()
        .expect_err("bad address");
    assert_eq!(err.code, -32602, "{err}");
    let err = rpc
        .try_call("eth_sendRawTransaction", json!(["not hex"]))
        .unwrap()
        .expect_err("bad hex");
    assert_eq!(err.code, -32602, "{err}");

    // Request bounds: body size, batch length, log range.
    let body = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0x{}\"]}}",
        "00".repeat(6 * 1024 * 1024)
    );
    let (status, _) = rpc.post_raw(body.as_bytes()).unwrap();
    assert_eq!(status, 413, "an oversized body must be refused with 413");
    let batch: Vec<_> = (0..101)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_blockNumber", "params": []}))
        .collect();
    let (_, body) = rpc
        .post_raw(serde_json::to_vec(&batch).unwrap().as_slice())
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("error") && !text.contains("\"result\""),
        "a 101-call batch must be refused: {text}"
    );
    let err = rpc
        .try_call(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "0x100000"}]),
        )
        .unwrap()
        .expect_err("range");
    assert!(err.message.contains("exceeds the limit"), "{err}");

    // After all that, the node is healthy and a good transaction goes through.
    let h = rpc.call("eth_sendRawTransaction", json!([good])).unwrap();
    let r = rpc
        .wait_receipt(h.as_str().unwrap(), std::time::Duration::from_secs(20))
        .unwrap();
    assert_eq!(r["status"], "0x1");
    // Replaying the same transaction is refused.
    let err = rpc
        .try_call("eth_sendRawTransaction", json!([good]))
        .unwrap()
        .expect_err("replay");
    assert!(
        err.message.contains("already known") || err.message.contains("nonce too low"),
        "{err}"
    );
}
