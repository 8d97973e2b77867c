//! Commit certificates stored with their blocks and served over JSON-RPC, and the store of
//! proposed blocks: a certified block and its certificate are written together or not at all, a
//! client verifies what `banyan_getCommitCertificate` serves, proposals survive a restart and are
//! pruned by the commit of their height, and damaged stored bytes are errors, never panics.
//! A state snapshot imports into a fresh data directory; one of another chain, into a directory
//! with blocks, whose accounts do not give the certified state root, truncated or foreign is
//! refused, and leaves the directory as it was.

use alloy_primitives::{Address, B256, Bytes};
use banyan_crypto::{SecretKey, Suite};
use banyan_node::{
    BlockConfig, ChainError, ChainStore, DataDir, MAX_PROPOSAL_BYTES, MAX_STORED_PROPOSALS, Node,
    NodeConfig, NodeError, ProposalStore, dev_accounts, dev_genesis,
};
use banyan_primitives::consensus::{
    ChainBinding, CommitCertificate, CommitSignature, ValidatorSet, VoteType,
    verify_commit_certificate, vote_sign_bytes,
};
use banyan_primitives::{Block, GenesisValidator, Header, SealedHeader, height_key};
use banyan_rpc::Backend;
use banyan_storage::{Entry, KvStore, MemoryStore, StorageError, Table, WriteBatch, open_redb};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) const CHAIN_ID: u64 = 4242;

/// A chain of four equal-power validators (the first four dev keys); this node is validator 0
/// and produces a block whenever asked, even an empty one.
pub(crate) fn config(suite: Suite) -> (NodeConfig, Vec<SecretKey>) {
    let accounts = dev_accounts(suite, 4).unwrap();
    let (mut genesis, _) = dev_genesis(suite, CHAIN_ID, &accounts, 1_000).unwrap();
    genesis.validators = accounts
        .iter()
        .map(|a| GenesisValidator {
            address: a.address,
            public_key: Bytes::from(suite.public_key(&a.key).unwrap().to_bytes()),
            power: 1,
        })
        .collect();
    let keys: Vec<SecretKey> = accounts.into_iter().map(|a| a.key).collect();
    let mut config = NodeConfig::new(DataDir::Memory, genesis, keys[0].clone());
    config.block = BlockConfig {
        empty_blocks: true,
        ..BlockConfig::default()
    };
    (config, keys)
}

/// A certificate for `block` at `round`, signed by the validators with `keys`, as consensus
/// would assemble it from their precommits.
pub(crate) fn certify(
    node: &Node,
    block: &Block,
    round: u32,
    keys: &[&SecretKey],
) -> CommitCertificate {
    let suite = node.suite();
    let chain = ChainBinding {
        chain_id: CHAIN_ID,
        genesis_hash: node.status().genesis_hash,
    };
    let height = block.header.header.number;
    let hash = block.header.header.hash(suite);
    let signatures = keys
        .iter()
        .map(|key| {
            let validator = suite.address(&suite.public_key(key).unwrap());
            let preimage = vote_sign_bytes(
                &chain,
                VoteType::Precommit,
                height,
                round,
                Some(hash),
                validator,
            );
            CommitSignature {
                validator,
                signature: Bytes::from(suite.sign(key, &preimage).unwrap().to_bytes()),
            }
        })
        .collect();
    CommitCertificate::new(height, round, hash, signatures)
}

/// Block 1 as produced by validator 0 on a node of its own.
fn block_one(config: &NodeConfig) -> Block {
    let producer = Node::open(config).unwrap();
    producer.produce_block().unwrap().unwrap();
    producer.chain().block(1).unwrap().unwrap()
}

