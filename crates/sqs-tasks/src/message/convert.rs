//! Building a [`Message`] from the SDK's representation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::{AttributeValue, Inner, Message};
use crate::Error;

impl Message {
    /// Converts one received SDK message; `received_at` is the instant before the receive call.
    pub(crate) fn from_sdk(
        message: aws_sdk_sqs::types::Message,
        received_at: Instant,
    ) -> Result<Message, Error> {
        let missing = |field: &str| Error::Malformed(format!("received message without {field}"));
        let id = message.message_id.ok_or_else(|| missing("a message id"))?;
        let receipt_handle = message
            .receipt_handle
            .ok_or_else(|| missing("a receipt handle"))?;

        let system_attributes: BTreeMap<String, String> = message
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name.as_str().to_owned(), value))
            .collect();
        let attributes = message
            .message_attributes
            .unwrap_or_default()
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), AttributeValue::from_sdk(value)?)))
            .collect();

        let epoch_ms = |name: &str| {
            let ms: u64 = system_attributes.get(name)?.parse().ok()?;
            Some(UNIX_EPOCH + Duration::from_millis(ms))
        };
        let sent_at: Option<SystemTime> = epoch_ms("SentTimestamp");
        let first_received_at = epoch_ms("ApproximateFirstReceiveTimestamp");
        let receive_count = system_attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);

        Ok(Message {
            inner: Arc::new(Inner {
                id,
                body: message.body.unwrap_or_default(),
                receipt_handle,
                receive_count,
                sent_at,
                first_received_at,
                received_at,
                attributes,
                system_attributes,
            }),
        })
    }
}
