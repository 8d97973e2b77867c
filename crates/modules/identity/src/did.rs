//! The DID registry: `did:banyan:<chain id>:<address>`, one per account.
//!
//! A DID's record is a head word, its times, its controllers, and four words per key and three
//! byte strings per service ([`crate::layout`]). A change reads the record, edits it and writes
//! it back: words that do not change cost a read, so adding a key writes that key and the head.
//! Who may do what:
//!
//! - the account itself creates its DID, proving the key is its own (the address derives from
//!   it); it is the first controller;
//! - a controller (an account listed in `controllers`, each with an active DID) adds, removes
//!   and rotates keys, sets services, controllers and the recovery account, and deactivates;
//! - the recovery account makes a new account the only controller and removes every key (lost or
//!   stolen keys), changes the recovery account once it is named, or deactivates;
//! - nobody changes a deactivated DID: deactivation is final.

use crate::{IIdentity, layout, text};
use alloy_primitives::{Address, Bytes};
use banyan_crypto::Suite;
use banyan_module_api::{
    ModuleCallContext, ModuleError, ModuleState,
    slots::{Packer, Word},
};

/// Most keys one DID holds.
pub const MAX_METHODS: usize = 8;
/// Most services one DID lists.
pub const MAX_SERVICES: usize = 8;
/// Most controllers one DID has.
pub const MAX_CONTROLLERS: usize = 4;

/// Relationship bits of a verification method.
pub mod relationship {
    /// `authentication`.
    pub const AUTHENTICATION: u8 = 1;
    /// `assertionMethod`: the keys credentials are signed with.
    pub const ASSERTION_METHOD: u8 = 2;
    /// `keyAgreement`.
    pub const KEY_AGREEMENT: u8 = 4;
    /// `capabilityInvocation`.
    pub const CAPABILITY_INVOCATION: u8 = 8;
    /// `capabilityDelegation`.
    pub const CAPABILITY_DELEGATION: u8 = 16;
    /// Every bit.
    pub const ALL: u8 = 31;
}

/// The fragment of the key a DID is created with.
pub const FIRST_KEY_FRAGMENT: &str = "key-1";

/// The key type of the chain's suite.
pub fn suite_key_type(suite: Suite) -> IIdentity::KeyType {
    match suite {
        Suite::Ecdsa => IIdentity::KeyType::Secp256k1,
        Suite::Sm => IIdentity::KeyType::Sm2,
    }
}

/// The revert for a DID that was never created.
pub fn not_created(did: Address) -> ModuleError {
    ModuleError::revert(format!(
        "Identity: {did} has no DID; the account creates it with createDid"
    ))
}

/// The record of `did`; `None` when it was never created.
pub fn read(
    state: &mut ModuleState<'_>,
    did: Address,
) -> Result<Option<IIdentity::Did>, ModuleError> {
    let Some(head) = layout::DidHead::read(state, did)? else {
        return Ok(None);
    };
    let base = layout::did(did);
    let mut controllers = Vec::with_capacity(usize::from(head.controllers));
    for i in 0..u64::from(head.controllers) {
        controllers.push(state.sload(base.offset(2 + i))?.unpack().address());
    }
    let mut methods = Vec::with_capacity(usize::from(head.methods));
    for i in 0..head.methods {
        methods.push(read_method(state, did, i)?);
    }
    let mut services = Vec::with_capacity(usize::from(head.services));
    for i in 0..head.services {
        let slot = layout::service(did, i);
        let fragment = state.load_bytes(slot, text::MAX_FRAGMENT_BYTES)?;
        let service_type = state.load_bytes(slot.offset(1), text::MAX_SERVICE_TYPE_BYTES)?;
        let endpoint = state.load_bytes(slot.offset(2), text::MAX_ENDPOINT_BYTES)?;
        services.push(IIdentity::Service {
            fragment: String::from_utf8_lossy(&fragment).into_owned(),
            serviceType: String::from_utf8_lossy(&service_type).into_owned(),
            endpoint: String::from_utf8_lossy(&endpoint).into_owned(),
        });
    }
    Ok(Some(IIdentity::Did {
        account: did,
        controllers,
        recovery: head.recovery,
        methods,
        services,
        createdAt: head.created_at,
        updatedAt: head.updated_at,
        createdBlock: head.created_block,
        updatedBlock: head.updated_block,
        version: head.version,
        deactivated: head.deactivated,
    }))
}

