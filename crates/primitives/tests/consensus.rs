//! Consensus signing preimages and commit certificates: fixed vectors, the 2/3 rule, and every way a certificate must be refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_rlp::Encodable;
use banyan_crypto::{SecretKey, Suite};
use banyan_primitives::consensus::{
    CertificateError, ChainBinding, CommitCertificate, CommitSignature, PROPOSAL_SIGN_BYTES_LEN,
    VOTE_SIGN_BYTES_LEN, ValidatorSet, ValidatorSetError, VoteType, proposal_sign_bytes,
    verify_commit_certificate, vote_sign_bytes,
};
use banyan_primitives::{Address, B256, Bytes, GenesisValidator};
use proptest::prelude::*;

const HEIGHT: u64 = 42;
const ROUND: u32 = 3;

fn chain() -> ChainBinding {
    ChainBinding {
        chain_id: 1337,
        genesis_hash: B256::repeat_byte(0x11),
    }
}

fn block() -> B256 {
    B256::repeat_byte(0xab)
}

/// Validator `i`'s key: 32 bytes of `i + 1`, valid on both curves.
fn key(i: usize) -> SecretKey {
    SecretKey::from_bytes(&[i as u8 + 1; 32]).unwrap()
}

fn genesis_entry(suite: Suite, key: &SecretKey, power: u64) -> GenesisValidator {
    let public_key = suite.public_key(key).unwrap();
    GenesisValidator {
        address: suite.address(&public_key),
        public_key: Bytes::from(public_key.to_bytes()),
        power,
    }
}

/// Validators `0..powers.len()` with the given powers.
struct Validators {
    suite: Suite,
    keys: Vec<SecretKey>,
    entries: Vec<GenesisValidator>,
    set: ValidatorSet,
}

impl Validators {
    fn new(suite: Suite, powers: &[u64]) -> Self {
        let keys: Vec<_> = (0..powers.len()).map(key).collect();
        let entries: Vec<_> = keys
            .iter()
            .zip(powers)
            .map(|(k, &p)| genesis_entry(suite, k, p))
            .collect();
        let set = ValidatorSet::new(suite, &entries).unwrap();
        Self {
            suite,
            keys,
            entries,
            set,
        }
    }

    fn equal(suite: Suite, n: usize) -> Self {
        Self::new(suite, &vec![1; n])
    }

    fn address(&self, i: usize) -> Address {
        self.entries[i].address
    }

    fn precommit(
        &self,
        i: usize,
        chain: &ChainBinding,
        height: u64,
        round: u32,
        hash: B256,
    ) -> CommitSignature {
        sign_vote(
            self.suite,
            &self.keys[i],
            chain,
            VoteType::Precommit,
            height,
            round,
            Some(hash),
        )
    }

    /// A certificate for `block()` at `HEIGHT`/`ROUND` on `chain()` signed by `signers`.
    fn cert(&self, signers: &[usize]) -> CommitCertificate {
        self.cert_for(&chain(), HEIGHT, ROUND, block(), signers)
    }

    fn cert_for(
        &self,
        chain: &ChainBinding,
        height: u64,
        round: u32,
        hash: B256,
        signers: &[usize],
    ) -> CommitCertificate {
        let signatures = signers
            .iter()
            .map(|&i| self.precommit(i, chain, height, round, hash))
            .collect();
        CommitCertificate::new(height, round, hash, signatures)
    }

    fn verify(&self, cert: &CommitCertificate) -> Result<(), CertificateError> {
        verify_commit_certificate(self.suite, &chain(), &self.set, cert, HEIGHT, block())
    }
}

fn sign_vote(
    suite: Suite,
    key: &SecretKey,
    chain: &ChainBinding,
    vote_type: VoteType,
    height: u64,
    round: u32,
    value: Option<B256>,
) -> CommitSignature {
    let validator = suite.address(&suite.public_key(key).unwrap());
    let preimage = vote_sign_bytes(chain, vote_type, height, round, value, validator);
    CommitSignature {
        validator,
        signature: Bytes::from(suite.sign(key, &preimage).unwrap().to_bytes()),
    }
}

