//! `banyan account new|list`: key files in a keystore directory.

use anyhow::{Context, bail};
use banyan_crypto::{SecretKey, Suite};
use std::path::{Path, PathBuf};

/// `banyan account ...`
#[derive(clap::Subcommand)]
pub(crate) enum AccountCmd {
    /// Generate a new key and write it to the keystore (file readable by the owner only).
    New {
        /// Keystore directory.
        #[arg(long, default_value = "keystore")]
        keystore: PathBuf,
        /// Crypto suite of the chain the account is for.
        #[arg(long, default_value = "ecdsa")]
        suite: Suite,
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
        /// The key file (`suite:hex`, as `banyan account new` and `banyan init` write).
        key_file: PathBuf,
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

/// Reads a key file: `suite:hex` or plain hex.
pub(crate) fn read_key_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    let t = text.trim();
    Ok(t.rsplit(':').next().unwrap_or(t).to_string())
}

/// Reads a key file as `banyan account new` writes it: `suite:hex`, or plain hex (ecdsa).
pub(crate) fn parse_key_file(path: &Path) -> anyhow::Result<(Suite, SecretKey)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (suite, hex) = text
        .trim()
        .split_once(':')
        .unwrap_or(("ecdsa", text.trim()));
    let suite: Suite = suite
        .parse()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((
        suite,
        SecretKey::from_hex(hex).with_context(|| format!("{}: invalid key", path.display()))?,
    ))
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
        AccountCmd::Show { key_file, json } => {
            let (suite, key) = parse_key_file(&key_file)?;
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
        AccountCmd::New { keystore, suite } => {
            std::fs::create_dir_all(&keystore)
                .with_context(|| format!("creating {}", keystore.display()))?;
            let key = suite.generate_secret();
            let address = suite.address(&suite.public_key(&key)?);
            let path = keystore.join(format!("{address}.key"));
            if path.exists() {
                bail!("{} already exists", path.display());
            }
            write_private(
                &path,
                &format!("{suite}:{}\n", key.to_hex().trim_start_matches("0x")),
            )?;
            println!("address  {address}");
            println!("suite    {suite}");
            println!("key file {}", path.display());
            Ok(())
        }
        AccountCmd::List { keystore } => {
            let mut entries: Vec<_> = std::fs::read_dir(&keystore)
                .with_context(|| format!("reading keystore {}", keystore.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "key"))
                .collect();
            entries.sort();
            for p in entries {
                match parse_key_file(&p) {
                    Ok((suite, key)) => println!(
                        "{}  {suite}  {}",
                        suite.address(&suite.public_key(&key)?),
                        p.display()
                    ),
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
