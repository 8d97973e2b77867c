//! Block building: the dev producer's blocks and consensus proposals, both built on the head
//! from the pool by one path (pool transactions, execute on the head, seal), and the checks a
//! validator runs on a proposal before voting for it.

use super::*;

impl Node {
    /// Builds, signs and commits one block from the pool; returns it (`None` if there was nothing
    /// to do and empty blocks are off). A block without transactions whose block-end hooks act
    /// (a hold that expires) counts as something to do: the hold expires on time on an idle
    /// chain too.
    pub fn produce_block(&self) -> Result<Option<CommittedBlock>, NodeError> {
        let _guard = self.commit_lock.lock();
        let started = Instant::now();
        let (parent, parent_hash) = self.head();
        let gas_limit = self.child_gas_limit(&parent.header)?;
        let txs = self.pool_txs(gas_limit);
        let idle_hooks = txs.is_empty() && !self.executor.modules().at_block_end().is_empty();
        if txs.is_empty() && !self.block_config.empty_blocks && !idle_hooks {
            return Ok(None);
        }
        let built = self.execute_on_head(&parent, parent_hash, gas_limit, now_secs(), txs)?;
        if built.txs.is_empty() && !self.block_config.empty_blocks && built.block_end.is_none() {
            return Ok(None);
        }
        let sealed = self.seal(&built.header)?;
        Ok(Some(self.commit(sealed, built, None, started)?))
    }

    /// The best transactions of the pool for a block of `gas_limit`. Transactions use less gas
    /// than they declare (a token transfer often half), so twice the limit is offered by the
    /// declared gas and the block is filled by the gas used: what does not fit is left out for
    /// want of room and stays in the pool.
    fn pool_txs(&self, gas_limit: u64) -> Vec<Arc<RecoveredTx>> {
        self.pool.best(
            gas_limit.saturating_mul(2),
            self.block_config.max_txs_per_block,
        )
    }

    /// Executes `txs` as the child of `parent` (with the chain's `gas_limit` for it) proposed by
    /// this node at `timestamp`, dropping from the pool those that turn out invalid at their
    /// turn.
    fn execute_on_head(
        &self,
        parent: &SealedHeader,
        parent_hash: B256,
        gas_limit: u64,
        timestamp: u64,
        txs: Vec<Arc<RecoveredTx>>,
    ) -> Result<ExecutedBlock, NodeError> {
        let env = child_env(
            &parent.header,
            parent_hash,
            timestamp,
            self.validator,
            gas_limit,
        );
        let started = Instant::now();
        let built = execute(
            self.suite,
            &self.executor,
            &self.state,
            &self.chain,
            &parent.header,
            &env,
            txs,
        )?;
        self.metrics.block_built(started.elapsed());
        for (hash, reason) in &built.skipped {
            tracing::warn!(tx = %hash, %reason, "transaction invalid at execution, dropped from the pool");
            self.pool.remove_with_successors(hash);
        }
        if !built.skipped.is_empty() {
            self.metrics.set_txpool_len(self.pool.len());
        }
        Ok(built)
    }

    /// `header` with this node's seal over its hash.
    fn seal(&self, header: &Header) -> Result<SealedHeader, NodeError> {
        let signature = self
            .suite
            .sign(&self.signer, header.hash(self.suite).as_slice())?;
        Ok(SealedHeader {
            header: header.clone(),
            signature: Bytes::from(signature.to_bytes()),
        })
    }

    /// Builds a proposal for the block after the head: transactions from the pool, executed
    /// on the head and sealed with this node's key. Nothing is committed; the execution result
    /// is kept so that committing the block, once decided, does not run it again.
    pub fn build_proposal(&self) -> Result<Block, NodeError> {
        let (parent, parent_hash) = self.head();
        let gas_limit = self.child_gas_limit(&parent.header)?;
        let txs = self.pool_txs(gas_limit);
        // Never before the parent, whatever this machine's clock says.
        let timestamp = now_secs().max(parent.header.timestamp);
        let built = self.execute_on_head(&parent, parent_hash, gas_limit, timestamp, txs)?;
        let block = Block {
            header: self.seal(&built.header)?,
            transactions: built.txs.iter().map(|t| t.encoded().clone()).collect(),
        };
        self.executed
            .lock()
            .insert(block.header.header.hash(self.suite), built);
        Ok(block)
    }

    /// Checks a proposal from another validator: it extends the head, is sealed by its
    /// proposer, its clock is sane, and re-executing it on the head reproduces every root.
    /// `Ok(Err(reason))` means the block is invalid (vote nil); `Err` is a local failure.
    pub fn check_proposal(&self, block: &Block) -> Result<Result<(), String>, NodeError> {
        let hash = block.header.header.hash(self.suite);
        if self.executed.lock().contains_key(&hash) {
            return Ok(Ok(())); // We built or already verified exactly this block.
        }
        let h = &block.header.header;
        if h.timestamp > now_secs() + MAX_CLOCK_DRIFT_SECS {
            return Ok(Err(format!(
                "timestamp {} is more than {MAX_CLOCK_DRIFT_SECS} s ahead of this node's clock",
                h.timestamp
            )));
        }
        if let Err(error) = self.check_seal(block) {
            return Ok(Err(error.to_string()));
        }
        let (parent, _) = self.head();
        match self.reexecute(&parent, block) {
            Ok(executed) => {
                self.executed.lock().insert(hash, executed);
                Ok(Ok(()))
            }
            Err(NodeError::InvalidBlock { reason, .. }) => Ok(Err(reason)),
            // The proposal breaks a chain rule of the block environment (its gas limit): the
            // proposer's fault, a vote against, not a failure of this node.
            Err(NodeError::Execution(banyan_execution::ExecError::InvalidBlock(reason))) => {
                Ok(Err(reason))
            }
            Err(error) => Err(error),
        }
    }

    /// Asks the producer to look at the pool now.
    pub(super) fn wake_producer(&self) {
        let (lock, cv) = &self.wake;
        *lock.lock() = true;
        cv.notify_one();
    }

    /// The block producer loop; returns when stopped, or with the error that must stop the node.
    pub fn run_producer(&self) -> Result<(), NodeError> {
        let interval = Duration::from_millis(self.block_config.interval_ms);
        let mut last_block = Instant::now();
        let mut last_evict = Instant::now();
        while !self.is_stopped() {
            {
                let (lock, cv) = &self.wake;
                let mut woken = lock.lock();
                let deadline = last_block + interval;
                while !*woken && Instant::now() < deadline && !self.is_stopped() {
                    if self.block_config.produce_on_tx && !self.pool.is_empty() {
                        break;
                    }
                    cv.wait_until(&mut woken, deadline);
                }
                *woken = false;
            }
            if self.is_stopped() {
                break;
            }
            let due = last_block.elapsed() >= interval;
            let eager = self.block_config.produce_on_tx && !self.pool.is_empty();
            if !(due || eager) {
                continue;
            }
            if self.produce_block()?.is_some() || due {
                last_block = Instant::now();
            }
            if last_evict.elapsed() > Duration::from_secs(10) {
                let n = self.pool.evict_stale(Instant::now());
                if n > 0 {
                    tracing::info!(evicted = n, "dropped stale pool transactions");
                    self.metrics.set_txpool_len(self.pool.len());
                }
                last_evict = Instant::now();
            }
        }
        Ok(())
    }
}
