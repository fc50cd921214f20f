//! [`ExponentialRetry`]: delays that double with each delivery of the message.

use std::time::Duration;

use rand::Rng;

use super::{Lifecycle, Outcome, settle_result};
use crate::limits::MAX_VISIBILITY;
use crate::{Error, Message, Settle, TaskFailure};

/// Acks on success; on failure hides the message for `base × 2^(receive count − 1)`, at most
/// `max` (and never more than SQS's 12 hours), optionally with jitter.
///
/// The delay is computed from the message's receive count, which SQS keeps, so the policy
/// holds across consumers and restarts.
#[derive(Debug, Clone, Copy)]
pub struct ExponentialRetry {
    base: Duration,
    max: Duration,
    jitter: bool,
}

impl ExponentialRetry {
    /// Delays of `base`, `2 × base`, `4 × base`... capped at 12 hours, without jitter.
    pub fn new(base: Duration) -> Self {
        ExponentialRetry {
            base,
            max: MAX_VISIBILITY,
            jitter: false,
        }
    }

    /// Caps the delay at `max` (itself capped at 12 hours, the longest SQS can hide a message).
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max.min(MAX_VISIBILITY);
        self
    }

    /// Draws each delay at random between half and all of its nominal value, so that messages
    /// that failed together are not all retried together.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The delay without jitter after the failure of delivery number `receive_count`.
    pub fn nominal_delay(&self, receive_count: u32) -> Duration {
        let doublings = receive_count.saturating_sub(1).min(31);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }

    /// The delay after the failure of delivery number `receive_count`, jitter included.
    pub fn delay(&self, receive_count: u32) -> Duration {
        let nominal = self.nominal_delay(receive_count);
        if !self.jitter {
            return nominal;
        }
        let half = nominal / 2;
        half + half.mul_f64(rand::rng().random_range(0.0..=1.0))
    }
}

impl Lifecycle for ExponentialRetry {
    async fn run<S, F, T, E>(
        &self,
        settler: &S,
        message: &Message,
        handler: F,
    ) -> Result<Outcome, Error>
    where
        S: Settle,
        F: Future<Output = Result<T, E>> + Send,
        T: Send,
        E: TaskFailure,
    {
        let delay = self.delay(message.receive_count());
        settle_result(settler, message, handler.await, Some(delay)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_each_receive() {
        let policy = ExponentialRetry::new(Duration::from_secs(2));
        let delays: Vec<u64> = (1..=5).map(|n| policy.nominal_delay(n).as_secs()).collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 32]);
        assert_eq!(policy.nominal_delay(0), Duration::from_secs(2));
    }

    #[test]
    fn delays_never_exceed_twelve_hours_or_the_chosen_maximum() {
        let policy = ExponentialRetry::new(Duration::from_secs(60));
        assert_eq!(policy.nominal_delay(40), Duration::from_secs(43_200));
        assert_eq!(policy.nominal_delay(u32::MAX), Duration::from_secs(43_200));
        let policy = policy.max(Duration::from_secs(24 * 3600));
        assert_eq!(policy.nominal_delay(50), Duration::from_secs(43_200));
        let policy = policy.max(Duration::from_secs(300));
        assert_eq!(policy.nominal_delay(10), Duration::from_secs(300));
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_nominal_delay() {
        let policy = ExponentialRetry::new(Duration::from_secs(10)).jitter(true);
        for count in 1..8 {
            let nominal = policy.nominal_delay(count);
            for _ in 0..50 {
                let delay = policy.delay(count);
                assert!(
                    delay >= nominal / 2 && delay <= nominal,
                    "{delay:?} vs {nominal:?}"
                );
            }
        }
    }
}
