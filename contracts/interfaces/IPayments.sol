// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IPayments
/// @notice Multi-currency deposit tokens: issuers register currencies and mint and burn them;
///         payers pay with remittance information, an end-to-end id and an idempotency key, in
///         batches (all or nothing), through holds (place, then capture or void; a hold with a
///         timeout voids itself) and across currencies through a liquidity provider at a posted
///         rate (both legs or neither). Each currency also answers `IDepositToken` (ERC-20) at
///         its own address.
/// @dev A native module at 0x0000000000000000000000000000000000001004 on chains whose spec
///      enables `payments` (docs/modules/payments.md has the rules, the state layout, the gas
///      and every error). Amounts are in the currency's minor units. Texts are bounded:
///      remittance information 140 characters (ISO 20022 `Ustrd`), end-to-end id 35 characters
///      (`EndToEndId`). A payment with an idempotency key (`key` not zero) never reverts for a
///      business reason (funds, freeze, rate, liquidity): it records the failure under the key
///      and emits `PaymentFailed`, so that the key stays failed; a payment without a key
///      reverts with `Error(string)`.
interface IPayments {
    /// @notice Where a hold stands.
    enum HoldStatus {
        None,
        Pending,
        Captured,
        Voided,
        Expired
    }

    /// @notice What became of the payment recorded under an idempotency key.
    enum Outcome {
        None,
        Executed,
        Failed
    }

    /// @notice One registered currency.
    struct Currency {
        address token;
        string code;
        string name;
        uint8 decimals;
        address issuer;
        uint256 supply;
        uint256 cap;
        address feeAccount;
    }

    /// @notice One leg of a batch: `amount` of `token` from the caller to `to`.
    struct Leg {
        address token;
        address to;
        uint256 amount;
    }

    /// @notice One hold.
    struct Hold {
        uint64 id;
        address token;
        address payer;
        address payee;
        uint256 amount;
        uint256 captured;
        HoldStatus status;
        uint64 deadline;
        uint64 createdAt;
        uint64 closedAt;
    }

    /// @notice The latest rate of a pair: one whole unit of `base` is worth `rate` / 1e18
    ///         whole units of `quote`, from `validFrom` to `validUntil` (block timestamps).
    struct Rate {
        uint256 rate;
        uint64 validFrom;
        uint64 validUntil;
        address provider;
    }

    /// @notice What an idempotency key of a payer recorded.
    struct KeyRecord {
        Outcome outcome;
        uint64 payment;
        uint64 blockNumber;
        uint64 expiresAt;
        bytes32 fingerprint;
        string reason;
    }

    event CurrencyRegistered(address indexed token, string code, uint8 decimals, address indexed issuer, uint256 cap);
    event FeeAccountSet(address indexed token, address account);
    event Minted(address indexed token, address indexed to, uint256 amount);
    event Burned(address indexed token, address indexed from, uint256 amount);
    /// @notice A payment of `amount` from `from` to `to`, with `fee` paid by `from` on top.
    event Payment(
        uint64 indexed id,
        address indexed token,
        address indexed from,
        address to,
        uint256 amount,
        uint256 fee,
        string endToEndId,
        string remittance,
        bytes32 key
    );
    /// @notice A keyed payment failed; nothing of it moved and the key stays failed.
    event PaymentFailed(address indexed payer, bytes32 indexed key, string reason);
    /// @notice A keyed payment was submitted again: nothing moved, the first result stands.
    event PaymentReplayed(address indexed payer, bytes32 indexed key, Outcome outcome, uint64 payment);
    event HoldPlaced(
        uint64 indexed id, address indexed token, address indexed payer, address payee, uint256 amount, uint64 deadline, string remittance
    );
    event HoldCaptured(uint64 indexed id, uint256 amount, uint256 released, uint64 payment);
    event HoldVoided(uint64 indexed id, uint256 released, bool expired);
    event RatePosted(address indexed base, address indexed quote, address indexed provider, uint256 rate, uint64 validFrom, uint64 validUntil);
    event LiquidityOffered(address indexed provider, address indexed base, address indexed quote, uint16 spreadBps, bool enabled);
    /// @notice A cross-currency payment: `amountIn` of `payToken` from the payer to the
    ///         provider, `amountOut` of `receiveToken` from the provider to the payee; `spread`
    ///         (in `receiveToken`) is what the provider kept of the converted amount.
    event FxSettled(
        uint64 indexed id,
        address indexed payer,
        address indexed provider,
        address payee,
        address payToken,
        uint256 amountIn,
        address receiveToken,
        uint256 amountOut,
        uint256 rate,
        uint256 spread
    );

    /// @notice `account` pays gas in `token` from its next transaction on (address(0): in the
    ///         native coin again).
    event GasCurrencySet(address indexed account, address indexed token);
    /// @notice `token`'s issuer requires credentials of schema `schemaId` (zero: no longer).
    event KycRequirementSet(address indexed token, bytes32 schemaId);
    /// @notice `payer` paid `fee` of `token` for `gasUsed` gas at `gasPrice` wei per gas, to
    ///         `beneficiary` (the block's proposer).
    event GasPaid(
        address indexed payer, address indexed token, uint64 gasUsed, uint256 gasPrice, uint256 fee, address indexed beneficiary
    );

