//! Typed bindings of the Payments module (`IPayments.sol`, each currency's `IDepositToken.sol`,
//! `docs/modules/payments.md`): call data, views, amounts in a currency's decimals, idempotency
//! keys, and the account history the node's `banyan_paymentsHistory` returns.

use crate::{BlockId, Client, Receipt, SdkError};
use alloy_primitives::{Address, B256, Bytes, Log, U256, keccak256};
use alloy_sol_types::{SolCall, SolEvent};
pub use banyan_modules::payments::{
    KEY_RETENTION_SECONDS, MAX_END_TO_END_CHARS, MAX_LEGS, MAX_REMITTANCE_CHARS, TOKEN_RANGE,
    token_address,
};
pub use banyan_modules::{IDepositToken, IPayments, PAYMENTS_ADDRESS};
use serde::{Deserialize, Serialize};

/// Call data of `registerCurrency`.
pub fn register_call(code: &str, name: &str, decimals: u8, cap: U256) -> Bytes {
    IPayments::registerCurrencyCall {
        code: code.to_string(),
        name: name.to_string(),
        decimals,
        cap,
    }
    .abi_encode()
    .into()
}

/// Call data of `mint`.
pub fn mint_call(token: Address, to: Address, amount: U256) -> Bytes {
    IPayments::mintCall { token, to, amount }
        .abi_encode()
        .into()
}

/// Call data of `setKycRequirement` (`schema` zero lifts the rule).
pub fn kyc_requirement_call(token: Address, schema: B256) -> Bytes {
    IPayments::setKycRequirementCall {
        token,
        schemaId: schema,
    }
    .abi_encode()
    .into()
}

/// Call data of `burn`.
pub fn burn_call(token: Address, from: Address, amount: U256) -> Bytes {
    IPayments::burnCall {
        token,
        from,
        amount,
    }
    .abi_encode()
    .into()
}

/// The texts and key of a payment.
#[derive(Clone, Debug, Default)]
pub struct Memo {
    /// ISO 20022 `EndToEndId`, at most 35 characters.
    pub end_to_end_id: String,
    /// ISO 20022 `Ustrd`, at most 140 characters.
    pub remittance: String,
    /// The idempotency key; zero for none.
    pub key: B256,
}

/// Call data of `pay`.
pub fn pay_call(token: Address, to: Address, amount: U256, memo: &Memo) -> Bytes {
    IPayments::payCall {
        token,
        to,
        amount,
        endToEndId: memo.end_to_end_id.clone(),
        remittance: memo.remittance.clone(),
        key: memo.key,
    }
    .abi_encode()
    .into()
}

/// Call data of `payBatch`, legs as (token, payee, amount).
pub fn batch_call(legs: &[(Address, Address, U256)], memo: &Memo) -> Bytes {
    IPayments::payBatchCall {
        legs: legs
            .iter()
            .map(|(token, to, amount)| IPayments::Leg {
                token: *token,
                to: *to,
                amount: *amount,
            })
            .collect(),
        endToEndId: memo.end_to_end_id.clone(),
        remittance: memo.remittance.clone(),
        key: memo.key,
    }
    .abi_encode()
    .into()
}

/// Call data of `placeHold`.
pub fn hold_call(
    token: Address,
    payee: Address,
    amount: U256,
    timeout: u64,
    remittance: &str,
) -> Bytes {
    IPayments::placeHoldCall {
        token,
        payee,
        amount,
        timeoutSeconds: timeout,
        remittance: remittance.to_string(),
    }
    .abi_encode()
    .into()
}

/// Call data of `captureHold`.
pub fn capture_call(id: u64, amount: U256) -> Bytes {
    IPayments::captureHoldCall { id, amount }
        .abi_encode()
        .into()
}

/// Call data of `voidHold`.
pub fn void_call(id: u64) -> Bytes {
    IPayments::voidHoldCall { id }.abi_encode().into()
}

/// Call data of `setGasCurrency`: the sender pays gas in `token` from this transaction on
/// (the zero address: in the native coin again).
pub fn set_gas_currency_call(token: Address) -> Bytes {
    IPayments::setGasCurrencyCall { token }.abi_encode().into()
}

/// A cross-currency payment's parameters.
#[derive(Clone, Debug)]
pub struct Fx {
    /// The currency paid.
    pub pay_token: Address,
    /// What the payer pays, in `pay_token`'s minor units.
    pub amount_in: U256,
    /// The currency the payee receives.
    pub receive_token: Address,
    /// The least the payee must receive, in `receive_token`'s minor units.
    pub min_amount_out: U256,
    /// The payee.
    pub to: Address,
    /// The liquidity provider.
    pub provider: Address,
}

