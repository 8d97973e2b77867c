//! Encryption at rest: the node's data key, where it comes from, and the cipher its stores use.
//!
//! The data key is the chain suite's symmetric key (32 bytes for AES-256-GCM on `ecdsa`, 16 for
//! SM4-GCM on `sm`), written as hex. It never sits in the data directory: it is read at start
//! from a file elsewhere (`node.data_key_file`, e.g. a secrets mount) or from the output of a
//! key manager's command (`node.data_key_command`), as FISCO BCOS's Key Manager serves its
//! nodes. Every value of the chain store and of the safety record, and every record of the
//! transaction journal, is sealed with it ([`banyan_crypto::at_rest`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use banyan_crypto::at_rest::DataCipher;
use banyan_crypto::{Suite, SymmetricKey};
use banyan_storage::ValueCipher;

/// How long `node.data_key_command` may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The most a key file or a command's output may hold.
const MAX_KEY_TEXT: u64 = 4096;

/// Where the data key comes from, as configured.
#[derive(Clone, Debug)]
pub enum DataKeySource {
    /// A file holding the key's hex (`node.data_key_file`).
    File(PathBuf),
    /// A program and its arguments that print the key's hex (`node.data_key_command`).
    Command(Vec<String>),
}

/// Reads the data key from `source` and checks it: the key file outside `data_dir`, the key of
/// `suite`'s length. Errors name the configuration key.
pub fn load(source: &DataKeySource, data_dir: &Path, suite: Suite) -> Result<SymmetricKey, String> {
    let (text, named) = match source {
        DataKeySource::File(path) => {
            let named = format!("node.data_key_file ({})", path.display());
            refuse_inside(path, data_dir).map_err(|e| format!("{named}: {e}"))?;
            let text = read_bounded(path).map_err(|e| format!("{named}: {e}"))?;
            (text, named)
        }
        DataKeySource::Command(argv) => {
            let named = format!("node.data_key_command ({})", argv.join(" "));
            let text = run(argv).map_err(|e| format!("{named}: {e}"))?;
            (text, named)
        }
    };
    let line = text.lines().next().unwrap_or("").trim();
    let want = suite.symmetric_key_len();
    let key = SymmetricKey::from_hex(line).map_err(|e| {
        format!("{named}: not a data key ({e}); expected {want} bytes of hex on the first line")
    })?;
    if key.len() != want {
        return Err(format!(
            "{named}: a data key of the {suite} suite is {want} bytes ({}), this one is {}",
            suite.aead_name(),
            key.len()
        ));
    }
    Ok(key)
}

/// A key file inside the data directory defeats the point: it is refused.
fn refuse_inside(key: &Path, data_dir: &Path) -> Result<(), String> {
    let key = key
        .canonicalize()
        .map_err(|e| format!("cannot read: {e}"))?;
    // The data directory may not exist yet: resolve what exists of it.
    let dir = data_dir
        .canonicalize()
        .or_else(|_| std::path::absolute(data_dir))
        .map_err(|e| {
            format!(
                "cannot resolve the data directory {}: {e}",
                data_dir.display()
            )
        })?;
    if key.starts_with(&dir) {
        return Err(format!(
            "the data key is inside the data directory {}: keep it where the data is not (another \
             volume, a secrets mount) or use node.data_key_command",
            dir.display()
        ));
    }
    Ok(())
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut text = String::new();
    file.take(MAX_KEY_TEXT)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(text)
}

/// Runs the key command and returns what it printed; it must exit 0 within
/// [`COMMAND_TIMEOUT`].
fn run(argv: &[String]) -> Result<String, String> {
    let (program, args) = argv
        .split_first()
        .ok_or("empty: name a program and its arguments")?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= COMMAND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "gave no key within {} s",
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for it failed: {e}")),
        }
    };
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        stdout
            .take(MAX_KEY_TEXT)
            .read_to_string(&mut out)
            .map_err(|e| format!("its output is not text: {e}"))?;
    }
    if !status.success() {
        let mut err = String::new();
        if let Some(stderr) = child.stderr.take() {
            let _ = stderr.take(MAX_KEY_TEXT).read_to_string(&mut err);
        }
        let err: String = err.trim().chars().take(300).collect();
        return Err(format!("exited with {status}: {err}"));
    }
    Ok(out)
}

/// The chain store's and the safety record's cipher: the node's [`DataCipher`].
pub(crate) struct StoreCipher(pub(crate) Arc<DataCipher>);

impl ValueCipher for StoreCipher {
    fn algorithm(&self) -> &str {
        self.0.algorithm()
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, String> {
        self.0.seal(aad, plaintext).map_err(|e| e.to_string())
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, String> {
        self.0.open(aad, sealed).map_err(|e| e.to_string())
    }
}

/// The stores' view of the node's cipher, if it has one.
pub(crate) fn store_cipher(cipher: Option<&Arc<DataCipher>>) -> Option<Arc<dyn ValueCipher>> {
    cipher.map(|c| Arc::new(StoreCipher(c.clone())) as Arc<dyn ValueCipher>)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_key_file_of_the_suites_length_outside_the_data_directory_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("node0/data");
        let hex32 = "11".repeat(32);
        let file = write(dir.path(), "data.key", &format!("0x{hex32}\n"));
        let key = load(&DataKeySource::File(file.clone()), &data, Suite::Ecdsa).unwrap();
        assert_eq!(key.as_bytes(), &[0x11; 32]);
        let err = load(&DataKeySource::File(file), &data, Suite::Sm).unwrap_err();
        assert!(err.contains("16 bytes (SM4-GCM), this one is 32"), "{err}");
        let bad = write(dir.path(), "bad.key", "not hex");
        let err = load(&DataKeySource::File(bad), &data, Suite::Ecdsa).unwrap_err();
        assert!(
            err.contains("node.data_key_file") && err.contains("hex"),
            "{err}"
        );
    }

    #[test]
    fn a_key_file_inside_the_data_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let inside = write(&data, "data.key", &"22".repeat(32));
        let err = load(&DataKeySource::File(inside), &data, Suite::Ecdsa).unwrap_err();
        assert!(err.contains("inside the data directory"), "{err}");
        // Also through a path that only resolves there (`..`).
        let sneaky = data.join("../data/data.key");
        let err = load(&DataKeySource::File(sneaky), &data, Suite::Ecdsa).unwrap_err();
        assert!(err.contains("inside the data directory"), "{err}");
    }

    #[test]
    fn a_key_command_gives_the_key_or_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let sh =
            |script: &str| DataKeySource::Command(vec!["sh".into(), "-c".into(), script.into()]);
        let key = load(&sh(&format!("echo {}", "33".repeat(16))), &data, Suite::Sm).unwrap();
        assert_eq!(key.as_bytes(), &[0x33; 16]);
        let err = load(&sh("echo denied >&2; exit 3"), &data, Suite::Sm).unwrap_err();
        assert!(
            err.contains("exit status: 3") && err.contains("denied"),
            "{err}"
        );
        let err = load(
            &DataKeySource::Command(vec!["/nonexistent/kms".into()]),
            &data,
            Suite::Sm,
        )
        .unwrap_err();
        assert!(err.contains("cannot start"), "{err}");
    }
}
