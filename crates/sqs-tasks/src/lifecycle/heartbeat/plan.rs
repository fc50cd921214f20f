//! Planning one beat against SQS's 12-hour limit. Pure, so it is tested with made-up instants.

use std::time::Duration;

use tokio::time::Instant;

use crate::client::remaining_visibility;

/// What one beat should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Beat {
    /// Extend the visibility by this much; more beats may follow.
    Extend(Duration),
    /// Extend by this much, which reaches the 12-hour limit: the last beat.
    Last(Duration),
    /// The limit is reached; nothing can be extended any more.
    Capped,
}

/// Plans the beat at `now` for a message received at `received_at`, wanting it hidden
/// `visibility` more.
pub(super) fn plan_beat(received_at: Instant, now: Instant, visibility: Duration) -> Beat {
    match remaining_visibility(received_at, now) {
        None => Beat::Capped,
        Some(left) if left <= visibility => Beat::Last(left),
        Some(_) => Beat::Extend(visibility),
    }
}

/// The soonest a failed beat is tried again: sooner would only add load to a struggling SQS.
const MIN_RETRY: Duration = Duration::from_secs(1);

/// When to try again after the beat started at `started` failed, the message being hidden until
/// `hidden_until` by the last successful beat (or its receive).
///
/// A full interval later may be too late (with the default interval, half the visibility, it
/// is exactly when the message becomes visible), so the retry comes halfway to `hidden_until`,
/// at least [`MIN_RETRY`] and at most `interval` later. Once `hidden_until` has passed, the
/// message is likely visible already and retries fall back to the interval.
pub(super) fn retry_at(started: Instant, hidden_until: Instant, interval: Duration) -> Instant {
    let left = hidden_until.saturating_duration_since(started);
    if left.is_zero() {
        return started + interval;
    }
    started + (left / 2).max(MIN_RETRY).min(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_beats_are_retried_before_the_message_becomes_visible() {
        let t = Instant::now();
        let secs = Duration::from_secs;
        // Hidden until 30 s, beat at 15 s failed: retry at 22.5 s, not at 30 s.
        let retry = retry_at(t + secs(15), t + secs(30), secs(15));
        assert_eq!(retry, t + Duration::from_millis(22_500));
        // Little time left: no sooner than a second; never later than the interval.
        assert_eq!(retry_at(t, t + secs(1), secs(15)), t + secs(1));
        assert_eq!(retry_at(t, t + secs(600), secs(15)), t + secs(15));
        // Already visible: back to the interval.
        assert_eq!(retry_at(t + secs(40), t + secs(30), secs(15)), t + secs(55));
    }

    const HOUR: Duration = Duration::from_secs(3600);
    const VISIBILITY: Duration = Duration::from_secs(60);

    #[test]
    fn early_beats_extend_by_the_full_visibility() {
        let received = Instant::now();
        assert_eq!(
            plan_beat(received, received + HOUR, VISIBILITY),
            Beat::Extend(VISIBILITY)
        );
        let late = received + 12 * HOUR - Duration::from_secs(61);
        assert_eq!(
            plan_beat(received, late, VISIBILITY),
            Beat::Extend(VISIBILITY)
        );
    }

    #[test]
    fn the_beat_near_twelve_hours_ends_exactly_at_the_limit() {
        let received = Instant::now();
        let now = received + 12 * HOUR - Duration::from_millis(45_500);
        // 45.5 s remain: rounding down keeps the request within the limit.
        assert_eq!(
            plan_beat(received, now, VISIBILITY),
            Beat::Last(Duration::from_secs(45))
        );
    }

    #[test]
    fn no_extension_is_planned_past_twelve_hours() {
        let received = Instant::now();
        let now = received + 12 * HOUR - Duration::from_millis(500);
        assert_eq!(plan_beat(received, now, VISIBILITY), Beat::Capped);
        assert_eq!(
            plan_beat(received, received + 13 * HOUR, VISIBILITY),
            Beat::Capped
        );
    }
}
