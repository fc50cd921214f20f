//! Where task results go: a results queue (batched sends), or standard output.

use std::io::Write;
use std::time::Duration;

use sqs_tasks::{AttributeValue, Message, OutgoingMessage, QueueClient};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::outcome::{Kind, TaskFailed};

/// The attribute of a result that names the message it answers.
pub(crate) const SOURCE_ID_ATTRIBUTE: &str = "sqs_tasks.message_id";

/// The attribute of a result that names the queue of the message it answers.
pub(crate) const SOURCE_QUEUE_ATTRIBUTE: &str = "sqs_tasks.queue";

/// How long a result may wait for others to share its SendMessageBatch request.
const WINDOW: Duration = Duration::from_millis(20);

/// Messages per SendMessageBatch request.
const BATCH: usize = 10;

/// The destination of results.
#[derive(Debug)]
pub(crate) enum Results {
    /// Each result is sent to a queue before its task is acked.
    Queue(ResultSender),
    /// Each result is printed as a JSON line: `{"message_id": ..., "result": ...}`.
    Stdout,
}

impl Results {
    /// Delivers `result`, the answer to `message`. An empty result is not sent to a queue
    /// (SQS refuses empty messages).
    pub(crate) async fn deliver(
        &self,
        message: &Message,
        result: String,
    ) -> Result<(), TaskFailed> {
        match self {
            Results::Queue(sender) if !result.is_empty() => sender.send(message, result).await,
            Results::Queue(_) => Ok(()),
            Results::Stdout => {
                let line = serde_json::json!({"message_id": message.id(), "result": result});
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{line}").map_err(|e| {
                    TaskFailed::new(Kind::Failed, format!("cannot write the result: {e}"))
                })
            }
        }
    }
}

/// Coalesces the results of many tasks into SendMessageBatch requests.
#[derive(Debug)]
pub(crate) struct ResultSender {
    requests: mpsc::UnboundedSender<Entry>,
    source_queue: String,
}

#[derive(Debug)]
struct Entry {
    message: OutgoingMessage,
    reply: oneshot::Sender<Result<String, sqs_tasks::Error>>,
}

/// Starts the batching task for results sent to `client`'s queue. It ends, after sending what
/// is pending, once the returned sender is dropped.
pub(crate) fn spawn(client: QueueClient, source_queue: &str) -> (ResultSender, JoinHandle<()>) {
    let (requests, receiver) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(client, receiver));
    let sender = ResultSender {
        requests,
        source_queue: crate::endpoint::queue_name(source_queue).to_owned(),
    };
    (sender, task)
}

impl ResultSender {
    async fn send(&self, message: &Message, result: String) -> Result<(), TaskFailed> {
        let outgoing = OutgoingMessage::new(result)
            .attribute(SOURCE_ID_ATTRIBUTE, AttributeValue::string(message.id()))
            .attribute(
                SOURCE_QUEUE_ATTRIBUTE,
                AttributeValue::string(&self.source_queue),
            );
        let (reply, answer) = oneshot::channel();
        let entry = Entry {
            message: outgoing,
            reply,
        };
        let stopped = || TaskFailed::new(Kind::Failed, "the results sender has stopped");
        self.requests.send(entry).map_err(|_| stopped())?;
        match answer.await.map_err(|_| stopped())? {
            Ok(_) => Ok(()),
            Err(err) => Err(send_failure(&err)),
        }
    }
}

/// A result SQS refused for its content will be refused every time: that is permanent.
fn send_failure(err: &sqs_tasks::Error) -> TaskFailed {
    let what = format!("sending the result failed: {err}");
    let text = err.to_string();
    let refused_content = ["InvalidMessageContents", "InvalidParameterValue", "TooLong"]
        .iter()
        .any(|code| text.contains(code));
    let kind = if refused_content {
        Kind::Permanent
    } else {
        Kind::Failed
    };
    TaskFailed::new(kind, what)
}

async fn run(client: QueueClient, mut requests: mpsc::UnboundedReceiver<Entry>) {
    let mut pending: Vec<Entry> = Vec::new();
    let mut due: Option<Instant> = None;
    let mut sends = JoinSet::new();
    loop {
        tokio::select! {
            entry = requests.recv() => {
                let Some(entry) = entry else { break };
                due.get_or_insert_with(|| Instant::now() + WINDOW);
                pending.push(entry);
                if pending.len() >= BATCH {
                    due = None;
                    sends.spawn(send(client.clone(), std::mem::take(&mut pending)));
                }
            }
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                due = None;
                sends.spawn(send(client.clone(), std::mem::take(&mut pending)));
            }
            Some(_) = sends.join_next(), if !sends.is_empty() => {}
        }
    }
    if !pending.is_empty() {
        sends.spawn(send(client.clone(), pending));
    }
    while sends.join_next().await.is_some() {}
}

async fn send(client: QueueClient, entries: Vec<Entry>) {
    let (messages, replies): (Vec<_>, Vec<_>) =
        entries.into_iter().map(|e| (e.message, e.reply)).unzip();
    let results = client.send_batch(messages).await;
    for (reply, result) in replies.into_iter().zip(results) {
        // A task that stopped waiting (it was abandoned) needs no answer.
        let _ = reply.send(result);
    }
}
