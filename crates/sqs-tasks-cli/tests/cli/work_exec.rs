//! `work --exec`: results, retries, dead letters and timeouts with real programs.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::harness::{Env, alive, eventually, stderr};

const LIMIT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_sent_from_a_file_each_give_exactly_one_result() {
    let env = Env::start().await;
    let tasks = env.create_queue("tasks", None).await;
    let results = env.create_queue("results", None).await;
    let dir = std::env::temp_dir().join(format!("sqs-tasks-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tasks.jsonl");
    let lines: Vec<String> = (0..1000).map(|i| format!("{{\"task\":{i}}}")).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    let output = env
        .run(
            &["send", "--queue", "tasks", "--file", file.to_str().unwrap()],
            LIMIT,
        )
        .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(env.counts(&tasks).await, (1000, 0, 0));

    let work = [
        "work",
        "--queue",
        "tasks",
        "--exec",
        "cat; echo \" from $SQS_TASKS_QUEUE\"",
        "--results-queue",
        "results",
        "--concurrency",
        "32",
        "--until-empty",
    ];
    let output = env.run(&work, LIMIT).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1000 succeeded"),
        "{}",
        stderr(&output)
    );

    let received = env.drain(&results).await;
    assert_eq!(received.len(), 1000);
    let sources: HashSet<&str> = received
        .iter()
        .map(|m| m.attributes["sqs_tasks.message_id"].as_str())
        .collect();
    assert_eq!(sources.len(), 1000, "one result per message");
    let bodies: HashSet<String> = received.iter().map(|m| m.body.clone()).collect();
    for line in &lines {
        assert!(bodies.contains(&format!("{line} from tasks\n")), "{line}");
    }
    assert_eq!(env.counts(&tasks).await, (0, 0, 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_decide_between_success_retry_and_the_dead_letter_queue() {
    let env = Env::start().await;
    let tasks = env.create_queue("tasks", Some(("tasks-dlq", 3))).await;
    let dead = format!("{}/000000000000/tasks-dlq", env.server.endpoint_url());
    let results = env.create_queue("results", None).await;
    let bodies = ["ok", "fails-always", "bad-input", "temporary"].map(String::from);
    env.send_all(&tasks, &bodies).await;

    // `temporary` asks for a retry on its first delivery only.
    let script = r#"body=$(cat)
case "$body" in
  ok) echo "done $body" ;;
  fails-always) echo "boom on try $SQS_TASKS_RECEIVE_COUNT" >&2; exit 1 ;;
  bad-input) exit 65 ;;
  temporary) [ "$SQS_TASKS_RECEIVE_COUNT" -ge 2 ] || exit 75; echo "done $body" ;;
esac"#;
    let work = [
        "work",
        "--queue",
        "tasks",
        "--exec",
        script,
        "--results-queue",
        "results",
        "--retry",
        "fixed",
        "--retry-delay",
        "0s",
        "--until-empty",
    ];
    let output = env.run(&work, LIMIT).await;
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains("boom on try 1"),
        "stderr reaches the log: {log}"
    );
    assert!(log.contains("command asked for a retry (exit 75)"), "{log}");

    let results: HashSet<String> = env
        .drain(&results)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(
        results,
        HashSet::from(["done ok\n".to_owned(), "done temporary\n".to_owned()])
    );

    let dead: HashMap<String, u32> = env
        .drain(&dead)
        .await
        .into_iter()
        .map(|m| (m.body, m.receive_count))
        .collect();
    assert_eq!(dead.len(), 2, "{dead:?}");
    // Moved by SQS after its third receive; its receive count went with it.
    assert!(dead["fails-always"] >= 3, "{dead:?}");
    // Moved by the worker at once.
    assert!(dead.contains_key("bad-input"), "{dead:?}");
    assert_eq!(env.counts(&tasks).await, (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_kills_the_whole_process_group_and_retries() {
    let env = Env::start().await;
    let tasks = env.create_queue("slow", None).await;
    env.send_all(&tasks, &["job".to_owned()]).await;
    let dir = std::env::temp_dir().join(format!("sqs-tasks-timeout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pids = dir.join("pids");

    // The first try starts a background sleeper and hangs; the second succeeds at once.
    let script = format!(
        r#"if [ "$SQS_TASKS_RECEIVE_COUNT" = 1 ]; then
  sleep 60 & echo $! >> {pids}; echo $$ >> {pids}; sleep 60
fi
echo finished"#,
        pids = pids.display()
    );
    let work = [
        "work",
        "--queue",
        "slow",
        "--exec",
        &script,
        "--timeout",
        "1s",
        "--retry",
        "fixed",
        "--retry-delay",
        "0s",
        "--until-empty",
    ];
    let output = env.run(&work, LIMIT).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains(r#""result":"finished\n""#), "{printed}");

    let pids: Vec<u32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    for pid in pids {
        let gone = eventually(Duration::from_secs(5), async || !alive(pid)).await;
        assert!(gone, "process {pid} outlived its task");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
