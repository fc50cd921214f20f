//! Checks shared by several actions: names, ids, bodies, message attributes, batches.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use crate::engine::message::{AttributeValue, MessageAttribute, MessageAttributes};
use crate::error::{ErrorCode, SqsError};
use crate::protocol::params::{MAX_BATCH_ENTRIES, Params};

/// The largest message and the largest batch, in bytes.
pub(crate) const MAX_MESSAGE_BYTES: usize = 1_048_576;
const MAX_MESSAGE_ATTRIBUTES: usize = 10;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

pub(crate) fn queue_name(name: &str) -> Result<(), SqsError> {
    if name.ends_with(".fifo") {
        // FIFO queues (group ordering, deduplication, receive attempt ids) are not built yet;
        // refusing them clearly beats serving them with standard-queue semantics.
        return Err(SqsError::new(
            ErrorCode::UnsupportedOperation,
            "FIFO queues are not supported by this server yet.",
        ));
    }
    if name.is_empty() || name.len() > 80 || !name.chars().all(is_name_char) {
        return Err(SqsError::new(
            ErrorCode::InvalidParameterValue,
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    Ok(())
}

/// Checks a batch's size and entry ids, before any entry is looked at.
pub(crate) fn batch_entries(entries: &[Params], entry_shape: &str) -> Result<(), SqsError> {
    if entries.is_empty() {
        return Err(SqsError::new(
            ErrorCode::EmptyBatchRequest,
            format!("There should be at least one {entry_shape} in the request."),
        ));
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(SqsError::new(
            ErrorCode::TooManyEntriesInBatchRequest,
            format!(
                "Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {}.",
                entries.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for entry in entries {
        let id = entry.str("Id")?;
        if id.is_empty() || id.len() > 80 || !id.chars().all(is_name_char) {
            return Err(SqsError::new(
                ErrorCode::InvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(id) {
            return Err(SqsError::new(
                ErrorCode::BatchEntryIdsNotDistinct,
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(())
}

/// Checks that a body has only the characters SQS allows.
pub(crate) fn body(body: &str) -> Result<(), SqsError> {
    if body.is_empty() {
        return Err(SqsError::missing("MessageBody"));
    }
    if let Some(bad) = first_disallowed(body) {
        return Err(SqsError::new(
            ErrorCode::InvalidMessageContents,
            format!(
                "Invalid binary character '#x{:X}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                bad as u32
            ),
        ));
    }
    Ok(())
}

/// The first character outside SQS's allowed set.
///
/// A Rust string cannot hold surrogates, so besides ASCII control characters only U+FFFE
/// and U+FFFF are refused. Both encode as `EF BF BE`/`EF BF BF`, so a scan of bytes finds
/// every refusal without decoding characters, which matters for megabyte bodies.
fn first_disallowed(text: &str) -> Option<char> {
    let bytes = text.as_bytes();
    let suspect = bytes
        .iter()
        .position(|&b| (b < 0x20 && !matches!(b, 9 | 10 | 13)) || b == 0xEF)?;
    text[suspect..].chars().find(|&c| {
        !(matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}')
    })
}

fn attribute_name(name: &str, kind: &str) -> Result<(), SqsError> {
    let invalid = |why: &str| {
        SqsError::new(
            ErrorCode::InvalidParameterValue,
            format!("Message ({kind}) attribute name '{name}' is invalid. {why}"),
        )
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || name.len() > 256 || !name.chars().all(allowed) {
        return Err(invalid(
            "Attribute names can contain only A-Z, a-z, 0-9, underscore, hyphen and period, up to 256 characters.",
        ));
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err(invalid(
            "Attribute names cannot start or end with a period, or contain two periods in a row.",
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.") || lower.starts_with("amazon.") {
        return Err(invalid("The prefixes AWS. and Amazon. are reserved."));
    }
    Ok(())
}

fn attribute_value(
    name: &str,
    kind: &str,
    shape: &Map<String, Value>,
) -> Result<MessageAttribute, SqsError> {
    let invalid = |message: String| SqsError::new(ErrorCode::InvalidParameterValue, message);
    let field = |key: &str| match shape.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(SqsError::new(
            ErrorCode::Serialization,
            format!("Member {key} of message attribute '{name}' must be a string."),
        )),
    };
    let data_type = field("DataType")?.unwrap_or_default();
    if data_type.is_empty() {
        return Err(invalid(format!(
            "The message ({kind}) attribute '{name}' must contain non-empty message attribute type."
        )));
    }
    if data_type.len() > 256 {
        return Err(invalid(format!(
            "The message ({kind}) attribute '{name}' has a type longer than 256 characters."
        )));
    }
    let base = data_type
        .split_once('.')
        .map_or(data_type, |(base, _)| base);
    let string_value = field("StringValue")?;
    let binary_value = field("BinaryValue")?;
    let lists = ["StringListValues", "BinaryListValues"].iter().any(|key| {
        shape
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty())
    });
    if lists {
        return Err(invalid(format!(
            "Message ({kind}) attribute '{name}': list values are not supported."
        )));
    }
    let value = match base {
        "String" | "Number" => {
            if binary_value.is_some() {
                return Err(invalid(format!(
                    "The message ({kind}) attribute '{name}' with type '{base}' must use field 'String'."
                )));
            }
            let text = string_value.unwrap_or_default();
            if text.is_empty() {
                return Err(invalid(format!(
                    "The message ({kind}) attribute '{name}' must contain a non-empty value of type '{base}'."
                )));
            }
            if base == "Number" && !is_number(text) {
                return Err(invalid(format!(
                    "Can't cast the value of message ({kind}) attribute '{name}' to a number."
                )));
            }
            body(text).map_err(|_| {
                invalid(format!(
                    "The message ({kind}) attribute '{name}' contains characters outside the allowed set."
                ))
            })?;
            AttributeValue::Text(text.to_owned())
        }
        "Binary" => {
            if string_value.is_some() {
                return Err(invalid(format!(
                    "The message ({kind}) attribute '{name}' with type 'Binary' must use field 'Binary'."
                )));
            }
            let bytes = BASE64
                .decode(binary_value.unwrap_or_default())
                .map_err(|_| {
                    SqsError::new(
                        ErrorCode::Serialization,
                        format!("BinaryValue of message attribute '{name}' is not valid base64."),
                    )
                })?;
            if bytes.is_empty() {
                return Err(invalid(format!(
                    "The message ({kind}) attribute '{name}' must contain a non-empty value of type 'Binary'."
                )));
            }
            AttributeValue::Binary(bytes)
        }
        _ => {
            return Err(invalid(format!(
                "The type of message ({kind}) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
    };
    Ok(MessageAttribute {
        data_type: data_type.to_owned(),
        value,
    })
}

/// A number as SQS accepts it: up to 38 significant digits, with a magnitude from 10^-128
/// to 10^126, written without spaces.
fn is_number(text: &str) -> bool {
    let Ok(value) = text.parse::<f64>() else {
        return false;
    };
    if !value.is_finite() || text.chars().any(char::is_whitespace) {
        return false;
    }
    let magnitude = value.abs();
    let in_range = magnitude == 0.0 || (1e-128..=1e126).contains(&magnitude);
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    let digits = mantissa.trim_start_matches(['-', '+']).replace('.', "");
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    in_range && significant <= 38
}

/// Bytes an entry counts toward a batch's size, read from the request as sent, whether or
/// not the entry is valid.
pub(crate) fn raw_message_size(entry: &Params) -> usize {
    let body = entry
        .opt_str("MessageBody")
        .ok()
        .flatten()
        .map_or(0, str::len);
    let attributes = entry
        .opt_object("MessageAttributes")
        .ok()
        .flatten()
        .map_or(0, |raw| {
            raw.iter()
                .map(|(name, shape)| {
                    let field =
                        |key: &str| shape.get(key).and_then(Value::as_str).map_or(0, str::len);
                    name.len()
                        + field("DataType")
                        + field("StringValue")
                        + field("BinaryValue") * 3 / 4
                })
                .sum()
        });
    body + attributes
}

/// Parses the `MessageAttributes` member of a send.
pub(crate) fn message_attributes(params: &Params) -> Result<MessageAttributes, SqsError> {
    let Some(raw) = params.opt_object("MessageAttributes")? else {
        return Ok(BTreeMap::new());
    };
    if raw.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(SqsError::new(
            ErrorCode::InvalidParameterValue,
            format!(
                "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
                raw.len()
            ),
        ));
    }
    let mut attributes = BTreeMap::new();
    for (name, shape) in raw {
        attribute_name(name, "user")?;
        let Value::Object(shape) = shape else {
            return Err(SqsError::new(
                ErrorCode::Serialization,
                format!("Message attribute '{name}' must be a structure."),
            ));
        };
        attributes.insert(name.clone(), attribute_value(name, "user", shape)?);
    }
    Ok(attributes)
}

/// The `AWSTraceHeader` system attribute, the only one a sender may set.
pub(crate) fn trace_header(params: &Params) -> Result<Option<String>, SqsError> {
    let Some(raw) = params.opt_object("MessageSystemAttributes")? else {
        return Ok(None);
    };
    let mut trace = None;
    for (name, shape) in raw {
        if name != "AWSTraceHeader" {
            return Err(SqsError::new(
                ErrorCode::InvalidParameterValue,
                format!("Message system attribute name '{name}' is invalid."),
            ));
        }
        let Value::Object(shape) = shape else {
            return Err(SqsError::new(
                ErrorCode::Serialization,
                "Message system attribute 'AWSTraceHeader' must be a structure.",
            ));
        };
        match attribute_value(name, "system", shape)? {
            MessageAttribute {
                data_type,
                value: AttributeValue::Text(text),
            } if data_type == "String" => {
                trace = Some(text);
            }
            _ => {
                return Err(SqsError::new(
                    ErrorCode::InvalidParameterValue,
                    "Message system attribute 'AWSTraceHeader' must be of type 'String'.",
                ));
            }
        }
    }
    Ok(trace)
}

/// Bytes a message counts against the size limit: body, attribute names, types and values.
pub(crate) fn message_size(body: &str, attributes: &MessageAttributes) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(name, a)| name.len() + a.size())
            .sum::<usize>()
}

/// An integer parameter within `min..=max`, with SQS's message when it is out of range.
pub(crate) fn in_range(
    value: Option<i64>,
    parameter: &str,
    min: i64,
    max: i64,
    reason: &str,
) -> Result<Option<u64>, SqsError> {
    match value {
        None => Ok(None),
        Some(v) if (min..=max).contains(&v) => Ok(Some(v as u64)),
        Some(v) => Err(SqsError::invalid_value(v, parameter, reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_carriage_returns_and_refuse_control_characters() {
        assert!(body("a\r\nb\tc").is_ok());
        assert!(body("emoji 🎉").is_ok());
        let error = body("bad\u{1}").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidMessageContents);
        assert!(error.message.contains("#x1"));
        assert_eq!(body("").unwrap_err().code, ErrorCode::MissingParameter);
        assert!(body("private use \u{E000} and \u{FFFD} and \u{EFFF}").is_ok());
        assert!(body("ok \u{FFFE}").is_err());
        assert!(body("ok \u{FFFF} after").is_err());
    }

    #[test]
    fn queue_names_follow_sqs_rules() {
        assert!(queue_name("orders_v2-EU").is_ok());
        assert!(queue_name(&"q".repeat(80)).is_ok());
        assert!(queue_name(&"q".repeat(81)).is_err());
        assert!(queue_name("has space").is_err());
        assert!(queue_name("").is_err());
    }

    #[test]
    fn attribute_names_refuse_reserved_prefixes_and_bad_periods() {
        assert!(attribute_name("trace.id", "user").is_ok());
        assert!(attribute_name("AWS.thing", "user").is_err());
        assert!(attribute_name("amazon.thing", "user").is_err());
        assert!(attribute_name(".lead", "user").is_err());
        assert!(attribute_name("trail.", "user").is_err());
        assert!(attribute_name("a..b", "user").is_err());
    }

    #[test]
    fn numbers_accept_decimal_forms_only() {
        assert!(is_number("12"));
        assert!(is_number("-1.5e3"));
        assert!(!is_number("twelve"));
        assert!(!is_number("NaN"));
        assert!(!is_number(" 1"));
        assert!(!is_number("1e200"));
        assert!(is_number("1e126"));
        assert!(is_number("0.000"));
        assert!(!is_number(&"9".repeat(39)));
        assert!(is_number(&"9".repeat(38)));
    }
}
