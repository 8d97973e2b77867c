//! Governance's rules, run on an in-memory state the way the executor runs them (a failed call
//! leaves the state as it was): thresholds exact at the boundary, execution exactly once,
//! expiry, cancellation, superseding on a change of the committee or its rules, changeable
//! votes, and every refusal with the message a user reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, Bytes, address};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use banyan_module_api::{
    AccountView, GenesisContext, GenesisValidatorInfo, GuardedCall, MemoryBackend,
    ModuleCallContext, ModuleError, ModuleRegistry, ModuleState, NativeModule, ScreenedTx,
    decode_revert_reason,
};
use banyan_module_governance::{
    GOVERNANCE_ADDRESS, Governance, GovernanceParams, GovernorParam, IGovernance,
};
use proptest::prelude::*;
use std::sync::Arc;

use IGovernance::{Choice, Kind, Status};

mod params;
mod permissions;
mod validators;

const A: Address = address!("a000000000000000000000000000000000000001");
const B: Address = address!("b000000000000000000000000000000000000002");
const C: Address = address!("c000000000000000000000000000000000000003");
const D: Address = address!("d000000000000000000000000000000000000004");
const OUTSIDER: Address = address!("e000000000000000000000000000000000000005");

/// Validator `i`'s secret key (fixed, so runs repeat).
fn validator_secret(i: u8) -> banyan_crypto::SecretKey {
    let suite = banyan_crypto::Suite::Ecdsa;
    suite.secret_key_from_bytes(&[i + 1; 32]).expect("secret")
}

/// Validator `i` as genesis lists it.
fn validator(i: u8) -> GenesisValidatorInfo {
    let suite = banyan_crypto::Suite::Ecdsa;
    let public = suite.public_key(&validator_secret(i)).expect("public");
    GenesisValidatorInfo {
        address: suite.address(&public),
        public_key: public.to_bytes().to_vec().into(),
        power: 1,
    }
}

/// A chain with validators 0 to `n - 1`.
fn chain_context(n: u8) -> GenesisContext {
    GenesisContext {
        suite: banyan_crypto::Suite::Ecdsa,
        validators: (0..n).map(validator).collect(),
    }
}

struct Chain {
    backend: MemoryBackend,
    registry: ModuleRegistry,
    block: u64,
}

impl Chain {
    fn new(params: &GovernanceParams) -> Self {
        let mut registry = ModuleRegistry::new();
        registry.register(Arc::new(Governance)).expect("register");
        let mut backend = MemoryBackend::default();
        {
            let mut state =
                ModuleState::new(&mut backend, &registry, GOVERNANCE_ADDRESS, false, u64::MAX);
            Governance
                .genesis(&params.to_json(), &chain_context(4), &mut state)
                .expect("genesis");
        }
        Self {
            backend,
            registry,
            block: 1,
        }
    }

    /// A committee of `weights` (A, B, C, D in order) with these rules.
    fn committee(weights: &[u64], participation_bps: u16, approval_bps: u16) -> Self {
        let accounts = [A, B, C, D];
        Self::new(&GovernanceParams {
            governors: weights
                .iter()
                .zip(accounts)
                .map(|(&weight, account)| GovernorParam { account, weight })
                .collect(),
            participation_bps,
            approval_bps,
            voting_period: 100,
            deploy_permission: false,
            method_permission: false,
            roles: Default::default(),
        })
    }

    fn ctx(&self, caller: Address, is_static: bool) -> ModuleCallContext {
        ModuleCallContext::for_test(GOVERNANCE_ADDRESS, caller, self.block, is_static)
    }

    /// One call in a new block.
    fn send(&mut self, caller: Address, input: Vec<u8>) -> Result<Bytes, ModuleError> {
        self.block += 1;
        let ctx = self.ctx(caller, false);
        self.backend
            .call(&self.registry, &Governance, &ctx, &input, 30_000_000)
            .0
    }

