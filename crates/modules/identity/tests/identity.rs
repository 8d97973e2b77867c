//! Identity's rules on an in-memory state with Governance and Evidence beside it, as the
//! executor runs them (a failed call leaves the state as it was): DIDs and who may change them,
//! authority issuers admitted only by a passed proposal, schemas, and the record, status and
//! check of issued credentials.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use banyan_crypto::Suite;
use banyan_module_api::{
    GenesisContext, GenesisValidatorInfo, MemoryBackend, ModuleCallContext, ModuleError,
    ModuleRegistry, ModuleState, NativeModule, ViewAnswer, ViewQuery, decode_revert_reason,
};
use banyan_module_evidence::{EVIDENCE_ADDRESS, Evidence, IEvidence};
use banyan_module_governance::{GOVERNANCE_ADDRESS, Governance, GovernanceParams, IGovernance};
use banyan_module_identity::{
    IDENTITY_ADDRESS, IIdentity, Identity,
    credentials::LIST_BITS,
    did::{MAX_CONTROLLERS, MAX_METHODS, MAX_SERVICES},
    layout,
    schemas::schema_id,
};
use banyan_module_payments::{IPayments, PAYMENTS_ADDRESS, Payments};
use std::sync::Arc;

const G1: Address = address!("a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0");
const G2: Address = address!("b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0");
const START_TIME: u64 = 1_800_000_000;

/// An account with a real key of the ecdsa suite.
#[derive(Clone, Copy)]
struct Person {
    address: Address,
    key: [u8; 64],
}

fn person(seed: u8) -> Person {
    let suite = Suite::Ecdsa;
    let secret = suite.secret_key_from_bytes(&[seed; 32]).unwrap();
    let public = suite.public_key(&secret).unwrap();
    Person {
        address: suite.address(&public),
        key: public.to_bytes(),
    }
}

