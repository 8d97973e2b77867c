//! Untrusted bytes never panic the decoders: random input and mutations of valid transactions,
//! blocks and receipts either decode or give an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{TxEip1559, TypedTransaction};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_rlp::Decodable;
use banyan_crypto::{SecretKey, Suite};
use banyan_primitives::{Block, Receipt, RecoveredTx, SmTxFields, sign_eth_transaction};
use proptest::prelude::*;

fn valid_eth() -> Vec<u8> {
    let key =
        SecretKey::from_hex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
            .unwrap();
    sign_eth_transaction(
        TypedTransaction::Eip1559(TxEip1559 {
            chain_id: 5,
            nonce: 1,
            gas_limit: 50_000,
            max_fee_per_gas: 10,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(1)),
            value: U256::from(3u64),
            input: Bytes::from_static(&[1, 2, 3, 0, 0]),
            access_list: Default::default(),
        }),
        &key,
    )
    .unwrap()
}

fn valid_sm() -> Vec<u8> {
    let key =
        SecretKey::from_hex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
            .unwrap();
    SmTxFields {
        chain_id: 5,
        nonce: 0,
        max_priority_fee_per_gas: 1,
        max_fee_per_gas: 1,
        gas_limit: 21_000,
        to: TxKind::Create,
        value: U256::ZERO,
        input: Bytes::from_static(&[0x60, 0x00]),
    }
    .sign(&key)
    .unwrap()
    .encoded_2718()
}

fn decode_everything(bytes: &[u8]) {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let _ = RecoveredTx::decode(bytes, suite, 5);
    }
    let _ = Block::decode(&mut &bytes[..]);
    let _ = Receipt::from_bytes(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_transactions_never_panic_nor_keep_their_sender(
        which in 0usize..2,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let good = if which == 0 { valid_eth() } else { valid_sm() };
        let suite = if which == 0 { Suite::Ecdsa } else { Suite::Sm };
        let sender = RecoveredTx::decode(&good, suite, 5).unwrap().sender();
        let mut bad = good.clone();
        for (i, x) in &flips {
            let i = i.index(bad.len());
            bad[i] ^= x | 1;
        }
        decode_everything(&bad);
        // A changed transaction never verifies as coming from the original sender.
        if let Ok(tx) = RecoveredTx::decode(&bad, suite, 5) {
            prop_assert!(bad == good || tx.sender() != sender);
        }
        let truncated = &good[..cut.index(good.len())];
        prop_assert!(RecoveredTx::decode(truncated, suite, 5).is_err());
    }
}
