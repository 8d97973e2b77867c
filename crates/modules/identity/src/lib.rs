//! `banyan-module-identity`: Identity, a stateful native module at [`IDENTITY_ADDRESS`] with the
//! Solidity interface `contracts/interfaces/IIdentity.sol`.
//!
//! It holds what the ledger must know for W3C DIDs and verifiable credentials, and nothing a
//! credential says about its subject:
//!
//! - the registry of `did:banyan:<chain id>:<address>` DIDs ([`did`]): keys in the chain's suite
//!   (and Ed25519 for proofs checked outside the chain), controllers, services, a recovery
//!   account, key rotation and final deactivation;
//! - the authority issuers the committee admits by issuer type ([`issuers`]), through a passed
//!   Governance proposal of kind `ModuleCall`;
//! - the credential schemas they publish, versioned and immutable ([`schemas`]);
//! - the record of each issued credential, its hash, subject, schema, validity and status, with
//!   Bitstring Status List bits for revocation and suspension, the hash anchored in Evidence
//!   ([`credentials`]); and the check other modules ask ([`ViewQuery::Credential`]): does this
//!   account's DID hold a credential of this schema that counts now.
//!
//! Credentials are issued, presented and verified off the ledger (`banyan-identity`). See
//! `docs/modules/identity.md` for the ABI, state layout, events, errors and gas, and
//! `docs/identity/did-banyan.md` for the DID method.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod credentials;
pub mod did;
pub mod issuers;
pub mod layout;
pub mod schemas;
pub mod text;

use alloy_primitives::{Address, Bytes, address};
use alloy_sol_types::{SolCall, SolInterface};
use banyan_module_api::{
    ModuleCallContext, ModuleError, ModuleState, NativeModule, ViewAnswer, ViewKind, ViewQuery,
    bad_call, gas,
};

/// The Solidity interface, generated from `contracts/interfaces/IIdentity.sol` (the file is the
/// single source of truth for the ABI and the events).
#[allow(missing_docs)]
mod abi {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        "../../../contracts/interfaces/IIdentity.sol"
    );
}
use IIdentity::IIdentityCalls as Call;
pub use abi::IIdentity;

/// Where Identity lives on every chain that enables it.
pub const IDENTITY_ADDRESS: Address = address!("0000000000000000000000000000000000001005");

/// The version of the rules below. A chain spec names the version it runs.
pub const VERSION: u32 = 1;

/// Most entries one page of `issuers` or `schemasOf` returns.
pub const MAX_PAGE: u64 = 100;

/// The Identity module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Identity;

impl NativeModule for Identity {
    fn address(&self) -> Address {
        IDENTITY_ADDRESS
    }

