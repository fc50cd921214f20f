//! A stored message, its attributes and checksums, and receipt handles.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};

/// The value of one message attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttributeValue {
    /// String and Number attributes (and their custom-typed variants).
    Text(String),
    /// Binary attributes, as raw bytes.
    Binary(Vec<u8>),
}

/// One message attribute: its full data type (`Number.float`) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageAttribute {
    pub(crate) data_type: String,
    pub(crate) value: AttributeValue,
}

impl MessageAttribute {
    /// Bytes counted against the message size limit: data type and value.
    pub(crate) fn size(&self) -> usize {
        self.data_type.len()
            + match &self.value {
                AttributeValue::Text(s) => s.len(),
                AttributeValue::Binary(b) => b.len(),
            }
    }
}

/// Attributes sorted by name, the order the checksum needs.
pub(crate) type MessageAttributes = BTreeMap<String, MessageAttribute>;

/// Hex MD5 of a message body.
pub(crate) fn md5_of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

/// MD5 of message attributes as SQS computes it, or `None` for no attributes.
///
/// For each attribute in name order: the name, the data type and the value, each prefixed
/// with its 4-byte big-endian length, with one transport byte (1 text, 2 binary) before the
/// value.
pub(crate) fn md5_of_attributes<'a>(
    attributes: impl IntoIterator<Item = (&'a String, &'a MessageAttribute)>,
) -> Option<String> {
    let mut hasher = Md5::new();
    let mut any = false;
    let put = |bytes: &[u8], hasher: &mut Md5| {
        hasher.update((bytes.len() as u32).to_be_bytes());
        hasher.update(bytes);
    };
    for (name, attribute) in attributes {
        any = true;
        put(name.as_bytes(), &mut hasher);
        put(attribute.data_type.as_bytes(), &mut hasher);
        match &attribute.value {
            AttributeValue::Text(s) => {
                hasher.update([1u8]);
                put(s.as_bytes(), &mut hasher);
            }
            AttributeValue::Binary(b) => {
                hasher.update([2u8]);
                put(b, &mut hasher);
            }
        }
    }
    any.then(|| hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// A random version-4 UUID, the form of SQS message ids and request ids.
pub(crate) fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Visibility {
    /// Sent with a delay that has not passed yet.
    Delayed,
    /// Waiting to be received.
    Visible,
    /// Received, and hidden until its visibility timeout passes.
    InFlight,
}

/// System attributes that a sender or the server attaches to a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SystemAttributes {
    pub(crate) sender_id: String,
    pub(crate) aws_trace_header: Option<String>,
    pub(crate) dead_letter_queue_source_arn: Option<String>,
    pub(crate) message_group_id: Option<String>,
    /// The receive count a message had when it was moved into this queue (0 when it was
    /// sent here). Redrive needs one receive in the queue the message is in, so a message
    /// reaching a dead-letter queue that redrives elsewhere is delivered before it moves on,
    /// and queues that name each other as dead-letter queues cannot pass a message back and
    /// forth without end.
    pub(crate) receive_count_at_arrival: u32,
}

/// A message as the engine keeps it.
#[derive(Debug, Clone)]
pub(crate) struct StoredMessage {
    /// Position in the queue; increases with every message the queue takes in.
    pub(crate) seq: u64,
    pub(crate) id: Arc<str>,
    pub(crate) body: Arc<str>,
    pub(crate) body_md5: Arc<str>,
    pub(crate) attributes: Arc<MessageAttributes>,
    pub(crate) system: Arc<SystemAttributes>,
    pub(crate) sent_at: u64,
    pub(crate) first_received_at: Option<u64>,
    pub(crate) received_at: u64,
    pub(crate) receive_count: u32,
    pub(crate) visibility: Visibility,
    /// When a delayed or in-flight message becomes visible.
    pub(crate) visible_at: u64,
    /// Bumped on every visibility change, so stale timer entries can be told apart.
    pub(crate) timer_version: u32,
    /// Random part of the current receipt handle.
    pub(crate) receipt_nonce: u32,
    /// Random, fixed for the message's life: a handle names a message by seq and key, so a
    /// seq used again after a restart never matches an older message's handle.
    pub(crate) key: u32,
}

/// What a receipt handle says: which message, and which receive of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReceiptHandle {
    pub(crate) queue_uid: u64,
    pub(crate) seq: u64,
    pub(crate) key: u32,
    pub(crate) receive_count: u32,
    pub(crate) nonce: u32,
}

const HANDLE_MAGIC: &[u8; 4] = b"sqtl";
const HANDLE_LEN: usize = 4 + 8 + 8 + 4 + 4 + 4;

impl ReceiptHandle {
    pub(crate) fn encode(&self) -> String {
        let mut raw = Vec::with_capacity(HANDLE_LEN);
        raw.extend_from_slice(HANDLE_MAGIC);
        raw.extend_from_slice(&self.queue_uid.to_be_bytes());
        raw.extend_from_slice(&self.seq.to_be_bytes());
        raw.extend_from_slice(&self.key.to_be_bytes());
        raw.extend_from_slice(&self.receive_count.to_be_bytes());
        raw.extend_from_slice(&self.nonce.to_be_bytes());
        BASE64.encode(raw)
    }

    /// Reads a handle; `None` when it is not one this server could have issued.
    pub(crate) fn decode(text: &str) -> Option<Self> {
        let raw = BASE64.decode(text.as_bytes()).ok()?;
        if raw.len() != HANDLE_LEN || &raw[..4] != HANDLE_MAGIC {
            return None;
        }
        let u64_at = |at: usize| u64::from_be_bytes(raw[at..at + 8].try_into().unwrap_or_default());
        let u32_at = |at: usize| u32::from_be_bytes(raw[at..at + 4].try_into().unwrap_or_default());
        let handle = Self {
            queue_uid: u64_at(4),
            seq: u64_at(12),
            key: u32_at(20),
            receive_count: u32_at(24),
            nonce: u32_at(28),
        };
        (handle.receive_count > 0).then_some(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(data_type: &str, value: &str) -> MessageAttribute {
        MessageAttribute {
            data_type: data_type.into(),
            value: AttributeValue::Text(value.into()),
        }
    }

    #[test]
    fn attribute_checksums_match_values_recorded_from_sqs() {
        let one = BTreeMap::from([("Foo".to_string(), text("String", "Bar"))]);
        assert_eq!(
            md5_of_attributes(&one).as_deref(),
            Some("ae7155c6026991b6d54b11589678bf9c")
        );
        let two = BTreeMap::from([("timestamp".to_string(), text("Number", "1493147359900"))]);
        assert_eq!(
            md5_of_attributes(&two).as_deref(),
            Some("235c5c510d26fb653d073faed50ae77c")
        );
        assert_eq!(md5_of_attributes(&BTreeMap::new()), None);
    }

    #[test]
    fn body_checksum_is_hex_md5() {
        assert_eq!(md5_of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn receipt_handles_round_trip_and_reject_garbage() {
        let handle = ReceiptHandle {
            queue_uid: 7,
            seq: 42,
            key: 5,
            receive_count: 3,
            nonce: 99,
        };
        assert_eq!(ReceiptHandle::decode(&handle.encode()), Some(handle));
        assert_eq!(ReceiptHandle::decode("not-a-handle"), None);
        assert_eq!(ReceiptHandle::decode(""), None);
        assert_eq!(
            ReceiptHandle::decode(&BASE64.encode([0u8; HANDLE_LEN])),
            None
        );
    }

    #[test]
    fn uuids_have_version_four_form() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
