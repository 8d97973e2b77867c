// Needs no node: checks that the committed contracts/build/ files are what compile.mjs produces
// from contracts/BanyanToken.sol today, so the Rust load generator (which deploys the .bin without
// solc) never runs a stale contract. Fix a failure with `node tests/e2e/compile.mjs` and commit.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONTRACTS_DIR, EVM_VERSION, compileBanyanToken } from './compile.mjs';

const BUILD_DIR = join(CONTRACTS_DIR, 'build');
const COMMITTED_EVM_VERSION = 'cancun';

describe('contracts/build is up to date', () => {
  it('BanyanToken.bin and BanyanToken.abi.json match a fresh solc-js compile', (t) => {
    if (EVM_VERSION !== COMMITTED_EVM_VERSION) {
      t.skip(`BANYAN_EVM_VERSION=${EVM_VERSION}; the committed build is for ${COMMITTED_EVM_VERSION}`);
      return;
    }
    const { abi, bytecode, solcVersion } = compileBanyanToken();
    const bin = readFileSync(join(BUILD_DIR, 'BanyanToken.bin'), 'utf8');
    assert.match(bin, /^[0-9a-f]+$/, 'BanyanToken.bin is bare lowercase hex: no 0x, no whitespace');
    assert.equal(bin, bytecode.slice(2), `BanyanToken.bin is stale (fresh compile: solc ${solcVersion}); run node tests/e2e/compile.mjs`);
    const committedAbi = JSON.parse(readFileSync(join(BUILD_DIR, 'BanyanToken.abi.json'), 'utf8'));
    assert.deepEqual(committedAbi, abi, 'BanyanToken.abi.json is stale; run node tests/e2e/compile.mjs');
  });

  it('the ABI is the ERC-20 surface the tests and the load generator rely on', () => {
    const { abi } = compileBanyanToken();
    const names = (type) => abi.filter((e) => e.type === type).map((e) => e.name).sort();
    assert.deepEqual(names('function'), [
      'allowance', 'approve', 'balanceOf', 'decimals', 'name', 'symbol', 'totalSupply', 'transfer', 'transferFrom',
    ]);
    assert.deepEqual(names('event'), ['Approval', 'Transfer']);
    const ctor = abi.find((e) => e.type === 'constructor');
    assert.deepEqual(ctor?.inputs?.map((i) => i.type), ['uint256'], 'constructor(uint256 initialSupply)');
  });
});
