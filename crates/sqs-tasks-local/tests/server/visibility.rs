use std::time::Duration;

use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName};

use crate::common::{Harness, code, message};

#[tokio::test]
async fn an_unacknowledged_message_returns_after_its_visibility_timeout() {
    let h = Harness::with_manual_clock().await;
    let url = h
        .queue_with("returns", &[("VisibilityTimeout", "30")])
        .await;
    h.send(&url, "x").await;
    let first = h.receive(&url, 1).await.remove(0);
    h.advance(Duration::from_secs(29));
    assert!(h.receive(&url, 1).await.is_empty());
    h.advance(Duration::from_secs(1));
    let second = h.receive(&url, 1).await.remove(0);
    assert_eq!(second.message_id(), first.message_id());
    assert_ne!(
        second.receipt_handle(),
        first.receipt_handle(),
        "every receive has its own handle"
    );
    assert_eq!(
        second.attributes().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
    assert_eq!(
        second.attributes().unwrap()[&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp],
        first.attributes().unwrap()[&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp],
    );

    // The older handle still deletes the message.
    h.sqs
        .delete_message()
        .queue_url(&url)
        .receipt_handle(first.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(h.counts(&url).await, (0, 0, 0));
}

#[tokio::test]
async fn a_visibility_change_counts_from_the_call_and_does_not_carry_over() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue_with("extend", &[("VisibilityTimeout", "10")]).await;
    h.send(&url, "x").await;
    let received = h.receive(&url, 1).await.remove(0);
    h.advance(Duration::from_secs(8));
    h.sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(received.receipt_handle().unwrap())
        .visibility_timeout(60)
        .send()
        .await
        .unwrap();
    h.advance(Duration::from_secs(59));
    assert!(h.receive(&url, 1).await.is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(
        h.receive(&url, 1).await.len(),
        1,
        "the queue default applies again"
    );
    h.advance(Duration::from_secs(10));
    assert_eq!(h.receive(&url, 1).await.len(), 1);
}

#[tokio::test]
async fn a_zero_visibility_change_releases_the_message_at_once() {
    let h = Harness::start().await;
    let url = h.queue("release").await;
    h.send(&url, "x").await;
    let received = h.receive(&url, 1).await.remove(0);
    h.sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(received.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    assert_eq!(h.receive(&url, 1).await.len(), 1);
}

#[tokio::test]
async fn visibility_cannot_reach_past_twelve_hours_after_the_receive() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue("cap").await;
    h.send(&url, "x").await;
    let handle = h.receive(&url, 1).await.remove(0).receipt_handle.unwrap();
    let change = |seconds: i32| {
        h.sqs
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(&handle)
            .visibility_timeout(seconds)
            .send()
    };
    change(43_200).await.unwrap();
    h.advance(Duration::from_secs(3600));
    let error = change(43_200).await.unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    assert!(message(&error).contains("43200"), "{}", message(&error));
    change(43_200 - 3600).await.unwrap();
    let error = change(43_201).await.unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
}

#[tokio::test]
async fn changing_visibility_of_a_message_not_in_flight_or_gone_is_refused() {
    let h = Harness::with_manual_clock().await;
    let url = h
        .queue_with("not-inflight", &[("VisibilityTimeout", "5")])
        .await;
    h.send(&url, "x").await;
    let handle = h.receive(&url, 1).await.remove(0).receipt_handle.unwrap();
    h.advance(Duration::from_secs(5));
    let error = h
        .sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(10)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.MessageNotInflight");
    assert!(error.as_service_error().unwrap().is_message_not_inflight());

    h.sqs
        .delete_message()
        .queue_url(&url)
        .receipt_handle(&handle)
        .send()
        .await
        .unwrap();
    let error = h
        .sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(10)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    assert!(
        message(&error)
            .contains("Message does not exist or is not available for visibility timeout change")
    );
}

#[tokio::test]
async fn a_stale_handle_cannot_change_visibility_of_a_newer_receive() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue_with("stale", &[("VisibilityTimeout", "5")]).await;
    h.send(&url, "x").await;
    let old = h.receive(&url, 1).await.remove(0).receipt_handle.unwrap();
    h.advance(Duration::from_secs(5));
    assert_eq!(h.receive(&url, 1).await.len(), 1);
    let error = h
        .sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&old)
        .visibility_timeout(10)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    assert!(message(&error).contains("expired"));
}

#[tokio::test]
async fn batch_visibility_changes_succeed_and_fail_per_entry() {
    let h = Harness::start().await;
    let url = h.queue("batch-visibility").await;
    h.send(&url, "x").await;
    let handle = h.receive(&url, 1).await.remove(0).receipt_handle.unwrap();
    let entry = |id: &str, handle: &str, timeout: i32| {
        ChangeMessageVisibilityBatchRequestEntry::builder()
            .id(id)
            .receipt_handle(handle)
            .visibility_timeout(timeout)
            .build()
            .unwrap()
    };
    let out = h
        .sqs
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(entry("good", &handle, 0))
        .entries(entry("bad", "not-a-handle", 0))
        .send()
        .await
        .unwrap();
    assert_eq!(out.successful().len(), 1);
    assert_eq!(out.failed()[0].id(), "bad");
    assert_eq!(out.failed()[0].code(), "ReceiptHandleIsInvalid");
    assert_eq!(h.receive(&url, 1).await.len(), 1);
}

#[tokio::test]
async fn a_handle_from_another_queue_is_invalid() {
    let h = Harness::start().await;
    let a = h.queue("handle-a").await;
    let b = h.queue("handle-b").await;
    h.send(&a, "x").await;
    let handle = h.receive(&a, 1).await.remove(0).receipt_handle.unwrap();
    let error = h
        .sqs
        .delete_message()
        .queue_url(&b)
        .receipt_handle(&handle)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_receipt_handle_is_invalid()
    );
    assert_eq!(code(&error), "ReceiptHandleIsInvalid");
}
