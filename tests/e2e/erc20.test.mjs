// End-to-end client test of a running Banyan node through its Ethereum JSON-RPC, driven the way a
// dapp would drive it: ethers v6 over HTTP and WebSocket, a contract compiled by solc-js.
//
// Run (node must already be running):
//   npm ci --prefix tests/e2e
//   BANYAN_RPC_HTTP=http://127.0.0.1:8545 BANYAN_RPC_WS=ws://127.0.0.1:8545 node --test tests/e2e/
//
// Environment:
//   BANYAN_RPC_HTTP   HTTP JSON-RPC endpoint          (default http://127.0.0.1:8545)
//   BANYAN_RPC_WS     WebSocket JSON-RPC endpoint     (default ws://127.0.0.1:8545)
//   BANYAN_DEV_KEY    funded private key, hex         (default Hardhat/Anvil account 0)
//   BANYAN_DEV_KEY2   second private key, hex         (default Hardhat/Anvil account 1)
//   BANYAN_RPC_NO_BATCH=1  send one JSON-RPC request per HTTP call (ethers batches by default)
//   BANYAN_CHAIN_ID   expected chain id, decimal     (unset: not checked; banyan dev 31337, banyan init 20261)
//   BANYAN_RPC_HTTP_PEERS  comma-separated HTTP endpoints of other nodes of the same network: the
//                     last test reads this run's transactions back from each and submits one through
//                     the first (unset: that test is skipped, as on a single `banyan dev`)
//
// An unreachable node is a failure, never a skip. Every network wait is bounded, so a broken node
// fails this file in about a minute instead of hanging it.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  Contract,
  ContractFactory,
  JsonRpcProvider,
  WebSocketProvider,
  Wallet,
  getAddress,
  id as keccakId,
  parseEther,
  parseUnits,
  zeroPadValue,
} from 'ethers';
import { compileBanyanToken } from './compile.mjs';

const HTTP_URL = process.env.BANYAN_RPC_HTTP || 'http://127.0.0.1:8545';
const WS_URL = process.env.BANYAN_RPC_WS || 'ws://127.0.0.1:8545';
// Well-known Hardhat/Anvil dev keys (accounts 0 and 1 of the "test test ... junk" mnemonic).
const DEV_KEY = process.env.BANYAN_DEV_KEY || 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const DEV_KEY2 = process.env.BANYAN_DEV_KEY2 || '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const NO_BATCH = process.env.BANYAN_RPC_NO_BATCH === '1';
const EXPECTED_CHAIN_ID = process.env.BANYAN_CHAIN_ID ?? '';
const PEER_URLS = (process.env.BANYAN_RPC_HTTP_PEERS ?? '')
  .split(',')
  .map((u) => u.trim())
  .filter((u) => u.length > 0);

const DECIMALS = 18n;
const INITIAL_SUPPLY = 1_000_000n * 10n ** DECIMALS;
const TRANSFER_AMOUNT = parseUnits('1234', Number(DECIMALS));
const ETH_AMOUNT = parseEther('0.01');

// Time limits (ms). Each is an upper bound on one network wait.
const RPC_TIMEOUT = 10_000;
const RECEIPT_TIMEOUT = 30_000;
// How long another node of the network may take to reach a block the first node has committed.
const PEER_SYNC_TIMEOUT = 30_000;
const WS_EVENT_TIMEOUT = 20_000;
const TEST_TIMEOUT = 60_000;
const SUITE_TIMEOUT = 170_000;
// Last resort: if something still holds the event loop open after the tests (a socket ethers failed
// to close, a retry timer), exit non-zero instead of hanging the runner. unref() so it never keeps
// a healthy process alive.
setTimeout(() => {
  console.error('erc20.test.mjs: watchdog fired after 180 s; a connection or timer was left open');
  process.exit(1);
}, 180_000).unref();

