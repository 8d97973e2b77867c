//! Transaction receipts.

use alloy_primitives::{Address, B256, Bloom, Log, logs_bloom};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

/// The outcome of one included transaction, as stored and as served over JSON-RPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: B256,
    /// EIP-2718 type.
    pub tx_type: u8,
    /// Whether execution succeeded (status 1) or reverted (status 0).
    pub success: bool,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Price per gas paid.
    pub effective_gas_price: u128,
    /// Sender.
    pub from: Address,
    /// Recipient (`None` for contract creation).
    pub to: Option<Address>,
    /// Address of the created contract.
    pub contract_address: Option<Address>,
    /// Logs emitted.
    pub logs: Vec<Log>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Wire {
    tx_hash: B256,
    tx_type: u8,
    success: bool,
    gas_used: u64,
    cumulative_gas_used: u64,
    effective_gas_price: u128,
    from: Address,
    to: Vec<Address>,
    contract_address: Vec<Address>,
    logs: Vec<Log>,
}

#[derive(RlpEncodable)]
struct Consensus<'a> {
    status: bool,
    cumulative_gas_used: u64,
    bloom: Bloom,
    logs: &'a Vec<Log>,
}

impl Receipt {
    /// The logs bloom of this receipt.
    pub fn bloom(&self) -> Bloom {
        logs_bloom(self.logs.iter())
    }

    /// The Ethereum consensus encoding (type byte, then status, cumulative gas, bloom, logs) that
    /// the receipts root commits to.
    pub fn consensus_encoding(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.tx_type != 0 {
            out.push(self.tx_type);
        }
        Consensus {
            status: self.success,
            cumulative_gas_used: self.cumulative_gas_used,
            bloom: self.bloom(),
            logs: &self.logs,
        }
        .encode(&mut out);
        out
    }

    /// Storage encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            tx_hash: self.tx_hash,
            tx_type: self.tx_type,
            success: self.success,
            gas_used: self.gas_used,
            cumulative_gas_used: self.cumulative_gas_used,
            effective_gas_price: self.effective_gas_price,
            from: self.from,
            to: self.to.into_iter().collect(),
            contract_address: self.contract_address.into_iter().collect(),
            logs: self.logs.clone(),
        };
        let mut out = Vec::new();
        wire.encode(&mut out);
        out
    }

    /// Decodes [`Receipt::to_bytes`], and only that: trailing bytes, or more than one
    /// recipient or contract address, are refused (one encoding per receipt).
    pub fn from_bytes(mut bytes: &[u8]) -> Result<Self, alloy_rlp::Error> {
        let w = Wire::decode(&mut bytes)?;
        if !bytes.is_empty() {
            return Err(alloy_rlp::Error::Custom("trailing bytes after the receipt"));
        }
        if w.to.len() > 1 || w.contract_address.len() > 1 {
            return Err(alloy_rlp::Error::Custom(
                "a receipt has at most one recipient and one contract address",
            ));
        }
        Ok(Self {
            tx_hash: w.tx_hash,
            tx_type: w.tx_type,
            success: w.success,
            gas_used: w.gas_used,
            cumulative_gas_used: w.cumulative_gas_used,
            effective_gas_price: w.effective_gas_price,
            from: w.from,
            to: w.to.first().copied(),
            contract_address: w.contract_address.first().copied(),
            logs: w.logs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, LogData};

    #[test]
    fn storage_round_trip() {
        let r = Receipt {
            tx_hash: B256::repeat_byte(1),
            tx_type: 2,
            success: true,
            gas_used: 21_000,
            cumulative_gas_used: 42_000,
            effective_gas_price: 7,
            from: Address::repeat_byte(2),
            to: None,
            contract_address: Some(Address::repeat_byte(3)),
            logs: vec![Log {
                address: Address::repeat_byte(4),
                data: LogData::new_unchecked(vec![B256::repeat_byte(5)], Bytes::from_static(b"x")),
            }],
        };
        assert_eq!(Receipt::from_bytes(&r.to_bytes()).unwrap(), r);
        assert!(
            r.bloom()
                .contains_input(alloy_primitives::BloomInput::Raw(&[4u8; 20]))
        );
    }
}
