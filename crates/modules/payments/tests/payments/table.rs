//! The result code of each path in each situation, as a table (TigerBeetle's style): every row
//! runs its operations on a fresh ledger (USD and EUR, Alice with 5,000.00 USD, the LP with
//! 5,000.00 EUR, a USD→EUR rate valid for 600 s) and checks the last one's code, on the
//! module and on the model alike.

use super::model::{Harness, Op, Res};

/// Accounts by index: 0 Alice, 1 Bob, 2 Carol, 3 the LP.
const A: usize = 0;
const B: usize = 1;
const C: usize = 2;
const L: usize = 3;

fn pay(from: usize, to: usize, amount: u64, key: Option<u8>) -> Op {
    Op::Pay {
        cur: 0,
        from,
        to,
        amount,
        key,
    }
}

fn hold(amount: u64, timeout: u64) -> Op {
    Op::Hold {
        cur: 0,
        from: A,
        to: B,
        amount,
        timeout,
    }
}

fn fx(amount: u64, min_out: u64) -> Op {
    Op::Fx {
        from: A,
        to: B,
        amount,
        min_out,
        key: None,
    }
}

#[test]
fn each_path_returns_the_documented_code() {
    let rows: Vec<(&str, Vec<Op>, &str)> = vec![
        (
            "pay within the balance",
            vec![pay(A, B, 500_000, None)],
            "ok",
        ),
        (
            "pay above the balance",
            vec![pay(A, B, 500_001, None)],
            "insufficient_funds",
        ),
        ("pay nothing", vec![pay(A, B, 0, None)], "zero_amount"),
        (
            "pay a frozen payee",
            vec![Op::Freeze { account: B }, pay(A, B, 1, None)],
            "frozen",
        ),
        (
            "pay from a frozen payer",
            vec![Op::Freeze { account: A }, pay(A, B, 1, None)],
            "frozen",
        ),
        ("keyed pay", vec![pay(A, B, 1, Some(0))], "ok"),
        (
            "keyed pay repeated",
            vec![
                pay(A, B, 1, Some(0)),
                Op::NextBlock { seconds: 1 },
                pay(A, B, 1, Some(0)),
            ],
            "replayed",
        ),
        (
            "keyed pay with another amount",
            vec![pay(A, B, 1, Some(0)), pay(A, B, 2, Some(0))],
            "key_conflict",
        ),
        (
            "keyed pay above the balance",
            vec![pay(A, B, 500_001, Some(1))],
            "failed_recorded",
        ),
        (
            "keyed failed pay repeated after funding",
            vec![
                pay(A, B, 500_001, Some(1)),
                Op::Mint {
                    cur: 0,
                    to: A,
                    amount: 10,
                },
                pay(A, B, 500_001, Some(1)),
            ],
            "replayed",
        ),
        (
            "another payer's same key",
            vec![
                pay(A, B, 1, Some(2)),
                Op::Mint {
                    cur: 0,
                    to: C,
                    amount: 5,
                },
                pay(C, B, 1, Some(2)),
            ],
            "ok",
        ),
        (
            "batch of two currencies",
            vec![Op::Batch {
                from: L,
                legs: vec![(1, A, 10), (1, B, 10)],
                key: None,
            }],
            "ok",
        ),
        (
            "batch whose second leg is short",
            vec![Op::Batch {
                from: A,
                legs: vec![(0, B, 10), (1, B, 10)],
                key: None,
            }],
            "insufficient_funds",
        ),
        (
            "empty batch",
            vec![Op::Batch {
                from: A,
                legs: vec![],
                key: None,
            }],
            "batch_size",
        ),
        (
            "batch leg to a frozen payee",
            vec![
                Op::Freeze { account: C },
                Op::Batch {
                    from: A,
                    legs: vec![(0, B, 1), (0, C, 1)],
                    key: None,
                },
            ],
            "frozen",
        ),
        ("hold within the balance", vec![hold(500_000, 0)], "ok"),
        (
            "hold above the balance",
            vec![hold(500_001, 0)],
            "insufficient_funds",
        ),
        (
            "pay money on hold",
            vec![hold(400_000, 0), pay(A, C, 100_001, None)],
            "insufficient_funds",
        ),
        (
            "hold for oneself",
            vec![Op::Hold {
                cur: 0,
                from: A,
                to: A,
                amount: 1,
                timeout: 0,
            }],
            "not_payee",
        ),
        (
            "capture all",
            vec![
                hold(100, 0),
                Op::Capture {
                    pick: 0,
                    amount: 100,
                    by: B,
                },
            ],
            "ok",
        ),
        (
            "capture part",
            vec![
                hold(100, 0),
                Op::Capture {
                    pick: 0,
                    amount: 40,
                    by: B,
                },
            ],
            "ok",
        ),
        (
            "capture more than held",
            vec![
                hold(100, 0),
                Op::Capture {
                    pick: 0,
                    amount: 101,
                    by: B,
                },
            ],
            "exceeds_hold",
        ),
        (
            "capture by another",
            vec![
                hold(100, 0),
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: C,
                },
            ],
            "not_payee",
        ),
        (
            "capture twice",
            vec![
                hold(100, 0),
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: B,
                },
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: B,
                },
            ],
            "hold_closed",
        ),
        (
            "capture after a void",
            vec![
                hold(100, 0),
                Op::Void { pick: 0, by: B },
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: B,
                },
            ],
            "hold_closed",
        ),
        (
            "capture at the deadline",
            vec![
                hold(100, 5),
                Op::NextBlock { seconds: 5 },
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: B,
                },
            ],
            "ok",
        ),
        (
            "capture past the deadline, before the hook",
            vec![
                hold(100, 5),
                Op::NextBlock { seconds: 6 },
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: B,
                },
            ],
            "hold_expired",
        ),
        (
            "capture after expiry",
            vec![
                hold(100, 5),
                Op::NextBlock { seconds: 6 },
                Op::NextBlock { seconds: 1 },
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: B,
                },
            ],
            "hold_closed",
        ),
        (
            "capture from a frozen payer",
            vec![
                hold(100, 0),
                Op::Freeze { account: A },
                Op::Capture {
                    pick: 0,
                    amount: 1,
                    by: B,
                },
            ],
            "frozen",
        ),
        (
            "capture of no hold",
            vec![Op::Capture {
                pick: 0,
                amount: 1,
                by: B,
            }],
            "no_hold",
        ),
        (
            "void by the payer",
            vec![hold(100, 0), Op::Void { pick: 0, by: A }],
            "not_payee",
        ),
        ("fx within the bound", vec![fx(10_000, 9_173)], "ok"),
        (
            "fx beyond the slippage bound",
            vec![fx(10_000, 9_174)],
            "slippage",
        ),
        (
            "fx with a stale rate",
            vec![Op::NextBlock { seconds: 601 }, fx(10_000, 0)],
            "stale_rate",
        ),
        (
            "fx beyond the liquidity",
            vec![fx(500_000, 0), fx(100_000, 0)],
            "no_liquidity",
        ),
        (
            "fx to a frozen payee",
            vec![Op::Freeze { account: B }, fx(100, 0)],
            "frozen",
        ),
        ("fx of too little to convert", vec![fx(1, 0)], "other"),
        (
            "fx keyed and short of liquidity",
            vec![
                fx(500_000, 0),
                Op::Fx {
                    from: A,
                    to: B,
                    amount: 100_000,
                    min_out: 0,
                    key: Some(3),
                },
            ],
            "failed_recorded",
        ),
        (
            "transfer",
            vec![Op::Transfer {
                cur: 0,
                from: A,
                to: B,
                amount: 1,
            }],
            "ok",
        ),
        (
            "transfer to a frozen account",
            vec![
                Op::Freeze { account: B },
                Op::Transfer {
                    cur: 0,
                    from: A,
                    to: B,
                    amount: 1,
                },
            ],
            "frozen",
        ),
        (
            "transferFrom within the allowance",
            vec![
                Op::Approve {
                    cur: 0,
                    owner: A,
                    spender: C,
                    amount: 10,
                },
                Op::TransferFrom {
                    cur: 0,
                    spender: C,
                    from: A,
                    to: B,
                    amount: 10,
                },
            ],
            "ok",
        ),
        (
            "transferFrom above the allowance",
            vec![
                Op::Approve {
                    cur: 0,
                    owner: A,
                    spender: C,
                    amount: 10,
                },
                Op::TransferFrom {
                    cur: 0,
                    spender: C,
                    from: A,
                    to: B,
                    amount: 11,
                },
            ],
            "allowance",
        ),
        (
            "transferFrom a frozen owner",
            vec![
                Op::Approve {
                    cur: 0,
                    owner: A,
                    spender: C,
                    amount: 10,
                },
                Op::Freeze { account: A },
                Op::TransferFrom {
                    cur: 0,
                    spender: C,
                    from: A,
                    to: B,
                    amount: 1,
                },
            ],
            "frozen",
        ),
        (
            "mint to a frozen account",
            vec![
                Op::Freeze { account: B },
                Op::Mint {
                    cur: 0,
                    to: B,
                    amount: 1,
                },
            ],
            "frozen",
        ),
        (
            "mint beyond the cap",
            vec![Op::Mint {
                cur: 0,
                to: B,
                amount: 999_500_001,
            }],
            "cap_exceeded",
        ),
        (
            "burn an approved holder's money",
            vec![Op::Burn {
                cur: 0,
                from: A,
                amount: 10,
            }],
            "ok",
        ),
        (
            "burn without approval",
            vec![
                Op::Mint {
                    cur: 0,
                    to: B,
                    amount: 10,
                },
                Op::Burn {
                    cur: 0,
                    from: B,
                    amount: 10,
                },
            ],
            "allowance",
        ),
        (
            "burn money on hold",
            vec![
                hold(500_000, 0),
                Op::Burn {
                    cur: 0,
                    from: A,
                    amount: 1,
                },
            ],
            "insufficient_funds",
        ),
    ];
    let mut failures = Vec::new();
    for (name, ops, expected) in &rows {
        let mut harness = Harness::new(0);
        for (cur, to) in [(0, A), (1, L)] {
            harness.run(&Op::Mint {
                cur,
                to,
                amount: 500_000,
            });
        }
        let mut last = None;
        for op in ops {
            last = Some(harness.run(op));
        }
        let (got, model): (Res, Res) = last.expect("every row has an operation");
        if got.code != *expected || model.code != *expected {
            failures.push(format!(
                "{name}: module {}, model {}, expected {expected}",
                got.code, model.code
            ));
        }
        harness.run(&Op::NextBlock { seconds: 1 });
        harness.compare();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
