//! A simulated LLM endpoint: slow answers, some rate limits, a few requests it never accepts.
//!
//! Every draw is a hash of the task id and the attempt, so a run's shape does not depend on
//! scheduling, and a retried task can succeed where its first attempt was rate limited.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqs_tasks::{Handler, Message, TaskError};

use super::prompts::TaskRequest;
use crate::commands::work::results::Results;

/// Latencies are drawn uniformly from this range, in milliseconds.
const LATENCY_MS: (u64, u64) = (200, 3000);

/// Chance that the first attempt is rate limited; a second attempt is limited a quarter as
/// often, a third never, so no task exhausts its receives on rate limits alone.
const RATE_LIMIT_CHANCE: f64 = 0.08;

/// One task in this many is refused for good (a content filter, say).
const REFUSED_EVERY: u64 = 97;

/// The simulated endpoint, with the total time it was busy (for the ideal wall time).
#[derive(Debug)]
pub(crate) struct SimulatedLlm {
    pub(crate) results: Results,
    pub(crate) busy_ms: Arc<AtomicU64>,
}

/// Whether the simulated endpoint refuses this task every time.
pub(crate) fn refuses(task_id: u64) -> bool {
    task_id % REFUSED_EVERY == 13
}

impl SimulatedLlm {
    async fn call(&self, request: &TaskRequest, attempt: u32) -> Result<String, TaskError> {
        let roll = unit(request.task_id, attempt, 1);
        let latency = if refuses(request.task_id) || limited(roll, attempt) {
            // Refusals and rate limits come back fast, as real endpoints' do.
            Duration::from_millis(LATENCY_MS.0 / 2)
        } else {
            let span = (LATENCY_MS.1 - LATENCY_MS.0) as f64;
            Duration::from_millis(LATENCY_MS.0 + (span * unit(request.task_id, attempt, 2)) as u64)
        };
        tokio::time::sleep(latency).await;
        self.busy_ms
            .fetch_add(latency.as_millis() as u64, Ordering::Relaxed);

        if refuses(request.task_id) {
            return Err(TaskError::permanent(
                "400 Bad Request: prompt refused by the content filter",
            ));
        }
        if limited(roll, attempt) {
            let after = Duration::from_secs(1 + u64::from(attempt));
            return Err(TaskError::new("429 Too Many Requests").with_retry_after(after));
        }
        let words = 20 + (unit(request.task_id, attempt, 3) * 60.0) as usize;
        Ok(format!(
            "{{\"task_id\":{},\"model\":\"{}\",\"completion\":\"({} words about: {})\"}}",
            request.task_id,
            request.model,
            words,
            request.prompt.replace('"', "'")
        ))
    }
}

fn limited(roll: f64, attempt: u32) -> bool {
    match attempt {
        1 => roll < RATE_LIMIT_CHANCE,
        2 => roll < RATE_LIMIT_CHANCE / 4.0,
        _ => false,
    }
}

impl Handler for SimulatedLlm {
    type Output = ();

    async fn handle(&self, message: Message) -> Result<(), TaskError> {
        let request: TaskRequest = message.json().map_err(TaskError::permanent)?;
        let completion = self.call(&request, message.receive_count()).await?;
        self.results
            .deliver(&message, completion)
            .await
            .map_err(|failed| failed.into_task_error())
    }
}

/// A number in [0, 1) drawn from the task, the attempt and a stream number (splitmix64).
fn unit(task_id: u64, attempt: u32, stream: u64) -> f64 {
    let mut x = task_id
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(attempt) << 32)
        .wrapping_add(stream);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_spread_over_the_unit_interval() {
        let draws: Vec<f64> = (0..10_000).map(|i| unit(i, 1, 1)).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let limited = draws.iter().filter(|d| **d < RATE_LIMIT_CHANCE).count();
        assert!((600..1000).contains(&limited), "{limited}");
    }

    #[test]
    fn about_one_task_in_a_hundred_is_refused_for_good() {
        let refused = (0..1000).filter(|i| refuses(*i)).count();
        assert_eq!(refused, 11);
    }
}
