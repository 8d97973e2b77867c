//! The node's Prometheus metrics: block production and the transaction pool.
//!
//! Every metric here is updated by the node; docs/metrics.md lists them with their meaning.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// Handles to the node's metrics; cheap to update from any thread.
#[derive(Clone, Debug)]
pub(crate) struct Metrics {
    block_height: Gauge,
    blocks_committed: Counter,
    transactions_committed: Counter,
    block_commit: Histogram,
    block_transactions: Histogram,
    txpool_transactions: Gauge,
    txpool_rejected: Counter,
    peers: Gauge,
    sync_target_height: Gauge,
    signature_checks: Counter,
    block_build: Histogram,
    block_verify: Histogram,
    block_write: Histogram,
}

impl Metrics {
    /// Registers the metrics under the `banyan_` prefix of `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let m = Self {
            block_height: Gauge::default(),
            blocks_committed: Counter::default(),
            transactions_committed: Counter::default(),
            // 1 ms .. about 16 s.
            block_commit: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            // 1 .. 16384, above the default `max_txs_per_block` of 10 000.
            block_transactions: Histogram::new(exponential_buckets(1.0, 2.0, 15)),
            txpool_transactions: Gauge::default(),
            txpool_rejected: Counter::default(),
            peers: Gauge::default(),
            sync_target_height: Gauge::default(),
            signature_checks: Counter::default(),
            // 1 ms .. about 16 s, as block_commit.
            block_build: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            block_verify: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            block_write: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
        };
        let r = registry.sub_registry_with_prefix("banyan");
        r.register(
            "block_height",
            "Height of the latest committed block",
            m.block_height.clone(),
        );
        // The encoder appends `_total` to counter names.
        r.register(
            "blocks_committed",
            "Blocks committed since the node started (produced or imported)",
            m.blocks_committed.clone(),
        );
        r.register(
            "transactions_committed",
            "Transactions in blocks committed since the node started",
            m.transactions_committed.clone(),
        );
        r.register_with_unit(
            "block_commit",
            "Time to build (or verify) and commit one block",
            Unit::Seconds,
            m.block_commit.clone(),
        );
        r.register(
            "block_transactions",
            "Transactions per committed block",
            m.block_transactions.clone(),
        );
        r.register(
            "txpool_transactions",
            "Transactions waiting in the pool",
            m.txpool_transactions.clone(),
        );
        r.register(
            "txpool_rejected",
            "Transactions refused at submission (bad encoding or signature, known, pool rules)",
            m.txpool_rejected.clone(),
        );
        r.register(
            "peers",
            "Nodes connected over mutual TLS (consensus mode)",
            m.peers.clone(),
        );
        r.register(
            "sync_target_height",
            "Highest height a connected peer reports; the node is syncing while its block_height is below it",
            m.sync_target_height.clone(),
        );
        r.register(
            "signature_checks",
            "Transaction signatures checked (recovered) since the node started; each transaction once per node",
            m.signature_checks.clone(),
        );
        r.register_with_unit(
            "block_build",
            "Time to execute the transactions of a block this node proposes or produces",
            Unit::Seconds,
            m.block_build.clone(),
        );
        r.register_with_unit(
            "block_verify",
            "Time to check a received block: its transactions and its re-execution",
            Unit::Seconds,
            m.block_verify.clone(),
        );
        r.register_with_unit(
            "block_write",
            "Time to write a block, its receipts and state durably",
            Unit::Seconds,
            m.block_write.clone(),
        );
        m
    }

    /// Counts one signature check.
    pub(crate) fn signature_checked(&self) {
        self.signature_checks.inc();
    }

    /// Signature checks so far.
    pub(crate) fn signature_checks(&self) -> u64 {
        self.signature_checks.get()
    }

    /// Records how long executing a block this node builds took.
    pub(crate) fn block_built(&self, elapsed: Duration) {
        self.block_build.observe(elapsed.as_secs_f64());
    }

    /// Records how long checking a received block took.
    pub(crate) fn block_verified(&self, elapsed: Duration) {
        self.block_verify.observe(elapsed.as_secs_f64());
    }

    /// Records how long writing a block took.
    pub(crate) fn block_written(&self, elapsed: Duration) {
        self.block_write.observe(elapsed.as_secs_f64());
    }

    /// Sets the connected peers gauge.
    pub(crate) fn set_peers(&self, peers: usize) {
        self.peers.set(i64::try_from(peers).unwrap_or(i64::MAX));
    }

    /// Sets the highest height reported by a peer.
    pub(crate) fn set_sync_target(&self, height: u64) {
        self.sync_target_height
            .set(i64::try_from(height).unwrap_or(i64::MAX));
    }

    /// Records a committed block at `height` with `txs` transactions that took `elapsed`.
    pub(crate) fn block_committed(&self, height: u64, txs: usize, elapsed: Duration) {
        self.set_block_height(height);
        self.blocks_committed.inc();
        self.transactions_committed.inc_by(txs as u64);
        self.block_commit.observe(elapsed.as_secs_f64());
        self.block_transactions.observe(txs as f64);
    }

    /// Sets the height gauge (also at start, from the stored head).
    pub(crate) fn set_block_height(&self, height: u64) {
        self.block_height
            .set(i64::try_from(height).unwrap_or(i64::MAX));
    }

    /// Sets the pool size gauge.
    pub(crate) fn set_txpool_len(&self, len: usize) {
        self.txpool_transactions
            .set(i64::try_from(len).unwrap_or(i64::MAX));
    }

    /// Counts one refused submission.
    pub(crate) fn txpool_rejected(&self) {
        self.txpool_rejected.inc();
    }
}