fn reason(error: ModuleError) -> String {
    match error {
        ModuleError::Revert(data) => decode_revert_reason(&data).unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

struct Chain {
    backend: MemoryBackend,
    registry: ModuleRegistry,
    block: u64,
    time: u64,
}

impl Chain {
    /// Governance with `governors` (equal weights, default rules), Evidence and Identity.
    fn new(governors: &[Address]) -> Self {
        let mut registry = ModuleRegistry::new();
        registry.register(Arc::new(Governance)).unwrap();
        registry.register(Arc::new(Evidence)).unwrap();
        registry.register(Arc::new(Identity)).unwrap();
        registry.register(Arc::new(Payments)).unwrap();
        let suite = Suite::Ecdsa;
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
            let params = GovernanceParams::equal(governors).with_every_role(governors[0]);
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
            time: START_TIME,
        }
    }

    fn ctx(&self, address: Address, caller: Address, is_static: bool) -> ModuleCallContext {
        ModuleCallContext {
            timestamp: self.time,
            ..ModuleCallContext::for_test(address, caller, self.block, is_static)
        }
    }

    /// One transaction calling `to` as `caller`, in a new block one second later.
    fn call_module(
        &mut self,
        caller: Address,
        to: Address,
        input: Vec<u8>,
    ) -> Result<Bytes, String> {
        self.block += 1;
        self.time += 1;
        let module: &dyn NativeModule = match to {
            GOVERNANCE_ADDRESS => &Governance,
            EVIDENCE_ADDRESS => &Evidence,
            IDENTITY_ADDRESS => &Identity,
            _ => &Payments,
        };
        let ctx = self.ctx(to, caller, false);
        self.backend
            .call(&self.registry, module, &ctx, &input, 30_000_000)
            .0
            .map_err(reason)
    }

    fn send<C: SolCall>(&mut self, caller: Address, call: C) -> Result<Bytes, String> {
        self.call_module(caller, IDENTITY_ADDRESS, call.abi_encode())
    }

    fn view<C: SolCall>(&mut self, call: C) -> Result<C::Return, String> {
        let ctx = self.ctx(IDENTITY_ADDRESS, Address::ZERO, true);
        let output = self
            .backend
            .call(
                &self.registry,
                &Identity,
                &ctx,
                &call.abi_encode(),
                30_000_000,
            )
            .0
            .map_err(reason)?;
        Ok(C::abi_decode_returns(&output).unwrap())
    }

    fn did(&mut self, account: Address) -> IIdentity::Did {
        self.view(IIdentity::getDidCall { did: account }).unwrap()
    }

    fn create(&mut self, who: Person) {
        self.send(
            who.address,
            IIdentity::createDidCall {
                publicKey: who.key.to_vec().into(),
                recovery: Address::ZERO,
            },
        )
        .unwrap();
    }

    /// `governor` proposes a ModuleCall of Identity with `call`.
    fn propose_call<C: SolCall>(&mut self, governor: Address, call: C) -> Result<Bytes, String> {
        let payload = IGovernance::ModuleCall {
            module: IDENTITY_ADDRESS,
            data: call.abi_encode().into(),
        };
        self.call_module(
            governor,
            GOVERNANCE_ADDRESS,
            IGovernance::proposeCall {
                kind: IGovernance::Kind::ModuleCall,
                payload: payload.abi_encode().into(),
                description: "identity".into(),
                votingPeriod: 0,
            }
            .abi_encode(),
        )
    }

    fn admit(&mut self, issuer: Address, issuer_type: &str) {
        self.propose_call(
            G1,
            IIdentity::admitIssuerCall {
                issuer,
                issuerType: issuer_type.into(),
                name: "Bank A".into(),
            },
        )
        .unwrap();
    }

    fn proposal(&mut self, id: u64) -> IGovernance::Proposal {
        let ctx = self.ctx(GOVERNANCE_ADDRESS, Address::ZERO, true);
        let output = self
            .backend
            .call(
                &self.registry,
                &Governance,
                &ctx,
                &IGovernance::getProposalCall { id }.abi_encode(),
                30_000_000,
            )
            .0
            .unwrap();
        IGovernance::getProposalCall::abi_decode_returns(&output).unwrap()
    }

    fn events<E: SolEvent>(&self, address: Address) -> Vec<E> {
        self.backend
            .logs
            .iter()
            .filter(|log| log.address == address)
            .filter_map(|log| E::decode_log_data(&log.data).ok())
            .collect()
    }

    fn snapshot(&self) -> String {
        format!("{:?}{:?}", self.backend.storage, self.backend.logs.len())
    }

    fn holds(&mut self, subject: Address, schema: B256) -> (bool, B256, String) {
        let r = self
            .view(IIdentity::holdsCredentialCall {
                subject,
                schemaId: schema,
            })
            .unwrap();
        (r.ok, r.credential, r.reason)
    }

    /// The answer another module gets to the KYC question at the current time.
    fn ask(&mut self, subject: Address, schema: B256) -> Result<B256, String> {
        let mut state = ModuleState::new(
            &mut self.backend,
            &self.registry,
            GOVERNANCE_ADDRESS,
            true,
            1_000_000,
        );
        match state
            .ask(&ViewQuery::Credential {
                subject,
                schema,
                at: self.time,
            })
            .unwrap()
        {
            ViewAnswer::Credential(answer) => answer,
            other => panic!("unexpected answer {other:?}"),
        }
    }
}

fn kyc_schema_json() -> Bytes {
    br#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#
        .to_vec()
        .into()
}

#[test]
fn an_account_creates_its_own_did_with_its_own_key() {
    let mut chain = Chain::new(&[G1]);
    let alice = person(1);
    let bob = person(2);
    let wrong = chain
        .send(
            alice.address,
            IIdentity::createDidCall {
                publicKey: bob.key.to_vec().into(),
                recovery: Address::ZERO,
            },
        )
        .unwrap_err();
    assert!(wrong.contains("not the caller's"), "{wrong}");
    let short = chain
        .send(
            alice.address,
            IIdentity::createDidCall {
                publicKey: vec![4u8; 33].into(),
                recovery: Address::ZERO,
            },
        )
        .unwrap_err();
    assert!(short.contains("64 bytes"), "{short}");
    // The 0x04-prefixed form of the right key is refused too: the ledger stores one form.
    let mut prefixed = vec![4u8];
    prefixed.extend_from_slice(&alice.key);
    let long = chain
        .send(
            alice.address,
            IIdentity::createDidCall {
                publicKey: prefixed.into(),
                recovery: Address::ZERO,
            },
        )
        .unwrap_err();
    assert!(long.contains("without the 0x04 prefix"), "{long}");
    chain.create(alice);
    let record = chain.did(alice.address);
    assert_eq!(record.controllers, vec![alice.address]);
    assert_eq!(record.methods.len(), 1);
    assert_eq!(record.methods[0].fragment, "key-1");
    assert_eq!(record.methods[0].keyType, IIdentity::KeyType::Secp256k1);
    assert_eq!(record.methods[0].publicKey.as_ref(), alice.key.as_slice());
    assert_eq!(record.methods[0].relationships, 1 | 2 | 8);
    assert_eq!(record.version, 1);
    assert!(!record.deactivated);
    let again = chain
        .send(
            alice.address,
            IIdentity::createDidCall {
                publicKey: alice.key.to_vec().into(),
                recovery: Address::ZERO,
            },
        )
        .unwrap_err();
    assert!(again.contains("already has a DID"), "{again}");
    let missing = chain
        .view(IIdentity::getDidCall { did: bob.address })
        .unwrap_err();
    assert!(missing.contains("has no DID"), "{missing}");
    assert!(
        !chain
            .view(IIdentity::isActiveCall { did: bob.address })
            .unwrap()
    );
    assert_eq!(
        chain
            .events::<IIdentity::DidCreated>(IDENTITY_ADDRESS)
            .len(),
        1
    );
}

#[test]
fn only_controllers_change_a_did_and_each_change_is_a_new_version() {
    let mut chain = Chain::new(&[G1]);
    let alice = person(1);
    let mallory = person(3);
    chain.create(alice);
    chain.create(mallory);
    let ed25519 = IIdentity::addVerificationMethodCall {
        did: alice.address,
        fragment: "ed-1".into(),
        keyType: IIdentity::KeyType::Ed25519,
        publicKey: vec![7u8; 32].into(),
        relationships: 2,
    };
    let before = chain.snapshot();
    let refused = chain.send(mallory.address, ed25519.clone()).unwrap_err();
    assert!(refused.contains("does not control"), "{refused}");
    assert_eq!(chain.snapshot(), before, "a refused change writes nothing");
    chain.send(alice.address, ed25519.clone()).unwrap();
    let taken = chain.send(alice.address, ed25519).unwrap_err();
    assert!(taken.contains("already used"), "{taken}");
    let sm2_on_ecdsa = chain
        .send(
            alice.address,
            IIdentity::addVerificationMethodCall {
                did: alice.address,
                fragment: "sm".into(),
                keyType: IIdentity::KeyType::Sm2,
                publicKey: vec![1u8; 64].into(),
                relationships: 1,
            },
        )
        .unwrap_err();
    assert!(sm2_on_ecdsa.contains("not accepted"), "{sm2_on_ecdsa}");
    let no_relationship = chain
        .send(
            alice.address,
            IIdentity::addVerificationMethodCall {
                did: alice.address,
                fragment: "k2".into(),
                keyType: IIdentity::KeyType::Ed25519,
                publicKey: vec![8u8; 32].into(),
                relationships: 0,
            },
        )
        .unwrap_err();
    assert!(
        no_relationship.contains("relationships"),
        "{no_relationship}"
    );
    chain
        .send(
            alice.address,
            IIdentity::setServiceCall {
                did: alice.address,
                fragment: "vcs".into(),
                serviceType: "CredentialRegistry".into(),
                endpoint: "https://bank.example/vc".into(),
            },
        )
        .unwrap();
    let bad_endpoint = chain
        .send(
            alice.address,
            IIdentity::setServiceCall {
                did: alice.address,
                fragment: "web".into(),
                serviceType: "LinkedDomains".into(),
                endpoint: "bank.example".into(),
            },
        )
        .unwrap_err();
    assert!(bad_endpoint.contains("absolute URI"), "{bad_endpoint}");
    let rotated = person(4);
    chain
        .send(
            alice.address,
            IIdentity::rotateKeyCall {
                did: alice.address,
                fragment: "key-1".into(),
                newPublicKey: rotated.key.to_vec().into(),
            },
        )
        .unwrap();
    let record = chain.did(alice.address);
    assert_eq!(
        record.version, 4,
        "created, key added, service set, key rotated"
    );
    assert_eq!(record.methods[0].publicKey.as_ref(), rotated.key.as_slice());
    assert_eq!(record.services[0].endpoint, "https://bank.example/vc");
    let changes: Vec<String> = chain
        .events::<IIdentity::DidUpdated>(IDENTITY_ADDRESS)
        .into_iter()
        .map(|e| e.change)
        .collect();
    assert_eq!(
        changes,
        [
            "verificationMethod #ed-1 added",
            "service #vcs added",
            "verificationMethod #key-1 rotated"
        ]
    );
    // The last authentication key stays.
    let last = chain
        .send(
            alice.address,
            IIdentity::removeVerificationMethodCall {
                did: alice.address,
                fragment: "key-1".into(),
            },
        )
        .unwrap_err();
    assert!(last.contains("last authentication key"), "{last}");
    // A controller must itself have a DID.
    let stranger = person(5);
    let no_did = chain
        .send(
            alice.address,
            IIdentity::setControllersCall {
                did: alice.address,
                controllers: vec![stranger.address],
            },
        )
        .unwrap_err();
    assert!(no_did.contains("no active DID"), "{no_did}");
}

#[test]
fn the_recovery_account_replaces_lost_controllers_and_deactivation_is_final() {
    let mut chain = Chain::new(&[G1]);
    let alice = person(1);
    let guardian = person(2);
    let fresh = person(6);
    chain.create(guardian);
    chain.create(fresh);
    chain
        .send(
            alice.address,
            IIdentity::createDidCall {
                publicKey: alice.key.to_vec().into(),
                recovery: guardian.address,
            },
        )
        .unwrap();
    let not_recovery = chain
        .send(
            fresh.address,
            IIdentity::recoverCall {
                did: alice.address,
                controller: fresh.address,
            },
        )
        .unwrap_err();
    assert!(
        not_recovery.contains("not the recovery account"),
        "{not_recovery}"
    );
    // A thief holding Alice's key (a controller) cannot take the way back away.
    let thief = chain
        .send(
            alice.address,
            IIdentity::setRecoveryCall {
                did: alice.address,
                recovery: Address::ZERO,
            },
        )
        .unwrap_err();
    assert!(thief.contains("only it may change it"), "{thief}");
    chain
        .send(
            guardian.address,
            IIdentity::recoverCall {
                did: alice.address,
                controller: fresh.address,
            },
        )
        .unwrap();
    let recovered = chain.did(alice.address);
    assert_eq!(recovered.controllers, vec![fresh.address]);
    assert!(
        recovered.methods.is_empty(),
        "the keys go with the controllers"
    );
    // The stolen key of Alice's own account controls nothing any more.
    let stolen = chain
        .send(
            alice.address,
            IIdentity::setRecoveryCall {
                did: alice.address,
                recovery: alice.address,
            },
        )
        .unwrap_err();
    assert!(stolen.contains("does not control"), "{stolen}");
    chain
        .send(
            fresh.address,
            IIdentity::addVerificationMethodCall {
                did: alice.address,
                fragment: "key-2".into(),
                keyType: IIdentity::KeyType::Secp256k1,
                publicKey: person(7).key.to_vec().into(),
                relationships: 1 | 2,
            },
        )
        .unwrap();
    chain
        .send(
            guardian.address,
            IIdentity::deactivateCall { did: alice.address },
        )
        .unwrap();
    assert!(chain.did(alice.address).deactivated);
    assert!(
        !chain
            .view(IIdentity::isActiveCall { did: alice.address })
            .unwrap()
    );
    for caller in [fresh.address, guardian.address] {
        let after = chain
            .send(caller, IIdentity::deactivateCall { did: alice.address })
            .unwrap_err();
        assert!(after.contains("final"), "{after}");
    }
    let after = chain
        .send(
            guardian.address,
            IIdentity::recoverCall {
                did: alice.address,
                controller: guardian.address,
            },
        )
        .unwrap_err();
    assert!(after.contains("final"), "{after}");
    assert_eq!(
        chain
            .events::<IIdentity::DidRecovered>(IDENTITY_ADDRESS)
            .len(),
        1
    );
}

#[test]
fn a_did_at_every_bound_reads_back_as_written() {
    let mut chain = Chain::new(&[G1]);
    let alice = person(1);
    chain.create(alice);
    let mut controllers = vec![alice.address];
    for seed in 20..(20 + MAX_CONTROLLERS as u8 - 1) {
        let other = person(seed);
        chain.create(other);
        controllers.push(other.address);
    }
    chain
        .send(
            alice.address,
            IIdentity::setControllersCall {
                did: alice.address,
                controllers: controllers.clone(),
            },
        )
        .unwrap();
    for i in 1..MAX_METHODS {
        chain
            .send(
                alice.address,
                IIdentity::addVerificationMethodCall {
                    did: alice.address,
                    fragment: format!("{i:0>32}"),
                    keyType: IIdentity::KeyType::Ed25519,
                    publicKey: vec![i as u8; 32].into(),
                    relationships: 31,
                },
            )
            .unwrap();
    }
    for i in 0..MAX_SERVICES {
        chain
            .send(
                alice.address,
                IIdentity::setServiceCall {
                    did: alice.address,
                    fragment: format!("s{i:0>31}"),
                    serviceType: "T".repeat(64),
                    endpoint: format!("https://{}", "e".repeat(248)),
                },
            )
            .unwrap();
    }
    let full = chain
        .send(
            alice.address,
            IIdentity::addVerificationMethodCall {
                did: alice.address,
                fragment: "one-more".into(),
                keyType: IIdentity::KeyType::Ed25519,
                publicKey: vec![99u8; 32].into(),
                relationships: 1,
            },
        )
        .unwrap_err();
    assert!(full.contains("maximum of 8 keys"), "{full}");
    let record = chain.did(alice.address);
    assert_eq!(record.methods.len(), MAX_METHODS);
    assert_eq!(record.services.len(), MAX_SERVICES);
    assert_eq!(record.controllers, controllers);
    for i in 1..MAX_METHODS {
        assert_eq!(record.methods[i].fragment, format!("{i:0>32}"));
        assert_eq!(
            record.methods[i].publicKey.as_ref(),
            [i as u8; 32].as_slice()
        );
        assert_eq!(record.methods[i].relationships, 31);
    }
    assert_eq!(
        record.services[7].endpoint,
        format!("https://{}", "e".repeat(248))
    );
    // Removing from the middle keeps the order and clears what the last entry used.
    chain
        .send(
            alice.address,
            IIdentity::removeVerificationMethodCall {
                did: alice.address,
                fragment: format!("{:0>32}", 3),
            },
        )
        .unwrap();
    chain
        .send(
            alice.address,
            IIdentity::removeServiceCall {
                did: alice.address,
                fragment: format!("s{:0>31}", 0),
            },
        )
        .unwrap();
    let after = chain.did(alice.address);
    let mut expected_methods = record.methods.clone();
    expected_methods.remove(3);
    let mut expected_services = record.services.clone();
    expected_services.remove(0);
    assert_eq!(after.methods, expected_methods);
    assert_eq!(after.services, expected_services);
    let storage = &chain.backend.storage[&IDENTITY_ADDRESS];
    for n in 0..4 {
        let slot = layout::method(alice.address, MAX_METHODS as u8 - 1).offset(n);
        assert!(
            !storage.contains_key(&slot.0),
            "word {n} of the old last key is cleared"
        );
    }
    let last_service = layout::service(alice.address, MAX_SERVICES as u8 - 1);
    assert!(!storage.contains_key(&last_service.0));
}

#[test]
fn only_a_passed_proposal_admits_or_removes_an_authority_issuer() {
    let mut chain = Chain::new(&[G1]);
    let bank = person(1);
    let direct = chain
        .send(
            G1,
            IIdentity::admitIssuerCall {
                issuer: bank.address,
                issuerType: "kyc".into(),
                name: "Bank A".into(),
            },
        )
        .unwrap_err();
    assert!(direct.contains("only the committee"), "{direct}");
    // A call the module would refuse is refused when proposed, with the module's reason.
    let bad_type = chain
        .propose_call(
            G1,
            IIdentity::admitIssuerCall {
                issuer: bank.address,
                issuerType: "KYC".into(),
                name: "Bank A".into(),
            },
        )
        .unwrap_err();
    assert!(
        bad_type.contains("could not be applied now") && bad_type.contains("lower-case"),
        "{bad_type}"
    );
    chain.admit(bank.address, "kyc");
    assert!(
        chain
            .view(IIdentity::isAuthorityIssuerCall {
                issuer: bank.address,
                issuerType: "kyc".into(),
            })
            .unwrap()
    );
    let issuer = chain
        .view(IIdentity::getIssuerCall {
            issuer: bank.address,
        })
        .unwrap();
    assert_eq!(issuer.issuerTypes, vec!["kyc".to_string()]);
    assert_eq!(issuer.name, "Bank A");
    assert_eq!(
        chain
            .events::<IGovernance::ProposalExecuted>(GOVERNANCE_ADDRESS)
            .len(),
        1
    );
    assert_eq!(
        chain
            .events::<IIdentity::IssuerAdmitted>(IDENTITY_ADDRESS)
            .len(),
        1
    );
    let page = chain
        .view(IIdentity::issuersCall {
            offset: 0,
            limit: 10,
        })
        .unwrap();
    assert_eq!((page.accounts, page.total), (vec![bank.address], 1));
    chain
        .propose_call(
            G1,
            IIdentity::removeIssuerCall {
                issuer: bank.address,
                issuerType: "kyc".into(),
            },
        )
        .unwrap();
    assert!(
        !chain
            .view(IIdentity::isAuthorityIssuerCall {
                issuer: bank.address,
                issuerType: "kyc".into(),
            })
            .unwrap()
    );
    let page = chain
        .view(IIdentity::issuersCall {
            offset: 0,
            limit: 10,
        })
        .unwrap();
    assert_eq!(page.total, 0);
    // A ModuleCall cannot reach Governance itself or an address that is no module.
    for module in [
        GOVERNANCE_ADDRESS,
        address!("0000000000000000000000000000000000009999"),
    ] {
        let payload = IGovernance::ModuleCall {
            module,
            data: vec![1, 2, 3, 4].into(),
        };
        let refused = chain
            .call_module(
                G1,
                GOVERNANCE_ADDRESS,
                IGovernance::proposeCall {
                    kind: IGovernance::Kind::ModuleCall,
                    payload: payload.abi_encode().into(),
                    description: String::new(),
                    votingPeriod: 0,
                }
                .abi_encode(),
            )
            .unwrap_err();
        assert!(refused.contains("could not be applied now"), "{refused}");
    }
}

#[test]
fn a_module_call_that_fails_when_its_proposal_passes_leaves_the_proposal_failed_with_the_reason() {
    let mut chain = Chain::new(&[G1, G2]);
    let bank = person(1);
    let admit = IIdentity::admitIssuerCall {
        issuer: bank.address,
        issuerType: "kyc".into(),
        name: "Bank A".into(),
    };
    // Two proposals of the same admission are open; the first to pass admits the bank.
    chain.propose_call(G1, admit.clone()).unwrap();
    chain.propose_call(G1, admit).unwrap();
    let vote = |id: u64| IGovernance::voteCall {
        id,
        choice: IGovernance::Choice::Yes,
    };
    chain
        .call_module(G2, GOVERNANCE_ADDRESS, vote(1).abi_encode())
        .unwrap();
    chain
        .call_module(G2, GOVERNANCE_ADDRESS, vote(2).abi_encode())
        .unwrap();
    assert_eq!(chain.proposal(1).status, IGovernance::Status::Executed);
    let second = chain.proposal(2);
    assert_eq!(second.status, IGovernance::Status::Failed);
    assert!(
        second.reason.contains("already an authority issuer"),
        "{}",
        second.reason
    );
}

/// A bank admitted for `kyc` with a DID and a published schema, and a customer with a DID.
struct Kyc {
    chain: Chain,
    bank: Person,
    customer: Person,
    schema: B256,
}

fn kyc() -> Kyc {
    let mut chain = Chain::new(&[G1]);
    let bank = person(1);
    let customer = person(2);
    chain.admit(bank.address, "kyc");
    let publish = IIdentity::publishSchemaCall {
        name: "kyc-basic".into(),
        version: 1,
        issuerType: "kyc".into(),
        json: kyc_schema_json(),
    };
    let no_did = chain.send(bank.address, publish.clone()).unwrap_err();
    assert!(no_did.contains("no active DID"), "{no_did}");
    chain.create(bank);
    chain.create(customer);
    let output = chain.send(bank.address, publish).unwrap();
    let schema = B256::abi_decode(&output).unwrap();
    assert_eq!(schema, schema_id(bank.address, "kyc-basic", 1));
    Kyc {
        chain,
        bank,
        customer,
        schema,
    }
}

fn issue(k: &mut Kyc, hash: B256, valid_until: u64, index: u32) -> Result<Bytes, String> {
    let call = IIdentity::issueCredentialCall {
        hash,
        subject: k.customer.address,
        schemaId: k.schema,
        validFrom: START_TIME,
        validUntil: valid_until,
        statusIndex: index,
    };
    k.chain.send(k.bank.address, call)
}

#[test]
fn schemas_are_published_by_authority_issuers_and_never_change() {
    let mut k = kyc();
    let schema = k
        .chain
        .view(IIdentity::getSchemaCall { id: k.schema })
        .unwrap();
    assert_eq!(
        (
            schema.publisher,
            schema.name.as_str(),
            schema.version,
            schema.issuerType.as_str()
        ),
        (k.bank.address, "kyc-basic", 1, "kyc")
    );
    assert_eq!(schema.json, kyc_schema_json());
    let same_version = k
        .chain
        .send(
            k.bank.address,
            IIdentity::publishSchemaCall {
                name: "kyc-basic".into(),
                version: 1,
                issuerType: "kyc".into(),
                json: br#"{"type":"object"}"#.to_vec().into(),
            },
        )
        .unwrap_err();
    assert!(same_version.contains("never change"), "{same_version}");
    let not_object = k
        .chain
        .send(
            k.bank.address,
            IIdentity::publishSchemaCall {
                name: "kyc-basic".into(),
                version: 2,
                issuerType: "kyc".into(),
                json: b"[1,2]".to_vec().into(),
            },
        )
        .unwrap_err();
    assert!(not_object.contains("JSON object"), "{not_object}");
    let other_type = k
        .chain
        .send(
            k.bank.address,
            IIdentity::publishSchemaCall {
                name: "credit-score".into(),
                version: 1,
                issuerType: "credit".into(),
                json: br#"{"type":"object"}"#.to_vec().into(),
            },
        )
        .unwrap_err();
    assert!(
        other_type.contains("not an authority issuer of type credit"),
        "{other_type}"
    );
    k.chain
        .send(
            k.bank.address,
            IIdentity::publishSchemaCall {
                name: "kyc-basic".into(),
                version: 2,
                issuerType: "kyc".into(),
                json: br#"{"type":"object"}"#.to_vec().into(),
            },
        )
        .unwrap();
    let page = k
        .chain
        .view(IIdentity::schemasOfCall {
            publisher: k.bank.address,
            offset: 0,
            limit: 10,
        })
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.ids[0], k.schema);
}

