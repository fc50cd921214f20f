//! `sqs-tasks work`: handle a queue's messages with a command or an HTTP endpoint.

mod exec;
mod groups;
mod handler;
mod http;
mod outcome;
mod policy;
pub(crate) mod results;
mod until_empty;

use std::time::Duration;

use ::http::{HeaderName, HeaderValue};
use sqs_tasks::lifecycle::{Either, Heartbeat};
use sqs_tasks::{Worker, WorkerStats};

use crate::duration;
use crate::endpoint::Sqs;
use crate::error::CliError;
use crate::logging::Ui;
use crate::{signals, status};

pub(crate) use policy::{RetryKind, WorkLifecycle};

/// Shown at the end of `sqs-tasks work --help`.
const AFTER_LONG_HELP: &str = "\
--exec CMD runs `sh -c CMD` for each message, in its own process group, with:
  stdin                      the message's body
  SQS_TASKS_MESSAGE_ID       the message id
  SQS_TASKS_RECEIVE_COUNT    how many times the message was received (1 the first time)
  SQS_TASKS_QUEUE            the queue's name (SQS_TASKS_QUEUE_URL: its URL)
  SQS_TASKS_SENT_TIMESTAMP   when it was sent, in milliseconds since 1970
  SQS_TASKS_ATTR_<NAME>      each message attribute, NAME upper-cased with `.` and `-` as `_`
                             (Binary values in base64)
Its exit code decides the message's fate:
  0     success: stdout is the result, and the message is deleted
  75    retry asked for (EX_TEMPFAIL): retried per --retry, logged as information
  65    permanent failure (EX_DATAERR): moved to the dead-letter queue (deleted if none)
  other failure (or death by a signal): logged with the end of stderr, retried per --retry;
        SQS moves the message to the dead-letter queue after the queue's --max-receives
--timeout kills the whole process group and retries. Stderr is logged (its last 4 KiB) when
the task fails; with SQS_TASKS_LOG=debug, also when it succeeds.

--http URL POSTs each body (Content-Type application/json when it is JSON) with headers
sqs-tasks-message-id, sqs-tasks-receive-count, sqs-tasks-queue and sqs-tasks-attr-<name>:
  2xx               success: the response body is the result
  429 or 503 with Retry-After (seconds or a date): retried at that time
  other 4xx         permanent failure (408 and 429 without Retry-After are retried)
  5xx, timeouts, refused connections: retried per --retry

