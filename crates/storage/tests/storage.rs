//! Behaviour of both engines (and of redb encrypted at rest) through the `KvStore` trait, and of the redb data directory:
//! reopen, schema version, locking, damaged files and crashes.

// Helpers outside `#[test]` functions panic on failure too: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use banyan_storage::{
    DB_FILE_NAME, KvStore, SCHEMA_VERSION, SCHEMA_VERSION_KEY, StorageError, Table, WriteBatch,
    open_memory, open_redb,
};
use tempfile::TempDir;

/// The node's AEAD (AES-256-GCM under a fresh data key) as the stores' cipher.
struct Aead(banyan_crypto::at_rest::DataCipher);

impl banyan_storage::ValueCipher for Aead {
    fn algorithm(&self) -> &str {
        self.0.algorithm()
    }
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, String> {
        self.0.seal(aad, plaintext).map_err(|e| e.to_string())
    }
    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, String> {
        self.0.open(aad, sealed).map_err(|e| e.to_string())
    }
}

fn aead() -> Arc<dyn banyan_storage::ValueCipher> {
    let suite = banyan_crypto::Suite::Ecdsa;
    Arc::new(Aead(
        banyan_crypto::at_rest::DataCipher::new(suite, suite.generate_symmetric_key()).unwrap(),
    ))
}

/// Runs `check` against a memory store, a fresh redb store and a fresh redb store encrypted at
/// rest (the same behaviour through the trait).
fn on_both_engines(check: impl Fn(&dyn KvStore)) {
    check(&*open_memory());
    let dir = TempDir::new().unwrap();
    check(&*open_redb(dir.path()).unwrap());
    let dir = TempDir::new().unwrap();
    check(&*banyan_storage::open_redb_with(dir.path(), Some(aead())).unwrap());
}

fn put(store: &dyn KvStore, table: Table, key: &[u8], value: &[u8]) {
    let mut batch = WriteBatch::default();
    batch.put(table, key, value);
    store.write(batch).unwrap();
}

fn entry(k: &[u8], v: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (k.to_vec(), v.to_vec())
}

#[test]
fn put_get_delete() {
    on_both_engines(|store| {
        assert_eq!(store.get(Table::Headers, b"k").unwrap(), None);
        put(store, Table::Headers, b"k", b"v1");
        assert_eq!(
            store.get(Table::Headers, b"k").unwrap(),
            Some(b"v1".to_vec())
        );
        put(store, Table::Headers, b"k", b"v2");
        assert_eq!(
            store.get(Table::Headers, b"k").unwrap(),
            Some(b"v2".to_vec())
        );
        // Tables are separate namespaces.
        assert_eq!(store.get(Table::Bodies, b"k").unwrap(), None);
        let mut batch = WriteBatch::default();
        batch.delete(Table::Headers, b"k");
        batch.delete(Table::Headers, b"never-written");
        store.write(batch).unwrap();
        assert_eq!(store.get(Table::Headers, b"k").unwrap(), None);
        // Empty keys and values are ordinary.
        put(store, Table::Code, b"", b"");
        assert_eq!(store.get(Table::Code, b"").unwrap(), Some(Vec::new()));
    });
}

#[test]
fn later_operation_on_a_key_wins_within_a_batch() {
    on_both_engines(|store| {
        let mut batch = WriteBatch::default();
        batch.put(Table::Meta, b"a", b"1");
        batch.delete(Table::Meta, b"a");
        batch.put(Table::Meta, b"b", b"1");
        batch.put(Table::Meta, b"b", b"2");
        batch.put(Table::Logs, b"a", b"3");
        assert_eq!(batch.len(), 5);
        store.write(batch).unwrap();
        assert_eq!(store.get(Table::Meta, b"a").unwrap(), None);
        assert_eq!(store.get(Table::Meta, b"b").unwrap(), Some(b"2".to_vec()));
        assert_eq!(store.get(Table::Logs, b"a").unwrap(), Some(b"3".to_vec()));
    });
}

