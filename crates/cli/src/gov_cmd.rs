//! `banyan gov`: propose changes to the committee and its roles, vote, cancel, close, and read
//! proposals and the committee. See `docs/modules/governance.md`.

use alloy_primitives::{Address, U256};
use anyhow::bail;
use banyan_sdk::governance::{self, GOVERNANCE_ADDRESS, IGovernance, ProposalAction};
use banyan_sdk::{BlockId, Client};
use serde_json::{Value, json};

use crate::client::{SendOpts, rt};
use crate::evidence_cmd::ReadOpts;

/// Options every proposal takes.
#[derive(clap::Args)]
pub(crate) struct ProposeOpts {
    /// What the proposal is for, at most 256 bytes.
    #[arg(long, default_value = "")]
    description: String,
    /// Blocks it stays open (0: the committee's default).
    #[arg(long, default_value_t = 0)]
    voting_period: u64,
    #[command(flatten)]
    send: SendOpts,
    /// One JSON object on stdout, for scripts.
    #[arg(long)]
    json: bool,
}

/// A role, as the command line spells it.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum RoleArg {
    Issuer,
    Institution,
    Regulator,
    Auditor,
    Deployer,
    RateProvider,
}

impl From<RoleArg> for IGovernance::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Issuer => Self::Issuer,
            RoleArg::Institution => Self::Institution,
            RoleArg::Regulator => Self::Regulator,
            RoleArg::Auditor => Self::Auditor,
            RoleArg::Deployer => Self::Deployer,
            RoleArg::RateProvider => Self::RateProvider,
        }
    }
}

/// A permission check, as the command line spells it.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum PermissionArg {
    /// Only `deployer` accounts create contracts.
    Deploy,
    /// Contract admins' per-function lists are enforced.
    Method,
}

/// A chain parameter, as the command line spells it.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ParameterArg {
    /// Gas per block (1,000,000 to 1,000,000,000).
    BlockGasLimit,
    /// Milliseconds between heights on a consensus network (100 to 60,000).
    BlockIntervalMs,
    /// Transactions a node's pool holds (1,000 to 1,000,000).
    TxpoolMaxTxs,
    /// Pending transactions per sender (1 to 10,000).
    TxpoolMaxPerAccount,
    /// The fee of every payment, in basis points of its amount (1 to 1,000).
    PaymentFeeBps,
}

/// On or off.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum Switch {
    On,
    Off,
}

/// A vote, as the command line spells it.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ChoiceArg {
    Yes,
    No,
    Abstain,
}

