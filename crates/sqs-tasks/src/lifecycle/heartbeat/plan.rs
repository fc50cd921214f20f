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

#[cfg(test)]
mod tests {
    use super::*;

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
