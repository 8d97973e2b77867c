//! Evidence's rules, run on an in-memory state the way the executor runs them (a failed call
//! leaves the state as it was).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, address, keccak256};
use alloy_sol_types::{SolCall, SolEvent};
use banyan_module_api::{
    AnchorFacts, MemoryBackend, ModuleCallContext, ModuleError, ModuleRegistry, ModuleState,
    ViewAnswer, ViewQuery, decode_revert_reason,
};
use banyan_module_evidence::{EVIDENCE_ADDRESS, Evidence, IEvidence, MAX_ATTESTATIONS};
use proptest::prelude::*;
use std::sync::Arc;

const BANK_A: Address = address!("a000000000000000000000000000000000000001");
const BANK_B: Address = address!("b000000000000000000000000000000000000002");

struct Chain {
    backend: MemoryBackend,
    registry: ModuleRegistry,
    block: u64,
}

impl Chain {
    fn new() -> Self {
        let mut registry = ModuleRegistry::new();
        registry.register(Arc::new(Evidence)).expect("register");
        Self {
            backend: MemoryBackend::default(),
            registry,
            block: 10,
        }
    }

    fn ctx(&self, caller: Address, is_static: bool) -> ModuleCallContext {
        ModuleCallContext::for_test(EVIDENCE_ADDRESS, caller, self.block, is_static)
    }

    fn send(&mut self, caller: Address, input: Vec<u8>) -> Result<Bytes, ModuleError> {
        self.block += 1;
        let ctx = self.ctx(caller, false);
        self.backend
            .call(&self.registry, &Evidence, &ctx, &input, 10_000_000)
            .0
    }

    fn view(&mut self, input: Vec<u8>) -> Result<Bytes, ModuleError> {
        let ctx = self.ctx(Address::ZERO, true);
        self.backend
            .call(&self.registry, &Evidence, &ctx, &input, 10_000_000)
            .0
    }

    fn anchor(
        &mut self,
        caller: Address,
        hash: B256,
        metadata: &[u8],
    ) -> Result<Bytes, ModuleError> {
        self.send(
            caller,
            IEvidence::anchorCall {
                hash,
                kind: "invoice".into(),
                referenceId: "INV-2026-0001".into(),
                metadata: metadata.to_vec().into(),
            }
            .abi_encode(),
        )
    }

    fn get(&mut self, hash: B256) -> IEvidence::Anchor {
        let output = self
            .view(IEvidence::getAnchorCall { hash }.abi_encode())
            .expect("anchored");
        IEvidence::getAnchorCall::abi_decode_returns(&output).expect("decodes")
    }

    fn snapshot(&self) -> String {
        format!("{:?}{:?}", self.backend.storage, self.backend.logs)
    }
}

