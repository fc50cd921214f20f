//! `work --http` against a small HTTP app started by the test.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::harness::{Env, stderr};

/// What the app saw: for each body, when each request came and the message id header.
type Seen = Arc<Mutex<HashMap<String, Vec<(Instant, String)>>>>;

/// Answers by body: `ok-*` 200; `limited-*` 429 with Retry-After 1 the first time;
/// `flaky-*` 500 the first time; `bad-*` 422. Successes answer `done <body>`.
async fn start_app() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tasks", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let shared = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let seen = Arc::clone(&shared);
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let seen = Arc::clone(&seen);
                async move { Ok::<_, Infallible>(answer(request, &seen).await) }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (url, seen)
}

async fn answer(request: Request<hyper::body::Incoming>, seen: &Seen) -> Response<Full<Bytes>> {
    let id = request.headers()["sqs-tasks-message-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let tries = {
        let mut seen = seen.lock().unwrap();
        let entry = seen.entry(body.clone()).or_default();
        entry.push((Instant::now(), id));
        entry.len()
    };
    let response = |status: u16| Response::builder().status(status);
    match body.split('-').next().unwrap() {
        "limited" if tries == 1 => response(429)
            .header("retry-after", "1")
            .body(Full::default()),
        "flaky" if tries == 1 => response(500).body(Full::default()),
        "bad" => response(422).body(Full::from("cannot parse")),
        _ => response(200).body(Full::from(format!("done {body}"))),
    }
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_results_retries_at_retry_after_and_permanent_client_errors() {
    let env = Env::start().await;
    let (url, seen) = start_app().await;
    let tasks = env.create_queue("calls", Some(("calls-dlq", 5))).await;
    let dead = format!("{}/000000000000/calls-dlq", env.server.endpoint_url());
    let results = env.create_queue("answers", None).await;
    let mut bodies: Vec<String> = (0..40).map(|i| format!("ok-{i}")).collect();
    bodies.extend((0..5).map(|i| format!("limited-{i}")));
    bodies.extend((0..3).map(|i| format!("flaky-{i}")));
    bodies.push("bad-0".to_owned());
    env.send_all(&tasks, &bodies).await;

    let work = [
        "work",
        "--queue",
        "calls",
        "--http",
        &url,
        "--results-queue",
        "answers",
        "--concurrency",
        "8",
        "--retry",
        "fixed",
        "--retry-delay",
        "0s",
        "--until-empty",
    ];
    let output = env.run(&work, Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", stderr(&output));

    let answers: HashSet<String> = env
        .drain(&results)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    let expected: HashSet<String> = bodies
        .iter()
        .filter(|b| !b.starts_with("bad"))
        .map(|b| format!("done {b}"))
        .collect();
    assert_eq!(answers, expected);
    let dead: Vec<String> = env.drain(&dead).await.into_iter().map(|m| m.body).collect();
    assert_eq!(dead, ["bad-0"]);

    let seen = seen.lock().unwrap();
    for i in 0..5 {
        let tries = &seen[&format!("limited-{i}")];
        assert_eq!(tries.len(), 2);
        let waited = tries[1].0 - tries[0].0;
        assert!(
            waited >= Duration::from_millis(900),
            "retried after {waited:?}, before Retry-After"
        );
        assert_eq!(tries[0].1, tries[1].1, "the same message both times");
    }
    assert!(
        seen.keys()
            .filter(|k| k.starts_with("flaky"))
            .all(|k| seen[k].len() == 2)
    );
    assert_eq!(seen["bad-0"].len(), 1, "a 4xx is not retried");
}
