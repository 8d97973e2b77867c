//! The network crate's integration tests (admission, framing, PKI files), in one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod admission;
mod framing;
mod pki_files;
