//! `sqs-tasks queue`: create, delete, purge and list queues.

mod create;
mod list;
mod remove;

pub(crate) use create::{create, dead_letter_arn};
pub(crate) use list::list_urls;

use crate::endpoint::Sqs;
use crate::error::CliError;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum QueueCommand {
    /// Create a queue (and its dead-letter queue); prints the queue's URL. Creating a queue
    /// that exists with the same settings succeeds.
    Create(create::CreateArgs),
    /// Delete a queue and all its messages.
    Delete {
        /// The queue's name or URL.
        queue: String,
    },
    /// Delete all the messages of a queue (SQS allows one purge a minute per queue).
    Purge {
        /// The queue's name or URL.
        queue: String,
    },
    /// List queue names, one a line.
    List(list::ListArgs),
}

pub(crate) async fn run(command: QueueCommand, sqs: &Sqs) -> Result<(), CliError> {
    match command {
        QueueCommand::Create(args) => create::run(args, sqs).await,
        QueueCommand::Delete { queue } => remove::delete(&queue, sqs).await,
        QueueCommand::Purge { queue } => remove::purge(&queue, sqs).await,
        QueueCommand::List(args) => list::run(args, sqs).await,
    }
}