/// The client's side of §6: fetch the certificate and the validator set over JSON-RPC and check
/// the certificate against a header it holds, trusting only genesis.
#[tokio::test]
async fn a_certified_block_is_served_over_rpc_and_verifies() {
    for suite in [Suite::Ecdsa, Suite::Sm] {
        let (config, keys) = config(suite);
        let block = block_one(&config);
        let node = Node::open(&config).unwrap();
        let cert = certify(&node, &block, 3, &[&keys[2], &keys[0], &keys[1]]);
        node.import_certified_block(&block, &cert).unwrap();

        // Through the backend: block 1 has the certificate, genesis has none.
        assert_eq!(node.commit_certificate(1).unwrap(), Some(cert.clone()));
        assert_eq!(node.commit_certificate(0).unwrap(), None);

        let rpc_config = banyan_rpc::RpcConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Default::default()
        };
        let backend: Arc<dyn Backend> = node.clone();
        let (addr, server) = banyan_rpc::start(rpc_config, backend).await.unwrap();

        // The client's side, through the SDK (the types the server writes its answers from).
        let client = banyan_sdk::Client::connect(&format!("http://{addr}"))
            .await
            .unwrap();
        let served_cert = client.certificate(1).await.unwrap().expect("certified");
        let set = client
            .validator_set(banyan_sdk::BlockId::Number(1))
            .await
            .unwrap();
        assert_eq!(set.total_power, 4, "{suite}");
        assert_eq!(served_cert, cert, "{suite}");
        let validators = ValidatorSet::new(suite, &set.genesis_validators()).unwrap();
        let chain = ChainBinding {
            chain_id: CHAIN_ID,
            genesis_hash: node.status().genesis_hash,
        };
        let header = node.chain().header(1).unwrap().unwrap().header;
        verify_commit_certificate(
            suite,
            &chain,
            &validators,
            &served_cert,
            header.number,
            header.hash(suite),
        )
        .unwrap();

        // `latest` is block 1; genesis and blocks beyond the head have no certificate.
        let latest: Value = client
            .request("banyan_getCommitCertificate", vec![json!("latest")])
            .await
            .unwrap();
        let served: Value = client
            .request("banyan_getCommitCertificate", vec![json!("0x1")])
            .await
            .unwrap();
        assert_eq!(latest, served, "{suite}");
        for missing in [0, 9] {
            assert_eq!(
                client.certificate(missing).await.unwrap(),
                None,
                "{suite}: {missing}"
            );
        }
        server.stop().unwrap();
        server.stopped().await;
    }
}

/// `banyan dev` is unchanged: a produced block has no certificate.
#[test]
fn a_produced_block_has_no_certificate() {
    let (config, _) = config(Suite::Ecdsa);
    let node = Node::open(&config).unwrap();
    node.produce_block().unwrap().unwrap();
    assert_eq!(node.chain().certificate(1).unwrap(), None);
    assert_eq!(node.commit_certificate(1).unwrap(), None);
}

#[test]
fn a_certificate_that_does_not_prove_the_block_is_refused_and_nothing_is_written() {
    let (config, keys) = config(Suite::Ecdsa);
    let block = block_one(&config);
    let node = Node::open(&config).unwrap();
    // Two of four is not more than 2/3.
    let weak = certify(&node, &block, 0, &[&keys[0], &keys[1]]);
    // Three of four, but for another block.
    let mut other = block.clone();
    other.header.header.timestamp += 1;
    let elsewhere = certify(&node, &other, 0, &[&keys[0], &keys[1], &keys[2]]);
    for (cert, expected) in [
        (weak, "signed by 2 of 4 voting power"),
        (elsewhere, "certificate is for block"),
    ] {
        match node.import_certified_block(&block, &cert) {
            Err(NodeError::InvalidBlock { number: 1, reason }) => {
                assert!(reason.contains(expected), "{reason}")
            }
            other => panic!(
                "expected an invalid certificate, got {:?}",
                other.map(|b| b.hash)
            ),
        }
        assert_eq!(node.head_number(), 0);
        assert_eq!(node.chain().block(1).unwrap(), None);
        assert_eq!(node.chain().certificate(1).unwrap(), None);
    }
}

