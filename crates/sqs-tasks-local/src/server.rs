//! The HTTP binding, and [`LocalSqs`], the handle that embeds the server in a program.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api::{self, Context};
use crate::clock::{Clock, TokioClock};
use crate::engine::message::uuid_v4;
use crate::engine::{Engine, EngineConfig};
use crate::error::{ErrorCode, SqsError};
use crate::protocol::params::Params;
use crate::protocol::{json, signature};
use crate::store::sqlite::{DataDirError, SqliteStore};
use crate::store::{MemoryStore, Snapshot, Store};

/// Request bodies above this size are refused before parsing. It leaves room for a batch of
/// 1 MiB of text in which every character is escaped.
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// How long a client may take to send a request's headers, and then its body.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connections get to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The account id queues belong to unless another is configured.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// State shared by every connection.
#[derive(Debug)]
struct Shared {
    engine: Engine,
    requests: AtomicU64,
    closing: CancellationToken,
    /// One recovery from a failed commit at a time.
    recovering: tokio::sync::Mutex<()>,
    local_addr: SocketAddr,
}

/// Builds a [`LocalSqs`]: where it listens, which account it serves, which clock it reads.
#[derive(Debug, Clone)]
pub struct LocalSqsBuilder {
    bind: SocketAddr,
    account_id: String,
    clock: Option<Arc<dyn Clock>>,
    cooldowns: bool,
    data_dir: Option<PathBuf>,
    max_data_size: Option<u64>,
}

impl Default for LocalSqsBuilder {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            clock: None,
            cooldowns: true,
            data_dir: None,
            max_data_size: None,
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The data directory cannot be used.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
}

impl LocalSqsBuilder {
    /// The address to listen on; port 0 picks a free port. Default `127.0.0.1:0`.
    pub fn bind(mut self, address: SocketAddr) -> Self {
        self.bind = address;
        self
    }

    /// The 12-digit account id in queue URLs and ARNs. Default `000000000000`.
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    /// The clock for delays, visibility timeouts and retention. Default: [`TokioClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Whether SQS's 60-second rules apply: one purge per queue a minute, and no queue
    /// re-created within a minute of deleting one of the same name. On by default, as in SQS;
    /// test suites that re-create queues turn them off.
    pub fn cooldowns(mut self, enabled: bool) -> Self {
        self.cooldowns = enabled;
        self
    }

    /// Keeps queues and messages in `dir` (created if only it is missing), so they survive
    /// restarts and crashes: a change is answered only once it is on disk. Without a data
    /// directory everything lives in memory and is gone when the server stops.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Caps the database in the data directory at about `bytes`. Past it, changes fail with
    /// SQS's internal error, as on a full disk, and nothing already stored is harmed; deleting
    /// or purging messages makes room again. No cap by default.
    pub fn max_data_size(mut self, bytes: u64) -> Self {
        self.max_data_size = Some(bytes);
        self
    }

    /// Opens the data directory if any, binds the address, and starts serving on the
    /// current tokio runtime.
    pub async fn start(self) -> Result<LocalSqs, StartError> {
        let (store, snapshot): (Arc<dyn Store>, Snapshot) = match self.data_dir.clone() {
            Some(dir) => {
                let path = dir.clone();
                let limit = self.max_data_size;
                let opened =
                    tokio::task::spawn_blocking(move || SqliteStore::open_limited(&path, limit))
                        .await
                        .map_err(|e| DataDirError::NotWritable {
                            path: dir,
                            reason: e.to_string(),
                        })??;
                (opened.0, opened.1)
            }
            None => (Arc::new(MemoryStore), Snapshot::default()),
        };
        let durable = store.is_durable();
        let bind_error = |source| StartError::Bind {
            address: self.bind,
            source,
        };
        let listener = TcpListener::bind(self.bind).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(TokioClock::new()));
        let config = EngineConfig {
            account_id: self.account_id,
            cooldowns: self.cooldowns,
        };
        let shared = Arc::new(Shared {
            engine: Engine::new(clock, config, store, snapshot),
            requests: AtomicU64::new(0),
            closing: CancellationToken::new(),
            recovering: tokio::sync::Mutex::new(()),
            local_addr,
        });
        let serve = tokio::spawn(accept_loop(listener, shared.clone()));
        tracing::debug!(%local_addr, "local SQS listening");
        Ok(LocalSqs {
            endpoint_url: format!("http://{local_addr}"),
            local_addr,
            shared,
            serve: Some(serve),
            durable,
        })
    }
}

/// An SQS-compatible server running inside this process.
///
/// ```no_run
/// # async fn run() -> Result<(), sqs_tasks_local::StartError> {
/// let server = sqs_tasks_local::LocalSqs::start().await?;
/// println!("AWS_ENDPOINT_URL_SQS={}", server.endpoint_url());
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
///
/// Dropping the handle stops the server too, without waiting for open connections.
#[derive(Debug)]
pub struct LocalSqs {
    endpoint_url: String,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    serve: Option<JoinHandle<()>>,
    durable: bool,
}

