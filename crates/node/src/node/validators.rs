//! The validator set deciding each height, as the chain's Governance module holds it.
//!
//! A change executed in block `B` decides blocks from `B + 2` on (see the module's
//! `validators` docs), so the set of height `h` is fixed once block `h - 2` is committed: it is
//! read from the state after `min(h - 1, head)`. Chains without Governance keep the genesis set.

use super::Node;
use crate::NodeError;
use alloy_primitives::{Address, Bytes};
use alloy_sol_types::{SolCall, SolEvent};
use banyan_execution::CallRequest;
use banyan_modules::governance::{GOVERNANCE_ADDRESS, IGovernance, layout};
use banyan_primitives::GenesisValidator;
use banyan_primitives::RecoveredTx;
use banyan_primitives::consensus::ValidatorSet;
use banyan_rpc::{BackendError, SubmitError};
use banyan_state::StateReader;
use std::collections::HashMap;
use std::sync::Arc;

/// Sets parsed, by `(height the latest set decides from, whether it is the latest)`: that pair
/// names one set for good (every change moves the height).
#[derive(Default)]
pub(crate) struct SetCache(HashMap<(u64, bool), Arc<ValidatorSet>>);

/// Entries kept before the cache starts again (sets change rarely).
const CACHE_ENTRIES: usize = 64;

impl Node {
    /// The validator set that decides block `height`: the one source every check of seals,
    /// certificates and consensus membership reads.
    pub fn validators_at(&self, height: u64) -> Result<Arc<ValidatorSet>, NodeError> {
        if !self.executor.modules().contains(&GOVERNANCE_ADDRESS) || height <= 1 {
            return Ok(Arc::clone(&self.genesis_validators));
        }
        let head = self.head().0.header.number;
        if height > head + 2 {
            return Err(NodeError::Invariant(format!(
                "the validator set of block {height} is not known yet: the head is block {head}, \
                 and a set is known two blocks ahead at most"
            )));
        }
        let at = (height - 1).min(head);
        let root = self
            .chain
            .header(at)?
            .ok_or_else(|| NodeError::Corrupt(format!("header {at} missing")))?
            .header
            .state_root;
        let from = self
            .state
            .at(root)
            .storage(GOVERNANCE_ADDRESS, layout::valset_slot().0)?
            .saturating_to::<u64>();
        if from == 0 {
            return Ok(Arc::clone(&self.genesis_validators));
        }
        let key = (from, from <= height);
        if let Some(set) = self.validator_sets.lock().0.get(&key) {
            return Ok(Arc::clone(set));
        }
        let set = Arc::new(self.read_set(at, height)?);
        let mut cache = self.validator_sets.lock();
        if cache.0.len() >= CACHE_ENTRIES {
            cache.0.clear();
        }
        cache.0.insert(key, Arc::clone(&set));
        Ok(set)
    }

    /// Asks Governance (`validatorsAt`) on the state after block `at`.
    fn read_set(&self, at: u64, height: u64) -> Result<ValidatorSet, NodeError> {
        let request = CallRequest {
            to: Some(GOVERNANCE_ADDRESS),
            data: IGovernance::validatorsAtCall { height }.abi_encode().into(),
            ..Default::default()
        };
        let outcome = self.with_call_state(at, |env, view, block_hash| {
            self.executor.call(env, view, block_hash, &request)
        })?;
        let corrupt = |why: String| {
            NodeError::Corrupt(format!(
                "the governance module's validator set for block {height}: {why}"
            ))
        };
        if !outcome.success {
            return Err(corrupt(
                outcome
                    .revert_reason
                    .unwrap_or_else(|| "validatorsAt failed".into()),
            ));
        }
        let set = IGovernance::validatorsAtCall::abi_decode_returns(&outcome.output)
            .map_err(|e| corrupt(e.to_string()))?;
        let entries: Vec<GenesisValidator> = set
            .accounts
            .into_iter()
            .zip(set.publicKeys)
            .zip(set.powers)
            .map(
                |((address, public_key), power): ((Address, Bytes), u64)| GenesisValidator {
                    address,
                    public_key,
                    power,
                },
            )
            .collect();
        ValidatorSet::new(self.suite, &entries).map_err(|e| corrupt(e.to_string()))
    }
}

