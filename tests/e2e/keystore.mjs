// Keystore interoperability with ethers v6, driven by the `keystore_interop` scenario:
//   node keystore.mjs decrypt FILE PASSPHRASE   prints {"address": ...} of the decrypted key
//   node keystore.mjs encrypt FILE PASSPHRASE   writes a new random wallet's keystore to FILE
//                                               (ethers' defaults) and prints its address
import { readFileSync, writeFileSync } from "node:fs";
import { Wallet } from "ethers";

const [command, file, passphrase] = process.argv.slice(2);
if (!command || !file || passphrase === undefined) {
  console.error("usage: node keystore.mjs decrypt|encrypt FILE PASSPHRASE");
  process.exit(2);
}
if (command === "decrypt") {
  const wallet = await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), passphrase);
  console.log(JSON.stringify({ address: wallet.address }));
} else if (command === "encrypt") {
  const wallet = Wallet.createRandom();
  writeFileSync(file, await wallet.encrypt(passphrase), { mode: 0o600 });
  console.log(JSON.stringify({ address: wallet.address }));
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
