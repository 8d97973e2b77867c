//! Typed bindings of BanyanCrypto (`IBanyanCrypto.sol`, `docs/modules/crypto.md`).

use crate::{BlockId, Client, SdkError};
use alloy_primitives::{B256, Bytes};
use alloy_sol_types::SolCall;
pub use banyan_modules::{BANYAN_CRYPTO_ADDRESS, IBanyanCrypto};

/// The chain suite's hash of `data` (Keccak-256 on `ecdsa`, SM3 on `sm`), as contracts get it.
pub async fn suite_hash(client: &Client, data: &[u8]) -> Result<B256, SdkError> {
    let call = IBanyanCrypto::suiteHashCall {
        data: Bytes::copy_from_slice(data),
    };
    let output = client
        .call(
            BANYAN_CRYPTO_ADDRESS,
            call.abi_encode().into(),
            BlockId::Latest,
        )
        .await?;
    IBanyanCrypto::suiteHashCall::abi_decode_returns(&output).map_err(|e| SdkError::Decode {
        method: "eth_call",
        url: client.url().to_string(),
        source: serde::de::Error::custom(format!("suiteHash: {e}")),
    })
}
