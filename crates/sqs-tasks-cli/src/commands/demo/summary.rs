//! The demo's closing summary.

use std::time::Duration;

use sqs_tasks::WorkerStats;

use crate::logging::Ui;

/// What the demo did, read from the worker's counters, the queues and the server.
#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) messages: u64,
    pub(crate) concurrency: usize,
    pub(crate) stats: WorkerStats,
    /// Messages still in the task queue (visible, in flight or delayed).
    pub(crate) left_in_queue: u64,
    pub(crate) in_dead_letter_queue: u64,
    /// Messages on the results queue.
    pub(crate) results: u64,
    pub(crate) wall: Duration,
    /// The simulated endpoint's busy time, summed over all calls.
    pub(crate) busy: Duration,
    /// SQS requests from the first send to the end.
    pub(crate) requests_total: u64,
    /// SQS requests while the worker ran.
    pub(crate) requests_working: u64,
}

impl Summary {
    /// True when every message ended as succeeded or dead-lettered, and nothing is left.
    pub(crate) fn complete(&self) -> bool {
        self.stats.succeeded + self.in_dead_letter_queue == self.messages
            && self.left_in_queue == 0
            && self.results == self.stats.succeeded
    }

    /// The wall time if every slot were busy all the time: the busy time spread over the
    /// concurrency.
    fn ideal(&self) -> Duration {
        self.busy / self.concurrency.max(1) as u32
    }

    fn per_message(&self, requests: u64) -> f64 {
        requests as f64 / self.messages as f64
    }

    pub(crate) fn print(&self, json: bool, ui: &Ui) {
        if json {
            let value = serde_json::json!({
                "messages": self.messages,
                "concurrency": self.concurrency,
                "processed": self.stats.succeeded,
                "retried": self.stats.retried,
                "dead_lettered": self.in_dead_letter_queue,
                "left_in_queue": self.left_in_queue,
                "results": self.results,
                "wall_seconds": self.wall.as_secs_f64(),
                "ideal_seconds": self.ideal().as_secs_f64(),
                "sqs_requests": self.requests_total,
                "sqs_requests_per_message": self.per_message(self.requests_total),
                "sqs_requests_per_message_working": self.per_message(self.requests_working),
                "complete": self.complete(),
            });
            println!("{value}");
            return;
        }
        let (wall, ideal) = (self.wall.as_secs_f64(), self.ideal().as_secs_f64());
        let efficiency = if wall > 0.0 {
            100.0 * ideal / wall
        } else {
            0.0
        };
        let lines = [
            format!(
                "demo summary ({} task requests, concurrency {})",
                self.messages, self.concurrency
            ),
            format!(
                "  processed       {} (results on {}: {})",
                self.stats.succeeded,
                super::RESULTS_QUEUE,
                self.results
            ),
            format!(
                "  retried         {} (rate limited, then tried again)",
                self.stats.retried
            ),
            format!(
                "  dead-lettered   {} (in {})",
                self.in_dead_letter_queue,
                super::DEAD_LETTER_QUEUE
            ),
            format!("  left in queue   {}", self.left_in_queue),
            format!(
                "  wall time       {wall:.1} s, ideal {ideal:.1} s ({efficiency:.0}%; retries wait for their Retry-After)"
            ),
            format!(
                "  SQS requests    {} ({:.2} per message; {:.2} per message while working)",
                self.requests_total,
                self.per_message(self.requests_total),
                self.per_message(self.requests_working)
            ),
        ];
        ui.clear_bar();
        for line in lines {
            println!("{line}");
        }
    }
}
