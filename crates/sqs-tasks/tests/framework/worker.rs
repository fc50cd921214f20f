//! The worker: slots, batching, shutdown, errors, counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqs_tasks::lifecycle::{ExponentialRetry, Heartbeat, Plain};
use sqs_tasks::{Error, Handler, Message, OutgoingMessage, QueueClient, TaskError, Worker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::harness::{Env, counts, visible_now};

async fn fill(client: &QueueClient, count: usize) {
    let messages = (0..count).map(|i| OutgoingMessage::new(format!("job {i}")));
    assert!(client.send_batch(messages).await.iter().all(Result::is_ok));
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn worker_handles_every_message_once_and_acks_in_batches() {
    let env = Env::start().await;
    let client = env.queue("worker-all", 30, Duration::from_secs(1)).await;
    fill(&client, 60).await;

    let handled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&handled);
    let worker = Worker::builder(client.clone(), move |_m: Message| {
        let seen = Arc::clone(&seen);
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok::<_, TaskError>(())
        }
    })
    .concurrency(16)
    .build()
    .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));

    eventually("all handled", || stats.snapshot().succeeded == 60).await;
    let before = env.request_count();
    stop.cancel();
    let final_stats = run.await.unwrap().unwrap();
    assert_eq!(
        (
            final_stats.received,
            final_stats.succeeded,
            final_stats.in_flight
        ),
        (60, 60, 0)
    );
    assert_eq!(handled.load(Ordering::SeqCst), 60);
    assert_eq!(counts(&env, client.queue_url()).await, (0, 0));
    if let (Some(before), Some(total)) = (before, env.request_count()) {
        // 60 deletes in batches, receives of up to 10: far fewer requests than messages.
        assert!(
            total <= 60,
            "{total} requests for 60 messages ({before} before shutdown)"
        );
    }
    env.shutdown().await;
}

