//! Lifecycles: what happens around the handling of one message.
//!
//! A lifecycle receives the message and the handler's future, runs the future, and settles the
//! message through a [`Settle`] implementation: a bare [`QueueClient`](crate::QueueClient)
//! (one request per settlement) or the [`Worker`](crate::Worker)'s batching settler.
//!
//! Writing one takes a few lines; this one acks every message, whatever the handler says:
//!
//! ```
//! use sqs_tasks::lifecycle::{Lifecycle, Outcome};
//! use sqs_tasks::{Error, Message, Settle, TaskFailure};
//!
//! struct AlwaysAck;
//!
//! impl Lifecycle for AlwaysAck {
//!     async fn run<S, F, T, E>(&self, settler: &S, message: &Message, handler: F)
//!         -> Result<Outcome, Error>
//!     where
//!         S: Settle,
//!         F: Future<Output = Result<T, E>> + Send,
//!         T: Send,
//!         E: TaskFailure,
//!     {
//!         let _ = handler.await;
//!         settler.ack(message).await?;
//!         Ok(Outcome::Succeeded)
//!     }
//! }
//! ```

mod either;
mod exponential;
mod fixed;
mod heartbeat;
mod plain;
mod settle_result;

use std::future::Future;
use std::time::Duration;

pub use either::Either;
pub use exponential::ExponentialRetry;
pub use fixed::FixedRetry;
pub use heartbeat::{Heartbeat, HeartbeatBuilder};
pub use plain::Plain;
pub use settle_result::settle_result;

use crate::{Error, Message, Settle, TaskFailure};

/// Runs a handler's future for one message and settles the message afterwards.
pub trait Lifecycle: Send + Sync {
    /// Runs `handler` (the handling of `message`) and settles the message with `settler`.
    ///
    /// Returns what was done with the message, or the error of the settlement request (the
    /// message then reappears when its visibility timeout ends).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the handler (and any heartbeat) at its current await point
    /// and leaves the message unsettled: it reappears when its visibility timeout ends, unless
    /// the caller releases it.
    fn run<S, F, T, E>(
        &self,
        settler: &S,
        message: &Message,
        handler: F,
    ) -> impl Future<Output = Result<Outcome, Error>> + Send
    where
        S: Settle,
        F: Future<Output = Result<T, E>> + Send,
        T: Send,
        E: TaskFailure;

    /// The visibility timeout messages must be received with for this lifecycle to keep its
    /// promises (a heartbeat's first beat is planned from the receive); `None` when any will do.
    fn visibility_timeout(&self) -> Option<Duration> {
        None
    }

    /// True when the lifecycle keeps the message hidden for as long as its handler runs (as a
    /// [`Heartbeat`] does, up to SQS's 12 hours), so that a handler may outlive the visibility
    /// timeout it was received with. A lifecycle that wraps another forwards its answer.
    ///
    /// The worker reads it to refuse a handler timeout that would let a handler run on after
    /// its message became visible again.
    fn extends_visibility(&self) -> bool {
        false
    }
}

/// What a lifecycle did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler succeeded and the message was deleted.
    Succeeded,
    /// The handler failed and the message will be delivered again, after the given delay
    /// (`None`: at once).
    Retried {
        /// How long the message stays hidden before the next attempt.
        after: Option<Duration>,
    },
    /// The handler failed for good and the message was moved to the dead-letter queue.
    DeadLettered,
    /// The handler failed for good and the message was deleted (its queue has no dead-letter
    /// queue).
    Discarded,
}
