//! `sqs-tasks send`: one message, or one message per line of a file or of standard input.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sqs_tasks::{AttributeValue, OutgoingMessage, QueueClient};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::task::JoinSet;

use crate::duration;
use crate::endpoint::Sqs;
use crate::error::{CliError, Exit};
use crate::logging::Ui;

/// Messages per SendMessageBatch request: SQS's maximum.
const BATCH: usize = 10;

/// Batch requests in flight at once.
const PARALLEL_BATCHES: usize = 8;

/// Failed lines reported one by one; the rest are only counted.
const REPORTED_FAILURES: usize = 10;

#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    /// The queue's name or URL.
    #[arg(long)]
    queue: String,
    /// The body of one message; `-` reads messages one a line from standard input. Without
    /// it, messages are read one a line from --file or from standard input (empty lines are
    /// skipped).
    #[arg(conflicts_with = "file")]
    body: Option<String>,
    /// A file of messages, one a line (JSON Lines, typically); `-` for standard input.
    #[arg(long, value_name = "PATH")]
    file: Option<String>,
    /// Deliver the messages only after this delay (at most 15m).
    #[arg(long, value_parser = parse_delay, value_name = "DURATION")]
    delay: Option<Duration>,
    /// A message attribute, NAME=VALUE (a string) or NAME:Number=VALUE; repeatable, at most 10.
    #[arg(long = "attribute", value_parser = parse_attribute, value_name = "NAME=VALUE")]
    attributes: Vec<(String, AttributeValue)>,
}

pub(crate) async fn run(args: SendArgs, sqs: &Sqs, ui: &Ui) -> Result<(), CliError> {
    let client = sqs.queue(&args.queue).await?;
    if let Some(body) = args.body.as_ref().filter(|body| body.as_str() != "-") {
        let id = client
            .send(message(&args, body.clone()))
            .await
            .map_err(|err| sqs.framework_error(&err, &args.queue))?;
        println!("{id}");
        return Ok(());
    }

    let (input, size): (Box<dyn AsyncRead + Unpin + Send>, Option<u64>) = match args.file.as_deref()
    {
        None | Some("-") => (Box::new(tokio::io::stdin()), None),
        Some(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| CliError::failed(format!("cannot open {path}: {e}")))?;
            let size = file.metadata().await.ok().map(|m| m.len());
            (Box::new(file), size)
        }
    };
    let bar = progress_bar(ui, size);
    let report = send_lines(&args, &client, input, &bar).await;
    ui.clear_bar();
    let report = report?;

    let name = crate::endpoint::queue_name(&args.queue);
    eprintln!("sent {} messages to `{name}`", report.sent);
    if report.failures.is_empty() {
        return Ok(());
    }
    for (line, error) in report.failures.iter().take(REPORTED_FAILURES) {
        eprintln!("line {line}: {error}");
    }
    Err(CliError::with_exit(
        format!(
            "{} messages could not be sent (their line numbers are above)",
            report.failures.len()
        ),
        Exit::Incomplete,
    ))
}

/// A delay SQS accepts: at most 15 minutes, in whole seconds.
fn parse_delay(text: &str) -> Result<Duration, String> {
    let delay = duration::parse(text)?;
    if delay > Duration::from_secs(900) {
        return Err(format!(
            "`{text}` is longer than SQS allows for a delay (at most 15m)"
        ));
    }
    Ok(delay)
}

fn message(args: &SendArgs, body: String) -> OutgoingMessage {
    let mut message = OutgoingMessage::new(body);
    if let Some(delay) = args.delay {
        message = message.delay(delay);
    }
    for (name, value) in &args.attributes {
        message = message.attribute(name.clone(), value.clone());
    }
    message
}

/// What a send of many lines did.
#[derive(Debug, Default)]
struct Report {
    sent: u64,
    /// Line number and error of each message that was not sent.
    failures: Vec<(u64, String)>,
}

/// Reads lines and sends them in batches, several batches at a time.
async fn send_lines(
    args: &SendArgs,
    client: &QueueClient,
    input: Box<dyn AsyncRead + Unpin + Send>,
    bar: &ProgressBar,
) -> Result<Report, CliError> {
    let mut lines = BufReader::new(input).lines();
    let mut report = Report::default();
    let mut batches = JoinSet::new();
    let mut batch: Vec<(u64, OutgoingMessage)> = Vec::with_capacity(BATCH);
    let mut number = 0;

    loop {
        let line = lines
            .next_line()
            .await
            .map_err(|e| CliError::failed(format!("cannot read the messages: {e}")))?;
        if let Some(line) = &line {
            number += 1;
            bar.inc(line.len() as u64 + 1);
            if !line.trim().is_empty() {
                batch.push((number, message(args, line.clone())));
            }
        }
        let full = batch.len() == BATCH || (line.is_none() && !batch.is_empty());
        if full {
            let client = client.clone();
            let taken = std::mem::take(&mut batch);
            batches.spawn(async move {
                let (numbers, messages): (Vec<u64>, Vec<_>) = taken.into_iter().unzip();
                numbers
                    .into_iter()
                    .zip(client.send_batch(messages).await)
                    .collect::<Vec<_>>()
            });
        }
        while batches.len() >= PARALLEL_BATCHES || (line.is_none() && !batches.is_empty()) {
            let results = batches.join_next().await.expect("not empty");
            record(&mut report, results.expect("send tasks do not panic"));
            bar.set_message(format!("{} messages sent", report.sent));
        }
        if line.is_none() {
            return Ok(report);
        }
    }
}

fn record(report: &mut Report, results: Vec<(u64, Result<String, sqs_tasks::Error>)>) {
    for (line, result) in results {
        match result {
            Ok(_) => report.sent += 1,
            Err(err) => report.failures.push((line, err.to_string())),
        }
    }
}

/// A progress bar over the bytes of the input, drawn only on a terminal and for a file.
fn progress_bar(ui: &Ui, size: Option<u64>) -> ProgressBar {
    let (Some(size), true) = (size, ui.live()) else {
        return ProgressBar::hidden();
    };
    let bar = ProgressBar::new(size);
    let style = ProgressStyle::with_template(
        "{bar:40} {percent:>3}%  {msg}  {elapsed} elapsed, {eta} left",
    )
    .expect("the template is valid");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    ui.show_bar(bar.clone());
    bar
}

/// Parses `NAME=VALUE` or `NAME:Type=VALUE` (Type String or Number, with an optional custom
/// suffix such as `Number.float`).
fn parse_attribute(text: &str) -> Result<(String, AttributeValue), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    let (name, kind) = key.split_once(':').unwrap_or((key, "String"));
    let (base, suffix) = kind.split_once('.').unwrap_or((kind, ""));
    let value = match base {
        "String" => AttributeValue::string(value),
        "Number" => {
            value
                .parse::<f64>()
                .map_err(|_| format!("`{value}` is not a number"))?;
            AttributeValue::number(value)
        }
        other => return Err(format!("attribute type `{other}` is not String or Number")),
    };
    let value = if suffix.is_empty() {
        value
    } else {
        value.with_custom_type(suffix)
    };
    Ok((name.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_default_to_strings_and_may_be_numbers() {
        let (name, value) = parse_attribute("priority:Number=2").unwrap();
        assert_eq!(name, "priority");
        assert_eq!(value.data_type(), "Number");
        let (_, value) = parse_attribute("team=search=fast").unwrap();
        assert_eq!(value.as_str(), Some("search=fast"));
        assert!(parse_attribute("priority:Number=high").is_err());
        assert!(parse_attribute("no-value").is_err());
    }
}