#[tokio::test]
async fn worker_never_holds_more_messages_than_its_concurrency() {
    let env = Env::start().await;
    let client = env.queue("worker-slots", 30, Duration::from_secs(1)).await;
    fill(&client, 30).await;

    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (Arc::clone(&running), Arc::clone(&peak));
    let worker = Worker::builder(client.clone(), move |_m: Message| {
        let (running, peak) = (Arc::clone(&r), Arc::clone(&p));
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, TaskError>(())
        }
    })
    .concurrency(3)
    .build()
    .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));

    let mut most_in_flight = 0;
    while stats.snapshot().succeeded < 30 {
        let (_, in_flight) = counts(&env, client.queue_url()).await;
        most_in_flight = most_in_flight.max(in_flight);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    run.await.unwrap().unwrap();
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert!(
        most_in_flight <= 3,
        "{most_in_flight} messages in flight at once"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn idle_worker_costs_a_single_long_poll_whatever_its_concurrency() {
    let env = Env::start().await;
    let Some(_) = env.request_count() else {
        return; // the request count is only known for the embedded server
    };
    let client = env.queue("worker-idle", 30, Duration::from_secs(2)).await;
    let worker = Worker::builder(client, |_m: Message| async { Ok::<_, TaskError>(()) })
        .concurrency(200)
        .build()
        .unwrap();
    let before = env.request_count().unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    tokio::time::sleep(Duration::from_millis(4500)).await;
    stop.cancel();
    run.await.unwrap().unwrap();
    // Long polls of 2 s for 4.5 s: three receives.
    let requests = env.request_count().unwrap() - before;
    assert!(requests <= 4, "{requests} requests while idle");
    env.shutdown().await;
}

#[tokio::test]
async fn shutdown_flushes_acks_and_releases_unfinished_messages() {
    let env = Env::start().await;
    let client = env
        .queue("worker-shutdown", 30, Duration::from_secs(1))
        .await;
    client.send("quick").await.unwrap();
    client.send("stuck").await.unwrap();

    let worker = Worker::builder(client.clone(), |m: Message| async move {
        if m.body() == "stuck" {
            std::future::pending::<()>().await;
        }
        Ok::<_, TaskError>(())
    })
    .concurrency(4)
    // Acks wait up to 10 s for company: only the shutdown flush can send this one in time.
    .settle_window(Duration::from_secs(10))
    .shutdown_deadline(Duration::from_millis(500))
    .build()
    .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    eventually("both received", || stats.snapshot().received == 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    stop.cancel();
    let final_stats = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("shutdown respects its deadline")
        .unwrap()
        .unwrap();
    assert_eq!((final_stats.succeeded, final_stats.released), (1, 1));

    // The stuck message is visible again at once; the quick one is gone.
    let visible = visible_now(&env, client.queue_url()).await;
    let bodies: Vec<_> = visible.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, vec!["stuck"]);
    assert_eq!(counts(&env, client.queue_url()).await, (1, 0));
    env.shutdown().await;
}

#[tokio::test]
async fn handler_timeout_cancels_the_handler_and_retries_the_message() {
    let env = Env::start().await;
    let client = env
        .queue("worker-timeout", 30, Duration::from_secs(1))
        .await;
    client.send("slow first").await.unwrap();

    let worker = Worker::builder(client.clone(), |m: Message| async move {
        if m.receive_count() == 1 {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Ok::<_, TaskError>(())
    })
    .handler_timeout(Duration::from_millis(300))
    .visibility_timeout(Duration::from_secs(30))
    .build()
    .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    eventually("the retry succeeded", || stats.snapshot().succeeded == 1).await;
    stop.cancel();
    let final_stats = run.await.unwrap().unwrap();
    assert_eq!((final_stats.received, final_stats.retried), (2, 1));
    env.shutdown().await;
}

#[tokio::test]
async fn failures_are_counted_as_retried_failed_and_dead_lettered() {
    let env = Env::start().await;
    let client = env.queue("worker-counts", 30, Duration::from_secs(1)).await;
    for body in ["ok", "retry", "bad"] {
        client.send(body).await.unwrap();
    }
    let worker = Worker::builder(client.clone(), |m: Message| async move {
        match (m.body(), m.receive_count()) {
            ("retry", 1) => Err(TaskError::new("flaky")),
            ("bad", _) => Err(TaskError::permanent("invalid")),
            _ => Ok(()),
        }
    })
    .lifecycle(ExponentialRetry::new(Duration::from_secs(1)))
    .build()
    .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    eventually("all settled", || stats.snapshot().succeeded == 2).await;
    stop.cancel();
    let s = run.await.unwrap().unwrap();
    assert_eq!(
        (
            s.received,
            s.succeeded,
            s.retried,
            s.failed,
            s.dead_lettered
        ),
        (4, 2, 1, 1, 0)
    );
    env.shutdown().await;
}

#[tokio::test]
async fn heartbeat_in_a_worker_keeps_a_slow_message_from_being_redelivered() {
    let env = Env::start().await;
    let client = env
        .queue("worker-heartbeat", 2, Duration::from_secs(1))
        .await;
    client.send("slow").await.unwrap();
    let lifecycle = Heartbeat::builder(Plain)
        .visibility(Duration::from_secs(2))
        .interval(Duration::from_secs(1))
        .build()
        .unwrap();
    let worker = Worker::builder(client.clone(), |_m: Message| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok::<_, TaskError>(())
    })
    .lifecycle(lifecycle)
    .concurrency(2)
    .build()
    .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    eventually("handled", || stats.snapshot().succeeded == 1).await;
    stop.cancel();
    let s = run.await.unwrap().unwrap();
    // Received once only: the heartbeat kept it hidden for 5 s against a 2 s timeout.
    assert_eq!(s.received, 1);
    env.shutdown().await;
}

#[tokio::test]
async fn visibility_shorter_than_the_heartbeat_needs_is_refused_at_build() {
    let env = Env::start().await;
    let client = env.queue("worker-config", 30, Duration::from_secs(1)).await;
    let lifecycle = Heartbeat::builder(Plain)
        .visibility(Duration::from_secs(60))
        .build()
        .unwrap();
    let built = Worker::builder(client.clone(), |_m: Message| async {
        Ok::<_, TaskError>(())
    })
    .lifecycle(lifecycle)
    .visibility_timeout(Duration::from_secs(10))
    .build();
    assert!(matches!(built, Err(Error::Config(_))));
    let zero = Worker::builder(client, |_m: Message| async { Ok::<_, TaskError>(()) })
        .concurrency(0)
        .build();
    assert!(zero.is_err());
    env.shutdown().await;
}

#[tokio::test]
async fn missing_queue_stops_the_worker_with_a_clear_error() {
    let env = Env::start().await;
    let client = env
        .queue("worker-missing", 30, Duration::from_secs(1))
        .await;
    env.sdk
        .delete_queue()
        .queue_url(client.queue_url())
        .send()
        .await
        .unwrap();
    let worker = Worker::builder(client, |_m: Message| async { Ok::<_, TaskError>(()) })
        .build()
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), worker.run(std::future::pending()))
        .await
        .expect("the worker stops on its own");
    let err = result.unwrap_err();
    assert!(
        matches!(err.error(), Error::QueueDoesNotExist { .. }),
        "{err:?}"
    );
    env.shutdown().await;
}

