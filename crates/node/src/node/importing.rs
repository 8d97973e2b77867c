//! Importing and committing blocks: a block by re-execution (replay, sync), a certified block
//! (its certificate against the validators of its height), a decided block from consensus; the
//! seal check; and the one commit path that writes a block, its receipts, certificate and state
//! in one batch.

use super::*;

impl Node {
    /// Re-executes `block` on `parent` and compares every root with its header.
    pub(super) fn reexecute(
        &self,
        parent: &SealedHeader,
        block: &Block,
    ) -> Result<ExecutedBlock, NodeError> {
        // The gas limit the chain sets for this block (governance may have changed it).
        let h = &block.header.header;
        let gas_limit = self.child_gas_limit(&parent.header)?;
        if h.gas_limit != gas_limit {
            return Err(NodeError::InvalidBlock {
                number: h.number,
                reason: format!(
                    "gas limit {} differs from the chain's {gas_limit} for this block",
                    h.gas_limit
                ),
            });
        }
        let started = Instant::now();
        let verified = verify_block(
            self.suite,
            &|raws| self.resolve_txs(raws),
            &self.executor,
            &self.state,
            &self.chain,
            parent,
            block,
        );
        self.metrics.block_verified(started.elapsed());
        verified
    }

    /// Writes a built (or verified) block, with its commit certificate if it has one, and prunes
    /// the proposals it makes stale, all in one batch; `started` is when building or verifying
    /// began. The caller has verified `certificate`.
    pub(super) fn commit(
        &self,
        sealed: SealedHeader,
        built: ExecutedBlock,
        certificate: Option<&CommitCertificate>,
        started: Instant,
    ) -> Result<CommittedBlock, NodeError> {
        let ExecutedBlock {
            txs,
            receipts,
            block_end,
            mut state_batch,
            ..
        } = built;
        let hash = sealed.header.hash(self.suite);
        let number = sealed.header.number;
        let block = Block {
            header: sealed.clone(),
            transactions: txs.iter().map(|t| t.encoded().clone()).collect(),
        };
        let hashes: Vec<B256> = txs.iter().map(|t| t.hash()).collect();
        self.chain
            .stage_block(&block, &hashes, &receipts, &mut state_batch);
        if let Some(block_end) = &block_end {
            self.chain
                .stage_block_end(&mut state_batch, number, block_end);
        }
        if let Some(cert) = certificate {
            if cert.height != number || cert.block_hash != hash {
                return Err(NodeError::InvalidBlock {
                    number,
                    reason: format!(
                        "commit certificate is for block {} at height {}, not this block {hash}",
                        cert.block_hash, cert.height
                    ),
                });
            }
            self.chain.stage_certificate(&mut state_batch, cert);
        }
        self.proposals
            .prune_proposals_through(&mut state_batch, number)?;
        let writing = Instant::now();
        self.chain.kv().write(state_batch)?;
        self.metrics.block_written(writing.elapsed());
        self.state.advance_head(sealed.header.state_root);
        *self.head.write() = (sealed.clone(), hash);
        let senders: Vec<Address> = txs.iter().map(|t| t.sender()).collect();
        self.pool.on_block(&senders, &|a| self.head_account(a));
        if let Err(error) = self.apply_pool_limits() {
            // The block is committed; the pool keeps its limits until the next commit reads them.
            tracing::warn!("cannot read the pool limits the chain sets: {error}");
        }
        self.metrics.set_txpool_len(self.pool.len());
        self.metrics
            .block_committed(sealed.header.number, hashes.len(), started.elapsed());
        let committed = CommittedBlock {
            header: sealed,
            hash,
            receipts: Arc::new(receipts),
        };
        let _ = self.events.send(committed.clone());
        tracing::info!(
            number = committed.header.header.number,
            hash = %hash,
            txs = hashes.len(),
            gas_used = committed.header.header.gas_used,
            "committed block"
        );
        Ok(committed)
    }