/// Call data of `payFx`.
pub fn fx_call(fx: &Fx, memo: &Memo) -> Bytes {
    IPayments::payFxCall {
        payToken: fx.pay_token,
        amountIn: fx.amount_in,
        receiveToken: fx.receive_token,
        minAmountOut: fx.min_amount_out,
        to: fx.to,
        provider: fx.provider,
        endToEndId: memo.end_to_end_id.clone(),
        remittance: memo.remittance.clone(),
        key: memo.key,
    }
    .abi_encode()
    .into()
}

/// Call data of `postRate`.
pub fn post_rate_call(
    base: Address,
    quote: Address,
    rate: U256,
    valid_from: u64,
    valid_until: u64,
) -> Bytes {
    IPayments::postRateCall {
        base,
        quote,
        rate,
        validFrom: valid_from,
        validUntil: valid_until,
    }
    .abi_encode()
    .into()
}

/// Call data of `offerLiquidity`.
pub fn offer_liquidity_call(
    base: Address,
    quote: Address,
    spread_bps: u16,
    enabled: bool,
) -> Bytes {
    IPayments::offerLiquidityCall {
        base,
        quote,
        spreadBps: spread_bps,
        enabled,
    }
    .abi_encode()
    .into()
}

async fn view<C: SolCall>(client: &Client, call: C, at: BlockId) -> Result<C::Return, SdkError> {
    crate::view_call(client, PAYMENTS_ADDRESS, call, at).await
}

/// Every registered currency, at block `at`.
pub async fn currencies(
    client: &Client,
    at: BlockId,
) -> Result<Vec<IPayments::Currency>, SdkError> {
    view(client, IPayments::currenciesCall {}, at).await
}

/// The currency at `token`, at block `at`.
pub async fn currency(
    client: &Client,
    token: Address,
    at: BlockId,
) -> Result<IPayments::Currency, SdkError> {
    view(client, IPayments::currencyCall { token }, at).await
}

/// The token of a currency given by code (`USD`) or token address, at block `at`.
pub async fn resolve(client: &Client, currency: &str, at: BlockId) -> Result<Address, SdkError> {
    if let Ok(address) = currency.parse::<Address>() {
        return Ok(address);
    }
    view(
        client,
        IPayments::currencyByCodeCall {
            code: currency.to_string(),
        },
        at,
    )
    .await
}

/// `account`'s balance, held and available amounts of `token`, at block `at`.
pub async fn balance(
    client: &Client,
    token: Address,
    account: Address,
    at: BlockId,
) -> Result<IPayments::balanceOfReturn, SdkError> {
    view(client, IPayments::balanceOfCall { token, account }, at).await
}

/// The currency `account` pays gas in (the zero address: the native coin), at block `at`.
pub async fn gas_currency_of(
    client: &Client,
    account: Address,
    at: BlockId,
) -> Result<Address, SdkError> {
    view(client, IPayments::gasCurrencyOfCall { account }, at).await
}

/// What `gas` gas at `gas_price` wei costs in `token`, and the committee's rate, at block `at`
/// (an error when the committee set no rate for it).
pub async fn gas_fee_for(
    client: &Client,
    token: Address,
    gas: u64,
    gas_price: u128,
    at: BlockId,
) -> Result<IPayments::gasFeeForReturn, SdkError> {
    let call = IPayments::gasFeeForCall {
        token,
        gas,
        gasPrice: U256::from(gas_price),
    };
    view(client, call, at).await
}

/// Hold `id`, at block `at`.
pub async fn hold(client: &Client, id: u64, at: BlockId) -> Result<IPayments::Hold, SdkError> {
    view(client, IPayments::getHoldCall { id }, at).await
}

/// What `payer`'s idempotency `key` recorded, at block `at`.
pub async fn payment_by_key(
    client: &Client,
    payer: Address,
    key: B256,
    at: BlockId,
) -> Result<IPayments::KeyRecord, SdkError> {
    view(client, IPayments::paymentByKeyCall { payer, key }, at).await
}

/// An idempotency key from text: 32 bytes of hex (`0x…`) as given, anything else (an invoice
/// number, a UUID) hashed with Keccak-256, so that the same text is always the same key.
pub fn key_of(text: &str) -> B256 {
    text.parse::<B256>()
        .unwrap_or_else(|_| keccak256(text.as_bytes()))
}

