//! Typed bindings of the Multisig module (`IMultisig.sol`, `docs/modules/multisig.md`).

use crate::{BlockId, Client, Receipt, SdkError};
use alloy_primitives::{Address, Bytes};
use alloy_sol_types::{SolCall, SolEvent};
pub use banyan_modules::multisig::status_name;
pub use banyan_modules::{IMultisig, MULTISIG_ADDRESS};

/// Call data of `createWallet`.
pub fn create_call(owners: &[Address], threshold: u16) -> Bytes {
    IMultisig::createWalletCall {
        owners: owners.to_vec(),
        threshold,
    }
    .abi_encode()
    .into()
}

/// Call data of `propose`: `wallet` calls the native module `target` with `data`.
pub fn propose_call(wallet: Address, target: Address, data: Bytes, description: &str) -> Bytes {
    IMultisig::proposeCall {
        wallet,
        target,
        data,
        description: description.to_string(),
    }
    .abi_encode()
    .into()
}

/// Call data of `approve`.
pub fn approve_call(id: u64) -> Bytes {
    IMultisig::approveCall { id }.abi_encode().into()
}

/// Call data of `execute`.
pub fn execute_call(id: u64) -> Bytes {
    IMultisig::executeCall { id }.abi_encode().into()
}

/// The wallet a `createWallet` transaction made, from its `WalletCreated` log.
pub fn created_wallet(receipt: &Receipt) -> Option<Address> {
    receipt
        .logs
        .iter()
        .filter(|log| log.address == MULTISIG_ADDRESS)
        .find_map(|log| {
            IMultisig::WalletCreated::decode_raw_log(log.topics.iter().copied(), &log.data).ok()
        })
        .map(|event| event.wallet)
}

/// The operation a `propose` transaction made, from its `OperationProposed` log.
pub fn proposed_id(receipt: &Receipt) -> Option<u64> {
    receipt
        .logs
        .iter()
        .filter(|log| log.address == MULTISIG_ADDRESS)
        .find_map(|log| {
            IMultisig::OperationProposed::decode_raw_log(log.topics.iter().copied(), &log.data).ok()
        })
        .map(|event| event.id)
}

/// Operation `id` at block `at`.
pub async fn operation(
    client: &Client,
    id: u64,
    at: BlockId,
) -> Result<IMultisig::Operation, SdkError> {
    crate::view_call(
        client,
        MULTISIG_ADDRESS,
        IMultisig::getOperationCall { id },
        at,
    )
    .await
}

/// `wallet`'s owners, threshold and version at block `at`.
pub async fn wallet(
    client: &Client,
    wallet: Address,
    at: BlockId,
) -> Result<IMultisig::walletInfoReturn, SdkError> {
    crate::view_call(
        client,
        MULTISIG_ADDRESS,
        IMultisig::walletInfoCall { wallet },
        at,
    )
    .await
}