/// The registry in the OpenMetrics text format.
pub(crate) fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)?;
    // The consensus engine's own metrics (height, round, consensus time, time per block,
    // signing and verification times, equivocations) live in Malachite's global registry; one
    // exposition carries both, with a single end marker.
    let mut engine = String::new();
    malachitebft_app_channel::app::metrics::export(&mut engine);
    if engine.lines().any(|l| !l.starts_with('#')) {
        if let Some(stripped) = text.strip_suffix("# EOF\n") {
            text.truncate(stripped.len());
        }
        text.push_str(&engine);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn encodes_every_metric_with_its_value() {
        let mut registry = Registry::default();
        let m = Metrics::register(&mut registry);
        m.block_committed(1, 3, Duration::from_millis(3));
        m.block_committed(2, 0, Duration::from_millis(20));
        m.set_txpool_len(5);
        m.txpool_rejected();
        let text = encode(&registry).unwrap();
        let l = lines(&text);
        for expected in [
            "# TYPE banyan_block_height gauge",
            "banyan_block_height 2",
            "# TYPE banyan_blocks_committed counter",
            "banyan_blocks_committed_total 2",
            "banyan_transactions_committed_total 3",
            "# TYPE banyan_block_commit_seconds histogram",
            "# UNIT banyan_block_commit_seconds seconds",
            "banyan_block_commit_seconds_count 2",
            // 3 ms falls in the 4 ms bucket, 20 ms in the 32 ms bucket.
            "banyan_block_commit_seconds_bucket{le=\"0.004\"} 1",
            "banyan_block_commit_seconds_bucket{le=\"0.032\"} 2",
            "banyan_block_transactions_count 2",
            "banyan_block_transactions_sum 3.0",
            "banyan_block_transactions_bucket{le=\"1.0\"} 1",
            "banyan_block_transactions_bucket{le=\"4.0\"} 2",
            "banyan_txpool_transactions 5",
            "banyan_txpool_rejected_total 1",
            "# EOF",
        ] {
            assert!(l.contains(&expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn height_beyond_i64_saturates() {
        let mut registry = Registry::default();
        let m = Metrics::register(&mut registry);
        m.set_block_height(u64::MAX);
        let text = encode(&registry).unwrap();
        assert!(
            lines(&text).contains(&format!("banyan_block_height {}", i64::MAX).as_str()),
            "{text}"
        );
    }
}
