//! `sqs-tasks peek`: look at messages without consuming them.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, Message, MessageSystemAttributeName,
};

use crate::endpoint::Sqs;
use crate::error::CliError;

/// How long peeked messages stay hidden at most: they are released as soon as the peek ends,
/// this only bounds the harm if the peek is killed.
const HOLD_SECS: i32 = 30;

/// Receives a peek makes beyond the ones it needs, when SQS returns fewer than asked.
const SPARE_RECEIVES: usize = 3;

/// Look at up to --count messages of a queue, then make them visible again at once.
///
/// Peeking is a receive: it raises each message's receive count, and a message at its queue's
/// --max-receives moves to the dead-letter queue on the next receive. While the peek runs
/// (about a second), the messages it holds are hidden from workers.
#[derive(Debug, clap::Args)]
pub(crate) struct PeekArgs {
    /// The queue's name or URL.
    queue: String,
    /// How many messages to show at most.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    count: u16,
    /// One JSON object per message and line.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: PeekArgs, sqs: &Sqs) -> Result<(), CliError> {
    let url = sqs.queue_url(&args.queue).await?;
    let wanted = usize::from(args.count);
    let mut seen: BTreeMap<String, Message> = BTreeMap::new();

    let mut receives = wanted.div_ceil(10) + SPARE_RECEIVES;
    while seen.len() < wanted && receives > 0 {
        receives -= 1;
        let batch = (wanted - seen.len()).min(10) as i32;
        let output = sqs
            .sdk()
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(batch)
            .visibility_timeout(HOLD_SECS)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|err| sqs.sdk_error(err, Some(&args.queue)))?;
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let id = message.message_id.clone().unwrap_or_default();
            seen.insert(id, message);
        }
    }

    let messages: Vec<Message> = seen.into_values().collect();
    let released = release(sqs, &url, &messages).await;
    for message in &messages {
        if args.json {
            println!("{}", json(message));
        } else {
            print!("{}", text(message));
        }
    }
    if messages.is_empty() {
        eprintln!("no visible messages in `{}`", args.queue);
    }
    released
}

/// Makes the peeked messages visible again.
async fn release(sqs: &Sqs, url: &str, messages: &[Message]) -> Result<(), CliError> {
    for chunk in messages.chunks(10) {
        let entries = chunk.iter().enumerate().map(|(index, message)| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(index.to_string())
                .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
                .visibility_timeout(0)
                .build()
                .expect("id and receipt handle are set")
        });
        let output = sqs
            .sdk()
            .change_message_visibility_batch()
            .queue_url(url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .map_err(|err| sqs.sdk_error(err, Some(url)))?;
        if !output.failed.is_empty() {
            return Err(CliError::failed(format!(
                "{} peeked messages could not be released; they become visible again within \
                 {HOLD_SECS} seconds",
                output.failed.len()
            )));
        }
    }
    Ok(())
}

fn attributes(message: &Message) -> BTreeMap<String, String> {
    let attributes = message.message_attributes.iter().flatten();
    let rendered = attributes.map(|(name, value)| {
        let text = value.string_value.clone().unwrap_or_else(|| {
            let bytes = value.binary_value.as_ref().map(|b| b.as_ref().len());
            format!("<{} bytes of binary>", bytes.unwrap_or(0))
        });
        (name.clone(), text)
    });
    rendered.collect()
}

fn system(message: &Message, name: MessageSystemAttributeName) -> Option<&str> {
    message.attributes.as_ref()?.get(&name).map(String::as_str)
}

fn sent_at(message: &Message) -> Option<String> {
    let millis: u64 = system(message, MessageSystemAttributeName::SentTimestamp)?
        .parse()
        .ok()?;
    Some(httpdate::fmt_http_date(
        UNIX_EPOCH + Duration::from_millis(millis),
    ))
}

fn receive_count(message: &Message) -> u64 {
    system(message, MessageSystemAttributeName::ApproximateReceiveCount)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn json(message: &Message) -> serde_json::Value {
    serde_json::json!({
        "id": message.message_id,
        "receive_count": receive_count(message),
        "sent_timestamp": system(message, MessageSystemAttributeName::SentTimestamp),
        "attributes": attributes(message),
        "body": message.body,
    })
}

fn text(message: &Message) -> String {
    let id = message.message_id.as_deref().unwrap_or("?");
    let sent = sent_at(message).unwrap_or_else(|| "?".to_owned());
    let count = receive_count(message);
    let times = if count == 1 { "time" } else { "times" };
    let mut out =
        format!("message {id}  received {count} {times} (this peek included)  sent {sent}\n");
    for (name, value) in attributes(message) {
        out.push_str(&format!("  {name} = {value}\n"));
    }
    out.push_str(message.body.as_deref().unwrap_or(""));
    out.push_str("\n\n");
    out
}
