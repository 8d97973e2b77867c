//! Node configuration: a TOML file, validated at start with errors that name the file and key.
//!
//! `docs/configuration.md` documents every table; its example is parsed by a test below.

use alloy_primitives::Address;
use banyan_crypto::{SecretKey, Suite};
use banyan_network::{NetError, TlsConfig};
use banyan_primitives::GenesisValidator;
use banyan_rpc::RpcConfig;
use banyan_txpool::PoolConfig;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::NodeError;

/// When blocks are produced.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockConfig {
    /// Longest time between blocks.
    pub interval_ms: u64,
    /// Produce a block as soon as transactions wait (instead of waiting for the interval).
    pub produce_on_tx: bool,
    /// Produce blocks without transactions at every interval.
    pub empty_blocks: bool,
    /// Most transactions in one block.
    pub max_txs_per_block: usize,
}

impl Default for BlockConfig {
    fn default() -> Self {
        Self {
            interval_ms: 1_000,
            produce_on_tx: true,
            empty_blocks: false,
            max_txs_per_block: 10_000,
        }
    }
}

/// The `[rpc]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcSection {
    /// Listen address for HTTP and WebSocket.
    pub listen: SocketAddr,
    /// Largest request body in bytes.
    pub max_request_body_bytes: u32,
    /// Most calls in a batch.
    pub max_batch_len: u32,
    /// Most simultaneous connections.
    pub max_connections: u32,
    /// Widest `eth_getLogs` block range.
    pub max_log_block_range: u64,
    /// Most logs in one response.
    pub max_logs: usize,
    /// Browser origins allowed to call JSON-RPC (CORS): `[]` none, `["*"]` any.
    pub cors_allow_origins: Vec<String>,
}

impl Default for RpcSection {
    fn default() -> Self {
        let d = RpcConfig::default();
        Self {
            listen: d.listen,
            max_request_body_bytes: d.max_request_body_bytes,
            max_batch_len: d.max_batch_len,
            max_connections: d.max_connections,
            max_log_block_range: d.max_log_block_range,
            max_logs: d.max_logs,
            cors_allow_origins: d.cors_allow_origins,
        }
    }
}

impl RpcSection {
    /// As the server's configuration.
    pub fn to_rpc_config(&self) -> RpcConfig {
        RpcConfig {
            listen: self.listen,
            max_request_body_bytes: self.max_request_body_bytes,
            max_batch_len: self.max_batch_len,
            max_connections: self.max_connections,
            max_log_block_range: self.max_log_block_range,
            max_logs: self.max_logs,
            cors_allow_origins: self.cors_allow_origins.clone(),
            ..RpcConfig::default()
        }
    }
}

/// The `[txpool]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolSection {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most transactions held per sender.
    pub max_per_account: usize,
    /// Lowest accepted gas price (wei).
    pub min_gas_price: u128,
    /// Replacement price bump, percent.
    pub price_bump_percent: u128,
    /// Drop transactions older than this.
    pub lifetime_secs: u64,
    /// Most queued transactions (nonce ahead of the sender's next) held at once.
    pub max_queued: usize,
    /// Drop queued transactions older than this.
    pub queued_lifetime_secs: u64,
    /// Journal admitted transactions in the data directory, so that they are back in the pool
    /// after a crash (a node on in-memory storage has no journal).
    pub journal: bool,
}

impl Default for PoolSection {
    fn default() -> Self {
        let d = PoolConfig::default();
        Self {
            max_txs: d.max_txs,
            max_per_account: d.max_per_account,
            min_gas_price: d.min_gas_price,
            price_bump_percent: d.price_bump_percent,
            lifetime_secs: d.lifetime.as_secs(),
            max_queued: d.max_queued,
            queued_lifetime_secs: d.queued_lifetime.as_secs(),
            journal: true,
        }
    }
}

/// The `[metrics]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Where to serve `GET /metrics`; absent means no metrics server.
    pub listen: Option<SocketAddr>,
}

/// The `[operator]` table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OperatorFile {
    /// A file holding the operator's token (at least [`banyan_rpc::MIN_TOKEN_LEN`]
    /// characters): requests that act with the node's keys carry it as `Authorization: Bearer`.
    token_file: Option<PathBuf>,
}

/// The `[identity]` table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    /// Issuer keys the node holds for `POST /credentials/issue`.
    #[serde(default)]
    issuers: Vec<IssuerFile>,
}

/// One `[[identity.issuers]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerFile {
    /// The issuer account's key, in the chain's suite.
    key_file: PathBuf,
    /// Its Ed25519 seed (hex), listed in its DID document, for `eddsa-jcs-2022` proofs.
    #[serde(default)]
    ed25519_key_file: Option<PathBuf>,
}

/// Loads the operator's token and the issuer keys; an error names the key at fault.
fn load_issuing(
    operator: OperatorFile,
    identity: IdentityFile,
    suite: Suite,
    rel: impl Fn(&Path) -> PathBuf,
    passphrase: &Passphrase,
) -> Result<banyan_rpc::Issuing, String> {
    let token = operator
        .token_file
        .map(|file| {
            let path = rel(&file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!("operator.token_file ({}): cannot read: {e}", path.display())
            })?;
            banyan_rpc::OperatorToken::new(&text)
                .map_err(|e| format!("operator.token_file ({}): {e}", path.display()))
        })
        .transpose()?;
    if token.is_none() && !identity.issuers.is_empty() {
        return Err(
            "identity.issuers needs operator.token_file: without the operator's token \
                    nobody may issue with them"
                .into(),
        );
    }
    let mut issuers = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, entry) in identity.issuers.into_iter().enumerate() {
        let key_path = rel(&entry.key_file);
        let account = read_key_file(
            &key_path,
            suite,
            &format!("identity.issuers[{i}].key_file"),
            passphrase,
        )?;
        let address = suite.address(
            &suite
                .public_key(&account)
                .map_err(|e| format!("identity.issuers[{i}].key_file: {e}"))?,
        );
        if !seen.insert(address) {
            return Err(format!(
                "identity.issuers[{i}]: issuer {address} is listed twice"
            ));
        }
        let ed25519 = entry
            .ed25519_key_file
            .map(|file| {
                read_seed(
                    &rel(&file),
                    &format!("identity.issuers[{i}].ed25519_key_file"),
                )
            })
            .transpose()?;
        issuers.push(banyan_rpc::IssuerKey { account, ed25519 });
    }
    Ok(banyan_rpc::Issuing::new(token, issuers))
}

/// Reads a 32-byte seed written as hex (with or without `0x`).
fn read_seed(path: &Path, key: &str) -> Result<[u8; 32], String> {
    let at = || format!("{key} ({})", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", at()))?;
    let text = text.trim();
    let bytes =
        alloy_primitives::hex::decode(text).map_err(|e| format!("{}: not hex: {e}", at()))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{}: an Ed25519 seed is 32 bytes, not {}", at(), bytes.len()))
}

/// Where the node keeps its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataDir {
    /// The embedded engine in this directory.
    Path(PathBuf),
    /// In memory only (tests, throw-away dev chains).
    Memory,
}

