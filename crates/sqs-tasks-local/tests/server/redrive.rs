use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};

use crate::common::{Harness, code};

async fn with_dead_letter_queue(h: &Harness, name: &str, max_receives: u32) -> (String, String) {
    let dlq = h.queue(&format!("{name}-dlq")).await;
    let dlq_arn = h.attribute(&dlq, "QueueArn").await.unwrap();
    let policy =
        format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":{max_receives}}}"#);
    let source = h
        .queue_with(
            name,
            &[("RedrivePolicy", &policy), ("VisibilityTimeout", "0")],
        )
        .await;
    (source, dlq)
}

#[tokio::test]
async fn a_message_moves_to_the_dead_letter_queue_on_the_receive_past_max_receive_count() {
    let h = Harness::start().await;
    let (source, dlq) = with_dead_letter_queue(&h, "redriven", 2).await;
    let id = h
        .sqs
        .send_message()
        .queue_url(&source)
        .message_body("poison")
        .message_attributes(
            "kind",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("bad")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .message_id
        .unwrap();
    assert_eq!(h.receive(&source, 1).await.len(), 1);
    assert_eq!(h.receive(&source, 1).await.len(), 1);
    assert!(
        h.receive(&source, 1).await.is_empty(),
        "the third receive moves it instead"
    );

    let moved = h.receive(&dlq, 1).await.remove(0);
    assert_eq!(moved.message_id(), Some(id.as_str()));
    assert_eq!(moved.body(), Some("poison"));
    assert_eq!(
        moved.message_attributes().unwrap()["kind"].string_value(),
        Some("bad")
    );
    let attributes = moved.attributes().unwrap();
    assert_eq!(
        attributes[&MessageSystemAttributeName::ApproximateReceiveCount],
        "3",
        "count carries over"
    );
    assert_eq!(
        attributes[&MessageSystemAttributeName::DeadLetterQueueSourceArn],
        "arn:aws:sqs:us-east-1:000000000000:redriven"
    );
}

#[tokio::test]
async fn list_dead_letter_source_queues_names_the_sources() {
    let h = Harness::start().await;
    let (source, dlq) = with_dead_letter_queue(&h, "sourced", 5).await;
    let out = h
        .sqs
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap();
    assert_eq!(out.queue_urls(), [source]);
    let policy = h
        .attribute(&out.queue_urls()[0], "RedrivePolicy")
        .await
        .unwrap();
    assert!(policy.contains("\"maxReceiveCount\":5"), "{policy}");
}

#[tokio::test]
async fn a_redrive_policy_must_name_an_existing_queue_and_a_sane_count() {
    let h = Harness::start().await;
    let error = h
        .sqs
        .create_queue()
        .queue_name("orphan")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:missing","maxReceiveCount":3}"#,
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    let dlq = h.queue("target").await;
    let arn = h.attribute(&dlq, "QueueArn").await.unwrap();
    let error = h
        .sqs
        .create_queue()
        .queue_name("orphan")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":0}}"#),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    h.sqs
        .create_queue()
        .queue_name("orphan")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"7"}}"#),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_redrive_allow_policy_of_deny_all_refuses_sources() {
    let h = Harness::start().await;
    let dlq = h
        .queue_with(
            "closed-dlq",
            &[("RedriveAllowPolicy", r#"{"redrivePermission":"denyAll"}"#)],
        )
        .await;
    let arn = h.attribute(&dlq, "QueueArn").await.unwrap();
    let error = h
        .sqs
        .create_queue()
        .queue_name("refused-source")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":3}}"#),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
}