const TRANSFER_TOPIC = keccakId('Transfer(address,address,uint256)');

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One raw JSON-RPC call over HTTP with a hard timeout; independent of ethers. */
async function rawRpc(method, params = [], url = HTTP_URL, urlVar = 'BANYAN_RPC_HTTP') {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(RPC_TIMEOUT),
    });
  } catch (err) {
    const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(err);
    throw new Error(
      `Banyan node unreachable at ${urlVar}=${url} (${cause}). ` +
        `Start the node first, or point ${urlVar} at it.`,
    );
  }
  const text = await res.text();
  assert.ok(res.ok, `${method}: HTTP ${res.status} from ${url}: ${text.slice(0, 500)}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${method}: response is not JSON: ${text.slice(0, 500)}`);
  }
  assert.equal(body.jsonrpc, '2.0', `${method}: response lacks "jsonrpc":"2.0": ${text.slice(0, 500)}`);
  assert.equal(body.id, 1, `${method}: response id does not echo the request id: ${text.slice(0, 500)}`);
  assert.ok(!body.error, `${method} returned an error: ${JSON.stringify(body.error)}`);
  return body.result;
}

/**
 * WebSocketProvider that reports when the node has acknowledged an eth_subscribe (ethers registers
 * a subscription id only once the node has answered), so the test can be sure the Transfer
 * subscription is live before it sends the transfer, and fails clearly if the node rejects it.
 */
class ObservedWebSocketProvider extends WebSocketProvider {
  #waiters = [];

