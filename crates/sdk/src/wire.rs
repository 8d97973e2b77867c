//! The JSON shapes of the node's answers: one definition, used by the RPC server to write them
//! and by every client to read them.
//!
//! Field names follow the Ethereum JSON-RPC specification where one exists (`camelCase`,
//! quantities as `0x…` hex); Banyan's own answers (`banyan_getCommitCertificate`,
//! `banyan_getValidatorSet`) follow the same conventions.

use crate::quantity;
use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use banyan_crypto::Suite;
use banyan_primitives::consensus::{CommitCertificate, CommitSignature};
use banyan_primitives::{GenesisValidator, Header};
use banyan_state::{Account, AccountProof, KECCAK_EMPTY, StorageProof};
use serde::{Deserialize, Serialize};

/// The header fields of a block object (`eth_getBlockBy*`), enough to recompute its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireHeader {
    /// Block hash (as the node computed it; a verifier recomputes it).
    pub hash: B256,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Height.
    #[serde(with = "quantity::serde_u64")]
    pub number: u64,
    /// Unix seconds.
    #[serde(with = "quantity::serde_u64")]
    pub timestamp: u64,
    /// The proposer (Ethereum's `miner`).
    pub miner: Address,
    /// Root of the transactions.
    pub transactions_root: B256,
    /// Root of the receipts.
    pub receipts_root: B256,
    /// Root of the post-state.
    pub state_root: B256,
    /// Bloom of the block's logs.
    pub logs_bloom: Bloom,
    /// Gas limit.
    #[serde(with = "quantity::serde_u64")]
    pub gas_limit: u64,
    /// Gas used.
    #[serde(with = "quantity::serde_u64")]
    pub gas_used: u64,
    /// Base fee (always zero on Banyan).
    #[serde(with = "quantity::serde_u64")]
    pub base_fee_per_gas: u64,
    /// Extra data (the genesis block's commits to the chain spec).
    pub extra_data: Bytes,
    /// The proposer's seal over the hash.
    pub seal_signature: Bytes,
}

impl WireHeader {
    /// The wire form of `header`, whose hash is `hash`.
    pub fn new(header: &Header, hash: B256, seal_signature: &Bytes) -> Self {
        Self {
            hash,
            parent_hash: header.parent_hash,
            number: header.number,
            timestamp: header.timestamp,
            miner: header.proposer,
            transactions_root: header.transactions_root,
            receipts_root: header.receipts_root,
            state_root: header.state_root,
            logs_bloom: header.logs_bloom,
            gas_limit: header.gas_limit,
            gas_used: header.gas_used,
            base_fee_per_gas: header.base_fee_per_gas,
            extra_data: header.extra_data.clone(),
            seal_signature: seal_signature.clone(),
        }
    }

    /// The header these fields describe (its hash is to be recomputed, never taken from
    /// [`Self::hash`]).
    pub fn header(&self) -> Header {
        Header {
            parent_hash: self.parent_hash,
            number: self.number,
            timestamp: self.timestamp,
            proposer: self.miner,
            transactions_root: self.transactions_root,
            receipts_root: self.receipts_root,
            state_root: self.state_root,
            logs_bloom: self.logs_bloom,
            gas_limit: self.gas_limit,
            gas_used: self.gas_used,
            base_fee_per_gas: self.base_fee_per_gas,
            extra_data: self.extra_data.clone(),
        }
    }
}

/// A log as `eth_getLogs`, receipts and `logs` subscriptions carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireLog {
    /// The emitting contract or module.
    pub address: Address,
    /// Indexed topics.
    pub topics: Vec<B256>,
    /// Unindexed data.
    pub data: Bytes,
    /// The block that holds it.
    pub block_hash: B256,
    /// Its height.
    #[serde(with = "quantity::serde_u64")]
    pub block_number: u64,
    /// The transaction that emitted it.
    pub transaction_hash: B256,
    /// That transaction's index in the block.
    #[serde(with = "quantity::serde_u64")]
    pub transaction_index: u64,
    /// The log's index in the block.
    #[serde(with = "quantity::serde_u64")]
    pub log_index: u64,
    /// Always `false`: a committed block is final.
    pub removed: bool,
}

