//! The development chain of `banyan dev`: well-known funded accounts, one validator.

use alloy_primitives::{Address, Bytes, U256};
use banyan_crypto::{SecretKey, Suite};
use banyan_primitives::{Genesis, GenesisAccount, GenesisValidator};
use std::collections::BTreeMap;

use crate::NodeError;

/// The development accounts' keys: the first ten Hardhat/Anvil test keys (from the public test
/// mnemonic "test test test test test test test test test test test junk"), so that existing
/// scripts and tutorials work unchanged. Never use them for anything of value.
pub const DEV_KEYS: [&str; 10] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// The development validator's key: fixed so that a dev chain is reproducible.
pub const DEV_VALIDATOR_KEY: &str =
    "b0a0f5e5ffb1d4e7bda4b5b1ed2b5a1b6a0c3f0e9d8c7b6a5f4e3d2c1b0a9f8e";

/// A development account.
#[derive(Clone, Debug)]
pub struct DevAccount {
    /// Its address under the chain's suite.
    pub address: Address,
    /// Its secret key.
    pub key: SecretKey,
}

/// The development accounts for `suite`.
pub fn dev_accounts(suite: Suite, count: usize) -> Result<Vec<DevAccount>, NodeError> {
    DEV_KEYS
        .iter()
        .take(count)
        .map(|hex| {
            let key = SecretKey::from_hex(hex).map_err(|e| NodeError::Config(e.to_string()))?;
            let pk = suite
                .public_key(&key)
                .map_err(|e| NodeError::Config(e.to_string()))?;
            Ok(DevAccount {
                address: suite.address(&pk),
                key,
            })
        })
        .collect()
}

/// Genesis of a development chain: `accounts` funded with `balance_eth` each.
pub fn dev_genesis(
    suite: Suite,
    chain_id: u64,
    accounts: &[DevAccount],
    balance_eth: u64,
) -> Result<(Genesis, SecretKey), NodeError> {
    let validator_key =
        SecretKey::from_hex(DEV_VALIDATOR_KEY).map_err(|e| NodeError::Config(e.to_string()))?;
    let public = suite
        .public_key(&validator_key)
        .map_err(|e| NodeError::Config(e.to_string()))?;
    let balance = U256::from(balance_eth) * U256::from(10u64).pow(U256::from(18u64));
    let alloc: BTreeMap<Address, GenesisAccount> = accounts
        .iter()
        .map(|a| {
            (
                a.address,
                GenesisAccount {
                    balance,
                    ..Default::default()
                },
            )
        })
        .collect();
    let genesis = Genesis {
        chain_id,
        suite,
        timestamp: 0,
        gas_limit: 30_000_000,
        alloc,
        validators: vec![GenesisValidator {
            address: suite.address(&public),
            public_key: Bytes::copy_from_slice(&public.to_bytes()),
            power: 1,
        }],
        // The first development account is the committee's one governor with every role, so that
        // one proposal passes at once (docs/modules/governance.md).
        modules: banyan_modules::dev_spec(
            accounts
                .first()
                .map_or_else(|| suite.address(&public), |a| a.address),
        ),
    };
    Ok((genesis, validator_key))
}
