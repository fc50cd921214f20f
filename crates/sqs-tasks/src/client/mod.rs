//! [`QueueClient`]: one queue, reached through the AWS SDK, with messaging vocabulary.

mod batch;
mod builder;
mod consume;
mod dead_letter;
mod receive;
mod send;
mod settle;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

pub use builder::QueueClientBuilder;
pub use consume::Consume;
pub use dead_letter::{FAILURE_REASON_ATTRIBUTE, ORIGINAL_MESSAGE_ID_ATTRIBUTE};
pub use send::OutgoingMessage;
pub(crate) use settle::{capped_visibility, remaining_visibility};

use crate::Error;

/// The longest long poll SQS allows, and the default.
pub const MAX_WAIT_TIME: Duration = Duration::from_secs(20);

/// A client for one queue.
///
/// Cloning is cheap and clones share the underlying SDK client (and its connection pool).
///
/// ```no_run
/// # async fn demo() -> Result<(), sqs_tasks::Error> {
/// use futures_util::StreamExt;
/// use std::time::Duration;
///
/// let client = sqs_tasks::QueueClient::from_env("jobs").await?;
/// client.send("hello").await?;
/// let mut messages = std::pin::pin!(client.consume(Duration::from_secs(30)));
/// while let Some(message) = messages.next().await {
///     let message = message?;
///     println!("{}", message.body());
///     client.ack(&message).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct QueueClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sdk: aws_sdk_sqs::Client,
    queue_url: String,
    wait_time: Duration,
    /// The dead-letter queue's URL, looked up on first need; `None` when the queue has none.
    dead_letter_url: OnceCell<Option<String>>,
}

impl QueueClient {
    /// Starts configuring a client that uses `sdk` for every request.
    pub fn builder(sdk: aws_sdk_sqs::Client) -> QueueClientBuilder {
        QueueClientBuilder::new(sdk)
    }

    /// A client for `queue` (a name, resolved with GetQueueUrl, or a URL) with default settings.
    pub async fn new(sdk: aws_sdk_sqs::Client, queue: impl Into<String>) -> Result<Self, Error> {
        Self::builder(sdk).queue(queue).build().await
    }

    /// A client for `queue` configured from the environment's standard AWS settings: region,
    /// profile, credentials and endpoint (`AWS_ENDPOINT_URL_SQS` or `AWS_ENDPOINT_URL`).
    pub async fn from_env(queue: impl Into<String>) -> Result<Self, Error> {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(aws_sdk_sqs::Client::new(&config), queue).await
    }

    /// The SDK client, for anything this crate does not cover.
    pub fn sdk(&self) -> &aws_sdk_sqs::Client {
        &self.inner.sdk
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.inner.queue_url
    }

    /// How long one receive waits for messages (long polling).
    pub fn wait_time(&self) -> Duration {
        self.inner.wait_time
    }

    fn from_parts(sdk: aws_sdk_sqs::Client, queue_url: String, wait_time: Duration) -> Self {
        QueueClient {
            inner: Arc::new(Inner {
                sdk,
                queue_url,
                wait_time,
                dead_letter_url: OnceCell::new(),
            }),
        }
    }

    /// Converts an SDK error, naming this client's queue.
    fn error<E, R>(&self, err: aws_sdk_sqs::error::SdkError<E, R>) -> Error
    where
        E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        Error::from_sdk(err, &self.inner.queue_url)
    }
}

/// SQS counts visibility and delays in whole seconds; a fraction is rounded up so that a message
/// is never made visible earlier than asked. Values above `max_secs` are clamped to it.
pub(crate) fn whole_seconds(duration: Duration, max_secs: u64) -> i32 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    secs.min(max_secs) as i32
}

#[cfg(test)]
mod tests {
    use super::whole_seconds;
    use std::time::Duration;

    #[test]
    fn fractions_of_seconds_round_up_and_large_values_clamp() {
        assert_eq!(whole_seconds(Duration::ZERO, 900), 0);
        assert_eq!(whole_seconds(Duration::from_millis(1), 900), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2000), 900), 2);
        assert_eq!(whole_seconds(Duration::from_secs(100_000), 43_200), 43_200);
    }
}