Results: with --results-queue R each non-empty result is sent to R, with the attributes
sqs_tasks.message_id and sqs_tasks.queue naming the message it answers, before the message is
deleted; without it, each result is printed on stdout as {\"message_id\": ..., \"result\": ...}.

Stopping: SIGINT or SIGTERM stops receiving, lets running tasks finish up to
--shutdown-deadline, makes the messages of unfinished ones visible again, and exits 0; a second
signal kills running commands and exits at once (128 + the signal's number).";

#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_LONG_HELP)]
#[command(group(clap::ArgGroup::new("handler").required(true).args(["exec", "http"])))]
pub(crate) struct WorkArgs {
    /// The queue's name or URL.
    #[arg(long)]
    queue: String,
    /// Run this shell command for each message (see below).
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
    /// POST each message to this http:// URL (see below).
    #[arg(long, value_name = "URL")]
    http: Option<String>,
    /// An extra header for --http requests, `Name: value`; repeatable.
    #[arg(long = "header", requires = "http", value_parser = parse_header, value_name = "HEADER")]
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Send each result to this queue (name or URL) before the message is deleted.
    #[arg(long, value_name = "QUEUE")]
    results_queue: Option<String>,
    /// How many messages are handled at once.
    #[arg(long, short = 'c', default_value_t = 16, value_parser = super::parse_concurrency)]
    concurrency: usize,
    /// How long a received message stays hidden; the heartbeat keeps it hidden this long
    /// ahead while its task runs.
    #[arg(long, default_value = "30s", value_parser = duration::parse, value_name = "DURATION")]
    visibility_timeout: Duration,
    /// How often running tasks' messages are kept hidden (default: half the visibility
    /// timeout).
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    heartbeat: Option<Duration>,
    /// No heartbeat: a task must finish within the visibility timeout or its message is
    /// delivered again.
    #[arg(long, conflicts_with = "heartbeat")]
    no_heartbeat: bool,
    /// How failed tasks are retried.
    #[arg(long, value_enum, default_value_t = RetryKind::Exponential)]
    retry: RetryKind,
    /// The delay before a retry (the first one, for exponential).
    #[arg(long, default_value = "1s", value_parser = duration::parse, value_name = "DURATION")]
    retry_delay: Duration,
    /// The longest delay between retries (exponential).
    #[arg(long, default_value = "15m", value_parser = duration::parse, value_name = "DURATION")]
    retry_max_delay: Duration,
    /// Give up on a task after this long: its command is killed (or its request dropped) and
    /// the message retried. No limit by default.
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    timeout: Option<Duration>,
    /// How long a stop waits for running tasks before giving their messages back.
    #[arg(long, default_value = "30s", value_parser = duration::parse, value_name = "DURATION")]
    shutdown_deadline: Duration,
    /// Stop once the queue has no visible, in-flight or delayed message left.
    #[arg(long)]
    until_empty: bool,
}

/// The long-poll wait of a worker started with `--until-empty`.
const UNTIL_EMPTY_WAIT: Duration = Duration::from_secs(1);

pub(crate) async fn run(args: WorkArgs, sqs: &Sqs, ui: &Ui) -> Result<(), CliError> {
    // With --until-empty the stop is part of the plan: short polls keep it from waiting out
    // a long poll on the emptied queue.
    let client = if args.until_empty {
        sqs.queue_polling(&args.queue, UNTIL_EMPTY_WAIT).await?
    } else {
        sqs.queue(&args.queue).await?
    };
    let groups = groups::ProcessGroups::default();
    let runner = match (&args.exec, &args.http) {
        (Some(command), _) => handler::Runner::Exec(exec::Exec::new(
            command.clone(),
            &args.queue,
            client.queue_url(),
            groups.clone(),
        )),
        (None, Some(url)) => {
            let target = http::HttpTarget::new(url, &args.queue, &args.headers, args.concurrency)?;
            handler::Runner::Http(Box::new(target))
        }
        (None, None) => unreachable!("clap requires --exec or --http"),
    };
    let (results, results_task) = match &args.results_queue {
        Some(name) => {
            let (sender, task) = results::spawn(sqs.queue(name).await?, &args.queue);
            (results::Results::Queue(sender), Some(task))
        }
        None => (results::Results::Stdout, None),
    };

    let handler = handler::TaskHandler { runner, results };
    let lifecycle = lifecycle(&args)?;
    let mut builder = Worker::builder(client.clone(), handler)
        .lifecycle(lifecycle)
        .concurrency(args.concurrency)
        .visibility_timeout(args.visibility_timeout)
        .shutdown_deadline(args.shutdown_deadline);
    if let Some(timeout) = args.timeout {
        builder = builder.handler_timeout(timeout);
    }
    let worker = builder
        .build()
        .map_err(|e| CliError::failed(e.to_string()))?;

    let stop = signals::install(move || groups.kill_all())?;
    if args.until_empty {
        let watch = until_empty::watch(
            sqs.clone(),
            client.queue_url().to_owned(),
            worker.stats(),
            stop.clone(),
        );
        tokio::spawn(watch);
    }
    tracing::info!(
        queue = %args.queue,
        concurrency = args.concurrency,
        "working on `{}`: {} at once, messages hidden {} ahead",
        crate::endpoint::queue_name(&args.queue),
        args.concurrency,
        duration::show(args.visibility_timeout),
    );
    let status = status::start(ui, worker.stats(), None);
    let ran = worker.run(stop.cancelled_owned()).await;
    status.finish(ui).await;
    // The worker, and with it the handler and the results sender, is gone: the results task
    // sends what is left and ends.
    if let Some(task) = results_task {
        let _ = task.await;
    }

    match ran {
        Ok(stats) => {
            summary(ui, &stats);
            Ok(())
        }
        Err(err) => {
            summary(ui, &err.stats());
            Err(sqs.framework_error(err.error(), &args.queue))
        }
    }
}

/// The retry policy, in a heartbeat unless turned off.
fn lifecycle(args: &WorkArgs) -> Result<WorkLifecycle, CliError> {
    let retry = policy::retry(args.retry, args.retry_delay, args.retry_max_delay);
    if args.no_heartbeat {
        return Ok(Either::Right(retry));
    }
    let mut heartbeat = Heartbeat::builder(retry).visibility(args.visibility_timeout);
    if let Some(interval) = args.heartbeat {
        heartbeat = heartbeat.interval(interval);
    }
    let heartbeat = heartbeat.build().map_err(|e| {
        CliError::failed(format!(
            "{e}; choose a longer --visibility-timeout or a shorter --heartbeat"
        ))
    })?;
    Ok(Either::Left(heartbeat))
}

fn summary(ui: &Ui, stats: &WorkerStats) {
    let line = format!(
        "stopped: {} succeeded, {} retried, {} failed for good ({} dead-lettered), {} given \
         back unfinished",
        stats.succeeded, stats.retried, stats.failed, stats.dead_lettered, stats.released
    );
    if ui.json() {
        tracing::info!(
            succeeded = stats.succeeded,
            retried = stats.retried,
            failed = stats.failed,
            dead_lettered = stats.dead_lettered,
            released = stats.released,
            settle_errors = stats.settle_errors,
            "{line}"
        );
    } else {
        ui.line(&line);
    }
    if stats.settle_errors > 0 {
        tracing::warn!(
            "{} messages could not be settled; SQS delivers them again when their visibility \
             timeout ends",
            stats.settle_errors
        );
    }
}

/// Parses `Name: value`.
fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("`{name}` is not a header name"))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|_| format!("`{value}` is not a header value"))?;
    Ok((name, value))
}
