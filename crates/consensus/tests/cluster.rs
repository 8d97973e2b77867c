//! Four validators in one process, each with its own engine, WAL, safety guard and mutual-TLS
//! network on 127.0.0.1, over a minimal in-memory chain. Checks that they agree on every block,
//! that every block carries a certificate any client can verify, and that a validator that
//! re-executes to a different result refuses to vote for a block.
//!
//! The chain here has no transactions or state: its "state root" is a hash chain, so that a
//! proposer can be made to lie about it. The node crate runs the same engine over real blocks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, Bytes};
use banyan_consensus::host::{self, AppError, Application, ConsensusSettings, Role, Verdict};
use banyan_consensus::network::NetworkConfig;
use banyan_consensus::{BanyanContext, ValidatorSet};
use banyan_crypto::{SecretKey, Suite};
use banyan_network::{ChainCa, TlsConfig, Validity};
use banyan_primitives::consensus::{
    ChainBinding, CommitCertificate, ValidatorSet as CheckedSet, verify_commit_certificate,
};
use banyan_primitives::{Block, GenesisValidator, Header, SealedHeader};
use malachitebft_app_channel::app::types::core::LinearTimeouts;
use parking_lot::Mutex;

struct ToyChain {
    suite: Suite,
    key: SecretKey,
    own: Address,
    validators: HashMap<Address, banyan_crypto::PublicKey>,
    set: ValidatorSet,
    blocks: Mutex<Vec<(Block, Option<CommitCertificate>)>>,
    proposals: Mutex<HashMap<B256, (u64, u32, Block)>>,
    /// When set, this node proposes blocks with a wrong state root.
    lie: AtomicBool,
}

fn expected_state_root(suite: Suite, parent: &Header) -> B256 {
    suite.hash(parent.state_root.as_slice())
}

impl ToyChain {
    fn new(suite: Suite, key: SecretKey, set: &[GenesisValidator]) -> Self {
        let own = suite.address(&suite.public_key(&key).unwrap());
        let genesis = Block {
            header: SealedHeader {
                header: Header {
                    number: 0,
                    state_root: suite.hash(b"genesis"),
                    ..Header::default()
                },
                signature: Bytes::new(),
            },
            transactions: vec![],
        };
        Self {
            suite,
            key,
            own,
            set: ValidatorSet::from_checked(&CheckedSet::new(suite, set).unwrap()),
            validators: set
                .iter()
                .map(|v| {
                    (
                        v.address,
                        banyan_crypto::PublicKey::from_bytes(suite, &v.public_key).unwrap(),
                    )
                })
                .collect(),
            blocks: Mutex::new(vec![(genesis, None)]),
            proposals: Mutex::new(HashMap::new()),
            lie: AtomicBool::new(false),
        }
    }

    fn hash_at(&self, height: u64) -> Option<B256> {
        self.blocks
            .lock()
            .get(height as usize)
            .map(|(b, _)| b.header.header.hash(self.suite))
    }
}

impl Application for ToyChain {
    fn head(&self) -> Result<(u64, B256), AppError> {
        let blocks = self.blocks.lock();
        let (b, _) = blocks.last().unwrap();
        Ok((b.header.header.number, b.header.header.hash(self.suite)))
    }

    fn validators_at(&self, _height: u64) -> Result<ValidatorSet, AppError> {
        Ok(self.set.clone())
    }

    fn build_block(&self, height: u64, _deadline: Instant) -> Result<Block, AppError> {
        let blocks = self.blocks.lock();
        let parent = &blocks.last().unwrap().0.header.header;
        assert_eq!(parent.number + 1, height);
        let mut state_root = expected_state_root(self.suite, parent);
        if self.lie.load(Ordering::SeqCst) {
            state_root = B256::repeat_byte(0xee);
        }
        let header = Header {
            parent_hash: parent.hash(self.suite),
            number: height,
            timestamp: parent.timestamp + 1,
            proposer: self.own,
            state_root,
            ..Header::default()
        };
        let sig = self
            .suite
            .sign(&self.key, header.hash(self.suite).as_slice())
            .unwrap();
        Ok(Block {
            header: SealedHeader {
                header,
                signature: Bytes::from(sig.to_bytes()),
            },
            transactions: vec![],
        })
    }

