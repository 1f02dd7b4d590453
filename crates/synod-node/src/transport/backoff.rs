//! Bounded exponential reconnect backoff with jitter, from a seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The n-th delay after a failure is drawn uniformly from
/// `[max(min, ceiling/2), ceiling]` where `ceiling = min(max, min * 2^n)`:
/// doubling until `max`, with jitter so that peers that lost each other at the
/// same moment do not retry in lockstep.
#[derive(Debug)]
pub struct Backoff {
    min_ms: u64,
    max_ms: u64,
    failures: u32,
    rng: StdRng,
}

impl Backoff {
    pub fn new(min_ms: u64, max_ms: u64, seed: u64) -> Self {
        assert!(0 < min_ms && min_ms <= max_ms, "validated by TransportConfig");
        Backoff { min_ms, max_ms, failures: 0, rng: StdRng::seed_from_u64(seed) }
    }

    /// After a successful handshake the next failure waits the minimum again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn next_delay_ms(&mut self) -> u64 {
        let ceiling = 1u64
            .checked_shl(self.failures)
            .and_then(|factor| self.min_ms.checked_mul(factor))
            .map_or(self.max_ms, |c| c.min(self.max_ms));
        // Stop counting once the ceiling is reached, so the shift cannot grow without bound.
        if ceiling < self.max_ms {
            self.failures += 1;
        }
        let floor = (ceiling / 2).max(self.min_ms);
        let delay = self.rng.gen_range(floor..=ceiling);
        assert!(self.min_ms <= delay && delay <= self.max_ms);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_bound_and_resets() {
        let mut backoff = Backoff::new(50, 2_000, 7);
        let delays: Vec<u64> = (0..12).map(|_| backoff.next_delay_ms()).collect();
        let ceilings = [50, 100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000];
        for (delay, ceiling) in delays.iter().zip(ceilings) {
            assert!((ceiling / 2).max(50) <= *delay && *delay <= ceiling, "{delay} vs {ceiling}");
        }
        backoff.reset();
        assert_eq!(backoff.next_delay_ms(), 50);
    }

    #[test]
    fn same_seed_same_delays() {
        let run = |seed| {
            let mut backoff = Backoff::new(10, 10_000, seed);
            (0..20).map(|_| backoff.next_delay_ms()).collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn huge_bounds_do_not_overflow() {
        let mut backoff = Backoff::new(u64::MAX / 2, u64::MAX, 1);
        for _ in 0..100 {
            assert!(backoff.next_delay_ms() >= u64::MAX / 2);
        }
    }
}
