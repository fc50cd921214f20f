//! The batching loop, and the rules that keep one message's settlements in order.
//!
//! Batches are sent concurrently, so two requests about one message in two batches could reach
//! SQS in either order: a heartbeat's extension sent just before the shutdown deadline, say,
//! landing after the release that followed it, and hiding the released message again. So:
//!
//! - a request about a message that has a batch in flight is held back until that batch is
//!   answered (the latest held request replaces an earlier one);
//! - a request replaces a waiting (not yet sent) one about the same message, so that no batch
//!   holds two entries for one message, which SQS would apply in no defined order;
//! - once a final settlement (delete or release) is accepted, keep-alives for that message are
//!   refused until it is answered, so that a stale heartbeat never lands after it.
//!
//! A replaced request's caller is told it succeeded: a later request about the same message
//! took its place. The refusal of a late keep-alive is a [`Error::MessageGone`].

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Action, BatchApi, Request};
use crate::Error;
use crate::limits::MAX_BATCH_ENTRIES;

/// Entries waiting for one kind of batch request.
#[derive(Debug, Default)]
struct Pending {
    entries: Vec<Request>,
    /// When the oldest entry must leave.
    due: Option<Instant>,
}

impl Pending {
    fn push(&mut self, request: Request, due: Instant) {
        self.due.get_or_insert(due);
        self.entries.push(request);
    }

    /// Removes and returns the waiting entry about `receipt`, if any.
    fn remove(&mut self, receipt: &str) -> Option<Request> {
        let index = self.entries.iter().position(|e| e.receipt == receipt)?;
        let request = self.entries.remove(index);
        if self.entries.is_empty() {
            self.due = None;
        }
        Some(request)
    }

    fn has_final(&self, receipt: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.receipt == receipt && e.action.is_final())
    }

    /// Takes the entries of one batch request (at most 10, oldest first).
    fn take_batch(&mut self) -> Vec<Request> {
        let count = self.entries.len().min(MAX_BATCH_ENTRIES);
        let batch: Vec<Request> = self.entries.drain(..count).collect();
        if self.entries.is_empty() {
            self.due = None;
        }
        batch
    }
}

/// Everything the loop knows about requests it has not answered yet.
#[derive(Debug, Default)]
struct Queue {
    deletes: Pending,
    changes: Pending,
    /// Messages with a batch in flight, and what that batch does to each.
    in_flight: HashMap<String, Action>,
    /// Per message, the request that waits for its batch in flight to be answered.
    held: HashMap<String, Request>,
    /// The receipts of each batch in flight, by task.
    batches: HashMap<Id, Vec<String>>,
}

impl Queue {
    /// Takes in a new request, due to leave at `due` at the latest.
    fn accept(&mut self, request: Request, due: Instant) {
        let receipt = request.receipt.as_str();
        if !request.action.is_final() && self.has_final(receipt) {
            tracing::debug!("keep-alive after the message's final settlement, refused");
            let _ = request.reply.send(Err(settled()));
            return;
        }

        for pending in [&mut self.deletes, &mut self.changes] {
            if let Some(replaced) = pending.remove(receipt) {
                let _ = replaced.reply.send(Ok(()));
            }
        }
        if self.in_flight.contains_key(receipt) {
            let held = self.held.insert(request.receipt.clone(), request);
            if let Some(replaced) = held {
                let _ = replaced.reply.send(Ok(()));
            }
            return;
        }
        self.pending_for(request.action).push(request, due);
    }

    fn has_final(&self, receipt: &str) -> bool {
        self.in_flight.get(receipt).is_some_and(|a| a.is_final())
            || self.held.get(receipt).is_some_and(|r| r.action.is_final())
            || self.deletes.has_final(receipt)
            || self.changes.has_final(receipt)
    }

    fn pending_for(&mut self, action: Action) -> &mut Pending {
        match action {
            Action::Delete => &mut self.deletes,
            Action::Release(_) | Action::Extend(_) => &mut self.changes,
        }
    }

