//! `--until-empty`: stop once the queue has nothing left for this worker.

use std::time::Duration;

use sqs_tasks::StatsHandle;
use tokio_util::sync::CancellationToken;

use crate::commands::stats::counts;
use crate::endpoint::Sqs;

/// How often the queue's counts are read.
const POLL: Duration = Duration::from_secs(1);

/// SQS's counts are approximate: the queue must look empty this many times in a row.
const EMPTY_READINGS: u32 = 2;

/// Cancels `stop` once the queue has no visible, in-flight or delayed message and the worker
/// handles none. A message waiting for its retry counts as in flight, so it is waited for.
pub(crate) async fn watch(
    sqs: Sqs,
    queue_url: String,
    stats: StatsHandle,
    stop: CancellationToken,
) {
    let mut empty = 0;
    while !stop.is_cancelled() {
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = stop.cancelled() => return,
        }
        let idle = stats.snapshot().in_flight == 0;
        let drained = match counts(&sqs, &queue_url).await {
            Ok(c) => c.visible + c.in_flight + c.delayed == 0,
            Err(err) => {
                tracing::warn!("cannot read the queue's counts: {err}");
                false
            }
        };
        empty = if idle && drained { empty + 1 } else { 0 };
        if empty >= EMPTY_READINGS {
            tracing::info!("the queue is empty: stopping");
            stop.cancel();
        }
    }
}
