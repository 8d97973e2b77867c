//! Payments on an in-memory state with Governance beside it, block by block as the executor
//! runs them (each block's calls, then the block-end hook): currencies and their ERC-20 face,
//! idempotent and batch payments, holds and their expiry, cross-currency payments, fees, the
//! freeze on every path, and conservation. `table.rs` holds the result codes of each path;
//! `model.rs` runs random operations against a plain model ledger.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod model;
mod table;

use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use banyan_module_api::{
    GenesisContext, GenesisValidatorInfo, MemoryBackend, ModuleCallContext, ModuleError,
    ModuleRegistry, ModuleState, NativeModule, decode_revert_reason,
};
use banyan_module_governance::{GOVERNANCE_ADDRESS, Governance, GovernanceParams, IGovernance};
use banyan_module_payments::{
    IDepositToken, IPayments, KEY_RETENTION_SECONDS, PAYMENTS_ADDRESS, Payments, token_address,
};
use std::sync::Arc;

/// The governor: holds every role (issuer, rate provider, ...).
const G: Address = address!("a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0");
const ALICE: Address = address!("a11ce00000000000000000000000000000000001");
const BOB: Address = address!("b0b0000000000000000000000000000000000002");
const CAROL: Address = address!("ca20100000000000000000000000000000000003");
/// A liquidity provider.
const LP: Address = address!("1e9d000000000000000000000000000000000004");

const START_TIME: u64 = 1_800_000_000;

pub(crate) struct Chain {
    pub(crate) backend: MemoryBackend,
    registry: ModuleRegistry,
    pub(crate) block: u64,
    pub(crate) time: u64,
    /// Logs of the current block's calls and hooks so far.
    pub(crate) logs_from: usize,
}

