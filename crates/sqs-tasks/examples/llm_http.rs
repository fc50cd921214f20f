//! Run with: LLM_URL=http://127.0.0.1:8080/v1/chat/completions LLM_MODEL=local AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324 AWS_REGION=us-east-1 cargo run -p sqs-tasks --example llm_http -- prompts

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use sqs_tasks::lifecycle::{ExponentialRetry, Heartbeat};
use sqs_tasks::{Message, QueueClient, TaskError, Worker};
use tokio::net::TcpStream;

/// Used when a 429 or 503 comes without a usable Retry-After.
const DEFAULT_RETRY: Duration = Duration::from_secs(30);

/// An OpenAI-compatible chat completions endpoint, reached over plain HTTP.
struct Llm {
    url: Uri,
    model: String,
    api_key: Option<String>,
}

impl Llm {
    fn from_env() -> Result<Self, Box<dyn std::error::Error>> {
        let url: Uri = std::env::var("LLM_URL")?.parse()?;
        if url.scheme_str() != Some("http") {
            return Err("LLM_URL must be a plain http:// URL".into());
        }
        Ok(Llm {
            url,
            model: std::env::var("LLM_MODEL").unwrap_or_else(|_| "default".to_owned()),
            api_key: std::env::var("LLM_API_KEY").ok(),
        })
    }

    /// Sends the message's body as the user's prompt and returns the answer's text.
    async fn complete(&self, message: Message) -> Result<String, TaskError> {
        let request_body = serde_json::json!({
            "model": self.model,
            "messages": [{"role": "user", "content": message.body()}],
        });
        let host = self.url.host().ok_or("LLM_URL has no host")?;
        let port = self.url.port_u16().unwrap_or(80);
        let stream = TcpStream::connect((host, port)).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);

        let mut request = Request::post(self.url.clone())
            .header("host", host)
            .header("content-type", "application/json");
        if let Some(key) = &self.api_key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let request = request.body(Full::new(Bytes::from(request_body.to_string())))?;
        let response = sender.send_request(request).await?;

        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.into_body().collect().await?.to_bytes();
        match status {
            StatusCode::OK => {
                let answer: serde_json::Value = serde_json::from_slice(&body)?;
                let text = answer["choices"][0]["message"]["content"].as_str();
                Ok(text.ok_or("answer without content")?.to_owned())
            }
            // Rate limited or overloaded: come back when the server says.
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                let delay = retry_after.unwrap_or(DEFAULT_RETRY);
                Err(TaskError::new(format!("llm answered {status}")).with_retry_after(delay))
            }
            // The request itself is wrong (bad prompt, unknown model): retrying will not help.
            status if status.is_client_error() => Err(TaskError::permanent(format!(
                "llm refused the request: {status}"
            ))),
            status => Err(TaskError::new(format!("llm answered {status}"))),
        }
    }
}

/// The Retry-After header in its seconds form (the HTTP-date form falls back to the default).
fn retry_after(headers: &hyper::HeaderMap) -> Option<Duration> {
    let value = headers.get(hyper::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let llm = std::sync::Arc::new(Llm::from_env()?);
    let queue = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "prompts".to_owned());
    let client = QueueClient::from_env(queue).await?;

    let handler = move |message: Message| {
        let llm = llm.clone();
        async move {
            let id = message.id().to_owned();
            let answer = llm.complete(message).await?;
            println!("{id}: {} characters", answer.len());
            Ok::<_, TaskError>(())
        }
    };
    let lifecycle = Heartbeat::builder(ExponentialRetry::new(Duration::from_secs(10)).jitter(true))
        .visibility(Duration::from_secs(60))
        .build()?;
    let worker = Worker::builder(client, handler)
        .lifecycle(lifecycle)
        .concurrency(64)
        .handler_timeout(Duration::from_secs(300))
        .build()?;
    let ctrl_c = async { tokio::signal::ctrl_c().await.unwrap_or(()) };
    let stats = worker.run(ctrl_c).await?;
    println!("{stats:?}");
    Ok(())
}
