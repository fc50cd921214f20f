//! Configuration of a [`Worker`], checked when it is built.

use std::time::Duration;

use super::{Config, Handler, StatsHandle, Worker};
use crate::lifecycle::{Lifecycle, Plain};
use crate::limits::MAX_VISIBILITY;
use crate::{Error, QueueClient};

/// Builds a [`Worker`]; made by [`Worker::builder`].
#[derive(Debug)]
pub struct WorkerBuilder<H, L> {
    client: QueueClient,
    handler: H,
    lifecycle: L,
    concurrency: usize,
    max_receivers: Option<usize>,
    visibility: Option<Duration>,
    handler_timeout: Option<Duration>,
    shutdown_deadline: Duration,
    settle_window: Duration,
}

impl<H: Handler> WorkerBuilder<H, Plain> {
    pub(super) fn new(client: QueueClient, handler: H) -> Self {
        WorkerBuilder {
            client,
            handler,
            lifecycle: Plain,
            concurrency: 10,
            max_receivers: None,
            visibility: None,
            handler_timeout: None,
            shutdown_deadline: Duration::from_secs(30),
            settle_window: Duration::from_millis(10),
        }
    }
}

impl<H: Handler, L: Lifecycle + 'static> WorkerBuilder<H, L> {
    /// How many messages are handled at once (default 10).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// The lifecycle around each handling (default [`Plain`]).
    pub fn lifecycle<L2: Lifecycle + 'static>(self, lifecycle: L2) -> WorkerBuilder<H, L2> {
        WorkerBuilder {
            client: self.client,
            handler: self.handler,
            lifecycle,
            concurrency: self.concurrency,
            max_receivers: self.max_receivers,
            visibility: self.visibility,
            handler_timeout: self.handler_timeout,
            shutdown_deadline: self.shutdown_deadline,
            settle_window: self.settle_window,
        }
    }

    /// The visibility timeout messages are received with. By default the lifecycle's
    /// requirement ([`Lifecycle::visibility_timeout`]) if it has one, else the queue's own.
    pub fn visibility_timeout(mut self, visibility: Duration) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// Gives up on a handler after `limit`: its future is dropped and the failure is retried
    /// per the lifecycle, like any other error. No limit by default.
    ///
    /// Unless the lifecycle keeps messages hidden while their handler runs (a
    /// [`Heartbeat`](crate::lifecycle::Heartbeat)), the limit must end a handler, and leave
    /// time to settle its message (the settle window and a second), before the message's
    /// visibility timeout does; so the visibility timeout must be known: chosen with
    /// [`visibility_timeout`](Self::visibility_timeout) or required by the lifecycle.
    /// [`build`](Self::build) refuses anything else, since the message would be delivered
    /// again while its handler still runs.
    pub fn handler_timeout(mut self, limit: Duration) -> Self {
        self.handler_timeout = Some(limit);
        self
    }

    /// How long shutdown waits for running handlers before releasing their messages
    /// (default 30 s).
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.shutdown_deadline = deadline;
        self
    }

    /// The most receive loops run in parallel under load (default: one per 10 slots of
    /// concurrency, between 1 and 16). Idle, a single loop runs.
    pub fn max_receivers(mut self, max: usize) -> Self {
        self.max_receivers = Some(max);
        self
    }

    /// How long a settlement may wait for others to share its batch request (default 10 ms).
    /// A batch leaves earlier when it has 10 entries.
    pub fn settle_window(mut self, window: Duration) -> Self {
        self.settle_window = window;
        self
    }

    /// Checks the configuration and returns the worker.
    pub fn build(self) -> Result<Worker<H, L>, Error> {
        if self.concurrency == 0 {
            return Err(Error::Config("concurrency must be at least 1".to_owned()));
        }
        let required = self.lifecycle.visibility_timeout();
        let visibility = match (self.visibility, required) {
            (Some(chosen), Some(required)) if chosen < required => {
                return Err(Error::Config(format!(
                    "visibility timeout {chosen:?} is shorter than the {required:?} the \
                     lifecycle needs"
                )));
            }
            (chosen, required) => chosen.or(required),
        };
        if visibility.is_some_and(|v| v > MAX_VISIBILITY) {
            return Err(Error::Config(
                "visibility timeout above 12 hours".to_owned(),
            ));
        }
        if let Some(limit) = self.handler_timeout {
            let extended = self.lifecycle.extends_visibility();
            check_handler_timeout(limit, visibility, extended, self.settle_window)?;
        }
        let max_receivers = self
            .max_receivers
            .unwrap_or((self.concurrency / 10).clamp(1, 16))
            .max(1);

        Ok(Worker {
            config: Config {
                client: self.client,
                handler: self.handler,
                lifecycle: self.lifecycle,
                concurrency: self.concurrency,
                max_receivers,
                visibility,
                handler_timeout: self.handler_timeout,
                shutdown_deadline: self.shutdown_deadline,
                settle_window: self.settle_window,
            },
            stats: StatsHandle::default(),
        })
    }
}

/// How long a settlement request may take to reach SQS, on top of the settle window.
const SETTLE_TIME: Duration = Duration::from_secs(1);

/// Refuses a handler timeout that lets a handler run on after its message became visible again
/// (`visibility`: what messages are received with, `None` for the queue's unknown default;
/// `extended`: the lifecycle keeps messages hidden while their handler runs).
fn check_handler_timeout(
    limit: Duration,
    visibility: Option<Duration>,
    extended: bool,
    settle_window: Duration,
) -> Result<(), Error> {
    if limit.is_zero() {
        return Err(Error::Config(
            "handler timeout must be above zero".to_owned(),
        ));
    }
    if limit > MAX_VISIBILITY {
        return Err(Error::Config(format!(
            "handler timeout {limit:?} is above 12 hours, the longest SQS keeps a message hidden"
        )));
    }
    if extended {
        return Ok(());
    }
    let margin = settle_window + SETTLE_TIME;
    let Some(visibility) = visibility else {
        return Err(Error::Config(format!(
            "a handler timeout without a heartbeat needs a known visibility timeout: set one of \
             at least {:?} (the timeout plus {margin:?} to settle), or use a heartbeat",
            limit + margin
        )));
    };
    if limit + margin > visibility {
        return Err(Error::Config(format!(
            "handler timeout {limit:?} leaves no time to settle before the visibility timeout \
             of {visibility:?} ends (needs {margin:?}): the message would be delivered again \
             while its handler runs; use a heartbeat or a visibility timeout of at least {:?}",
            limit + margin
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(10);

    fn check(limit: u64, visibility: Option<u64>, extended: bool) -> Result<(), Error> {
        let visibility = visibility.map(Duration::from_secs);
        check_handler_timeout(Duration::from_secs(limit), visibility, extended, WINDOW)
    }

    #[test]
    fn handler_timeout_must_end_before_the_visibility_timeout() {
        assert!(check(10, Some(30), false).is_ok());
        assert!(check(28, Some(30), false).is_ok());
        assert!(check(29, Some(30), false).is_err());
        assert!(check(30, Some(30), false).is_err());
        assert!(check(300, Some(30), false).is_err());
    }

    #[test]
    fn handler_timeout_with_an_unknown_visibility_needs_a_heartbeat() {
        assert!(check(10, None, false).is_err());
        assert!(check(300, None, true).is_ok());
        assert!(check(300, Some(30), true).is_ok());
    }

    #[test]
    fn handler_timeout_beyond_what_sqs_can_hide_or_zero_is_refused() {
        assert!(check(43_201, Some(43_200), true).is_err());
        assert!(check(0, Some(30), false).is_err());
    }
}
