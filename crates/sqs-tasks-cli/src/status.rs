//! Progress of a running worker: a live line on a terminal, periodic log lines otherwise.

use std::collections::VecDeque;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sqs_tasks::{StatsHandle, WorkerStats};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::logging::Ui;

/// How often the live line is redrawn.
const TICK: Duration = Duration::from_millis(250);

/// How often a progress log line is written when there is no terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The window the rate is measured over: long enough to smooth bursts of batch settlements.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// The running reporter; [`StatusLine::finish`] stops it.
#[derive(Debug)]
pub(crate) struct StatusLine {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// Starts reporting `stats`; `total` is the number of messages expected, when known.
pub(crate) fn start(ui: &Ui, stats: StatsHandle, total: Option<u64>) -> StatusLine {
    let stop = CancellationToken::new();
    let task = tokio::spawn(report(ui.clone(), stats, total, stop.clone()));
    StatusLine { stop, task }
}

impl StatusLine {
    /// Stops reporting and removes the live line.
    pub(crate) async fn finish(self, ui: &Ui) {
        self.stop.cancel();
        // The reporter only sleeps and draws: it cannot fail in a way worth reporting.
        let _ = self.task.await;
        ui.clear_bar();
    }
}

async fn report(ui: Ui, stats: StatsHandle, total: Option<u64>, stop: CancellationToken) {
    let live = ui.live();
    if live {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        ui.show_bar(bar);
    }
    let mut rate = Rate::default();
    let mut last_log = Instant::now();
    let mut last_logged = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = stop.cancelled() => return,
        }
        let now = Instant::now();
        let snapshot = stats.snapshot();
        let per_second = rate.update(now, snapshot.succeeded + snapshot.failed);
        let line = describe(&snapshot, per_second, total);
        if live {
            ui.update_bar(&line);
        } else if now - last_log >= LOG_EVERY && last_logged != Some(snapshot) {
            tracing::info!(
                done = snapshot.succeeded,
                per_second = format!("{per_second:.1}"),
                in_flight = snapshot.in_flight,
                retried = snapshot.retried,
                failed = snapshot.failed,
                "{line}"
            );
            (last_log, last_logged) = (now, Some(snapshot));
        }
    }
}

/// The status in words.
pub(crate) fn describe(stats: &WorkerStats, per_second: f64, total: Option<u64>) -> String {
    let done = match total {
        Some(total) => format!("{}/{total}", stats.succeeded + stats.failed),
        None => stats.succeeded.to_string(),
    };
    format!(
        "done {done} ({per_second:.1}/s) · in flight {} · retried {} · failed {}",
        stats.in_flight, stats.retried, stats.failed
    )
}

/// Messages finished per second over the last [`RATE_WINDOW`].
#[derive(Debug, Default)]
struct Rate {
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    fn update(&mut self, now: Instant, finished: u64) -> f64 {
        self.samples.push_back((now, finished));
        while self
            .samples
            .front()
            .is_some_and(|(at, _)| now - *at > RATE_WINDOW)
        {
            self.samples.pop_front();
        }
        let (first_at, first) = self.samples[0];
        let elapsed = (now - first_at).as_secs_f64();
        if elapsed <= 0.0 {
            return 0.0;
        }
        (finished - first) as f64 / elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_only_the_recent_window() {
        let start = Instant::now();
        let mut rate = Rate::default();
        assert_eq!(rate.update(start, 0), 0.0);
        let r = rate.update(start + Duration::from_secs(2), 20);
        assert!((r - 10.0).abs() < 1e-9);
        // Ten seconds later the first samples have left the window.
        rate.update(start + Duration::from_secs(10), 20);
        let r = rate.update(start + Duration::from_secs(12), 40);
        assert!((r - 10.0).abs() < 1e-9, "{r}");
    }
}
