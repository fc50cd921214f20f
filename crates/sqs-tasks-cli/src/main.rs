//! The `sqs-tasks` command: a worker daemon for SQS tasks, and the daily tools around it.

mod commands;
mod duration;
mod endpoint;
mod error;
mod logging;
mod signals;
mod status;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::logging::{LogFormat, Ui};

// Both the server and the SDK allocate a little for every request; this allocator roughly
// doubles what the system one sustains under load (see the throughput benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Shown at the end of `sqs-tasks --help`.
const AFTER_LONG_HELP: &str = "\
Endpoint:
  Every command but `serve` and `demo` talks to the endpoint given with --endpoint, else to the
  one of the standard AWS environment (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, the profile's
  endpoint_url) with its region (AWS_REGION, AWS_DEFAULT_REGION, --region) and credentials.
  With no endpoint and no AWS configuration at all (no region, no credential or profile
  variables, no ~/.aws/config or ~/.aws/credentials), it talks to the local server at
  http://127.0.0.1:9324 (where `sqs-tasks serve` listens) with dummy credentials, region
  us-east-1. The first line every command writes to stderr names the endpoint and region.

Exit codes:
  0    success
  1    the command failed: SQS refused or could not be reached, a file could not be read...
  2    the command line is invalid
  3    a queue named on the command line does not exist
  4    incomplete: some messages could not be sent, or (demo) did not end as succeeded or
       dead-lettered
  128+N  stopped at once by a second signal N (130 for Ctrl-C, 143 for SIGTERM)

Logging:
  Logs go to stderr; SQS_TASKS_LOG sets the filter (e.g. debug, or sqs_tasks=trace).";

/// Run long, slow tasks from Amazon SQS, or from the embedded SQS-compatible server.
#[derive(Debug, Parser)]
#[command(name = "sqs-tasks", version, about, after_long_help = AFTER_LONG_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalArgs,
}

/// An endpoint must be a whole URL: the SDK cannot guess the scheme.
fn parse_endpoint(text: &str) -> Result<String, String> {
    if text.starts_with("http://") || text.starts_with("https://") {
        Ok(text.trim_end_matches('/').to_owned())
    } else {
        Err(format!(
            "`{text}` is not a URL; write it with its scheme, e.g. http://{text}"
        ))
    }
}

/// Options every command accepts.
#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// SQS endpoint URL (default: from the AWS environment, else http://127.0.0.1:9324).
    #[arg(long, global = true, value_name = "URL", value_parser = parse_endpoint)]
    endpoint: Option<String>,
    /// AWS region (default: from the AWS environment, else us-east-1 for the local server).
    #[arg(long, global = true)]
    region: Option<String>,
    /// How log lines are written: text for people, json (one object a line) for machines.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded SQS-compatible server.
    Serve(commands::serve::ServeArgs),
    /// Handle a queue's messages with a program or an HTTP endpoint.
    Work(commands::work::WorkArgs),
    /// Send messages: one body, a file of one message a line, or standard input.
    Send(commands::send::SendArgs),
    /// Create, delete, purge and list queues.
    #[command(subcommand)]
    Queue(commands::queue::QueueCommand),
    /// Show queues with their visible, in-flight and delayed messages.
    Stats(commands::stats::StatsArgs),
    /// Look at a queue's messages without consuming them.
    Peek(commands::peek::PeekArgs),
    /// Run the whole pipeline on an embedded server with simulated LLM calls.
    Demo(commands::demo::DemoArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.global.log_format);
    logging::init(&ui);

    let result = run(cli.command, &cli.global, &ui).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            ui.error(&error);
            error.exit_code()
        }
    }
}

async fn run(command: Command, global: &GlobalArgs, ui: &Ui) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => commands::serve::run(args, ui).await,
        Command::Demo(args) => commands::demo::run(args, ui).await,
        Command::Work(args) => commands::work::run(args, &connect(global, ui).await?, ui).await,
        Command::Send(args) => commands::send::run(args, &connect(global, ui).await?, ui).await,
        Command::Queue(cmd) => commands::queue::run(cmd, &connect(global, ui).await?).await,
        Command::Stats(args) => commands::stats::run(args, &connect(global, ui).await?, ui).await,
        Command::Peek(args) => commands::peek::run(args, &connect(global, ui).await?).await,
    }
}

/// Resolves the endpoint and announces it before anything else is written.
async fn connect(global: &GlobalArgs, ui: &Ui) -> Result<endpoint::Sqs, CliError> {
    let sqs = endpoint::connect(global.endpoint.as_deref(), global.region.as_deref()).await?;
    ui.banner(sqs.endpoint());
    Ok(sqs)
}
