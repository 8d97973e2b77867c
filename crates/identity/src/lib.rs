//! `banyan-identity`: the off-ledger half of identity. The ledger half is the Identity module
//! (`banyan-module-identity`, `docs/modules/identity.md`); this crate turns its records into
//! what W3C tools read:
//!
//! - [`did`]: the `did:banyan` syntax ([`Did`]), DID documents (DID 1.1) and DID resolution
//!   results (DID Resolution 1.0), as `docs/identity/did-banyan.md` specifies;
//! - [`jcs`]: the JSON Canonicalization Scheme (RFC 8785);
//! - [`data_integrity`]: Data Integrity proofs of the `eddsa-jcs-2022` cryptosuite;
//! - [`jose`]: credentials as compact JWS (VC-JOSE-COSE), `ES256K` or `SM2SM3`;
//! - [`sd_jwt`]: selective disclosure (SD-JWT, `vc+sd-jwt`) with key-bound presentations;
//! - [`credential`]: VC 2.0 credentials built, secured three ways, and hashed for the ledger;
//! - [`schema`]: JSON Schema validation that never loads a file or a URL;
//! - [`status_list`]: Bitstring Status List credentials from the ledger's bits;
//! - [`verify`]: the one verify path for credentials and presentations, over a [`verify::Ledger`].
//!
//! Free of I/O: the node's RPC and the CLI call it with what they read. Everything is
//! deterministic but SD-JWT salts, which are random by design.
//!
//! This crate has no cargo features.
// Every dependency is a build cost on 2 cores: one the code does not use is removed. (Test
// targets also see dev-dependencies, so the check runs on the library itself.)
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod credential;
pub mod data_integrity;
pub mod did;
pub mod issue;
pub mod jcs;
pub mod jose;
pub mod schema;
pub mod sd_jwt;
pub mod status_list;
pub mod verify;

pub use did::{Did, ResolutionError};

use base64::Engine as _;

/// base64url without padding, as JOSE, JWKs and SD-JWT write bytes.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The bytes of base64url text without padding.
pub(crate) fn unb64url(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text)
}
