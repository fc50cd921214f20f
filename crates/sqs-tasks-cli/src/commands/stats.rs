//! `sqs-tasks stats`: a table of queues and their message counts.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use futures_util::future::try_join_all;

use crate::commands::queue::list_urls;
use crate::duration;
use crate::endpoint::{Sqs, queue_name};
use crate::error::CliError;
use crate::logging::Ui;
use crate::signals;

#[derive(Debug, clap::Args)]
pub(crate) struct StatsArgs {
    /// Queues to show (names or URLs); all queues when none is given.
    queues: Vec<String>,
    /// Only queues whose name starts with this (when no queue is named).
    #[arg(long)]
    prefix: Option<String>,
    /// Refresh the table until interrupted.
    #[arg(long)]
    watch: bool,
    /// How often --watch refreshes.
    #[arg(long, default_value = "2s", value_parser = parse_interval, value_name = "DURATION")]
    interval: Duration,
    /// One JSON object per queue and line instead of a table.
    #[arg(long)]
    json: bool,
}

/// The counts of one queue. SQS's counts are approximate: they may lag by a few seconds.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct QueueCounts {
    pub(crate) queue: String,
    pub(crate) visible: u64,
    pub(crate) in_flight: u64,
    pub(crate) delayed: u64,
    pub(crate) dead_letter: Option<String>,
    pub(crate) max_receives: Option<u64>,
}

pub(crate) async fn run(args: StatsArgs, sqs: &Sqs, ui: &Ui) -> Result<(), CliError> {
    if !args.watch {
        return print_once(&args, sqs).await;
    }
    let stop = signals::install(|| {})?;
    let clear = std::io::stdout().is_terminal() && !args.json;
    while !stop.is_cancelled() {
        if clear {
            print!("\x1b[2J\x1b[H");
        }
        print_once(&args, sqs).await?;
        tokio::select! {
            () = tokio::time::sleep(args.interval) => {}
            () = stop.cancelled() => {}
        }
        if !clear && !args.json {
            println!();
        }
    }
    ui.clear_bar();
    Ok(())
}

async fn print_once(args: &StatsArgs, sqs: &Sqs) -> Result<(), CliError> {
    let urls = if args.queues.is_empty() {
        list_urls(sqs, args.prefix.as_deref()).await?
    } else {
        try_join_all(args.queues.iter().map(|q| sqs.queue_url(q))).await?
    };
    let rows = try_join_all(urls.iter().map(|url| counts(sqs, url))).await?;
    if args.json {
        for row in &rows {
            println!(
                "{}",
                serde_json::to_string(row).expect("plain data serialises")
            );
        }
    } else {
        print!("{}", table(&rows));
    }
    Ok(())
}

/// Reads one queue's counts and redrive policy.
pub(crate) async fn counts(sqs: &Sqs, url: &str) -> Result<QueueCounts, CliError> {
    let output = sqs
        .sdk()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(|err| sqs.sdk_error(err, Some(url)))?;
    let attributes: HashMap<QueueAttributeName, String> = output.attributes.unwrap_or_default();
    let number = |name: QueueAttributeName| {
        attributes
            .get(&name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let policy = attributes
        .get(&QueueAttributeName::RedrivePolicy)
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok());
    let dead_letter = policy.as_ref().and_then(|p| {
        let arn = p["deadLetterTargetArn"].as_str()?;
        Some(arn.rsplit(':').next()?.to_owned())
    });
    // SQS writes maxReceiveCount as a number or as a string, depending on who set it.
    let max_receives = policy.as_ref().and_then(|p| {
        let value = &p["maxReceiveCount"];
        value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
    });
    Ok(QueueCounts {
        queue: queue_name(url).to_owned(),
        visible: number(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: number(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        dead_letter,
        max_receives,
    })
}

/// Renders rows as an aligned table.
fn table(rows: &[QueueCounts]) -> String {
    let mut lines = vec![[
        "QUEUE".to_owned(),
        "VISIBLE".to_owned(),
        "IN-FLIGHT".to_owned(),
        "DELAYED".to_owned(),
        "DEAD-LETTER".to_owned(),
    ]];
    for row in rows {
        let dead_letter = match (&row.dead_letter, row.max_receives) {
            (Some(queue), Some(max)) => format!("{queue} (after {max} receives)"),
            (Some(queue), None) => queue.clone(),
            _ => "-".to_owned(),
        };
        lines.push([
            row.queue.clone(),
            row.visible.to_string(),
            row.in_flight.to_string(),
            row.delayed.to_string(),
            dead_letter,
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| lines.iter().map(|l| l[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, cell)| match i {
                0 | 4 => format!("{cell:<w$}", w = widths[i]),
                _ => format!("{cell:>w$}", w = widths[i]),
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no queues)\n");
    }
    out
}

/// A refresh interval: a tenth of a second at least, so --watch never floods the endpoint.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = duration::parse(text)?;
    if interval < Duration::from_millis(100) {
        return Err(format!(
            "`{text}` is too short for --interval (at least 100ms)"
        ));
    }
    Ok(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_numbers_right_and_names_left() {
        let rows = [QueueCounts {
            queue: "jobs".into(),
            visible: 12,
            in_flight: 3,
            delayed: 0,
            dead_letter: Some("jobs-dlq".into()),
            max_receives: Some(5),
        }];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "QUEUE  VISIBLE  IN-FLIGHT  DELAYED  DEAD-LETTER");
        assert_eq!(
            lines[1],
            "jobs        12          3        0  jobs-dlq (after 5 receives)"
        );
    }
}