fn suite_strategy() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Ecdsa), Just(Suite::Sm)]
}

// ---------------------------------------------------------------------------------------------
// Fixed vectors: an accidental change to the encoding must fail here.

#[test]
fn precommit_preimage_has_the_documented_layout() {
    let bytes = vote_sign_bytes(
        &chain(),
        VoteType::Precommit,
        HEIGHT,
        ROUND,
        Some(block()),
        Address::repeat_byte(0xcd),
    );
    let expected = [
        "62616e79616e2f766f74652f7631", // "banyan/vote/v1"
        "0000000000000539",             // chain id 1337
        &"11".repeat(32),               // genesis hash
        "02",                           // precommit
        "000000000000002a",             // height 42
        "00000003",                     // round 3
        "01",                           // value present
        &"ab".repeat(32),               // block hash
        &"cd".repeat(20),               // validator
    ]
    .concat();
    assert_eq!(hex::encode(bytes), expected);
    assert_eq!(bytes.len(), VOTE_SIGN_BYTES_LEN);
    assert_eq!(VOTE_SIGN_BYTES_LEN, 120);
}

#[test]
fn nil_prevote_preimage_has_the_documented_layout() {
    let bytes = vote_sign_bytes(
        &chain(),
        VoteType::Prevote,
        1,
        0,
        None,
        Address::repeat_byte(0x01),
    );
    let expected = [
        "62616e79616e2f766f74652f7631", // "banyan/vote/v1"
        "0000000000000539",             // chain id
        &"11".repeat(32),               // genesis hash
        "01",                           // prevote
        "0000000000000001",             // height 1
        "00000000",                     // round 0
        "00",                           // nil
        &"00".repeat(32),               // zero hash for nil
        &"01".repeat(20),               // validator
    ]
    .concat();
    assert_eq!(hex::encode(bytes), expected);
}

#[test]
fn proposal_preimage_has_the_documented_layout() {
    let without_pol = proposal_sign_bytes(
        &chain(),
        HEIGHT,
        ROUND,
        None,
        block(),
        Address::repeat_byte(0xcd),
    );
    let expected = [
        "62616e79616e2f70726f706f73616c2f7631", // "banyan/proposal/v1"
        "0000000000000539",                     // chain id
        &"11".repeat(32),                       // genesis hash
        "000000000000002a",                     // height 42
        "00000003",                             // round 3
        "ffffffffffffffff",                     // no POL round: -1
        &"ab".repeat(32),                       // block hash
        &"cd".repeat(20),                       // proposer
    ]
    .concat();
    assert_eq!(hex::encode(without_pol), expected);
    assert_eq!(without_pol.len(), PROPOSAL_SIGN_BYTES_LEN);
    assert_eq!(PROPOSAL_SIGN_BYTES_LEN, 130);

    let with_pol = proposal_sign_bytes(
        &chain(),
        HEIGHT,
        ROUND,
        Some(2),
        block(),
        Address::repeat_byte(0xcd),
    );
    let expected_with_pol = expected.replace("ffffffffffffffff", "0000000000000002");
    assert_eq!(hex::encode(with_pol), expected_with_pol);
}

