//! `sqs-tasks queue create`.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;

use crate::duration;
use crate::endpoint::Sqs;
use crate::error::CliError;

/// A dead-letter queue keeps its messages as long as SQS allows, so that failures outlive the
/// messages that caused them.
const DEAD_LETTER_RETENTION_SECS: u64 = 1_209_600;

#[derive(Debug, clap::Args)]
pub(crate) struct CreateArgs {
    /// The queue's name: 1 to 80 letters, digits, `-` or `_`.
    name: String,
    /// How long a received message stays hidden from other consumers (0s to 12h).
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    visibility_timeout: Option<Duration>,
    /// How long a new message stays hidden before its first delivery (0s to 15m).
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    delay: Option<Duration>,
    /// How long SQS keeps a message that is never deleted (1m to 14d; SQS's default 4d).
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    retention: Option<Duration>,
    /// Move messages received more than --max-receives times to this queue, created if
    /// missing (with a retention of 14 days).
    #[arg(long, value_name = "NAME")]
    dead_letter: Option<String>,
    /// How many receives a message gets before it moves to the dead-letter queue.
    #[arg(long, default_value_t = 5, requires = "dead_letter", value_name = "N")]
    max_receives: u32,
}

pub(crate) async fn run(args: CreateArgs, sqs: &Sqs) -> Result<(), CliError> {
    let mut attributes = HashMap::new();
    let mut set = |name: QueueAttributeName, value: Option<Duration>| {
        if let Some(value) = value {
            attributes.insert(name, value.as_secs().to_string());
        }
    };
    set(
        QueueAttributeName::VisibilityTimeout,
        args.visibility_timeout,
    );
    set(QueueAttributeName::DelaySeconds, args.delay);
    set(QueueAttributeName::MessageRetentionPeriod, args.retention);

    if let Some(dead_letter) = &args.dead_letter {
        let arn = dead_letter_arn(sqs, dead_letter).await?;
        let policy = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": args.max_receives.to_string(),
        });
        attributes.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
    }

    let url = create(sqs, &args.name, attributes).await?;
    println!("{url}");
    Ok(())
}

/// Creates a queue, explaining the usual refusal: it exists with other settings.
pub(crate) async fn create(
    sqs: &Sqs,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
) -> Result<String, CliError> {
    let request = sqs.sdk().create_queue().queue_name(name);
    let created = request.set_attributes(Some(attributes)).send().await;
    let output = created.map_err(|err| {
        let exists = err
            .as_service_error()
            .is_some_and(|e| e.is_queue_name_exists());
        if exists {
            CliError::failed(format!(
                "queue `{name}` already exists with other settings; change it in place, or \
                 delete it with `{}` and create it again",
                sqs.command_line(&format!("queue delete {name}"))
            ))
        } else {
            sqs.sdk_error(err, Some(name))
        }
    })?;
    output
        .queue_url
        .ok_or_else(|| CliError::failed(format!("SQS returned no URL for queue `{name}`")))
}

/// The ARN of the dead-letter queue `name`, which is created if it does not exist.
pub(crate) async fn dead_letter_arn(sqs: &Sqs, name: &str) -> Result<String, CliError> {
    let existing = sqs.sdk().get_queue_url().queue_name(name).send().await;
    let url = match existing.ok().and_then(|output| output.queue_url) {
        Some(url) => url,
        None => {
            let retention = DEAD_LETTER_RETENTION_SECS.to_string();
            let attributes =
                HashMap::from([(QueueAttributeName::MessageRetentionPeriod, retention)]);
            create(sqs, name, attributes).await?
        }
    };
    let output = sqs
        .sdk()
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|err| sqs.sdk_error(err, Some(name)))?;
    let arn = output
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn));
    arn.ok_or_else(|| CliError::failed(format!("SQS returned no ARN for queue `{name}`")))
}
