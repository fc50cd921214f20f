//! The lifecycle built from `work`'s retry and heartbeat options.

use std::time::Duration;

use sqs_tasks::lifecycle::{Either, ExponentialRetry, FixedRetry, Heartbeat};

/// `--retry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RetryKind {
    /// The same delay before every retry (--retry-delay).
    Fixed,
    /// --retry-delay, doubled with each receive of the message, up to --retry-max-delay,
    /// with jitter.
    Exponential,
}

/// One of the framework's retry lifecycles, chosen by `--retry`.
pub(crate) type Retry = Either<FixedRetry, ExponentialRetry>;

/// The retry policy, in a heartbeat unless `--no-heartbeat`.
pub(crate) type WorkLifecycle = Either<Heartbeat<Retry>, Retry>;

/// The retry lifecycle of `--retry`, `--retry-delay` and `--retry-max-delay`.
pub(crate) fn retry(kind: RetryKind, delay: Duration, max: Duration) -> Retry {
    match kind {
        RetryKind::Fixed => Either::Left(FixedRetry::new(delay)),
        RetryKind::Exponential => Either::Right(ExponentialRetry::new(delay).max(max).jitter(true)),
    }
}
