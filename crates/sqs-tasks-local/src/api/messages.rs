//! Actions on messages: send, receive, delete, change visibility, one by one and in batches.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::{Context, batch_failure, validate};
use crate::engine::ReceiveRequest;
use crate::engine::message::{
    AttributeValue, MessageAttribute, StoredMessage, SystemAttributes, md5_of_attributes,
};
use crate::engine::queue::{NewMessage, Queue, ReceivedMessage};
use crate::error::{ErrorCode, SqsError};
use crate::protocol::params::Params;
use crate::store::Commit;

/// A validated message, with the checksums the sender gets back.
struct Outgoing {
    message: NewMessage,
    attributes_md5: Option<String>,
    system_md5: Option<String>,
    size: usize,
}

fn outgoing(cx: &Context<'_>, params: &Params, max_size: u32) -> Result<Outgoing, SqsError> {
    let body = params.str("MessageBody")?;
    validate::body(body)?;
    let attributes = validate::message_attributes(params)?;
    let delay_seconds = validate::in_range(
        params.opt_int("DelaySeconds")?,
        "DelaySeconds",
        0,
        900,
        "DelaySeconds must be >= 0 and <= 900.",
    )?;
    let aws_trace_header = validate::trace_header(params)?;
    if let Some(id) = params.opt_str("MessageDeduplicationId")? {
        return Err(SqsError::invalid_value(
            id,
            "MessageDeduplicationId",
            "The request includes a parameter that is not valid for this queue type.",
        ));
    }
    let message_group_id = params.opt_str("MessageGroupId")?.map(str::to_owned);
    if let Some(group) = &message_group_id {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c.is_ascii_punctuation();
        if group.is_empty() || group.len() > 128 || !group.chars().all(allowed) {
            return Err(SqsError::invalid_value(
                group,
                "MessageGroupId",
                "MessageGroupId can contain up to 128 alphanumeric and punctuation characters.",
            ));
        }
    }

    let size = validate::message_size(body, &attributes);
    if size > max_size as usize {
        return Err(SqsError::invalid_parameters(&format!(
            "Message must be shorter than {max_size} bytes."
        )));
    }
    let attributes_md5 = md5_of_attributes(&attributes);
    let system_md5 = aws_trace_header.as_ref().and_then(|trace| {
        let attribute = MessageAttribute {
            data_type: "String".into(),
            value: AttributeValue::Text(trace.clone()),
        };
        md5_of_attributes([(&"AWSTraceHeader".to_string(), &attribute)])
    });
    let system = SystemAttributes {
        sender_id: cx.sender_id.clone(),
        aws_trace_header,
        dead_letter_queue_source_arn: None,
        receive_count_at_arrival: 0,
        message_group_id,
    };
    Ok(Outgoing {
        message: NewMessage {
            body: Arc::from(body),
            attributes,
            delay_seconds: delay_seconds.map(|d| d as u32),
            system,
        },
        attributes_md5,
        system_md5,
        size,
    })
}

fn sent_fields(
    result: &mut Map<String, Value>,
    id: &str,
    body_md5: &str,
    outgoing_md5s: (Option<String>, Option<String>),
) {
    result.insert("MessageId".into(), json!(id));
    result.insert("MD5OfMessageBody".into(), json!(body_md5));
    if let Some(md5) = outgoing_md5s.0 {
        result.insert("MD5OfMessageAttributes".into(), json!(md5));
    }
    if let Some(md5) = outgoing_md5s.1 {
        result.insert("MD5OfMessageSystemAttributes".into(), json!(md5));
    }
}

fn max_message_size(queue: &Queue) -> u32 {
    queue.lock().attributes.maximum_message_size
}

pub(super) async fn send_message(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let out = outgoing(cx, params, max_message_size(&queue))?;
    let md5s = (out.attributes_md5, out.system_md5);
    let (sent, commit) = queue.send(vec![out.message], cx.engine.now());
    commit.wait().await?;
    let mut result = Map::new();
    if let Some(sent) = sent.first() {
        sent_fields(&mut result, &sent.id, &sent.body_md5, md5s);
    }
    Ok(Value::Object(result))
}

