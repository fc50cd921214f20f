//! SQS errors turned into sentences that say what to do next.

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

use super::Sqs;
use crate::error::{CliError, Exit};

/// What went wrong, whichever layer reported it.
enum Problem {
    QueueMissing,
    Denied(String),
    Unreachable(String),
    Refused(String),
}

impl Problem {
    fn of(err: &sqs_tasks::Error) -> Self {
        match err {
            sqs_tasks::Error::QueueDoesNotExist { .. } => Problem::QueueMissing,
            sqs_tasks::Error::AccessDenied { code, message } => {
                Problem::Denied(format!("{code}: {message}"))
            }
            sqs_tasks::Error::Service { code, message } => {
                Problem::Refused(format!("{code}: {message}"))
            }
            sqs_tasks::Error::Transport { detail } => Problem::Unreachable(detail.clone()),
            other => Problem::Refused(other.to_string()),
        }
    }
}

impl Sqs {
    /// Explains an error of the framework about `queue`.
    pub(crate) fn framework_error(&self, err: &sqs_tasks::Error, queue: &str) -> CliError {
        self.explain(Problem::of(err), Some(queue))
    }

    /// Explains an error of an SDK call, about `queue` when it names one.
    pub(crate) fn sdk_error<E, R>(&self, err: SdkError<E, R>, queue: Option<&str>) -> CliError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let err = sqs_tasks::Error::from_sdk(err, queue.unwrap_or_default());
        self.explain(Problem::of(&err), queue)
    }

    fn explain(&self, problem: Problem, queue: Option<&str>) -> CliError {
        let endpoint = &self.endpoint;
        let at = format!("{} (region {})", endpoint.url, endpoint.region);
        match problem {
            Problem::QueueMissing => {
                let name = queue.map_or("?", queue_name);
                let create = self.command_line(&format!("queue create {name}"));
                CliError::with_exit(
                    format!("queue `{name}` does not exist at {at}; create it with: {create}"),
                    Exit::QueueMissing,
                )
            }
            Problem::Denied(detail) => CliError::failed(format!(
                "SQS at {at} refused the credentials ({detail}); check AWS_PROFILE or the \
                 AWS credentials in use"
            )),
            Problem::Unreachable(detail) => {
                let hint = if endpoint.local_default {
                    "; start the local server with `sqs-tasks serve`, or name another endpoint \
                     with --endpoint or AWS_ENDPOINT_URL_SQS"
                } else {
                    "; is a server listening there, and is the URL right?"
                };
                CliError::failed(format!("could not reach SQS at {at}: {detail}{hint}"))
            }
            Problem::Refused(detail) => {
                let about = queue.map(|q| format!(" for queue `{}`", queue_name(q)));
                let about = about.unwrap_or_default();
                CliError::failed(format!("SQS at {at} refused the request{about}: {detail}"))
            }
        }
    }

    /// A `sqs-tasks` command line that reaches the same endpoint as this one.
    pub(crate) fn command_line(&self, command: &str) -> String {
        if self.endpoint.source == "--endpoint" || self.endpoint.source.starts_with("--endpoint;") {
            format!("sqs-tasks --endpoint {} {command}", self.endpoint.url)
        } else {
            format!("sqs-tasks {command}")
        }
    }
}

/// The name of a queue given by name or URL.
pub(crate) fn queue_name(queue: &str) -> &str {
    queue.rsplit('/').next().unwrap_or(queue)
}
