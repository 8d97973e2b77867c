//! `banyan did`, `banyan issuer`, `banyan schema`: DIDs, authority issuers and credential
//! schemas of the Identity module. See `docs/modules/identity.md` and
//! `docs/identity/did-banyan.md`.

use alloy_primitives::{Address, B256, Bytes, U256};
use anyhow::{Context, bail};
use banyan_sdk::identity::{self, IDENTITY_ADDRESS, IIdentity};
use banyan_sdk::{BlockId, Client};
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::client::{SendOpts, rt};
use crate::evidence_cmd::ReadOpts;

/// A transaction's options and the output format.
#[derive(clap::Args)]
pub(crate) struct Send {
    #[command(flatten)]
    pub(crate) opts: SendOpts,
    /// One JSON object on stdout, for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The kind of a key added to a DID.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum KeyTypeArg {
    /// The chain's suite: secp256k1 on ecdsa chains, SM2 on sm chains (64 bytes x ‖ y).
    Suite,
    /// Ed25519 (32 bytes), for Data Integrity proofs verifiers outside the chain check.
    Ed25519,
}

/// `banyan did …`
#[derive(clap::Subcommand)]
pub(crate) enum DidCmd {
    /// Creates the sender's DID, `did:banyan:<chain id>:<sender>`, with the sender's key as #key-1.
    Create {
        /// An account that may replace the controllers if their keys are lost or stolen.
        #[arg(long)]
        recovery: Option<Address>,
        #[command(flatten)]
        send: Send,
    },
    /// Resolves a DID (or an account's DID) to its DID resolution result.
    Resolve {
        /// A did:banyan DID, or an account address of this chain.
        did: String,
        /// As it stood at this block (default: the latest).
        #[arg(long)]
        block: Option<u64>,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Changes a DID, as one of its controllers: exactly one change per transaction.
    Update {
        /// The DID (or its account).
        did: String,
        #[command(flatten)]
        change: Change,
        #[command(flatten)]
        details: ChangeDetails,
        #[command(flatten)]
        send: Send,
    },
    /// Replaces a key with a new one of the same type (key rotation), as a controller.
    Rotate {
        /// The DID (or its account).
        did: String,
        /// The key's fragment (e.g. key-1).
        fragment: String,
        /// The new public key, hex.
        #[arg(long)]
        public_key: Bytes,
        #[command(flatten)]
        send: Send,
    },
    /// As the DID's recovery account: make CONTROLLER its only controller.
    Recover {
        /// The DID (or its account).
        did: String,
        /// The new controller (an account with an active DID).
        #[arg(long)]
        controller: Address,
        #[command(flatten)]
        send: Send,
    },
    /// Deactivates a DID for good, as a controller or its recovery account.
    Deactivate {
        /// The DID (or its account).
        did: String,
        #[command(flatten)]
        send: Send,
    },
}

/// One change of a DID.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct Change {
    /// Add a key under this fragment (with --key-type, --public-key, --relationships).
    #[arg(long, requires_all = ["public_key", "relationships"])]
    add_key: Option<String>,
    /// Remove the key of this fragment.
    #[arg(long)]
    remove_key: Option<String>,
    /// Add or replace the service of this fragment (with --service-type, --endpoint).
    #[arg(long, requires_all = ["service_type", "endpoint"])]
    service: Option<String>,
    /// Remove the service of this fragment.
    #[arg(long)]
    remove_service: Option<String>,
    /// Set the controllers (comma-separated accounts with active DIDs).
    #[arg(long, value_delimiter = ',')]
    controllers: Option<Vec<Address>>,
    /// Set the recovery account (0x000…0 for none).
    #[arg(long)]
    recovery: Option<Address>,
}

