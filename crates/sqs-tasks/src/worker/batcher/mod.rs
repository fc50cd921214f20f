//! The worker's settler: coalesces the settlements of all handlers into batch requests.

mod order;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::client::{capped_visibility, whole_seconds};
use crate::limits::MAX_VISIBILITY_SECS;
use crate::settle::{Disposal, Settle};
use crate::{Error, Message, QueueClient};

/// A [`Settle`] whose acks become DeleteMessageBatch entries and whose nacks and keep-alives
/// become ChangeMessageVisibilityBatch entries. A batch is sent when it has 10 entries or when
/// its oldest entry has waited the flush window, whichever comes first; each caller waits for
/// its own entry's result.
///
/// Requests about one message reach SQS in the order they were made, and a final settlement
/// (ack, nack, dead letter) wins over keep-alives: see [`order`] for how.
///
/// The queue of requests is unbounded, but each handler has at most one settlement pending at
/// a time, so it never holds more than the worker's concurrency.
#[derive(Debug, Clone)]
pub(crate) struct BatchSettler {
    client: QueueClient,
    requests: mpsc::UnboundedSender<Request>,
}

/// One settlement waiting for its batch.
#[derive(Debug)]
struct Request {
    receipt: String,
    action: Action,
    reply: oneshot::Sender<Result<(), Error>>,
}

/// What a request does to its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Delete it: it was handled (or dead-lettered). Final.
    Delete,
    /// Make it visible after this many seconds: its handling is over. Final.
    Release(i32),
    /// Keep it hidden this many seconds more while its handler runs (a heartbeat).
    Extend(i32),
}

impl Action {
    /// True for the settlements that end a handling: nothing may be applied after them.
    fn is_final(self) -> bool {
        !matches!(self, Action::Extend(_))
    }

    /// The visibility timeout to set, or `None` for a delete.
    fn visibility(self) -> Option<i32> {
        match self {
            Action::Delete => None,
            Action::Release(secs) | Action::Extend(secs) => Some(secs),
        }
    }
}

/// The two batch calls the settler makes. [`QueueClient`] makes them for real; tests fake them
/// to control when each batch reaches "SQS".
pub(crate) trait BatchApi: Clone + Send + Sync + 'static {
    /// DeleteMessageBatch: one result per receipt handle, in order.
    fn delete_batch(
        &self,
        receipts: &[&str],
    ) -> impl Future<Output = Vec<Result<(), Error>>> + Send;

    /// ChangeMessageVisibilityBatch: one result per `(receipt handle, seconds)`, in order.
    fn change_visibility_batch(
        &self,
        changes: &[(&str, i32)],
    ) -> impl Future<Output = Vec<Result<(), Error>>> + Send;
}

impl BatchApi for QueueClient {
    async fn delete_batch(&self, receipts: &[&str]) -> Vec<Result<(), Error>> {
        QueueClient::delete_batch(self, receipts).await
    }

    async fn change_visibility_batch(&self, changes: &[(&str, i32)]) -> Vec<Result<(), Error>> {
        QueueClient::change_visibility_batch(self, changes).await
    }
}

/// Starts the batching task. It ends, after sending what is pending, once every clone of the
/// returned settler is dropped. Once `hurry` is cancelled (the worker is shutting down), pending
/// entries leave at once and new ones do not wait for company.
pub(crate) fn spawn(
    client: QueueClient,
    window: Duration,
    hurry: CancellationToken,
) -> (BatchSettler, JoinHandle<()>) {
    let (requests, receiver) = mpsc::unbounded_channel();
    let task = tokio::spawn(order::run(client.clone(), receiver, window, hurry));
    (BatchSettler { client, requests }, task)
}

impl BatchSettler {
    /// Queues `action` for `message` and waits for its result.
    ///
    /// The request is queued before the first await: dropping the returned future leaves it
    /// queued, still in order with the requests this caller makes afterwards.
    fn submit(
        &self,
        message: &Message,
        action: Action,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let (reply, result) = oneshot::channel();
        let request = Request {
            receipt: message.receipt_handle().to_owned(),
            action,
            reply,
        };
        let queued = self.requests.send(request).is_ok();
        async move {
            if !queued {
                return Err(stopped());
            }
            result.await.unwrap_or_else(|_| Err(stopped()))
        }
    }

    fn seconds(message: &Message, wanted: Duration) -> i32 {
        whole_seconds(capped_visibility(message, wanted), MAX_VISIBILITY_SECS)
    }
}

fn stopped() -> Error {
    Error::Transport {
        detail: "the settlement batcher has stopped".to_owned(),
    }
}

impl Settle for BatchSettler {
    async fn ack(&self, message: &Message) -> Result<(), Error> {
        self.submit(message, Action::Delete).await
    }

    async fn nack(&self, message: &Message, retry_after: Option<Duration>) -> Result<(), Error> {
        let secs = Self::seconds(message, retry_after.unwrap_or(Duration::ZERO));
        self.submit(message, Action::Release(secs)).await
    }

    async fn keep_alive(&self, message: &Message, duration: Duration) -> Result<(), Error> {
        let secs = Self::seconds(message, duration);
        self.submit(message, Action::Extend(secs)).await
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<Disposal, Error> {
        // The copy is rare by nature and not worth batching; the delete goes through the batch
        // so that it is ordered with the message's other settlements.
        let disposal = self.client.copy_to_dead_letter(message, reason).await?;
        self.submit(message, Action::Delete).await?;
        Ok(disposal)
    }
}
