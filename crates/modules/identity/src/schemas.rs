//! Credential schemas: JSON Schemas that authority issuers publish, one per name and version,
//! immutable once published. A credential names its schema, and a schema names the issuer type
//! whose authority issuers may issue under it.

use crate::{IIdentity, did, issuers, layout, text};
use alloy_primitives::{Address, B256, keccak256};
use banyan_module_api::{ModuleCallContext, ModuleError, ModuleState, gas, slots::Word};

/// Largest schema JSON, in bytes.
pub const MAX_JSON_BYTES: usize = 8192;

/// The id of `publisher`'s schema `name` at `version`: keccak256(publisher ‖ name ‖ 0x00 ‖
/// version as 4 big-endian bytes), on both suites (a slot-like key, as the module layout).
pub fn schema_id(publisher: Address, name: &str, version: u32) -> B256 {
    let mut preimage = publisher.to_vec();
    preimage.extend_from_slice(name.as_bytes());
    preimage.push(0);
    preimage.extend_from_slice(&version.to_be_bytes());
    keccak256(preimage)
}

/// The revert for an unknown schema.
pub fn unknown(id: B256) -> ModuleError {
    ModuleError::revert(format!("Identity: no schema {id} was published"))
}

/// Publishes a schema and returns its id.
pub fn publish(
    ctx: &ModuleCallContext,
    state: &mut ModuleState<'_>,
    call: IIdentity::publishSchemaCall,
) -> Result<B256, ModuleError> {
    let publisher = ctx.caller;
    text::schema_name(&call.name)?;
    text::issuer_type(&call.issuerType)?;
    if call.version == 0 {
        return Err(ModuleError::revert("Identity: schema versions start at 1"));
    }
    if !issuers::is_authority(state, publisher, &call.issuerType)? {
        return Err(ModuleError::revert(format!(
            "Identity: {publisher} is not an authority issuer of type {}; only they publish \
             its schemas",
            call.issuerType
        )));
    }
    if !did::is_active(state, publisher)? {
        return Err(ModuleError::revert(format!(
            "Identity: {publisher} has no active DID; create it before publishing schemas"
        )));
    }
    let latest_slot = layout::schema_latest(publisher, &call.name);
    let latest = state.sload(latest_slot)?.as_u64();
    if u64::from(call.version) <= latest {
        return Err(ModuleError::revert(format!(
            "Identity: schema {} version {latest} is published; a new version must be above it \
             (published schemas never change)",
            call.name
        )));
    }
    check_json(&call.json)?;
    state.charge(gas::HASH_WORD * 2)?;
    let id = schema_id(publisher, &call.name, call.version);
    let base = layout::schema(id);
    layout::SchemaHead {
        publisher,
        version: call.version,
        published_at: ctx.timestamp,
    }
    .write(state, id)?;
    state.store_bytes(base.offset(1), call.name.as_bytes())?;
    state.store_bytes(base.offset(2), call.issuerType.as_bytes())?;
    state.store_bytes(base.offset(3), &call.json)?;
    state.sstore(latest_slot, Word::from_u64(u64::from(call.version)))?;
    layout::schemas_of(publisher).push(state, Word::from(id))?;
    state.emit(&IIdentity::SchemaPublished {
        id,
        publisher,
        name: call.name,
        version: call.version,
        issuerType: call.issuerType,
    })?;
    Ok(id)
}

/// A schema's JSON must be a JSON object of at most [`MAX_JSON_BYTES`]. Whether it is a valid
/// JSON Schema is checked by the tools that publish it (the ledger stores what was published).
fn check_json(json: &[u8]) -> Result<(), ModuleError> {
    if json.is_empty() || json.len() > MAX_JSON_BYTES {
        return Err(ModuleError::revert(format!(
            "Identity: the schema JSON must be 1 to {MAX_JSON_BYTES} bytes, got {}",
            json.len()
        )));
    }
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(ModuleError::revert(
            "Identity: the schema JSON must be a JSON object (a JSON Schema)",
        )),
        Err(e) => Err(ModuleError::revert(format!(
            "Identity: the schema is not valid JSON: {e}"
        ))),
    }
}

/// The issuer type of schema `id`; `None` when there is none.
pub fn issuer_type_of(
    state: &mut ModuleState<'_>,
    id: B256,
) -> Result<Option<String>, ModuleError> {
    if layout::SchemaHead::read(state, id)?.is_none() {
        return Ok(None);
    }
    let bytes = state.load_bytes(layout::schema(id).offset(2), text::MAX_ISSUER_TYPE_BYTES)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Schema `id`; `None` when there is none.
pub fn read(
    state: &mut ModuleState<'_>,
    id: B256,
) -> Result<Option<IIdentity::Schema>, ModuleError> {
    let Some(head) = layout::SchemaHead::read(state, id)? else {
        return Ok(None);
    };
    let base = layout::schema(id);
    let name = state.load_bytes(base.offset(1), text::MAX_SCHEMA_NAME_BYTES)?;
    let issuer_type = state.load_bytes(base.offset(2), text::MAX_ISSUER_TYPE_BYTES)?;
    let json = state.load_bytes(base.offset(3), MAX_JSON_BYTES)?;
    Ok(Some(IIdentity::Schema {
        id,
        publisher: head.publisher,
        name: String::from_utf8_lossy(&name).into_owned(),
        version: head.version,
        issuerType: String::from_utf8_lossy(&issuer_type).into_owned(),
        json: json.into(),
        publishedAt: head.published_at,
    }))
}

/// A page of the schemas `publisher` published.
pub fn page_of(
    state: &mut ModuleState<'_>,
    publisher: Address,
    offset: u64,
    limit: u64,
) -> Result<(Vec<B256>, u64), ModuleError> {
    let (words, total) = layout::schemas_of(publisher).page(state, offset, limit)?;
    Ok((words.into_iter().map(Word::to_b256).collect(), total))
}
