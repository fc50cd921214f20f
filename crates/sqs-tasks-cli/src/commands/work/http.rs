//! `--http`: each message is POSTed to an HTTP endpoint; connections are kept and reused.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sqs_tasks::Message;

use super::exec::attribute_text;
use super::outcome::{Kind, MAX_RESULT_BYTES, TaskFailed};
use crate::error::CliError;

/// How much of an error response's body is kept for the log.
const ERROR_BODY_CHARS: usize = 500;

/// POSTs messages to one URL.
#[derive(Debug)]
pub(crate) struct HttpTarget {
    client: Client<HttpConnector, Full<Bytes>>,
    url: Uri,
    queue: String,
    headers: HeaderMap,
}

impl HttpTarget {
    /// A client for `url` keeping up to `connections` idle connections for reuse.
    pub(crate) fn new(
        url: &str,
        queue: &str,
        extra_headers: &[(HeaderName, HeaderValue)],
        connections: usize,
    ) -> Result<Self, CliError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| CliError::failed(format!("--http {url} is not a URL: {e}")))?;
        if uri.scheme_str() != Some("http") {
            // Known shortcoming: TLS would need a TLS connector (hyper-rustls); until then an
            // HTTPS service is reached through a local plain-HTTP proxy or sidecar.
            return Err(CliError::failed(format!(
                "--http {url}: only http:// URLs are supported; reach an https:// service \
                 through a local proxy"
            )));
        }
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(connections)
            .pool_idle_timeout(Duration::from_secs(60))
            .build_http();
        Ok(HttpTarget {
            client,
            url: uri,
            queue: crate::endpoint::queue_name(queue).to_owned(),
            headers: extra_headers.iter().cloned().collect(),
        })
    }

    /// POSTs the message; returns the response body of a 2xx answer.
    pub(crate) async fn run(&self, message: &Message) -> Result<String, TaskFailed> {
        let request = self.request(message);
        let response = self.client.request(request).await.map_err(|err| {
            let detail = crate::error::chain(&err);
            TaskFailed::new(Kind::Failed, format!("POST {} failed: {detail}", self.url))
        })?;

        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = Limited::new(response.into_body(), MAX_RESULT_BYTES)
            .collect()
            .await
            .map(|collected| collected.to_bytes());
        let body = match body {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) if status.is_success() => {
                let what = format!("reading the response failed: {err}");
                return Err(TaskFailed::new(Kind::Failed, what));
            }
            Err(_) => String::new(),
        };
        judge(status, retry_after, body)
    }

    fn request(&self, message: &Message) -> Request<Full<Bytes>> {
        let body = message.body().to_owned();
        let content_type = if serde_json::from_str::<serde::de::IgnoredAny>(&body).is_ok() {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        let mut request = Request::post(self.url.clone())
            .header(CONTENT_TYPE, content_type)
            .header("sqs-tasks-message-id", message.id())
            .header("sqs-tasks-receive-count", message.receive_count())
            .header("sqs-tasks-queue", &self.queue)
            .body(Full::new(Bytes::from(body)))
            .expect("method, URL and the headers above are valid");
        let headers = request.headers_mut();
        for (name, value) in message.attributes() {
            // Attributes whose name or value cannot travel in a header are left out.
            let name = HeaderName::from_bytes(format!("sqs-tasks-attr-{name}").as_bytes());
            let value = HeaderValue::from_str(&attribute_text(value));
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.insert(name, value);
            }
        }
        for (name, value) in &self.headers {
            headers.insert(name, value.clone());
        }
        request
    }
}

/// What an answer means for the task.
fn judge(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: String,
) -> Result<String, TaskFailed> {
    if status.is_success() {
        return Ok(body);
    }
    let what = format!("endpoint answered {status}");
    let detail: String = body.chars().take(ERROR_BODY_CHARS).collect();
    let failed = |kind| TaskFailed::new(kind, what.clone()).detail(detail.clone());
    let kind = match status.as_u16() {
        429 | 503 if retry_after.is_some() => Kind::RetryRequested,
        429 | 408 => Kind::Failed,
        400..=499 => Kind::Permanent,
        _ => Kind::Failed,
    };
    let retry_after = retry_after.filter(|_| matches!(status.as_u16(), 429 | 503));
    Err(failed(kind).retry_after(retry_after))
}

/// Reads `Retry-After`: a number of seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    #[allow(
        clippy::disallowed_methods,
        reason = "an HTTP date is wall-clock time: only the system clock can tell how far it is"
    )]
    let now = SystemTime::now();
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn statuses_map_to_success_retry_or_permanent_failure() {
        let judge = |code: u16, after: Option<u64>| {
            let status = StatusCode::from_u16(code).unwrap();
            judge(status, after.map(Duration::from_secs), "x".into())
        };
        assert_eq!(judge(200, None).unwrap(), "x");
        let limited = judge(429, Some(3)).unwrap_err();
        assert_eq!(limited.kind(), Kind::RetryRequested);
        assert_eq!(limited.delay(), Some(Duration::from_secs(3)));
        assert_eq!(judge(503, None).unwrap_err().kind(), Kind::Failed);
        assert_eq!(judge(404, None).unwrap_err().kind(), Kind::Permanent);
        assert_eq!(judge(500, Some(3)).unwrap_err().delay(), None);
    }
}
