//! The egress safety guard: the last check before one of our votes or proposals leaves the
//! node. It is the one place that enforces "never sign twice" independently of the engine.
//!
//! Malachite's WAL already makes a restarted validator replay, not re-decide, what it signed
//! (design doc §4). The guard covers what the WAL cannot: a WAL file deleted, restored from an
//! older backup or copied to a second node, and any engine bug. It records each vote and
//! proposal of ours, durably, **before** it is sent, keyed by `(height, round, kind)`. Sending
//! the identical message again is allowed (rebroadcasts); a different one at the same key is
//! refused, and the node stops with both values in the error.
//!
//! Because the check sits at egress rather than at signing, a vote that was signed but never
//! sent (a crash between signing and the engine's WAL flush) cannot trip it.

use std::sync::Arc;

use alloy_primitives::Address;
use banyan_storage::{KvStore, Table, WriteBatch};
use malachitebft_app_channel::app::consensus::SignedConsensusMsg;
use malachitebft_app_channel::app::types::core::{
    NilOrVal, Round, SignedProposal, SignedVote, VoteType,
};
use parking_lot::Mutex;

use crate::context::{BanyanContext, BlockHash, Height, ValidatorAddress, Vote};

/// Kinds of signed message, as stored in the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A prevote.
    Prevote = 1,
    /// A precommit.
    Precommit = 2,
    /// A proposal.
    Proposal = 3,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Prevote => "prevote",
            Kind::Precommit => "precommit",
            Kind::Proposal => "proposal",
        }
    }
}

/// Why a message was not let out.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// We already sent a different message at this height, round and kind.
    #[error(
        "refusing to send a conflicting {kind} at height {height} round {round}: already sent {previous}, now {attempted}; the consensus WAL was lost, replaced or copied to another node. The node stops: restore the WAL or investigate before restarting"
    )]
    Conflict {
        /// `prevote`, `precommit` or `proposal`.
        kind: &'static str,
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// What we sent before.
        previous: String,
        /// What the engine now wants to send.
        attempted: String,
    },
    /// A message for a height whose records were already pruned: nothing can show it does not
    /// conflict with what was sent then, so it is not sent. The node goes on: this happens to
    /// a validator whose chain store was rebuilt (`--recover`) while it catches up through
    /// heights it voted at long ago, and not sending is always safe.
    #[error(
        "refusing to send a {kind} for height {height}: this validator already signed at height {highest}, and heights more than {keep} below that are closed"
    )]
    Closed {
        /// The kind.
        kind: &'static str,
        /// Its height.
        height: u64,
        /// Newest height signed at.
        highest: u64,
        /// Heights kept below the newest.
        keep: u64,
    },
    /// A message at a height this validator may have signed at before it lost state (its chain
    /// store rebuilt, or its safety record lost), and not the one it recorded there: not sent
    /// (the node goes on).
    #[error(
        "not sending a {kind} for height {height}: this validator lost state (chain store rebuilt or safety record lost) and sits out every height up to {through}, where it may have signed before"
    )]
    SittingOut {
        /// The kind.
        kind: &'static str,
        /// Its height.
        height: u64,
        /// The last height sat out.
        through: u64,
    },
    /// At the newest height it signed at before its chain store was rebuilt, a message for a
    /// round it had reached then, and not the one it recorded there: not sent. Its engine no
    /// longer remembers those rounds. What still goes out there: what it recorded (when the
    /// engine wants a different vote at a recorded slot, [`GuardError::EarlierRound::recorded`]
    /// is the vote to send instead), a nil vote where it recorded none, and anything the usual
    /// rules allow in the round it was in (`signed_through`) and later.
    #[error(
        "not sending a {kind} for height {height} round {round}: this validator's chain store was rebuilt, and before that it signed at this height up to round {signed_through}; before that round it sends only what it recorded and nil votes"
    )]
    EarlierRound {
        /// The kind.
        kind: &'static str,
        /// Its height.
        height: u64,
        /// Its round.
        round: u32,
        /// The highest round recorded at this height before the rebuild.
        signed_through: u32,
        /// For a vote at a slot the record holds a different vote for: that vote (unsigned),
        /// which the network sends in its place, so that the round can still gather the votes
        /// it needs (a validator that is held back everywhere it voted before can stall a
        /// round all validators were rebuilt in). Sending it again is not a second vote.
        recorded: Option<Vote>,
    },
    /// At the newest height it signed at before its chain store was rebuilt, a prevote for
    /// another value than the one it precommitted there (its lock, which the rebuilt engine
    /// forgot): not sent. It prevotes only its locked value or nil at that height.
    #[error(
        "not sending a prevote for {attempted} at height {height} round {round}: before its chain store was rebuilt this validator precommitted {locked} at this height, so it prevotes only that or nil here"
    )]
    Locked {
        /// Its height.
        height: u64,
        /// Its round.
        round: u32,
        /// The value precommitted in the highest round.
        locked: String,
        /// The value of the prevote held back.
        attempted: String,
    },
    /// The safety record was lost and no peer has said yet how far the network is.
    #[error(
        "not sending a {kind} for height {height}: this validator's safety record was lost, and it sends nothing until a peer reports the network's height"
    )]
    AwaitingPeers {
        /// The kind.
        kind: &'static str,
        /// Its height.
        height: u64,
    },
    /// The record could not be read or made durable, so the message is not sent.
    #[error("cannot record a signed {kind} before sending it: {source}")]
    Storage {
        /// The kind.
        kind: &'static str,
        /// The storage error.
        source: banyan_storage::StorageError,
    },
}

