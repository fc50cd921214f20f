//! Throughput and memory of the embedded server, driven by aws-sdk-sqs clients.
//!
//! Run with: `cargo bench -p sqs-tasks-local --bench throughput`
//! (`BENCH_MESSAGES=200000 BENCH_CLIENTS=32` to change the load).
//!
//! Every figure is set against a baseline measured in the same run: a bare HTTP server that
//! answers each request with a canned body, which bounds what the client side can reach on
//! this machine.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sqs_tasks_local::LocalSqs;
use tokio::time::Instant;

// The allocator the `sqs-tasks` binary uses, so the figures are those users get.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .build();
    Client::from_conf(config)
}

fn batch(body: &str) -> Vec<SendMessageBatchRequestEntry> {
    (0..10)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .build()
                .expect("entry")
        })
        .collect()
}

/// Sends one batch and checks that no entry failed.
async fn send_batch(sqs: &Client, url: &str, entries: &[SendMessageBatchRequestEntry]) {
    let out = sqs
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries.to_vec()))
        .send()
        .await
        .expect("send batch");
    assert!(out.failed.is_empty(), "no entry fails");
}

/// Receives up to ten messages without waiting, deletes them in one batch, and says how many.
async fn receive_and_delete(sqs: &Client, url: &str) -> usize {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .send()
        .await
        .expect("receive");
    let handles: Vec<String> = out
        .messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.receipt_handle)
        .collect();
    if handles.is_empty() {
        return 0;
    }
    let count = handles.len();
    let entries = handles
        .into_iter()
        .enumerate()
        .map(|(i, handle)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(handle)
                .build()
                .expect("entry")
        })
        .collect();
    sqs.delete_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .expect("delete batch");
    count
}