pub(crate) fn reason(error: ModuleError) -> String {
    match error {
        ModuleError::Revert(data) => decode_revert_reason(&data).unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

impl Chain {
    /// Governance with `G` as the one governor holding every role, and Payments.
    pub(crate) fn new() -> Self {
        let mut registry = ModuleRegistry::new();
        registry.register(Arc::new(Governance)).unwrap();
        registry.register(Arc::new(Payments)).unwrap();
        let suite = banyan_crypto::Suite::Ecdsa;
        let secret = suite.secret_key_from_bytes(&[9; 32]).unwrap();
        let public = suite.public_key(&secret).unwrap();
        let chain = GenesisContext {
            suite,
            validators: vec![GenesisValidatorInfo {
                address: suite.address(&public),
                public_key: public.to_bytes().to_vec().into(),
                power: 1,
            }],
        };
        let mut backend = MemoryBackend::default();
        {
            let params = GovernanceParams::equal(&[G]).with_every_role(G);
            let mut state =
                ModuleState::new(&mut backend, &registry, GOVERNANCE_ADDRESS, false, u64::MAX);
            Governance
                .genesis(&params.to_json(), &chain, &mut state)
                .unwrap();
        }
        Self {
            backend,
            registry,
            block: 1,
            time: START_TIME,
            logs_from: 0,
        }
    }

    fn ctx(&self, address: Address, caller: Address, is_static: bool) -> ModuleCallContext {
        ModuleCallContext {
            timestamp: self.time,
            ..ModuleCallContext::for_test(address, caller, self.block, is_static)
        }
    }

    /// One transaction's call of `to` (Payments, a token, or Governance) by `caller`, in the
    /// current block.
    pub(crate) fn call(
        &mut self,
        caller: Address,
        to: Address,
        input: Vec<u8>,
    ) -> Result<Bytes, String> {
        let module: &dyn NativeModule = if to == GOVERNANCE_ADDRESS {
            &Governance
        } else {
            &Payments
        };
        let ctx = self.ctx(to, caller, false);
        self.backend
            .call(&self.registry, module, &ctx, &input, 30_000_000)
            .0
            .map_err(reason)
    }

    /// A read-only call.
    pub(crate) fn view(&mut self, to: Address, input: Vec<u8>) -> Bytes {
        let ctx = self.ctx(to, ALICE, true);
        self.backend
            .call(&self.registry, &Payments, &ctx, &input, 30_000_000)
            .0
            .map_err(reason)
            .unwrap()
    }

    /// Screens a transaction from `sender` to `to` as the pool does.
    pub(crate) fn screen(
        &mut self,
        sender: Address,
        to: Address,
        input: &[u8],
    ) -> Result<(), String> {
        let tx = banyan_module_api::ScreenedTx {
            sender,
            to: Some(to),
            value: U256::ZERO,
            input,
            block_number: self.block,
            timestamp: self.time,
        };
        let mut state = ModuleState::new(
            &mut self.backend,
            &self.registry,
            PAYMENTS_ADDRESS,
            true,
            banyan_module_api::gas::SCREEN,
        );
        Payments.screen(&tx, &mut state).map_err(reason)
    }

    /// Ends the block (the hook runs at its time), and starts the next one `seconds` later.
    pub(crate) fn next_block_after(&mut self, seconds: u64) {
        let ctx = self.ctx(PAYMENTS_ADDRESS, Address::ZERO, false);
        self.backend
            .end_block(&self.registry, &Payments, &ctx)
            .map_err(reason)
            .unwrap();
        self.block += 1;
        self.time += seconds;
        self.logs_from = self.backend.logs.len();
    }

    pub(crate) fn next_block(&mut self) {
        self.next_block_after(1);
    }

    pub(crate) fn pay(&mut self, call: IPayments::payCall) -> Result<u64, String> {
        self.pay_as(ALICE, call)
    }

    pub(crate) fn pay_as(
        &mut self,
        from: Address,
        call: IPayments::payCall,
    ) -> Result<u64, String> {
        let out = self.call(from, PAYMENTS_ADDRESS, call.abi_encode())?;
        Ok(IPayments::payCall::abi_decode_returns(&out).unwrap())
    }

    pub(crate) fn register(&mut self, code: &str, decimals: u8, cap: u64) -> Address {
        let out = self
            .call(
                G,
                PAYMENTS_ADDRESS,
                IPayments::registerCurrencyCall {
                    code: code.into(),
                    name: format!("{code} deposit token"),
                    decimals,
                    cap: U256::from(cap),
                }
                .abi_encode(),
            )
            .unwrap();
        IPayments::registerCurrencyCall::abi_decode_returns(&out).unwrap()
    }

    pub(crate) fn mint(&mut self, token: Address, to: Address, amount: u64) -> Result<(), String> {
        self.call(
            G,
            PAYMENTS_ADDRESS,
            IPayments::mintCall {
                token,
                to,
                amount: U256::from(amount),
            }
            .abi_encode(),
        )
        .map(drop)
    }

    /// (balance, held, available).
    pub(crate) fn balance(&mut self, token: Address, account: Address) -> (u128, u128, u128) {
        let out = self.view(
            PAYMENTS_ADDRESS,
            IPayments::balanceOfCall { token, account }.abi_encode(),
        );
        let r = IPayments::balanceOfCall::abi_decode_returns(&out).unwrap();
        (r.balance.to(), r.held.to(), r.available.to())
    }

    pub(crate) fn supply(&mut self, token: Address) -> u128 {
        let out = self.view(token, IDepositToken::totalSupplyCall {}.abi_encode());
        IDepositToken::totalSupplyCall::abi_decode_returns(&out)
            .unwrap()
            .to()
    }

    pub(crate) fn hold(&mut self, id: u64) -> IPayments::Hold {
        let out = self.view(PAYMENTS_ADDRESS, IPayments::getHoldCall { id }.abi_encode());
        IPayments::getHoldCall::abi_decode_returns(&out).unwrap()
    }

    /// Sets the chain's payment fee by a proposal that passes at once.
    pub(crate) fn set_fee_bps(&mut self, bps: u64) {
        let payload = IGovernance::ParameterChange {
            parameter: IGovernance::Parameter::PaymentFeeBps,
            value: bps,
        }
        .abi_encode();
        self.call(
            G,
            GOVERNANCE_ADDRESS,
            IGovernance::proposeCall {
                kind: IGovernance::Kind::SetChainParameter,
                payload: payload.into(),
                description: "fee".into(),
                votingPeriod: 0,
            }
            .abi_encode(),
        )
        .unwrap();
    }

    /// Freezes `account` by a proposal that passes at once.
    pub(crate) fn freeze(&mut self, account: Address) {
        self.call(
            G,
            GOVERNANCE_ADDRESS,
            IGovernance::proposeCall {
                kind: IGovernance::Kind::Freeze,
                payload: account.abi_encode().into(),
                description: "freeze".into(),
                votingPeriod: 0,
            }
            .abi_encode(),
        )
        .unwrap();
    }

    /// Events `E` emitted from `address` in the current block so far.
    pub(crate) fn events<E: SolEvent>(&self, address: Address) -> Vec<E> {
        self.backend.logs[self.logs_from..]
            .iter()
            .filter(|log| log.address == address)
            .filter_map(|log| E::decode_log_data(&log.data).ok())
            .collect()
    }
}

pub(crate) fn pay_call(token: Address, to: Address, amount: u64, key: B256) -> IPayments::payCall {
    IPayments::payCall {
        token,
        to,
        amount: U256::from(amount),
        endToEndId: "E2E-1".into(),
        remittance: "invoice 2026-118".into(),
        key,
    }
}

/// USD (2 decimals) with 1,000.00 minted to Alice.
pub(crate) fn chain_with_usd() -> (Chain, Address) {
    let mut chain = Chain::new();
    let usd = chain.register("USD", 2, 0);
    chain.mint(usd, ALICE, 100_000).unwrap();
    (chain, usd)
}

#[test]
fn a_currency_answers_erc20_at_its_own_address_with_one_decimals_value() {
    let (mut chain, usd) = chain_with_usd();
    chain.next_block();
    assert_eq!(usd, token_address(1));
    let decimals = IDepositToken::decimalsCall::abi_decode_returns(
        &chain.view(usd, IDepositToken::decimalsCall {}.abi_encode()),
    )
    .unwrap();
    let info = IPayments::currencyCall::abi_decode_returns(&chain.view(
        PAYMENTS_ADDRESS,
        IPayments::currencyCall { token: usd }.abi_encode(),
    ))
    .unwrap();
    assert_eq!((decimals, info.decimals), (2, 2));
    let symbol = IDepositToken::symbolCall::abi_decode_returns(
        &chain.view(usd, IDepositToken::symbolCall {}.abi_encode()),
    )
    .unwrap();
    assert_eq!(symbol, "USD");
    assert!(
        chain.backend.accounts[&usd].has_code,
        "the token account carries code, so extcodesize and eth_getCode see a contract"
    );

    // transfer, approve and transferFrom, with Transfer events from the token's address.
    chain
        .call(
            ALICE,
            usd,
            IDepositToken::transferCall {
                to: BOB,
                value: U256::from(2_500),
            }
            .abi_encode(),
        )
        .unwrap();
    let transfers = chain.events::<IDepositToken::Transfer>(usd);
    assert_eq!(transfers.len(), 1);
    assert_eq!(
        (transfers[0].from, transfers[0].to, transfers[0].value),
        (ALICE, BOB, U256::from(2_500))
    );
    chain
        .call(
            BOB,
            usd,
            IDepositToken::approveCall {
                spender: CAROL,
                value: U256::from(1_000),
            }
            .abi_encode(),
        )
        .unwrap();
    let over = chain
        .call(
            CAROL,
            usd,
            IDepositToken::transferFromCall {
                from: BOB,
                to: CAROL,
                value: U256::from(1_001),
            }
            .abi_encode(),
        )
        .unwrap_err();
    assert!(over.contains("allowed"), "{over}");
    chain
        .call(
            CAROL,
            usd,
            IDepositToken::transferFromCall {
                from: BOB,
                to: CAROL,
                value: U256::from(1_000),
            }
            .abi_encode(),
        )
        .unwrap();
    assert_eq!(chain.balance(usd, BOB).0, 1_500);
    assert_eq!(chain.balance(usd, CAROL).0, 1_000);
    let allowance = IDepositToken::allowanceCall::abi_decode_returns(
        &chain.view(
            usd,
            IDepositToken::allowanceCall {
                owner: BOB,
                spender: CAROL,
            }
            .abi_encode(),
        ),
    )
    .unwrap();
    assert_eq!(allowance, U256::ZERO);
    assert_eq!(chain.supply(usd), 100_000);
}

#[test]
fn the_same_key_and_payment_executes_once_and_a_different_payment_is_refused() {
    let (mut chain, usd) = chain_with_usd();
    let key = B256::repeat_byte(7);
    let first = chain.pay(pay_call(usd, BOB, 1_000, key)).unwrap();
    chain.next_block();
    let again = chain.pay(pay_call(usd, BOB, 1_000, key)).unwrap();
    assert_eq!(first, again, "the retry returns the first payment's id");
    let replays = chain.events::<IPayments::PaymentReplayed>(PAYMENTS_ADDRESS);
    assert_eq!(replays.len(), 1);
    assert_eq!(replays[0].payment, first);
    assert_eq!(chain.balance(usd, BOB).0, 1_000, "paid once");

    let other = chain.pay(pay_call(usd, BOB, 1_001, key)).unwrap_err();
    assert!(
        other.contains("already used for a different payment"),
        "{other}"
    );
    // Another payer's same key is its own.
    chain.mint(usd, CAROL, 5_000).unwrap();
    chain.pay_as(CAROL, pay_call(usd, BOB, 1_001, key)).unwrap();
    assert_eq!(chain.balance(usd, BOB).0, 2_001);
}

#[test]
fn a_keyed_payment_that_failed_stays_failed_and_the_key_is_forgotten_after_its_window() {
    let (mut chain, usd) = chain_with_usd();
    let key = B256::repeat_byte(9);
    // More than Alice has: the keyed payment does not revert, it records the failure.
    let id = chain.pay(pay_call(usd, BOB, 200_000, key)).unwrap();
    assert_eq!(id, 0);
    let failed = chain.events::<IPayments::PaymentFailed>(PAYMENTS_ADDRESS);
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].reason.contains("available"),
        "{}",
        failed[0].reason
    );
    chain.next_block();
    // Alice now has the money, but the same payment under the same key stays failed.
    chain.mint(usd, ALICE, 200_000).unwrap();
    assert_eq!(chain.pay(pay_call(usd, BOB, 200_000, key)).unwrap(), 0);
    let replay = chain.events::<IPayments::PaymentReplayed>(PAYMENTS_ADDRESS);
    assert_eq!(replay[0].outcome, IPayments::Outcome::Failed);
    assert_eq!(chain.balance(usd, BOB).0, 0);
    let record = IPayments::paymentByKeyCall::abi_decode_returns(&chain.view(
        PAYMENTS_ADDRESS,
        IPayments::paymentByKeyCall { payer: ALICE, key }.abi_encode(),
    ))
    .unwrap();
    assert_eq!(record.outcome, IPayments::Outcome::Failed);
    assert!(record.reason.contains("available"));

    // Past the retention window (and its minute bucket) the record is deleted by the
    // block-end hook, and the key may be used again.
    chain.next_block_after(KEY_RETENTION_SECONDS + 120);
    chain.next_block();
    let record = IPayments::paymentByKeyCall::abi_decode_returns(&chain.view(
        PAYMENTS_ADDRESS,
        IPayments::paymentByKeyCall { payer: ALICE, key }.abi_encode(),
    ))
    .unwrap();
    assert_eq!(record.outcome, IPayments::Outcome::None);
    let id = chain.pay(pay_call(usd, BOB, 200_000, key)).unwrap();
    assert!(id > 0);
    assert_eq!(chain.balance(usd, BOB).0, 200_000);
}