fn read_method(
    state: &mut ModuleState<'_>,
    did: Address,
    index: u8,
) -> Result<IIdentity::VerificationMethod, ModuleError> {
    let slot = layout::method(did, index);
    let mut head = state.sload(slot)?.unpack();
    let key_type = head.u8();
    let relationships = head.u8();
    let fragment_len = usize::from(head.u8()).min(text::MAX_FRAGMENT_BYTES);
    let fragment = state.sload_b256(slot.offset(1))?;
    let key_type = IIdentity::KeyType::try_from(key_type).map_err(|_| {
        ModuleError::Invariant(format!(
            "Identity: key {index} of the DID of {did} has unknown type {key_type}"
        ))
    })?;
    let mut key = state.sload_b256(slot.offset(2))?.to_vec();
    if key_type != IIdentity::KeyType::Ed25519 {
        key.extend_from_slice(state.sload_b256(slot.offset(3))?.as_slice());
    }
    Ok(IIdentity::VerificationMethod {
        fragment: String::from_utf8_lossy(&fragment[..fragment_len]).into_owned(),
        keyType: key_type,
        publicKey: key.into(),
        relationships,
    })
}

/// Whether `did` exists and is not deactivated.
pub fn is_active(state: &mut ModuleState<'_>, did: Address) -> Result<bool, ModuleError> {
    Ok(layout::DidHead::read(state, did)?.is_some_and(|head| !head.deactivated))
}

/// Writes `record`, clearing what a longer earlier version used (unchanged words cost a read).
fn write(state: &mut ModuleState<'_>, record: &IIdentity::Did) -> Result<(), ModuleError> {
    let did = record.account;
    let old = layout::DidHead::read(state, did)?;
    let (old_controllers, old_methods, old_services) =
        old.map_or((0, 0, 0), |h| (h.controllers, h.methods, h.services));
    let count = |n: usize, max: usize, what: &str| {
        u8::try_from(n)
            .ok()
            .filter(|n| usize::from(*n) <= max)
            .ok_or_else(|| {
                ModuleError::Invariant(format!("Identity: the DID of {did} has {n} {what}"))
            })
    };
    let head = layout::DidHead {
        recovery: record.recovery,
        version: record.version,
        deactivated: record.deactivated,
        controllers: count(record.controllers.len(), MAX_CONTROLLERS, "controllers")?,
        methods: count(record.methods.len(), MAX_METHODS, "keys")?,
        services: count(record.services.len(), MAX_SERVICES, "services")?,
        created_at: record.createdAt,
        updated_at: record.updatedAt,
        created_block: record.createdBlock,
        updated_block: record.updatedBlock,
    };
    head.write(state, did)?;
    let base = layout::did(did);
    for i in 0..old_controllers.max(head.controllers) {
        let word = record
            .controllers
            .get(usize::from(i))
            .map_or(Word::ZERO, |c| Packer::new().address(*c).word());
        state.sstore(base.offset(2 + u64::from(i)), word)?;
    }
    for i in 0..old_methods.max(head.methods) {
        let slot = layout::method(did, i);
        let words = match record.methods.get(usize::from(i)) {
            Some(method) => method_words(method),
            None => [Word::ZERO; 4],
        };
        for (n, word) in words.into_iter().enumerate() {
            state.sstore(slot.offset(n as u64), word)?;
        }
    }
    for i in 0..old_services.max(head.services) {
        let slot = layout::service(did, i);
        let service = record.services.get(usize::from(i));
        let field = |f: fn(&IIdentity::Service) -> &String| {
            service
                .map(|s| f(s).as_bytes().to_vec())
                .unwrap_or_default()
        };
        state.store_bytes(slot, &field(|s| &s.fragment))?;
        state.store_bytes(slot.offset(1), &field(|s| &s.serviceType))?;
        state.store_bytes(slot.offset(2), &field(|s| &s.endpoint))?;
    }
    Ok(())
}

