//! `banyan verify`: check, as a client that trusts only the genesis file, that a block served by
//! a node was decided by the chain's validators.
//!
//! Nothing the node says is taken on trust: the genesis hash is computed from the genesis file,
//! the block hash is recomputed from the header fields served, and the commit certificate's
//! precommit signatures are checked against the validator set written in genesis. A node that
//! lies about any field makes the check fail.

use alloy_primitives::{Address, B256, Bloom, Bytes};
use anyhow::{Context, anyhow, bail};
use banyan_primitives::consensus::{
    ChainBinding, CommitCertificate, CommitSignature, ValidatorSet, verify_commit_certificate,
};
use banyan_primitives::{Genesis, Header};
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::client::{Rpc, parse_quantity};

/// Arguments of `banyan verify`.
#[derive(clap::Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The node to ask.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// The chain's genesis file: the only thing trusted.
    #[arg(long)]
    genesis: PathBuf,
    /// Block number (default: the latest).
    block: Option<u64>,
}

fn field<'a>(v: &'a Value, name: &str) -> anyhow::Result<&'a Value> {
    v.get(name)
        .filter(|f| !f.is_null())
        .ok_or_else(|| anyhow!("the node's block has no `{name}`"))
}

fn parse<T: std::str::FromStr>(v: &Value, name: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    field(v, name)?
        .as_str()
        .ok_or_else(|| anyhow!("`{name}` is not a string"))?
        .parse()
        .map_err(|e| anyhow!("`{name}`: {e}"))
}

fn header_from_json(b: &Value) -> anyhow::Result<Header> {
    Ok(Header {
        parent_hash: parse::<B256>(b, "parentHash")?,
        number: parse_quantity(field(b, "number")?)?,
        timestamp: parse_quantity(field(b, "timestamp")?)?,
        proposer: parse::<Address>(b, "miner")?,
        transactions_root: parse::<B256>(b, "transactionsRoot")?,
        receipts_root: parse::<B256>(b, "receiptsRoot")?,
        state_root: parse::<B256>(b, "stateRoot")?,
        logs_bloom: parse::<Bloom>(b, "logsBloom")?,
        gas_limit: parse_quantity(field(b, "gasLimit")?)?,
        gas_used: parse_quantity(field(b, "gasUsed")?)?,
        base_fee_per_gas: parse_quantity(field(b, "baseFeePerGas")?)?,
        extra_data: parse::<Bytes>(b, "extraData")?,
    })
}

fn certificate_from_json(c: &Value) -> anyhow::Result<CommitCertificate> {
    let signatures = field(c, "signatures")?
        .as_array()
        .ok_or_else(|| anyhow!("`signatures` is not a list"))?
        .iter()
        .map(|s| {
            Ok(CommitSignature {
                validator: parse::<Address>(s, "validator")?,
                signature: parse::<Bytes>(s, "signature")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CommitCertificate {
        height: parse_quantity(field(c, "height")?)?,
        round: u32::try_from(parse_quantity(field(c, "round")?)?)
            .map_err(|_| anyhow!("`round` does not fit 32 bits"))?,
        block_hash: parse::<B256>(c, "blockHash")?,
        signatures,
    })
}

/// The genesis block hash, computed locally from the genesis file.
fn genesis_hash(genesis: &Genesis) -> anyhow::Result<B256> {
    let key = genesis.suite.generate_secret();
    let config = banyan_node::config::NodeConfig::new(
        banyan_node::config::DataDir::Memory,
        genesis.clone(),
        key,
    );
    let node = banyan_node::Node::with_store(&config, banyan_storage::open_memory())
        .map_err(|e| anyhow!("cannot build the genesis block: {e}"))?;
    Ok(node.genesis_hash())
}

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.genesis)
        .with_context(|| format!("reading {}", args.genesis.display()))?;
    let genesis =
        Genesis::from_json(&text).map_err(|e| anyhow!("{}: {e}", args.genesis.display()))?;
    let set = ValidatorSet::new(genesis.suite, &genesis.validators)
        .map_err(|e| anyhow!("{}: validators: {e}", args.genesis.display()))?;
    let chain = ChainBinding {
        chain_id: genesis.chain_id,
        genesis_hash: genesis_hash(&genesis)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let rpc = Rpc::connect(&args.rpc)?;
    let (block, cert) = runtime.block_on(async {
        let tag = match args.block {
            Some(n) => json!(format!("0x{n:x}")),
            None => json!("latest"),
        };
        let block = rpc
            .call("eth_getBlockByNumber", vec![tag, json!(false)])
            .await?;
        if block.is_null() {
            bail!(
                "the node has no block {}",
                args.block.map_or("latest".into(), |n| n.to_string())
            );
        }
        let number = parse_quantity(field(&block, "number")?)?;
        let cert = rpc
            .call(
                "banyan_getCommitCertificate",
                vec![json!(format!("0x{number:x}"))],
            )
            .await?;
        anyhow::Ok((block, cert))
    })?;
    let header = header_from_json(&block)?;
    let hash = header.hash(genesis.suite);
    if header.number == 0 {
        if hash != chain.genesis_hash {
            bail!(
                "block 0 {hash} is not the genesis of {}",
                args.genesis.display()
            );
        }
        println!(
            "block 0 {hash} is the genesis block of {}",
            args.genesis.display()
        );
        return Ok(());
    }
    if cert.is_null() {
        bail!(
            "block {} has no commit certificate on this node (a single-validator `banyan dev` chain has none)",
            header.number
        );
    }
    let cert = certificate_from_json(&cert)?;
    verify_commit_certificate(genesis.suite, &chain, &set, &cert, header.number, hash)
        .map_err(|e| anyhow!("block {} {hash} is NOT proven: {e}", header.number))?;
    let signed: u64 = cert
        .signatures
        .iter()
        .filter_map(|s| set.get(&s.validator))
        .map(|v| v.voting_power())
        .sum();
    println!(
        "block {} {hash} is certified: precommits from {} of {} validators (power {signed} of {}) in round {}",
        header.number,
        cert.signatures.len(),
        set.validators().len(),
        set.total_power(),
        cert.round
    );
    println!("  state root {}", header.state_root);
    println!(
        "  chain {} ({}), genesis {}",
        genesis.chain_id,
        genesis.suite.name(),
        chain.genesis_hash
    );
    Ok(())
}
