//! [`Client`]: the node's JSON-RPC over HTTP or WebSocket, with typed answers and errors.

use crate::quantity;
use crate::wire::{WireCertificate, WireHeader, WireProof, WireValidatorSet};
use alloy_primitives::{Address, B256, Bytes, U256};
use banyan_crypto::Suite;
use banyan_primitives::consensus::CommitCertificate;
use jsonrpsee::core::client::{ClientT, Error as RpcClientError};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long one request may take before it fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A request to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The URL is not `http(s)://` or `ws(s)://`, or the connection could not be set up.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The node answered with a JSON-RPC error (its own words, e.g. a revert reason).
    #[error("{method} at {url}: {message}")]
    Rpc {
        /// The method called.
        method: &'static str,
        /// The node.
        url: String,
        /// The JSON-RPC error code.
        code: i32,
        /// The node's message.
        message: String,
    },
    /// The request did not reach the node, or its answer did not arrive.
    #[error("{method} at {url}: {source}")]
    Transport {
        /// The method called.
        method: &'static str,
        /// The node.
        url: String,
        /// What failed.
        source: RpcClientError,
    },
    /// The answer does not have the documented shape.
    #[error("{method} at {url}: unexpected answer: {source}")]
    Decode {
        /// The method called.
        method: &'static str,
        /// The node.
        url: String,
        /// Why it does not decode.
        source: serde_json::Error,
    },
    /// No receipt within the wait.
    #[error("no receipt for {hash} after {waited:?}")]
    Timeout {
        /// The transaction.
        hash: B256,
        /// How long it waited.
        waited: Duration,
    },
    /// Signing failed (a key of the wrong suite, for example).
    #[error(transparent)]
    Crypto(#[from] banyan_crypto::CryptoError),
    /// A proof the node served does not follow from the state root it is checked against.
    #[error("the node's proof does not follow from state root {state_root}: {reason}")]
    Proof {
        /// The root it was checked against.
        state_root: B256,
        /// Why not.
        reason: String,
    },
}

/// Which block a read is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockId {
    /// The latest committed block.
    Latest,
    /// The block at this height.
    Number(u64),
}

impl BlockId {
    fn param(self) -> Value {
        match self {
            Self::Latest => json!("latest"),
            Self::Number(n) => json!(quantity::format(n)),
        }
    }
}

/// A receipt, as the node writes it (the SDK's wire type).
pub type Receipt = crate::wire::WireReceipt;

#[derive(Clone)]
enum Transport {
    Http(HttpClient),
    Ws(std::sync::Arc<WsClient>),
}

/// A connection to one node.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    chain_id: u64,
    suite: Suite,
}

impl Client {
    /// Connects to `url`: `http(s)://` for HTTP, `ws(s)://` for a WebSocket (which also serves
    /// subscriptions to other clients of the same port).
    pub async fn connect(url: &str) -> Result<Self, SdkError> {
        let connect_error = |reason: String| SdkError::Connect {
            url: url.to_string(),
            reason,
        };
        let transport = if url.starts_with("ws://") || url.starts_with("wss://") {
            let ws = WsClientBuilder::default()
                .request_timeout(REQUEST_TIMEOUT)
                .build(url)
                .await
                .map_err(|e| connect_error(e.to_string()))?;
            Transport::Ws(std::sync::Arc::new(ws))
        } else if url.starts_with("http://") || url.starts_with("https://") {
            let http = HttpClientBuilder::default()
                .request_timeout(REQUEST_TIMEOUT)
                .build(url)
                .map_err(|e| connect_error(e.to_string()))?;
            Transport::Http(http)
        } else {
            return Err(connect_error(
                "the URL must start with http://, https://, ws:// or wss://".into(),
            ));
        };
        Ok(Self {
            transport,
            url: url.to_string(),
        })
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with positional `params` and decodes the answer as `T`.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Vec<Value>,
    ) -> Result<T, SdkError> {
        let mut array = ArrayParams::new();
        for param in params {
            array.insert(param).map_err(|source| SdkError::Decode {
                method,
                url: self.url.clone(),
                source,
            })?;
        }
        let answer: Result<Value, RpcClientError> = match &self.transport {
            Transport::Http(http) => http.request(method, array).await,
            Transport::Ws(ws) => ws.request(method, array).await,
        };
        let value = answer.map_err(|e| match e {
            RpcClientError::Call(obj) => SdkError::Rpc {
                method,
                url: self.url.clone(),
                code: obj.code(),
                message: obj.message().to_string(),
            },
            source => SdkError::Transport {
                method,
                url: self.url.clone(),
                source,
            },
        })?;
        serde_json::from_value(value).map_err(|source| SdkError::Decode {
            method,
            url: self.url.clone(),
            source,
        })
    }

    /// The chain id and crypto suite (`banyan_status`).
    pub async fn chain(&self) -> Result<(u64, Suite), SdkError> {
        let status: Status = self.request("banyan_status", vec![]).await?;
        Ok((status.chain_id, status.suite))
    }

    /// Height of the latest block.
    pub async fn block_number(&self) -> Result<u64, SdkError> {
        let n: String = self.request("eth_blockNumber", vec![]).await?;
        self.quantity("eth_blockNumber", &n)
    }