/// `eth_getTransactionReceipt`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireReceipt {
    /// The transaction.
    pub transaction_hash: B256,
    /// Its index in the block.
    #[serde(with = "quantity::serde_u64")]
    pub transaction_index: u64,
    /// The block that holds it.
    pub block_hash: B256,
    /// Its height.
    #[serde(with = "quantity::serde_u64")]
    pub block_number: u64,
    /// The sender.
    pub from: Address,
    /// The callee (`null` for a create).
    pub to: Option<Address>,
    /// Gas used by the block up to and including this transaction.
    #[serde(with = "quantity::serde_u64")]
    pub cumulative_gas_used: u64,
    /// Gas charged.
    #[serde(with = "quantity::serde_u64")]
    pub gas_used: u64,
    /// The price per gas paid.
    #[serde(with = "quantity::serde_u128")]
    pub effective_gas_price: u128,
    /// For a create, the new contract (`null` otherwise).
    pub contract_address: Option<Address>,
    /// The logs (none when it failed).
    pub logs: Vec<WireLog>,
    /// Bloom of the logs.
    pub logs_bloom: Bloom,
    /// `0x1` success, `0x0` reverted or halted.
    #[serde(with = "quantity::serde_u64")]
    pub status: u64,
    /// The EIP-2718 type.
    #[serde(rename = "type", with = "quantity::serde_u64")]
    pub tx_type: u64,
}

impl WireReceipt {
    /// Whether the transaction succeeded.
    pub fn success(&self) -> bool {
        self.status == 1
    }
}

/// One precommit signature of a commit certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireSignature {
    /// The signing validator.
    pub validator: Address,
    /// Its signature (65 bytes on `ecdsa`, 64 on `sm`).
    pub signature: Bytes,
}

/// `banyan_getCommitCertificate`: the certificate's fields, signatures in stored order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireCertificate {
    /// Height of the certified block.
    #[serde(with = "quantity::serde_u64")]
    pub height: u64,
    /// Round in which it was decided.
    #[serde(with = "quantity::serde_u32")]
    pub round: u32,
    /// Hash of the certified block.
    pub block_hash: B256,
    /// The precommits.
    pub signatures: Vec<WireSignature>,
}

impl From<&CommitCertificate> for WireCertificate {
    fn from(cert: &CommitCertificate) -> Self {
        Self {
            height: cert.height,
            round: cert.round,
            block_hash: cert.block_hash,
            signatures: cert
                .signatures
                .iter()
                .map(|s| WireSignature {
                    validator: s.validator,
                    signature: s.signature.clone(),
                })
                .collect(),
        }
    }
}

impl From<WireCertificate> for CommitCertificate {
    /// The certificate as served, signatures in the order given (verification decides whether
    /// it proves anything).
    fn from(wire: WireCertificate) -> Self {
        Self {
            height: wire.height,
            round: wire.round,
            block_hash: wire.block_hash,
            signatures: wire
                .signatures
                .into_iter()
                .map(|s| CommitSignature {
                    validator: s.validator,
                    signature: s.signature,
                })
                .collect(),
        }
    }
}

/// One validator of `banyan_getValidatorSet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireValidator {
    /// Address derived from the key with the chain's suite.
    pub address: Address,
    /// The 64-byte public key.
    pub public_key: Bytes,
    /// Voting power.
    #[serde(with = "quantity::serde_u64")]
    pub power: u64,
}

/// `banyan_getValidatorSet`: the set deciding a height, and its total power.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireValidatorSet {
    /// Sum of the voting powers (a validated set's always fits 64 bits; the wire form does not
    /// wrap if a list of genesis entries exceeds it).
    #[serde(with = "quantity::serde_u128")]
    pub total_power: u128,
    /// The validators, in the order the node keeps them.
    pub validators: Vec<WireValidator>,
}

impl WireValidatorSet {
    /// The wire form of `validators`.
    pub fn new(validators: &[GenesisValidator]) -> Self {
        // u128: a sum of u64 powers cannot overflow it.
        let total: u128 = validators.iter().map(|v| u128::from(v.power)).sum();
        Self {
            total_power: total,
            validators: validators
                .iter()
                .map(|v| WireValidator {
                    address: v.address,
                    public_key: v.public_key.clone(),
                    power: v.power,
                })
                .collect(),
        }
    }