pub(super) async fn send_message_batch(
    cx: &Context<'_>,
    params: &Params,
) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let entries = params.entries("Entries")?;
    validate::batch_entries(&entries, "SendMessageBatchRequestEntry")?;
    let max_size = max_message_size(&queue);

    // Validate every entry first: the batch's total size decides whether any is sent.
    let mut valid = Vec::new();
    let mut failed = Vec::new();
    let mut total = 0;
    for entry in &entries {
        let id = entry.str("Id")?;
        match outgoing(cx, entry, max_size) {
            Ok(out) => {
                total += out.size;
                valid.push((id, out));
            }
            Err(e) if e.code == ErrorCode::Serialization => return Err(e),
            Err(e) => {
                total += validate::raw_message_size(entry);
                failed.push(batch_failure(id, &e));
            }
        }
    }
    if total > validate::MAX_MESSAGE_BYTES {
        return Err(SqsError::new(
            ErrorCode::BatchRequestTooLong,
            format!(
                "Batch requests cannot be longer than {} bytes. You have sent {total} bytes.",
                validate::MAX_MESSAGE_BYTES
            ),
        ));
    }

    let (ids, outs): (Vec<_>, Vec<_>) = valid.into_iter().unzip();
    let (messages, md5s): (Vec<_>, Vec<_>) = outs
        .into_iter()
        .map(|out| (out.message, (out.attributes_md5, out.system_md5)))
        .unzip();
    let (sent, commit) = queue.send(messages, cx.engine.now());
    commit.wait().await?;
    let successful: Vec<Value> = ids
        .into_iter()
        .zip(sent)
        .zip(md5s)
        .map(|((id, sent), md5s)| {
            let mut entry = Map::new();
            entry.insert("Id".into(), json!(id));
            sent_fields(&mut entry, &sent.id, &sent.body_md5, md5s);
            Value::Object(entry)
        })
        .collect();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

/// Which attributes a receive asked to see.
struct Selection {
    system_all: bool,
    system: Vec<String>,
    user: Vec<String>,
}

const SYSTEM_ATTRIBUTES: &[&str] = &[
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
];

impl Selection {
    fn from(params: &Params) -> Result<Self, SqsError> {
        let mut system = params.opt_str_list("AttributeNames")?.unwrap_or_default();
        system.extend(
            params
                .opt_str_list("MessageSystemAttributeNames")?
                .unwrap_or_default(),
        );
        for name in &system {
            if *name != "All" && !SYSTEM_ATTRIBUTES.contains(name) {
                return Err(SqsError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ));
            }
        }
        let user = params
            .opt_str_list("MessageAttributeNames")?
            .unwrap_or_default();
        Ok(Self {
            system_all: system.contains(&"All"),
            system: system.into_iter().map(str::to_owned).collect(),
            user: user.into_iter().map(str::to_owned).collect(),
        })
    }

    fn wants_system(&self, name: &str) -> bool {
        self.system_all || self.system.iter().any(|n| n == name)
    }

    fn wants_user(&self, name: &str) -> bool {
        self.user.iter().any(|pattern| match pattern.as_str() {
            "All" | ".*" => true,
            p => match p.strip_suffix(".*") {
                Some(prefix) => name.starts_with(prefix) && name[prefix.len()..].starts_with('.'),
                None => p == name,
            },
        })
    }
}

fn render_received(received: &ReceivedMessage, selection: &Selection) -> Value {
    let message: &StoredMessage = &received.message;
    let mut out = Map::new();
    out.insert("MessageId".into(), json!(&*message.id));
    out.insert("ReceiptHandle".into(), json!(received.receipt_handle));
    out.insert("MD5OfBody".into(), json!(&*message.body_md5));
    out.insert("Body".into(), json!(&*message.body));

    let system = &message.system;
    let mut attributes = BTreeMap::new();
    let mut put = |name: &'static str, value: Option<String>| {
        if let Some(value) = value
            && selection.wants_system(name)
        {
            attributes.insert(name, value);
        }
    };
    put("SenderId", Some(system.sender_id.clone()));
    put("SentTimestamp", Some(message.sent_at.to_string()));
    put(
        "ApproximateReceiveCount",
        Some(message.receive_count.to_string()),
    );
    put(
        "ApproximateFirstReceiveTimestamp",
        message.first_received_at.map(|t| t.to_string()),
    );
    put("AWSTraceHeader", system.aws_trace_header.clone());
    put(
        "DeadLetterQueueSourceArn",
        system.dead_letter_queue_source_arn.clone(),
    );
    put("MessageGroupId", system.message_group_id.clone());
    if !attributes.is_empty() {
        out.insert("Attributes".into(), json!(attributes));
    }

    let chosen: Vec<(&String, &MessageAttribute)> = message
        .attributes
        .iter()
        .filter(|(name, _)| selection.wants_user(name))
        .collect();
    if let Some(md5) = md5_of_attributes(chosen.iter().copied()) {
        out.insert("MD5OfMessageAttributes".into(), json!(md5));
        let rendered: Map<String, Value> = chosen
            .into_iter()
            .map(|(name, attribute)| {
                let value = match &attribute.value {
                    AttributeValue::Text(text) => {
                        json!({ "DataType": attribute.data_type, "StringValue": text })
                    }
                    AttributeValue::Binary(bytes) => {
                        json!({ "DataType": attribute.data_type, "BinaryValue": BASE64.encode(bytes) })
                    }
                };
                (name.clone(), value)
            })
            .collect();
        out.insert("MessageAttributes".into(), Value::Object(rendered));
    }
    Value::Object(out)
}