/// A key's four words: type ‖ relationships ‖ fragment length, the fragment, the key (two
/// words; the second zero for Ed25519).
fn method_words(method: &IIdentity::VerificationMethod) -> [Word; 4] {
    let head = Packer::new()
        .u8(method.keyType as u8)
        .u8(method.relationships)
        .u8(method.fragment.len() as u8)
        .word();
    let padded = |bytes: &[u8]| {
        let mut word = [0u8; 32];
        let n = bytes.len().min(32);
        word[..n].copy_from_slice(&bytes[..n]);
        Word::from(alloy_primitives::B256::new(word))
    };
    let key = method.publicKey.as_ref();
    let second = if key.len() > 32 {
        padded(&key[32..])
    } else {
        Word::ZERO
    };
    [
        head,
        padded(method.fragment.as_bytes()),
        padded(key),
        second,
    ]
}

/// Checks `key` is a valid key of `key_type` on a chain of `suite`.
fn check_key(suite: Suite, key_type: IIdentity::KeyType, key: &[u8]) -> Result<(), ModuleError> {
    let suite_type = suite_key_type(suite);
    match key_type {
        IIdentity::KeyType::Ed25519 => {
            if key.len() != 32 {
                return Err(ModuleError::revert(format!(
                    "Identity: an Ed25519 key is 32 bytes, got {}",
                    key.len()
                )));
            }
            Ok(())
        }
        other if other == suite_type => {
            suite_public_key(suite, key)?;
            Ok(())
        }
        _ => Err(ModuleError::revert(format!(
            "Identity: this chain's keys are {:?} (its {} suite) or Ed25519; key type {} is not \
             accepted",
            suite_type,
            suite.name(),
            key_type as u8
        ))),
    }
}

/// A key of the chain's suite in the one form the ledger stores: exactly 64 bytes `x ‖ y` (the
/// crypto crate also reads `0x04 ‖ x ‖ y`, which would be stored cut short).
fn suite_public_key(suite: Suite, key: &[u8]) -> Result<banyan_crypto::PublicKey, ModuleError> {
    if key.len() != 64 {
        return Err(ModuleError::revert(format!(
            "Identity: a {} public key is given as 64 bytes (x ‖ y, without the 0x04 prefix), \
             got {}",
            suite.name(),
            key.len()
        )));
    }
    banyan_crypto::PublicKey::from_bytes(suite, key).map_err(|e| {
        ModuleError::revert(format!(
            "Identity: the key is not a {} public key of 64 bytes (x ‖ y): {e}",
            suite.name()
        ))
    })
}

/// Creates the caller's DID with `public_key` as `#key-1`.
pub fn create(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    public_key: &[u8],
    recovery: Address,
) -> Result<(), ModuleError> {
    let account = ctx.caller;
    if read(state, account)?.is_some() {
        return Err(ModuleError::revert(format!(
            "Identity: {account} already has a DID; update it instead"
        )));
    }
    let key = suite_public_key(ctx.suite, public_key)?;
    let owner = ctx.suite.address(&key);
    if owner != account {
        return Err(ModuleError::revert(format!(
            "Identity: the key is {owner}'s, not the caller's ({account}); a DID is created by \
             the account whose key it names"
        )));
    }
    check_recovery(account, recovery)?;
    let record = IIdentity::Did {
        account,
        controllers: vec![account],
        recovery,
        methods: vec![IIdentity::VerificationMethod {
            fragment: FIRST_KEY_FRAGMENT.into(),
            keyType: suite_key_type(ctx.suite),
            publicKey: Bytes::copy_from_slice(public_key),
            relationships: relationship::AUTHENTICATION
                | relationship::ASSERTION_METHOD
                | relationship::CAPABILITY_INVOCATION,
        }],
        services: Vec::new(),
        createdAt: ctx.timestamp,
        updatedAt: ctx.timestamp,
        createdBlock: ctx.block_number,
        updatedBlock: ctx.block_number,
        version: 1,
        deactivated: false,
    };
    write(state, &record)?;
    state.emit(&IIdentity::DidCreated {
        did: account,
        recovery,
    })
}

