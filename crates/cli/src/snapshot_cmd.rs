//! `banyan snapshot export|import`: move a certified state to a new node (see
//! `banyan_node::export_snapshot` for what is checked).

use std::path::PathBuf;

use anyhow::anyhow;

/// Snapshot commands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum SnapshotCmd {
    /// Write the head block, its certificate and the whole state at it to a file. The node
    /// must be stopped (its data directory is opened here).
    Export {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
        /// Where to write the snapshot.
        #[arg(long)]
        out: PathBuf,
    },
    /// Load a snapshot into a node's fresh data directory; the file is checked against the
    /// genesis validators and the certified state root before anything is kept.
    Import {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The snapshot file.
        file: PathBuf,
    },
}

pub(crate) fn run(cmd: SnapshotCmd) -> anyhow::Result<()> {
    match cmd {
        SnapshotCmd::Export { config, out } => {
            let cfg = banyan_node::config::load_config(&config).map_err(|e| anyhow!("{e}"))?;
            let node = banyan_node::Node::open(&cfg).map_err(|e| anyhow!("{e}"))?;
            let (height, accounts) =
                banyan_node::export_snapshot(&node, &out).map_err(|e| anyhow!("{e}"))?;
            println!(
                "wrote the snapshot of block {height} ({accounts} accounts) to {}",
                out.display()
            );
        }
        SnapshotCmd::Import { config, file } => {
            let cfg = banyan_node::config::load_config(&config).map_err(|e| anyhow!("{e}"))?;
            let height = banyan_node::import_snapshot(&cfg, &file).map_err(|e| anyhow!("{e}"))?;
            println!(
                "imported the snapshot of block {height}; start the node to catch up from block {}",
                height + 1
            );
        }
    }
    Ok(())
}
