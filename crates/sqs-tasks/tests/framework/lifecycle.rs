//! Lifecycles, with a recording settler (paused time) and against a server (real time).

use std::sync::Mutex;
use std::time::Duration;

use sqs_tasks::lifecycle::{ExponentialRetry, FixedRetry, Heartbeat, Lifecycle, Outcome, Plain};
use sqs_tasks::{Disposal, Error, Message, Settle, TaskError};
use tokio::time::Instant;

use crate::harness::{Env, visible_now};

/// One call a lifecycle made.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Ack,
    Nack(Option<Duration>),
    KeepAlive(Duration),
    DeadLetter(String),
}

/// A settler that records calls, and can be told to fail keep-alives (all, or the first one).
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(Instant, Call)>>,
    keep_alive_error: Mutex<Option<Error>>,
    fail_once: bool,
}

impl Recorder {
    fn failing_keep_alive(error: Error) -> Self {
        Recorder {
            keep_alive_error: Mutex::new(Some(error)),
            ..Recorder::default()
        }
    }

    fn failing_first_keep_alive(error: Error) -> Self {
        Recorder {
            fail_once: true,
            ..Recorder::failing_keep_alive(error)
        }
    }

    /// When each keep-alive was requested (each takes 0.3 s), from `start`.
    fn keep_alive_times(&self, start: Instant) -> Vec<Duration> {
        let calls = self.calls();
        let beats = calls
            .iter()
            .filter(|(_, c)| matches!(c, Call::KeepAlive(_)));
        let requested = beats.map(|(at, _)| *at - Duration::from_millis(300));
        requested.map(|at| at.duration_since(start)).collect()
    }

    fn calls(&self) -> Vec<(Instant, Call)> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: Call) {
        self.calls.lock().unwrap().push((Instant::now(), call));
    }
}

impl Settle for Recorder {
    async fn ack(&self, _: &Message) -> Result<(), Error> {
        self.record(Call::Ack);
        Ok(())
    }

    async fn nack(&self, _: &Message, retry_after: Option<Duration>) -> Result<(), Error> {
        self.record(Call::Nack(retry_after));
        Ok(())
    }

    async fn keep_alive(&self, _: &Message, duration: Duration) -> Result<(), Error> {
        // A slow request: the heartbeat must wait for it before the settlement.
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.record(Call::KeepAlive(duration));
        let mut error = self.keep_alive_error.lock().unwrap();
        let failure = if self.fail_once {
            error.take()
        } else {
            error.clone()
        };
        failure.map_or(Ok(()), Err)
    }

    async fn dead_letter(&self, _: &Message, reason: &str) -> Result<Disposal, Error> {
        self.record(Call::DeadLetter(reason.to_owned()));
        Ok(Disposal::Deleted)
    }
}

fn heartbeat(visibility: u64, interval: u64) -> Heartbeat<Plain> {
    Heartbeat::builder(Plain)
        .visibility(Duration::from_secs(visibility))
        .interval(Duration::from_secs(interval))
        .build()
        .unwrap()
}

async fn work(duration: Duration) -> Result<(), TaskError> {
    tokio::time::sleep(duration).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn heartbeat_never_runs_after_settlement() {
    let settler = Recorder::default();
    let message = Message::builder("m", "body").build();
    // Beats at 10 s, 20 s, 30 s; the handler ends at 30.1 s, during the third beat's request.
    let outcome = heartbeat(30, 10)
        .run(&settler, &message, work(Duration::from_millis(30_100)))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Succeeded);
    tokio::time::sleep(Duration::from_secs(120)).await;

    let calls: Vec<Call> = settler.calls().into_iter().map(|(_, c)| c).collect();
    let beat = Call::KeepAlive(Duration::from_secs(30));
    assert_eq!(calls, vec![beat.clone(), beat.clone(), beat, Call::Ack]);
}

#[tokio::test(start_paused = true)]
async fn heartbeat_stops_when_the_handler_fails_and_the_failure_is_retried() {
    let settler = Recorder::default();
    let message = Message::builder("m", "body").build();
    let failing = async {
        tokio::time::sleep(Duration::from_secs(15)).await;
        Err::<(), _>(TaskError::new("upstream down"))
    };
    let outcome = heartbeat(20, 10)
        .run(&settler, &message, failing)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Retried { after: None });
    tokio::time::sleep(Duration::from_secs(60)).await;
    let calls: Vec<Call> = settler.calls().into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        calls,
        vec![Call::KeepAlive(Duration::from_secs(20)), Call::Nack(None)]
    );
}

#[tokio::test(start_paused = true)]
async fn failing_heartbeat_does_not_stop_the_handler() {
    let gone = Error::MessageGone {
        code: "ReceiptHandleIsInvalid".into(),
        message: "expired".into(),
    };
    let settler = Recorder::failing_keep_alive(gone);
    let message = Message::builder("m", "body").build();
    let outcome = heartbeat(4, 2)
        .run(&settler, &message, work(Duration::from_secs(9)))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Succeeded);
    // The loss is known after the first beat: no more beats, but the handler finished.
    let calls: Vec<Call> = settler.calls().into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        calls,
        vec![Call::KeepAlive(Duration::from_secs(4)), Call::Ack]
    );
}