    fn name(&self) -> &'static str {
        "identity"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    fn views(&self) -> &'static [ViewKind] {
        &[ViewKind::Credential]
    }

    fn call(
        &self,
        ctx: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        state.charge(gas::call_cost(input.len()))?;
        let call = Call::abi_decode(input).map_err(|error| {
            bad_call("Identity", "IIdentity.sol", Call::SELECTORS, input, &error)
        })?;
        let output = match call {
            Call::createDid(call) => {
                did::create(ctx, state, &call.publicKey, call.recovery)?;
                Vec::new()
            }
            Call::addVerificationMethod(call) => {
                did::add_method(ctx, state, call)?;
                Vec::new()
            }
            Call::removeVerificationMethod(call) => {
                did::remove_method(ctx, state, call.did, &call.fragment)?;
                Vec::new()
            }
            Call::rotateKey(call) => {
                did::rotate_key(ctx, state, call.did, &call.fragment, &call.newPublicKey)?;
                Vec::new()
            }
            Call::setControllers(call) => {
                did::set_controllers(ctx, state, call.did, &call.controllers)?;
                Vec::new()
            }
            Call::setService(call) => {
                did::set_service(ctx, state, call)?;
                Vec::new()
            }
            Call::removeService(call) => {
                did::remove_service(ctx, state, call.did, &call.fragment)?;
                Vec::new()
            }
            Call::setRecovery(call) => {
                did::set_recovery(ctx, state, call.did, call.recovery)?;
                Vec::new()
            }
            Call::recover(call) => {
                did::recover(ctx, state, call.did, call.controller)?;
                Vec::new()
            }
            Call::deactivate(call) => {
                did::deactivate(ctx, state, call.did)?;
                Vec::new()
            }
            Call::getDid(call) => {
                let record =
                    did::read(state, call.did)?.ok_or_else(|| did::not_created(call.did))?;
                IIdentity::getDidCall::abi_encode_returns(&record)
            }
            Call::isActive(call) => {
                let active = did::is_active(state, call.did)?;
                IIdentity::isActiveCall::abi_encode_returns(&active)
            }
            Call::admitIssuer(call) => {
                issuers::admit(ctx, state, call.issuer, &call.issuerType, &call.name)?;
                Vec::new()
            }
            Call::removeIssuer(call) => {
                issuers::remove(ctx, state, call.issuer, &call.issuerType)?;
                Vec::new()
            }
            Call::getIssuer(call) => {
                let issuer = issuers::read(state, call.issuer)?.ok_or_else(|| {
                    ModuleError::revert(format!(
                        "Identity: {} was never an authority issuer",
                        call.issuer
                    ))
                })?;
                IIdentity::getIssuerCall::abi_encode_returns(&issuer)
            }
            Call::isAuthorityIssuer(call) => {
                let admitted = issuers::is_authority(state, call.issuer, &call.issuerType)?;
                IIdentity::isAuthorityIssuerCall::abi_encode_returns(&admitted)
            }
            Call::issuers(call) => {
                check_page(call.limit)?;
                let (accounts, total) = issuers::page(state, call.offset, call.limit)?;
                IIdentity::issuersCall::abi_encode_returns(&IIdentity::issuersReturn {
                    accounts,
                    total,
                })
            }
            Call::publishSchema(call) => {
                let id = schemas::publish(ctx, state, call)?;
                IIdentity::publishSchemaCall::abi_encode_returns(&id)
            }
            Call::getSchema(call) => {
                let schema =
                    schemas::read(state, call.id)?.ok_or_else(|| schemas::unknown(call.id))?;
                IIdentity::getSchemaCall::abi_encode_returns(&schema)
            }
            Call::schemasOf(call) => {
                check_page(call.limit)?;
                let (ids, total) =
                    schemas::page_of(state, call.publisher, call.offset, call.limit)?;
                IIdentity::schemasOfCall::abi_encode_returns(&IIdentity::schemasOfReturn {
                    ids,
                    total,
                })
            }
            Call::issueCredential(call) => {
                credentials::issue(ctx, state, call)?;
                Vec::new()
            }
            Call::revokeCredential(call) => {
                credentials::revoke(ctx, state, call.hash, &call.reason)?;
                Vec::new()
            }
            Call::suspendCredential(call) => {
                credentials::suspend(ctx, state, call.hash, call.suspended, &call.reason)?;
                Vec::new()
            }
            Call::getCredential(call) => {
                let record = credentials::read(state, call.hash)?;
                IIdentity::getCredentialCall::abi_encode_returns(&record)
            }
            Call::nextStatusIndex(call) => {
                let next = credentials::next_index(state, call.issuer)?;
                IIdentity::nextStatusIndexCall::abi_encode_returns(&next)
            }
            Call::statusWords(call) => {
                let words = credentials::status_words(state, &call)?;
                IIdentity::statusWordsCall::abi_encode_returns(&words)
            }
            Call::holdsCredential(call) => {
                let check =
                    credentials::check_held(ctx.timestamp, state, call.subject, call.schemaId)?;
                let (ok, credential, reason) = match check {
                    Ok(hash) => (true, hash, String::new()),
                    Err(problem) => (false, problem.credential, problem.reason),
                };
                IIdentity::holdsCredentialCall::abi_encode_returns(
                    &IIdentity::holdsCredentialReturn {
                        ok,
                        credential,
                        reason,
                    },
                )
            }
        };
        Ok(output.into())
    }

    fn answer(
        &self,
        query: &ViewQuery,
        state: &mut ModuleState<'_>,
    ) -> Result<ViewAnswer, ModuleError> {
        match query {
            ViewQuery::Credential {
                subject,
                schema,
                at,
            } => {
                let check = credentials::check_held(*at, state, *subject, *schema)?;
                Ok(ViewAnswer::Credential(
                    check.map_err(|problem| problem.reason),
                ))
            }
            other => Err(ModuleError::revert(format!(
                "identity: does not answer {:?}",
                other.kind()
            ))),
        }
    }
}

fn check_page(limit: u64) -> Result<(), ModuleError> {
    if limit > MAX_PAGE {
        return Err(ModuleError::revert(format!(
            "Identity: limit {limit} is above the page bound {MAX_PAGE}; page with offset"
        )));
    }
    Ok(())
}
