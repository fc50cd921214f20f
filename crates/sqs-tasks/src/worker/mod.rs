//! [`Worker`]: a handler, a lifecycle and a concurrency.

mod batcher;
mod builder;
mod handler;
mod handling;
mod receiver;
mod stats;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use builder::WorkerBuilder;
pub use handler::{AndThen, Handler};
pub use stats::{StatsHandle, WorkerStats};

use crate::lifecycle::{Lifecycle, Plain};
use crate::{Error, QueueClient};

/// Runs a [`Handler`] on a queue's messages, with a [lifecycle](crate::lifecycle) around each
/// handling and at most `concurrency` handlings at a time.
///
/// - It never receives more messages than it has free slots: a received message's visibility
///   clock is already running.
/// - Idle, it holds a single long poll (about 3 requests a minute); under load it adds receive
///   loops, up to a bound, while full receives leave free slots behind.
/// - Settlements (acks, nacks, heartbeats) of all handlers are coalesced into
///   DeleteMessageBatch and ChangeMessageVisibilityBatch requests.
/// - Receive errors back off with jitter; a missing queue or denied access stops the worker
///   with that error.
/// - Shutdown: stop receiving, let handlers finish up to a deadline, release (make visible
///   again) the messages of those that did not, send pending settlements, return. A receive
///   already sent is not dropped (SQS may have picked messages for it): it is awaited up to the
///   same deadline and what it returns is released unhandled. So an idle worker, whose long
///   poll waits for messages that do not come, takes up to the client's
///   [wait time](crate::QueueClientBuilder::wait_time) to stop (20 s by default), or the
///   shutdown deadline if that is shorter.
///
/// ```no_run
/// # async fn demo(client: sqs_tasks::QueueClient) -> Result<(), Box<dyn std::error::Error>> {
/// use sqs_tasks::{Message, TaskError, Worker};
/// use tokio_util::sync::CancellationToken;
///
/// let shutdown = CancellationToken::new();
/// let worker = Worker::builder(client, |m: Message| async move { Ok::<_, TaskError>(m) })
///     .concurrency(32)
///     .build()?;
/// let stats = worker.stats();
/// let stats = worker.run(shutdown.cancelled_owned()).await?;
/// println!("{} messages handled", stats.succeeded);
/// # Ok(()) }
/// ```
pub struct Worker<H, L> {
    config: Config<H, L>,
    stats: StatsHandle,
}

/// The settings a [`WorkerBuilder`] checked.
#[derive(Debug)]
struct Config<H, L> {
    client: QueueClient,
    handler: H,
    lifecycle: L,
    concurrency: usize,
    max_receivers: usize,
    visibility: Option<Duration>,
    handler_timeout: Option<Duration>,
    shutdown_deadline: Duration,
    settle_window: Duration,
}

impl<H, L> std::fmt::Debug for Worker<H, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.config.client.queue_url())
            .field("concurrency", &self.config.concurrency)
            .field("max_receivers", &self.config.max_receivers)
            .field("visibility", &self.config.visibility)
            .field("handler_timeout", &self.config.handler_timeout)
            .field("shutdown_deadline", &self.config.shutdown_deadline)
            .finish_non_exhaustive()
    }
}

/// The worker stopped on its own because receiving cannot succeed (the queue is missing or
/// access is denied). It shut down gracefully first; the stats tell what it did until then.
#[derive(Debug, thiserror::Error)]
#[error("worker stopped")]
pub struct WorkerError {
    #[source]
    error: Error,
    stats: WorkerStats,
}

impl WorkerError {
    /// Why the worker stopped.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The counters at the end.
    pub fn stats(&self) -> WorkerStats {
        self.stats
    }
}

/// What the receive loops and handling tasks share.
struct Shared<H, L> {
    config: Config<H, L>,
    stats: StatsHandle,
    settler: batcher::BatchSettler,
    /// One permit per handling slot; a receive asks for as many messages as it holds permits.
    slots: Arc<Semaphore>,
    /// Held by the receive loop that is gathering free slots for its next receive.
    gathering: tokio::sync::Mutex<()>,
    receivers: TaskTracker,
    handlings: TaskTracker,
    /// Cancelled to stop receiving (shutdown, or a fatal receive error); from then on the
    /// batcher sends settlements at once rather than waiting for company.
    stop_receiving: CancellationToken,
    /// Cancelled when the shutdown deadline passes: unfinished handlings release their message
    /// and receives still in flight are dropped.
    abort: CancellationToken,
    fatal: Mutex<Option<Error>>,
}

