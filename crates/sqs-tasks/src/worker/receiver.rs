//! Receive loops: take free slots, receive that many messages, hand them out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{Handler, Shared, handling};
use crate::backoff::Backoff;
use crate::lifecycle::Lifecycle;
use crate::limits::MAX_BATCH_ENTRIES;

/// How long a receive waits for more free slots when fewer than a full receive's worth are
/// free: a fraction of a 1 s handler's time, and short next to a long poll.
const GATHER_WAIT: Duration = Duration::from_millis(10);

/// Starts the primary receive loop, which runs until receiving stops. Further loops are added
/// by the running ones when one loop cannot keep up.
pub(super) fn start<H: Handler, L: Lifecycle + 'static>(shared: &Arc<Shared<H, L>>) {
    let running = Arc::new(AtomicUsize::new(1));
    spawn_loop(shared, running, true);
}

fn spawn_loop<H: Handler, L: Lifecycle + 'static>(
    shared: &Arc<Shared<H, L>>,
    running: Arc<AtomicUsize>,
    primary: bool,
) {
    let task = receive_loop(Arc::clone(shared), running, primary);
    shared.receivers.spawn(task);
}

/// One loop of receives. The primary loop runs until receiving stops; an added loop ends as
/// soon as a receive comes back less than full, the sign that the queue is no longer ahead of
/// the worker.
async fn receive_loop<H: Handler, L: Lifecycle + 'static>(
    shared: Arc<Shared<H, L>>,
    running: Arc<AtomicUsize>,
    primary: bool,
) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(20));
    loop {
        // No free slot, no receive: a received message's visibility clock is already running.
        let mut permits = tokio::select! {
            permit = Arc::clone(&shared.slots).acquire_owned() => permit.expect("slots are never closed"),
            () = shared.stop_receiving.cancelled() => break,
        };
        // Under load, slots come free one handler at a time: waiting a moment for a full
        // receive's worth of them saves the requests of many small receives. (A worker with
        // fewer slots than a full receive waits for all of its slots instead.)
        let full = (MAX_BATCH_ENTRIES - 1).min(shared.config.concurrency - 1) as u32;
        let more_slots = Arc::clone(&shared.slots).acquire_many_owned(full);
        let gathered = tokio::select! {
            gathered = tokio::time::timeout(GATHER_WAIT, more_slots) => gathered.ok(),
            () = shared.stop_receiving.cancelled() => break,
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
        let wanted = permits.num_permits();

        // Known shortcoming: stopping drops a receive in flight; if SQS had already picked
        // messages for it, they stay invisible until their visibility timeout ends. Avoiding it
        // would mean waiting out the long poll (up to 20 s) at every shutdown.
        let received = tokio::select! {
            received = shared.config.client.receive(wanted, shared.config.visibility) => received,
            () = shared.stop_receiving.cancelled() => break,
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

        let got = messages.len();
        for message in messages {
            let permit = permits.split(1).expect("one permit per message received");
            handling::spawn(&shared, message, permit);
        }
        drop(permits);

        let behind =
            got == MAX_BATCH_ENTRIES && shared.slots.available_permits() >= MAX_BATCH_ENTRIES;
        if behind {
            add_loop(&shared, &running);
        } else if !primary && got < wanted {
            break;
        }
    }
    running.fetch_sub(1, Ordering::AcqRel);
}

/// Adds a receive loop unless the bound is reached.
fn add_loop<H: Handler, L: Lifecycle + 'static>(
    shared: &Arc<Shared<H, L>>,
    running: &Arc<AtomicUsize>,
) {
    let max = shared.config.max_receivers;
    let reserved = running.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < max).then_some(n + 1)
    });
    if let Ok(before) = reserved {
        tracing::debug!(
            receive_loops = before + 1,
            "queue is ahead of the worker, adding a receive loop"
        );
        spawn_loop(shared, Arc::clone(running), false);
    }
}