/// What an added key or a service is.
#[derive(clap::Args, Debug)]
pub(crate) struct ChangeDetails {
    /// The added key's type.
    #[arg(long, value_enum, default_value = "suite")]
    key_type: KeyTypeArg,
    /// The added key, hex.
    #[arg(long)]
    public_key: Option<Bytes>,
    /// The added key's relationships, comma-separated: authentication, assertionMethod,
    /// keyAgreement, capabilityInvocation, capabilityDelegation.
    #[arg(long)]
    relationships: Option<String>,
    /// The service's type (e.g. LinkedDomains).
    #[arg(long)]
    service_type: Option<String>,
    /// The service's endpoint, an absolute URI.
    #[arg(long)]
    endpoint: Option<String>,
}

/// `banyan issuer …`
#[derive(clap::Subcommand)]
pub(crate) enum IssuerCmd {
    /// Lists the authority issuers and their types.
    List {
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Shows one authority issuer.
    Show {
        /// The issuer's account.
        issuer: Address,
        #[command(flatten)]
        read: ReadOpts,
    },
}

/// `banyan schema …`
#[derive(clap::Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process from the command line"
)]
pub(crate) enum SchemaCmd {
    /// Publishes a JSON Schema as the sender (an authority issuer of the type, with a DID).
    Register {
        /// The schema's name: letters, digits, '.', '_', '-'.
        name: String,
        /// The JSON Schema file (a JSON object, at most 8192 bytes).
        #[arg(long)]
        file: PathBuf,
        /// Its version: above every version of the name the sender published.
        #[arg(long = "schema-version", default_value_t = 1)]
        schema_version: u32,
        /// The issuer type whose authority issuers issue credentials under it.
        #[arg(long)]
        issuer_type: String,
        #[command(flatten)]
        send: Send,
    },
    /// Shows a schema by id.
    Show {
        /// The schema's id.
        id: B256,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Lists the schemas an account published.
    List {
        /// The publisher.
        #[arg(long)]
        publisher: Address,
        #[command(flatten)]
        read: ReadOpts,
    },
}

/// The account of a DID given as a DID or an address, checked against the node's chain.
pub(crate) async fn account_of(client: &Client, did: &str) -> anyhow::Result<Address> {
    if did.starts_with("did:") {
        let parsed: banyan_identity::Did = did.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        let (chain_id, _) = client.chain().await?;
        if parsed.chain_id != chain_id {
            bail!(
                "{did} is a DID of chain {}; the node serves chain {chain_id}",
                parsed.chain_id
            );
        }
        Ok(parsed.account)
    } else {
        did.parse::<Address>()
            .map_err(|_| anyhow::anyhow!("{did:?} is neither a did:banyan DID nor an address"))
    }
}

pub(crate) async fn send_identity(
    send: &Send,
    data: Bytes,
    extra: Option<(&str, Value)>,
) -> anyhow::Result<()> {
    let sent = send
        .opts
        .submit(Some(IDENTITY_ADDRESS), U256::ZERO, data)
        .await?;
    let shown = extra.clone();
    sent.report_with(send.json, extra, || {
        if let Some((name, value)) = &shown {
            println!(
                "{name:<11} {}",
                value.as_str().map_or(value.to_string(), str::to_string)
            );
        }
    })
}

pub(crate) fn run_did(cmd: DidCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            DidCmd::Create { recovery, send } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let (chain_id, suite) = client.chain().await?;
                let secret = send.opts.secret()?;
                let public = suite.public_key(&secret)?;
                let account = suite.address(&public);
                let data = identity::call_data(IIdentity::createDidCall {
                    publicKey: public.to_bytes().to_vec().into(),
                    recovery: recovery.unwrap_or(Address::ZERO),
                });
                let did = banyan_identity::Did::new(chain_id, account).to_string();
                send_identity(&send, data, Some(("did", json!(did)))).await
            }
            DidCmd::Resolve { did, block, read } => {
                let client = Client::connect(&read.rpc).await?;
                let did = if did.starts_with("did:") {
                    did
                } else {
                    let account = account_of(&client, &did).await?;
                    banyan_identity::Did::new(client.chain().await?.0, account).to_string()
                };
                let options =
                    block.map_or(Value::Null, |n| json!({"blockNumber": format!("0x{n:x}")}));
                let result = identity::resolve(&client, &did, options).await?;
                if read.json {
                    println!("{result}");
                } else {
                    println!("{}", serde_json::to_string_pretty(&result)?);
                }
                if let Some(error) = result["didResolutionMetadata"].get("error") {
                    bail!(
                        "{}: {}",
                        error["title"].as_str().unwrap_or("resolution failed"),
                        error["detail"].as_str().unwrap_or_default()
                    );
                }
                Ok(())
            }
            DidCmd::Update {
                did,
                change,
                details,
                send,
            } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let did = account_of(&client, &did).await?;
                let (_, suite) = client.chain().await?;
                let data = update_call(did, suite, change, details)?;
                send_identity(&send, data, None).await
            }
            DidCmd::Rotate {
                did,
                fragment,
                public_key,
                send,
            } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let did = account_of(&client, &did).await?;
                let data = identity::call_data(IIdentity::rotateKeyCall {
                    did,
                    fragment,
                    newPublicKey: public_key,
                });
                send_identity(&send, data, None).await
            }
            DidCmd::Recover {
                did,
                controller,
                send,
            } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let did = account_of(&client, &did).await?;
                let data = identity::call_data(IIdentity::recoverCall { did, controller });
                send_identity(&send, data, None).await
            }
            DidCmd::Deactivate { did, send } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let did = account_of(&client, &did).await?;
                send_identity(
                    &send,
                    identity::call_data(IIdentity::deactivateCall { did }),
                    None,
                )
                .await
            }
        }
    })
}