    fn view(&mut self, input: Vec<u8>) -> Bytes {
        let ctx = self.ctx(Address::ZERO, true);
        self.backend
            .call(&self.registry, &Governance, &ctx, &input, 30_000_000)
            .0
            .expect("view")
    }

    fn propose(&mut self, caller: Address, kind: Kind, payload: Vec<u8>) -> Result<u64, String> {
        self.propose_for(caller, kind, payload, 0)
    }

    fn propose_for(
        &mut self,
        caller: Address,
        kind: Kind,
        payload: Vec<u8>,
        voting_period: u64,
    ) -> Result<u64, String> {
        let out = self
            .send(
                caller,
                IGovernance::proposeCall {
                    kind,
                    payload: payload.into(),
                    description: "a change".into(),
                    votingPeriod: voting_period,
                }
                .abi_encode(),
            )
            .map_err(reason)?;
        Ok(IGovernance::proposeCall::abi_decode_returns(&out).unwrap())
    }

    fn vote(&mut self, caller: Address, id: u64, choice: Choice) -> Result<(), String> {
        self.send(caller, IGovernance::voteCall { id, choice }.abi_encode())
            .map(drop)
            .map_err(reason)
    }

    fn proposal(&mut self, id: u64) -> IGovernance::Proposal {
        let out = self.view(IGovernance::getProposalCall { id }.abi_encode());
        IGovernance::getProposalCall::abi_decode_returns(&out).unwrap()
    }

    fn status(&mut self, id: u64) -> Status {
        self.proposal(id).status
    }

    fn governors(&mut self) -> Vec<(Address, u64)> {
        let out = self.view(IGovernance::governorsCall {}.abi_encode());
        let r = IGovernance::governorsCall::abi_decode_returns(&out).unwrap();
        r.accounts.into_iter().zip(r.weights).collect()
    }

    fn rules(&mut self) -> IGovernance::rulesReturn {
        let out = self.view(IGovernance::rulesCall {}.abi_encode());
        IGovernance::rulesCall::abi_decode_returns(&out).unwrap()
    }

    /// The screen's answer for a transaction in the next block: `Err(reason)` when refused.
    fn screen(&mut self, sender: Address, to: Option<Address>, input: &[u8]) -> Result<(), String> {
        let tx = ScreenedTx {
            sender,
            to,
            value: Default::default(),
            input,
            block_number: self.block + 1,
            timestamp: 0,
        };
        let mut state = ModuleState::new(
            &mut self.backend,
            &self.registry,
            GOVERNANCE_ADDRESS,
            true,
            banyan_module_api::gas::SCREEN,
        );
        Governance.screen(&tx, &mut state).map_err(reason)
    }

    /// The call guard's answer for a call frame from `caller` to `target`.
    fn guard(&mut self, caller: Address, target: Address, selector: [u8; 4]) -> Result<(), String> {
        let call = GuardedCall {
            caller,
            target,
            origin: caller,
            selector,
            depth: 2,
        };
        let mut state = ModuleState::new(
            &mut self.backend,
            &self.registry,
            GOVERNANCE_ADDRESS,
            true,
            banyan_module_api::gas::SCREEN,
        );
        Governance.guard_call(&call, &mut state).map_err(reason)
    }

    /// Puts code at `address`, making it a contract.
    fn deploy_at(&mut self, address: Address) {
        self.backend.accounts.insert(
            address,
            AccountView {
                has_code: true,
                nonce: 1,
                ..Default::default()
            },
        );
    }

    fn events<E: SolEvent>(&self) -> Vec<E> {
        self.backend
            .logs
            .iter()
            .filter_map(|log| E::decode_log_data(&log.data).ok())
            .collect()
    }
}

