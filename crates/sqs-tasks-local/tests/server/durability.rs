use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use sqs_tasks_local::{DataDirError, LocalSqs, ManualClock, StartError};

use crate::common::{Harness, TempDir};

fn receive_count(message: &aws_sdk_sqs::types::Message) -> String {
    message.attributes().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount].clone()
}

#[tokio::test]
async fn a_restart_brings_back_every_message_in_its_exact_state() {
    let dir = TempDir::new();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));

    let before = Harness::over(&dir, clock.clone()).await;
    let url = before
        .queue_with("kept", &[("VisibilityTimeout", "60")])
        .await;
    before
        .sqs
        .tag_queue()
        .queue_url(&url)
        .tags("team", "ml")
        .send()
        .await
        .unwrap();
    let in_flight_id = before.send(&url, "in flight").await;
    let received = before.receive(&url, 1).await.remove(0);
    assert_eq!(received.message_id(), Some(in_flight_id.as_str()));
    let handle = received.receipt_handle().unwrap().to_owned();
    before
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("delayed")
        .delay_seconds(120)
        .send()
        .await
        .unwrap();
    before.send(&url, "visible").await;
    let deleted = before.send(&url, "deleted").await;
    assert_eq!(before.counts(&url).await, (2, 1, 1));
    let doomed = before.receive(&url, 10).await;
    for message in &doomed {
        if message.message_id() == Some(deleted.as_str()) {
            before
                .sqs
                .delete_message()
                .queue_url(&url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        } else {
            // Released again, so it is visible with one receive counted.
            before
                .sqs
                .change_message_visibility()
                .queue_url(&url)
                .receipt_handle(message.receipt_handle().unwrap())
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        }
    }
    before.server.shutdown().await;

    let after = Harness::over(&dir, clock.clone()).await;
    assert_eq!(
        after.attribute(&url, "VisibilityTimeout").await.as_deref(),
        Some("60")
    );
    let tags = after
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags.unwrap()["team"], "ml");
    assert_eq!(
        after.counts(&url).await,
        (1, 1, 1),
        "visible, in flight, delayed"
    );

    let visible = after.receive(&url, 10).await;
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0].body(), Some("visible"));
    assert_eq!(receive_count(&visible[0]), "2");

    // The in-flight message stays hidden until its deadline, and its old handle still works.
    after
        .sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(30)
        .send()
        .await
        .unwrap();
    clock.advance(Duration::from_secs(30));
    let back = after.receive(&url, 10).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].message_id(), Some(in_flight_id.as_str()));
    assert_eq!(receive_count(&back[0]), "2");

    // By now the two received after the restart are back too.
    clock.advance(Duration::from_secs(90));
    let mut bodies: Vec<_> = after
        .receive(&url, 10)
        .await
        .iter()
        .map(|m| m.body().unwrap_or_default().to_owned())
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["delayed", "in flight", "visible"]);
}

#[tokio::test]
async fn dead_lettered_messages_and_deleted_queues_survive_a_restart_as_they_were() {
    let dir = TempDir::new();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let before = Harness::over(&dir, clock.clone()).await;
    let dlq = before.queue("restart-dlq").await;
    let arn = before.attribute(&dlq, "QueueArn").await.unwrap();
    let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":1}}"#);
    let source = before
        .queue_with(
            "restart-source",
            &[("RedrivePolicy", &policy), ("VisibilityTimeout", "0")],
        )
        .await;
    let gone = before.queue("restart-gone").await;
    before.send(&gone, "lost with its queue").await;
    before
        .sqs
        .delete_queue()
        .queue_url(&gone)
        .send()
        .await
        .unwrap();
    let id = before.send(&source, "poison").await;
    assert_eq!(before.receive(&source, 1).await.len(), 1);
    assert!(
        before.receive(&source, 1).await.is_empty(),
        "moved on this receive"
    );
    before.server.shutdown().await;

    let after = Harness::over(&dir, clock).await;
    assert_eq!(after.counts(&source).await, (0, 0, 0));
    let moved = after.receive(&dlq, 1).await.remove(0);
    assert_eq!(moved.message_id(), Some(id.as_str()));
    assert_eq!(receive_count(&moved), "2");
    let listed = after.sqs.list_queues().send().await.unwrap();
    assert_eq!(
        listed.queue_urls().len(),
        2,
        "the deleted queue stays deleted"
    );
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    let dir = TempDir::new();
    let first = LocalSqs::builder().data_dir(&dir.0).start().await.unwrap();
    let second = LocalSqs::builder().data_dir(&dir.0).start().await;
    assert!(
        matches!(second, Err(StartError::DataDir(DataDirError::Locked(_)))),
        "{second:?}"
    );
    first.shutdown().await;
}

