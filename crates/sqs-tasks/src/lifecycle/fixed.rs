//! [`FixedRetry`]: retry failures after a constant delay.

use std::time::Duration;

use super::{Lifecycle, Outcome, settle_result};
use crate::{Error, Message, Settle, TaskFailure};

/// Acks on success; on failure hides the message for a fixed delay before the next attempt
/// (unless the failure asks for another delay or is permanent).
#[derive(Debug, Clone, Copy)]
pub struct FixedRetry {
    delay: Duration,
}

impl FixedRetry {
    /// Retries every failure after `delay` (whole seconds, rounded up, at most 12 hours).
    pub fn new(delay: Duration) -> Self {
        FixedRetry { delay }
    }
}

impl Lifecycle for FixedRetry {
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
        settle_result(settler, message, handler.await, Some(self.delay)).await
    }
}
