//! Seeded randomness for scenarios: a test that picks kill moments, loads or fault schedules at
//! random takes its seed from `BANYAN_TEST_SEED` when set (to replay a failure) and otherwise
//! from the clock, and prints it first, so that a failing run's output says how to replay it.

/// The environment variable a seed is read from.
pub const SEED_ENV: &str = "BANYAN_TEST_SEED";

/// A small, fast, deterministic generator (xorshift64*): the same seed gives the same sequence.
#[derive(Clone, Debug)]
pub struct TestRng {
    seed: u64,
    state: u64,
}

impl TestRng {
    /// A generator for the scenario `name`: seeded from `BANYAN_TEST_SEED` (decimal or `0x` hex)
    /// if set, else from the clock. Prints the seed and how to replay it on stderr (which
    /// nextest shows for a failing test). Panics on a `BANYAN_TEST_SEED` that is not a number.
    pub fn for_scenario(name: &str) -> Self {
        let seed = match std::env::var(SEED_ENV) {
            Ok(text) => parse_seed(&text).unwrap_or_else(|| {
                panic!("{SEED_ENV}={text:?} is not a number (decimal or 0x-prefixed hex)")
            }),
            Err(_) => clock_seed(),
        };
        eprintln!("{name}: seed {seed} (replay with {SEED_ENV}={seed})");
        Self::from_seed(seed)
    }

    /// A generator from a given seed.
    pub fn from_seed(seed: u64) -> Self {
        Self {
            seed,
            // xorshift has one fixed point, zero; any other state is fine.
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The seed this generator started from (put it in failure messages).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `range` (empty ranges give their start).
    pub fn in_range(&mut self, range: std::ops::Range<u64>) -> u64 {
        let span = range.end.saturating_sub(range.start);
        if span == 0 {
            return range.start;
        }
        range.start + self.next_u64() % span
    }
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn clock_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Fold the 128-bit count and the pid so that two tests started in the same nanosecond differ.
    (nanos as u64) ^ ((nanos >> 64) as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence_and_another_seed_another() {
        let a: Vec<u64> = {
            let mut r = TestRng::from_seed(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = TestRng::from_seed(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = TestRng::from_seed(43);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut r = TestRng::from_seed(0);
        assert!((0..100).all(|_| (300..1500).contains(&r.in_range(300..1500))));
        assert_eq!(r.in_range(5..5), 5);
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("12345"), Some(12_345));
        assert_eq!(parse_seed(" 0xff "), Some(255));
        assert_eq!(parse_seed("seven"), None);
    }
}
