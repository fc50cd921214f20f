//! Run with: cargo bench -p sqs-tasks --bench worker (BENCH_MESSAGES, BENCH_SLOW_MESSAGES and BENCH_SLOW_CONCURRENCY shrink or grow it)
//!
//! Throughput (messages per second) and cost (SQS requests per message, counted by the
//! embedded server) of the worker against a raw aws-sdk-sqs loop with the same batch sizes
//! (receive 10, delete in batches of 10), in the same run, on the same server: first with a
//! trivial handler, then with one that waits 1 s (the shape of an LLM call) against the ideal
//! time of messages / concurrency seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use sqs_tasks::{Message, OutgoingMessage, QueueClient, TaskError, Worker};
use sqs_tasks_local::LocalSqs;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// One measured run.
struct Row {
    scenario: String,
    consumer: String,
    messages: usize,
    /// Until every message was handled.
    seconds: f64,
    /// From the stop until the consumer returned.
    stop_seconds: f64,
    requests: u64,
    ideal_seconds: Option<f64>,
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fast = env_count("BENCH_MESSAGES", 20_000);
    let slow = env_count("BENCH_SLOW_MESSAGES", 5_000);
    let slow_concurrency = env_count("BENCH_SLOW_CONCURRENCY", 500);

    let server = LocalSqs::builder()
        .bind("127.0.0.1:0".parse()?)
        .start()
        .await?;
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(server.endpoint_url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .build();
    let sdk = aws_sdk_sqs::Client::from_conf(config);
    let mut rows = Vec::new();

    let trivial = "trivial handler, concurrency 32".to_owned();
    let queue = prepared_queue(&sdk, "bench-worker-fast", fast).await?;
    rows.push(
        measure(
            &server,
            &trivial,
            "worker",
            fast,
            None,
            run_worker(queue, fast, 32, Duration::ZERO),
        )
        .await,
    );
    let queue = prepared_queue(&sdk, "bench-raw-fast", fast).await?;
    rows.push(
        measure(
            &server,
            &trivial,
            "raw loop x3",
            fast,
            None,
            run_raw(queue, fast, 3, Duration::ZERO),
        )
        .await,
    );

    let waiting = format!("1 s handler, concurrency {slow_concurrency}");
    let ideal = Some(slow as f64 / slow_concurrency as f64);
    let second = Duration::from_secs(1);
    let queue = prepared_queue(&sdk, "bench-worker-slow", slow).await?;
    rows.push(
        measure(
            &server,
            &waiting,
            "worker",
            slow,
            ideal,
            run_worker(queue, slow, slow_concurrency, second),
        )
        .await,
    );
    let loops = slow_concurrency.div_ceil(10);
    let queue = prepared_queue(&sdk, "bench-raw-slow", slow).await?;
    let raw_name = format!("raw loop x{loops}");
    rows.push(
        measure(
            &server,
            &waiting,
            &raw_name,
            slow,
            ideal,
            run_raw(queue, slow, loops, second),
        )
        .await,
    );

    print_table(&rows);
    server.shutdown().await;
    Ok(())
}

/// Creates a queue and fills it with `count` messages, eight batches at a time.
async fn prepared_queue(
    sdk: &aws_sdk_sqs::Client,
    name: &str,
    count: usize,
) -> Result<QueueClient, Box<dyn std::error::Error>> {
    sdk.create_queue().queue_name(name).send().await?;
    let client = QueueClient::builder(sdk.clone())
        .queue(name)
        .wait_time(Duration::from_secs(1))
        .build()
        .await?;
    let mut senders = tokio::task::JoinSet::new();
    for part in 0..8 {
        let client = client.clone();
        let share = (part..count)
            .step_by(8)
            .map(|i| OutgoingMessage::new(format!("message {i}")));
        let share: Vec<_> = share.collect();
        senders.spawn(async move {
            client
                .send_batch(share)
                .await
                .into_iter()
                .filter(Result::is_err)
                .count()
        });
    }
    while let Some(failed) = senders.join_next().await {
        assert_eq!(failed?, 0, "preloading failed");
    }
    Ok(client)
}

/// Runs `consumer` and measures its time and the requests the server saw meanwhile. The
/// consumer returns how long its stop took, once every message was handled.
async fn measure(
    server: &LocalSqs,
    scenario: &str,
    consumer: &str,
    messages: usize,
    ideal_seconds: Option<f64>,
    run: impl Future<Output = Duration>,
) -> Row {
    let requests = server.request_count();
    let started = Instant::now();
    let stop = run.await;
    let total = started.elapsed().as_secs_f64();
    let row = Row {
        scenario: scenario.to_owned(),
        consumer: consumer.to_owned(),
        messages,
        seconds: total - stop.as_secs_f64(),
        stop_seconds: stop.as_secs_f64(),
        requests: server.request_count() - requests,
        ideal_seconds,
    };
    eprintln!("done: {} / {}", row.scenario, row.consumer);
    row
}

/// The worker, stopped as soon as every message succeeded. Its stop waits for the long poll
/// in flight (so nothing that poll brings stays hidden), which is reported apart.
async fn run_worker(
    client: QueueClient,
    count: usize,
    concurrency: usize,
    work: Duration,
) -> Duration {
    let handler = move |_message: Message| async move {
        if !work.is_zero() {
            tokio::time::sleep(work).await;
        }
        Ok::<_, TaskError>(())
    };
    let worker = Worker::builder(client, handler)
        .concurrency(concurrency)
        .build()
        .expect("valid");
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    while stats.snapshot().succeeded < count as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.cancel();
    let stopping = Instant::now();
    let end = run.await.expect("worker task").expect("worker ran");
    assert_eq!(end.succeeded, count as u64);
    stopping.elapsed()
}

/// `loops` plain SDK loops: receive 10, handle them together, delete them in one batch.
async fn run_raw(client: QueueClient, count: usize, loops: usize, work: Duration) -> Duration {
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..loops {
        let (sdk, url, done) = (
            client.sdk().clone(),
            client.queue_url().to_owned(),
            done.clone(),
        );
        tasks.spawn(async move {
            while done.load(Ordering::Relaxed) < count {
                let received = sdk
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .send()
                    .await;
                let messages = received.expect("receive").messages.unwrap_or_default();
                if messages.is_empty() {
                    continue;
                }
                if !work.is_zero() {
                    tokio::time::sleep(work).await;
                }
                let entries = messages.iter().enumerate().map(|(i, m)| {
                    let receipt = m.receipt_handle().expect("receipt handle");
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .build()
                        .expect("entry")
                });
                let deleted = sdk
                    .delete_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries.collect()))
                    .send()
                    .await;
                assert!(deleted.expect("delete").failed().is_empty());
                done.fetch_add(messages.len(), Ordering::Relaxed);
            }
        });
    }
    // Stop as soon as every message is deleted, rather than wait out the loops' long polls.
    while done.load(Ordering::Relaxed) < count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Aborting drops the long polls in flight: what they bring stays hidden until its
    // visibility timeout, which a worker does not allow itself.
    let stopping = Instant::now();
    tasks.abort_all();
    stopping.elapsed()
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{:<34} {:<14} {:>8} {:>9} {:>10} {:>11} {:>9} {:>7}",
        "scenario",
        "consumer",
        "messages",
        "seconds",
        "msg/s",
        "requests/msg",
        "vs ideal",
        "stop s"
    );
    for row in rows {
        let ideal = row.ideal_seconds.map_or("-".to_owned(), |ideal| {
            format!("{:.2}x", row.seconds / ideal)
        });
        println!(
            "{:<34} {:<14} {:>8} {:>9.2} {:>10.0} {:>11.3} {:>9} {:>7.2}",
            row.scenario,
            row.consumer,
            row.messages,
            row.seconds,
            row.messages as f64 / row.seconds,
            row.requests as f64 / row.messages as f64,
            ideal,
            row.stop_seconds,
        );
    }
}