#[test]
fn an_issued_credential_is_recorded_anchored_and_counts_until_its_status_says_otherwise() {
    let mut k = kyc();
    let hash = keccak256(b"credential 1");
    assert!(!k.chain.holds(k.customer.address, k.schema).0);
    let stranger = person(9);
    let refused = k
        .chain
        .send(
            stranger.address,
            IIdentity::issueCredentialCall {
                hash,
                subject: k.customer.address,
                schemaId: k.schema,
                validFrom: START_TIME,
                validUntil: 0,
                statusIndex: 0,
            },
        )
        .unwrap_err();
    assert!(refused.contains("not an authority issuer"), "{refused}");
    issue(&mut k, hash, 0, 0).unwrap();
    assert_eq!(
        k.chain.holds(k.customer.address, k.schema),
        (true, hash, String::new())
    );
    assert_eq!(k.chain.ask(k.customer.address, k.schema), Ok(hash));
    // The hash is anchored in Evidence as the bank's, with kind "vc".
    let anchor = k
        .chain
        .call_module(
            k.bank.address,
            EVIDENCE_ADDRESS,
            IEvidence::getAnchorCall { hash }.abi_encode(),
        )
        .unwrap();
    let anchor = IEvidence::getAnchorCall::abi_decode_returns(&anchor).unwrap();
    assert_eq!(
        (anchor.anchorer, anchor.kind.as_str()),
        (k.bank.address, "vc")
    );
    // A status index is used once.
    let reused = issue(&mut k, keccak256(b"credential 2"), 0, 0).unwrap_err();
    assert!(reused.contains("is used by credential"), "{reused}");
    assert_eq!(
        k.chain
            .view(IIdentity::nextStatusIndexCall {
                issuer: k.bank.address
            })
            .unwrap(),
        1
    );
    // Suspension, then reinstatement.
    k.chain
        .send(
            k.bank.address,
            IIdentity::suspendCredentialCall {
                hash,
                suspended: true,
                reason: "documents under review".into(),
            },
        )
        .unwrap();
    let (ok, _, why) = k.chain.holds(k.customer.address, k.schema);
    assert!(!ok && why.contains("suspended"), "{why}");
    assert!(
        k.chain
            .ask(k.customer.address, k.schema)
            .unwrap_err()
            .contains("suspended")
    );
    k.chain
        .send(
            k.bank.address,
            IIdentity::suspendCredentialCall {
                hash,
                suspended: false,
                reason: "review passed".into(),
            },
        )
        .unwrap();
    assert!(k.chain.holds(k.customer.address, k.schema).0);
    // Only the issuer revokes; revocation sets the bit, revokes the anchor and is final.
    let not_issuer = k
        .chain
        .send(
            k.customer.address,
            IIdentity::revokeCredentialCall {
                hash,
                reason: "mine".into(),
            },
        )
        .unwrap_err();
    assert!(not_issuer.contains("only its issuer"), "{not_issuer}");
    k.chain
        .send(
            k.bank.address,
            IIdentity::revokeCredentialCall {
                hash,
                reason: "customer left".into(),
            },
        )
        .unwrap();
    let (ok, checked, why) = k.chain.holds(k.customer.address, k.schema);
    assert!(!ok && checked == hash && why.contains("revoked"), "{why}");
    let words = k
        .chain
        .view(IIdentity::statusWordsCall {
            issuer: k.bank.address,
            purpose: IIdentity::StatusPurpose::Revocation,
            list: 0,
            offset: 0,
            count: 2,
        })
        .unwrap();
    assert_eq!(words[0][0], 0x80, "index 0 is the first bit of the list");
    assert_eq!(words[1], B256::ZERO);
    let anchor = k
        .chain
        .call_module(
            k.bank.address,
            EVIDENCE_ADDRESS,
            IEvidence::getAnchorCall { hash }.abi_encode(),
        )
        .unwrap();
    let anchor = IEvidence::getAnchorCall::abi_decode_returns(&anchor).unwrap();
    assert!(anchor.revoked);
    assert_eq!(anchor.revocationReason, "customer left");
    let again = k
        .chain
        .send(
            k.bank.address,
            IIdentity::suspendCredentialCall {
                hash,
                suspended: true,
                reason: "x".into(),
            },
        )
        .unwrap_err();
    assert!(again.contains("final"), "{again}");
}