    /// Verifies `block` by re-execution and signature, then commits it (replay, sync).
    pub fn import_block(&self, block: &Block) -> Result<CommittedBlock, NodeError> {
        self.import(block, None)
    }

    /// Like [`import_block`](Self::import_block), and first checks `certificate` against the
    /// block and the genesis validator set (more than 2/3 of the voting power precommitted
    /// it); the block and its certificate are then written in one batch.
    pub fn import_certified_block(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
    ) -> Result<CommittedBlock, NodeError> {
        self.verify_certificate(block, certificate)?;
        self.import(block, Some(certificate))
    }

    /// Checks that `certificate` proves `block` was decided by the validator set of its height.
    pub(crate) fn verify_certificate(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
    ) -> Result<(), NodeError> {
        let validators = self.validators_at(block.header.header.number)?;
        self.verify_certificate_against(block, certificate, &validators)
    }

    /// Checks that `certificate` proves `block` was decided by `validators`.
    pub(crate) fn verify_certificate_against(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
        validators: &ValidatorSet,
    ) -> Result<(), NodeError> {
        let h = &block.header.header;
        let invalid = |reason: String| NodeError::InvalidBlock {
            number: h.number,
            reason,
        };
        let chain = ChainBinding {
            chain_id: self.chain_id,
            genesis_hash: self.genesis_hash,
        };
        verify_commit_certificate(
            self.suite,
            &chain,
            validators,
            certificate,
            h.number,
            h.hash(self.suite),
        )
        .map_err(|e| invalid(format!("commit certificate: {e}")))
    }

    fn import(
        &self,
        block: &Block,
        certificate: Option<&CommitCertificate>,
    ) -> Result<CommittedBlock, NodeError> {
        let _guard = self.commit_lock.lock();
        let started = Instant::now();
        let (parent, _) = self.head();
        self.check_seal(block)?;
        let executed = self.reexecute(&parent, block)?;
        self.commit(block.header.clone(), executed, certificate, started)
    }

    /// Checks that `block` is sealed by the validator it names as proposer.
    pub(super) fn check_seal(&self, block: &Block) -> Result<(), NodeError> {
        let h = &block.header.header;
        let validators = self.validators_at(h.number)?;
        let validator = validators
            .get(&h.proposer)
            .ok_or_else(|| NodeError::InvalidBlock {
                number: h.number,
                reason: format!("proposer {} is not a validator", h.proposer),
            })?;
        let pk = validator.public_key();
        let sig = banyan_crypto::Signature::from_bytes(&block.header.signature).map_err(|e| {
            NodeError::InvalidBlock {
                number: h.number,
                reason: format!("seal: {e}"),
            }
        })?;
        self.suite
            .verify(pk, h.hash(self.suite).as_slice(), &sig)
            .map_err(|e| NodeError::InvalidBlock {
                number: h.number,
                reason: format!("seal: {e}"),
            })?;
        Ok(())
    }

    /// Commits a block consensus decided, with its commit certificate, in one durable write.
    /// The block must extend the head; it is executed again only if this node never did.
    pub fn commit_decided(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
    ) -> Result<CommittedBlock, NodeError> {
        let _guard = self.commit_lock.lock();
        let started = Instant::now();
        let (parent, parent_hash) = self.head();
        let h = &block.header.header;
        let hash = h.hash(self.suite);
        if h.parent_hash != parent_hash || h.number != parent.header.number + 1 {
            return Err(NodeError::InvalidBlock {
                number: h.number,
                reason: format!(
                    "decided block {hash} does not extend the head {} ({parent_hash})",
                    parent.header.number
                ),
            });
        }
        let cached = self.executed.lock().remove(&hash);
        let executed = match cached {
            Some(executed) => executed,
            None => {
                self.check_seal(block)?;
                self.reexecute(&parent, block)?
            }
        };
        let committed = self.commit(block.header.clone(), executed, Some(certificate), started)?;
        // Anything executed at or below this height can no longer be committed.
        self.executed
            .lock()
            .retain(|_, e| e.header.number > h.number);
        Ok(committed)
    }
}
