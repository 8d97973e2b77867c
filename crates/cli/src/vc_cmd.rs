//! `banyan vc`: issue, verify, revoke, suspend and present W3C verifiable credentials. The
//! credential goes to its holder off the ledger; the ledger records its hash, issuer, subject,
//! schema, validity and status (`docs/identity/credentials.md`). Verification is the node's
//! one verify path (`banyan_verifyCredential`, `banyan_verifyPresentation`).

use alloy_primitives::{B256, U256};
use anyhow::{Context, bail};
use banyan_identity::issue;
use banyan_identity::verify::{self, Binding};
use banyan_identity::{Did, sd_jwt};
use banyan_sdk::identity::{self, IDENTITY_ADDRESS, IIdentity};
use banyan_sdk::{BlockId, Client};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

use crate::client::{SendOpts, rt};
use crate::evidence_cmd::ReadOpts;

/// How an issued credential is secured.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum Format {
    /// A compact JWS, `vc+jwt` (ES256K, or SM2SM3 on sm chains).
    Jwt,
    /// An SD-JWT, `vc+sd-jwt`: the holder discloses the claims it chooses.
    SdJwt,
    /// JSON with a Data Integrity proof, `eddsa-jcs-2022`, by the issuer's Ed25519 key.
    Di,
}

/// `banyan vc …`
#[derive(clap::Subcommand)]
pub(crate) enum VcCmd {
    /// Issues a credential as the sender (an authority issuer of the schema's type) to SUBJECT,
    /// records its hash on the ledger, and writes the credential (to --out, or stdout).
    Issue {
        /// The subject's DID (or account); it must have an active DID.
        #[arg(long)]
        subject: String,
        /// The schema's id (`banyan schema list`).
        #[arg(long)]
        schema: B256,
        /// The claims about the subject: a JSON object, or @FILE holding one.
        #[arg(long)]
        claims: String,
        /// The credential's type after VerifiableCredential (e.g. KycCredential).
        #[arg(long = "type", default_value = "KycCredential")]
        credential_type: String,
        /// How it is secured.
        #[arg(long, value_enum, default_value = "jwt")]
        format: Format,
        /// With --format sd-jwt: the claims the holder may disclose one by one (comma-separated;
        /// default all).
        #[arg(long, value_delimiter = ',')]
        disclosable: Vec<String>,
        /// With --format di: the file holding the issuer's Ed25519 seed (hex), listed in its
        /// DID document under --ed25519-fragment.
        #[arg(long)]
        ed25519_key_file: Option<PathBuf>,
        /// The fragment of the issuer's signing key in its DID document.
        #[arg(long)]
        fragment: Option<String>,
        /// Valid from (unix seconds; default now).
        #[arg(long)]
        valid_from: Option<u64>,
        /// Valid for this many seconds from --valid-from (default: no end).
        #[arg(long)]
        valid_for: Option<u64>,
        /// Where to write the credential (default stdout; what was done then goes to stderr).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sign the credential without recording it on the ledger, and without checking the
        /// claims against the schema first: it verifies only once its hash is recorded (for an
        /// issuer that records through a multi-signature wallet, and for testing verifiers).
        #[arg(long)]
        sign_only: bool,
        #[command(flatten)]
        send: crate::did_cmd::Send,
    },
    /// Verifies a credential: signature, issuer DID and authority, schema, validity, status and
    /// evidence. Exits non-zero when it does not verify.
    Verify {
        /// The credential file (a JWT or SD-JWT, or JSON with a proof), or - for stdin.
        file: PathBuf,
        /// Judge by the state and time of this block (default the latest).
        #[arg(long)]
        block: Option<u64>,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Revokes, for good, a credential the sender issued.
    Revoke {
        /// The credential file, or its hash.
        credential: String,
        /// Why (recorded on the ledger; no personal data).
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        send: crate::did_cmd::Send,
    },
    /// Suspends a credential the sender issued (or reinstates it with --lift).
    Suspend {
        /// The credential file, or its hash.
        credential: String,
        /// Reinstate instead.
        #[arg(long)]
        lift: bool,
        /// Why (recorded on the ledger; no personal data).
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        send: crate::did_cmd::Send,
    },
    /// Makes a presentation of a credential for a verifier's challenge and domain, signed by the
    /// holder (the sender's key): an SD-JWT with key binding revealing --reveal, or a vp+jwt.
    Present {
        /// The credential file.
        file: PathBuf,
        /// The verifier's challenge (`banyan vc challenge`, or the verifier's own).
        #[arg(long)]
        challenge: String,
        /// The verifier's domain.
        #[arg(long)]
        domain: String,
        /// For an SD-JWT: the claims to reveal (comma-separated; default none).
        #[arg(long, value_delimiter = ',')]
        reveal: Vec<String>,
        /// The fragment of the holder's authentication key in its DID document.
        #[arg(long, default_value = "key-1")]
        fragment: String,
        /// Where to write the presentation (default stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        send: SendKey,
    },
    /// Asks the node for a one-time challenge (a presentation made for it verifies once).
    Challenge {
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Verifies a presentation against the verifier's challenge and domain, and every
    /// credential in it. Exits non-zero when it does not verify.
    VerifyPresentation {
        /// The presentation file, or - for stdin.
        file: PathBuf,
        /// The challenge the presentation must be bound to.
        #[arg(long)]
        challenge: String,
        /// The domain the presentation must be bound to.
        #[arg(long)]
        domain: String,
        #[command(flatten)]
        read: ReadOpts,
    },
}

/// The holder's key and node, for a presentation (signed, not sent).
#[derive(clap::Args)]
pub(crate) struct SendKey {
    #[command(flatten)]
    opts: SendOpts,
    /// One JSON object on stdout, for scripts: the presentation, or the file written.
    #[arg(long)]
    json: bool,
}

/// A credential or presentation file as JSON: a JWT / SD-JWT (text) or a JSON object.
fn read_secured(path: &Path) -> anyhow::Result<Value> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let text = text.trim();
    if text.len() > 256 * 1024 {
        bail!(
            "{}: {} bytes, above the 256 KiB bound",
            path.display(),
            text.len()
        );
    }
    Ok(if text.starts_with('{') {
        serde_json::from_str(text).with_context(|| format!("{} is not JSON", path.display()))?
    } else {
        Value::String(text.to_string())
    })
}

/// The hash of a credential given as a hash or a file.
fn hash_of(credential: &str, suite: banyan_crypto::Suite) -> anyhow::Result<B256> {
    if let Ok(hash) = credential.parse::<B256>() {
        return Ok(hash);
    }
    let value = read_secured(Path::new(credential))?;
    verify::recorded_hash(suite, &value).map_err(|e| anyhow::anyhow!("{credential}: {e}"))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn write_out(out: Option<&Path>, value: &Value) -> anyhow::Result<()> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other)?,
    };
    match out {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

/// Prints what `vc issue` did: on stdout when the credential went to a file, else on stderr
/// (stdout carries the credential).
fn summarize(to_stdout: bool, json: bool, summary: &Value, text: &str) {
    let line = if json {
        summary.to_string()
    } else {
        text.to_string()
    };
    if to_stdout {
        println!("{line}");
    } else {
        eprintln!("{line}");
    }
}

/// Prints a verification (pretty, or one line with --json) and fails when it did not verify.
fn report(result: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{result}");
    } else if result["verified"] == json!(true) {
        println!("verified");
        for key in ["mediaType", "issuer", "subject", "holder", "hash"] {
            if let Some(v) = result.get(key).and_then(Value::as_str) {
                println!("{key:<11} {v}");
            }
        }
    } else {
        println!("NOT verified");
    }
    let problems = result["problemDetails"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if result["verified"] != json!(true) {
        if !json {
            for p in &problems {
                println!(
                    "  {:<22} {}",
                    p["reason"].as_str().unwrap_or_default(),
                    p["detail"].as_str().unwrap_or_default()
                );
            }
        }
        let reasons: Vec<&str> = problems
            .iter()
            .filter_map(|p| p["reason"].as_str())
            .collect();
        bail!("not verified: {}", reasons.join(", "));
    }
    Ok(())
}

fn claims_of(text: &str) -> anyhow::Result<Map<String, Value>> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => text.to_string(),
    };
    match serde_json::from_str(&text).context("--claims is not JSON")? {
        Value::Object(map) => Ok(map),
        _ => bail!("--claims must be a JSON object of the subject's claims"),
    }
}

