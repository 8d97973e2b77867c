//! The transaction journal: every transaction this node admitted to its pool (from RPC or
//! gossip) is appended to a file in the data directory before the RPC answers with its hash, so
//! that a node that crashes or is killed finds its pending transactions again at start, minus
//! those committed meanwhile (Geth keeps a journal of its local transactions the same way).
//!
//! The file is a header and then records, each `length (u32 LE) ‖ crc32 (u32 LE) ‖ bytes`.
//! Appends go to the operating system at once (a killed process loses nothing) and are made
//! durable by `fsync` at least every [`SYNC_EVERY`] (a power loss loses at most that much). The
//! file is rewritten from the pool's contents when it holds many more records than the pool
//! (committed and evicted transactions are then dropped), and at every start, which also drops a
//! record torn by a crash in the middle of a write.
//!
//! With encryption at rest (a data key configured), the file is of version 2 and each record's
//! bytes are the transaction sealed with the node's [`DataCipher`] (bound to the label
//! `txpool.journal`); a version-2 file cannot be read without the key.
//!
//! Its bytes are untrusted on reading: a record longer than [`MAX_TX_BYTES`] or with a wrong
//! checksum ends the read there, and every transaction read is checked again in full (signature,
//! nonce, balance, screens) before it is back in the pool.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use banyan_crypto::at_rest::{DataCipher, RECORD_OVERHEAD};

use banyan_primitives::MAX_TX_BYTES;
use bytes::Bytes;
use parking_lot::Mutex;

/// The first bytes of a journal file: the format and its version.
const MAGIC: &[u8; 16] = b"banyan-txjournal";
const VERSION: u32 = 1;
/// The version of a journal whose records are sealed (encryption at rest).
const SEALED_VERSION: u32 = 2;
/// What sealed records are bound to.
const SEAL_AAD: &[u8] = b"txpool.journal";
const HEADER_LEN: usize = MAGIC.len() + 4;
const RECORD_HEADER: usize = 8;

/// How often appended records are made durable.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

/// Rewritten when the file holds more records than this many plus twice the pool's size.
const REWRITE_SLACK: u64 = 10_000;

/// The journal's file name in the data directory.
pub const FILE_NAME: &str = "txpool.journal";

/// What reading a journal found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The transactions, in the order they were admitted.
    pub txs: Vec<Bytes>,
    /// Why the read stopped before the end of the file, if it did.
    pub stopped: Option<String>,
}

/// An open journal, appended to from any thread.
pub(crate) struct TxJournal {
    path: PathBuf,
    inner: Mutex<Inner>,
    /// Seals records when encryption at rest is on.
    cipher: Option<Arc<DataCipher>>,
}

struct Inner {
    file: File,
    /// Records in the file.
    records: u64,
    /// Appended since the last `fsync`.
    dirty: bool,
}

/// Reads the journal at `path`, opening sealed records with `cipher`; a missing file is an
/// empty journal.
pub(crate) fn read(path: &Path, cipher: Option<&DataCipher>) -> std::io::Result<Loaded> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(e) => return Err(e),
    };
    read_from(BufReader::new(file), cipher)
}

/// Reads a journal from `reader`, opening sealed records with `cipher`. Any bytes are accepted:
/// a wrong header or a sealed journal without a key is an error; a damaged or cut record ends
/// the read there, what precedes it kept and the reason in [`Loaded::stopped`].
pub fn read_from(mut reader: impl Read, cipher: Option<&DataCipher>) -> std::io::Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut header = [0u8; HEADER_LEN];
    match read_full(&mut reader, &mut header)? {
        0 => return Ok(loaded),
        n if n < HEADER_LEN => {
            loaded.stopped = Some("the header is cut short".into());
            return Ok(loaded);
        }
        _ => {}
    }
    if &header[..MAGIC.len()] != MAGIC {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a transaction journal (wrong magic bytes)",
        ));
    }
    let version = u32::from_le_bytes(header[MAGIC.len()..].try_into().unwrap_or_default());
    let opener = match (version, cipher) {
        (VERSION, _) => None,
        (SEALED_VERSION, Some(cipher)) => Some(cipher),
        (SEALED_VERSION, None) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the journal is encrypted at rest and this node has no data key \
                 (node.data_key_file or node.data_key_command)",
            ));
        }
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("journal format {version}, this node reads {VERSION} and {SEALED_VERSION}"),
            ));
        }
    };
    let max_len = MAX_TX_BYTES + if opener.is_some() { RECORD_OVERHEAD } else { 0 };
    loop {
        let mut head = [0u8; RECORD_HEADER];
        match read_full(&mut reader, &mut head)? {
            0 => return Ok(loaded),
            n if n < RECORD_HEADER => {
                loaded.stopped = Some(format!("record {} is cut short", loaded.txs.len()));
                return Ok(loaded);
            }
            _ => {}
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len == 0 || len > max_len {
            loaded.stopped = Some(format!(
                "record {} claims {len} bytes (1 to {max_len} allowed)",
                loaded.txs.len()
            ));
            return Ok(loaded);
        }
        let mut bytes = vec![0u8; len];
        if read_full(&mut reader, &mut bytes)? < len {
            loaded.stopped = Some(format!("record {} is cut short", loaded.txs.len()));
            return Ok(loaded);
        }
        if crc32fast::hash(&bytes) != crc {
            loaded.stopped = Some(format!("record {} fails its checksum", loaded.txs.len()));
            return Ok(loaded);
        }
        if let Some(cipher) = opener {
            match cipher.open(SEAL_AAD, &bytes) {
                Ok(plain) => bytes = plain,
                Err(e) => {
                    loaded.stopped = Some(format!(
                        "record {} fails to decrypt ({e})",
                        loaded.txs.len()
                    ));
                    return Ok(loaded);
                }
            }
        }
        loaded.txs.push(bytes.into());
    }
}

