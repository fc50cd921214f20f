//! One ReceiveMessage call.

use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use tokio::time::Instant;

use super::{QueueClient, whole_seconds};
use crate::limits::{MAX_BATCH_ENTRIES, MAX_VISIBILITY_SECS};
use crate::{Error, Message};

/// The system attributes the lifecycles and [`Message`]'s accessors rely on. Asked for by name
/// rather than with `All` so that the request says what this crate depends on.
const SYSTEM_ATTRIBUTES: [MessageSystemAttributeName; 7] = [
    MessageSystemAttributeName::ApproximateReceiveCount,
    MessageSystemAttributeName::SentTimestamp,
    MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
    MessageSystemAttributeName::MessageGroupId,
    MessageSystemAttributeName::MessageDeduplicationId,
    MessageSystemAttributeName::SequenceNumber,
    MessageSystemAttributeName::AwsTraceHeader,
];

impl QueueClient {
    /// Receives up to `max_messages` (1 to 10) messages, waiting up to the client's wait time
    /// for the first one. `visibility` hides the received messages for that long (whole
    /// seconds, rounded up); `None` uses the queue's default visibility timeout.
    ///
    /// Every message attribute and the system attributes [`Message`] exposes are requested.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped after SQS picked messages for this request,
    /// those messages stay invisible until their visibility timeout runs out, then are
    /// delivered again.
    pub async fn receive(
        &self,
        max_messages: usize,
        visibility: Option<Duration>,
    ) -> Result<Vec<Message>, Error> {
        let max = max_messages.clamp(1, MAX_BATCH_ENTRIES) as i32;
        let wait = whole_seconds(self.inner.wait_time, 20);
        // Taken before the request leaves, so it is never later than SQS's receive time.
        let received_at = Instant::now();

        let output = self
            .inner
            .sdk
            .receive_message()
            .queue_url(&self.inner.queue_url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait)
            .set_visibility_timeout(visibility.map(|v| whole_seconds(v, MAX_VISIBILITY_SECS)))
            .set_message_system_attribute_names(Some(SYSTEM_ATTRIBUTES.to_vec()))
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|err| self.error(err))?;

        let messages = output.messages.unwrap_or_default();
        tracing::trace!(queue = %self.inner.queue_url, count = messages.len(), "received");
        messages
            .into_iter()
            .map(|message| Message::from_sdk(message, received_at))
            .collect()
    }
}
