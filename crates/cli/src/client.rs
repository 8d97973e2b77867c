//! The `tx` and `contract` commands, and the sending options every command that submits a
//! transaction shares. The client itself is `banyan-sdk`.

use alloy_primitives::{Address, B256, Bytes, U256};
use anyhow::{Context, bail};
use banyan_crypto::SecretKey;
use banyan_sdk::{BlockId, Client, Receipt, Signer};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// Options shared by commands that send a transaction.
#[derive(clap::Args)]
pub(crate) struct SendOpts {
    /// Node JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545", env = "BANYAN_RPC")]
    pub(crate) rpc: String,
    /// Sender's secret key (hex), or use --key-file.
    #[arg(long, env = "BANYAN_KEY", hide_env_values = true)]
    key: Option<String>,
    /// File holding the sender's secret key: a keystore (`banyan account new`, Geth, ethers),
    /// `suite:hex` or hex.
    #[arg(long, conflicts_with = "key")]
    key_file: Option<PathBuf>,
    /// The passphrase of an encrypted --key-file: this file's first line (default:
    /// BANYAN_PASSPHRASE_FILE, else BANYAN_PASSPHRASE).
    #[arg(long, requires = "key_file")]
    passphrase_file: Option<PathBuf>,
    /// Gas limit (estimated by the node when omitted).
    #[arg(long)]
    gas: Option<u64>,
    /// Gas price in wei (the node's eth_gasPrice when omitted).
    #[arg(long)]
    gas_price: Option<u128>,
    /// Return after submission instead of waiting for the receipt.
    #[arg(long)]
    no_wait: bool,
    /// Act as this multi-signature wallet: the call (to a native module) becomes an operation
    /// of the wallet with your approval; it runs when enough owners approve it
    /// (`banyan multisig approve`).
    #[arg(long)]
    multisig: Option<Address>,
}

impl SendOpts {
    pub(crate) fn secret(&self) -> anyhow::Result<SecretKey> {
        match (&self.key, &self.key_file) {
            (Some(k), _) => Ok(SecretKey::from_hex(k.trim())?),
            (None, Some(f)) => {
                let secret = crate::account::SecretOpts {
                    passphrase_file: self.passphrase_file.clone(),
                };
                Ok(crate::account::parse_key_file_with(f, &secret.passphrase())?.1)
            }
            (None, None) => bail!("give the sender's key with --key, --key-file or BANYAN_KEY"),
        }
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
        let (to, data) = match self.multisig {
            Some(wallet) => {
                let Some(target) = to else {
                    bail!(
                        "a multi-signature wallet cannot create contracts; it calls native modules"
                    );
                };
                if !value.is_zero() {
                    bail!("a multi-signature wallet's operations carry no value");
                }
                let call = banyan_sdk::multisig::propose_call(wallet, target, data, "");
                (Some(banyan_sdk::multisig::MULTISIG_ADDRESS), call)
            }
            None => (to, data),
        };
        let client = Client::connect(&self.rpc).await?;
        let signer = Signer::for_chain(&client, self.secret()?).await?;
        let hash = signer
            .send(&client, to, value, data, self.gas, self.gas_price)
            .await?;
        let receipt = if self.no_wait {
            None
        } else {
            Some(client.wait_receipt(hash, Duration::from_secs(60)).await?)
        };
        if let (Some(wallet), Some(receipt)) = (self.multisig, &receipt)
            && let Some(id) = banyan_sdk::multisig::proposed_id(receipt)
        {
            eprintln!(
                "proposed as operation {id} of wallet {wallet}; its other owners approve it with: \
                 banyan multisig approve {id}"
            );
        }
        Ok(Sent { hash, receipt })
    }

    async fn send(&self, to: Option<Address>, value: U256, data: Bytes) -> anyhow::Result<()> {
        self.submit(to, value, data).await?.report(false)
    }
}

/// A submitted transaction and, unless `--no-wait`, its receipt.
pub(crate) struct Sent {
    pub(crate) hash: B256,
    pub(crate) receipt: Option<Receipt>,
}

impl Sent {
    /// Prints the outcome and, when the transaction succeeded, what it made (`extra`: a name and
    /// its JSON, printed with `print_extra` in text mode): one JSON object with `json`. Fails
    /// when the transaction reverted.
    pub(crate) fn report_with(
        &self,
        json: bool,
        extra: Option<(&str, serde_json::Value)>,
        print_extra: impl FnOnce(),
    ) -> anyhow::Result<()> {
        if !json {
            self.report(false)?;
            if extra.is_some() {
                println!();
                print_extra();
            }
            return Ok(());
        }
        let mut out = json!({"transaction": self.hash});
        if let Some(receipt) = &self.receipt {
            out["status"] = json!(if receipt.success() {
                "success"
            } else {
                "reverted"
            });
            out["block"] = json!(receipt.block_number);
        }
        if let Some((name, value)) = extra {
            out[name] = value;
        }
        println!("{out}");
        if self.receipt.as_ref().is_some_and(|r| !r.success()) {
            bail!("transaction {} reverted", self.hash);
        }
        Ok(())
    }

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
        let status = if r.success() { "success" } else { "reverted" };
        if json {
            let mut out = json!({
                "transaction": self.hash,
                "status": status,
                "block": r.block_number,
                "gasUsed": r.gas_used,
            });
            if let Some(c) = r.contract_address {
                out["contract"] = json!(c);
            }
            println!("{out}");
        } else {
            println!("transaction {}", self.hash);
            println!("status      {status}");
            println!("block       {}", r.block_number);
            println!("gas used    {}", r.gas_used);
            if let Some(c) = r.contract_address {
                println!("contract    {c}");
            }
        }
        if !r.success() {
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
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
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
            json,
        } => rt()?.block_on(async move { opts.submit(Some(to), value, data).await?.report(json) }),
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
            let client = Client::connect(&rpc).await?;
            let out: Bytes = match from {
                None => client.call(to, data, BlockId::Latest).await?,
                Some(from) => {
                    client
                        .request(
                            "eth_call",
                            vec![
                                json!({"to": to, "data": data, "from": from}),
                                json!("latest"),
                            ],
                        )
                        .await?
                }
            };
            println!("{out}");
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
