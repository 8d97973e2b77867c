//! Consensus signatures with the chain's suite: secp256k1/Keccak on `ecdsa` chains, SM2/SM3 on
//! `sm` chains. The preimages are `banyan_primitives::consensus::{vote_sign_bytes,
//! proposal_sign_bytes}`, the same bytes a client checks in a commit certificate.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use banyan_crypto::{PublicKey, SecretKey, Signature, Suite};
use banyan_primitives::consensus::{
    VoteType as PreimageVoteType, proposal_sign_bytes, vote_sign_bytes,
};
use malachitebft_app_channel::app::types::core::{
    NilOrVal, SignedMessage, SigningScheme, ValidatorProof, VoteExtensionScope, VoteType,
};
use malachitebft_signing::{Error as SignError, Signer, VerificationResult, Verifier};
use parking_lot::RwLock;

use crate::context::{BanyanContext, Proposal, Vote};

/// Raw public key bytes (`x ‖ y`, 64 bytes), as in genesis. Checked against the curve when a
/// verifier first uses it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConsensusKey(pub [u8; 64]);

impl fmt::Debug for ConsensusKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsensusKey(0x{})", hex_prefix(&self.0))
    }
}

/// A consensus signature: 65 bytes `r ‖ s ‖ v` on `ecdsa` chains, 64 bytes `r ‖ s` on `sm`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsensusSignature(pub Vec<u8>);

impl fmt::Debug for ConsensusSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsensusSignature(0x{}…)", hex_prefix(&self.0))
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Why bytes are not a key or a signature.
#[derive(Debug, thiserror::Error)]
pub enum KeyDecodingError {
    /// Wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// Which thing.
        what: &'static str,
        /// Accepted lengths.
        expected: &'static str,
        /// Received length.
        got: usize,
    },
}

/// The engine's signing scheme. It only names types and byte encodings: signing and
/// verification go through [`BanyanSigner`] and [`BanyanVerifier`], which know the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BanyanSigningScheme {}

impl SigningScheme for BanyanSigningScheme {
    type DecodingError = KeyDecodingError;
    type Signature = ConsensusSignature;
    type PublicKey = ConsensusKey;
    type PrivateKey = SecretKey;

    fn decode_signature(bytes: &[u8]) -> Result<ConsensusSignature, KeyDecodingError> {
        match bytes.len() {
            64 | 65 => Ok(ConsensusSignature(bytes.to_vec())),
            got => Err(KeyDecodingError::Length {
                what: "a consensus signature",
                expected: "64 (sm) or 65 (ecdsa)",
                got,
            }),
        }
    }

    fn encode_signature(signature: &ConsensusSignature) -> Vec<u8> {
        signature.0.clone()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<ConsensusKey, KeyDecodingError> {
        <[u8; 64]>::try_from(bytes)
            .map(ConsensusKey)
            .map_err(|_| KeyDecodingError::Length {
                what: "a consensus public key",
                expected: "64",
                got: bytes.len(),
            })
    }

    fn encode_public_key(public_key: &ConsensusKey) -> Vec<u8> {
        public_key.0.to_vec()
    }
}

fn preimage_vote_type(t: VoteType) -> PreimageVoteType {
    match t {
        VoteType::Prevote => PreimageVoteType::Prevote,
        VoteType::Precommit => PreimageVoteType::Precommit,
    }
}

/// The bytes signed for `vote`.
pub fn vote_preimage(ctx: &BanyanContext, vote: &Vote) -> Vec<u8> {
    let value = match vote.value {
        NilOrVal::Nil => None,
        NilOrVal::Val(hash) => Some(hash.0),
    };
    vote_sign_bytes(
        ctx.chain(),
        preimage_vote_type(vote.vote_type),
        vote.height.0,
        vote.round.as_u32().unwrap_or(0),
        value,
        vote.validator.0,
    )
    .to_vec()
}

/// The bytes signed for `proposal`.
pub fn proposal_preimage(ctx: &BanyanContext, proposal: &Proposal) -> Vec<u8> {
    proposal_sign_bytes(
        ctx.chain(),
        proposal.height.0,
        proposal.round.as_u32().unwrap_or(0),
        proposal.pol_round.as_u32(),
        proposal.value.0,
        proposal.proposer.0,
    )
    .to_vec()
}

/// Signs votes and proposals with a validator's key.
pub struct BanyanSigner {
    ctx: BanyanContext,
    key: SecretKey,
}

impl BanyanSigner {
    /// A signer for `key` on the chain of `ctx`.
    pub fn new(ctx: BanyanContext, key: SecretKey) -> Self {
        Self { ctx, key }
    }