#[test]
fn a_credential_stops_counting_when_it_expires_or_its_issuer_loses_authority() {
    let mut k = kyc();
    let hash = keccak256(b"credential 1");
    let until = k.chain.time + 100;
    issue(&mut k, hash, until, 7).unwrap();
    assert!(k.chain.holds(k.customer.address, k.schema).0);
    k.chain.time = until;
    let (ok, _, why) = k.chain.holds(k.customer.address, k.schema);
    assert!(!ok && why.contains("expired"), "{why}");
    // A new credential replaces the expired one as the subject's latest.
    let renewed = keccak256(b"credential 2");
    issue(&mut k, renewed, 0, 8).unwrap();
    assert_eq!(k.chain.ask(k.customer.address, k.schema), Ok(renewed));
    // The committee removes the bank: its credentials stop counting.
    k.chain
        .propose_call(
            G1,
            IIdentity::removeIssuerCall {
                issuer: k.bank.address,
                issuerType: "kyc".into(),
            },
        )
        .unwrap();
    let (ok, _, why) = k.chain.holds(k.customer.address, k.schema);
    assert!(
        !ok && why.contains("no longer an authority issuer"),
        "{why}"
    );
    let after = issue(&mut k, keccak256(b"credential 3"), 0, 9).unwrap_err();
    assert!(after.contains("not an authority issuer"), "{after}");
}

