//! `--exec`: each message is handled by a shell command in its own process group.

use std::process::{ExitStatus, Stdio};
use std::time::UNIX_EPOCH;

use base64::Engine;
use sqs_tasks::{AttributeValue, Message};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::groups::ProcessGroups;
use super::outcome::{Kind, MAX_RESULT_BYTES, TaskFailed};

/// The exit code with which a command asks for a retry (EX_TEMPFAIL in sysexits.h).
pub(crate) const EXIT_RETRY: i32 = 75;

/// The exit code with which a command says that retrying cannot help (EX_DATAERR).
pub(crate) const EXIT_PERMANENT: i32 = 65;

/// How much of a command's stderr is kept for the log: its end, where the error usually is.
const STDERR_TAIL_BYTES: usize = 4096;

/// Runs one shell command per message.
#[derive(Debug)]
pub(crate) struct Exec {
    command: String,
    queue: String,
    queue_url: String,
    groups: ProcessGroups,
}

impl Exec {
    pub(crate) fn new(
        command: String,
        queue: &str,
        queue_url: &str,
        groups: ProcessGroups,
    ) -> Self {
        Exec {
            command,
            queue: crate::endpoint::queue_name(queue).to_owned(),
            queue_url: queue_url.to_owned(),
            groups,
        }
    }

    /// Runs the command with the message's body on stdin; returns its stdout.
    ///
    /// Dropping the future (handler timeout, shutdown deadline) kills the command's whole
    /// process group.
    pub(crate) async fn run(&self, message: &Message) -> Result<String, TaskFailed> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&self.command)
            .envs(self.environment(message))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group, so that a terminal's Ctrl-C reaches only the worker (which stops
            // gracefully) and a timeout can kill everything the command started.
            .process_group(0);
        let mut child = command.spawn().map_err(|e| {
            TaskFailed::new(
                Kind::Failed,
                format!("cannot start `sh -c {}`: {e}", self.command),
            )
        })?;
        let mut guard = self.groups.register(child.id().unwrap_or(0));

        let stdin = child.stdin.take();
        let body = message.body().as_bytes();
        let write = async move {
            if let Some(mut stdin) = stdin {
                // A command that does not read its input closes the pipe early: not an error.
                let _ = stdin.write_all(body).await;
            }
        };
        let stdout = read_bounded(child.stdout.take());
        let stderr = read_tail(child.stderr.take());
        let ((), stdout, stderr, status) = tokio::join!(write, stdout, stderr, child.wait());
        guard.disarm();

        let status = status.map_err(|e| {
            TaskFailed::new(Kind::Failed, format!("cannot wait for the command: {e}"))
        })?;
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        outcome(status, stdout, stderr, message)
    }

    /// The variables that tell the command about its message.
    fn environment(&self, message: &Message) -> Vec<(String, String)> {
        let mut vars = vec![
            ("SQS_TASKS_MESSAGE_ID".to_owned(), message.id().to_owned()),
            (
                "SQS_TASKS_RECEIVE_COUNT".to_owned(),
                message.receive_count().to_string(),
            ),
            ("SQS_TASKS_QUEUE".to_owned(), self.queue.clone()),
            ("SQS_TASKS_QUEUE_URL".to_owned(), self.queue_url.clone()),
        ];
        let sent = message
            .sent_at()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        if let Some(sent) = sent {
            vars.push((
                "SQS_TASKS_SENT_TIMESTAMP".to_owned(),
                sent.as_millis().to_string(),
            ));
        }
        for (name, value) in message.attributes() {
            vars.push((
                format!("SQS_TASKS_ATTR_{}", variable_name(name)),
                attribute_text(value),
            ));
        }
        vars
    }
}

/// Turns a command's exit into the task's result or failure.
fn outcome(
    status: ExitStatus,
    stdout: Result<Vec<u8>, usize>,
    stderr: String,
    message: &Message,
) -> Result<String, TaskFailed> {
    let failed = |kind, what: String| TaskFailed::new(kind, what).detail(stderr.clone());
    match status.code() {
        Some(0) => {
            if !stderr.is_empty() {
                tracing::debug!(message_id = message.id(), stderr = %stderr.trim_end(), "task wrote to stderr");
            }
            match stdout {
                Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
                Err(size) => Err(TaskFailed::new(
                    Kind::Permanent,
                    format!(
                        "the result ({size} bytes) is larger than an SQS message can hold \
                         ({MAX_RESULT_BYTES} bytes)"
                    ),
                )),
            }
        }
        Some(EXIT_RETRY) => Err(failed(
            Kind::RetryRequested,
            format!("command asked for a retry (exit {EXIT_RETRY})"),
        )),
        Some(EXIT_PERMANENT) => Err(failed(
            Kind::Permanent,
            format!("command failed for good (exit {EXIT_PERMANENT})"),
        )),
        Some(code) => Err(failed(
            Kind::Failed,
            format!("command failed (exit {code})"),
        )),
        None => Err(failed(
            Kind::Failed,
            "command was killed by a signal".to_owned(),
        )),
    }
}

/// Reads everything, keeping at most [`MAX_RESULT_BYTES`]; `Err(bytes read)` when more came.
async fn read_bounded(pipe: Option<impl AsyncRead + Unpin>) -> Result<Vec<u8>, usize> {
    let Some(mut pipe) = pipe else {
        return Ok(Vec::new());
    };
    let mut kept = Vec::new();
    let mut total = 0;
    let mut chunk = vec![0; 64 * 1024];
    // Reading goes on past the limit so that the command never blocks on a full pipe.
    while let Ok(n) = pipe.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        total += n;
        if kept.len() + n <= MAX_RESULT_BYTES {
            kept.extend_from_slice(&chunk[..n]);
        }
    }
    if total > MAX_RESULT_BYTES {
        Err(total)
    } else {
        Ok(kept)
    }
}

/// Reads everything, keeping the last [`STDERR_TAIL_BYTES`].
async fn read_tail(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let Some(mut pipe) = pipe else {
        return Vec::new();
    };
    let mut tail = Vec::new();
    let mut chunk = vec![0; 8 * 1024];
    while let Ok(n) = pipe.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&chunk[..n]);
        if tail.len() > STDERR_TAIL_BYTES {
            tail.drain(..tail.len() - STDERR_TAIL_BYTES);
        }
    }
    tail
}

/// `SQS_TASKS_ATTR_` + the attribute's name, upper-cased, with `.` and `-` as `_`.
fn variable_name(attribute: &str) -> String {
    let upper = attribute.chars().map(|c| c.to_ascii_uppercase());
    upper
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// String and Number attributes as they are; Binary ones in base64.
pub(crate) fn attribute_text(value: &AttributeValue) -> String {
    match (value.as_str(), value.as_bytes()) {
        (Some(text), _) => text.to_owned(),
        (None, Some(bytes)) => base64::engine::general_purpose::STANDARD.encode(bytes),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_become_portable_variable_names() {
        assert_eq!(variable_name("priority"), "PRIORITY");
        assert_eq!(variable_name("trace.id-2"), "TRACE_ID_2");
    }
}