    fn quantity(&self, method: &'static str, text: &str) -> Result<u64, SdkError> {
        quantity::parse(text).map_err(|e| SdkError::Decode {
            method,
            url: self.url.clone(),
            source: serde::de::Error::custom(e),
        })
    }

    /// The header of block `id` (`None` when the node has no such block).
    pub async fn header(&self, id: BlockId) -> Result<Option<WireHeader>, SdkError> {
        self.request("eth_getBlockByNumber", vec![id.param(), json!(false)])
            .await
    }

    /// The commit certificate of block `height` (`None` when the node has none).
    pub async fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, SdkError> {
        let wire: Option<WireCertificate> = self
            .request(
                "banyan_getCommitCertificate",
                vec![json!(quantity::format(height))],
            )
            .await?;
        Ok(wire.map(CommitCertificate::from))
    }

    /// The validator set deciding block `id`.
    pub async fn validator_set(&self, id: BlockId) -> Result<WireValidatorSet, SdkError> {
        self.request("banyan_getValidatorSet", vec![id.param()])
            .await
    }

    /// `eth_getProof` of `address` and `slots` at block `id`.
    pub async fn proof(
        &self,
        address: Address,
        slots: &[B256],
        id: BlockId,
    ) -> Result<WireProof, SdkError> {
        self.request(
            "eth_getProof",
            vec![json!(address), json!(slots), id.param()],
        )
        .await
    }

    /// The next nonce of `address`, counting its transactions waiting in the node's pool.
    pub async fn pending_nonce(&self, address: Address) -> Result<u64, SdkError> {
        let n: String = self
            .request(
                "eth_getTransactionCount",
                vec![json!(address), json!("pending")],
            )
            .await?;
        self.quantity("eth_getTransactionCount", &n)
    }

    /// The node's gas price.
    pub async fn gas_price(&self) -> Result<u128, SdkError> {
        let n: U256 = self.request("eth_gasPrice", vec![]).await?;
        Ok(n.saturating_to())
    }

    /// `eth_estimateGas` of a call from `from` to `to` (`None`: a create) with `value` and `data`.
    pub async fn estimate_gas(
        &self,
        from: Address,
        to: Option<Address>,
        value: U256,
        data: &Bytes,
    ) -> Result<u64, SdkError> {
        let mut request = json!({"from": from, "value": value, "data": data});
        if let Some(to) = to {
            request["to"] = json!(to);
        }
        let n: String = self.request("eth_estimateGas", vec![request]).await?;
        self.quantity("eth_estimateGas", &n)
    }

    /// `eth_call` of `data` to `to` at block `id`; a revert is an [`SdkError::Rpc`] carrying
    /// its reason.
    pub async fn call(&self, to: Address, data: Bytes, id: BlockId) -> Result<Bytes, SdkError> {
        self.request(
            "eth_call",
            vec![json!({"to": to, "data": data}), id.param()],
        )
        .await
    }

    /// Submits a signed transaction; returns its hash.
    pub async fn send_raw(&self, raw: &[u8]) -> Result<B256, SdkError> {
        self.request(
            "eth_sendRawTransaction",
            vec![json!(Bytes::copy_from_slice(raw))],
        )
        .await
    }

    /// Submits several signed transactions in one JSON-RPC batch: one result per transaction,
    /// in order, each the hash or the node's refusal.
    pub async fn send_raw_batch(
        &self,
        raws: &[Vec<u8>],
    ) -> Result<Vec<Result<B256, String>>, SdkError> {
        const METHOD: &str = "eth_sendRawTransaction";
        let mut batch = jsonrpsee::core::params::BatchRequestBuilder::new();
        for raw in raws {
            let mut params = ArrayParams::new();
            params
                .insert(Bytes::copy_from_slice(raw))
                .and_then(|()| batch.insert(METHOD, params))
                .map_err(|source| SdkError::Decode {
                    method: METHOD,
                    url: self.url.clone(),
                    source,
                })?;
        }
        let answers = match &self.transport {
            Transport::Http(http) => http.batch_request::<B256>(batch).await,
            Transport::Ws(ws) => ws.batch_request::<B256>(batch).await,
        }
        .map_err(|source| SdkError::Transport {
            method: METHOD,
            url: self.url.clone(),
            source,
        })?;
        Ok(answers
            .into_iter()
            .map(|answer| answer.map_err(|e| e.message().to_string()))
            .collect())
    }

    /// The receipt of `hash`, if it is committed.
    pub async fn receipt(&self, hash: B256) -> Result<Option<Receipt>, SdkError> {
        self.request("eth_getTransactionReceipt", vec![json!(hash)])
            .await
    }

    /// Polls for the receipt of `hash` until `timeout`.
    pub async fn wait_receipt(&self, hash: B256, timeout: Duration) -> Result<Receipt, SdkError> {
        let start = Instant::now();
        loop {
            if let Some(receipt) = self.receipt(hash).await? {
                return Ok(receipt);
            }
            if start.elapsed() > timeout {
                return Err(SdkError::Timeout {
                    hash,
                    waited: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