fn update_call(
    did: Address,
    suite: banyan_crypto::Suite,
    c: Change,
    d: ChangeDetails,
) -> anyhow::Result<Bytes> {
    if let Some(fragment) = c.add_key {
        let key_type = match d.key_type {
            KeyTypeArg::Ed25519 => IIdentity::KeyType::Ed25519,
            KeyTypeArg::Suite => banyan_modules::identity::did::suite_key_type(suite),
        };
        let relationships = identity::relationship_bits(d.relationships.as_deref().unwrap_or(""))
            .map_err(anyhow::Error::msg)?;
        return Ok(identity::call_data(IIdentity::addVerificationMethodCall {
            did,
            fragment,
            keyType: key_type,
            publicKey: d.public_key.unwrap_or_default(),
            relationships,
        }));
    }
    if let Some(fragment) = c.remove_key {
        return Ok(identity::call_data(
            IIdentity::removeVerificationMethodCall { did, fragment },
        ));
    }
    if let Some(fragment) = c.service {
        return Ok(identity::call_data(IIdentity::setServiceCall {
            did,
            fragment,
            serviceType: d.service_type.unwrap_or_default(),
            endpoint: d.endpoint.unwrap_or_default(),
        }));
    }
    if let Some(fragment) = c.remove_service {
        return Ok(identity::call_data(IIdentity::removeServiceCall {
            did,
            fragment,
        }));
    }
    if let Some(controllers) = c.controllers {
        return Ok(identity::call_data(IIdentity::setControllersCall {
            did,
            controllers,
        }));
    }
    if let Some(recovery) = c.recovery {
        return Ok(identity::call_data(IIdentity::setRecoveryCall {
            did,
            recovery,
        }));
    }
    bail!(
        "give one change: --add-key, --remove-key, --service, --remove-service, --controllers or --recovery"
    )
}

fn issuer_json(i: &IIdentity::Issuer) -> Value {
    json!({
        "account": i.account,
        "name": i.name,
        "issuerTypes": i.issuerTypes,
        "admittedAt": i.admittedAt,
    })
}

