//! [`Handler`]: the user's code that handles one message.

use std::future::Future;

use crate::{Message, TaskError};

/// Handles one message. Implemented by every `Fn(Message) -> impl Future<Output =
/// Result<T, TaskError>>` (an `async fn` or closure), or by hand for handlers with state.
pub trait Handler: Send + Sync + 'static {
    /// What a successful handling produces; the worker discards it.
    type Output: Send + 'static;

    /// Handles `message`. The future may be dropped before it completes (handler timeout,
    /// shutdown deadline); the message is then released and delivered again.
    fn handle(
        &self,
        message: Message,
    ) -> impl Future<Output = Result<Self::Output, TaskError>> + Send;
}

impl<F, Fut, T> Handler for F
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, TaskError>> + Send,
    T: Send + 'static,
{
    type Output = T;

    fn handle(&self, message: Message) -> impl Future<Output = Result<T, TaskError>> + Send {
        self(message)
    }
}
