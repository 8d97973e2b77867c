//! `BanyanCrypto`: the chain's hash functions for contracts (`IBanyanCrypto.sol`).

use super::{ModuleCallContext, ModuleResult, NativeModule};
use alloy_primitives::{Address, B256, address};
use alloy_sol_types::{SolCall, SolInterface};
use sm3::{Digest, Sm3};

/// The Solidity interface of [`BanyanCrypto`], generated from
/// `contracts/interfaces/IBanyanCrypto.sol` (the file is the single source of truth).
#[allow(missing_docs)]
mod abi {
    alloy_sol_types::sol!("../../contracts/interfaces/IBanyanCrypto.sol");
}
pub use abi::IBanyanCrypto;

/// Where [`BanyanCrypto`] lives on every Banyan chain.
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
        "BanyanCrypto"
    }

    fn call(&self, ctx: &ModuleCallContext, input: &[u8], gas_limit: u64) -> ModuleResult {
        let gas_used = revm::precompile::calc_linear_cost(input.len(), BASE_GAS, WORD_GAS);
        if gas_used > gas_limit {
            return ModuleResult::OutOfGas;
        }
        let call = match IBanyanCrypto::IBanyanCryptoCalls::abi_decode(input) {
            Ok(call) => call,
            Err(error) => return bad_call(gas_used, input, &error),
        };
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
        ModuleResult::Success {
            gas_used,
            output: output.into(),
        }
    }
}

fn bad_call(gas_used: u64, input: &[u8], error: &alloy_sol_types::Error) -> ModuleResult {
    let known = input.get(..4).is_some_and(|selector| {
        IBanyanCrypto::IBanyanCryptoCalls::SELECTORS
            .iter()
            .any(|known| known.as_slice() == selector)
    });
    let reason = if known {
        format!("BanyanCrypto: malformed arguments: {error}")
    } else {
        format!(
            "BanyanCrypto: unknown function selector 0x{}; see IBanyanCrypto.sol",
            alloy_primitives::hex::encode(input.get(..4).unwrap_or(input))
        )
    };
    ModuleResult::revert_with_reason(gas_used, &reason)
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
    use crate::decode_revert_reason;
    use alloy_primitives::{U256, b256, keccak256};

    fn ctx(suite: banyan_crypto::Suite) -> ModuleCallContext {
        ModuleCallContext {
            caller: Address::ZERO,
            value: U256::ZERO,
            is_static: true,
            depth: 1,
            block_number: 1,
            timestamp: 1,
            chain_id: 1,
            suite,
        }
    }

    fn success(result: ModuleResult) -> (u64, Vec<u8>) {
        match result {
            ModuleResult::Success { gas_used, output } => (gas_used, output.to_vec()),
            other => panic!("expected success, got {other:?}"),
        }
    }

    #[test]
    fn sm3_matches_the_standard_vector() {
        let input = IBanyanCrypto::sm3Call {
            data: b"abc".to_vec().into(),
        }
        .abi_encode();
        let (gas, output) =
            success(BanyanCrypto.call(&ctx(banyan_crypto::Suite::Ecdsa), &input, 10_000));
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
        let (_, ecdsa) =
            success(BanyanCrypto.call(&ctx(banyan_crypto::Suite::Ecdsa), &input, 10_000));
        let (_, sm) = success(BanyanCrypto.call(&ctx(banyan_crypto::Suite::Sm), &input, 10_000));
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
            let (_, output) = success(BanyanCrypto.call(&ctx(suite), &input, 10_000));
            let decoded = IBanyanCrypto::suiteCall::abi_decode_returns(&output).expect("string");
            assert_eq!(decoded, name);
        }
    }

    #[test]
    fn unknown_selector_and_bad_abi_revert_with_a_reason() {
        let suite = banyan_crypto::Suite::Ecdsa;
        let ModuleResult::Revert { output, .. } =
            BanyanCrypto.call(&ctx(suite), &[1, 2, 3, 4], 10_000)
        else {
            panic!("unknown selector must revert");
        };
        let reason = decode_revert_reason(&output).expect("Error(string)");
        assert!(
            reason.contains("unknown function selector 0x01020304"),
            "{reason}"
        );

        // Right selector, data offset pointing past the end.
        let mut input = IBanyanCrypto::sm3Call::SELECTOR.to_vec();
        input.extend_from_slice(&[0xff; 32]);
        let ModuleResult::Revert { output, .. } = BanyanCrypto.call(&ctx(suite), &input, 10_000)
        else {
            panic!("malformed arguments must revert");
        };
        let reason = decode_revert_reason(&output).expect("Error(string)");
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
            BanyanCrypto.call(&ctx(suite), &input, needed - 1),
            ModuleResult::OutOfGas
        );
        let (gas, _) = success(BanyanCrypto.call(&ctx(suite), &input, needed));
        assert_eq!(gas, needed);
    }
}