#[tokio::test]
async fn a_data_directory_without_a_parent_or_with_a_corrupt_database_is_refused() {
    let dir = TempDir::new();
    let missing = dir.0.join("no/such/place");
    let error = LocalSqs::builder()
        .data_dir(&missing)
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(error, StartError::DataDir(DataDirError::Missing(_))),
        "{error:?}"
    );
    assert!(error.to_string().contains("mkdir -p"), "{error}");

    let fresh = dir.0.join("fresh");
    let server = LocalSqs::builder().data_dir(&fresh).start().await.unwrap();
    assert!(server.is_durable());
    server.shutdown().await;

    let corrupt = dir.0.join("corrupt");
    std::fs::create_dir(&corrupt).unwrap();
    std::fs::write(corrupt.join("sqs-tasks.db"), vec![0x5a; 8192]).unwrap();
    let error = LocalSqs::builder()
        .data_dir(&corrupt)
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(error, StartError::DataDir(DataDirError::Corrupt { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_change_refused_for_lack_of_space_leaves_no_trace_in_memory_or_on_disk() {
    let dir = TempDir::new();
    let start = || async {
        LocalSqs::builder()
            .data_dir(&dir.0)
            .max_data_size(400 * 1024)
            .start()
            .await
            .unwrap()
    };
    let server = start().await;
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .endpoint_url(server.endpoint_url())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "k", "s", None, None, "t",
        ))
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
        .build();
    let sqs = aws_sdk_sqs::Client::from_conf(config);
    let url = sqs
        .create_queue()
        .queue_name("full")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();

    let mut accepted = 0;
    let mut refused = 0;
    for _ in 0..40 {
        match sqs
            .send_message()
            .queue_url(&url)
            .message_body("x".repeat(60_000))
            .send()
            .await
        {
            Ok(_) => accepted += 1,
            Err(error) => {
                assert_eq!(crate::common::code(&error), "InternalError", "{error:?}");
                refused += 1;
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
    let count = |sqs: aws_sdk_sqs::Client, url: String| async move {
        let out = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        out.attributes.unwrap()
            [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages]
            .parse::<usize>()
            .unwrap()
    };
    assert_eq!(
        count(sqs.clone(), url.clone()).await,
        accepted,
        "refused sends are not kept"
    );

    // Room comes back with a purge, and the server goes on.
    sqs.purge_queue().queue_url(&url).send().await.unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body("after")
        .send()
        .await
        .unwrap();
    server.shutdown().await;

    let server = start().await;
    let sqs = crate::common::client(server.endpoint_url(), "us-east-1");
    assert_eq!(count(sqs, url).await, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn queues_that_are_each_others_dead_letter_queue_pass_a_message_only_on_receives() {
    let h = Harness::start().await;
    let a = h.queue_with("ping", &[("VisibilityTimeout", "0")]).await;
    let b = h.queue_with("pong", &[("VisibilityTimeout", "0")]).await;
    for (source, target) in [(&a, &b), (&b, &a)] {
        let arn = h.attribute(target, "QueueArn").await.unwrap();
        let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":1}}"#);
        h.sqs
            .set_queue_attributes()
            .queue_url(source)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
                policy,
            )
            .send()
            .await
            .unwrap();
    }
    h.send(&a, "ball").await;
    assert_eq!(receive_count(&h.receive(&a, 1).await[0]), "1");
    assert!(h.receive(&a, 1).await.is_empty(), "moved to pong");
    // Delivered once in the queue it moved to, before moving on.
    assert_eq!(receive_count(&h.receive(&b, 1).await[0]), "2");
    assert!(h.receive(&b, 1).await.is_empty(), "moved back to ping");
    assert_eq!(receive_count(&h.receive(&a, 1).await[0]), "3");
    // A long poll on a queue whose message just left waits instead of spinning.
    let out = h
        .sqs
        .receive_message()
        .queue_url(&a)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    assert!(out.messages.is_none());
    assert_eq!(h.counts(&b).await.0, 1);
}

#[tokio::test]
async fn the_database_does_not_grow_when_messages_come_and_go() {
    let dir = TempDir::new();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let database = dir.0.join("sqs-tasks.db");
    let mut sizes = Vec::new();
    for round in 0..3 {
        let h = Harness::over(&dir, clock.clone()).await;
        let url = h
            .queue_with("churn", &[("MessageRetentionPeriod", "60")])
            .await;
        for batch in 0..100 {
            let entries = (0..10)
                .map(|i| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("e{i}"))
                        .message_body(format!("{round}-{batch}-{i}-{}", "x".repeat(1024)))
                        .build()
                        .unwrap()
                })
                .collect();
            h.sqs
                .send_message_batch()
                .queue_url(&url)
                .set_entries(Some(entries))
                .send()
                .await
                .unwrap();
        }
        // Half are deleted, the other half expire.
        for _ in 0..50 {
            for message in h.receive(&url, 10).await {
                h.sqs
                    .delete_message()
                    .queue_url(&url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        clock.advance(Duration::from_secs(61));
        assert_eq!(h.counts(&url).await, (0, 0, 0));
        h.server.shutdown().await;
        sizes.push(std::fs::metadata(&database).unwrap().len());
    }
    assert!(
        sizes[2] <= sizes[0] + sizes[0] / 10,
        "the database kept growing: {sizes:?}"
    );
}