/// A memory store whose writes fail, without applying anything, while `fail_on` names a table
/// the batch writes: a stand-in for a disk that fails mid-commit.
#[derive(Default)]
struct FailingStore {
    inner: MemoryStore,
    fail_on: Mutex<Option<Table>>,
}

impl KvStore for FailingStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(table, key)
    }
    fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        if let Some(table) = *self.fail_on.lock()
            && batch.ops().iter().any(|op| op.table() == table)
        {
            return Err(StorageError::Engine(format!(
                "injected failure writing {table:?}"
            )));
        }
        self.inner.write(batch)
    }
    fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.inner.range(table, start, end, limit)
    }
    fn last(&self, table: Table) -> Result<Option<Entry>, StorageError> {
        self.inner.last(table)
    }
}

/// Whether the failure hits the write holding the block or the one holding the certificate,
/// neither is stored: they are one write. Had they been two, one of the two runs would leave
/// the other half behind.
#[test]
fn a_block_and_its_certificate_are_written_together_or_not_at_all() {
    let (config, keys) = config(Suite::Ecdsa);
    let block = block_one(&config);
    for fail_on in [Table::Headers, Table::Certificates] {
        let store = Arc::new(FailingStore::default());
        let node = Node::with_store(&config, store.clone()).unwrap();
        let cert = certify(&node, &block, 1, &[&keys[1], &keys[2], &keys[3]]);
        *store.fail_on.lock() = Some(fail_on);
        let err = node.import_certified_block(&block, &cert).err().unwrap();
        assert!(matches!(err, NodeError::Storage(_)), "{err:?}");
        assert_eq!(node.head_number(), 0);
        assert_eq!(node.chain().head().unwrap(), Some(0));
        assert_eq!(node.chain().block(1).unwrap(), None, "failing {fail_on:?}");
        assert_eq!(
            node.chain().certificate(1).unwrap(),
            None,
            "failing {fail_on:?}"
        );
        assert_eq!(store.get(Table::Headers, &height_key(1)).unwrap(), None);
        assert_eq!(
            store.get(Table::Certificates, &height_key(1)).unwrap(),
            None
        );

        // Once the disk works again, the same import stores both.
        *store.fail_on.lock() = None;
        node.import_certified_block(&block, &cert).unwrap();
        assert_eq!(node.chain().block(1).unwrap(), Some(block.clone()));
        assert_eq!(node.chain().certificate(1).unwrap(), Some(cert));
    }
}

#[test]
fn a_damaged_certificate_is_an_error() {
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    let chain = ChainStore::new(store.clone(), Suite::Ecdsa);
    let cert = CommitCertificate::new(7, 0, B256::repeat_byte(1), vec![]);
    let mut batch = WriteBatch::default();
    chain.stage_certificate(&mut batch, &cert);
    // Stored under height 8, but the certificate says 7.
    batch.put(Table::Certificates, height_key(8), cert.encoded());
    let mut trailing = cert.encoded();
    trailing.push(0);
    batch.put(Table::Certificates, height_key(9), trailing);
    batch.put(
        Table::Certificates,
        height_key(10),
        b"\xff\x00garbage".to_vec(),
    );
    store.write(batch).unwrap();

    assert_eq!(chain.certificate(7).unwrap(), Some(cert));
    for number in [8, 9, 10] {
        match chain.certificate(number) {
            Err(ChainError::Corrupt(msg)) => assert!(
                msg.starts_with(&format!("commit certificate of block {number}: ")),
                "{msg}"
            ),
            other => panic!("block {number}: expected a corrupt certificate, got {other:?}"),
        }
    }
}

// --- proposal store ---------------------------------------------------------------------------

/// A block at `number`, told apart from others at that height by `salt`.
fn proposed(number: u64, salt: u8) -> Block {
    Block {
        header: SealedHeader {
            header: Header {
                number,
                timestamp: u64::from(salt),
                proposer: Address::repeat_byte(salt),
                ..Header::default()
            },
            signature: Bytes::from(vec![salt; 65]),
        },
        transactions: vec![Bytes::from(vec![salt; 100])],
    }
}

