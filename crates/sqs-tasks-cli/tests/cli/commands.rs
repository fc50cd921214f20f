//! Endpoint resolution, errors, and the queue, send, stats and peek commands.

use std::time::Duration;

use crate::harness::{Env, bare_cli, run, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_configuration_the_local_default_is_named_first() {
    let mut command = bare_cli();
    command.args(["queue", "list"]);
    let output = run(command, LIMIT).await;
    let err = stderr(&output);
    let first = err.lines().next().unwrap_or_default();
    assert!(first.contains("http://127.0.0.1:9324"), "{err}");
    assert!(first.contains("us-east-1"), "{err}");
    if !output.status.success() {
        assert_eq!(output.status.code(), Some(1));
        assert!(err.contains("sqs-tasks serve"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_queue_is_named_with_the_endpoint_and_the_command_that_creates_it() {
    let env = Env::start().await;
    let output = env
        .run(&["send", "--queue", "nowhere", "hello"], LIMIT)
        .await;
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(
        err.lines()
            .next()
            .unwrap()
            .contains(env.server.endpoint_url()),
        "{err}"
    );
    assert!(err.contains("`nowhere` does not exist"), "{err}");
    assert!(err.contains(env.server.endpoint_url()), "{err}");
    assert!(err.contains("queue create nowhere"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line() {
    let env = Env::start().await;
    let output = env
        .run(&["--log-format", "json", "stats", "nowhere"], LIMIT)
        .await;
    assert_eq!(output.status.code(), Some(3));
    for line in stderr(&output).lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect(line);
        assert!(value["level"].is_string(), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_are_created_with_a_dead_letter_queue_listed_counted_purged_and_deleted() {
    let env = Env::start().await;
    let create = [
        "queue",
        "create",
        "jobs",
        "--visibility-timeout",
        "45s",
        "--dead-letter",
        "jobs-dlq",
        "--max-receives",
        "3",
    ];
    let output = env.run(&create, LIMIT).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).trim().ends_with("/jobs"));

    let output = env.run(&["queue", "list"], LIMIT).await;
    assert_eq!(stdout(&output), "jobs\njobs-dlq\n");

    let output = env
        .run(
            &["send", "--queue", "jobs", "--delay", "5m", "later"],
            LIMIT,
        )
        .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let output = env
        .run(
            &[
                "send",
                "--queue",
                "jobs",
                "now",
                "--attribute",
                "n:Number=4",
            ],
            LIMIT,
        )
        .await;
    assert!(output.status.success(), "{}", stderr(&output));

    let output = env.run(&["stats"], LIMIT).await;
    let table = stdout(&output);
    let row = table
        .lines()
        .find(|l| l.starts_with("jobs "))
        .expect(&table);
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[..5], ["jobs", "1", "0", "1", "jobs-dlq"], "{table}");
    assert!(row.contains("after 3 receives"), "{table}");

    // Peeking shows the message and leaves it visible, with one more receive.
    let output = env.run(&["peek", "jobs", "--json"], LIMIT).await;
    let peeked: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(peeked["body"], "now");
    assert_eq!(peeked["attributes"]["n"], "4");
    let url = format!("{}/000000000000/jobs", env.server.endpoint_url());
    assert_eq!(env.counts(&url).await, (1, 0, 1));

    let output = env.run(&["queue", "purge", "jobs"], LIMIT).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(env.counts(&url).await, (0, 0, 0));
    let output = env.run(&["queue", "delete", "jobs"], LIMIT).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let output = env.run(&["queue", "list"], LIMIT).await;
    assert_eq!(stdout(&output), "jobs-dlq\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_reads_one_message_a_line_from_stdin_and_skips_empty_lines() {
    let env = Env::start().await;
    let url = env.create_queue("lines", None).await;
    let mut command = env.cli();
    command.args(["send", "--queue", "lines", "--attribute", "team=search"]);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input: String = (0..25).map(|i| format!("{{\"n\":{i}}}\n\n")).collect();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, input.as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("sent 25 messages"));
    let received = env.drain(&url).await;
    assert_eq!(received.len(), 25);
    assert!(received.iter().all(|m| m.attributes["team"] == "search"));
}