    fn sign(&self, preimage: &[u8]) -> Result<ConsensusSignature, SignError> {
        self.ctx
            .suite()
            .sign(&self.key, preimage)
            .map(|sig| ConsensusSignature(sig.to_bytes()))
            .map_err(SignError::from_source)
    }
}

#[async_trait]
impl Signer<BanyanContext> for BanyanSigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<BanyanContext, Vote>, SignError> {
        let signature = self.sign(&vote_preimage(&self.ctx, &vote))?;
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<BanyanContext, Proposal>, SignError> {
        let signature = self.sign(&proposal_preimage(&self.ctx, &proposal))?;
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        _scope: VoteExtensionScope<BanyanContext>,
        _extension: (),
    ) -> Result<SignedMessage<BanyanContext, ()>, SignError> {
        // Vote extensions are disabled on Banyan chains.
        Err(SignError::new())
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<BanyanContext>, SignError> {
        let signature = self.sign(&ValidatorProof::<BanyanContext>::signing_bytes(
            &public_key,
            &peer_id,
        ))?;
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Verifies consensus signatures with the chain's suite, caching parsed keys.
pub struct BanyanVerifier {
    ctx: BanyanContext,
    keys: RwLock<HashMap<[u8; 64], PublicKey>>,
}

/// Most distinct keys kept parsed; far above any validator set we run.
const KEY_CACHE_LIMIT: usize = 1024;

impl BanyanVerifier {
    /// A verifier for the chain of `ctx`.
    pub fn new(ctx: BanyanContext) -> Self {
        Self {
            ctx,
            keys: RwLock::new(HashMap::new()),
        }
    }

    fn key(&self, raw: &ConsensusKey) -> Option<PublicKey> {
        if let Some(key) = self.keys.read().get(&raw.0) {
            return Some(*key);
        }
        let key = PublicKey::from_bytes(self.ctx.suite(), &raw.0).ok()?;
        let mut keys = self.keys.write();
        if keys.len() < KEY_CACHE_LIMIT {
            keys.insert(raw.0, key);
        }
        Some(key)
    }

    fn check(&self, preimage: &[u8], sig: &ConsensusSignature, raw: &ConsensusKey) -> bool {
        let suite: Suite = self.ctx.suite();
        if sig.0.len() != suite.signature_len() {
            return false;
        }
        let (Some(key), Ok(sig)) = (self.key(raw), Signature::from_bytes(&sig.0)) else {
            return false;
        };
        suite.verify(&key, preimage, &sig).is_ok()
    }
}

#[async_trait]
impl Verifier<BanyanContext> for BanyanVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &ConsensusSignature,
        public_key: &ConsensusKey,
    ) -> Result<VerificationResult, SignError> {
        Ok(VerificationResult::from_bool(self.check(
            &vote_preimage(&self.ctx, vote),
            signature,
            public_key,
        )))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &ConsensusSignature,
        public_key: &ConsensusKey,
    ) -> Result<VerificationResult, SignError> {
        Ok(VerificationResult::from_bool(self.check(
            &proposal_preimage(&self.ctx, proposal),
            signature,
            public_key,
        )))
    }

    async fn verify_signed_vote_extension(
        &self,
        _scope: &VoteExtensionScope<BanyanContext>,
        _extension: &(),
        _signature: &ConsensusSignature,
        _public_key: &ConsensusKey,
    ) -> Result<VerificationResult, SignError> {
        // Extensions are disabled: none is ever valid.
        Ok(VerificationResult::Invalid)
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<BanyanContext>,
    ) -> Result<VerificationResult, SignError> {
        let Ok(raw) = <BanyanSigningScheme as SigningScheme>::decode_public_key(&proof.public_key)
        else {
            return Ok(VerificationResult::Invalid);
        };
        Ok(VerificationResult::from_bool(self.check(
            &proof.preimage(),
            &proof.signature,
            &raw,
        )))
    }
}