/// The default of `network.max_peers`.
pub const DEFAULT_MAX_PEERS: usize = 50;
/// The highest `network.max_peers` accepted: every peer holds a connection, a task and bounded
/// queues, and no consortium needs more direct peers than this.
pub const MAX_PEERS_LIMIT: usize = 1_000;
/// The longest consensus timeout or block target accepted, in milliseconds (one hour). Anything
/// longer is almost certainly a value in the wrong unit.
pub const MAX_CONSENSUS_MS: u64 = 3_600_000;
/// The consensus write-ahead log's folder inside the data directory, unless `consensus.wal_dir`
/// says otherwise.
pub const CONSENSUS_WAL_SUBDIR: &str = "consensus";

/// What this node does in consensus (`consensus.role`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Proposes and votes. Its key must be one of `genesis.validators`, or, on a chain with
    /// the governance module, of a validator the committee may add later (until then the node
    /// follows the chain without voting).
    #[default]
    Validator,
    /// Follows the validators and re-executes what they decide, but never votes. Its key, if it
    /// has one, must not be a validator's.
    Observer,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Validator => "validator",
            Self::Observer => "observer",
        })
    }
}

/// The `[consensus]` table, with `wal_dir` resolved.
///
/// The timeouts are the round timeouts of a Tendermint-style engine: how long a validator waits
/// for a proposal, for 2/3 of the prevotes and for 2/3 of the precommits before it moves on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusSection {
    /// Validator or observer.
    pub role: Role,
    /// How long to wait for the round's proposal.
    pub timeout_propose_ms: u64,
    /// How long to wait for more prevotes once 2/3 have arrived without agreeing.
    pub timeout_prevote_ms: u64,
    /// How long to wait for more precommits once 2/3 have arrived without agreeing.
    pub timeout_precommit_ms: u64,
    /// The pace of heights: a new height starts no sooner than this after the previous one.
    pub target_block_ms: u64,
    /// Where the consensus write-ahead log lives. `None` only for an in-memory node
    /// ([`DataDir::Memory`]), which keeps nothing across restarts.
    pub wal_dir: Option<PathBuf>,
}

impl ConsensusSection {
    /// Every key at its default, with the WAL in `<data_dir>/consensus`.
    pub fn with_defaults(data_dir: &DataDir) -> Self {
        ConsensusFile::default().resolve(data_dir, |p| p.to_path_buf())
    }
}

/// The `[consensus]` table as written in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConsensusFile {
    role: Role,
    timeout_propose_ms: u64,
    timeout_prevote_ms: u64,
    timeout_precommit_ms: u64,
    target_block_ms: u64,
    wal_dir: Option<PathBuf>,
}

impl Default for ConsensusFile {
    fn default() -> Self {
        // Malachite's own defaults (LinearTimeouts, docs/design/consensus.md) and one block a
        // second, as `block.interval_ms`.
        Self {
            role: Role::Validator,
            timeout_propose_ms: 3_000,
            timeout_prevote_ms: 1_000,
            timeout_precommit_ms: 1_000,
            target_block_ms: 1_000,
            wal_dir: None,
        }
    }
}

impl ConsensusFile {
    fn resolve(self, data_dir: &DataDir, rel: impl Fn(&Path) -> PathBuf) -> ConsensusSection {
        let wal_dir = match (self.wal_dir, data_dir) {
            (Some(dir), _) => Some(rel(&dir)),
            (None, DataDir::Path(data)) => Some(data.join(CONSENSUS_WAL_SUBDIR)),
            (None, DataDir::Memory) => None,
        };
        ConsensusSection {
            role: self.role,
            timeout_propose_ms: self.timeout_propose_ms,
            timeout_prevote_ms: self.timeout_prevote_ms,
            timeout_precommit_ms: self.timeout_precommit_ms,
            target_block_ms: self.target_block_ms,
            wal_dir,
        }
    }
}

/// The `[network]` table, with its paths resolved and its TLS material loaded and checked.
#[derive(Clone, Debug)]
pub struct NetworkSection {
    /// Where this node accepts other nodes' connections.
    pub listen: SocketAddr,
    /// The chain CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// The folder holding this node's `node.crt` and `node.key`.
    pub node_dir: PathBuf,
    /// The chain CRL (PEM), if the operator distributes one.
    pub crl: Option<PathBuf>,
    /// The nodes to dial. Never contains `listen`, never the same address twice.
    pub peers: Vec<SocketAddr>,
    /// Most peers connected at once, dialed and accepted together.
    pub max_peers: usize,
    /// The TLS configuration built from the three files: the CA, the CRL and this node's
    /// identity, checked at load the way every peer will check it.
    pub tls: TlsConfig,
}

/// The `[network]` table as written in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    listen: SocketAddr,
    ca_cert: PathBuf,
    node_dir: PathBuf,
    #[serde(default)]
    crl: Option<PathBuf>,
    #[serde(default)]
    peers: Vec<SocketAddr>,
    #[serde(default = "default_max_peers")]
    max_peers: usize,
}

fn default_max_peers() -> usize {
    DEFAULT_MAX_PEERS
}

impl NetworkFile {
    /// Resolves the paths and loads the TLS material; an error names the key at fault.
    fn load(self, rel: impl Fn(&Path) -> PathBuf) -> Result<NetworkSection, String> {
        let ca_cert = rel(&self.ca_cert);
        let node_dir = rel(&self.node_dir);
        let crl = self.crl.as_deref().map(&rel);
        let tls = TlsConfig::load(&ca_cert, crl.as_deref(), &node_dir).map_err(|e| {
            let (key, path) = tls_error_source(&e, &ca_cert, crl.as_deref(), &node_dir);
            format!("{key} ({}): {e}", path.display())
        })?;
        Ok(NetworkSection {
            listen: self.listen,
            ca_cert,
            node_dir,
            crl,
            peers: self.peers,
            max_peers: self.max_peers,
            tls,
        })
    }
}

/// Which `[network]` key (and file) a TLS loading error is about.
fn tls_error_source<'a>(
    error: &NetError,
    ca_cert: &'a Path,
    crl: Option<&'a Path>,
    node_dir: &'a Path,
) -> (&'static str, &'a Path) {
    let crl_source = || match crl {
        Some(crl) => ("network.crl, checked against network.ca_cert", crl),
        None => ("network.ca_cert", ca_cert),
    };
    match error {
        NetError::File { path, .. } if path == ca_cert => ("network.ca_cert", ca_cert),
        NetError::File { path, .. } if Some(path.as_path()) == crl => crl_source(),
        NetError::Invalid {
            what: "CA certificate",
            ..
        } => ("network.ca_cert", ca_cert),
        NetError::Invalid { what: "CRL", .. }
        | NetError::CrlNotFromChainCa { .. }
        | NetError::CrlBadSignature { .. } => crl_source(),
        NetError::OwnCertificate { .. } => (
            "network.node_dir, checked against network.ca_cert",
            node_dir,
        ),
        _ => ("network.node_dir", node_dir),
    }
}