    fn verify_block(&self, block: &Block) -> Result<Verdict, AppError> {
        let blocks = self.blocks.lock();
        let parent = &blocks.last().unwrap().0.header.header;
        let h = &block.header.header;
        if h.number != parent.number + 1 || h.parent_hash != parent.hash(self.suite) {
            return Ok(Verdict::Invalid("does not extend the head".into()));
        }
        let Some(pk) = self.validators.get(&h.proposer) else {
            return Ok(Verdict::Invalid("proposer is not a validator".into()));
        };
        let sig = banyan_crypto::Signature::from_bytes(&block.header.signature)
            .map_err(AppError::application)?;
        if self
            .suite
            .verify(pk, h.hash(self.suite).as_slice(), &sig)
            .is_err()
        {
            return Ok(Verdict::Invalid("bad seal".into()));
        }
        let expected = expected_state_root(self.suite, parent);
        if h.state_root != expected {
            return Ok(Verdict::Invalid(format!(
                "state root {} but re-execution gives {expected}",
                h.state_root
            )));
        }
        Ok(Verdict::Valid)
    }

    fn commit(&self, block: &Block, certificate: &CommitCertificate) -> Result<(), AppError> {
        let mut blocks = self.blocks.lock();
        let parent = &blocks.last().unwrap().0.header.header;
        if block.header.header.parent_hash != parent.hash(self.suite) {
            return Err(AppError::Refused("commit does not extend the head".into()));
        }
        blocks.push((block.clone(), Some(certificate.clone())));
        let number = block.header.header.number;
        self.proposals.lock().retain(|_, (h, _, _)| *h > number);
        Ok(())
    }

    fn certified_block(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, AppError> {
        Ok(self
            .blocks
            .lock()
            .get(height as usize)
            .and_then(|(b, c)| c.clone().map(|c| (b.clone(), c))))
    }

    fn history_min_height(&self) -> Result<u64, AppError> {
        Ok(1)
    }

    fn store_proposal(&self, height: u64, round: u32, block: &Block) -> Result<(), AppError> {
        self.proposals.lock().insert(
            block.header.header.hash(self.suite),
            (height, round, block.clone()),
        );
        Ok(())
    }

    fn proposal(&self, hash: B256) -> Result<Option<Block>, AppError> {
        Ok(self.proposals.lock().get(&hash).map(|(_, _, b)| b.clone()))
    }

    fn proposals_at(&self, height: u64) -> Result<Vec<(u32, Block)>, AppError> {
        Ok(self
            .proposals
            .lock()
            .values()
            .filter(|(h, _, _)| *h == height)
            .map(|(_, r, b)| (*r, b.clone()))
            .collect())
    }
}

struct Cluster {
    chains: Vec<Arc<ToyChain>>,
    handles: Vec<host::ConsensusHandle>,
    suite: Suite,
    chain: ChainBinding,
    checked: CheckedSet,
    _dirs: Vec<tempfile::TempDir>,
}

fn free_port() -> u16 {
    banyan_testkit::free_port().unwrap()
}

async fn start_cluster(suite: Suite, n: usize) -> Cluster {
    let keys: Vec<SecretKey> = (0..n).map(|_| suite.generate_secret()).collect();
    let set: Vec<GenesisValidator> = keys
        .iter()
        .map(|k| {
            let pk = suite.public_key(k).unwrap();
            GenesisValidator {
                address: suite.address(&pk),
                public_key: Bytes::from(pk.to_bytes().to_vec()),
                power: 1,
            }
        })
        .collect();
    let chain = ChainBinding {
        chain_id: 77,
        genesis_hash: B256::repeat_byte(7),
    };
    let ctx = BanyanContext::new(suite, chain);
    let ca = ChainCa::generate("toy-chain", 77, Validity::days_from_now(30)).unwrap();
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let addrs: Vec<std::net::SocketAddr> = ports
        .iter()
        .map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], *p)))
        .collect();
    let mut chains = Vec::new();
    let mut handles = Vec::new();
    let mut dirs = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let address = set[i].address;
        let identity = ca
            .issue_node_cert(
                &format!("node{i}"),
                &format!("{address}"),
                &["127.0.0.1".parse().unwrap()],
                Validity::days_from_now(10),
            )
            .unwrap();
        let tls = TlsConfig::new(ca.cert_pem(), None, &identity).unwrap();
        let app = Arc::new(ToyChain::new(suite, key.clone(), &set));
        let dir = tempfile::tempdir().unwrap();
        let settings = ConsensusSettings {
            timeouts: LinearTimeouts {
                propose: Duration::from_millis(1500),
                prevote: Duration::from_millis(500),
                precommit: Duration::from_millis(500),
                ..LinearTimeouts::default()
            },
            target_block_time: Duration::from_millis(100),
            wal_dir: dir.path().join("wal"),
            moniker: format!("node{i}"),
            sync_batch: 20,
        };
        let net = NetworkConfig {
            listen: addrs[i],
            peers: addrs.clone(),
            tls,
        };
        let handle = host::start(host::StartArgs {
            ctx: ctx.clone(),
            role: Role::Validator(key.clone()),
            settings,
            network: net,
            app: app.clone(),
            guard_store: banyan_storage::open_memory(),
            sit_out: host::StartSitOut::Nothing,
            gossip: None,
        })
        .await
        .unwrap();
        chains.push(app);
        handles.push(handle);
        dirs.push(dir);
    }
    Cluster {
        chains,
        handles,
        suite,
        chain,
        checked: CheckedSet::new(suite, &set).unwrap(),
        _dirs: dirs,
    }
}

