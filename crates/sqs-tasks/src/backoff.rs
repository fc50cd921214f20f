//! Bounded exponential backoff with jitter, for loops that call SQS again after an error.

use std::time::Duration;

use rand::Rng;

/// Delays that double after each consecutive failure, up to a ceiling, each drawn at random
/// between half and all of the nominal value so that many consumers that failed together do not
/// retry together.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: 0,
        }
    }

    /// The delay to wait after one more failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let nominal = self
            .base
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = nominal / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }

    /// Forgets past failures after a success.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_ceiling() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let first = backoff.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..40 {
            assert!(backoff.next_delay() <= Duration::from_secs(5));
        }
        assert!(backoff.next_delay() >= Duration::from_millis(2500));
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
