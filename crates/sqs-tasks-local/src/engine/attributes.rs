//! Queue attributes: defaults, validation, and their string form on the wire.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{ErrorCode, SqsError};

/// The longest a message may stay invisible after one receive: 12 hours, in seconds.
pub(crate) const MAX_VISIBILITY_SECONDS: u64 = 43_200;

/// A dead-letter target and how many receives a message gets before it is moved there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedrivePolicy {
    pub(crate) dead_letter_target_arn: String,
    pub(crate) max_receive_count: u32,
}

impl RedrivePolicy {
    fn to_json(&self) -> String {
        serde_json::json!({
            "deadLetterTargetArn": self.dead_letter_target_arn,
            "maxReceiveCount": self.max_receive_count,
        })
        .to_string()
    }
}

/// The settable attributes of a queue, each with its value or default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueueAttributes {
    pub(crate) delay_seconds: u32,
    pub(crate) maximum_message_size: u32,
    pub(crate) message_retention_period: u32,
    pub(crate) receive_message_wait_time_seconds: u32,
    pub(crate) visibility_timeout: u32,
    pub(crate) redrive_policy: Option<RedrivePolicy>,
    /// Kept as sent.
    pub(crate) redrive_allow_policy: Option<String>,
    pub(crate) policy: Option<String>,
    /// Encryption settings have no effect here; they are stored so that clients that set
    /// them read back what they wrote.
    pub(crate) kms_master_key_id: Option<String>,
    pub(crate) kms_data_key_reuse_period_seconds: Option<u32>,
    pub(crate) sqs_managed_sse_enabled: bool,
}

impl Default for QueueAttributes {
    fn default() -> Self {
        Self {
            delay_seconds: 0,
            maximum_message_size: 1_048_576,
            message_retention_period: 345_600,
            receive_message_wait_time_seconds: 0,
            visibility_timeout: 30,
            redrive_policy: None,
            redrive_allow_policy: None,
            policy: None,
            kms_master_key_id: None,
            kms_data_key_reuse_period_seconds: None,
            sqs_managed_sse_enabled: true,
        }
    }
}

/// Names GetQueueAttributes accepts, besides `All`.
pub(crate) const READABLE: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "DelaySeconds",
    "LastModifiedTimestamp",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "QueueArn",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

fn invalid_value(name: &str) -> SqsError {
    SqsError::new(
        ErrorCode::InvalidAttributeValue,
        format!("Invalid value for the parameter {name}."),
    )
}

fn unknown(name: &str) -> SqsError {
    SqsError::new(
        ErrorCode::InvalidAttributeName,
        format!("Unknown Attribute {name}."),
    )
}

fn integer_in(name: &str, value: &str, min: u32, max: u32) -> Result<u32, SqsError> {
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid_value(name)),
    }
}

/// Parses an optional JSON document attribute; an empty string clears it.
fn json_document(name: &str, value: &str) -> Result<Option<Value>, SqsError> {
    if value.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(value) {
        Ok(doc @ Value::Object(_)) => Ok(Some(doc)),
        _ => Err(invalid_value(name)),
    }
}

fn parse_redrive_policy(value: &str) -> Result<Option<RedrivePolicy>, SqsError> {
    let Some(doc) = json_document("RedrivePolicy", value)? else {
        return Ok(None);
    };
    let reason = |why: &str| SqsError::invalid_value(value, "RedrivePolicy", why);
    let arn = doc
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            reason("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
        })?;
    // SQS accepts the count as a JSON number or as a string of digits.
    let count = match doc.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        None => {
            return Err(reason(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ));
        }
        _ => None,
    };
    let max_receive_count = match count {
        Some(n @ 1..=1000) => n as u32,
        _ => {
            return Err(reason(
                "Invalid value for maxReceiveCount: must be between 1 and 1000.",
            ));
        }
    };
    Ok(Some(RedrivePolicy {
        dead_letter_target_arn: arn.to_owned(),
        max_receive_count,
    }))
}

