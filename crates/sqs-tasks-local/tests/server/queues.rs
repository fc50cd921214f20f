use aws_sdk_sqs::types::QueueAttributeName;

use crate::common::{Harness, client, code, message};

#[tokio::test]
async fn create_queue_returns_a_url_built_from_the_request_host() {
    let h = Harness::start().await;
    let url = h.queue("jobs").await;
    assert_eq!(
        url,
        format!("{}/000000000000/jobs", h.server.endpoint_url())
    );
    let found = h
        .sqs
        .get_queue_url()
        .queue_name("jobs")
        .send()
        .await
        .unwrap();
    assert_eq!(found.queue_url.unwrap(), url);
}

#[tokio::test]
async fn create_queue_is_idempotent_with_the_same_attributes_and_refuses_different_ones() {
    let h = Harness::start().await;
    let first = h.queue_with("idem", &[("VisibilityTimeout", "45")]).await;
    let again = h.queue_with("idem", &[("VisibilityTimeout", "45")]).await;
    assert_eq!(first, again);
    let error = h
        .sqs
        .create_queue()
        .queue_name("idem")
        .attributes(QueueAttributeName::VisibilityTimeout, "46")
        .send()
        .await
        .unwrap_err();
    assert!(
        error.as_service_error().unwrap().is_queue_name_exists(),
        "{error:?}"
    );
    assert_eq!(code(&error), "QueueAlreadyExists");
    assert!(message(&error).contains("VisibilityTimeout"));
}

#[tokio::test]
async fn missing_queue_is_a_typed_queue_does_not_exist_error() {
    let h = Harness::start().await;
    let error = h
        .sqs
        .get_queue_url()
        .queue_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        error.as_service_error().unwrap().is_queue_does_not_exist(),
        "{error:?}"
    );
    assert_eq!(code(&error), "AWS.SimpleQueueService.NonExistentQueue");
    let url = format!("{}/000000000000/nope", h.server.endpoint_url());
    let error = h
        .sqs
        .send_message()
        .queue_url(url)
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert!(
        error.as_service_error().unwrap().is_queue_does_not_exist(),
        "{error:?}"
    );
}

#[tokio::test]
async fn list_queues_filters_by_prefix_and_pages_only_with_max_results() {
    let h = Harness::start().await;
    for name in ["alpha-1", "alpha-2", "alpha-3", "beta-1"] {
        h.queue(name).await;
    }
    let all = h.sqs.list_queues().send().await.unwrap();
    assert_eq!(all.queue_urls().len(), 4);
    assert!(all.next_token.is_none());

    let alpha = h
        .sqs
        .list_queues()
        .queue_name_prefix("alpha")
        .send()
        .await
        .unwrap();
    assert_eq!(alpha.queue_urls().len(), 3);

    let page = h
        .sqs
        .list_queues()
        .queue_name_prefix("alpha")
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.queue_urls().len(), 2);
    let token = page.next_token.expect("a second page");
    let rest = h
        .sqs
        .list_queues()
        .queue_name_prefix("alpha")
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.queue_urls().len(), 1);
    assert!(rest.queue_urls()[0].ends_with("alpha-3"));
    assert!(rest.next_token.is_none());

    let none = h
        .sqs
        .list_queues()
        .queue_name_prefix("zzz")
        .send()
        .await
        .unwrap();
    assert!(none.queue_urls.is_none(), "an empty list is omitted");
}

#[tokio::test]
async fn regions_are_separate_namespaces() {
    let h = Harness::start().await;
    h.queue("shared-name").await;
    let west = client(h.server.endpoint_url(), "eu-west-1");
    let error = west
        .get_queue_url()
        .queue_name("shared-name")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.NonExistentQueue");
    west.create_queue()
        .queue_name("shared-name")
        .send()
        .await
        .unwrap();
    let arn = west
        .get_queue_attributes()
        .queue_url(format!(
            "{}/000000000000/shared-name",
            h.server.endpoint_url()
        ))
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        arn.attributes.unwrap()[&QueueAttributeName::QueueArn],
        "arn:aws:sqs:eu-west-1:000000000000:shared-name"
    );
}

