//! Run with: AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324 AWS_REGION=us-east-1 RUST_LOG=sqs_tasks=debug cargo run -p sqs-tasks --example heartbeat_retry -- jobs

use std::time::Duration;

use serde::Deserialize;
use sqs_tasks::lifecycle::{ExponentialRetry, Heartbeat};
use sqs_tasks::{Message, QueueClient, TaskError, Worker};
use tokio_util::sync::CancellationToken;

/// The body each message carries.
#[derive(Debug, Deserialize)]
struct Job {
    document: String,
    /// How long the (simulated) work takes.
    seconds: u64,
}

async fn handle(message: Message) -> Result<(), TaskError> {
    // A body that is not a job will never become one: dead-letter it rather than retry.
    let job: Job = message.json().map_err(TaskError::permanent)?;
    if message.receive_count() == 1 && job.document.contains("flaky") {
        return Err(TaskError::new("first attempt at a flaky document fails"));
    }
    // Longer than the visibility timeout below: the heartbeat keeps the message hidden.
    tokio::time::sleep(Duration::from_secs(job.seconds)).await;
    println!(
        "summarised {} after {} attempt(s)",
        job.document,
        message.receive_count()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let queue = std::env::args().nth(1).unwrap_or_else(|| "jobs".to_owned());
    let client = QueueClient::from_env(queue).await?;

    // Retries after 5 s, 10 s, 20 s... up to 10 minutes, spread out by jitter.
    let retry = ExponentialRetry::new(Duration::from_secs(5))
        .max(Duration::from_secs(600))
        .jitter(true);
    // Hidden 30 s ahead, renewed every 10 s while the handler runs.
    let lifecycle = Heartbeat::builder(retry)
        .visibility(Duration::from_secs(30))
        .interval(Duration::from_secs(10))
        .build()?;

    let worker = Worker::builder(client, handle)
        .lifecycle(lifecycle)
        .concurrency(20)
        .shutdown_deadline(Duration::from_secs(20))
        .build()?;
    let stats = worker.stats();

    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        trigger.cancel();
    });
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            println!("{:?}", stats.snapshot());
        }
    });

    let final_stats = worker.run(shutdown.cancelled_owned()).await?;
    println!("stopped: {final_stats:?}");
    Ok(())
}
