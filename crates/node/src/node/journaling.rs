//! The pool's journal at run time: restored at start, appended on admission, synced and
//! compacted by the `txpool-journal` thread (see [`crate::journal`]).

use super::*;
use crate::journal::{self, TxJournal};

/// Restored transactions are checked in batches of this many (recovered on all cores).
const RESTORE_BATCH: usize = 1024;

/// What [`Node::restore_journal`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Records read from the journal.
    pub read: usize,
    /// Back in the pool.
    pub admitted: usize,
    /// Committed meanwhile, or no longer valid (nonce used, balance gone, replaced).
    pub dropped: usize,
}

impl Node {
    /// Reads the journal in `dir`, puts its transactions back in the pool (each checked again;
    /// those committed meanwhile are skipped), writes a fresh journal of the pool's contents and
    /// journals every admission from now on.
    pub fn restore_journal(&self, dir: &std::path::Path) -> Result<Restored, NodeError> {
        let path = dir.join(journal::FILE_NAME);
        let io = |what: &str, e: std::io::Error| {
            NodeError::Config(format!("{what} {}: {e}", path.display()))
        };
        let loaded = journal::read(&path, self.data_cipher().map(|c| &**c))
            .map_err(|e| io("reading the transaction journal", e))?;
        if let Some(why) = &loaded.stopped {
            tracing::warn!(
                journal = %path.display(),
                "the transaction journal ends early ({why}); the {} transactions before that are kept",
                loaded.txs.len()
            );
        }
        let mut restored = Restored {
            read: loaded.txs.len(),
            ..Restored::default()
        };
        for chunk in loaded.txs.chunks(RESTORE_BATCH) {
            restored.admitted += self.admit_batch(chunk).len();
        }
        restored.dropped = restored.read - restored.admitted;
        self.metrics.set_txpool_len(self.pool.len());
        let live = self.pool.snapshot();
        let journal = TxJournal::create(
            &path,
            live.iter().map(|tx| &tx.encoded()[..]),
            self.data_cipher().cloned(),
        )
        .map_err(|e| io("writing the transaction journal", e))?;
        if self.journal.set(journal).is_err() {
            return Err(NodeError::Config(
                "the transaction journal was restored twice".into(),
            ));
        }
        if restored.read > 0 {
            tracing::info!(
                read = restored.read,
                admitted = restored.admitted,
                dropped = restored.dropped,
                "transactions restored from the journal"
            );
        }
        Ok(restored)
    }

    /// Journals transactions just admitted. A failed write is logged: the transactions are in
    /// the pool and go on, but would not survive a crash.
    pub(super) fn journal(&self, raws: &[&[u8]]) {
        if let Some(journal) = self.journal.get()
            && let Err(e) = journal.append(raws)
        {
            tracing::error!(
                error = %e,
                "writing to the transaction journal failed; these transactions would not survive a crash"
            );
        }
    }

    /// The `txpool-journal` thread's work, until the node stops: make appends durable every
    /// [`journal::SYNC_EVERY`], and rewrite the file when it holds far more than the pool.
    pub(crate) fn run_journal(&self) {
        let Some(journal) = self.journal.get() else {
            return;
        };
        let mut last = Instant::now();
        loop {
            let stopping = self.is_stopped();
            if stopping || last.elapsed() >= journal::SYNC_EVERY {
                last = Instant::now();
                let result = if journal.wants_rewrite(self.pool.len()) {
                    journal.rewrite(|| {
                        self.pool
                            .snapshot()
                            .iter()
                            .map(|tx| tx.encoded().0.clone())
                            .collect()
                    })
                } else {
                    journal.sync()
                };
                if let Err(e) = result {
                    tracing::error!(error = %e, "syncing the transaction journal failed");
                }
            }
            if stopping {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