pub(super) async fn receive_message(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let max_messages = validate::in_range(
        params.opt_int("MaxNumberOfMessages")?,
        "MaxNumberOfMessages",
        1,
        10,
        "Must be between 1 and 10, if provided.",
    )?;
    let visibility_seconds = validate::in_range(
        params.opt_int("VisibilityTimeout")?,
        "VisibilityTimeout",
        0,
        43_200,
        "Must be between 0 and 43200, if provided.",
    )?;
    let wait_seconds = validate::in_range(
        params.opt_int("WaitTimeSeconds")?,
        "WaitTimeSeconds",
        0,
        20,
        "Must be >= 0 and <= 20, if provided.",
    )?;
    let selection = Selection::from(params)?;
    params.opt_str("ReceiveRequestAttemptId")?;

    let request = ReceiveRequest {
        max_messages: max_messages.unwrap_or(1) as usize,
        visibility_seconds,
        wait_seconds,
    };
    let received = cx.engine.receive(&queue, request).await?;
    if received.is_empty() {
        return Ok(json!({}));
    }
    let messages: Vec<Value> = received
        .iter()
        .map(|r| render_received(r, &selection))
        .collect();
    Ok(json!({ "Messages": messages }))
}

pub(super) async fn delete_message(cx: &Context<'_>, params: &Params) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    queue.delete(params.str("ReceiptHandle")?)?.wait().await?;
    Ok(json!({}))
}

/// Applies `settle` to each entry of a batch of receipt handles, then waits for the
/// commits of those that succeeded.
async fn settle_batch(
    params: &Params,
    entry_shape: &str,
    settle: impl Fn(&Params) -> Result<Commit, SqsError>,
) -> Result<Value, SqsError> {
    let entries = params.entries("Entries")?;
    validate::batch_entries(&entries, entry_shape)?;
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    let mut commits = Vec::new();
    for entry in &entries {
        let id = entry.str("Id")?;
        match settle(entry) {
            Ok(commit) => {
                commits.push(commit);
                successful.push(json!({ "Id": id }));
            }
            Err(e) => failed.push(batch_failure(id, &e)),
        }
    }
    for commit in commits {
        commit.wait().await?;
    }
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

pub(super) async fn delete_message_batch(
    cx: &Context<'_>,
    params: &Params,
) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    settle_batch(params, "DeleteMessageBatchRequestEntry", |entry| {
        queue.delete(entry.str("ReceiptHandle")?)
    })
    .await
}

fn visibility_timeout(params: &Params) -> Result<u64, SqsError> {
    let timeout = params.int("VisibilityTimeout")?;
    validate::in_range(
        Some(timeout),
        "VisibilityTimeout",
        0,
        43_200,
        "Must be between 0 and 43200, if provided.",
    )
    .map(|t| t.unwrap_or_default())
}

pub(super) async fn change_message_visibility(
    cx: &Context<'_>,
    params: &Params,
) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let handle = params.str("ReceiptHandle")?;
    let timeout = visibility_timeout(params)?;
    queue
        .change_visibility(handle, timeout, cx.engine.now())?
        .wait()
        .await?;
    Ok(json!({}))
}

pub(super) async fn change_message_visibility_batch(
    cx: &Context<'_>,
    params: &Params,
) -> Result<Value, SqsError> {
    let queue = cx.queue(params)?;
    let now = cx.engine.now();
    settle_batch(
        params,
        "ChangeMessageVisibilityBatchRequestEntry",
        |entry| {
            let handle = entry.str("ReceiptHandle")?;
            queue.change_visibility(handle, visibility_timeout(entry)?, now)
        },
    )
    .await
}