/// A server that answers every request with HTTP 500 and counts them.
async fn failing_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let reply = "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n";
                    if socket.write_all(reply.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (url, hits)
}

#[tokio::test]
async fn receive_errors_back_off_instead_of_looping() {
    let (url, hits) = failing_server().await;
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .endpoint_url(&url)
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "t", "t", None, None, "t",
        ))
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
        .build();
    let sdk = aws_sdk_sqs::Client::from_conf(config);
    let client = QueueClient::builder(sdk)
        .queue(format!("{url}/000000000000/q"))
        .build()
        .await
        .unwrap();
    let worker = Worker::builder(client, |_m: Message| async { Ok::<_, TaskError>(()) })
        .build()
        .unwrap();
    let run = worker.run(tokio::time::sleep(Duration::from_secs(3)));
    run.await.unwrap();
    // Backoff from 100 ms, doubling: about 6 attempts in 3 s; without it, thousands.
    let attempts = hits.load(Ordering::SeqCst);
    assert!(
        (2..=10).contains(&attempts),
        "{attempts} receive attempts in 3 s"
    );
}

#[tokio::test]
async fn receive_in_flight_at_shutdown_is_awaited_and_its_messages_released_unhandled() {
    let env = Env::start().await;
    let client = env
        .queue("worker-poll-at-stop", 30, Duration::from_secs(5))
        .await;
    let handled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&handled);
    let worker = Worker::builder(client.clone(), move |_m: Message| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, TaskError>(()) }
    })
    .build()
    .unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));

    // The worker's long poll waits on the empty queue; shutdown begins, then a message arrives
    // and SQS gives it to that poll.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.send("late").await.unwrap();

    let stats = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("shutdown ends with the poll")
        .unwrap()
        .unwrap();
    assert_eq!(
        handled.load(Ordering::SeqCst),
        0,
        "no handler starts after shutdown"
    );
    assert_eq!((stats.received, stats.released), (0, 1));
    // Visible again at once, not after the 30 s visibility timeout.
    let visible = visible_now(&env, client.queue_url()).await;
    let bodies: Vec<_> = visible.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, vec!["late"]);
    env.shutdown().await;
}

#[tokio::test]
async fn idle_worker_stops_within_the_shutdown_deadline_even_during_a_long_poll() {
    let env = Env::start().await;
    let client = env
        .queue("worker-idle-stop", 30, Duration::from_secs(10))
        .await;
    let worker = Worker::builder(client, |_m: Message| async { Ok::<_, TaskError>(()) })
        .shutdown_deadline(Duration::from_millis(300))
        .build()
        .unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let asked = tokio::time::Instant::now();
    stop.cancel();
    let stats = run.await.unwrap().unwrap();
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    assert_eq!(stats.receive_loops, 0);
    env.shutdown().await;
}

#[tokio::test]
async fn under_load_receive_loops_are_added_up_to_the_bound_and_idle_one_long_poll_remains() {
    let env = Env::start().await;
    let client = env.queue("worker-scale", 30, Duration::from_secs(1)).await;
    fill(&client, 600).await;
    let worker = Worker::builder(client, |_m: Message| async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok::<_, TaskError>(())
    })
    .concurrency(100)
    .max_receivers(3)
    .build()
    .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));

    // Under load: more than one loop, never more than the bound. (Sampled, bounded in time.)
    let mut most = 0;
    let started = tokio::time::Instant::now();
    while stats.snapshot().succeeded < 600 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "600 messages in 60 s"
        );
        most = most.max(stats.snapshot().receive_loops);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!((2..=3).contains(&most), "{most} receive loops at most");

    // Idle: the added loops end after an empty receive, and one long poll remains.
    eventually("a single receive loop", || {
        stats.snapshot().receive_loops == 1
    })
    .await;
    if let Some(before) = env.request_count() {
        tokio::time::sleep(Duration::from_millis(3500)).await;
        let requests = env.request_count().unwrap() - before;
        // Long polls of 1 s for 3.5 s: four receives at most.
        assert!(requests <= 4, "{requests} requests in 3.5 s while idle");
    }
    stop.cancel();
    run.await.unwrap().unwrap();
    env.shutdown().await;
}

