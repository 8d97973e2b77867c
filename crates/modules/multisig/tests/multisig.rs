//! Multisig on an in-memory state with Governance beside it, as the executor runs them: a
//! 2-of-3 wallet that is the committee's governor acts only with two approvals, a failed call
//! ends `Failed` and applies nothing, key rotation by the same M of N supersedes pending
//! operations, a frozen wallet cannot act, and every refusal says why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, Bytes, address};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use banyan_module_api::{
    GenesisContext, GenesisValidatorInfo, MemoryBackend, ModuleCallContext, ModuleError,
    ModuleRegistry, ModuleState, NativeModule, decode_revert_reason,
};
use banyan_module_governance::{GOVERNANCE_ADDRESS, Governance, GovernanceParams, IGovernance};
use banyan_module_multisig::{IMultisig, MULTISIG_ADDRESS, Multisig, wallet_address};
use std::sync::Arc;

const CHAIN_ID: u64 = 1;
const O1: Address = address!("0000000000000000000000000000000000000a01");
const O2: Address = address!("0000000000000000000000000000000000000a02");
const O3: Address = address!("0000000000000000000000000000000000000a03");
const O4: Address = address!("0000000000000000000000000000000000000a04");
const X: Address = address!("0000000000000000000000000000000000000b0b");
const A: Address = address!("000000000000000000000000000000000000000a");

struct Chain {
    backend: MemoryBackend,
    registry: ModuleRegistry,
    block: u64,
}

impl Chain {
    /// Governance with `params`, and Multisig.
    fn new(params: &GovernanceParams) -> Self {
        let mut registry = ModuleRegistry::new();
        registry.register(Arc::new(Governance)).unwrap();
        registry.register(Arc::new(Multisig)).unwrap();
        let suite = banyan_crypto::Suite::Ecdsa;
        let secret = suite.secret_key_from_bytes(&[9; 32]).unwrap();
        let public = suite.public_key(&secret).unwrap();
        let chain = GenesisContext {
            suite,
            validators: vec![GenesisValidatorInfo {
                address: suite.address(&public),
                public_key: public.to_bytes().to_vec().into(),
                power: 1,
            }],
        };
        let mut backend = MemoryBackend::default();
        {
            let mut state =
                ModuleState::new(&mut backend, &registry, GOVERNANCE_ADDRESS, false, u64::MAX);
            Governance
                .genesis(&params.to_json(), &chain, &mut state)
                .unwrap();
        }
        Self {
            backend,
            registry,
            block: 1,
        }
    }

    /// One call of `module` by `caller`, in a new block.
    fn call_as(
        &mut self,
        module: &dyn NativeModule,
        caller: Address,
        input: Vec<u8>,
    ) -> Result<Bytes, String> {
        self.block += 1;
        let ctx = ModuleCallContext::for_test(module.address(), caller, self.block, false);
        self.backend
            .call(&self.registry, module, &ctx, &input, 30_000_000)
            .0
            .map_err(reason)
    }

    fn send(&mut self, caller: Address, input: Vec<u8>) -> Result<Bytes, String> {
        self.call_as(&Multisig, caller, input)
    }

    fn governance(&mut self, caller: Address, input: Vec<u8>) -> Result<Bytes, String> {
        self.call_as(&Governance, caller, input)
    }

    fn create(&mut self, owners: &[Address], threshold: u16) -> Address {
        let out = self
            .send(
                O1,
                IMultisig::createWalletCall {
                    owners: owners.to_vec(),
                    threshold,
                }
                .abi_encode(),
            )
            .unwrap();
        IMultisig::createWalletCall::abi_decode_returns(&out).unwrap()
    }

