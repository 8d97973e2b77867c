//! The egress safety guard: our vote or proposal is recorded durably before it leaves; the
//! same message may be sent again; a different one for the same height, round and kind never
//! leaves, even after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256};
use banyan_consensus::context::{BlockHash, Height, Proposal, ValidatorAddress, Vote};
use banyan_consensus::guard::{GuardError, SafetyGuard};
use banyan_consensus::signing::ConsensusSignature;
use malachitebft_app_channel::app::consensus::SignedConsensusMsg;
use malachitebft_app_channel::app::types::core::{NilOrVal, Round, SignedMessage, VoteType};
use proptest::prelude::*;

const ME: Address = Address::repeat_byte(0xaa);

fn vote(
    kind: VoteType,
    height: u64,
    round: u32,
    value: Option<u8>,
    from: Address,
) -> SignedMessage<banyan_consensus::BanyanContext, Vote> {
    SignedMessage::new(
        Vote {
            vote_type: kind,
            height: Height(height),
            round: Round::new(round),
            value: value.map_or(NilOrVal::Nil, |b| {
                NilOrVal::Val(BlockHash(B256::repeat_byte(b)))
            }),
            validator: ValidatorAddress(from),
        },
        ConsensusSignature(vec![1; 65]),
    )
}

fn proposal(
    height: u64,
    round: u32,
    value: u8,
) -> SignedConsensusMsg<banyan_consensus::BanyanContext> {
    SignedConsensusMsg::Proposal(SignedMessage::new(
        Proposal {
            height: Height(height),
            round: Round::new(round),
            value: BlockHash(B256::repeat_byte(value)),
            pol_round: Round::Nil,
            proposer: ValidatorAddress(ME),
        },
        ConsensusSignature(vec![2; 65]),
    ))
}

#[test]
fn a_resend_passes_and_a_conflict_is_refused_naming_both_values() {
    let guard = SafetyGuard::new(banyan_storage::open_memory(), ME);
    guard
        .check_vote(&vote(VoteType::Prevote, 5, 0, Some(1), ME))
        .unwrap();
    guard
        .check_vote(&vote(VoteType::Prevote, 5, 0, Some(1), ME))
        .unwrap();
    let err = guard
        .check_vote(&vote(VoteType::Prevote, 5, 0, Some(2), ME))
        .unwrap_err();
    assert!(matches!(err, GuardError::Conflict { .. }));
    let text = err.to_string();
    assert!(text.contains("prevote at height 5 round 0"), "{text}");
    assert!(
        text.contains(&format!("block {}", B256::repeat_byte(1))),
        "{text}"
    );
    assert!(
        text.contains(&format!("block {}", B256::repeat_byte(2))),
        "{text}"
    );
    // Nil after a value is a conflict too; other rounds, kinds and heights are independent.
    assert!(
        guard
            .check_vote(&vote(VoteType::Prevote, 5, 0, None, ME))
            .is_err()
    );
    guard
        .check_vote(&vote(VoteType::Prevote, 5, 1, None, ME))
        .unwrap();
    guard
        .check_vote(&vote(VoteType::Precommit, 5, 0, Some(3), ME))
        .unwrap();
    guard.check_consensus(&proposal(5, 0, 9)).unwrap();
    assert!(guard.check_consensus(&proposal(5, 0, 8)).is_err());
    // Another validator's messages (relayed) are not ours to record.
    guard
        .check_vote(&vote(
            VoteType::Prevote,
            5,
            0,
            Some(7),
            Address::repeat_byte(0xbb),
        ))
        .unwrap();
}

#[test]
fn the_record_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = banyan_storage::open_redb(dir.path()).unwrap();
        let guard = SafetyGuard::new(store, ME);
        guard
            .check_vote(&vote(VoteType::Precommit, 9, 2, Some(4), ME))
            .unwrap();
    }
    let store = banyan_storage::open_redb(dir.path()).unwrap();
    let guard = SafetyGuard::new(store, ME);
    assert_eq!(guard.highest_height().unwrap(), Some(9));
    guard
        .check_vote(&vote(VoteType::Precommit, 9, 2, Some(4), ME))
        .unwrap();
    assert!(
        guard
            .check_vote(&vote(VoteType::Precommit, 9, 2, Some(5), ME))
            .is_err()
    );
}