fn reason(e: ModuleError) -> String {
    match e {
        ModuleError::Revert(data) => decode_revert_reason(&data).unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

fn change(governor: Address, weight: u64) -> Vec<u8> {
    IGovernance::GovernorChange { governor, weight }.abi_encode()
}

fn rules_payload(participation: u16, approval: u16, period: u64) -> Vec<u8> {
    IGovernance::Rules {
        participationBps: participation,
        approvalBps: approval,
        votingPeriod: period,
    }
    .abi_encode()
}

#[test]
fn a_single_governor_passes_its_own_proposal_at_once() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    let id = chain.propose(A, Kind::AddGovernor, change(B, 2)).unwrap();
    assert_eq!(id, 1);
    let p = chain.proposal(id);
    assert_eq!(p.status, Status::Executed);
    assert_eq!(p.closedAt, p.createdAt);
    assert_eq!((p.yes, p.no, p.abstain, p.totalWeight), (1, 0, 0, 1));
    assert_eq!(chain.governors(), vec![(A, 1), (B, 2)]);
    let rules = chain.rules();
    assert_eq!((rules.epoch, rules.totalWeight), (1, 3));
    assert_eq!(chain.events::<IGovernance::ProposalExecuted>().len(), 1);
    assert_eq!(chain.events::<IGovernance::GovernorSet>()[0].weight, 2);
}

/// Votes `yes`, `no` and `abstain` by weight on a committee whose thresholds are exactly what
/// those votes reach, then one basis point more: passed at the boundary, not one short of it.
#[test]
fn thresholds_are_exact_at_the_boundary() {
    // Weights A 3, B 3, C 2, D 2: total 10. A proposes (yes 3), C votes no (2), D abstains (2):
    // participation 7/10 = 7000 bps, approval 3/5 = 6000 bps.
    for (participation, approval, passes) in [
        (7_000, 6_000, true),
        (7_001, 6_000, false),
        (7_000, 6_001, false),
    ] {
        let mut chain = Chain::committee(&[3, 3, 2, 2], participation, approval);
        let id = chain
            .propose(A, Kind::SetRules, rules_payload(5_000, 5_000, 50))
            .unwrap();
        chain.vote(C, id, Choice::No).unwrap();
        assert_eq!(chain.status(id), Status::Open);
        chain.vote(D, id, Choice::Abstain).unwrap();
        let expected = if passes {
            Status::Executed
        } else {
            Status::Open
        };
        assert_eq!(
            chain.status(id),
            expected,
            "participation {participation} bps, approval {approval} bps"
        );
    }
}

#[test]
fn a_passed_proposal_executes_once_and_takes_no_more_votes() {
    let mut chain = Chain::committee(&[1, 1, 1, 1], 5_000, 5_000);
    let id = chain.propose(A, Kind::SetWeight, change(D, 5)).unwrap();
    chain.vote(B, id, Choice::Yes).unwrap();
    assert_eq!(chain.status(id), Status::Executed);
    let err = chain.vote(C, id, Choice::Yes).unwrap_err();
    assert!(
        err.contains("proposal 1 is closed: Executed at block"),
        "{err}"
    );
    let err = chain.vote(A, id, Choice::No).unwrap_err();
    assert!(err.contains("closed"), "{err}");
    assert_eq!(chain.events::<IGovernance::ProposalExecuted>().len(), 1);
    assert_eq!(chain.events::<IGovernance::GovernorSet>().len(), 1);
    assert_eq!(chain.governors()[3], (D, 5));
    assert_eq!(chain.rules().totalWeight, 8);
}

#[test]
fn an_expired_proposal_cannot_pass_and_closes_as_rejected_or_expired() {
    let mut chain = Chain::committee(&[1, 1, 1, 1], 7_500, 6_667);
    // Expired: only A's weight voted.
    let quiet = chain
        .propose_for(A, Kind::AddGovernor, change(OUTSIDER, 1), 3)
        .unwrap();
    // Rejected: everyone voted, approval short.
    let split = chain
        .propose_for(B, Kind::SetWeight, change(C, 2), 5)
        .unwrap();
    chain.vote(C, split, Choice::No).unwrap();
    chain.vote(D, split, Choice::No).unwrap();
    chain.vote(A, split, Choice::No).unwrap();
    chain.block += 10;
    let err = chain.vote(B, quiet, Choice::Yes).unwrap_err();
    assert!(err.contains("closed at its expiry"), "{err}");
    assert!(err.contains("(Expired)"), "{err}");
    assert_eq!(chain.status(quiet), Status::Expired);
    assert_eq!(chain.status(split), Status::Rejected);
    // The changed vote that would have passed it comes too late.
    let err = chain.vote(A, split, Choice::Yes).unwrap_err();
    assert!(err.contains("(Rejected)"), "{err}");
    // close() records what reads already showed, once.
    chain
        .send(OUTSIDER, IGovernance::closeCall { id: quiet }.abi_encode())
        .unwrap();
    let closed = chain.events::<IGovernance::ProposalClosed>();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].status, Status::Expired);
    let err = reason(
        chain
            .send(OUTSIDER, IGovernance::closeCall { id: quiet }.abi_encode())
            .unwrap_err(),
    );
    assert!(err.contains("already closed (Expired)"), "{err}");
    // Nothing was applied.
    assert_eq!(chain.governors().len(), 4);
    assert_eq!(chain.rules().epoch, 0);
}

