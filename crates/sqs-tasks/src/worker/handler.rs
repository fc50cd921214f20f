//! [`Handler`]: the user's code that handles one message, and [`AndThen`], which acts on a
//! handler's result before the message is acked.

use std::future::Future;

use crate::{Message, TaskError};

/// Handles one message. Implemented by every `Fn(Message) -> impl Future<Output =
/// Result<T, TaskError>>` (an `async fn` or closure), or by hand for handlers with state.
pub trait Handler: Send + Sync + 'static {
    /// What a successful handling produces. The worker discards it: to do something with it
    /// (store it, send it on) before the message is acked, chain a step with
    /// [`and_then`](Handler::and_then).
    type Output: Send + 'static;

    /// Handles `message`. The future may be dropped before it completes (handler timeout,
    /// shutdown deadline); the message is then released and delivered again.
    fn handle(
        &self,
        message: Message,
    ) -> impl Future<Output = Result<Self::Output, TaskError>> + Send;

    /// Runs `next` with the message and this handler's output when this handler succeeds; the
    /// result of `next` is the result of the whole. So the message is acked only once `next`
    /// succeeded too, and a failure of `next` is retried (or dead-lettered) like any other:
    /// the handler then runs again on the next delivery.
    ///
    /// `next` counts as part of the handling: it runs under the worker's handler timeout,
    /// while a heartbeat keeps the message hidden, and is dropped at the shutdown deadline.
    /// If `next` has an effect that must happen once (sending a result, say), make it
    /// idempotent: a message whose ack is lost is handled again.
    ///
    /// ```no_run
    /// # async fn demo(client: sqs_tasks::QueueClient, results: sqs_tasks::QueueClient)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// use sqs_tasks::{Handler, Message, OutgoingMessage, TaskError, Worker};
    ///
    /// async fn summarise(message: Message) -> Result<String, TaskError> {
    ///     Ok(format!("{} characters", message.body().len()))
    /// }
    ///
    /// // The summary is sent to the results queue before the message is acked.
    /// let publish = move |message: Message, summary: String| {
    ///     let results = results.clone();
    ///     async move {
    ///         let reply = OutgoingMessage::new(summary)
    ///             .attribute("source", sqs_tasks::AttributeValue::string(message.id()));
    ///         results.send(reply).await?;
    ///         Ok::<_, TaskError>(())
    ///     }
    /// };
    /// let worker = Worker::builder(client, summarise.and_then(publish)).build()?;
    /// # Ok(()) }
    /// ```
    fn and_then<F, Fut, U>(self, next: F) -> AndThen<Self, F>
    where
        Self: Sized,
        F: Fn(Message, Self::Output) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<U, TaskError>> + Send,
        U: Send + 'static,
    {
        AndThen {
            handler: self,
            next,
        }
    }
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

/// A handler followed by a step that receives its output; made by [`Handler::and_then`].
#[derive(Debug, Clone)]
pub struct AndThen<H, F> {
    handler: H,
    next: F,
}

impl<H, F, Fut, U> Handler for AndThen<H, F>
where
    H: Handler,
    F: Fn(Message, H::Output) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<U, TaskError>> + Send,
    U: Send + 'static,
{
    type Output = U;

    async fn handle(&self, message: Message) -> Result<U, TaskError> {
        let output = self.handler.handle(message.clone()).await?;
        (self.next)(message, output).await
    }
}