/// Certificates signed once by validators 0, 1 and 2 of `Validators::equal(suite, 4)` for
/// `block()` at height 42 round 3 on `chain()`. They must keep verifying and keep their bytes.
const ECDSA_CERT_HEX: &str = "f901342a03a0ababababababababababababababababababababababababababababababababf9010ef858941a642f0e3c3af545e7acbd38b07251b3990914f1b84109e6ca117d158797c0c94397e5dbda263591ca66de5aba63c7922e5073d32d3f7f44282a3d6b3913e88701f3276c7abe91ba8f9942d03b60955c0be2e925c3d200f858943325a78425f17a7e487eb5666b2bfd93abb06c70b841c35b930a444ab45b20c66f95d360240883c29c2a72f35a471761dfc5c168eacc0b1974cd03e4d4d6f99c0c5d60dbc61155e67e92e95942eaf4f313c00e5a76bc01f858945050a4f4b3f9338c3472dcc01a87c76a144b3c9cb841f66a1ae8a3795196ad276c584818587c323e521cc22aefdc87e149de40a5e3a17cb80853d76a8daf1d51ebeaddacaea71fd1076c1f32b134dfbeb9bba728d26500";
const SM_CERT_HEX: &str = "f901312a03a0ababababababababababababababababababababababababababababababababf9010bf8579438b8de2a4c0760ce288e5d88bf4d6c6b3b2ce0a0b8402355b58ccfce2015fdc3f9204ed107efe1a27ffa62cfb4de9fcab7c8b6bc482ad76ec51f85428c4b9e7c8a27c6fc50527c3120196ce4391b6997bf7763028083f8579473512255858365de9f0ffcca8c17721c63b470fdb8406309be2256cecddc2e5dd6d421ed14401cd7c97f69f0769371ca78c7a444c2ad4522bd8f61374ee2307ab6bee79a6172d3a3d9320b079a83ad402e9b871e57a2f85794b768173754389ac716539279c41f7d3d168a81a6b8400c4c771a5adce0c52494e393efa65e93c5ce7030b77d9f9f7a8feeb21ae364f8b89bd83582f2e6f345d4d62cc7ad2dce65318a4f10c75afbbf86c850cccbeccf";