pub(crate) fn run_issuer(cmd: IssuerCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            IssuerCmd::List { read } => {
                let client = Client::connect(&read.rpc).await?;
                let at = BlockId::Number(client.block_number().await?);
                let list = identity::issuers(&client, at).await?;
                if read.json {
                    println!("{}", Value::Array(list.iter().map(issuer_json).collect()));
                } else if list.is_empty() {
                    println!("no authority issuers (the committee admits them: banyan gov propose admit-issuer)");
                } else {
                    for i in &list {
                        println!("{}  {:<24} {}", i.account, i.issuerTypes.join(","), i.name);
                    }
                }
                Ok(())
            }
            IssuerCmd::Show { issuer, read } => {
                let client = Client::connect(&read.rpc).await?;
                let at = BlockId::Number(client.block_number().await?);
                let i = identity::issuer(&client, issuer, at).await?;
                if read.json {
                    println!("{}", issuer_json(&i));
                } else {
                    println!("issuer      {}", i.account);
                    println!("name        {}", i.name);
                    if i.issuerTypes.is_empty() {
                        println!("types       none (removed)");
                    } else {
                        println!("types       {}", i.issuerTypes.join(", "));
                    }
                    println!("admitted    {}", banyan_identity::did::timestamp(i.admittedAt));
                }
                Ok(())
            }
        }
    })
}

fn schema_json(chain_id: u64, s: &IIdentity::Schema) -> Value {
    let json_value: Value = serde_json::from_slice(&s.json).unwrap_or(Value::Null);
    json!({
        "id": s.id,
        "url": format!(
            "{}/schemas/{}/{}",
            banyan_identity::Did::new(chain_id, s.publisher),
            s.name,
            s.version
        ),
        "publisher": s.publisher,
        "name": s.name,
        "version": s.version,
        "issuerType": s.issuerType,
        "publishedAt": s.publishedAt,
        "schema": json_value,
    })
}

pub(crate) fn run_schema(cmd: SchemaCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            SchemaCmd::Register {
                name,
                file,
                schema_version: version,
                issuer_type,
                send,
            } => {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let parsed: Value = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is not JSON", file.display()))?;
                if !parsed.is_object() {
                    bail!("{} is not a JSON object (a JSON Schema)", file.display());
                }
                // Verifiers compile it for every credential: refuse one that does not compile
                // (or refers outside itself) before it is published for good.
                banyan_identity::schema::Schema::compile(&parsed)
                    .with_context(|| format!("{} is not a usable JSON Schema", file.display()))?;
                // Compact, so that the ledger stores no whitespace.
                let compact = serde_json::to_vec(&parsed)?;
                let client = Client::connect(&send.opts.rpc).await?;
                let secret = send.opts.secret()?;
                let (_, suite) = client.chain().await?;
                let publisher = suite.address(&suite.public_key(&secret)?);
                let id = identity::schema_id(publisher, &name, version);
                let data = identity::call_data(IIdentity::publishSchemaCall {
                    name,
                    version,
                    issuerType: issuer_type,
                    json: compact.into(),
                });
                send_identity(&send, data, Some(("schema", json!(id)))).await
            }
            SchemaCmd::Show { id, read } => {
                let client = Client::connect(&read.rpc).await?;
                let at = BlockId::Number(client.block_number().await?);
                let (chain_id, _) = client.chain().await?;
                let s = identity::schema(&client, id, at).await?;
                let out = schema_json(chain_id, &s);
                if read.json {
                    println!("{out}");
                } else {
                    println!("schema      {}", s.id);
                    println!("url         {}", out["url"].as_str().unwrap_or_default());
                    println!("publisher   {}", s.publisher);
                    println!("issuer type {}", s.issuerType);
                    println!(
                        "published   {}",
                        banyan_identity::did::timestamp(s.publishedAt)
                    );
                    println!("{}", serde_json::to_string_pretty(&out["schema"])?);
                }
                Ok(())
            }
            SchemaCmd::List { publisher, read } => {
                let client = Client::connect(&read.rpc).await?;
                let at = BlockId::Number(client.block_number().await?);
                let (chain_id, _) = client.chain().await?;
                let list = identity::schemas_of(&client, publisher, at).await?;
                if read.json {
                    println!(
                        "{}",
                        Value::Array(list.iter().map(|s| schema_json(chain_id, s)).collect())
                    );
                } else {
                    for s in &list {
                        println!("{}  {} v{}  ({})", s.id, s.name, s.version, s.issuerType);
                    }
                }
                Ok(())
            }
        }
    })
}
