//! Typed access to the members of a decoded request.
//!
//! Both wire protocols decode into a JSON object of the shape the AWS JSON protocol sends, so
//! every action validates its input once, whatever protocol carried it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{ErrorCode, SqsError};

/// The most entries a batch request may have.
pub(crate) const MAX_BATCH_ENTRIES: usize = 10;

/// The members of one request.
#[derive(Debug, Default)]
pub(crate) struct Params(Map<String, Value>);

fn wrong_type(name: &str, expected: &str) -> SqsError {
    SqsError::new(
        ErrorCode::Serialization,
        format!("Member {name} must be {expected}."),
    )
}

impl Params {
    /// Decodes a JSON request body; an empty body is a request with no members.
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, SqsError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(members)) => Ok(Self(members)),
            Ok(_) => Err(SqsError::new(
                ErrorCode::Serialization,
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(SqsError::new(
                ErrorCode::Serialization,
                format!("The request body is not valid JSON: {e}."),
            )),
        }
    }

    /// A member that is present and not null.
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<&str>, SqsError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(name, "a string")),
        }
    }

    pub(crate) fn str(&self, name: &str) -> Result<&str, SqsError> {
        self.opt_str(name)?.ok_or_else(|| SqsError::missing(name))
    }

    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, SqsError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => Ok(Some(i)),
                _ => Err(wrong_type(name, "a 32-bit integer")),
            },
            Some(_) => Err(wrong_type(name, "an integer")),
        }
    }

    pub(crate) fn int(&self, name: &str) -> Result<i64, SqsError> {
        self.opt_int(name)?.ok_or_else(|| SqsError::missing(name))
    }

    pub(crate) fn opt_str_list(&self, name: &str) -> Result<Option<Vec<&str>>, SqsError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .ok_or_else(|| wrong_type(name, "a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(wrong_type(name, "a list of strings")),
        }
    }

    pub(crate) fn str_map(&self, name: &str) -> Result<BTreeMap<String, String>, SqsError> {
        match self.get(name) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(wrong_type(name, "a map of strings to strings")),
                })
                .collect(),
            Some(_) => Err(wrong_type(name, "a map of strings to strings")),
        }
    }

    pub(crate) fn opt_object(&self, name: &str) -> Result<Option<&Map<String, Value>>, SqsError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(wrong_type(name, "a structure")),
        }
    }

    /// The entries of a batch request, each as its own [`Params`].
    ///
    /// More than ten entries is refused before any is copied, so a huge list costs no more
    /// than its parse.
    pub(crate) fn entries(&self, name: &str) -> Result<Vec<Params>, SqsError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() > MAX_BATCH_ENTRIES => Err(SqsError::new(
                ErrorCode::TooManyEntriesInBatchRequest,
                format!(
                    "Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {}.",
                    items.len()
                ),
            )),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(Params(map.clone())),
                    _ => Err(wrong_type(name, "a list of structures")),
                })
                .collect(),
            Some(_) => Err(wrong_type(name, "a list of structures")),
        }
    }
}
