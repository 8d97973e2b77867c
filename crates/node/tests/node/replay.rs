//! Determinism: a chain built from transfers, contract deployments, calls, reverts and Evidence
//! module calls (anchors, attestations, a revocation, a refused duplicate) is replayed from
//! genesis in a fresh store, and every block re-executes to the same state root, receipts root
//! and hash. A block whose header lies is refused. Module state is in the state tree: its proof
//! verifies against the header. Every served JSON-RPC method is called with an assertion on its
//! answer, and a method served without such a call fails the coverage test.

use alloy_consensus::{TxEip1559, TxLegacy, TypedTransaction};
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::SolCall;
use banyan_crypto::{SecretKey, Suite};
use banyan_module_api::slots::Word;
use banyan_modules::evidence::layout::{AnchorRecord, Fields};
use banyan_modules::{
    EVIDENCE_ADDRESS, GOVERNANCE_ADDRESS, IDENTITY_ADDRESS, IEvidence, IGovernance, IIdentity,
};
use banyan_node::{DataDir, Node, NodeConfig, NodeError, dev_accounts, dev_genesis, replay};
use banyan_primitives::{SmTxFields, sign_eth_transaction};
use banyan_rpc::Backend;
use std::sync::Arc;

const TOKEN_BIN: &str = include_str!("../../../../contracts/build/BanyanToken.bin");
const CHAIN_ID: u64 = 777;

fn config(suite: Suite) -> NodeConfig {
    let accounts = dev_accounts(suite, 4).unwrap();
    let (genesis, validator_key) = dev_genesis(suite, CHAIN_ID, &accounts, 1_000).unwrap();
    NodeConfig::new(DataDir::Memory, genesis, validator_key)
}

#[allow(clippy::too_many_arguments)]
fn sign(
    suite: Suite,
    key: &SecretKey,
    nonce: u64,
    to: Option<Address>,
    value: u64,
    data: Vec<u8>,
    gas: u64,
    legacy: bool,
) -> Vec<u8> {
    sign_on(CHAIN_ID, suite, key, nonce, to, value, data, gas, legacy)
}

/// A signed transaction of chain `chain_id`: SM2 on `sm`, legacy or EIP-1559 on `ecdsa`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_on(
    chain_id: u64,
    suite: Suite,
    key: &SecretKey,
    nonce: u64,
    to: Option<Address>,
    value: u64,
    data: Vec<u8>,
    gas: u64,
    legacy: bool,
) -> Vec<u8> {
    let kind = to.map_or(TxKind::Create, TxKind::Call);
    match (suite, legacy) {
        (Suite::Sm, _) => SmTxFields {
            chain_id,
            nonce,
            max_priority_fee_per_gas: 2,
            max_fee_per_gas: 3,
            gas_limit: gas,
            to: kind,
            value: U256::from(value),
            input: Bytes::from(data),
        }
        .sign(key)
        .unwrap()
        .encoded_2718(),
        (Suite::Ecdsa, true) => sign_eth_transaction(
            TypedTransaction::Legacy(TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price: 5,
                gas_limit: gas,
                to: kind,
                value: U256::from(value),
                input: Bytes::from(data),
            }),
            key,
        )
        .unwrap(),
        (Suite::Ecdsa, false) => sign_eth_transaction(
            TypedTransaction::Eip1559(TxEip1559 {
                chain_id,
                nonce,
                gas_limit: gas,
                max_fee_per_gas: 3,
                max_priority_fee_per_gas: 2,
                to: kind,
                value: U256::from(value),
                input: Bytes::from(data),
                access_list: Default::default(),
            }),
            key,
        )
        .unwrap(),
    }
}

fn anchor(n: u64) -> Vec<u8> {
    IEvidence::anchorCall {
        hash: keccak256(n.to_be_bytes()),
        kind: "invoice".into(),
        referenceId: format!("INV-{n}"),
        metadata: Bytes::from(vec![n as u8; n as usize * 40]),
    }
    .abi_encode()
}

