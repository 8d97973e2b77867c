//! A plain model ledger, and random operations run against it and against the module: after
//! every operation the result code (and payment id) must agree, and after every block every
//! balance, hold, hold status and supply, and the sum of balances must equal the supply.

use super::*;
use banyan_module_payments::{MAX_LEGS, convert};
use proptest::prelude::*;
use std::collections::BTreeMap;

pub(crate) const ACCOUNTS: [Address; 4] = [ALICE, BOB, CAROL, LP];
const FEE_ACCOUNT: Address = G;
const RATE: u128 = 920_000_000_000_000_000;
const SPREAD_BPS: u128 = 30;
/// The rate posted at the start is valid this long: later FX payments find it stale.
const RATE_VALIDITY: u64 = 600;
const USD_CAP: u128 = 1_000_000_000;

/// One operation, with accounts and currencies as indexes.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Mint {
        cur: usize,
        to: usize,
        amount: u64,
    },
    Burn {
        cur: usize,
        from: usize,
        amount: u64,
    },
    Pay {
        cur: usize,
        from: usize,
        to: usize,
        amount: u64,
        key: Option<u8>,
    },
    Batch {
        from: usize,
        legs: Vec<(usize, usize, u64)>,
        key: Option<u8>,
    },
    Hold {
        cur: usize,
        from: usize,
        to: usize,
        amount: u64,
        timeout: u64,
    },
    Capture {
        pick: usize,
        amount: u64,
        by: usize,
    },
    Void {
        pick: usize,
        by: usize,
    },
    Fx {
        from: usize,
        to: usize,
        amount: u64,
        min_out: u64,
        key: Option<u8>,
    },
    Transfer {
        cur: usize,
        from: usize,
        to: usize,
        amount: u64,
    },
    Approve {
        cur: usize,
        owner: usize,
        spender: usize,
        amount: u64,
    },
    TransferFrom {
        cur: usize,
        spender: usize,
        from: usize,
        to: usize,
        amount: u64,
    },
    Freeze {
        account: usize,
    },
    Unfreeze {
        account: usize,
    },
    NextBlock {
        seconds: u64,
    },
}

/// What an operation returned: a result code (`ok`, `replayed`, `failed_recorded`, or the
/// kind of refusal) and the payment or hold id it returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Res {
    pub(crate) code: &'static str,
    pub(crate) id: u64,
}

fn ok(id: u64) -> Res {
    Res { code: "ok", id }
}

/// The kind of a refusal, from the module's message.
pub(crate) fn classify(message: &str) -> &'static str {
    const KINDS: [(&str, &str); 17] = [
        ("frozen by governance", "frozen"),
        ("already used for a different payment", "key_conflict"),
        ("is stale", "stale_rate"),
        ("slippage", "slippage"),
        ("offers no liquidity", "no_liquidity_offer"),
        ("no liquidity", "no_liquidity"),
        ("is closed", "hold_closed"),
        ("expired at time", "hold_expired"),
        ("cannot be captured from it", "exceeds_hold"),
        ("payee", "not_payee"),
        ("above its cap", "cap_exceeded"),
        ("only currency", "not_issuer"),
        ("allowed", "allowance"),
        ("available", "insufficient_funds"),
        ("must be positive", "zero_amount"),
        ("legs", "batch_size"),
        ("there is no hold", "no_hold"),
    ];
    KINDS
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map_or("other", |(_, kind)| kind)
}

#[derive(Clone, Debug)]
struct MHold {
    cur: usize,
    payer: Address,
    payee: Address,
    amount: u128,
    fee_reserved: u128,
    fee_bps: u128,
    deadline: u64,
    status: u8,
}