  /** Resolves with the next subscription id the node hands out; rejects if eth_subscribe fails. */
  nextSubscription() {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async send(method, params) {
    try {
      return await super.send(method, params);
    } catch (err) {
      if (method === 'eth_subscribe') {
        for (const w of this.#waiters.splice(0)) w.reject(new Error(`eth_subscribe rejected by node: ${err.message}`));
      }
      throw err;
    }
  }

  _register(filterId, subscriber) {
    super._register(filterId, subscriber);
    for (const w of this.#waiters.splice(0)) w.resolve(filterId);
  }
}

/**
 * Options shared by both providers. cacheTimeout -1 turns off ethers' 250 ms result cache, so a
 * balance read right after a receipt is a fresh read of the node, not a replay of the read before.
 */
function providerOptions() {
  return { cacheTimeout: -1, ...(NO_BATCH ? { batchMaxCount: 1 } : {}) };
}

/** Opens the WebSocket provider, failing clearly (rather than crashing on an 'error' event). */
async function connectWebSocket() {
  const provider = new ObservedWebSocketProvider(WS_URL, undefined, providerOptions());
  const socket = provider.websocket;
  const opened = new Promise((resolve, reject) => {
    // A listener on 'error' is required: the `ws` package throws on an unhandled 'error' event.
    socket.addEventListener('error', (ev) =>
      reject(new Error(`WebSocket error at BANYAN_RPC_WS=${WS_URL}: ${ev?.message ?? ev?.error?.message ?? 'unknown'}`)),
    );
    socket.addEventListener('close', (ev) =>
      reject(new Error(`WebSocket at BANYAN_RPC_WS=${WS_URL} closed before opening (code ${ev?.code})`)),
    );
    socket.addEventListener('open', () => resolve());
  });
  try {
    await withTimeout(opened, RPC_TIMEOUT, `open WebSocket ${WS_URL}`);
    await withTimeout(provider._waitUntilReady(), RPC_TIMEOUT, `WebSocket provider ready (eth_chainId over ${WS_URL})`);
  } catch (err) {
    await provider.destroy().catch(() => {});
    throw err;
  }
  return provider;
}

/** Text of an ethers error in which a revert reason may appear (the reason, else the short message). */
function revertText(err) {
  return [err?.reason, err?.shortMessage].filter((s) => typeof s === 'string' && s.length > 0).join(' | ');
}

/** Asserts that `promise` rejects with a revert whose reason contains `reason`. */
async function assertReverts(promise, reason, what) {
  let err;
  try {
    await withTimeout(promise, RPC_TIMEOUT, what);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected a revert with "${reason}", but it succeeded`);
  assert.ok(
    revertText(err).includes(reason),
    `${what}: expected revert reason "${reason}"; got code=${err.code} reason=${JSON.stringify(err.reason)} ` +
      `shortMessage=${JSON.stringify(err.shortMessage)}; node said: ${JSON.stringify(err.info?.error ?? err.message)}`,
  );
  assert.equal(err.code, 'CALL_EXCEPTION', `${what}: ethers error code`);
}

describe('Banyan ERC-20 end to end (ethers v6 over HTTP + WebSocket)', { timeout: SUITE_TIMEOUT }, () => {
  /** @type {JsonRpcProvider} */ let http;
  /** @type {ObservedWebSocketProvider} */ let ws;
  /** @type {Wallet} */ let wallet1;
  /** @type {Wallet} */ let wallet2;
  let rawChainId;
  let compiled;
  /** @type {Contract} */ let token;
  let tokenAddress;
  let transferReceipt;
  // Transfer events seen over the WebSocket subscription, and a way to wait for a matching one.
  const wsEvents = [];
  let wsEventSeen;
  let resolveWsEvent;

  // Connecting happens inside the tests, not in a before() hook: Node 20 reports the tests of a
  // suite whose hook failed as "cancelled" (fail 0), while an unreachable node must count as failed
  // tests. The first test fails with the reason; the others fail at once with the same reason.
  let connecting;
  function connect() {
    connecting ??= (async () => {
      // Reachability first, with a plain fetch and a hard timeout: ethers' JsonRpcProvider would
      // retry network detection forever if the node is down.
      rawChainId = BigInt(await rawRpc('eth_chainId'));
      if (EXPECTED_CHAIN_ID !== '') {
        assert.match(EXPECTED_CHAIN_ID, /^[0-9]+$/, `BANYAN_CHAIN_ID must be a decimal number, got "${EXPECTED_CHAIN_ID}"`);
        assert.equal(
          rawChainId,
          BigInt(EXPECTED_CHAIN_ID),
          `eth_chainId of ${HTTP_URL} is ${rawChainId}, BANYAN_CHAIN_ID is ${EXPECTED_CHAIN_ID}`,
        );
      }
      http = new JsonRpcProvider(HTTP_URL, undefined, { ...providerOptions(), pollingInterval: 500 });
      ws = await connectWebSocket();
      wallet1 = new Wallet(DEV_KEY, http);
      wallet2 = new Wallet(DEV_KEY2, http);
      assert.notEqual(wallet1.address, wallet2.address, 'BANYAN_DEV_KEY and BANYAN_DEV_KEY2 must differ');
      const funds = await withTimeout(http.getBalance(wallet1.address), RPC_TIMEOUT, 'eth_getBalance');
      assert.ok(funds > parseEther('1'), `dev account ${wallet1.address} (BANYAN_DEV_KEY) is not funded: balance ${funds} wei`);
    })();
    return connecting;
  }

  // Providers of the other nodes (BANYAN_RPC_HTTP_PEERS), opened by the last test.
  /** @type {JsonRpcProvider[]} */ const peers = [];

  after(async () => {
    // destroy() closes the socket, stops polling and drops listeners, so the process can exit.
    await ws?.destroy();
    http?.destroy();
    for (const p of peers) p.destroy();
  });

  it('reports a consistent chain id and a block number', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    const network = await withTimeout(http.getNetwork(), RPC_TIMEOUT, 'getNetwork over HTTP');
    assert.equal(network.chainId, rawChainId, 'provider.getNetwork().chainId vs eth_chainId');
    const wsNetwork = await withTimeout(ws.getNetwork(), RPC_TIMEOUT, 'getNetwork over WebSocket');
    assert.equal(wsNetwork.chainId, rawChainId, 'chain id over WebSocket vs over HTTP');

    const blockNumber = await withTimeout(http.getBlockNumber(), RPC_TIMEOUT, 'getBlockNumber');
    assert.equal(typeof blockNumber, 'number');
    assert.ok(Number.isSafeInteger(blockNumber) && blockNumber >= 0, `block number ${blockNumber}`);
    const block = await withTimeout(http.getBlock(blockNumber), RPC_TIMEOUT, `getBlock(${blockNumber})`);
    assert.ok(block, `eth_getBlockByNumber(${blockNumber}) returned null for the reported head`);
    assert.equal(block.number, blockNumber);
  });

  it('deploys BanyanToken compiled with solc-js', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    compiled = compileBanyanToken();
    const factory = new ContractFactory(compiled.abi, compiled.bytecode, wallet1);
    const deployed = await withTimeout(factory.deploy(INITIAL_SUPPLY), RPC_TIMEOUT, 'send deployment tx');
    const deployTx = deployed.deploymentTransaction();
    assert.ok(deployTx, 'deployment transaction');
    const receipt = await deployTx.wait(1, RECEIPT_TIMEOUT);
    assert.ok(receipt, 'deployment receipt');
    assert.equal(receipt.status, 1, `deployment tx ${deployTx.hash} failed (status ${receipt.status})`);
    assert.ok(receipt.contractAddress, 'receipt.contractAddress is set');
    tokenAddress = getAddress(receipt.contractAddress);
    assert.equal(tokenAddress, getAddress(await deployed.getAddress()), 'receipt address vs predicted CREATE address');

    const code = await withTimeout(http.getCode(tokenAddress), RPC_TIMEOUT, 'eth_getCode');
    assert.ok(code && code !== '0x' && code.length > 2, `eth_getCode(${tokenAddress}) is empty`);
    assert.equal(code, compiled.deployedBytecode, 'eth_getCode returns the runtime bytecode solc produced');

    token = new Contract(tokenAddress, compiled.abi, wallet1);
    assert.equal(await token.name(), 'Banyan Token');
    assert.equal(await token.symbol(), 'BYN');
    assert.equal(await token.decimals(), DECIMALS);
    assert.equal(await token.totalSupply(), INITIAL_SUPPLY);
    assert.equal(await token.balanceOf(wallet1.address), INITIAL_SUPPLY);
  });

  it('subscribes to Transfer over WebSocket before transferring', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    assert.ok(tokenAddress, 'token was deployed');
    wsEventSeen = new Promise((resolve) => {
      resolveWsEvent = resolve;
    });
    const wsToken = new Contract(tokenAddress, compiled.abi, ws);
    const subscribed = ws.nextSubscription();
    await wsToken.on('Transfer', (from, to, value, payload) => {
      const ev = { from, to, value, txHash: payload.log.transactionHash, blockNumber: payload.log.blockNumber };
      wsEvents.push(ev);
      if (transferMatches(ev)) resolveWsEvent(ev);
    });
    const subId = await withTimeout(subscribed, RPC_TIMEOUT, 'eth_subscribe("logs") acknowledged');
    assert.ok(subId, 'eth_subscribe returned a subscription id');
  });

  /** Whether a Transfer (from the WS stream) is the 1234-token transfer this test sends. */
  function transferMatches(ev) {
    return (
      getAddress(ev.from) === wallet1.address &&
      getAddress(ev.to) === wallet2.address &&
      ev.value === TRANSFER_AMOUNT &&
      (!transferReceipt || ev.txHash === transferReceipt.hash)
    );
  }

  it('transfers 1234 tokens and conserves the supply', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    assert.ok(token, 'token was deployed');
    const before1 = await token.balanceOf(wallet1.address);
    const before2 = await token.balanceOf(wallet2.address);

    const tx = await withTimeout(token.transfer(wallet2.address, TRANSFER_AMOUNT), RPC_TIMEOUT, 'send transfer tx');
    transferReceipt = await tx.wait(1, RECEIPT_TIMEOUT);
    assert.equal(transferReceipt.status, 1, `transfer tx ${tx.hash} failed`);

    const after1 = await token.balanceOf(wallet1.address);
    const after2 = await token.balanceOf(wallet2.address);
    assert.equal(after1, before1 - TRANSFER_AMOUNT, 'sender token balance');
    assert.equal(after2, before2 + TRANSFER_AMOUNT, 'receiver token balance');
    assert.equal(after1 + after2, INITIAL_SUPPLY, 'the two holders together hold the whole supply');
    assert.equal(await token.totalSupply(), INITIAL_SUPPLY, 'totalSupply unchanged');

    // The receipt's own logs carry the event too.
    const parsed = transferReceipt.logs
      .filter((l) => getAddress(l.address) === tokenAddress)
      .map((l) => token.interface.parseLog(l));
    assert.equal(parsed.length, 1, 'one token log in the transfer receipt');
    assert.equal(parsed[0].name, 'Transfer');
  });

  it('finds the Transfer event with eth_getLogs', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    assert.ok(transferReceipt, 'transfer was mined');
    const logs = await withTimeout(
      http.getLogs({
        address: tokenAddress,
        topics: [TRANSFER_TOPIC, zeroPadValue(wallet1.address, 32), zeroPadValue(wallet2.address, 32)],
        fromBlock: transferReceipt.blockNumber,
        toBlock: transferReceipt.blockNumber,
      }),
      RPC_TIMEOUT,
      'eth_getLogs',
    );
    assert.equal(logs.length, 1, `eth_getLogs returned ${logs.length} matching logs: ${JSON.stringify(logs)}`);
    const [log] = logs;
    assert.equal(log.transactionHash, transferReceipt.hash, 'log.transactionHash');
    assert.equal(log.blockNumber, transferReceipt.blockNumber, 'log.blockNumber');
    assert.equal(log.blockHash, transferReceipt.blockHash, 'log.blockHash');
    assert.equal(getAddress(log.address), tokenAddress, 'log.address');
    const ev = token.interface.parseLog(log);
    assert.equal(ev?.name, 'Transfer');
    assert.equal(getAddress(ev.args.from), wallet1.address, 'decoded from');
    assert.equal(getAddress(ev.args.to), wallet2.address, 'decoded to');
    assert.equal(ev.args.value, TRANSFER_AMOUNT, 'decoded value');

    // The address-only filter over the same range finds the same log (and nothing foreign).
    const byAddress = await withTimeout(
      http.getLogs({ address: tokenAddress, topics: [TRANSFER_TOPIC], fromBlock: transferReceipt.blockNumber, toBlock: transferReceipt.blockNumber }),
      RPC_TIMEOUT,
      'eth_getLogs by address + topic0',
    );
    assert.ok(byAddress.some((l) => l.transactionHash === transferReceipt.hash), 'address + topic0 filter finds the transfer');
    assert.ok(byAddress.every((l) => getAddress(l.address) === tokenAddress && l.topics[0] === TRANSFER_TOPIC), 'filter honoured');
  });

  it('delivers the Transfer event over the WebSocket subscription', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    assert.ok(wsEventSeen, 'subscription was set up');
    assert.ok(transferReceipt, 'transfer was mined');
    // The event may have arrived before the receipt; re-check what we already have.
    const early = wsEvents.find(transferMatches);
    const ev =
      early ??
      (await withTimeout(
        wsEventSeen,
        WS_EVENT_TIMEOUT,
        `Transfer event over WebSocket (saw ${wsEvents.length} other Transfer events: ${JSON.stringify(wsEvents, (_, v) => (typeof v === 'bigint' ? v.toString() : v))})`,
      ));
    assert.equal(ev.txHash, transferReceipt.hash, 'WS log transactionHash');
    assert.equal(ev.blockNumber, transferReceipt.blockNumber, 'WS log blockNumber');
    assert.equal(ev.value, TRANSFER_AMOUNT, 'WS decoded value');
  });

  it('rejects a transfer beyond the balance with the revert reason', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    assert.ok(token, 'token was deployed');
    const someone = Wallet.createRandom().address;
    const balance2 = await token.balanceOf(wallet2.address);
    const huge = INITIAL_SUPPLY; // more than account 2 holds after the 1234-token transfer
    assert.ok(huge > balance2);
    const asWallet2 = token.connect(wallet2);
    const reason = 'BanyanToken: transfer amount exceeds balance';
    await assertReverts(asWallet2.transfer.staticCall(someone, huge), reason, 'eth_call transfer(huge)');
    await assertReverts(asWallet2.transfer.estimateGas(someone, huge), reason, 'eth_estimateGas transfer(huge)');

    // Two more reasons, through eth_call only (no state change).
    await assertReverts(
      asWallet2.transferFrom.staticCall(wallet1.address, someone, 1n),
      'BanyanToken: insufficient allowance',
      'eth_call transferFrom without allowance',
    );
    await assertReverts(
      token.transfer.staticCall('0x0000000000000000000000000000000000000000', 1n),
      'BanyanToken: transfer to the zero address',
      'eth_call transfer to the zero address',
    );
    // Nothing moved.
    assert.equal(await token.balanceOf(wallet2.address), balance2);
    assert.equal(await token.totalSupply(), INITIAL_SUPPLY);
  });

  it('moves ETH between the two accounts and charges exactly gasUsed * effectiveGasPrice', { timeout: TEST_TIMEOUT }, async () => {
    await connect();
    const from = wallet1.address;
    const to = wallet2.address;
    const before1 = await http.getBalance(from, 'latest');
    const before2 = await http.getBalance(to, 'latest');

    const tx = await withTimeout(wallet1.sendTransaction({ to, value: ETH_AMOUNT }), RPC_TIMEOUT, 'send ETH transfer');
    const receipt = await tx.wait(1, RECEIPT_TIMEOUT);
    assert.equal(receipt.status, 1, `ETH transfer ${tx.hash} failed`);
    assert.equal(receipt.gasUsed, 21_000n, 'a plain ETH transfer uses 21000 gas');
    assert.ok(receipt.gasPrice > 0n, 'receipt.effectiveGasPrice is set');
    const fee = receipt.gasUsed * receipt.gasPrice;

    // If one of the two accounts is the block's fee recipient it also earns the priority fees of
    // every transaction in that block (EIP-1559: base fee burned, tip to block.miner).
    const block = await withTimeout(http.getBlock(receipt.blockNumber), RPC_TIMEOUT, 'getBlock(receipt block)');
    let tips = 0n;
    const miner = getAddress(block.miner);
    if (miner === from || miner === to) {
      const baseFee = block.baseFeePerGas ?? 0n;
      for (const hash of block.transactions) {
        const r = await withTimeout(http.getTransactionReceipt(hash), RPC_TIMEOUT, `receipt ${hash}`);
        tips += r.gasUsed * (r.gasPrice - baseFee);
      }
    }

    const after1 = await http.getBalance(from, 'latest');
    const after2 = await http.getBalance(to, 'latest');
    assert.equal(
      before1 - after1,
      ETH_AMOUNT + fee - (miner === from ? tips : 0n),
      `sender pays value + gasUsed*effectiveGasPrice (gasUsed ${receipt.gasUsed}, price ${receipt.gasPrice}, ` +
        `block ${receipt.blockNumber} miner ${miner}, baseFee ${block.baseFeePerGas})`,
    );
    assert.equal(after2 - before2, ETH_AMOUNT + (miner === to ? tips : 0n), 'receiver gets exactly the value');
  });

  /** What a node says in a receipt, as plain data (ethers' contract receipts also carry the ABI). */
  function receiptFacts(r) {
    const { hash, blockHash, blockNumber, index, from, to, contractAddress, status, type, logsBloom } = r;
    const { gasUsed, cumulativeGasUsed, gasPrice } = r;
    const logs = r.logs.map((l) => ({
      address: l.address,
      topics: [...l.topics],
      data: l.data,
      index: l.index,
      transactionIndex: l.transactionIndex,
      transactionHash: l.transactionHash,
      blockHash: l.blockHash,
      blockNumber: l.blockNumber,
      removed: l.removed,
    }));
    return { hash, blockHash, blockNumber, index, from, to, contractAddress, status, type, logsBloom, gasUsed, cumulativeGasUsed, gasPrice, logs };
  }

  /** Polls `provider` until its head is at least `height` (bounded by PEER_SYNC_TIMEOUT). */
  async function waitForHeight(provider, height, what) {
    const deadline = Date.now() + PEER_SYNC_TIMEOUT;
    for (;;) {
      const head = await withTimeout(provider.getBlockNumber(), RPC_TIMEOUT, `${what}: getBlockNumber`);
      if (head >= height) return head;
      if (Date.now() > deadline) {
        assert.fail(`${what}: still at block ${head} ${PEER_SYNC_TIMEOUT} ms after ${HTTP_URL} reached block ${height}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it(
    'another node of the network serves the same blocks, receipts and state, and relays transactions',
    {
      timeout: TEST_TIMEOUT,
      skip: PEER_URLS.length === 0 ? 'BANYAN_RPC_HTTP_PEERS is not set (a single node has no other node to compare)' : false,
    },
    async () => {
      await connect();
      assert.ok(token && transferReceipt, 'token was deployed and the 1234-token transfer was mined');
      const transferBlock = transferReceipt.blockNumber;
      const head = await withTimeout(http.getBlockNumber(), RPC_TIMEOUT, 'getBlockNumber');

      for (const [i, url] of PEER_URLS.entries()) {
        const what = `BANYAN_RPC_HTTP_PEERS[${i}]=${url}`;
        // Reachable and on the same chain, checked with a plain fetch before ethers (which would
        // retry network detection forever against a dead endpoint).
        const peerChainId = BigInt(await rawRpc('eth_chainId', [], url, `BANYAN_RPC_HTTP_PEERS[${i}]`));
        assert.equal(peerChainId, rawChainId, `${what}: eth_chainId vs ${HTTP_URL}`);
        const peer = new JsonRpcProvider(url, undefined, { ...providerOptions(), pollingInterval: 500 });
        peers.push(peer);
        await waitForHeight(peer, head, what);

        // The block, the receipt (logs included) and the token's state at that block are the ones
        // the first node reported.
        const block = await withTimeout(peer.getBlock(transferBlock), RPC_TIMEOUT, `${what}: getBlock(${transferBlock})`);
        assert.ok(block, `${what}: no block ${transferBlock}`);
        assert.equal(block.hash, transferReceipt.blockHash, `${what}: hash of block ${transferBlock}`);
        assert.ok(block.transactions.includes(transferReceipt.hash), `${what}: block ${transferBlock} lists the transfer`);
        const receipt = await withTimeout(
          peer.getTransactionReceipt(transferReceipt.hash),
          RPC_TIMEOUT,
          `${what}: getTransactionReceipt`,
        );
        assert.ok(receipt, `${what}: no receipt for ${transferReceipt.hash}`);
        assert.deepEqual(receiptFacts(receipt), receiptFacts(transferReceipt), `${what}: receipt of the transfer`);

        const peerToken = new Contract(tokenAddress, compiled.abi, peer);
        const at = { blockTag: transferBlock };
        assert.equal(await peer.getCode(tokenAddress, transferBlock), compiled.deployedBytecode, `${what}: eth_getCode`);
        // The token is fresh: account 2 holds exactly what the one transfer gave it.
        assert.equal(await peerToken.balanceOf(wallet2.address, at), TRANSFER_AMOUNT, `${what}: receiver's tokens`);
        assert.equal(await peerToken.balanceOf(wallet1.address, at), INITIAL_SUPPLY - TRANSFER_AMOUNT, `${what}: sender's tokens`);
        assert.equal(await peerToken.totalSupply(at), INITIAL_SUPPLY, `${what}: totalSupply`);
        for (const addr of [wallet1.address, wallet2.address]) {
          assert.equal(
            await withTimeout(peer.getBalance(addr, head), RPC_TIMEOUT, `${what}: getBalance`),
            await withTimeout(http.getBalance(addr, head), RPC_TIMEOUT, 'getBalance'),
            `${what}: ETH balance of ${addr} at block ${head}`,
          );
        }
      }

      // A transaction submitted to another node reaches a block, and the first node serves it.
      const viaPeer = new Contract(tokenAddress, compiled.abi, new Wallet(DEV_KEY, peers[0]));
      const amount = parseUnits('7', Number(DECIMALS));
      const tx = await withTimeout(viaPeer.transfer(wallet2.address, amount), RPC_TIMEOUT, `send a transfer through ${PEER_URLS[0]}`);
      const onFirst = await withTimeout(
        http.waitForTransaction(tx.hash, 1, RECEIPT_TIMEOUT),
        RECEIPT_TIMEOUT + RPC_TIMEOUT,
        `receipt at ${HTTP_URL} of ${tx.hash}, sent through ${PEER_URLS[0]}`,
      );
      assert.ok(onFirst, `no receipt at ${HTTP_URL} for ${tx.hash}`);
      assert.equal(onFirst.status, 1, `transfer ${tx.hash} sent through ${PEER_URLS[0]} failed`);
      const onPeer = await tx.wait(1, RECEIPT_TIMEOUT);
      assert.equal(onPeer.blockHash, onFirst.blockHash, 'both nodes put the relayed transfer in the same block');
      const n = onFirst.blockNumber;
      const delta = async (addr) =>
        (await token.balanceOf(addr, { blockTag: n })) - (await token.balanceOf(addr, { blockTag: n - 1 }));
      assert.equal(await delta(wallet2.address), amount, `receiver's tokens over block ${n}, read at ${HTTP_URL}`);
      assert.equal(await delta(wallet1.address), -amount, `sender's tokens over block ${n}, read at ${HTTP_URL}`);
    },
  );
});
