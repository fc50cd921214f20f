//! The AWS JSON 1.0 protocol, spoken by every current official SDK.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::error::SqsError;

pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The action named by `X-Amz-Target: AmazonSQS.<Action>`.
pub(crate) fn action(target: &str) -> Option<&str> {
    target.strip_prefix("AmazonSQS.")
}

fn base(status: u16, request_id: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

pub(crate) fn success(request_id: &str, members: &Value) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(members).unwrap_or_else(|_| b"{}".to_vec());
    base(200, request_id, body)
}

/// An error answer: `__type` and `message` in the body, and the legacy code in
/// `x-amzn-query-error`, from which the Rust SDK and botocore take the error code.
pub(crate) fn error(request_id: &str, error: &SqsError) -> Response<Full<Bytes>> {
    let body = json!({ "__type": error.code.json_type(), "message": error.message });
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = base(error.code.http_status(), request_id, body);
    let legacy = format!("{};{}", error.code.legacy_code(), error.code.fault());
    if let Ok(value) = HeaderValue::from_str(&legacy) {
        response.headers_mut().insert("x-amzn-query-error", value);
    }
    response
}
