//! A small JSON-RPC client and transaction builder, and the `tx` and `contract` commands.

use alloy_consensus::{TxEip1559, TypedTransaction};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use anyhow::{Context, anyhow, bail};
use banyan_crypto::{SecretKey, Suite};
use banyan_primitives::{SmTxFields, sign_eth_transaction};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A connection to a node's JSON-RPC.
#[derive(Clone)]
pub(crate) struct Rpc {
    http: HttpClient,
    url: String,
}

impl Rpc {
    pub(crate) fn connect(url: &str) -> anyhow::Result<Self> {
        let http = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .build(url)
            .with_context(|| format!("invalid RPC URL {url}"))?;
        Ok(Self {
            http,
            url: url.to_string(),
        })
    }

    pub(crate) async fn call(&self, method: &str, params: Vec<Value>) -> anyhow::Result<Value> {
        let mut p = ArrayParams::new();
        for v in params {
            p.insert(v)?;
        }
        self.http
            .request::<Value, _>(method, p)
            .await
            .map_err(|e| match e {
                // The node's own words (e.g. "execution reverted: Evidence: …"), without the
                // error object's code and raw data.
                jsonrpsee::core::ClientError::Call(obj) => {
                    anyhow!("{method} at {}: {}", self.url, obj.message())
                }
                other => anyhow!("{method} at {}: {other}", self.url),
            })
    }

    /// Chain id and suite of the node.
    pub(crate) async fn chain(&self) -> anyhow::Result<(u64, Suite)> {
        let status = self.call("banyan_status", vec![]).await?;
        let chain_id = status["chainId"]
            .as_u64()
            .ok_or_else(|| anyhow!("banyan_status without chainId"))?;
        let suite: Suite = status["suite"]
            .as_str()
            .unwrap_or("ecdsa")
            .parse()
            .map_err(|e| anyhow!("{e}"))?;
        Ok((chain_id, suite))
    }

    pub(crate) async fn pending_nonce(&self, address: Address) -> anyhow::Result<u64> {
        let v = self
            .call(
                "eth_getTransactionCount",
                vec![json!(address), json!("pending")],
            )
            .await?;
        parse_quantity(&v)
    }

    pub(crate) async fn send_raw(&self, raw: &[u8]) -> anyhow::Result<B256> {
        let v = self
            .call(
                "eth_sendRawTransaction",
                vec![json!(Bytes::copy_from_slice(raw))],
            )
            .await?;
        serde_json::from_value(v).context("transaction hash")
    }

    /// Submits several transactions in one JSON-RPC batch; one result per transaction.
    pub(crate) async fn send_raw_batch(
        &self,
        raws: &[Vec<u8>],
    ) -> anyhow::Result<Vec<Result<B256, String>>> {
        let mut batch = jsonrpsee::core::params::BatchRequestBuilder::new();
        for raw in raws {
            let mut p = ArrayParams::new();
            p.insert(Bytes::copy_from_slice(raw))?;
            batch.insert("eth_sendRawTransaction", p)?;
        }
        let resp = self
            .http
            .batch_request::<B256>(batch)
            .await
            .map_err(|e| anyhow!("batch eth_sendRawTransaction at {}: {e}", self.url))?;
        Ok(resp
            .iter()
            .map(|r| r.clone().map_err(|e| e.message().to_string()))
            .collect())
    }

