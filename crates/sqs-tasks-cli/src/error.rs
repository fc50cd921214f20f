//! The error a command ends with: a sentence for the user and the exit code it maps to.

use std::fmt;
use std::process::ExitCode;

/// Exit codes, as documented in `sqs-tasks --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The command failed.
    Failure = 1,
    /// A queue named on the command line does not exist.
    QueueMissing = 3,
    /// Some messages were not sent, or not all tasks ended as succeeded or dead-lettered.
    Incomplete = 4,
}

/// A command's failure, already phrased for the person who ran it.
#[derive(Debug)]
pub(crate) struct CliError {
    message: String,
    exit: Exit,
}

impl CliError {
    /// A failure with exit code 1.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            exit: Exit::Failure,
        }
    }

    /// A failure with a chosen exit code.
    pub(crate) fn with_exit(message: impl Into<String>, exit: Exit) -> Self {
        CliError {
            message: message.into(),
            exit,
        }
    }

    pub(crate) fn exit(&self) -> Exit {
        self.exit
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Renders an error and its chain of causes on one line, `outer: inner: root`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(err) = cause {
        let next = err.to_string();
        // Some errors repeat their source in their own message; say it once.
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = err.source();
    }
    text
}
