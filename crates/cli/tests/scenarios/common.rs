//! Helpers shared by the process tests.
#![allow(dead_code)]

use alloy_consensus::{TxEip1559, TypedTransaction};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use banyan_crypto::SecretKey;
use banyan_primitives::sign_eth_transaction;
use banyan_testkit::OutputWithin;
use std::path::{Path, PathBuf};

pub(crate) const CHAIN_ID: u64 = 31337;

pub(crate) fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_banyan"))
}

/// Runs `banyan` with `args` to completion.
pub(crate) fn banyan(args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .output_within(banyan_testkit::run::COMMAND_DEADLINE)
        .expect("run banyan")
}

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn dev_key(i: usize) -> SecretKey {
    SecretKey::from_hex(banyan_node::DEV_KEYS[i]).expect("dev key")
}

pub(crate) fn address_of(key: &SecretKey) -> Address {
    let s = banyan_crypto::Suite::Ecdsa;
    s.address(&s.public_key(key).expect("public key"))
}

/// A signed EIP-1559 transaction, hex-encoded for eth_sendRawTransaction.
pub(crate) fn signed(
    key: &SecretKey,
    chain_id: u64,
    nonce: u64,
    to: Option<Address>,
    value: U256,
    data: Vec<u8>,
    gas: u64,
) -> String {
    let tx = TypedTransaction::Eip1559(TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: to.map_or(TxKind::Create, TxKind::Call),
        value,
        input: Bytes::from(data),
        access_list: Default::default(),
    });
    format!(
        "0x{}",
        hex::encode(sign_eth_transaction(tx, key).expect("sign"))
    )
}

/// Sends a plain transfer from `key` with `nonce` and waits up to `timeout` for its receipt.
pub(crate) fn transfer_and_wait(
    rpc: &banyan_testkit::RpcClient,
    key: &SecretKey,
    nonce: u64,
    to: Address,
    value: u64,
    timeout: std::time::Duration,
) -> serde_json::Value {
    let raw = signed(
        key,
        CHAIN_ID,
        nonce,
        Some(to),
        U256::from(value),
        vec![],
        21_000,
    );
    let hash = rpc
        .call("eth_sendRawTransaction", serde_json::json!([raw]))
        .expect("submit");
    rpc.wait_receipt(hash.as_str().expect("hash"), timeout)
        .expect("receipt")
}

/// A single-threaded tokio runtime, for the tests that drive a node through the async SDK.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