/// The model: balances and holds in maps, nothing else.
#[derive(Clone, Debug, Default)]
pub(crate) struct Model {
    fee_bps: u128,
    now: u64,
    rate_until: u64,
    supply: [u128; 2],
    /// (currency, account) → (balance, held).
    balances: BTreeMap<(usize, Address), (u128, u128)>,
    allowances: BTreeMap<(usize, Address, Address), u128>,
    holds: Vec<MHold>,
    frozen: Vec<Address>,
    payments: u64,
    /// (payer, key) → (call data, code, payment id).
    keys: BTreeMap<(Address, u8), (Vec<u8>, &'static str, u64)>,
}

type Step = Result<u64, &'static str>;

impl Model {
    fn bal(&self, cur: usize, a: Address) -> (u128, u128) {
        self.balances.get(&(cur, a)).copied().unwrap_or_default()
    }

    fn check(&self, payer: Option<Address>, payee: Option<Address>) -> Result<(), &'static str> {
        if payer.is_some_and(|p| self.frozen.contains(&p))
            || payee.is_some_and(|p| self.frozen.contains(&p))
        {
            return Err("frozen");
        }
        Ok(())
    }

    fn debit(&mut self, cur: usize, a: Address, amount: u128) -> Result<(), &'static str> {
        let (b, h) = self.bal(cur, a);
        if b - h < amount {
            return Err("insufficient_funds");
        }
        self.balances.insert((cur, a), (b - amount, h));
        Ok(())
    }

    fn credit(&mut self, cur: usize, a: Address, amount: u128) {
        let (b, h) = self.bal(cur, a);
        self.balances.insert((cur, a), (b + amount, h));
    }

    fn fee(&self, amount: u128, bps: u128) -> u128 {
        amount * bps / 10_000
    }

    fn pay_one(&mut self, cur: usize, from: Address, to: Address, amount: u128, bps: u128) -> Step {
        self.check(Some(from), Some(to))?;
        self.debit(cur, from, amount)?;
        self.credit(cur, to, amount);
        let fee = self.fee(amount, bps);
        if fee > 0 {
            self.debit(cur, from, fee)?;
            self.credit(cur, FEE_ACCOUNT, fee);
        }
        self.payments += 1;
        Ok(self.payments)
    }

    /// Runs `f` all or nothing.
    fn atomic(&mut self, f: impl FnOnce(&mut Self) -> Step) -> Step {
        let before = self.clone();
        let result = f(self);
        if result.is_err() {
            *self = before;
        }
        result
    }

    fn keyed(
        &mut self,
        payer: Address,
        key: Option<u8>,
        input: Vec<u8>,
        f: impl FnOnce(&mut Self) -> Step,
    ) -> Res {
        let Some(key) = key else {
            return match self.atomic(f) {
                Ok(id) => ok(id),
                Err(code) => Res { code, id: 0 },
            };
        };
        if let Some((recorded, _, id)) = self.keys.get(&(payer, key)) {
            if *recorded != input {
                return Res {
                    code: "key_conflict",
                    id: 0,
                };
            }
            return Res {
                code: "replayed",
                id: *id,
            };
        }
        let (code, id) = match self.atomic(f) {
            Ok(id) => ("ok", id),
            Err(_) => ("failed_recorded", 0),
        };
        self.keys.insert((payer, key), (input, code, id));
        Res { code, id }
    }

    fn end_block(&mut self) {
        let now = self.now;
        for i in 0..self.holds.len() {
            let h = self.holds[i].clone();
            if h.status == 1 && h.deadline > 0 && h.deadline < now {
                let (b, held) = self.bal(h.cur, h.payer);
                self.balances
                    .insert((h.cur, h.payer), (b, held - h.amount - h.fee_reserved));
                self.holds[i].status = 4;
            }
        }
    }
}

fn key_of(key: Option<u8>) -> B256 {
    key.map_or(B256::ZERO, |k| B256::repeat_byte(k + 1))
}

/// Both ledgers, run side by side.
pub(crate) struct Harness {
    pub(crate) chain: Chain,
    pub(crate) model: Model,
    pub(crate) tokens: [Address; 2],
}