    fn propose(
        &mut self,
        owner: Address,
        wallet: Address,
        target: Address,
        data: Vec<u8>,
    ) -> Result<u64, String> {
        let out = self.send(
            owner,
            IMultisig::proposeCall {
                wallet,
                target,
                data: data.into(),
                description: "treasury".into(),
            }
            .abi_encode(),
        )?;
        Ok(IMultisig::proposeCall::abi_decode_returns(&out).unwrap())
    }

    fn approve(&mut self, owner: Address, id: u64) -> Result<(), String> {
        self.send(owner, IMultisig::approveCall { id }.abi_encode())
            .map(drop)
    }

    fn operation(&mut self, id: u64) -> IMultisig::Operation {
        let out = self
            .send(A, IMultisig::getOperationCall { id }.abi_encode())
            .unwrap();
        IMultisig::getOperationCall::abi_decode_returns(&out).unwrap()
    }

    fn has_role(&mut self, account: Address) -> bool {
        let out = self
            .governance(
                A,
                IGovernance::hasRoleCall {
                    account,
                    role: IGovernance::Role::Issuer,
                }
                .abi_encode(),
            )
            .unwrap();
        IGovernance::hasRoleCall::abi_decode_returns(&out).unwrap()
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

fn grant_issuer(account: Address) -> Vec<u8> {
    IGovernance::proposeCall {
        kind: IGovernance::Kind::GrantRole,
        payload: IGovernance::RoleChange {
            account,
            role: IGovernance::Role::Issuer,
        }
        .abi_encode()
        .into(),
        description: "by the treasury".into(),
        votingPeriod: 0,
    }
    .abi_encode()
}

#[test]
fn a_two_of_three_wallet_governs_only_with_two_approvals() {
    let wallet = wallet_address(CHAIN_ID, 0);
    let mut chain = Chain::new(&GovernanceParams::equal(&[wallet]));
    assert_eq!(chain.create(&[O1, O2, O3], 2), wallet);

    let id = chain
        .propose(O1, wallet, GOVERNANCE_ADDRESS, grant_issuer(X))
        .unwrap();
    assert_eq!(chain.operation(id).status, IMultisig::Status::Pending);
    assert!(!chain.has_role(X), "one approval does nothing");
    let err = chain
        .send(O3, IMultisig::executeCall { id }.abi_encode())
        .unwrap_err();
    assert!(
        err.contains(&format!("operation {id} has 1 of the 2 approvals it needs")),
        "{err}"
    );
    let err = chain.approve(O4, id).unwrap_err();
    assert!(
        err.contains(&format!("{O4} is not an owner of wallet {wallet}")),
        "{err}"
    );
    let err = chain.approve(O1, id).unwrap_err();
    assert!(err.contains("has already approved"), "{err}");

    chain.approve(O2, id).unwrap();
    let op = chain.operation(id);
    assert_eq!(op.status, IMultisig::Status::Executed);
    assert_eq!(op.approvals, 2);
    assert!(chain.has_role(X), "the second approval executed it");
    // Governance saw the wallet as the proposer.
    let created = chain.events::<IGovernance::ProposalCreated>();
    assert_eq!(created[0].creator, wallet);
    let err = chain.approve(O3, id).unwrap_err();
    assert!(err.contains("is closed: Executed"), "{err}");
}

#[test]
fn a_failed_call_ends_failed_applies_nothing_and_the_approval_succeeds() {
    let wallet = wallet_address(CHAIN_ID, 0);
    let mut chain = Chain::new(&GovernanceParams::equal(&[wallet]));
    chain.create(&[O1, O2], 2);
    let first = chain
        .propose(O1, wallet, GOVERNANCE_ADDRESS, grant_issuer(X))
        .unwrap();
    chain.approve(O2, first).unwrap();
    let proposals_before = chain.events::<IGovernance::ProposalCreated>().len();
    // The same grant again: Governance refuses it, so the operation fails.
    let second = chain
        .propose(O1, wallet, GOVERNANCE_ADDRESS, grant_issuer(X))
        .unwrap();
    chain.approve(O2, second).unwrap();
    let op = chain.operation(second);
    assert_eq!(op.status, IMultisig::Status::Failed);
    assert!(
        op.reason.contains("already holds the role issuer"),
        "{}",
        op.reason
    );
    assert_eq!(
        chain.events::<IGovernance::ProposalCreated>().len(),
        proposals_before,
        "nothing of the failed call remains"
    );
    assert_eq!(chain.events::<IMultisig::OperationFailed>().len(), 1);
}

#[test]
fn key_rotation_by_the_same_m_of_n_supersedes_pending_operations() {
    let wallet = wallet_address(CHAIN_ID, 0);
    let mut chain = Chain::new(&GovernanceParams::equal(&[wallet]));
    chain.create(&[O1, O2, O3], 2);
    let pending = chain
        .propose(O3, wallet, GOVERNANCE_ADDRESS, grant_issuer(X))
        .unwrap();
    let rotate = IMultisig::setOwnersCall {
        owners: vec![O1, O4],
        threshold: 2,
    }
    .abi_encode();
    let err = chain.send(O1, rotate.clone()).unwrap_err();
    assert!(
        err.contains("is not one; propose it as an operation"),
        "{err}"
    );
    let id = chain.propose(O1, wallet, MULTISIG_ADDRESS, rotate).unwrap();
    chain.approve(O2, id).unwrap();
    assert_eq!(chain.operation(id).status, IMultisig::Status::Executed);
    let out = chain
        .send(A, IMultisig::walletInfoCall { wallet }.abi_encode())
        .unwrap();
    let info = IMultisig::walletInfoCall::abi_decode_returns(&out).unwrap();
    assert_eq!(
        (info.owners, info.threshold, info.version),
        (vec![O1, O4], 2, 1)
    );
    // The operation proposed under the old owners cannot pass; O3 is no owner any more.
    assert_eq!(
        chain.operation(pending).status,
        IMultisig::Status::Superseded
    );
    let err = chain.approve(O1, pending).unwrap_err();
    assert!(err.contains("is superseded"), "{err}");
    let err = chain
        .propose(O3, wallet, GOVERNANCE_ADDRESS, grant_issuer(X))
        .unwrap_err();
    assert!(err.contains("is not an owner"), "{err}");
    let fresh = chain
        .propose(O4, wallet, GOVERNANCE_ADDRESS, grant_issuer(X))
        .unwrap();
    chain.approve(O1, fresh).unwrap();
    assert!(chain.has_role(X));
}

#[test]
fn wallets_are_checked_and_a_frozen_wallet_cannot_act() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    for (owners, threshold, expected) in [
        (vec![], 1, "1 to 16 owners"),
        (vec![O1, O1], 1, "listed twice"),
        (
            vec![O1, O2],
            3,
            "threshold must be 1 to the number of owners (2)",
        ),
    ] {
        let err = chain
            .send(
                O1,
                IMultisig::createWalletCall { owners, threshold }.abi_encode(),
            )
            .unwrap_err();
        assert!(err.contains(expected), "{err}");
    }
    let wallet = chain.create(&[O1, O2], 1);
    let err = chain.propose(O1, wallet, X, vec![]).unwrap_err();
    assert!(
        err.contains("is not a native module of this chain"),
        "{err}"
    );
    // A freezes the wallet: it can no longer act, with the proposal named.
    chain
        .governance(
            A,
            IGovernance::proposeCall {
                kind: IGovernance::Kind::Freeze,
                payload: wallet.abi_encode().into(),
                description: String::new(),
                votingPeriod: 0,
            }
            .abi_encode(),
        )
        .unwrap();
    let err = chain
        .propose(O1, wallet, GOVERNANCE_ADDRESS, grant_issuer(X))
        .unwrap_err();
    assert!(
        err.contains(&format!(
            "wallet {wallet} is frozen by governance proposal 1"
        )),
        "{err}"
    );
}
