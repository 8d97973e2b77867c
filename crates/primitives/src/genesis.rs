//! The genesis file: chain id, crypto suite, initial allocations and validators.

use alloy_primitives::{Address, Bytes, U256};
use banyan_crypto::Suite;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Invalid genesis content.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The JSON does not parse or has wrong types.
    #[error("genesis does not parse: {0}")]
    Parse(String),
    /// A field has a value the chain cannot start with.
    #[error("genesis field `{field}` is invalid: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// An initial account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Initial balance.
    pub balance: U256,
    /// Initial nonce.
    #[serde(default)]
    pub nonce: u64,
    /// Contract code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Bytes>,
    /// Contract storage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<U256, U256>,
}

/// A validator named in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// The validator's address (derived from its public key with the chain's suite).
    pub address: Address,
    /// Hex of the 64-byte public key.
    pub public_key: Bytes,
    /// Voting power.
    #[serde(default = "one")]
    pub power: u64,
}

fn one() -> u64 {
    1
}

/// One native module a chain runs (an entry of the chain spec's `modules` section).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSpec {
    /// The version of the module's rules the chain runs; a node whose code is of another
    /// version refuses to start rather than fork.
    pub version: u32,
    /// The module's genesis parameters (its documentation lists them); absent for none.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
}

/// The chain specification every node of a chain must share; its hash identifies the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Crypto suite for signatures and hashes.
    pub suite: Suite,
    /// Genesis timestamp, Unix seconds.
    #[serde(default)]
    pub timestamp: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Initial accounts.
    #[serde(default)]
    pub alloc: BTreeMap<Address, GenesisAccount>,
    /// Initial validator set.
    #[serde(default)]
    pub validators: Vec<GenesisValidator>,
    /// The native modules the chain runs, by name (see `docs/modules/`). Each gets an account
    /// at its fixed address at genesis, holding its state.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub modules: BTreeMap<String, ModuleSpec>,
}

impl Genesis {
    /// Parses and validates a genesis JSON document.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let g: Genesis =
            serde_json::from_str(text).map_err(|e| GenesisError::Parse(e.to_string()))?;
        g.validate()?;
        Ok(g)
    }

    /// Checks values a chain cannot start with.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.chain_id == 0 {
            return Err(GenesisError::Invalid {
                field: "chain_id",
                reason: "must be non-zero".into(),
            });
        }
        if self.gas_limit < 21_000 {
            return Err(GenesisError::Invalid {
                field: "gas_limit",
                reason: format!(
                    "{} is below the 21000 gas of a plain transfer",
                    self.gas_limit
                ),
            });
        }
        for v in &self.validators {
            let pk =
                banyan_crypto::PublicKey::from_bytes(self.suite, &v.public_key).map_err(|e| {
                    GenesisError::Invalid {
                        field: "validators",
                        reason: format!("{}: {e}", v.address),
                    }
                })?;
            if self.suite.address(&pk) != v.address {
                return Err(GenesisError::Invalid {
                    field: "validators",
                    reason: format!("address {} does not match its public key", v.address),
                });
            }
        }
        let mut supply = U256::ZERO;
        for a in self.alloc.values() {
            supply = supply.checked_add(a.balance).ok_or(GenesisError::Invalid {
                field: "alloc",
                reason: "total balance overflows 256 bits".into(),
            })?;
        }
        Ok(())
    }

    /// Total of all initial balances: the money supply until an explicit mint or burn.
    pub fn total_supply(&self) -> U256 {
        self.alloc
            .values()
            .fold(U256::ZERO, |acc, a| acc.saturating_add(a.balance))
    }

    /// Canonical JSON (sorted maps) used to compare genesis files across nodes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
