//! Chain parameters set by governance proposal (`docs/modules/governance.md#chain-parameters`):
//! read from the state after block `h - 1` for block `h`, and applied to the pool after every
//! commit. 0 (unset) means the default: the genesis gas limit, this node's configuration for the
//! rest.

use super::Node;
use crate::NodeError;
use alloy_primitives::B256;
use banyan_modules::governance::{GOVERNANCE_ADDRESS, layout, params};
use banyan_primitives::Header;
use banyan_state::StateReader;
use banyan_txpool::Limits;
use std::time::Duration;

impl Node {
    /// Parameter `id` as governance set it in the state at `root`; 0 when unset (or on a chain
    /// without governance).
    fn chain_param(&self, root: B256, id: u8) -> Result<u64, NodeError> {
        if !self.executor.modules().contains(&GOVERNANCE_ADDRESS) {
            return Ok(0);
        }
        Ok(self
            .state
            .at(root)
            .storage(GOVERNANCE_ADDRESS, layout::param_slot(id).0)?
            .saturating_to())
    }

    /// The gas limit of the block after `parent`.
    pub(crate) fn child_gas_limit(&self, parent: &Header) -> Result<u64, NodeError> {
        Ok(
            match self.chain_param(parent.state_root, params::BLOCK_GAS_LIMIT)? {
                0 => self.genesis.gas_limit,
                set => set,
            },
        )
    }

    /// The pace of heights governance set for the block after the head; `None`: the node's
    /// `consensus.target_block_ms`.
    pub(crate) fn block_interval(&self) -> Result<Option<Duration>, NodeError> {
        let root = self.head().0.header.state_root;
        Ok(match self.chain_param(root, params::BLOCK_INTERVAL_MS)? {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        })
    }

    /// The node certificates the chain revoked by proposal, when their number changed since the
    /// last call (`None`: no change). Revocations are final, so the count says whether to look.
    pub(crate) fn chain_revocations(
        &self,
    ) -> Result<Option<std::collections::BTreeSet<banyan_network::CertSerial>>, NodeError> {
        if !self.executor.modules().contains(&GOVERNANCE_ADDRESS) {
            return Ok(None);
        }
        let root = self.head().0.header.state_root;
        let view = self.state.at(root);
        let list = layout::revoked_list();
        let count: u64 = view.storage(GOVERNANCE_ADDRESS, list.0.0)?.saturating_to();
        {
            let mut seen = self.revocations_seen.lock();
            if *seen == Some(count) {
                return Ok(None);
            }
            *seen = Some(count);
        }
        let mut serials = std::collections::BTreeSet::new();
        for index in 0..count.min(banyan_modules::governance::MAX_REVOKED) {
            let word = view.storage(GOVERNANCE_ADDRESS, list.0.data_area().offset(index).0)?;
            let serial = layout::unpack_serial(word);
            serials.insert(banyan_network::CertSerial::from_bytes(&serial));
        }
        if !serials.is_empty() {
            tracing::info!("the chain revokes {} node certificate(s)", serials.len());
        }
        Ok(Some(serials))
    }

    /// Sets the pool's limits from the head's state (the configuration's where unset).
    pub(crate) fn apply_pool_limits(&self) -> Result<(), NodeError> {
        let head = self.head().0.header;
        let config = self.pool.config();
        let pick = |set: u64, default: usize| {
            if set == 0 {
                default
            } else {
                usize::try_from(set).unwrap_or(usize::MAX)
            }
        };
        let limits = Limits {
            max_txs: pick(
                self.chain_param(head.state_root, params::TXPOOL_MAX_TXS)?,
                config.max_txs,
            ),
            max_per_account: pick(
                self.chain_param(head.state_root, params::TXPOOL_MAX_PER_ACCOUNT)?,
                config.max_per_account,
            ),
            block_gas_limit: self.child_gas_limit(&head)?,
        };
        if limits != self.pool.limits() {
            tracing::info!(
                "pool limits from the chain: {} transactions, {} per account, block gas limit {}",
                limits.max_txs,
                limits.max_per_account,
                limits.block_gas_limit
            );
            self.pool.set_limits(limits);
        }
        Ok(())
    }
}
