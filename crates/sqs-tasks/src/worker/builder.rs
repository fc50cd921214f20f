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
