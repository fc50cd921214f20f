#!/usr/bin/env bash
# Runs the client checks (boto3, AWS CLI, AWS SDK for JavaScript v3) against a fresh
# `sqs-tasks serve` on a free local port, and fails if any check failed.
#
# Expects the server binary to be built and the client libraries installed:
#   SQS_TASKS_BIN  server binary          (default: target/debug/sqs-tasks)
#   PYTHON         Python with boto3      (default: .venv/bin/python)
#   AWS_CLI        AWS CLI v1             (default: .venv/bin/aws)
#   NODE           Node.js                (default: node; packages in tests/clients/js)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/tests/clients"
bin=${SQS_TASKS_BIN:-$root/target/debug/sqs-tasks}
python=${PYTHON:-$root/.venv/bin/python}
aws_cli=${AWS_CLI:-$root/.venv/bin/aws}
node=${NODE:-node}

missing=0
for tool in "$bin" "$python" "$aws_cli"; do
    [[ -x $tool ]] || { echo "not found or not executable: $tool" >&2; missing=1; }
done
command -v "$node" >/dev/null || { echo "not found: $node" >&2; missing=1; }
[[ -d $here/js/node_modules/@aws-sdk/client-sqs ]] ||
    { echo "run 'npm ci' in $here/js first" >&2; missing=1; }
((missing == 0)) || exit 2

work=$(mktemp -d)
server_pid=""
stop_server() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -INT "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

"$bin" serve --bind 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

endpoint=""
for _ in $(seq 100); do
    endpoint=$(sed -n 's/^sqs-tasks local SQS listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' \
        "$work/server.out" | head -n 1)
    [[ -n $endpoint ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $endpoint ]]; then
    echo "the server did not print its endpoint; its output:" >&2
    cat "$work/server.out" "$work/server.err" >&2
    exit 1
fi
echo "server: $endpoint (pid $server_pid)"

export AWS_ENDPOINT_URL_SQS=$endpoint
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
# No stray configuration or credentials file changes what the clients do.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
# A request meant for any host but this machine fails at once instead of going out.
export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9
export http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY NO_PROXY=127.0.0.1,localhost
export no_proxy=$NO_PROXY

status=0
total_passed=0
total_failed=0
# Runs one client's checks, and adds its closing "N passed, N failed" line to the totals; a
# client that exits non-zero or prints no such line counts as one more failure.
run() {
    local label=$1 summary
    shift
    echo
    echo "--- $label"
    if ! timeout 600 "$@" | tee "$work/out"; then
        echo "--- $label: FAILED"
        status=1
    fi
    summary=$(grep -E '^[A-Za-z0-9-]+: [0-9]+ passed, [0-9]+ failed$' "$work/out" | tail -n 1 || true)
    if [[ $summary =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
        total_passed=$((total_passed + BASH_REMATCH[1]))
        total_failed=$((total_failed + BASH_REMATCH[2]))
    else
        total_failed=$((total_failed + 1))
        status=1
    fi
}

run "boto3" "$python" "$here/python/check_boto3.py"
run "AWS CLI" env AWS_CLI="$aws_cli" bash "$here/cli/check_awscli.sh"
run "AWS SDK for JavaScript v3" "$node" "$here/js/check.mjs"

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server stopped during the checks" >&2
    status=1
fi
if ((status != 0)); then
    echo
    echo "server log (last 40 lines):"
    tail -n 40 "$work/server.err"
fi
echo
echo "clients: $total_passed passed, $total_failed failed"
exit "$status"
