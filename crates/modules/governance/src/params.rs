//! Chain parameters the committee sets by proposal, each within a range. The node reads them
//! from the state after block `h - 1` for block `h` (the block gas limit, the consensus pace)
//! and after every commit (its pool's limits); 0 means the default: the genesis gas limit, the
//! node's configuration for the others.

/// Gas per block.
pub const BLOCK_GAS_LIMIT: u8 = 1;
/// Milliseconds between heights on a consensus network.
pub const BLOCK_INTERVAL_MS: u8 = 2;
/// Transactions a node's pool holds.
pub const TXPOOL_MAX_TXS: u8 = 3;
/// Pending transactions per sender in a node's pool.
pub const TXPOOL_MAX_PER_ACCOUNT: u8 = 4;

/// The fee of every payment of the Payments module, in basis points of its amount, paid by the
/// payer in the payment's currency to the currency's fee account.
pub const PAYMENT_FEE_BPS: u8 = 5;

/// The range of `parameter`, inclusive.
pub fn bounds(parameter: u8) -> Option<(u64, u64)> {
    match parameter {
        BLOCK_GAS_LIMIT => Some((1_000_000, 1_000_000_000)),
        BLOCK_INTERVAL_MS => Some((100, 60_000)),
        TXPOOL_MAX_TXS => Some((1_000, 1_000_000)),
        TXPOOL_MAX_PER_ACCOUNT => Some((1, 10_000)),
        PAYMENT_FEE_BPS => Some((1, 1_000)),
        _ => None,
    }
}

/// The highest block gas limit the committee may set.
pub const MAX_BLOCK_GAS_LIMIT: u64 = 1_000_000_000;

/// The name of `parameter`, as the CLI spells it.
pub fn name(parameter: u8) -> &'static str {
    match parameter {
        BLOCK_GAS_LIMIT => "block-gas-limit",
        BLOCK_INTERVAL_MS => "block-interval-ms",
        TXPOOL_MAX_TXS => "txpool-max-txs",
        TXPOOL_MAX_PER_ACCOUNT => "txpool-max-per-account",
        PAYMENT_FEE_BPS => "payment-fee-bps",
        _ => "none",
    }
}

/// Whether `value` may be set for `parameter` (0, the default, always may).
pub(crate) fn check(parameter: u8, value: u64) -> Result<(), String> {
    let Some((min, max)) = bounds(parameter) else {
        return Err(
            "the parameter must be BlockGasLimit (1), BlockIntervalMs (2), TxpoolMaxTxs (3), \
             TxpoolMaxPerAccount (4) or PaymentFeeBps (5)"
                .into(),
        );
    };
    if value != 0 && !(min..=max).contains(&value) {
        return Err(format!(
            "{} must be {min} to {max} (or 0 for the default), got {value}",
            name(parameter)
        ));
    }
    Ok(())
}