fn parse_redrive_allow_policy(value: &str) -> Result<Option<String>, SqsError> {
    let Some(doc) = json_document("RedriveAllowPolicy", value)? else {
        return Ok(None);
    };
    let reason = |why: &str| SqsError::invalid_value(value, "RedriveAllowPolicy", why);
    let permission = doc.get("redrivePermission").and_then(Value::as_str);
    let sources = doc.get("sourceQueueArns");
    match (permission, sources) {
        (Some("allowAll" | "denyAll"), None) => {}
        (Some("byQueue"), Some(Value::Array(arns))) if (1..=10).contains(&arns.len()) => {}
        (Some("byQueue"), _) => {
            return Err(reason(
                "Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format. byQueue needs 1 to 10 sourceQueueArns.",
            ));
        }
        (Some("allowAll" | "denyAll"), Some(_)) => {
            return Err(reason(
                "Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format. sourceQueueArns is allowed only with byQueue.",
            ));
        }
        _ => {
            return Err(reason(
                "Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format. redrivePermission must be allowAll, denyAll or byQueue.",
            ));
        }
    }
    Ok(Some(value.to_owned()))
}

impl QueueAttributes {
    /// Applies one attribute as sent by CreateQueue or SetQueueAttributes.
    pub(crate) fn set(&mut self, name: &str, value: &str) -> Result<(), SqsError> {
        match name {
            "DelaySeconds" => self.delay_seconds = integer_in(name, value, 0, 900)?,
            "MaximumMessageSize" => {
                self.maximum_message_size = integer_in(name, value, 1024, 1_048_576)?;
            }
            "MessageRetentionPeriod" => {
                self.message_retention_period = integer_in(name, value, 60, 1_209_600)?;
            }
            "ReceiveMessageWaitTimeSeconds" => {
                self.receive_message_wait_time_seconds = integer_in(name, value, 0, 20)?;
            }
            "VisibilityTimeout" => {
                self.visibility_timeout =
                    integer_in(name, value, 0, MAX_VISIBILITY_SECONDS as u32)?;
            }
            "RedrivePolicy" => self.redrive_policy = parse_redrive_policy(value)?,
            "RedriveAllowPolicy" => self.redrive_allow_policy = parse_redrive_allow_policy(value)?,
            // Kept as sent, as SQS returns it.
            "Policy" => self.policy = json_document(name, value)?.map(|_| value.to_owned()),
            "KmsMasterKeyId" => {
                self.kms_master_key_id = (!value.is_empty()).then(|| value.to_owned());
            }
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_data_key_reuse_period_seconds = Some(integer_in(name, value, 60, 86_400)?);
            }
            "SqsManagedSseEnabled" => {
                self.sqs_managed_sse_enabled = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid_value(name)),
                };
            }
            // FIFO attributes, and read-only ones, are unknown names on a standard queue.
            _ => return Err(unknown(name)),
        }
        Ok(())
    }

    /// The wire form of a settable attribute, or `None` when it has no value.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        match name {
            "DelaySeconds" => Some(self.delay_seconds.to_string()),
            "MaximumMessageSize" => Some(self.maximum_message_size.to_string()),
            "MessageRetentionPeriod" => Some(self.message_retention_period.to_string()),
            "ReceiveMessageWaitTimeSeconds" => {
                Some(self.receive_message_wait_time_seconds.to_string())
            }
            "VisibilityTimeout" => Some(self.visibility_timeout.to_string()),
            "RedrivePolicy" => self.redrive_policy.as_ref().map(RedrivePolicy::to_json),
            "RedriveAllowPolicy" => self.redrive_allow_policy.clone(),
            "Policy" => self.policy.clone(),
            "KmsMasterKeyId" => self.kms_master_key_id.clone(),
            "KmsDataKeyReusePeriodSeconds" => self
                .kms_data_key_reuse_period_seconds
                .map(|n| n.to_string()),
            "SqsManagedSseEnabled" => Some(self.sqs_managed_sse_enabled.to_string()),
            _ => None,
        }
    }

    /// Builds attributes from a CreateQueue request, checking each one.
    pub(crate) fn from_request(requested: &BTreeMap<String, String>) -> Result<Self, SqsError> {
        let mut attributes = Self::default();
        for (name, value) in requested {
            attributes.set(name, value)?;
        }
        Ok(attributes)
    }

    /// The first requested attribute whose value differs from this queue's, for CreateQueue's
    /// idempotency check.
    pub(crate) fn first_difference<'a>(
        &self,
        requested: &'a BTreeMap<String, String>,
    ) -> Option<&'a str> {
        let wanted = Self::from_request(requested).ok()?;
        requested
            .keys()
            .find(|name| wanted.get(name) != self.get(name))
            .map(String::as_str)
    }
}
