//! The settlement shared by the provided lifecycles.

use std::time::Duration;

use crate::lifecycle::Outcome;
use crate::settle::Disposal;
use crate::{Error, Message, Settle, TaskFailure};

/// Settles `message` after its handler returned `result`: ack on success; on a permanent
/// failure, dead-letter (or delete) and log an error; otherwise nack, with the failure's own
/// retry delay if it has one, else `retry_after`.
///
/// The building block of the provided lifecycles, public so custom ones can reuse it.
pub async fn settle_result<S, T, E>(
    settler: &S,
    message: &Message,
    result: Result<T, E>,
    retry_after: Option<Duration>,
) -> Result<Outcome, Error>
where
    S: Settle,
    E: TaskFailure,
{
    let failure = match result {
        Ok(_) => {
            settler.ack(message).await?;
            return Ok(Outcome::Succeeded);
        }
        Err(failure) => failure,
    };

    if failure.is_permanent() {
        let reason = failure.to_string();
        let disposal = settler.dead_letter(message, &reason).await?;
        let outcome = match disposal {
            Disposal::DeadLettered { queue_url } => {
                tracing::error!(message_id = message.id(), error = %reason, dead_letter_queue = %queue_url, "permanent failure, message moved to the dead-letter queue");
                Outcome::DeadLettered
            }
            Disposal::Deleted => {
                tracing::error!(message_id = message.id(), error = %reason, "permanent failure, message deleted (queue has no dead-letter queue)");
                Outcome::Discarded
            }
        };
        return Ok(outcome);
    }

    let after = failure.retry_after().or(retry_after);
    tracing::debug!(message_id = message.id(), error = %failure, retry_after = ?after, "handler failed, message released");
    settler.nack(message, after).await?;
    Ok(Outcome::Retried { after })
}
