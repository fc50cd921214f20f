use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{Harness, code, message};

const SIGNED: &str = "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0\r\n";

/// Sends one raw HTTP request and returns (status, headers, body).
async fn raw(h: &Harness, headers: &str, body: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(h.server.local_addr())
        .await
        .unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        h.server.local_addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn json_headers(action: &str) -> String {
    format!(
        "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.{action}\r\n{SIGNED}"
    )
}

#[tokio::test]
async fn malformed_json_is_a_serialization_error_not_a_crash() {
    let h = Harness::start().await;
    let (status, headers, body) = raw(&h, &json_headers("ListQueues"), "{not json").await;
    assert_eq!(status, 400);
    assert!(body.contains("SerializationException"), "{body}");
    assert!(headers.contains("x-amzn-requestid"));
    // The server is still up.
    h.sqs.list_queues().send().await.unwrap();
}

#[tokio::test]
async fn an_unknown_action_and_a_missing_target_are_refused() {
    let h = Harness::start().await;
    let (status, headers, body) = raw(&h, &json_headers("FlyToTheMoon"), "{}").await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
    assert!(
        headers.contains("x-amzn-query-error: invalidaction;sender"),
        "{headers}"
    );
    let (status, _, body) = raw(&h, SIGNED, "{}").await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
}

#[tokio::test]
async fn an_unsigned_request_is_refused() {
    let h = Harness::start().await;
    let headers =
        "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n";
    let (status, _, body) = raw(&h, headers, "{}").await;
    assert_eq!(status, 403);
    assert!(body.contains("MissingAuthenticationToken"), "{body}");
}

#[tokio::test]
async fn missing_and_wrongly_typed_parameters_get_their_errors() {
    let h = Harness::start().await;
    let url = h.queue("params").await;
    let body = format!(r#"{{"QueueUrl":"{url}"}}"#);
    let (status, headers, text) = raw(&h, &json_headers("SendMessage"), &body).await;
    assert_eq!(status, 400);
    assert!(text.contains("MissingRequiredParameterException"), "{text}");
    assert!(
        headers.contains("x-amzn-query-error: missingparameter;sender"),
        "{headers}"
    );

    let body = format!(r#"{{"QueueUrl":"{url}","MaxNumberOfMessages":"ten"}}"#);
    let (status, _, text) = raw(&h, &json_headers("ReceiveMessage"), &body).await;
    assert_eq!(status, 400);
    assert!(text.contains("SerializationException"), "{text}");

    let body = format!(r#"{{"QueueUrl":"{url}","MaxNumberOfMessages":99999999999999999999}}"#);
    let (status, _, _) = raw(&h, &json_headers("ReceiveMessage"), &body).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn receive_parameters_out_of_range_name_the_value_and_the_range() {
    let h = Harness::start().await;
    let url = h.queue("ranges").await;
    let error = h
        .sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(11)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    assert_eq!(
        message(&error),
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
    );
    let error = h
        .sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(21)
        .send()
        .await
        .unwrap_err();
    assert!(message(&error).contains("Value 21 for parameter WaitTimeSeconds is invalid"));
    let error = h
        .sqs
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(-1)
        .send()
        .await
        .unwrap_err();
    assert!(message(&error).contains("VisibilityTimeout"));
    let error = h
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .delay_seconds(901)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    assert!(message(&error).contains("901"));
}

#[tokio::test]
async fn oversized_and_invalid_bodies_are_refused() {
    let h = Harness::start().await;
    let url = h.queue("bodies").await;
    let error = h
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1_048_577))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
    assert!(message(&error).contains("1048576"), "{}", message(&error));
    h.sqs
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1_048_576))
        .send()
        .await
        .unwrap();

    let error = h
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body("\u{FFFF}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidMessageContents");
}

fn entry(id: &str, body: &str) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder()
        .id(id)
        .message_body(body)
        .build()
        .unwrap()
}

#[tokio::test]
async fn malformed_batches_get_the_batch_errors() {
    let h = Harness::start().await;
    let url = h.queue("batches").await;

    let error = h
        .sqs
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.EmptyBatchRequest");
    assert!(error.as_service_error().unwrap().is_empty_batch_request());

    let eleven: Vec<_> = (0..11).map(|i| entry(&format!("e{i}"), "x")).collect();
    let error = h
        .sqs
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(eleven))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&error),
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    );

    let error = h
        .sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("same", "a"))
        .entries(entry("same", "b"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&error),
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    );

    let error = h
        .sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("bad id!", "a"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.InvalidBatchEntryId");

    let big = "x".repeat(600_000);
    let error = h
        .sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", &big))
        .entries(entry("b", &big))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.BatchRequestTooLong");
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_batch_request_too_long()
    );
    assert_eq!(
        h.counts(&url).await,
        (0, 0, 0),
        "nothing of a refused batch is sent"
    );
}

#[tokio::test]
async fn invalid_message_attributes_are_refused_with_a_reason() {
    let h = Harness::start().await;
    let url = h.queue("bad-attrs").await;
    let attribute = |data_type: &str, value: &str| {
        aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(value)
            .build()
            .unwrap()
    };
    for (name, data_type, value) in [
        ("AWS.reserved", "String", "x"),
        ("empty", "String", ""),
        ("number", "Number", "abc"),
        ("typed", "Date", "x"),
        ("bad..name", "String", "x"),
    ] {
        let error = h
            .sqs
            .send_message()
            .queue_url(&url)
            .message_body("x")
            .message_attributes(name, attribute(data_type, value))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&error), "InvalidParameterValue", "{name}");
        assert!(message(&error).contains(name), "{}", message(&error));
    }
    let mut request = h.sqs.send_message().queue_url(&url).message_body("x");
    for i in 0..11 {
        request = request.message_attributes(format!("a{i}"), attribute("String", "v"));
    }
    let error = request.send().await.unwrap_err();
    assert!(message(&error).contains("[11]"), "{}", message(&error));
}

#[tokio::test]
async fn malformed_queue_urls_and_receipt_handles_are_refused() {
    let h = Harness::start().await;
    let url = h.queue("handles").await;
    let error = h
        .sqs
        .delete_message()
        .queue_url(&url)
        .receipt_handle("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "ReceiptHandleIsInvalid");
    let error = h
        .sqs
        .send_message()
        .queue_url("not-a-url")
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidAddress");
    let other_account = format!("{}/123456789012/handles", h.server.endpoint_url());
    let error = h
        .sqs
        .send_message()
        .queue_url(other_account)
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AWS.SimpleQueueService.NonExistentQueue");
    let error = h
        .sqs
        .create_queue()
        .queue_name("bad name")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue");
}