#[test]
fn a_proposal_cannot_be_closed_before_its_expiry() {
    let mut chain = Chain::committee(&[1, 1, 1, 1], 7_500, 6_667);
    let id = chain
        .propose_for(A, Kind::AddGovernor, change(OUTSIDER, 1), 20)
        .unwrap();
    let err = reason(
        chain
            .send(B, IGovernance::closeCall { id }.abi_encode())
            .unwrap_err(),
    );
    assert!(err.contains("is open until block"), "{err}");
}

#[test]
fn a_change_of_rules_supersedes_every_proposal_still_open() {
    let mut chain = Chain::committee(&[1, 1, 1, 1], 7_500, 6_667);
    let older = chain
        .propose(A, Kind::AddGovernor, change(OUTSIDER, 1))
        .unwrap();
    let rules = chain
        .propose(B, Kind::SetRules, rules_payload(5_000, 5_000, 10))
        .unwrap();
    chain.vote(C, rules, Choice::Yes).unwrap();
    chain.vote(D, rules, Choice::Yes).unwrap();
    assert_eq!(chain.status(rules), Status::Executed);
    assert_eq!(chain.status(older), Status::Superseded);
    let superseded = chain.events::<IGovernance::ProposalSuperseded>();
    assert_eq!(superseded.len(), 1);
    assert_eq!((superseded[0].id, superseded[0].epoch), (older, 1));
    // Under the new rules (50 %) two more votes would have passed it; it stays superseded.
    let err = chain.vote(B, older, Choice::Yes).unwrap_err();
    assert!(err.contains("closed: Superseded"), "{err}");
    assert_eq!(chain.governors().len(), 4);
    let now = chain.rules();
    assert_eq!(now.epoch, 1);
    assert_eq!(now.current.participationBps, 5_000);
    assert_eq!(now.current.votingPeriod, 10);
    // A proposal made now is judged by the new rules: A and B make 50 %.
    let fresh = chain
        .propose(A, Kind::AddGovernor, change(OUTSIDER, 1))
        .unwrap();
    chain.vote(B, fresh, Choice::Yes).unwrap();
    assert_eq!(chain.status(fresh), Status::Executed);
    assert_eq!(chain.proposal(fresh).participationBps, 5_000);
}