fn hash(block: &Block) -> B256 {
    block.header.header.hash(Suite::Ecdsa)
}

#[test]
fn proposals_survive_a_restart() {
    let dir = tempfile::TempDir::new().unwrap();
    let (a, b, c) = (proposed(5, 1), proposed(5, 2), proposed(6, 3));
    {
        let proposals = ProposalStore::new(open_redb(dir.path()).unwrap(), Suite::Ecdsa);
        proposals.put_proposal(5, 1, &b).unwrap();
        proposals.put_proposal(5, 0, &a).unwrap();
        proposals.put_proposal(6, 0, &c).unwrap();
    }
    let proposals = ProposalStore::new(open_redb(dir.path()).unwrap(), Suite::Ecdsa);
    assert_eq!(
        proposals.proposal(hash(&a)).unwrap(),
        Some((5, 0, a.clone()))
    );
    assert_eq!(
        proposals.proposal(hash(&c)).unwrap(),
        Some((6, 0, c.clone()))
    );
    assert_eq!(proposals.proposal(B256::repeat_byte(9)).unwrap(), None);
    assert_eq!(proposals.proposals_at(5).unwrap(), vec![(0, a), (1, b)]);
    assert_eq!(proposals.proposals_at(6).unwrap(), vec![(0, c)]);
    assert!(proposals.proposals_at(7).unwrap().is_empty());
}

#[test]
fn committing_a_height_prunes_its_proposals_and_keeps_later_ones() {
    let (config, _) = config(Suite::Ecdsa);
    let node = Node::open(&config).unwrap();
    let proposals = node.proposals();
    let (a, b, next) = (proposed(1, 1), proposed(1, 2), proposed(2, 3));
    proposals.put_proposal(1, 0, &a).unwrap();
    proposals.put_proposal(1, 1, &b).unwrap();
    proposals.put_proposal(2, 0, &next).unwrap();
    assert_eq!(proposals.proposals_at(1).unwrap().len(), 2);

    node.produce_block().unwrap().unwrap();
    assert!(proposals.proposals_at(1).unwrap().is_empty());
    assert_eq!(proposals.proposal(hash(&a)).unwrap(), None);
    assert_eq!(proposals.proposals_at(2).unwrap(), vec![(0, next.clone())]);

    // Pruning on its own stages deletes and writes nothing.
    let mut batch = WriteBatch::default();
    assert_eq!(proposals.prune_proposals_through(&mut batch, 1).unwrap(), 0);
    assert_eq!(proposals.prune_proposals_through(&mut batch, 2).unwrap(), 1);
    assert_eq!(batch.len(), 1);
    assert_eq!(proposals.proposals_at(2).unwrap(), vec![(0, next)]);
}

#[test]
fn damaged_proposals_are_errors_not_panics() {
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    let proposals = ProposalStore::new(store.clone(), Suite::Ecdsa);
    let good = proposed(3, 1);
    proposals.put_proposal(3, 0, &good).unwrap();
    let value = store
        .get(Table::Proposals, hash(&good).as_slice())
        .unwrap()
        .unwrap();
    let mut trailing = value.clone();
    trailing.push(0x80);
    let cases: [(&str, Vec<u8>, Vec<u8>); 5] = [
        ("garbage", vec![1; 32], b"\xf8\xffnot rlp".to_vec()),
        ("trailing bytes", vec![2; 32], trailing),
        ("truncated", vec![3; 32], value[..value.len() - 1].to_vec()),
        ("under another hash", vec![4; 32], value.clone()),
        ("oversized", vec![5; 32], vec![0xc0; MAX_PROPOSAL_BYTES + 1]),
    ];
    for (what, key, bytes) in cases {
        let mut batch = WriteBatch::default();
        batch.put(Table::Proposals, key.clone(), bytes);
        store.write(batch).unwrap();
        let err = proposals.proposal(B256::from_slice(&key)).expect_err(what);
        assert!(matches!(err, ChainError::Corrupt(_)), "{what}: {err:?}");
        assert!(proposals.proposals_at(3).is_err(), "{what}");
        let mut batch = WriteBatch::default();
        assert!(
            proposals.prune_proposals_through(&mut batch, 3).is_err(),
            "{what}"
        );
        let mut batch = WriteBatch::default();
        batch.delete(Table::Proposals, key);
        store.write(batch).unwrap();
    }
    assert_eq!(proposals.proposals_at(3).unwrap(), vec![(0, good)]);
}

