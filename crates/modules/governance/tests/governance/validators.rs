//! Validator-set changes by proposal: the set deciding block `h` comes from the state after
//! `h - 1`, and a change executed in block `B` decides from `B + 2` on.

use super::*;

fn validators_at(chain: &mut Chain, height: u64) -> Vec<(Address, u64)> {
    let out = chain.view(IGovernance::validatorsAtCall { height }.abi_encode());
    let r = IGovernance::validatorsAtCall::abi_decode_returns(&out).unwrap();
    assert_eq!(r.accounts.len(), r.publicKeys.len());
    r.accounts.into_iter().zip(r.powers).collect()
}

fn new_validator(i: u8, power: u64) -> Vec<u8> {
    IGovernance::NewValidator {
        publicKey: validator(i).public_key,
        power,
    }
    .abi_encode()
}

#[test]
fn a_validator_change_decides_blocks_from_two_blocks_after_it_executes() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    let genesis: Vec<_> = (0..4).map(|i| (validator(i).address, 1)).collect();
    assert_eq!(validators_at(&mut chain, 1), genesis);

    let id = chain
        .propose(A, Kind::AddValidator, new_validator(4, 2))
        .unwrap();
    let executed_in = chain.block;
    assert_eq!(chain.status(id), Status::Executed);
    let added = validator(4).address;
    let mut five = genesis.clone();
    five.push((added, 2));
    // Read from the state after block B (= executed_in): B + 1 is decided by the old set.
    assert_eq!(validators_at(&mut chain, executed_in + 1), genesis);
    assert_eq!(validators_at(&mut chain, executed_in + 2), five);
    let event = &chain.events::<IGovernance::ValidatorSetChanged>()[0];
    assert_eq!(
        (
            event.validator,
            event.power,
            event.effectiveFrom,
            event.proposal
        ),
        (added, 2, executed_in + 2, id)
    );
    // The key stored is the one proposed.
    let out = chain.view(
        IGovernance::validatorsAtCall {
            height: executed_in + 2,
        }
        .abi_encode(),
    );
    let r = IGovernance::validatorsAtCall::abi_decode_returns(&out).unwrap();
    assert_eq!(r.publicKeys[4], validator(4).public_key);

    // Two changes in consecutive blocks land in consecutive blocks.
    chain
        .propose(
            A,
            Kind::SetValidatorPower,
            IGovernance::ValidatorPower {
                validator: added,
                power: 5,
            }
            .abi_encode(),
        )
        .unwrap();
    let first = chain.block;
    chain
        .propose(A, Kind::RemoveValidator, genesis[0].0.abi_encode())
        .unwrap();
    let second = chain.block;
    assert_eq!(second, first + 1);
    let mut powered = five.clone();
    powered[4].1 = 5;
    // The state after `second`: block `second + 1` (= first + 2) sees the first change only.
    assert_eq!(validators_at(&mut chain, first + 2), powered);
    let after: Vec<_> = validators_at(&mut chain, second + 2);
    assert_eq!(after.len(), 4);
    assert!(!after.iter().any(|(a, _)| *a == genesis[0].0));
    assert!(after.contains(&(added, 5)));
}

#[test]
fn validator_proposals_are_checked() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    let cases: Vec<(Kind, Vec<u8>, &str)> = vec![
        (
            Kind::AddValidator,
            new_validator(0, 1),
            "is already a validator",
        ),
        (
            Kind::AddValidator,
            new_validator(9, 0),
            "voting power must be 1 to",
        ),
        (
            Kind::AddValidator,
            IGovernance::NewValidator {
                publicKey: vec![7u8; 64].into(),
                power: 1,
            }
            .abi_encode(),
            "the public key is not a",
        ),
        (
            Kind::RemoveValidator,
            OUTSIDER.abi_encode(),
            "is not a validator",
        ),
        (
            Kind::SetValidatorPower,
            IGovernance::ValidatorPower {
                validator: validator(1).address,
                power: 0,
            }
            .abi_encode(),
            "RemoveValidator removes a validator",
        ),
    ];
    for (kind, payload, expected) in cases {
        let err = chain.propose(A, kind, payload).unwrap_err();
        assert!(err.contains(expected), "{kind:?}: {err}");
    }
    for i in 0..3 {
        chain
            .propose(A, Kind::RemoveValidator, validator(i).address.abi_encode())
            .unwrap();
    }
    let err = chain
        .propose(A, Kind::RemoveValidator, validator(3).address.abi_encode())
        .unwrap_err();
    assert!(err.contains("is the last validator"), "{err}");
}
