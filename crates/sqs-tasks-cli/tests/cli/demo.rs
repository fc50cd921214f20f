//! `sqs-tasks demo`, small.

use std::time::Duration;

use crate::harness::{bare_cli, run, stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_demo_ends_every_task_and_summarises() {
    let mut command = bare_cli();
    command.args(["demo", "--messages", "60", "--concurrency", "30", "--json"]);
    let output = run(command, Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .lines()
            .next()
            .unwrap()
            .contains("http://127.0.0.1:")
    );

    let summary: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let number = |key: &str| summary[key].as_u64().unwrap();
    // Tasks 13 (and 110, beyond 60) are refused for good by the simulated endpoint.
    assert_eq!(number("dead_lettered"), 1, "{summary}");
    assert_eq!(number("processed"), 59, "{summary}");
    assert_eq!(number("results"), 59, "{summary}");
    assert_eq!(number("left_in_queue"), 0, "{summary}");
    assert_eq!(summary["complete"], true);
    let per_message = summary["sqs_requests_per_message"].as_f64().unwrap();
    assert!(per_message > 0.0 && per_message < 5.0, "{summary}");
    let (wall, ideal) = (
        summary["wall_seconds"].as_f64().unwrap(),
        summary["ideal_seconds"].as_f64().unwrap(),
    );
    assert!(ideal > 0.0 && wall >= ideal, "{summary}");
}
