//! Banyan's types for the Malachite engine: heights, addresses, the block hash as the decided
//! value, votes, proposals, proposal parts and the validator set.
//!
//! Every struct here holds only fields that consensus re-derives deterministically, so the
//! derived `Eq` is what WAL replay needs (design doc §2, "equality rule").

use std::fmt;
use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes};
use banyan_primitives::SealedHeader;
use banyan_primitives::consensus::{ChainBinding, ValidatorSet as CheckedSet};
use malachitebft_app_channel::app::types::core::{
    self as mc, NilOrVal, Round, SignedExtension, VoteType,
};

use crate::signing::{BanyanSigningScheme, ConsensusKey};

/// The context every engine actor is parameterised by: it carries what binds signatures to
/// this chain.
#[derive(Clone, Debug)]
pub struct BanyanContext {
    suite: banyan_crypto::Suite,
    chain: ChainBinding,
}

impl BanyanContext {
    /// The context for one chain.
    pub fn new(suite: banyan_crypto::Suite, chain: ChainBinding) -> Self {
        Self { suite, chain }
    }

    /// The chain's crypto suite.
    pub fn suite(&self) -> banyan_crypto::Suite {
        self.suite
    }

    /// Chain id and genesis hash, which go into every signed preimage.
    pub fn chain(&self) -> &ChainBinding {
        &self.chain
    }
}

/// A block height. Height 0 is genesis; consensus starts at 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address (the suite's address of its consensus key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValidatorAddress(pub Address);

impl fmt::Display for ValidatorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mc::Address for ValidatorAddress {}

/// The decided value: the hash of a block header. The block itself travels as proposal parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockHash(pub B256);

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mc::Value for BlockHash {
    type Id = BlockHash;

    fn id(&self) -> BlockHash {
        *self
    }
}

/// A prevote or precommit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// Height voted at.
    pub height: Height,
    /// Round voted in.
    pub round: Round,
    /// The block voted for, or nil.
    pub value: NilOrVal<BlockHash>,
    /// Who votes.
    pub validator: ValidatorAddress,
}

impl mc::Vote<BanyanContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<BlockHash> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<BlockHash> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.validator
    }

    fn extension(&self) -> Option<&SignedExtension<BanyanContext>> {
        None
    }

    fn take_extension(&mut self) -> Option<SignedExtension<BanyanContext>> {
        None
    }

    // Vote extensions are disabled (`VoteExtensionPolicy::Disabled`); an extension offered
    // here is dropped rather than carried into a signed vote.
    fn extend(self, _extension: SignedExtension<BanyanContext>) -> Self {
        self
    }
}

/// A proposal: "at this height and round, decide this block".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Height proposed for.
    pub height: Height,
    /// Round proposed in.
    pub round: Round,
    /// The proposed block's hash.
    pub value: BlockHash,
    /// Proof-of-lock round, or nil.
    pub pol_round: Round,
    /// The proposer.
    pub proposer: ValidatorAddress,
}

impl mc::Proposal<BanyanContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockHash {
        &self.value
    }

    fn take_value(self) -> BlockHash {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.proposer
    }
}

/// One piece of a streamed block proposal: `Init`, `Header`, zero or more `Txs`, then `Fin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalPart {
    /// Opens the stream.
    Init {
        /// Height of the proposal.
        height: Height,
        /// Round of the proposal.
        round: Round,
        /// Proof-of-lock round of a re-proposal, or nil.
        valid_round: Round,
        /// Who proposes.
        proposer: ValidatorAddress,
    },
    /// The sealed header; its seal and `transactions_root` authenticate the rest.
    Header(Box<SealedHeader>),
    /// A chunk of transactions in block order, starting at `first_index`.
    Txs {
        /// Index in the block of the first transaction of this chunk.
        first_index: u32,
        /// Raw signed transactions.
        txs: Vec<Bytes>,
    },
    /// Closes the stream and says how many transactions it carried.
    Fin {
        /// Total number of transactions in the block.
        tx_count: u32,
    },
}

impl mc::ProposalPart<BanyanContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init { .. })
    }

    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin { .. })
    }
}

/// A validator as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    address: ValidatorAddress,
    public_key: ConsensusKey,
    voting_power: u64,
}

impl Validator {
    /// A validator entry.
    pub fn new(address: Address, public_key: ConsensusKey, voting_power: u64) -> Self {
        Self {
            address: ValidatorAddress(address),
            public_key,
            voting_power,
        }
    }
}

impl mc::Validator<BanyanContext> for Validator {
    fn address(&self) -> &ValidatorAddress {
        &self.address
    }

    fn public_key(&self) -> &ConsensusKey {
        &self.public_key
    }

    fn voting_power(&self) -> u64 {
        self.voting_power
    }
}

/// The validator set, in the order consensus requires (power descending, then address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Arc<[Validator]>,
    total_power: u64,
}

impl ValidatorSet {
    /// The engine's view of a checked set: keys already parsed for the suite, order and total
    /// power already established by [`CheckedSet::new`].
    pub fn from_checked(set: &CheckedSet) -> Self {
        let validators: Vec<Validator> = set
            .validators()
            .iter()
            .map(|v| {
                Validator::new(
                    v.address(),
                    ConsensusKey(v.public_key().to_bytes()),
                    v.voting_power(),
                )
            })
            .collect();
        Self {
            validators: validators.into(),
            total_power: set.total_power(),
        }
    }

    /// The validators in consensus order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Whether `address` is a member.
    pub fn contains(&self, address: &Address) -> bool {
        self.validators.iter().any(|v| v.address.0 == *address)
    }
}

impl mc::ValidatorSet<BanyanContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> u64 {
        self.total_power
    }

    fn get_by_address(&self, address: &ValidatorAddress) -> Option<&Validator> {
        self.validators.iter().find(|v| v.address == *address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// The proposer for `(height, round)`: round-robin over the set in consensus order, so that a
/// crashed proposer is skipped at the next round. Panics never: the set is never empty.
pub fn proposer_index(count: usize, height: u64, round: Round) -> usize {
    let round = u64::from(round.as_u32().unwrap_or(0));
    let count = count.max(1) as u64;
    (height.wrapping_add(round) % count) as usize
}

impl mc::Context for BanyanContext {
    type Address = ValidatorAddress;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = mc::LinearTimeouts;
    type Value = BlockHash;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = BanyanSigningScheme;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let index = proposer_index(validator_set.validators.len(), height.0, round);
        // `ValidatorSet` is built only from a checked, non-empty set, so the index exists.
        &validator_set.validators[index]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockHash,
        pol_round: Round,
        address: ValidatorAddress,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: ValidatorAddress,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: ValidatorAddress,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }
}
