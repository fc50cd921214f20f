//! `sqs-tasks demo`: the whole pipeline in one process, on an embedded server, with no set-up.

mod llm;
mod prompts;
mod summary;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use futures_util::StreamExt;
use sqs_tasks::lifecycle::{ExponentialRetry, Heartbeat};
use sqs_tasks::{OutgoingMessage, QueueClient, StatsHandle, Worker};
use sqs_tasks_local::LocalSqs;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::commands::queue::{create, dead_letter_arn};
use crate::commands::stats::counts;
use crate::commands::work::results::{self, Results};
use crate::endpoint::Sqs;
use crate::error::{CliError, Exit};
use crate::logging::Ui;
use crate::{signals, status};

const QUEUE: &str = "demo-tasks";
const DEAD_LETTER_QUEUE: &str = "demo-tasks-dlq";
const RESULTS_QUEUE: &str = "demo-results";

/// Receives before SQS moves a message to the dead-letter queue: more than the simulated
/// rate limits ever need.
const MAX_RECEIVES: u32 = 5;

/// Run the whole pipeline on an embedded server: a queue with a dead-letter queue, a bundled
/// set of LLM-style task requests, and a worker whose handler simulates an LLM endpoint
/// (latencies of 0.2 to 3 s, rate limits with Retry-After, a few refused prompts).
///
/// Exits 0 only if every message ended as succeeded or dead-lettered.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// How many task requests to enqueue.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    messages: u64,
    /// How many tasks run at once.
    #[arg(long, short = 'c', default_value_t = 100, value_parser = super::parse_concurrency)]
    concurrency: usize,
    /// Give up (exit 4) if the tasks are not all done after this long.
    #[arg(long, default_value = "5m", value_parser = crate::duration::parse, value_name = "DURATION")]
    time_limit: Duration,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: DemoArgs, ui: &Ui) -> Result<(), CliError> {
    let server = LocalSqs::builder()
        .bind(([127, 0, 0, 1], 0).into())
        .cooldowns(false)
        .start()
        .await
        .map_err(|e| CliError::failed(format!("cannot start the embedded server: {e}")))?;
    let sqs = Sqs::local(server.endpoint_url(), "embedded server of this demo");
    ui.banner(sqs.endpoint());

    let outcome = pipeline(&args, &sqs, ui, &server).await;
    server.shutdown().await;
    let summary = outcome?;
    summary.print(args.json, ui);
    if summary.complete() {
        Ok(())
    } else {
        Err(CliError::with_exit(
            "not every task ended as succeeded or dead-lettered (see the summary)",
            Exit::Incomplete,
        ))
    }
}

async fn pipeline(
    args: &DemoArgs,
    sqs: &Sqs,
    ui: &Ui,
    server: &LocalSqs,
) -> Result<summary::Summary, CliError> {
    // The queues: tasks with a dead-letter queue, and results.
    let arn = dead_letter_arn(sqs, DEAD_LETTER_QUEUE).await?;
    let policy = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES});
    let attributes = HashMap::from([
        (QueueAttributeName::RedrivePolicy, policy.to_string()),
        (QueueAttributeName::VisibilityTimeout, "30".to_owned()),
    ]);
    let queue_url = create(sqs, QUEUE, attributes).await?;
    create(sqs, RESULTS_QUEUE, HashMap::new()).await?;
    // The demo ends by stopping its worker, which waits for the poll in flight: keep it short.
    let tasks = sqs
        .queue_polling(&queue_url, std::time::Duration::from_secs(1))
        .await?;
    let results_client = sqs.queue(RESULTS_QUEUE).await?;

    let requests_at_start = server.request_count();
    let started = Instant::now();
    enqueue(&tasks, args.messages).await?;
    tracing::info!(
        "enqueued {} task requests in {:.1} s",
        args.messages,
        started.elapsed().as_secs_f64()
    );

    // The worker: simulated LLM calls, a heartbeat, exponential retries.
    let (sender, results_task) = results::spawn(results_client, QUEUE);
    let busy_ms = Arc::new(AtomicU64::new(0));
    let handler = llm::SimulatedLlm {
        results: Results::Queue(sender),
        busy_ms: Arc::clone(&busy_ms),
    };
    let lifecycle = Heartbeat::builder(ExponentialRetry::new(Duration::from_secs(1)).jitter(true))
        .visibility(Duration::from_secs(10))
        .build()
        .map_err(|e| CliError::failed(e.to_string()))?;
    let worker = Worker::builder(tasks.clone(), handler)
        .lifecycle(lifecycle)
        .concurrency(args.concurrency)
        .shutdown_deadline(Duration::from_secs(5))
        .build()
        .map_err(|e| CliError::failed(e.to_string()))?;

    let stop = signals::install(|| {})?;
    tokio::spawn(stop_when_done(
        worker.stats(),
        args.messages,
        args.time_limit,
        stop.clone(),
    ));
    let requests_before = server.request_count();
    let work_started = Instant::now();
    let status = status::start(ui, worker.stats(), Some(args.messages));
    let ran = worker.run(stop.cancelled_owned()).await;
    status.finish(ui).await;
    let _ = results_task.await;
    let wall = work_started.elapsed();
    let stats = ran.map_err(|e| sqs.framework_error(e.error(), QUEUE))?;

    let requests_working = server.request_count() - requests_before;

    // What the queues hold now tells whether every task ended somewhere.
    let queue = counts(sqs, &queue_url).await?;
    let dead = counts(sqs, &sqs.queue_url(DEAD_LETTER_QUEUE).await?).await?;
    let results = counts(sqs, &sqs.queue_url(RESULTS_QUEUE).await?).await?;
    Ok(summary::Summary {
        messages: args.messages,
        concurrency: args.concurrency,
        stats,
        left_in_queue: queue.visible + queue.in_flight + queue.delayed,
        in_dead_letter_queue: dead.visible + dead.in_flight + dead.delayed,
        results: results.visible,
        wall,
        busy: Duration::from_millis(busy_ms.load(Ordering::Relaxed)),
        requests_total: server.request_count() - requests_at_start,
        requests_working,
    })
}

/// Sends the task requests, several batch requests at a time.
async fn enqueue(tasks: &QueueClient, messages: u64) -> Result<(), CliError> {
    let chunks: Vec<Vec<OutgoingMessage>> = (0..messages)
        .map(|i| OutgoingMessage::json(&prompts::request(i)).expect("plain data serialises"))
        .collect::<Vec<_>>()
        .chunks(50)
        .map(<[OutgoingMessage]>::to_vec)
        .collect();
    let sends = futures_util::stream::iter(chunks).map(|chunk| tasks.send_batch(chunk));
    let results: Vec<Vec<_>> = sends.buffer_unordered(8).collect().await;
    let failed = results.iter().flatten().filter(|r| r.is_err()).count();
    if failed > 0 {
        return Err(CliError::failed(format!(
            "{failed} task requests could not be enqueued"
        )));
    }
    Ok(())
}

/// Stops the worker once every task has ended, or when the time limit passes.
async fn stop_when_done(
    stats: StatsHandle,
    messages: u64,
    limit: Duration,
    stop: CancellationToken,
) {
    let deadline = Instant::now() + limit;
    while !stop.is_cancelled() {
        let now = stats.snapshot();
        if now.succeeded + now.failed >= messages {
            break;
        }
        if Instant::now() >= deadline {
            tracing::warn!("time limit reached before every task ended");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
}
