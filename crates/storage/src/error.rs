//! Errors of the storage crate.

use std::path::PathBuf;

/// Why a storage operation failed. Each message says what went wrong and what to do.
#[derive(thiserror::Error, Debug)]
pub enum StorageError {
    /// The operating system refused a file operation.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// File or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The engine failed for a reason that is neither I/O nor corruption.
    #[error("storage engine error: {0}")]
    Engine(String),
    /// The data directory was written with an on-disk schema this build neither reads nor
    /// migrates: a newer one, or one older than the oldest it migrates.
    #[error(
        "data directory {path} was written by schema version {found}, this banyan build \
         understands versions {oldest} to {supported}; use a matching release or a fresh data \
         directory"
    )]
    SchemaMismatch {
        /// The data directory.
        path: PathBuf,
        /// Version stored in the directory.
        found: u32,
        /// Oldest version this build migrates on open.
        oldest: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The stored data is damaged or is not a banyan store.
    #[error("{0}; restore the data directory from a backup or sync into a fresh data directory")]
    Corrupt(String),
    /// Encryption at rest: the data key is missing, wrong, or was given for a store that is not
    /// encrypted, or sealing failed.
    #[error("{0}")]
    Encryption(String),
    /// Another process has the data directory open.
    #[error(
        "data directory {0} is in use by another banyan process; stop that process or choose \
         another data directory"
    )]
    Locked(PathBuf),
}
