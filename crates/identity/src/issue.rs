//! Issuing a credential: from the issuer's request and what the ledger holds (the schema, the
//! issuer's and the subject's DID records, the issuer's next status index) to the secured
//! credential and the `issueCredential` call that records its hash. `banyan vc issue` and the
//! node's `POST /credentials/issue` both come here, so that a credential is the same whichever
//! issued it.

use crate::credential::{self, Draft, Secured, Securing};
use crate::did::Did;
use crate::verify::{self, Ledger};
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolCall;
use banyan_crypto::{PublicKey, SecretKey, Suite};
use banyan_modules::identity::did::suite_key_type;
use banyan_modules::{IDENTITY_ADDRESS, IIdentity};
use serde_json::{Map, Value};

/// How a credential is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A compact JWS, `vc+jwt` (ES256K, or SM2SM3 on sm chains).
    Jwt,
    /// An SD-JWT, `vc+sd-jwt`: the holder discloses the claims it chooses.
    SdJwt,
    /// JSON with a Data Integrity proof, `eddsa-jcs-2022`, by the issuer's Ed25519 key.
    DataIntegrity,
}

impl Format {
    /// The format a VC-API request names: a media type or a cryptosuite.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "jwt" | "vc+jwt" => Some(Self::Jwt),
            "sd-jwt" | "vc+sd-jwt" | "dc+sd-jwt" => Some(Self::SdJwt),
            "di" | "eddsa-jcs-2022" => Some(Self::DataIntegrity),
            _ => None,
        }
    }
}

/// What the issuer asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The subject's account (its DID must be active).
    pub subject: Address,
    /// The schema's id.
    pub schema: B256,
    /// Types after `VerifiableCredential`.
    pub types: Vec<String>,
    /// The claims about the subject.
    pub claims: Map<String, Value>,
    /// Unix seconds from which it is valid.
    pub valid_from: u64,
    /// Unix seconds until which it is valid; 0 for no end.
    pub valid_until: u64,
    /// How it is secured.
    pub format: Format,
    /// With [`Format::SdJwt`]: the claims the holder may disclose (empty: all).
    pub disclosable: Vec<String>,
    /// The fragment of the issuer's signing key in its DID document (default: its first
    /// assertion key of the kind the format needs).
    pub fragment: Option<String>,
    /// Check the claims against the schema before signing (a verifier will).
    pub check_claims: bool,
}

/// What the ledger holds that an issuance reads, at one block.
#[derive(Clone, Debug)]
pub struct Records {
    /// The chain's id.
    pub chain_id: u64,
    /// The chain's suite.
    pub suite: Suite,
    /// The schema.
    pub schema: IIdentity::Schema,
    /// The issuer's DID record.
    pub issuer: IIdentity::Did,
    /// The subject's DID record.
    pub subject: IIdentity::Did,
    /// The issuer's next unused status index.
    pub status_index: u32,
}

/// The keys an issuer signs with.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    /// The issuer's account key (the chain's suite).
    pub account: &'a SecretKey,
    /// Its Ed25519 seed, for [`Format::DataIntegrity`].
    pub ed25519: Option<&'a [u8; 32]>,
}

/// An issued credential, not yet recorded.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The credential as secured, and its hash.
    pub secured: Secured,
    /// The credential before securing (its `id` names it).
    pub unsigned: Value,
    /// Its status index.
    pub status_index: u32,
    /// The call data of `issueCredential` recording it (to the Identity module).
    pub record: Vec<u8>,
}

/// Reads the records an issuance by `issuer` needs from `ledger`; an error says which is
/// missing.
pub fn read(ledger: &dyn Ledger, issuer: Address, request: &Request) -> Result<Records, String> {
    fn get<T>(what: String, result: Result<Result<T, String>, String>) -> Result<T, String> {
        result.and_then(|r| r.map_err(|reason| format!("{what}: {reason}")))
    }
    let schema = get(
        format!("schema {}", request.schema),
        verify::view(
            ledger,
            IDENTITY_ADDRESS,
            IIdentity::getSchemaCall { id: request.schema },
        ),
    )?;
    let issuer_record = get(
        format!("the issuer {issuer} needs a DID"),
        verify::view(
            ledger,
            IDENTITY_ADDRESS,
            IIdentity::getDidCall { did: issuer },
        ),
    )?;
    let subject_record = get(
        format!("the subject {} needs a DID", request.subject),
        verify::view(
            ledger,
            IDENTITY_ADDRESS,
            IIdentity::getDidCall {
                did: request.subject,
            },
        ),
    )?;
    let status_index = get(
        format!("the status index of {issuer}"),
        verify::view(
            ledger,
            IDENTITY_ADDRESS,
            IIdentity::nextStatusIndexCall { issuer },
        ),
    )?;
    Ok(Records {
        chain_id: ledger.chain_id(),
        suite: ledger.suite(),
        schema,
        issuer: issuer_record,
        subject: subject_record,
        status_index,
    })
}