#[test]
fn a_batch_pays_every_leg_or_none() {
    let (mut chain, usd) = chain_with_usd();
    let eur = chain.register("EUR", 2, 0);
    chain.mint(eur, ALICE, 1_000).unwrap();
    let leg = |token, to, amount: u64| IPayments::Leg {
        token,
        to,
        amount: U256::from(amount),
    };
    let batch = |legs| IPayments::payBatchCall {
        legs,
        endToEndId: "BATCH-7".into(),
        remittance: "payroll".into(),
        key: B256::ZERO,
    };
    let error = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            batch(vec![leg(usd, BOB, 500), leg(eur, CAROL, 2_000)]).abi_encode(),
        )
        .unwrap_err();
    assert!(
        error.contains("leg 2; no leg of the batch was paid"),
        "{error}"
    );
    assert_eq!(chain.balance(usd, BOB).0, 0);
    let out = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            batch(vec![
                leg(usd, BOB, 500),
                leg(eur, CAROL, 1_000),
                leg(usd, CAROL, 1),
            ])
            .abi_encode(),
        )
        .unwrap();
    let first = IPayments::payBatchCall::abi_decode_returns(&out).unwrap();
    let ids: Vec<u64> = chain
        .events::<IPayments::Payment>(PAYMENTS_ADDRESS)
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, vec![first, first + 1, first + 2]);
    assert_eq!(chain.balance(eur, CAROL).0, 1_000);
    assert_eq!(chain.balance(usd, CAROL).0, 1);
    let too_many = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            batch((0..65).map(|_| leg(usd, BOB, 1)).collect()).abi_encode(),
        )
        .unwrap_err();
    assert!(too_many.contains("1 to 64 legs"), "{too_many}");
}

