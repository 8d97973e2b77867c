//! `banyan evidence`: anchor a document's hash, attest or revoke an anchor, look anchors up, and
//! prove one to a client that trusts only the genesis file. See `docs/modules/evidence.md`.

use alloy_primitives::{Address, B256, Bytes, U256};
use anyhow::{Context, bail};
use banyan_crypto::Suite;
use banyan_modules::evidence::MAX_PAGE;
use banyan_sdk::evidence::{self, EVIDENCE_ADDRESS};
use banyan_sdk::{BlockId, Client};
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::client::{SendOpts, rt};
use crate::verify::{CertifiedBlock, certified_block, load_genesis};

/// The document an evidence command is about: a file (hashed here with the chain's suite) or
/// its hash.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct Document {
    /// The document; its hash is computed with the chain's suite (Keccak-256 or SM3). Only the
    /// hash leaves this machine.
    #[arg(long)]
    file: Option<PathBuf>,
    /// The document's 32-byte hash, if already computed.
    #[arg(long)]
    hash: Option<B256>,
}

impl Document {
    /// The document given as a file or as its hash.
    pub(crate) fn new(file: Option<PathBuf>, hash: Option<B256>) -> Self {
        Self { file, hash }
    }

    pub(crate) fn hash(&self, suite: Suite) -> anyhow::Result<B256> {
        match (&self.hash, &self.file) {
            (Some(hash), _) => Ok(*hash),
            (None, Some(path)) => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                Ok(suite.hash(&bytes))
            }
            (None, None) => bail!("give the document with --file FILE or --hash HASH"),
        }
    }
}

