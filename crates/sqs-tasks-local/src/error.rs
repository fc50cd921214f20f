//! The errors SQS answers with, by shape name, legacy code and HTTP status.

use std::fmt;

/// An error code of the SQS API.
///
/// Each code knows the three names SQS gives it: the shape name of the JSON protocol
/// (`__type`), the legacy code carried in `x-amzn-query-error` and the query protocol's
/// `<Code>`, and the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The queue named by a URL or name does not exist.
    QueueDoesNotExist,
    /// A queue with this name exists with different attributes.
    QueueNameExists,
    /// A parameter has a value out of range or of the wrong form.
    InvalidParameterValue,
    /// A required parameter is absent.
    MissingParameter,
    /// A receipt handle is not one this server issued.
    ReceiptHandleIsInvalid,
    /// Two entries of a batch share an id.
    BatchEntryIdsNotDistinct,
    /// A batch is larger than the total size limit.
    BatchRequestTooLong,
    /// A batch has no entries.
    EmptyBatchRequest,
    /// A batch entry id is not 1..80 of `[A-Za-z0-9_-]`.
    InvalidBatchEntryId,
    /// The message is not in flight.
    MessageNotInflight,
    /// The queue was purged less than 60 seconds ago.
    PurgeQueueInProgress,
    /// A queue of this name was deleted less than 60 seconds ago.
    QueueDeletedRecently,
    /// A batch has more than ten entries.
    TooManyEntriesInBatchRequest,
    /// The action is not supported on this queue.
    UnsupportedOperation,
    /// An attribute name is not known.
    InvalidAttributeName,
    /// An attribute value is not valid.
    InvalidAttributeValue,
    /// A message body has characters SQS does not allow.
    InvalidMessageContents,
    /// A queue URL is not of the form this endpoint serves.
    InvalidAddress,
    /// Too many messages are in flight.
    OverLimit,
    /// A named resource (such as a move task) does not exist.
    ResourceNotFound,
    /// The request names no action this server knows.
    UnknownOperation,
    /// The request body is not a valid document of the protocol.
    Serialization,
    /// The request carries no signature.
    MissingAuthenticationToken,
    /// The server failed; the request may be retried.
    InternalError,
}

impl ErrorCode {
    /// The `__type` value of the JSON protocol.
    pub fn json_type(self) -> &'static str {
        use ErrorCode::*;
        match self {
            QueueDoesNotExist => "com.amazonaws.sqs#QueueDoesNotExist",
            QueueNameExists => "com.amazonaws.sqs#QueueNameExists",
            InvalidParameterValue => "com.amazonaws.sqs#InvalidParameterValueException",
            MissingParameter => "com.amazonaws.sqs#MissingRequiredParameterException",
            ReceiptHandleIsInvalid => "com.amazonaws.sqs#ReceiptHandleIsInvalid",
            BatchEntryIdsNotDistinct => "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
            BatchRequestTooLong => "com.amazonaws.sqs#BatchRequestTooLong",
            EmptyBatchRequest => "com.amazonaws.sqs#EmptyBatchRequest",
            InvalidBatchEntryId => "com.amazonaws.sqs#InvalidBatchEntryId",
            MessageNotInflight => "com.amazonaws.sqs#MessageNotInflight",
            PurgeQueueInProgress => "com.amazonaws.sqs#PurgeQueueInProgress",
            QueueDeletedRecently => "com.amazonaws.sqs#QueueDeletedRecently",
            TooManyEntriesInBatchRequest => "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
            UnsupportedOperation => "com.amazonaws.sqs#UnsupportedOperation",
            InvalidAttributeName => "com.amazonaws.sqs#InvalidAttributeName",
            InvalidAttributeValue => "com.amazonaws.sqs#InvalidAttributeValue",
            InvalidMessageContents => "com.amazonaws.sqs#InvalidMessageContents",
            InvalidAddress => "com.amazonaws.sqs#InvalidAddress",
            OverLimit => "com.amazonaws.sqs#OverLimit",
            ResourceNotFound => "com.amazonaws.sqs#ResourceNotFoundException",
            UnknownOperation => "com.amazon.coral.service#UnknownOperationException",
            Serialization => "com.amazon.coral.service#SerializationException",
            MissingAuthenticationToken => {
                "com.amazon.coral.service#MissingAuthenticationTokenException"
            }
            InternalError => "com.amazonaws.sqs#InternalError",
        }
    }

    /// The legacy code: `x-amzn-query-error`, and `<Code>` in the query protocol.
    pub fn legacy_code(self) -> &'static str {
        use ErrorCode::*;
        match self {
            QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            QueueNameExists => "QueueAlreadyExists",
            InvalidParameterValue => "InvalidParameterValue",
            MissingParameter => "MissingParameter",
            ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            BatchEntryIdsNotDistinct => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            BatchRequestTooLong => "AWS.SimpleQueueService.BatchRequestTooLong",
            EmptyBatchRequest => "AWS.SimpleQueueService.EmptyBatchRequest",
            InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            PurgeQueueInProgress => "AWS.SimpleQueueService.PurgeQueueInProgress",
            QueueDeletedRecently => "AWS.SimpleQueueService.QueueDeletedRecently",
            TooManyEntriesInBatchRequest => "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            InvalidAttributeName => "InvalidAttributeName",
            InvalidAttributeValue => "InvalidAttributeValue",
            InvalidMessageContents => "InvalidMessageContents",
            InvalidAddress => "InvalidAddress",
            OverLimit => "OverLimit",
            ResourceNotFound => "ResourceNotFoundException",
            UnknownOperation => "InvalidAction",
            Serialization => "MalformedInput",
            MissingAuthenticationToken => "MissingAuthenticationToken",
            InternalError => "InternalError",
        }
    }

    /// The HTTP status of the response.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::PurgeQueueInProgress => 403,
            ErrorCode::MissingAuthenticationToken => 403,
            ErrorCode::ResourceNotFound => 404,
            ErrorCode::InternalError => 500,
            _ => 400,
        }
    }

    /// Whether the caller (`Sender`) or the server (`Receiver`) is at fault.
    pub fn fault(self) -> &'static str {
        if self == ErrorCode::InternalError {
            "Receiver"
        } else {
            "Sender"
        }
    }
}

/// An error answer: a code and the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsError {
    /// What went wrong, as SQS names it.
    pub code: ErrorCode,
    /// The human-readable explanation sent to the client.
    pub message: String,
}

impl SqsError {
    /// An error with the given code and explanation.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn queue_does_not_exist() -> Self {
        Self::new(
            ErrorCode::QueueDoesNotExist,
            "The specified queue does not exist.",
        )
    }

    pub(crate) fn missing(parameter: &str) -> Self {
        Self::new(
            ErrorCode::MissingParameter,
            format!("The request must contain the parameter {parameter}."),
        )
    }

    /// `Value V for parameter P is invalid. Reason: R.`, the form SQS uses for bad parameters.
    pub(crate) fn invalid_value(value: impl fmt::Display, parameter: &str, reason: &str) -> Self {
        Self::new(
            ErrorCode::InvalidParameterValue,
            format!("Value {value} for parameter {parameter} is invalid. Reason: {reason}"),
        )
    }

    pub(crate) fn invalid_parameters(reason: &str) -> Self {
        Self::new(
            ErrorCode::InvalidParameterValue,
            format!("One or more parameters are invalid. Reason: {reason}"),
        )
    }
}

impl fmt::Display for SqsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.legacy_code(), self.message)
    }
}

impl std::error::Error for SqsError {}
