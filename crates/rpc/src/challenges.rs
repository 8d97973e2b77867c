//! One-time challenges for presentations: the node hands out a random challenge, a presentation
//! bound to it is accepted once, and a second presentation with it is a replay.
//!
//! Held in memory (a restart forgets them, and a presentation made for a forgotten challenge is
//! refused as unknown, never accepted twice), bounded in number and in age.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The prefix of every challenge this node issues, so that one it forgot is told from a
/// verifier's own.
pub(crate) const PREFIX: &str = "banyan-challenge-";
/// How long a challenge can be used.
pub(crate) const LIFETIME: Duration = Duration::from_secs(600);
/// Most challenges held (issued and not yet expired).
pub(crate) const MAX_CHALLENGES: usize = 100_000;

/// What became of a challenge presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    /// Not one this node issued: the verifier answers for its freshness.
    Foreign,
    /// Issued here and unused until now: it is now used.
    First,
    /// Issued here and already used: the presentation is replayed.
    Replayed,
    /// Looks like one of this node's but is unknown (expired, or issued before a restart).
    Unknown,
}

#[derive(Default)]
struct Entry {
    issued: Option<Instant>,
    used: bool,
}

/// The challenges issued and not yet expired.
#[derive(Default)]
pub(crate) struct Challenges {
    inner: Mutex<HashMap<String, Entry>>,
}

impl Challenges {
    /// A new challenge, or `None` when the node holds as many as it may.
    pub(crate) fn issue(&self) -> Option<String> {
        let now = Instant::now();
        let mut map = self.inner.lock();
        map.retain(|_, e| e.issued.is_some_and(|t| now.duration_since(t) < LIFETIME));
        if map.len() >= MAX_CHALLENGES {
            return None;
        }
        let challenge = format!("{PREFIX}{}", hex_random());
        map.insert(
            challenge.clone(),
            Entry {
                issued: Some(now),
                used: false,
            },
        );
        Some(challenge)
    }

    /// Marks `challenge` used and says what it was.
    pub(crate) fn consume(&self, challenge: &str) -> Use {
        if !challenge.starts_with(PREFIX) {
            return Use::Foreign;
        }
        let now = Instant::now();
        let mut map = self.inner.lock();
        match map.get_mut(challenge) {
            Some(e) if e.issued.is_some_and(|t| now.duration_since(t) < LIFETIME) => {
                if e.used {
                    Use::Replayed
                } else {
                    e.used = true;
                    Use::First
                }
            }
            _ => Use::Unknown,
        }
    }
}

fn hex_random() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_used_once() {
        let c = Challenges::default();
        let one = c.issue().unwrap_or_default();
        assert!(one.starts_with(PREFIX));
        assert_ne!(c.issue().unwrap_or_default(), one);
        assert_eq!(c.consume(&one), Use::First);
        assert_eq!(c.consume(&one), Use::Replayed);
        assert_eq!(c.consume(&format!("{PREFIX}00")), Use::Unknown);
        assert_eq!(c.consume("the verifier's own"), Use::Foreign);
    }
}