/// Read-only options: the node and the output format.
#[derive(clap::Args, Debug)]
pub(crate) struct ReadOpts {
    /// Node JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8545", env = "BANYAN_RPC")]
    pub(crate) rpc: String,
    /// One JSON object on stdout, for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `banyan evidence …`
#[derive(clap::Subcommand)]
pub(crate) enum EvidenceCmd {
    /// Anchors a document's hash as the sender.
    Anchor {
        #[command(flatten)]
        document: Document,
        /// Document type, 1 to 32 printable ASCII characters (e.g. "invoice", "contract").
        #[arg(long)]
        kind: String,
        /// Optional reference id, at most 64 bytes (e.g. an invoice number).
        #[arg(long, default_value = "")]
        reference: String,
        /// Optional metadata, at most 1024 bytes, as text. Never personal data.
        #[arg(long, default_value = "")]
        metadata: String,
        #[command(flatten)]
        opts: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Counter-signs an anchor made by another account.
    Attest {
        #[command(flatten)]
        document: Document,
        #[command(flatten)]
        opts: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Revokes an anchor the sender made.
    Revoke {
        #[command(flatten)]
        document: Document,
        /// Why, 1 to 256 bytes.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        opts: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Shows an anchor and its attestations, as the node reports them.
    Show {
        #[command(flatten)]
        document: Document,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Lists the hashes an account anchored, oldest first.
    List {
        /// The anchoring account.
        #[arg(long)]
        anchorer: Address,
        /// Position of the first hash.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Most hashes to list (at most 100).
        #[arg(long, default_value_t = MAX_PAGE)]
        limit: u64,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Proves an anchor as a client that trusts only the genesis file: the block's certificate
    /// against the genesis validators, then the anchor's storage against the block's state root.
    Verify {
        #[command(flatten)]
        document: Document,
        /// The chain's genesis file: the only thing trusted.
        #[arg(long)]
        genesis: PathBuf,
        /// Prove at this block (default: the latest).
        #[arg(long)]
        block: Option<u64>,
        #[command(flatten)]
        read: ReadOpts,
    },
}

pub(crate) fn run(cmd: EvidenceCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            EvidenceCmd::Anchor {
                document,
                kind,
                reference,
                metadata,
                opts,
                json,
            } => {
                let hash = document.hash(suite_of(&opts.rpc).await?)?;
                let data = evidence::anchor_call(hash, &kind, &reference, metadata.as_bytes());
                send(&opts, hash, data, json).await
            }
            EvidenceCmd::Attest {
                document,
                opts,
                json,
            } => {
                let hash = document.hash(suite_of(&opts.rpc).await?)?;
                send(&opts, hash, evidence::attest_call(hash), json).await
            }
            EvidenceCmd::Revoke {
                document,
                reason,
                opts,
                json,
            } => {
                let hash = document.hash(suite_of(&opts.rpc).await?)?;
                send(&opts, hash, evidence::revoke_call(hash, &reason), json).await
            }
            EvidenceCmd::Show { document, read } => show(&document, &read).await,
            EvidenceCmd::List {
                anchorer,
                offset,
                limit,
                read,
            } => list(anchorer, offset, limit, &read).await,
            EvidenceCmd::Verify {
                document,
                genesis,
                block,
                read,
            } => verify(&document, &genesis, block, &read).await,
        }
    })
}

async fn suite_of(url: &str) -> anyhow::Result<Suite> {
    Ok(Client::connect(url).await?.chain().await?.1)
}

async fn send(opts: &SendOpts, hash: B256, data: Bytes, json: bool) -> anyhow::Result<()> {
    let sent = opts
        .submit(Some(EVIDENCE_ADDRESS), U256::ZERO, data)
        .await?;
    if !json {
        println!("document    {hash}");
    }
    sent.report(json)
}

async fn show(document: &Document, read: &ReadOpts) -> anyhow::Result<()> {
    let rpc = Client::connect(&read.rpc).await?;
    let hash = document.hash(rpc.chain().await?.1)?;
    // Every read at one block, so a block committed in between cannot mix two states.
    let at = BlockId::Number(rpc.block_number().await?);
    let Some((anchor, attestations)) = evidence::anchor(&rpc, hash, at).await? else {
        bail!("document {hash} is not anchored on this chain");
    };
    if read.json {
        let list: Vec<Value> = attestations
            .iter()
            .map(|a| json!({"attester": a.attester, "block": a.blockNumber}))
            .collect();
        println!(
            "{}",
            json!({
                "hash": hash,
                "anchorer": anchor.anchorer,
                "block": anchor.blockNumber,
                "timestamp": anchor.timestamp,
                "kind": anchor.kind,
                "reference": anchor.referenceId,
                "metadata": Bytes::from(anchor.metadata.to_vec()),
                "revoked": anchor.revoked,
                "revokedAtBlock": anchor.revoked.then_some(anchor.revokedAtBlock),
                "revocationReason": anchor.revoked.then_some(&anchor.revocationReason),
                "attestations": list,
            })
        );
        return Ok(());
    }
    println!("document    {hash}");
    println!("anchorer    {}", anchor.anchorer);
    println!(
        "block       {} (time {})",
        anchor.blockNumber, anchor.timestamp
    );
    println!("kind        {}", anchor.kind);
    if !anchor.referenceId.is_empty() {
        println!("reference   {}", anchor.referenceId);
    }
    if !anchor.metadata.is_empty() {
        // Text as it is; anything else (binary, control characters) as hex.
        match std::str::from_utf8(&anchor.metadata) {
            Ok(text) if !text.chars().any(char::is_control) => println!("metadata    {text}"),
            _ => println!("metadata    {}", Bytes::from(anchor.metadata.to_vec())),
        }
    }
    if anchor.revoked {
        println!(
            "revoked     at block {}: {}",
            anchor.revokedAtBlock, anchor.revocationReason
        );
    } else {
        println!("revoked     no");
    }
    println!("attested by {} account(s)", attestations.len());
    for a in &attestations {
        println!("  {} at block {}", a.attester, a.blockNumber);
    }
    Ok(())
}

async fn list(anchorer: Address, offset: u64, limit: u64, read: &ReadOpts) -> anyhow::Result<()> {
    let rpc = Client::connect(&read.rpc).await?;
    let (hashes, total) = evidence::anchors_of(&rpc, anchorer, offset, limit).await?;
    if read.json {
        println!(
            "{}",
            json!({"anchorer": anchorer, "offset": offset, "total": total, "hashes": hashes})
        );
    } else {
        println!(
            "{anchorer} anchored {total} document(s); showing {} from position {offset}",
            hashes.len()
        );
        for hash in &hashes {
            println!("  {hash}");
        }
    }
    Ok(())
}

async fn verify(
    document: &Document,
    genesis_path: &std::path::Path,
    block: Option<u64>,
    read: &ReadOpts,
) -> anyhow::Result<()> {
    let genesis = load_genesis(genesis_path)?;
    let hash = document.hash(genesis.suite)?;
    let rpc = Client::connect(&read.rpc).await?;
    let certified = certified_block(&rpc, &genesis, block).await?;
    prove_and_report(&rpc, &genesis, &certified, hash, read.json).await
}

/// Proves the anchor of `hash` against `certified` (already proven against `genesis`) and
/// prints the answer (one JSON object with `json`); fails when it is proven absent.
pub(crate) async fn prove_and_report(
    rpc: &Client,
    genesis: &banyan_primitives::Genesis,
    certified: &CertifiedBlock,
    hash: B256,
    json: bool,
) -> anyhow::Result<()> {
    if !genesis.modules.contains_key("evidence") {
        bail!(
            "this genesis does not enable the evidence module: nothing can be anchored on its chain"
        );
    }
    let (number, block_hash) = (certified.header.number, certified.hash);
    let proven = evidence::prove_anchor(
        rpc,
        genesis.suite,
        number,
        certified.header.state_root,
        hash,
    )
    .await?;
    let Some(fields) = proven else {
        // Proven absent: the answer is printed, and the exit status says "not anchored" to
        // scripts either way.
        if json {
            println!(
                "{}",
                json!({"hash": hash, "anchored": false, "block": number, "blockHash": block_hash})
            );
        }
        bail!("document {hash} is proven NOT anchored as of certified block {number} {block_hash}");
    };
    if json {
        println!(
            "{}",
            json!({
                "hash": hash,
                "anchored": true,
                "anchorer": fields.anchorer,
                "anchoredAtBlock": fields.block_number,
                "timestamp": fields.timestamp,
                "revoked": fields.revoked,
                "revokedAtBlock": fields.revoked.then_some(fields.revoked_at_block),
                "attestations": fields.attestation_count,
                "block": number,
                "blockHash": block_hash,
                "stateRoot": certified.header.state_root,
                "genesisHash": certified.genesis_hash,
            })
        );
        return Ok(());
    }
    println!(
        "document {hash} was anchored by {} at block {} (time {})",
        fields.anchorer, fields.block_number, fields.timestamp
    );
    if fields.revoked {
        println!("  REVOKED at block {}", fields.revoked_at_block);
    } else {
        println!("  not revoked; {} attestation(s)", fields.attestation_count);
    }
    println!(
        "  proven against block {number} {block_hash} (state root {}), certified by {}",
        certified.header.state_root,
        certified.describe()
    );
    println!(
        "  chain {} ({}), genesis {}",
        genesis.chain_id,
        genesis.suite.name(),
        certified.genesis_hash
    );
    Ok(())
}
