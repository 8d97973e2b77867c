//! `banyan init` writes a network whose certificates, keys, genesis and configurations agree, and
//! refuses to write over anything; `banyan up` runs it and stops it cleanly on Ctrl-C.

use crate::common;
use alloy_primitives::{Address, U256};
use banyan_crypto::{SecretKey, Suite};
use banyan_network::TlsConfig;
use banyan_node::Role;
use banyan_node::config::load_config;
use banyan_primitives::Genesis;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The port layout `banyan init` documents: JSON-RPC, metrics and node network, 1000 apart.
const STRIDE: u16 = 1000;

use crate::common::banyan;

fn init(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    all.push(dir.to_str().unwrap());
    banyan(&all)
}

fn init_ok(dir: &Path, args: &[&str]) {
    let out = init(dir, args);
    assert!(
        out.status.success(),
        "banyan init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The passphrase of the networks these tests make with `--passphrase-file`.
const PASSPHRASE: &str = "init test passphrase";

/// Reads a key file as `banyan init` writes it: `suite:hex` (like `banyan account new
/// --plain`), or a keystore encrypted with [`PASSPHRASE`].
fn read_key(path: &Path) -> (Suite, SecretKey) {
    let text = std::fs::read_to_string(path).unwrap();
    if banyan_crypto::keystore::is_keystore(&text) {
        return banyan_crypto::keystore::decrypt(&text, PASSPHRASE).unwrap();
    }
    let (suite, hex) = text.trim().split_once(':').unwrap();
    (suite.parse().unwrap(), SecretKey::from_hex(hex).unwrap())
}

fn address(suite: Suite, key: &SecretKey) -> Address {
    suite.address(&suite.public_key(key).unwrap())
}

fn genesis(dir: &Path) -> Genesis {
    Genesis::from_json(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Checks every node folder of an initialised network: its key is the genesis validator's (or
/// no validator's, for an observer), its certificate chains to the CA with its address as node
/// id, and its configuration loads with the documented ports.
fn check_nodes(dir: &Path, validators: usize, observers: usize, base_port: u16) -> Genesis {
    let genesis = genesis(dir);
    assert_eq!(genesis.validators.len(), validators);
    let total = validators + observers;
    for k in 0..total {
        let node = dir.join(format!("node{k}"));
        let validator = k < validators;
        let key_file = if validator {
            "validator.key"
        } else {
            "observer.key"
        };
        let (suite, key) = read_key(&node.join(key_file));
        assert_eq!(suite, genesis.suite);
        let own = address(suite, &key);
        if validator {
            assert_eq!(genesis.validators[k].address, own, "node{k}");
            assert_eq!(
                genesis.validators[k].public_key.as_ref(),
                suite.public_key(&key).unwrap().to_bytes()
            );
        } else {
            assert!(genesis.validators.iter().all(|v| v.address != own));
        }

        let tls = TlsConfig::load(
            &dir.join("ca/ca.crt"),
            Some(&dir.join("crl.pem")),
            &node.join("tls"),
        )
        .unwrap();
        let node_id: Address = tls.local_identity().node_id().parse().unwrap();
        assert_eq!(node_id, own, "node{k}'s certificate names its address");

        let config = load_config(&node.join("config.toml")).unwrap();
        assert_eq!(config.genesis, genesis);
        let expected_role = if validator {
            Role::Validator
        } else {
            Role::Observer
        };
        assert_eq!(config.consensus.role, expected_role);
        assert_eq!(address(suite, &config.validator_key), own);
        let k16 = k as u16;
        assert_eq!(config.rpc.listen, localhost(base_port + k16));
        assert_eq!(
            config.metrics.listen,
            Some(localhost(base_port + STRIDE + k16))
        );
        let network = config.network.unwrap();
        assert_eq!(network.listen, localhost(base_port + 2 * STRIDE + k16));
        let mut peers = network.peers.clone();
        peers.sort();
        let others: Vec<SocketAddr> = (0..total as u16)
            .filter(|&j| j != k16)
            .map(|j| localhost(base_port + 2 * STRIDE + j))
            .collect();
        assert_eq!(peers, others, "node{k} dials every other node");
        #[cfg(unix)]
        for private in [node.join(key_file), node.join("tls/node.key")] {
            assert_eq!(mode(&private), 0o600, "{}", private.display());
        }
    }
    assert!(!dir.join(format!("node{total}")).exists());
    genesis
}

#[test]
fn init_writes_an_ecdsa_network_whose_files_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    init_ok(
        &dir,
        &["--nodes", "4", "--observers", "1", "--base-port", "40000"],
    );
    let genesis = check_nodes(&dir, 4, 1, 40000);
    assert_eq!(genesis.chain_id, 20261);
    assert_eq!(genesis.suite, Suite::Ecdsa);
    #[cfg(unix)]
    assert_eq!(mode(&dir.join("ca/ca.key")), 0o600);

    // The funded accounts are `banyan dev`'s, with their keys in accounts/.
    let ether = U256::from(10u64).pow(U256::from(18u64));
    for (i, hex) in banyan_node::DEV_KEYS.iter().enumerate() {
        let dev = address(Suite::Ecdsa, &SecretKey::from_hex(hex).unwrap());
        assert_eq!(
            genesis.alloc[&dev].balance,
            U256::from(10_000u64) * ether,
            "dev account {i}"
        );
        let (_, key) = read_key(&dir.join(format!("accounts/dev{i}.key")));
        assert_eq!(address(Suite::Ecdsa, &key), dev);
    }
    assert_eq!(genesis.alloc.len(), banyan_node::DEV_KEYS.len());
}

#[test]
fn init_with_a_passphrase_encrypts_every_key_and_nodes_read_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let pass = tmp.path().join("passphrase");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    init_ok(
        &dir,
        &[
            "--nodes",
            "2",
            "--observers",
            "1",
            "--suite",
            "sm",
            "--base-port",
            "42000",
            "--passphrase-file",
            pass.to_str().unwrap(),
            "--kdf",
            "light",
        ],
    );
    // Each config names the passphrase file, and loads (decrypting its key) with it.
    let genesis = check_nodes(&dir, 2, 1, 42000);
    let mut files = vec![
        dir.join("node0/validator.key"),
        dir.join("node1/validator.key"),
        dir.join("node2/observer.key"),
    ];
    files.extend(
        std::fs::read_dir(dir.join("accounts"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    assert_eq!(files.len(), 3 + genesis.alloc.len());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let (suite, key) = read_key(file);
        assert_eq!(suite, Suite::Sm, "{}", file.display());
        assert!(
            banyan_crypto::keystore::is_keystore(&text)
                && !text.contains(key.to_hex().trim_start_matches("0x")),
            "{} holds its key in plain form",
            file.display()
        );
    }
    // Without the passphrase file a node does not start, and says why.
    let config = dir.join("node0/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("passphrase_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, without).unwrap();
    if std::env::var_os("BANYAN_PASSPHRASE").is_none() {
        let err = load_config(&config).err().unwrap().to_string();
        assert!(
            err.contains("encrypted") && err.contains("BANYAN_PASSPHRASE"),
            "{err}"
        );
    }
    // A missing or empty passphrase file stops `banyan init` before it writes anything.
    std::fs::write(&pass, "\n").unwrap();
    let other = tmp.path().join("other");
    let out = common::banyan(&[
        "init",
        other.to_str().unwrap(),
        "--passphrase-file",
        pass.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--passphrase-file"),
        "{}",
        stderr(&out)
    );
    assert!(!other.exists());
}

#[test]
fn init_writes_an_sm_network_with_its_own_funded_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    init_ok(
        &dir,
        &[
            "--nodes",
            "2",
            "--suite",
            "sm",
            "--chain-id",
            "777",
            "--base-port",
            "41000",
        ],
    );
    let genesis = check_nodes(&dir, 2, 0, 41000);
    assert_eq!(genesis.suite, Suite::Sm);
    assert_eq!(genesis.chain_id, 777);
    let mut funded = 0;
    for entry in std::fs::read_dir(dir.join("accounts")).unwrap() {
        let (suite, key) = read_key(&entry.unwrap().path());
        assert_eq!(suite, Suite::Sm);
        assert!(genesis.alloc[&address(Suite::Sm, &key)].balance > U256::ZERO);
        funded += 1;
    }
    assert_eq!(funded, genesis.alloc.len());
    // Not the public Hardhat keys: this chain's accounts are its own.
    let hardhat = common::dev_key(0);
    assert!(!genesis.alloc.contains_key(&address(Suite::Sm, &hardhat)));
}

#[test]
fn init_and_up_refuse_a_folder_with_something_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = init(&dir, &["--nodes", "1"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not empty") && stderr(&out).contains("--force"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("genesis.json").exists());
    let out = banyan(&["up", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("holds no Banyan network"),
        "{}",
        stderr(&out)
    );

    // --force replaces a network, and only what `banyan init` wrote.
    init_ok(&dir, &["--nodes", "3", "--force"]);
    let first_ca = std::fs::read_to_string(dir.join("ca/ca.crt")).unwrap();
    let out = init(&dir, &["--nodes", "1"]);
    assert!(!out.status.success(), "a second init must not overwrite");
    assert_eq!(
        std::fs::read_to_string(dir.join("ca/ca.crt")).unwrap(),
        first_ca
    );
    init_ok(&dir, &["--nodes", "1", "--force", "--base-port", "42000"]);
    assert_ne!(
        std::fs::read_to_string(dir.join("ca/ca.crt")).unwrap(),
        first_ca
    );
    check_nodes(&dir, 1, 0, 42000);
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_tampered_key_or_certificate_is_refused_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    init_ok(&dir, &["--nodes", "2"]);
    let other = tmp.path().join("other");
    init_ok(&other, &["--nodes", "1"]);
    let node0 = dir.join("node0");
    let config = node0.join("config.toml");
    let refused = |words: &[&str]| {
        let err = load_config(&config).expect_err("refused").to_string();
        assert!(err.contains("config.toml"), "{err}");
        for word in words {
            assert!(err.contains(word), "expected {word:?} in: {err}");
        }
        // `banyan node` stops at start with the same words.
        let out = banyan(&["node", "--config", config.to_str().unwrap()]);
        assert!(!out.status.success());
        for word in words {
            assert!(stderr(&out).contains(word), "{}", stderr(&out));
        }
    };
    let backup = |name: &str| std::fs::read(node0.join(name)).unwrap();
    let restore = |name: &str, bytes: &[u8]| std::fs::write(node0.join(name), bytes).unwrap();

    // Another node's TLS key with node0's certificate.
    let tls_key = backup("tls/node.key");
    std::fs::copy(dir.join("node1/tls/node.key"), node0.join("tls/node.key")).unwrap();
    refused(&["network.node_dir", "does not belong"]);
    restore("tls/node.key", &tls_key);

    // A certificate and key from another network's CA.
    let tls_cert = backup("tls/node.crt");
    std::fs::copy(other.join("node0/tls/node.crt"), node0.join("tls/node.crt")).unwrap();
    std::fs::copy(other.join("node0/tls/node.key"), node0.join("tls/node.key")).unwrap();
    refused(&["network.node_dir, checked against network.ca_cert"]);
    restore("tls/node.crt", &tls_cert);
    restore("tls/node.key", &tls_key);

    // node1's validator key: a validator, but not the one node0's certificate names.
    let validator_key = backup("validator.key");
    let (_, key0) = read_key(&node0.join("validator.key"));
    let (_, key1) = read_key(&dir.join("node1/validator.key"));
    std::fs::copy(dir.join("node1/validator.key"), node0.join("validator.key")).unwrap();
    refused(&[
        "network.node_dir",
        &address(Suite::Ecdsa, &key1).to_string(),
    ]);

    // A key that is no validator's: the error names the address node0 should have.
    let stranger = SecretKey::from_bytes(&[7; 32]).unwrap();
    std::fs::write(node0.join("validator.key"), stranger.to_hex()).unwrap();
    refused(&[
        "node.validator_key_file",
        &address(Suite::Ecdsa, &stranger).to_string(),
        "expected",
        &address(Suite::Ecdsa, &key0).to_string(),
    ]);
    restore("validator.key", &validator_key);
    load_config(&config).unwrap();
}

/// A base port whose JSON-RPC, metrics and node-network ports for `nodes` nodes are free now,
/// below the ephemeral range (the testkit's).
fn free_base_port(nodes: u16) -> u16 {
    banyan_testkit::free_base_port(usize::from(nodes)).unwrap()
}

fn process_exists(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {name} {pid}");
}

/// A `banyan up` process; on drop (pass or fail) it and every node it printed are SIGKILLed.
struct Up {
    child: Child,
    node_pids: Vec<u32>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Up {
    /// Starts `banyan up dir`, its errors written to `stderr`.
    fn start(dir: &Path, stderr: &Path) -> Self {
        let mut child = Command::new(common::bin())
            .env("BANYAN_EXIT_WITH_PARENT", "1")
            .args(["up", dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            node_pids: Vec::new(),
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line of output that satisfies `wanted`.
    fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(e) => panic!("{e}; output so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "banyan up did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        for pid in &self.node_pids {
            let _ = Command::new("kill")
                .args(["-s", "KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn up_serves_json_rpc_and_stops_every_node_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let base = free_base_port(1);
    init_ok(&dir, &["--nodes", "1", "--base-port", &base.to_string()]);

    let mut up = Up::start(&dir, &tmp.path().join("up.err"));
    let (pid, url, row) = node0_row(&mut up);
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(url, format!("http://127.0.0.1:{base}"));
    assert!(
        columns[6].ends_with("node0/node.log"),
        "log path printed: {row}"
    );
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    up.line(|l| l.starts_with("  (0) 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266  key 0xac09"));

    let rpc = banyan_testkit::RpcClient::new(addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    let height = loop {
        if let Ok(Ok(v)) = rpc.try_call("eth_blockNumber", json!([])) {
            break v;
        }
        assert!(Instant::now() < deadline, "no eth_blockNumber answer");
        std::thread::sleep(Duration::from_millis(50));
    };
    banyan_testkit::parse_quantity(&height).unwrap();
    assert!(process_exists(pid));

    signal(up.child.id(), "INT");
    up.line(|l| l == "node0 stopped");
    let status = up.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "banyan up exited with {status}");
    assert!(!process_exists(pid), "node0 (pid {pid}) outlived banyan up");
    let log = std::fs::read_to_string(dir.join("node0/node.log")).unwrap();
    assert!(
        log.contains("shutting down"),
        "node0 stopped cleanly: {log}"
    );
}

/// Waits for node0's row in the table `banyan up` prints and returns its pid, JSON-RPC URL and
/// the row: `  node0   validator  <pid>  http://127.0.0.1:<port>  ws://…  http://…/metrics  <log>`.
fn node0_row(up: &mut Up) -> (u32, String, String) {
    let row = up.line(|l| l.trim_start().starts_with("node0 "));
    let columns: Vec<&str> = row.split_whitespace().collect();
    let pid: u32 = columns[2].parse().unwrap();
    up.node_pids.push(pid);
    (pid, columns[3].to_owned(), row)
}

#[test]
fn up_reports_a_node_that_dies_and_exits_when_none_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let base = free_base_port(1);
    init_ok(&dir, &["--nodes", "1", "--base-port", &base.to_string()]);
    let errors = tmp.path().join("up.err");
    let mut up = Up::start(&dir, &errors);
    let (pid, _, _) = node0_row(&mut up);
    up.line(|l| l.starts_with("All 1 nodes are listening"));

    signal(pid, "KILL");
    let status = up.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "with no node left, banyan up fails");
    let errors = std::fs::read_to_string(&errors).unwrap();
    assert!(
        errors.contains(&format!("node0 (pid {pid}) exited unexpectedly")),
        "{errors}"
    );
    // The end of its log follows.
    let log = std::fs::read_to_string(dir.join("node0/node.log")).unwrap();
    let last = log.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(errors.contains(&format!("    {last}")), "{errors}");
    assert!(errors.contains("every node has exited"), "{errors}");
}

/// The port table in docs/local-network.md is what `banyan init` writes with its defaults.
#[test]
fn the_documented_ports_are_init_defaults() {
    let doc = include_str!("../../../../docs/local-network.md");
    let rows: Vec<Vec<&str>> = doc
        .lines()
        .map(|line| {
            line.split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|cells| {
            cells
                .first()
                .and_then(|c| c.strip_prefix("node"))
                .is_some_and(|k| k.parse::<usize>().is_ok())
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    init_ok(&dir, &[]);
    let genesis = genesis(&dir);
    assert_eq!(rows.len(), genesis.validators.len());
    assert_eq!(genesis.suite, Suite::Ecdsa);
    for row in rows {
        let config = load_config(&dir.join(row[0]).join("config.toml")).unwrap();
        assert_eq!(format!("http://{}", config.rpc.listen), row[1]);
        assert_eq!(
            format!("http://{}/metrics", config.metrics.listen.unwrap()),
            row[2]
        );
        assert_eq!(config.network.unwrap().listen.to_string(), row[3]);
    }
}
