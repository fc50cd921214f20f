//! `sqs-tasks serve`: the embedded SQS-compatible server as a standalone process.

use std::net::SocketAddr;

use sqs_tasks_local::LocalSqs;

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
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let server = LocalSqs::builder()
        .bind(args.bind)
        .account_id(&args.account_id)
        .cooldowns(!args.no_cooldowns)
        .start()
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    println!("sqs-tasks local SQS listening on {}", server.endpoint_url());
    println!("messages are kept in memory: they are lost when this process stops");
    println!("point clients at it with:");
    println!("  export AWS_ENDPOINT_URL_SQS={}", server.endpoint_url());
    tokio::signal::ctrl_c().await?;
    eprintln!("shutting down");
    server.shutdown().await;
    Ok(())
}
