//! Limits SQS imposes, in one place.

use std::time::Duration;

/// The longest a message may stay invisible, counted from its receive: 12 hours.
pub(crate) const MAX_VISIBILITY: Duration = Duration::from_secs(MAX_VISIBILITY_SECS);

/// [`MAX_VISIBILITY`] in seconds, as the API counts it.
pub(crate) const MAX_VISIBILITY_SECS: u64 = 43_200;

/// The most messages one receive may return, and the most entries of one batch request.
pub(crate) const MAX_BATCH_ENTRIES: usize = 10;

/// The most bytes of messages one SendMessageBatch may carry.
pub(crate) const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// The longest delay of one message, in seconds: 15 minutes.
pub(crate) const MAX_DELAY_SECS: u64 = 900;
