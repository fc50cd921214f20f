#!/usr/bin/env bash
# Checks the sqs-tasks local server with the AWS CLI (version 1, JSON protocol).
#
# Reads the endpoint from AWS_ENDPOINT_URL_SQS; the CLI to run from AWS_CLI (default: aws
# on PATH). Prints "ok: ..." or "FAIL: ..." per check, then "awscli: N passed, N failed",
# and exits 1 when any check failed. Needs jq and md5sum.
set -uo pipefail

: "${AWS_ENDPOINT_URL_SQS:?AWS_ENDPOINT_URL_SQS must name the server}"
AWS_CLI=${AWS_CLI:-aws}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_PAGER=""
export LC_ALL=C.UTF-8

for tool in jq md5sum "$AWS_CLI"; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool"; exit 2; }
done

# The CLI (v1) replaces the endpoint of SQS in us-east-1 with its own unless --endpoint-url
# is given, whatever AWS_ENDPOINT_URL_SQS says: so every call names the endpoint.
# An empty response prints nothing; it is shown here as {} so that jq always has input.
sqs() {
    local out
    out=$(timeout 60 "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL_SQS" --output json \
        --cli-read-timeout 30 --cli-connect-timeout 5 sqs "$@") || return
    printf '%s\n' "${out:-"{}"}"
}

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

check() {
    local what=$1
    shift
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "ok: $what"
    else
        failed=$((failed + 1))
        echo "FAIL: $what"
        sed 's/^/    /' "$log"
    fi
}

expect_eq() { # actual expected what
    if [[ "$1" != "$2" ]]; then
        echo "$3: expected [$2], got [$1]"
        return 1
    fi
}

expect_error() { # code command...
    local code=$1 out
    shift
    if out=$("$@" 2>&1); then
        echo "expected error $code, the call succeeded: $out"
        return 1
    fi
    if [[ "$out" != *"An error occurred ($code)"* ]]; then
        echo "expected error $code, got: $out"
        return 1
    fi
}

md5_text() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# MD5 of message attributes as SQS computes it: for each attribute, sorted by name, the
# length-prefixed name, data type and value, with a transport byte (1 text, 2 binary)
# before the value. Arguments: name type value, repeated, already sorted by name.
md5_attributes() {
    local key type value
    {
        while (($# >= 3)); do
            key=$1 type=$2 value=$3
            shift 3
            put_field "$key"
            put_field "$type"
            if [[ $type == Binary* ]]; then printf '\x02'; else printf '\x01'; fi
            put_field "$value"
        done
    } | md5sum | cut -d' ' -f1
}

put_field() {
    local n
    n=$(printf '%s' "$1" | wc -c)
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) \
        $((n >> 8 & 255)) $((n & 255)))"
    printf '%s' "$1"
}

prefix="awscli-$$-$RANDOM$RANDOM"
queue_name="$prefix-main"
url=""
other=""
extra=()
body=$'first message: \u00e9t\u00e9, \u65e5\u672c, tab\tand CR\r\nend'
# The CLI v1 sends the text of a BinaryValue as the binary value, byte for byte.
attributes='{
  "Text": {"DataType": "String", "StringValue": "h\u00e9llo w\u00f6rld"},
  "Count": {"DataType": "Number", "StringValue": "-12.5e3"},
  "Blob": {"DataType": "Binary", "BinaryValue": "raw bytes"},
  "Price": {"DataType": "Number.float", "StringValue": "3.14159"},
  "Kind": {"DataType": "String.custom-kind", "StringValue": "report"},
  "Image": {"DataType": "Binary.gif", "BinaryValue": "GIF89a"}
}'
attributes_md5=$(md5_attributes \
    Blob Binary "raw bytes" \
    Count Number "-12.5e3" \
    Image Binary.gif "GIF89a" \
    Kind String.custom-kind "report" \
    Price Number.float "3.14159" \
    Text String "héllo wörld")

create_queue() {
    url=$(sqs create-queue --queue-name "$queue_name" --attributes VisibilityTimeout=30 |
        jq -er .QueueUrl) || return 1
    expect_eq "${url##*/}" "$queue_name" "last segment of the queue URL"
}

create_queue_idempotent() {
    local again
    again=$(sqs create-queue --queue-name "$queue_name" --attributes VisibilityTimeout=30 |
        jq -er .QueueUrl) || return 1
    expect_eq "$again" "$url" "URL of the second create"
}

create_queue_conflict() {
    expect_error QueueAlreadyExists \
        sqs create-queue --queue-name "$queue_name" --attributes VisibilityTimeout=31
}

get_queue_url() {
    local got
    got=$(sqs get-queue-url --queue-name "$queue_name" | jq -er .QueueUrl) || return 1
    expect_eq "$got" "$url" "GetQueueUrl"
}

