//! `sqs-tasks serve`: the embedded SQS-compatible server as a standalone process.

use std::net::SocketAddr;
use std::path::PathBuf;

use sqs_tasks_local::LocalSqs;

use crate::error::CliError;
use crate::logging::Ui;
use crate::signals;

/// The address `serve` listens on, and clients use, when none is given.
pub(crate) const DEFAULT_BIND: &str = "127.0.0.1:9324";

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = DEFAULT_BIND)]
    bind: SocketAddr,
    /// Twelve-digit account id used in queue URLs and ARNs.
    #[arg(long, default_value = sqs_tasks_local::DEFAULT_ACCOUNT_ID)]
    account_id: String,
    /// Turn off SQS's 60-second rules (one purge a minute, no re-creating a queue within a
    /// minute of deleting it), for test suites that re-create queues.
    #[arg(long)]
    no_cooldowns: bool,
    /// Keep queues and messages in this directory, so they survive restarts and crashes
    /// (a change is answered only once it is on disk). Without it, everything lives in
    /// memory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(crate) async fn run(args: ServeArgs, ui: &Ui) -> Result<(), CliError> {
    // Listening for signals before announcing the address: a supervisor that stops the
    // server as soon as it is up must get a graceful stop, not the default of dying.
    let stop = signals::install(|| {})?;
    let mut builder = LocalSqs::builder()
        .bind(args.bind)
        .account_id(&args.account_id)
        .cooldowns(!args.no_cooldowns);
    if let Some(dir) = &args.data_dir {
        builder = builder.data_dir(dir);
    }
    let server = builder.start().await.map_err(|e| {
        let mut text = e.to_string();
        if let Some(source) = std::error::Error::source(&e) {
            text = format!("{text}: {source}");
        }
        CliError::failed(text)
    })?;
    ui.line(&format!(
        "sqs-tasks: serving SQS at {} (any region, any credentials)",
        server.endpoint_url()
    ));
    println!("sqs-tasks local SQS listening on {}", server.endpoint_url());
    match &args.data_dir {
        Some(dir) => println!("queues and messages are kept on disk in {}", dir.display()),
        None => println!(
            "queues and messages are kept in memory: they are lost when this process stops \
             (keep them with --data-dir DIR)"
        ),
    }
    println!("point clients at it with:");
    println!("  export AWS_ENDPOINT_URL_SQS={}", server.endpoint_url());

    stop.cancelled().await;
    server.shutdown().await;
    Ok(())
}