fn erc20_transfer(to: Address, amount: U256) -> Vec<u8> {
    let mut d = vec![0xa9, 0x05, 0x9c, 0xbb];
    d.extend_from_slice(&[0u8; 12]);
    d.extend_from_slice(to.as_slice());
    d.extend_from_slice(&amount.to_be_bytes::<32>());
    d
}

/// Builds a chain of mixed activity and returns the node.
fn build_chain(suite: Suite) -> Arc<Node> {
    let cfg = config(suite);
    let node = Node::open(&cfg).unwrap();
    let keys: Vec<SecretKey> = dev_accounts(suite, 4)
        .unwrap()
        .into_iter()
        .map(|a| a.key)
        .collect();
    let addrs: Vec<Address> = dev_accounts(suite, 4)
        .unwrap()
        .into_iter()
        .map(|a| a.address)
        .collect();
    // Account 1's DID key: its own public key, as `createDid` requires.
    let did_key = suite.public_key(&keys[1]).unwrap().to_bytes();
    let mut nonces = [0u64; 4];
    let mut send =
        |node: &Node, i: usize, to: Option<Address>, value: u64, data: Vec<u8>, gas: u64| {
            let raw = sign(
                suite,
                &keys[i],
                nonces[i],
                to,
                value,
                data,
                gas,
                nonces[i] % 2 == 1,
            );
            nonces[i] += 1;
            node.submit(&raw).unwrap()
        };
    // Block 1: deploy the token from account 0, plain transfers from others.
    let mut code = hex::decode(TOKEN_BIN.trim()).unwrap();
    code.extend_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    send(&node, 0, None, 0, code, 3_000_000);
    let token = addrs[0].create(0);
    for i in 1..4 {
        send(
            &node,
            i,
            Some(addrs[(i + 1) % 4]),
            1_000 * i as u64,
            vec![],
            21_000,
        );
    }
    node.produce_block().unwrap().expect("block 1");
    // Blocks 2..8: token transfers, a failing transfer (reverts, still included), more value moves.
    for round in 0..7u64 {
        send(
            &node,
            0,
            Some(token),
            0,
            erc20_transfer(addrs[1 + (round as usize % 3)], U256::from(10 + round)),
            100_000,
        );
        send(
            &node,
            2,
            Some(token),
            0,
            erc20_transfer(addrs[3], U256::from(1_000_000_000u64)),
            100_000,
        );
        send(
            &node,
            3,
            Some(Address::repeat_byte(round as u8 + 1)),
            round + 1,
            vec![],
            21_000,
        );
        // Evidence: account 1 anchors a document each round (round 3 repeats round 2's, which
        // reverts and is included), account 2 attests the previous one, and account 1 revokes
        // the first in round 5.
        let doc = if round == 3 { 2 } else { round };
        send(&node, 1, Some(EVIDENCE_ADDRESS), 0, anchor(doc), 600_000);
        if round > 0 {
            let hash = keccak256((round - 1).to_be_bytes());
            send(
                &node,
                2,
                Some(EVIDENCE_ADDRESS),
                0,
                IEvidence::attestCall { hash }.abi_encode(),
                200_000,
            );
        }
        if round == 5 {
            let revoke = IEvidence::revokeCall {
                hash: keccak256(0u64.to_be_bytes()),
                reason: "superseded by a corrected invoice".into(),
            };
            send(
                &node,
                1,
                Some(EVIDENCE_ADDRESS),
                0,
                revoke.abi_encode(),
                200_000,
            );
        }
        // Governance: account 0, the dev chain's one governor, adds account 1 (passes at once);
        // account 1 then proposes new rules, which pass when account 0 votes; account 3, no
        // governor, is refused (the revert is included).
        let governance = |call: Vec<u8>| (Some(GOVERNANCE_ADDRESS), call);
        let propose = |kind, payload: Vec<u8>| {
            IGovernance::proposeCall {
                kind,
                payload: payload.into(),
                description: "replayed".into(),
                votingPeriod: 0,
            }
            .abi_encode()
        };
        let action = match round {
            1 => Some((
                0,
                governance(propose(
                    IGovernance::Kind::AddGovernor,
                    alloy_sol_types::SolValue::abi_encode(&IGovernance::GovernorChange {
                        governor: addrs[1],
                        weight: 1,
                    }),
                )),
            )),
            2 => Some((
                1,
                governance(propose(
                    IGovernance::Kind::SetRules,
                    alloy_sol_types::SolValue::abi_encode(&IGovernance::Rules {
                        participationBps: 5_000,
                        approvalBps: 5_000,
                        votingPeriod: 100,
                    }),
                )),
            )),
            3 => Some((
                0,
                governance(
                    IGovernance::voteCall {
                        id: 2,
                        choice: IGovernance::Choice::Yes,
                    }
                    .abi_encode(),
                ),
            )),
            4 => Some((
                3,
                governance(propose(
                    IGovernance::Kind::RemoveGovernor,
                    alloy_sol_types::SolValue::abi_encode(&addrs[0]),
                )),
            )),
            // Identity: account 1 creates its DID, account 2 its recovery account.
            6 => Some((
                1,
                (
                    Some(IDENTITY_ADDRESS),
                    IIdentity::createDidCall {
                        publicKey: did_key.to_vec().into(),
                        recovery: addrs[2],
                    }
                    .abi_encode(),
                ),
            )),
            _ => None,
        };
        if let Some((who, (to, data))) = action {
            send(&node, who, to, 0, data, 1_000_000);
        }
        node.produce_block().unwrap().expect("block");
    }
    node
}

