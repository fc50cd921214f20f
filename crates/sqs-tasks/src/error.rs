//! The errors of SQS operations, independent of the SDK's own types.

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

/// An SQS operation that did not succeed.
///
/// The variants name the situations a caller reacts to differently: a queue that is gone or
/// access that is denied will not heal by retrying, a message whose receipt handle expired
/// cannot be settled any more, anything else may succeed later.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The queue does not exist (or no longer exists).
    #[error("queue {queue} does not exist")]
    QueueDoesNotExist {
        /// The queue's name or URL as the client knows it.
        queue: String,
    },
    /// The credentials were refused or lack a permission.
    #[error("access denied ({code}): {message}")]
    AccessDenied {
        /// The error code SQS answered with.
        code: String,
        /// SQS's explanation.
        message: String,
    },
    /// The message can no longer be settled with this receipt handle: it was deleted, or its
    /// visibility timeout ran out and another consumer may hold it.
    #[error("message is no longer in flight ({code}): {message}")]
    MessageGone {
        /// The error code SQS answered with.
        code: String,
        /// SQS's explanation.
        message: String,
    },
    /// SQS refused the request for another reason (validation, throttling, server fault...).
    #[error("sqs refused the request ({code}): {message}")]
    Service {
        /// The error code SQS answered with.
        code: String,
        /// SQS's explanation.
        message: String,
    },
    /// The request did not get an answer: connection failure, timeout, unreadable response.
    #[error("request to sqs failed: {detail}")]
    Transport {
        /// The whole chain of causes, rendered as text.
        detail: String,
    },
    /// A configuration that cannot work, refused when it is built rather than discovered later.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// SQS answered with something this crate cannot interpret.
    #[error("unexpected response from sqs: {0}")]
    Malformed(String),
}

impl Error {
    /// True when retrying cannot help and a consumer loop should stop: the queue is missing or
    /// access is denied.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::QueueDoesNotExist { .. } | Error::AccessDenied { .. }
        )
    }

    /// True when the message's receipt handle no longer works (the message was deleted or is
    /// visible again).
    pub fn is_message_gone(&self) -> bool {
        matches!(self, Error::MessageGone { .. })
    }

    /// Classifies an SQS error code and message.
    pub(crate) fn from_code(code: &str, message: &str, queue: &str) -> Error {
        let (code, message) = (code.to_owned(), message.to_owned());
        match code.as_str() {
            "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" => {
                Error::QueueDoesNotExist {
                    queue: queue.to_owned(),
                }
            }
            "AccessDenied"
            | "AccessDeniedException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "MissingAuthenticationToken"
            | "ExpiredToken" => Error::AccessDenied { code, message },
            "ReceiptHandleIsInvalid"
            | "AWS.SimpleQueueService.MessageNotInflight"
            | "MessageNotInflight" => Error::MessageGone { code, message },
            // SQS answers a visibility change of a message that is gone with this generic code;
            // its message is the only way to tell it from a bad parameter.
            "InvalidParameterValue" | "InvalidParameterValueException"
                if message.contains("does not exist or is not available") =>
            {
                Error::MessageGone { code, message }
            }
            _ => Error::Service { code, message },
        }
    }

    /// Converts an error of an aws-sdk-sqs call, naming `queue` if the queue turns out to be
    /// missing: the companion of [`QueueClient::sdk`](crate::QueueClient::sdk), so calls made
    /// through the SDK client get the same classification as the crate's own.
    pub fn from_sdk<E, R>(err: SdkError<E, R>, queue: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        match &err {
            SdkError::ServiceError(ctx) => {
                let service_err = ctx.err();
                match service_err.code() {
                    Some(code) => {
                        Error::from_code(code, service_err.message().unwrap_or(""), queue)
                    }
                    None => Error::Transport {
                        detail: error_chain(&err),
                    },
                }
            }
            _ => Error::Transport {
                detail: error_chain(&err),
            },
        }
    }
}

/// An error and its causes, each said once, outermost first: `dispatch failure: io error:
/// Connection refused (os error 111)`.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(current) = next {
        let text = current.to_string();
        // Layers often repeat their cause's text; keep each sentence once.
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn legacy_and_modern_codes_of_a_missing_queue_are_both_recognised() {
        for code in [
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ] {
            let err = Error::from_code(code, "gone", "jobs");
            assert!(err.is_fatal(), "{code}");
            assert_eq!(err.to_string(), "queue jobs does not exist");
        }
    }

    #[test]
    fn visibility_change_of_a_vanished_message_is_message_gone() {
        let msg = "Value x for parameter ReceiptHandle is invalid. Reason: Message does not exist \
                   or is not available for visibility timeout change.";
        assert!(Error::from_code("InvalidParameterValue", msg, "q").is_message_gone());
        assert!(!Error::from_code("InvalidParameterValue", "out of range", "q").is_message_gone());
    }
}
