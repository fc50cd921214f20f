//! [`Plain`]: ack on success, release at once on failure.

use super::{Lifecycle, Outcome, settle_result};
use crate::{Error, Message, Settle, TaskFailure};

/// Acks the message when the handler succeeds; on failure makes it visible again at once
/// (visibility 0), unless the failure asks for a delay or is permanent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Lifecycle for Plain {
    async fn run<S, F, T, E>(
        &self,
        settler: &S,
        message: &Message,
        handler: F,
    ) -> Result<Outcome, Error>
    where
        S: Settle,
        F: Future<Output = Result<T, E>> + Send,
        T: Send,
        E: TaskFailure,
    {
        settle_result(settler, message, handler.await, None).await
    }
}
