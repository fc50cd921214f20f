//! The test environment: an SQS endpoint, an SDK client for it, and uniquely named queues.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::QueueAttributeName;
use sqs_tasks::QueueClient;
use sqs_tasks_local::LocalSqs;

/// An SQS endpoint for one test: the server named by `SQS_TASKS_TEST_ENDPOINT`, shared by all
/// tests, or an embedded server of the test's own.
pub(crate) struct Env {
    pub(crate) sdk: aws_sdk_sqs::Client,
    server: Option<LocalSqs>,
}

impl Env {
    pub(crate) async fn start() -> Env {
        let (endpoint, server) = match std::env::var("SQS_TASKS_TEST_ENDPOINT") {
            Ok(endpoint) => (endpoint, None),
            Err(_) => {
                let server = LocalSqs::builder()
                    .bind("127.0.0.1:0".parse().unwrap())
                    .start()
                    .await
                    .expect("embedded server starts");
                (server.endpoint_url().to_owned(), Some(server))
            }
        };
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .build();
        Env {
            sdk: aws_sdk_sqs::Client::from_conf(config),
            server,
        }
    }

    /// Requests served, when the server is the embedded one.
    pub(crate) fn request_count(&self) -> Option<u64> {
        self.server.as_ref().map(LocalSqs::request_count)
    }

    /// Creates a queue with a unique name and the given attributes; returns its URL.
    pub(crate) async fn create_queue(
        &self,
        prefix: &str,
        attributes: &[(QueueAttributeName, &str)],
    ) -> String {
        let attributes: HashMap<_, _> = attributes
            .iter()
            .map(|(name, value)| (name.clone(), value.to_string()))
            .collect();
        let output = self
            .sdk
            .create_queue()
            .queue_name(unique_name(prefix))
            .set_attributes(Some(attributes))
            .send()
            .await
            .expect("queue is created");
        output.queue_url.expect("queue has a URL")
    }

    /// A client for a new queue whose visibility timeout is `visibility_secs`, with long polls
    /// of `wait` (short, so that tests end quickly).
    pub(crate) async fn queue(
        &self,
        prefix: &str,
        visibility_secs: u32,
        wait: Duration,
    ) -> QueueClient {
        let url = self
            .create_queue(
                prefix,
                &[(
                    QueueAttributeName::VisibilityTimeout,
                    &visibility_secs.to_string(),
                )],
            )
            .await;
        self.client(&url, wait).await
    }

    pub(crate) async fn client(&self, queue: &str, wait: Duration) -> QueueClient {
        QueueClient::builder(self.sdk.clone())
            .queue(queue)
            .wait_time(wait)
            .build()
            .await
            .expect("client is built")
    }

    pub(crate) async fn shutdown(self) {
        if let Some(server) = self.server {
            server.shutdown().await;
        }
    }
}

/// A queue name no other test (of this run or a concurrent one) uses.
pub(crate) fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let salt: u32 = rand_salt();
    format!("{prefix}-{}-{n}-{salt:08x}", std::process::id())
}

fn rand_salt() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0u8) as u32
}

/// Receives whatever is visible right now (a short poll of up to 10 messages).
pub(crate) async fn visible_now(env: &Env, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    env.sdk
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .visibility_timeout(0)
        .send()
        .await
        .expect("receive works")
        .messages
        .unwrap_or_default()
}

/// The queue's approximate counts: (visible, in flight).
pub(crate) async fn counts(env: &Env, url: &str) -> (u64, u64) {
    let output = env
        .sdk
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("attributes are read");
    let attributes = output.attributes.unwrap_or_default();
    let read = |name| {
        attributes
            .get(&name)
            .and_then(|v: &String| v.parse().ok())
            .unwrap_or(0)
    };
    (
        read(QueueAttributeName::ApproximateNumberOfMessages),
        read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}
