//! `banyan multisig`: wallets controlled by M of N owners. Create one, propose an operation (or
//! pass `--multisig WALLET` to any `banyan gov` or `banyan evidence` command), approve it, show
//! it. See `docs/modules/multisig.md`.

use alloy_primitives::{Address, Bytes, U256};
use anyhow::bail;
use banyan_sdk::multisig::{self, IMultisig, MULTISIG_ADDRESS};
use banyan_sdk::{BlockId, Client};
use serde_json::{Value, json};

use crate::client::{SendOpts, rt};
use crate::evidence_cmd::ReadOpts;

/// `banyan multisig …`
#[derive(clap::Subcommand)]
pub(crate) enum MultisigCmd {
    /// Create a wallet controlled by --threshold of the --owner accounts.
    Create {
        /// An owner (repeat: 1 to 16 owners).
        #[arg(long = "owner", required = true)]
        owners: Vec<Address>,
        /// Approvals an operation needs (1 to the number of owners).
        #[arg(long)]
        threshold: u16,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Propose, as an owner, that the wallet call a native module (your approval counts).
    Propose {
        /// The wallet.
        wallet: Address,
        /// The native module to call (e.g. Governance, 0x…1002).
        #[arg(long)]
        to: Address,
        /// The call data (hex), e.g. from `cast calldata`.
        #[arg(long)]
        data: Bytes,
        /// What it is for, at most 256 bytes.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Approve an operation as an owner; the approval that reaches the threshold executes it.
    Approve {
        /// The operation id.
        id: u64,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show an operation (by id) or a wallet (by address).
    Show {
        /// An operation id or a wallet address.
        what: String,
        #[command(flatten)]
        read: ReadOpts,
    },
}

pub(crate) fn run(cmd: MultisigCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            MultisigCmd::Create {
                owners,
                threshold,
                send,
                json,
            } => {
                let sent = send
                    .submit(
                        Some(MULTISIG_ADDRESS),
                        U256::ZERO,
                        multisig::create_call(&owners, threshold),
                    )
                    .await?;
                let wallet = sent.receipt.as_ref().and_then(multisig::created_wallet);
                if json {
                    println!("{}", json!({"transaction": sent.hash, "wallet": wallet}));
                    return Ok(());
                }
                sent.report(false)?;
                if let Some(wallet) = wallet {
                    println!(
                        "wallet      {wallet} ({threshold} of {} owners)",
                        owners.len()
                    );
                }
                Ok(())
            }
            MultisigCmd::Propose {
                wallet,
                to,
                data,
                description,
                send,
                json,
            } => {
                let call = multisig::propose_call(wallet, to, data, &description);
                let sent = send
                    .submit(Some(MULTISIG_ADDRESS), U256::ZERO, call)
                    .await?;
                let id = sent.receipt.as_ref().and_then(multisig::proposed_id);
                report(&send, &sent, id, json).await
            }
            MultisigCmd::Approve { id, send, json } => {
                let sent = send
                    .submit(
                        Some(MULTISIG_ADDRESS),
                        U256::ZERO,
                        multisig::approve_call(id),
                    )
                    .await?;
                report(&send, &sent, Some(id), json).await
            }
            MultisigCmd::Show { what, read } => {
                let client = Client::connect(&read.rpc).await?;
                let at = BlockId::Number(client.block_number().await?);
                if let Ok(id) = what.parse::<u64>() {
                    let op = multisig::operation(&client, id, at).await?;
                    if read.json {
                        println!("{}", operation_json(&op));
                    } else {
                        print_operation(&op);
                    }
                } else if let Ok(wallet) = what.parse::<Address>() {
                    let info = multisig::wallet(&client, wallet, at).await?;
                    if read.json {
                        println!(
                            "{}",
                            json!({"wallet": wallet, "owners": info.owners,
                                   "threshold": info.threshold, "version": info.version})
                        );
                    } else {
                        println!(
                            "wallet      {wallet}: {} of {} owners (version {})",
                            info.threshold,
                            info.owners.len(),
                            info.version
                        );
                        for owner in &info.owners {
                            println!("  {owner}");
                        }
                    }
                } else {
                    bail!("`{what}` is neither an operation id nor a wallet address");
                }
                Ok(())
            }
        }
    })
}

/// Prints the transaction and the operation as it stands in that transaction's block.
async fn report(
    send: &SendOpts,
    sent: &crate::client::Sent,
    id: Option<u64>,
    json: bool,
) -> anyhow::Result<()> {
    let op = match (&sent.receipt, id) {
        (Some(receipt), Some(id)) if receipt.success() => {
            let client = Client::connect(&send.rpc).await?;
            Some(multisig::operation(&client, id, BlockId::Number(receipt.block_number)).await?)
        }
        _ => None,
    };
    sent.report_with(
        json,
        op.as_ref().map(|op| ("operation", operation_json(op))),
        || {
            if let Some(op) = &op {
                print_operation(op);
            }
        },
    )
}

fn operation_json(op: &IMultisig::Operation) -> Value {
    json!({
        "id": op.id,
        "wallet": op.wallet,
        "target": op.target,
        "data": op.data,
        "description": op.description,
        "proposer": op.proposer,
        "status": multisig::status_name(op.status),
        "approvals": op.approvals,
        "threshold": op.threshold,
        "version": op.version,
        "createdAt": op.createdAt,
        "closedAt": (op.closedAt != 0).then_some(op.closedAt),
        "reason": (!op.reason.is_empty()).then_some(&op.reason),
    })
}

fn print_operation(op: &IMultisig::Operation) {
    println!("operation   {}", op.id);
    println!("wallet      {}", op.wallet);
    println!("status      {}", multisig::status_name(op.status));
    if !op.reason.is_empty() {
        println!("reason      {}", op.reason);
    }
    println!("approvals   {} of {}", op.approvals, op.threshold);
    println!("call        {} data {}", op.target, op.data);
    if !op.description.is_empty() {
        println!("description {}", op.description);
    }
}
