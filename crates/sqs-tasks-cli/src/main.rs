//! The `sqs-tasks` command: a worker daemon for SQS tasks, and the daily tools around it.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run long, slow tasks from Amazon SQS, or from the embedded SQS-compatible server.
#[derive(Debug, Parser)]
#[command(name = "sqs-tasks", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded SQS-compatible server.
    Serve(commands::serve::ServeArgs),
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SQS_TASKS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
