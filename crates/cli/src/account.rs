//! `banyan account new|list`: key files in a keystore directory.

use anyhow::{Context, bail};
use banyan_crypto::{SecretKey, Suite};
use banyan_node::config::Passphrase;
use std::path::{Path, PathBuf};

/// `banyan account ...`
#[derive(clap::Subcommand)]
pub(crate) enum AccountCmd {
    /// Generate a new key and write it to the keystore, encrypted with a passphrase (a Web3
    /// Secret Storage file, `ADDRESS.json`, that Geth, ethers and web3.py read), readable by the
    /// owner only.
    New {
        /// Keystore directory.
        #[arg(long, default_value = "keystore")]
        keystore: PathBuf,
        /// Crypto suite of the chain the account is for.
        #[arg(long, default_value = "ecdsa")]
        suite: Suite,
        #[command(flatten)]
        secret: SecretOpts,
        /// The cost of scrypt: `standard` (Geth's: N = 2^18, about 256 MiB and a second) or
        /// `light` (N = 2^12, for test keys).
        #[arg(long, default_value = "standard")]
        kdf: Kdf,
        /// Write the key unencrypted (`ADDRESS.key`, `suite:hex`): for test keys only.
        #[arg(long, conflicts_with = "passphrase_file")]
        plain: bool,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List the accounts in the keystore.
    List {
        /// Keystore directory.
        #[arg(long, default_value = "keystore")]
        keystore: PathBuf,
    },
    /// Print a key file's address and public key (safe to share; e.g. for `banyan gov propose
    /// add-validator`). The secret is never printed.
    Show {
        /// The key file: a keystore (`banyan account new`, Geth, ethers), `suite:hex` or hex.
        key_file: PathBuf,
        #[command(flatten)]
        secret: SecretOpts,
        /// One JSON object on stdout, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Propose freezing an account or contract (as a governor): a frozen account cannot send
    /// transactions and a frozen contract cannot be called.
    Freeze {
        /// The account or contract.
        account: alloy_primitives::Address,
        #[command(flatten)]
        opts: crate::gov_cmd::ProposeOpts,
    },
    /// Propose lifting a freeze.
    Unfreeze {
        /// The account or contract.
        account: alloy_primitives::Address,
        #[command(flatten)]
        opts: crate::gov_cmd::ProposeOpts,
    },
}

/// Where the passphrase of an encrypted key file comes from.
#[derive(clap::Args, Default)]
pub(crate) struct SecretOpts {
    /// A file whose first line is the passphrase (default: the file named by
    /// BANYAN_PASSPHRASE_FILE, else the passphrase in BANYAN_PASSPHRASE).
    #[arg(long)]
    pub(crate) passphrase_file: Option<PathBuf>,
}

/// scrypt parameters by name.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub(crate) enum Kdf {
    /// Geth's standard parameters.
    #[default]
    Standard,
    /// Geth's light parameters.
    Light,
}

impl Kdf {
    pub(crate) fn params(self) -> banyan_crypto::keystore::ScryptParams {
        match self {
            Self::Standard => banyan_crypto::keystore::STANDARD,
            Self::Light => banyan_crypto::keystore::LIGHT,
        }
    }
}

/// The environment variable naming a passphrase file for the CLI.
const PASSPHRASE_FILE_ENV: &str = "BANYAN_PASSPHRASE_FILE";

impl SecretOpts {
    /// The passphrase source: `--passphrase-file`, else `BANYAN_PASSPHRASE_FILE`, else
    /// `BANYAN_PASSPHRASE` (read only when needed).
    pub(crate) fn passphrase(&self) -> Passphrase {
        passphrase_source(self.passphrase_file.clone())
    }
}

fn passphrase_source(flag: Option<PathBuf>) -> Passphrase {
    match flag {
        Some(path) => Passphrase::new(Some((path, "--passphrase-file"))),
        None => match std::env::var_os(PASSPHRASE_FILE_ENV) {
            Some(path) => Passphrase::new(Some((path.into(), PASSPHRASE_FILE_ENV))),
            None => Passphrase::new(None),
        },
    }
}

/// Reads a plain key file (`suite:hex` or hex) as hex: for the Ed25519 seeds of `vc`.
pub(crate) fn read_key_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    let t = text.trim();
    Ok(t.rsplit(':').next().unwrap_or(t).to_string())
}

