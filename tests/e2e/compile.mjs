// Compiles contracts/BanyanToken.sol with solc-js (the `solc` npm package, pinned in package.json).
//
// As a module:  import { compileBanyanToken } from './compile.mjs';
//               const { abi, bytecode } = compileBanyanToken();   // bytecode is 0x-prefixed
// As a script:  node tests/e2e/compile.mjs
//               writes contracts/build/BanyanToken.abi.json and contracts/build/BanyanToken.bin
//               (creation bytecode, hex without 0x) for consumers that have no solc, such as the
//               Rust load generator.
//
// EVM version: pinned to "cancun" rather than solc's default (osaka for 0.8.37). Banyan runs revm
// at its latest hardfork, which executes Cancun bytecode unchanged, and pinning keeps the
// committed .bin reproducible and runnable on any post-Cancun EVM. Override with
// BANYAN_EVM_VERSION (e.g. "shanghai" for an older dev chain) if ever needed.

import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const here = dirname(fileURLToPath(import.meta.url));
export const CONTRACTS_DIR = join(here, '..', '..', 'contracts');
export const SOURCE_FILE = 'BanyanToken.sol';
export const CONTRACT_NAME = 'BanyanToken';
export const EVM_VERSION = process.env.BANYAN_EVM_VERSION || 'cancun';
export const OPTIMIZER_RUNS = 200;

/** The solc-js compiler version string, e.g. "0.8.37+commit.….Emscripten.clang". */
export function solcVersion() {
  return solc.version();
}

/**
 * Compiles BanyanToken with solc standard JSON.
 * @returns {{abi: object[], bytecode: string, deployedBytecode: string, solcVersion: string, evmVersion: string}}
 *   bytecode / deployedBytecode are 0x-prefixed hex.
 * @throws Error listing every solc error if compilation fails.
 */
export function compileBanyanToken() {
  const source = readFileSync(join(CONTRACTS_DIR, SOURCE_FILE), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { [SOURCE_FILE]: { content: source } },
    settings: {
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      evmVersion: EVM_VERSION,
      // The source is keyed by its bare file name, so the metadata hash appended to the bytecode
      // does not depend on where the repo is checked out.
      outputSelection: {
        [SOURCE_FILE]: { [CONTRACT_NAME]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = output.errors ?? [];
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new Error(
      `solc ${solcVersion()} failed to compile ${SOURCE_FILE}:\n` +
        errors.map((e) => e.formattedMessage ?? e.message).join('\n'),
    );
  }
  for (const w of diagnostics.filter((d) => d.severity !== 'error')) {
    process.stderr.write(`solc ${w.severity}: ${w.formattedMessage ?? w.message}\n`);
  }

  const contract = output.contracts?.[SOURCE_FILE]?.[CONTRACT_NAME];
  const bin = contract?.evm?.bytecode?.object;
  if (!contract || !bin) {
    throw new Error(`solc produced no bytecode for ${SOURCE_FILE}:${CONTRACT_NAME}`);
  }
  return {
    abi: contract.abi,
    bytecode: `0x${bin}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    solcVersion: solcVersion(),
    evmVersion: EVM_VERSION,
  };
}

/** Writes contracts/build/BanyanToken.{abi.json,bin}; returns the paths written. */
export function writeBuildFiles(outDir = join(CONTRACTS_DIR, 'build')) {
  const { abi, bytecode } = compileBanyanToken();
  mkdirSync(outDir, { recursive: true });
  const abiPath = join(outDir, `${CONTRACT_NAME}.abi.json`);
  const binPath = join(outDir, `${CONTRACT_NAME}.bin`);
  writeFileSync(abiPath, `${JSON.stringify(abi, null, 2)}\n`);
  // No trailing newline: the file is exactly the hex string, so `hex::decode(include_str!(..))` works.
  writeFileSync(binPath, bytecode.slice(2));
  return { abiPath, binPath };
}

const invokedAsScript =
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));

if (invokedAsScript) {
  const { abiPath, binPath } = writeBuildFiles();
  const cwd = process.cwd();
  console.log(`solc ${solcVersion()} (evmVersion ${EVM_VERSION}, optimizer on, ${OPTIMIZER_RUNS} runs)`);
  console.log(`wrote ${relative(cwd, abiPath) || abiPath}`);
  console.log(`wrote ${relative(cwd, binPath) || binPath}`);
}
