//! How a handler says it failed: [`TaskError`] and the [`TaskFailure`] trait lifecycles read.

use std::fmt;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a lifecycle needs to know about a handler's failure.
///
/// [`TaskError`] implements it; a handler with its own error type can implement it too.
pub trait TaskFailure: fmt::Display + Send + Sync {
    /// When the message should be tried again, if the failure knows better than the lifecycle's
    /// policy (a rate limiter's `Retry-After`, for instance).
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// True when trying again cannot succeed (invalid input, say): the message is then moved to
    /// the dead-letter queue, or deleted when there is none, instead of being retried.
    fn is_permanent(&self) -> bool {
        false
    }
}

/// The error a handler returns: any error, plus optional advice on retrying.
///
/// Any `std::error::Error` (and plain strings) converts into it, so `?` works in handlers:
///
/// ```
/// use sqs_tasks::{Message, TaskError};
/// use std::time::Duration;
///
/// async fn handle(message: Message) -> Result<(), TaskError> {
///     let n: u64 = message.body().parse().map_err(TaskError::permanent)?;
///     if n > 100 {
///         return Err(TaskError::new("busy").with_retry_after(Duration::from_secs(10)));
///     }
///     Ok(())
/// }
/// ```
///
/// `TaskError` deliberately does not implement `std::error::Error` itself: that is what lets
/// every error convert into it.
pub struct TaskError {
    source: BoxError,
    retry_after: Option<Duration>,
    permanent: bool,
}

impl TaskError {
    /// A failure worth retrying, per the lifecycle's policy.
    pub fn new(error: impl Into<BoxError>) -> Self {
        TaskError {
            source: error.into(),
            retry_after: None,
            permanent: false,
        }
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(error: impl Into<BoxError>) -> Self {
        TaskError::new(error).into_permanent()
    }

    /// Asks for the next attempt after `delay`, whatever the lifecycle's policy says.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// Marks the failure as permanent.
    pub fn into_permanent(mut self) -> Self {
        self.permanent = true;
        self
    }

    /// The underlying error.
    pub fn error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }

    /// The failure of a handler that ran out of time.
    pub(crate) fn timed_out(limit: Duration) -> Self {
        TaskError::new(TimedOut(limit))
    }
}

impl<E: Into<BoxError>> From<E> for TaskError {
    fn from(error: E) -> Self {
        TaskError::new(error)
    }
}

impl TaskFailure for TaskError {
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    fn is_permanent(&self) -> bool {
        self.permanent
    }
}

/// Shows the whole chain of causes, `outer: inner: root`, since this is what ends up in logs.
impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        let mut cause = self.source.source();
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("source", &self.source)
            .field("retry_after", &self.retry_after)
            .field("permanent", &self.permanent)
            .finish()
    }
}

/// A handler took longer than the worker allows.
#[derive(Debug, thiserror::Error)]
#[error("handler timed out after {0:?}")]
struct TimedOut(Duration);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn display_shows_the_whole_chain() {
        let err = TaskError::from(Outer(std::io::Error::other("root")));
        assert_eq!(err.to_string(), "outer: root");
        assert!(!err.is_permanent());
        let err = TaskError::permanent("bad input").with_retry_after(Duration::from_secs(1));
        assert!(err.is_permanent());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    }
}
