//! `sqs-tasks queue delete` and `sqs-tasks queue purge`: the two commands that destroy messages.

use crate::endpoint::{Sqs, queue_name};
use crate::error::CliError;

pub(crate) async fn delete(queue: &str, sqs: &Sqs) -> Result<(), CliError> {
    let url = sqs.queue_url(queue).await?;
    let deleted = sqs.sdk().delete_queue().queue_url(&url).send().await;
    deleted.map_err(|err| sqs.sdk_error(err, Some(queue)))?;
    eprintln!("deleted queue `{}`", queue_name(queue));
    Ok(())
}

pub(crate) async fn purge(queue: &str, sqs: &Sqs) -> Result<(), CliError> {
    let url = sqs.queue_url(queue).await?;
    let purged = sqs.sdk().purge_queue().queue_url(&url).send().await;
    purged.map_err(|err| {
        let too_soon = err
            .as_service_error()
            .is_some_and(|e| e.is_purge_queue_in_progress());
        if too_soon {
            CliError::failed(format!(
                "queue `{}` was purged less than 60 seconds ago; SQS allows one purge a minute, \
                 try again shortly",
                queue_name(queue)
            ))
        } else {
            sqs.sdk_error(err, Some(queue))
        }
    })?;
    eprintln!("purged queue `{}`", queue_name(queue));
    Ok(())
}
