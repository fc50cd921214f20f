#!/usr/bin/env python3
"""Checks the sqs-tasks local server with boto3.

Reads the endpoint from AWS_ENDPOINT_URL_SQS, runs one check per SQS feature, prints
"ok: ..." or "FAIL: ..." for each, then "boto3: N passed, N failed". Exits 1 when any
check failed.
"""

import hashlib
import json
import os
import struct
import sys
import time
import traceback
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PASSED = 0
FAILED = 0


def check(name, func):
    """Runs one check; an exception or a failed assertion counts as a failure."""
    global PASSED, FAILED
    try:
        func()
    except Exception as error:  # noqa: BLE001 - every failure is reported, then counted
        FAILED += 1
        print(f"FAIL: {name}: {type(error).__name__}: {error}")
        traceback.print_exc(limit=3, file=sys.stdout)
    else:
        PASSED += 1
        print(f"ok: {name}")


def expect_eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def expect_error(func, codes, what):
    """Calls func, which must fail with a ClientError whose code is one of `codes`."""
    try:
        func()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code not in codes:
            raise AssertionError(f"{what}: expected error code in {codes}, got {code!r}") from error
        return error
    raise AssertionError(f"{what}: expected an error {codes}, the call succeeded")


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def md5_of_attributes(attributes):
    """MD5 of message attributes as SQS computes it (names sorted, length-prefixed fields)."""
    out = bytearray()

    def put(data):
        out.extend(struct.pack(">I", len(data)))
        out.extend(data)

    for name in sorted(attributes):
        value = attributes[name]
        put(name.encode("utf-8"))
        put(value["DataType"].encode("utf-8"))
        if "BinaryValue" in value:
            out.append(2)
            put(value["BinaryValue"])
        else:
            out.append(1)
            put(value["StringValue"].encode("utf-8"))
    return md5_hex(bytes(out))


def receive_all(sqs, url, want, tries=10):
    """Receives until `want` distinct messages arrived, or `tries` short polls were made."""
    seen = {}
    for _ in range(tries):
        response = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        for message in response.get("Messages", []):
            seen[message["MessageId"]] = message
        if len(seen) >= want:
            break
    return list(seen.values())