#[test]
fn replay_from_genesis_reproduces_every_block() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let source = build_chain(suite);
        let head = source.head_number();
        assert_eq!(head, 8);
        // Some transactions reverted and are still included with status 0.
        let receipts = source.chain().receipts(2).unwrap().unwrap();
        assert!(
            receipts.iter().any(|r| !r.success),
            "{suite}: expected a reverted transfer"
        );
        assert!(
            receipts.iter().any(|r| r.success && !r.logs.is_empty()),
            "{suite}: expected a Transfer log"
        );
        let duplicate = source.chain().receipts(5).unwrap().unwrap();
        let anchors: Vec<_> = duplicate
            .iter()
            .filter(|r| r.logs.iter().any(|l| l.address == EVIDENCE_ADDRESS))
            .collect();
        assert!(
            !anchors.is_empty(),
            "{suite}: expected Evidence logs in block 5"
        );
        assert!(
            duplicate.iter().filter(|r| !r.success).count() >= 2,
            "{suite}: the duplicate anchor (and the token overdraft) revert in block 5"
        );
        // Governance ran: account 1 added in block 3, the new rules executed in block 5.
        let governance_logs = |block: u64| -> usize {
            let receipts = source.chain().receipts(block).unwrap().unwrap();
            receipts
                .iter()
                .flat_map(|r| &r.logs)
                .filter(|l| l.address == GOVERNANCE_ADDRESS)
                .count()
        };
        // ProposalCreated, Voted, GovernorSet, ProposalExecuted.
        assert_eq!(governance_logs(3), 4, "{suite}: block 3");
        // Voted, RulesChanged, ProposalExecuted.
        assert_eq!(governance_logs(5), 3, "{suite}: block 5");

        let target = Node::open(&config(suite)).unwrap();
        let n = replay(source.chain(), &target, &|_, _| {}).unwrap();
        assert_eq!(n, head);
        for h in 0..=head {
            let a = source.chain().header(h).unwrap().unwrap();
            let b = target.chain().header(h).unwrap().unwrap();
            assert_eq!(
                a.header.state_root, b.header.state_root,
                "{suite}: state root at {h}"
            );
            assert_eq!(a, b, "{suite}: header at {h}");
        }
        // Replaying twice (into another fresh store) gives the same again.
        let again = Node::open(&config(suite)).unwrap();
        replay(source.chain(), &again, &|_, _| {}).unwrap();
        assert_eq!(again.head().1, source.head().1);
    }
}

