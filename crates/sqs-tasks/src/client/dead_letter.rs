//! Moving a message that can never succeed to the queue's dead-letter queue.

use aws_sdk_sqs::types::QueueAttributeName;

use super::builder::resolve_url;
use super::{OutgoingMessage, QueueClient};
use crate::settle::Disposal;
use crate::{AttributeValue, Error, Message};

/// The message attribute that carries the failure reason into the dead-letter queue.
pub const FAILURE_REASON_ATTRIBUTE: &str = "sqs_tasks.failure_reason";

/// The message attribute that carries the original message's id into the dead-letter queue,
/// so a logged id can be found there.
pub const ORIGINAL_MESSAGE_ID_ATTRIBUTE: &str = "sqs_tasks.original_message_id";

/// SQS allows at most this many message attributes.
const MAX_ATTRIBUTES: usize = 10;

/// Reasons are cut to this many bytes: they are for people, and attributes count against the
/// message size limit.
const MAX_REASON_BYTES: usize = 1024;

impl QueueClient {
    /// The URL of the queue's dead-letter queue, from its RedrivePolicy; `None` when it has
    /// none. Looked up once per client and remembered.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a cancelled lookup is simply done again by the next caller.
    pub async fn dead_letter_queue_url(&self) -> Result<Option<String>, Error> {
        let url = self
            .inner
            .dead_letter_url
            .get_or_try_init(|| self.lookup_dead_letter_url())
            .await?;
        Ok(url.clone())
    }

    /// Removes a message that can never succeed: when the queue has a dead-letter queue, a copy
    /// (body, attributes, and `reason` in the attribute [`FAILURE_REASON_ATTRIBUTE`]) is sent
    /// there first; then the message is deleted.
    ///
    /// The copy is a new message: it gets a new id and its receive count starts again. The
    /// original id travels in [`ORIGINAL_MESSAGE_ID_ATTRIBUTE`] when the message has room for
    /// it (SQS allows ten attributes; the reason comes first).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: cancelled between the copy and the delete, the message exists in both
    /// queues and will be received again from its own.
    pub async fn dead_letter(&self, message: &Message, reason: &str) -> Result<Disposal, Error> {
        let disposal = self.copy_to_dead_letter(message, reason).await?;
        QueueClient::ack(self, message).await?;
        Ok(disposal)
    }

    /// The first half of [`QueueClient::dead_letter`]: sends the copy when the queue has a
    /// dead-letter queue, and says where the message goes; the caller deletes it.
    pub(crate) async fn copy_to_dead_letter(
        &self,
        message: &Message,
        reason: &str,
    ) -> Result<Disposal, Error> {
        let Some(queue_url) = self.dead_letter_queue_url().await? else {
            return Ok(Disposal::Deleted);
        };
        self.send_to(&queue_url, &dead_letter_copy(message, reason))
            .await?;
        Ok(Disposal::DeadLettered { queue_url })
    }

    async fn lookup_dead_letter_url(&self) -> Result<Option<String>, Error> {
        let output = self
            .inner
            .sdk
            .get_queue_attributes()
            .queue_url(&self.inner.queue_url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|err| self.error(err))?;
        let policy = output
            .attributes
            .and_then(|mut attributes| attributes.remove(&QueueAttributeName::RedrivePolicy));
        let Some(policy) = policy.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };

        let (account, name) = parse_target_arn(&policy)?;
        let url = resolve_url(&self.inner.sdk, &name, Some(&account)).await?;
        tracing::debug!(queue = %self.inner.queue_url, dead_letter_queue = %url, "found dead-letter queue");
        Ok(Some(url))
    }
}

/// The account and queue name of a RedrivePolicy's `deadLetterTargetArn`
/// (`arn:aws:sqs:<region>:<account>:<name>`).
fn parse_target_arn(policy: &str) -> Result<(String, String), Error> {
    let malformed = || Error::Malformed(format!("unreadable RedrivePolicy {policy}"));
    let value: serde_json::Value = serde_json::from_str(policy).map_err(|_| malformed())?;
    let arn = value["deadLetterTargetArn"]
        .as_str()
        .ok_or_else(malformed)?;
    let mut parts = arn.rsplitn(3, ':');
    let name = parts
        .next()
        .filter(|n| !n.is_empty())
        .ok_or_else(malformed)?;
    let account = parts.next().ok_or_else(malformed)?;
    Ok((account.to_owned(), name.to_owned()))
}

/// The message to send to the dead-letter queue in place of `message`.
fn dead_letter_copy(message: &Message, reason: &str) -> OutgoingMessage {
    let mut copy = OutgoingMessage::new(message.body());
    for (name, value) in message.attributes() {
        copy = copy.attribute(name, value.clone());
    }
    if message.attributes().len() < MAX_ATTRIBUTES {
        let reason = AttributeValue::string(truncate(reason, MAX_REASON_BYTES));
        copy = copy.attribute(FAILURE_REASON_ATTRIBUTE, reason);
    } else {
        tracing::debug!(
            message_id = message.id(),
            "no room for the failure reason among the message's attributes"
        );
    }
    if message.attributes().len() + 2 <= MAX_ATTRIBUTES {
        copy = copy.attribute(
            ORIGINAL_MESSAGE_ID_ATTRIBUTE,
            AttributeValue::string(message.id()),
        );
    }
    if let Some(group) = message.group_id() {
        // A FIFO dead-letter queue needs a group and a deduplication id; the original id makes
        // a repeated move of the same message a duplicate rather than a second copy.
        copy = copy.group_id(group).deduplication_id(message.id());
    }
    copy
}

fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_arn_gives_account_and_name() {
        let policy = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:jobs-dlq","maxReceiveCount":"5"}"#;
        let (account, name) = parse_target_arn(policy).unwrap();
        assert_eq!(
            (account.as_str(), name.as_str()),
            ("123456789012", "jobs-dlq")
        );
        assert!(parse_target_arn(r#"{"maxReceiveCount":5}"#).is_err());
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
