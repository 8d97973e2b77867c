//! Signature checks, each done once per node: a transaction is recovered when it is first
//! admitted (from RPC or gossip), and a block that comes back with it (a proposal, a block to
//! re-execute) reuses that result when its bytes are the ones admitted. Duplicates are found by
//! the hash of the bytes before anything is recovered, and a batch of misses is recovered on
//! every core, in order.

use super::*;
use banyan_primitives::TxError;

/// Below this many, a batch is recovered on the calling thread: starting threads costs more.
const PARALLEL_FROM: usize = 64;

impl Node {
    /// Checks the signature of `raw` and decodes it: every signature check of the node goes
    /// through here, so that `banyan_signature_checks_total` counts them all.
    pub(crate) fn recover(&self, raw: &[u8]) -> Result<RecoveredTx, TxError> {
        self.metrics.signature_checked();
        RecoveredTx::decode(raw, self.suite, self.chain_id)
    }

    /// [`Node::recover`] for each of `raws`, in order, on all cores when there are many: one
    /// thread per core, each with a contiguous share, so the work in flight is bounded by the
    /// batch and nothing queues behind it.
    pub(crate) fn recover_all(&self, raws: &[&[u8]]) -> Vec<Result<RecoveredTx, TxError>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if raws.len() < PARALLEL_FROM || threads < 2 {
            return raws.iter().map(|raw| self.recover(raw)).collect();
        }
        let share = raws.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = raws
                .chunks(share)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|raw| self.recover(raw))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| match w.join() {
                    Ok(results) => results,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    }

    /// The transactions of a block body, checked: one this node holds in its pool with the
    /// same bytes is reused (its signature was checked at admission), the others are recovered
    /// with [`Node::recover_all`]. The error names the first invalid one by index.
    pub(crate) fn resolve_txs(&self, raws: &[Bytes]) -> crate::executor::Resolved {
        let mut resolved: Vec<Option<Arc<RecoveredTx>>> = raws
            .iter()
            .map(|raw| {
                self.pool
                    .get(&RecoveredTx::hash_of(raw, self.suite))
                    .filter(|known| known.encoded()[..] == raw[..])
            })
            .collect();
        let misses: Vec<usize> = (0..raws.len()).filter(|&i| resolved[i].is_none()).collect();
        if !misses.is_empty() {
            let bytes: Vec<&[u8]> = misses.iter().map(|&i| &raws[i][..]).collect();
            for (&i, result) in misses.iter().zip(self.recover_all(&bytes)) {
                resolved[i] = Some(Arc::new(result.map_err(|e| (i, e))?));
            }
        }
        Ok(resolved.into_iter().flatten().collect())
    }

    /// Whether a transaction with this hash is already in the pool or committed.
    pub(super) fn is_known(&self, hash: B256) -> Result<bool, banyan_chain::ChainError> {
        Ok(self.pool.contains(&hash) || self.chain.tx_location(hash)?.is_some())
    }

    /// Transactions a peer gossiped: into the pool if valid (and journaled), never gossiped
    /// again.
    pub fn accept_gossiped(&self, raws: &[Bytes]) {
        let admitted = self.admit_batch(raws);
        self.journal(&admitted);
        self.metrics.set_txpool_len(self.pool.len());
    }

    /// Admits a batch of raw transactions in order and returns those admitted. Those known
    /// already (in the pool, committed, or twice in the batch) are dropped before any
    /// signature check; the rest are recovered on all cores.
    pub(super) fn admit_batch<'a>(&self, raws: &'a [impl AsRef<[u8]>]) -> Vec<&'a [u8]> {
        let mut seen = std::collections::HashSet::with_capacity(raws.len());
        let fresh: Vec<&[u8]> = raws
            .iter()
            .map(AsRef::as_ref)
            .filter(|raw| {
                let hash = RecoveredTx::hash_of(raw, self.suite);
                seen.insert(hash) && !self.is_known(hash).unwrap_or(false)
            })
            .collect();
        let mut admitted = Vec::with_capacity(fresh.len());
        for (raw, result) in fresh.iter().zip(self.recover_all(&fresh)) {
            match result
                .map_err(SubmitError::from)
                .and_then(|tx| self.admit(tx))
            {
                Ok(_) => admitted.push(*raw),
                Err(error) => tracing::trace!("transaction not added: {error}"),
            }
        }
        admitted
    }

    /// The number of signature checks this node has made since it started.
    pub fn signature_checks(&self) -> u64 {
        self.metrics.signature_checks()
    }
}