/// Readers racing a writer see each batch whole or not at all: every batch moves a token from
/// one key to the other (a delete and a put), and one range read (one snapshot) must always see
/// exactly one token.
#[test]
fn concurrent_readers_see_batches_whole() {
    fn check(store: Arc<dyn KvStore>) {
        put(&*store, Table::Meta, b"token-a", b"0");
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 1..=300u32 {
                    let (from, to) = if i % 2 == 1 { ("a", "b") } else { ("b", "a") };
                    let mut batch = WriteBatch::default();
                    batch.delete(Table::Meta, format!("token-{from}"));
                    batch.put(Table::Meta, format!("token-{to}"), i.to_string());
                    store.write(batch).unwrap();
                }
            })
        };
        let mut reads = 0;
        while !writer.is_finished() || reads == 0 {
            let tokens = store.range(Table::Meta, b"token-", b"token.", 10).unwrap();
            assert_eq!(tokens.len(), 1, "saw a torn batch: {tokens:?}");
            reads += 1;
        }
        writer.join().unwrap();
        let tokens = store.range(Table::Meta, b"token-", b"token.", 10).unwrap();
        assert_eq!(tokens, [entry(b"token-a", b"300")]);
    }
    check(open_memory());
    let dir = TempDir::new().unwrap();
    check(open_redb(dir.path()).unwrap());
}

