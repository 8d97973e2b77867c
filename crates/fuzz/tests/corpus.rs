//! Replays every fuzz target's seeds and committed corpus (`fuzz/corpus/<target>/`) through
//! its body: what the fuzzer once found, or started from, keeps passing in the ordinary suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use banyan_fuzz::{TARGETS, seeds};

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

#[test]
fn every_target_has_seeds_and_passes_them() {
    for (name, body) in TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for seed in &seeds {
            body(seed);
        }
    }
}

#[test]
fn the_committed_corpus_passes_every_target() {
    let mut replayed = 0;
    for (name, body) in TARGETS {
        let dir = corpus_dir(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            // A panic here names the input through the default hook's message and this one.
            eprintln!("{name}: {}", path.display());
            body(&input);
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} corpus inputs");
}

/// Writes the seeds to `fuzz/corpus/<target>/seed-<n>` (run once when a target is added).
#[test]
#[ignore = "writes files into the source tree"]
fn write_seed_corpus() {
    for (name, _) in TARGETS {
        let dir = corpus_dir(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, seed) in seeds(name).iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), seed).unwrap();
        }
    }
}