impl Harness {
    /// USD (capped) and EUR, 2 decimals each; a USD→EUR rate valid for [`RATE_VALIDITY`]
    /// seconds; LP offering it at [`SPREAD_BPS`]; Alice allowing the issuer to burn; a fee of
    /// `fee_bps`.
    pub(crate) fn new(fee_bps: u64) -> Self {
        let mut chain = Chain::new();
        let usd = chain.register("USD", 2, USD_CAP as u64);
        let eur = chain.register("EUR", 2, 0);
        if fee_bps > 0 {
            chain.set_fee_bps(fee_bps);
        }
        let now = chain.time;
        chain
            .call(
                G,
                PAYMENTS_ADDRESS,
                IPayments::postRateCall {
                    base: usd,
                    quote: eur,
                    rate: U256::from(RATE),
                    validFrom: now,
                    validUntil: now + RATE_VALIDITY,
                }
                .abi_encode(),
            )
            .unwrap();
        chain
            .call(
                LP,
                PAYMENTS_ADDRESS,
                IPayments::offerLiquidityCall {
                    base: usd,
                    quote: eur,
                    spreadBps: SPREAD_BPS as u16,
                    enabled: true,
                }
                .abi_encode(),
            )
            .unwrap();
        let mut model = Model {
            fee_bps: u128::from(fee_bps),
            now,
            rate_until: now + RATE_VALIDITY,
            ..Model::default()
        };
        for token in [usd, eur] {
            chain
                .call(
                    ALICE,
                    token,
                    IDepositToken::approveCall {
                        spender: G,
                        value: U256::MAX,
                    }
                    .abi_encode(),
                )
                .unwrap();
        }
        for cur in 0..2 {
            model.allowances.insert((cur, ALICE, G), u128::MAX);
        }
        Self {
            chain,
            model,
            tokens: [usd, eur],
        }
    }

