//! Throughput of `RedbStore` through the `KvStore` trait: durable batched writes and random point
//! reads, on a temporary directory.
//!
//! `cargo bench -p banyan-storage` runs 1000 durable batches of 100 random 32-byte keys with
//! 100-byte values, bulk-loads to 1,000,000 keys, reopens (timed: the open verifies the file)
//! and does 200,000 random point reads.
//! Scale it with `BANYAN_BENCH_SCALE` (a divisor, e.g. `10` for a quick run). With
//! `BANYAN_BENCH_ENCRYPTED=ecdsa` (AES-256-GCM) or `=sm` (SM4-GCM) the store is encrypted at rest,
//! as a node with a data key opens it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use std::sync::Arc;

use banyan_crypto::Suite;
use banyan_crypto::at_rest::DataCipher;
use banyan_storage::{KvStore, Table, ValueCipher, WriteBatch, open_redb_with};

/// The node's AEAD as the store's cipher.
struct Aead(DataCipher);

impl ValueCipher for Aead {
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

const BATCHES: usize = 1000;
const KEYS_PER_BATCH: usize = 100;
const TOTAL_KEYS: usize = 1_000_000;
const LOAD_KEYS_PER_BATCH: usize = 10_000;
const READS: usize = 200_000;

/// splitmix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

fn report(what: &str, ops: usize, unit: &str, took: Duration) {
    let rate = ops as f64 / took.as_secs_f64();
    println!(
        "{what:40} {ops:>9} {unit:7} in {:>7.2} s = {rate:>10.0} {unit}/s",
        took.as_secs_f64()
    );
}

fn dir_bytes(path: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path)? {
        let meta = entry?.metadata()?;
        total += meta.len();
    }
    Ok(total)
}

fn write_keys(store: &dyn KvStore, keys: &[Vec<u8>], rng: &mut Rng) -> Result<(), Box<dyn Error>> {
    let mut batch = WriteBatch::default();
    for key in keys {
        batch.put(Table::TrieNodes, key.clone(), rng.bytes(100));
    }
    store.write(batch)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let scale: usize = std::env::var("BANYAN_BENCH_SCALE").map_or(Ok(1), |s| s.parse())?;
    let (batches, total_keys, reads) = (BATCHES / scale, TOTAL_KEYS / scale, READS / scale);
    let dir = tempfile::tempdir()?;
    let mut rng = Rng(1);
    let keys: Vec<Vec<u8>> = (0..total_keys).map(|_| rng.bytes(32)).collect();
    let written = batches * KEYS_PER_BATCH;
    let cipher: Option<Arc<dyn ValueCipher>> = match std::env::var("BANYAN_BENCH_ENCRYPTED") {
        Ok(suite) => {
            let suite: Suite = suite.parse()?;
            let cipher = DataCipher::new(suite, suite.generate_symmetric_key())?;
            println!("encrypted at rest with {}", cipher.algorithm());
            Some(Arc::new(Aead(cipher)))
        }
        Err(_) => None,
    };
    let open_redb = |path: &Path| open_redb_with(path, cipher.clone());

    let store = open_redb(dir.path())?;
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(batches);
    for chunk in keys[..written].chunks(KEYS_PER_BATCH) {
        let commit = Instant::now();
        write_keys(&*store, chunk, &mut rng)?;
        latencies.push(commit.elapsed());
    }
    report(
        "durable batches of 100 keys",
        batches,
        "batches",
        start.elapsed(),
    );
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    let p99 = latencies[latencies.len() * 99 / 100];
    println!("{:40} p50 {p50:.2?}, p99 {p99:.2?}", "commit latency");

    let start = Instant::now();
    for chunk in keys[written..].chunks(LOAD_KEYS_PER_BATCH) {
        write_keys(&*store, chunk, &mut rng)?;
    }
    report(
        "bulk load in 10k-key batches",
        total_keys - written,
        "keys",
        start.elapsed(),
    );
    drop(store);
    let mib = dir_bytes(dir.path())? as f64 / (1024.0 * 1024.0);
    println!("{:40} {mib:.1} MiB for {total_keys} keys", "disk use");

    let start = Instant::now();
    let store = open_redb(dir.path())?;
    let took = start.elapsed().as_secs_f64();
    println!("{:40} {took:.2} s (verifies every page)", "reopen");

    let start = Instant::now();
    for _ in 0..reads {
        let key = &keys[(rng.next_u64() % total_keys as u64) as usize];
        if store.get(Table::TrieNodes, key)?.is_none() {
            return Err("a written key was not found".into());
        }
    }
    report(
        "random point reads after reopen",
        reads,
        "reads",
        start.elapsed(),
    );
    Ok(())
}
