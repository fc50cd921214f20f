// Checks the sqs-tasks local server with the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs).
//
// Reads the endpoint from AWS_ENDPOINT_URL_SQS. The SDK itself verifies the MD5 of every
// body it sends and receives; this script also verifies the MD5 of message attributes.
// Prints "ok: ..." or "FAIL: ..." per check, then "aws-sdk-js-v3: N passed, N failed", and
// exits 1 when any check failed.

import { createHash, randomBytes } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";

const endpoint = process.env.AWS_ENDPOINT_URL_SQS;
if (!endpoint) {
  console.log("AWS_ENDPOINT_URL_SQS is not set");
  process.exit(2);
}

const sqs = new SQSClient({
  endpoint,
  region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
  },
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 5000, requestTimeout: 30000 },
});
const send = (command) => sqs.send(command);

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok: ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL: ${name}: ${error?.name}: ${error?.message}`);
  }
}

// JSON with object keys sorted, so that key order does not matter in comparisons.
function canonical(value) {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v,
  );
}

function expectEq(actual, expected, what) {
  const a = canonical(actual);
  const e = canonical(expected);
  if (a !== e) {
    throw new Error(`${what}: expected ${e}, got ${a}`);
  }
}

// Runs fn, which must fail with an error of class `type` (or, for errors that the SDK has no
// class for, a service error named `type`) whose query-compatible code is `code`.
async function expectError(fn, type, code, what) {
  try {
    await fn();
  } catch (error) {
    const matches =
      typeof type === "string"
        ? error instanceof SQSServiceException && error.name === type
        : error instanceof type;
    if (!matches) {
      throw new Error(`${what}: expected ${type.name ?? type}, got ${error?.name}: ${error?.message}`);
    }
    expectEq(error.Code, code, `${what}: error code`);
    expectEq(error.$metadata?.httpStatusCode, 400, `${what}: HTTP status`);
    return error;
  }
  throw new Error(`${what}: expected ${type.name ?? type}, the call succeeded`);
}

const md5Hex = (data) => createHash("md5").update(data).digest("hex");

// MD5 of message attributes as SQS computes it: names sorted, every field length-prefixed,
// a transport byte (1 text, 2 binary) before the value.
function md5OfAttributes(attributes) {
  const parts = [];
  const field = (bytes) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    field(Buffer.from(name, "utf8"));
    field(Buffer.from(value.DataType, "utf8"));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(value.BinaryValue));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(value.StringValue, "utf8"));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

// Attributes as received, with binary values as plain arrays, for comparison.
function normalized(attributes) {
  const out = {};
  for (const name of Object.keys(attributes ?? {}).sort()) {
    const { DataType, StringValue, BinaryValue } = attributes[name];
    out[name] =
      BinaryValue !== undefined
        ? { DataType, BinaryValue: Array.from(BinaryValue) }
        : { DataType, StringValue };
  }
  return out;
}

async function receiveAll(url, want, tries = 10) {
  const seen = new Map();
  for (let i = 0; i < tries && seen.size < want; i += 1) {
    const response = await send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
        WaitTimeSeconds: 0,
      }),
    );
    for (const message of response.Messages ?? []) {
      seen.set(message.MessageId, message);
    }
  }
  return [...seen.values()];
}

const prefix = `js-${randomBytes(6).toString("hex")}`;
const name = `${prefix}-main`;
const state = { extra: [] };

const typedAttributes = {
  Text: { DataType: "String", StringValue: "h\u00e9llo w\u00f6rld \u2603" },
  Count: { DataType: "Number", StringValue: "-12.5e3" },
  Blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2, 254, 255]) },
  Price: { DataType: "Number.float", StringValue: "3.14159" },
  Kind: { DataType: "String.custom-kind", StringValue: "report" },
  Image: { DataType: "Binary.gif", BinaryValue: new Uint8Array(Buffer.from("GIF89a\u0000\u0001", "latin1")) },
};
const body = "first message: \u00e9t\u00e9, \u65e5\u672c, emoji \u{1f600}, tab\tand CR\r\n";
const batchBodies = Object.fromEntries(
  [0, 1, 2, 3, 4, 5, 6].map((i) => [`m${i}`, `batch body ${i} ${"y".repeat(i * 3)}`]),
);

await check("create queue", async () => {
  const { QueueUrl } = await send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "30" } }),
  );
  if (!QueueUrl.endsWith(`/${name}`)) {
    throw new Error(`queue URL ${QueueUrl} does not end with the queue name`);
  }
  if (new URL(QueueUrl).origin !== new URL(endpoint).origin) {
    throw new Error(`queue URL ${QueueUrl} is not on the endpoint ${endpoint}`);
  }
  state.url = QueueUrl;
});

await check("create queue again with the same attributes returns the same URL", async () => {
  const { QueueUrl } = await send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "30" } }),
  );
  expectEq(QueueUrl, state.url, "URL of the second create");
});

await check("create queue with different attributes -> QueueAlreadyExists", async () => {
  await expectError(
    () => send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "31" } })),
    QueueNameExists,
    "QueueAlreadyExists",
    "create with a different VisibilityTimeout",
  );
});

await check("get queue url", async () => {
  const { QueueUrl } = await send(new GetQueueUrlCommand({ QueueName: name }));
  expectEq(QueueUrl, state.url, "GetQueueUrl");
});

await check("list queues with a prefix", async () => {
  state.other = (await send(new CreateQueueCommand({ QueueName: `${prefix}-other` }))).QueueUrl;
  const listed = await send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  expectEq([...(listed.QueueUrls ?? [])].sort(), [state.url, state.other].sort(), "ListQueues");
  const none = await send(new ListQueuesCommand({ QueueNamePrefix: `${prefix}-nothing` }));
  expectEq(none.QueueUrls ?? [], [], "ListQueues with a prefix that matches nothing");
});

await check("set and get queue attributes", async () => {
  await send(
    new SetQueueAttributesCommand({
      QueueUrl: state.url,
      Attributes: { VisibilityTimeout: "45", MessageRetentionPeriod: "3600" },
    }),
  );
  const { Attributes } = await send(
    new GetQueueAttributesCommand({ QueueUrl: state.url, AttributeNames: ["All"] }),
  );
  expectEq(Attributes.VisibilityTimeout, "45", "VisibilityTimeout");
  expectEq(Attributes.MessageRetentionPeriod, "3600", "MessageRetentionPeriod");
  expectEq(Attributes.DelaySeconds, "0", "DelaySeconds");
  if (!/^arn:aws:sqs:[^:]+:\d{12}:/.test(Attributes.QueueArn) || !Attributes.QueueArn.endsWith(`:${name}`)) {
    throw new Error(`QueueArn ${Attributes.QueueArn} is not an SQS ARN for ${name}`);
  }
});

await check("send with String, Number, Binary and custom-typed attributes (MD5s)", async () => {
  const response = await send(
    new SendMessageCommand({ QueueUrl: state.url, MessageBody: body, MessageAttributes: typedAttributes }),
  );
  expectEq(response.MD5OfMessageBody, md5Hex(Buffer.from(body, "utf8")), "MD5OfMessageBody");
  expectEq(response.MD5OfMessageAttributes, md5OfAttributes(typedAttributes), "MD5OfMessageAttributes");
  state.firstId = response.MessageId;
});

await check("MD5 of attributes matches a value recorded from SQS", async () => {
  const attributes = { timestamp: { DataType: "Number", StringValue: "1493147359900" } };
  const response = await send(
    new SendMessageCommand({ QueueUrl: state.other, MessageBody: "x", MessageAttributes: attributes }),
  );
  expectEq(response.MD5OfMessageAttributes, "235c5c510d26fb653d073faed50ae77c", "MD5 of {timestamp}");
  expectEq(md5OfAttributes(attributes), "235c5c510d26fb653d073faed50ae77c", "local MD5 of {timestamp}");
});

await check("send batch of 7 with attributes (MD5s)", async () => {
  const entries = Object.entries(batchBodies).map(([Id, MessageBody], i) => ({
    Id,
    MessageBody,
    MessageAttributes: {
      Index: { DataType: "Number.int", StringValue: String(i) },
      Raw: { DataType: "Binary", BinaryValue: new Uint8Array([i, 255 - i]) },
    },
  }));
  const response = await send(new SendMessageBatchCommand({ QueueUrl: state.url, Entries: entries }));
  expectEq(response.Failed ?? [], [], "failed entries");
  const results = Object.fromEntries((response.Successful ?? []).map((entry) => [entry.Id, entry]));
  expectEq(Object.keys(results).sort(), Object.keys(batchBodies).sort(), "successful ids");
  for (const entry of entries) {
    expectEq(
      results[entry.Id].MD5OfMessageAttributes,
      md5OfAttributes(entry.MessageAttributes),
      `MD5OfMessageAttributes of ${entry.Id}`,
    );
  }
});

await check("receive all with system and message attributes (bodies, values, MD5s)", async () => {
  const messages = await receiveAll(state.url, 8);
  expectEq(messages.length, 8, "number of messages received");
  const byBody = Object.fromEntries(messages.map((m) => [m.Body, m]));
  expectEq(Object.keys(byBody).sort(), [body, ...Object.values(batchBodies)].sort(), "bodies");
  const first = byBody[body];
  expectEq(first.MessageId, state.firstId, "MessageId");
  expectEq(normalized(first.MessageAttributes), normalized(typedAttributes), "attributes");
  expectEq(first.MD5OfBody, md5Hex(Buffer.from(body, "utf8")), "MD5OfBody");
  for (const message of messages) {
    expectEq(
      message.MD5OfMessageAttributes,
      md5OfAttributes(message.MessageAttributes),
      `MD5OfMessageAttributes of ${message.MessageId}`,
    );
  }
  expectEq(first.Attributes?.ApproximateReceiveCount, "1", "ApproximateReceiveCount");
  const sent = Number(first.Attributes?.SentTimestamp);
  if (!(Math.abs(sent - Date.now()) < 120_000)) {
    throw new Error(`SentTimestamp ${first.Attributes?.SentTimestamp} is not close to now`);
  }
  state.handles = Object.fromEntries(messages.map((m) => [m.Body, m.ReceiptHandle]));
});

await check("change visibility to 0 releases the message", async () => {
  await send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: state.url,
      ReceiptHandle: state.handles[body],
      VisibilityTimeout: 0,
    }),
  );
  const again = await receiveAll(state.url, 1);
  expectEq(again.map((m) => m.Body), [body], "the released message comes back");
  expectEq(again[0].Attributes?.ApproximateReceiveCount, "2", "receive count after release");
  state.handles[body] = again[0].ReceiptHandle;
});

await check("delete message (twice with the same handle)", async () => {
  const handle = state.handles[body];
  delete state.handles[body];
  await send(new DeleteMessageCommand({ QueueUrl: state.url, ReceiptHandle: handle }));
  // Deleting twice with the same handle succeeds too.
  await send(new DeleteMessageCommand({ QueueUrl: state.url, ReceiptHandle: handle }));
});

await check("delete message batch empties the queue", async () => {
  const entries = Object.values(state.handles).map((ReceiptHandle, i) => ({ Id: `d${i}`, ReceiptHandle }));
  const response = await send(new DeleteMessageBatchCommand({ QueueUrl: state.url, Entries: entries }));
  expectEq(response.Failed ?? [], [], "failed deletes");
  expectEq((response.Successful ?? []).length, 7, "successful deletes");
  const { Attributes } = await send(
    new GetQueueAttributesCommand({
      QueueUrl: state.url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  expectEq(Attributes, { ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" }, "counts");
});

await check("purge queue", async () => {
  for (let i = 0; i < 3; i += 1) {
    await send(new SendMessageCommand({ QueueUrl: state.url, MessageBody: `to purge ${i}` }));
  }
  await send(new PurgeQueueCommand({ QueueUrl: state.url }));
  const left = await send(new ReceiveMessageCommand({ QueueUrl: state.url, MaxNumberOfMessages: 10 }));
  expectEq(left.Messages ?? [], [], "messages after purge");
});

await check("purge again within 60 s -> PurgeQueueInProgress", async () => {
  try {
    await send(new PurgeQueueCommand({ QueueUrl: state.url }));
  } catch (error) {
    if (!(error instanceof PurgeQueueInProgress)) throw error;
    expectEq(error.Code, "AWS.SimpleQueueService.PurgeQueueInProgress", "error code");
    expectEq(error.$metadata?.httpStatusCode, 403, "HTTP status");
    return;
  }
  throw new Error("the second purge succeeded");
});

await check("tag, list and untag queue", async () => {
  await send(new TagQueueCommand({ QueueUrl: state.url, Tags: { team: "blue", env: "test" } }));
  expectEq((await send(new ListQueueTagsCommand({ QueueUrl: state.url }))).Tags, { env: "test", team: "blue" }, "tags");
  await send(new UntagQueueCommand({ QueueUrl: state.url, TagKeys: ["team"] }));
  expectEq((await send(new ListQueueTagsCommand({ QueueUrl: state.url }))).Tags, { env: "test" }, "tags after untag");
});

await check("dead-letter redrive (maxReceiveCount 1, VisibilityTimeout 0)", async () => {
  const dlq = (await send(new CreateQueueCommand({ QueueName: `${prefix}-dlq` }))).QueueUrl;
  state.extra.push(dlq);
  const arn = (await send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] })))
    .Attributes.QueueArn;
  const source = (
    await send(
      new CreateQueueCommand({
        QueueName: `${prefix}-source`,
        Attributes: {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 1 }),
          VisibilityTimeout: "0",
        },
      }),
    )
  ).QueueUrl;
  state.extra.push(source);
  const attributes = { Origin: { DataType: "String", StringValue: "source" } };
  const sent = await send(new SendMessageCommand({ QueueUrl: source, MessageBody: "poison", MessageAttributes: attributes }));
  const first = await receiveAll(source, 1);
  expectEq(first.map((m) => m.Body), ["poison"], "first receive from the source");
  const second = await send(new ReceiveMessageCommand({ QueueUrl: source, MaxNumberOfMessages: 10 }));
  expectEq(second.Messages ?? [], [], "second receive from the source");
  const moved = await receiveAll(dlq, 1);
  expectEq(moved.length, 1, "messages in the dead-letter queue");
  expectEq([moved[0].MessageId, moved[0].Body], [sent.MessageId, "poison"], "id and body kept");
  expectEq(normalized(moved[0].MessageAttributes), normalized(attributes), "attributes kept");
  if (!(Number(moved[0].Attributes?.ApproximateReceiveCount) >= 2)) {
    throw new Error(`receive count did not carry over: ${moved[0].Attributes?.ApproximateReceiveCount}`);
  }
  const sources = await send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq }));
  expectEq(sources.queueUrls, [source], "ListDeadLetterSourceQueues");
});

await check("missing queue -> QueueDoesNotExist", async () => {
  await expectError(
    () => send(new GetQueueUrlCommand({ QueueName: `${prefix}-missing` })),
    QueueDoesNotExist,
    "AWS.SimpleQueueService.NonExistentQueue",
    "GetQueueUrl of a missing queue",
  );
  const missingUrl = `${state.url.slice(0, state.url.lastIndexOf("/"))}/${prefix}-missing`;
  await expectError(
    () => send(new SendMessageCommand({ QueueUrl: missingUrl, MessageBody: "x" })),
    QueueDoesNotExist,
    "AWS.SimpleQueueService.NonExistentQueue",
    "SendMessage to a missing queue",
  );
});

await check("invalid receipt handle -> ReceiptHandleIsInvalid", async () => {
  await expectError(
    () => send(new DeleteMessageCommand({ QueueUrl: state.url, ReceiptHandle: "not-a-real-handle" })),
    ReceiptHandleIsInvalid,
    "ReceiptHandleIsInvalid",
    "DeleteMessage with a made-up handle",
  );
});

await check("MaxNumberOfMessages=11 -> InvalidParameterValue", async () => {
  await expectError(
    () => send(new ReceiveMessageCommand({ QueueUrl: state.url, MaxNumberOfMessages: 11 })),
    // The SDK has no class for this error; it names it after the query-compatible code.
    "InvalidParameterValue",
    "InvalidParameterValue",
    "ReceiveMessage of 11",
  );
});

await check("empty batch -> EmptyBatchRequest", async () => {
  await expectError(
    () => send(new SendMessageBatchCommand({ QueueUrl: state.url, Entries: [] })),
    EmptyBatchRequest,
    "AWS.SimpleQueueService.EmptyBatchRequest",
    "SendMessageBatch with no entries",
  );
  await expectError(
    () => send(new DeleteMessageBatchCommand({ QueueUrl: state.url, Entries: [] })),
    EmptyBatchRequest,
    "AWS.SimpleQueueService.EmptyBatchRequest",
    "DeleteMessageBatch with no entries",
  );
});

await check("delete queues", async () => {
  for (const url of [state.url, state.other, ...state.extra]) {
    await send(new DeleteQueueCommand({ QueueUrl: url }));
  }
  const left = await send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  expectEq(left.QueueUrls ?? [], [], "queues left after DeleteQueue");
});

console.log(`aws-sdk-js-v3: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
