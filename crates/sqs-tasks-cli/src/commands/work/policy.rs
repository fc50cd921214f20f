//! The lifecycle built from `work`'s retry and heartbeat options.

use std::future::Future;
use std::time::Duration;

use sqs_tasks::lifecycle::{ExponentialRetry, FixedRetry, Heartbeat, Lifecycle, Outcome};
use sqs_tasks::{Error, Message, Settle, TaskFailure};

/// `--retry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RetryKind {
    /// The same delay before every retry (--retry-delay).
    Fixed,
    /// --retry-delay, doubled with each receive of the message, up to --retry-max-delay,
    /// with jitter.
    Exponential,
}

/// One of the framework's retry lifecycles, chosen at run time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Retry {
    Fixed(FixedRetry),
    Exponential(ExponentialRetry),
}

impl Retry {
    pub(crate) fn new(kind: RetryKind, delay: Duration, max: Duration) -> Self {
        match kind {
            RetryKind::Fixed => Retry::Fixed(FixedRetry::new(delay)),
            RetryKind::Exponential => {
                Retry::Exponential(ExponentialRetry::new(delay).max(max).jitter(true))
            }
        }
    }
}

impl Lifecycle for Retry {
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
        match self {
            Retry::Fixed(fixed) => fixed.run(settler, message, handler).await,
            Retry::Exponential(exponential) => exponential.run(settler, message, handler).await,
        }
    }
}

/// The retry policy, with or without a heartbeat around it.
#[derive(Debug, Clone)]
pub(crate) enum WorkLifecycle {
    Heartbeat(Heartbeat<Retry>),
    Plain(Retry),
}

impl Lifecycle for WorkLifecycle {
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
        match self {
            WorkLifecycle::Heartbeat(heartbeat) => heartbeat.run(settler, message, handler).await,
            WorkLifecycle::Plain(retry) => retry.run(settler, message, handler).await,
        }
    }

    fn visibility_timeout(&self) -> Option<Duration> {
        match self {
            WorkLifecycle::Heartbeat(heartbeat) => heartbeat.visibility_timeout(),
            WorkLifecycle::Plain(retry) => retry.visibility_timeout(),
        }
    }

    fn extends_visibility(&self) -> bool {
        match self {
            WorkLifecycle::Heartbeat(heartbeat) => heartbeat.extends_visibility(),
            WorkLifecycle::Plain(retry) => retry.extends_visibility(),
        }
    }
}