/// Reads until `buf` is full or the end; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Appends `raw`'s record to `out`, sealed with `cipher` if there is one.
fn frame(out: &mut Vec<u8>, raw: &[u8], cipher: Option<&DataCipher>) -> std::io::Result<()> {
    let sealed;
    let bytes = match cipher {
        Some(cipher) => {
            sealed = cipher.seal(SEAL_AAD, raw).map_err(std::io::Error::other)?;
            &sealed[..]
        }
        None => raw,
    };
    // Callers pass admitted transactions, at most MAX_TX_BYTES long (plus the seal's overhead).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

impl TxJournal {
    /// Writes a new journal at `path` holding `txs` (durably, replacing the file at once), and
    /// opens it for appending; with `cipher`, every record is sealed.
    pub(crate) fn create<'a>(
        path: &Path,
        txs: impl IntoIterator<Item = &'a [u8]>,
        cipher: Option<Arc<DataCipher>>,
    ) -> std::io::Result<Self> {
        let (file, records) = write_new(path, txs, cipher.as_deref())?;
        Ok(Self {
            path: path.to_path_buf(),
            inner: Mutex::new(Inner {
                file,
                records,
                dirty: false,
            }),
            cipher,
        })
    }

    /// Appends `raws` in one write. They reach the operating system before this returns.
    pub(crate) fn append(&self, raws: &[&[u8]]) -> std::io::Result<()> {
        if raws.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(
            raws.iter()
                .map(|r| r.len() + RECORD_HEADER + RECORD_OVERHEAD)
                .sum(),
        );
        for raw in raws {
            frame(&mut buf, raw, self.cipher.as_deref())?;
        }
        let mut inner = self.inner.lock();
        inner.file.write_all(&buf)?;
        inner.records += raws.len() as u64;
        inner.dirty = true;
        Ok(())
    }

    /// Makes every append so far durable.
    pub(crate) fn sync(&self) -> std::io::Result<()> {
        let mut inner = self.inner.lock();
        if inner.dirty {
            inner.file.sync_data()?;
            inner.dirty = false;
        }
        Ok(())
    }

    /// Whether the file holds so many more records than the pool that it should be rewritten.
    pub(crate) fn wants_rewrite(&self, pool_len: usize) -> bool {
        self.inner.lock().records > REWRITE_SLACK + 2 * pool_len as u64
    }

    /// Replaces the file with one holding `live` (read under the journal's lock, so that no
    /// append is lost between the listing and the replacement).
    pub(crate) fn rewrite(&self, live: impl FnOnce() -> Vec<Bytes>) -> std::io::Result<()> {
        let mut inner = self.inner.lock();
        let txs = live();
        let (file, records) = write_new(
            &self.path,
            txs.iter().map(|t| &t[..]),
            self.cipher.as_deref(),
        )?;
        *inner = Inner {
            file,
            records,
            dirty: false,
        };
        Ok(())
    }

    /// Records in the file now.
    #[cfg(test)]
    pub(crate) fn records(&self) -> u64 {
        self.inner.lock().records
    }
}

/// The file header: the magic bytes and the version (sealed records or plain).
fn header(cipher: Option<&DataCipher>) -> Vec<u8> {
    let version = if cipher.is_some() {
        SEALED_VERSION
    } else {
        VERSION
    };
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out
}

/// The bytes of a whole journal holding `txs` (sealed with `cipher` if there is one), as
/// [`read_from`] reads them.
pub fn encode<'a>(
    txs: impl IntoIterator<Item = &'a [u8]>,
    cipher: Option<&DataCipher>,
) -> std::io::Result<Vec<u8>> {
    let mut out = header(cipher);
    for raw in txs {
        frame(&mut out, raw, cipher)?;
    }
    Ok(out)
}

