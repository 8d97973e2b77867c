//! `banyan-module-crypto`: the chain's hash functions for contracts (`IBanyanCrypto.sol`), a
//! stateless native module at `0x…1000`. See `docs/modules/crypto.md`.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use alloy_primitives::{Address, B256, Bytes, address};
use alloy_sol_types::{SolCall, SolInterface};
use banyan_module_api::{ModuleCallContext, ModuleError, ModuleState, NativeModule, bad_call};
use sm3::{Digest, Sm3};

/// The Solidity interface of [`BanyanCrypto`], generated from
/// `contracts/interfaces/IBanyanCrypto.sol` (the file is the single source of truth).
#[allow(missing_docs)]
mod abi {
    alloy_sol_types::sol!("../../../contracts/interfaces/IBanyanCrypto.sol");
}
pub use abi::IBanyanCrypto;

/// Where [`BanyanCrypto`] lives on chains whose spec enables `crypto` (`banyan init` and
/// `banyan dev` enable it).
pub const BANYAN_CRYPTO_ADDRESS: Address = address!("0000000000000000000000000000000000001000");

/// Fixed part of every call's gas, as for the SHA-256 precompile.
const BASE_GAS: u64 = 60;
/// Gas per started 32-byte word of call data, as for the SHA-256 precompile.
const WORD_GAS: u64 = 12;

/// The chain's crypto suite for contracts: `suiteHash`, `sm3`, `suite`.
///
/// Gas is `60 + 12 × ⌈len(call data) / 32⌉`, charged before decoding, so the cost of a call is
/// known from its size alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct BanyanCrypto;

impl NativeModule for BanyanCrypto {
    fn address(&self) -> Address {
        BANYAN_CRYPTO_ADDRESS
    }

    fn name(&self) -> &'static str {
        "crypto"
    }

    fn version(&self) -> u32 {
        1
    }

    fn call(
        &self,
        ctx: &ModuleCallContext,
        input: &[u8],
        state: &mut ModuleState<'_>,
    ) -> Result<Bytes, ModuleError> {
        state.charge(BASE_GAS + WORD_GAS * input.len().div_ceil(32) as u64)?;
        let call = IBanyanCrypto::IBanyanCryptoCalls::abi_decode(input).map_err(|error| {
            bad_call(
                "BanyanCrypto",
                "IBanyanCrypto.sol",
                IBanyanCrypto::IBanyanCryptoCalls::SELECTORS,
                input,
                &error,
            )
        })?;
        let output = match call {
            IBanyanCrypto::IBanyanCryptoCalls::suiteHash(call) => {
                let digest = ctx.suite.hash(&call.data);
                IBanyanCrypto::suiteHashCall::abi_encode_returns(&digest)
            }
            IBanyanCrypto::IBanyanCryptoCalls::sm3(call) => {
                IBanyanCrypto::sm3Call::abi_encode_returns(&sm3_digest(&call.data))
            }
            IBanyanCrypto::IBanyanCryptoCalls::suite(_) => {
                IBanyanCrypto::suiteCall::abi_encode_returns(&suite_name(ctx.suite).to_string())
            }
        };
        Ok(output.into())
    }
}

fn sm3_digest(data: &[u8]) -> B256 {
    let digest: [u8; 32] = Sm3::digest(data).into();
    B256::new(digest)
}