#[test]
fn votes_change_until_the_proposal_closes() {
    let mut chain = Chain::committee(&[2, 1, 1, 1], 10_000, 6_667);
    let id = chain.propose(A, Kind::SetWeight, change(B, 3)).unwrap();
    chain.vote(B, id, Choice::No).unwrap();
    chain.vote(C, id, Choice::No).unwrap();
    let p = chain.proposal(id);
    assert_eq!((p.yes, p.no, p.abstain), (2, 2, 0));
    chain.vote(B, id, Choice::Abstain).unwrap();
    let p = chain.proposal(id);
    assert_eq!((p.yes, p.no, p.abstain), (2, 1, 1));
    let err = chain.vote(B, id, Choice::Abstain).unwrap_err();
    assert!(
        err.contains("has already voted Abstain on proposal 1"),
        "{err}"
    );
    let out = chain.view(IGovernance::voteOfCall { id, voter: B }.abi_encode());
    assert_eq!(
        IGovernance::voteOfCall::abi_decode_returns(&out).unwrap(),
        Choice::Abstain
    );
    // All weight voted, approval 2 of 4 decided: still open. C changes to yes (3 of 4) and it
    // passes.
    chain.vote(D, id, Choice::No).unwrap();
    assert_eq!(chain.status(id), Status::Open);
    chain.vote(C, id, Choice::Yes).unwrap();
    assert_eq!(chain.status(id), Status::Executed);
    assert_eq!(chain.governors()[1], (B, 3));
}

#[test]
fn the_creator_may_cancel_an_open_proposal_and_no_one_else() {
    let mut chain = Chain::committee(&[1, 1, 1, 1], 7_500, 6_667);
    let id = chain
        .propose(A, Kind::AddGovernor, change(OUTSIDER, 1))
        .unwrap();
    let err = reason(
        chain
            .send(B, IGovernance::cancelCall { id }.abi_encode())
            .unwrap_err(),
    );
    assert!(
        err.contains(&format!(
            "only proposal 1's creator {A} may cancel it, not {B}"
        )),
        "{err}"
    );
    chain
        .send(A, IGovernance::cancelCall { id }.abi_encode())
        .unwrap();
    assert_eq!(chain.status(id), Status::Cancelled);
    let err = chain.vote(B, id, Choice::Yes).unwrap_err();
    assert!(err.contains("closed: Cancelled"), "{err}");
}

#[test]
fn removing_governors_keeps_the_list_and_the_weights_consistent() {
    let mut chain = Chain::committee(&[1, 2, 3, 4], 1, 1);
    // Low thresholds: every proposal passes at once.
    chain
        .propose(A, Kind::RemoveGovernor, B.abi_encode())
        .unwrap();
    assert_eq!(chain.governors(), vec![(A, 1), (D, 4), (C, 3)]);
    chain
        .propose(D, Kind::RemoveGovernor, A.abi_encode())
        .unwrap();
    assert_eq!(chain.governors(), vec![(C, 3), (D, 4)]);
    chain.propose(C, Kind::SetWeight, change(D, 9)).unwrap();
    assert_eq!(chain.governors(), vec![(C, 3), (D, 9)]);
    chain
        .propose(C, Kind::RemoveGovernor, D.abi_encode())
        .unwrap();
    assert_eq!(chain.rules().totalWeight, 3);
    let out = chain.view(IGovernance::weightOfCall { account: D }.abi_encode());
    assert_eq!(
        IGovernance::weightOfCall::abi_decode_returns(&out).unwrap(),
        0
    );
    // The last governor stays.
    let err = chain
        .propose(C, Kind::RemoveGovernor, C.abi_encode())
        .unwrap_err();
    assert!(
        err.contains("the last governor; the committee cannot be left empty"),
        "{err}"
    );
    // A removed governor can neither propose nor vote.
    let err = chain
        .propose(A, Kind::AddGovernor, change(B, 1))
        .unwrap_err();
    assert!(
        err.contains(&format!("{A} is not a governor, so it cannot propose")),
        "{err}"
    );
}