#[test]
fn a_deactivated_subject_or_issuer_did_voids_the_check() {
    let mut k = kyc();
    let hash = keccak256(b"credential 1");
    issue(&mut k, hash, 0, LIST_BITS + 3).unwrap();
    let words = k
        .chain
        .view(IIdentity::statusWordsCall {
            issuer: k.bank.address,
            purpose: IIdentity::StatusPurpose::Revocation,
            list: 1,
            offset: 0,
            count: 512,
        })
        .unwrap();
    assert_eq!(words.len(), 512);
    let too_many = k
        .chain
        .view(IIdentity::statusWordsCall {
            issuer: k.bank.address,
            purpose: IIdentity::StatusPurpose::Revocation,
            list: 0,
            offset: 1,
            count: 512,
        })
        .unwrap_err();
    assert!(too_many.contains("out of it"), "{too_many}");
    k.chain
        .send(
            k.bank.address,
            IIdentity::deactivateCall {
                did: k.bank.address,
            },
        )
        .unwrap();
    let (ok, _, why) = k.chain.holds(k.customer.address, k.schema);
    assert!(!ok && why.contains("deactivated"), "{why}");
    k.chain
        .send(
            k.customer.address,
            IIdentity::deactivateCall {
                did: k.customer.address,
            },
        )
        .unwrap();
    let (ok, _, why) = k.chain.holds(k.customer.address, k.schema);
    assert!(!ok && why.contains("not active"), "{why}");
    let record = k.chain.view(IIdentity::getCredentialCall { hash }).unwrap();
    assert_eq!(record.statusIndex, LIST_BITS + 3);
    assert_eq!(record.subject, k.customer.address);
    assert_eq!(record.issuer, k.bank.address);
}