fn suite_name(suite: banyan_crypto::Suite) -> &'static str {
    match suite {
        banyan_crypto::Suite::Ecdsa => "ecdsa",
        banyan_crypto::Suite::Sm => "sm",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, b256, keccak256};
    use banyan_module_api::{MemoryBackend, ModuleRegistry, decode_revert_reason};

    fn ctx(suite: banyan_crypto::Suite) -> ModuleCallContext {
        ModuleCallContext {
            address: BANYAN_CRYPTO_ADDRESS,
            caller: Address::ZERO,
            origin: Address::ZERO,
            value: U256::ZERO,
            is_static: true,
            depth: 1,
            block_number: 1,
            timestamp: 1,
            chain_id: 1,
            suite,
        }
    }

    fn call(
        suite: banyan_crypto::Suite,
        input: &[u8],
        gas_limit: u64,
    ) -> (Result<Bytes, ModuleError>, u64) {
        MemoryBackend::default().call(
            &ModuleRegistry::new(),
            &BanyanCrypto,
            &ctx(suite),
            input,
            gas_limit,
        )
    }

    fn success(result: (Result<Bytes, ModuleError>, u64)) -> (u64, Vec<u8>) {
        match result {
            (Ok(output), gas_used) => (gas_used, output.to_vec()),
            (Err(error), _) => panic!("expected success, got {error:?}"),
        }
    }

    fn revert_reason(result: (Result<Bytes, ModuleError>, u64)) -> String {
        match result {
            (Err(ModuleError::Revert(data)), _) => {
                decode_revert_reason(&data).expect("Error(string)")
            }
            other => panic!("expected a revert, got {other:?}"),
        }
    }

    #[test]
    fn sm3_matches_the_standard_vector() {
        let input = IBanyanCrypto::sm3Call {
            data: b"abc".to_vec().into(),
        }
        .abi_encode();
        let (gas, output) = success(call(banyan_crypto::Suite::Ecdsa, &input, 10_000));
        let digest = IBanyanCrypto::sm3Call::abi_decode_returns(&output).expect("bytes32");
        assert_eq!(
            digest,
            b256!("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        );
        // 4 + 32 + 32 + 32 bytes = 4 started words.
        assert_eq!(input.len(), 100);
        assert_eq!(gas, 60 + 12 * 4);
    }

    #[test]
    fn suite_hash_follows_the_suite() {
        let input = IBanyanCrypto::suiteHashCall {
            data: b"abc".to_vec().into(),
        }
        .abi_encode();
        let (_, ecdsa) = success(call(banyan_crypto::Suite::Ecdsa, &input, 10_000));
        let (_, sm) = success(call(banyan_crypto::Suite::Sm, &input, 10_000));
        assert_eq!(B256::from_slice(&ecdsa), keccak256(b"abc"));
        assert_eq!(B256::from_slice(&sm), sm3_digest(b"abc"));
    }

    #[test]
    fn suite_names() {
        let input = IBanyanCrypto::suiteCall {}.abi_encode();
        for (suite, name) in [
            (banyan_crypto::Suite::Ecdsa, "ecdsa"),
            (banyan_crypto::Suite::Sm, "sm"),
        ] {
            let (_, output) = success(call(suite, &input, 10_000));
            let decoded = IBanyanCrypto::suiteCall::abi_decode_returns(&output).expect("string");
            assert_eq!(decoded, name);
        }
    }

    #[test]
    fn unknown_selector_and_bad_abi_revert_with_a_reason() {
        let suite = banyan_crypto::Suite::Ecdsa;
        let reason = revert_reason(call(suite, &[1, 2, 3, 4], 10_000));
        assert!(
            reason.contains("unknown function selector 0x01020304"),
            "{reason}"
        );

        // Right selector, data offset pointing past the end.
        let mut input = IBanyanCrypto::sm3Call::SELECTOR.to_vec();
        input.extend_from_slice(&[0xff; 32]);
        let reason = revert_reason(call(suite, &input, 10_000));
        assert!(reason.contains("malformed arguments"), "{reason}");
    }

    #[test]
    fn gas_is_charged_before_work() {
        let input = IBanyanCrypto::sm3Call {
            data: vec![0u8; 1000].into(),
        }
        .abi_encode();
        let needed = 60 + 12 * (input.len() as u64).div_ceil(32);
        let suite = banyan_crypto::Suite::Sm;
        assert_eq!(
            call(suite, &input, needed - 1),
            (Err(ModuleError::OutOfGas), needed - 1)
        );
        let (gas, _) = success(call(suite, &input, needed));
        assert_eq!(gas, needed);
    }
}
