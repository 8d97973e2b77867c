//! Consensus evidence that outlives the engine: the bytes validators sign, and commit
//! certificates that anyone holding the validator set can check.
//!
//! The engine (Malachite, in `banyan-consensus`) signs votes and proposals over
//! [`vote_sign_bytes`] and [`proposal_sign_bytes`]; these functions are the only definition of
//! those bytes, so the engine, the SDK and clients cannot disagree on them. Every preimage starts
//! with a versioned domain tag (so a vote signature never doubles as a transaction or seal
//! signature) and carries the chain id and genesis hash (so a vote from one chain is worthless on
//! another). Fields are fixed-width and big-endian; see `docs/design/consensus.md` §2.2.
//!
//! A [`CommitCertificate`] holds the precommit signatures for one block, stored next to it.
//! [`verify_commit_certificate`] accepts it only if validators holding strictly more than 2/3 of
//! the voting power signed a precommit for exactly that block, height and round, on this chain.
//!
//! ```
//! use banyan_primitives::consensus::{
//!     ChainBinding, CommitCertificate, CommitSignature, ValidatorSet, VoteType,
//!     verify_commit_certificate, vote_sign_bytes,
//! };
//! use banyan_primitives::{B256, GenesisValidator, Suite};
//!
//! let suite = Suite::Sm;
//! let chain = ChainBinding { chain_id: 7, genesis_hash: B256::repeat_byte(0x11) };
//! let key = suite.generate_secret();
//! let public_key = suite.public_key(&key)?;
//! let address = suite.address(&public_key);
//! let validators = ValidatorSet::new(
//!     suite,
//!     &[GenesisValidator { address, public_key: public_key.to_bytes().into(), power: 1 }],
//! )?;
//!
//! let (height, round, block_hash) = (5, 0, B256::repeat_byte(0xab));
//! let preimage = vote_sign_bytes(&chain, VoteType::Precommit, height, round, Some(block_hash), address);
//! let signature = suite.sign(&key, &preimage)?;
//! let cert = CommitCertificate::new(
//!     height,
//!     round,
//!     block_hash,
//!     vec![CommitSignature { validator: address, signature: signature.to_bytes().into() }],
//! );
//!
//! let stored = cert.encoded();
//! let loaded = CommitCertificate::from_rlp(&stored)?;
//! verify_commit_certificate(suite, &chain, &validators, &loaded, height, block_hash)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, Bytes};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use banyan_crypto::{CryptoError, PublicKey, Signature, Suite};

use crate::GenesisValidator;

/// Domain tag that opens every vote preimage.
pub const VOTE_DOMAIN: &[u8] = b"banyan/vote/v1";
/// Domain tag that opens every proposal preimage.
pub const PROPOSAL_DOMAIN: &[u8] = b"banyan/proposal/v1";

/// Length of [`vote_sign_bytes`]: tag 14, chain id 8, genesis hash 32, type 1, height 8,
/// round 4, value tag 1, block hash 32, validator 20.
pub const VOTE_SIGN_BYTES_LEN: usize = VOTE_DOMAIN.len() + 8 + 32 + 1 + 8 + 4 + 1 + 32 + 20;
/// Length of [`proposal_sign_bytes`]: tag 18, chain id 8, genesis hash 32, height 8, round 4,
/// POL round 8, block hash 32, proposer 20.
pub const PROPOSAL_SIGN_BYTES_LEN: usize = PROPOSAL_DOMAIN.len() + 8 + 32 + 8 + 4 + 8 + 32 + 20;

/// What ties a consensus signature to one chain: both values go into every preimage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChainBinding {
    /// The chain id from genesis.
    pub chain_id: u64,
    /// The hash of the genesis block, which commits to the whole chain spec.
    pub genesis_hash: B256,
}

/// The two kinds of vote. The discriminant is the byte that goes into the preimage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum VoteType {
    /// First-phase vote.
    Prevote = 1,
    /// Second-phase vote; a commit certificate is made of these.
    Precommit = 2,
}

/// The bytes a validator signs for a vote.
///
/// `block_hash` is `None` for a vote for nil, encoded as value tag 0 and a zero hash.
pub fn vote_sign_bytes(
    chain: &ChainBinding,
    vote_type: VoteType,
    height: u64,
    round: u32,
    block_hash: Option<B256>,
    validator: Address,
) -> [u8; VOTE_SIGN_BYTES_LEN] {
    let (value_tag, hash) = match block_hash {
        None => (0u8, B256::ZERO),
        Some(hash) => (1u8, hash),
    };
    let mut out = [0u8; VOTE_SIGN_BYTES_LEN];
    let mut w = FixedWriter::new(&mut out);
    w.put(VOTE_DOMAIN);
    w.put(&chain.chain_id.to_be_bytes());
    w.put(chain.genesis_hash.as_slice());
    w.put(&[vote_type as u8]);
    w.put(&height.to_be_bytes());
    w.put(&round.to_be_bytes());
    w.put(&[value_tag]);
    w.put(hash.as_slice());
    w.put(validator.as_slice());
    w.finish();
    out
}

