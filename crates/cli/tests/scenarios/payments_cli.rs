//! Payments from the command line and the `banyan_payments*` RPC methods on `banyan dev`: a
//! currency registered and minted, a keyed payment sent twice that moves money once and reports
//! the same payment both times, the same key for another payment refused, a hold that expires
//! on an idle chain by the block-end hook (its event served by `eth_getLogs`), the history and a
//! statement that reconciles with the chain's balance; then gas paid in USD by an account with
//! none of the native coin, refused by the node's pool until the committee sets a rate.

use crate::common::{self, banyan};
use banyan_testkit::DevNode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[test]
fn payments_from_the_command_line_and_rpc() {
    let node = DevNode::start(common::bin(), &[]).unwrap();
    let url = node.url();
    let run = |who: usize, args: &[&str]| -> (bool, Value, String) {
        let key = common::dev_key(who).to_hex();
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rpc", &url, "--key", &key, "--json"]);
        let out = banyan(&all);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
        (out.status.success(), json, format!("{stdout}{stderr}"))
    };
    let read = |args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rpc", &url, "--json"]);
        let out = banyan(&all);
        assert!(
            out.status.success(),
            "banyan {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let account = |i: usize| common::address_of(&common::dev_key(i)).to_string();
    let (alice, bob) = (account(1), account(2));

    // The dev chain's governor (account 0) holds the issuer role.
    let (ok, registered, text) = run(
        0,
        &[
            "currency",
            "register",
            "USD",
            "--decimals",
            "2",
            "--name",
            "US dollar",
        ],
    );
    assert!(ok, "{text}");
    let token = registered["token"].as_str().unwrap().to_string();
    assert_eq!(token, "0xba11000000000000000000000000000000000001");
    let (ok, _, text) = run(0, &["currency", "mint", "USD", "1000.00", "--to", &alice]);
    assert!(ok, "{text}");
    let list = read(&["currency", "list"]);
    assert_eq!(list[0]["code"], "USD");
    assert_eq!(list[0]["supply"], "100000");

    // A keyed payment, sent twice: paid once, the same payment id both times.
    let pay = [
        "pay",
        "send",
        "USD",
        "12.50",
        "--to",
        &bob,
        "--remittance",
        "invoice 118",
        "--e2e",
        "E2E-118",
        "--idempotency-key",
        "invoice-118",
    ];
    let (ok, first, text) = run(1, &pay);
    assert!(ok, "{text}");
    let (ok, second, text) = run(1, &pay);
    assert!(ok, "{text}");
    assert_eq!(second["payment"]["replayed"], true, "{second}");
    assert_eq!(
        first["payment"]["paymentId"],
        second["payment"]["paymentId"]
    );
    let balance = read(&["pay", "balance", "USD", &bob]);
    assert_eq!(balance["balance"], "12.50");
    // The same key for another payment is refused, saying so.
    let mut other = pay;
    other[3] = "12.51";
    let (ok, _, text) = run(1, &other);
    assert!(!ok);
    assert!(
        text.contains("already used for a different payment"),
        "{text}"
    );

    // RPC: balances, the key's record, the currencies.
    let runtime = common::runtime();
    let rpc = |method: &'static str, params: Vec<Value>| -> Value {
        runtime.block_on(async {
            let client = banyan_sdk::Client::connect(&url).await.unwrap();
            client.request::<Value>(method, params).await.unwrap()
        })
    };
    let b = rpc("banyan_paymentsBalance", vec![json!("USD"), json!(alice)]);
    assert_eq!(
        (b["balance"].as_str(), b["decimals"].as_u64()),
        (Some("98750"), Some(2))
    );
    let k = rpc(
        "banyan_paymentByKey",
        vec![json!(alice), json!("invoice-118")],
    );
    assert_eq!(k["outcome"], "executed");
    assert_eq!(k["paymentId"], first["payment"]["paymentId"]);
    let currencies = rpc("banyan_paymentsCurrencies", vec![]);
    assert_eq!(currencies.as_array().map(Vec::len), Some(1));

    // A hold of 100.00 with a 5 s timeout (room for a slow block before the balance is read),
    // released by the block-end hook on an idle chain.
    let (ok, held, text) = run(
        1,
        &["pay", "hold", "USD", "100", "--to", &bob, "--timeout", "5"],
    );
    assert!(ok, "{text}");
    let hold_id = held["payment"]["holdId"].as_u64().unwrap();
    let balance = read(&["pay", "balance", "USD", &alice]);
    assert_eq!(balance["held"], "100.00");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let balance = read(&["pay", "balance", "USD", &alice]);
        if balance["held"] == "0.00" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hold did not expire: {balance}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let voided_topic = format!(
        "0x{}",
        alloy_primitives::hex::encode(
            <banyan_sdk::payments::IPayments::HoldVoided as alloy_sol_types::SolEvent>::SIGNATURE_HASH
        )
    );
    let logs = rpc(
        "eth_getLogs",
        vec![json!({"fromBlock": "0x0", "toBlock": "latest",
                    "address": banyan_sdk::payments::PAYMENTS_ADDRESS, "topics": [voided_topic]})],
    );
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(
        logs[0]["topics"][1]
            .as_str()
            .map(|t| t.ends_with(&format!("{hold_id:x}"))),
        Some(true)
    );

    // History and a statement that reconciles: 1000.00 in, 12.50 out.
    let history = read(&["pay", "history", &alice]);
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["kind"], "mint");
    assert_eq!(history[1]["kind"], "payment");
    assert_eq!(history[1]["remittance"], "invoice 118");
    assert_eq!(history[1]["endToEndId"], "E2E-118");
    let out = banyan(&[
        "pay",
        "statement",
        &alice,
        "--currency",
        "USD",
        "--rpc",
        &url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("block,timestamp,transaction,direction"),
        "{csv}"
    );
    assert!(lines[1].ends_with(",0.00"), "{csv}");
    assert!(
        lines[2].contains(",credit,mint,1000.00,") && lines[2].ends_with(",1000.00"),
        "{csv}"
    );
    assert!(
        lines[3].contains(",debit,payment,12.50,") && lines[3].contains("invoice 118"),
        "{csv}"
    );
    assert_eq!(
        lines.last().copied(),
        Some(",,,closing,,,,,,,987.50"),
        "{csv}"
    );

    // Gas paid in USD by an account that holds none of the native coin.
    let dave_key = banyan_crypto::SecretKey::from_hex(&"5d".repeat(32)).unwrap();
    let dave = common::address_of(&dave_key).to_string();
    let (ok, _, text) = run(1, &["pay", "send", "USD", "50.00", "--to", &dave]);
    assert!(ok, "{text}");
    let as_dave = |args: &[&str]| -> (bool, Value, String) {
        let key = dave_key.to_hex();
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rpc", &url, "--key", &key, "--json"]);
        all.extend_from_slice(&["--gas-price", "1000000000"]);
        let out = banyan(&all);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
        (out.status.success(), json, format!("{stdout}{stderr}"))
    };
    // No rate yet: the estimate says why, and so does the node's pool (given the gas).
    let (ok, _, text) = as_dave(&["pay", "gas-currency", "USD"]);
    assert!(!ok && text.contains("has set no gas rate"), "{text}");
    let (ok, _, text) = as_dave(&["pay", "gas-currency", "USD", "--gas", "200000"]);
    assert!(
        !ok && text.contains("refused by module payments") && text.contains("no gas rate"),
        "{text}"
    );
    // The committee (the dev chain's single governor) sets 1,000,000 cents per coin: at 1 gwei,
    // 1,000 gas cost one cent.
    let (ok, _, text) = run(0, &["gov", "propose", "set-gas-rate", "USD", "1000000"]);
    assert!(ok, "{text}");
    let (ok, chosen, text) = as_dave(&["pay", "gas-currency", "USD"]);
    assert!(ok, "{text}");
    let fee_1 = chosen["payment"]["gasPaid"]["fee"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, paid, text) = as_dave(&["pay", "send", "USD", "10.00", "--to", &bob]);
    assert!(ok, "{text}");
    let fee_2 = paid["payment"]["gasPaid"]["fee"]
        .as_str()
        .unwrap()
        .to_string();
    let (fee_1, fee_2): (u64, u64) = (fee_1.parse().unwrap(), fee_2.parse().unwrap());
    assert!(fee_1 > 0 && fee_2 > 0);
    let b = rpc("banyan_paymentsBalance", vec![json!("USD"), json!(dave)]);
    assert_eq!(
        b["balance"].as_str().map(|v| v.parse::<u64>().unwrap()),
        Some(5_000 - 1_000 - fee_1 - fee_2)
    );
    let native = rpc("eth_getBalance", vec![json!(dave), json!("latest")]);
    assert_eq!(native, json!("0x0"));
    // The history names the gas, and the statement still reconciles.
    let history = read(&["pay", "history", &dave]);
    let kinds: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["payment", "gas", "payment", "gas"], "{history}");
}
