//! Each signature is checked once per node: a validator that admitted a block's transactions
//! to its pool verifies, re-executes and commits the block without recovering any of them
//! again, and a repeated submission or gossip batch is refused before any check. A node that
//! never saw them recovers each once, and every node ends with the same block, receipts, state
//! root and transactions as the uncached path gives.

use crate::certificates::{CHAIN_ID, certify, config};
use crate::replay::sign_on;
use alloy_primitives::{Address, Bytes};
use banyan_crypto::Suite;
use banyan_node::{Node, NodeError};
use banyan_primitives::RecoveredTx;
use banyan_rpc::{Backend, SubmitError};
use std::sync::Arc;

/// Enough that a block's misses are recovered on several threads.
const TXS: usize = 96;

fn node(suite: Suite, validator: usize) -> Arc<Node> {
    let (mut cfg, keys) = config(suite);
    cfg.validator_key = keys[validator].clone();
    Node::open(&cfg).unwrap()
}

/// `TXS` transfers from the four dev accounts, in nonce order per account.
fn transfers(suite: Suite) -> Vec<Bytes> {
    let (_, keys) = config(suite);
    (0..TXS)
        .map(|i| {
            let key = &keys[i % keys.len()];
            let nonce = (i / keys.len()) as u64;
            let to = Some(Address::repeat_byte(0x40 + (i % 7) as u8));
            Bytes::from(sign_on(
                CHAIN_ID,
                suite,
                key,
                nonce,
                to,
                1 + i as u64,
                vec![],
                21_000,
                i % 3 == 0,
            ))
        })
        .collect()
}

#[test]
fn a_block_whose_transactions_were_admitted_is_checked_without_recovering_them() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let raws = transfers(suite);
        let (_, keys) = config(suite);
        let (a, b, c, d) = (
            node(suite, 0),
            node(suite, 1),
            node(suite, 2),
            node(suite, 3),
        );
        for raw in &raws {
            for n in [&a, &b, &d] {
                n.submit(raw).unwrap();
            }
        }
        for n in [&a, &b, &d] {
            assert_eq!(
                n.signature_checks(),
                TXS as u64,
                "{suite:?}: one check per admission"
            );
        }

        // Duplicates, over RPC or gossip (a batch repeating itself too), are refused first.
        assert!(matches!(
            b.submit(&raws[0]),
            Err(SubmitError::Pool(banyan_txpool::PoolError::AlreadyKnown))
        ));
        let mut batch = raws[..10].to_vec();
        batch.extend_from_slice(&raws[..10]);
        b.accept_gossiped(&batch);
        assert_eq!(
            b.signature_checks(),
            TXS as u64,
            "{suite:?}: duplicates recovered"
        );

        let block = a.build_proposal().unwrap();
        assert_eq!(block.transactions.len(), TXS, "{suite:?}");
        assert_eq!(
            a.signature_checks(),
            TXS as u64,
            "{suite:?}: building recovered"
        );

        // B verifies the proposal, D re-executes the certified block on import: both from
        // their pools.
        assert_eq!(b.check_proposal(&block).unwrap(), Ok(()), "{suite:?}");
        assert_eq!(
            b.signature_checks(),
            TXS as u64,
            "{suite:?}: verifying recovered"
        );
        let signers: Vec<_> = keys.iter().take(3).collect();
        let cert = certify(&a, &block, 0, &signers);
        a.commit_decided(&block, &cert).unwrap();
        b.commit_decided(&block, &cert).unwrap();
        d.import_certified_block(&block, &cert).unwrap();
        for n in [&a, &b, &d] {
            assert_eq!(
                n.signature_checks(),
                TXS as u64,
                "{suite:?}: re-execution recovered"
            );
        }

        // C never saw them: it recovers each once, on several threads, in block order.
        c.import_certified_block(&block, &cert).unwrap();
        assert_eq!(c.signature_checks(), TXS as u64, "{suite:?}");

        let reference = a.chain().block(1).unwrap().unwrap();
        let mut included = reference.transactions.clone();
        let mut sent = raws.clone();
        included.sort();
        sent.sort();
        assert_eq!(included, sent, "{suite:?}");
        let uncached: Vec<RecoveredTx> = reference
            .transactions
            .iter()
            .map(|raw| RecoveredTx::decode(raw, suite, CHAIN_ID).unwrap())
            .collect();
        for n in [&a, &b, &c, &d] {
            assert_eq!(n.head(), a.head(), "{suite:?}");
            assert_eq!(n.chain().block(1).unwrap().unwrap(), reference, "{suite:?}");
            assert_eq!(
                n.chain().receipts(1).unwrap(),
                a.chain().receipts(1).unwrap(),
                "{suite:?}"
            );
            let receipts = n.chain().receipts(1).unwrap().unwrap();
            for (i, tx) in uncached.iter().enumerate() {
                assert_eq!(receipts[i].from, tx.sender(), "{suite:?}: sender of {i}");
                // An RPC read takes the sender from the receipt: no recovery, same result.
                assert_eq!(
                    n.committed_tx(1, i as u32).unwrap().as_ref(),
                    Some(tx),
                    "{suite:?}: transaction {i}"
                );
            }
            assert_eq!(n.committed_tx(1, TXS as u32).unwrap(), None);
        }
        for n in [&a, &b, &d] {
            assert_eq!(
                n.signature_checks(),
                TXS as u64,
                "{suite:?}: reads recovered"
            );
        }
        assert_eq!(
            c.signature_checks(),
            TXS as u64,
            "{suite:?}: reads recovered"
        );

        // Committed transactions are known: resubmitted, they are refused before any check.
        assert!(matches!(
            c.submit(&raws[5]),
            Err(SubmitError::Pool(banyan_txpool::PoolError::AlreadyKnown))
        ));
        assert_eq!(c.signature_checks(), TXS as u64, "{suite:?}");
    }
}

#[test]
fn an_invalid_transaction_is_reported_by_its_first_index() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let raws = transfers(suite);
        let a = node(suite, 0);
        for raw in &raws {
            a.submit(raw).unwrap();
        }
        let mut block = a.build_proposal().unwrap();
        // Two damaged transactions, in different shares of the parallel recovery.
        for i in [TXS - 10, 7] {
            let raw = &block.transactions[i];
            block.transactions[i] = raw.slice(..raw.len() - 1);
        }
        let fresh = node(suite, 1);
        match fresh.import_block(&block) {
            Err(NodeError::InvalidBlock { number: 1, reason }) => {
                assert!(reason.starts_with("transaction 7: "), "{suite:?}: {reason}");
            }
            other => panic!("{suite:?}: a damaged body was not refused: {other:?}"),
        }
        assert_eq!(fresh.head().0.header.number, 0);
    }
}