list_queues_prefix() {
    local got want
    other=$(sqs create-queue --queue-name "$prefix-other" | jq -er .QueueUrl) || return 1
    got=$(sqs list-queues --queue-name-prefix "$prefix" | jq -r '.QueueUrls | sort | join(" ")') ||
        return 1
    want=$(printf '%s\n' "$url" "$other" | sort | tr '\n' ' ')
    expect_eq "$got " "$want" "ListQueues with our prefix" || return 1
    got=$(sqs list-queues --queue-name-prefix "$prefix-nothing" | jq -r '.QueueUrls // [] | length') ||
        return 1
    expect_eq "$got" 0 "ListQueues with a prefix that matches nothing"
}

set_get_attributes() {
    local got
    sqs set-queue-attributes --queue-url "$url" \
        --attributes VisibilityTimeout=45,MessageRetentionPeriod=3600 || return 1
    got=$(sqs get-queue-attributes --queue-url "$url" --attribute-names All) || return 1
    expect_eq "$(jq -r .Attributes.VisibilityTimeout <<<"$got")" 45 VisibilityTimeout || return 1
    expect_eq "$(jq -r .Attributes.MessageRetentionPeriod <<<"$got")" 3600 \
        MessageRetentionPeriod || return 1
    expect_eq "$(jq -r .Attributes.DelaySeconds <<<"$got")" 0 DelaySeconds || return 1
    expect_eq "$(jq -r '.Attributes.QueueArn | test("^arn:aws:sqs:.*:'"$queue_name"'$")' <<<"$got")" \
        true QueueArn
}

first_id=""
send_with_attributes() {
    local got
    got=$(sqs send-message --queue-url "$url" --message-body "$body" \
        --message-attributes "$attributes") || return 1
    expect_eq "$(jq -r .MD5OfMessageBody <<<"$got")" "$(md5_text "$body")" MD5OfMessageBody ||
        return 1
    expect_eq "$(jq -r .MD5OfMessageAttributes <<<"$got")" "$attributes_md5" \
        MD5OfMessageAttributes || return 1
    first_id=$(jq -er .MessageId <<<"$got")
}

md5_known_value() {
    # A value recorded from real SQS: {Foo: String "Bar"}.
    local got
    got=$(sqs send-message --queue-url "$other" --message-body x \
        --message-attributes '{"Foo": {"DataType": "String", "StringValue": "Bar"}}' |
        jq -r .MD5OfMessageAttributes) || return 1
    expect_eq "$got" ae7155c6026991b6d54b11589678bf9c "MD5OfMessageAttributes of {Foo: Bar}"
}

send_batch() {
    local entries got i
    entries=$(jq -n '[range(5) | {Id: "m\(.)", MessageBody: "batch body \(.)",
        MessageAttributes: {Index: {DataType: "Number", StringValue: "\(.)"}}}]')
    got=$(sqs send-message-batch --queue-url "$url" --entries "$entries") || return 1
    expect_eq "$(jq -r '.Failed // [] | length' <<<"$got")" 0 "failed entries" || return 1
    expect_eq "$(jq -r '[.Successful[].Id] | sort | join(",")' <<<"$got")" m0,m1,m2,m3,m4 \
        "successful ids" || return 1
    for i in 0 1 2 3 4; do
        expect_eq "$(jq -r ".Successful[] | select(.Id == \"m$i\") | .MD5OfMessageBody" <<<"$got")" \
            "$(md5_text "batch body $i")" "MD5OfMessageBody of m$i" || return 1
        expect_eq "$(jq -r ".Successful[] | select(.Id == \"m$i\") | .MD5OfMessageAttributes" \
            <<<"$got")" "$(md5_attributes Index Number "$i")" "MD5OfMessageAttributes of m$i" ||
            return 1
    done
}

