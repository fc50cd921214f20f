//! Settling one message with one request: ack, nack, keep-alive.

use std::time::Duration;

use tokio::time::Instant;

use super::{QueueClient, whole_seconds};
use crate::limits::{MAX_VISIBILITY, MAX_VISIBILITY_SECS};
use crate::settle::{Disposal, Settle};
use crate::{Error, Message};

/// The visibility timeout to ask for so that the message stays hidden `wanted` from now, cut so
/// that it does not reach past 12 hours after the receive (SQS refuses such a change).
pub(crate) fn capped_visibility(message: &Message, wanted: Duration) -> Duration {
    remaining_visibility(message.received_at(), Instant::now())
        .map_or(Duration::ZERO, |left| wanted.min(left))
}

/// What remains, at `now`, of the 12 hours a message received at `received_at` may stay
/// invisible, in whole seconds rounded down (SQS counts whole seconds and a rounded-up value
/// would overshoot the cap); `None` once less than a second remains.
pub(crate) fn remaining_visibility(received_at: Instant, now: Instant) -> Option<Duration> {
    let left = MAX_VISIBILITY.saturating_sub(now.saturating_duration_since(received_at));
    Some(Duration::from_secs(left.as_secs())).filter(|left| !left.is_zero())
}

impl QueueClient {
    /// Deletes the message (DeleteMessage): it was handled and must not come back.
    ///
    /// # Cancel safety
    ///
    /// Cancelling leaves it unknown whether the message was deleted; deleting again is harmless.
    pub async fn ack(&self, message: &Message) -> Result<(), Error> {
        self.inner
            .sdk
            .delete_message()
            .queue_url(&self.inner.queue_url)
            .receipt_handle(message.receipt_handle())
            .send()
            .await
            .map_err(|err| self.error(err))?;
        tracing::trace!(message_id = message.id(), "acked");
        Ok(())
    }

    /// Gives the message back without deleting it: visible again after `retry_after` (whole
    /// seconds, rounded up, at most what remains of the 12 hours after its receive), or at
    /// once with `None`.
    ///
    /// # Cancel safety
    ///
    /// Cancelling leaves it unknown whether the visibility changed; the message comes back
    /// either at the requested time or when its previous visibility timeout ends.
    pub async fn nack(
        &self,
        message: &Message,
        retry_after: Option<Duration>,
    ) -> Result<(), Error> {
        let after = capped_visibility(message, retry_after.unwrap_or(Duration::ZERO));
        self.change_visibility(message, after).await
    }

    /// Keeps the message hidden for `duration` from now (whole seconds, rounded up, at most what
    /// remains of the 12 hours after its receive).
    ///
    /// # Cancel safety
    ///
    /// Cancelling leaves it unknown whether the visibility was extended.
    pub async fn keep_alive(&self, message: &Message, duration: Duration) -> Result<(), Error> {
        self.change_visibility(message, capped_visibility(message, duration))
            .await
    }

    async fn change_visibility(&self, message: &Message, timeout: Duration) -> Result<(), Error> {
        let secs = whole_seconds(timeout, MAX_VISIBILITY_SECS);
        self.inner
            .sdk
            .change_message_visibility()
            .queue_url(&self.inner.queue_url)
            .receipt_handle(message.receipt_handle())
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|err| self.error(err))?;
        tracing::trace!(
            message_id = message.id(),
            visibility_secs = secs,
            "visibility changed"
        );
        Ok(())
    }
}

impl Settle for QueueClient {
    async fn ack(&self, message: &Message) -> Result<(), Error> {
        QueueClient::ack(self, message).await
    }

    async fn nack(&self, message: &Message, retry_after: Option<Duration>) -> Result<(), Error> {
        QueueClient::nack(self, message, retry_after).await
    }

    async fn keep_alive(&self, message: &Message, duration: Duration) -> Result<(), Error> {
        QueueClient::keep_alive(self, message, duration).await
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<Disposal, Error> {
        QueueClient::dead_letter(self, message, reason).await
    }
}