/// The bytes a proposer signs for a proposal.
///
/// `pol_round` is the proof-of-lock round (Tendermint's valid round); `None` is encoded as `-1`.
pub fn proposal_sign_bytes(
    chain: &ChainBinding,
    height: u64,
    round: u32,
    pol_round: Option<u32>,
    block_hash: B256,
    proposer: Address,
) -> [u8; PROPOSAL_SIGN_BYTES_LEN] {
    let pol_round = pol_round.map_or(-1i64, i64::from);
    let mut out = [0u8; PROPOSAL_SIGN_BYTES_LEN];
    let mut w = FixedWriter::new(&mut out);
    w.put(PROPOSAL_DOMAIN);
    w.put(&chain.chain_id.to_be_bytes());
    w.put(chain.genesis_hash.as_slice());
    w.put(&height.to_be_bytes());
    w.put(&round.to_be_bytes());
    w.put(&pol_round.to_be_bytes());
    w.put(block_hash.as_slice());
    w.put(proposer.as_slice());
    w.finish();
    out
}

/// Fills a fixed-size preimage front to back and asserts that it was filled exactly.
struct FixedWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> FixedWriter<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    fn finish(self) {
        // A short preimage would leave zeros that sign for fields nobody wrote.
        assert_eq!(
            self.len,
            self.buf.len(),
            "preimage layout does not fill its length"
        );
    }
}

/// One validator's precommit signature inside a [`CommitCertificate`].
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct CommitSignature {
    /// The validator that signed.
    pub validator: Address,
    /// Its signature over [`vote_sign_bytes`] for a precommit of the certified block: 65 bytes
    /// on `ecdsa` chains, 64 on `sm` chains.
    pub signature: Bytes,
}

/// Proof that a block was decided: precommits from more than 2/3 of the voting power.
///
/// Stored with each block (not part of its hash); different nodes may hold different, equally
/// valid, sets of signatures for the same block. RLP-encoded as
/// `[height, round, block_hash, [[validator, signature], ...]]`.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct CommitCertificate {
    /// Height of the certified block.
    pub height: u64,
    /// Round in which it was decided.
    pub round: u32,
    /// Hash of the certified block's header.
    pub block_hash: B256,
    /// The precommit signatures, sorted by validator address when built with
    /// [`CommitCertificate::new`].
    pub signatures: Vec<CommitSignature>,
}

impl CommitCertificate {
    /// A certificate with its signatures in canonical order (by validator address), so that
    /// nodes holding the same signatures store the same bytes.
    pub fn new(
        height: u64,
        round: u32,
        block_hash: B256,
        mut signatures: Vec<CommitSignature>,
    ) -> Self {
        signatures.sort_by_key(|s| s.validator);
        Self {
            height,
            round,
            block_hash,
            signatures,
        }
    }

    /// The RLP encoding, as stored and served.
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.length());
        self.encode(&mut out);
        out
    }

    /// Decodes [`CommitCertificate::encoded`] output; trailing bytes are an error.
    ///
    /// Decoding does not verify anything: call [`verify_commit_certificate`].
    pub fn from_rlp(bytes: &[u8]) -> Result<Self, alloy_rlp::Error> {
        alloy_rlp::decode_exact(bytes)
    }
}

/// A validator as certificate verification needs it: its public key already checked against
/// the chain's curve and its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    address: Address,
    public_key: PublicKey,
    voting_power: u64,
}

impl Validator {
    /// The validator's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The key its consensus signatures verify under.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Its voting power (never zero).
    pub fn voting_power(&self) -> u64 {
        self.voting_power
    }
}

/// A checked, non-empty validator set for one suite.
///
/// Validators are kept in the order consensus expects (voting power descending, then address
/// ascending), and the total voting power fits in a `u64`, as Malachite requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    suite: Suite,
    validators: Vec<Validator>,
    index_by_address: BTreeMap<Address, usize>,
    total_power: u64,
}