#[test]
fn a_currency_that_requires_kyc_refuses_whoever_lacks_the_credential_and_names_it() {
    let mut k = kyc();
    let customer = k.customer.address;
    let other = person(7);
    k.chain.create(other);
    let token = k
        .chain
        .call_module(
            G1,
            PAYMENTS_ADDRESS,
            IPayments::registerCurrencyCall {
                code: "CNY".into(),
                name: "Renminbi".into(),
                decimals: 2,
                cap: U256::ZERO,
            }
            .abi_encode(),
        )
        .map(|out| Address::abi_decode(&out).unwrap())
        .unwrap();
    let require = |schema: B256| {
        IPayments::setKycRequirementCall {
            token,
            schemaId: schema,
        }
        .abi_encode()
    };
    let not_issuer = k
        .chain
        .call_module(customer, PAYMENTS_ADDRESS, require(k.schema))
        .unwrap_err();
    assert!(not_issuer.contains("issuer"), "{not_issuer}");
    k.chain
        .call_module(G1, PAYMENTS_ADDRESS, require(k.schema))
        .unwrap();
    let mint = |to: Address| {
        IPayments::mintCall {
            token,
            to,
            amount: U256::from(10_000u64),
        }
        .abi_encode()
    };
    // Minting to a customer without the credential is refused, naming the schema.
    let refused = k
        .chain
        .call_module(G1, PAYMENTS_ADDRESS, mint(customer))
        .unwrap_err();
    assert!(
        refused.contains("requires of the payee a KYC credential of schema")
            && refused.contains(&k.schema.to_string())
            && refused.contains("holds no credential"),
        "{refused}"
    );
    let credential = keccak256(b"customer kyc");
    issue(&mut k, credential, 0, 0).unwrap();
    k.chain
        .call_module(G1, PAYMENTS_ADDRESS, mint(customer))
        .unwrap();
    let pay = |to: Address| {
        IPayments::payCall {
            token,
            to,
            amount: U256::from(100u64),
            endToEndId: String::new(),
            remittance: String::new(),
            key: B256::ZERO,
        }
        .abi_encode()
    };
    // The payee lacks the credential.
    let refused = k
        .chain
        .call_module(customer, PAYMENTS_ADDRESS, pay(other.address))
        .unwrap_err();
    assert!(refused.contains("of the payee"), "{refused}");
    // The credential revoked: the customer's own payments stop.
    k.chain
        .send(
            k.bank.address,
            IIdentity::revokeCredentialCall {
                hash: credential,
                reason: "customer left".into(),
            },
        )
        .unwrap();
    let refused = k
        .chain
        .call_module(customer, PAYMENTS_ADDRESS, pay(G1))
        .unwrap_err();
    assert!(
        refused.contains("of the payer") && refused.contains("revoked"),
        "{refused}"
    );
    // Lifted: money moves again (the issuer G1 is the payee; no credential needed any more).
    k.chain
        .call_module(G1, PAYMENTS_ADDRESS, require(B256::ZERO))
        .unwrap();
    k.chain
        .call_module(customer, PAYMENTS_ADDRESS, pay(G1))
        .unwrap();
}