#[test]
fn refusals_say_what_was_wrong_and_who_may() {
    let mut chain = Chain::committee(&[1, 1, 1, 1], 7_500, 6_667);
    let err = chain
        .propose(OUTSIDER, Kind::AddGovernor, change(OUTSIDER, 1))
        .unwrap_err();
    assert!(
        err.contains("is not a governor, so it cannot propose")
            && err.contains("banyan gov propose add-governor"),
        "{err}"
    );
    let id = chain
        .propose(A, Kind::AddGovernor, change(OUTSIDER, 1))
        .unwrap();
    let err = chain.vote(OUTSIDER, id, Choice::Yes).unwrap_err();
    assert!(
        err.contains("is not a governor, so it cannot vote"),
        "{err}"
    );
    let err = chain.vote(B, id, Choice::None).unwrap_err();
    assert!(err.contains("Yes (1), No (2) or Abstain (3)"), "{err}");
    let err = chain.vote(B, 99, Choice::Yes).unwrap_err();
    assert!(
        err.contains("there is no proposal 99; ids run from 1 to 1"),
        "{err}"
    );
    let err = chain
        .propose(A, Kind::AddGovernor, change(B, 1))
        .unwrap_err();
    assert!(
        err.contains("could not be applied now") && err.contains("is already a governor"),
        "{err}"
    );
    let err = chain.propose(A, Kind::SetWeight, change(B, 0)).unwrap_err();
    assert!(err.contains("weight must be 1 to 1000000, got 0"), "{err}");
    let err = chain.propose(A, Kind::None, vec![]).unwrap_err();
    assert!(err.contains("unknown proposal kind 0"), "{err}");
    let err = chain
        .propose(A, Kind::AddGovernor, vec![1, 2, 3])
        .unwrap_err();
    assert!(err.contains("ABI-encoded GovernorChange"), "{err}");
    let err = chain
        .propose(A, Kind::SetRules, rules_payload(0, 5_000, 10))
        .unwrap_err();
    assert!(
        err.contains("participation threshold must be 1 to 10000"),
        "{err}"
    );
    let err = chain
        .propose_for(A, Kind::AddGovernor, change(OUTSIDER, 2), 10_000_001)
        .unwrap_err();
    assert!(err.contains("voting period must be 0"), "{err}");
    let err = reason(chain.send(A, vec![0xde, 0xad, 0xbe, 0xef]).unwrap_err());
    assert!(
        err.contains("unknown function selector 0xdeadbeef; see IGovernance.sol"),
        "{err}"
    );
    // A refused call changed nothing.
    assert_eq!(chain.proposal(id).yes, 1);
}

#[test]
fn open_proposals_are_bounded_and_expired_ones_make_room() {
    let mut chain = Chain::committee(&[1, 1, 1, 1], 10_000, 10_000);
    for i in 0..banyan_module_governance::MAX_OPEN {
        chain
            .propose_for(A, Kind::SetWeight, change(B, 2 + i), 5)
            .unwrap();
        chain.block -= 1; // all in one block's worth of heights
    }
    let err = chain
        .propose(A, Kind::SetWeight, change(B, 500))
        .unwrap_err();
    assert!(err.contains("64 proposals are open"), "{err}");
    chain.block += 10;
    chain.propose(A, Kind::SetWeight, change(B, 500)).unwrap();
}

#[test]
fn genesis_roles_are_held_from_the_first_block() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]).with_every_role(A));
    for role in [
        IGovernance::Role::Issuer,
        IGovernance::Role::Institution,
        IGovernance::Role::Regulator,
        IGovernance::Role::Auditor,
        IGovernance::Role::Deployer,
        IGovernance::Role::RateProvider,
    ] {
        let out = chain.view(IGovernance::roleMembersCall { role }.abi_encode());
        let members = IGovernance::roleMembersCall::abi_decode_returns(&out).unwrap();
        assert_eq!(members, vec![A], "{role:?}");
    }
}

