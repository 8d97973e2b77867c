//! Freezes, the deploy and method permission switches and contract admins: each refusal with
//! the message its sender reads, and each switch turned both ways by proposal.

use super::*;

const CONTRACT_CREATOR: Address = address!("f000000000000000000000000000000000000006");
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];

fn freeze(account: Address) -> Vec<u8> {
    account.abi_encode()
}

fn switch(permission: IGovernance::Permission, enabled: bool) -> Vec<u8> {
    IGovernance::PermissionSwitch {
        permission,
        enabled,
    }
    .abi_encode()
}

#[test]
fn a_frozen_account_cannot_send_and_a_frozen_contract_cannot_be_called_until_unfrozen() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    let contract = CONTRACT_CREATOR.create(0);
    chain.deploy_at(contract);
    chain.screen(OUTSIDER, Some(contract), &TRANSFER).unwrap();

    let id = chain.propose(A, Kind::Freeze, freeze(OUTSIDER)).unwrap();
    assert_eq!(chain.status(id), Status::Executed);
    let err = chain.screen(OUTSIDER, Some(B), &[]).unwrap_err();
    assert!(
        err.contains(&format!(
            "account {OUTSIDER} is frozen by governance proposal {id}, so it cannot send"
        )) && err.contains(&format!("banyan account unfreeze {OUTSIDER}")),
        "{err}"
    );
    // A frozen account without code still receives payments.
    chain.screen(B, Some(OUTSIDER), &[]).unwrap();

    let frozen = chain.propose(A, Kind::Freeze, freeze(contract)).unwrap();
    for refused in [
        chain.screen(B, Some(contract), &TRANSFER).unwrap_err(),
        chain.guard(B, contract, TRANSFER).unwrap_err(),
    ] {
        assert!(
            refused.contains(&format!(
                "contract {contract} is frozen by governance proposal {frozen}, so it cannot be \
                 called"
            )),
            "{refused}"
        );
    }
    let out = chain.view(IGovernance::frozenByCall { account: contract }.abi_encode());
    assert_eq!(
        IGovernance::frozenByCall::abi_decode_returns(&out).unwrap(),
        frozen
    );

    chain.propose(A, Kind::Unfreeze, freeze(OUTSIDER)).unwrap();
    chain.propose(A, Kind::Unfreeze, freeze(contract)).unwrap();
    chain.screen(OUTSIDER, Some(contract), &TRANSFER).unwrap();
    chain.guard(B, contract, TRANSFER).unwrap();
    let frozen_events = chain.events::<IGovernance::Frozen>();
    let unfrozen_events = chain.events::<IGovernance::Unfrozen>();
    assert_eq!(frozen_events.len(), 2);
    assert_eq!(unfrozen_events.len(), 2);
    assert_eq!(frozen_events[1].proposal, frozen);
}

#[test]
fn freezing_refuses_governors_modules_and_accounts_already_frozen() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A, B]));
    let cases = [
        (A, "is a governor; remove it from the committee first"),
        (GOVERNANCE_ADDRESS, "cannot be frozen"),
        (
            address!("0000000000000000000000000000000000000001"),
            "cannot be frozen",
        ),
    ];
    for (account, expected) in cases {
        let err = chain.propose(A, Kind::Freeze, freeze(account)).unwrap_err();
        assert!(err.contains(expected), "{account}: {err}");
    }
    let err = chain
        .propose(A, Kind::Unfreeze, freeze(OUTSIDER))
        .unwrap_err();
    assert!(err.contains("is not frozen"), "{err}");
    // Two governors: the first proposal waits for B; a second freeze of the same account is
    // refused once the first executes.
    let first = chain.propose(A, Kind::Freeze, freeze(OUTSIDER)).unwrap();
    let second = chain.propose(B, Kind::Freeze, freeze(OUTSIDER)).unwrap();
    chain.vote(B, first, Choice::Yes).unwrap();
    assert_eq!(chain.status(first), Status::Executed);
    chain.vote(A, second, Choice::Yes).unwrap();
    let p = chain.proposal(second);
    assert_eq!(p.status, Status::Failed);
    assert!(
        p.reason.contains("already frozen by proposal"),
        "{}",
        p.reason
    );
}

#[test]
fn deploy_permission_is_switched_on_and_off_by_proposal() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    chain.screen(OUTSIDER, None, b"init code").unwrap();
    chain
        .propose(
            A,
            Kind::SetPermission,
            switch(IGovernance::Permission::Deploy, true),
        )
        .unwrap();
    let err = chain.screen(OUTSIDER, None, b"init code").unwrap_err();
    assert!(
        err.contains("only a `deployer` may create contracts while deploy permission is on")
            && err.contains(&format!(
                "banyan gov propose grant-role {OUTSIDER} deployer"
            )),
        "{err}"
    );
    // Calls are not creations.
    chain.screen(OUTSIDER, Some(B), &[]).unwrap();
    chain
        .propose(
            A,
            Kind::GrantRole,
            IGovernance::RoleChange {
                account: OUTSIDER,
                role: IGovernance::Role::Deployer,
            }
            .abi_encode(),
        )
        .unwrap();
    chain.screen(OUTSIDER, None, b"init code").unwrap();
    let err = chain
        .propose(
            A,
            Kind::SetPermission,
            switch(IGovernance::Permission::Deploy, true),
        )
        .unwrap_err();
    assert!(err.contains("deploy permission is already on"), "{err}");
    chain
        .propose(
            A,
            Kind::SetPermission,
            switch(IGovernance::Permission::Deploy, false),
        )
        .unwrap();
    chain.screen(C, None, b"init code").unwrap();
    let out = chain.view(IGovernance::permissionsCall {}.abi_encode());
    let p = IGovernance::permissionsCall::abi_decode_returns(&out).unwrap();
    assert!(!p.deploy && !p.method);
    let sets = chain.events::<IGovernance::PermissionSet>();
    assert_eq!(
        sets.iter().map(|e| e.enabled).collect::<Vec<_>>(),
        [true, false]
    );
}