impl Cluster {
    async fn wait_all_at(&self, height: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let heads: Vec<u64> = self.chains.iter().map(|c| c.head().unwrap().0).collect();
            if heads.iter().all(|h| *h >= height) {
                return;
            }
            for h in &self.handles {
                assert!(
                    !h.host.is_finished(),
                    "a host loop stopped; heads {heads:?}"
                );
            }
            assert!(
                Instant::now() < deadline,
                "heads {heads:?} did not reach {height}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every node holds the same hash at every height they all have, and every certificate
    /// verifies against the validator set.
    fn check_agreement(&self) -> u64 {
        let common = self
            .chains
            .iter()
            .map(|c| c.head().unwrap().0)
            .min()
            .unwrap();
        for height in 1..=common {
            let hashes: Vec<B256> = self
                .chains
                .iter()
                .map(|c| c.hash_at(height).unwrap())
                .collect();
            assert!(
                hashes.windows(2).all(|w| w[0] == w[1]),
                "fork at height {height}: {hashes:?}"
            );
            for c in &self.chains {
                let (block, cert) = c.certified_block(height).unwrap().unwrap();
                verify_commit_certificate(
                    self.suite,
                    &self.chain,
                    &self.checked,
                    &cert,
                    height,
                    block.header.header.hash(self.suite),
                )
                .unwrap();
            }
        }
        common
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_agree_on_every_block_with_verifiable_certificates() {
    let cluster = start_cluster(Suite::Ecdsa, 4).await;
    cluster.wait_all_at(15, Duration::from_secs(90)).await;
    assert!(cluster.check_agreement() >= 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sm_chain_votes_are_sm2_and_agree() {
    let cluster = start_cluster(Suite::Sm, 4).await;
    cluster.wait_all_at(5, Duration::from_secs(90)).await;
    let common = cluster.check_agreement();
    // SM2 signatures are 64 bytes (no recovery id): the certificates are made of them.
    let (_, cert) = cluster.chains[0].certified_block(common).unwrap().unwrap();
    assert!(cert.signatures.iter().all(|s| s.signature.len() == 64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_block_with_a_false_state_root_is_never_committed() {
    let cluster = start_cluster(Suite::Ecdsa, 4).await;
    cluster.wait_all_at(2, Duration::from_secs(60)).await;
    // Node 0 now proposes blocks whose state root re-execution does not reproduce.
    cluster.chains[0].lie.store(true, Ordering::SeqCst);
    let start = cluster
        .chains
        .iter()
        .map(|c| c.head().unwrap().0)
        .max()
        .unwrap();
    cluster
        .wait_all_at(start + 8, Duration::from_secs(120))
        .await;
    cluster.check_agreement();
    let liar = cluster.chains[0].own;
    // The liar had its turns: those heights were decided in a later round, by someone else.
    let later_round = (start + 1..=start + 8)
        .filter(|h| {
            cluster.chains[1]
                .certified_block(*h)
                .unwrap()
                .unwrap()
                .1
                .round
                > 0
        })
        .count();
    assert!(later_round >= 1, "the liar never got to propose");
    for c in &cluster.chains {
        for height in 1..=c.head().unwrap().0 {
            let (block, _) = c.certified_block(height).unwrap().unwrap();
            let h = &block.header.header;
            let parent = c.blocks.lock()[height as usize - 1].0.header.header.clone();
            assert_eq!(
                h.state_root,
                expected_state_root(cluster.suite, &parent),
                "height {height} proposed by {} (liar {liar}) was committed with a false root",
                h.proposer
            );
        }
    }
}
