//! The shapes of the texts Identity stores, checked before anything is written. Each check
//! names the field, what it got and what it accepts.

use banyan_module_api::ModuleError;

/// Longest fragment of a key or service id (`#key-1`), in bytes.
pub const MAX_FRAGMENT_BYTES: usize = 32;
/// Longest issuer type, in bytes.
pub const MAX_ISSUER_TYPE_BYTES: usize = 32;
/// Longest service type, in bytes.
pub const MAX_SERVICE_TYPE_BYTES: usize = 64;
/// Longest service endpoint, in bytes.
pub const MAX_ENDPOINT_BYTES: usize = 256;
/// Longest issuer name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest schema name, in bytes.
pub const MAX_SCHEMA_NAME_BYTES: usize = 64;
/// Longest reason for a revocation or suspension, in bytes.
pub const MAX_REASON_BYTES: usize = 256;

fn refuse(field: &str, value: &str, rule: &str) -> ModuleError {
    let shown: String = value.chars().take(40).collect();
    ModuleError::revert(format!("Identity: {field} {shown:?} is not valid: {rule}"))
}

fn within(field: &str, value: &str, max: usize) -> Result<(), ModuleError> {
    if value.is_empty() || value.len() > max {
        return Err(ModuleError::revert(format!(
            "Identity: {field} must be 1 to {max} bytes, got {}",
            value.len()
        )));
    }
    Ok(())
}

/// A DID URL fragment for a key or service: `[A-Za-z0-9._-]`, 1 to 32 bytes (DID Core's
/// `idchar` without `:` or percent-encoding, so that the DID URL needs no escaping).
pub fn fragment(value: &str) -> Result<(), ModuleError> {
    id_chars("fragment", value, MAX_FRAGMENT_BYTES)
}

/// 1 to `max` bytes of `[A-Za-z0-9._-]`: what fragments and schema names are made of.
fn id_chars(field: &str, value: &str, max: usize) -> Result<(), ModuleError> {
    within(field, value, max)?;
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(refuse(
            field,
            value,
            "use letters, digits, '.', '_' and '-' only",
        ));
    }
    Ok(())
}

/// An issuer type: lower-case letters, digits and `-`, starting with a letter, 1 to 32 bytes
/// (`kyc`, `credit`, `business-licence`).
pub fn issuer_type(value: &str) -> Result<(), ModuleError> {
    within("issuer type", value, MAX_ISSUER_TYPE_BYTES)?;
    let starts_with_letter = value.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if !starts_with_letter
        || !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(refuse(
            "issuer type",
            value,
            "use lower-case letters, digits and '-', starting with a letter (e.g. kyc)",
        ));
    }
    Ok(())
}

/// A schema name: `[A-Za-z0-9._-]`, 1 to 64 bytes.
pub fn schema_name(value: &str) -> Result<(), ModuleError> {
    id_chars("schema name", value, MAX_SCHEMA_NAME_BYTES)
}

/// A service type: printable ASCII without spaces, 1 to 64 bytes (`LinkedDomains`).
pub fn service_type(value: &str) -> Result<(), ModuleError> {
    within("service type", value, MAX_SERVICE_TYPE_BYTES)?;
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse(
            "service type",
            value,
            "use printable ASCII without spaces",
        ));
    }
    Ok(())
}

/// A service endpoint: an absolute URI (RFC 3986 scheme, then `:`), printable ASCII without
/// spaces, 1 to 256 bytes.
pub fn endpoint(value: &str) -> Result<(), ModuleError> {
    within("service endpoint", value, MAX_ENDPOINT_BYTES)?;
    let scheme_ok = value.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    });
    if !scheme_ok || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse(
            "service endpoint",
            value,
            "give an absolute URI such as https://bank.example/vc, without spaces",
        ));
    }
    Ok(())
}

/// A name or reason: UTF-8 without control characters, 1 to `max` bytes.
pub fn label(field: &str, value: &str, max: usize) -> Result<(), ModuleError> {
    within(field, value, max)?;
    if value.chars().any(char::is_control) {
        return Err(refuse(field, value, "control characters are not allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_accept_what_they_document_and_nothing_else() {
        assert!(fragment("key-1").is_ok());
        assert!(fragment("key 1").is_err());
        assert!(fragment("").is_err());
        assert!(fragment(&"k".repeat(33)).is_err());
        assert!(issuer_type("business-licence").is_ok());
        assert!(issuer_type("KYC").is_err());
        assert!(issuer_type("1kyc").is_err());
        assert!(endpoint("https://bank.example/vc").is_ok());
        assert!(endpoint("bank.example").is_err());
        assert!(endpoint("https://bank example").is_err());
        assert!(endpoint("1http://x").is_err());
        assert!(label("name", "Bank A 银行", 64).is_ok());
        assert!(label("name", "line\nbreak", 64).is_err());
        assert!(service_type("LinkedDomains").is_ok());
        assert!(service_type("Linked Domains").is_err());
    }
}
