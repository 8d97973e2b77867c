//! Transactions: Ethereum envelopes (byte-compatible with what ethers and web3 sign) and the
//! native SM2-signed typed transaction of `sm` chains.

use alloy_consensus::{
    SignableTransaction, Transaction as _, TxEnvelope, TypedTransaction,
    transaction::SignerRecoverable,
};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use banyan_crypto::{PublicKey, SecretKey, Suite};

/// The EIP-2718 type byte of Banyan's SM2-signed transaction.
pub const SM_TX_TYPE: u8 = 0x53;

/// Largest encoded transaction accepted anywhere (RPC, pool, blocks): 128 KiB, as geth.
pub const MAX_TX_BYTES: usize = 128 * 1024;

/// Why a transaction was refused before it reached the pool.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TxError {
    /// The encoded transaction is larger than [`MAX_TX_BYTES`].
    #[error("oversized data: transaction of {size} bytes exceeds the limit of {limit} bytes")]
    Oversized {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not a transaction.
    #[error("invalid transaction encoding: {0}")]
    Malformed(String),
    /// The transaction type is not accepted on this chain.
    #[error("transaction type {0} not supported on this chain")]
    UnsupportedType(u8),
    /// The signature does not verify or does not recover to a sender.
    #[error("invalid sender: {0}")]
    InvalidSignature(String),
    /// The transaction is bound to another chain (or to none, where replay protection is required).
    #[error("invalid chain id: transaction is for chain {got:?}, this chain is {expected}")]
    WrongChainId {
        /// The chain id in the transaction (`None` for a pre-EIP-155 legacy transaction).
        got: Option<u64>,
        /// This chain's id.
        expected: u64,
    },
    /// The transaction's signature scheme does not match the chain's suite.
    #[error(
        "wrong signature suite: this chain uses the `{chain}` suite, the transaction is signed with `{tx}`"
    )]
    WrongSuite {
        /// The chain's suite.
        chain: Suite,
        /// The suite the transaction was signed with.
        tx: Suite,
    },
}

/// The fields of an SM2-signed transaction that the signature covers.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SmTxFields {
    /// Chain id (replay protection).
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Tip per gas paid to the block proposer.
    pub max_priority_fee_per_gas: u128,
    /// Maximum total fee per gas.
    pub max_fee_per_gas: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient, or contract creation.
    pub to: TxKind,
    /// Value transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
}

impl SmTxFields {
    /// The message signed with SM2: the type byte followed by the RLP of the fields.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut out = vec![SM_TX_TYPE];
        self.encode(&mut out);
        out
    }

    /// Signs the fields with an SM2 key.
    pub fn sign(self, secret: &SecretKey) -> Result<SmTransaction, banyan_crypto::CryptoError> {
        let public = Suite::Sm.public_key(secret)?;
        let signature = Suite::Sm.sign(secret, &self.signing_message())?;
        Ok(SmTransaction {
            fields: self,
            public_key: Bytes::copy_from_slice(&public.to_bytes()),
            signature: Bytes::from(signature.to_bytes()),
        })
    }
}

/// Banyan's native typed transaction for `sm` chains: SM2 signature with the signer's public key.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SmTransaction {
    /// The signed fields.
    pub fields: SmTxFields,
    /// 64-byte uncompressed SM2 public key (x || y).
    pub public_key: Bytes,
    /// 64-byte SM2 signature (r || s) over [`SmTxFields::signing_message`] with the default user id.
    pub signature: Bytes,
}

impl SmTransaction {
    /// EIP-2718 encoding: type byte followed by the RLP of the transaction.
    pub fn encoded_2718(&self) -> Vec<u8> {
        let mut out = vec![SM_TX_TYPE];
        self.encode(&mut out);
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TxBody {
    Eth(TxEnvelope),
    Sm(SmTransaction),
}

/// A decoded transaction whose signature has been checked, with its sender and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredTx {
    body: TxBody,
    hash: B256,
    sender: Address,
    encoded: Bytes,
}

impl RecoveredTx {
    /// Decodes EIP-2718 bytes, checks size, type, suite, chain id and signature.
    pub fn decode(bytes: &[u8], suite: Suite, chain_id: u64) -> Result<Self, TxError> {
        Self::parse(bytes, suite, chain_id, None)
    }

