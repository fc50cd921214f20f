//! A local server per test, and the built binary pointed at it.

use std::collections::HashMap;
use std::process::Output;
use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use sqs_tasks_local::LocalSqs;
use tokio::process::Command;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_sqs-tasks");

/// A home without AWS configuration files.
const EMPTY_HOME: &str = "/nonexistent/sqs-tasks-test-home";

pub(crate) struct Env {
    pub(crate) server: LocalSqs,
    pub(crate) sdk: aws_sdk_sqs::Client,
}

/// A received message, as the tests look at it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) body: String,
    pub(crate) receive_count: u32,
    pub(crate) attributes: HashMap<String, String>,
}

impl Env {
    pub(crate) async fn start() -> Env {
        let server = LocalSqs::builder()
            .bind(([127, 0, 0, 1], 0).into())
            .cooldowns(false)
            .start()
            .await
            .expect("server starts");
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "t", "t", None, None, "test",
            ))
            .endpoint_url(server.endpoint_url())
            .build();
        let sdk = aws_sdk_sqs::Client::from_conf(config);
        Env { server, sdk }
    }

    /// The binary with `--endpoint` set to this test's server and no AWS environment.
    pub(crate) fn cli(&self) -> Command {
        let mut command = bare_cli();
        command.arg("--endpoint").arg(self.server.endpoint_url());
        command
    }

    /// Runs the binary with `args` and waits for it, at most `limit`.
    pub(crate) async fn run(&self, args: &[&str], limit: Duration) -> Output {
        let mut command = self.cli();
        command.args(args);
        run(command, limit).await
    }

    /// Creates a queue, with a dead-letter queue after `max_receives` when given.
    pub(crate) async fn create_queue(
        &self,
        name: &str,
        dead_letter: Option<(&str, u32)>,
    ) -> String {
        let mut attributes =
            HashMap::from([(QueueAttributeName::VisibilityTimeout, "30".to_owned())]);
        if let Some((dlq, max)) = dead_letter {
            let dlq_url = self.create_queue_plain(dlq).await;
            let arn = self
                .sdk
                .get_queue_attributes()
                .queue_url(&dlq_url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap()[&QueueAttributeName::QueueArn]
                .clone();
            let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"{max}"}}"#);
            attributes.insert(QueueAttributeName::RedrivePolicy, policy);
        }
        let created = self
            .sdk
            .create_queue()
            .queue_name(name)
            .set_attributes(Some(attributes));
        created.send().await.unwrap().queue_url.unwrap()
    }

    async fn create_queue_plain(&self, name: &str) -> String {
        let created = self
            .sdk
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap();
        created.queue_url.unwrap()
    }

    /// Visible, in-flight and delayed counts.
    pub(crate) async fn counts(&self, url: &str) -> (u64, u64, u64) {
        let attributes = self
            .sdk
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        let get = |name| attributes[&name].parse().unwrap();
        (
            get(QueueAttributeName::ApproximateNumberOfMessages),
            get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        )
    }

    /// Receives every visible message, deleting them.
    pub(crate) async fn drain(&self, url: &str) -> Vec<Received> {
        let mut all = Vec::new();
        for _ in 0..10_000 {
            let output = self
                .sdk
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let handle = message.receipt_handle.clone().unwrap();
                self.sdk
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
                let count = message.attributes.as_ref().unwrap()
                    [&MessageSystemAttributeName::ApproximateReceiveCount]
                    .parse()
                    .unwrap();
                let attributes = message.message_attributes.unwrap_or_default();
                all.push(Received {
                    body: message.body.unwrap(),
                    receive_count: count,
                    attributes: attributes
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v.string_value?)))
                        .collect(),
                });
            }
        }
        all
    }

    /// Sends bodies in batches.
    pub(crate) async fn send_all(&self, url: &str, bodies: &[String]) {
        for chunk in bodies.chunks(10) {
            let entries = chunk.iter().enumerate().map(|(i, body)| {
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .unwrap()
            });
            let sent = self
                .sdk
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries.collect()));
            assert!(sent.send().await.unwrap().failed.is_empty());
        }
    }
}

/// The binary with no AWS environment and no AWS configuration files.
pub(crate) fn bare_cli() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command.env("HOME", EMPTY_HOME).env_remove("SQS_TASKS_LOG");
    command.kill_on_drop(true);
    command
}

/// Runs a command to its end, at most `limit`.
pub(crate) async fn run(mut command: Command, limit: Duration) -> Output {
    let output = tokio::time::timeout(limit, command.output()).await;
    output
        .expect("the command ends in time")
        .expect("the command runs")
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Sends `signal` (TERM, INT...) to a process this test started.
pub(crate) fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// True while the process `pid` runs (a zombie, dead but not yet reaped, does not count).
pub(crate) fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

/// Waits until `check` holds, at most `limit`.
pub(crate) async fn eventually<F: AsyncFnMut() -> bool>(limit: Duration, mut check: F) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