/// Writes `txs` to a temporary file beside `path`, syncs it, renames it over `path`, syncs the
/// directory and returns the file open for appending.
fn write_new<'a>(
    path: &Path,
    txs: impl IntoIterator<Item = &'a [u8]>,
    cipher: Option<&DataCipher>,
) -> std::io::Result<(File, u64)> {
    let tmp = path.with_extension("journal.tmp");
    let mut records = 0u64;
    {
        let mut out = BufWriter::new(File::create(&tmp)?);
        out.write_all(&header(cipher))?;
        let mut buf = Vec::new();
        for raw in txs {
            buf.clear();
            frame(&mut buf, raw, cipher)?;
            out.write_all(&buf)?;
            records += 1;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    let file = OpenOptions::new().append(true).open(path)?;
    Ok((file, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txs(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![i as u8; 1 + i * 7]).collect()
    }

    #[test]
    fn what_is_appended_is_read_back_in_order_after_a_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        assert!(read(&path, None).unwrap().txs.is_empty());
        let all = txs(20);
        let journal = TxJournal::create(&path, all[..5].iter().map(Vec::as_slice), None).unwrap();
        let rest: Vec<&[u8]> = all[5..].iter().map(Vec::as_slice).collect();
        journal.append(&rest[..3]).unwrap();
        journal.append(&rest[3..]).unwrap();
        journal.sync().unwrap();
        assert_eq!(journal.records(), 20);
        let loaded = read(&path, None).unwrap();
        assert_eq!(loaded.stopped, None);
        assert_eq!(loaded.txs.len(), 20);
        assert!(loaded.txs.iter().zip(&all).all(|(a, b)| a[..] == b[..]));

        journal
            .rewrite(|| all[10..12].iter().map(|t| Bytes::from(t.clone())).collect())
            .unwrap();
        journal.append(&[&all[0]]).unwrap();
        let loaded = read(&path, None).unwrap();
        let expected = [&all[10], &all[11], &all[0]];
        assert_eq!(loaded.txs.len(), 3);
        assert!(loaded.txs.iter().zip(expected).all(|(a, b)| a[..] == b[..]));
        assert!(!journal.wants_rewrite(0));
    }

    #[test]
    fn a_torn_or_damaged_tail_ends_the_read_keeping_what_precedes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let all = txs(4);
        drop(TxJournal::create(&path, all.iter().map(Vec::as_slice), None).unwrap());
        let good = std::fs::read(&path).unwrap();
        let last_len = RECORD_HEADER + all[3].len();

        // Cut in the middle of the last record: three read, the stop explained.
        std::fs::write(&path, &good[..good.len() - 2]).unwrap();
        let loaded = read(&path, None).unwrap();
        assert_eq!(loaded.txs.len(), 3);
        assert!(loaded.stopped.unwrap().contains("record 3 is cut short"));

        // A flipped bit in the last record's bytes.
        let mut bad = good.clone();
        let at = bad.len() - 1;
        bad[at] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let loaded = read(&path, None).unwrap();
        assert_eq!(loaded.txs.len(), 3);
        assert!(loaded.stopped.unwrap().contains("checksum"));

        // A length past the bound is not allocated.
        let mut huge = good[..good.len() - last_len].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(&[0; 4]);
        std::fs::write(&path, &huge).unwrap();
        let loaded = read(&path, None).unwrap();
        assert_eq!(loaded.txs.len(), 3);
        assert!(loaded.stopped.unwrap().contains("claims"));

        // Not a journal at all: an error, not an empty pool.
        std::fs::write(&path, b"something else entirely").unwrap();
        let err = read(&path, None).unwrap_err();
        assert!(
            err.to_string().contains("not a transaction journal"),
            "{err}"
        );
    }

    #[test]
    fn with_a_data_key_the_records_are_sealed_and_read_back_only_with_it() {
        use banyan_crypto::Suite;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let key = Suite::Ecdsa.generate_symmetric_key();
        let cipher = Arc::new(DataCipher::new(Suite::Ecdsa, key.clone()).unwrap());
        let marker = b"MARKER-in-a-transaction".to_vec();
        let journal = TxJournal::create(&path, [&marker[..]], Some(cipher.clone())).unwrap();
        journal.append(&[&marker[..], b"second"]).unwrap();
        journal.sync().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"MARKER"),
            "the plaintext is in the file"
        );
        // Read back in a later session (another salt) with the same key.
        let later = DataCipher::new(Suite::Ecdsa, key).unwrap();
        let loaded = read(&path, Some(&later)).unwrap();
        assert_eq!(loaded.stopped, None);
        let txs: Vec<&[u8]> = loaded.txs.iter().map(|t| &t[..]).collect();
        assert_eq!(txs, vec![&marker[..], &marker[..], b"second"]);
        let err = read(&path, None).unwrap_err();
        assert!(err.to_string().contains("no data key"), "{err}");
        let other = DataCipher::new(Suite::Ecdsa, Suite::Ecdsa.generate_symmetric_key()).unwrap();
        let loaded = read(&path, Some(&other)).unwrap();
        assert!(loaded.txs.is_empty());
        assert!(loaded.stopped.unwrap().contains("fails to decrypt"));
    }

    #[test]
    fn it_asks_to_be_rewritten_once_it_holds_far_more_than_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let journal = TxJournal::create(&dir.path().join(FILE_NAME), [], None).unwrap();
        let one = [7u8; 10];
        let batch: Vec<&[u8]> = vec![&one; 1000];
        for _ in 0..11 {
            journal.append(&batch).unwrap();
        }
        assert!(journal.wants_rewrite(100));
        assert!(!journal.wants_rewrite(1000));
    }
}
