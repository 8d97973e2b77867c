//! `banyan crypto …`: the chain's hash, keys, signatures and encryption from
//! the shell, with either suite. Inputs and outputs are hex (`0x` optional on
//! input, always printed), one value per line, so the output pipes into scripts.

use std::io::Write as _;

use anyhow::{Context as _, Result, bail};
use banyan_crypto::{PublicKey, SecretKey, Signature, Suite, SymmetricKey};
use clap::{Args, Subcommand, builder::PossibleValuesParser, builder::TypedValueParser as _};

/// Hash, generate keys, sign, verify, encrypt and decrypt with the chain's crypto suites.
///
/// `--suite ecdsa` (the default) is Ethereum's: secp256k1, Keccak-256, AES-256-GCM.
/// `--suite sm` is the Chinese national standards: SM2, SM3, SM4-GCM.
/// Keys given on the command line end up in shell history: use these commands
/// for tests and tooling, not for production validator keys.
#[derive(Subcommand, Debug)]
pub(crate) enum CryptoCmd {
    /// Hash a message with the suite's hash (Keccak-256 or SM3) and print the 32-byte digest.
    ///
    /// Example: `banyan crypto hash --suite sm --text abc`
    Hash {
        #[command(flatten)]
        suite: SuiteArg,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Generate a key pair and print `suite`, `secret_key`, `public_key` and `address` lines.
    ///
    /// With `--key` the key pair is derived from that secret key instead; with
    /// `--symmetric` a symmetric key for `encrypt`/`decrypt` is printed instead.
    Keygen {
        #[command(flatten)]
        suite: SuiteArg,
        /// Existing 32-byte secret key (hex) to derive the public key and address from.
        #[arg(long, value_name = "HEX", conflicts_with = "symmetric")]
        key: Option<String>,
        /// Generate a symmetric key (32 bytes for ecdsa/AES-256, 16 for sm/SM4) instead.
        #[arg(long)]
        symmetric: bool,
    },
    /// Sign a message and print the signature.
    ///
    /// ecdsa: keccak256 of the message signed with secp256k1 (RFC 6979, low-S),
    /// 65 bytes r||s||v with v in {0,1}. sm: SM2 with user id 1234567812345678,
    /// 64 bytes r||s. Both are deterministic.
    Sign {
        #[command(flatten)]
        suite: SuiteArg,
        /// The signer's 32-byte secret key (hex).
        #[arg(long, value_name = "HEX")]
        key: String,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Verify a signature; print `valid`, or fail with a non-zero exit status.
    Verify {
        #[command(flatten)]
        suite: SuiteArg,
        /// The signer's public key (hex): 64 bytes x||y or 65 bytes 04||x||y.
        #[arg(long, value_name = "HEX")]
        pubkey: String,
        /// The signature (hex) as printed by `sign`.
        #[arg(long, value_name = "HEX")]
        sig: String,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Encrypt a message with a fresh random nonce and print nonce||ciphertext||tag.
    ///
    /// ecdsa: AES-256-GCM (32-byte key). sm: SM4-GCM (16-byte key).
    /// Make a key with `banyan crypto keygen --symmetric`.
    Encrypt {
        #[command(flatten)]
        suite: SuiteArg,
        /// Symmetric key (hex): 32 bytes for ecdsa, 16 bytes for sm.
        #[arg(long, value_name = "HEX")]
        key: String,
        #[command(flatten)]
        message: MessageArgs,
    },
    /// Decrypt the output of `encrypt` and print the plaintext as hex (or text with `--utf8`).
    ///
    /// Fails if the key is wrong or a single bit of the input was changed.
    Decrypt {
        #[command(flatten)]
        suite: SuiteArg,
        /// Symmetric key (hex) used by `encrypt`.
        #[arg(long, value_name = "HEX")]
        key: String,
        /// The output of `encrypt` (hex): nonce||ciphertext||tag.
        #[arg(long, value_name = "HEX")]
        data: String,
        /// Print the plaintext as UTF-8 text instead of hex.
        #[arg(long)]
        utf8: bool,
    },
}

/// The `--suite` option shared by every command.
#[derive(Args, Debug)]
pub(crate) struct SuiteArg {
    /// Crypto suite: ecdsa (secp256k1, Keccak-256, AES-256-GCM) or sm (SM2, SM3, SM4-GCM).
    #[arg(
        long,
        default_value = "ecdsa",
        value_parser = PossibleValuesParser::new(["ecdsa", "sm"])
            .try_map(|name| name.parse::<Suite>()),
    )]
    suite: Suite,
}

/// The message: exactly one of `--data` (hex bytes) or `--text` (UTF-8 string).
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct MessageArgs {
    /// Message as hex bytes (0x prefix optional).
    #[arg(long, value_name = "HEX")]
    data: Option<String>,
    /// Message as a UTF-8 string, used as its bytes.
    #[arg(long, value_name = "STRING")]
    text: Option<String>,
}

impl MessageArgs {
    fn bytes(&self) -> Result<Vec<u8>> {
        match (&self.data, &self.text) {
            (Some(data), None) => decode_hex(data).context("--data"),
            (None, Some(text)) => Ok(text.as_bytes().to_vec()),
            // clap's argument group makes the two options exclusive and required.
            _ => bail!("give exactly one of --data HEX or --text STRING"),
        }
    }
}

/// Runs a `banyan crypto` command and prints its result lines to stdout.
pub(crate) fn run(cmd: CryptoCmd) -> Result<()> {
    let lines = execute(cmd)?;
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        writeln!(stdout, "{line}")?;
    }
    Ok(())
}