fn reason(result: Result<Bytes, ModuleError>) -> String {
    match result {
        Err(ModuleError::Revert(data)) => decode_revert_reason(&data).expect("Error(string)"),
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn doc(n: u8) -> B256 {
    keccak256([n])
}

#[test]
fn an_anchor_records_who_when_and_what_and_emits_an_event() {
    let mut chain = Chain::new();
    chain
        .anchor(BANK_A, doc(1), b"{\"pages\":3}")
        .expect("anchors");
    let anchor = chain.get(doc(1));
    assert_eq!(anchor.anchorer, BANK_A);
    assert_eq!(anchor.blockNumber, 11);
    assert_eq!(anchor.timestamp, 1_700_000_011);
    assert_eq!(anchor.kind, "invoice");
    assert_eq!(anchor.referenceId, "INV-2026-0001");
    assert_eq!(anchor.metadata.as_ref(), b"{\"pages\":3}");
    assert!(!anchor.revoked);
    let log = &chain.backend.logs[0];
    assert_eq!(log.address, EVIDENCE_ADDRESS);
    let event = IEvidence::Anchored::decode_log_data(&log.data).expect("Anchored");
    assert_eq!((event.hash, event.anchorer), (doc(1), BANK_A));
    let is = chain
        .view(IEvidence::isAnchoredCall { hash: doc(1) }.abi_encode())
        .expect("view");
    assert!(IEvidence::isAnchoredCall::abi_decode_returns(&is).expect("bool"));
    let is_not = chain
        .view(IEvidence::isAnchoredCall { hash: doc(2) }.abi_encode())
        .expect("view");
    assert!(!IEvidence::isAnchoredCall::abi_decode_returns(&is_not).expect("bool"));
}

#[test]
fn duplicates_oversize_metadata_and_bad_labels_are_refused_and_store_nothing() {
    let mut chain = Chain::new();
    chain.anchor(BANK_A, doc(1), b"").expect("anchors");
    let before = chain.snapshot();

    let again = reason(chain.anchor(BANK_B, doc(1), b""));
    assert!(
        again
            .contains("already anchored by 0xA000000000000000000000000000000000000001 at block 11"),
        "{again}"
    );
    let big = reason(chain.anchor(BANK_A, doc(2), &[7u8; 1025]));
    assert!(
        big.contains("1025 bytes, above the 1024-byte bound"),
        "{big}"
    );
    let zero = reason(chain.anchor(BANK_A, B256::ZERO, b""));
    assert!(zero.contains("zero hash"), "{zero}");
    for (kind, expect) in [
        ("", "1 to 32"),
        ("a\nb", "printable ASCII"),
        ("   ", "not only spaces"),
        (&"k".repeat(33), "1 to 32"),
    ] {
        let bad = reason(
            chain.send(
                BANK_A,
                IEvidence::anchorCall {
                    hash: doc(3),
                    kind: kind.into(),
                    referenceId: String::new(),
                    metadata: Bytes::new(),
                }
                .abi_encode(),
            ),
        );
        assert!(bad.contains(expect), "{kind:?}: {bad}");
    }
    assert_eq!(chain.snapshot(), before, "a refused call changes nothing");

    chain
        .anchor(BANK_A, doc(2), &[7u8; 1024])
        .expect("exactly the bound");
}

#[test]
fn only_the_anchorer_revokes_once_with_a_reason() {
    let mut chain = Chain::new();
    chain.anchor(BANK_A, doc(1), b"").expect("anchors");
    let revoke = |reason: &str| {
        IEvidence::revokeCall {
            hash: doc(1),
            reason: reason.into(),
        }
        .abi_encode()
    };
    let stranger = reason(chain.send(BANK_B, revoke("mine now")));
    assert!(stranger.contains("only the anchorer"), "{stranger}");
    let empty = reason(chain.send(BANK_A, revoke("")));
    assert!(empty.contains("reason must be 1 to 256 bytes"), "{empty}");
    let missing = reason(
        chain.send(
            BANK_A,
            IEvidence::revokeCall {
                hash: doc(9),
                reason: "x".into(),
            }
            .abi_encode(),
        ),
    );
    assert!(missing.contains("is not anchored"), "{missing}");

    chain
        .send(BANK_A, revoke("signed in error"))
        .expect("revokes");
    let anchor = chain.get(doc(1));
    assert!(anchor.revoked);
    assert_eq!(anchor.revokedAtBlock, 15);
    assert_eq!(anchor.revocationReason, "signed in error");
    let twice = reason(chain.send(BANK_A, revoke("again")));
    assert!(twice.contains("already revoked at block 15"), "{twice}");
}

#[test]
fn attestations_come_from_other_parties_once_each_up_to_the_bound() {
    let mut chain = Chain::new();
    chain.anchor(BANK_A, doc(1), b"").expect("anchors");
    let attest = IEvidence::attestCall { hash: doc(1) }.abi_encode();
    let own = reason(chain.send(BANK_A, attest.clone()));
    assert!(own.contains("cannot attest its own anchor"), "{own}");
    chain.send(BANK_B, attest.clone()).expect("attests");
    let twice = reason(chain.send(BANK_B, attest.clone()));
    assert!(twice.contains("already attested"), "{twice}");

    for n in 1..MAX_ATTESTATIONS {
        let attester = Address::left_padding_from(&[0xcc, n as u8]);
        chain.send(attester, attest.clone()).expect("attests");
    }
    let full = reason(chain.send(Address::repeat_byte(0xdd), attest.clone()));
    assert!(full.contains("maximum of 32"), "{full}");

    let output = chain
        .view(IEvidence::attestationsCall { hash: doc(1) }.abi_encode())
        .expect("view");
    let list = IEvidence::attestationsCall::abi_decode_returns(&output).expect("decodes");
    assert_eq!(list.len(), usize::from(MAX_ATTESTATIONS));
    assert_eq!(list[0].attester, BANK_B);
    assert_eq!(list[0].blockNumber, 13);
    assert_eq!(chain.get(doc(1)).attestationCount, MAX_ATTESTATIONS);

    chain.anchor(BANK_A, doc(2), b"").expect("anchors");
    chain
        .send(
            BANK_A,
            IEvidence::revokeCall {
                hash: doc(2),
                reason: "void".into(),
            }
            .abi_encode(),
        )
        .expect("revokes");
    let revoked = reason(chain.send(BANK_B, IEvidence::attestCall { hash: doc(2) }.abi_encode()));
    assert!(revoked.contains("takes no attestations"), "{revoked}");
}

#[test]
fn anchors_of_an_account_are_paged() {
    let mut chain = Chain::new();
    for n in 0..5 {
        chain.anchor(BANK_A, doc(n), b"").expect("anchors");
    }
    chain.anchor(BANK_B, doc(9), b"").expect("anchors");
    let page = |chain: &mut Chain, offset, limit| {
        let output = chain.view(
            IEvidence::anchorsOfCall {
                anchorer: BANK_A,
                offset,
                limit,
            }
            .abi_encode(),
        )?;
        Ok::<_, ModuleError>(
            IEvidence::anchorsOfCall::abi_decode_returns(&output).expect("decodes"),
        )
    };
    let middle = page(&mut chain, 2, 2).expect("page");
    assert_eq!(middle.hashes, vec![doc(2), doc(3)]);
    assert_eq!(middle.total, 5);
    let tail = page(&mut chain, 4, 100).expect("page");
    assert_eq!(tail.hashes, vec![doc(4)]);
    let past = page(&mut chain, 9, 10).expect("page");
    assert!(past.hashes.is_empty());
    let too_many = reason(page(&mut chain, 0, 101).map(|_| Bytes::new()));
    assert!(too_many.contains("page bound 100"), "{too_many}");
}

#[test]
fn writes_revert_in_a_static_call_and_out_of_gas_leaves_nothing() {
    let mut chain = Chain::new();
    let input = IEvidence::anchorCall {
        hash: doc(1),
        kind: "contract".into(),
        referenceId: String::new(),
        metadata: Bytes::new(),
    }
    .abi_encode();
    let ctx = chain.ctx(BANK_A, true);
    let (result, _) = chain
        .backend
        .call(&chain.registry, &Evidence, &ctx, &input, 10_000_000);
    assert!(reason(result).contains("read-only call"));
    let ctx = chain.ctx(BANK_A, false);
    let (result, used) = chain
        .backend
        .call(&chain.registry, &Evidence, &ctx, &input, 50_000);
    assert_eq!((result, used), (Err(ModuleError::OutOfGas), 50_000));
    assert!(chain.backend.storage.is_empty() && chain.backend.logs.is_empty());
}

#[test]
fn other_modules_learn_of_an_anchor_through_the_view() {
    let mut chain = Chain::new();
    chain.anchor(BANK_A, doc(1), b"").expect("anchors");
    let registry = chain.registry.clone();
    let mut state = ModuleState::new(
        &mut chain.backend,
        &registry,
        Address::repeat_byte(0x77),
        false,
        1_000_000,
    );
    assert_eq!(
        state.ask(&ViewQuery::EvidenceAnchor { hash: doc(1) }),
        Ok(ViewAnswer::EvidenceAnchor(Some(AnchorFacts {
            anchorer: BANK_A,
            block_number: 11,
            revoked: false,
        })))
    );
    assert_eq!(
        state.ask(&ViewQuery::EvidenceAnchor { hash: doc(2) }),
        Ok(ViewAnswer::EvidenceAnchor(None))
    );
    assert!(
        state.gas_used() > 0,
        "the answer's reads are charged to the asker"
    );
}

proptest! {
    /// Whatever the metadata, an anchor either stores exactly it or stores nothing.
    #[test]
    fn metadata_is_stored_whole_or_not_at_all(len in 0usize..1400, byte in any::<u8>()) {
        let mut chain = Chain::new();
        let metadata = vec![byte; len];
        let result = chain.anchor(BANK_A, doc(1), &metadata);
        if len <= 1024 {
            prop_assert!(result.is_ok());
            prop_assert_eq!(chain.get(doc(1)).metadata.to_vec(), metadata);
        } else {
            prop_assert!(result.is_err());
            prop_assert!(chain.backend.storage.is_empty());
        }
    }
}