    fn module(
        &mut self,
        caller: Address,
        to: Address,
        input: Vec<u8>,
    ) -> Result<Bytes, &'static str> {
        self.chain
            .call(caller, to, input)
            .map_err(|message| classify(&message))
    }

    /// Runs `op` on both; returns (module's, model's) results.
    pub(crate) fn run(&mut self, op: &Op) -> (Res, Res) {
        let [usd, eur] = self.tokens;
        let tok = |cur: usize| self.tokens[cur];
        let acct = |i: usize| ACCOUNTS[i % ACCOUNTS.len()];
        let m = &mut self.model;
        match op.clone() {
            Op::Mint { cur, to, amount } => {
                let (to, amount) = (acct(to), u128::from(amount));
                let input = IPayments::mintCall {
                    token: tok(cur),
                    to,
                    amount: U256::from(amount),
                }
                .abi_encode();
                let expected = m.atomic(|m| {
                    if amount == 0 {
                        return Err("zero_amount");
                    }
                    m.check(None, Some(to))?;
                    if cur == 0 && m.supply[0] + amount > USD_CAP {
                        return Err("cap_exceeded");
                    }
                    m.credit(cur, to, amount);
                    m.supply[cur] += amount;
                    Ok(0)
                });
                let got = self.module(G, PAYMENTS_ADDRESS, input).map(|_| 0);
                (res(got), res(expected))
            }
            Op::Burn { cur, from, amount } => {
                let (from, amount) = (acct(from), u128::from(amount));
                let input = IPayments::burnCall {
                    token: tok(cur),
                    from,
                    amount: U256::from(amount),
                }
                .abi_encode();
                let expected = m.atomic(|m| {
                    if amount == 0 {
                        return Err("zero_amount");
                    }
                    let allowed = m.allowances.get(&(cur, from, G)).copied().unwrap_or(0);
                    if allowed < amount {
                        return Err("allowance");
                    }
                    m.check(Some(from), None)?;
                    m.debit(cur, from, amount)?;
                    m.supply[cur] -= amount;
                    Ok(0)
                });
                let got = self.module(G, PAYMENTS_ADDRESS, input).map(|_| 0);
                (res(got), res(expected))
            }
            Op::Pay {
                cur,
                from,
                to,
                amount,
                key,
            } => {
                let (from, to, amount) = (acct(from), acct(to), u128::from(amount));
                let call = IPayments::payCall {
                    token: tok(cur),
                    to,
                    amount: U256::from(amount),
                    endToEndId: "E2E".into(),
                    remittance: "model".into(),
                    key: key_of(key),
                };
                let input = call.abi_encode();
                let expected = if amount == 0 {
                    Res {
                        code: "zero_amount",
                        id: 0,
                    }
                } else {
                    let bps = m.fee_bps;
                    m.keyed(from, key, input.clone(), |m| {
                        m.pay_one(cur, from, to, amount, bps)
                    })
                };
                let got = self.keyed_result(from, PAYMENTS_ADDRESS, input, key, |out| {
                    IPayments::payCall::abi_decode_returns(out).unwrap()
                });
                (got, expected)
            }
            Op::Batch { from, legs, key } => {
                let from = acct(from);
                let legs: Vec<(usize, Address, u128)> = legs
                    .into_iter()
                    .map(|(c, t, a)| (c, acct(t), u128::from(a)))
                    .collect();
                let call = IPayments::payBatchCall {
                    legs: legs
                        .iter()
                        .map(|(c, t, a)| IPayments::Leg {
                            token: tok(*c),
                            to: *t,
                            amount: U256::from(*a),
                        })
                        .collect(),
                    endToEndId: String::new(),
                    remittance: "batch".into(),
                    key: key_of(key),
                };
                let input = call.abi_encode();
                let expected = if legs.is_empty() || legs.len() > MAX_LEGS {
                    Res {
                        code: "batch_size",
                        id: 0,
                    }
                } else if legs.iter().any(|l| l.2 == 0) {
                    Res {
                        code: "zero_amount",
                        id: 0,
                    }
                } else {
                    let bps = m.fee_bps;
                    m.keyed(from, key, input.clone(), |m| {
                        let mut first = 0;
                        for (i, (c, t, a)) in legs.iter().enumerate() {
                            let id = m.pay_one(*c, from, *t, *a, bps)?;
                            if i == 0 {
                                first = id;
                            }
                        }
                        Ok(first)
                    })
                };
                let got = self.keyed_result(from, PAYMENTS_ADDRESS, input, key, |out| {
                    IPayments::payBatchCall::abi_decode_returns(out).unwrap()
                });
                (got, expected)
            }
            Op::Hold {
                cur,
                from,
                to,
                amount,
                timeout,
            } => {
                let (from, to, amount) = (acct(from), acct(to), u128::from(amount));
                let input = IPayments::placeHoldCall {
                    token: tok(cur),
                    payee: to,
                    amount: U256::from(amount),
                    timeoutSeconds: timeout,
                    remittance: String::new(),
                }
                .abi_encode();
                let expected = m.atomic(|m| {
                    if amount == 0 {
                        return Err("zero_amount");
                    }
                    if from == to {
                        return Err("not_payee");
                    }
                    m.check(Some(from), Some(to))?;
                    let fee = m.fee(amount, m.fee_bps);
                    let (b, h) = m.bal(cur, from);
                    if b - h < amount + fee {
                        return Err("insufficient_funds");
                    }
                    m.balances.insert((cur, from), (b, h + amount + fee));
                    m.holds.push(MHold {
                        cur,
                        payer: from,
                        payee: to,
                        amount,
                        fee_reserved: fee,
                        fee_bps: m.fee_bps,
                        deadline: if timeout == 0 { 0 } else { m.now + timeout },
                        status: 1,
                    });
                    Ok(m.holds.len() as u64)
                });
                let got = self
                    .module(from, PAYMENTS_ADDRESS, input)
                    .map(|out| IPayments::placeHoldCall::abi_decode_returns(&out).unwrap());
                (res(got), res(expected))
            }
            Op::Capture { pick, amount, by } => {
                let id = pick_hold(m, pick);
                let (by, amount) = (acct(by), u128::from(amount));
                let input = IPayments::captureHoldCall {
                    id,
                    amount: U256::from(amount),
                }
                .abi_encode();
                let expected = m.atomic(|m| {
                    let h = open_hold(m, id, by)?;
                    if amount == 0 {
                        return Err("zero_amount");
                    }
                    if amount > h.amount {
                        return Err("exceeds_hold");
                    }
                    let (b, held) = m.bal(h.cur, h.payer);
                    m.balances
                        .insert((h.cur, h.payer), (b, held - h.amount - h.fee_reserved));
                    let payment = m.pay_one(h.cur, h.payer, h.payee, amount, h.fee_bps)?;
                    m.holds[id as usize - 1].status = 2;
                    Ok(payment)
                });
                let got = self
                    .module(by, PAYMENTS_ADDRESS, input)
                    .map(|out| IPayments::captureHoldCall::abi_decode_returns(&out).unwrap());
                (res(got), res(expected))
            }
            Op::Void { pick, by } => {
                let id = pick_hold(m, pick);
                let by = acct(by);
                let input = IPayments::voidHoldCall { id }.abi_encode();
                let expected = m.atomic(|m| {
                    let h = open_hold(m, id, by)?;
                    let (b, held) = m.bal(h.cur, h.payer);
                    m.balances
                        .insert((h.cur, h.payer), (b, held - h.amount - h.fee_reserved));
                    m.holds[id as usize - 1].status = 3;
                    Ok(0)
                });
                let got = self.module(by, PAYMENTS_ADDRESS, input).map(|_| 0);
                (res(got), res(expected))
            }
            Op::Fx {
                from,
                to,
                amount,
                min_out,
                key,
            } => {
                let (from, to, amount) = (acct(from), acct(to), u128::from(amount));
                let call = IPayments::payFxCall {
                    payToken: usd,
                    amountIn: U256::from(amount),
                    receiveToken: eur,
                    minAmountOut: U256::from(min_out),
                    to,
                    provider: LP,
                    endToEndId: String::new(),
                    remittance: "fx".into(),
                    key: key_of(key),
                };
                let input = call.abi_encode();
                let expected = if amount == 0 {
                    Res {
                        code: "zero_amount",
                        id: 0,
                    }
                } else {
                    let bps = m.fee_bps;
                    m.keyed(from, key, input.clone(), |m| {
                        if m.now > m.rate_until {
                            return Err("stale_rate");
                        }
                        let gross = convert(amount, RATE, 2, 2).unwrap();
                        let out = gross - gross * SPREAD_BPS / 10_000;
                        if out == 0 {
                            return Err("other");
                        }
                        if out < u128::from(min_out) {
                            return Err("slippage");
                        }
                        let (b, h) = m.bal(1, LP);
                        if b - h < out {
                            return Err("no_liquidity");
                        }
                        let id = m.pay_one(0, from, LP, amount, bps)?;
                        m.check(Some(LP), Some(to))?;
                        m.debit(1, LP, out)?;
                        m.credit(1, to, out);
                        Ok(id)
                    })
                };
                let got = self.keyed_result(from, PAYMENTS_ADDRESS, input, key, |out| {
                    IPayments::payFxCall::abi_decode_returns(out).unwrap()
                });
                (got, expected)
            }
            Op::Transfer {
                cur,
                from,
                to,
                amount,
            } => {
                let (from, to, amount) = (acct(from), acct(to), u128::from(amount));
                let input = IDepositToken::transferCall {
                    to,
                    value: U256::from(amount),
                }
                .abi_encode();
                let bps = m.fee_bps;
                let expected = m.atomic(|m| {
                    if amount == 0 {
                        return Err("zero_amount");
                    }
                    m.pay_one(cur, from, to, amount, bps).map(|_| 0)
                });
                let got = self.module(from, tok(cur), input).map(|_| 0);
                (res(got), res(expected))
            }
            Op::Approve {
                cur,
                owner,
                spender,
                amount,
            } => {
                let (owner, spender) = (acct(owner), acct(spender));
                let input = IDepositToken::approveCall {
                    spender,
                    value: U256::from(amount),
                }
                .abi_encode();
                m.allowances
                    .insert((cur, owner, spender), u128::from(amount));
                let got = self.module(owner, tok(cur), input).map(|_| 0);
                (res(got), ok(0))
            }
            Op::TransferFrom {
                cur,
                spender,
                from,
                to,
                amount,
            } => {
                let (spender, from, to, amount) =
                    (acct(spender), acct(from), acct(to), u128::from(amount));
                let input = IDepositToken::transferFromCall {
                    from,
                    to,
                    value: U256::from(amount),
                }
                .abi_encode();
                let bps = m.fee_bps;
                let expected = m.atomic(|m| {
                    if amount == 0 {
                        return Err("zero_amount");
                    }
                    let need = amount + m.fee(amount, bps);
                    if from != spender {
                        let allowed = m
                            .allowances
                            .get(&(cur, from, spender))
                            .copied()
                            .unwrap_or(0);
                        if allowed < need {
                            return Err("allowance");
                        }
                        if allowed != u128::MAX {
                            m.allowances.insert((cur, from, spender), allowed - need);
                        }
                    }
                    m.pay_one(cur, from, to, amount, bps).map(|_| 0)
                });
                let got = self.module(spender, tok(cur), input).map(|_| 0);
                (res(got), res(expected))
            }
            Op::Freeze { account } => {
                let a = acct(account);
                if !m.frozen.contains(&a) {
                    m.frozen.push(a);
                    self.chain.freeze(a);
                }
                (ok(0), ok(0))
            }
            Op::Unfreeze { account } => {
                let a = acct(account);
                if m.frozen.contains(&a) {
                    m.frozen.retain(|f| *f != a);
                    self.chain
                        .call(
                            G,
                            GOVERNANCE_ADDRESS,
                            IGovernance::proposeCall {
                                kind: IGovernance::Kind::Unfreeze,
                                payload: a.abi_encode().into(),
                                description: "unfreeze".into(),
                                votingPeriod: 0,
                            }
                            .abi_encode(),
                        )
                        .unwrap();
                }
                (ok(0), ok(0))
            }
            Op::NextBlock { seconds } => {
                m.end_block();
                m.now += seconds;
                self.chain.next_block_after(seconds);
                (ok(0), ok(0))
            }
        }
    }

    /// A keyed call's result as a code: `replayed` when it emitted `PaymentReplayed`,
    /// `failed_recorded` when `PaymentFailed`, else `ok` with the returned id.
    fn keyed_result(
        &mut self,
        from: Address,
        to: Address,
        input: Vec<u8>,
        key: Option<u8>,
        decode: impl Fn(&[u8]) -> u64,
    ) -> Res {
        let logs_before = self.chain.backend.logs.len();
        match self.module(from, to, input) {
            Err(code) => Res { code, id: 0 },
            Ok(out) => {
                let id = decode(&out);
                let logs = &self.chain.backend.logs[logs_before..];
                let has = |sig| logs.iter().any(|l| l.data.topics().first() == Some(&sig));
                let code = if key.is_none() {
                    "ok"
                } else if has(IPayments::PaymentReplayed::SIGNATURE_HASH) {
                    "replayed"
                } else if has(IPayments::PaymentFailed::SIGNATURE_HASH) {
                    "failed_recorded"
                } else {
                    "ok"
                };
                Res { code, id }
            }
        }
    }

    /// Every balance, hold and supply of the module equals the model's, and the balances of
    /// each currency sum to its supply.
    pub(crate) fn compare(&mut self) {
        for (cur, token) in self.tokens.into_iter().enumerate() {
            let mut sum = 0u128;
            for a in ACCOUNTS.into_iter().chain([FEE_ACCOUNT]) {
                let (b, h, _) = self.chain.balance(token, a);
                assert_eq!(
                    (b, h),
                    self.model.bal(cur, a),
                    "currency {cur}, account {a}"
                );
                sum += b;
            }
            let supply = self.chain.supply(token);
            assert_eq!(supply, self.model.supply[cur], "supply of currency {cur}");
            assert_eq!(sum, supply, "balances of currency {cur} sum to its supply");
        }
        for (i, h) in self.model.holds.clone().iter().enumerate() {
            let got = self.chain.hold(i as u64 + 1);
            assert_eq!(u8::from(got.status), h.status, "status of hold {}", i + 1);
        }
    }
}