proptest! {
    /// Whatever the engine asks to send, no two different messages for one (height, round,
    /// kind) ever pass.
    #[test]
    fn never_two_different_messages_for_one_slot(
        sends in proptest::collection::vec((0u64..4, 0u32..3, 0u8..2, proptest::option::of(0u8..3)), 1..60)
    ) {
        let guard = SafetyGuard::new(banyan_storage::open_memory(), ME);
        let mut passed = std::collections::HashMap::new();
        for (height, round, kind, value) in sends {
            let kind = if kind == 0 { VoteType::Prevote } else { VoteType::Precommit };
            if guard.check_vote(&vote(kind, height + 10, round, value, ME)).is_ok() {
                let previous = passed.insert((height, round, kind == VoteType::Prevote), value);
                prop_assert!(previous.is_none() || previous == Some(value));
            }
        }
    }
}

#[test]
fn heights_far_below_the_newest_vote_are_closed() {
    let guard = SafetyGuard::new(banyan_storage::open_memory(), ME);
    guard
        .check_vote(&vote(VoteType::Prevote, 3, 0, Some(1), ME))
        .unwrap();
    guard
        .check_vote(&vote(VoteType::Prevote, 10, 0, Some(1), ME))
        .unwrap();
    // Height 3's record is pruned; a vote there could conflict unseen, so it never leaves.
    let err = guard
        .check_vote(&vote(VoteType::Prevote, 3, 0, Some(2), ME))
        .unwrap_err();
    assert!(
        matches!(
            err,
            GuardError::Closed {
                height: 3,
                highest: 10,
                ..
            }
        ),
        "{err}"
    );
    // Within the kept window, the usual rules apply.
    guard
        .check_vote(&vote(VoteType::Precommit, 8, 0, None, ME))
        .unwrap();
}

