//! Sending: [`OutgoingMessage`], SendMessage and SendMessageBatch.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde::Serialize;

use super::{QueueClient, whole_seconds};
use crate::limits::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_DELAY_SECS};
use crate::{AttributeValue, Error};

/// A message to send, built step by step.
///
/// ```
/// use sqs_tasks::{AttributeValue, OutgoingMessage};
/// use std::time::Duration;
///
/// let message = OutgoingMessage::new("summarise report 42")
///     .delay(Duration::from_secs(30))
///     .attribute("priority", AttributeValue::number(2));
/// assert_eq!(message.body(), "summarise report 42");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    body: String,
    delay: Option<Duration>,
    attributes: BTreeMap<String, AttributeValue>,
    group_id: Option<String>,
    deduplication_id: Option<String>,
}

impl OutgoingMessage {
    /// A message with this body.
    pub fn new(body: impl Into<String>) -> Self {
        OutgoingMessage {
            body: body.into(),
            delay: None,
            attributes: BTreeMap::new(),
            group_id: None,
            deduplication_id: None,
        }
    }

    /// A message whose body is `value` encoded as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::new(serde_json::to_string(value)?))
    }

    /// Delivers the message only after `delay` (whole seconds, rounded up, at most 15 minutes).
    /// Not allowed on FIFO queues, where the queue's delay applies.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Adds a message attribute (at most 10 per message).
    pub fn attribute(mut self, name: impl Into<String>, value: AttributeValue) -> Self {
        self.attributes.insert(name.into(), value);
        self
    }

    /// The FIFO message group (required on FIFO queues).
    pub fn group_id(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// The FIFO deduplication id (required on FIFO queues without content-based deduplication).
    pub fn deduplication_id(mut self, id: impl Into<String>) -> Self {
        self.deduplication_id = Some(id.into());
        self
    }

    /// The body.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The bytes this message counts for in SQS's size limits.
    fn size(&self) -> usize {
        let attributes: usize = self
            .attributes
            .iter()
            .map(|(name, value)| name.len() + value.wire_size())
            .sum();
        self.body.len() + attributes
    }

    fn sdk_attributes(
        &self,
    ) -> Option<std::collections::HashMap<String, aws_sdk_sqs::types::MessageAttributeValue>> {
        if self.attributes.is_empty() {
            return None;
        }
        let converted = self.attributes.iter();
        Some(converted.map(|(k, v)| (k.clone(), v.to_sdk())).collect())
    }

    fn delay_secs(&self) -> Option<i32> {
        self.delay.map(|d| whole_seconds(d, MAX_DELAY_SECS))
    }
}

impl From<String> for OutgoingMessage {
    fn from(body: String) -> Self {
        OutgoingMessage::new(body)
    }
}

impl From<&str> for OutgoingMessage {
    fn from(body: &str) -> Self {
        OutgoingMessage::new(body)
    }
}

impl QueueClient {
    /// Sends one message and returns its message id.
    ///
    /// # Cancel safety
    ///
    /// Cancelling leaves it unknown whether the message was sent.
    pub async fn send(&self, message: impl Into<OutgoingMessage>) -> Result<String, Error> {
        self.send_to(&self.inner.queue_url, &message.into()).await
    }

    /// Sends one message to another queue of the same account and SDK client.
    pub(crate) async fn send_to(
        &self,
        queue_url: &str,
        message: &OutgoingMessage,
    ) -> Result<String, Error> {
        let output = self
            .inner
            .sdk
            .send_message()
            .queue_url(queue_url)
            .message_body(&message.body)
            .set_delay_seconds(message.delay_secs())
            .set_message_attributes(message.sdk_attributes())
            .set_message_group_id(message.group_id.clone())
            .set_message_deduplication_id(message.deduplication_id.clone())
            .send()
            .await
            .map_err(|err| Error::from_sdk(err, queue_url))?;
        output
            .message_id
            .ok_or_else(|| Error::Malformed("SendMessage returned no message id".to_owned()))
    }

    /// Sends many messages with SendMessageBatch, in as few requests as SQS's limits allow
    /// (10 messages and 1 MiB per request). Returns one result per message, in order: each
    /// message succeeds or fails on its own.
    ///
    /// # Cancel safety
    ///
    /// Cancelling leaves it unknown which of the messages were sent.
    pub async fn send_batch(
        &self,
        messages: impl IntoIterator<Item = OutgoingMessage>,
    ) -> Vec<Result<String, Error>> {
        let messages: Vec<OutgoingMessage> = messages.into_iter().collect();
        let mut results = Vec::with_capacity(messages.len());
        for chunk in chunks(&messages) {
            results.extend(self.send_chunk(chunk).await);
        }
        results
    }

    async fn send_chunk(&self, chunk: &[OutgoingMessage]) -> Vec<Result<String, Error>> {
        let entries = chunk.iter().enumerate().map(|(index, message)| {
            SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(&message.body)
                .set_delay_seconds(message.delay_secs())
                .set_message_attributes(message.sdk_attributes())
                .set_message_group_id(message.group_id.clone())
                .set_message_deduplication_id(message.deduplication_id.clone())
                .build()
                .expect("id and body are set")
        });
        let sent = self
            .inner
            .sdk
            .send_message_batch()
            .queue_url(&self.inner.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await;
        let output = match sent {
            Ok(output) => output,
            Err(err) => return vec![Err(self.error(err)); chunk.len()],
        };

        let mut results =
            vec![Err(Error::Malformed("entry missing from batch result".into())); chunk.len()];
        for ok in output.successful() {
            if let Some(slot) = ok.id().parse().ok().and_then(|i: usize| results.get_mut(i)) {
                *slot = Ok(ok.message_id().to_owned());
            }
        }
        for failed in output.failed() {
            let err = Error::from_code(
                failed.code(),
                failed.message().unwrap_or(""),
                self.queue_url(),
            );
            if let Some(slot) = failed
                .id()
                .parse()
                .ok()
                .and_then(|i: usize| results.get_mut(i))
            {
                *slot = Err(err);
            }
        }
        results
    }
}

/// Splits messages into runs that respect SQS's per-batch limits; a message too large on its
/// own gets a batch to itself, where SQS refuses it without affecting the others.
fn chunks(messages: &[OutgoingMessage]) -> Vec<&[OutgoingMessage]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, message) in messages.iter().enumerate() {
        let size = message.size();
        let full = index - start == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES;
        if full && index > start {
            chunks.push(&messages[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        chunks.push(&messages[start..]);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_ten_messages() {
        let messages: Vec<_> = (0..25)
            .map(|i| OutgoingMessage::new(i.to_string()))
            .collect();
        let sizes: Vec<usize> = chunks(&messages).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
    }

    #[test]
    fn batches_stay_under_one_mebibyte() {
        let big = "x".repeat(400 * 1024);
        let messages: Vec<_> = (0..5).map(|_| OutgoingMessage::new(big.clone())).collect();
        let sizes: Vec<usize> = chunks(&messages).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1]);

        let huge = OutgoingMessage::new("y".repeat(2 * 1024 * 1024));
        let messages = vec![OutgoingMessage::new("a"), huge, OutgoingMessage::new("b")];
        let sizes: Vec<usize> = chunks(&messages).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![1, 1, 1]);
    }
}