    /// When the oldest waiting entry must leave.
    fn due(&self) -> Option<Instant> {
        [self.deletes.due, self.changes.due]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sends the waiting entries: all of them with `all`, else those of full or due batches.
    fn send_ready<A: BatchApi>(&mut self, api: &A, sends: &mut JoinSet<()>, all: bool) {
        let now = Instant::now();
        let Queue {
            deletes,
            changes,
            in_flight,
            batches,
            ..
        } = self;
        for pending in [deletes, changes] {
            // Held requests let go together can make a pending list longer than one batch.
            while pending.entries.len() >= MAX_BATCH_ENTRIES
                || pending.due.is_some_and(|due| all || due <= now)
            {
                let batch = pending.take_batch();
                let receipts: Vec<String> = batch.iter().map(|r| r.receipt.clone()).collect();
                for request in &batch {
                    in_flight.insert(request.receipt.clone(), request.action);
                }
                let task = sends.spawn(send(api.clone(), batch));
                batches.insert(task.id(), receipts);
            }
        }
    }

    /// Forgets an answered batch and lets the requests held behind it go.
    fn answered(&mut self, task: Id, due: Instant) {
        for receipt in self.batches.remove(&task).unwrap_or_default() {
            self.in_flight.remove(&receipt);
            if let Some(request) = self.held.remove(&receipt) {
                self.pending_for(request.action).push(request, due);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.deletes.entries.is_empty() && self.changes.entries.is_empty() && self.held.is_empty()
    }
}

/// The refusal of a keep-alive that came after the message's final settlement.
fn settled() -> Error {
    Error::MessageGone {
        code: "AlreadySettled".to_owned(),
        message: "the worker already settled this message".to_owned(),
    }
}

/// The batching loop. It ends once every sender is gone and every request is answered.
pub(super) async fn run<A: BatchApi>(
    api: A,
    mut requests: mpsc::UnboundedReceiver<Request>,
    window: Duration,
    hurry: CancellationToken,
) {
    let mut queue = Queue::default();
    let mut sends = JoinSet::new();
    let mut open = true;

    loop {
        // Shutting down, or every settler gone: nothing waits for company any more.
        let urgent = !open || hurry.is_cancelled();
        queue.send_ready(&api, &mut sends, urgent);
        if !open && queue.is_empty() && sends.is_empty() {
            break;
        }
        let wait = if urgent { Duration::ZERO } else { window };

        let due = queue.due();
        tokio::select! {
            request = requests.recv(), if open => match request {
                Some(request) => queue.accept(request, Instant::now() + wait),
                None => open = false,
            },
            () = hurry.cancelled(), if !urgent => {}
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {}
            Some(done) = sends.join_next_with_id(), if !sends.is_empty() => {
                let task = match done {
                    Ok((task, ())) => task,
                    Err(err) => {
                        tracing::error!(error = %err, "a settlement batch failed to complete");
                        err.id()
                    }
                };
                queue.answered(task, Instant::now() + wait);
            }
        }
    }
}

/// Sends one batch (all deletes or all visibility changes) and answers each entry's caller.
async fn send<A: BatchApi>(api: A, batch: Vec<Request>) {
    let results = if batch[0].action == Action::Delete {
        let receipts: Vec<&str> = batch.iter().map(|r| r.receipt.as_str()).collect();
        api.delete_batch(&receipts).await
    } else {
        let changes: Vec<(&str, i32)> = batch
            .iter()
            .map(|r| (r.receipt.as_str(), r.action.visibility().unwrap_or(0)))
            .collect();
        api.change_visibility_batch(&changes).await
    };
    tracing::trace!(entries = batch.len(), "settlement batch sent");
    for (request, result) in batch.into_iter().zip(results) {
        // A caller that stopped waiting (its handling was cancelled) needs no answer.
        let _ = request.reply.send(result);
    }
}
