use std::time::Duration;

use crate::common::Harness;

#[tokio::test]
async fn a_waiting_receive_is_answered_as_soon_as_a_message_is_sent() {
    let h = Harness::start().await;
    let url = h.queue("long-poll").await;
    let waiting = {
        let sqs = h.sqs.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            let out = sqs
                .receive_message()
                .queue_url(url)
                .wait_time_seconds(20)
                .send()
                .await
                .unwrap();
            (out.messages.unwrap_or_default(), started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.send(&url, "wake up").await;
    let (messages, waited) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body(), Some("wake up"));
    assert!(
        waited < Duration::from_secs(10),
        "answered on arrival, not at the end of the wait"
    );
}

#[tokio::test]
async fn a_long_poll_on_an_empty_queue_ends_empty_at_its_wait_time() {
    let h = Harness::with_manual_clock().await;
    let url = h.queue("empty-poll").await;
    let waiting = {
        let sqs = h.sqs.clone();
        let url = url.clone();
        tokio::spawn(async move {
            sqs.receive_message()
                .queue_url(url)
                .wait_time_seconds(20)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished());
    h.advance(Duration::from_secs(20));
    let out = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        out.messages.is_none(),
        "an empty receive has no Messages key"
    );
}

#[tokio::test]
async fn a_long_poll_wakes_when_an_in_flight_message_times_out() {
    let h = Harness::with_manual_clock().await;
    let url = h
        .queue_with("timeout-wake", &[("VisibilityTimeout", "5")])
        .await;
    h.send(&url, "x").await;
    assert_eq!(h.receive(&url, 1).await.len(), 1);
    let waiting = {
        let sqs = h.sqs.clone();
        let url = url.clone();
        tokio::spawn(async move {
            sqs.receive_message()
                .queue_url(url)
                .wait_time_seconds(20)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.advance(Duration::from_secs(5));
    let out = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(out.messages().len(), 1);
}

#[tokio::test]
async fn the_queue_wait_time_applies_without_wait_time_seconds_and_zero_is_a_short_poll() {
    let h = Harness::with_manual_clock().await;
    let url = h
        .queue_with("queue-wait", &[("ReceiveMessageWaitTimeSeconds", "20")])
        .await;
    let out = h
        .sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(0)
        .send()
        .await
        .unwrap();
    assert!(out.messages.is_none(), "an explicit 0 returns at once");
    let waiting = {
        let sqs = h.sqs.clone();
        let url = url.clone();
        tokio::spawn(async move { sqs.receive_message().queue_url(url).send().await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "the queue's 20 s wait applies");
    h.send(&url, "x").await;
    let out = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(out.messages().len(), 1);
}

#[tokio::test]
async fn many_waiting_receivers_each_get_distinct_messages() {
    let h = Harness::start().await;
    let url = h.queue("fan-out").await;
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let sqs = h.sqs.clone();
            let url = url.clone();
            tokio::spawn(async move {
                sqs.receive_message()
                    .queue_url(url)
                    .wait_time_seconds(5)
                    .send()
                    .await
                    .unwrap()
                    .messages
                    .unwrap_or_default()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..20 {
        h.send(&url, &format!("m{i}")).await;
    }
    let mut ids = std::collections::HashSet::new();
    let mut total = 0;
    for waiter in waiters {
        for message in waiter.await.unwrap() {
            total += 1;
            ids.insert(message.message_id.unwrap());
        }
    }
    let (visible, _, _) = h.counts(&url).await;
    assert_eq!(total, ids.len(), "no message delivered twice");
    assert_eq!(
        total as u64 + visible,
        20,
        "every message delivered or still waiting"
    );
}