fn res(step: Result<u64, &'static str>) -> Res {
    match step {
        Ok(id) => ok(id),
        Err(code) => Res { code, id: 0 },
    }
}

fn pick_hold(m: &Model, pick: usize) -> u64 {
    if m.holds.is_empty() {
        1
    } else {
        (pick % m.holds.len()) as u64 + 1
    }
}

fn open_hold(m: &Model, id: u64, by: Address) -> Result<MHold, &'static str> {
    let h = m.holds.get(id as usize - 1).ok_or("no_hold")?.clone();
    if h.payee != by {
        return Err("not_payee");
    }
    if h.status != 1 {
        return Err("hold_closed");
    }
    if h.deadline > 0 && m.now > h.deadline {
        return Err("hold_expired");
    }
    Ok(h)
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let cur = 0..2usize;
    let acct = 0..4usize;
    let amount = prop_oneof![0..3u64, 1..5_000u64, 1..200_000u64];
    let key = proptest::option::weighted(0.4, 0..4u8);
    prop_oneof![
        3 => (cur.clone(), acct.clone(), amount.clone())
            .prop_map(|(cur, to, amount)| Op::Mint { cur, to, amount }),
        1 => (cur.clone(), acct.clone(), amount.clone())
            .prop_map(|(cur, from, amount)| Op::Burn { cur, from, amount }),
        6 => (cur.clone(), acct.clone(), acct.clone(), amount.clone(), key.clone())
            .prop_map(|(cur, from, to, amount, key)| Op::Pay { cur, from, to, amount, key }),
        2 => (acct.clone(), proptest::collection::vec((cur.clone(), acct.clone(), amount.clone()), 0..4), key.clone())
            .prop_map(|(from, legs, key)| Op::Batch { from, legs, key }),
        3 => (cur.clone(), acct.clone(), acct.clone(), amount.clone(), prop_oneof![Just(0u64), 1..30u64])
            .prop_map(|(cur, from, to, amount, timeout)| Op::Hold { cur, from, to, amount, timeout }),
        2 => (any::<usize>(), amount.clone(), acct.clone())
            .prop_map(|(pick, amount, by)| Op::Capture { pick, amount, by }),
        1 => (any::<usize>(), acct.clone()).prop_map(|(pick, by)| Op::Void { pick, by }),
        2 => (acct.clone(), acct.clone(), amount.clone(), 0..10_000u64, key)
            .prop_map(|(from, to, amount, min_out, key)| Op::Fx { from, to, amount, min_out, key }),
        2 => (cur.clone(), acct.clone(), acct.clone(), amount.clone())
            .prop_map(|(cur, from, to, amount)| Op::Transfer { cur, from, to, amount }),
        1 => (cur.clone(), acct.clone(), acct.clone(), amount.clone())
            .prop_map(|(cur, owner, spender, amount)| Op::Approve { cur, owner, spender, amount }),
        2 => (cur, acct.clone(), acct.clone(), acct.clone(), amount)
            .prop_map(|(cur, spender, from, to, amount)| Op::TransferFrom { cur, spender, from, to, amount }),
        1 => (0..3usize).prop_map(|account| Op::Freeze { account }),
        1 => (0..3usize).prop_map(|account| Op::Unfreeze { account }),
        4 => (0..40u64).prop_map(|seconds| Op::NextBlock { seconds }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_agree_with_a_model_ledger(
        fee_bps in prop_oneof![Just(0u64), Just(25u64)],
        ops in proptest::collection::vec(op_strategy(), 150..250),
    ) {
        let mut harness = Harness::new(fee_bps);
        // Money to move from the start.
        for (cur, to) in [(0, 0), (0, 1), (1, 3), (1, 0)] {
            let (got, expected) = harness.run(&Op::Mint { cur, to, amount: 500_000 });
            prop_assert_eq!(got, expected);
        }
        for (step, op) in ops.iter().enumerate() {
            let (got, expected) = harness.run(op);
            prop_assert_eq!(&got, &expected, "step {}: {:?}", step, op);
            if matches!(op, Op::NextBlock { .. }) {
                harness.compare();
            }
        }
        harness.run(&Op::NextBlock { seconds: 1 });
        harness.compare();
    }
}
