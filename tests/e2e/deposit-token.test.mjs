// A deposit token of the Payments module seen by ethers v6 as a plain ERC-20: registered and
// minted through IPayments, then read and moved through the standard ERC-20 ABI at the currency's
// own address (decimals, symbol, balanceOf, transfer, approve/allowance/transferFrom, Transfer
// events in receipts and through eth_getLogs); a payment to a frozen account is refused, with the
// reason, by eth_estimateGas and by eth_sendRawTransaction.
//
// Environment (besides erc20.test.mjs's BANYAN_RPC_HTTP, BANYAN_DEV_KEY, BANYAN_DEV_KEY2):
//   BANYAN_ISSUER_KEY  key of an account holding the issuer role that is also the chain's only
//                      governor, hex (banyan dev: account 0). Unset: these tests are skipped (a
//                      `banyan init` network's committee has several governors).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbiCoder, Contract, JsonRpcProvider, Wallet, getAddress } from 'ethers';

const HTTP_URL = process.env.BANYAN_RPC_HTTP || 'http://127.0.0.1:8545';
const DEV_KEY = process.env.BANYAN_DEV_KEY || 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const DEV_KEY2 = process.env.BANYAN_DEV_KEY2 || '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const ISSUER_KEY = process.env.BANYAN_ISSUER_KEY ?? '';
const SKIP = ISSUER_KEY === '' ? 'BANYAN_ISSUER_KEY is not set (no single-governor issuer on this chain)' : false;

const PAYMENTS = '0x0000000000000000000000000000000000001004';
const GOVERNANCE = '0x0000000000000000000000000000000000001002';
const RECEIPT_TIMEOUT = 30_000;
const TEST_TIMEOUT = 60_000;

const PAYMENTS_ABI = [
  'function registerCurrency(string code, string name, uint8 decimals, uint256 cap) returns (address)',
  'function mint(address token, address to, uint256 amount)',
  'function balanceOf(address token, address account) view returns (uint256 balance, uint256 held, uint256 available)',
  'event CurrencyRegistered(address indexed token, string code, uint8 decimals, address indexed issuer, uint256 cap)',
];
const GOVERNANCE_ABI = [
  'function propose(uint8 kind, bytes payload, string description, uint64 votingPeriod) returns (uint64)',
];
// The standard ERC-20 ABI, as any wallet or explorer has it: nothing Banyan-specific.
const ERC20_ABI = [
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function transferFrom(address from, address to, uint256 value) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
];
const FREEZE = 7; // IGovernance.Kind.Freeze

async function mined(txPromise) {
  const tx = await txPromise;
  const receipt = await tx.wait(1, RECEIPT_TIMEOUT);
  assert.equal(receipt.status, 1, `transaction ${tx.hash} failed`);
  return receipt;
}

function text(err) {
  return [err?.reason, err?.shortMessage, err?.info?.error?.message, err?.message]
    .filter((s) => typeof s === 'string')
    .join(' | ');
}