#[tokio::test]
async fn and_then_gets_each_result_before_the_ack_and_its_failure_retries_the_message() {
    let env = Env::start().await;
    let client = env.queue("worker-then", 30, Duration::from_secs(1)).await;
    let results = env
        .queue("worker-then-out", 30, Duration::from_secs(1))
        .await;
    for body in ["a", "b"] {
        client.send(body).await.unwrap();
    }
    let shout = |m: Message| async move { Ok::<_, TaskError>(m.body().to_uppercase()) };
    let sink = results.clone();
    let publish = move |m: Message, loud: String| {
        let sink = sink.clone();
        async move {
            if m.body() == "b" && m.receive_count() == 1 {
                return Err(TaskError::new("results queue unavailable"));
            }
            sink.send(loud).await?;
            Ok::<_, TaskError>(m.id().len())
        }
    };
    let worker = Worker::builder(client.clone(), shout.and_then(publish))
        .build()
        .unwrap();
    let stats = worker.stats();
    let stop = CancellationToken::new();
    let run = tokio::spawn(worker.run(stop.clone().cancelled_owned()));
    eventually("both delivered", || stats.snapshot().succeeded == 2).await;
    stop.cancel();
    let s = run.await.unwrap().unwrap();
    // The failed delivery of "b" kept it from being acked: it came back and was done again.
    assert_eq!((s.received, s.succeeded, s.retried), (3, 2, 1));
    let mut delivered: Vec<String> = visible_now(&env, results.queue_url())
        .await
        .iter()
        .map(|m| m.body().unwrap().to_owned())
        .collect();
    delivered.sort();
    assert_eq!(delivered, vec!["A", "B"]);
    assert_eq!(counts(&env, client.queue_url()).await, (0, 0));
    env.shutdown().await;
}

#[tokio::test]
async fn handler_timeout_that_outlives_the_visibility_is_refused_without_a_heartbeat() {
    let env = Env::start().await;
    let client = env.queue("worker-limit", 30, Duration::from_secs(1)).await;
    let handler = |_m: Message| async { Ok::<_, TaskError>(()) };
    let builder = || Worker::builder(client.clone(), handler);

    let too_long = builder()
        .visibility_timeout(Duration::from_secs(30))
        .handler_timeout(Duration::from_secs(60))
        .build();
    assert!(matches!(too_long, Err(Error::Config(_))));
    let unknown_visibility = builder().handler_timeout(Duration::from_secs(10)).build();
    assert!(matches!(unknown_visibility, Err(Error::Config(_))));
    let fits = builder()
        .visibility_timeout(Duration::from_secs(30))
        .handler_timeout(Duration::from_secs(20))
        .build();
    assert!(fits.is_ok());

    let heartbeat = Heartbeat::builder(Plain)
        .visibility(Duration::from_secs(30))
        .build()
        .unwrap();
    let kept_hidden = builder()
        .lifecycle(heartbeat)
        .handler_timeout(Duration::from_secs(600))
        .build();
    assert!(kept_hidden.is_ok());
    env.shutdown().await;
}

#[tokio::test]
async fn dropping_the_run_future_stops_receiving() {
    let env = Env::start().await;
    let client = env
        .queue("worker-dropped", 30, Duration::from_secs(1))
        .await;
    client.send("before").await.unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&handled);
    let worker = Worker::builder(client.clone(), move |_m: Message| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, TaskError>(()) }
    })
    .build()
    .unwrap();
    let stats = worker.stats();
    let run = tokio::spawn(worker.run(std::future::pending()));
    eventually("the first message handled", || {
        stats.snapshot().succeeded == 1
    })
    .await;

    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.send("after").await.unwrap();
    // Past the 1 s poll that was in flight: a live loop would have received it by now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    let visible = visible_now(&env, client.queue_url()).await;
    let bodies: Vec<_> = visible.iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, vec!["after"]);
    env.shutdown().await;
}
