//! `banyan currency` and `banyan pay`: deposit tokens of the Payments module. Register, mint,
//! burn and list currencies, post rates and offer liquidity; pay (with remittance information,
//! an end-to-end id and an idempotency key), pay in batches, across currencies, through holds;
//! read balances, an account's history and its statement with running balances. Amounts are
//! written in the currency's units (`12.50`), never in minor units. See
//! `docs/modules/payments.md`.

use alloy_primitives::{Address, B256, U256};
use anyhow::{Context, bail};
use banyan_sdk::payments::{self, Fx, HistoryEntry, IPayments, Memo, PAYMENTS_ADDRESS};
use banyan_sdk::{BlockId, Client};
use serde_json::{Value, json};

use crate::client::{SendOpts, rt};
use crate::evidence_cmd::ReadOpts;

/// What every payment may carry.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct MemoArgs {
    /// ISO 20022 end-to-end id (at most 35 characters).
    #[arg(long = "e2e", default_value = "")]
    end_to_end_id: String,
    /// Remittance information (at most 140 characters).
    #[arg(long, default_value = "")]
    remittance: String,
    /// Idempotency key: a retry with the same key and payment executes once, and reports the
    /// first result. 32 bytes of hex, or any text (an invoice number), which is hashed.
    #[arg(long = "idempotency-key")]
    idempotency_key: Option<String>,
}

impl MemoArgs {
    fn memo(&self) -> Memo {
        Memo {
            end_to_end_id: self.end_to_end_id.clone(),
            remittance: self.remittance.clone(),
            key: self
                .idempotency_key
                .as_deref()
                .map_or(B256::ZERO, payments::key_of),
        }
    }
}

