//! `banyan`: run a node or a development chain, and talk to one from the shell.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod account;
mod audit_cmd;
mod bench;
mod client;
mod crypto_cmd;
mod did_cmd;
mod evidence_cmd;
mod gov_cmd;
mod init;
mod multisig_cmd;
mod pay_cmd;
mod run;
mod snapshot_cmd;
mod up;
mod vc_cmd;
mod verify;

use clap::{Parser, Subcommand};

/// Banyan: a permissioned blockchain for banks and the firms they serve.
#[derive(Parser)]
#[command(name = "banyan", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a single-node development chain with funded accounts (like Anvil or Hardhat).
    Dev(run::DevArgs),
    /// Run a node from a TOML configuration file.
    Node(run::NodeArgs),
    /// Create a local network in a folder: chain CA, genesis, funded accounts, one configured
    /// node per folder.
    Init(init::InitArgs),
    /// Run every node of a local network (creating one first if the folder is empty) until
    /// Ctrl-C.
    Up(up::UpArgs),
    /// Re-execute a node's chain from genesis in a fresh store and check every block.
    Replay(run::ReplayArgs),
    /// Hash, generate keys, sign, verify, encrypt and decrypt with either crypto suite.
    #[command(subcommand)]
    Crypto(crypto_cmd::CryptoCmd),
    /// Create and list local accounts (key files).
    #[command(subcommand)]
    Account(account::AccountCmd),
    /// Send transactions to a running node.
    #[command(subcommand)]
    Tx(client::TxCmd),
    /// Deploy and call contracts on a running node.
    #[command(subcommand)]
    Contract(client::ContractCmd),
    /// Load generator: send transfers or ERC-20 calls and report TPS, latency and node memory.
    Bench(bench::BenchArgs),
    /// Export a node's certified state to a file, or start a new node from one.
    #[command(subcommand)]
    Snapshot(snapshot_cmd::SnapshotCmd),
    /// Check, trusting only the genesis file, that a node's block was decided by the
    /// validators (its commit certificate and header).
    Verify(verify::VerifyArgs),
    /// Evidence (notarisation): anchor, attest, revoke, show, list and prove document hashes.
    #[command(subcommand)]
    Evidence(evidence_cmd::EvidenceCmd),
    /// DIDs (did:banyan): create, resolve, update, rotate keys, recover, deactivate.
    #[command(subcommand)]
    Did(did_cmd::DidCmd),
    /// Authority issuers the committee admitted (banyan gov propose admit-issuer).
    #[command(subcommand)]
    Issuer(did_cmd::IssuerCmd),
    /// Credential schemas: register (as an authority issuer), show, list.
    #[command(subcommand)]
    Schema(did_cmd::SchemaCmd),
    /// Verifiable credentials: issue (as an authority issuer), verify, revoke, suspend, present
    /// to a verifier, verify a presentation.
    #[command(subcommand)]
    Vc(vc_cmd::VcCmd),
    /// Governance: propose changes to the committee and roles, vote, and read proposals.
    #[command(subcommand)]
    Gov(gov_cmd::GovCmd),
    /// Roles (issuer, institution, regulator, auditor, deployer, rate-provider): grant and
    /// revoke by proposal, list the holders.
    #[command(subcommand)]
    Role(gov_cmd::RoleCmd),
    /// The audit trail of every privileged action and vote: export as CSV or JSON.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCmd),
    /// Multi-signature wallets (M of N owners): create, propose, approve, show.
    #[command(subcommand)]
    Multisig(multisig_cmd::MultisigCmd),
    /// Deposit-token currencies: register, mint, burn, list; post rates, offer liquidity.
    #[command(subcommand)]
    Currency(pay_cmd::CurrencyCmd),
    /// Payments: send, batch, fx, hold, capture, void; balances, history and statements.
    #[command(subcommand)]
    Pay(pay_cmd::PayCmd),
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    // Colours only on a terminal: log files and CI output stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}

/// Without `RUST_LOG`: our own lines at `info`; the consensus engine's per-vote chatter only at
/// `warn` (each committed block is still one `info` line of ours). `RUST_LOG=info` shows all.
const DEFAULT_LOG_FILTER: &str = "info,arc_malachitebft_core_consensus=warn,arc_malachitebft_engine=warn,arc_malachitebft_sync=warn,arc_malachitebft_wal=warn,arc_malachitebft_app_channel=warn,ractor=warn";

/// Set (to anything) by a parent that wants `banyan` to end with it: test harnesses, and
/// `banyan up` for its nodes. Without it, `banyan` runs on when its parent exits, as a daemon
/// started by a shell does.
pub(crate) const EXIT_WITH_PARENT_ENV: &str = "BANYAN_EXIT_WITH_PARENT";

/// How often the parent is looked for.
const PARENT_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// With [`EXIT_WITH_PARENT_ENV`] set, a thread that exits the process when its parent is gone
/// (the process is then re-parented, so its parent id changes). A killed test runner, or a
/// killed `banyan up`, leaves no node behind; committed data is safe, as after a SIGKILL.
fn exit_with_parent() {
    if std::env::var_os(EXIT_WITH_PARENT_ENV).is_none() {
        return;
    }
    let parent = std::os::unix::process::parent_id();
    let spawned = std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(PARENT_POLL);
                if std::os::unix::process::parent_id() != parent {
                    eprintln!("banyan: parent process {parent} is gone; exiting");
                    std::process::exit(1);
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("banyan: cannot watch the parent process: {e}");
    }
}

fn main() -> std::process::ExitCode {
    exit_with_parent();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(a) => {
            init_tracing();
            run::dev(a)
        }
        Command::Node(a) => {
            init_tracing();
            run::node(a)
        }
        Command::Init(a) => {
            init_tracing();
            init::run(a)
        }
        Command::Up(a) => {
            init_tracing();
            up::run(a)
        }
        Command::Replay(a) => {
            init_tracing();
            run::replay(a)
        }
        Command::Crypto(c) => crypto_cmd::run(c),
        Command::Account(c) => account::run(c),
        Command::Tx(c) => client::run_tx(c),
        Command::Contract(c) => client::run_contract(c),
        Command::Bench(a) => bench::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Evidence(c) => evidence_cmd::run(c),
        Command::Did(c) => did_cmd::run_did(c),
        Command::Issuer(c) => did_cmd::run_issuer(c),
        Command::Schema(c) => did_cmd::run_schema(c),
        Command::Vc(c) => vc_cmd::run(c),
        Command::Gov(c) => gov_cmd::run(c),
        Command::Role(c) => gov_cmd::run_role(c),
        Command::Audit(c) => audit_cmd::run(c),
        Command::Multisig(c) => multisig_cmd::run(c),
        Command::Currency(c) => pay_cmd::run_currency(c),
        Command::Pay(c) => pay_cmd::run_pay(c),
        Command::Snapshot(c) => snapshot_cmd::run(c),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