/// Runs a command and returns the lines it prints.
fn execute(cmd: CryptoCmd) -> Result<Vec<String>> {
    match cmd {
        CryptoCmd::Hash { suite, message } => {
            Ok(vec![suite.suite.hash(&message.bytes()?).to_string()])
        }
        CryptoCmd::Keygen {
            suite,
            key,
            symmetric,
        } => keygen(suite.suite, key.as_deref(), symmetric),
        CryptoCmd::Sign {
            suite,
            key,
            message,
        } => {
            let sk = SecretKey::from_hex(&key).context("--key")?;
            let sig = suite.suite.sign(&sk, &message.bytes()?)?;
            Ok(vec![sig.to_hex()])
        }
        CryptoCmd::Verify {
            suite,
            pubkey,
            sig,
            message,
        } => {
            let pk = PublicKey::from_hex(suite.suite, &pubkey).context("--pubkey")?;
            let sig = Signature::from_hex(&sig).context("--sig")?;
            suite.suite.verify(&pk, &message.bytes()?, &sig)?;
            Ok(vec!["valid".to_owned()])
        }
        CryptoCmd::Encrypt {
            suite,
            key,
            message,
        } => {
            let key = SymmetricKey::from_hex(&key).context("--key")?;
            let sealed = suite.suite.encrypt(&key, &message.bytes()?)?;
            Ok(vec![format!("0x{}", hex::encode(sealed))])
        }
        CryptoCmd::Decrypt {
            suite,
            key,
            data,
            utf8,
        } => {
            let key = SymmetricKey::from_hex(&key).context("--key")?;
            let plaintext = suite
                .suite
                .decrypt(&key, &decode_hex(&data).context("--data")?)?;
            if utf8 {
                let text = String::from_utf8(plaintext)
                    .context("the plaintext is not UTF-8; omit --utf8 to print it as hex")?;
                Ok(vec![text])
            } else {
                Ok(vec![format!("0x{}", hex::encode(plaintext))])
            }
        }
    }
}

