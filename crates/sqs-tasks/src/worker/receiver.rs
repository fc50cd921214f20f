//! Receive loops: take free slots, receive that many messages, hand them out.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::OwnedSemaphorePermit;

use super::stats::Event;
use super::{Handler, Shared, handling};
use crate::backoff::Backoff;
use crate::lifecycle::Lifecycle;
use crate::limits::MAX_BATCH_ENTRIES;
use crate::{Message, Settle};

/// How long a receive waits for more free slots when fewer than a full receive's worth are
/// free: a fraction of a 1 s handler's time, and short next to a long poll.
const GATHER_WAIT: Duration = Duration::from_millis(10);

/// Starts the primary receive loop, which runs until receiving stops. Further loops are added
/// by the running ones when one loop cannot keep up.
pub(super) fn start<H: Handler, L: Lifecycle + 'static>(shared: &Arc<Shared<H, L>>) {
    shared.stats.receive_loop_started();
    spawn_loop(shared, true);
}

fn spawn_loop<H: Handler, L: Lifecycle + 'static>(shared: &Arc<Shared<H, L>>, primary: bool) {
    let task = receive_loop(Arc::clone(shared), primary);
    shared.receivers.spawn(task);
}

/// One loop of receives. The primary loop runs until receiving stops; an added loop ends as
/// soon as a receive comes back less than full, the sign that the queue is no longer ahead of
/// the worker.
///
/// When receiving stops, a loop waiting for slots or backing off ends at once, but a receive
/// already sent is awaited: SQS may have picked messages for it, and they would stay invisible
/// until their visibility timeout. What it returns is released, not handled. A long poll that
/// finds nothing ends within the client's wait time, so an idle worker takes up to that long to
/// stop, unless the shutdown deadline passes first: then the receive is dropped.
async fn receive_loop<H: Handler, L: Lifecycle + 'static>(
    shared: Arc<Shared<H, L>>,
    primary: bool,
) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(20));
    loop {
        let Some(mut permits) = free_slots(&shared).await else {
            break;
        };
        let wanted = permits.num_permits();

        let received = tokio::select! {
            received = shared.config.client.receive(wanted, shared.config.visibility) => received,
            () = shared.abort.cancelled() => {
                tracing::debug!(
                    "shutdown deadline passed during a receive; messages it was given, if any, \
                     come back when their visibility timeout ends"
                );
                break;
            }
        };
        let messages = match received {
            Ok(messages) => messages,
            Err(err) if err.is_fatal() => {
                tracing::error!(error = %err, "receiving cannot succeed, stopping the worker");
                *shared.fatal.lock().expect("not poisoned") = Some(err);
                shared.stop_receiving.cancel();
                break;
            }
            Err(err) => {
                let delay = backoff.next_delay();
                tracing::debug!(error = %err, ?delay, "receive failed, backing off");
                tokio::select! {
                    () = tokio::time::sleep(delay) => continue,
                    () = shared.stop_receiving.cancelled() => break,
                }
            }
        };
        backoff.reset();

        // Received after receiving stopped: no handler may start any more.
        if shared.stop_receiving.is_cancelled() {
            release_unhandled(&shared, messages).await;
            break;
        }
        let got = messages.len();
        for message in messages {
            let permit = permits.split(1).expect("one permit per message received");
            handling::spawn(&shared, message, permit);
        }
        drop(permits);

        let behind =
            got == MAX_BATCH_ENTRIES && shared.slots.available_permits() >= MAX_BATCH_ENTRIES;
        if behind {
            add_loop(&shared);
        } else if !primary && got < wanted {
            break;
        }
    }
    shared.stats.receive_loop_ended();
}

/// Waits for at least one free slot, then gathers more for a moment; `None` once receiving
/// stops.
async fn free_slots<H, L>(shared: &Shared<H, L>) -> Option<OwnedSemaphorePermit> {
    // One loop gathers at a time. The semaphore serves its waiters in turn, so loops gathering
    // together would share out the slots of a burst (one batch of acks frees ten at once) one
    // or two each, and each would then receive that few: many small receives, more requests
    // per message, and handlings started later.
    let _turn = tokio::select! {
        turn = shared.gathering.lock() => turn,
        () = shared.stop_receiving.cancelled() => return None,
    };
    // No free slot, no receive: a received message's visibility clock is already running.
    let mut permits = tokio::select! {
        permit = Arc::clone(&shared.slots).acquire_owned() => permit.expect("slots are never closed"),
        () = shared.stop_receiving.cancelled() => return None,
    };
    // Under load, slots come free one handler at a time: waiting a moment for a full
    // receive's worth of them saves the requests of many small receives. (A worker with
    // fewer slots than a full receive waits for all of its slots instead.)
    let full = (MAX_BATCH_ENTRIES - 1).min(shared.config.concurrency - 1) as u32;
    let more_slots = Arc::clone(&shared.slots).acquire_many_owned(full);
    let gathered = tokio::select! {
        gathered = tokio::time::timeout(GATHER_WAIT, more_slots) => gathered.ok(),
        () = shared.stop_receiving.cancelled() => return None,
    };
    match gathered {
        Some(extra) => permits.merge(extra.expect("slots are never closed")),
        None => {
            let more = shared.slots.available_permits().min(MAX_BATCH_ENTRIES - 1);
            if let Ok(extra) = Arc::clone(&shared.slots).try_acquire_many_owned(more as u32) {
                permits.merge(extra);
            }
        }
    }
    Some(permits)
}

/// Makes messages that arrived after receiving stopped visible again at once, without handing
/// them to the handler.
async fn release_unhandled<H, L>(shared: &Shared<H, L>, messages: Vec<Message>) {
    if messages.is_empty() {
        return;
    }
    tracing::debug!(
        count = messages.len(),
        "receive completed after shutdown began, releasing its messages"
    );
    let releases = messages
        .iter()
        .map(|message| shared.settler.nack(message, None));
    for (message, released) in messages.iter().zip(join_all(releases).await) {
        match released {
            Ok(()) => shared.stats.record(Event::Released),
            Err(err) => {
                tracing::warn!(message_id = message.id(), error = %err, "could not release a message received during shutdown; it will be delivered again when its visibility timeout ends");
                shared.stats.record(Event::SettleError);
            }
        }
    }
}

/// Adds a receive loop unless the bound is reached.
fn add_loop<H: Handler, L: Lifecycle + 'static>(shared: &Arc<Shared<H, L>>) {
    if let Some(running) = shared
        .stats
        .try_add_receive_loop(shared.config.max_receivers)
    {
        tracing::debug!(
            receive_loops = running,
            "queue is ahead of the worker, adding a receive loop"
        );
        spawn_loop(shared, false);
    }
}
