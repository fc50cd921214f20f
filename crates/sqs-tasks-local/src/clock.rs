//! Where the server reads the time.
//!
//! Every deadline in the engine (delays, visibility timeouts, retention, long polls) is an epoch
//! millisecond read from a [`Clock`], so tests can move time instead of sleeping.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use tokio::sync::watch;

/// A future returned by [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A source of time for the server.
pub trait Clock: Send + Sync + Debug + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;

    /// Completes once [`now_millis`](Clock::now_millis) has reached `deadline_millis`.
    ///
    /// It may complete early; callers check the time again and sleep once more if needed.
    fn sleep_until(&self, deadline_millis: u64) -> Sleep;
}

/// The default clock: the wall-clock time at start, advanced by tokio's monotonic clock.
///
/// Reading elapsed time through tokio means a test that pauses tokio's time
/// (`tokio::time::pause`) and advances it moves this clock too, and a wall-clock jump (NTP)
/// never makes a visibility timeout run backwards.
#[derive(Debug)]
pub struct TokioClock {
    start_epoch_millis: u64,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that starts at the current wall-clock time.
    pub fn new() -> Self {
        // The one place the wall clock is read: everything after is monotonic.
        #[allow(clippy::disallowed_methods)]
        let wall = std::time::SystemTime::now();
        let start_epoch_millis = wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Self {
            start_epoch_millis,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now_millis(&self) -> u64 {
        self.start_epoch_millis + self.start.elapsed().as_millis() as u64
    }

    fn sleep_until(&self, deadline_millis: u64) -> Sleep {
        let wait = deadline_millis.saturating_sub(self.now_millis());
        Box::pin(tokio::time::sleep(Duration::from_millis(wait)))
    }
}

/// A clock that moves only when told to, for tests.
///
/// Sleepers wake when [`advance`](ManualClock::advance) or [`set`](ManualClock::set) moves
/// the time past their deadline.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<u64>,
    changed: watch::Sender<u64>,
}

impl ManualClock {
    /// A clock standing at `epoch_millis`.
    pub fn new(epoch_millis: u64) -> Self {
        let (changed, _) = watch::channel(epoch_millis);
        Self {
            now: Mutex::new(epoch_millis),
            changed,
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by.as_millis() as u64;
        self.changed.send_replace(*now);
    }

    /// Sets the clock to `epoch_millis` (which may be earlier than now).
    pub fn set(&self, epoch_millis: u64) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = epoch_millis;
        self.changed.send_replace(*now);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, deadline_millis: u64) -> Sleep {
        let mut changed = self.changed.subscribe();
        Box::pin(async move {
            // An error means the clock is gone; nothing will ever wake this sleeper again, so
            // returning lets the caller notice and finish.
            let _ = changed.wait_for(|now| *now >= deadline_millis).await;
        })
    }
}