/// The record of `did`, which must exist and not be deactivated.
fn active_record(state: &mut ModuleState<'_>, did: Address) -> Result<IIdentity::Did, ModuleError> {
    let record = read(state, did)?.ok_or_else(|| not_created(did))?;
    if record.deactivated {
        return Err(ModuleError::revert(format!(
            "Identity: the DID of {did} is deactivated; deactivation is final"
        )));
    }
    Ok(record)
}

/// A recovery account is never the DID's own account (zero: none).
fn check_recovery(did: Address, recovery: Address) -> Result<(), ModuleError> {
    if recovery == did {
        return Err(ModuleError::revert(
            "Identity: the recovery account must be another account than the DID's own",
        ));
    }
    Ok(())
}

/// Reads `did` for a change by the caller: it exists, is active, and the caller controls it
/// (or, with `recovery_may`, is its recovery account).
fn for_change(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
    recovery_may: bool,
) -> Result<IIdentity::Did, ModuleError> {
    let record = active_record(state, did)?;
    // A controller is a DID: one deactivated since it was named controls nothing.
    let controls = record.controllers.contains(&ctx.caller)
        && (ctx.caller == did || is_active(state, ctx.caller)?);
    let recovers =
        recovery_may && record.recovery != Address::ZERO && record.recovery == ctx.caller;
    if !controls && !recovers {
        return Err(ModuleError::revert(format!(
            "Identity: {} does not control the DID of {did} (its controllers: {}){}",
            ctx.caller,
            list(&record.controllers),
            if recovery_may {
                " and is not its recovery account"
            } else {
                ""
            }
        )));
    }
    Ok(record)
}