    /// Polls for a receipt until `timeout`.
    pub(crate) async fn wait_receipt(
        &self,
        hash: B256,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let start = Instant::now();
        loop {
            let r = self
                .call("eth_getTransactionReceipt", vec![json!(hash)])
                .await?;
            if !r.is_null() {
                return Ok(r);
            }
            if start.elapsed() > timeout {
                bail!("no receipt for {hash} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub(crate) fn parse_quantity(v: &Value) -> anyhow::Result<u64> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("expected a hex quantity, got {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16)
        .with_context(|| format!("invalid quantity {s}"))
}

/// Signs transactions for one account on one chain.
#[derive(Clone)]
pub(crate) struct Signer {
    pub(crate) chain_id: u64,
    pub(crate) suite: Suite,
    pub(crate) key: SecretKey,
    pub(crate) address: Address,
}

impl Signer {
    pub(crate) fn new(chain_id: u64, suite: Suite, key: SecretKey) -> anyhow::Result<Self> {
        let pk = suite.public_key(&key)?;
        Ok(Self {
            chain_id,
            suite,
            address: suite.address(&pk),
            key,
        })
    }

    /// Signs an EIP-1559 transaction (ecdsa chains) or an SM transaction (sm chains).
    pub(crate) fn sign(
        &self,
        nonce: u64,
        to: Option<Address>,
        value: U256,
        data: Bytes,
        gas_limit: u64,
        gas_price: u128,
    ) -> anyhow::Result<Vec<u8>> {
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
}

/// Options shared by commands that send a transaction.
#[derive(clap::Args)]
pub(crate) struct SendOpts {
    /// Node JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545", env = "BANYAN_RPC")]
    pub(crate) rpc: String,
    /// Sender's secret key (hex), or use --key-file.
    #[arg(long, env = "BANYAN_KEY", hide_env_values = true)]
    key: Option<String>,
    /// File holding the sender's secret key (as written by `banyan account new`).
    #[arg(long, conflicts_with = "key")]
    key_file: Option<PathBuf>,
    /// Gas limit (estimated by the node when omitted).
    #[arg(long)]
    gas: Option<u64>,
    /// Gas price in wei (the node's eth_gasPrice when omitted).
    #[arg(long)]
    gas_price: Option<u128>,
    /// Return after submission instead of waiting for the receipt.
    #[arg(long)]
    no_wait: bool,
}

impl SendOpts {
    fn secret(&self) -> anyhow::Result<SecretKey> {
        let hex = match (&self.key, &self.key_file) {
            (Some(k), _) => k.clone(),
            (None, Some(f)) => crate::account::read_key_file(f)?,
            (None, None) => bail!("give the sender's key with --key, --key-file or BANYAN_KEY"),
        };
        Ok(SecretKey::from_hex(hex.trim())?)
    }

    /// Signs and submits a transaction (gas estimated unless `--gas`), then waits for its
    /// receipt unless `--no-wait`. A call that would revert fails at the estimate, with the
    /// reason the chain gives.
    pub(crate) async fn submit(
        &self,
        to: Option<Address>,
        value: U256,
        data: Bytes,
    ) -> anyhow::Result<Sent> {
        let rpc = Rpc::connect(&self.rpc)?;
        let (chain_id, suite) = rpc.chain().await?;
        let signer = Signer::new(chain_id, suite, self.secret()?)?;
        let nonce = rpc.pending_nonce(signer.address).await?;
        let price = match self.gas_price {
            Some(p) => p,
            None => parse_quantity(&rpc.call("eth_gasPrice", vec![]).await?)? as u128,
        };
        let gas = match self.gas {
            Some(g) => g,
            None => {
                let mut req = json!({"from": signer.address, "value": value, "data": data});
                if let Some(to) = to {
                    req["to"] = json!(to);
                }
                let est = parse_quantity(&rpc.call("eth_estimateGas", vec![req]).await?)?;
                est + est / 5
            }
        };
        let raw = signer.sign(nonce, to, value, data, gas, price)?;
        let hash = rpc.send_raw(&raw).await?;
        if self.no_wait {
            return Ok(Sent {
                hash,
                receipt: None,
            });
        }
        let receipt = rpc.wait_receipt(hash, Duration::from_secs(60)).await?;
        Ok(Sent {
            hash,
            receipt: Some(receipt),
        })
    }

    async fn send(&self, to: Option<Address>, value: U256, data: Bytes) -> anyhow::Result<()> {
        self.submit(to, value, data).await?.report(false)
    }
}

/// A submitted transaction and, unless `--no-wait`, its receipt.
pub(crate) struct Sent {
    pub(crate) hash: B256,
    pub(crate) receipt: Option<Value>,
}

impl Sent {
    /// Prints the outcome (one JSON object with `json`); fails when the transaction reverted.
    pub(crate) fn report(&self, json: bool) -> anyhow::Result<()> {
        let Some(r) = &self.receipt else {
            if json {
                println!("{}", json!({"transaction": self.hash, "status": "pending"}));
            } else {
                println!("transaction {}", self.hash);
            }
            return Ok(());
        };
        let status = if r["status"] == "0x1" {
            "success"
        } else {
            "reverted"
        };
        let block = parse_quantity(&r["blockNumber"])?;
        let gas_used = parse_quantity(&r["gasUsed"])?;
        if json {
            let mut out = json!({
                "transaction": self.hash,
                "status": status,
                "block": block,
                "gasUsed": gas_used,
            });
            if let Some(c) = r["contractAddress"].as_str() {
                out["contract"] = json!(c);
            }
            println!("{out}");
        } else {
            println!("transaction {}", self.hash);
            println!("status      {status}");
            println!("block       {block}");
            println!("gas used    {gas_used}");
            if let Some(c) = r["contractAddress"].as_str() {
                println!("contract    {c}");
            }
        }
        if status != "success" {
            bail!("transaction {} reverted", self.hash);
        }
        Ok(())
    }
}

#[derive(clap::Subcommand)]
pub(crate) enum TxCmd {
    /// Send a value transfer (and optional call data).
    Send {
        #[command(flatten)]
        opts: SendOpts,
        /// Recipient address.
        #[arg(long)]
        to: Address,
        /// Amount in wei.
        #[arg(long, default_value = "0")]
        value: U256,
        /// Call data (hex).
        #[arg(long, default_value = "0x")]
        data: Bytes,
    },
}

/// `banyan contract ...`
#[derive(clap::Subcommand)]
pub(crate) enum ContractCmd {
    /// Deploy a contract from its creation bytecode.
    Deploy {
        #[command(flatten)]
        opts: SendOpts,
        /// File with the creation bytecode in hex (solc's .bin output).
        #[arg(long, conflicts_with = "code")]
        bin: Option<PathBuf>,
        /// Creation bytecode in hex.
        #[arg(long)]
        code: Option<Bytes>,
        /// ABI-encoded constructor arguments (hex), appended to the bytecode.
        #[arg(long, default_value = "0x")]
        args: Bytes,
        /// Value sent with the deployment, in wei.
        #[arg(long, default_value = "0")]
        value: U256,
    },
    /// Read-only call (eth_call); prints the returned bytes.
    Call {
        /// Node JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8545", env = "BANYAN_RPC")]
        rpc: String,
        /// Contract address.
        #[arg(long)]
        to: Address,
        /// ABI-encoded call data (hex).
        #[arg(long)]
        data: Bytes,
        /// Caller address.
        #[arg(long)]
        from: Option<Address>,
    },
    /// Call a contract in a transaction.
    Send {
        #[command(flatten)]
        opts: SendOpts,
        /// Contract address.
        #[arg(long)]
        to: Address,
        /// ABI-encoded call data (hex).
        #[arg(long)]
        data: Bytes,
        /// Value in wei.
        #[arg(long, default_value = "0")]
        value: U256,
    },
}

pub(crate) fn rt() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("async runtime")
}

pub(crate) fn run_tx(cmd: TxCmd) -> anyhow::Result<()> {
    match cmd {
        TxCmd::Send {
            opts,
            to,
            value,
            data,
        } => rt()?.block_on(opts.send(Some(to), value, data)),
    }
}

pub(crate) fn run_contract(cmd: ContractCmd) -> anyhow::Result<()> {
    match cmd {
        ContractCmd::Deploy {
            opts,
            bin,
            code,
            args,
            value,
        } => {
            let mut bytecode: Vec<u8> = match (bin, code) {
                (Some(path), _) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    hex::decode(text.trim().trim_start_matches("0x"))
                        .with_context(|| format!("{} is not hex bytecode", path.display()))?
                }
                (None, Some(c)) => c.to_vec(),
                (None, None) => bail!("give the bytecode with --bin FILE or --code HEX"),
            };
            if bytecode.is_empty() {
                bail!("empty bytecode");
            }
            bytecode.extend_from_slice(&args);
            rt()?.block_on(opts.send(None, value, Bytes::from(bytecode)))
        }
        ContractCmd::Call {
            rpc,
            to,
            data,
            from,
        } => rt()?.block_on(async move {
            let rpc = Rpc::connect(&rpc)?;
            let mut req = json!({"to": to, "data": data});
            if let Some(f) = from {
                req["from"] = json!(f);
            }
            let out = rpc.call("eth_call", vec![req, json!("latest")]).await?;
            println!("{}", out.as_str().unwrap_or_default());
            Ok(())
        }),
        ContractCmd::Send {
            opts,
            to,
            data,
            value,
        } => rt()?.block_on(opts.send(Some(to), value, data)),
    }
}