#[test]
fn stored_certificates_of_both_suites_still_decode_and_verify() {
    for (suite, cert_hex) in [(Suite::Ecdsa, ECDSA_CERT_HEX), (Suite::Sm, SM_CERT_HEX)] {
        let validators = Validators::equal(suite, 4);
        let bytes = hex::decode(cert_hex).unwrap();
        let cert = CommitCertificate::from_rlp(&bytes).unwrap();

        assert_eq!(
            (cert.height, cert.round, cert.block_hash),
            (HEIGHT, ROUND, block())
        );
        let signers: Vec<_> = cert.signatures.iter().map(|s| s.validator).collect();
        let mut expected: Vec<_> = (0..3).map(|i| validators.address(i)).collect();
        expected.sort();
        assert_eq!(signers, expected);
        assert!(
            cert.signatures
                .iter()
                .all(|s| s.signature.len() == suite.signature_len())
        );
        validators.verify(&cert).unwrap();
        assert_eq!(
            hex::encode(cert.encoded()),
            cert_hex,
            "{suite}: RLP layout changed"
        );

        // The vector is not trivially accepted: one validator fewer drops it below 2/3.
        let mut short = cert.clone();
        short.signatures.pop();
        assert!(matches!(
            validators.verify(&short),
            Err(CertificateError::InsufficientPower {
                signed: 2,
                total: 4
            })
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// The 2/3 rule.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn three_of_four_equal_validators_verify(
        suite in suite_strategy(),
        chain_id in any::<u64>(),
        genesis in any::<[u8; 32]>(),
        height in any::<u64>(),
        round in any::<u32>(),
        hash in any::<[u8; 32]>(),
        power in 1..=u64::MAX / 4,
        absent in 0usize..4,
    ) {
        let validators = Validators::new(suite, &[power; 4]);
        let chain = ChainBinding { chain_id, genesis_hash: B256::from(genesis) };
        let hash = B256::from(hash);
        let signers: Vec<_> = (0..4).filter(|&i| i != absent).collect();
        let cert = validators.cert_for(&chain, height, round, hash, &signers);
        prop_assert_eq!(
            verify_commit_certificate(suite, &chain, &validators.set, &cert, height, hash),
            Ok(())
        );
    }

    #[test]
    fn two_of_four_equal_validators_fail(
        suite in suite_strategy(),
        chain_id in any::<u64>(),
        height in any::<u64>(),
        round in any::<u32>(),
        power in 1..=u64::MAX / 4,
        signers in proptest::sample::subsequence(vec![0usize, 1, 2, 3], 2),
    ) {
        let validators = Validators::new(suite, &[power; 4]);
        let chain = ChainBinding { chain_id, genesis_hash: B256::repeat_byte(7) };
        let cert = validators.cert_for(&chain, height, round, block(), &signers);
        let result = verify_commit_certificate(suite, &chain, &validators.set, &cert, height, block());
        prop_assert_eq!(
            result,
            Err(CertificateError::InsufficientPower {
                signed: 2 * u128::from(power),
                total: 4 * u128::from(power),
            })
        );
    }

    /// With arbitrary powers, a certificate verifies exactly when its signers hold more than
    /// 2/3 of the total.
    #[test]
    fn weighted_powers_verify_iff_signers_hold_more_than_two_thirds(
        suite in suite_strategy(),
        powers in proptest::collection::vec(prop_oneof![1u64..=10, 1..=u64::MAX / 4], 4),
        mask in 1u8..16,
    ) {
        let validators = Validators::new(suite, &powers);
        let signers: Vec<_> = (0..4).filter(|i| mask & (1 << i) != 0).collect();
        let cert = validators.cert(&signers);
        let signed: u128 = signers.iter().map(|&i| u128::from(powers[i])).sum();
        let total: u128 = powers.iter().map(|&p| u128::from(p)).sum();
        let expected = if signed * 3 > total * 2 {
            Ok(())
        } else {
            Err(CertificateError::InsufficientPower { signed, total })
        };
        prop_assert_eq!(validators.verify(&cert), expected);
    }
}

#[test]
fn one_validator_with_more_than_two_thirds_verifies_alone() {
    for suite in Suite::ALL {
        let validators = Validators::new(suite, &[10, 1, 1, 1]);
        validators.verify(&validators.cert(&[0])).unwrap();
        assert_eq!(
            validators.verify(&validators.cert(&[1, 2, 3])),
            Err(CertificateError::InsufficientPower {
                signed: 3,
                total: 13
            })
        );
    }
}

#[test]
fn exactly_two_thirds_is_not_enough() {
    let validators = Validators::equal(Suite::Ecdsa, 3);
    assert_eq!(
        validators.verify(&validators.cert(&[0, 1])),
        Err(CertificateError::InsufficientPower {
            signed: 2,
            total: 3
        })
    );
    validators.verify(&validators.cert(&[0, 1, 2])).unwrap();
}

#[test]
fn powers_summing_to_u64_max_verify_without_overflow() {
    let validators = Validators::new(Suite::Sm, &[u64::MAX - 2, 1, 1]);
    validators.verify(&validators.cert(&[0])).unwrap();
    assert_eq!(validators.set.total_power(), u64::MAX);
}

// ---------------------------------------------------------------------------------------------
// Refusals.

#[test]
fn a_duplicated_signer_is_rejected_even_when_it_would_reach_the_threshold() {
    for suite in Suite::ALL {
        let validators = Validators::equal(suite, 4);
        let mut cert = validators.cert(&[0, 1]);
        cert.signatures.push(cert.signatures[0].clone());
        assert_eq!(
            validators.verify(&cert),
            Err(CertificateError::DuplicateSigner(
                cert.signatures[0].validator
            ))
        );

        // Refused even when the distinct signers alone would be enough.
        let mut cert = validators.cert(&[0, 1, 2]);
        cert.signatures.insert(0, cert.signatures[2].clone());
        assert!(matches!(
            validators.verify(&cert),
            Err(CertificateError::DuplicateSigner(_))
        ));
    }
}

#[test]
fn an_unknown_signer_is_rejected() {
    for suite in Suite::ALL {
        let validators = Validators::equal(suite, 4);
        let outsider = key(9);
        let mut cert = validators.cert(&[0, 1, 2]);
        let foreign = sign_vote(
            suite,
            &outsider,
            &chain(),
            VoteType::Precommit,
            HEIGHT,
            ROUND,
            Some(block()),
        );
        cert.signatures.push(foreign.clone());
        assert_eq!(
            validators.verify(&cert),
            Err(CertificateError::UnknownSigner(foreign.validator))
        );
    }
}

#[test]
fn a_certificate_from_another_chain_is_rejected() {
    for suite in Suite::ALL {
        let validators = Validators::equal(suite, 4);
        let other_id = ChainBinding {
            chain_id: chain().chain_id + 1,
            ..chain()
        };
        let other_genesis = ChainBinding {
            genesis_hash: B256::repeat_byte(0x12),
            ..chain()
        };
        for other in [other_id, other_genesis] {
            let cert = validators.cert_for(&other, HEIGHT, ROUND, block(), &[0, 1, 2, 3]);
            // Valid where it was made...
            verify_commit_certificate(suite, &other, &validators.set, &cert, HEIGHT, block())
                .unwrap();
            // ...and refused here.
            let err = validators.verify(&cert).unwrap_err();
            assert!(
                matches!(err, CertificateError::InvalidSignature { .. }),
                "{suite}: {err}"
            );
            assert!(err.to_string().contains("another chain id or genesis"));
        }
    }
}

#[test]
fn a_wrong_block_hash_is_rejected() {
    for suite in Suite::ALL {
        let validators = Validators::equal(suite, 4);
        let cert = validators.cert(&[0, 1, 2]);
        let other = B256::repeat_byte(0xac);
        assert_eq!(
            verify_commit_certificate(suite, &chain(), &validators.set, &cert, HEIGHT, other),
            Err(CertificateError::WrongBlockHash {
                expected: other,
                found: block()
            })
        );

        // Relabelling the certificate for the other block breaks every signature.
        let mut relabelled = cert.clone();
        relabelled.block_hash = other;
        assert!(matches!(
            verify_commit_certificate(suite, &chain(), &validators.set, &relabelled, HEIGHT, other),
            Err(CertificateError::InvalidSignature { .. })
        ));
    }
}

#[test]
fn a_wrong_height_or_round_is_rejected() {
    for suite in Suite::ALL {
        let validators = Validators::equal(suite, 4);
        let cert = validators.cert(&[0, 1, 2]);
        assert_eq!(
            verify_commit_certificate(suite, &chain(), &validators.set, &cert, HEIGHT + 1, block()),
            Err(CertificateError::WrongHeight {
                expected: HEIGHT + 1,
                found: HEIGHT
            })
        );

        let mut relabelled = cert.clone();
        relabelled.height = HEIGHT + 1;
        assert!(matches!(
            verify_commit_certificate(
                suite,
                &chain(),
                &validators.set,
                &relabelled,
                HEIGHT + 1,
                block()
            ),
            Err(CertificateError::InvalidSignature { .. })
        ));

        let mut other_round = cert.clone();
        other_round.round = ROUND + 1;
        assert!(matches!(
            validators.verify(&other_round),
            Err(CertificateError::InvalidSignature { .. })
        ));
    }
}

#[test]
fn prevotes_nil_precommits_and_proposals_do_not_count_as_precommits() {
    for suite in Suite::ALL {
        let validators = Validators::equal(suite, 4);
        let good = validators.cert(&[0, 1]);
        let wrong_votes = [
            (VoteType::Prevote, Some(block())),
            (VoteType::Precommit, None),
        ];
        for (vote_type, value) in wrong_votes {
            let mut cert = good.clone();
            cert.signatures.push(sign_vote(
                suite,
                &validators.keys[2],
                &chain(),
                vote_type,
                HEIGHT,
                ROUND,
                value,
            ));
            assert!(matches!(
                validators.verify(&cert),
                Err(CertificateError::InvalidSignature { validator, .. }) if validator == validators.address(2)
            ));
        }

        let proposal = proposal_sign_bytes(
            &chain(),
            HEIGHT,
            ROUND,
            None,
            block(),
            validators.address(2),
        );
        let mut cert = good.clone();
        cert.signatures.push(CommitSignature {
            validator: validators.address(2),
            signature: Bytes::from(
                suite
                    .sign(&validators.keys[2], &proposal)
                    .unwrap()
                    .to_bytes(),
            ),
        });
        assert!(matches!(
            validators.verify(&cert),
            Err(CertificateError::InvalidSignature { .. })
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any single flipped bit in any signature rejects the certificate, even though the other
    /// signatures alone would still reach 3 of 4.
    #[test]
    fn a_flipped_signature_bit_is_rejected(
        suite in suite_strategy(),
        which in 0usize..4,
        byte in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let validators = Validators::equal(suite, 4);
        let mut cert = validators.cert(&[0, 1, 2, 3]);
        let entry = &mut cert.signatures[which];
        let mut sig = entry.signature.to_vec();
        let at = byte.index(sig.len());
        sig[at] ^= 1 << bit;
        entry.signature = Bytes::from(sig);
        let signer = entry.validator;
        let result = validators.verify(&cert);
        prop_assert!(
            matches!(result, Err(CertificateError::InvalidSignature { validator, .. }) if validator == signer),
            "{:?}", result
        );
    }
}

#[test]
fn an_empty_certificate_is_rejected() {
    let validators = Validators::equal(Suite::Ecdsa, 4);
    assert_eq!(
        validators.verify(&validators.cert(&[])),
        Err(CertificateError::NoSignatures)
    );
}

// ---------------------------------------------------------------------------------------------
// Suites do not mix.

#[test]
fn a_certificate_for_one_suite_does_not_verify_under_the_other() {
    for (signed_with, checked_with) in [(Suite::Ecdsa, Suite::Sm), (Suite::Sm, Suite::Ecdsa)] {
        let signers = Validators::equal(signed_with, 4);
        let cert = signers.cert(&[0, 1, 2, 3]);
        // Same secret keys, other suite: other curve, other addresses.
        let checkers = Validators::equal(checked_with, 4);

        // A set of the other suite does not know the signers.
        assert!(matches!(
            checkers.verify(&cert),
            Err(CertificateError::UnknownSigner(_))
        ));
        // The signing suite's set cannot be used under the other suite.
        assert_eq!(
            verify_commit_certificate(checked_with, &chain(), &signers.set, &cert, HEIGHT, block()),
            Err(CertificateError::SuiteMismatch {
                set: signed_with,
                requested: checked_with
            })
        );

        // Relabelled to the other suite's addresses, the signatures have the wrong shape...
        let mut relabelled = cert.clone();
        for entry in &mut relabelled.signatures {
            let i = (0..4)
                .find(|&i| signers.address(i) == entry.validator)
                .unwrap();
            entry.validator = checkers.address(i);
        }
        assert!(matches!(
            checkers.verify(&relabelled),
            Err(CertificateError::MalformedSignature { .. })
        ));
        // ...and forced to the right length they still do not verify.
        for entry in &mut relabelled.signatures {
            let mut sig = entry.signature.to_vec();
            sig.resize(checked_with.signature_len(), 0);
            entry.signature = Bytes::from(sig);
        }
        assert!(matches!(
            checkers.verify(&relabelled),
            Err(CertificateError::InvalidSignature { .. })
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding.

fn signature_strategy() -> impl Strategy<Value = CommitSignature> {
    (
        any::<[u8; 20]>(),
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(address, sig)| CommitSignature {
            validator: Address::from(address),
            signature: Bytes::from(sig),
        })
}

proptest! {
    #[test]
    fn certificates_round_trip_through_rlp(
        height in any::<u64>(),
        round in any::<u32>(),
        hash in any::<[u8; 32]>(),
        signatures in proptest::collection::vec(signature_strategy(), 0..8),
    ) {
        let cert = CommitCertificate {
            height,
            round,
            block_hash: B256::from(hash),
            signatures,
        };
        let bytes = cert.encoded();
        prop_assert_eq!(bytes.len(), cert.length());
        prop_assert_eq!(CommitCertificate::from_rlp(&bytes).unwrap(), cert);

        let mut trailing = bytes.clone();
        trailing.push(0);
        prop_assert!(CommitCertificate::from_rlp(&trailing).is_err());
        prop_assert!(CommitCertificate::from_rlp(&bytes[..bytes.len() - 1]).is_err());
    }

    /// `CommitCertificate::new` stores the same bytes whatever order signatures arrived in.
    #[test]
    fn new_orders_signatures_canonically(
        signatures in proptest::collection::vec(signature_strategy(), 0..8),
    ) {
        let mut reversed = signatures.clone();
        reversed.reverse();
        let a = CommitCertificate::new(1, 0, block(), signatures);
        let b = CommitCertificate::new(1, 0, block(), reversed);
        prop_assert_eq!(a.encoded(), b.encoded());
        prop_assert!(a.signatures.windows(2).all(|w| w[0].validator <= w[1].validator));
    }
}

// ---------------------------------------------------------------------------------------------
// Validator sets.

#[test]
fn validator_set_is_ordered_by_power_then_address() {
    let validators = Validators::new(Suite::Ecdsa, &[1, 5, 1, 5]);
    let order: Vec<_> = validators
        .set
        .validators()
        .iter()
        .map(|v| (v.voting_power(), v.address()))
        .collect();
    let mut expected: Vec<_> = (0..4)
        .map(|i| (validators.entries[i].power, validators.address(i)))
        .collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(order, expected);
    assert_eq!(validators.set.total_power(), 12);
    let second = validators.set.get(&validators.address(1)).unwrap();
    assert_eq!(second.voting_power(), 5);
    assert_eq!(
        second.public_key(),
        &Suite::Ecdsa.public_key(&validators.keys[1]).unwrap()
    );
    assert!(validators.set.get(&Address::repeat_byte(9)).is_none());
}

#[test]
fn unusable_validator_sets_are_rejected() {
    let suite = Suite::Sm;
    let a = genesis_entry(suite, &key(0), 1);
    let b = genesis_entry(suite, &key(1), 1);

    assert_eq!(ValidatorSet::new(suite, &[]), Err(ValidatorSetError::Empty));

    let zero = GenesisValidator {
        power: 0,
        ..b.clone()
    };
    assert_eq!(
        ValidatorSet::new(suite, &[a.clone(), zero]),
        Err(ValidatorSetError::ZeroPower(b.address))
    );

    assert_eq!(
        ValidatorSet::new(suite, &[a.clone(), b.clone(), a.clone()]),
        Err(ValidatorSetError::DuplicateValidator(a.address))
    );

    let mismatched = GenesisValidator {
        address: b.address,
        ..a.clone()
    };
    assert!(matches!(
        ValidatorSet::new(suite, &[mismatched]),
        Err(ValidatorSetError::AddressMismatch { address, derived, .. })
            if address == b.address && derived == a.address
    ));

    let not_a_key = GenesisValidator {
        public_key: Bytes::from(vec![0u8; 64]),
        ..a.clone()
    };
    assert!(matches!(
        ValidatorSet::new(suite, &[not_a_key]),
        Err(ValidatorSetError::InvalidPublicKey { .. })
    ));

    // An ecdsa key listed on an sm chain.
    let ecdsa_entry = genesis_entry(Suite::Ecdsa, &key(0), 1);
    assert!(matches!(
        ValidatorSet::new(suite, &[ecdsa_entry]),
        Err(ValidatorSetError::InvalidPublicKey { .. })
    ));

    let big_a = GenesisValidator {
        power: u64::MAX,
        ..a.clone()
    };
    assert_eq!(
        ValidatorSet::new(suite, &[big_a, b]),
        Err(ValidatorSetError::TotalPowerOverflow)
    );
}

#[test]
fn errors_say_what_went_wrong() {
    let validators = Validators::equal(Suite::Ecdsa, 4);
    let msg = validators
        .verify(&validators.cert(&[0, 1]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "certificate is signed by 2 of 4 voting power; strictly more than 2/3 is required"
    );
    let msg = ValidatorSet::new(Suite::Ecdsa, &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("empty"), "{msg}");
}