#[test]
fn a_hold_reserves_money_is_captured_in_part_and_expires_in_the_first_block_past_its_deadline() {
    let (mut chain, usd) = chain_with_usd();
    let place = |payee, amount: u64, timeout| IPayments::placeHoldCall {
        token: usd,
        payee,
        amount: U256::from(amount),
        timeoutSeconds: timeout,
        remittance: "hotel deposit".into(),
    };
    let out = chain
        .call(ALICE, PAYMENTS_ADDRESS, place(BOB, 60_000, 0).abi_encode())
        .unwrap();
    let h1 = IPayments::placeHoldCall::abi_decode_returns(&out).unwrap();
    assert_eq!(chain.balance(usd, ALICE), (100_000, 60_000, 40_000));
    // The held money cannot be spent twice: not paid away, not held again.
    let spend = chain
        .pay(pay_call(usd, CAROL, 40_001, B256::ZERO))
        .unwrap_err();
    assert!(spend.contains("40000"), "{spend}");
    let twice = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            place(CAROL, 40_001, 0).abi_encode(),
        )
        .unwrap_err();
    assert!(twice.contains("available"), "{twice}");
    // Only the payee captures; a partial capture releases the rest.
    let not_payee = chain
        .call(
            CAROL,
            PAYMENTS_ADDRESS,
            IPayments::captureHoldCall {
                id: h1,
                amount: U256::from(1),
            }
            .abi_encode(),
        )
        .unwrap_err();
    assert!(not_payee.contains("payee"), "{not_payee}");
    chain
        .call(
            BOB,
            PAYMENTS_ADDRESS,
            IPayments::captureHoldCall {
                id: h1,
                amount: U256::from(25_000),
            }
            .abi_encode(),
        )
        .unwrap();
    assert_eq!(chain.balance(usd, ALICE), (75_000, 0, 75_000));
    assert_eq!(chain.balance(usd, BOB).0, 25_000);
    let closed = chain
        .call(
            BOB,
            PAYMENTS_ADDRESS,
            IPayments::voidHoldCall { id: h1 }.abi_encode(),
        )
        .unwrap_err();
    assert!(closed.contains("closed: Captured"), "{closed}");

    // A hold with a 10 s timeout, placed at time T: still pending in the block at T + 10,
    // expired at the end of the first block past it, with an event.
    let placed_at = chain.time;
    let out = chain
        .call(ALICE, PAYMENTS_ADDRESS, place(BOB, 5_000, 10).abi_encode())
        .unwrap();
    let h2 = IPayments::placeHoldCall::abi_decode_returns(&out).unwrap();
    assert_eq!(chain.hold(h2).deadline, placed_at + 10);
    chain.next_block_after(10);
    chain.next_block_after(0);
    assert_eq!(chain.time, placed_at + 10);
    assert_eq!(chain.hold(h2).status, IPayments::HoldStatus::Pending);
    chain.next_block_after(1);
    assert_eq!(chain.hold(h2).status, IPayments::HoldStatus::Pending);
    chain.next_block();
    let hook_logs: Vec<IPayments::HoldVoided> = chain
        .backend
        .logs
        .iter()
        .filter_map(|log| IPayments::HoldVoided::decode_log_data(&log.data).ok())
        .collect();
    assert_eq!(hook_logs.len(), 1);
    assert!(hook_logs[0].expired);
    let h = chain.hold(h2);
    assert_eq!(h.status, IPayments::HoldStatus::Expired);
    assert_eq!(
        h.closedAt,
        chain.block - 1,
        "expired by the hook of the block at T + 11"
    );
    assert_eq!(chain.balance(usd, ALICE), (75_000, 0, 75_000));
}