/// `banyan gov propose <kind>`
#[derive(clap::Subcommand)]
pub(crate) enum ProposeCmd {
    /// Add a governor with a weight.
    AddGovernor {
        /// The new governor's account.
        account: Address,
        /// Its weight (1 to 1,000,000).
        #[arg(long, default_value_t = 1)]
        weight: u64,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Remove a governor.
    RemoveGovernor {
        /// The governor's account.
        account: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Change a governor's weight.
    SetWeight {
        /// The governor's account.
        account: Address,
        /// Its new weight (1 to 1,000,000).
        #[arg(long)]
        weight: u64,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Change the thresholds and the default voting period.
    SetRules {
        /// Voted weight / total weight needed, in basis points (1 to 10000).
        #[arg(long)]
        participation_bps: u16,
        /// Yes / (yes + no) needed, in basis points (1 to 10000).
        #[arg(long)]
        approval_bps: u16,
        /// Default blocks a proposal stays open.
        #[arg(long)]
        default_period: u64,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Grant a role to an account.
    GrantRole {
        /// The account.
        account: Address,
        /// The role.
        role: RoleArg,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Revoke a role from an account.
    RevokeRole {
        /// The account.
        account: Address,
        /// The role.
        role: RoleArg,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Freeze an account (it cannot send transactions) or a contract (it cannot be called).
    Freeze {
        /// The account or contract.
        account: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Lift a freeze.
    Unfreeze {
        /// The account or contract.
        account: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Switch deploy permission or method permission on or off.
    SetPermission {
        /// Which check.
        permission: PermissionArg,
        /// On or off.
        state: Switch,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Name a contract's admin (who sets its per-function access lists).
    SetContractAdmin {
        /// The contract.
        contract: Address,
        /// Its new admin.
        admin: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Add a validator by its node's public key (`banyan account show KEY_FILE` prints it).
    /// Start its node first: it follows the chain and votes from two blocks after the proposal
    /// passes.
    AddValidator {
        /// The node's 64-byte public key, in hex.
        public_key: alloy_primitives::Bytes,
        /// Its voting power (1 to 1,000,000).
        #[arg(long, default_value_t = 1)]
        power: u64,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Remove a validator; its votes stop counting two blocks after the proposal passes.
    RemoveValidator {
        /// The validator's address.
        validator: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Revoke a node certificate: every node refuses it from the next block and drops the
    /// connections that use it. Give the serial, or the certificate file (`nodeK/tls/node.crt`).
    RevokeCertificate {
        /// The certificate's serial (hex, as `openssl x509 -serial` prints it).
        #[arg(required_unless_present = "cert", conflicts_with = "cert")]
        serial: Option<banyan_network::CertSerial>,
        /// The certificate file instead of its serial.
        #[arg(long)]
        cert: Option<std::path::PathBuf>,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Set a chain parameter from the next block on (0: back to the default).
    SetParameter {
        /// Which one.
        parameter: ParameterArg,
        /// Its value, within the parameter's range, or 0.
        value: u64,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Let accounts pay gas in a currency of the Payments module at this rate (0 withdraws
    /// it): smallest units of the currency per native coin (10^18 wei) of gas fee, rounded up
    /// per transaction. E.g. 1000000 for a currency with 2 decimals makes 1,000 gas at 1 gwei
    /// cost 0.01.
    SetGasRate {
        /// The currency: code or token address.
        currency: String,
        /// Smallest units per native coin of gas fee (at most 10^30; 0 withdraws the rate).
        units_per_coin: u128,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Admit an account as an authority issuer of an issuer type in the Identity module (a
    /// ModuleCall proposal): it may then publish schemas of that type and issue credentials
    /// under them.
    AdmitIssuer {
        /// The issuer's account.
        issuer: Address,
        /// The issuer type: lower-case letters, digits and '-' (e.g. kyc, credit,
        /// business-licence).
        issuer_type: String,
        /// The issuer's name, as wallets and verifiers show it.
        name: String,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Withdraw an authority issuer's type (a ModuleCall proposal): the credentials it issued
    /// under schemas of that type stop counting.
    RemoveIssuer {
        /// The issuer's account.
        issuer: Address,
        /// The issuer type.
        issuer_type: String,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Change a validator's voting power.
    SetPower {
        /// The validator's address.
        validator: Address,
        /// Its new voting power (1 to 1,000,000).
        #[arg(long)]
        power: u64,
        #[command(flatten)]
        opts: ProposeOpts,
    },
}

impl ProposeCmd {
    fn split(self) -> anyhow::Result<(ProposalAction, ProposeOpts)> {
        Ok(match self {
            Self::AddGovernor {
                account,
                weight,
                opts,
            } => (
                ProposalAction::AddGovernor {
                    governor: account,
                    weight,
                },
                opts,
            ),
            Self::RemoveGovernor { account, opts } => {
                (ProposalAction::RemoveGovernor { governor: account }, opts)
            }
            Self::SetWeight {
                account,
                weight,
                opts,
            } => (
                ProposalAction::SetWeight {
                    governor: account,
                    weight,
                },
                opts,
            ),
            Self::SetRules {
                participation_bps,
                approval_bps,
                default_period,
                opts,
            } => (
                ProposalAction::SetRules {
                    participation_bps,
                    approval_bps,
                    voting_period: default_period,
                },
                opts,
            ),
            Self::GrantRole {
                account,
                role,
                opts,
            } => (
                ProposalAction::GrantRole {
                    account,
                    role: role.into(),
                },
                opts,
            ),
            Self::RevokeRole {
                account,
                role,
                opts,
            } => (
                ProposalAction::RevokeRole {
                    account,
                    role: role.into(),
                },
                opts,
            ),
            Self::Freeze { account, opts } => (ProposalAction::Freeze { account }, opts),
            Self::Unfreeze { account, opts } => (ProposalAction::Unfreeze { account }, opts),
            Self::SetPermission {
                permission,
                state,
                opts,
            } => (
                ProposalAction::SetPermission {
                    permission: match permission {
                        PermissionArg::Deploy => IGovernance::Permission::Deploy,
                        PermissionArg::Method => IGovernance::Permission::Method,
                    },
                    enabled: matches!(state, Switch::On),
                },
                opts,
            ),
            Self::SetContractAdmin {
                contract,
                admin,
                opts,
            } => (
                ProposalAction::SetContractAdmin {
                    target: contract,
                    admin,
                },
                opts,
            ),
            Self::AddValidator {
                public_key,
                power,
                opts,
            } => (ProposalAction::AddValidator { public_key, power }, opts),
            Self::RemoveValidator { validator, opts } => {
                (ProposalAction::RemoveValidator { validator }, opts)
            }
            Self::SetPower {
                validator,
                power,
                opts,
            } => (ProposalAction::SetValidatorPower { validator, power }, opts),
            Self::AdmitIssuer {
                issuer,
                issuer_type,
                name,
                opts,
            } => (
                banyan_sdk::identity::admit_issuer_action(issuer, &issuer_type, &name),
                opts,
            ),
            Self::RemoveIssuer {
                issuer,
                issuer_type,
                opts,
            } => (
                banyan_sdk::identity::remove_issuer_action(issuer, &issuer_type),
                opts,
            ),
            // Its currency is resolved on the chain first (see `run`).
            Self::SetGasRate { .. } => bail!("set-gas-rate needs its currency resolved first"),
            Self::RevokeCertificate { serial, cert, opts } => {
                let serial = match (serial, cert) {
                    (Some(serial), _) => serial,
                    (None, Some(path)) => {
                        let pem = std::fs::read_to_string(&path)
                            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                        banyan_network::cert_serial_from_pem(&pem)
                            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                    }
                    (None, None) => bail!("give the certificate's serial or --cert FILE"),
                };
                (
                    ProposalAction::RevokeCertificate {
                        serial: serial.as_bytes().to_vec().into(),
                    },
                    opts,
                )
            }
            Self::SetParameter {
                parameter,
                value,
                opts,
            } => (
                ProposalAction::SetChainParameter {
                    parameter: match parameter {
                        ParameterArg::BlockGasLimit => IGovernance::Parameter::BlockGasLimit,
                        ParameterArg::BlockIntervalMs => IGovernance::Parameter::BlockIntervalMs,
                        ParameterArg::TxpoolMaxTxs => IGovernance::Parameter::TxpoolMaxTxs,
                        ParameterArg::TxpoolMaxPerAccount => {
                            IGovernance::Parameter::TxpoolMaxPerAccount
                        }
                        ParameterArg::PaymentFeeBps => IGovernance::Parameter::PaymentFeeBps,
                    },
                    value,
                },
                opts,
            ),
        })
    }
}

/// `banyan gov …`
#[derive(clap::Subcommand)]
pub(crate) enum GovCmd {
    /// Open a proposal as a governor (your own vote counts as yes at once).
    #[command(subcommand)]
    Propose(ProposeCmd),
    /// Vote on an open proposal, or change your vote.
    Vote {
        /// The proposal id.
        id: u64,
        /// Your choice.
        choice: ChoiceArg,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a proposal you made, while it is open.
    Cancel {
        /// The proposal id.
        id: u64,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Record the end of a proposal past its expiry.
    Close {
        /// The proposal id.
        id: u64,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show one proposal.
    Show {
        /// The proposal id.
        id: u64,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// List proposals, newest first.
    List {
        /// Most proposals to list.
        #[arg(long, default_value_t = 20)]
        limit: u64,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Show the committee, its rules and the role holders.
    Committee {
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Show the validator set and the height from which it decides blocks.
    Validators {
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Show the chain parameters the committee set (0: the default).
    Parameters {
        #[command(flatten)]
        read: ReadOpts,
    },
}

/// `banyan role …`: role changes go through proposals.
#[derive(clap::Subcommand)]
pub(crate) enum RoleCmd {
    /// Propose granting a role (as a governor; your vote counts as yes at once).
    Grant {
        /// The role.
        role: RoleArg,
        /// The account.
        account: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// Propose revoking a role.
    Revoke {
        /// The role.
        role: RoleArg,
        /// The account.
        account: Address,
        #[command(flatten)]
        opts: ProposeOpts,
    },
    /// List the holders of one role, or of every role.
    List {
        /// Only this role.
        role: Option<RoleArg>,
        #[command(flatten)]
        read: ReadOpts,
    },
}

/// Sends a proposal of `action`.
pub(crate) fn propose(action: ProposalAction, opts: ProposeOpts) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        let data = governance::propose_call(&action, &opts.description, opts.voting_period);
        send_call(&opts.send, data, None, opts.json).await
    })
}

pub(crate) fn run_role(cmd: RoleCmd) -> anyhow::Result<()> {
    match cmd {
        RoleCmd::Grant {
            role,
            account,
            opts,
        } => propose(
            ProposalAction::GrantRole {
                account,
                role: role.into(),
            },
            opts,
        ),
        RoleCmd::Revoke {
            role,
            account,
            opts,
        } => propose(
            ProposalAction::RevokeRole {
                account,
                role: role.into(),
            },
            opts,
        ),
        RoleCmd::List { role, read } => rt()?.block_on(async move {
            let client = Client::connect(&read.rpc).await?;
            let at = BlockId::Number(client.block_number().await?);
            let roles = role.map_or_else(|| ALL_ROLES.to_vec(), |r| vec![r]);
            let mut out = serde_json::Map::new();
            for role in roles {
                let accounts = governance::role_members(&client, role.into(), at).await?;
                if read.json {
                    out.insert(role_name(role), json!(accounts));
                } else {
                    println!("{:<13} {}", role_name(role), accounts.len());
                    for account in accounts {
                        println!("  {account}");
                    }
                }
            }
            if read.json {
                println!("{}", Value::Object(out));
            }
            Ok(())
        }),
    }
}

const ALL_ROLES: [RoleArg; 6] = [
    RoleArg::Issuer,
    RoleArg::Institution,
    RoleArg::Regulator,
    RoleArg::Auditor,
    RoleArg::Deployer,
    RoleArg::RateProvider,
];

fn role_name(role: RoleArg) -> String {
    clap::ValueEnum::to_possible_value(&role)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

pub(crate) fn run(cmd: GovCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            GovCmd::Propose(ProposeCmd::SetGasRate {
                currency,
                units_per_coin,
                opts,
            }) => {
                let client = Client::connect(&opts.send.rpc).await?;
                let at = BlockId::Number(client.block_number().await?);
                let token = banyan_sdk::payments::resolve(&client, &currency, at).await?;
                let action = ProposalAction::SetGasRate {
                    token,
                    units_per_coin,
                };
                let data = governance::propose_call(&action, &opts.description, opts.voting_period);
                send_call(&opts.send, data, None, opts.json).await
            }
            GovCmd::Propose(cmd) => {
                let (action, opts) = cmd.split()?;
                let data = governance::propose_call(&action, &opts.description, opts.voting_period);
                send_call(&opts.send, data, None, opts.json).await
            }
            GovCmd::Validators { read } => validators(&read).await,
            GovCmd::Parameters { read } => {
                let client = Client::connect(&read.rpc).await?;
                let at = BlockId::Number(client.block_number().await?);
                let p = governance::chain_parameters(&client, at).await?;
                let rows = [
                    ("block-gas-limit", p.blockGasLimit),
                    ("block-interval-ms", p.blockIntervalMs),
                    ("txpool-max-txs", p.txpoolMaxTxs),
                    ("txpool-max-per-account", p.txpoolMaxPerAccount),
                    ("payment-fee-bps", p.paymentFeeBps),
                ];
                if read.json {
                    let map: serde_json::Map<String, Value> = rows
                        .iter()
                        .map(|(k, v)| ((*k).to_string(), json!(v)))
                        .collect();
                    println!("{}", Value::Object(map));
                } else {
                    for (name, value) in rows {
                        if value == 0 {
                            println!("{name:<23} default");
                        } else {
                            println!("{name:<23} {value}");
                        }
                    }
                }
                Ok(())
            }
            GovCmd::Vote {
                id,
                choice,
                send,
                json,
            } => {
                let choice = match choice {
                    ChoiceArg::Yes => IGovernance::Choice::Yes,
                    ChoiceArg::No => IGovernance::Choice::No,
                    ChoiceArg::Abstain => IGovernance::Choice::Abstain,
                };
                send_call(&send, governance::vote_call(id, choice), Some(id), json).await
            }
            GovCmd::Cancel { id, send, json } => {
                send_call(&send, governance::cancel_call(id), Some(id), json).await
            }
            GovCmd::Close { id, send, json } => {
                send_call(&send, governance::close_call(id), Some(id), json).await
            }
            GovCmd::Show { id, read } => {
                let client = Client::connect(&read.rpc).await?;
                let p = governance::proposal(&client, id, BlockId::Latest).await?;
                if read.json {
                    println!("{}", proposal_json(&p));
                } else {
                    print_proposal(&p);
                }
                Ok(())
            }
            GovCmd::List { limit, read } => list(limit, &read).await,
            GovCmd::Committee { read } => committee(&read).await,
        }
    })
}

/// Sends a governance call and reports it with where proposal `id` (for `propose`, the one it
/// made) stands at the transaction's block.
async fn send_call(
    send: &SendOpts,
    data: alloy_primitives::Bytes,
    id: Option<u64>,
    json: bool,
) -> anyhow::Result<()> {
    let sent = send
        .submit(Some(GOVERNANCE_ADDRESS), U256::ZERO, data)
        .await?;
    let id = id.or_else(|| sent.receipt.as_ref().and_then(governance::created_id));
    let standing = match (&sent.receipt, id) {
        (Some(receipt), Some(id)) if receipt.success() => {
            let client = Client::connect(&send.rpc).await?;
            Some(governance::proposal(&client, id, BlockId::Number(receipt.block_number)).await?)
        }
        _ => None,
    };
    sent.report_with(
        json,
        standing.as_ref().map(|p| ("proposal", proposal_json(p))),
        || {
            if let Some(p) = &standing {
                print_proposal(p);
            }
        },
    )
}

fn proposal_json(p: &IGovernance::Proposal) -> Value {
    json!({
        "id": p.id,
        "kind": governance::kind_name(p.kind),
        "payload": p.payload,
        "call": module_call(p),
        "creator": p.creator,
        "description": p.description,
        "status": governance::status_name(p.status),
        "createdAt": p.createdAt,
        "expiresAt": p.expiresAt,
        "closedAt": (p.closedAt != 0).then_some(p.closedAt),
        "reason": (!p.reason.is_empty()).then_some(&p.reason),
        "epoch": p.epoch,
        "yes": p.yes,
        "no": p.no,
        "abstain": p.abstain,
        "totalWeight": p.totalWeight,
        "participationBps": p.participationBps,
        "approvalBps": p.approvalBps,
    })
}

/// What a ModuleCall proposal calls, in words, when the SDK knows the module's function.
fn module_call(p: &IGovernance::Proposal) -> Option<String> {
    if p.kind != IGovernance::Kind::ModuleCall {
        return None;
    }
    let (module, data) = governance::module_call_of(&p.payload)?;
    banyan_sdk::identity::describe_call(module, &data)
        .or_else(|| Some(format!("call of module {module}")))
}

fn print_proposal(p: &IGovernance::Proposal) {
    println!("proposal    {}", p.id);
    println!("kind        {}", governance::kind_name(p.kind));
    if let Some(call) = module_call(p) {
        println!("call        {call}");
    }
    println!("status      {}", governance::status_name(p.status));
    if !p.reason.is_empty() {
        println!("reason      {}", p.reason);
    }
    println!("creator     {}", p.creator);
    if !p.description.is_empty() {
        println!("description {}", p.description);
    }
    println!(
        "open        blocks {} to {}{}",
        p.createdAt,
        p.expiresAt,
        if p.closedAt != 0 {
            format!(", closed at {}", p.closedAt)
        } else {
            String::new()
        }
    );
    println!(
        "tally       yes {}  no {}  abstain {}  of {} (needs participation {} bps, approval {} bps)",
        p.yes, p.no, p.abstain, p.totalWeight, p.participationBps, p.approvalBps
    );
}

async fn list(limit: u64, read: &ReadOpts) -> anyhow::Result<()> {
    let client = Client::connect(&read.rpc).await?;
    // Every read at one block, so that a block committed in between cannot mix two states.
    let at = BlockId::Number(client.block_number().await?);
    let count = governance::proposal_count(&client, at).await?;
    let mut proposals = Vec::new();
    for id in (1..=count)
        .rev()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
    {
        proposals.push(governance::proposal(&client, id, at).await?);
    }
    if read.json {
        let list: Vec<Value> = proposals.iter().map(proposal_json).collect();
        println!("{}", json!({"total": count, "proposals": list}));
        return Ok(());
    }
    if proposals.is_empty() {
        println!("no proposals yet");
    }
    for p in &proposals {
        println!(
            "{:>5}  {:<11} {:<16} yes {} no {} abstain {} of {}  {}",
            p.id,
            governance::status_name(p.status),
            governance::kind_name(p.kind),
            p.yes,
            p.no,
            p.abstain,
            p.totalWeight,
            p.description
        );
    }
    Ok(())
}

async fn committee(read: &ReadOpts) -> anyhow::Result<()> {
    let client = Client::connect(&read.rpc).await?;
    let at = BlockId::Number(client.block_number().await?);
    let (members, rules) = governance::committee(&client, at).await?;
    let mut holders = Vec::new();
    for role in ALL_ROLES {
        let accounts = governance::role_members(&client, role.into(), at).await?;
        holders.push((role, accounts));
    }
    if read.json {
        let governors: Vec<Value> = members
            .iter()
            .map(|(account, weight)| json!({"account": account, "weight": weight}))
            .collect();
        let roles: serde_json::Map<String, Value> = holders
            .iter()
            .map(|(role, accounts)| (role_name(*role), json!(accounts)))
            .collect();
        println!(
            "{}",
            json!({
                "governors": governors,
                "totalWeight": rules.totalWeight,
                "epoch": rules.epoch,
                "participationBps": rules.current.participationBps,
                "approvalBps": rules.current.approvalBps,
                "votingPeriod": rules.current.votingPeriod,
                "roles": roles,
            })
        );
        return Ok(());
    }
    println!(
        "rules       participation {} bps, approval {} bps, voting period {} blocks (epoch {})",
        rules.current.participationBps,
        rules.current.approvalBps,
        rules.current.votingPeriod,
        rules.epoch
    );
    println!(
        "governors   {} (total weight {})",
        members.len(),
        rules.totalWeight
    );
    for (account, weight) in &members {
        println!("  {account}  weight {weight}");
    }
    for (role, accounts) in &holders {
        if !accounts.is_empty() {
            println!("{:<11} {}", role_name(*role), accounts.len());
            for account in accounts {
                println!("  {account}");
            }
        }
    }
    Ok(())
}

async fn validators(read: &ReadOpts) -> anyhow::Result<()> {
    let client = Client::connect(&read.rpc).await?;
    let head = client.block_number().await?;
    let (set, from) = governance::validators(&client, BlockId::Number(head)).await?;
    let total: u64 = set.iter().map(|(_, p)| p).sum();
    if read.json {
        let list: Vec<Value> = set
            .iter()
            .map(|(account, power)| json!({"address": account, "power": power}))
            .collect();
        println!(
            "{}",
            json!({"validators": list, "totalPower": total, "effectiveFrom": from, "head": head})
        );
        return Ok(());
    }
    let when = if from > head {
        format!("decides blocks from {from} on (the head is {head})")
    } else {
        format!("in force since block {}", from.max(1))
    };
    println!("validators  {} (total power {total}), {when}", set.len());
    for (account, power) in &set {
        println!("  {account}  power {power}");
    }
    Ok(())
}
