//! Signals: a graceful stop loses nothing and leaves nothing invisible.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::harness::{Env, alive, bare_cli, eventually, signal, stderr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_loses_nothing_and_leaves_nothing_invisible() {
    let env = Env::start().await;
    let tasks = env.create_queue("tasks", None).await;
    let results = env.create_queue("results", None).await;
    let bodies: Vec<String> = (0..150).map(|i| format!("task {i}")).collect();
    env.send_all(&tasks, &bodies).await;

    let mut command = env.cli();
    command
        .args([
            "work",
            "--queue",
            "tasks",
            "--exec",
            "sleep 0.3; cat",
            "--results-queue",
            "results",
        ])
        .args(["--concurrency", "6"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id().unwrap();
    let started = eventually(Duration::from_secs(30), async || {
        env.counts(&results).await.0 >= 20
    })
    .await;
    assert!(started, "the worker made progress");
    signal(pid, "TERM");

    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await;
    let output = output.expect("the worker stops in time").unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let (visible, in_flight, delayed) = env.counts(&tasks).await;
    assert_eq!((in_flight, delayed), (0, 0), "nothing left invisible");
    let done: Vec<String> = env
        .drain(&results)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    let left: Vec<String> = env
        .drain(&tasks)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(left.len() as u64, visible);
    assert!(done.len() < 150, "stopped mid-run");
    let done_set: HashSet<&String> = done.iter().collect();
    assert_eq!(done_set.len(), done.len(), "no result twice");
    let all: HashSet<&String> = done.iter().chain(&left).collect();
    assert_eq!(
        all.len(),
        150,
        "every message is either done or back in the queue"
    );
    assert_eq!(done.len() + left.len(), 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_tasks_are_killed_and_released_at_the_shutdown_deadline() {
    let env = Env::start().await;
    let tasks = env.create_queue("stuck", None).await;
    env.send_all(&tasks, &(0..3).map(|i| format!("{i}")).collect::<Vec<_>>())
        .await;
    let dir = std::env::temp_dir().join(format!("sqs-tasks-deadline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pids = dir.join("pids");

    let script = format!("echo $$ >> {}; sleep 60", pids.display());
    let mut command = env.cli();
    command
        .args([
            "work",
            "--queue",
            "stuck",
            "--exec",
            &script,
            "--shutdown-deadline",
            "1s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id().unwrap();
    let running = eventually(Duration::from_secs(20), async || {
        std::fs::read_to_string(&pids).is_ok_and(|p| p.lines().count() == 3)
    })
    .await;
    assert!(running);
    signal(pid, "TERM");
    let output = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output()).await;
    let output = output
        .expect("the worker stops after its deadline")
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("3 given back unfinished"),
        "{}",
        stderr(&output)
    );

    assert_eq!(
        env.counts(&tasks).await,
        (3, 0, 0),
        "released, visible at once"
    );
    for line in std::fs::read_to_string(&pids).unwrap().lines() {
        let task = line.parse().unwrap();
        let gone = eventually(Duration::from_secs(5), async || !alive(task)).await;
        assert!(gone, "task process {task} outlived the worker");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_kills_running_tasks_and_exits_at_once() {
    let env = Env::start().await;
    let tasks = env.create_queue("stubborn", None).await;
    env.send_all(&tasks, &["one".to_owned()]).await;
    let dir = std::env::temp_dir().join(format!("sqs-tasks-force-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pids = dir.join("pids");

    let script = format!("echo $$ >> {}; sleep 60", pids.display());
    let mut command = env.cli();
    command
        .args(["work", "--queue", "stubborn", "--exec", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id().unwrap();
    let running = eventually(Duration::from_secs(20), async || pids.exists()).await;
    assert!(running);
    signal(pid, "INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(pid, "INT");
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output()).await;
    let output = output.expect("the worker exits at once").unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));

    let task = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone = eventually(Duration::from_secs(5), async || !alive(task)).await;
    assert!(gone, "the task's process outlived the worker");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_on_sigterm() {
    let mut command = bare_cli();
    command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await;
    let first = first.unwrap().unwrap().unwrap();
    assert!(first.contains("listening on http://127.0.0.1:"), "{first}");

    signal(child.id().unwrap(), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    assert!(status.expect("serve stops in time").unwrap().success());
}
