//! Text forms of the parts of a queue or message that a store keeps as one column.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::StoreError;
use crate::engine::attributes::QueueAttributes;
use crate::engine::message::{
    AttributeValue, MessageAttribute, MessageAttributes, SystemAttributes,
};

/// Settable queue attributes, by their SQS names.
const QUEUE_ATTRIBUTES: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "Policy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

fn corrupt(what: &str) -> StoreError {
    StoreError(format!("stored {what} cannot be read"))
}

pub(crate) fn encode_queue_attributes(attributes: &QueueAttributes) -> String {
    let map: BTreeMap<&str, String> = QUEUE_ATTRIBUTES
        .iter()
        .filter_map(|name| Some((*name, attributes.get(name)?)))
        .collect();
    json!(map).to_string()
}

pub(crate) fn decode_queue_attributes(text: &str) -> Result<QueueAttributes, StoreError> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(text).map_err(|_| corrupt("queue attributes"))?;
    QueueAttributes::from_request(&map).map_err(|_| corrupt("queue attributes"))
}

pub(crate) fn encode_tags(tags: &BTreeMap<String, String>) -> String {
    json!(tags).to_string()
}

pub(crate) fn decode_tags(text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt("queue tags"))
}

/// `{"name": ["Type", "s", "text"] | ["Type", "b", "base64"]}`, or `None` without attributes.
pub(crate) fn encode_message_attributes(attributes: &MessageAttributes) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let map: Map<String, Value> = attributes
        .iter()
        .map(|(name, attribute)| {
            let value = match &attribute.value {
                AttributeValue::Text(text) => json!([attribute.data_type, "s", text]),
                AttributeValue::Binary(bytes) => {
                    json!([attribute.data_type, "b", BASE64.encode(bytes)])
                }
            };
            (name.clone(), value)
        })
        .collect();
    Some(Value::Object(map).to_string())
}

pub(crate) fn decode_message_attributes(
    text: Option<&str>,
) -> Result<MessageAttributes, StoreError> {
    let Some(text) = text else {
        return Ok(BTreeMap::new());
    };
    let map: BTreeMap<String, (String, String, String)> =
        serde_json::from_str(text).map_err(|_| corrupt("message attributes"))?;
    map.into_iter()
        .map(|(name, (data_type, kind, value))| {
            let value = match kind.as_str() {
                "s" => AttributeValue::Text(value),
                "b" => AttributeValue::Binary(
                    BASE64
                        .decode(value)
                        .map_err(|_| corrupt("binary attribute"))?,
                ),
                _ => return Err(corrupt("message attributes")),
            };
            Ok((name, MessageAttribute { data_type, value }))
        })
        .collect()
}

pub(crate) fn encode_system(system: &SystemAttributes) -> String {
    json!({
        "sender": system.sender_id,
        "trace": system.aws_trace_header,
        "source": system.dead_letter_queue_source_arn,
        "group": system.message_group_id,
        "arrival": system.receive_count_at_arrival,
    })
    .to_string()
}

pub(crate) fn decode_system(text: &str) -> Result<SystemAttributes, StoreError> {
    let value: Value = serde_json::from_str(text).map_err(|_| corrupt("system attributes"))?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(SystemAttributes {
        sender_id: text("sender").unwrap_or_default(),
        aws_trace_header: text("trace"),
        dead_letter_queue_source_arn: text("source"),
        message_group_id: text("group"),
        receive_count_at_arrival: value.get("arrival").and_then(Value::as_u64).unwrap_or(0) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_attributes_round_trip() {
        let attributes = BTreeMap::from([
            (
                "a".to_string(),
                MessageAttribute {
                    data_type: "Number.int".into(),
                    value: AttributeValue::Text("12".into()),
                },
            ),
            (
                "b".to_string(),
                MessageAttribute {
                    data_type: "Binary".into(),
                    value: AttributeValue::Binary(vec![0, 255]),
                },
            ),
        ]);
        let text = encode_message_attributes(&attributes);
        assert_eq!(
            decode_message_attributes(text.as_deref()).unwrap(),
            attributes
        );
        assert_eq!(encode_message_attributes(&BTreeMap::new()), None);
    }

    #[test]
    fn queue_attributes_round_trip() {
        let mut attributes = QueueAttributes::default();
        attributes.set("VisibilityTimeout", "77").unwrap();
        attributes
            .set("Policy", r#"{"Version":"2012-10-17"}"#)
            .unwrap();
        let decoded = decode_queue_attributes(&encode_queue_attributes(&attributes)).unwrap();
        assert_eq!(decoded, attributes);
    }
}