def main():
    endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS")
    if not endpoint:
        print("AWS_ENDPOINT_URL_SQS is not set")
        return 2
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )
    # The same client without client-side validation, so the server's answers are seen.
    raw = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(
            retries={"max_attempts": 1},
            connect_timeout=5,
            read_timeout=30,
            parameter_validation=False,
        ),
    )
    prefix = f"boto3-{uuid.uuid4().hex[:12]}"
    name = f"{prefix}-main"
    state = {}

    def create_queue():
        url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        if not url.endswith("/" + name):
            raise AssertionError(f"queue URL {url!r} does not end with the queue name")
        state["url"] = url

    def create_queue_idempotent():
        url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        expect_eq(url, state["url"], "URL of the second create")

    def create_queue_conflict():
        expect_error(
            lambda: sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "31"}),
            {"QueueAlreadyExists"},
            "create with a different VisibilityTimeout",
        )

    def get_queue_url():
        expect_eq(sqs.get_queue_url(QueueName=name)["QueueUrl"], state["url"], "GetQueueUrl")

    def list_queues_prefix():
        other = sqs.create_queue(QueueName=f"{prefix}-other")["QueueUrl"]
        state["other"] = other
        urls = sorted(sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []))
        expect_eq(urls, sorted([state["url"], other]), "ListQueues with our prefix")
        none = sqs.list_queues(QueueNamePrefix=prefix + "-nothing").get("QueueUrls", [])
        expect_eq(none, [], "ListQueues with a prefix that matches nothing")

    def set_get_attributes():
        sqs.set_queue_attributes(
            QueueUrl=state["url"],
            Attributes={"VisibilityTimeout": "45", "MessageRetentionPeriod": "3600"},
        )
        attributes = sqs.get_queue_attributes(QueueUrl=state["url"], AttributeNames=["All"])[
            "Attributes"
        ]
        expect_eq(attributes.get("VisibilityTimeout"), "45", "VisibilityTimeout")
        expect_eq(attributes.get("MessageRetentionPeriod"), "3600", "MessageRetentionPeriod")
        expect_eq(attributes.get("DelaySeconds"), "0", "DelaySeconds")
        arn = attributes.get("QueueArn", "")
        if not (arn.startswith("arn:aws:sqs:") and arn.endswith(":" + name)):
            raise AssertionError(f"QueueArn {arn!r} is not an SQS ARN for {name}")
        one = sqs.get_queue_attributes(QueueUrl=state["url"], AttributeNames=["DelaySeconds"])
        expect_eq(one["Attributes"], {"DelaySeconds": "0"}, "one named attribute")

    typed_attributes = {
        "Text": {"DataType": "String", "StringValue": "h\u00e9llo w\u00f6rld \u2603"},
        "Count": {"DataType": "Number", "StringValue": "-12.5e3"},
        "Blob": {"DataType": "Binary", "BinaryValue": bytes([0, 1, 2, 254, 255])},
        "Price": {"DataType": "Number.float", "StringValue": "3.14159"},
        "Kind": {"DataType": "String.custom-kind", "StringValue": "report"},
        "Image": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a\x00\x01"},
    }
    body = "first message: \u00e9t\u00e9, \u65e5\u672c, emoji \U0001f600, tab\tand CR\r\n"

    def send_with_attributes():
        response = sqs.send_message(
            QueueUrl=state["url"], MessageBody=body, MessageAttributes=typed_attributes
        )
        expect_eq(response["MD5OfMessageBody"], md5_hex(body.encode("utf-8")), "MD5OfMessageBody")
        expect_eq(
            response["MD5OfMessageAttributes"],
            md5_of_attributes(typed_attributes),
            "MD5OfMessageAttributes",
        )
        state["first_id"] = response["MessageId"]

    def md5_known_value():
        # A value recorded from real SQS: {Foo: String "Bar"}.
        queue = state["other"]
        attributes = {"Foo": {"DataType": "String", "StringValue": "Bar"}}
        response = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attributes)
        expect_eq(
            response["MD5OfMessageAttributes"],
            "ae7155c6026991b6d54b11589678bf9c",
            "MD5OfMessageAttributes of {Foo: Bar}",
        )

    batch_bodies = {f"m{i}": f"batch body {i} " + "x" * i for i in range(5)}

    def send_batch():
        entries = [
            {
                "Id": entry_id,
                "MessageBody": text,
                "MessageAttributes": {
                    "Index": {"DataType": "Number", "StringValue": entry_id[1:]},
                    "Tag": {"DataType": "Binary.raw", "BinaryValue": text.encode("utf-8")[:4]},
                },
            }
            for entry_id, text in batch_bodies.items()
        ]
        response = sqs.send_message_batch(QueueUrl=state["url"], Entries=entries)
        expect_eq(response.get("Failed", []), [], "failed entries")
        results = {entry["Id"]: entry for entry in response["Successful"]}
        expect_eq(sorted(results), sorted(batch_bodies), "successful ids")
        for entry in entries:
            result = results[entry["Id"]]
            expect_eq(
                result["MD5OfMessageBody"],
                md5_hex(entry["MessageBody"].encode("utf-8")),
                f"MD5OfMessageBody of {entry['Id']}",
            )
            expect_eq(
                result["MD5OfMessageAttributes"],
                md5_of_attributes(entry["MessageAttributes"]),
                f"MD5OfMessageAttributes of {entry['Id']}",
            )

    def receive_everything():
        messages = receive_all(sqs, state["url"], 6)
        expect_eq(len(messages), 6, "number of messages received")
        by_body = {m["Body"]: m for m in messages}
        expect_eq(
            sorted(by_body), sorted([body, *batch_bodies.values()]), "bodies received"
        )
        first = by_body[body]
        expect_eq(first["MessageId"], state["first_id"], "MessageId")
        expect_eq(first["MessageAttributes"], typed_attributes, "attributes of the first message")
        expect_eq(first["MD5OfBody"], md5_hex(body.encode("utf-8")), "MD5OfBody")
        expect_eq(
            first["MD5OfMessageAttributes"],
            md5_of_attributes(typed_attributes),
            "MD5OfMessageAttributes on receive",
        )
        system = first["Attributes"]
        expect_eq(system.get("ApproximateReceiveCount"), "1", "ApproximateReceiveCount")
        sent = int(system["SentTimestamp"])
        if abs(sent - time.time() * 1000) > 120_000:
            raise AssertionError(f"SentTimestamp {sent} is not close to now")
        for key in ("SenderId", "ApproximateFirstReceiveTimestamp"):
            if key not in system:
                raise AssertionError(f"system attribute {key} missing: {system}")
        for text in batch_bodies.values():
            message = by_body[text]
            expect_eq(
                message["MD5OfMessageAttributes"],
                md5_of_attributes(message["MessageAttributes"]),
                "MD5OfMessageAttributes of a batch message",
            )
        state["handles"] = {m["Body"]: m["ReceiptHandle"] for m in messages}

    def change_visibility():
        handle = state["handles"][body]
        sqs.change_message_visibility(
            QueueUrl=state["url"], ReceiptHandle=handle, VisibilityTimeout=0
        )
        again = receive_all(sqs, state["url"], 1)
        expect_eq([m["Body"] for m in again], [body], "the released message comes back")
        expect_eq(
            again[0]["Attributes"]["ApproximateReceiveCount"], "2", "receive count after release"
        )
        state["handles"][body] = again[0]["ReceiptHandle"]

    def delete_message():
        handle = state["handles"].pop(body)
        sqs.delete_message(QueueUrl=state["url"], ReceiptHandle=handle)
        # Deleting twice with the same handle succeeds too.
        sqs.delete_message(QueueUrl=state["url"], ReceiptHandle=handle)

    def delete_batch():
        entries = [
            {"Id": f"d{i}", "ReceiptHandle": handle}
            for i, handle in enumerate(state["handles"].values())
        ]
        response = sqs.delete_message_batch(QueueUrl=state["url"], Entries=entries)
        expect_eq(response.get("Failed", []), [], "failed deletes")
        expect_eq(len(response["Successful"]), 5, "successful deletes")
        attributes = sqs.get_queue_attributes(
            QueueUrl=state["url"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        expect_eq(attributes["ApproximateNumberOfMessages"], "0", "visible messages left")
        expect_eq(attributes["ApproximateNumberOfMessagesNotVisible"], "0", "in-flight left")

    def purge():
        for i in range(3):
            sqs.send_message(QueueUrl=state["url"], MessageBody=f"to purge {i}")
        sqs.purge_queue(QueueUrl=state["url"])
        left = sqs.receive_message(QueueUrl=state["url"], MaxNumberOfMessages=10)
        expect_eq(left.get("Messages", []), [], "messages after purge")

    def purge_twice():
        expect_error(
            lambda: sqs.purge_queue(QueueUrl=state["url"]),
            {"AWS.SimpleQueueService.PurgeQueueInProgress"},
            "second purge within 60 seconds",
        )

    def tags():
        sqs.tag_queue(QueueUrl=state["url"], Tags={"team": "blue", "env": "test"})
        expect_eq(
            sqs.list_queue_tags(QueueUrl=state["url"]).get("Tags"),
            {"team": "blue", "env": "test"},
            "tags after TagQueue",
        )
        sqs.untag_queue(QueueUrl=state["url"], TagKeys=["team"])
        expect_eq(
            sqs.list_queue_tags(QueueUrl=state["url"]).get("Tags"),
            {"env": "test"},
            "tags after UntagQueue",
        )

    def dead_letter_redrive():
        dlq_url = sqs.create_queue(QueueName=f"{prefix}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
        source = sqs.create_queue(
            QueueName=f"{prefix}-source",
            Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "0"},
        )["QueueUrl"]
        stored = json.loads(
            sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])[
                "Attributes"
            ]["RedrivePolicy"]
        )
        expect_eq(stored["deadLetterTargetArn"], dlq_arn, "stored deadLetterTargetArn")
        expect_eq(int(stored["maxReceiveCount"]), 1, "stored maxReceiveCount")
        attributes = {"Origin": {"DataType": "String", "StringValue": "source"}}
        sent = sqs.send_message(QueueUrl=source, MessageBody="poison", MessageAttributes=attributes)
        first = receive_all(sqs, source, 1)
        expect_eq([m["Body"] for m in first], ["poison"], "first receive from the source")
        second = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
        expect_eq(second.get("Messages", []), [], "second receive from the source")
        moved = receive_all(sqs, dlq_url, 1)
        expect_eq(len(moved), 1, "messages in the dead-letter queue")
        expect_eq(moved[0]["MessageId"], sent["MessageId"], "MessageId kept")
        expect_eq(moved[0]["Body"], "poison", "body kept")
        expect_eq(moved[0]["MessageAttributes"], attributes, "attributes kept")
        count = int(moved[0]["Attributes"]["ApproximateReceiveCount"])
        if count < 2:
            raise AssertionError(f"receive count did not carry over: {count}")
        sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
        expect_eq(sources, [source], "ListDeadLetterSourceQueues")
        state["extra"] = [source, dlq_url]

    def error_missing_queue():
        missing = f"{prefix}-missing"
        error = expect_error(
            lambda: sqs.get_queue_url(QueueName=missing),
            {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"},
            "GetQueueUrl of a missing queue",
        )
        expect_eq(error.response["ResponseMetadata"]["HTTPStatusCode"], 400, "HTTP status")
        try:
            sqs.get_queue_url(QueueName=missing)
        except sqs.exceptions.QueueDoesNotExist:
            pass
        else:
            raise AssertionError("the typed QueueDoesNotExist exception was not raised")
        url = state["url"].rsplit("/", 1)[0] + "/" + missing
        expect_error(
            lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
            {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"},
            "SendMessage to a missing queue",
        )

    def error_invalid_receipt_handle():
        try:
            sqs.delete_message(QueueUrl=state["url"], ReceiptHandle="not-a-real-handle")
        except sqs.exceptions.ReceiptHandleIsInvalid:
            pass
        else:
            raise AssertionError("ReceiptHandleIsInvalid was not raised")

    def error_max_messages():
        expect_error(
            lambda: raw.receive_message(QueueUrl=state["url"], MaxNumberOfMessages=11),
            {"InvalidParameterValue"},
            "MaxNumberOfMessages=11",
        )

    def error_empty_batch():
        expect_error(
            lambda: raw.send_message_batch(QueueUrl=state["url"], Entries=[]),
            {"AWS.SimpleQueueService.EmptyBatchRequest"},
            "SendMessageBatch with no entries",
        )
        expect_error(
            lambda: raw.delete_message_batch(QueueUrl=state["url"], Entries=[]),
            {"AWS.SimpleQueueService.EmptyBatchRequest"},
            "DeleteMessageBatch with no entries",
        )

    def delete_queues():
        for url in [state["url"], state["other"], *state.get("extra", [])]:
            sqs.delete_queue(QueueUrl=url)
        left = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
        expect_eq(left, [], "queues left after DeleteQueue")

    check("create queue", create_queue)
    check("create queue again with the same attributes returns the same URL", create_queue_idempotent)
    check("create queue with different attributes -> QueueAlreadyExists", create_queue_conflict)
    check("get queue url", get_queue_url)
    check("list queues with a prefix", list_queues_prefix)
    check("set and get queue attributes", set_get_attributes)
    check("send with String, Number, Binary and custom-typed attributes (MD5s)", send_with_attributes)
    check("MD5 of attributes matches a value recorded from SQS", md5_known_value)
    check("send batch of 5 with attributes (MD5s)", send_batch)
    check("receive all with system and message attributes (bodies, values, MD5s)", receive_everything)
    check("change visibility to 0 releases the message", change_visibility)
    check("delete message (twice with the same handle)", delete_message)
    check("delete message batch empties the queue", delete_batch)
    check("purge queue", purge)
    check("purge again within 60 s -> PurgeQueueInProgress", purge_twice)
    check("tag, list and untag queue", tags)
    check("dead-letter redrive (maxReceiveCount 1, VisibilityTimeout 0)", dead_letter_redrive)
    check("missing queue -> QueueDoesNotExist", error_missing_queue)
    check("invalid receipt handle -> ReceiptHandleIsInvalid", error_invalid_receipt_handle)
    check("MaxNumberOfMessages=11 -> InvalidParameterValue", error_max_messages)
    check("empty batch -> EmptyBatchRequest", error_empty_batch)
    check("delete queues", delete_queues)

    print(f"boto3: {PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
