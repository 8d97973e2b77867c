//! Determinism: a chain built from transfers, contract deployments, calls, reverts and Evidence
//! module calls (anchors, attestations, a revocation, a refused duplicate) is replayed from
//! genesis in a fresh store, and every block re-executes to the same state root, receipts root
//! and hash. A block whose header lies is refused. Module state is in the state tree: its proof
//! verifies against the header.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{TxEip1559, TxLegacy, TypedTransaction};
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::SolCall;
use banyan_crypto::{SecretKey, Suite};
use banyan_module_api::slots::Word;
use banyan_modules::evidence::layout::{AnchorRecord, Fields};
use banyan_modules::{EVIDENCE_ADDRESS, IEvidence};
use banyan_node::{DataDir, Node, NodeConfig, NodeError, dev_accounts, dev_genesis, replay};
use banyan_primitives::{SmTxFields, sign_eth_transaction};
use banyan_rpc::Backend;
use std::sync::Arc;

const TOKEN_BIN: &str = include_str!("../../../contracts/build/BanyanToken.bin");
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
    let kind = to.map_or(TxKind::Create, TxKind::Call);
    match (suite, legacy) {
        (Suite::Sm, _) => SmTxFields {
            chain_id: CHAIN_ID,
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
                chain_id: Some(CHAIN_ID),
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
                chain_id: CHAIN_ID,
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