impl<H: Handler> Worker<H, Plain> {
    /// Starts configuring a worker that runs `handler` on the messages of `client`'s queue,
    /// with the [`Plain`] lifecycle unless [`WorkerBuilder::lifecycle`] says otherwise.
    pub fn builder(client: QueueClient, handler: H) -> WorkerBuilder<H, Plain> {
        WorkerBuilder::new(client, handler)
    }
}

impl<H: Handler, L: Lifecycle + 'static> Worker<H, L> {
    /// A handle on the counters, readable while the worker runs.
    pub fn stats(&self) -> StatsHandle {
        self.stats.clone()
    }

    /// Runs until `shutdown` completes (a `CancellationToken::cancelled_owned()`, a signal...)
    /// or receiving fails for good, then shuts down gracefully and returns the final counters.
    ///
    /// Shutting down takes as long as the slowest of: the handlings still running, and the
    /// receive in flight (a long poll on an empty queue lasts the client's wait time); never
    /// much longer than the shutdown deadline, after which unfinished handlings are released
    /// and receives dropped.
    ///
    /// # Cancel safety
    ///
    /// Dropping this future stops receiving (a receive already sent is still awaited in the
    /// background and what it returns released) but skips the rest of the graceful shutdown:
    /// handlings already started go on in the background, without the shutdown deadline, and
    /// settle their messages as usual; nothing tells when they are done. Prefer completing
    /// `shutdown` and awaiting the returned future.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<WorkerStats, WorkerError> {
        let stop_receiving = CancellationToken::new();
        let (settler, batcher) = batcher::spawn(
            self.config.client.clone(),
            self.config.settle_window,
            stop_receiving.clone(),
        );
        let shared = Arc::new(Shared {
            slots: Arc::new(Semaphore::new(self.config.concurrency)),
            gathering: tokio::sync::Mutex::new(()),
            config: self.config,
            stats: self.stats.clone(),
            settler,
            receivers: TaskTracker::new(),
            handlings: TaskTracker::new(),
            stop_receiving,
            abort: CancellationToken::new(),
            fatal: Mutex::new(None),
        });
        tracing::debug!(queue = %shared.config.client.queue_url(), concurrency = shared.config.concurrency, "worker started");
        // The receive loops are tasks of their own: without this, dropping `run` would leave
        // them receiving, and handing out messages, for ever.
        let _stop_on_drop = shared.stop_receiving.clone().drop_guard();
        receiver::start(&shared);

        tokio::select! {
            () = shutdown => tracing::debug!("shutdown requested"),
            () = shared.stop_receiving.cancelled() => {}
        }
        shutdown_gracefully(&shared).await;

        let fatal = shared.fatal.lock().expect("not poisoned").take();
        // The last reference to the settler goes with `shared`: the batcher then sends what is
        // pending and ends.
        drop(shared);
        if let Err(err) = batcher.await {
            tracing::error!(error = %err, "settlement batcher failed; pending settlements are lost");
        }
        let stats = self.stats.snapshot();
        match fatal {
            Some(error) => Err(WorkerError { error, stats }),
            None => Ok(stats),
        }
    }
}

/// Stops receiving, waits for receives already sent and for handlings up to the deadline, then
/// has the rest release their messages and waits for that.
async fn shutdown_gracefully<H, L>(shared: &Shared<H, L>) {
    shared.stop_receiving.cancel();
    shared.receivers.close();
    let deadline = Instant::now() + shared.config.shutdown_deadline;

    // Receive loops first: until they end, one may still hand out what it received before
    // receiving stopped.
    let finished = async {
        shared.receivers.wait().await;
        shared.handlings.close();
        shared.handlings.wait().await;
    };
    if tokio::time::timeout_at(deadline, finished).await.is_ok() {
        return;
    }
    tracing::debug!(
        unfinished = shared.handlings.len(),
        "shutdown deadline passed, releasing unfinished messages"
    );
    shared.abort.cancel();
    shared.receivers.wait().await;
    shared.handlings.close();
    shared.handlings.wait().await;
}