describe('A Payments deposit token is an ERC-20 to ethers', { timeout: 170_000 }, () => {
  let http;
  let issuer;
  let holder;
  let spender;
  let token;
  let tokenAddress;
  const code = `T${Date.now() % 1_000_000}`;

  async function setup() {
    if (token) return;
    http = new JsonRpcProvider(HTTP_URL, undefined, { cacheTimeout: -1, pollingInterval: 500 });
    issuer = new Wallet(ISSUER_KEY, http);
    holder = new Wallet(DEV_KEY2, http);
    spender = new Wallet(DEV_KEY, http);
    const payments = new Contract(PAYMENTS, PAYMENTS_ABI, issuer);
    const receipt = await mined(payments.registerCurrency(code, `${code} deposit token`, 2, 0));
    const registered = receipt.logs
      .map((log) => {
        try {
          return payments.interface.parseLog(log);
        } catch {
          return null;
        }
      })
      .find((e) => e?.name === 'CurrencyRegistered');
    assert.ok(registered, 'registerCurrency emitted CurrencyRegistered');
    tokenAddress = getAddress(registered.args.token);
    await mined(payments.mint(tokenAddress, holder.address, 100_000n));
    token = new Contract(tokenAddress, ERC20_ABI, http);
  }

  it('reads name, symbol, decimals, supply and balances through the ERC-20 ABI', { skip: SKIP, timeout: TEST_TIMEOUT }, async () => {
    await setup();
    assert.match(tokenAddress, /^0xBa11/i);
    assert.notEqual(await http.getCode(tokenAddress), '0x', 'the token address has code');
    assert.equal(await token.symbol(), code);
    assert.equal(await token.name(), `${code} deposit token`);
    assert.equal(await token.decimals(), 2n, "one decimals value: the currency's minor units");
    assert.equal(await token.totalSupply(), 100_000n);
    assert.equal(await token.balanceOf(holder.address), 100_000n);
    const payments = new Contract(PAYMENTS, PAYMENTS_ABI, http);
    const [balance, held, available] = await payments.balanceOf(tokenAddress, holder.address);
    assert.deepEqual([balance, held, available], [100_000n, 0n, 100_000n]);
  });

  it('transfers with a Transfer event in the receipt and through eth_getLogs', { skip: SKIP, timeout: TEST_TIMEOUT }, async () => {
    await setup();
    const before = await token.balanceOf(spender.address);
    const receipt = await mined(token.connect(holder).transfer(spender.address, 2_500n));
    const events = receipt.logs.map((log) => token.interface.parseLog(log)).filter((e) => e?.name === 'Transfer');
    assert.equal(events.length, 1);
    assert.equal(getAddress(receipt.logs.find((l) => token.interface.parseLog(l)?.name === 'Transfer').address), tokenAddress);
    assert.deepEqual([events[0].args.from, events[0].args.to, events[0].args.value], [holder.address, spender.address, 2_500n]);
    assert.equal(await token.balanceOf(spender.address), before + 2_500n);
    const found = await token.queryFilter(token.filters.Transfer(holder.address, spender.address), receipt.blockNumber, receipt.blockNumber);
    assert.equal(found.length, 1, 'eth_getLogs finds the Transfer by its indexed topics');
    assert.equal(found[0].transactionHash, receipt.hash);
  });

  it('approves and transfers from with the allowance spent', { skip: SKIP, timeout: TEST_TIMEOUT }, async () => {
    await setup();
    const approval = await mined(token.connect(holder).approve(spender.address, 500n));
    assert.ok(approval.logs.some((l) => token.interface.parseLog(l)?.name === 'Approval'));
    assert.equal(await token.allowance(holder.address, spender.address), 500n);
    const holderBefore = await token.balanceOf(holder.address);
    await mined(token.connect(spender).transferFrom(holder.address, spender.address, 300n));
    assert.equal(await token.allowance(holder.address, spender.address), 200n);
    assert.equal(await token.balanceOf(holder.address), holderBefore - 300n);
    let err;
    try {
      await token.connect(spender).transferFrom.estimateGas(holder.address, spender.address, 201n);
    } catch (e) {
      err = e;
    }
    assert.ok(err && text(err).includes('allowed'), `over the allowance: ${text(err)}`);
  });

  it('refuses a payment to a frozen account at estimation and at submission', { skip: SKIP, timeout: TEST_TIMEOUT }, async () => {
    await setup();
    const frozen = Wallet.createRandom().address;
    const governance = new Contract(GOVERNANCE, GOVERNANCE_ABI, issuer);
    const payload = AbiCoder.defaultAbiCoder().encode(['address'], [frozen]);
    await mined(governance.propose(FREEZE, payload, 'freeze for the e2e test', 0));
    const before = await token.balanceOf(holder.address);
    let err;
    try {
      await token.connect(holder).transfer.estimateGas(frozen, 1n);
    } catch (e) {
      err = e;
    }
    assert.ok(err && text(err).includes('frozen by governance proposal'), `estimate: ${text(err)}`);
    err = undefined;
    try {
      // A fixed gas limit skips the estimate: the node's pool refuses it.
      await token.connect(holder).transfer(frozen, 1n, { gasLimit: 200_000n });
    } catch (e) {
      err = e;
    }
    assert.ok(err && text(err).includes('refused by module payments'), `submission: ${text(err)}`);
    assert.equal(await token.balanceOf(holder.address), before);
    assert.equal(await token.balanceOf(frozen), 0n);
  });
});