#[tokio::test]
async fn get_queue_attributes_all_reports_defaults_and_counts() {
    let h = Harness::start().await;
    let url = h.queue("attrs").await;
    h.send(&url, "one").await;
    let attributes = h
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    let get = |n: QueueAttributeName| attributes.get(&n).cloned().unwrap_or_default();
    assert_eq!(get(QueueAttributeName::VisibilityTimeout), "30");
    assert_eq!(get(QueueAttributeName::MaximumMessageSize), "1048576");
    assert_eq!(get(QueueAttributeName::MessageRetentionPeriod), "345600");
    assert_eq!(get(QueueAttributeName::DelaySeconds), "0");
    assert_eq!(get(QueueAttributeName::ReceiveMessageWaitTimeSeconds), "0");
    assert_eq!(get(QueueAttributeName::ApproximateNumberOfMessages), "1");
    assert_eq!(
        get(QueueAttributeName::QueueArn),
        "arn:aws:sqs:us-east-1:000000000000:attrs"
    );
    assert!(
        get(QueueAttributeName::CreatedTimestamp)
            .parse::<u64>()
            .unwrap()
            > 1_600_000_000
    );
    assert!(!attributes.contains_key(&QueueAttributeName::RedrivePolicy));
}

#[tokio::test]
async fn set_queue_attributes_changes_values_and_validates_ranges() {
    let h = Harness::start().await;
    let url = h.queue("settable").await;
    h.sqs
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "120")
        .attributes(QueueAttributeName::DelaySeconds, "5")
        .attributes(QueueAttributeName::Policy, r#"{"Version":"2012-10-17"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        h.attribute(&url, "VisibilityTimeout").await.as_deref(),
        Some("120")
    );
    assert_eq!(
        h.attribute(&url, "DelaySeconds").await.as_deref(),
        Some("5")
    );
    assert!(
        h.attribute(&url, "Policy")
            .await
            .unwrap()
            .contains("2012-10-17")
    );

    for (name, bad) in [
        ("VisibilityTimeout", "43201"),
        ("DelaySeconds", "901"),
        ("MessageRetentionPeriod", "59"),
        ("MaximumMessageSize", "1023"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("VisibilityTimeout", "soon"),
    ] {
        let error = h
            .sqs
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::from(name), bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&error), "InvalidAttributeValue", "{name}={bad}");
        assert!(message(&error).contains(name));
    }
    let error = h
        .sqs
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::FifoQueue, "false")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidAttributeName");
    // A refused change leaves the earlier values in place.
    assert_eq!(
        h.attribute(&url, "VisibilityTimeout").await.as_deref(),
        Some("120")
    );
}

#[tokio::test]
async fn delete_queue_removes_it_and_its_messages() {
    let h = Harness::start().await;
    let url = h.queue("doomed").await;
    h.send(&url, "x").await;
    h.sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let error = h
        .sqs
        .get_queue_url()
        .queue_name("doomed")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.NonExistentQueue");
    let url = h.queue("doomed").await;
    assert!(h.receive(&url, 10).await.is_empty());
}

#[tokio::test]
async fn recreating_a_deleted_queue_within_a_minute_is_refused_when_cooldowns_are_on() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue("again").await;
    h.sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let error = h
        .sqs
        .create_queue()
        .queue_name("again")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.QueueDeletedRecently");
    h.advance(std::time::Duration::from_secs(61));
    h.queue("again").await;
}

#[tokio::test]
async fn purge_removes_every_message_and_a_second_purge_within_a_minute_is_refused() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue("purged").await;
    h.send(&url, "visible").await;
    h.sqs
        .send_message()
        .queue_url(&url)
        .message_body("delayed")
        .delay_seconds(60)
        .send()
        .await
        .unwrap();
    h.send(&url, "in flight").await;
    assert_eq!(h.receive(&url, 1).await.len(), 1);
    h.sqs.purge_queue().queue_url(&url).send().await.unwrap();
    assert_eq!(h.counts(&url).await, (0, 0, 0));

    let error = h
        .sqs
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_purge_queue_in_progress(),
        "{error:?}"
    );
    assert_eq!(code(&error), "AWS.SimpleQueueService.PurgeQueueInProgress");
    h.advance(std::time::Duration::from_secs(61));
    h.sqs.purge_queue().queue_url(&url).send().await.unwrap();
}

#[tokio::test]
async fn tags_can_be_added_listed_and_removed() {
    let h = Harness::start().await;
    let url = h
        .sqs
        .create_queue()
        .queue_name("tagged")
        .tags("team", "search")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    h.sqs
        .tag_queue()
        .queue_url(&url)
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    let tags = h
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags["team"], "search");
    h.sqs
        .untag_queue()
        .queue_url(&url)
        .tag_keys("team")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = h
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert!(tags.tags.is_none());
}