impl Node {
    /// Records the node ids of the peers connected now (validators' certificates carry their
    /// addresses), for the liveness check of validator-set changes.
    pub(crate) fn observe_connected(&self, node_ids: &[String]) {
        let addresses = node_ids
            .iter()
            .filter_map(|id| id.parse::<Address>().ok())
            .collect();
        *self.connected.lock() = addresses;
    }

    /// Refuses, at submission, a governance transaction that would change the validator set so
    /// that the validators this node sees running (itself and its connected peers) hold no more
    /// than two thirds of the new set's power: that set could not commit a block. The module
    /// cannot check this itself (liveness is not chain state), so the node that takes the
    /// transaction does, on a simulation at its head.
    pub(super) fn check_set_liveness(&self, tx: &RecoveredTx) -> Result<(), SubmitError> {
        // A set change is made by Governance, called directly or through another module (a
        // multi-signature wallet's approval); a contract that is a governor is not simulated.
        let modules = self.executor.modules();
        if !modules.contains(&GOVERNANCE_ADDRESS)
            || !tx.to().is_some_and(|to| modules.contains(&to))
        {
            return Ok(());
        }
        let head = self.head().0.header.number;
        let request = CallRequest {
            from: Some(tx.sender()),
            to: tx.to(),
            gas: Some(tx.gas_limit()),
            value: Some(tx.value()),
            data: tx.input().clone(),
            ..Default::default()
        };
        let simulate = |request: &CallRequest| {
            self.with_call_state(head, |env, view, block_hash| {
                self.executor.call(env, view, block_hash, request)
            })
            .map_err(|e| SubmitError::Backend(BackendError::Execution(e)))
        };
        let outcome = simulate(&request)?;
        if !outcome.success {
            // Refused or reverted: the pool and the block say why.
            return Ok(());
        }
        let mut passed = None;
        let mut changes = Vec::new();
        for log in outcome
            .logs
            .iter()
            .filter(|l| l.address == GOVERNANCE_ADDRESS)
        {
            if let Ok(e) = IGovernance::ValidatorSetChanged::decode_log_data(&log.data) {
                changes.push((e.validator, e.power));
                passed = Some(e.proposal);
            }
        }
        let Some(proposal) = passed else {
            return Ok(());
        };
        let latest = simulate(&CallRequest {
            to: Some(GOVERNANCE_ADDRESS),
            data: IGovernance::validatorsCall {}.abi_encode().into(),
            ..Default::default()
        })?;
        let latest =
            IGovernance::validatorsCall::abi_decode_returns(&latest.output).map_err(|e| {
                SubmitError::Backend(BackendError::Node(Box::new(NodeError::Corrupt(
                    e.to_string(),
                ))))
            })?;
        let mut next: std::collections::BTreeMap<Address, u64> =
            latest.accounts.into_iter().zip(latest.powers).collect();
        for (validator, power) in changes {
            if power == 0 {
                next.remove(&validator);
            } else {
                next.insert(validator, power);
            }
        }
        let connected = self.connected.lock().clone();
        let running = |a: &Address| *a == self.validator || connected.contains(a);
        let total: u128 = next.values().map(|p| u128::from(*p)).sum();
        let live: u128 = next
            .iter()
            .filter(|(a, _)| running(a))
            .map(|(_, p)| u128::from(*p))
            .sum();
        if live * 3 > total * 2 {
            return Ok(());
        }
        let missing: Vec<String> = next
            .keys()
            .filter(|a| !running(a))
            .map(ToString::to_string)
            .collect();
        Err(SubmitError::Refused(banyan_execution::Refusal {
            module: "governance",
            reason: format!(
                "Governance: this transaction would pass proposal {proposal} and change the \
                 validator set to one this node cannot see commit blocks: the validators running \
                 (this node and its connected peers) hold {live} of its {total} voting power, and \
                 more than two thirds are needed; not connected: {}. Start those nodes first (a \
                 validator's node follows the chain until the set includes it) and submit again",
                missing.join(", ")
            ),
        }))
    }
}