/// Reads a secret key file: a keystore (decrypted with the passphrase from the environment,
/// see [`SecretOpts`]), `suite:hex`, or hex (ecdsa).
pub(crate) fn parse_key_file(path: &Path) -> anyhow::Result<(Suite, SecretKey)> {
    parse_key_file_with(path, &passphrase_source(None))
}

pub(crate) fn parse_key_file_with(
    path: &Path,
    passphrase: &Passphrase,
) -> anyhow::Result<(Suite, SecretKey)> {
    banyan_node::config::read_secret_key(path, Suite::Ecdsa, passphrase)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The address a keystore file states, read without its passphrase.
pub(crate) fn stated_address(path: &Path) -> anyhow::Result<(Suite, alloy_primitives::Address)> {
    let text = std::fs::read_to_string(path)?;
    let suite = banyan_crypto::keystore::suite_of(&text)?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    let address = value["address"]
        .as_str()
        .context("the keystore states no address")?;
    let address = format!("0x{}", address.trim_start_matches("0x")).parse()?;
    Ok((suite, address))
}

pub(crate) fn run(cmd: AccountCmd) -> anyhow::Result<()> {
    use banyan_sdk::governance::ProposalAction;
    match cmd {
        AccountCmd::Freeze { account, opts } => {
            crate::gov_cmd::propose(ProposalAction::Freeze { account }, opts)
        }
        AccountCmd::Unfreeze { account, opts } => {
            crate::gov_cmd::propose(ProposalAction::Unfreeze { account }, opts)
        }
        AccountCmd::Show {
            key_file,
            secret,
            json,
        } => {
            let (suite, key) = parse_key_file_with(&key_file, &secret.passphrase())?;
            let public = suite.public_key(&key)?;
            let address = suite.address(&public);
            let public = format!("0x{}", alloy_primitives::hex::encode(public.to_bytes()));
            if json {
                println!(
                    "{}",
                    serde_json::json!({"address": address, "suite": suite.name(), "publicKey": public})
                );
            } else {
                println!("address    {address}");
                println!("suite      {suite}");
                println!("public key {public}");
            }
            Ok(())
        }
        AccountCmd::New {
            keystore,
            suite,
            secret,
            kdf,
            plain,
            json,
        } => {
            let key = suite.generate_secret();
            let address = suite.address(&suite.public_key(&key)?);
            let (path, text) = if plain {
                (
                    keystore.join(format!("{address}.key")),
                    format!("{suite}:{}\n", key.to_hex().trim_start_matches("0x")),
                )
            } else {
                let passphrase = secret.passphrase();
                let pass = passphrase.get().map_err(|e| {
                    anyhow::anyhow!(
                        "banyan account new encrypts the key: {e} (or pass --plain for an \
                         unencrypted test key)"
                    )
                })?;
                let sealed = banyan_crypto::keystore::encrypt(suite, &key, pass, kdf.params())?;
                (keystore.join(format!("{address}.json")), sealed)
            };
            std::fs::create_dir_all(&keystore)
                .with_context(|| format!("creating {}", keystore.display()))?;
            if path.exists() {
                bail!("{} already exists", path.display());
            }
            write_private(&path, &text)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "address": address,
                        "suite": suite.name(),
                        "keyFile": path,
                        "encrypted": !plain,
                    })
                );
            } else {
                println!("address  {address}");
                println!("suite    {suite}");
                println!("key file {}", path.display());
                if plain {
                    println!("warning  the key is not encrypted");
                }
            }
            Ok(())
        }
        AccountCmd::List { keystore } => {
            let mut entries: Vec<_> = std::fs::read_dir(&keystore)
                .with_context(|| format!("reading keystore {}", keystore.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "key" || x == "json"))
                .collect();
            entries.sort();
            for p in entries {
                // A keystore states its address: listed without its passphrase.
                let keystore = std::fs::read_to_string(&p)
                    .is_ok_and(|t| banyan_crypto::keystore::is_keystore(&t));
                let listed = if keystore {
                    stated_address(&p).map(|(suite, address)| (suite, address, "encrypted"))
                } else {
                    parse_key_file_with(&p, &Passphrase::new(None)).and_then(|(suite, key)| {
                        Ok((suite, suite.address(&suite.public_key(&key)?), "plain"))
                    })
                };
                match listed {
                    Ok((suite, address, how)) => {
                        println!("{address}  {suite}  {how:9}  {}", p.display());
                    }
                    Err(e) => eprintln!("skipping {}: {e:#}", p.display()),
                }
            }
            Ok(())
        }
    }
}

/// Creates `path` (never overwriting it) readable by the owner only, and writes `contents`.
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