/// What a Payments transaction's receipt reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reported {
    /// The payment's id (the first one of a batch); for a replayed keyed payment, the first
    /// submission's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<u64>,
    /// A keyed payment submitted again: nothing moved, the first result stands.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    /// A keyed payment that failed (now, or when first submitted): the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// The hold a `placeHold` made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<u64>,
    /// The token a `registerCurrency` made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Address>,
    /// The gas the transaction paid in a currency (its sender chose one with
    /// `setGasCurrency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_paid: Option<GasPaid>,
}

/// Gas a transaction paid in a currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GasPaid {
    /// The currency's token address.
    pub token: Address,
    /// The fee, in its minor units (decimal).
    pub fee: String,
    /// The gas it paid for.
    pub gas_used: u64,
    /// Who received it (the block's proposer).
    pub beneficiary: Address,
}

/// What `receipt`'s Payments events say.
pub fn reported(receipt: &Receipt) -> Reported {
    let mut out = Reported::default();
    for log in receipt
        .logs
        .iter()
        .filter(|l| l.address == PAYMENTS_ADDRESS)
    {
        let topics = || log.topics.iter().copied();
        if let Ok(e) = IPayments::Payment::decode_raw_log(topics(), &log.data) {
            out.payment_id.get_or_insert(e.id);
        } else if let Ok(e) = IPayments::PaymentReplayed::decode_raw_log(topics(), &log.data) {
            out.replayed = true;
            out.payment_id = Some(e.payment);
            if e.outcome == IPayments::Outcome::Failed {
                out.failed = Some("the first submission failed (banyan pay key shows why)".into());
            }
        } else if let Ok(e) = IPayments::PaymentFailed::decode_raw_log(topics(), &log.data) {
            out.failed = Some(e.reason);
        } else if let Ok(e) = IPayments::HoldPlaced::decode_raw_log(topics(), &log.data) {
            out.hold_id = Some(e.id);
        } else if let Ok(e) = IPayments::CurrencyRegistered::decode_raw_log(topics(), &log.data) {
            out.token = Some(e.token);
        } else if let Ok(e) = IPayments::GasPaid::decode_raw_log(topics(), &log.data) {
            out.gas_paid = Some(GasPaid {
                token: e.token,
                fee: e.fee.to_string(),
                gas_used: e.gasUsed,
                beneficiary: e.beneficiary,
            });
        }
    }
    out
}

/// `text` (e.g. `12.34`) in minor units of a currency with `decimals`.
pub fn parse_amount(text: &str, decimals: u8) -> Result<U256, String> {
    let bad = || format!("{text:?} is not an amount with at most {decimals} decimals, e.g. 12.50");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > usize::from(decimals)
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let digits = format!("{whole}{fraction:0<width$}", width = usize::from(decimals));
    U256::from_str_radix(if digits.is_empty() { "0" } else { &digits }, 10).map_err(|_| bad())
}

/// `minor` units of a currency with `decimals`, written with its decimal point (`12.34`).
pub fn format_amount(minor: U256, decimals: u8) -> String {
    let digits = minor.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = d + 1);
    let (whole, fraction) = padded.split_at(padded.len() - d);
    format!("{whole}.{fraction}")
}

/// One movement of an account's money, as `banyan_paymentsHistory` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Block height.
    pub block: u64,
    /// Block time (Unix seconds).
    pub timestamp: u64,
    /// The transaction (or, for a hold expired by the block-end hook, the block-end hash).
    pub tx_hash: B256,
    /// The log's index in the block.
    pub log_index: u64,
    /// The currency's token.
    pub token: Address,
    /// `credit` (money in) or `debit` (money out).
    pub direction: String,
    /// `payment`, `fee`, `mint`, `burn`, `fx` or `transfer` (ERC-20 face).
    pub kind: String,
    /// Minor units, as a decimal string.
    pub amount: String,
    /// The other side (the zero address for a mint or burn).
    pub counterparty: Address,
    /// The payment's id, when the movement is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<u64>,
    /// ISO 20022 `EndToEndId`.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub end_to_end_id: String,
    /// ISO 20022 `Ustrd`.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub remittance: String,
}

/// Where a block's logs come from, for [`history_entries`].
#[derive(Clone, Copy, Debug)]
pub struct LogPlace {
    /// Block height.
    pub block: u64,
    /// Block time.
    pub timestamp: u64,
    /// The transaction's hash.
    pub tx_hash: B256,
    /// Index of the receipt's first log in the block.
    pub first_log_index: u64,
}

