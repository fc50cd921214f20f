use std::time::Duration;

use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};

use crate::common::{Harness, code};

fn string_attribute(data_type: &str, value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type(data_type)
        .string_value(value)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_sent_message_is_received_once_then_deleted() {
    let h = Harness::start().await;
    let url = h.queue("basic").await;
    let id = h.send(&url, "hello\r\nworld 🎉").await;

    let received = h.receive(&url, 10).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.message_id(), Some(id.as_str()));
    assert_eq!(
        message.body(),
        Some("hello\r\nworld 🎉"),
        "CR and emoji are kept"
    );
    let attributes = message.attributes().unwrap();
    assert_eq!(
        attributes[&MessageSystemAttributeName::ApproximateReceiveCount],
        "1"
    );
    assert_eq!(
        attributes[&MessageSystemAttributeName::SenderId],
        "AKIDTEST"
    );
    let sent: u64 = attributes[&MessageSystemAttributeName::SentTimestamp]
        .parse()
        .unwrap();
    let first: u64 = attributes[&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp]
        .parse()
        .unwrap();
    assert!(first >= sent && sent > 1_600_000_000_000);

    assert!(
        h.receive(&url, 10).await.is_empty(),
        "in flight, not visible"
    );
    h.sqs
        .delete_message()
        .queue_url(&url)
        .receipt_handle(message.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(h.counts(&url).await, (0, 0, 0));
    // Deleting twice succeeds.
    h.sqs
        .delete_message()
        .queue_url(&url)
        .receipt_handle(message.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn attribute_checksums_match_the_values_sqs_gives() {
    let h = Harness::start().await;
    let url = h.queue("md5").await;
    let sent = h
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("Foo", string_attribute("String", "Bar"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_attributes(),
        Some("ae7155c6026991b6d54b11589678bf9c")
    );
    assert_eq!(
        sent.md5_of_message_body(),
        Some("9dd4e461268c8034f5c8564e155c67a6")
    );

    let sent = h
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("y")
        .message_attributes("timestamp", string_attribute("Number", "1493147359900"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_attributes(),
        Some("235c5c510d26fb653d073faed50ae77c")
    );

    let received = h.receive(&url, 10).await;
    let checksums: Vec<_> = received
        .iter()
        .map(|m| m.md5_of_message_attributes().unwrap().to_owned())
        .collect();
    assert!(checksums.contains(&"ae7155c6026991b6d54b11589678bf9c".to_owned()));
    assert!(checksums.contains(&"235c5c510d26fb653d073faed50ae77c".to_owned()));
}

#[tokio::test]
async fn string_number_binary_and_custom_typed_attributes_round_trip() {
    let h = Harness::start().await;
    let url = h.queue("typed").await;
    h.sqs
        .send_message()
        .queue_url(&url)
        .message_body("typed")
        .message_attributes("s", string_attribute("String", "text"))
        .message_attributes("n", string_attribute("Number.float", "2.5"))
        .message_attributes(
            "b",
            MessageAttributeValue::builder()
                .data_type("Binary.png")
                .binary_value(Blob::new(vec![0u8, 1, 2, 255]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let received = h.receive(&url, 1).await;
    let attributes = received[0].message_attributes().unwrap();
    assert_eq!(attributes["s"].string_value(), Some("text"));
    assert_eq!(attributes["n"].data_type(), "Number.float");
    assert_eq!(attributes["b"].data_type(), "Binary.png");
    assert_eq!(
        attributes["b"].binary_value().unwrap().as_ref(),
        &[0u8, 1, 2, 255]
    );
}

#[tokio::test]
async fn message_attribute_filters_select_by_name_prefix_and_all() {
    let h = Harness::start().await;
    let url = h.queue("filters").await;
    h.sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("trace.id", string_attribute("String", "1"))
        .message_attributes("trace.span", string_attribute("String", "2"))
        .message_attributes("tenant", string_attribute("String", "3"))
        .send()
        .await
        .unwrap();
    let receive = |names: Vec<&'static str>| {
        let sqs = h.sqs.clone();
        let url = url.clone();
        async move {
            let mut request = sqs.receive_message().queue_url(url).visibility_timeout(0);
            for name in names {
                request = request.message_attribute_names(name);
            }
            let out = request.send().await.unwrap();
            let message = out.messages.unwrap().remove(0);
            let mut names: Vec<String> = message
                .message_attributes
                .unwrap_or_default()
                .into_keys()
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(receive(vec!["All"]).await.len(), 3);
    assert_eq!(receive(vec![".*"]).await.len(), 3);
    assert_eq!(receive(vec!["trace.*"]).await, ["trace.id", "trace.span"]);
    assert_eq!(receive(vec!["tenant"]).await, ["tenant"]);
    assert!(receive(vec![]).await.is_empty());
}

#[tokio::test]
async fn batch_send_reports_an_oversized_entry_alone() {
    let h = Harness::start().await;
    let url = h
        .queue_with("small", &[("MaximumMessageSize", "1024")])
        .await;
    let entry = |id: &str, body: String| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .unwrap()
    };
    let out = h
        .sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("ok-1", "fine".into()))
        .entries(entry("too_big", "x".repeat(2000)))
        .entries(entry("ok-2", "also fine".into()))
        .send()
        .await
        .unwrap();
    let mut ok: Vec<_> = out.successful().iter().map(|s| s.id().to_owned()).collect();
    ok.sort();
    assert_eq!(ok, ["ok-1", "ok-2"]);
    assert_eq!(out.failed().len(), 1);
    assert_eq!(out.failed()[0].id(), "too_big");
    assert_eq!(out.failed()[0].code(), "InvalidParameterValue");
    assert!(out.failed()[0].sender_fault());
    assert_eq!(h.counts(&url).await.0, 2);
}

#[tokio::test]
async fn batch_delete_reports_invalid_handles_per_entry() {
    let h = Harness::start().await;
    let url = h.queue("batch-delete").await;
    h.send(&url, "a").await;
    h.send(&url, "b").await;
    let received = h.receive(&url, 10).await;
    assert_eq!(received.len(), 2);
    let mut request = h.sqs.delete_message_batch().queue_url(&url);
    for (i, m) in received.iter().enumerate() {
        request = request.entries(
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .receipt_handle(m.receipt_handle().unwrap())
                .build()
                .unwrap(),
        );
    }
    request = request.entries(
        DeleteMessageBatchRequestEntry::builder()
            .id("bad")
            .receipt_handle("garbage")
            .build()
            .unwrap(),
    );
    let out = request.send().await.unwrap();
    assert_eq!(out.successful().len(), 2);
    assert_eq!(out.failed().len(), 1);
    assert_eq!(out.failed()[0].code(), "ReceiptHandleIsInvalid");
    assert_eq!(h.counts(&url).await, (0, 0, 0));
}

#[tokio::test]
async fn delayed_messages_appear_after_their_delay() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue("delayed").await;
    h.sqs
        .send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(10)
        .send()
        .await
        .unwrap();
    assert_eq!(h.counts(&url).await, (0, 0, 1));
    assert!(h.receive(&url, 1).await.is_empty());
    h.advance(Duration::from_secs(10));
    assert_eq!(h.counts(&url).await, (1, 0, 0));
    assert_eq!(h.receive(&url, 1).await[0].body(), Some("later"));
}

#[tokio::test]
async fn the_queue_delay_applies_when_a_message_sets_none() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue_with("queue-delay", &[("DelaySeconds", "30")]).await;
    h.send(&url, "waits").await;
    h.sqs
        .send_message()
        .queue_url(&url)
        .message_body("now")
        .delay_seconds(0)
        .send()
        .await
        .unwrap();
    let received = h.receive(&url, 10).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body(), Some("now"));
    h.advance(Duration::from_secs(30));
    assert_eq!(h.receive(&url, 10).await[0].body(), Some("waits"));
}

#[tokio::test]
async fn messages_past_the_retention_period_disappear() {
    let h = Harness::with_manual_clock().await;
    let url = h
        .queue_with("short-lived", &[("MessageRetentionPeriod", "60")])
        .await;
    h.send(&url, "old").await;
    h.advance(Duration::from_secs(30));
    h.send(&url, "young").await;
    h.advance(Duration::from_secs(31));
    assert_eq!(h.counts(&url).await, (1, 0, 0));
    let received = h.receive(&url, 10).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body(), Some("young"));
    h.advance(Duration::from_secs(60));
    assert_eq!(h.counts(&url).await, (0, 0, 0));
}

#[tokio::test]
async fn receive_returns_at_most_the_number_asked_for() {
    let h = Harness::start().await;
    let url = h.queue("many").await;
    for i in 0..25 {
        h.send(&url, &format!("m{i}")).await;
    }
    assert_eq!(h.receive(&url, 10).await.len(), 10);
    assert_eq!(h.receive(&url, 1).await.len(), 1);
    let out = h
        .sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.messages().len(), 1, "one message by default");
    assert_eq!(h.counts(&url).await, (13, 12, 0));
}

#[tokio::test]
async fn the_trace_header_system_attribute_is_kept() {
    let h = Harness::start().await;
    let url = h.queue("traced").await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    let sent = h
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_system_attributes(
            aws_sdk_sqs::types::MessageSystemAttributeNameForSends::AwsTraceHeader,
            aws_sdk_sqs::types::MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(trace)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(sent.md5_of_message_system_attributes().is_some());
    let received = h.receive(&url, 1).await;
    assert_eq!(
        received[0].attributes().unwrap()[&MessageSystemAttributeName::AwsTraceHeader],
        trace
    );
}

#[tokio::test]
async fn a_refused_send_changes_nothing() {
    let h = Harness::start().await;
    let url = h.queue("untouched").await;
    let error = h
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("bad\u{0}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidMessageContents");
    assert_eq!(h.counts(&url).await, (0, 0, 0));
}
