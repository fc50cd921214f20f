//! Log lines on stderr, as text or JSON, sharing the terminal with a live status line.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::endpoint::Endpoint;
use crate::error::CliError;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object a line.
    Json,
}

/// What the commands write to stderr besides their logs: the endpoint banner, the final error,
/// and the live status line, which log lines must not tear.
#[derive(Debug, Clone)]
pub(crate) struct Ui {
    format: LogFormat,
    /// The status line being drawn, if any: log lines are written around it.
    bar: Arc<Mutex<Option<ProgressBar>>>,
}

impl Ui {
    pub(crate) fn new(format: LogFormat) -> Self {
        Ui {
            format,
            bar: Arc::default(),
        }
    }

    /// True when a status line can be drawn: text logs on a terminal.
    pub(crate) fn live(&self) -> bool {
        self.format == LogFormat::Text && std::io::stderr().is_terminal()
    }

    pub(crate) fn json(&self) -> bool {
        self.format == LogFormat::Json
    }

    /// Draws `bar` until [`Ui::clear_bar`]; log lines are written above it meanwhile.
    pub(crate) fn show_bar(&self, bar: ProgressBar) {
        *self.bar.lock().expect("not poisoned") = Some(bar);
    }

    /// Replaces the text of the status line, if one is drawn.
    pub(crate) fn update_bar(&self, text: &str) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").as_ref() {
            bar.set_message(text.to_owned());
        }
    }

    /// Removes the status line.
    pub(crate) fn clear_bar(&self) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").take() {
            bar.finish_and_clear();
        }
    }

    /// The first line of every command that talks to SQS: where, and in which region.
    pub(crate) fn banner(&self, endpoint: &Endpoint) {
        if self.json() {
            tracing::info!(
                endpoint = %endpoint.url,
                region = %endpoint.region,
                source = %endpoint.source,
                "using SQS at {} (region {})",
                endpoint.url,
                endpoint.region
            );
        } else {
            self.line(&format!(
                "sqs-tasks: using SQS at {} (region {}; {})",
                endpoint.url, endpoint.region, endpoint.source
            ));
        }
    }

    /// The error a command ended with.
    pub(crate) fn error(&self, error: &CliError) {
        self.clear_bar();
        if self.json() {
            tracing::error!(exit_code = error.exit() as u8, "{error}");
        } else {
            self.line(&format!("error: {error}"));
        }
    }

    /// A plain line on stderr, above the status line if one is drawn.
    pub(crate) fn line(&self, text: &str) {
        write_stderr(&self.bar, format!("{text}\n").as_bytes());
    }
}

/// Installs the tracing subscriber; `SQS_TASKS_LOG` overrides the filter.
pub(crate) fn init(ui: &Ui) {
    let filter = EnvFilter::try_from_env("SQS_TASKS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,sqs_tasks=info,sqs_tasks_local=info"));
    let writer = StderrAroundBar {
        bar: Arc::clone(&ui.bar),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    match ui.format {
        LogFormat::Text => builder.with_ansi(ui.live()).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn write_stderr(bar: &Mutex<Option<ProgressBar>>, bytes: &[u8]) {
    let write = || {
        let mut stderr = std::io::stderr().lock();
        // A closed stderr leaves nowhere to report the failure to.
        let _ = stderr.write_all(bytes);
        let _ = stderr.flush();
    };
    let bar = bar.lock().expect("not poisoned").clone();
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Hands tracing a writer per event that writes the whole event at once, hiding the status
/// line meanwhile.
#[derive(Debug, Clone)]
struct StderrAroundBar {
    bar: Arc<Mutex<Option<ProgressBar>>>,
}

impl<'a> MakeWriter<'a> for StderrAroundBar {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter {
            bar: Arc::clone(&self.bar),
            buffer: Vec::new(),
        }
    }
}

/// Collects one event and writes it when dropped.
#[derive(Debug)]
struct EventWriter {
    bar: Arc<Mutex<Option<ProgressBar>>>,
    buffer: Vec<u8>,
}

impl Write for EventWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            write_stderr(&self.bar, &self.buffer);
        }
    }
}
