//! `banyan verify`: check, as a client that trusts only the genesis file, that a block served by
//! a node was decided by the chain's validators.
//!
//! Nothing the node says is taken on trust: the genesis hash is computed from the genesis file,
//! the block hash is recomputed from the header fields served, and the commit certificate's
//! precommit signatures are checked against the validator set written in genesis. A node that
//! lies about any field makes the check fail.

use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use anyhow::{Context, anyhow, bail};
use banyan_primitives::consensus::{
    ChainBinding, CommitCertificate, CommitSignature, ValidatorSet, verify_commit_certificate,
};
use banyan_primitives::{Genesis, Header};
use banyan_state::{Account, AccountProof, StorageProof};
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::client::{Rpc, parse_quantity};

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
    rpc: &Rpc,
    genesis: &Genesis,
    number: Option<u64>,
) -> anyhow::Result<CertifiedBlock> {
    let set = ValidatorSet::new(genesis.suite, &genesis.validators)
        .map_err(|e| anyhow!("genesis validators: {e}"))?;
    let chain = ChainBinding {
        chain_id: genesis.chain_id,
        genesis_hash: genesis_hash(genesis)?,
    };
    let tag = match number {
        Some(n) => json!(format!("0x{n:x}")),
        None => json!("latest"),
    };
    let block = rpc
        .call("eth_getBlockByNumber", vec![tag, json!(false)])
        .await?;
    if block.is_null() {
        bail!(
            "the node has no block {}",
            number.map_or("latest".into(), |n| n.to_string())
        );
    }
    let header = header_from_json(&block)?;
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
    let cert = rpc
        .call(
            "banyan_getCommitCertificate",
            vec![json!(format!("0x{number:x}"))],
        )
        .await?;
    if cert.is_null() {
        bail!(
            "block {number} has no commit certificate on this node (a single-validator `banyan dev` chain has none)"
        );
    }
    let cert = certificate_from_json(&cert)?;
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

/// Parses an `eth_getProof` answer for an account the caller expects to exist.
pub(crate) fn account_proof_from_json(v: &Value) -> anyhow::Result<AccountProof> {
    let nodes = |v: &Value, name: &str| -> anyhow::Result<Vec<Bytes>> {
        field(v, name)?
            .as_array()
            .ok_or_else(|| anyhow!("`{name}` is not a list"))?
            .iter()
            .map(|node| {
                node.as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| anyhow!("`{name}` holds a node that is not hex"))
            })
            .collect()
    };
    let storage = field(v, "storageProof")?
        .as_array()
        .ok_or_else(|| anyhow!("`storageProof` is not a list"))?
        .iter()
        .map(|s| {
            Ok(StorageProof {
                key: parse::<U256>(s, "key")?,
                value: parse::<U256>(s, "value")?,
                proof: nodes(s, "proof")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(AccountProof {
        address: parse::<Address>(v, "address")?,
        account: Some(Account {
            nonce: parse_quantity(field(v, "nonce")?)?,
            balance: parse::<U256>(v, "balance")?,
            storage_root: parse::<B256>(v, "storageHash")?,
            code_hash: parse::<B256>(v, "codeHash")?,
        }),
        account_proof: nodes(v, "accountProof")?,
        storage,
    })
}

/// Proves, against `block`'s state root, the values of `slots` in `address`'s storage. The
/// node's answer is trusted in nothing: the proof must follow from the certified root, and its
/// slots must be exactly the ones asked for.
pub(crate) async fn prove_storage(
    rpc: &Rpc,
    suite: banyan_crypto::Suite,
    block: &CertifiedBlock,
    address: Address,
    slots: &[B256],
) -> anyhow::Result<Vec<U256>> {
    let answer = rpc
        .call(
            "eth_getProof",
            vec![
                json!(address),
                json!(slots),
                json!(format!("0x{:x}", block.header.number)),
            ],
        )
        .await?;
    let proof = account_proof_from_json(&answer)?;
    if proof.address != address {
        bail!(
            "the node proved account {} instead of {address}",
            proof.address
        );
    }
    let asked: Vec<U256> = slots.iter().map(|s| U256::from_be_bytes(s.0)).collect();
    let answered: Vec<U256> = proof.storage.iter().map(|s| s.key).collect();
    if answered != asked {
        bail!("the node proved other storage slots than the ones asked for");
    }
    banyan_state::verify_account_proof(suite, block.header.state_root, &proof).map_err(|e| {
        anyhow!(
            "the node's proof does NOT follow from the certified state root {}: {e}",
            block.header.state_root
        )
    })?;
    Ok(proof.storage.iter().map(|s| s.value).collect())
}

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let genesis = load_genesis(&args.genesis)?;
    let rpc = Rpc::connect(&args.rpc)?;
    let block = crate::client::rt()?.block_on(certified_block(&rpc, &genesis, args.block))?;
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