/// `banyan currency …`
#[derive(clap::Subcommand)]
pub(crate) enum CurrencyCmd {
    /// Register a currency (you need the issuer role); prints its token address.
    Register {
        /// ISO 4217 code or a chain-local one (2 to 12 of A-Z, 0-9, '-', '.').
        code: String,
        /// Minor-unit decimals (2 for USD, 0 for JPY), 0 to 18.
        #[arg(long)]
        decimals: u8,
        /// A name wallets show.
        #[arg(long, default_value = "")]
        name: String,
        /// The most that may be in circulation, in the currency's units (none when omitted).
        #[arg(long)]
        cap: Option<String>,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Mint to an account (you are the currency's issuer).
    Mint {
        /// The currency: code or token address.
        currency: String,
        /// The amount, in the currency's units (e.g. 1000.00).
        amount: String,
        /// Who receives it.
        #[arg(long)]
        to: Address,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Burn an account's money (you are the issuer; the account is you or approved you).
    Burn {
        /// The currency: code or token address.
        currency: String,
        /// The amount, in the currency's units.
        amount: String,
        /// Whose money.
        #[arg(long)]
        from: Address,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Require (you are the issuer) that payer and payee of every movement hold a credential of
    /// a schema of the Identity module (KYC); `none` lifts it.
    RequireKyc {
        /// The currency: code or token address.
        currency: String,
        /// The schema's id (`banyan schema list`), or `none`.
        schema: String,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Every registered currency.
    List {
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Post the rate of BASE in QUOTE (you need the rate_provider role).
    Rate {
        /// The currency converted from.
        base: String,
        /// The currency converted to.
        quote: String,
        /// Units of QUOTE per unit of BASE, e.g. 0.92.
        rate: String,
        /// Seconds the rate stays valid from now (at most 86400).
        #[arg(long, default_value_t = 300)]
        valid_for: u64,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Offer (or, with --off, withdraw) to convert BASE into QUOTE from your own balances.
    Liquidity {
        /// The currency received from payers.
        base: String,
        /// The currency paid to payees.
        quote: String,
        /// What you keep of each converted amount, in basis points (0 to 1000).
        #[arg(long, default_value_t = 0)]
        spread_bps: u16,
        /// Withdraw the offer.
        #[arg(long)]
        off: bool,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// `banyan pay …`
#[derive(clap::Subcommand)]
pub(crate) enum PayCmd {
    /// Pay an account.
    Send {
        /// The currency: code or token address.
        currency: String,
        /// The amount, in the currency's units.
        amount: String,
        /// The payee.
        #[arg(long)]
        to: Address,
        #[command(flatten)]
        memo: MemoArgs,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Pay several accounts in one transaction: every leg or none.
    Batch {
        /// A leg, CURRENCY:PAYEE:AMOUNT (repeat; at most 64).
        #[arg(long = "leg", required = true)]
        legs: Vec<String>,
        #[command(flatten)]
        memo: MemoArgs,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Pay in one currency so that the payee receives another, through a liquidity provider.
    Fx {
        /// The currency you pay.
        pay_currency: String,
        /// What you pay, in its units.
        amount: String,
        /// The currency the payee receives.
        receive_currency: String,
        /// The least the payee must receive, in its units (the payment fails whole below it).
        #[arg(long)]
        min_out: String,
        /// The payee.
        #[arg(long)]
        to: Address,
        /// The liquidity provider.
        #[arg(long)]
        provider: Address,
        #[command(flatten)]
        memo: MemoArgs,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Hold money for a payee, who captures or voids it.
    Hold {
        /// The currency.
        currency: String,
        /// The amount, in its units.
        amount: String,
        /// The payee.
        #[arg(long)]
        to: Address,
        /// Seconds after which the hold voids itself (none when omitted).
        #[arg(long, default_value_t = 0)]
        timeout: u64,
        /// Remittance information (at most 140 characters).
        #[arg(long, default_value = "")]
        remittance: String,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Capture all or part of a hold (you are its payee); the rest is released.
    Capture {
        /// The hold's id.
        id: u64,
        /// The amount, in the hold's currency units (all of it when omitted).
        amount: Option<String>,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Pay the gas of your transactions in a currency, at the rate the committee set for it
    /// (`banyan gov propose set-gas-rate`), instead of the native coin; `native` goes back.
    /// This transaction already pays its gas in the new currency.
    GasCurrency {
        /// The currency (code or token address), or `native`.
        currency: String,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Release a hold (you are its payee).
    Void {
        /// The hold's id.
        id: u64,
        #[command(flatten)]
        send: SendOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// An account's balance, the part on hold and what it may spend.
    Balance {
        /// The currency.
        currency: String,
        /// The account.
        account: Address,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// What an idempotency key of a payer recorded.
    Key {
        /// The payer.
        payer: Address,
        /// The key, as given to --idempotency-key.
        key: String,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// An account's movements of money, oldest first.
    History {
        /// The account.
        account: Address,
        /// Only this currency.
        #[arg(long)]
        currency: Option<String>,
        /// First block (default: genesis).
        #[arg(long)]
        from_block: Option<u64>,
        /// Last block (default: the head).
        #[arg(long)]
        to_block: Option<u64>,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// An account's statement for one currency and period: opening balance, every movement
    /// with the running balance, closing balance (checked against the chain's).
    Statement {
        /// The account.
        account: Address,
        /// The currency.
        #[arg(long)]
        currency: String,
        /// First block (default: genesis).
        #[arg(long, default_value_t = 0)]
        from_block: u64,
        /// Last block (default: the head).
        #[arg(long)]
        to_block: Option<u64>,
        /// `csv` (RFC 4180) or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Node JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8545", env = "BANYAN_RPC")]
        rpc: String,
    },
}

async fn head(client: &Client) -> anyhow::Result<BlockId> {
    Ok(BlockId::Number(client.block_number().await?))
}

/// The token and decimals of a currency given by code or address.
async fn currency_of(client: &Client, currency: &str) -> anyhow::Result<(Address, u8, String)> {
    let at = head(client).await?;
    let token = payments::resolve(client, currency, at).await?;
    let c = payments::currency(client, token, at).await?;
    Ok((token, c.decimals, c.code))
}

fn amount(text: &str, decimals: u8) -> anyhow::Result<U256> {
    payments::parse_amount(text, decimals).map_err(anyhow::Error::msg)
}

/// The rate `text` (e.g. `0.92`) scaled by 10^18.
fn rate(text: &str) -> anyhow::Result<U256> {
    payments::parse_amount(text, 18)
        .map_err(|_| anyhow::anyhow!("{text:?} is not a rate with at most 18 decimals, e.g. 0.92"))
}

/// Submits a call of the Payments module and reports what its events say. A keyed payment
/// that failed is an error (its transaction succeeded: the failure is recorded under the key).
async fn submit(send: &SendOpts, data: alloy_primitives::Bytes, json: bool) -> anyhow::Result<()> {
    let sent = send
        .submit(Some(PAYMENTS_ADDRESS), U256::ZERO, data)
        .await?;
    let reported = sent
        .receipt
        .as_ref()
        .map(payments::reported)
        .unwrap_or_default();
    let extra = serde_json::to_value(&reported)?;
    sent.report_with(json, Some(("payment", extra)), || print_reported(&reported))?;
    if let Some(reason) = &reported.failed {
        bail!("the payment failed, and its key records the failure: {reason}");
    }
    Ok(())
}

fn print_reported(r: &payments::Reported) {
    if let Some(id) = r.payment_id {
        let replayed = if r.replayed {
            " (a replay: nothing moved again)"
        } else {
            ""
        };
        println!("payment     {id}{replayed}");
    }
    if let Some(id) = r.hold_id {
        println!("hold        {id}");
    }
    if let Some(token) = r.token {
        println!("token       {token}");
    }
    if let Some(gas) = &r.gas_paid {
        println!(
            "gas paid    {} minor units of {} for {} gas",
            gas.fee, gas.token, gas.gas_used
        );
    }
}

pub(crate) fn run_currency(cmd: CurrencyCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            CurrencyCmd::Register {
                code,
                decimals,
                name,
                cap,
                send,
                json,
            } => {
                let cap = match cap {
                    Some(cap) => amount(&cap, decimals)?,
                    None => U256::ZERO,
                };
                let sent = send
                    .submit(
                        Some(PAYMENTS_ADDRESS),
                        U256::ZERO,
                        payments::register_call(&code, &name, decimals, cap),
                    )
                    .await?;
                let token = sent
                    .receipt
                    .as_ref()
                    .and_then(|r| payments::reported(r).token);
                sent.report_with(json, Some(("token", json!(token))), || {
                    if let Some(token) = token {
                        println!("token       {token} ({code}, {decimals} decimals)");
                    }
                })
            }
            CurrencyCmd::Mint {
                currency,
                amount: text,
                to,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let (token, decimals, _) = currency_of(&client, &currency).await?;
                let data = payments::mint_call(token, to, amount(&text, decimals)?);
                submit(&send, data, json).await
            }
            CurrencyCmd::Burn {
                currency,
                amount: text,
                from,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let (token, decimals, _) = currency_of(&client, &currency).await?;
                let data = payments::burn_call(token, from, amount(&text, decimals)?);
                submit(&send, data, json).await
            }
            CurrencyCmd::RequireKyc {
                currency,
                schema,
                send,
                json,
            } => {
                let schema = if schema == "none" {
                    alloy_primitives::B256::ZERO
                } else {
                    schema.parse().map_err(|_| {
                        anyhow::anyhow!("{schema:?} is neither a 32-byte schema id nor none")
                    })?
                };
                let client = Client::connect(&send.rpc).await?;
                let (token, _, _) = currency_of(&client, &currency).await?;
                let data = payments::kyc_requirement_call(token, schema);
                submit(&send, data, json).await
            }
            CurrencyCmd::List { read } => {
                let client = Client::connect(&read.rpc).await?;
                let list = payments::currencies(&client, head(&client).await?).await?;
                if read.json {
                    let rows: Vec<Value> = list
                        .iter()
                        .map(|c| {
                            json!({"token": c.token, "code": c.code, "name": c.name,
                                   "decimals": c.decimals, "issuer": c.issuer,
                                   "supply": c.supply.to_string(), "cap": c.cap.to_string(),
                                   "feeAccount": c.feeAccount})
                        })
                        .collect();
                    println!("{}", Value::Array(rows));
                } else if list.is_empty() {
                    println!("no currency is registered; an issuer registers one with: banyan currency register USD --decimals 2");
                } else {
                    println!("{:<12} {:<42} {:>8} {:>22}  issuer", "code", "token", "decimals", "supply");
                    for c in list {
                        println!(
                            "{:<12} {:<42} {:>8} {:>22}  {}",
                            c.code,
                            c.token.to_string(),
                            c.decimals,
                            payments::format_amount(c.supply, c.decimals),
                            c.issuer
                        );
                    }
                }
                Ok(())
            }
            CurrencyCmd::Rate {
                base,
                quote,
                rate: text,
                valid_for,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let (base, _, _) = currency_of(&client, &base).await?;
                let (quote, _, _) = currency_of(&client, &quote).await?;
                let now = client
                    .header(head(&client).await?)
                    .await?
                    .context("the node has no head block")?
                    .timestamp;
                let data = payments::post_rate_call(base, quote, rate(&text)?, now, now + valid_for);
                submit(&send, data, json).await
            }
            CurrencyCmd::Liquidity {
                base,
                quote,
                spread_bps,
                off,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let (base, _, _) = currency_of(&client, &base).await?;
                let (quote, _, _) = currency_of(&client, &quote).await?;
                let data = payments::offer_liquidity_call(base, quote, spread_bps, !off);
                submit(&send, data, json).await
            }
        }
    })
}

pub(crate) fn run_pay(cmd: PayCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            PayCmd::Send {
                currency,
                amount: text,
                to,
                memo,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let (token, decimals, _) = currency_of(&client, &currency).await?;
                let data = payments::pay_call(token, to, amount(&text, decimals)?, &memo.memo());
                submit(&send, data, json).await
            }
            PayCmd::Batch {
                legs,
                memo,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let mut parsed = Vec::with_capacity(legs.len());
                for leg in &legs {
                    let mut parts = leg.splitn(3, ':');
                    let (Some(currency), Some(to), Some(text)) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        bail!(
                            "leg {leg:?}: write it as CURRENCY:PAYEE:AMOUNT, e.g. USD:0xabc…:12.50"
                        );
                    };
                    let (token, decimals, _) = currency_of(&client, currency).await?;
                    let to: Address = to
                        .parse()
                        .with_context(|| format!("leg {leg:?}: payee {to:?} is not an address"))?;
                    parsed.push((token, to, amount(text, decimals)?));
                }
                submit(&send, payments::batch_call(&parsed, &memo.memo()), json).await
            }
            PayCmd::Fx {
                pay_currency,
                amount: text,
                receive_currency,
                min_out,
                to,
                provider,
                memo,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let (pay_token, pay_decimals, _) = currency_of(&client, &pay_currency).await?;
                let (receive_token, receive_decimals, _) =
                    currency_of(&client, &receive_currency).await?;
                let fx = Fx {
                    pay_token,
                    amount_in: amount(&text, pay_decimals)?,
                    receive_token,
                    min_amount_out: amount(&min_out, receive_decimals)?,
                    to,
                    provider,
                };
                submit(&send, payments::fx_call(&fx, &memo.memo()), json).await
            }
            PayCmd::Hold {
                currency,
                amount: text,
                to,
                timeout,
                remittance,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let (token, decimals, _) = currency_of(&client, &currency).await?;
                let data =
                    payments::hold_call(token, to, amount(&text, decimals)?, timeout, &remittance);
                submit(&send, data, json).await
            }
            PayCmd::Capture {
                id,
                amount: text,
                send,
                json,
            } => {
                let client = Client::connect(&send.rpc).await?;
                let at = head(&client).await?;
                let hold = payments::hold(&client, id, at).await?;
                let value = match text {
                    Some(text) => {
                        let c = payments::currency(&client, hold.token, at).await?;
                        amount(&text, c.decimals)?
                    }
                    None => hold.amount,
                };
                submit(&send, payments::capture_call(id, value), json).await
            }
            PayCmd::Void { id, send, json } => submit(&send, payments::void_call(id), json).await,
            PayCmd::GasCurrency {
                currency,
                send,
                json,
            } => {
                let token = if currency.eq_ignore_ascii_case("native") {
                    Address::ZERO
                } else {
                    let client = Client::connect(&send.rpc).await?;
                    currency_of(&client, &currency).await?.0
                };
                submit(&send, payments::set_gas_currency_call(token), json).await
            }
            PayCmd::Balance {
                currency,
                account,
                read,
            } => {
                let client = Client::connect(&read.rpc).await?;
                let (token, decimals, code) = currency_of(&client, &currency).await?;
                let b = payments::balance(&client, token, account, head(&client).await?).await?;
                let f = |v| payments::format_amount(v, decimals);
                if read.json {
                    println!(
                        "{}",
                        json!({"account": account, "token": token, "code": code,
                               "decimals": decimals, "balance": f(b.balance),
                               "held": f(b.held), "available": f(b.available)})
                    );
                } else {
                    println!("balance     {} {code}", f(b.balance));
                    println!("held        {} {code}", f(b.held));
                    println!("available   {} {code}", f(b.available));
                }
                Ok(())
            }
            PayCmd::Key { payer, key, read } => {
                let client = Client::connect(&read.rpc).await?;
                let r = payments::payment_by_key(
                    &client,
                    payer,
                    payments::key_of(&key),
                    head(&client).await?,
                )
                .await?;
                let outcome = match r.outcome {
                    IPayments::Outcome::Executed => "executed",
                    IPayments::Outcome::Failed => "failed",
                    _ => "unknown",
                };
                if read.json {
                    println!(
                        "{}",
                        json!({"payer": payer, "outcome": outcome, "paymentId": r.payment,
                               "block": r.blockNumber, "expiresAt": r.expiresAt,
                               "reason": r.reason})
                    );
                } else if outcome == "unknown" {
                    println!(
                        "no payment of {payer} is recorded under this key (or its retention ended)"
                    );
                } else {
                    println!("outcome     {outcome}");
                    println!("payment     {}", r.payment);
                    println!("block       {}", r.blockNumber);
                    println!("kept until  {}", r.expiresAt);
                    if !r.reason.is_empty() {
                        println!("reason      {}", r.reason);
                    }
                }
                Ok(())
            }
            PayCmd::History {
                account,
                currency,
                from_block,
                to_block,
                read,
            } => {
                let client = Client::connect(&read.rpc).await?;
                let entries =
                    history(&client, account, currency.as_deref(), from_block, to_block).await?;
                if read.json {
                    println!("{}", serde_json::to_string(&entries)?);
                } else if entries.is_empty() {
                    println!("no movement of {account}'s money in that range");
                } else {
                    for e in &entries {
                        println!(
                            "block {:<8} {:<7} {:<8} {:>20}  {}  {}",
                            e.block, e.direction, e.kind, e.amount, e.counterparty, e.remittance
                        );
                    }
                }
                Ok(())
            }
            PayCmd::Statement {
                account,
                currency,
                from_block,
                to_block,
                format,
                rpc,
            } => statement(&rpc, account, &currency, from_block, to_block, &format).await,
        }
    })
}

/// Every history entry of `account` in the range, page after page.
async fn history(
    client: &Client,
    account: Address,
    currency: Option<&str>,
    from_block: Option<u64>,
    to_block: Option<u64>,
) -> anyhow::Result<Vec<HistoryEntry>> {
    let mut query = json!({"account": account, "limit": 1000});
    if let Some(c) = currency {
        query["currency"] = json!(c);
    }
    if let Some(n) = from_block {
        query["fromBlock"] = json!(format!("0x{n:x}"));
    }
    if let Some(n) = to_block {
        query["toBlock"] = json!(format!("0x{n:x}"));
    }
    let mut out = Vec::new();
    loop {
        let page: Value = client
            .request("banyan_paymentsHistory", vec![query.clone()])
            .await?;
        let entries: Vec<HistoryEntry> = serde_json::from_value(page["entries"].clone())
            .context("banyan_paymentsHistory answered entries this client cannot read")?;
        out.extend(entries);
        match &page["next"] {
            Value::Null => return Ok(out),
            next => query["after"] = next.clone(),
        }
    }
}

async fn statement(
    rpc: &str,
    account: Address,
    currency: &str,
    from_block: u64,
    to_block: Option<u64>,
    format: &str,
) -> anyhow::Result<()> {
    if format != "csv" && format != "json" {
        bail!("--format must be csv or json, got {format:?}");
    }
    let client = Client::connect(rpc).await?;
    let (token, decimals, code) = currency_of(&client, currency).await?;
    let head_number = client.block_number().await?;
    let to_block = to_block.unwrap_or(head_number).min(head_number);
    if from_block > to_block {
        bail!("--from-block {from_block} is after the last block {to_block}");
    }
    let opening = if from_block == 0 {
        U256::ZERO
    } else {
        payments::balance(&client, token, account, BlockId::Number(from_block - 1))
            .await?
            .balance
    };
    let entries = history(
        &client,
        account,
        Some(&token.to_string()),
        Some(from_block),
        Some(to_block),
    )
    .await?;
    let mut running = opening;
    let mut rows = Vec::with_capacity(entries.len());
    for e in &entries {
        let value = U256::from_str_radix(&e.amount, 10)
            .with_context(|| format!("amount {:?} of an entry", e.amount))?;
        running = if e.direction == "credit" {
            running + value
        } else {
            running.checked_sub(value).context(
                "the statement went below zero: the node's history is incomplete for this range",
            )?
        };
        rows.push((e, value, running));
    }
    let closing = payments::balance(&client, token, account, BlockId::Number(to_block))
        .await?
        .balance;
    if closing != running {
        bail!(
            "the statement does not reconcile: the movements give {} but the chain's balance at \
             block {to_block} is {}",
            payments::format_amount(running, decimals),
            payments::format_amount(closing, decimals)
        );
    }
    let f = |v| payments::format_amount(v, decimals);
    if format == "json" {
        let lines: Vec<Value> = rows
            .iter()
            .map(|(e, value, balance)| {
                json!({"block": e.block, "timestamp": e.timestamp, "transaction": e.tx_hash,
                       "direction": e.direction, "kind": e.kind, "amount": f(*value),
                       "counterparty": e.counterparty, "paymentId": e.payment_id,
                       "endToEndId": e.end_to_end_id, "remittance": e.remittance,
                       "balance": f(*balance)})
            })
            .collect();
        println!(
            "{}",
            json!({"account": account, "currency": code, "token": token,
                   "fromBlock": from_block, "toBlock": to_block,
                   "opening": f(opening), "closing": f(closing), "entries": lines})
        );
        return Ok(());
    }
    println!(
        "block,timestamp,transaction,direction,kind,amount,counterparty,payment_id,end_to_end_id,remittance,balance"
    );
    println!(",,,opening,,,,,,,{}", f(opening));
    for (e, value, balance) in rows {
        let fields = [
            e.block.to_string(),
            e.timestamp.to_string(),
            e.tx_hash.to_string(),
            e.direction.clone(),
            e.kind.clone(),
            f(value),
            e.counterparty.to_string(),
            e.payment_id.map(|id| id.to_string()).unwrap_or_default(),
            e.end_to_end_id.clone(),
            e.remittance.clone(),
            f(balance),
        ];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        println!("{}", line.join(","));
    }
    println!(",,,closing,,,,,,,{}", f(closing));
    Ok(())
}

/// One RFC 4180 field: quoted when it holds a comma, a quote or a line break.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