#[test]
fn nobody_blocks_an_issuance_by_anchoring_its_hash_or_displaces_another_issuers_credential() {
    let mut k = kyc();
    let hash = keccak256(b"seen in the pool");
    // Someone who saw the issuance coming anchors its hash first.
    let stranger = person(9);
    k.chain
        .call_module(
            stranger.address,
            EVIDENCE_ADDRESS,
            IEvidence::anchorCall {
                hash,
                kind: "vc".into(),
                referenceId: String::new(),
                metadata: Bytes::new(),
            }
            .abi_encode(),
        )
        .unwrap();
    issue(&mut k, hash, 0, 0).unwrap();
    assert_eq!(k.chain.ask(k.customer.address, k.schema), Ok(hash));
    // Revoking it leaves the stranger's anchor alone (it is not the issuer's).
    k.chain
        .send(
            k.bank.address,
            IIdentity::revokeCredentialCall {
                hash,
                reason: "test".into(),
            },
        )
        .unwrap();
    let renewed = keccak256(b"renewed");
    issue(&mut k, renewed, 0, 1).unwrap();
    assert_eq!(k.chain.ask(k.customer.address, k.schema), Ok(renewed));
    // A second bank admitted for kyc issues a short-lived credential under the same schema: the
    // first bank's, still valid, stays the one that counts.
    let other_bank = person(11);
    k.chain.create(other_bank);
    k.chain.admit(other_bank.address, "kyc");
    let short = IIdentity::issueCredentialCall {
        hash: keccak256(b"short"),
        subject: k.customer.address,
        schemaId: k.schema,
        validFrom: START_TIME,
        validUntil: k.chain.time + 10,
        statusIndex: 0,
    };
    k.chain.send(other_bank.address, short).unwrap();
    k.chain.time += 100;
    assert_eq!(k.chain.ask(k.customer.address, k.schema), Ok(renewed));
}
