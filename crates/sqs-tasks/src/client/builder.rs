//! Configuration of a [`QueueClient`].

use std::time::Duration;

use super::{MAX_WAIT_TIME, QueueClient};
use crate::Error;

/// Builds a [`QueueClient`]; made by [`QueueClient::builder`].
#[derive(Debug)]
pub struct QueueClientBuilder {
    sdk: aws_sdk_sqs::Client,
    queue: Option<String>,
    wait_time: Duration,
}

impl QueueClientBuilder {
    pub(super) fn new(sdk: aws_sdk_sqs::Client) -> Self {
        QueueClientBuilder {
            sdk,
            queue: None,
            wait_time: MAX_WAIT_TIME,
        }
    }

    /// The queue: a URL (`http://` or `https://`) is used as is, anything else is a queue name
    /// looked up with GetQueueUrl when the client is built.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// How long one receive waits for a message to arrive (long polling), 0 to 20 seconds;
    /// the default is 20 seconds, the cheapest setting.
    pub fn wait_time(mut self, wait_time: Duration) -> Self {
        self.wait_time = wait_time;
        self
    }

    /// Resolves the queue and returns the client.
    ///
    /// # Cancel safety
    ///
    /// Cancelling only abandons the GetQueueUrl lookup; nothing is changed on the queue.
    pub async fn build(self) -> Result<QueueClient, Error> {
        if self.wait_time > MAX_WAIT_TIME {
            return Err(Error::Config(format!(
                "wait time {:?} is above the SQS maximum of 20 s",
                self.wait_time
            )));
        }
        let queue = self
            .queue
            .ok_or_else(|| Error::Config("no queue given".to_owned()))?;
        let url = if queue.starts_with("http://") || queue.starts_with("https://") {
            queue
        } else {
            resolve_url(&self.sdk, &queue, None).await?
        };
        Ok(QueueClient::from_parts(self.sdk, url, self.wait_time))
    }
}

/// Looks up a queue's URL by name (and owner account, for queues of another account).
pub(super) async fn resolve_url(
    sdk: &aws_sdk_sqs::Client,
    name: &str,
    owner_account: Option<&str>,
) -> Result<String, Error> {
    let output = sdk
        .get_queue_url()
        .queue_name(name)
        .set_queue_owner_aws_account_id(owner_account.map(str::to_owned))
        .send()
        .await
        .map_err(|err| Error::from_sdk(err, name))?;
    output
        .queue_url
        .ok_or_else(|| Error::Malformed(format!("GetQueueUrl for {name} returned no URL")))
}