#[test]
fn the_proposal_store_refuses_what_exceeds_its_bounds() {
    let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
    let proposals = ProposalStore::new(store, Suite::Ecdsa);
    // A block filed under another height.
    let err = proposals.put_proposal(4, 0, &proposed(5, 1)).unwrap_err();
    assert!(matches!(err, ChainError::Proposal(_)), "{err:?}");
    // A block above the size limit is not written.
    let mut huge = proposed(5, 1);
    huge.transactions = vec![Bytes::from(vec![0; MAX_PROPOSAL_BYTES])];
    let err = proposals.put_proposal(5, 0, &huge).unwrap_err();
    assert!(err.to_string().contains("above the limit"), "{err}");
    assert_eq!(proposals.proposal(hash(&huge)).unwrap(), None);
    // More proposals than the store may hold: scans refuse rather than read without limit.
    for round in 0..=MAX_STORED_PROPOSALS as u32 {
        let mut block = proposed(5, 1);
        block.header.header.timestamp = u64::from(round);
        proposals.put_proposal(5, round, &block).unwrap();
    }
    let err = proposals.proposals_at(5).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("more than {MAX_STORED_PROPOSALS}")),
        "{err}"
    );
}

// Snapshot import refusals: the file is untrusted, and a refused import leaves the data
// directory exactly as it was (it can be retried with a good file).

/// A node holding certified block 1, its snapshot file, and the configuration a fresh node of
/// the same chain would start with (on disk, so that "nothing left behind" can be checked by
/// reopening it).
struct SnapshotCase {
    dir: tempfile::TempDir,
    file: std::path::PathBuf,
    fresh: NodeConfig,
    config: NodeConfig,
}

fn snapshot_case() -> SnapshotCase {
    let (config, keys) = config(Suite::Ecdsa);
    let block = block_one(&config);
    let source = Node::open(&config).unwrap();
    let cert = certify(&source, &block, 0, &[&keys[1], &keys[2], &keys[3]]);
    source.import_certified_block(&block, &cert).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.snap");
    let (height, accounts) = banyan_node::export_snapshot(&source, &file).unwrap();
    assert_eq!(height, 1);
    assert!(accounts > 0);
    let mut fresh = config.clone();
    fresh.data_dir = DataDir::Path(dir.path().join("fresh"));
    SnapshotCase {
        dir,
        file,
        fresh,
        config,
    }
}

/// The fresh node's data directory holds genesis and nothing else.
fn assert_untouched(config: &NodeConfig) {
    let node = Node::open(config).unwrap();
    assert_eq!(node.head_number(), 0);
    assert_eq!(node.chain().block(1).unwrap(), None);
    assert_eq!(node.chain().certificate(1).unwrap(), None);
    assert_eq!(node.chain().history_min().unwrap(), 1);
}

fn refusal(config: &NodeConfig, file: &std::path::Path) -> String {
    banyan_node::import_snapshot(config, file)
        .expect_err("the import must be refused")
        .to_string()
}

/// Rewrites the snapshot at `from` into `to`, letting `edit` change each account record.
fn rewrite_accounts(
    from: &std::path::Path,
    to: &std::path::Path,
    mut edit: impl FnMut(&mut banyan_chain::snapshot::AccountRecord),
) {
    use banyan_chain::snapshot::{AccountRecord, MAGIC, read_record, write_record};
    let bytes = std::fs::read(from).unwrap();
    let mut input = &bytes[MAGIC.len()..];
    let mut out = MAGIC.to_vec();
    let head = read_record(&mut input).unwrap();
    write_record(&mut out, &head).unwrap();
    loop {
        let record = read_record(&mut input).unwrap();
        if record.is_empty() {
            break;
        }
        let mut account: AccountRecord = alloy_rlp::decode_exact(&record[..]).unwrap();
        edit(&mut account);
        write_record(&mut out, &alloy_rlp::encode(&account)).unwrap();
    }
    write_record(&mut out, &[]).unwrap();
    std::fs::write(to, out).unwrap();
}