/// A complete node configuration.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Where data lives.
    pub data_dir: DataDir,
    /// The chain specification.
    pub genesis: banyan_primitives::Genesis,
    /// The key this node signs with. A validator's is one of `genesis.validators`. An observer
    /// configured without `node.validator_key_file` gets a fresh random key at load: a throw-away
    /// identity that is in no validator set, so nothing signed with it counts.
    pub validator_key: SecretKey,
    /// The file `validator_key` was read from; `None` for a configuration built in code (`banyan
    /// dev`) and for an observer without a key.
    pub validator_key_file: Option<PathBuf>,
    /// Block production.
    pub block: BlockConfig,
    /// JSON-RPC server.
    pub rpc: RpcSection,
    /// Transaction pool.
    pub txpool: PoolSection,
    /// Prometheus metrics endpoint.
    pub metrics: MetricsSection,
    /// Connections to the other nodes; `None` for a node alone on its chain.
    pub network: Option<NetworkSection>,
    /// Role, timeouts, pace and write-ahead log of consensus.
    pub consensus: ConsensusSection,
    /// The operator's token and the issuer keys the node holds (`[operator]`,
    /// `[[identity.issuers]]`); by default none, and the node issues nothing.
    pub issuing: banyan_rpc::Issuing,
    /// A chain store found damaged at start is moved aside and rebuilt from peers, instead of
    /// stopping the node (`banyan node --recover`, `[node] auto_recover`).
    pub recover: bool,
    /// The data key of encryption at rest (`node.data_key_file`, `node.data_key_command`): with
    /// one, every stored value is sealed with the suite's AEAD; `None` stores them in the clear.
    pub data_key: Option<banyan_crypto::SymmetricKey>,
}

impl NodeConfig {
    /// A validator alone on its chain: every table at its default, no network, the consensus WAL
    /// (if any) under `data_dir`.
    pub fn new(
        data_dir: DataDir,
        genesis: banyan_primitives::Genesis,
        validator_key: SecretKey,
    ) -> Self {
        let consensus = ConsensusSection::with_defaults(&data_dir);
        Self {
            data_dir,
            genesis,
            validator_key,
            validator_key_file: None,
            block: BlockConfig::default(),
            rpc: RpcSection::default(),
            txpool: PoolSection::default(),
            metrics: MetricsSection::default(),
            network: None,
            consensus,
            issuing: banyan_rpc::Issuing::default(),
            recover: false,
            data_key: None,
        }
    }

    /// The cipher of encryption at rest, with a fresh session, if a data key is configured.
    pub fn data_cipher(
        &self,
    ) -> Result<Option<std::sync::Arc<banyan_crypto::at_rest::DataCipher>>, NodeError> {
        self.data_key
            .clone()
            .map(|key| {
                banyan_crypto::at_rest::DataCipher::new(self.genesis.suite, key)
                    .map(std::sync::Arc::new)
                    .map_err(|e| NodeError::Config(format!("data key: {e}")))
            })
            .transpose()
    }

    /// What a store of this node is opened with: its cipher, if encryption at rest is on.
    pub fn store_cipher(
        &self,
    ) -> Result<Option<std::sync::Arc<dyn banyan_storage::ValueCipher>>, NodeError> {
        Ok(crate::data_key::store_cipher(self.data_cipher()?.as_ref()))
    }