fn keygen(suite: Suite, key: Option<&str>, symmetric: bool) -> Result<Vec<String>> {
    if symmetric {
        let key = suite.generate_symmetric_key();
        return Ok(vec![
            format!("suite: {suite}"),
            format!("symmetric_key: {}", key.to_hex()),
        ]);
    }
    let sk = match key {
        Some(hex) => suite
            .secret_key_from_bytes(&decode_hex(hex).context("--key")?)
            .context("--key")?,
        None => suite.generate_secret(),
    };
    let pk = suite.public_key(&sk)?;
    let address = suite.address(&pk);
    // ecdsa addresses print with the EIP-55 checksum that wallets show; the
    // checksum is a Keccak convention, so sm addresses print in lowercase.
    let address = match suite {
        Suite::Ecdsa => address.to_string(),
        Suite::Sm => format!("{address:#x}"),
    };
    Ok(vec![
        format!("suite: {suite}"),
        format!("secret_key: {}", sk.to_hex()),
        format!("public_key: {}", pk.to_hex()),
        format!("address: {address}"),
    ])
}

fn decode_hex(input: &str) -> Result<Vec<u8>> {
    let trimmed = input.trim();
    let digits = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    hex::decode(digits).with_context(|| format!("not valid hex: {input:?}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// Stand-in for the binary's top level, to parse argument lists in tests.
    #[derive(Parser, Debug)]
    struct TestCli {
        #[command(subcommand)]
        cmd: CryptoCmd,
    }

    fn run_args(args: &[&str]) -> Result<Vec<String>> {
        let cli = TestCli::try_parse_from(std::iter::once("crypto").chain(args.iter().copied()))?;
        execute(cli.cmd)
    }

    fn value(lines: &[String], name: &str) -> String {
        let prefix = format!("{name}: ");
        lines
            .iter()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {name} line in {lines:?}"))
            .to_owned()
    }

    #[test]
    fn hash_prints_the_standard_sm3_vector() {
        assert_eq!(
            run_args(&["hash", "--suite", "sm", "--text", "abc"]).unwrap(),
            ["0x66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"]
        );
        assert_eq!(
            run_args(&["hash", "--data", "0x"]).unwrap(),
            ["0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"]
        );
    }

    #[test]
    fn message_needs_exactly_one_of_data_and_text() {
        assert!(run_args(&["hash"]).is_err());
        assert!(run_args(&["hash", "--data", "00", "--text", "a"]).is_err());
        assert!(run_args(&["hash", "--suite", "rsa", "--text", "a"]).is_err());
    }

    #[test]
    fn keygen_from_a_known_key_prints_the_hardhat_address() {
        let lines = run_args(&[
            "keygen",
            "--key",
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        ])
        .unwrap();
        assert_eq!(
            value(&lines, "address"),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn sign_then_verify_round_trips_for_both_suites() {
        for suite in ["ecdsa", "sm"] {
            let keys = run_args(&["keygen", "--suite", suite]).unwrap();
            let sig = run_args(&[
                "sign",
                "--suite",
                suite,
                "--key",
                &value(&keys, "secret_key"),
                "--text",
                "hello",
            ])
            .unwrap();
            let pubkey = value(&keys, "public_key");
            let verify = |text: &str| {
                run_args(&[
                    "verify", "--suite", suite, "--pubkey", &pubkey, "--sig", &sig[0], "--text",
                    text,
                ])
            };
            assert_eq!(verify("hello").unwrap(), ["valid"]);
            assert!(verify("hell0").is_err());
        }
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_for_both_suites() {
        for suite in ["ecdsa", "sm"] {
            let keys = run_args(&["keygen", "--suite", suite, "--symmetric"]).unwrap();
            let key = value(&keys, "symmetric_key");
            let sealed =
                run_args(&["encrypt", "--suite", suite, "--key", &key, "--text", "hi"]).unwrap();
            let opened = run_args(&[
                "decrypt", "--suite", suite, "--key", &key, "--data", &sealed[0], "--utf8",
            ])
            .unwrap();
            assert_eq!(opened, ["hi"]);
        }
    }
}
