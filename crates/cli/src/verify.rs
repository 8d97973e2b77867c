//! `banyan verify`: check, as a client that trusts only the genesis file, that a block served by
//! a node was decided by the chain's validators.
//!
//! Nothing the node says is taken on trust: the genesis hash is computed from the genesis file,
//! the block hash is recomputed from the header fields served, and the commit certificate's
//! precommit signatures are checked against the validator set written in genesis. A node that
//! lies about any field makes the check fail.

use alloy_primitives::B256;
use anyhow::{Context, anyhow, bail};
use banyan_primitives::consensus::{ChainBinding, ValidatorSet, verify_commit_certificate};
use banyan_primitives::{Genesis, Header};
use banyan_sdk::{BlockId, Client};
use std::path::PathBuf;

/// Arguments of `banyan verify`.
#[derive(clap::Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The node to ask.
    #[arg(long, default_value = "http://127.0.0.1:8545", env = "BANYAN_RPC")]
    rpc: String,
    /// The chain's genesis file: the only thing trusted.
    #[arg(long)]
    genesis: PathBuf,
    /// Block number (default: the latest).
    block: Option<u64>,
    /// Also prove, against that block's state root, that this document hash was anchored with
    /// the Evidence module (who anchored it, when, whether it was revoked).
    #[arg(long, conflicts_with = "evidence_file")]
    evidence: Option<B256>,
    /// As `--evidence`, for a file (hashed here with the chain's suite; only the hash is sent).
    #[arg(long)]
    evidence_file: Option<PathBuf>,
    /// With `--evidence`: the anchor's proof as one JSON object, for scripts.
    #[arg(long)]
    json: bool,
}

/// The genesis block hash, computed locally from the genesis file (no node runs).
fn genesis_hash(genesis: &Genesis) -> anyhow::Result<B256> {
    let header = banyan_chain::genesis::genesis_header(genesis)
        .map_err(|e| anyhow!("cannot build the genesis block: {e}"))?;
    Ok(header.hash(genesis.suite))
}

/// Reads and validates the genesis file: the only thing a verifying client trusts.
pub(crate) fn load_genesis(path: &std::path::Path) -> anyhow::Result<Genesis> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Genesis::from_json(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// A block whose commit certificate verified against the genesis validators.
pub(crate) struct CertifiedBlock {
    /// The header, every field checked by its recomputed hash.
    pub(crate) header: Header,
    /// Its hash.
    pub(crate) hash: B256,
    /// The genesis block hash computed from the genesis file.
    pub(crate) genesis_hash: B256,
    /// Precommits in the certificate.
    signatures: usize,
    /// Their voting power, and the set's total.
    signed_power: u64,
    total_power: u64,
    validators: usize,
    round: u32,
}

impl CertifiedBlock {
    /// The certificate in one line, for people.
    pub(crate) fn describe(&self) -> String {
        format!(
            "precommits from {} of {} validators (power {} of {}) in round {}",
            self.signatures, self.validators, self.signed_power, self.total_power, self.round
        )
    }
}

/// Fetches block `number` (default: the latest) and proves it with its certificate against
/// `genesis`. Block 0 is proven by equality with the genesis computed locally.
pub(crate) async fn certified_block(
    rpc: &Client,
    genesis: &Genesis,
    number: Option<u64>,
) -> anyhow::Result<CertifiedBlock> {
    let set = ValidatorSet::new(genesis.suite, &genesis.validators)
        .map_err(|e| anyhow!("genesis validators: {e}"))?;
    let chain = ChainBinding {
        chain_id: genesis.chain_id,
        genesis_hash: genesis_hash(genesis)?,
    };
    let id = number.map_or(BlockId::Latest, BlockId::Number);
    let Some(wire) = rpc.header(id).await? else {
        bail!(
            "the node has no block {}",
            number.map_or("latest".into(), |n| n.to_string())
        );
    };
    // Every field is checked by recomputing the hash; the hash the node reports is not used.
    let header = wire.header();
    let hash = header.hash(genesis.suite);
    let mut certified = CertifiedBlock {
        header,
        hash,
        genesis_hash: chain.genesis_hash,
        signatures: 0,
        signed_power: 0,
        total_power: set.total_power(),
        validators: set.validators().len(),
        round: 0,
    };
    if certified.header.number == 0 {
        if hash != chain.genesis_hash {
            bail!("block 0 {hash} is not the genesis of this genesis file");
        }
        return Ok(certified);
    }
    let number = certified.header.number;
    let Some(cert) = rpc.certificate(number).await? else {
        bail!(
            "block {number} has no commit certificate on this node (a single-validator `banyan dev` chain has none)"
        );
    };
    verify_commit_certificate(genesis.suite, &chain, &set, &cert, number, hash)
        .map_err(|e| anyhow!("block {number} {hash} is NOT proven: {e}"))?;
    certified.signatures = cert.signatures.len();
    certified.signed_power = cert
        .signatures
        .iter()
        .filter_map(|s| set.get(&s.validator))
        .map(|v| v.voting_power())
        .sum();
    certified.round = cert.round;
    Ok(certified)
}

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let genesis = load_genesis(&args.genesis)?;
    let runtime = crate::client::rt()?;
    let rpc = runtime.block_on(Client::connect(&args.rpc))?;
    let block = runtime.block_on(certified_block(&rpc, &genesis, args.block))?;
    if args.evidence.is_some() || args.evidence_file.is_some() {
        let document = crate::evidence_cmd::Document::new(args.evidence_file, args.evidence);
        let hash = document.hash(genesis.suite)?;
        return runtime.block_on(crate::evidence_cmd::prove_and_report(
            &rpc, &genesis, &block, hash, args.json,
        ));
    }
    let (number, hash) = (block.header.number, block.hash);
    if number == 0 {
        println!(
            "block 0 {hash} is the genesis block of {}",
            args.genesis.display()
        );
    } else {
        println!("block {number} {hash} is certified: {}", block.describe());
    }
    println!("  state root {}", block.header.state_root);
    println!(
        "  chain {} ({}), genesis {}",
        genesis.chain_id,
        genesis.suite.name(),
        block.genesis_hash
    );
    Ok(())
}