    /// @notice Registers a currency (caller: an account with the `issuer` role). `code` is an
    ///         ISO 4217 code or a chain-local one (2 to 12 of A-Z, 0-9, '-', '.'), unique on the
    ///         chain; `decimals` 0 to 18; `cap` the most that may be in circulation (0: none).
    function registerCurrency(string calldata code, string calldata name, uint8 decimals, uint256 cap)
        external
        returns (address token);
    /// @notice Mints `amount` to `to` (caller: the currency's issuer).
    function mint(address token, address to, uint256 amount) external;
    /// @notice Burns `amount` held by `from` (caller: the currency's issuer; `from` is the
    ///         issuer itself, or has approved the issuer for at least `amount` on the token).
    function burn(address token, address from, uint256 amount) external;
    /// @notice Where the currency's payment fees go (caller: its issuer; default: the issuer).
    function setFeeAccount(address token, address account) external;

    /// @notice Pays `amount` of `token` to `to`. Returns the payment's id (0 when a keyed
    ///         payment failed).
    function pay(
        address token,
        address to,
        uint256 amount,
        string calldata endToEndId,
        string calldata remittance,
        bytes32 key
    ) external returns (uint64 id);
    /// @notice Pays every leg (1 to 64) or none. Returns the first leg's payment id; the legs
    ///         have consecutive ids.
    function payBatch(Leg[] calldata legs, string calldata endToEndId, string calldata remittance, bytes32 key)
        external
        returns (uint64 firstId);

    /// @notice Holds `amount` of the caller's `token` for `payee`, who may capture it. With
    ///         `timeoutSeconds` > 0 it voids itself in the first block whose timestamp is past
    ///         the deadline (at most 31 days away); 0 holds until captured or voided.
    function placeHold(address token, address payee, uint256 amount, uint64 timeoutSeconds, string calldata remittance)
        external
        returns (uint64 id);
    /// @notice Captures `amount` (at most the hold's) and releases the rest (caller: the payee).
    ///         Returns the payment's id.
    function captureHold(uint64 id, uint256 amount) external returns (uint64 payment);
    /// @notice Releases the whole hold (caller: the payee).
    function voidHold(uint64 id) external;

    /// @notice Posts the rate of `base` in `quote` (caller: a `rate_provider`), valid from
    ///         `validFrom` to `validUntil` (block timestamps; at most 1 day long).
    function postRate(address base, address quote, uint256 rate, uint64 validFrom, uint64 validUntil) external;
    /// @notice The caller offers (or withdraws) to convert `base` into `quote` from its own
    ///         balances, keeping `spreadBps` (0 to 1000) of each converted amount.
    function offerLiquidity(address base, address quote, uint16 spreadBps, bool enabled) external;
    /// @notice Pays `amountIn` of `payToken` to `provider`, who pays `to` the converted amount
    ///         of `receiveToken` at the posted rate less its spread; refused whole when the rate
    ///         is stale, the result is below `minAmountOut`, or the provider lacks liquidity.
    function payFx(
        address payToken,
        uint256 amountIn,
        address receiveToken,
        uint256 minAmountOut,
        address to,
        address provider,
        string calldata endToEndId,
        string calldata remittance,
        bytes32 key
    ) external returns (uint64 id);

    /// @notice The caller pays the gas of its transactions in `token` from now on, at the rate
    ///         the committee set for it (`IGovernance.gasRate`), instead of the native coin;
    ///         address(0) goes back to the native coin. The transaction that calls this already
    ///         pays its gas in `token`. Refused when `token` has no gas rate.
    function setGasCurrency(address token) external;

    /// @notice The currency's issuer requires, from now on, that both sides of every movement
    ///         of `token` (payer and payee, on every path) hold a credential of schema
    ///         `schemaId` that counts (Identity's `holdsCredential`: KYC); zero lifts the rule.
    ///         Refused on a chain without the Identity module. (A schema nobody publishes refuses
    ///         every movement until the issuer lifts the rule.)
    function setKycRequirement(address token, bytes32 schemaId) external;

    /// @notice The schema `token` requires of payers and payees (zero: none).
    function kycRequirementOf(address token) external view returns (bytes32);

    /// @notice Every registered currency, in registration order.
    function currencies() external view returns (Currency[] memory);
    /// @notice The currency at `token`.
    function currency(address token) external view returns (Currency memory);
    /// @notice The currency whose code is `code` (reverts when none).
    function currencyByCode(string calldata code) external view returns (address token);
    /// @notice `account`'s balance of `token`, the part on hold, and what it may spend.
    function balanceOf(address token, address account)
        external
        view
        returns (uint256 balance, uint256 held, uint256 available);
    function getHold(uint64 id) external view returns (Hold memory);
    function rateOf(address base, address quote) external view returns (Rate memory);
    /// @notice Whether `provider` converts `base` into `quote`, and its spread.
    function liquidity(address provider, address base, address quote) external view returns (bool enabled, uint16 spreadBps);
    function paymentByKey(address payer, bytes32 key) external view returns (KeyRecord memory);
    function paymentCount() external view returns (uint64);
    /// @notice The fee a payment of `amount` pays now (the committee's `PaymentFeeBps`).
    /// @notice The currency `account` pays gas in (address(0): the native coin).
    function gasCurrencyOf(address account) external view returns (address token);
    /// @notice What `gas` gas at `gasPrice` wei per gas costs in `token` (rounded up), and the
    ///         rate used; reverts when `token` has no gas rate.
    function gasFeeFor(address token, uint64 gas, uint256 gasPrice) external view returns (uint256 fee, uint128 rate);
    function feeFor(uint256 amount) external view returns (uint256 fee, uint64 bps);
}