/// The fragment of the first key of `record` with relationship `bit` (1 authentication, 2
/// assertion) of the chain's suite (or Ed25519), or the one named `fragment`.
pub fn key_fragment(
    record: &IIdentity::Did,
    suite: Suite,
    bit: u8,
    fragment: Option<&str>,
    ed25519: bool,
) -> Result<String, String> {
    let wanted = if ed25519 {
        IIdentity::KeyType::Ed25519
    } else {
        suite_key_type(suite)
    };
    record
        .methods
        .iter()
        .find(|m| {
            fragment.map_or(m.keyType == wanted && m.relationships & bit != 0, |f| {
                m.fragment == f
            })
        })
        .map(|m| m.fragment.clone())
        .ok_or_else(|| {
            format!(
                "the DID of {} has no {} key {}",
                record.account,
                if bit == 1 {
                    "authentication"
                } else {
                    "assertion"
                },
                fragment.unwrap_or("of the kind needed")
            )
        })
}

/// Builds and secures the credential `request` asks for, as `records`' issuer with `keys`, at
/// unix time `now` (the Data Integrity proof's `created`).
pub fn issue(
    records: &Records,
    request: Request,
    keys: Keys<'_>,
    now: u64,
) -> Result<Issued, String> {
    let suite = records.suite;
    let issuer = suite.address(&suite.public_key(keys.account).map_err(|e| e.to_string())?);
    if issuer != records.issuer.account {
        return Err(format!(
            "the key is {issuer}'s, not the issuer {}'s",
            records.issuer.account
        ));
    }
    for (who, record) in [("issuer", &records.issuer), ("subject", &records.subject)] {
        if record.deactivated {
            return Err(format!("the {who}'s DID {} is deactivated", record.account));
        }
    }
    let issuer_did = Did::new(records.chain_id, issuer);
    let draft = Draft {
        issuer: issuer_did,
        subject: Did::new(records.chain_id, records.subject.account),
        types: request.types,
        claims: request.claims,
        schema: (records.schema.publisher, request.schema),
        valid_from: request.valid_from,
        valid_until: request.valid_until,
        status_index: records.status_index,
    };
    if request.check_claims {
        // The verifier checks the claims against the schema; refuse before anything is signed.
        let schema: Value = serde_json::from_slice(&records.schema.json)
            .map_err(|e| format!("the published schema is not JSON: {e}"))?;
        crate::schema::Schema::compile(&schema)
            .and_then(|s| s.validate(&Value::Object(draft.claims.clone())))
            .map_err(|e| {
                format!(
                    "the claims fail schema {} ({}): {e}",
                    records.schema.name, request.schema
                )
            })?;
    }
    let unsigned = credential::build(&draft).map_err(|e| e.to_string())?;
    let fragment = request.fragment.as_deref();
    let kid = |ed25519: bool| {
        key_fragment(&records.issuer, suite, 2, fragment, ed25519)
            .map(|f| format!("{issuer_did}#{f}"))
    };
    let how = match request.format {
        Format::Jwt => Securing::Jwt {
            key: keys.account,
            kid: kid(false)?,
        },
        Format::SdJwt => {
            let holder_fragment = key_fragment(&records.subject, suite, 1, None, false)?;
            let holder = records
                .subject
                .methods
                .iter()
                .find(|m| m.fragment == holder_fragment)
                .map(|m| PublicKey::from_bytes(suite, &m.publicKey))
                .transpose()
                .map_err(|e| format!("the subject's authentication key: {e}"))?
                .ok_or("the subject has no authentication key")?;
            Securing::SdJwt {
                key: keys.account,
                kid: kid(false)?,
                disclosable: if request.disclosable.is_empty() {
                    draft.claims.keys().cloned().collect()
                } else {
                    request.disclosable
                },
                holder,
            }
        }
        Format::DataIntegrity => Securing::DataIntegrity {
            seed: keys
                .ed25519
                .ok_or("a Data Integrity proof (eddsa-jcs-2022) needs the issuer's Ed25519 key")?,
            verification_method: kid(true)?,
            created: now,
        },
    };
    let secured = credential::secure(suite, &unsigned, &how).map_err(|e| e.to_string())?;
    let record = IIdentity::issueCredentialCall {
        hash: secured.hash,
        subject: records.subject.account,
        schemaId: request.schema,
        validFrom: draft.valid_from,
        validUntil: draft.valid_until,
        statusIndex: records.status_index,
    }
    .abi_encode();
    Ok(Issued {
        secured,
        unsigned,
        status_index: records.status_index,
        record,
    })
}