    /// The pool configuration for this chain.
    pub fn pool_config(&self) -> PoolConfig {
        PoolConfig {
            max_txs: self.txpool.max_txs,
            max_per_account: self.txpool.max_per_account,
            min_gas_price: self.txpool.min_gas_price,
            price_bump_percent: self.txpool.price_bump_percent,
            lifetime: Duration::from_secs(self.txpool.lifetime_secs),
            max_queued: self.txpool.max_queued,
            queued_lifetime: Duration::from_secs(self.txpool.queued_lifetime_secs),
            block_gas_limit: self.genesis.gas_limit,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSection {
    data_dir: PathBuf,
    genesis: PathBuf,
    /// Required for a validator; optional for an observer.
    #[serde(default)]
    validator_key_file: Option<PathBuf>,
    /// The passphrase of encrypted key files (its first line); without it, `BANYAN_PASSPHRASE`.
    #[serde(default)]
    passphrase_file: Option<PathBuf>,
    /// Rebuild a damaged chain store from peers at start, as `banyan node --recover` does.
    #[serde(default)]
    auto_recover: bool,
    /// Encryption at rest: a file outside the data directory holding the data key's hex.
    #[serde(default)]
    data_key_file: Option<PathBuf>,
    /// Encryption at rest: a program and its arguments that print the data key's hex (a key
    /// manager's client).
    #[serde(default)]
    data_key_command: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    node: NodeSection,
    #[serde(default)]
    block: BlockConfig,
    #[serde(default)]
    rpc: RpcSection,
    #[serde(default)]
    txpool: PoolSection,
    #[serde(default)]
    metrics: MetricsSection,
    #[serde(default)]
    network: Option<NetworkFile>,
    #[serde(default)]
    consensus: ConsensusFile,
    #[serde(default)]
    operator: OperatorFile,
    #[serde(default)]
    identity: IdentityFile,
}

fn read(path: &Path, what: &str) -> Result<String, NodeError> {
    std::fs::read_to_string(path)
        .map_err(|e| NodeError::Config(format!("cannot read {what} {}: {e}", path.display())))
}

/// Loads a node configuration from a TOML file; relative paths are relative to the file.
///
/// Everything is checked here, so that a mistake stops the node at start with an error that
/// names the file and the key: the genesis, the key and its role, and, with `[network]`, the
/// CA certificate, the CRL and this node's certificate and key.
pub fn load_config(path: &Path) -> Result<NodeConfig, NodeError> {
    let text = read(path, "config file")?;
    let file: FileConfig =
        toml::from_str(&text).map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
    let in_file = |message: String| NodeError::Config(format!("{}: {message}", path.display()));
    let base = path.parent().unwrap_or(Path::new("."));
    let rel = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let genesis_path = rel(&file.node.genesis);
    let genesis =
        banyan_primitives::Genesis::from_json(&read(&genesis_path, "genesis file (node.genesis)")?)
            .map_err(|e| {
                NodeError::Config(format!("{} (node.genesis): {e}", genesis_path.display()))
            })?;
    let validator_key_file = file.node.validator_key_file.as_deref().map(rel);
    let passphrase = Passphrase::new(
        file.node
            .passphrase_file
            .as_deref()
            .map(|p| (rel(p), "node.passphrase_file")),
    );
    let validator_key = match (&validator_key_file, file.consensus.role) {
        (Some(key_path), _) => read_key_file(
            key_path,
            genesis.suite,
            "node.validator_key_file",
            &passphrase,
        )
        .map_err(in_file)?,
        (None, Role::Validator) => {
            return Err(in_file(
                "node.validator_key_file is missing: a validator (consensus.role = \"validator\", \
                 the default) needs its key; only an observer may run without one"
                    .into(),
            ));
        }
        // A throw-away identity, in no validator set (checked in `validate`).
        (None, Role::Observer) => genesis.suite.generate_secret(),
    };
    let data_path = rel(&file.node.data_dir);
    let data_key_source = match (&file.node.data_key_file, &file.node.data_key_command) {
        (Some(_), Some(_)) => {
            return Err(in_file(
                "node.data_key_file and node.data_key_command are both set: the data key comes \
                 from one of them"
                    .into(),
            ));
        }
        (Some(path), None) => Some(crate::data_key::DataKeySource::File(rel(path))),
        (None, Some(argv)) => Some(crate::data_key::DataKeySource::Command(argv.clone())),
        (None, None) => None,
    };
    let data_key = data_key_source
        .map(|source| crate::data_key::load(&source, &data_path, genesis.suite))
        .transpose()
        .map_err(in_file)?;
    let data_dir = DataDir::Path(data_path);
    let consensus = file.consensus.resolve(&data_dir, rel);
    let network = file
        .network
        .map(|n| n.load(rel))
        .transpose()
        .map_err(in_file)?;
    let issuing = load_issuing(
        file.operator,
        file.identity,
        genesis.suite,
        rel,
        &passphrase,
    )
    .map_err(in_file)?;
    let cfg = NodeConfig {
        recover: file.node.auto_recover,
        data_key,
        issuing,
        data_dir,
        genesis,
        validator_key,
        validator_key_file,
        block: file.block,
        rpc: file.rpc,
        txpool: file.txpool,
        metrics: file.metrics,
        network,
        consensus,
    };
    validate(&cfg).map_err(in_file)?;
    Ok(cfg)
}

/// Where the passphrase of encrypted key files comes from: a file named in the configuration
/// (its first line), else the `BANYAN_PASSPHRASE` environment variable. Read only when an
/// encrypted key file needs it.
pub struct Passphrase {
    file: Option<(PathBuf, &'static str)>,
    read: std::sync::OnceLock<Result<String, String>>,
}

/// The environment variable holding the passphrase of encrypted key files.
pub const PASSPHRASE_ENV: &str = "BANYAN_PASSPHRASE";

impl Passphrase {
    /// From `file` (with the configuration key or flag that named it, for errors), else
    /// [`PASSPHRASE_ENV`].
    pub fn new(file: Option<(PathBuf, &'static str)>) -> Self {
        Self {
            file,
            read: std::sync::OnceLock::new(),
        }
    }

    /// The passphrase, or why there is none.
    pub fn get(&self) -> Result<&str, String> {
        self.read
            .get_or_init(|| match &self.file {
                Some((path, key)) => read_passphrase_file(path)
                    .map_err(|e| format!("{key} ({}): {e}", path.display())),
                None => std::env::var(PASSPHRASE_ENV).map_err(|_| {
                    format!(
                        "no passphrase: name a passphrase file (node.passphrase_file, or \
                         --passphrase-file) or set {PASSPHRASE_ENV}"
                    )
                }),
            })
            .as_deref()
            .map_err(Clone::clone)
    }
}

/// The first line of a passphrase file (as Geth's `--password` reads it), which must not be
/// empty.
pub fn read_passphrase_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err("the first line (the passphrase) is empty".into());
    }
    Ok(line)
}

/// Reads a secret key file in any of the forms Banyan writes: a keystore (JSON, encrypted with
/// the passphrase), `suite:hex`, or hex (with or without `0x`, a key of `plain_suite`). Returns
/// its suite and key; the key is checked against the suite's curve.
pub fn read_secret_key(
    path: &Path,
    plain_suite: Suite,
    passphrase: &Passphrase,
) -> Result<(Suite, SecretKey), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    parse_secret_key(&text, plain_suite, passphrase)
}

/// The suite a key file's text names, if it names one (a keystore, `suite:hex`).
fn stated_suite(text: &str) -> Result<Option<Suite>, String> {
    if banyan_crypto::keystore::is_keystore(text) {
        return banyan_crypto::keystore::suite_of(text)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    text.trim()
        .split_once(':')
        .map(|(prefix, _)| {
            prefix
                .parse::<Suite>()
                .map_err(|e| format!("{e}; a key file holds hex, `suite:hex` or a keystore"))
        })
        .transpose()
}

fn parse_secret_key(
    text: &str,
    plain_suite: Suite,
    passphrase: &Passphrase,
) -> Result<(Suite, SecretKey), String> {
    if banyan_crypto::keystore::is_keystore(text) {
        // The suite is read before the passphrase is needed.
        banyan_crypto::keystore::suite_of(text).map_err(|e| e.to_string())?;
        let pass = passphrase
            .get()
            .map_err(|e| format!("the key file is encrypted; {e}"))?;
        return banyan_crypto::keystore::decrypt(text, pass).map_err(|e| e.to_string());
    }
    let suite = stated_suite(text)?.unwrap_or(plain_suite);
    let text = text.trim();
    let hex = text.rsplit_once(':').map_or(text, |(_, hex)| hex);
    let key = SecretKey::from_hex(hex).map_err(|e| e.to_string())?;
    suite
        .public_key(&key)
        .map_err(|e| format!("not a {suite} key: {e}"))?;
    Ok((suite, key))
}

/// A key of the chain's `suite` from a key file, named `key` in errors; a file that names
/// another suite is refused.
fn read_key_file(
    path: &Path,
    suite: Suite,
    key: &str,
    passphrase: &Passphrase,
) -> Result<SecretKey, String> {
    let at = || format!("{key} ({})", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", at()))?;
    match stated_suite(&text).map_err(|e| format!("{}: {e}", at()))? {
        Some(file_suite) if file_suite != suite => Err(format!(
            "{}: the key is for the {file_suite} suite, but the chain (node.genesis) uses {suite}",
            at()
        )),
        _ => parse_secret_key(&text, suite, passphrase)
            .map(|(_, key)| key)
            .map_err(|e| format!("{}: {e}", at())),
    }
}

/// Checks values that would make the node misbehave.
pub fn validate(cfg: &NodeConfig) -> Result<(), String> {
    if cfg.block.interval_ms == 0 {
        return Err("block.interval_ms must be at least 1".into());
    }
    if cfg.block.max_txs_per_block == 0 {
        return Err("block.max_txs_per_block must be at least 1".into());
    }
    if cfg.txpool.max_txs == 0 || cfg.txpool.max_per_account == 0 {
        return Err("txpool.max_txs and txpool.max_per_account must be at least 1".into());
    }
    if cfg.rpc.max_log_block_range == 0 {
        return Err("rpc.max_log_block_range must be at least 1".into());
    }
    validate_consensus(&cfg.consensus)?;
    if let Some(network) = &cfg.network {
        validate_network(network)?;
    }
    validate_role(cfg)
}

fn validate_consensus(c: &ConsensusSection) -> Result<(), String> {
    for (key, value) in [
        ("consensus.timeout_propose_ms", c.timeout_propose_ms),
        ("consensus.timeout_prevote_ms", c.timeout_prevote_ms),
        ("consensus.timeout_precommit_ms", c.timeout_precommit_ms),
        ("consensus.target_block_ms", c.target_block_ms),
    ] {
        if value == 0 || value > MAX_CONSENSUS_MS {
            return Err(format!(
                "{key} = {value} is out of range: it is in milliseconds, from 1 to \
                 {MAX_CONSENSUS_MS}"
            ));
        }
    }
    Ok(())
}

fn validate_network(n: &NetworkSection) -> Result<(), String> {
    if n.max_peers == 0 || n.max_peers > MAX_PEERS_LIMIT {
        return Err(format!(
            "network.max_peers = {} is out of range: it must be 1 to {MAX_PEERS_LIMIT}",
            n.max_peers
        ));
    }
    if n.peers.len() > n.max_peers {
        return Err(format!(
            "network.peers lists {} addresses, more than network.max_peers = {}; raise max_peers \
             or shorten the list",
            n.peers.len(),
            n.max_peers
        ));
    }
    for (i, peer) in n.peers.iter().enumerate() {
        if dials_itself(n.listen, *peer) {
            return Err(format!(
                "network.peers contains {peer}, which is this node's own network.listen ({}); \
                 a node must not dial itself",
                n.listen
            ));
        }
        if n.peers[..i].contains(peer) {
            return Err(format!("network.peers lists {peer} twice"));
        }
    }
    Ok(())
}

/// Whether dialing `peer` reaches the node listening on `listen`.
fn dials_itself(listen: SocketAddr, peer: SocketAddr) -> bool {
    peer == listen
        || (listen.ip().is_unspecified() && peer.ip().is_loopback() && peer.port() == listen.port())
}

/// The key, the certificate and the role must agree with genesis: a validator is in the set and
/// its certificate carries its address as node id (which is how peers know which connection is
/// which validator); an observer is not in the set and does not pose as a validator.
fn validate_role(cfg: &NodeConfig) -> Result<(), String> {
    let validators = &cfg.genesis.validators;
    if cfg.network.is_none() && validators.len() > 1 {
        return Err(format!(
            "the [network] table is missing: genesis (node.genesis) lists {} validators, and this \
             node needs network.listen, network.ca_cert, network.node_dir and network.peers to \
             reach them",
            validators.len()
        ));
    }
    let suite = cfg.genesis.suite;
    let public = suite
        .public_key(&cfg.validator_key)
        .map_err(|e| format!("node.validator_key_file: not a {suite} key: {e}"))?;
    let address = suite.address(&public);
    let is_validator = |a: &Address| validators.iter().any(|v| v.address == *a);
    let certificate = cfg
        .network
        .as_ref()
        .map(|n| (n, n.tls.local_identity().node_id()));
    match cfg.consensus.role {
        Role::Validator => {
            // On a governed chain the committee may add this validator later: the node follows
            // the chain and votes from the height the set includes it.
            let governed = cfg.genesis.modules.contains_key("governance");
            let named = certificate
                .and_then(|(_, id)| id.parse::<Address>().ok())
                .filter(is_validator);
            // A key outside the genesis set is refused unless the committee may add it later,
            // and always when the certificate names a genesis validator (a key mixed up).
            if !is_validator(&address) && (!governed || named.is_some()) {
                let expected = match named {
                    Some(a) => format!(
                        "the key of validator {a}, whom this node's certificate (network.node_dir) \
                         names"
                    ),
                    None => format!("the key of a genesis validator: {}", list(validators)),
                };
                return Err(format!(
                    "node.validator_key_file: the key's address {address} is not a validator of \
                     this chain (genesis.validators in node.genesis); expected {expected}"
                ));
            }
            if let Some((network, id)) = certificate
                && id.parse::<Address>().ok() != Some(address)
            {
                return Err(format!(
                    "network.node_dir ({}): this node's certificate is for node id {id}, but a \
                     validator's certificate must carry its address {address} \
                     (node.validator_key_file) as node id; issue it a certificate for that node id",
                    network.node_dir.display()
                ));
            }
        }
        Role::Observer => {
            if is_validator(&address) {
                return Err(format!(
                    "consensus.role is \"observer\", but node.validator_key_file holds the key of \
                     validator {address}; an observer must not use a validator's key: set \
                     consensus.role = \"validator\", or give the observer a key of its own or none"
                ));
            }
            let Some((network, id)) = certificate else {
                return Err(
                    "the [network] table is missing: consensus.role = \"observer\" follows the \
                     validators over the network"
                        .into(),
                );
            };
            if let Ok(a) = id.parse::<Address>()
                && is_validator(&a)
            {
                return Err(format!(
                    "network.node_dir ({}): this observer's certificate carries node id {id}, \
                     the address of a genesis validator, so peers would take it for that \
                     validator; issue the observer a certificate with a node id of its own",
                    network.node_dir.display()
                ));
            }
        }
    }
    Ok(())
}

/// The validators' addresses for an error message, at most a few.
fn list(validators: &[GenesisValidator]) -> String {
    const SHOWN: usize = 5;
    if validators.is_empty() {
        return "none, genesis.validators is empty".into();
    }
    let mut text = validators
        .iter()
        .take(SHOWN)
        .map(|v| v.address.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if validators.len() > SHOWN {
        text.push_str(&format!(" and {} more", validators.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloy_primitives::Bytes;
    use banyan_network::{ChainCa, SubjectAltName, Validity};
    use banyan_primitives::Genesis;

    /// `[operator]` and `[[identity.issuers]]`: the token and keys load, and each mistake is
    /// refused naming its key.
    #[test]
    fn issuing_keys_need_the_operators_token_and_are_checked_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let suite = Suite::Ecdsa;
        let key = suite.generate_secret();
        std::fs::write(
            path("issuer.key"),
            alloy_primitives::hex::encode(key.to_bytes()),
        )
        .unwrap();
        std::fs::write(path("ed.key"), "0x".to_string() + &"ab".repeat(32)).unwrap();
        std::fs::write(path("token"), "t".repeat(40)).unwrap();
        std::fs::write(path("short"), "t".repeat(8)).unwrap();
        let load = |text: &str| {
            let file: FileConfig = toml::from_str(&format!(
                "[node]\ndata_dir = \"d\"\ngenesis = \"g\"\n{text}"
            ))
            .unwrap();
            load_issuing(
                file.operator,
                file.identity,
                suite,
                |p| dir.path().join(p),
                &Passphrase::new(None),
            )
        };
        let issuer =
            "[[identity.issuers]]\nkey_file = \"issuer.key\"\ned25519_key_file = \"ed.key\"\n";
        let issuing = load(&format!("[operator]\ntoken_file = \"token\"\n{issuer}")).unwrap();
        assert!(
            issuing
                .token
                .as_ref()
                .unwrap()
                .admits(Some(&format!("Bearer {}", "t".repeat(40))))
        );
        assert_eq!(issuing.issuers.len(), 1);
        assert_eq!(issuing.issuers[0].ed25519, Some([0xab; 32]));
        assert!(load("").unwrap().token.is_none());

        let without_token = load(issuer).unwrap_err();
        assert!(
            without_token.contains("needs operator.token_file"),
            "{without_token}"
        );
        let short = load("[operator]\ntoken_file = \"short\"\n").unwrap_err();
        assert!(short.contains("operator.token_file"), "{short}");
        let missing = load("[operator]\ntoken_file = \"nowhere\"\n").unwrap_err();
        assert!(missing.contains("cannot read"), "{missing}");
        let twice = load(&format!(
            "[operator]\ntoken_file = \"token\"\n{issuer}{issuer}"
        ))
        .unwrap_err();
        assert!(twice.contains("identity.issuers[1]: issuer"), "{twice}");
        std::fs::write(
            path("sm.key"),
            format!("sm:{}", alloy_primitives::hex::encode(key.to_bytes())),
        )
        .unwrap();
        let other_suite = load(
            "[operator]\ntoken_file = \"token\"\n[[identity.issuers]]\nkey_file = \"sm.key\"\n",
        )
        .unwrap_err();
        assert!(
            other_suite.contains("identity.issuers[0].key_file"),
            "{other_suite}"
        );
        std::fs::write(path("ed.key"), "abcd").unwrap();
        let short_seed =
            load(&format!("[operator]\ntoken_file = \"token\"\n{issuer}")).unwrap_err();
        assert!(short_seed.contains("ed25519_key_file"), "{short_seed}");
    }

    /// The example in docs/configuration.md is a valid configuration file.
    #[test]
    fn documented_example_parses() {
        let doc = include_str!("../../../docs/configuration.md");
        let example = doc
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap();
        let file: FileConfig = toml::from_str(example).unwrap();
        assert_eq!(
            file.metrics.listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9545)))
        );
        let network = file.network.unwrap();
        assert_eq!(network.listen, SocketAddr::from(([127, 0, 0, 1], 26656)));
        assert_eq!(network.peers.len(), 3);
        assert_eq!(network.crl, Some(PathBuf::from("crl.pem")));
        assert_eq!(file.consensus.role, Role::Validator);
        assert_eq!(
            file.consensus.wal_dir,
            Some(PathBuf::from("data/consensus"))
        );
    }

    #[test]
    fn metrics_table_is_optional_and_strict() {
        let node = "[node]\ndata_dir = \"d\"\ngenesis = \"g\"\nvalidator_key_file = \"k\"\n";
        let file: FileConfig = toml::from_str(node).unwrap();
        assert_eq!(file.metrics.listen, None);
        let err = toml::from_str::<FileConfig>(&format!("{node}[metrics]\nport = 9545\n"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("unknown field `port`"), "{err}");
    }

    #[test]
    fn network_and_consensus_tables_are_strict() {
        let node = "[node]\ndata_dir = \"d\"\ngenesis = \"g\"\n";
        let file: FileConfig = toml::from_str(node).unwrap();
        assert!(file.network.is_none());
        assert!(file.node.validator_key_file.is_none());
        let network = "[network]\nlisten = \"127.0.0.1:1\"\nca_cert = \"c\"\nnode_dir = \"n\"\n";
        let file: FileConfig = toml::from_str(&format!("{node}{network}")).unwrap();
        assert_eq!(file.network.unwrap().max_peers, DEFAULT_MAX_PEERS);
        for (bad, word) in [
            (
                format!("{node}{network}seeds = []\n"),
                "unknown field `seeds`",
            ),
            (
                format!("{node}[network]\nlisten = \"127.0.0.1:1\"\nca_cert = \"c\"\n"),
                "missing field `node_dir`",
            ),
            (
                format!("{node}[consensus]\ntimeout_commit_ms = 1\n"),
                "unknown field `timeout_commit_ms`",
            ),
            (format!("{node}[consensus]\nrole = \"leader\"\n"), "leader"),
        ] {
            let err = toml::from_str::<FileConfig>(&bad).err().unwrap();
            assert!(err.to_string().contains(word), "{bad}: {err}");
        }
    }

    #[test]
    fn a_node_alone_on_its_chain_dials_nobody() {
        let dir = tempfile::tempdir().unwrap();
        assert!(dials_itself(
            "0.0.0.0:7000".parse().unwrap(),
            "127.0.0.1:7000".parse().unwrap()
        ));
        assert!(!dials_itself(
            "0.0.0.0:7000".parse().unwrap(),
            "127.0.0.1:7001".parse().unwrap()
        ));
        let data = DataDir::Path(dir.path().join("data"));
        let config = NodeConfig::new(data, test_genesis(&[key(1)]), key(1));
        validate(&config).unwrap();
        assert_eq!(
            config.consensus.wal_dir,
            Some(dir.path().join("data").join(CONSENSUS_WAL_SUBDIR))
        );
        let memory = NodeConfig::new(DataDir::Memory, test_genesis(&[key(1)]), key(1));
        assert_eq!(memory.consensus.wal_dir, None);
    }

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_bytes(&[seed; 32]).unwrap()
    }

    fn address(key: &SecretKey) -> Address {
        Suite::Ecdsa.address(&Suite::Ecdsa.public_key(key).unwrap())
    }

    fn test_genesis(validators: &[SecretKey]) -> Genesis {
        let suite = Suite::Ecdsa;
        Genesis {
            chain_id: 4242,
            suite,
            timestamp: 0,
            gas_limit: 30_000_000,
            alloc: Default::default(),
            modules: Default::default(),
            validators: validators
                .iter()
                .map(|k| {
                    let public = suite.public_key(k).unwrap();
                    GenesisValidator {
                        address: suite.address(&public),
                        public_key: Bytes::copy_from_slice(&public.to_bytes()),
                        power: 1,
                    }
                })
                .collect(),
        }
    }

    /// A chain of `n` validators on disk: genesis, CA, CRL, and per validator `i` a key file
    /// `key{i}.key` and a certificate in `tls{i}/` whose node id is its address.
    struct Chain {
        dir: tempfile::TempDir,
        keys: Vec<SecretKey>,
        ca: ChainCa,
    }

    impl Chain {
        fn new(n: u8) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let keys: Vec<SecretKey> = (1..=n).map(key).collect();
            std::fs::write(
                dir.path().join("genesis.json"),
                test_genesis(&keys).to_json(),
            )
            .unwrap();
            let ca = ChainCa::generate("test-chain", 4242, Validity::days_from_now(30)).unwrap();
            ca.to_pem_files(&dir.path().join("ca")).unwrap();
            ca.revoke(None, &[])
                .unwrap()
                .save(&dir.path().join("crl.pem"))
                .unwrap();
            let chain = Self { dir, keys, ca };
            for (i, k) in chain.keys.iter().enumerate() {
                std::fs::write(chain.path(&format!("key{i}.key")), k.to_hex()).unwrap();
                chain.issue(&format!("tls{i}"), &address(k).to_string());
            }
            chain
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }

        /// Writes a certificate for `node_id` into `folder`.
        fn issue(&self, folder: &str, node_id: &str) {
            let sans = ["127.0.0.1".parse::<SubjectAltName>().unwrap()];
            self.ca
                .issue_node_cert(folder, node_id, &sans, Validity::days_from_now(10))
                .unwrap()
                .save(&self.path(folder))
                .unwrap();
        }

        /// The configuration of validator `i`, dialing every other validator.
        fn config(&self, i: usize) -> String {
            let port = |j: usize| 26656 + j;
            let peers: Vec<String> = (0..self.keys.len())
                .filter(|&j| j != i)
                .map(|j| format!("\"127.0.0.1:{}\"", port(j)))
                .collect();
            format!(
                "[node]\ndata_dir = \"data{i}\"\ngenesis = \"genesis.json\"\n\
                 validator_key_file = \"key{i}.key\"\n\n\
                 [network]\nlisten = \"127.0.0.1:{}\"\nca_cert = \"ca/ca.crt\"\n\
                 node_dir = \"tls{i}\"\ncrl = \"crl.pem\"\npeers = [{}]\n",
                port(i),
                peers.join(", ")
            )
        }

        fn load(&self, toml: &str) -> Result<NodeConfig, String> {
            let path = self.path("node.toml");
            std::fs::write(&path, toml).unwrap();
            load_config(&path).map_err(|e| e.to_string())
        }

        /// Loads `toml`, which must fail, and checks the error names the file and `words`.
        fn refuses(&self, toml: &str, words: &[&str]) -> String {
            let err = self.load(toml).err().unwrap();
            assert!(err.contains("node.toml"), "{err}");
            for word in words {
                assert!(err.contains(word), "expected {word:?} in: {err}");
            }
            err
        }
    }

    #[test]
    fn a_validator_loads_with_resolved_paths_and_defaults() {
        let chain = Chain::new(4);
        let config = chain.load(&chain.config(2)).unwrap();
        let network = config.network.unwrap();
        assert_eq!(network.ca_cert, chain.path("ca/ca.crt"));
        assert_eq!(network.node_dir, chain.path("tls2"));
        assert_eq!(network.crl, Some(chain.path("crl.pem")));
        assert_eq!(network.peers.len(), 3);
        assert_eq!(network.max_peers, DEFAULT_MAX_PEERS);
        assert_eq!(
            network
                .tls
                .local_identity()
                .node_id()
                .parse::<Address>()
                .unwrap(),
            address(&chain.keys[2])
        );
        assert_eq!(address(&config.validator_key), address(&chain.keys[2]));
        assert_eq!(config.validator_key_file, Some(chain.path("key2.key")));
        let c = &config.consensus;
        assert_eq!(c.role, Role::Validator);
        assert_eq!(
            (
                c.timeout_propose_ms,
                c.timeout_prevote_ms,
                c.timeout_precommit_ms
            ),
            (3_000, 1_000, 1_000)
        );
        assert_eq!(c.target_block_ms, 1_000);
        assert_eq!(c.wal_dir, Some(chain.path("data2").join("consensus")));

        let custom = format!(
            "{}\n[consensus]\nwal_dir = \"wal\"\ntarget_block_ms = 250\n",
            chain.config(2)
        );
        let config = chain.load(&custom).unwrap();
        assert_eq!(config.consensus.wal_dir, Some(chain.path("wal")));
        assert_eq!(config.consensus.target_block_ms, 250);
    }

    #[test]
    fn a_validator_key_outside_genesis_is_refused_naming_the_expected_address() {
        let chain = Chain::new(2);
        std::fs::write(chain.path("other.key"), key(9).to_hex()).unwrap();
        let toml = chain.config(0).replace("key0.key", "other.key");
        let expected = address(&chain.keys[0]).to_string();
        let stranger = address(&key(9)).to_string();
        chain.refuses(
            &toml,
            &["node.validator_key_file", &stranger, "expected", &expected],
        );
    }

    #[test]
    fn a_validator_certificate_must_carry_its_address() {
        let chain = Chain::new(2);
        // Validator 1's key with validator 0's certificate.
        let toml = chain.config(0).replace("key0.key", "key1.key");
        let err = chain.refuses(
            &toml,
            &["network.node_dir", &address(&chain.keys[1]).to_string()],
        );
        assert!(err.contains("tls0"), "{err}");
        // Node ids are compared as addresses: lower case is the same node id.
        chain.issue("lower0", &format!("{:#x}", address(&chain.keys[0])));
        chain
            .load(&chain.config(0).replace("tls0", "lower0"))
            .unwrap();
    }

    #[test]
    fn a_validator_needs_a_key_file() {
        let chain = Chain::new(2);
        let toml = chain
            .config(0)
            .replace("validator_key_file = \"key0.key\"\n", "");
        chain.refuses(&toml, &["node.validator_key_file is missing"]);
        let toml = chain.config(0).replace("key0.key", "absent.key");
        chain.refuses(&toml, &["node.validator_key_file", "absent.key"]);
    }

    #[test]
    fn a_key_file_for_another_suite_is_refused() {
        let chain = Chain::new(2);
        let hex = chain.keys[0].to_hex();
        std::fs::write(chain.path("key0.key"), format!("sm:{hex}\n")).unwrap();
        chain.refuses(&chain.config(0), &["node.validator_key_file", "sm suite"]);
        // `banyan account new`'s format for the right suite is accepted.
        std::fs::write(chain.path("key0.key"), format!("ecdsa:{hex}\n")).unwrap();
        chain.load(&chain.config(0)).unwrap();
    }

    #[test]
    fn an_encrypted_validator_key_is_read_with_its_passphrase_file() {
        use banyan_crypto::keystore;
        let chain = Chain::new(2);
        let sealed =
            keystore::encrypt(Suite::Ecdsa, &chain.keys[0], "s3cret pass", keystore::LIGHT)
                .unwrap();
        std::fs::write(chain.path("key0.key"), sealed).unwrap();
        std::fs::write(chain.path("pass"), "s3cret pass\nignored second line\n").unwrap();
        let with_pass = chain.config(0).replace(
            "validator_key_file = \"key0.key\"\n",
            "validator_key_file = \"key0.key\"\npassphrase_file = \"pass\"\n",
        );
        let loaded = chain.load(&with_pass).unwrap();
        assert_eq!(loaded.validator_key.to_bytes(), chain.keys[0].to_bytes());
        // Wrong passphrase, no passphrase, an empty passphrase file: each named.
        std::fs::write(chain.path("pass"), "not it\n").unwrap();
        chain.refuses(&with_pass, &["node.validator_key_file", "wrong passphrase"]);
        std::fs::write(chain.path("pass"), "\n").unwrap();
        chain.refuses(&with_pass, &["node.passphrase_file", "empty"]);
        if std::env::var_os(PASSPHRASE_ENV).is_none() {
            chain.refuses(
                &chain.config(0),
                &["node.validator_key_file", "encrypted", PASSPHRASE_ENV],
            );
        }
        // An SM keystore on an ecdsa chain is refused before any passphrase is asked for.
        let sm = keystore::encrypt(
            Suite::Sm,
            &Suite::Sm.generate_secret(),
            "x",
            keystore::LIGHT,
        )
        .unwrap();
        std::fs::write(chain.path("key0.key"), sm).unwrap();
        chain.refuses(&chain.config(0), &["node.validator_key_file", "sm suite"]);
    }

    #[test]
    fn an_observer_may_not_use_a_validator_key() {
        let chain = Chain::new(2);
        let toml = format!("{}\n[consensus]\nrole = \"observer\"\n", chain.config(0));
        chain.refuses(&toml, &["observer", &address(&chain.keys[0]).to_string()]);
    }

    #[test]
    fn an_observer_without_a_key_loads_and_is_no_validator() {
        let chain = Chain::new(2);
        let observer = address(&key(7)).to_string();
        chain.issue("tls-observer", &observer);
        let toml = chain
            .config(0)
            .replace("validator_key_file = \"key0.key\"\n", "")
            .replace("tls0", "tls-observer")
            .replace("127.0.0.1:26656", "127.0.0.1:26700");
        let config = chain
            .load(&format!("{toml}\n[consensus]\nrole = \"observer\"\n"))
            .unwrap();
        assert_eq!(config.consensus.role, Role::Observer);
        assert_eq!(config.validator_key_file, None);
        let own = address(&config.validator_key);
        assert!(config.genesis.validators.iter().all(|v| v.address != own));
    }

    #[test]
    fn an_observer_may_not_carry_a_validator_certificate() {
        let chain = Chain::new(2);
        let toml = chain
            .config(0)
            .replace("validator_key_file = \"key0.key\"\n", "");
        chain.refuses(
            &format!("{toml}\n[consensus]\nrole = \"observer\"\n"),
            &[
                "network.node_dir",
                "observer",
                &address(&chain.keys[0]).to_string(),
            ],
        );
    }

    #[test]
    fn network_is_required_for_several_validators_and_for_observers() {
        let chain = Chain::new(2);
        let without_network = chain
            .config(0)
            .split("[network]")
            .next()
            .unwrap()
            .to_owned();
        chain.refuses(&without_network, &["[network]", "2 validators"]);

        let alone = Chain::new(1);
        let without_network = alone
            .config(0)
            .split("[network]")
            .next()
            .unwrap()
            .to_owned();
        let config = alone.load(&without_network).unwrap();
        assert!(config.network.is_none());
        std::fs::write(alone.path("observer.key"), key(7).to_hex()).unwrap();
        let observer = format!(
            "{}\n[consensus]\nrole = \"observer\"\n",
            without_network.replace("key0.key", "observer.key")
        );
        alone.refuses(&observer, &["[network]", "observer"]);
    }

    #[test]
    fn peers_are_checked() {
        let chain = Chain::new(3);
        let toml = chain.config(0);
        chain.refuses(
            &toml.replace("127.0.0.1:26657", "127.0.0.1:26656"),
            &["network.peers", "127.0.0.1:26656", "itself"],
        );
        chain.refuses(
            &toml.replace("127.0.0.1:26658", "127.0.0.1:26657"),
            &["network.peers", "127.0.0.1:26657", "twice"],
        );
        chain.refuses(
            &format!("{toml}max_peers = 1\n"),
            &["network.peers lists 2", "network.max_peers = 1"],
        );
        chain.refuses(
            &format!("{toml}max_peers = 0\n"),
            &["network.max_peers = 0"],
        );
        chain.refuses(
            &format!("{toml}max_peers = {}\n", MAX_PEERS_LIMIT + 1),
            &["network.max_peers = 1001"],
        );
    }

    #[test]
    fn consensus_times_are_bounded() {
        let chain = Chain::new(2);
        for key in [
            "timeout_propose_ms",
            "timeout_prevote_ms",
            "timeout_precommit_ms",
            "target_block_ms",
        ] {
            for value in [0, MAX_CONSENSUS_MS + 1] {
                let toml = format!("{}\n[consensus]\n{key} = {value}\n", chain.config(0));
                chain.refuses(&toml, &[&format!("consensus.{key} = {value}")]);
            }
        }
    }

    #[test]
    fn tls_errors_name_the_key_and_the_file() {
        let chain = Chain::new(2);
        let toml = chain.config(0);
        chain.refuses(
            &toml.replace("ca/ca.crt", "ca/missing.crt"),
            &["network.ca_cert", "missing.crt"],
        );
        chain.refuses(
            &toml.replace("tls0", "tls-missing"),
            &["network.node_dir", "tls-missing"],
        );
        // A node key that is not the certificate's.
        std::fs::copy(chain.path("tls1/node.key"), chain.path("tls0/node.key")).unwrap();
        chain.refuses(&toml, &["network.node_dir", "tls0", "does not belong"]);

        // A CA and CRL of another chain.
        let other = Chain::new(2);
        let foreign_ca = other.path("ca/ca.crt");
        let foreign_crl = other.path("crl.pem");
        let toml = chain.config(1);
        // Without our CRL, which that CA did not sign either (that is the next case).
        let without_crl = toml.replace("crl = \"crl.pem\"\n", "");
        chain.refuses(
            &without_crl.replace("ca/ca.crt", foreign_ca.to_str().unwrap()),
            &["network.node_dir, checked against network.ca_cert", "tls1"],
        );
        chain.refuses(
            &toml.replace("crl.pem", foreign_crl.to_str().unwrap()),
            &["network.crl", "signature does not verify"],
        );
        std::fs::write(chain.path("garbage.crt"), "not a certificate").unwrap();
        chain.refuses(
            &toml.replace("ca/ca.crt", "garbage.crt"),
            &["network.ca_cert", "garbage.crt"],
        );
    }
}