received=""
receive_everything() {
    local got i first
    received='[]'
    for i in 1 2 3 4 5 6 7 8 9 10; do
        got=$(sqs receive-message --queue-url "$url" --max-number-of-messages 10 \
            --attribute-names All --message-attribute-names All --wait-time-seconds 0) ||
            return 1
        received=$(jq -c --argjson new "$(jq -c '.Messages // []' <<<"$got")" \
            '. + $new | unique_by(.MessageId)' <<<"$received")
        [[ $(jq length <<<"$received") -ge 6 ]] && break
    done
    expect_eq "$(jq length <<<"$received")" 6 "number of messages received" || return 1
    first=$(jq -c --arg b "$body" '.[] | select(.Body == $b)' <<<"$received")
    [[ -n $first ]] || { echo "the first message was not received"; return 1; }
    expect_eq "$(jq -r .MessageId <<<"$first")" "$first_id" MessageId || return 1
    expect_eq "$(jq -r .MD5OfBody <<<"$first")" "$(md5_text "$body")" MD5OfBody || return 1
    expect_eq "$(jq -r .MD5OfMessageAttributes <<<"$first")" "$attributes_md5" \
        "MD5OfMessageAttributes on receive" || return 1
    expect_eq "$(jq -cS .MessageAttributes <<<"$first")" "$(jq -cS '
        .Blob.BinaryValue |= @base64 | .Image.BinaryValue |= @base64' <<<"$attributes")" \
        "attributes of the first message" || return 1
    expect_eq "$(jq -r .Attributes.ApproximateReceiveCount <<<"$first")" 1 \
        ApproximateReceiveCount || return 1
    expect_eq "$(jq -r '.Attributes.SentTimestamp | test("^[0-9]{13}$")' <<<"$first")" true \
        "SentTimestamp in epoch milliseconds" || return 1
    expect_eq "$(jq -r '[.[].Body] | sort | join("|")' <<<"$received")" \
        "$(jq -rn --arg b "$body" '[$b, (range(5) | "batch body \(.)")] | sort | join("|")')" \
        "bodies received" || return 1
    for i in 0 1 2 3 4; do
        expect_eq "$(jq -r ".[] | select(.Body == \"batch body $i\") | .MessageAttributes.Index.StringValue" \
            <<<"$received")" "$i" "Index attribute of batch body $i" || return 1
    done
}

handle_of() { jq -r --arg b "$1" '.[] | select(.Body == $b) | .ReceiptHandle' <<<"$received"; }

change_visibility() {
    local got
    sqs change-message-visibility --queue-url "$url" --receipt-handle "$(handle_of "$body")" \
        --visibility-timeout 0 || return 1
    got=$(sqs receive-message --queue-url "$url" --max-number-of-messages 10 \
        --attribute-names All) || return 1
    expect_eq "$(jq -r '[.Messages[].Body] | join("|")' <<<"$got")" "$body" \
        "the released message comes back" || return 1
    expect_eq "$(jq -r '.Messages[0].Attributes.ApproximateReceiveCount' <<<"$got")" 2 \
        "receive count after release" || return 1
    received=$(jq -c --argjson m "$(jq -c '.Messages[0]' <<<"$got")" \
        'map(if .MessageId == $m.MessageId then $m else . end)' <<<"$received")
}

delete_message() {
    sqs delete-message --queue-url "$url" --receipt-handle "$(handle_of "$body")" || return 1
    # Deleting twice with the same handle succeeds too.
    sqs delete-message --queue-url "$url" --receipt-handle "$(handle_of "$body")"
}