fn list(accounts: &[Address]) -> String {
    accounts
        .iter()
        .map(Address::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes a changed record with its next version, and says what changed.
fn commit(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    mut record: IIdentity::Did,
    change: String,
) -> Result<(), ModuleError> {
    record.version = record.version.saturating_add(1);
    record.updatedAt = ctx.timestamp;
    record.updatedBlock = ctx.block_number;
    write(state, &record)?;
    state.emit(&IIdentity::DidUpdated {
        did: record.account,
        version: record.version,
        change,
    })
}

fn fragment_taken(record: &IIdentity::Did, fragment: &str) -> bool {
    record.methods.iter().any(|m| m.fragment == fragment)
        || record.services.iter().any(|s| s.fragment == fragment)
}

/// Adds a key.
pub fn add_method(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: IIdentity::addVerificationMethodCall,
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, call.did, false)?;
    text::fragment(&call.fragment)?;
    if fragment_taken(&record, &call.fragment) {
        return Err(ModuleError::revert(format!(
            "Identity: #{} is already used in the DID of {}; choose another fragment",
            call.fragment, call.did
        )));
    }
    if record.methods.len() >= MAX_METHODS {
        return Err(ModuleError::revert(format!(
            "Identity: the DID of {} already holds the maximum of {MAX_METHODS} keys",
            call.did
        )));
    }
    check_relationships(call.relationships)?;
    check_key(ctx.suite, call.keyType, &call.publicKey)?;
    if record.methods.iter().any(|m| m.publicKey == call.publicKey) {
        return Err(ModuleError::revert(format!(
            "Identity: the DID of {} already holds this key",
            call.did
        )));
    }
    let change = format!("verificationMethod #{} added", call.fragment);
    record.methods.push(IIdentity::VerificationMethod {
        fragment: call.fragment,
        keyType: call.keyType,
        publicKey: call.publicKey,
        relationships: call.relationships,
    });
    commit(ctx, state, record, change)
}

fn check_relationships(bits: u8) -> Result<(), ModuleError> {
    if bits == 0 || bits & !relationship::ALL != 0 {
        return Err(ModuleError::revert(format!(
            "Identity: relationships {bits} is not a set of 1 authentication, 2 assertionMethod, \
             4 keyAgreement, 8 capabilityInvocation, 16 capabilityDelegation (1 to 31)"
        )));
    }
    Ok(())
}

fn method_index(record: &IIdentity::Did, fragment: &str) -> Result<usize, ModuleError> {
    record
        .methods
        .iter()
        .position(|m| m.fragment == fragment)
        .ok_or_else(|| {
            ModuleError::revert(format!(
                "Identity: the DID of {} has no key #{fragment}",
                record.account
            ))
        })
}

/// Removes a key; the last authentication key stays.
pub fn remove_method(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
    fragment: &str,
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, did, false)?;
    let index = method_index(&record, fragment)?;
    let removed = record.methods.remove(index);
    let authenticates =
        |m: &IIdentity::VerificationMethod| m.relationships & relationship::AUTHENTICATION != 0;
    if authenticates(&removed) && !record.methods.iter().any(authenticates) {
        return Err(ModuleError::revert(format!(
            "Identity: #{fragment} is the last authentication key of the DID of {did}; add \
             another one first (or deactivate the DID)"
        )));
    }
    commit(
        ctx,
        state,
        record,
        format!("verificationMethod #{fragment} removed"),
    )
}

/// Replaces a key's material with a new key of the same type.
pub fn rotate_key(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
    fragment: &str,
    new_key: &[u8],
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, did, false)?;
    let index = method_index(&record, fragment)?;
    let key_type = record.methods[index].keyType;
    check_key(ctx.suite, key_type, new_key)?;
    if record
        .methods
        .iter()
        .any(|m| m.publicKey.as_ref() == new_key)
    {
        return Err(ModuleError::revert(format!(
            "Identity: the DID of {did} already holds this key; rotate to a new one"
        )));
    }
    record.methods[index].publicKey = Bytes::copy_from_slice(new_key);
    commit(
        ctx,
        state,
        record,
        format!("verificationMethod #{fragment} rotated"),
    )
}

/// Sets the controllers.
pub fn set_controllers(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
    controllers: &[Address],
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, did, false)?;
    if controllers.is_empty() || controllers.len() > MAX_CONTROLLERS {
        return Err(ModuleError::revert(format!(
            "Identity: a DID has 1 to {MAX_CONTROLLERS} controllers, got {}",
            controllers.len()
        )));
    }
    for (i, controller) in controllers.iter().enumerate() {
        if controllers[..i].contains(controller) {
            return Err(ModuleError::revert(format!(
                "Identity: controller {controller} is listed twice"
            )));
        }
        check_controller(state, did, *controller)?;
    }
    if record.controllers == controllers {
        return Err(ModuleError::revert(format!(
            "Identity: the DID of {did} already has these controllers"
        )));
    }
    record.controllers = controllers.to_vec();
    let change = format!("controllers set to {}", list(controllers));
    commit(ctx, state, record, change)
}

/// A controller must have an active DID of its own (DID Core: a controller is a DID).
fn check_controller(
    state: &mut ModuleState<'_>,
    did: Address,
    controller: Address,
) -> Result<(), ModuleError> {
    if controller != did && !is_active(state, controller)? {
        return Err(ModuleError::revert(format!(
            "Identity: controller {controller} has no active DID; a controller is a DID, so it \
             creates one first"
        )));
    }
    Ok(())
}

