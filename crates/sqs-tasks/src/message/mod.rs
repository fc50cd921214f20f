//! The received message, as this crate presents it.

mod attribute;
mod builder;
mod convert;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use tokio::time::Instant;

pub use attribute::AttributeValue;
pub use builder::MessageBuilder;

/// A message received from a queue.
///
/// Cloning is cheap (the contents are shared), so a handler can own its copy while the
/// lifecycle keeps another to settle the message with.
#[derive(Debug, Clone)]
pub struct Message {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: String,
    body: String,
    receipt_handle: String,
    receive_count: u32,
    sent_at: Option<SystemTime>,
    first_received_at: Option<SystemTime>,
    received_at: Instant,
    attributes: BTreeMap<String, AttributeValue>,
    system_attributes: BTreeMap<String, String>,
}

impl Message {
    /// The message id SQS assigned when it was sent.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The body as text.
    ///
    /// Bodies may hold user data: this crate never logs them above trace level.
    pub fn body(&self) -> &str {
        &self.inner.body
    }

    /// Decodes the body as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.inner.body)
    }

    /// The receipt handle of this receive: what settles the message.
    pub fn receipt_handle(&self) -> &str {
        &self.inner.receipt_handle
    }

    /// How many times the message was received, this receive included (1 the first time).
    pub fn receive_count(&self) -> u32 {
        self.inner.receive_count
    }

    /// When the message was sent, by SQS's clock.
    pub fn sent_at(&self) -> Option<SystemTime> {
        self.inner.sent_at
    }

    /// When the message was first received, by SQS's clock.
    pub fn first_received_at(&self) -> Option<SystemTime> {
        self.inner.first_received_at
    }

    /// The moment, by this process's clock, just before the receive request that delivered
    /// the message was sent: never later than SQS's own receive time, so limits that SQS counts
    /// from the receive (visibility at most 12 hours) can be planned from it safely.
    pub fn received_at(&self) -> Instant {
        self.inner.received_at
    }

    /// The FIFO message group, for messages of FIFO queues.
    pub fn group_id(&self) -> Option<&str> {
        self.system_attribute("MessageGroupId")
    }

    /// The message attributes, by name.
    pub fn attributes(&self) -> &BTreeMap<String, AttributeValue> {
        &self.inner.attributes
    }

    /// One message attribute.
    pub fn attribute(&self, name: &str) -> Option<&AttributeValue> {
        self.inner.attributes.get(name)
    }

    /// A system attribute exactly as SQS returned it (`SequenceNumber`, `SenderId`,
    /// `MessageDeduplicationId`, `AWSTraceHeader`...).
    pub fn system_attribute(&self, name: &str) -> Option<&str> {
        self.inner.system_attributes.get(name).map(String::as_str)
    }
}