delete_batch() {
    local entries got
    entries=$(jq -c --arg b "$body" '[.[] | select(.Body != $b)] | to_entries |
        map({Id: "d\(.key)", ReceiptHandle: .value.ReceiptHandle})' <<<"$received")
    got=$(sqs delete-message-batch --queue-url "$url" --entries "$entries") || return 1
    expect_eq "$(jq -r '.Failed // [] | length' <<<"$got")" 0 "failed deletes" || return 1
    expect_eq "$(jq -r '.Successful | length' <<<"$got")" 5 "successful deletes" || return 1
    got=$(sqs get-queue-attributes --queue-url "$url" --attribute-names \
        ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible) || return 1
    expect_eq "$(jq -r '.Attributes | "\(.ApproximateNumberOfMessages)/\(.ApproximateNumberOfMessagesNotVisible)"' \
        <<<"$got")" 0/0 "visible/in-flight messages left"
}

purge() {
    local i got
    for i in 1 2 3; do
        sqs send-message --queue-url "$url" --message-body "to purge $i" >/dev/null || return 1
    done
    sqs purge-queue --queue-url "$url" || return 1
    got=$(sqs receive-message --queue-url "$url" --max-number-of-messages 10) || return 1
    expect_eq "$(jq -r '.Messages // [] | length' <<<"$got")" 0 "messages after purge"
}

purge_twice() {
    expect_error AWS.SimpleQueueService.PurgeQueueInProgress sqs purge-queue --queue-url "$url"
}

tags() {
    sqs tag-queue --queue-url "$url" --tags team=blue,env=test || return 1
    expect_eq "$(sqs list-queue-tags --queue-url "$url" | jq -cS .Tags)" \
        '{"env":"test","team":"blue"}' "tags after TagQueue" || return 1
    sqs untag-queue --queue-url "$url" --tag-keys team || return 1
    expect_eq "$(sqs list-queue-tags --queue-url "$url" | jq -cS .Tags)" '{"env":"test"}' \
        "tags after UntagQueue"
}

dead_letter_redrive() {
    local dlq arn source policy sent got
    dlq=$(sqs create-queue --queue-name "$prefix-dlq" | jq -er .QueueUrl) || return 1
    extra+=("$dlq")
    arn=$(sqs get-queue-attributes --queue-url "$dlq" --attribute-names QueueArn |
        jq -er .Attributes.QueueArn) || return 1
    policy=$(jq -cn --arg arn "$arn" '{deadLetterTargetArn: $arn, maxReceiveCount: 1}')
    source=$(sqs create-queue --queue-name "$prefix-source" --attributes "$(jq -cn \
        --arg p "$policy" '{RedrivePolicy: $p, VisibilityTimeout: "0"}')" | jq -er .QueueUrl) ||
        return 1
    extra+=("$source")
    got=$(sqs get-queue-attributes --queue-url "$source" --attribute-names RedrivePolicy |
        jq -r '.Attributes.RedrivePolicy | fromjson | "\(.deadLetterTargetArn) \(.maxReceiveCount)"') ||
        return 1
    expect_eq "$got" "$arn 1" "stored RedrivePolicy" || return 1
    sent=$(sqs send-message --queue-url "$source" --message-body poison | jq -er .MessageId) ||
        return 1
    got=$(sqs receive-message --queue-url "$source" | jq -r '[.Messages[].Body] | join("|")') ||
        return 1
    expect_eq "$got" poison "first receive from the source" || return 1
    got=$(sqs receive-message --queue-url "$source") || return 1
    expect_eq "$(jq -r '.Messages // [] | length' <<<"$got")" 0 \
        "second receive from the source" || return 1
    got=$(sqs receive-message --queue-url "$dlq" --attribute-names All) || return 1
    expect_eq "$(jq -r '.Messages[0] | "\(.MessageId) \(.Body)"' <<<"$got")" "$sent poison" \
        "message in the dead-letter queue" || return 1
    expect_eq "$(jq -r '.Messages[0].Attributes.ApproximateReceiveCount | tonumber >= 2' \
        <<<"$got")" true "receive count carried over" || return 1
    got=$(sqs list-dead-letter-source-queues --queue-url "$dlq" | jq -r '.queueUrls | join(" ")') ||
        return 1
    expect_eq "$got" "$source" ListDeadLetterSourceQueues
}

error_missing_queue() {
    expect_error AWS.SimpleQueueService.NonExistentQueue \
        sqs get-queue-url --queue-name "$prefix-missing" || return 1
    expect_error AWS.SimpleQueueService.NonExistentQueue \
        sqs send-message --queue-url "${url%/*}/$prefix-missing" --message-body x
}

error_invalid_receipt_handle() {
    expect_error ReceiptHandleIsInvalid \
        sqs delete-message --queue-url "$url" --receipt-handle not-a-real-handle
}

error_max_messages() {
    expect_error InvalidParameterValue \
        sqs receive-message --queue-url "$url" --max-number-of-messages 11
}

error_empty_batch() {
    expect_error AWS.SimpleQueueService.EmptyBatchRequest \
        sqs send-message-batch --queue-url "$url" --entries '[]' || return 1
    expect_error AWS.SimpleQueueService.EmptyBatchRequest \
        sqs delete-message-batch --queue-url "$url" --entries '[]'
}

delete_queues() {
    local q got
    for q in "$url" "$other" "${extra[@]}"; do
        sqs delete-queue --queue-url "$q" || return 1
    done
    got=$(sqs list-queues --queue-name-prefix "$prefix") || return 1
    expect_eq "$(jq -r '.QueueUrls // [] | length' <<<"$got")" 0 "queues left"
}

check "create queue" create_queue
check "create queue again with the same attributes returns the same URL" create_queue_idempotent
check "create queue with different attributes -> QueueAlreadyExists" create_queue_conflict
check "get queue url" get_queue_url
check "list queues with a prefix" list_queues_prefix
check "set and get queue attributes" set_get_attributes
check "send with String, Number, Binary and custom-typed attributes (MD5s)" send_with_attributes
check "MD5 of attributes matches a value recorded from SQS" md5_known_value
check "send batch of 5 with attributes (MD5s)" send_batch
check "receive all with system and message attributes (bodies, values, MD5s)" receive_everything
check "change visibility to 0 releases the message" change_visibility
check "delete message (twice with the same handle)" delete_message
check "delete message batch empties the queue" delete_batch
check "purge queue" purge
check "purge again within 60 s -> PurgeQueueInProgress" purge_twice
check "tag, list and untag queue" tags
check "dead-letter redrive (maxReceiveCount 1, VisibilityTimeout 0)" dead_letter_redrive
check "missing queue -> AWS.SimpleQueueService.NonExistentQueue" error_missing_queue
check "invalid receipt handle -> ReceiptHandleIsInvalid" error_invalid_receipt_handle
check "MaxNumberOfMessages=11 -> InvalidParameterValue" error_max_messages
check "empty batch -> AWS.SimpleQueueService.EmptyBatchRequest" error_empty_batch
check "delete queues" delete_queues

echo "awscli: $passed passed, $failed failed"
((failed == 0))