impl LocalSqs {
    /// A builder with the defaults: `127.0.0.1:0`, account `000000000000`, 60-second rules on.
    pub fn builder() -> LocalSqsBuilder {
        LocalSqsBuilder::default()
    }

    /// Starts a server with the defaults on a free port of 127.0.0.1.
    pub async fn start() -> Result<Self, StartError> {
        Self::builder().start().await
    }

    /// Whether queues and messages are kept on disk (see [`LocalSqsBuilder::data_dir`]).
    pub fn is_durable(&self) -> bool {
        self.durable
    }

    /// The URL clients use as their SQS endpoint, such as `http://127.0.0.1:9324`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many requests the server has answered, errors included. SQS bills per request,
    /// so this is the cost of a workload.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops accepting connections, answers waiting long polls with no messages, lets open
    /// requests finish (for a few seconds at most), and returns.
    pub async fn shutdown(mut self) {
        self.shared.closing.cancel();
        if let Some(serve) = self.serve.take() {
            let _ = serve.await;
        }
        // Commits what is still queued and releases the data directory, so another server
        // can open it as soon as this returns.
        let shared = self.shared.clone();
        let _ = tokio::task::spawn_blocking(move || shared.engine.close_store()).await;
    }
}

impl Drop for LocalSqs {
    fn drop(&mut self) {
        self.shared.closing.cancel();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.closing.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Running out of file descriptors is the usual cause; a pause lets
                // connections close instead of spinning on the error.
                tracing::debug!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(|request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(request, &shared).await) }
            });
            // A client that stalls while sending its headers is dropped; idle keep-alive
            // connections between requests are not limited.
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shared.closing.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(error) = result {
                tracing::trace!(%peer, %error, "connection ended with an error");
            }
        });
    }
    connections.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connections.wait()).await;
}

/// Answers one HTTP request.
async fn handle(request: Request<Incoming>, shared: &Arc<Shared>) -> Response<Full<Bytes>> {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = uuid_v4();
    match answer(request, shared).await {
        Ok(members) => json::success(&request_id, &members),
        Err(error) => {
            tracing::trace!(%error, "request refused");
            if error.code == ErrorCode::InternalError {
                recover(shared).await;
            }
            json::error(&request_id, &error)
        }
    }
}

/// Whether `host` is a host name or IP address with an optional port, and nothing else.
fn is_plain_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

/// After a failed commit, puts memory back in line with the store before the failed request
/// is answered, so a client that retries sees no trace of what failed.
async fn recover(shared: &Arc<Shared>) {
    let _one_at_a_time = shared.recovering.lock().await;
    let shared = shared.clone();
    let _ = tokio::task::spawn_blocking(move || shared.engine.recover_from_store()).await;
}

async fn answer(
    request: Request<Incoming>,
    shared: &Shared,
) -> Result<serde_json::Value, SqsError> {
    let (parts, body) = request.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let Some(action) = target.and_then(json::action).map(str::to_owned) else {
        // The form-encoded query protocol of older SDKs is not served yet; it needs an XML
        // encoder for every response shape.
        return Err(SqsError::new(
            ErrorCode::UnknownOperation,
            "The request names no action: send X-Amz-Target: AmazonSQS.<Action> with a JSON body.",
        ));
    };
    let credential = signature::credential(&parts.headers, parts.uri.query()).ok_or_else(|| {
        SqsError::new(
            ErrorCode::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        )
    })?;
    let body = tokio::time::timeout(
        BODY_READ_TIMEOUT,
        Limited::new(body, MAX_REQUEST_BYTES).collect(),
    )
    .await
    .map_err(|_| {
        SqsError::new(
            ErrorCode::Serialization,
            format!(
                "The request body did not arrive within {} seconds.",
                BODY_READ_TIMEOUT.as_secs()
            ),
        )
    })?
    .map_err(|error| {
        if error
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            SqsError::invalid_parameters(&format!(
                "The request body is larger than {MAX_REQUEST_BYTES} bytes."
            ))
        } else {
            SqsError::new(
                ErrorCode::Serialization,
                format!("The request body could not be read: {error}."),
            )
        }
    })?;
    let params = Params::from_json(&body.to_bytes())?;
    // The address the client used, so the queue URLs it gets back lead to this server. Only a
    // plain host and port is echoed; anything else gets the address the server listens on.
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .filter(|host| is_plain_authority(host))
        .map_or_else(|| shared.local_addr.to_string(), str::to_owned);
    let context = Context {
        engine: &shared.engine,
        region: credential.region,
        base_url: format!("http://{host}"),
        sender_id: credential.access_key,
    };
    tokio::select! {
        result = api::dispatch(&context, &action, params) => result,
        // A long poll in progress at shutdown answers with no messages.
        () = shared.closing.cancelled(), if action == "ReceiveMessage" => Ok(serde_json::json!({})),
    }
}
