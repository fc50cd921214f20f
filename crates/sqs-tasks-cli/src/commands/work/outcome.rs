//! How a task failed, in the handler's words: what the log shows and what the retry policy
//! is told.

use std::fmt;
use std::time::Duration;

use sqs_tasks::{Message, TaskError};

/// The largest result that fits in an SQS message, leaving room for its attributes.
pub(crate) const MAX_RESULT_BYTES: usize = 1_048_576 - 1024;

/// Whether and how a failed task is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A failure: retried per the retry policy.
    Failed,
    /// The handler asked for another try: retried per the retry policy, logged quietly.
    RetryRequested,
    /// Retrying cannot help: the message goes to the dead-letter queue.
    Permanent,
}

/// A task that did not succeed.
#[derive(Debug)]
pub(crate) struct TaskFailed {
    what: String,
    /// What the handler said about it: a command's stderr, an HTTP response's body.
    detail: String,
    kind: Kind,
    retry_after: Option<Duration>,
}

impl TaskFailed {
    pub(crate) fn new(kind: Kind, what: impl Into<String>) -> Self {
        TaskFailed {
            what: what.into(),
            detail: String::new(),
            kind,
            retry_after: None,
        }
    }

    /// Adds what the handler wrote about the failure.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into().trim_end().to_owned();
        self
    }

    /// Asks for the next try after `delay` rather than the policy's delay.
    pub(crate) fn retry_after(mut self, delay: Option<Duration>) -> Self {
        self.retry_after = delay;
        self
    }

    #[cfg(test)]
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The delay asked for, if any.
    #[cfg(test)]
    pub(crate) fn delay(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Logs the failure of `message`'s task: requested retries quietly, the rest loudly.
    pub(crate) fn log(&self, message: &Message) {
        let (id, count) = (message.id(), message.receive_count());
        match self.kind {
            Kind::RetryRequested => {
                tracing::info!(message_id = id, receive_count = count, retry_after = ?self.retry_after, "{}", self.what);
            }
            Kind::Failed => {
                tracing::warn!(
                    message_id = id,
                    receive_count = count,
                    "task failed, will retry: {self}"
                );
            }
            Kind::Permanent => {
                tracing::warn!(
                    message_id = id,
                    receive_count = count,
                    "task failed for good: {self}"
                );
            }
        }
    }
}

impl fmt::Display for TaskFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for TaskFailed {}

impl TaskFailed {
    /// The failure as the framework's retry policies read it.
    pub(crate) fn into_task_error(self) -> TaskError {
        let (kind, retry_after) = (self.kind, self.retry_after);
        let mut error = TaskError::new(self);
        if let Some(delay) = retry_after {
            error = error.with_retry_after(delay);
        }
        if kind == Kind::Permanent {
            error = error.into_permanent();
        }
        error
    }
}
