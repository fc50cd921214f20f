//! Counters a running worker updates and anyone can read.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

/// A snapshot of a worker's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Messages received and handed to the handler.
    pub received: u64,
    /// Messages handled successfully and acked.
    pub succeeded: u64,
    /// Failed handlings (errors and timeouts) whose message was given back for another try.
    pub retried: u64,
    /// Messages that failed for good: dead-lettered, or deleted when there is no dead-letter
    /// queue.
    pub failed: u64,
    /// Of the `failed` messages, those moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Messages given back unhandled at shutdown: those whose handler had not finished by the
    /// shutdown deadline, and those a receive already sent returned after shutdown began.
    pub released: u64,
    /// Settlements that SQS refused or that did not reach it; those messages come back when
    /// their visibility timeout ends.
    pub settle_errors: u64,
    /// Messages being handled right now.
    pub in_flight: u64,
    /// Receive loops running right now: one while idle, more under load (at most the worker's
    /// `max_receivers`), none once stopped.
    pub receive_loops: u64,
}

/// A handle on a worker's counters, cheap to clone and to read while the worker runs.
#[derive(Debug, Clone, Default)]
pub struct StatsHandle {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    succeeded: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    dead_lettered: AtomicU64,
    released: AtomicU64,
    settle_errors: AtomicU64,
    in_flight: AtomicU64,
    receive_loops: AtomicU64,
}

/// One event that moves the counters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Received,
    Succeeded,
    Retried,
    Discarded,
    DeadLettered,
    Released,
    SettleError,
    Finished,
}

impl StatsHandle {
    /// The counters' current values. Each is read on its own, so a snapshot taken while
    /// messages move may be off by the few in transit between two counters.
    pub fn snapshot(&self) -> WorkerStats {
        let c = &self.counters;
        WorkerStats {
            received: c.received.load(Relaxed),
            succeeded: c.succeeded.load(Relaxed),
            retried: c.retried.load(Relaxed),
            failed: c.failed.load(Relaxed),
            dead_lettered: c.dead_lettered.load(Relaxed),
            released: c.released.load(Relaxed),
            settle_errors: c.settle_errors.load(Relaxed),
            in_flight: c.in_flight.load(Relaxed),
            receive_loops: c.receive_loops.load(Relaxed),
        }
    }

    /// Counts the primary receive loop.
    pub(crate) fn receive_loop_started(&self) {
        self.counters.receive_loops.fetch_add(1, Relaxed);
    }

    /// Counts one more receive loop unless `max` already run; returns the new count if added.
    /// The counter is the bound's only source of truth, so concurrent callers cannot exceed it.
    pub(crate) fn try_add_receive_loop(&self, max: usize) -> Option<u64> {
        let max = max as u64;
        let loops = &self.counters.receive_loops;
        let before = loops.fetch_update(AcqRel, Acquire, |n| (n < max).then_some(n + 1));
        before.ok().map(|n| n + 1)
    }

    pub(crate) fn receive_loop_ended(&self) {
        self.counters.receive_loops.fetch_sub(1, AcqRel);
    }

    pub(crate) fn record(&self, event: Event) {
        let c = &self.counters;
        match event {
            Event::Received => {
                c.received.fetch_add(1, Relaxed);
                c.in_flight.fetch_add(1, Relaxed);
            }
            Event::Succeeded => _ = c.succeeded.fetch_add(1, Relaxed),
            Event::Retried => _ = c.retried.fetch_add(1, Relaxed),
            Event::Discarded => _ = c.failed.fetch_add(1, Relaxed),
            Event::DeadLettered => {
                c.failed.fetch_add(1, Relaxed);
                c.dead_lettered.fetch_add(1, Relaxed);
            }
            Event::Released => _ = c.released.fetch_add(1, Relaxed),
            Event::SettleError => _ = c.settle_errors.fetch_add(1, Relaxed),
            Event::Finished => _ = c.in_flight.fetch_sub(1, Relaxed),
        }
    }
}
