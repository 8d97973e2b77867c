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

#[test]
fn node_certificates_are_revoked_once_and_listed_for_every_node() {
    let mut chain = Chain::new(&GovernanceParams::equal(&[A]));
    let revoke = |serial: Vec<u8>| alloy_primitives::Bytes::from(serial).abi_encode();
    for (serial, expected) in [
        (vec![], "a certificate serial is 1 to 20 bytes"),
        (vec![0; 3], "a certificate serial is 1 to 20 bytes"),
        (vec![7; 21], "a certificate serial is 1 to 20 bytes"),
    ] {
        let err = chain
            .propose(A, Kind::RevokeCertificate, revoke(serial))
            .unwrap_err();
        assert!(err.contains(expected), "{err}");
    }
    // Leading zero bytes are not part of a serial: 0x00ab and 0xab are one certificate.
    chain
        .propose(A, Kind::RevokeCertificate, revoke(vec![0, 0xab]))
        .unwrap();
    let err = chain
        .propose(A, Kind::RevokeCertificate, revoke(vec![0xab]))
        .unwrap_err();
    assert!(err.contains("certificate 0xab is already revoked"), "{err}");
    chain
        .propose(A, Kind::RevokeCertificate, revoke(vec![0x12; 20]))
        .unwrap();
    let out = chain.view(IGovernance::revokedCertificatesCall {}.abi_encode());
    let listed = IGovernance::revokedCertificatesCall::abi_decode_returns(&out).unwrap();
    assert_eq!(
        listed,
        vec![
            alloy_primitives::Bytes::from(vec![0xab]),
            alloy_primitives::Bytes::from(vec![0x12; 20])
        ]
    );
    assert_eq!(chain.events::<IGovernance::CertificateRevoked>().len(), 2);
}
