//! `banyan-modules`: the native modules this node can run, and what a chain spec's `modules`
//! section makes of them: the [`ModuleRegistry`] the executor installs ([`registry`]) and the
//! module accounts written at genesis ([`genesis_accounts`]).
//!
//! Adding a module: write its crate beside this one, add it to [`KNOWN`], and document it in
//! `docs/modules/`. Nothing else in the node changes (ADR 0006).
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use alloy_primitives::{Address, Bytes};
use banyan_module_api::{
    GenesisContext, GenesisError, GenesisValidatorInfo, MODULE_ACCOUNT_CODE, MemoryBackend,
    ModuleRegistry, ModuleState, NativeModule, RegistryError,
};
use banyan_primitives::{Genesis, GenesisAccount, ModuleSpec};
use std::{collections::BTreeMap, sync::Arc};

pub use banyan_module_crypto::{
    self as crypto, BANYAN_CRYPTO_ADDRESS, BanyanCrypto, IBanyanCrypto,
};
pub use banyan_module_evidence::{self as evidence, EVIDENCE_ADDRESS, Evidence, IEvidence};
pub use banyan_module_governance::{
    self as governance, GOVERNANCE_ADDRESS, Governance, GovernanceParams, IGovernance,
};
pub use banyan_module_identity::{self as identity, IDENTITY_ADDRESS, IIdentity, Identity};
pub use banyan_module_multisig::{self as multisig, IMultisig, MULTISIG_ADDRESS, Multisig};
pub use banyan_module_payments::{
    self as payments, IDepositToken, IPayments, PAYMENTS_ADDRESS, Payments,
};

/// Makes a module.
pub type ModuleConstructor = fn() -> Arc<dyn NativeModule>;

/// Every module this node's code carries, by chain-spec name.
pub const KNOWN: &[(&str, ModuleConstructor)] = &[
    ("crypto", || Arc::new(BanyanCrypto)),
    ("evidence", || Arc::new(Evidence)),
    ("governance", || Arc::new(Governance)),
    ("identity", || Arc::new(Identity)),
    ("multisig", || Arc::new(Multisig)),
    ("payments", || Arc::new(Payments)),
];

/// A chain spec's `modules` section that this node cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ModulesError {
    /// The spec names a module this node does not have.
    #[error(
        "chain spec module `{name}` is unknown to this node (it knows: {known}); \
         upgrade the node or remove the module from the spec"
    )]
    Unknown {
        /// The name in the spec.
        name: String,
        /// The names this node knows.
        known: String,
    },
    /// The spec runs another version of the module's rules than this node's code.
    #[error(
        "chain spec runs module `{name}` version {spec}, this node has version {code}; \
         run a node release with version {spec} of the module"
    )]
    Version {
        /// The module.
        name: String,
        /// Version in the spec.
        spec: u32,
        /// Version in this node's code.
        code: u32,
    },
    /// The module's genesis parameters are refused.
    #[error("chain spec module `{name}`: {source}")]
    Genesis {
        /// The module.
        name: String,
        /// Why.
        source: GenesisError,
    },
    /// Two modules clash (address or view).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// `alloc` already holds an account at a module's address.
    #[error("genesis `alloc` has an account at {address}, where module `{name}` lives; remove it")]
    AllocClash {
        /// The module.
        name: String,
        /// Its address.
        address: Address,
    },
}

/// The spec enabling every known module at the version this node runs, with `governors` (in
/// order, of equal weight, under the default rules) as the first committee: what `banyan init`
/// and `banyan dev` write.
pub fn default_spec(governors: &[Address]) -> BTreeMap<String, ModuleSpec> {
    KNOWN
        .iter()
        .map(|(name, make)| {
            let params = match *name {
                "governance" => governance::GovernanceParams::equal(governors).to_json(),
                _ => Default::default(),
            };
            (
                (*name).to_string(),
                ModuleSpec {
                    version: make().version(),
                    params,
                },
            )
        })
        .collect()
}

/// [`default_spec`] for `banyan dev`: `governor` is the one governor and holds every role, so
/// that one proposal passes at once and one account can use every module.
pub fn dev_spec(governor: Address) -> BTreeMap<String, ModuleSpec> {
    let mut spec = default_spec(&[governor]);
    if let Some(governance) = spec.get_mut("governance") {
        governance.params = governance::GovernanceParams::equal(&[governor])
            .with_every_role(governor)
            .to_json();
    }
    spec
}

fn resolve(name: &str, spec: &ModuleSpec) -> Result<Arc<dyn NativeModule>, ModulesError> {
    let make = KNOWN
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, make)| make)
        .ok_or_else(|| ModulesError::Unknown {
            name: name.to_string(),
            known: KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        })?;
    let module = make();
    if module.version() != spec.version {
        return Err(ModulesError::Version {
            name: name.to_string(),
            spec: spec.version,
            code: module.version(),
        });
    }
    Ok(module)
}

/// The registry of the modules `modules` enables.
pub fn registry(modules: &BTreeMap<String, ModuleSpec>) -> Result<ModuleRegistry, ModulesError> {
    let mut registry = ModuleRegistry::new();
    for (name, spec) in modules {
        registry.register(resolve(name, spec)?)?;
    }
    Ok(registry)
}

/// The genesis accounts of `genesis`'s modules: each at its address with
/// [`MODULE_ACCOUNT_CODE`] and the storage its `genesis` hook writes from its parameters.
pub fn genesis_accounts(
    genesis: &Genesis,
) -> Result<BTreeMap<Address, GenesisAccount>, ModulesError> {
    let registry = registry(&genesis.modules)?;
    let chain = GenesisContext {
        suite: genesis.suite,
        validators: genesis
            .validators
            .iter()
            .map(|v| GenesisValidatorInfo {
                address: v.address,
                public_key: v.public_key.clone(),
                power: v.power,
            })
            .collect(),
    };
    let mut accounts = BTreeMap::new();
    for (name, spec) in &genesis.modules {
        let module = resolve(name, spec)?;
        let address = module.address();
        if genesis.alloc.contains_key(&address) {
            return Err(ModulesError::AllocClash {
                name: name.clone(),
                address,
            });
        }
        let mut backend = MemoryBackend::default();
        let mut state = ModuleState::new(&mut backend, &registry, address, false, u64::MAX);
        module
            .genesis(&spec.params, &chain, &mut state)
            .map_err(|source| ModulesError::Genesis {
                name: name.clone(),
                source,
            })?;
        let storage = backend.storage.remove(&address).unwrap_or_default();
        accounts.insert(
            address,
            GenesisAccount {
                balance: Default::default(),
                nonce: 0,
                code: Some(Bytes::from_static(&MODULE_ACCOUNT_CODE)),
                storage,
            },
        );
    }
    Ok(accounts)
}

/// `genesis` with its module accounts added to `alloc`: the state the chain starts from.
pub fn genesis_with_modules(genesis: &Genesis) -> Result<Genesis, ModulesError> {
    let mut full = genesis.clone();
    full.alloc.extend(genesis_accounts(genesis)?);
    Ok(full)
}
