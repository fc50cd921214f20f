//! `sqs-tasks serve --data-dir` killed with SIGKILL at random moments under load, then
//! restarted: every acknowledged send is still there unless an acknowledged delete removed
//! it, and no acknowledged delete comes back.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};

const ROUNDS: usize = 4;
const VISIBILITY_SECONDS: u64 = 2;

fn random_below(bound: u64) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish() % bound
}

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("crash", "crash", None, None, "test"))
        // A refused or dropped connection must surface, not be retried into the next round.
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// Starts the server over `dir` and returns it with its endpoint.
fn start_server(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqs-tasks"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let endpoint = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split("listening on ").nth(1).map(str::to_owned))
        .expect("the server names its endpoint");
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, endpoint)
}

#[derive(Default)]
struct Ledger {
    sent: HashSet<String>,
    deleted: HashSet<String>,
    /// Asked to be deleted without an answer: the crash may have come before or after the
    /// commit, so either outcome is right.
    delete_unanswered: HashSet<String>,
}

async fn send_until_error(sqs: Client, url: String, ledger: Arc<Mutex<Ledger>>, tag: usize) {
    for batch in 0.. {
        let entries = (0..10)
            .map(|i| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("e{i}"))
                    .message_body(format!("sender {tag} batch {batch} entry {i}"))
                    .build()
                    .expect("entry")
            })
            .collect();
        let Ok(out) = sqs
            .send_message_batch()
            .queue_url(&url)
            .set_entries(Some(entries))
            .send()
            .await
        else {
            return;
        };
        let mut ledger = ledger.lock().unwrap();
        ledger
            .sent
            .extend(out.successful.into_iter().map(|s| s.message_id));
    }
}

async fn drain_until_error(sqs: Client, url: String, ledger: Arc<Mutex<Ledger>>) {
    loop {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
        else {
            return;
        };
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .expect("entry")
            })
            .collect();
        let ids = messages.iter().filter_map(|m| m.message_id.clone());
        ledger.lock().unwrap().delete_unanswered.extend(ids);
        let Ok(out) = sqs
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(entries))
            .send()
            .await
        else {
            return;
        };
        let mut ledger = ledger.lock().unwrap();
        for done in out.successful {
            let index: usize = done.id.parse().expect("an index");
            let id = messages[index].message_id().unwrap_or_default().to_owned();
            ledger.delete_unanswered.remove(&id);
            ledger.deleted.insert(id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_under_load_loses_no_acknowledged_change() {
    let dir = std::env::temp_dir().join(format!("sqs-tasks-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    for round in 0..ROUNDS {
        let (mut child, endpoint) = start_server(&dir);
        let sqs = client(&endpoint);
        let url = sqs
            .create_queue()
            .queue_name("crash")
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                VISIBILITY_SECONDS.to_string(),
            )
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("url");
        let mut tasks = Vec::new();
        for tag in 0..3 {
            let tag = round * 10 + tag;
            tasks.push(tokio::spawn(send_until_error(
                sqs.clone(),
                url.clone(),
                ledger.clone(),
                tag,
            )));
        }
        tasks.push(tokio::spawn(drain_until_error(
            sqs.clone(),
            url.clone(),
            ledger.clone(),
        )));

        tokio::time::sleep(Duration::from_millis(300 + random_below(900))).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("clients notice the crash")
                .expect("client task");
        }
    }

    // Everything in flight at the last crash becomes visible after its timeout.
    let (mut child, endpoint) = start_server(&dir);
    let sqs = client(&endpoint);
    let url = sqs
        .get_queue_url()
        .queue_name("crash")
        .send()
        .await
        .expect("queue")
        .queue_url
        .unwrap();
    tokio::time::sleep(Duration::from_secs(VISIBILITY_SECONDS + 1)).await;
    let mut present = HashSet::new();
    let mut empty_receives = 0;
    while empty_receives < 2 {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            empty_receives += 1;
        }
        present.extend(messages.into_iter().filter_map(|m| m.message_id));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    let ledger = ledger.lock().unwrap();
    let lost: Vec<_> = ledger
        .sent
        .iter()
        .filter(|id| !present.contains(*id))
        .filter(|id| !ledger.deleted.contains(*id) && !ledger.delete_unanswered.contains(*id))
        .collect();
    let resurrected: Vec<_> = ledger
        .deleted
        .iter()
        .filter(|id| present.contains(*id))
        .collect();
    println!(
        "{ROUNDS} crashes: {} sends acknowledged, {} deletes acknowledged ({} unanswered), {} messages present after restart, {} lost, {} deleted messages back",
        ledger.sent.len(),
        ledger.deleted.len(),
        ledger.delete_unanswered.len(),
        present.len(),
        lost.len(),
        resurrected.len()
    );
    assert!(ledger.sent.len() > 100, "the load reached the server");
    assert!(lost.is_empty(), "acknowledged sends lost: {lost:?}");
    assert!(
        resurrected.is_empty(),
        "acknowledged deletes undone: {resurrected:?}"
    );
}