impl ValidatorSet {
    /// Builds the set from genesis entries, parsing each public key for `suite` once.
    ///
    /// Rejects an empty set, zero power, duplicate addresses, keys that are not points of the
    /// suite's curve, addresses that do not belong to their key, and a total power above
    /// `u64::MAX`.
    pub fn new(suite: Suite, validators: &[GenesisValidator]) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        let mut parsed = Vec::with_capacity(validators.len());
        let mut total_power: u128 = 0;
        for entry in validators {
            let validator = parse_validator(suite, entry)?;
            total_power = total_power
                .checked_add(u128::from(validator.voting_power))
                .ok_or(ValidatorSetError::TotalPowerOverflow)?;
            parsed.push(validator);
        }
        let total_power =
            u64::try_from(total_power).map_err(|_| ValidatorSetError::TotalPowerOverflow)?;
        parsed.sort_by(|a, b| {
            b.voting_power
                .cmp(&a.voting_power)
                .then(a.address.cmp(&b.address))
        });
        let mut index_by_address = BTreeMap::new();
        for (index, validator) in parsed.iter().enumerate() {
            if index_by_address.insert(validator.address, index).is_some() {
                return Err(ValidatorSetError::DuplicateValidator(validator.address));
            }
        }
        Ok(Self {
            suite,
            validators: parsed,
            index_by_address,
            total_power,
        })
    }

    /// The suite the keys were parsed for.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The validators, power descending then address ascending.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// The validator with this address, if it is in the set.
    pub fn get(&self, address: &Address) -> Option<&Validator> {
        self.index_by_address
            .get(address)
            .and_then(|&index| self.validators.get(index))
    }

    /// Sum of all voting power.
    pub fn total_power(&self) -> u64 {
        self.total_power
    }
}

fn parse_validator(suite: Suite, entry: &GenesisValidator) -> Result<Validator, ValidatorSetError> {
    if entry.power == 0 {
        return Err(ValidatorSetError::ZeroPower(entry.address));
    }
    let public_key = PublicKey::from_bytes(suite, &entry.public_key).map_err(|source| {
        ValidatorSetError::InvalidPublicKey {
            address: entry.address,
            suite,
            source,
        }
    })?;
    let derived = suite.address(&public_key);
    if derived != entry.address {
        return Err(ValidatorSetError::AddressMismatch {
            address: entry.address,
            derived,
            suite,
        });
    }
    Ok(Validator {
        address: entry.address,
        public_key,
        voting_power: entry.power,
    })
}

/// Why a validator set cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators at all.
    #[error("the validator set is empty; a chain needs at least one validator")]
    Empty,
    /// A validator with no voting power.
    #[error("validator {0} has zero voting power; give it power or remove it from the set")]
    ZeroPower(Address),
    /// The same address appears twice.
    #[error("validator {0} appears more than once in the set; list each validator once")]
    DuplicateValidator(Address),
    /// The public key bytes are not a key of the suite's curve.
    #[error("validator {address}: public key is not a valid {suite} key: {source}")]
    InvalidPublicKey {
        /// The validator whose key was rejected.
        address: Address,
        /// The suite the key was parsed for.
        suite: Suite,
        /// What was wrong with the key.
        source: CryptoError,
    },
    /// The listed address is not the one the public key gives.
    #[error(
        "validator {address} does not match its public key, which gives address {derived} \
         under the {suite} suite; fix the address or the key"
    )]
    AddressMismatch {
        /// The address as listed.
        address: Address,
        /// The address derived from the key.
        derived: Address,
        /// The suite used to derive it.
        suite: Suite,
    },
    /// The powers add up to more than a `u64` can hold.
    #[error("the total voting power exceeds {max}; lower the validators' powers", max = u64::MAX)]
    TotalPowerOverflow,
}

/// Checks that `cert` proves the block `expected_block_hash` at `expected_height` was decided
/// on the chain `chain`, by `validators`.
///
/// Every entry must come from a distinct validator of the set and carry a valid signature over
/// the precommit for `(height, round, block hash)`; one bad entry rejects the whole certificate.
/// The signers must hold strictly more than 2/3 of the total voting power
/// (`signed * 3 > total * 2`, Malachite's rule). Work is bounded by the set's size: checking
/// stops at the first duplicate or unknown signer.
pub fn verify_commit_certificate(
    suite: Suite,
    chain: &ChainBinding,
    validators: &ValidatorSet,
    cert: &CommitCertificate,
    expected_height: u64,
    expected_block_hash: B256,
) -> Result<(), CertificateError> {
    if validators.suite() != suite {
        return Err(CertificateError::SuiteMismatch {
            set: validators.suite(),
            requested: suite,
        });
    }
    if cert.height != expected_height {
        return Err(CertificateError::WrongHeight {
            expected: expected_height,
            found: cert.height,
        });
    }
    if cert.block_hash != expected_block_hash {
        return Err(CertificateError::WrongBlockHash {
            expected: expected_block_hash,
            found: cert.block_hash,
        });
    }
    if cert.signatures.is_empty() {
        return Err(CertificateError::NoSignatures);
    }
    let mut seen = BTreeSet::new();
    let mut signed_power: u128 = 0;
    for entry in &cert.signatures {
        if !seen.insert(entry.validator) {
            return Err(CertificateError::DuplicateSigner(entry.validator));
        }
        let validator = validators
            .get(&entry.validator)
            .ok_or(CertificateError::UnknownSigner(entry.validator))?;
        verify_entry(suite, chain, cert, validator, &entry.signature)?;
        signed_power = signed_power
            .checked_add(u128::from(validator.voting_power))
            .ok_or(CertificateError::PowerOverflow)?;
    }
    let total_power = u128::from(validators.total_power());
    if !exceeds_two_thirds(signed_power, total_power)? {
        return Err(CertificateError::InsufficientPower {
            signed: signed_power,
            total: total_power,
        });
    }
    Ok(())
}