#[test]
fn range_is_ordered_half_open_and_limited() {
    on_both_engines(|store| {
        let mut batch = WriteBatch::default();
        for key in [b"c".as_slice(), b"a", b"b\xff", b"b", b"d", b"ba"] {
            batch.put(Table::TxLookup, key, [key, b"!"].concat());
        }
        batch.put(Table::Receipts, b"b", b"other table");
        store.write(batch).unwrap();

        let all = store.range(Table::TxLookup, b"", b"\xff", 100).unwrap();
        let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, [b"a".as_slice(), b"b", b"ba", b"b\xff", b"c", b"d"]);
        assert_eq!(all[0], entry(b"a", b"a!"));

        // start is included, end is not.
        let some = store.range(Table::TxLookup, b"b", b"c", 100).unwrap();
        assert_eq!(
            some,
            [
                entry(b"b", b"b!"),
                entry(b"ba", b"ba!"),
                entry(b"b\xff", b"b\xff!")
            ]
        );
        assert_eq!(
            store.range(Table::TxLookup, b"b", b"c", 2).unwrap(),
            some[..2]
        );
        assert!(
            store
                .range(Table::TxLookup, b"b", b"c", 0)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .range(Table::TxLookup, b"c", b"c", 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .range(Table::TxLookup, b"d", b"a", 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .range(Table::Headers, b"", b"\xff", 10)
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn last_is_the_largest_key() {
    on_both_engines(|store| {
        assert_eq!(store.last(Table::BlockHashes).unwrap(), None);
        let mut batch = WriteBatch::default();
        for n in [5u64, 300, 2, 70_000] {
            batch.put(Table::BlockHashes, n.to_be_bytes(), format!("hash{n}"));
        }
        store.write(batch).unwrap();
        let last = store.last(Table::BlockHashes).unwrap();
        assert_eq!(
            last,
            Some((70_000u64.to_be_bytes().to_vec(), b"hash70000".to_vec()))
        );
        let mut batch = WriteBatch::default();
        batch.delete(Table::BlockHashes, 70_000u64.to_be_bytes());
        store.write(batch).unwrap();
        let last = store.last(Table::BlockHashes).unwrap().unwrap();
        assert_eq!(last.0, 300u64.to_be_bytes());
    });
}

#[test]
fn redb_keeps_data_across_reopen() {
    let dir = TempDir::new().unwrap();
    {
        let store = open_redb(dir.path()).unwrap();
        put(&*store, Table::Headers, b"h", b"header");
        put(&*store, Table::ConsensusWal, b"vote", b"signed");
    }
    let store = open_redb(dir.path()).unwrap();
    assert_eq!(
        store.get(Table::Headers, b"h").unwrap(),
        Some(b"header".to_vec())
    );
    assert_eq!(
        store.get(Table::ConsensusWal, b"vote").unwrap(),
        Some(b"signed".to_vec())
    );
    let version = store.get(Table::Meta, SCHEMA_VERSION_KEY).unwrap();
    assert_eq!(version, Some(SCHEMA_VERSION.to_be_bytes().to_vec()));
}

#[test]
fn redb_refuses_another_schema_version() {
    let dir = TempDir::new().unwrap();
    {
        let store = open_redb(dir.path()).unwrap();
        put(
            &*store,
            Table::Meta,
            SCHEMA_VERSION_KEY,
            &7u32.to_be_bytes(),
        );
    }
    let Err(err) = open_redb(dir.path()) else {
        panic!("opened a schema 7 directory")
    };
    assert!(
        matches!(
            err,
            StorageError::SchemaMismatch {
                found: 7,
                supported: SCHEMA_VERSION,
                ..
            }
        ),
        "{err:?}"
    );
    let expected = format!(
        "data directory {} was written by schema version 7, this banyan build understands \
         versions 1 to 2; use a matching release or a fresh data directory",
        dir.path().display()
    );
    assert_eq!(err.to_string(), expected);
}

/// The tables of schema 1, as that release created them: everything before `certificates`.
const SCHEMA_1_TABLES: [&str; 10] = [
    "meta",
    "headers",
    "bodies",
    "receipts",
    "block_hashes",
    "tx_lookup",
    "trie_nodes",
    "code",
    "logs",
    "consensus_wal",
];

/// Writes a schema 1 data directory with raw redb (so the schema 2 tables do not exist) holding
/// one header.
fn write_schema_1_store(dir: &Path) {
    let db = redb::Database::create(dir.join(DB_FILE_NAME)).unwrap();
    let txn = db.begin_write().unwrap();
    for name in SCHEMA_1_TABLES {
        txn.open_table(redb::TableDefinition::<&[u8], &[u8]>::new(name))
            .unwrap();
    }
    {
        let meta = redb::TableDefinition::<&[u8], &[u8]>::new("meta");
        let mut meta = txn.open_table(meta).unwrap();
        meta.insert(SCHEMA_VERSION_KEY, 1u32.to_be_bytes().as_slice())
            .unwrap();
        let headers = redb::TableDefinition::<&[u8], &[u8]>::new("headers");
        let mut headers = txn.open_table(headers).unwrap();
        headers
            .insert(b"h1".as_slice(), b"header".as_slice())
            .unwrap();
    }
    txn.commit().unwrap();
}

#[test]
fn redb_migrates_a_schema_1_directory_to_schema_2() {
    assert_eq!(SCHEMA_VERSION, 2);
    let dir = TempDir::new().unwrap();
    write_schema_1_store(dir.path());
    {
        let store = open_redb(dir.path()).unwrap();
        let version = store.get(Table::Meta, SCHEMA_VERSION_KEY).unwrap();
        assert_eq!(version, Some(2u32.to_be_bytes().to_vec()));
        // Old data is untouched; the new tables exist, empty, and take writes.
        assert_eq!(
            store.get(Table::Headers, b"h1").unwrap(),
            Some(b"header".to_vec())
        );
        for table in [Table::Certificates, Table::Proposals] {
            assert_eq!(store.last(table).unwrap(), None, "{table:?}");
            put(&*store, table, b"k", b"v");
            assert_eq!(store.get(table, b"k").unwrap(), Some(b"v".to_vec()));
        }
    }
    // The migration is durable: the next open finds schema 2 and the new data.
    let store = open_redb(dir.path()).unwrap();
    let version = store.get(Table::Meta, SCHEMA_VERSION_KEY).unwrap();
    assert_eq!(version, Some(2u32.to_be_bytes().to_vec()));
    assert_eq!(
        store.get(Table::Certificates, b"k").unwrap(),
        Some(b"v".to_vec())
    );
}

#[test]
fn redb_refuses_a_newer_or_unknown_older_schema() {
    for found in [3u32, 0] {
        let dir = TempDir::new().unwrap();
        {
            let store = open_redb(dir.path()).unwrap();
            put(
                &*store,
                Table::Meta,
                SCHEMA_VERSION_KEY,
                &found.to_be_bytes(),
            );
        }
        let Err(err) = open_redb(dir.path()) else {
            panic!("opened a schema {found} directory")
        };
        assert!(
            matches!(
                err,
                StorageError::SchemaMismatch { found: f, oldest: 1, supported: 2, .. } if f == found
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(&format!(
                "was written by schema version {found}, this banyan build understands versions \
                 1 to 2"
            )),
            "{err}"
        );
        // Refusing changed nothing: the version is still the one found.
        drop(err);
        let store = banyan_storage::RedbStore::open(dir.path()).unwrap();
        let version = store.get(Table::Meta, SCHEMA_VERSION_KEY).unwrap();
        assert_eq!(version, Some(found.to_be_bytes().to_vec()));
    }
}

#[test]
fn redb_refuses_a_directory_already_open() {
    let dir = TempDir::new().unwrap();
    let _first = open_redb(dir.path()).unwrap();
    let Err(err) = open_redb(dir.path()) else {
        panic!("opened the directory twice")
    };
    assert!(matches!(err, StorageError::Locked(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("is in use by another banyan process"),
        "{err}"
    );
}

#[test]
fn redb_reports_a_garbage_file_as_an_error() {
    let dir = TempDir::new().unwrap();
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join(DB_FILE_NAME), garbage).unwrap();
    let Err(err) = open_redb(dir.path()) else {
        panic!("opened a garbage file")
    };
    assert!(matches!(err, StorageError::Corrupt(_)), "{err:?}");
    assert!(
        err.to_string().contains("is not a banyan database"),
        "{err}"
    );
}

/// A store with data in it, closed; returns the path of its file.
fn populated_store(dir: &Path) -> std::path::PathBuf {
    let store = open_redb(dir).unwrap();
    for n in 0..50u32 {
        let mut batch = WriteBatch::default();
        for j in 0..50u32 {
            batch.put(
                Table::Bodies,
                [n.to_be_bytes(), j.to_be_bytes()].concat(),
                [7; 300],
            );
        }
        store.write(batch).unwrap();
    }
    dir.join(DB_FILE_NAME)
}

#[test]
fn redb_reports_a_truncated_file_as_an_error() {
    let dir = TempDir::new().unwrap();
    let path = populated_store(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..100]).unwrap();
    let Err(err) = open_redb(dir.path()) else {
        panic!("opened a truncated file")
    };
    assert!(matches!(err, StorageError::Corrupt(_)), "{err:?}");
}

/// Damaged pages are found at open, not met later as a panic or as wrong bytes returned.
#[test]
fn redb_reports_damaged_pages_as_corrupt() {
    let dir = TempDir::new().unwrap();
    let path = populated_store(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    for page in bytes.chunks_mut(4096).skip(1) {
        page[100] ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let Err(err) = open_redb(dir.path()) else {
        panic!("opened a damaged file")
    };
    assert!(matches!(err, StorageError::Corrupt(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("restore the data directory from a backup"),
        "{err}"
    );
}

// --- crash test -----------------------------------------------------------------------------

const CRASH_DIR_ENV: &str = "BANYAN_STORAGE_CRASH_DIR";
const KEYS_PER_BATCH: u32 = 20;

/// Batch `n`: `KEYS_PER_BATCH` bodies, the tip in Meta, and the Logs marker moved from `n - 1`
/// to `n` (a delete and a put), so a torn batch shows as a partial set or a stray marker.
fn crash_batch(n: u32) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for j in 0..KEYS_PER_BATCH {
        batch.put(
            Table::Bodies,
            [n.to_be_bytes(), j.to_be_bytes()].concat(),
            vec![n as u8; 512],
        );
    }
    batch.put(Table::Meta, b"tip", n.to_be_bytes());
    if n > 0 {
        batch.delete(Table::Logs, (n - 1).to_be_bytes());
    }
    batch.put(Table::Logs, n.to_be_bytes(), b"marker");
    batch
}

/// The committed tip, after checking that batches `0..=tip` are whole and nothing else exists.
fn check_crashed_store(dir: &Path) -> Option<u32> {
    let store = open_redb(dir).unwrap();
    let tip = store
        .get(Table::Meta, b"tip")
        .unwrap()
        .map(|v| u32::from_be_bytes(v.try_into().unwrap()));
    let bodies = store
        .range(Table::Bodies, b"", &[0xff; 9], usize::MAX)
        .unwrap();
    let markers = store
        .range(Table::Logs, b"", &[0xff; 5], usize::MAX)
        .unwrap();
    let Some(tip) = tip else {
        assert!(bodies.is_empty() && markers.is_empty());
        return None;
    };
    assert_eq!(
        bodies.len() as u32,
        (tip + 1) * KEYS_PER_BATCH,
        "a batch was torn"
    );
    for (i, (key, value)) in bodies.iter().enumerate() {
        let (n, j) = (i as u32 / KEYS_PER_BATCH, i as u32 % KEYS_PER_BATCH);
        assert_eq!(key, &[n.to_be_bytes(), j.to_be_bytes()].concat());
        assert_eq!(value, &vec![n as u8; 512]);
    }
    assert_eq!(markers, [(tip.to_be_bytes().to_vec(), b"marker".to_vec())]);
    Some(tip)
}

/// Child side of `redb_batches_survive_sigkill`: writes batches from the stored tip on, printing
/// each number once its write has returned, until killed.
#[test]
#[ignore = "child process of redb_batches_survive_sigkill"]
fn crash_child_writer() {
    let dir = std::env::var(CRASH_DIR_ENV).expect("run by redb_batches_survive_sigkill");
    let store = open_redb(Path::new(&dir)).unwrap();
    let tip = store.get(Table::Meta, b"tip").unwrap();
    let first = tip.map_or(0, |v| u32::from_be_bytes(v.try_into().unwrap()) + 1);
    for n in first.. {
        store.write(crash_batch(n)).unwrap();
        println!("written {n}");
    }
}

/// A writer process is SIGKILLed mid-stream three times; after each kill every batch it reported
/// as written is there, each batch is whole, and nothing past the one in flight exists. While it
/// runs, the directory is refused to this process as in use.
#[test]
fn redb_batches_survive_sigkill() {
    let dir = TempDir::new().unwrap();
    let mut expected_tip = None;
    for round in 0..3u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut reported = None;
        // Let it write a while, then kill it mid-stream at a different point each round.
        while reported.is_none_or(|n| n < expected_tip.map_or(0, |t| t + 1) + 20) {
            let line = lines.next().expect("child exited early").unwrap();
            if let Some(n) = line.strip_prefix("written ") {
                reported = Some(n.parse::<u32>().unwrap());
            }
        }
        // While the child holds the directory, this process may not open it.
        let in_use = open_redb(dir.path())
            .err()
            .expect("opened a directory held by the child");
        assert!(matches!(in_use, StorageError::Locked(_)), "{in_use:?}");
        std::thread::sleep(Duration::from_millis(7 * round));
        child.kill().unwrap(); // SIGKILL
        for line in lines {
            if let Some(n) = line.unwrap().strip_prefix("written ") {
                reported = Some(n.parse::<u32>().unwrap());
            }
        }
        child.wait().unwrap();

        let reported = reported.unwrap();
        let tip = check_crashed_store(dir.path()).expect("reported batches were lost");
        // Every batch reported as written is there; at most the one in flight beyond it.
        assert!(
            tip == reported || tip == reported + 1,
            "tip {tip}, reported {reported}"
        );
        expected_tip = Some(tip);
    }
}
