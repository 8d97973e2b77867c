//! Chain parameters by proposal: each within its range, 0 back to the default, read back by
//! the view the node reads.

use super::*;

fn change(parameter: IGovernance::Parameter, value: u64) -> Vec<u8> {
    IGovernance::ParameterChange { parameter, value }.abi_encode()
}

fn parameters(chain: &mut Chain) -> IGovernance::chainParametersReturn {
    let out = chain.view(IGovernance::chainParametersCall {}.abi_encode());
    IGovernance::chainParametersCall::abi_decode_returns(&out).unwrap()
}

#[test]
fn chain_parameters_are_set_within_their_ranges_and_reset_to_the_default() {
    use IGovernance::Parameter::*;
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    for (parameter, value, expected) in [
        (
            BlockGasLimit,
            500,
            "block-gas-limit must be 1000000 to 1000000000 (or 0 for the default), got 500",
        ),
        (
            BlockIntervalMs,
            99,
            "block-interval-ms must be 100 to 60000",
        ),
        (
            TxpoolMaxTxs,
            2_000_000,
            "txpool-max-txs must be 1000 to 1000000",
        ),
        (
            TxpoolMaxPerAccount,
            10_001,
            "txpool-max-per-account must be 1 to 10000",
        ),
        (None, 1, "the parameter must be BlockGasLimit (1)"),
        (BlockGasLimit, 0, "block-gas-limit is already 0"),
    ] {
        let err = chain
            .propose(A, Kind::SetChainParameter, change(parameter, value))
            .unwrap_err();
        assert!(err.contains(expected), "{parameter:?} {value}: {err}");
    }
    chain
        .propose(
            A,
            Kind::SetChainParameter,
            change(BlockGasLimit, 20_000_000),
        )
        .unwrap();
    chain
        .propose(A, Kind::SetChainParameter, change(TxpoolMaxPerAccount, 8))
        .unwrap();
    let p = parameters(&mut chain);
    assert_eq!(
        (
            p.blockGasLimit,
            p.blockIntervalMs,
            p.txpoolMaxTxs,
            p.txpoolMaxPerAccount
        ),
        (20_000_000, 0, 0, 8)
    );
    chain
        .propose(A, Kind::SetChainParameter, change(BlockGasLimit, 0))
        .unwrap();
    assert_eq!(parameters(&mut chain).blockGasLimit, 0);
    let events = chain.events::<IGovernance::ChainParameterSet>();
    assert_eq!(
        events.iter().map(|e| e.value).collect::<Vec<_>>(),
        [20_000_000, 8, 0]
    );
}