#[test]
fn genesis_refuses_a_committee_that_cannot_work() {
    let registry = ModuleRegistry::new();
    let mut backend = MemoryBackend::default();
    let mut state = ModuleState::new(&mut backend, &registry, GOVERNANCE_ADDRESS, false, u64::MAX);
    let cases = [
        (serde_json::Value::Null, "needs its first committee"),
        (serde_json::json!({"governors": []}), "`governors` is empty"),
        (
            serde_json::json!({"governors": [{"account": A, "weight": 1}, {"account": A, "weight": 2}]}),
            "listed twice",
        ),
        (
            serde_json::json!({"governors": [{"account": A, "weight": 0}]}),
            "weight must be 1 to",
        ),
        (
            serde_json::json!({"governors": [{"account": A, "weight": 1}], "approval_bps": 10001}),
            "approval threshold must be 1 to 10000",
        ),
        (
            serde_json::json!({"governors": [{"account": A, "weight": 1}], "quorum": 1}),
            "unknown field `quorum`",
        ),
        (
            serde_json::json!({"governors": [{"account": A, "weight": 1}], "roles": {"banker": [A]}}),
            "unknown role `banker`",
        ),
    ];
    for (params, expected) in cases {
        let err = Governance
            .genesis(&params, &chain_context(1), &mut state)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{params}: {err}");
    }
}

proptest! {
    /// Whatever the votes, the tallies are the weights of the governors by their current
    /// choice, and the proposal is executed exactly when the thresholds say so.
    #[test]
    fn tallies_follow_the_votes(
        weights in proptest::collection::vec(1u64..10, 4),
        participation in 1u16..=10_000,
        approval in 1u16..=10_000,
        votes in proptest::collection::vec((1usize..4, 1u8..4), 0..12),
    ) {
        let mut chain = Chain::committee(&weights, participation, approval);
        let accounts = [A, B, C, D];
        let id = chain.propose(A, Kind::SetWeight, change(B, 99)).unwrap();
        let mut choice = [1u8, 0, 0, 0];
        for (who, pick) in votes {
            let executed = chain.status(id) == Status::Executed;
            let result = chain.vote(accounts[who], id, Choice::try_from(pick).unwrap());
            if executed {
                prop_assert!(result.is_err());
                continue;
            }
            if choice[who] == pick {
                prop_assert!(result.is_err());
                continue;
            }
            prop_assert!(result.is_ok(), "{:?}", result);
            choice[who] = pick;
        }
        let p = chain.proposal(id);
        let sum = |c: u8| -> u64 {
            (0..4).filter(|&i| choice[i] == c).map(|i| weights[i]).sum()
        };
        prop_assert_eq!((p.yes, p.no, p.abstain), (sum(1), sum(2), sum(3)));
        let total: u64 = weights.iter().sum();
        let voted = u128::from(sum(1) + sum(2) + sum(3));
        let decided = u128::from(sum(1) + sum(2));
        let passes = voted * 10_000 >= u128::from(participation) * u128::from(total)
            && decided > 0
            && u128::from(sum(1)) * 10_000 >= u128::from(approval) * decided;
        // Passing is checked after every vote and the tally stops when it executes, so the
        // final tally passes exactly when the proposal was executed.
        prop_assert_eq!(p.status == Status::Executed, passes);
    }
}

fn role_change(account: Address, role: IGovernance::Role) -> Vec<u8> {
    IGovernance::RoleChange { account, role }.abi_encode()
}

fn has_role(chain: &mut Chain, account: Address, role: IGovernance::Role) -> bool {
    let out = chain.view(IGovernance::hasRoleCall { account, role }.abi_encode());
    IGovernance::hasRoleCall::abi_decode_returns(&out).unwrap()
}