#[test]
fn module_state_is_proven_against_the_header() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let node = build_chain(suite);
        let head = node.head_number();
        let root = node
            .chain()
            .header(head)
            .unwrap()
            .unwrap()
            .header
            .state_root;
        let record = AnchorRecord::new(keccak256(0u64.to_be_bytes()));
        let slots = [record.head().0, record.times().0];
        let proof = node.proof(head, EVIDENCE_ADDRESS, &slots).unwrap();
        banyan_state::verify_account_proof(suite, root, &proof).unwrap();
        let account = proof.account.as_ref().expect("module account exists");
        assert_ne!(account.storage_root, banyan_state::empty_root(suite));
        let fields = Fields::decode(Word(proof.storage[0].value), Word(proof.storage[1].value))
            .expect("anchored");
        assert_eq!(fields.block_number, 2, "{suite}: first anchor in block 2");
        assert!(fields.revoked, "{suite}: revoked in round 5");
        assert_eq!(fields.attestation_count, 1);
        // A lie about the anchor's head slot does not verify.
        let mut lie = proof.clone();
        lie.storage[0].value ^= U256::from(1u64);
        assert!(banyan_state::verify_account_proof(suite, root, &lie).is_err());
    }
}

#[test]
fn a_block_with_a_false_state_root_is_refused() {
    let source = build_chain(Suite::Ecdsa);
    let target = Node::open(&config(Suite::Ecdsa)).unwrap();
    let mut block = source.chain().block(1).unwrap().unwrap();
    block.header.header.state_root = alloy_primitives::B256::repeat_byte(7);
    // Re-seal with the validator's key so that only the state root is wrong.
    let cfg = config(Suite::Ecdsa);
    let hash = block.header.header.hash(Suite::Ecdsa);
    block.header.signature = Bytes::from(
        Suite::Ecdsa
            .sign(&cfg.validator_key, hash.as_slice())
            .unwrap()
            .to_bytes(),
    );
    match target.import_block(&block) {
        Err(NodeError::InvalidBlock { number: 1, reason }) => {
            assert!(reason.contains("state root mismatch"), "{reason}")
        }
        other => panic!(
            "expected a state root mismatch, got {:?}",
            other.map(|b| b.hash)
        ),
    }
    // And a block sealed by a stranger is refused before execution.
    let mut forged = source.chain().block(1).unwrap().unwrap();
    let stranger = Suite::Ecdsa.generate_secret();
    let forged_hash = forged.header.header.hash(Suite::Ecdsa);
    forged.header.signature = Bytes::from(
        Suite::Ecdsa
            .sign(&stranger, forged_hash.as_slice())
            .unwrap()
            .to_bytes(),
    );
    assert!(matches!(
        target.import_block(&forged),
        Err(NodeError::InvalidBlock { .. })
    ));
    assert_eq!(target.head_number(), 0);
}

#[test]
fn documented_rpc_methods_are_exactly_the_served_ones() {
    let node = Node::open(&config(Suite::Ecdsa)).unwrap();
    let served = banyan_rpc::method_names(node);
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rpc.md")).unwrap();
    let section = doc
        .split("## Methods")
        .nth(1)
        .unwrap()
        .split("## Errors")
        .next()
        .unwrap();
    let mut documented: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    documented.sort_unstable();
    assert_eq!(documented, served, "docs/rpc.md and the server disagree");
}

