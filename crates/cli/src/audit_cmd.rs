//! `banyan audit export`: the audit trail (`banyan_auditTrail`) as CSV or JSON.

use alloy_primitives::Address;
use anyhow::Context;
use banyan_sdk::Client;
use banyan_sdk::audit::{self, AuditEntry};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

use crate::client::rt;

/// An export format.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum Format {
    /// One header line, then one row per entry (RFC 4180).
    Csv,
    /// One JSON array of entries.
    Json,
}

/// `banyan audit …`
#[derive(clap::Subcommand)]
pub(crate) enum AuditCmd {
    /// Export every privileged action and vote (oldest first), optionally filtered.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// First block (default: genesis).
        #[arg(long)]
        from_block: Option<u64>,
        /// Last block (default: the head).
        #[arg(long)]
        to_block: Option<u64>,
        /// Only entries at or after this Unix time (seconds).
        #[arg(long)]
        from_time: Option<u64>,
        /// Only entries at or before this Unix time (seconds).
        #[arg(long)]
        to_time: Option<u64>,
        /// Only entries where this account acted or was acted on.
        #[arg(long)]
        account: Option<Address>,
        /// Only this event (e.g. vote, proposal-created, frozen, validator-set-changed).
        #[arg(long)]
        event: Option<String>,
        /// Write here instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Node JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8545", env = "BANYAN_RPC")]
        rpc: String,
    },
}

pub(crate) fn run(cmd: AuditCmd) -> anyhow::Result<()> {
    let AuditCmd::Export {
        format,
        from_block,
        to_block,
        from_time,
        to_time,
        account,
        event,
        out,
        rpc,
    } = cmd;
    if let Some(e) = &event
        && !audit::EVENTS.contains(&e.as_str())
    {
        anyhow::bail!(
            "unknown event `{e}`; events are {}",
            audit::EVENTS.join(", ")
        );
    }
    rt()?.block_on(async move {
        let client = Client::connect(&rpc).await?;
        // Pinned to the head now, so that the export is one consistent range.
        let to = match to_block {
            Some(b) => b,
            None => client.block_number().await?,
        };
        let mut filter = json!({
            "fromBlock": format!("{:#x}", from_block.unwrap_or(0)),
            "toBlock": format!("{to:#x}"),
            "limit": 1000,
        });
        for (name, value) in [
            ("fromTime", from_time.map(|t| json!(t))),
            ("toTime", to_time.map(|t| json!(t))),
            ("account", account.map(|a| json!(a))),
            ("event", event.map(|e| json!(e))),
        ] {
            if let Some(value) = value {
                filter[name] = value;
            }
        }
        let mut entries: Vec<AuditEntry> = Vec::new();
        loop {
            let page: Value = client
                .request("banyan_auditTrail", vec![filter.clone()])
                .await
                .context("banyan_auditTrail")?;
            let batch: Vec<AuditEntry> = serde_json::from_value(page["entries"].clone())
                .context("decoding banyan_auditTrail's entries")?;
            entries.extend(batch);
            if page["next"].is_null() {
                break;
            }
            filter["after"] = page["next"].clone();
            if entries.len() >= 5_000 {
                eprintln!("read {} entries…", entries.len());
            }
        }
        let text = match format {
            Format::Json => serde_json::to_string_pretty(&entries)? + "\n",
            Format::Csv => {
                let mut text = String::from(audit::CSV_HEADER);
                text.push('\n');
                for e in &entries {
                    text.push_str(&audit::to_csv_row(e));
                    text.push('\n');
                }
                text
            }
        };
        match out {
            Some(path) => {
                std::fs::write(&path, &text)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {} entries to {}", entries.len(), path.display());
            }
            None => std::io::stdout().write_all(text.as_bytes())?,
        }
        Ok(())
    })
}