    /// Decodes bytes whose signature was checked before, by this node, with `sender` the signer
    /// it recovered then (a committed block's receipt keeps it): the same checks as
    /// [`RecoveredTx::decode`] except the signature, which is the expensive part. Never use it
    /// for bytes from outside: a wrong `sender` here is a wrong sender everywhere.
    pub fn verified(
        bytes: &[u8],
        suite: Suite,
        chain_id: u64,
        sender: Address,
    ) -> Result<Self, TxError> {
        Self::parse(bytes, suite, chain_id, Some(sender))
    }

    /// The hash a transaction with this encoding has (the suite's hash of the bytes), computed
    /// without decoding or recovering anything: what duplicate checks look up first.
    pub fn hash_of(bytes: &[u8], suite: Suite) -> B256 {
        suite.hash(bytes)
    }

    fn parse(
        bytes: &[u8],
        suite: Suite,
        chain_id: u64,
        known_sender: Option<Address>,
    ) -> Result<Self, TxError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(TxError::Oversized {
                size: bytes.len(),
                limit: MAX_TX_BYTES,
            });
        }
        let first = *bytes
            .first()
            .ok_or_else(|| TxError::Malformed("empty input".into()))?;
        let encoded = Bytes::copy_from_slice(bytes);
        if first == SM_TX_TYPE {
            if suite != Suite::Sm {
                return Err(TxError::WrongSuite {
                    chain: suite,
                    tx: Suite::Sm,
                });
            }
            let mut rest = &bytes[1..];
            let tx =
                SmTransaction::decode(&mut rest).map_err(|e| TxError::Malformed(e.to_string()))?;
            if !rest.is_empty() {
                return Err(TxError::Malformed(
                    "trailing bytes after transaction".into(),
                ));
            }
            if tx.fields.chain_id != chain_id {
                return Err(TxError::WrongChainId {
                    got: Some(tx.fields.chain_id),
                    expected: chain_id,
                });
            }
            let sender = match known_sender {
                Some(sender) => sender,
                None => {
                    let public = PublicKey::from_bytes(Suite::Sm, &tx.public_key)
                        .map_err(|e| TxError::InvalidSignature(e.to_string()))?;
                    let signature = banyan_crypto::Signature::from_bytes(&tx.signature)
                        .map_err(|e| TxError::InvalidSignature(e.to_string()))?;
                    Suite::Sm
                        .verify(&public, &tx.fields.signing_message(), &signature)
                        .map_err(|e| TxError::InvalidSignature(e.to_string()))?;
                    Suite::Sm.address(&public)
                }
            };
            let hash = Suite::Sm.hash(bytes);
            return Ok(Self {
                body: TxBody::Sm(tx),
                hash,
                sender,
                encoded,
            });
        }
        if suite != Suite::Ecdsa {
            return Err(TxError::WrongSuite {
                chain: suite,
                tx: Suite::Ecdsa,
            });
        }
        let mut rest = bytes;
        let env =
            TxEnvelope::decode_2718(&mut rest).map_err(|e| TxError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(TxError::Malformed(
                "trailing bytes after transaction".into(),
            ));
        }
        match &env {
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_) => {}
            other => return Err(TxError::UnsupportedType(other.tx_type() as u8)),
        }
        if env.chain_id() != Some(chain_id) {
            return Err(TxError::WrongChainId {
                got: env.chain_id(),
                expected: chain_id,
            });
        }
        let sender = match known_sender {
            Some(sender) => sender,
            None => env
                .recover_signer()
                .map_err(|e| TxError::InvalidSignature(e.to_string()))?,
        };
        let hash = *env.tx_hash();
        Ok(Self {
            body: TxBody::Eth(env),
            hash,
            sender,
            encoded,
        })
    }

    /// The transaction hash (keccak256 of the encoding on `ecdsa` chains, SM3 on `sm` chains).
    pub fn hash(&self) -> B256 {
        self.hash
    }
    /// The recovered sender.
    pub fn sender(&self) -> Address {
        self.sender
    }
    /// The EIP-2718 encoding as received.
    pub fn encoded(&self) -> &Bytes {
        &self.encoded
    }
    /// EIP-2718 type byte.
    pub fn tx_type(&self) -> u8 {
        match &self.body {
            TxBody::Eth(e) => e.tx_type() as u8,
            TxBody::Sm(_) => SM_TX_TYPE,
        }
    }
    /// Chain id the transaction is bound to.
    pub fn chain_id(&self) -> Option<u64> {
        match &self.body {
            TxBody::Eth(e) => e.chain_id(),
            TxBody::Sm(t) => Some(t.fields.chain_id),
        }
    }
    /// Sender nonce.
    pub fn nonce(&self) -> u64 {
        match &self.body {
            TxBody::Eth(e) => e.nonce(),
            TxBody::Sm(t) => t.fields.nonce,
        }
    }
    /// Gas limit.
    pub fn gas_limit(&self) -> u64 {
        match &self.body {
            TxBody::Eth(e) => e.gas_limit(),
            TxBody::Sm(t) => t.fields.gas_limit,
        }
    }
    /// Gas price (legacy, EIP-2930) or max fee per gas (EIP-1559, SM).
    pub fn max_fee_per_gas(&self) -> u128 {
        match &self.body {
            TxBody::Eth(e) => e.max_fee_per_gas(),
            TxBody::Sm(t) => t.fields.max_fee_per_gas,
        }
    }
    /// Priority fee per gas for dynamic-fee transactions.
    pub fn max_priority_fee_per_gas(&self) -> Option<u128> {
        match &self.body {
            TxBody::Eth(e) => e.max_priority_fee_per_gas(),
            TxBody::Sm(t) => Some(t.fields.max_priority_fee_per_gas),
        }
    }
    /// The price per gas actually paid with a base fee of zero (Banyan burns nothing).
    pub fn effective_gas_price(&self) -> u128 {
        match self.max_priority_fee_per_gas() {
            Some(tip) => tip.min(self.max_fee_per_gas()),
            None => self.max_fee_per_gas(),
        }
    }
    /// Recipient; `None` creates a contract.
    pub fn to(&self) -> Option<Address> {
        match &self.body {
            TxBody::Eth(e) => e.to(),
            TxBody::Sm(t) => t.fields.to.to().copied(),
        }
    }
    /// Value transferred.
    pub fn value(&self) -> U256 {
        match &self.body {
            TxBody::Eth(e) => e.value(),
            TxBody::Sm(t) => t.fields.value,
        }
    }
    /// Call data or init code.
    pub fn input(&self) -> &Bytes {
        match &self.body {
            TxBody::Eth(e) => e.input(),
            TxBody::Sm(t) => &t.fields.input,
        }
    }
    /// EIP-2930 access list entries.
    pub fn access_list(&self) -> Vec<(Address, Vec<B256>)> {
        match &self.body {
            TxBody::Eth(e) => e
                .access_list()
                .map(|l| {
                    l.iter()
                        .map(|i| (i.address, i.storage_keys.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            TxBody::Sm(_) => Vec::new(),
        }
    }
    /// The most a sender can be charged: gas limit times max fee, plus value.
    pub fn max_cost(&self) -> U256 {
        U256::from(self.gas_limit()) * U256::from(self.max_fee_per_gas()) + self.value()
    }
    /// Signature as (v, r, s, y_parity) for JSON-RPC; SM transactions report r, s and v = 0.
    pub fn signature_parts(&self) -> (u64, U256, U256, bool) {
        match &self.body {
            TxBody::Eth(e) => {
                let sig = e.signature();
                let v = match e {
                    TxEnvelope::Legacy(t) => match t.tx().chain_id {
                        Some(id) => id * 2 + 35 + sig.v() as u64,
                        None => 27 + sig.v() as u64,
                    },
                    _ => sig.v() as u64,
                };
                (v, sig.r(), sig.s(), sig.v())
            }
            TxBody::Sm(t) => {
                let r = U256::from_be_slice(t.signature.get(..32).unwrap_or_default());
                let s = U256::from_be_slice(t.signature.get(32..64).unwrap_or_default());
                (0, r, s, false)
            }
        }
    }
    /// The SM2 public key of an SM transaction.
    pub fn sm_public_key(&self) -> Option<&Bytes> {
        match &self.body {
            TxBody::Sm(t) => Some(&t.public_key),
            TxBody::Eth(_) => None,
        }
    }
}

/// Signs an Ethereum transaction with a secp256k1 key and returns its EIP-2718 encoding.
pub fn sign_eth_transaction(
    tx: TypedTransaction,
    secret: &SecretKey,
) -> Result<Vec<u8>, banyan_crypto::CryptoError> {
    let sig65 = banyan_crypto::sign_ecdsa_prehash(secret, &tx.signature_hash())?;
    let signature = Signature::from_scalars_and_parity(
        B256::from_slice(&sig65[..32]),
        B256::from_slice(&sig65[32..64]),
        sig65[64] == 1,
    );
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    Ok(envelope.encoded_2718())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::TxEip1559;

    fn hardhat0() -> SecretKey {
        SecretKey::from_bytes(
            &hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
                .unwrap(),
        )
        .unwrap()
    }

    fn eip1559(chain_id: u64) -> TypedTransaction {
        TypedTransaction::Eip1559(TxEip1559 {
            chain_id,
            nonce: 3,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(Address::repeat_byte(0x11)),
            value: U256::from(5u64),
            ..Default::default()
        })
    }

    #[test]
    fn eth_round_trip_recovers_sender() {
        let raw = sign_eth_transaction(eip1559(31337), &hardhat0()).unwrap();
        let tx = RecoveredTx::decode(&raw, Suite::Ecdsa, 31337).unwrap();
        assert_eq!(
            tx.sender(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(tx.hash(), alloy_primitives::keccak256(&raw));
        assert_eq!(tx.nonce(), 3);
        assert_eq!(tx.effective_gas_price(), 1_000_000_000);
    }

    #[test]
    fn verified_bytes_decode_to_the_recovered_transaction() {
        let sk = Suite::Sm.generate_secret();
        let sm = SmTxFields {
            chain_id: 7,
            nonce: 1,
            max_priority_fee_per_gas: 1,
            max_fee_per_gas: 1,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(2)),
            value: U256::from(10u64),
            input: Bytes::new(),
        }
        .sign(&sk)
        .unwrap()
        .encoded_2718();
        let legacy = hex::decode("f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83").unwrap();
        for (raw, suite, chain_id) in [
            (
                sign_eth_transaction(eip1559(7), &hardhat0()).unwrap(),
                Suite::Ecdsa,
                7,
            ),
            (legacy, Suite::Ecdsa, 1),
            (sm, Suite::Sm, 7),
        ] {
            let recovered = RecoveredTx::decode(&raw, suite, chain_id).unwrap();
            assert_eq!(RecoveredTx::hash_of(&raw, suite), recovered.hash());
            let verified =
                RecoveredTx::verified(&raw, suite, chain_id, recovered.sender()).unwrap();
            assert_eq!(verified, recovered);
            // Everything but the signature is still checked.
            assert!(matches!(
                RecoveredTx::verified(&raw, suite, chain_id + 1, recovered.sender()),
                Err(TxError::WrongChainId { .. })
            ));
            assert!(
                RecoveredTx::verified(&raw[..raw.len() - 1], suite, chain_id, recovered.sender())
                    .is_err()
            );
        }
    }

    #[test]
    fn eip155_spec_example_decodes() {
        // The signed transaction from the EIP-155 specification (chain id 1, key 0x4646..46).
        let raw = hex::decode("f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83").unwrap();
        let tx = RecoveredTx::decode(&raw, Suite::Ecdsa, 1).unwrap();
        assert_eq!(
            tx.sender(),
            "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(tx.signature_parts().0, 37);
        assert!(matches!(
            RecoveredTx::decode(&raw, Suite::Ecdsa, 2),
            Err(TxError::WrongChainId {
                got: Some(1),
                expected: 2
            })
        ));
    }

    #[test]
    fn rejects_bad_input() {
        let raw = sign_eth_transaction(eip1559(7), &hardhat0()).unwrap();
        assert!(matches!(
            RecoveredTx::decode(&[], Suite::Ecdsa, 7),
            Err(TxError::Malformed(_))
        ));
        assert!(matches!(
            RecoveredTx::decode(&raw[..raw.len() - 3], Suite::Ecdsa, 7),
            Err(TxError::Malformed(_))
        ));
        let mut trailing = raw.clone();
        trailing.push(0);
        assert!(RecoveredTx::decode(&trailing, Suite::Ecdsa, 7).is_err());
        // Flip a bit in s: the signature no longer recovers to the same sender (or at all).
        let mut tampered = raw.clone();
        let n = tampered.len();
        tampered[n - 1] ^= 1;
        if let Ok(tx) = RecoveredTx::decode(&tampered, Suite::Ecdsa, 7) {
            assert_ne!(
                tx.sender(),
                RecoveredTx::decode(&raw, Suite::Ecdsa, 7).unwrap().sender()
            );
        }
        assert!(matches!(
            RecoveredTx::decode(&raw, Suite::Sm, 7),
            Err(TxError::WrongSuite { .. })
        ));
        let big = vec![0xc0; MAX_TX_BYTES + 1];
        assert!(matches!(
            RecoveredTx::decode(&big, Suite::Ecdsa, 7),
            Err(TxError::Oversized { .. })
        ));
    }

    #[test]
    fn sm_round_trip_and_tamper() {
        let sk = Suite::Sm.generate_secret();
        let fields = SmTxFields {
            chain_id: 9,
            nonce: 0,
            max_priority_fee_per_gas: 1,
            max_fee_per_gas: 1,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(2)),
            value: U256::from(10u64),
            input: Bytes::new(),
        };
        let raw = fields.clone().sign(&sk).unwrap().encoded_2718();
        let tx = RecoveredTx::decode(&raw, Suite::Sm, 9).unwrap();
        let pk = Suite::Sm.public_key(&sk).unwrap();
        assert_eq!(tx.sender(), Suite::Sm.address(&pk));
        assert_eq!(tx.hash(), Suite::Sm.hash(&raw));
        assert_eq!(tx.tx_type(), SM_TX_TYPE);
        assert!(matches!(
            RecoveredTx::decode(&raw, Suite::Ecdsa, 9),
            Err(TxError::WrongSuite { .. })
        ));
        assert!(matches!(
            RecoveredTx::decode(&raw, Suite::Sm, 10),
            Err(TxError::WrongChainId { .. })
        ));
        let mut other = fields;
        other.value = U256::from(11u64);
        let mut forged = other.sign(&sk).unwrap();
        forged.signature = SmTxFields::sign(
            SmTxFields {
                value: U256::from(10u64),
                ..forged.fields.clone()
            },
            &sk,
        )
        .unwrap()
        .signature;
        assert!(matches!(
            RecoveredTx::decode(&forged.encoded_2718(), Suite::Sm, 9),
            Err(TxError::InvalidSignature(_))
        ));
    }
}