fn throttled() -> Error {
    Error::Service {
        code: "RequestThrottled".into(),
        message: "slow down".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn failed_beat_is_retried_before_the_message_becomes_visible() {
    let settler = Recorder::failing_first_keep_alive(throttled());
    let start = Instant::now();
    let message = Message::builder("m", "body").received_at(start).build();
    heartbeat(30, 15)
        .run(&settler, &message, work(Duration::from_secs(40)))
        .await
        .unwrap();
    // The beat at 15 s fails; the message is hidden until 30 s, so the retry comes halfway
    // there (a whole interval later, at 30 s, it could already be received elsewhere).
    let secs = Duration::from_secs_f64;
    assert_eq!(
        settler.keep_alive_times(start),
        vec![secs(15.0), secs(22.5), secs(37.5)]
    );
}

#[tokio::test(start_paused = true)]
async fn persistent_heartbeat_errors_are_retried_without_stopping_the_handler() {
    let settler = Recorder::failing_keep_alive(throttled());
    let start = Instant::now();
    let message = Message::builder("m", "body").received_at(start).build();
    let outcome = heartbeat(4, 2)
        .run(&settler, &message, work(Duration::from_millis(6_500)))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Succeeded);
    // Hidden until 4 s: retries at 3 s and 4 s, then, the message being visible already,
    // at the interval again.
    let secs = Duration::from_secs;
    assert_eq!(
        settler.keep_alive_times(start),
        vec![secs(2), secs(3), secs(4), secs(6)]
    );
}

#[tokio::test(start_paused = true)]
async fn heartbeat_stops_extending_at_the_twelve_hour_limit() {
    let settler = Recorder::default();
    let received = Instant::now();
    let message = Message::builder("m", "body").received_at(received).build();
    // Jump to 95 s before the limit; the first beat is planned from the receive, so it fires
    // at once.
    tokio::time::advance(Duration::from_secs(12 * 3600 - 95)).await;
    heartbeat(60, 30)
        .run(&settler, &message, work(Duration::from_secs(300)))
        .await
        .unwrap();

    let calls = settler.calls();
    let extensions: Vec<(Duration, Duration)> = calls
        .iter()
        .filter_map(|(at, call)| match call {
            Call::KeepAlive(d) => Some((at.duration_since(received), *d)),
            _ => None,
        })
        .collect();
    let limit = Duration::from_secs(12 * 3600);
    for (at, extension) in &extensions {
        // The keep-alive was requested 0.3 s before it was recorded.
        assert!(
            *at - Duration::from_millis(300) + *extension <= limit,
            "{at:?} + {extension:?}"
        );
    }
    // 95 s left: two full extensions (at 95 s and 65 s before the limit), then one that ends
    // exactly at the limit, then none although the handler runs on.
    let full = Duration::from_secs(60);
    assert_eq!(extensions.len(), 3, "{extensions:?}");
    assert_eq!((extensions[0].1, extensions[1].1), (full, full));
    let (at, last) = extensions[2];
    assert_eq!(at - Duration::from_millis(300) + last, limit);
    assert_eq!(calls.last().unwrap().1, Call::Ack);
}

#[tokio::test]
async fn exponential_retry_hides_the_message_longer_on_each_receive() {
    let settler = Recorder::default();
    let policy = ExponentialRetry::new(Duration::from_secs(3));
    for count in 1..=4 {
        let message = Message::builder("m", "body").receive_count(count).build();
        let failing = async { Err::<(), _>(TaskError::new("no")) };
        policy.run(&settler, &message, failing).await.unwrap();
    }
    let delays: Vec<Call> = settler.calls().into_iter().map(|(_, c)| c).collect();
    let expected: Vec<Call> = [3, 6, 12, 24]
        .iter()
        .map(|s| Call::Nack(Some(Duration::from_secs(*s))))
        .collect();
    assert_eq!(delays, expected);
}

#[tokio::test]
async fn retry_after_from_the_error_overrides_the_policy() {
    let settler = Recorder::default();
    let message = Message::builder("m", "body").build();
    let limited = async {
        Err::<(), _>(
            TaskError::new("429 Too Many Requests").with_retry_after(Duration::from_secs(42)),
        )
    };
    let outcome = FixedRetry::new(Duration::from_secs(5))
        .run(&settler, &message, limited)
        .await
        .unwrap();
    let after = Some(Duration::from_secs(42));
    assert_eq!(outcome, Outcome::Retried { after });
    assert_eq!(settler.calls()[0].1, Call::Nack(after));
}

#[tokio::test]
async fn permanent_failure_is_dead_lettered_with_its_reason_not_retried() {
    let settler = Recorder::default();
    let message = Message::builder("m", "body").build();
    let bad = async { Err::<(), _>(TaskError::permanent("schema mismatch")) };
    let outcome = ExponentialRetry::new(Duration::from_secs(1))
        .run(&settler, &message, bad)
        .await;
    assert_eq!(outcome.unwrap(), Outcome::Discarded);
    let calls: Vec<Call> = settler.calls().into_iter().map(|(_, c)| c).collect();
    assert_eq!(calls, vec![Call::DeadLetter("schema mismatch".into())]);
}

#[tokio::test]
async fn heartbeat_keeps_the_message_invisible_past_its_original_timeout() {
    let env = Env::start().await;
    let client = env.queue("heartbeat", 2, Duration::from_secs(1)).await;
    client.send("long job").await.unwrap();
    let message = client
        .receive(1, Some(Duration::from_secs(2)))
        .await
        .unwrap()
        .pop()
        .unwrap();

    let url = client.queue_url().to_owned();
    let watcher = async {
        // Four times the original timeout: someone else would have received it by now.
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert!(
                visible_now(&env, &url).await.is_empty(),
                "message became visible"
            );
        }
        Ok::<(), TaskError>(())
    };
    let outcome = heartbeat(2, 1)
        .run(&client, &message, watcher)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Succeeded);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        visible_now(&env, &url).await.is_empty(),
        "acked message is gone"
    );
    env.shutdown().await;
}