#[test]
fn roles_are_granted_and_revoked_by_proposal_and_answered_to_other_modules() {
    use IGovernance::Role as R;
    let mut chain = Chain::committee(&[1], 1, 1);
    chain
        .propose(A, Kind::GrantRole, role_change(B, R::Issuer))
        .unwrap();
    chain
        .propose(A, Kind::GrantRole, role_change(C, R::Issuer))
        .unwrap();
    chain
        .propose(A, Kind::GrantRole, role_change(D, R::Issuer))
        .unwrap();
    chain
        .propose(A, Kind::GrantRole, role_change(B, R::Deployer))
        .unwrap();
    assert!(has_role(&mut chain, B, R::Issuer) && has_role(&mut chain, B, R::Deployer));
    assert!(!has_role(&mut chain, B, R::Regulator));
    chain
        .propose(A, Kind::RevokeRole, role_change(B, R::Issuer))
        .unwrap();
    assert!(!has_role(&mut chain, B, R::Issuer));
    let out = chain.view(IGovernance::roleMembersCall { role: R::Issuer }.abi_encode());
    let mut holders = IGovernance::roleMembersCall::abi_decode_returns(&out).unwrap();
    holders.sort();
    assert_eq!(holders, vec![C, D]);
    // Role changes do not start an epoch.
    assert_eq!(chain.rules().epoch, 0);
    let granted = chain.events::<IGovernance::RoleGranted>();
    assert_eq!(granted.len(), 4);
    assert_eq!((granted[0].account, granted[0].proposal), (B, 1));
    assert_eq!(chain.events::<IGovernance::RoleRevoked>().len(), 1);

    // Another module asks through the view.
    let mut state = ModuleState::new(
        &mut chain.backend,
        &chain.registry,
        GOVERNANCE_ADDRESS,
        true,
        1_000_000,
    );
    for (account, expected) in [(C, true), (B, false)] {
        let answer = Governance
            .answer(
                &banyan_module_api::ViewQuery::HasRole {
                    account,
                    role: banyan_module_api::Role::Issuer,
                },
                &mut state,
            )
            .unwrap();
        assert_eq!(answer, banyan_module_api::ViewAnswer::HasRole(expected));
    }

    let err = chain
        .propose(A, Kind::RevokeRole, role_change(B, R::Issuer))
        .unwrap_err();
    assert!(err.contains("does not hold the role issuer"), "{err}");
    let err = chain
        .propose(A, Kind::GrantRole, role_change(C, R::None))
        .unwrap_err();
    assert!(err.contains("the role must be one of issuer (1)"), "{err}");
}

/// Two proposals grant the same role; the first to pass executes, the second passes later and
/// ends `Failed` with the reason, applying nothing, while its deciding vote succeeds.
#[test]
fn a_passed_proposal_whose_action_fails_ends_failed_and_the_vote_succeeds() {
    use IGovernance::Role as R;
    let mut chain = Chain::committee(&[1, 1, 1, 1], 5_000, 5_000);
    let first = chain
        .propose(A, Kind::GrantRole, role_change(OUTSIDER, R::Issuer))
        .unwrap();
    let second = chain
        .propose(B, Kind::GrantRole, role_change(OUTSIDER, R::Issuer))
        .unwrap();
    chain.vote(C, first, Choice::Yes).unwrap();
    assert_eq!(chain.status(first), Status::Executed);
    // Not superseded: a role change does not change the committee.
    assert_eq!(chain.status(second), Status::Open);
    chain
        .vote(D, second, Choice::Yes)
        .expect("the deciding vote succeeds");
    let p = chain.proposal(second);
    assert_eq!(p.status, Status::Failed);
    assert!(
        p.reason.contains("already holds the role issuer"),
        "{}",
        p.reason
    );
    let failed = chain.events::<IGovernance::ProposalFailed>();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, second);
    assert_eq!(chain.events::<IGovernance::RoleGranted>().len(), 1);
    // Closed: no more votes.
    let err = chain.vote(A, second, Choice::Yes).unwrap_err();
    assert!(err.contains("closed: Failed"), "{err}");
}