fn verify_entry(
    suite: Suite,
    chain: &ChainBinding,
    cert: &CommitCertificate,
    validator: &Validator,
    signature: &[u8],
) -> Result<(), CertificateError> {
    if signature.len() != suite.signature_len() {
        return Err(CertificateError::MalformedSignature {
            validator: validator.address,
            len: signature.len(),
            expected: suite.signature_len(),
            suite,
        });
    }
    let preimage = vote_sign_bytes(
        chain,
        VoteType::Precommit,
        cert.height,
        cert.round,
        Some(cert.block_hash),
        validator.address,
    );
    Signature::from_bytes(signature)
        .and_then(|sig| suite.verify(&validator.public_key, &preimage, &sig))
        .map_err(|source| CertificateError::InvalidSignature {
            validator: validator.address,
            height: cert.height,
            round: cert.round,
            block_hash: cert.block_hash,
            source,
        })
}

/// `signed * 3 > total * 2` without overflow (powers are below 2^64, so u128 never overflows
/// here, but the arithmetic is checked rather than assumed).
fn exceeds_two_thirds(signed: u128, total: u128) -> Result<bool, CertificateError> {
    let lhs = signed
        .checked_mul(3)
        .ok_or(CertificateError::PowerOverflow)?;
    let rhs = total
        .checked_mul(2)
        .ok_or(CertificateError::PowerOverflow)?;
    Ok(lhs > rhs)
}

/// Why a commit certificate does not prove its block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The validator set's keys were parsed for another suite than the one asked for.
    #[error(
        "the validator set was built for the {set} suite but the certificate is checked under \
         {requested}; build the set with the chain's suite"
    )]
    SuiteMismatch {
        /// Suite of the validator set.
        set: Suite,
        /// Suite passed to the verifier.
        requested: Suite,
    },
    /// The certificate is for another height.
    #[error("certificate is for height {found}, expected height {expected}")]
    WrongHeight {
        /// Height of the block being checked.
        expected: u64,
        /// Height in the certificate.
        found: u64,
    },
    /// The certificate is for another block.
    #[error("certificate is for block {found}, expected block {expected}")]
    WrongBlockHash {
        /// Hash of the block being checked.
        expected: B256,
        /// Hash in the certificate.
        found: B256,
    },
    /// The certificate carries no signatures.
    #[error("certificate carries no signatures")]
    NoSignatures,
    /// A validator signed twice.
    #[error("validator {0} appears more than once in the certificate")]
    DuplicateSigner(Address),
    /// A signer outside the validator set.
    #[error("signer {0} is not in the validator set for this height")]
    UnknownSigner(Address),
    /// A signature of the wrong length for the suite.
    #[error(
        "signature of validator {validator} is {len} bytes; the {suite} suite uses {expected}-byte \
         signatures (is the certificate from a chain on the other suite?)"
    )]
    MalformedSignature {
        /// The signer.
        validator: Address,
        /// Length found.
        len: usize,
        /// Length the suite uses.
        expected: usize,
        /// The suite checked under.
        suite: Suite,
    },
    /// A signature that does not verify over this chain's precommit preimage.
    #[error(
        "signature of validator {validator} does not verify as a precommit for block {block_hash} \
         at height {height} round {round} on this chain ({source}); the certificate was made for \
         another chain id or genesis, signed with another key, or altered"
    )]
    InvalidSignature {
        /// The signer.
        validator: Address,
        /// Certified height.
        height: u64,
        /// Certified round.
        round: u32,
        /// Certified block.
        block_hash: B256,
        /// The verifier's reason.
        source: CryptoError,
    },
    /// Valid signatures, but not enough of them.
    #[error(
        "certificate is signed by {signed} of {total} voting power; strictly more than 2/3 is \
         required"
    )]
    InsufficientPower {
        /// Voting power of the valid, distinct signers.
        signed: u128,
        /// Total voting power of the set.
        total: u128,
    },
    /// Power arithmetic overflowed; cannot happen with powers below 2^64, checked anyway.
    #[error("voting power arithmetic overflowed")]
    PowerOverflow,
}
