//! The node as the RPC server's [`Backend`]: reads at a height, calls, submissions (decode,
//! module screening on the head state, then the pool).

use super::*;

/// A node (or chain store) error, kept whole for the RPC layer.
fn be(e: impl Into<NodeError>) -> BackendError {
    BackendError::Node(Box::new(e.into()))
}

impl Backend for Node {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }
    fn suite(&self) -> Suite {
        self.suite
    }
    fn head_number(&self) -> u64 {
        self.head.read().0.header.number
    }
    fn header(&self, number: u64) -> Result<Option<SealedHeader>, BackendError> {
        self.chain.header(number).map_err(be)
    }
    fn number_by_hash(&self, hash: B256) -> Result<Option<u64>, BackendError> {
        self.chain.number_by_hash(hash).map_err(be)
    }
    fn body(&self, number: u64) -> Result<Option<Vec<Bytes>>, BackendError> {
        self.chain.body(number).map_err(be)
    }
    fn receipts(&self, number: u64) -> Result<Option<Vec<Receipt>>, BackendError> {
        self.chain.receipts(number).map_err(be)
    }
    fn block_end_receipt(&self, number: u64) -> Result<Option<Receipt>, BackendError> {
        self.chain.block_end_receipt(number).map_err(be)
    }
    fn tx_location(&self, hash: B256) -> Result<Option<(u64, u32)>, BackendError> {
        self.chain.tx_location(hash).map_err(be)
    }
    fn committed_tx(&self, number: u64, index: u32) -> Result<Option<RecoveredTx>, BackendError> {
        let (Some(raw), Some(receipt)) = (
            self.chain.body_item(number, index).map_err(be)?,
            self.chain.receipt_item(number, index).map_err(be)?,
        ) else {
            return Ok(None);
        };
        Ok(RecoveredTx::verified(&raw, self.suite, self.chain_id, receipt.from).ok())
    }
    fn commit_certificate(&self, number: u64) -> Result<Option<CommitCertificate>, BackendError> {
        self.chain.certificate(number).map_err(be)
    }
    fn validator_set(&self, number: u64) -> Result<Vec<GenesisValidator>, BackendError> {
        let set = self.validators_at(number).map_err(be)?;
        Ok(set
            .validators()
            .iter()
            .map(|v| GenesisValidator {
                address: v.address(),
                public_key: Bytes::copy_from_slice(&v.public_key().to_bytes()),
                power: v.voting_power(),
            })
            .collect())
    }
    fn pending_tx(&self, hash: B256) -> Option<Arc<RecoveredTx>> {
        self.pool.get(&hash)
    }
    fn account(&self, number: u64, address: Address) -> Result<Option<Account>, BackendError> {
        let root = self.header_at(number)?.state_root;
        self.state.at(root).account(address).map_err(be)
    }
    fn storage(&self, number: u64, address: Address, slot: U256) -> Result<U256, BackendError> {
        let root = self.header_at(number)?.state_root;
        self.state.at(root).storage(address, slot).map_err(be)
    }
    fn code(&self, number: u64, address: Address) -> Result<Bytes, BackendError> {
        let view = self.state.at(self.header_at(number)?.state_root);
        match view.account(address).map_err(be)? {
            Some(a) => view.code(a.code_hash).map_err(be)?.ok_or_else(|| {
                BackendError::State(banyan_state::StateError::Corrupt(format!(
                    "code {} of account {address} is missing",
                    a.code_hash
                )))
            }),
            None => Ok(Bytes::new()),
        }
    }
    fn proof(
        &self,
        number: u64,
        address: Address,
        slots: &[U256],
    ) -> Result<AccountProof, BackendError> {
        let root = self.header_at(number)?.state_root;
        self.state.proof(root, address, slots).map_err(be)
    }
    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError> {
        let (nonce, _) = self
            .head_account(address)
            .map_err(|_| BackendError::AccountUnavailable(address))?;
        Ok(self
            .pool
            .next_nonce(address)
            .map_or(nonce, |n| n.max(nonce)))
    }
    fn call(&self, number: u64, request: &CallRequest) -> Result<CallOutcome, ExecError> {
        self.with_call_state(number, |env, view, block_hash| {
            self.executor.call(env, view, block_hash, request)
        })
    }
    fn estimate_gas(&self, number: u64, request: &CallRequest) -> Result<u64, ExecError> {
        self.with_call_state(number, |env, view, block_hash| {
            self.executor.estimate_gas(env, view, block_hash, request)
        })
    }
    fn submit(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        let result = self.add_to_pool(raw);
        match result {
            Ok(_) => {
                // Journaled before the hash is returned: an acknowledged transaction survives
                // a crash.
                self.journal(&[raw]);
                self.metrics.set_txpool_len(self.pool.len());
                if let Some(gossip) = self.gossip.get() {
                    // A full queue skips gossip for this transaction; it still waits in our pool
                    // for our turn to propose.
                    let _queued = gossip.try_send(bytes::Bytes::copy_from_slice(raw));
                }
            }
            Err(_) => self.metrics.txpool_rejected(),
        }
        result
    }
    fn syncing(&self) -> Option<(u64, u64, u64)> {
        let head = self.head().0.header.number;
        (*self.sync.lock())
            .and_then(|(start, target)| (target > head).then_some((start, head, target)))
    }
    fn subscribe(&self) -> broadcast::Receiver<CommittedBlock> {
        self.events.subscribe()
    }
    fn gas_price(&self) -> u128 {
        self.min_gas_price.max(1)
    }
    fn status(&self) -> NodeStatus {
        let (h, hash) = self.head();
        NodeStatus {
            chain_id: self.chain_id,
            suite: self.suite,
            genesis_hash: self.genesis_hash,
            head_number: h.header.number,
            head_hash: hash,
            txpool_size: self.pool.len(),
            validator: self.validator,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

impl Node {
    /// The head state for the pool's screens, its module storage cached until the head moves.
    fn screen_state(&self, root: B256) -> Arc<super::screen_cache::ScreenState> {
        let mut current = self.screen_state.lock();
        match &*current {
            Some(state) if state.root() == root => Arc::clone(state),
            _ => {
                let modules = self.executor.modules().addresses().copied().collect();
                let state = Arc::new(super::screen_cache::ScreenState::new(
                    root,
                    self.state.at(root),
                    modules,
                ));
                *current = Some(Arc::clone(&state));
                state
            }
        }
    }

    /// Decodes, checks and queues a raw transaction (the body of `submit`).
    pub(super) fn add_to_pool(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        // A duplicate is refused before its signature is checked.
        if self
            .is_known(RecoveredTx::hash_of(raw, self.suite))
            .map_err(be)?
        {
            return Err(SubmitError::Pool(banyan_txpool::PoolError::AlreadyKnown));
        }
        let tx = self.recover(raw)?;
        self.admit(tx)
    }

    /// Screens a checked transaction on the head state and queues it.
    pub(super) fn admit(&self, tx: RecoveredTx) -> Result<B256, SubmitError> {
        let hash = tx.hash();
        // Module screens on the head state, outside the pool's lock; the block executor asks the
        // same modules again when the transaction's turn comes.
        let head = self.head().0.header;
        let view = self.screen_state(head.state_root);
        let input = crate::executor::tx_input(&tx);
        let screened = self
            .executor
            .screen(head.number + 1, head.timestamp, &*view, &input)
            .map_err(BackendError::Execution)?;
        if let Some(refusal) = screened {
            return Err(SubmitError::Refused(refusal));
        }
        // Gas paid in a currency: refused here (no rate, too little of it) rather than at its
        // turn in a block.
        let gas = match self
            .executor
            .gas_quote(head.number + 1, head.timestamp, &*view, &input)
            .map_err(BackendError::Execution)?
        {
            Ok(None) => banyan_txpool::GasPaidIn::Native,
            Ok(Some(_)) => banyan_txpool::GasPaidIn::Module,
            Err(refusal) => return Err(SubmitError::Refused(refusal)),
        };
        self.check_set_liveness(&tx)?;
        self.pool
            .add_paying(tx, gas, &|sender| self.head_account(sender))?;
        self.wake_producer();
        Ok(hash)
    }
}