#[test]
fn holds_that_expire_together_beyond_one_blocks_budget_all_expire_in_the_next_blocks() {
    let (mut chain, usd) = chain_with_usd();
    let n = banyan_module_payments::EXPIRIES_PER_BLOCK + 10;
    for _ in 0..n {
        chain
            .call(
                ALICE,
                PAYMENTS_ADDRESS,
                IPayments::placeHoldCall {
                    token: usd,
                    payee: BOB,
                    amount: U256::from(1),
                    timeoutSeconds: 5,
                    remittance: String::new(),
                }
                .abi_encode(),
            )
            .unwrap();
    }
    assert_eq!(chain.balance(usd, ALICE).1, u128::from(n as u32));
    chain.next_block_after(6);
    chain.next_block();
    assert_eq!(
        chain.balance(usd, ALICE).1,
        10,
        "one block's budget expired"
    );
    chain.next_block();
    assert_eq!(chain.balance(usd, ALICE), (100_000, 0, 100_000));
    for id in 1..=n {
        assert_eq!(chain.hold(id).status, IPayments::HoldStatus::Expired);
    }
}

/// USD and EUR, a rate of 0.92 EUR per USD valid now, and an LP with 10,000.00 EUR offering
/// USD to EUR at a 50 bps spread.
fn fx_chain() -> (Chain, Address, Address) {
    let (mut chain, usd) = chain_with_usd();
    let eur = chain.register("EUR", 2, 0);
    chain.mint(eur, LP, 1_000_000).unwrap();
    let now = chain.time;
    chain
        .call(
            G,
            PAYMENTS_ADDRESS,
            IPayments::postRateCall {
                base: usd,
                quote: eur,
                rate: U256::from(920_000_000_000_000_000u128),
                validFrom: now,
                validUntil: now + 60,
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
                spreadBps: 50,
                enabled: true,
            }
            .abi_encode(),
        )
        .unwrap();
    (chain, usd, eur)
}

fn fx_call(usd: Address, eur: Address, amount_in: u64, min_out: u64) -> IPayments::payFxCall {
    IPayments::payFxCall {
        payToken: usd,
        amountIn: U256::from(amount_in),
        receiveToken: eur,
        minAmountOut: U256::from(min_out),
        to: BOB,
        provider: LP,
        endToEndId: "FX-1".into(),
        remittance: "supplier invoice".into(),
        key: B256::ZERO,
    }
}

fn balances(chain: &mut Chain, usd: Address, eur: Address) -> Vec<u128> {
    [ALICE, BOB, LP]
        .into_iter()
        .flat_map(|a| [chain.balance(usd, a).0, chain.balance(eur, a).0])
        .collect()
}

#[test]
fn fx_settles_both_legs_at_the_posted_rate_with_the_spread_recorded() {
    let (mut chain, usd, eur) = fx_chain();
    // 100.00 USD at 0.92: 92.00 EUR gross, 0.46 spread, 91.54 to Bob.
    let out = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            fx_call(usd, eur, 10_000, 9_150).abi_encode(),
        )
        .unwrap();
    let id = IPayments::payFxCall::abi_decode_returns(&out).unwrap();
    assert_eq!(chain.balance(usd, ALICE).0, 90_000);
    assert_eq!(chain.balance(usd, LP).0, 10_000);
    assert_eq!(chain.balance(eur, BOB).0, 9_154);
    assert_eq!(chain.balance(eur, LP).0, 1_000_000 - 9_154);
    let settled = chain.events::<IPayments::FxSettled>(PAYMENTS_ADDRESS);
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].id, id);
    assert_eq!(settled[0].spread, U256::from(46));
    assert_eq!(settled[0].amountOut, U256::from(9_154));
}

