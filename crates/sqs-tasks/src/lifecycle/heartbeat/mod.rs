//! [`Heartbeat`]: keeps a message hidden while its handler runs.

mod builder;
mod plan;

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use builder::HeartbeatBuilder;
use plan::{Beat, plan_beat, retry_at};

use super::{Lifecycle, Outcome};
use crate::{Error, Message, Settle, TaskFailure};

/// Wraps another lifecycle and, while the handler runs, extends the message's visibility every
/// `interval` so that it stays hidden for `visibility` more; the inner lifecycle settles the
/// message once the handler is done.
///
/// Guarantees:
/// - no heartbeat runs after the handler returned: the heartbeat is stopped, and an extension
///   already in flight is awaited, before the inner lifecycle settles the message;
/// - a failed extension is logged and never interrupts the handler; it is tried again before
///   the message's current visibility runs out rather than a whole interval later; a message
///   whose receipt handle no longer works is logged as lost and the heartbeat stops;
/// - SQS hides a message at most 12 hours after its receive: the last extension ends exactly
///   there, a warning says the message will be delivered again, and the heartbeat stops;
/// - beats are planned from the receive, so receive the message with a visibility timeout of at
///   least `visibility` ([`Lifecycle::visibility_timeout`] tells the worker to).
///
/// ```
/// use sqs_tasks::lifecycle::{ExponentialRetry, Heartbeat};
/// use std::time::Duration;
///
/// let lifecycle = Heartbeat::builder(ExponentialRetry::new(Duration::from_secs(5)))
///     .visibility(Duration::from_secs(60))
///     .interval(Duration::from_secs(20))
///     .build()?;
/// # Ok::<(), sqs_tasks::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Heartbeat<L> {
    inner: L,
    visibility: Duration,
    interval: Duration,
}

impl<L> Heartbeat<L> {
    /// Starts configuring a heartbeat around `inner`: by default the message is kept hidden 30 s
    /// ahead, renewed every 15 s.
    pub fn builder(inner: L) -> HeartbeatBuilder<L> {
        HeartbeatBuilder::new(inner)
    }

    /// Extends the visibility of `message` on schedule until `stop` is cancelled. A beat that
    /// has started is finished before stopping, so that it cannot land after a settlement.
    async fn beat<S: Settle>(&self, settler: &S, message: &Message, stop: &CancellationToken) {
        let mut next = message.received_at() + self.interval;
        // What the receive (with at least `visibility`, see `visibility_timeout`) bought.
        let mut hidden_until = message.received_at() + self.visibility;
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
            }
            let started = Instant::now();

            let (extension, last) = match plan_beat(message.received_at(), started, self.visibility)
            {
                Beat::Extend(extension) => (extension, false),
                Beat::Last(extension) => (extension, true),
                Beat::Capped => (Duration::ZERO, true),
            };
            next = started + self.interval;
            if !extension.is_zero() {
                match settler.keep_alive(message, extension).await {
                    Ok(()) => {
                        tracing::trace!(message_id = message.id(), ?extension, "heartbeat");
                        hidden_until = hidden_until.max(started + extension);
                    }
                    Err(err) if err.is_message_gone() => {
                        tracing::warn!(message_id = message.id(), error = %err, "heartbeat failed: message lost, another consumer may receive it while this handler runs");
                        return;
                    }
                    Err(err) => {
                        next = retry_at(started, hidden_until, self.interval);
                        let retry_in = next - started;
                        tracing::warn!(message_id = message.id(), error = %err, ?retry_in, "heartbeat failed, will try again");
                    }
                }
            }
            if last {
                tracing::warn!(
                    message_id = message.id(),
                    "message reached the 12-hour visibility limit of SQS and will be delivered again while this handler runs"
                );
                return;
            }
        }
    }
}

impl<L: Lifecycle> Lifecycle for Heartbeat<L> {
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
        let stop = CancellationToken::new();
        let work = async {
            let result = handler.await;
            stop.cancel();
            result
        };
        // Both run in this task: when `join!` returns, the heartbeat is over, so the inner
        // lifecycle's settlement is the last request about this message.
        let guarded = async {
            let (result, ()) = tokio::join!(work, self.beat(settler, message, &stop));
            result
        };
        self.inner.run(settler, message, guarded).await
    }

    fn visibility_timeout(&self) -> Option<Duration> {
        let own = self.visibility;
        Some(
            self.inner
                .visibility_timeout()
                .map_or(own, |inner| inner.max(own)),
        )
    }

    fn extends_visibility(&self) -> bool {
        true
    }
}