/// Records and checks our outgoing votes and proposals. Shared by the network actor.
pub struct SafetyGuard {
    store: Arc<dyn KvStore>,
    own: Address,
    /// Which heights are sat out (see [`SafetyGuard::sitting_out_through`]).
    sit_out: Mutex<SitOut>,
    // Serialises check-then-write so two messages for one key cannot both pass.
    lock: Mutex<()>,
}

/// Which heights a guard holds back after its node lost state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SitOut {
    /// None.
    No,
    /// Up to this height (a lost safety record: nothing is known of what was signed there).
    Through(u64),
    /// After a rebuilt chain store with the safety record kept: every height below `newest`
    /// (decided: this validator was at `newest`), and at `newest` what is recorded and, before
    /// round `signed_through`, everything but nil votes; from `signed_through` on it votes,
    /// prevoting only the value it precommitted there (if it did) or nil.
    Rebuilt {
        /// The newest height signed at before the rebuild.
        newest: u64,
        /// The highest round recorded at `newest` before the rebuild.
        signed_through: u32,
    },
    /// All, until peers report the network's height.
    UntilPeersKnown {
        /// Sit out through at least this height.
        at_least: u64,
    },
}

/// Where the sit-out limit is recorded (`Meta` table of the safety record's store): 8 bytes,
/// [`SitOut::Through`]'s height (big-endian); or 13 bytes, `2 ‖ newest ‖ signed_through`,
/// [`SitOut::Rebuilt`].
const SIT_OUT_KEY: &[u8] = b"guard/sit-out-through";

impl SitOut {
    fn encode(self) -> Option<Vec<u8>> {
        match self {
            SitOut::Through(through) => Some(through.to_be_bytes().to_vec()),
            SitOut::Rebuilt {
                newest,
                signed_through,
            } => {
                let mut out = vec![2];
                out.extend_from_slice(&newest.to_be_bytes());
                out.extend_from_slice(&signed_through.to_be_bytes());
                Some(out)
            }
            SitOut::No | SitOut::UntilPeersKnown { .. } => None,
        }
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes.len() {
            8 => Some(SitOut::Through(u64::from_be_bytes(bytes.try_into().ok()?))),
            13 if bytes[0] == 2 => Some(SitOut::Rebuilt {
                newest: u64::from_be_bytes(bytes[1..9].try_into().ok()?),
                signed_through: u32::from_be_bytes(bytes[9..13].try_into().ok()?),
            }),
            _ => None,
        }
    }

    /// The stricter of `self` (already set) and `new`: a full sit-out through `t` covers a
    /// rebuilt one at `n <= t`; otherwise the higher limit holds.
    fn combine(self, new: SitOut) -> SitOut {
        match (self, new) {
            (SitOut::Through(a), SitOut::Through(b)) => SitOut::Through(a.max(b)),
            (SitOut::Through(t), SitOut::Rebuilt { newest, .. })
            | (SitOut::Rebuilt { newest, .. }, SitOut::Through(t))
                if t >= newest =>
            {
                SitOut::Through(t)
            }
            (SitOut::Through(_), rebuilt @ SitOut::Rebuilt { .. })
            | (rebuilt @ SitOut::Rebuilt { .. }, SitOut::Through(_)) => rebuilt,
            // Rebuilt twice: the later newest height; at the same one, every round recorded by
            // either time (a second rebuild forgot the rounds voted in since the first).
            (
                SitOut::Rebuilt {
                    newest: na,
                    signed_through: ra,
                },
                SitOut::Rebuilt {
                    newest: nb,
                    signed_through: rb,
                },
            ) => match na.cmp(&nb) {
                std::cmp::Ordering::Greater => self,
                std::cmp::Ordering::Less => new,
                std::cmp::Ordering::Equal => SitOut::Rebuilt {
                    newest: na,
                    signed_through: ra.max(rb),
                },
            },
            (_, new) => new,
        }
    }
}