#[test]
fn fx_with_a_stale_rate_fails_whole() {
    let (mut chain, usd, eur) = fx_chain();
    chain.next_block_after(61);
    let before = balances(&mut chain, usd, eur);
    let error = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            fx_call(usd, eur, 10_000, 0).abi_encode(),
        )
        .unwrap_err();
    assert!(error.contains("stale"), "{error}");
    assert_eq!(balances(&mut chain, usd, eur), before);
}

#[test]
fn fx_beyond_the_payers_slippage_bound_fails_whole() {
    let (mut chain, usd, eur) = fx_chain();
    let before = balances(&mut chain, usd, eur);
    let error = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            fx_call(usd, eur, 10_000, 9_155).abi_encode(),
        )
        .unwrap_err();
    assert!(error.contains("slippage"), "{error}");
    assert_eq!(balances(&mut chain, usd, eur), before);
}

#[test]
fn fx_without_liquidity_fails_whole_also_under_a_key() {
    let (mut chain, usd, eur) = fx_chain();
    chain.mint(usd, ALICE, 10_000_000).unwrap();
    let before = balances(&mut chain, usd, eur);
    // 20,000.00 USD would need 18,308.00 EUR; the LP has 10,000.00.
    let error = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            fx_call(usd, eur, 2_000_000, 0).abi_encode(),
        )
        .unwrap_err();
    assert!(error.contains("no liquidity"), "{error}");
    assert_eq!(balances(&mut chain, usd, eur), before);
    // Under a key the failure is recorded, and still nothing moves.
    let mut keyed = fx_call(usd, eur, 2_000_000, 0);
    keyed.key = B256::repeat_byte(1);
    let out = chain
        .call(ALICE, PAYMENTS_ADDRESS, keyed.abi_encode())
        .unwrap();
    assert_eq!(IPayments::payFxCall::abi_decode_returns(&out).unwrap(), 0);
    assert_eq!(balances(&mut chain, usd, eur), before);
    // A provider that offers nothing for the pair.
    let mut other = fx_call(usd, eur, 100, 0);
    other.provider = CAROL;
    let error = chain
        .call(ALICE, PAYMENTS_ADDRESS, other.abi_encode())
        .unwrap_err();
    assert!(error.contains("offers no liquidity"), "{error}");
}

#[test]
fn the_fee_is_paid_by_the_payer_to_the_fee_account_on_every_path() {
    let (mut chain, usd) = chain_with_usd();
    chain.set_fee_bps(100); // 1 %
    chain.next_block();
    chain.pay(pay_call(usd, BOB, 10_000, B256::ZERO)).unwrap();
    assert_eq!(chain.balance(usd, ALICE).0, 100_000 - 10_100);
    assert_eq!(
        chain.balance(usd, G).0,
        100,
        "the issuer is the default fee account"
    );
    let payments = chain.events::<IPayments::Payment>(PAYMENTS_ADDRESS);
    assert_eq!(payments[0].fee, U256::from(100));
    // ERC-20 transfer pays it too.
    chain
        .call(
            ALICE,
            usd,
            IDepositToken::transferCall {
                to: BOB,
                value: U256::from(1_000),
            }
            .abi_encode(),
        )
        .unwrap();
    assert_eq!(chain.balance(usd, G).0, 110);
    // A hold reserves the fee with the amount; a capture charges it on the captured part.
    chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            IPayments::placeHoldCall {
                token: usd,
                payee: BOB,
                amount: U256::from(5_000),
                timeoutSeconds: 0,
                remittance: String::new(),
            }
            .abi_encode(),
        )
        .unwrap();
    assert_eq!(chain.balance(usd, ALICE).1, 5_050);
    chain
        .call(
            BOB,
            PAYMENTS_ADDRESS,
            IPayments::captureHoldCall {
                id: 1,
                amount: U256::from(2_000),
            }
            .abi_encode(),
        )
        .unwrap();
    assert_eq!(chain.balance(usd, G).0, 130);
    assert_eq!(chain.balance(usd, ALICE).1, 0);
    assert_eq!(
        chain.supply(usd),
        100_000,
        "fees move money, they do not make it"
    );
}