/// Sends `total` messages in batches of ten from `clients` concurrent tasks; messages/s.
async fn send_all(sqs: &Client, url: &str, total: usize, clients: usize, body: &str) -> f64 {
    let remaining = Arc::new(AtomicUsize::new(total / 10));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (sqs, url, remaining) = (sqs.clone(), url.to_owned(), remaining.clone());
            let entries = batch(body);
            tokio::spawn(async move {
                while remaining
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    send_batch(&sqs, &url, &entries).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("sender");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Receives (10 at a time) and deletes in batches until `total` are gone; messages/s.
async fn drain_all(sqs: &Client, url: &str, total: usize, clients: usize) -> f64 {
    let remaining = Arc::new(AtomicUsize::new(total));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (sqs, url, remaining) = (sqs.clone(), url.to_owned(), remaining.clone());
            tokio::spawn(async move {
                while remaining.load(Ordering::Relaxed) > 0 {
                    let n = receive_and_delete(&sqs, &url).await;
                    let _ = remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
                        Some(r.saturating_sub(n))
                    });
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("drainer");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// A server that answers every SQS request with a fixed, valid body of ten entries.
async fn canned_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let entries: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"Id":"{i}","MessageId":"00000000-0000-4000-8000-00000000000{i}","MD5OfMessageBody":"d41d8cd98f00b204e9800998ecf8427e"}}"#
            )
        })
        .collect();
    let sent = Bytes::from(format!(
        r#"{{"Successful":[{}],"Failed":[]}}"#,
        entries.join(",")
    ));
    let messages: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"MessageId":"00000000-0000-4000-8000-00000000000{i}","ReceiptHandle":"handle{i}","MD5OfBody":"d41d8cd98f00b204e9800998ecf8427e","Body":"{}"}}"#,
                "x".repeat(1024)
            )
        })
        .collect();
    let received = Bytes::from(format!(r#"{{"Messages":[{}]}}"#, messages.join(",")));
    let deleted: Vec<String> = (0..10).map(|i| format!(r#"{{"Id":"{i}"}}"#)).collect();
    let deleted = Bytes::from(format!(
        r#"{{"Successful":[{}],"Failed":[]}}"#,
        deleted.join(",")
    ));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (sent, received, deleted) = (sent.clone(), received.clone(), deleted.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let target = request
                        .headers()
                        .get("x-amz-target")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let body = match target.as_str() {
                        "AmazonSQS.SendMessageBatch" => sent.clone(),
                        "AmazonSQS.ReceiveMessage" => received.clone(),
                        _ => deleted.clone(),
                    };
                    async move {
                        // Read the request to its end, as a real server would.
                        let _ = http_body_util::BodyExt::collect(request.into_body()).await;
                        let mut response = http::Response::new(Full::new(body));
                        response.headers_mut().insert(
                            "content-type",
                            http::HeaderValue::from_static("application/x-amz-json-1.0"),
                        );
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{address}")
}

/// Each client sends a batch of ten, receives up to ten and deletes what it received, until
/// `total` messages have been sent; messages/s.
async fn mixed(sqs: &Client, url: &str, total: usize, clients: usize, body: &str) -> f64 {
    let remaining = Arc::new(AtomicUsize::new(total / 10));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (sqs, url, remaining) = (sqs.clone(), url.to_owned(), remaining.clone());
            let entries = batch(body);
            tokio::spawn(async move {
                while remaining
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    send_batch(&sqs, &url, &entries).await;
                    receive_and_delete(&sqs, &url).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Runs the mixed load on a fresh server, in memory or over a fresh data directory.
async fn mixed_on(durable: bool, total: usize, clients: usize, body: &str) -> f64 {
    let dir = std::env::temp_dir().join(format!("sqs-tasks-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut builder = LocalSqs::builder();
    if durable {
        builder = builder.data_dir(&dir);
    }
    let server = builder.start().await.expect("server");
    let sqs = client(server.endpoint_url());
    let url = sqs
        .create_queue()
        .queue_name("mixed")
        .send()
        .await
        .expect("queue")
        .queue_url;
    let rate = mixed(&sqs, &url.expect("url"), total, clients, body).await;
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

/// CPU time this process has used (user + system), in milliseconds.
fn cpu_millis() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // utime and stime are fields 14 and 15 of the line, in ticks of 10 ms.
    fields
        .get(10)
        .zip(fields.get(11))
        .map_or(0, |(u, s)| (u + s) * 10)
}

/// Parks `waiters` long polls on an empty queue, measures the CPU they cost while they wait,
/// then sends one message for each and measures how long until all are answered.
async fn waiting_receivers(waiters: usize) -> (u64, Duration) {
    let server = LocalSqs::start().await.expect("server");
    let sqs = client(server.endpoint_url());
    let url = sqs
        .create_queue()
        .queue_name("waiters")
        .send()
        .await
        .expect("queue")
        .queue_url;
    let url = url.expect("url");
    let received = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..waiters)
        .map(|_| {
            let (sqs, url, received) = (sqs.clone(), url.clone(), received.clone());
            tokio::spawn(async move {
                while received.load(Ordering::Relaxed) < waiters {
                    let out = sqs
                        .receive_message()
                        .queue_url(&url)
                        .wait_time_seconds(20)
                        .send()
                        .await
                        .expect("receive");
                    let n = out.messages.map_or(0, |m| m.len());
                    if n > 0 {
                        received.fetch_add(n, Ordering::Relaxed);
                        return;
                    }
                }
            })
        })
        .collect();
    // Let every poll reach the server, then measure a quiet stretch.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu_before = cpu_millis();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_cpu = cpu_millis() - cpu_before;

    let started = Instant::now();
    let body = "wake up";
    for _ in 0..waiters / 10 {
        send_batch(&sqs, &url, &batch(body)).await;
    }
    for task in tasks {
        task.await.expect("waiter");
    }
    let answered = started.elapsed();
    server.shutdown().await;
    (idle_cpu, answered)
}

/// Resident memory of this process, in bytes.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[tokio::main]
async fn main() {
    let total = env_or("BENCH_MESSAGES", 100_000);
    let clients = env_or("BENCH_CLIENTS", 32);
    let body = "x".repeat(1024);
    println!("{total} messages of 1 KiB, {clients} concurrent aws-sdk-sqs clients\n");

    let canned = canned_server().await;
    let canned_client = client(&canned);
    let canned_url = format!("{canned}/000000000000/bench");
    let canned_send = send_all(&canned_client, &canned_url, total, clients, &body).await;
    let canned_drain = drain_all(&canned_client, &canned_url, total, clients).await;

    let server = LocalSqs::start().await.expect("server");
    let sqs = client(server.endpoint_url());
    let url = sqs
        .create_queue()
        .queue_name("bench")
        .send()
        .await
        .expect("queue")
        .queue_url;
    let url = url.expect("url");
    let memory_before = resident_bytes();
    let send = send_all(&sqs, &url, total, clients, &body).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let memory_loaded = resident_bytes();
    let requests_before = server.request_count();
    let drain = drain_all(&sqs, &url, total, clients).await;
    let drain_requests = server.request_count() - requests_before;

    println!("{:<38} {:>12} {:>12}", "", "messages/s", "vs canned");
    println!(
        "{:<38} {:>12.0} {:>12}",
        "canned server: send batch of 10", canned_send, "1.00"
    );
    println!(
        "{:<38} {:>12.0} {:>12.2}",
        "local SQS: send batch of 10",
        send,
        send / canned_send
    );
    println!(
        "{:<38} {:>12.0} {:>12}",
        "canned server: receive 10 + delete", canned_drain, "1.00"
    );
    println!(
        "{:<38} {:>12.0} {:>12.2}",
        "local SQS: receive 10 + delete",
        drain,
        drain / canned_drain
    );
    println!();
    let held = memory_loaded.saturating_sub(memory_before);
    println!(
        "memory held by {total} queued messages: {:.1} MB ({:.0} bytes a message; body 1024)",
        held as f64 / 1e6,
        held as f64 / total as f64
    );
    println!(
        "requests per message while draining: {:.3}",
        drain_requests as f64 / total as f64
    );
    server.shutdown().await;

    let waiters = env_or("BENCH_WAITERS", 2_000);
    let (idle_cpu, answered) = waiting_receivers(waiters).await;
    println!();
    println!(
        "{waiters} long polls waiting on an empty queue: {idle_cpu} ms of CPU in 5 s of waiting; \
         all answered {:.0} ms after the sends began",
        answered.as_secs_f64() * 1000.0
    );

    let mixed_total = env_or("BENCH_MIXED_MESSAGES", 50_000);
    let in_memory = mixed_on(false, mixed_total, clients, &body).await;
    let on_disk = mixed_on(true, mixed_total, clients, &body).await;
    println!();
    println!("send 10 + receive 10 + delete batch, {mixed_total} messages, {clients} clients:");
    println!("{:<38} {:>12} {:>12}", "", "messages/s", "vs memory");
    println!("{:<38} {:>12.0} {:>12}", "in memory", in_memory, "1.00");
    println!(
        "{:<38} {:>12.0} {:>12.2}",
        "durable (SQLite, synced commits)",
        on_disk,
        on_disk / in_memory
    );
}
