//! Building a [`Message`] by hand, for tests of handlers and lifecycles without a queue.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use super::{AttributeValue, Inner, Message};

/// Builds a [`Message`] that was not received from SQS; made by [`Message::builder`].
///
/// ```
/// let message = sqs_tasks::Message::builder("id-1", "{\"n\": 1}").receive_count(3).build();
/// assert_eq!(message.receive_count(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    id: String,
    body: String,
    receipt_handle: String,
    receive_count: u32,
    sent_at: Option<SystemTime>,
    received_at: Option<Instant>,
    attributes: BTreeMap<String, AttributeValue>,
}

impl Message {
    /// Starts building a message by hand. Its receipt handle is its id unless set, so settling
    /// it against a real queue fails: it is meant for tests.
    pub fn builder(id: impl Into<String>, body: impl Into<String>) -> MessageBuilder {
        let id = id.into();
        MessageBuilder {
            receipt_handle: id.clone(),
            id,
            body: body.into(),
            receive_count: 1,
            sent_at: None,
            received_at: None,
            attributes: BTreeMap::new(),
        }
    }
}

impl MessageBuilder {
    /// The receipt handle.
    pub fn receipt_handle(mut self, handle: impl Into<String>) -> Self {
        self.receipt_handle = handle.into();
        self
    }

    /// The receive count (default 1).
    pub fn receive_count(mut self, count: u32) -> Self {
        self.receive_count = count;
        self
    }

    /// The send time.
    pub fn sent_at(mut self, at: SystemTime) -> Self {
        self.sent_at = Some(at);
        self
    }

    /// The local receive instant (default: when [`build`](Self::build) is called).
    pub fn received_at(mut self, at: Instant) -> Self {
        self.received_at = Some(at);
        self
    }

    /// Adds a message attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: AttributeValue) -> Self {
        self.attributes.insert(name.into(), value);
        self
    }

    /// The message.
    pub fn build(self) -> Message {
        Message {
            inner: Arc::new(Inner {
                id: self.id,
                body: self.body,
                receipt_handle: self.receipt_handle,
                receive_count: self.receive_count,
                sent_at: self.sent_at,
                first_received_at: None,
                received_at: self.received_at.unwrap_or_else(Instant::now),
                attributes: self.attributes,
                system_attributes: BTreeMap::new(),
            }),
        }
    }
}
