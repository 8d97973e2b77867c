//! [`Signer`]: a key of the chain's suite that builds, signs and sends transactions.

use crate::{Client, Receipt, SdkError};
use alloy_consensus::{TxEip1559, TypedTransaction};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use banyan_crypto::{SecretKey, Suite};
use banyan_primitives::{SmTxFields, sign_eth_transaction};
use std::time::Duration;

/// How much above the node's estimate a transaction's gas limit is set, in percent.
const GAS_MARGIN_PERCENT: u64 = 20;

/// A key that signs for one chain: EIP-1559 transactions on `ecdsa` chains, the native SM2
/// transaction (type `0x53`) on `sm` chains.
#[derive(Clone)]
pub struct Signer {
    /// The chain id signed into every transaction.
    pub chain_id: u64,
    /// The chain's suite.
    pub suite: Suite,
    /// The key.
    pub key: SecretKey,
    /// Its address on this suite.
    pub address: Address,
}

impl Signer {
    /// A signer for `key` on the chain `chain_id` with `suite`.
    pub fn new(chain_id: u64, suite: Suite, key: SecretKey) -> Result<Self, SdkError> {
        let public = suite.public_key(&key)?;
        Ok(Self {
            chain_id,
            suite,
            address: suite.address(&public),
            key,
        })
    }

    /// A signer for `key` on the chain `client` is connected to.
    pub async fn for_chain(client: &Client, key: SecretKey) -> Result<Self, SdkError> {
        let (chain_id, suite) = client.chain().await?;
        Self::new(chain_id, suite, key)
    }

    /// The signed, encoded transaction (what `eth_sendRawTransaction` takes).
    pub fn sign(
        &self,
        nonce: u64,
        to: Option<Address>,
        value: U256,
        data: Bytes,
        gas_limit: u64,
        gas_price: u128,
    ) -> Result<Vec<u8>, SdkError> {
        let kind = to.map_or(TxKind::Create, TxKind::Call);
        Ok(match self.suite {
            Suite::Ecdsa => sign_eth_transaction(
                TypedTransaction::Eip1559(TxEip1559 {
                    chain_id: self.chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: gas_price,
                    max_priority_fee_per_gas: gas_price,
                    to: kind,
                    value,
                    input: data,
                    access_list: Default::default(),
                }),
                &self.key,
            )?,
            Suite::Sm => SmTxFields {
                chain_id: self.chain_id,
                nonce,
                max_priority_fee_per_gas: gas_price,
                max_fee_per_gas: gas_price,
                gas_limit,
                to: kind,
                value,
                input: data,
            }
            .sign(&self.key)?
            .encoded_2718(),
        })
    }

    /// Signs and submits a call (or a create when `to` is `None`) at the next pending nonce.
    /// Without `gas`, the node estimates it (a call that would revert fails here, with the
    /// chain's reason) and the limit is set 20 % above; without `gas_price`, the node's price.
    pub async fn send(
        &self,
        client: &Client,
        to: Option<Address>,
        value: U256,
        data: Bytes,
        gas: Option<u64>,
        gas_price: Option<u128>,
    ) -> Result<B256, SdkError> {
        let nonce = client.pending_nonce(self.address).await?;
        let price = match gas_price {
            Some(price) => price,
            None => client.gas_price().await?,
        };
        let gas = match gas {
            Some(gas) => gas,
            None => {
                let estimate = client.estimate_gas(self.address, to, value, &data).await?;
                estimate + estimate * GAS_MARGIN_PERCENT / 100
            }
        };
        let raw = self.sign(nonce, to, value, data, gas, price)?;
        client.send_raw(&raw).await
    }

    /// [`Self::send`], then waits up to `timeout` for the receipt.
    #[allow(clippy::too_many_arguments)]
    pub async fn transact(
        &self,
        client: &Client,
        to: Option<Address>,
        value: U256,
        data: Bytes,
        gas: Option<u64>,
        gas_price: Option<u128>,
        timeout: Duration,
    ) -> Result<Receipt, SdkError> {
        let hash = self.send(client, to, value, data, gas, gas_price).await?;
        client.wait_receipt(hash, timeout).await
    }
}