    /// The validators as genesis entries.
    pub fn genesis_validators(&self) -> Vec<GenesisValidator> {
        self.validators
            .iter()
            .map(|v| GenesisValidator {
                address: v.address,
                public_key: v.public_key.clone(),
                power: v.power,
            })
            .collect()
    }
}

/// One storage slot of an `eth_getProof` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireStorageProof {
    /// The slot, as 32 bytes.
    pub key: B256,
    /// Its value (zero when absent).
    pub value: U256,
    /// Tree nodes from the storage root down.
    pub proof: Vec<Bytes>,
}

/// `eth_getProof` (and `banyan_getProof`): an account and some of its slots, with Merkle
/// proofs against the block's state root. Banyan adds the block it answers for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireProof {
    /// The account.
    pub address: Address,
    /// Tree nodes from the state root down to the account.
    pub account_proof: Vec<Bytes>,
    /// Balance (zero for an absent account).
    pub balance: U256,
    /// Nonce.
    #[serde(with = "quantity::serde_u64")]
    pub nonce: u64,
    /// Code hash (Keccak-256 of empty code for an absent account).
    pub code_hash: B256,
    /// Root of the account's storage (the empty root for an absent account).
    pub storage_hash: B256,
    /// The requested slots.
    pub storage_proof: Vec<WireStorageProof>,
    /// The block the proof is for.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_u64")]
    pub block_number: Option<u64>,
    /// That block's state root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_root: Option<B256>,
}

impl WireProof {
    /// The wire form of `proof` at block `number` with `state_root`, on `suite`.
    pub fn new(suite: Suite, proof: &AccountProof, number: u64, state_root: Option<B256>) -> Self {
        let account = proof.account.as_ref();
        Self {
            address: proof.address,
            account_proof: proof.account_proof.clone(),
            balance: account.map_or(U256::ZERO, |a| a.balance),
            nonce: account.map_or(0, |a| a.nonce),
            code_hash: account.map_or(KECCAK_EMPTY, |a| a.code_hash),
            storage_hash: account.map_or(banyan_state::empty_root(suite), |a| a.storage_root),
            storage_proof: proof
                .storage
                .iter()
                .map(|s| WireStorageProof {
                    key: B256::from(s.key),
                    value: s.value,
                    proof: s.proof.clone(),
                })
                .collect(),
            block_number: Some(number),
            state_root,
        }
    }

    /// The proof to verify with `banyan_state::verify_account_proof`. An answer with every
    /// account field empty claims that the account does not exist.
    pub fn account_proof(&self, suite: Suite) -> AccountProof {
        let empty = self.balance.is_zero()
            && self.nonce == 0
            && self.code_hash == KECCAK_EMPTY
            && self.storage_hash == banyan_state::empty_root(suite);
        AccountProof {
            address: self.address,
            account: (!empty).then_some(Account {
                nonce: self.nonce,
                balance: self.balance,
                storage_root: self.storage_hash,
                code_hash: self.code_hash,
            }),
            account_proof: self.account_proof.clone(),
            storage: self
                .storage_proof
                .iter()
                .map(|s| StorageProof {
                    key: U256::from_be_bytes(s.key.0),
                    value: s.value,
                    proof: s.proof.clone(),
                })
                .collect(),
        }
    }
}

mod opt_u64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(n: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match n {
            Some(n) => s.serialize_str(&crate::quantity::format(*n)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| crate::quantity::parse(&text).map_err(D::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_round_trips_through_its_wire_form() {
        let cert = CommitCertificate {
            height: 7,
            round: 2,
            block_hash: B256::repeat_byte(9),
            signatures: vec![CommitSignature {
                validator: Address::repeat_byte(1),
                signature: Bytes::from(vec![3u8; 65]),
            }],
        };
        let json = serde_json::to_value(WireCertificate::from(&cert)).expect("serialises");
        assert_eq!(json["height"], "0x7");
        assert_eq!(json["round"], "0x2");
        let back: WireCertificate = serde_json::from_value(json).expect("parses");
        assert_eq!(CommitCertificate::from(back), cert);
    }

    #[test]
    fn bad_quantities_are_refused() {
        let bad = serde_json::json!({
            "height": "7", "round": "0x0", "blockHash": B256::ZERO, "signatures": []
        });
        assert!(serde_json::from_value::<WireCertificate>(bad).is_err());
    }
}