#[test]
fn after_a_rebuild_lower_heights_and_recorded_rounds_are_sat_out_later_rounds_voted_in() {
    let store = banyan_storage::open_memory();
    let before = SafetyGuard::new(store.clone(), ME);
    before
        .check_vote(&vote(VoteType::Prevote, 9, 0, Some(6), ME))
        .unwrap();
    before
        .check_vote(&vote(VoteType::Prevote, 10, 0, Some(1), ME))
        .unwrap();
    before
        .check_vote(&vote(VoteType::Prevote, 10, 1, None, ME))
        .unwrap();
    // The chain store is rebuilt; the safety record is kept.
    let after = SafetyGuard::open(store.clone(), ME).unwrap();
    after.sitting_out_after_rebuild().unwrap();
    // The same votes again (rebroadcasts) go out.
    after
        .check_vote(&vote(VoteType::Prevote, 10, 0, Some(1), ME))
        .unwrap();
    after
        .check_vote(&vote(VoteType::Prevote, 9, 0, Some(6), ME))
        .unwrap();
    // Heights below the newest: held back, whatever the round.
    for (round, value) in [(0, Some(7)), (5, None)] {
        let err = after
            .check_vote(&vote(VoteType::Precommit, 9, round, value, ME))
            .unwrap_err();
        assert!(
            matches!(err, GuardError::SittingOut { through: 9, .. }),
            "{err}"
        );
        assert!(SafetyGuard::holds_back(&err));
    }
    // At the newest height, a recorded slot (round 0's and round 1's prevotes) is held back
    // unless identical, and its recorded vote is what goes out instead; before round 1 (the
    // round it was in), a value vote where nothing is recorded is held back too.
    for (kind, round, value, recorded) in [
        (VoteType::Prevote, 0, Some(2), Some(Some(1))),
        (VoteType::Prevote, 1, Some(5), Some(None)),
        (VoteType::Precommit, 0, Some(7), None),
    ] {
        let err = after
            .check_vote(&vote(kind, 10, round, value, ME))
            .unwrap_err();
        let GuardError::EarlierRound {
            height: 10,
            signed_through: 1,
            recorded: instead,
            ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(
            instead.as_ref(),
            recorded
                .map(|value| vote(kind, 10, round, value, ME).message)
                .as_ref(),
            "{err}"
        );
        assert!(SafetyGuard::holds_back(&err));
        // Sent again, the recorded vote is a rebroadcast.
        if let Some(instead) = instead {
            after
                .check_vote(&SignedMessage::new(
                    instead.clone(),
                    ConsensusSignature(vec![3; 65]),
                ))
                .unwrap();
        }
    }
    // A nil vote where nothing is recorded goes out in any round; so does anything the usual
    // rules allow at a slot of round 1 (the round it was in) that it never signed.
    after
        .check_vote(&vote(VoteType::Precommit, 10, 0, None, ME))
        .unwrap();
    after
        .check_vote(&vote(VoteType::Precommit, 10, 1, None, ME))
        .unwrap();
    // From round 2 it votes: it precommitted nothing there, so it is not locked.
    after
        .check_vote(&vote(VoteType::Prevote, 10, 2, Some(3), ME))
        .unwrap();
    after
        .check_vote(&vote(VoteType::Precommit, 10, 2, Some(3), ME))
        .unwrap();
    // Having precommitted 3 in round 2, it prevotes only 3 or nil in later rounds.
    let err = after
        .check_vote(&vote(VoteType::Prevote, 10, 3, Some(4), ME))
        .unwrap_err();
    assert!(
        matches!(err, GuardError::Locked { height: 10, .. }),
        "{err}"
    );
    assert!(SafetyGuard::holds_back(&err));
    after
        .check_vote(&vote(VoteType::Prevote, 10, 4, None, ME))
        .unwrap();
    after
        .check_vote(&vote(VoteType::Prevote, 10, 5, Some(3), ME))
        .unwrap();
    // And still a conflict in a round it voted in since the rebuild stops the node.
    let err = after
        .check_vote(&vote(VoteType::Prevote, 10, 2, Some(9), ME))
        .unwrap_err();
    assert!(matches!(err, GuardError::Conflict { .. }), "{err}");
    assert!(!SafetyGuard::holds_back(&err));
    // Past the newest height it signed at, it votes normally.
    after
        .check_vote(&vote(VoteType::Prevote, 11, 0, Some(3), ME))
        .unwrap();
    // The limit is recorded: a restart while catching up goes on sitting out.
    let restarted = SafetyGuard::open(store.clone(), ME).unwrap();
    let err = restarted
        .check_vote(&vote(VoteType::Precommit, 10, 1, Some(9), ME))
        .unwrap_err();
    assert!(matches!(err, GuardError::EarlierRound { .. }), "{err}");
    let err = restarted
        .check_vote(&vote(VoteType::Prevote, 9, 3, None, ME))
        .unwrap_err();
    assert!(matches!(err, GuardError::SittingOut { .. }), "{err}");
    // A lost record's full sit-out through a higher height is the stricter and wins.
    restarted.sitting_out_through(10).unwrap();
    let err = restarted
        .check_vote(&vote(VoteType::Prevote, 10, 9, None, ME))
        .unwrap_err();
    assert!(
        matches!(err, GuardError::SittingOut { through: 10, .. }),
        "{err}"
    );
    // An empty record sits nothing out.
    let fresh = SafetyGuard::new(banyan_storage::open_memory(), ME);
    fresh.sitting_out_after_rebuild().unwrap();
    fresh
        .check_vote(&vote(VoteType::Prevote, 1, 0, Some(1), ME))
        .unwrap();
}

#[test]
fn a_lost_record_sends_nothing_until_peers_report_then_sits_out_past_their_height() {
    let store = banyan_storage::open_memory();
    let guard = SafetyGuard::open(store.clone(), ME).unwrap();
    guard.sitting_out_until_peers_known(6);
    let err = guard
        .check_vote(&vote(VoteType::Prevote, 40, 0, Some(1), ME))
        .unwrap_err();
    assert!(matches!(err, GuardError::AwaitingPeers { .. }), "{err}");
    assert!(SafetyGuard::holds_back(&err));
    // No report yet: still nothing.
    guard.peers_report(None).unwrap();
    assert!(
        guard
            .check_vote(&vote(VoteType::Prevote, 40, 0, Some(1), ME))
            .is_err()
    );
    // Peers are at 30: every height up to 31 is sat out, 32 is voted at.
    guard.peers_report(Some(30)).unwrap();
    for height in [7, 31] {
        let err = guard
            .check_vote(&vote(VoteType::Prevote, height, 0, Some(1), ME))
            .unwrap_err();
        assert!(
            matches!(err, GuardError::SittingOut { through: 31, .. }),
            "{err}"
        );
    }
    guard
        .check_vote(&vote(VoteType::Prevote, 32, 0, Some(1), ME))
        .unwrap();
    // Later reports do not move it, and a restart keeps it.
    guard.peers_report(Some(90)).unwrap();
    let restarted = SafetyGuard::open(store, ME).unwrap();
    let err = restarted
        .check_vote(&vote(VoteType::Prevote, 31, 1, None, ME))
        .unwrap_err();
    assert!(
        matches!(err, GuardError::SittingOut { through: 31, .. }),
        "{err}"
    );
}

#[test]
fn a_second_rebuild_at_the_same_height_also_sits_out_the_rounds_voted_in_since_the_first() {
    // Found by fault seed 101: rebuilt at height 10 (signed through round 1), the validator
    // voted in round 2, and its store was damaged again. Its engine then forgot round 2 too:
    // a different round-2 vote must be held back, not stop the node.
    let store = banyan_storage::open_memory();
    let before = SafetyGuard::new(store.clone(), ME);
    for round in [0, 1] {
        before
            .check_vote(&vote(VoteType::Prevote, 10, round, Some(1), ME))
            .unwrap();
    }
    let first = SafetyGuard::open(store.clone(), ME).unwrap();
    first.sitting_out_after_rebuild().unwrap();
    first
        .check_vote(&vote(VoteType::Prevote, 10, 2, Some(2), ME))
        .unwrap();
    let second = SafetyGuard::open(store.clone(), ME).unwrap();
    second.sitting_out_after_rebuild().unwrap();
    let err = second
        .check_vote(&vote(VoteType::Prevote, 10, 2, Some(3), ME))
        .unwrap_err();
    assert!(
        matches!(
            err,
            GuardError::EarlierRound {
                signed_through: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(SafetyGuard::holds_back(&err));
    second
        .check_vote(&vote(VoteType::Prevote, 10, 3, Some(3), ME))
        .unwrap();
    // A restart keeps the wider limit: round 1 is now before the round it was in.
    let restarted = SafetyGuard::open(store, ME).unwrap();
    let err = restarted
        .check_vote(&vote(VoteType::Precommit, 10, 1, Some(4), ME))
        .unwrap_err();
    assert!(matches!(err, GuardError::EarlierRound { .. }), "{err}");
}

#[test]
fn a_round_every_validator_was_rebuilt_in_still_gets_their_votes() {
    // Found by fault seed 201 (600 s): all four validators' stores were rebuilt at height 169
    // after they had prevoted in round 5; their engines, starting over, wanted nil prevotes
    // there, which differed from the record and were held back, so round 5 never gathered a
    // quorum of prevotes and the chain stopped for good. Now the recorded vote goes out in
    // their place, and slots of that round never signed are voted in.
    let store = banyan_storage::open_memory();
    let before = SafetyGuard::new(store.clone(), ME);
    before
        .check_vote(&vote(VoteType::Prevote, 169, 0, None, ME))
        .unwrap();
    before
        .check_vote(&vote(VoteType::Prevote, 169, 5, Some(0xc6), ME))
        .unwrap();
    let after = SafetyGuard::open(store, ME).unwrap();
    after.sitting_out_after_rebuild().unwrap();
    let err = after
        .check_vote(&vote(VoteType::Prevote, 169, 5, None, ME))
        .unwrap_err();
    let GuardError::EarlierRound {
        recorded: Some(instead),
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(
        *instead,
        vote(VoteType::Prevote, 169, 5, Some(0xc6), ME).message
    );
    // The precommit of round 5 (never signed) goes out, nil or the value of a polka.
    after
        .check_vote(&vote(VoteType::Precommit, 169, 5, Some(0xc6), ME))
        .unwrap();
    // Rounds it skipped before round 5: nil votes only.
    after
        .check_vote(&vote(VoteType::Prevote, 169, 3, None, ME))
        .unwrap();
    let err = after
        .check_vote(&vote(VoteType::Prevote, 169, 4, Some(0xc6), ME))
        .unwrap_err();
    assert!(
        matches!(err, GuardError::EarlierRound { recorded: None, .. }),
        "{err}"
    );
    // Having precommitted 0xc6 in round 5, later rounds get only 0xc6 or nil prevotes.
    let err = after
        .check_vote(&vote(VoteType::Prevote, 169, 6, Some(0x01), ME))
        .unwrap_err();
    assert!(matches!(err, GuardError::Locked { .. }), "{err}");
    after
        .check_vote(&vote(VoteType::Prevote, 169, 6, Some(0xc6), ME))
        .unwrap();
}