/// Every served JSON-RPC method is called at least once against a chain with transfers, a token,
/// reverts and Evidence anchors, each with an assertion on what it answers; the set of methods
/// called must be exactly the set served, so a new method without a test fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_method_answers_meaningfully() {
    use banyan_sdk::Client;
    use jsonrpsee::core::client::SubscriptionClientT;
    use serde_json::{Value, json};
    use std::collections::BTreeSet;

    let node = build_chain(Suite::Ecdsa);
    let backend: Arc<dyn Backend> = node.clone();
    let config = banyan_rpc::RpcConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Default::default()
    };
    let (addr, server) = banyan_rpc::start(config, backend).await.unwrap();
    let client = Client::connect(&format!("http://{addr}")).await.unwrap();
    let called = std::sync::Mutex::new(BTreeSet::new());
    let call = async |method: &'static str, params: Value| -> Result<Value, String> {
        called.lock().unwrap().insert(method);
        let params = params.as_array().cloned().unwrap_or_default();
        client
            .request::<Value>(method, params)
            .await
            .map_err(|e| e.to_string())
    };
    let accounts = dev_accounts(Suite::Ecdsa, 4).unwrap();
    let (a0, a1, a3) = (
        accounts[0].address,
        accounts[1].address,
        accounts[3].address,
    );
    let token = a0.create(0);
    let doc0 = keccak256(0u64.to_be_bytes());
    let q = |n: u64| json!(format!("0x{n:x}"));

    assert_eq!(call("eth_chainId", json!([])).await.unwrap(), q(CHAIN_ID));
    assert_eq!(call("net_version", json!([])).await.unwrap(), json!("777"));
    assert_eq!(call("net_listening", json!([])).await.unwrap(), json!(true));
    assert_eq!(
        call("net_peerCount", json!([])).await.unwrap(),
        json!("0x0")
    );
    let version = call("web3_clientVersion", json!([])).await.unwrap();
    assert!(
        version.as_str().unwrap().starts_with("banyan/v"),
        "{version}"
    );
    assert_eq!(
        call("web3_sha3", json!(["0x616263"])).await.unwrap(),
        json!(keccak256(b"abc"))
    );
    assert_eq!(call("eth_blockNumber", json!([])).await.unwrap(), q(8));
    assert_eq!(call("eth_syncing", json!([])).await.unwrap(), json!(false));
    assert_eq!(call("eth_mining", json!([])).await.unwrap(), json!(false));
    assert_eq!(call("eth_accounts", json!([])).await.unwrap(), json!([]));
    let price = call("eth_gasPrice", json!([])).await.unwrap();
    assert_ne!(price, json!("0x0"));
    assert_eq!(
        call("eth_maxPriorityFeePerGas", json!([])).await.unwrap(),
        price
    );
    let history = call("eth_feeHistory", json!(["0x2", "latest", [50]]))
        .await
        .unwrap();
    assert_eq!(history["oldestBlock"], q(7), "{history}");
    assert_eq!(history["gasUsedRatio"].as_array().unwrap().len(), 2);

    // Block 1: the token's deployment and three transfers.
    let block1 = call("eth_getBlockByNumber", json!(["0x1", true]))
        .await
        .unwrap();
    let txs = block1["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 4);
    let deploy = txs[0]["hash"].as_str().unwrap().to_string();
    let by_hash = call("eth_getBlockByHash", json!([block1["hash"], false]))
        .await
        .unwrap();
    assert_eq!(by_hash["number"], q(1));
    assert_eq!(by_hash["transactions"][0], json!(deploy));
    assert_eq!(
        call("eth_getBlockTransactionCountByNumber", json!(["0x1"]))
            .await
            .unwrap(),
        q(4)
    );
    let tx = call("eth_getTransactionByHash", json!([deploy]))
        .await
        .unwrap();
    assert_eq!(
        (tx["blockNumber"].clone(), tx["from"].clone()),
        (q(1), json!(a0))
    );
    let receipt = call("eth_getTransactionReceipt", json!([deploy]))
        .await
        .unwrap();
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(receipt["contractAddress"], json!(token));
    // Account 0 sent the deployment, seven token transfers and two governance calls.
    assert_eq!(
        call("eth_getTransactionCount", json!([a0, "latest"]))
            .await
            .unwrap(),
        q(10)
    );
    let balance = call("eth_getBalance", json!([a3, "0x0"])).await.unwrap();
    assert_eq!(
        balance.as_str().unwrap().parse::<U256>().unwrap(),
        U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64))
    );
    let code = call("eth_getCode", json!([token, "latest"])).await.unwrap();
    assert!(code.as_str().unwrap().len() > 100);
    let head = AnchorRecord::new(doc0).head().to_b256();
    let slot = call(
        "eth_getStorageAt",
        json!([EVIDENCE_ADDRESS, head, "latest"]),
    )
    .await
    .unwrap();
    let fields = Fields::decode(
        Word(slot.as_str().unwrap().parse::<U256>().unwrap()),
        Word(U256::ZERO),
    )
    .expect("anchored");
    assert_eq!(fields.anchorer, a1);
    let is = call(
        "eth_call",
        json!([{"to": EVIDENCE_ADDRESS, "data": Bytes::from(IEvidence::isAnchoredCall { hash: doc0 }.abi_encode())}, "latest"]),
    )
    .await
    .unwrap();
    assert!(
        IEvidence::isAnchoredCall::abi_decode_returns(
            &is.as_str().unwrap().parse::<Bytes>().unwrap()
        )
        .unwrap()
    );
    assert_eq!(
        call(
            "eth_estimateGas",
            json!([{"from": a0, "to": a3, "value": "0x1"}])
        )
        .await
        .unwrap(),
        q(21_000)
    );
    let logs = call(
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "latest", "address": EVIDENCE_ADDRESS}]),
    )
    .await
    .unwrap();
    // Six anchors (the seventh was a refused duplicate), five attestations (the one of the
    // document the duplicate left unanchored reverted), one revocation.
    assert_eq!(logs.as_array().unwrap().len(), 12, "{logs}");

    // The audit trail: the governance calls of blocks 3 to 5, in order, with who acted.
    let trail = call("banyan_auditTrail", json!([{}])).await.unwrap();
    let entries = trail["entries"].as_array().unwrap();
    let line = |e: &Value| {
        (
            e["block"].as_u64().unwrap(),
            e["event"].as_str().unwrap().to_string(),
            e["actor"]
                .as_str()
                .unwrap()
                .parse::<alloy_primitives::Address>()
                .unwrap(),
        )
    };
    let lines: Vec<_> = entries.iter().map(line).collect();
    let expected = [
        (3, "proposal-created", a0),
        (3, "vote", a0),
        (3, "governor-set", a0),
        (3, "proposal-executed", a0),
        (4, "proposal-created", a1),
        (4, "vote", a1),
        (5, "vote", a0),
        (5, "rules-changed", a0),
        (5, "proposal-executed", a0),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(b, e, a)| (*b, e.to_string(), *a))
        .collect();
    assert_eq!(lines, expected, "{trail}");
    assert_eq!(trail["next"], Value::Null);
    assert_eq!(
        entries[2]["subject"]
            .as_str()
            .unwrap()
            .parse::<alloy_primitives::Address>()
            .unwrap(),
        a1
    );
    // Filters and pages.
    let votes = call("banyan_auditTrail", json!([{"event": "vote"}]))
        .await
        .unwrap();
    assert_eq!(votes["entries"].as_array().unwrap().len(), 3, "{votes}");
    let of_a1 = call("banyan_auditTrail", json!([{"account": a1}]))
        .await
        .unwrap();
    assert_eq!(of_a1["entries"].as_array().unwrap().len(), 3, "{of_a1}");
    let page = call("banyan_auditTrail", json!([{"limit": 4}]))
        .await
        .unwrap();
    assert_eq!(page["entries"].as_array().unwrap().len(), 4);
    let rest = call("banyan_auditTrail", json!([{"after": page["next"]}]))
        .await
        .unwrap();
    let rest: Vec<_> = rest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(line)
        .collect();
    assert_eq!(rest, expected[4..]);
    let bad = call("banyan_auditTrail", json!([{"event": "nope"}]))
        .await
        .unwrap_err();
    assert!(bad.contains("is not one of"), "{bad}");

    // Payments is enabled, but nobody here holds the issuer role: no currency yet (the dev-chain
    // scenario `payments_cli` covers these methods with currencies and payments).
    let currencies = call("banyan_paymentsCurrencies", json!([])).await.unwrap();
    assert_eq!(currencies, json!([]));
    let unknown = call("banyan_paymentsBalance", json!(["USD", a0]))
        .await
        .unwrap_err();
    assert!(
        unknown.contains("no currency has the code \"USD\""),
        "{unknown}"
    );
    let key = call("banyan_paymentByKey", json!([a0, "invoice-1"]))
        .await
        .unwrap();
    assert_eq!(key, Value::Null);
    let history = call("banyan_paymentsHistory", json!([{"account": a0}]))
        .await
        .unwrap();
    assert_eq!(history, json!({"entries": [], "next": null}));

    // Identity: account 1 created its DID in block 7; account 0 has none.
    let did1 = format!("did:banyan:{CHAIN_ID}:{a1:#x}");
    let resolved = call("banyan_resolveDid", json!([did1])).await.unwrap();
    let doc = &resolved["didDocument"];
    assert_eq!(doc["id"], json!(did1));
    assert_eq!(doc["controller"], json!([did1]));
    assert_eq!(doc["verificationMethod"][0]["type"], json!("JsonWebKey"));
    assert_eq!(
        doc["verificationMethod"][0]["publicKeyJwk"]["crv"],
        json!("secp256k1")
    );
    assert_eq!(doc["authentication"], json!([format!("{did1}#key-1")]));
    assert_eq!(
        resolved["didResolutionMetadata"],
        json!({"contentType": "application/did"})
    );
    assert_eq!(resolved["didDocumentMetadata"]["versionId"], json!("1"));
    let before = call("banyan_resolveDid", json!([did1, {"blockNumber": "0x1"}]))
        .await
        .unwrap();
    assert_eq!(
        before["didResolutionMetadata"]["error"]["type"],
        json!("https://www.w3.org/ns/did#NOT_FOUND")
    );
    let did0 = format!("did:banyan:{CHAIN_ID}:0x{}", hex::encode_upper(a0));
    let invalid = call("banyan_resolveDid", json!([did0])).await.unwrap();
    assert_eq!(
        invalid["didResolutionMetadata"]["error"]["type"],
        json!("https://www.w3.org/ns/did#INVALID_DID")
    );
    assert_eq!(invalid["didDocument"], Value::Null);
    // Credentials: nothing is issued on this chain, so the verify path refuses what it is
    // given with its reason; status lists exist (all zero) for any DID; challenges are fresh.
    let verdict = call("banyan_verifyCredential", json!(["not.a.credential"]))
        .await
        .unwrap();
    assert_eq!(verdict["verified"], json!(false));
    assert_eq!(verdict["problemDetails"][0]["reason"], json!("malformed"));
    let made = call("banyan_createChallenge", json!([])).await.unwrap();
    let challenge = made["challenge"].as_str().unwrap().to_string();
    assert!(challenge.starts_with("banyan-challenge-"), "{made}");
    let again = call("banyan_createChallenge", json!([])).await.unwrap();
    assert_ne!(again["challenge"], made["challenge"]);
    let presented = call(
        "banyan_verifyPresentation",
        json!(["not.a.presentation", {"challenge": challenge, "domain": "example.com"}]),
    )
    .await
    .unwrap();
    assert_eq!(presented["verified"], json!(false));
    assert!(
        presented["problemDetails"]
            .to_string()
            .contains("\"malformed\""),
        "{presented}"
    );
    let list = call("banyan_statusList", json!([did1, "revocation", 0]))
        .await
        .unwrap();
    assert_eq!(list["issuer"], json!(did1));
    assert_eq!(
        list["credentialSubject"]["statusPurpose"],
        json!("revocation")
    );
    assert!(
        list["credentialSubject"]["encodedList"].is_string(),
        "{list}"
    );
    assert!(
        call("banyan_statusList", json!([did1, "expiry", 0]))
            .await
            .is_err()
    );

    // Filters: a block filter sees the next block; a log filter sees its logs.
    let blocks = call("eth_newBlockFilter", json!([])).await.unwrap();
    let anchors = call("eth_newFilter", json!([{"address": EVIDENCE_ADDRESS}]))
        .await
        .unwrap();
    let ws_url = format!("ws://{addr}");
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(&ws_url)
        .await
        .unwrap();
    let mut heads = ws
        .subscribe::<Value, _>(
            "eth_subscribe",
            jsonrpsee::rpc_params!["newHeads"],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    called.lock().unwrap().insert("eth_subscribe");
    let key = &accounts[1].key;
    let raw = sign(
        Suite::Ecdsa,
        key,
        node.pending_nonce(a1).unwrap(),
        Some(EVIDENCE_ADDRESS),
        0,
        anchor(9),
        600_000,
        false,
    );
    let sent = call("eth_sendRawTransaction", json!([Bytes::from(raw.clone())]))
        .await
        .unwrap();
    let again = call("eth_sendRawTransaction", json!([Bytes::from(raw)]))
        .await
        .unwrap_err();
    assert!(again.contains("already known"), "{again}");
    assert_eq!(
        call("banyan_txpoolStatus", json!([])).await.unwrap()["pending"],
        json!(1)
    );
    let produced = node.produce_block().unwrap().expect("block 9");
    let new_head = tokio::time::timeout(std::time::Duration::from_secs(10), heads.next())
        .await
        .expect("a head within 10 s")
        .expect("subscription open")
        .unwrap();
    assert_eq!(new_head["number"], q(9));
    assert_eq!(new_head["hash"], json!(produced.hash));
    heads.unsubscribe().await.unwrap();
    called.lock().unwrap().insert("eth_unsubscribe");
    let receipt = call("eth_getTransactionReceipt", json!([sent]))
        .await
        .unwrap();
    assert_eq!(receipt["blockNumber"], q(9));
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(
        call("eth_getFilterChanges", json!([blocks])).await.unwrap(),
        json!([produced.hash])
    );
    let changes = call("eth_getFilterChanges", json!([anchors]))
        .await
        .unwrap();
    assert_eq!(changes.as_array().unwrap().len(), 1, "{changes}");
    let unsupported = call("eth_getFilterLogs", json!([anchors]))
        .await
        .unwrap_err();
    assert!(unsupported.contains("use eth_getLogs"), "{unsupported}");
    assert_eq!(
        call("eth_uninstallFilter", json!([anchors])).await.unwrap(),
        json!(true)
    );

    // Proofs against the header, both names.
    let root = node.chain().header(9).unwrap().unwrap().header.state_root;
    for method in ["eth_getProof", "banyan_getProof"] {
        let proof = call(method, json!([EVIDENCE_ADDRESS, [head], "0x9"]))
            .await
            .unwrap();
        let wire: banyan_sdk::wire::WireProof = serde_json::from_value(proof).unwrap();
        banyan_state::verify_account_proof(Suite::Ecdsa, root, &wire.account_proof(Suite::Ecdsa))
            .unwrap();
    }
    // A single-validator dev chain certifies nothing; its set is the one validator.
    assert_eq!(
        call("banyan_getCommitCertificate", json!(["0x1"]))
            .await
            .unwrap(),
        Value::Null
    );
    let set = call("banyan_getValidatorSet", json!(["latest"]))
        .await
        .unwrap();
    assert_eq!(set["validators"].as_array().unwrap().len(), 1);
    let status = call("banyan_status", json!([])).await.unwrap();
    assert_eq!(status["chainId"], json!(CHAIN_ID));
    assert_eq!(status["headNumber"], json!(9));

    let served: BTreeSet<&str> = banyan_rpc::method_names(node.clone())
        .into_iter()
        .filter(|m| *m != "eth_subscription")
        .collect();
    let called = called.into_inner().unwrap();
    assert_eq!(
        called, served,
        "methods served but not covered (or the reverse)"
    );
    server.stop().unwrap();
    server.stopped().await;
}
