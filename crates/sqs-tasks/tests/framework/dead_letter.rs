//! Permanent failures: to the dead-letter queue when there is one, deleted otherwise.

use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use sqs_tasks::lifecycle::{Lifecycle, Outcome, Plain};
use sqs_tasks::{
    AttributeValue, FAILURE_REASON_ATTRIBUTE, ORIGINAL_MESSAGE_ID_ATTRIBUTE, OutgoingMessage,
    TaskError,
};

use crate::harness::{Env, visible_now};

#[tokio::test]
async fn permanent_failure_moves_the_message_to_the_dead_letter_queue_with_its_reason() {
    let env = Env::start().await;
    let dlq_url = env.create_queue("dlq", &[]).await;
    let dlq_arn = env
        .sdk
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&QueueAttributeName::QueueArn)
        .unwrap();
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#);
    let url = env
        .create_queue("with-dlq", &[(QueueAttributeName::RedrivePolicy, &policy)])
        .await;
    let client = env.client(&url, Duration::from_secs(1)).await;
    assert_eq!(
        client.dead_letter_queue_url().await.unwrap().as_deref(),
        Some(dlq_url.as_str())
    );

    let outgoing = OutgoingMessage::new("poison").attribute("tenant", AttributeValue::string("a"));
    client.send(outgoing).await.unwrap();
    let message = client.receive(1, None).await.unwrap().pop().unwrap();
    let handling = async { Err::<(), _>(TaskError::permanent("malformed input")) };
    let outcome = Plain.run(&client, &message, handling).await.unwrap();
    assert_eq!(outcome, Outcome::DeadLettered);

    let moved = env
        .sdk
        .receive_message()
        .queue_url(&dlq_url)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].body(), Some("poison"));
    let attributes = moved[0].message_attributes().unwrap();
    assert_eq!(attributes["tenant"].string_value(), Some("a"));
    assert_eq!(
        attributes[FAILURE_REASON_ATTRIBUTE].string_value(),
        Some("malformed input")
    );
    assert_eq!(
        attributes[ORIGINAL_MESSAGE_ID_ATTRIBUTE].string_value(),
        Some(message.id()),
        "the copy can be found by the original's id"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        visible_now(&env, &url).await.is_empty(),
        "original is deleted"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn permanent_failure_without_dead_letter_queue_deletes_the_message() {
    let env = Env::start().await;
    let client = env.queue("no-dlq", 1, Duration::from_secs(1)).await;
    assert_eq!(client.dead_letter_queue_url().await.unwrap(), None);
    client.send("poison").await.unwrap();
    let message = client.receive(1, None).await.unwrap().pop().unwrap();

    let handling = async { Err::<(), _>(TaskError::permanent("never works")) };
    let outcome = Plain.run(&client, &message, handling).await.unwrap();
    assert_eq!(outcome, Outcome::Discarded);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(visible_now(&env, client.queue_url()).await.is_empty());
    env.shutdown().await;
}