#[test]
fn a_frozen_account_is_refused_on_every_path_at_the_pool_and_in_execution() {
    let (mut chain, usd) = chain_with_usd();
    let eur = chain.register("EUR", 2, 0);
    chain.mint(eur, LP, 1_000_000).unwrap();
    chain.mint(usd, BOB, 10_000).unwrap();
    // Bob approves Alice, places a hold for Alice; an FX route exists.
    chain
        .call(
            BOB,
            usd,
            IDepositToken::approveCall {
                spender: ALICE,
                value: U256::MAX,
            }
            .abi_encode(),
        )
        .unwrap();
    chain
        .call(
            BOB,
            PAYMENTS_ADDRESS,
            IPayments::placeHoldCall {
                token: usd,
                payee: ALICE,
                amount: U256::from(100),
                timeoutSeconds: 0,
                remittance: String::new(),
            }
            .abi_encode(),
        )
        .unwrap();
    let now = chain.time;
    chain
        .call(
            G,
            PAYMENTS_ADDRESS,
            IPayments::postRateCall {
                base: usd,
                quote: eur,
                rate: U256::from(1_000_000_000_000_000_000u128),
                validFrom: now,
                validUntil: now + 600,
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
                spreadBps: 0,
                enabled: true,
            }
            .abi_encode(),
        )
        .unwrap();
    chain.freeze(BOB);
    chain.next_block();

    let leg = IPayments::Leg {
        token: usd,
        to: CAROL,
        amount: U256::from(1),
    };
    let to_bob = IPayments::Leg {
        token: usd,
        to: BOB,
        amount: U256::from(1),
    };
    let mut fx_to_bob = fx_call(usd, eur, 100, 0);
    fx_to_bob.to = BOB;
    // (sender, target, call data): each moves money from or to frozen Bob.
    let paths: Vec<(&str, Address, Address, Vec<u8>)> = vec![
        (
            "pay to",
            ALICE,
            PAYMENTS_ADDRESS,
            pay_call(usd, BOB, 1, B256::ZERO).abi_encode(),
        ),
        (
            "batch leg to",
            ALICE,
            PAYMENTS_ADDRESS,
            IPayments::payBatchCall {
                legs: vec![leg.clone(), to_bob],
                endToEndId: String::new(),
                remittance: String::new(),
                key: B256::ZERO,
            }
            .abi_encode(),
        ),
        (
            "hold capture from",
            ALICE,
            PAYMENTS_ADDRESS,
            IPayments::captureHoldCall {
                id: 1,
                amount: U256::from(100),
            }
            .abi_encode(),
        ),
        ("fx leg to", ALICE, PAYMENTS_ADDRESS, fx_to_bob.abi_encode()),
        (
            "transferFrom from",
            ALICE,
            usd,
            IDepositToken::transferFromCall {
                from: BOB,
                to: ALICE,
                value: U256::from(1),
            }
            .abi_encode(),
        ),
        (
            "transfer to",
            ALICE,
            usd,
            IDepositToken::transferCall {
                to: BOB,
                value: U256::from(1),
            }
            .abi_encode(),
        ),
        (
            "mint to",
            G,
            PAYMENTS_ADDRESS,
            IPayments::mintCall {
                token: usd,
                to: BOB,
                amount: U256::from(1),
            }
            .abi_encode(),
        ),
    ];
    for (path, sender, target, input) in paths {
        let before = chain.balance(usd, BOB);
        let screened = chain.screen(sender, target, &input).unwrap_err();
        assert!(
            screened.contains("frozen by governance proposal"),
            "{path}: {screened}"
        );
        let executed = chain.call(sender, target, input).unwrap_err();
        assert!(
            executed.contains("frozen by governance proposal"),
            "{path}: {executed}"
        );
        assert_eq!(chain.balance(usd, BOB), before, "{path}");
    }
    // A keyed payment to a frozen account records the failure; nothing moves.
    let id = chain
        .pay(pay_call(usd, BOB, 1, B256::repeat_byte(3)))
        .unwrap();
    assert_eq!(id, 0);
    // Alice, not frozen, still pays Carol.
    chain
        .screen(
            ALICE,
            PAYMENTS_ADDRESS,
            &pay_call(usd, CAROL, 1, B256::ZERO).abi_encode(),
        )
        .unwrap();
    chain.pay(pay_call(usd, CAROL, 1, B256::ZERO)).unwrap();
}

