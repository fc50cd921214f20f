//! The worker's settler: coalesces the settlements of all handlers into batch requests.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::client::{capped_visibility, whole_seconds};
use crate::limits::{MAX_BATCH_ENTRIES, MAX_VISIBILITY_SECS};
use crate::settle::{Disposal, Settle};
use crate::{Error, Message, QueueClient};

/// A [`Settle`] whose acks become DeleteMessageBatch entries and whose nacks and keep-alives
/// become ChangeMessageVisibilityBatch entries. A batch is sent when it has 10 entries or when
/// its oldest entry has waited the flush window, whichever comes first; each caller waits for
/// its own entry's result.
///
/// The queue of requests is unbounded, but each handler has at most one settlement pending at
/// a time, so it never holds more than the worker's concurrency.
///
/// Known shortcoming: batches are sent concurrently, so two changes for one message that land
/// in different batches (a heartbeat abandoned at the shutdown deadline, then the release) may
/// reach SQS in either order. Closing it would take a per-receipt sequence: hold a change back
/// while an earlier one for the same receipt is in flight.
#[derive(Debug, Clone)]
pub(crate) struct BatchSettler {
    client: QueueClient,
    requests: mpsc::UnboundedSender<Request>,
}

#[derive(Debug)]
struct Request {
    receipt: String,
    /// `None` to delete, else the new visibility timeout in seconds.
    visibility: Option<i32>,
    reply: oneshot::Sender<Result<(), Error>>,
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
    let task = tokio::spawn(run(client.clone(), receiver, window, hurry));
    (BatchSettler { client, requests }, task)
}

impl BatchSettler {
    async fn submit(&self, message: &Message, visibility: Option<i32>) -> Result<(), Error> {
        let (reply, result) = oneshot::channel();
        let receipt = message.receipt_handle().to_owned();
        let request = Request {
            receipt,
            visibility,
            reply,
        };
        if self.requests.send(request).is_err() {
            return Err(stopped());
        }
        result.await.unwrap_or_else(|_| Err(stopped()))
    }

    async fn change_visibility(&self, message: &Message, wanted: Duration) -> Result<(), Error> {
        let secs = whole_seconds(capped_visibility(message, wanted), MAX_VISIBILITY_SECS);
        self.submit(message, Some(secs)).await
    }
}

fn stopped() -> Error {
    Error::Transport {
        detail: "the settlement batcher has stopped".to_owned(),
    }
}

impl Settle for BatchSettler {
    async fn ack(&self, message: &Message) -> Result<(), Error> {
        self.submit(message, None).await
    }

    async fn nack(&self, message: &Message, retry_after: Option<Duration>) -> Result<(), Error> {
        let wanted = retry_after.unwrap_or(Duration::ZERO);
        self.change_visibility(message, wanted).await
    }

    async fn keep_alive(&self, message: &Message, duration: Duration) -> Result<(), Error> {
        self.change_visibility(message, duration).await
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<Disposal, Error> {
        // Rare by nature: not worth batching.
        self.client.dead_letter(message, reason).await
    }
}

/// Entries waiting for one kind of batch request.
#[derive(Debug, Default)]
struct Pending {
    entries: Vec<Request>,
    /// When the oldest entry must leave.
    due: Option<Instant>,
}

impl Pending {
    /// Adds an entry. A later entry for the same receipt handle replaces a waiting one (whose
    /// caller is told it succeeded, as it was superseded): two entries for one message in one
    /// batch would be applied in no defined order.
    fn push(&mut self, request: Request, due: Instant) {
        self.due.get_or_insert(due);
        let earlier = self
            .entries
            .iter_mut()
            .find(|e| e.receipt == request.receipt);
        match earlier {
            Some(earlier) => {
                let superseded = std::mem::replace(earlier, request);
                let _ = superseded.reply.send(Ok(()));
            }
            None => self.entries.push(request),
        }
    }

    fn take(&mut self) -> Vec<Request> {
        self.due = None;
        std::mem::take(&mut self.entries)
    }
}

async fn run(
    client: QueueClient,
    mut requests: mpsc::UnboundedReceiver<Request>,
    window: Duration,
    hurry: CancellationToken,
) {
    let mut deletes = Pending::default();
    let mut changes = Pending::default();
    let mut in_flight = JoinSet::new();

    loop {
        let due = [deletes.due, changes.due].into_iter().flatten().min();
        tokio::select! {
            request = requests.recv() => {
                let Some(request) = request else { break };
                let pending = if request.visibility.is_none() { &mut deletes } else { &mut changes };
                let wait = if hurry.is_cancelled() { Duration::ZERO } else { window };
                pending.push(request, Instant::now() + wait);
                if pending.entries.len() >= MAX_BATCH_ENTRIES {
                    in_flight.spawn(send(client.clone(), pending.take()));
                }
            }
            () = hurry.cancelled(), if due.is_some() => {
                for pending in [&mut deletes, &mut changes] {
                    if !pending.entries.is_empty() {
                        in_flight.spawn(send(client.clone(), pending.take()));
                    }
                }
            }
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                let now = Instant::now();
                for pending in [&mut deletes, &mut changes] {
                    if pending.due.is_some_and(|due| due <= now) {
                        in_flight.spawn(send(client.clone(), pending.take()));
                    }
                }
            }
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }

    // Every settler is gone: send what is left and wait for all answers.
    for pending in [&mut deletes, &mut changes] {
        if !pending.entries.is_empty() {
            in_flight.spawn(send(client.clone(), pending.take()));
        }
    }
    while in_flight.join_next().await.is_some() {}
}

/// Sends one batch (all deletes or all visibility changes) and answers each entry's caller.
async fn send(client: QueueClient, batch: Vec<Request>) {
    let results = if batch[0].visibility.is_none() {
        let receipts: Vec<&str> = batch.iter().map(|r| r.receipt.as_str()).collect();
        client.delete_batch(&receipts).await
    } else {
        let changes: Vec<(&str, i32)> = batch
            .iter()
            .map(|r| (r.receipt.as_str(), r.visibility.unwrap_or(0)))
            .collect();
        client.change_visibility_batch(&changes).await
    };
    tracing::trace!(entries = batch.len(), "settlement batch sent");
    for (request, result) in batch.into_iter().zip(results) {
        // A caller that stopped waiting (its handling was cancelled) needs no answer.
        let _ = request.reply.send(result);
    }
}
