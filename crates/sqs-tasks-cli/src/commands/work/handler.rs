//! The worker's handler: run the task (a command or an HTTP call), then deliver its result.

use sqs_tasks::{Handler, Message, TaskError};

use super::exec::Exec;
use super::http::HttpTarget;
use super::results::Results;

/// What runs a task.
#[derive(Debug)]
pub(crate) enum Runner {
    Exec(Exec),
    /// Boxed: the HTTP client is large, and there is one runner per worker.
    Http(Box<HttpTarget>),
}

/// A task runner and the destination of its results.
#[derive(Debug)]
pub(crate) struct TaskHandler {
    pub(crate) runner: Runner,
    pub(crate) results: Results,
}

impl Handler for TaskHandler {
    type Output = ();

    async fn handle(&self, message: Message) -> Result<(), TaskError> {
        let result = match &self.runner {
            Runner::Exec(exec) => exec.run(&message).await,
            Runner::Http(target) => target.run(&message).await,
        };
        // The result is delivered before the handler returns, so before the message is
        // acked: a crash in between repeats the task rather than losing its result.
        let delivered = match result {
            Ok(result) => self.results.deliver(&message, result).await,
            Err(failed) => Err(failed),
        };
        delivered.map_err(|failed| {
            failed.log(&message);
            failed.into_task_error()
        })
    }
}