#[test]
fn registration_mint_and_burn_are_the_issuers_and_respect_the_cap() {
    let mut chain = Chain::new();
    let not_issuer = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            IPayments::registerCurrencyCall {
                code: "USD".into(),
                name: "US dollar".into(),
                decimals: 2,
                cap: U256::ZERO,
            }
            .abi_encode(),
        )
        .unwrap_err();
    assert!(not_issuer.contains("issuer role"), "{not_issuer}");
    let usd = chain.register("USD", 2, 1_000);
    let twice = chain
        .call(
            G,
            PAYMENTS_ADDRESS,
            IPayments::registerCurrencyCall {
                code: "USD".into(),
                name: String::new(),
                decimals: 2,
                cap: U256::ZERO,
            }
            .abi_encode(),
        )
        .unwrap_err();
    assert!(twice.contains("already registered"), "{twice}");
    chain.mint(usd, ALICE, 1_000).unwrap();
    let capped = chain.mint(usd, ALICE, 1).unwrap_err();
    assert!(capped.contains("above its cap 1000"), "{capped}");
    let other = chain
        .call(
            ALICE,
            PAYMENTS_ADDRESS,
            IPayments::mintCall {
                token: usd,
                to: ALICE,
                amount: U256::from(1),
            }
            .abi_encode(),
        )
        .unwrap_err();
    assert!(other.contains("only currency"), "{other}");
    // Burning a holder's money needs the holder's approval of the issuer.
    let burn = |amount: u64| {
        IPayments::burnCall {
            token: usd,
            from: ALICE,
            amount: U256::from(amount),
        }
        .abi_encode()
    };
    let unapproved = chain.call(G, PAYMENTS_ADDRESS, burn(100)).unwrap_err();
    assert!(unapproved.contains("allowed"), "{unapproved}");
    chain
        .call(
            ALICE,
            usd,
            IDepositToken::approveCall {
                spender: G,
                value: U256::from(100),
            }
            .abi_encode(),
        )
        .unwrap();
    chain.call(G, PAYMENTS_ADDRESS, burn(100)).unwrap();
    assert_eq!(chain.supply(usd), 900);
    chain.mint(usd, ALICE, 100).unwrap();
    assert_eq!(chain.supply(usd), 1_000);
    let bad_code = chain
        .call(
            G,
            PAYMENTS_ADDRESS,
            IPayments::registerCurrencyCall {
                code: "us dollar".into(),
                name: String::new(),
                decimals: 2,
                cap: U256::ZERO,
            }
            .abi_encode(),
        )
        .unwrap_err();
    assert!(bad_code.contains("2 to 12 characters"), "{bad_code}");
}

#[test]
fn texts_are_bounded_as_iso_20022_bounds_them() {
    let (mut chain, usd) = chain_with_usd();
    let mut call = pay_call(usd, BOB, 1, B256::ZERO);
    call.remittance = "é".repeat(140);
    call.endToEndId = "x".repeat(35);
    chain.pay(call.clone()).unwrap();
    call.remittance = "é".repeat(141);
    let long = chain.pay(call.clone()).unwrap_err();
    assert!(long.contains("141 characters, above the 140"), "{long}");
    call.remittance = String::new();
    call.endToEndId = "x".repeat(36);
    let long = chain.pay(call).unwrap_err();
    assert!(long.contains("end-to-end id is 36 characters"), "{long}");
}

/// The block-end hook stays within its gas whatever the queues hold: after a long pause, both
/// queues are due at once with hundreds of entries in separate buckets (holds a few seconds
/// apart, failed keyed payments with long reasons a minute apart), and every block's hook
/// succeeds, carrying what it cannot do to the next blocks, until all of it is done.
#[test]
fn the_block_end_hook_stays_within_its_gas_after_a_pause_with_full_queues() {
    let (mut chain, usd) = chain_with_usd();
    // A frozen payee on the last leg gives the longest failure reasons (about 240 bytes).
    chain.freeze(CAROL);
    let n = 300u64;
    for i in 0..n {
        chain
            .call(
                ALICE,
                PAYMENTS_ADDRESS,
                IPayments::placeHoldCall {
                    token: usd,
                    payee: BOB,
                    amount: U256::from(1),
                    timeoutSeconds: 1 + i * 4,
                    remittance: String::new(),
                }
                .abi_encode(),
            )
            .unwrap();
        // A keyed batch failing on its last leg (to frozen Carol): recorded with a long reason.
        let mut legs: Vec<IPayments::Leg> = (0..63)
            .map(|_| IPayments::Leg {
                token: usd,
                to: BOB,
                amount: U256::from(1),
            })
            .collect();
        legs.push(IPayments::Leg {
            token: usd,
            to: CAROL,
            amount: U256::from(1),
        });
        let out = chain
            .call(
                ALICE,
                PAYMENTS_ADDRESS,
                IPayments::payBatchCall {
                    legs,
                    endToEndId: String::new(),
                    remittance: String::new(),
                    key: B256::from(U256::from(i + 1)),
                }
                .abi_encode(),
            )
            .unwrap();
        assert_eq!(
            IPayments::payBatchCall::abi_decode_returns(&out).unwrap(),
            0
        );
        chain.next_block_after(61);
    }
    // The chain stops for a few days; then every hold and key is due.
    chain.next_block_after(3 * 86_400);
    let mut blocks = 0;
    while chain.balance(usd, ALICE).1 > 0 || !keys_gone(&mut chain, n) {
        chain.next_block(); // unwraps the hook's result: it never fails
        blocks += 1;
        assert!(blocks < 50, "the backlog is not shrinking");
    }
    for id in 1..=n {
        assert_eq!(chain.hold(id).status, IPayments::HoldStatus::Expired);
    }
}

fn keys_gone(chain: &mut Chain, n: u64) -> bool {
    (1..=n).all(|i| {
        let key = B256::from(U256::from(i));
        let slot = banyan_module_api::slots::Slot::named(
            "payments.key",
            &[ALICE.as_slice(), key.as_slice()].concat(),
        );
        chain
            .backend
            .storage
            .get(&PAYMENTS_ADDRESS)
            .is_none_or(|s| !s.contains_key(&slot.0.wrapping_add(U256::from(1))))
    })
}
