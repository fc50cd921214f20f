//! [`Settle`]: the few operations that decide a received message's fate.

use std::future::Future;
use std::time::Duration;

use crate::{Error, Message};

/// Settles messages: what lifecycles call once a handler is done, and while it runs.
///
/// [`QueueClient`](crate::QueueClient) implements it with one SQS request per call; the
/// [`Worker`](crate::Worker) implements it by coalescing the calls of all its handlers into
/// batch requests. A lifecycle written against this trait works with both.
pub trait Settle: Send + Sync {
    /// Deletes the message: it was handled.
    fn ack(&self, message: &Message) -> impl Future<Output = Result<(), Error>> + Send;

    /// Gives the message back: visible again after `retry_after`, or at once with `None`.
    /// Never deletes it.
    fn nack(
        &self,
        message: &Message,
        retry_after: Option<Duration>,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Keeps the message hidden for `duration` from now.
    fn keep_alive(
        &self,
        message: &Message,
        duration: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Removes a message that can never succeed: moved to the queue's dead-letter queue when
    /// it has one (with `reason` attached), deleted otherwise.
    fn dead_letter(
        &self,
        message: &Message,
        reason: &str,
    ) -> impl Future<Output = Result<Disposal, Error>> + Send;
}

/// Where [`Settle::dead_letter`] put a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposal {
    /// Copied to the dead-letter queue, then deleted from its queue.
    DeadLettered {
        /// The dead-letter queue's URL.
        queue_url: String,
    },
    /// Deleted, because its queue has no dead-letter queue.
    Deleted,
}