pub(crate) fn run(cmd: VcCmd) -> anyhow::Result<()> {
    rt()?.block_on(async move {
        match cmd {
            VcCmd::Issue {
                subject,
                schema,
                claims,
                credential_type,
                format,
                disclosable,
                ed25519_key_file,
                fragment,
                valid_from,
                valid_for,
                out,
                sign_only,
                send,
            } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let (chain_id, suite) = client.chain().await?;
                let secret = send.opts.secret()?;
                let issuer = suite.address(&suite.public_key(&secret)?);
                let subject = crate::did_cmd::account_of(&client, &subject).await?;
                let at = BlockId::Latest;
                let published = identity::schema(&client, schema, at)
                    .await
                    .with_context(|| format!("schema {schema}"))?;
                let issuer_record = identity::did(&client, issuer, at)
                    .await
                    .with_context(|| format!("the issuer {issuer} needs a DID"))?;
                let subject_record = identity::did(&client, subject, at)
                    .await
                    .with_context(|| format!("the subject {subject} needs a DID"))?;
                let status_index = identity::next_status_index(&client, issuer, at).await?;
                let records = issue::Records {
                    chain_id,
                    suite,
                    schema: published,
                    issuer: issuer_record,
                    subject: subject_record,
                    status_index,
                };
                let ed_seed = ed25519_key_file
                    .map(|file| -> anyhow::Result<[u8; 32]> {
                        let hex = crate::account::read_key_file(&file)?;
                        let bytes = alloy_primitives::hex::decode(hex.trim())
                            .context("the Ed25519 key file is not hex")?;
                        <[u8; 32]>::try_from(bytes.as_slice())
                            .map_err(|_| anyhow::anyhow!("an Ed25519 seed is 32 bytes"))
                    })
                    .transpose()?;
                if matches!(format, Format::Di) && ed_seed.is_none() {
                    bail!("--format di needs --ed25519-key-file");
                }
                let valid_from = valid_from.unwrap_or_else(now);
                let request = issue::Request {
                    subject,
                    schema,
                    types: vec![credential_type],
                    claims: claims_of(&claims)?,
                    valid_from,
                    valid_until: valid_for.map_or(0, |s| valid_from.saturating_add(s)),
                    format: match format {
                        Format::Jwt => issue::Format::Jwt,
                        Format::SdJwt => issue::Format::SdJwt,
                        Format::Di => issue::Format::DataIntegrity,
                    },
                    disclosable,
                    fragment,
                    check_claims: !sign_only,
                };
                let issued = issue::issue(
                    &records,
                    request,
                    issue::Keys {
                        account: &secret,
                        ed25519: ed_seed.as_ref(),
                    },
                    now(),
                )
                .map_err(|e| anyhow::anyhow!(e))?;
                let (secured, unsigned) = (&issued.secured, &issued.unsigned);
                if sign_only {
                    write_out(out.as_deref(), &secured.credential)?;
                    let summary = json!({
                        "hash": secured.hash,
                        "mediaType": secured.media_type,
                        "statusIndex": status_index,
                        "recorded": false,
                    });
                    let text = format!(
                        "signed {} ({}), not recorded",
                        secured.hash, secured.media_type
                    );
                    summarize(out.is_some(), send.json, &summary, &text);
                    return Ok(());
                }
                let data = issued.record.clone().into();
                let sent = send
                    .opts
                    .submit(Some(IDENTITY_ADDRESS), U256::ZERO, data)
                    .await?;
                if sent.receipt.as_ref().is_some_and(|r| !r.success()) {
                    bail!(
                        "recording the credential reverted (transaction {})",
                        sent.hash
                    );
                }
                write_out(out.as_deref(), &secured.credential)?;
                let summary = json!({
                    "transaction": sent.hash,
                    "hash": secured.hash,
                    "mediaType": secured.media_type,
                    "statusIndex": status_index,
                    "id": unsigned["id"],
                });
                let text = format!(
                    "issued {} ({}) recorded by {}",
                    secured.hash, secured.media_type, sent.hash
                );
                summarize(out.is_some(), send.json, &summary, &text);
                Ok(())
            }
            VcCmd::Verify { file, block, read } => {
                let client = Client::connect(&read.rpc).await?;
                let input = read_secured(&file)?;
                let options =
                    block.map_or(Value::Null, |n| json!({"blockNumber": format!("0x{n:x}")}));
                let result = identity::verify_credential(&client, input, options).await?;
                report(&result, read.json)
            }
            VcCmd::Revoke {
                credential,
                reason,
                send,
            } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let (_, suite) = client.chain().await?;
                let hash = hash_of(&credential, suite)?;
                let data = identity::call_data(IIdentity::revokeCredentialCall { hash, reason });
                crate::did_cmd::send_identity(&send, data, Some(("hash", json!(hash)))).await
            }
            VcCmd::Suspend {
                credential,
                lift,
                reason,
                send,
            } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let (_, suite) = client.chain().await?;
                let hash = hash_of(&credential, suite)?;
                let data = identity::call_data(IIdentity::suspendCredentialCall {
                    hash,
                    suspended: !lift,
                    reason,
                });
                crate::did_cmd::send_identity(&send, data, Some(("hash", json!(hash)))).await
            }
            VcCmd::Present {
                file,
                challenge,
                domain,
                reveal,
                fragment,
                out,
                send,
            } => {
                let client = Client::connect(&send.opts.rpc).await?;
                let (chain_id, suite) = client.chain().await?;
                let secret = send.opts.secret()?;
                let holder = suite.address(&suite.public_key(&secret)?);
                let input = read_secured(&file)?;
                let presentation = match &input {
                    Value::String(text) if text.contains('~') => {
                        let names: Vec<&str> = reveal.iter().map(String::as_str).collect();
                        sd_jwt::present(suite, text, &names, &secret, &domain, &challenge, now())?
                    }
                    _ => {
                        if !reveal.is_empty() {
                            bail!("--reveal applies to SD-JWT credentials; this one is whole");
                        }
                        let did = Did::new(chain_id, holder);
                        verify::present(
                            suite,
                            did,
                            &secret,
                            &format!("{did}#{fragment}"),
                            &[input],
                            &Binding { challenge, domain },
                            now(),
                        )?
                    }
                };
                match (send.json, out.as_deref()) {
                    (true, Some(path)) => {
                        write_out(Some(path), &json!(presentation))?;
                        println!("{}", json!({"written": path}));
                        Ok(())
                    }
                    (true, None) => {
                        println!("{}", json!({"presentation": presentation}));
                        Ok(())
                    }
                    (false, out) => write_out(out, &json!(presentation)),
                }
            }
            VcCmd::Challenge { read } => {
                let client = Client::connect(&read.rpc).await?;
                let challenge = identity::create_challenge(&client).await?;
                if read.json {
                    println!("{}", json!({"challenge": challenge}));
                } else {
                    println!("{challenge}");
                }
                Ok(())
            }
            VcCmd::VerifyPresentation {
                file,
                challenge,
                domain,
                read,
            } => {
                let client = Client::connect(&read.rpc).await?;
                let input = read_secured(&file)?;
                let result =
                    identity::verify_presentation(&client, input, &challenge, &domain).await?;
                report(&result, read.json)
            }
        }
    })
}
