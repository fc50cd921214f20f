//! QueueClient: send, receive, consume, ack, nack, keep-alive.

use std::pin::pin;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use serde::Deserialize;
use sqs_tasks::{AttributeValue, Error, OutgoingMessage, QueueClient};

use crate::harness::{Env, visible_now};

const SHORT_WAIT: Duration = Duration::from_secs(1);

async fn receive_one(client: &QueueClient, visibility: Duration) -> sqs_tasks::Message {
    for _ in 0..5 {
        if let Some(message) = client.receive(1, Some(visibility)).await.unwrap().pop() {
            return message;
        }
    }
    panic!("no message received");
}

#[tokio::test]
async fn consumed_message_carries_body_attributes_and_counts() {
    let env = Env::start().await;
    let client = env.queue("consume", 30, SHORT_WAIT).await;

    #[derive(Deserialize, PartialEq, Debug)]
    struct Job {
        n: u32,
    }
    let outgoing = OutgoingMessage::new(r#"{"n": 7}"#)
        .attribute("kind", AttributeValue::string("summary"))
        .attribute(
            "weight",
            AttributeValue::number(1.5).with_custom_type("float"),
        )
        .attribute("blob", AttributeValue::binary(vec![1u8, 2, 3]));
    let id = client.send(outgoing).await.unwrap();

    let mut stream = pin!(client.consume(Duration::from_secs(30)));
    let message = stream.next().await.unwrap().unwrap();
    assert_eq!(message.id(), id);
    assert_eq!(message.json::<Job>().unwrap(), Job { n: 7 });
    assert_eq!(message.receive_count(), 1);
    assert!(message.sent_at().unwrap() > SystemTime::UNIX_EPOCH);
    assert!(message.first_received_at().is_some());
    assert_eq!(
        message.attribute("kind"),
        Some(&AttributeValue::string("summary"))
    );
    let weight = message.attribute("weight").unwrap();
    assert_eq!(
        (weight.data_type().as_str(), weight.as_str()),
        ("Number.float", Some("1.5"))
    );
    assert_eq!(
        message.attribute("blob").unwrap().as_bytes(),
        Some(&[1u8, 2, 3][..])
    );
    client.ack(&message).await.unwrap();
    env.shutdown().await;
}

#[tokio::test]
async fn queue_name_resolves_to_the_queue_url() {
    let env = Env::start().await;
    let by_url = env.queue("resolve", 30, SHORT_WAIT).await;
    let name = by_url.queue_url().rsplit('/').next().unwrap().to_owned();
    let by_name = QueueClient::new(env.sdk.clone(), name).await.unwrap();
    assert_eq!(by_name.queue_url(), by_url.queue_url());
    env.shutdown().await;
}

#[tokio::test]
async fn missing_queue_is_a_fatal_error() {
    let env = Env::start().await;
    let err = QueueClient::new(env.sdk.clone(), "no-such-queue-here")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::QueueDoesNotExist { .. }), "{err:?}");
    assert!(err.is_fatal());
    env.shutdown().await;
}

#[tokio::test]
async fn consume_stream_ends_after_the_queue_disappears() {
    let env = Env::start().await;
    let client = env.queue("vanish", 30, SHORT_WAIT).await;
    env.sdk
        .delete_queue()
        .queue_url(client.queue_url())
        .send()
        .await
        .unwrap();

    let mut stream = pin!(client.consume(Duration::from_secs(30)));
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap();
    assert!(first.unwrap().unwrap_err().is_fatal());
    assert!(stream.next().await.is_none());
    env.shutdown().await;
}

#[tokio::test]
async fn ack_deletes_the_message() {
    let env = Env::start().await;
    let client = env.queue("ack", 1, SHORT_WAIT).await;
    client.send("done soon").await.unwrap();
    let message = receive_one(&client, Duration::from_secs(1)).await;
    client.ack(&message).await.unwrap();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(visible_now(&env, client.queue_url()).await.is_empty());
    env.shutdown().await;
}

#[tokio::test]
async fn nack_without_delay_makes_the_message_visible_at_once() {
    let env = Env::start().await;
    let client = env.queue("nack-now", 30, SHORT_WAIT).await;
    client.send("again").await.unwrap();
    let first = receive_one(&client, Duration::from_secs(30)).await;
    client.nack(&first, None).await.unwrap();

    let second = receive_one(&client, Duration::from_secs(30)).await;
    assert_eq!(second.id(), first.id());
    assert_eq!(second.receive_count(), 2);
    env.shutdown().await;
}

#[tokio::test]
async fn nack_with_delay_hides_the_message() {
    let env = Env::start().await;
    let client = env.queue("nack-later", 30, SHORT_WAIT).await;
    client.send("later").await.unwrap();
    let message = receive_one(&client, Duration::from_secs(30)).await;
    client
        .nack(&message, Some(Duration::from_secs(2)))
        .await
        .unwrap();

    assert!(visible_now(&env, client.queue_url()).await.is_empty());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let again = receive_one(&client, Duration::from_secs(30)).await;
    assert_eq!(again.id(), message.id());
    env.shutdown().await;
}

#[tokio::test]
async fn keep_alive_extends_the_visibility_timeout() {
    let env = Env::start().await;
    let client = env.queue("keep-alive", 1, SHORT_WAIT).await;
    client.send("slow").await.unwrap();
    let message = receive_one(&client, Duration::from_secs(1)).await;
    client
        .keep_alive(&message, Duration::from_secs(3))
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(visible_now(&env, client.queue_url()).await.is_empty());
    client.ack(&message).await.unwrap();
    env.shutdown().await;
}

#[tokio::test]
async fn delayed_send_is_invisible_until_the_delay_passes() {
    let env = Env::start().await;
    let client = env.queue("delay", 30, SHORT_WAIT).await;
    client
        .send(OutgoingMessage::new("wait").delay(Duration::from_secs(2)))
        .await
        .unwrap();
    assert!(visible_now(&env, client.queue_url()).await.is_empty());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        receive_one(&client, Duration::from_secs(30)).await.body(),
        "wait"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn send_batch_sends_every_message_and_reports_each() {
    let env = Env::start().await;
    let client = env.queue("batch", 30, SHORT_WAIT).await;
    let messages = (0..25).map(|i| OutgoingMessage::new(format!("m{i}")));
    let results = client.send_batch(messages).await;
    assert_eq!(results.len(), 25);
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    let mut bodies = Vec::new();
    for _ in 0..20 {
        if bodies.len() == 25 {
            break;
        }
        for message in client
            .receive(10, Some(Duration::from_secs(30)))
            .await
            .unwrap()
        {
            bodies.push(message.body().to_owned());
        }
    }
    bodies.sort_by_key(|b| b[1..].parse::<u32>().unwrap());
    let expected: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
    assert_eq!(bodies, expected);
    env.shutdown().await;
}