/// Reads a VC-API issue request's `credential` (an unsecured VC 2.0 credential) and `options`
/// into the issuer's account and a [`Request`]. The node fills in `credentialStatus`, `id` and
/// the default `validFrom` (`now`); `credentialSchema` names a schema on this chain.
///
/// Options: `format` (`vc+jwt`, the default; `vc+sd-jwt`; `eddsa-jcs-2022`), `disclosable`
/// (claims of an SD-JWT the holder may disclose one by one; default all), `fragment` (the
/// issuer's signing key).
pub fn from_vc_api(
    chain_id: u64,
    credential: &Value,
    options: &Map<String, Value>,
    now: u64,
) -> Result<(Address, Request), String> {
    let c = credential
        .as_object()
        .ok_or("credential must be a JSON object (an unsecured VC 2.0 credential)")?;
    const KNOWN: [&str; 7] = [
        "@context",
        "type",
        "issuer",
        "credentialSubject",
        "credentialSchema",
        "validFrom",
        "validUntil",
    ];
    if let Some(other) = c.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "credential member {other:?} is not one the node issues ({}; the node adds id and \
             credentialStatus)",
            KNOWN.join(", ")
        ));
    }
    if let Some(context) = c.get("@context") {
        let first = context.as_array().and_then(|a| a.first());
        if first.and_then(Value::as_str) != Some(credential::VC_CONTEXT) {
            return Err(format!(
                "@context must begin with {}",
                credential::VC_CONTEXT
            ));
        }
    }
    let did = |value: &Value, what: &str| -> Result<Address, String> {
        let text = value
            .as_str()
            .or_else(|| value.get("id").and_then(Value::as_str))
            .ok_or_else(|| format!("{what} must be a DID (or an object with its id)"))?;
        let did: Did = text
            .parse()
            .map_err(|e| format!("{what} {text:?} is not a did:banyan DID: {e}"))?;
        if did.chain_id != chain_id {
            return Err(format!(
                "{what} {did} is a DID of chain {}, not of this chain {chain_id}",
                did.chain_id
            ));
        }
        Ok(did.account)
    };
    let issuer = did(c.get("issuer").ok_or("credential lacks issuer")?, "issuer")?;
    let mut claims = c
        .get("credentialSubject")
        .and_then(Value::as_object)
        .cloned()
        .ok_or("credentialSubject must be one JSON object")?;
    let subject = did(
        &claims
            .remove("id")
            .ok_or("credentialSubject lacks id (the subject's DID)")?,
        "credentialSubject.id",
    )?;
    let types: Vec<String> = match c.get("type") {
        None => Vec::new(),
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .map(|t| t.as_str().map(str::to_string).ok_or("type holds strings"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("type must be a string or an array of strings".into()),
    };
    let types: Vec<String> = types
        .into_iter()
        .filter(|t| t != "VerifiableCredential")
        .collect();
    let schema_url = match c.get("credentialSchema") {
        Some(Value::Object(s)) => s.get("id").and_then(Value::as_str),
        Some(Value::Array(a)) if a.len() == 1 => a[0].get("id").and_then(Value::as_str),
        _ => None,
    }
    .ok_or("credentialSchema must be one object whose id names a schema on this chain")?;
    let (_, schema) = credential::parse_schema_url(schema_url).ok_or_else(|| {
        format!("credentialSchema id {schema_url:?} is not <publisher DID>/schemas/<id>")
    })?;
    let time = |key: &str| -> Result<Option<u64>, String> {
        c.get(key)
            .map(|v| {
                v.as_str()
                    .and_then(credential::parse_time)
                    .ok_or_else(|| format!("{key} must be an XML Schema dateTime"))
            })
            .transpose()
    };
    let valid_from = time("validFrom")?.unwrap_or(now);
    let valid_until = time("validUntil")?.unwrap_or(0);
    const OPTIONS: [&str; 3] = ["format", "disclosable", "fragment"];
    if let Some(other) = options.keys().find(|k| !OPTIONS.contains(&k.as_str())) {
        return Err(format!(
            "option {other:?} is unknown (the node takes {})",
            OPTIONS.join(", ")
        ));
    }
    let format = match options.get("format") {
        None => Format::Jwt,
        Some(v) => v
            .as_str()
            .and_then(Format::parse)
            .ok_or_else(|| format!("format {v} is not vc+jwt, vc+sd-jwt or eddsa-jcs-2022"))?,
    };
    let disclosable = match options.get("disclosable") {
        None => Vec::new(),
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str()
                    .map(str::to_string)
                    .ok_or("disclosable holds claim names")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("disclosable must be an array of claim names".into()),
    };
    let fragment = match options.get("fragment") {
        None => None,
        Some(Value::String(f)) => Some(f.clone()),
        Some(_) => return Err("fragment must be a string".into()),
    };
    Ok((
        issuer,
        Request {
            subject,
            schema,
            types,
            claims,
            valid_from,
            valid_until,
            format,
            disclosable,
            fragment,
            check_claims: true,
        },
    ))
}