/// How many heights below the newest record are kept.
const KEEP_HEIGHTS: u64 = 2;

fn key(height: u64, round: u32, kind: Kind) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[..8].copy_from_slice(&height.to_be_bytes());
    k[8..12].copy_from_slice(&round.to_be_bytes());
    k[12] = kind as u8;
    k
}

fn describe(value: &[u8]) -> String {
    match value.first() {
        Some(0) => "nil".to_string(),
        Some(_) if value.len() >= 33 => format!("block 0x{}", hex(&value[1..33])),
        _ => format!("0x{}", hex(value)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SafetyGuard {
    /// A guard for validator `own`, keeping its records in `store`'s `ConsensusWal` table.
    pub fn new(store: Arc<dyn KvStore>, own: Address) -> Self {
        Self {
            store,
            own,
            sit_out: Mutex::new(SitOut::No),
            lock: Mutex::new(()),
        }
    }

    /// [`SafetyGuard::new`], and the sit-out limit the record holds, if an earlier start set
    /// one: a node restarted while it catches up goes on sitting out.
    pub fn open(
        store: Arc<dyn KvStore>,
        own: Address,
    ) -> Result<Self, banyan_storage::StorageError> {
        let guard = Self::new(store, own);
        if let Some(bytes) = guard.store.get(Table::Meta, SIT_OUT_KEY)?
            && let Some(sit_out) = SitOut::decode(&bytes)
        {
            *guard.sit_out.lock() = sit_out;
        }
        Ok(guard)
    }

    /// Sets (durably; it only ever gets stricter) what is sat out.
    fn set_sit_out(&self, new: SitOut) -> Result<(), banyan_storage::StorageError> {
        let mut sit_out = self.sit_out.lock();
        let combined = sit_out.combine(new);
        if let Some(bytes) = combined.encode() {
            let mut batch = WriteBatch::default();
            batch.put(Table::Meta, SIT_OUT_KEY.to_vec(), bytes);
            self.store.write(batch)?;
        }
        *sit_out = combined;
        Ok(())
    }

    /// From now on, sends nothing at heights up to `through` except a message identical to the
    /// one recorded (a rebroadcast): for a validator that may have signed there without a
    /// record of it. Its messages there are held back ([`GuardError::SittingOut`]) and the node
    /// goes on, voting again from `through + 1`. The limit is recorded durably (it only ever
    /// rises), so a restart keeps it.
    pub fn sitting_out_through(&self, through: u64) -> Result<(), banyan_storage::StorageError> {
        self.set_sit_out(SitOut::Through(through))
    }

    /// For a validator whose chain store was rebuilt from peers while its safety record was
    /// kept. Catching up, its engine signs again at heights it voted at before, without
    /// remembering what it signed there, so from now on only a message identical to the one
    /// recorded goes out (a rebroadcast) at:
    ///
    /// - every height below the newest of the record (they were decided: it was past them);
    /// - at the newest height, every slot (round and kind) recorded there, where a different
    ///   vote is replaced by the recorded one, and the rounds before the highest recorded
    ///   there, where only nil votes go out ([`GuardError::EarlierRound`]).
    ///
    /// In the highest recorded round (the one it was in) and later ones it votes where it has
    /// not voted before, except that it prevotes only nil or the
    /// value it precommitted in the highest round there, if it precommitted one
    /// ([`GuardError::Locked`]): the lock its engine forgot. (Tendermint lets a locked validator
    /// prevote another value on a newer proof-of-lock; this rule is stricter, so it is safe,
    /// and the other validators carry the round.) From the next height on it votes normally.
    /// Recorded durably, so a restart keeps it. An empty record sits nothing out.
    pub fn sitting_out_after_rebuild(&self) -> Result<(), banyan_storage::StorageError> {
        let Some(newest) = self.highest_height()? else {
            return Ok(());
        };
        let signed_through = self
            .records_at(newest)?
            .iter()
            .map(|(round, _, _)| *round)
            .max()
            .unwrap_or(0);
        self.set_sit_out(SitOut::Rebuilt {
            newest,
            signed_through,
        })
    }

    /// The records at `height`: `(round, kind, value)`.
    fn records_at(
        &self,
        height: u64,
    ) -> Result<Vec<(u32, u8, Vec<u8>)>, banyan_storage::StorageError> {
        let start = key(height, 0, Kind::Prevote);
        let Some(next) = height.checked_add(1) else {
            return Ok(Vec::new());
        };
        let end = key(next, 0, Kind::Prevote);
        Ok(self
            .store
            .range(Table::ConsensusWal, &start, &end, 100_000)?
            .into_iter()
            .filter(|(k, _)| k.len() == 13)
            .map(|(k, v)| {
                let round = u32::from_be_bytes([k[8], k[9], k[10], k[11]]);
                (round, k[12], v)
            })
            .collect())
    }

    /// For a validator whose safety record is lost: it may have signed at any height the
    /// network has reached, so nothing is sent ([`GuardError::AwaitingPeers`]) until
    /// [`SafetyGuard::peers_report`] says how far the network is; then every height up to one
    /// past that (and at least `at_least`) is sat out.
    pub fn sitting_out_until_peers_known(&self, at_least: u64) {
        *self.sit_out.lock() = SitOut::UntilPeersKnown { at_least };
    }

    /// The highest height a peer reports. Resolves [`SafetyGuard::sitting_out_until_peers_known`].
    pub fn peers_report(
        &self,
        best_peer_height: Option<u64>,
    ) -> Result<(), banyan_storage::StorageError> {
        let at_least = match (*self.sit_out.lock(), best_peer_height) {
            (SitOut::UntilPeersKnown { at_least }, Some(best)) => at_least.max(best + 1),
            _ => return Ok(()),
        };
        self.sitting_out_through(at_least)?;
        tracing::warn!(
            "the safety record was lost: this validator sits out every height up to {at_least} (one past the highest a peer reports), where it may have signed before"
        );
        Ok(())
    }

    /// Whether `error` only means "not sent" (the node goes on), not "stop".
    pub fn holds_back(error: &GuardError) -> bool {
        matches!(
            error,
            GuardError::Closed { .. }
                | GuardError::SittingOut { .. }
                | GuardError::EarlierRound { .. }
                | GuardError::Locked { .. }
                | GuardError::AwaitingPeers { .. }
        )
    }

    /// Checks, and records before it is sent, a message the engine publishes. Messages that
    /// are not ours (relayed) pass unrecorded.
    pub fn check_consensus(
        &self,
        msg: &SignedConsensusMsg<BanyanContext>,
    ) -> Result<(), GuardError> {
        match msg {
            SignedConsensusMsg::Vote(vote) => self.check_vote(vote),
            SignedConsensusMsg::Proposal(proposal) => self.check_proposal(proposal),
        }
    }

    /// Checks and records one of our votes.
    pub fn check_vote(&self, vote: &SignedVote<BanyanContext>) -> Result<(), GuardError> {
        let vote = &vote.message;
        if vote.validator.0 != self.own {
            return Ok(());
        }
        let kind = match vote.vote_type {
            VoteType::Prevote => Kind::Prevote,
            VoteType::Precommit => Kind::Precommit,
        };
        let mut value = Vec::with_capacity(33);
        match vote.value {
            NilOrVal::Nil => value.push(0),
            NilOrVal::Val(hash) => {
                value.push(1);
                value.extend_from_slice(hash.0.as_slice());
            }
        }
        self.record(vote.height.0, vote.round.as_u32().unwrap_or(0), kind, value)
    }

    /// Checks and records one of our proposals.
    pub fn check_proposal(
        &self,
        proposal: &SignedProposal<BanyanContext>,
    ) -> Result<(), GuardError> {
        let p = &proposal.message;
        if p.proposer.0 != self.own {
            return Ok(());
        }
        let mut value = Vec::with_capacity(41);
        value.push(1);
        value.extend_from_slice(p.value.0.as_slice());
        value.extend_from_slice(&p.pol_round.as_i64().to_be_bytes());
        self.record(
            p.height.0,
            p.round.as_u32().unwrap_or(0),
            Kind::Proposal,
            value,
        )
    }

    fn record(
        &self,
        height: u64,
        round: u32,
        kind: Kind,
        value: Vec<u8>,
    ) -> Result<(), GuardError> {
        let storage = |source| GuardError::Storage {
            kind: kind.name(),
            source,
        };
        let _serial = self.lock.lock();
        if let Some(highest) = self.highest_height().map_err(storage)?
            && height + KEEP_HEIGHTS < highest
        {
            return Err(GuardError::Closed {
                kind: kind.name(),
                height,
                highest,
                keep: KEEP_HEIGHTS,
            });
        }
        let k = key(height, round, kind);
        let recorded = self.store.get(Table::ConsensusWal, &k).map_err(storage)?;
        let rebroadcast = recorded.as_ref() == Some(&value);
        match *self.sit_out.lock() {
            SitOut::Through(through) if height <= through && !rebroadcast => {
                return Err(GuardError::SittingOut {
                    kind: kind.name(),
                    height,
                    through,
                });
            }
            SitOut::Rebuilt { newest, .. } if height < newest && !rebroadcast => {
                return Err(GuardError::SittingOut {
                    kind: kind.name(),
                    height,
                    through: newest - 1,
                });
            }
            SitOut::Rebuilt {
                newest,
                signed_through,
            } if height == newest && !rebroadcast => {
                // Before the round it was in, only nil votes where nothing is recorded: a nil
                // vote neither locks nor decides. In that round, a slot it never signed is as
                // if it had not crashed. A slot recorded before the rebuild with a different
                // message is never signed again: its recorded vote goes out instead. (In later
                // rounds, a different message at a slot recorded since is a conflict, below.)
                let nil_vote = kind != Kind::Proposal && value.first() == Some(&0);
                let held = round <= signed_through
                    && match &recorded {
                        Some(_) => true,
                        None => round < signed_through && !nil_vote,
                    };
                if held {
                    return Err(GuardError::EarlierRound {
                        kind: kind.name(),
                        height,
                        round,
                        signed_through,
                        recorded: recorded
                            .as_deref()
                            .and_then(|v| self.recorded_vote(height, round, kind, v)),
                    });
                }
                // A slot voted in since the rebuild: the usual rules (a different value there
                // is a conflict, below).
                if recorded.is_none() && kind == Kind::Prevote && value.first() != Some(&0) {
                    let lock = self
                        .records_at(height)
                        .map_err(storage)?
                        .into_iter()
                        .filter(|(_, k, v)| *k == Kind::Precommit as u8 && v.first() == Some(&1))
                        .max_by_key(|(round, _, _)| *round)
                        .map(|(_, _, v)| v);
                    if let Some(locked) = lock
                        && locked != value
                    {
                        return Err(GuardError::Locked {
                            height,
                            round,
                            locked: describe(&locked),
                            attempted: describe(&value),
                        });
                    }
                }
            }
            SitOut::UntilPeersKnown { .. } => {
                return Err(GuardError::AwaitingPeers {
                    kind: kind.name(),
                    height,
                });
            }
            _ => {}
        }
        match recorded {
            Some(previous) if previous == value => Ok(()),
            Some(previous) => Err(GuardError::Conflict {
                kind: kind.name(),
                height,
                round,
                previous: describe(&previous),
                attempted: describe(&value),
            }),
            None => {
                let mut batch = WriteBatch::default();
                batch.put(Table::ConsensusWal, k.to_vec(), value);
                // Prune what is older than the heights still being voted on.
                if height > KEEP_HEIGHTS {
                    let floor = key(height - KEEP_HEIGHTS, 0, Kind::Prevote);
                    let old = self
                        .store
                        .range(Table::ConsensusWal, &[], &floor[..], 1024)
                        .map_err(storage)?;
                    for entry in old {
                        batch.delete(Table::ConsensusWal, entry.0);
                    }
                }
                self.store.write(batch).map_err(storage)
            }
        }
    }

    /// The vote whose record at `(height, round, kind)` is `value`; `None` for a proposal or a
    /// record that is not a vote's.
    fn recorded_vote(&self, height: u64, round: u32, kind: Kind, value: &[u8]) -> Option<Vote> {
        let vote_type = match kind {
            Kind::Prevote => VoteType::Prevote,
            Kind::Precommit => VoteType::Precommit,
            Kind::Proposal => return None,
        };
        let value = match value {
            [0] => NilOrVal::Nil,
            [1, hash @ ..] if hash.len() == 32 => {
                NilOrVal::Val(BlockHash(alloy_primitives::B256::from_slice(hash)))
            }
            _ => return None,
        };
        Some(Vote {
            vote_type,
            height: Height(height),
            round: Round::new(round),
            value,
            validator: ValidatorAddress(self.own),
        })
    }

    /// The highest height with a record, if any: a node whose chain head is below this has
    /// voted beyond its head.
    pub fn highest_height(&self) -> Result<Option<u64>, banyan_storage::StorageError> {
        Ok(self.store.last(Table::ConsensusWal)?.and_then(|entry| {
            let k = entry.0;
            (k.len() == 13).then(|| {
                let mut h = [0u8; 8];
                h.copy_from_slice(&k[..8]);
                u64::from_be_bytes(h)
            })
        }))
    }
}