#[test]
fn a_contract_admin_restricts_who_calls_a_function_while_method_permission_is_on() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    let contract = CONTRACT_CREATOR.create(3);
    chain.deploy_at(contract);
    // Only the creator (by its CREATE address and nonce) may claim the contract.
    let claim = |nonce| {
        IGovernance::claimContractAdminCall {
            target: contract,
            nonce,
        }
        .abi_encode()
    };
    let err = reason(chain.send(OUTSIDER, claim(3)).unwrap_err());
    assert!(
        err.contains("only a contract's creator may claim it"),
        "{err}"
    );
    let err = reason(chain.send(CONTRACT_CREATOR, claim(2)).unwrap_err());
    assert!(err.contains("created with nonce 2"), "{err}");
    chain.send(CONTRACT_CREATOR, claim(3)).unwrap();
    let err = reason(chain.send(CONTRACT_CREATOR, claim(3)).unwrap_err());
    assert!(err.contains("already has admin"), "{err}");

    let access = |access| {
        IGovernance::setMethodAccessCall {
            target: contract,
            selector: TRANSFER.into(),
            access,
        }
        .abi_encode()
    };
    let account = |account, listed| {
        IGovernance::setMethodAccountCall {
            target: contract,
            selector: TRANSFER.into(),
            account,
            listed,
        }
        .abi_encode()
    };
    let err = reason(
        chain
            .send(OUTSIDER, access(IGovernance::Access::AllowList))
            .unwrap_err(),
    );
    assert!(err.contains("only") && err.contains("admin"), "{err}");
    chain
        .send(CONTRACT_CREATOR, access(IGovernance::Access::AllowList))
        .unwrap();
    chain.send(CONTRACT_CREATOR, account(B, true)).unwrap();

    // Lists are kept while method permission is off, and enforced once it is on.
    chain.guard(C, contract, TRANSFER).unwrap();
    chain
        .propose(
            A,
            Kind::SetPermission,
            switch(IGovernance::Permission::Method, true),
        )
        .unwrap();
    chain.guard(B, contract, TRANSFER).unwrap();
    let err = chain.guard(C, contract, TRANSFER).unwrap_err();
    assert!(
        err.contains(&format!(
            "{C} may not call function 0xa9059cbb of contract {contract}"
        )) && err.contains("does not include"),
        "{err}"
    );
    assert_eq!(chain.screen(C, Some(contract), &TRANSFER).unwrap_err(), err);
    // Other functions stay open.
    chain.guard(C, contract, [1, 2, 3, 4]).unwrap();
    let out = chain.view(
        IGovernance::canCallCall {
            caller: C,
            target: contract,
            selector: TRANSFER.into(),
        }
        .abi_encode(),
    );
    let can = IGovernance::canCallCall::abi_decode_returns(&out).unwrap();
    assert!(!can.allowed);
    assert_eq!(can.reason, err);

    // A deny list refuses only the accounts on it.
    chain
        .send(CONTRACT_CREATOR, access(IGovernance::Access::DenyList))
        .unwrap();
    chain.guard(C, contract, TRANSFER).unwrap();
    let err = chain.guard(B, contract, TRANSFER).unwrap_err();
    assert!(err.contains("deny list"), "{err}");
    // Open clears the list.
    chain
        .send(CONTRACT_CREATOR, access(IGovernance::Access::Open))
        .unwrap();
    chain.guard(B, contract, TRANSFER).unwrap();
    let out = chain.view(
        IGovernance::methodAccessCall {
            target: contract,
            selector: TRANSFER.into(),
        }
        .abi_encode(),
    );
    let listed = IGovernance::methodAccessCall::abi_decode_returns(&out).unwrap();
    assert_eq!(listed.access, IGovernance::Access::Open);
    assert!(listed.accounts.is_empty());

    // The committee can name another admin, who takes over.
    chain
        .propose(
            A,
            Kind::SetContractAdmin,
            IGovernance::AdminChange {
                target: contract,
                admin: D,
            }
            .abi_encode(),
        )
        .unwrap();
    let err = reason(
        chain
            .send(CONTRACT_CREATOR, access(IGovernance::Access::DenyList))
            .unwrap_err(),
    );
    assert!(err.contains(&format!("admin {D}")), "{err}");
    chain
        .send(D, access(IGovernance::Access::DenyList))
        .unwrap();
    let sets = chain.events::<IGovernance::ContractAdminSet>();
    assert_eq!(sets.len(), 2);
    assert_eq!((sets[1].admin, sets[1].by), (D, GOVERNANCE_ADDRESS));
}