/// Adds or replaces a service.
pub fn set_service(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: IIdentity::setServiceCall,
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, call.did, false)?;
    text::fragment(&call.fragment)?;
    text::service_type(&call.serviceType)?;
    text::endpoint(&call.endpoint)?;
    if record.methods.iter().any(|m| m.fragment == call.fragment) {
        return Err(ModuleError::revert(format!(
            "Identity: #{} is a key of the DID of {}; a service needs its own fragment",
            call.fragment, call.did
        )));
    }
    let service = IIdentity::Service {
        fragment: call.fragment.clone(),
        serviceType: call.serviceType,
        endpoint: call.endpoint,
    };
    let change = match record
        .services
        .iter()
        .position(|s| s.fragment == call.fragment)
    {
        Some(index) => {
            if record.services[index] == service {
                return Err(ModuleError::revert(format!(
                    "Identity: service #{} is already set to this",
                    call.fragment
                )));
            }
            record.services[index] = service;
            format!("service #{} replaced", call.fragment)
        }
        None => {
            if record.services.len() >= MAX_SERVICES {
                return Err(ModuleError::revert(format!(
                    "Identity: the DID of {} already lists the maximum of {MAX_SERVICES} services",
                    call.did
                )));
            }
            record.services.push(service);
            format!("service #{} added", call.fragment)
        }
    };
    commit(ctx, state, record, change)
}

/// Removes a service.
pub fn remove_service(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
    fragment: &str,
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, did, false)?;
    let index = record
        .services
        .iter()
        .position(|s| s.fragment == fragment)
        .ok_or_else(|| {
            ModuleError::revert(format!(
                "Identity: the DID of {did} has no service #{fragment}"
            ))
        })?;
    record.services.remove(index);
    commit(ctx, state, record, format!("service #{fragment} removed"))
}

/// Sets the recovery account.
pub fn set_recovery(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
    recovery: Address,
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, did, true)?;
    // Once named, the recovery account is changed only by itself: a thief holding a
    // controller's key cannot take the way back away.
    if record.recovery != Address::ZERO && ctx.caller != record.recovery {
        return Err(ModuleError::revert(format!(
            "Identity: the DID of {did} has recovery account {}; only it may change it",
            record.recovery
        )));
    }
    check_recovery(did, recovery)?;
    if record.recovery == recovery {
        return Err(ModuleError::revert(format!(
            "Identity: the recovery account of {did} is already {recovery}"
        )));
    }
    record.recovery = recovery;
    commit(ctx, state, record, format!("recovery set to {recovery}"))
}

/// The recovery account makes `controller` the only controller.
pub fn recover(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
    controller: Address,
) -> Result<(), ModuleError> {
    let mut record = active_record(state, did)?;
    if record.recovery == Address::ZERO || record.recovery != ctx.caller {
        return Err(ModuleError::revert(format!(
            "Identity: {} is not the recovery account of the DID of {did}",
            ctx.caller
        )));
    }
    if controller == Address::ZERO {
        return Err(ModuleError::revert(
            "Identity: the new controller cannot be the zero address",
        ));
    }
    check_controller(state, did, controller)?;
    record.controllers = vec![controller];
    // The keys go with the controllers they may have been stolen with; the new controller adds
    // new ones.
    record.methods.clear();
    let recovery = record.recovery;
    commit(
        ctx,
        state,
        record,
        format!("recovered: controller {controller}"),
    )?;
    state.emit(&IIdentity::DidRecovered {
        did,
        recovery,
        controller,
    })
}

/// Deactivates for good.
pub fn deactivate(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    did: Address,
) -> Result<(), ModuleError> {
    let mut record = for_change(ctx, state, did, true)?;
    record.deactivated = true;
    commit(ctx, state, record, "deactivated".into())?;
    state.emit(&IIdentity::DidDeactivated {
        did,
        by: ctx.caller,
    })
}