#[test]
fn a_good_snapshot_imports_and_the_node_starts_after_it() {
    let case = snapshot_case();
    assert_eq!(
        banyan_node::import_snapshot(&case.fresh, &case.file).unwrap(),
        1
    );
    let node = Node::open(&case.fresh).unwrap();
    assert_eq!(node.head_number(), 1);
    assert_eq!(node.chain().history_min().unwrap(), 1);
    let source = Node::open(&case.config).unwrap();
    assert_eq!(node.genesis_hash(), source.genesis_hash());
}

#[test]
fn a_snapshot_of_another_chain_is_refused_and_nothing_is_left() {
    let case = snapshot_case();
    let mut other = case.fresh.clone();
    other.genesis.chain_id += 1;
    other.data_dir = DataDir::Path(case.dir.path().join("other"));
    let reason = refusal(&other, &case.file);
    assert!(
        reason.contains("belongs to the chain with genesis"),
        "{reason}"
    );
    assert_untouched(&other);
}

#[test]
fn a_data_directory_with_blocks_is_refused() {
    let case = snapshot_case();
    banyan_node::import_snapshot(&case.fresh, &case.file).unwrap();
    let reason = refusal(&case.fresh, &case.file);
    assert!(reason.contains("already holds blocks up to 1"), "{reason}");
}

#[test]
fn accounts_that_do_not_give_the_certified_state_root_are_refused_and_nothing_is_left() {
    let case = snapshot_case();
    let forged = case.dir.path().join("forged.snap");
    // One more wei in the first account: everything parses, the certificate still verifies,
    // only the rebuilt state root differs.
    let mut first = true;
    rewrite_accounts(&case.file, &forged, |account| {
        if std::mem::take(&mut first) {
            let mut decoded =
                banyan_state::decode_account(&account.account).expect("an account leaf");
            decoded.balance += alloy_primitives::U256::from(1u64);
            account.account = encode_account(&decoded).into();
        }
    });
    let reason = refusal(&case.fresh, &forged);
    assert!(reason.contains("give state root"), "{reason}");
    assert!(reason.contains("the certified block 1 says"), "{reason}");
    assert_untouched(&case.fresh);
}

#[test]
fn truncated_or_foreign_files_are_refused_and_nothing_is_left() {
    let case = snapshot_case();
    let bytes = std::fs::read(&case.file).unwrap();
    let truncated = case.dir.path().join("truncated.snap");
    std::fs::write(&truncated, &bytes[..bytes.len() - 3]).unwrap();
    let reason = refusal(&case.fresh, &truncated);
    assert!(reason.contains("truncated"), "{reason}");
    let foreign = case.dir.path().join("foreign.snap");
    std::fs::write(&foreign, b"PK\x03\x04 not a snapshot at all").unwrap();
    let reason = refusal(&case.fresh, &foreign);
    assert!(reason.contains("not a Banyan snapshot"), "{reason}");
    assert_untouched(&case.fresh);
}

/// An account leaf as the state tree stores it (RLP of nonce, balance, storage root, code hash).
fn encode_account(a: &banyan_state::Account) -> Vec<u8> {
    #[derive(alloy_rlp::RlpEncodable)]
    struct Leaf {
        nonce: u64,
        balance: alloy_primitives::U256,
        storage_root: B256,
        code_hash: B256,
    }
    alloy_rlp::encode(Leaf {
        nonce: a.nonce,
        balance: a.balance,
        storage_root: a.storage_root,
        code_hash: a.code_hash,
    })
}