/// The movements of `account`'s money in one receipt's `logs` (every balance change of a
/// currency is one ERC-20 `Transfer` from its token's address), each annotated with the
/// `Payment` event that explains it, if any. Kinds: `payment`, `fx`, `fee` (a payment's fee),
/// `gas` (gas paid in the currency), `mint`, `burn`, `transfer` (ERC-20).
pub fn history_entries(
    logs: &[Log],
    place: LogPlace,
    account: Address,
    token: Option<Address>,
) -> Vec<HistoryEntry> {
    let payments: Vec<IPayments::Payment> = logs
        .iter()
        .filter(|log| log.address == PAYMENTS_ADDRESS)
        .filter_map(|log| IPayments::Payment::decode_log_data(&log.data).ok())
        .collect();
    let fx: Vec<u64> = logs
        .iter()
        .filter(|log| log.address == PAYMENTS_ADDRESS)
        .filter_map(|log| IPayments::FxSettled::decode_log_data(&log.data).ok())
        .map(|e| e.id)
        .collect();
    let gas: Vec<IPayments::GasPaid> = logs
        .iter()
        .filter(|log| log.address == PAYMENTS_ADDRESS)
        .filter_map(|log| IPayments::GasPaid::decode_log_data(&log.data).ok())
        .collect();
    let mut used = vec![false; payments.len()];
    let mut out = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        if !TOKEN_RANGE.contains(&log.address) || token.is_some_and(|t| t != log.address) {
            continue;
        }
        let Ok(t) = IDepositToken::Transfer::decode_log_data(&log.data) else {
            continue;
        };
        let direction = if t.to == account {
            "credit"
        } else if t.from == account {
            "debit"
        } else {
            continue;
        };
        let matched = payments.iter().enumerate().position(|(j, p)| {
            !used[j]
                && p.token == log.address
                && p.from == t.from
                && p.to == t.to
                && p.amount == t.value
        });
        let fee_of = payments.iter().find(|p| {
            p.token == log.address && p.from == t.from && p.fee == t.value && p.to != t.to
        });
        let (kind, payment) = if let Some(j) = matched {
            used[j] = true;
            let p = &payments[j];
            (if fx.contains(&p.id) { "fx" } else { "payment" }, Some(p))
        } else if t.from == Address::ZERO {
            ("mint", None)
        } else if t.to == Address::ZERO {
            ("burn", None)
        } else if let Some(p) = fee_of {
            ("fee", Some(p))
        } else if gas.iter().any(|g| {
            g.token == log.address && g.payer == t.from && g.beneficiary == t.to && g.fee == t.value
        }) {
            ("gas", None)
        } else {
            ("transfer", None)
        };
        let counterparty = if direction == "credit" { t.from } else { t.to };
        out.push(HistoryEntry {
            block: place.block,
            timestamp: place.timestamp,
            tx_hash: place.tx_hash,
            log_index: place.first_log_index + i as u64,
            token: log.address,
            direction: direction.into(),
            kind: kind.into(),
            amount: t.value.to_string(),
            counterparty,
            payment_id: payment.map(|p| p.id),
            end_to_end_id: payment
                .filter(|_| kind != "fee")
                .map(|p| p.endToEndId.clone())
                .unwrap_or_default(),
            remittance: payment
                .filter(|_| kind != "fee")
                .map(|p| p.remittance.clone())
                .unwrap_or_default(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_and_format_in_the_currencys_decimals() {
        assert_eq!(parse_amount("12.34", 2), Ok(U256::from(1_234)));
        assert_eq!(parse_amount("12", 2), Ok(U256::from(1_200)));
        assert_eq!(parse_amount("0.5", 2), Ok(U256::from(50)));
        assert_eq!(parse_amount(".5", 2), Ok(U256::from(50)));
        assert_eq!(parse_amount("7", 0), Ok(U256::from(7)));
        for bad in ["12.345", "-1", "1e3", "", ".", "1.2.3", " 1"] {
            assert!(parse_amount(bad, 2).is_err(), "{bad}");
        }
        assert_eq!(format_amount(U256::from(1_234), 2), "12.34");
        assert_eq!(format_amount(U256::from(5), 2), "0.05");
        assert_eq!(format_amount(U256::from(7), 0), "7");
    }

    #[test]
    fn keys_are_hex_or_the_hash_of_the_text() {
        let hex = B256::repeat_byte(0xab);
        assert_eq!(key_of(&hex.to_string()), hex);
        assert_eq!(key_of("invoice-118"), keccak256(b"invoice-118"));
        assert_ne!(key_of("invoice-118"), key_of("invoice-119"));
    }
}
