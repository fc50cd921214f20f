//! Configuration of a [`Heartbeat`], checked when it is built.

use std::time::Duration;

use super::Heartbeat;
use crate::Error;
use crate::limits::MAX_VISIBILITY;

/// The shortest visibility a heartbeat can keep: shorter leaves no room for a request's latency.
const MIN_VISIBILITY: Duration = Duration::from_secs(2);

/// Builds a [`Heartbeat`]; made by [`Heartbeat::builder`].
#[derive(Debug, Clone)]
pub struct HeartbeatBuilder<L> {
    inner: L,
    visibility: Duration,
    interval: Option<Duration>,
}

impl<L> HeartbeatBuilder<L> {
    pub(super) fn new(inner: L) -> Self {
        HeartbeatBuilder {
            inner,
            visibility: Duration::from_secs(30),
            interval: None,
        }
    }

    /// How long each beat keeps the message hidden, from the beat (2 s to 12 h; default 30 s).
    pub fn visibility(mut self, visibility: Duration) -> Self {
        self.visibility = visibility;
        self
    }

    /// How often to beat (default: half the visibility). Must leave a margin before the
    /// visibility runs out: at most the visibility minus a fifth of it, and minus at least 1 s.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Checks the configuration: a heartbeat that could not keep the message hidden is an error
    /// here rather than a silent redelivery later.
    pub fn build(self) -> Result<Heartbeat<L>, Error> {
        let visibility = self.visibility;
        if !(MIN_VISIBILITY..=MAX_VISIBILITY).contains(&visibility) {
            return Err(Error::Config(format!(
                "heartbeat visibility {visibility:?} is outside 2 s..12 h"
            )));
        }
        let interval = self.interval.unwrap_or(visibility / 2);
        let margin = (visibility / 5).max(Duration::from_secs(1));
        if interval.is_zero() || interval + margin > visibility {
            return Err(Error::Config(format!(
                "heartbeat interval {interval:?} must be above zero and leave a margin of \
                 {margin:?} before the visibility of {visibility:?} runs out"
            )));
        }
        Ok(Heartbeat {
            inner: self.inner,
            visibility,
            interval,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Plain;

    fn build(visibility: u64, interval_ms: u64) -> Result<Heartbeat<Plain>, Error> {
        Heartbeat::builder(Plain)
            .visibility(Duration::from_secs(visibility))
            .interval(Duration::from_millis(interval_ms))
            .build()
    }

    #[test]
    fn interval_without_margin_is_refused() {
        assert!(build(30, 30_000).is_err());
        assert!(build(30, 25_000).is_err());
        assert!(build(30, 24_000).is_ok());
        assert!(build(2, 1_000).is_ok());
        assert!(build(2, 1_500).is_err());
        assert!(build(30, 0).is_err());
    }

    #[test]
    fn visibility_outside_what_sqs_allows_is_refused() {
        assert!(build(1, 100).is_err());
        assert!(build(43_201, 1_000).is_err());
        assert!(Heartbeat::builder(Plain).build().is_ok());
    }
}
