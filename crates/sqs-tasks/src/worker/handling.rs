//! The handling of one received message, in its own task.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::stats::Event;
use super::{Handler, Shared};
use crate::lifecycle::{Lifecycle, Outcome};
use crate::{Message, Settle, TaskError};

/// Spawns the handling of `message`, which holds its slot (`permit`) until it is settled.
pub(super) fn spawn<H: Handler, L: Lifecycle + 'static>(
    shared: &Arc<Shared<H, L>>,
    message: Message,
    permit: OwnedSemaphorePermit,
) {
    shared.stats.record(Event::Received);
    let span = tracing::debug_span!(
        "message",
        message_id = message.id(),
        queue = shared.config.client.queue_url(),
        receive_count = message.receive_count(),
    );
    let task = handle(Arc::clone(shared), message, permit);
    shared.handlings.spawn(task.instrument(span));
}

async fn handle<H: Handler, L: Lifecycle>(
    shared: Arc<Shared<H, L>>,
    message: Message,
    permit: OwnedSemaphorePermit,
) {
    tracing::trace!(body = message.body(), "handling");
    let timeout = shared.config.handler_timeout;
    // Set once the handler returned: from then on the lifecycle is settling the message, and
    // the shutdown deadline lets it finish rather than releasing a handled message.
    let handled = AtomicBool::new(false);
    let handler = async {
        let work = shared.config.handler.handle(message.clone());
        let result = match timeout {
            Some(limit) => tokio::time::timeout(limit, work)
                .await
                .unwrap_or_else(|_| Err(TaskError::timed_out(limit))),
            None => work.await,
        };
        handled.store(true, Ordering::Release);
        result
    };
    // Boxed so that it can be dropped (and the handler and heartbeat in it with it) before the
    // release below.
    let mut lifecycle = Box::pin(
        shared
            .config
            .lifecycle
            .run(&shared.settler, &message, handler),
    );

    let finished = tokio::select! {
        outcome = &mut lifecycle => Some(outcome),
        () = shared.abort.cancelled() => None,
    };
    let event = match finished {
        Some(outcome) => event_of(outcome),
        None if handled.load(Ordering::Acquire) => event_of(lifecycle.await),
        None => {
            // Dropping the lifecycle drops the handler and any heartbeat with it: nothing else
            // about this message runs while it is released.
            drop(lifecycle);
            release(&shared, &message).await
        }
    };
    shared.stats.record(event);
    shared.stats.record(Event::Finished);
    drop(permit);
}

fn event_of(outcome: Result<Outcome, crate::Error>) -> Event {
    match outcome {
        Ok(Outcome::Succeeded) => Event::Succeeded,
        Ok(Outcome::Retried { .. }) => Event::Retried,
        Ok(Outcome::DeadLettered) => Event::DeadLettered,
        Ok(Outcome::Discarded) => Event::Discarded,
        Err(err) => {
            tracing::warn!(error = %err, "settlement failed, the message will be delivered again when its visibility timeout ends");
            Event::SettleError
        }
    }
}

/// Makes the message of an unfinished handling visible again at once.
async fn release<H, L>(shared: &Shared<H, L>, message: &Message) -> Event {
    match shared.settler.nack(message, None).await {
        Ok(()) => {
            tracing::debug!("released unfinished message at shutdown");
            Event::Released
        }
        Err(err) => {
            tracing::warn!(error = %err, "could not release unfinished message at shutdown; it will be delivered again when its visibility timeout ends");
            Event::SettleError
        }
    }
}
