//! An embedded, SQS-compatible server.
//!
//! `sqs-tasks-local` speaks the AWS JSON 1.0 protocol of Amazon SQS, so the official SDKs
//! (Rust, Python, JavaScript, the AWS CLI) talk to it unchanged: point them at
//! [`LocalSqs::endpoint_url`] (for example through `AWS_ENDPOINT_URL_SQS`).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use sqs_tasks_local::LocalSqs;
//!
//! let server = LocalSqs::builder().bind("127.0.0.1:0".parse()?).start().await?;
//! let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
//!     .endpoint_url(server.endpoint_url())
//!     .region("us-east-1")
//!     .test_credentials()
//!     .load()
//!     .await;
//! let sqs = aws_sdk_sqs::Client::new(&config);
//! sqs.create_queue().queue_name("jobs").send().await?;
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! It reproduces SQS's standard queues: delays, visibility timeouts, receipt handles,
//! receive counts, long polling, dead-letter queues, purges, message attributes and their
//! checksums, and SQS's errors and limits. Each region named by a request's signature is a
//! namespace of its own. Time is read from a [`Clock`], which tests can replace.
//!
//! By default queues live in memory. With [`LocalSqsBuilder::data_dir`] they are kept in a
//! SQLite database (WAL mode, synced on every commit): a change is answered only once it is
//! on disk, and after a crash or restart every message is back in the state it was in.
//!
//! Not served yet: FIFO queues, message move tasks, permissions, and the older query (XML)
//! protocol. Requests for them get a clear error.

mod api;
pub mod clock;
mod engine;
pub mod error;
mod protocol;
mod server;
mod store;

pub use clock::{Clock, ManualClock, TokioClock};
pub use error::{ErrorCode, SqsError};
pub use server::{DEFAULT_ACCOUNT_ID, LocalSqs, LocalSqsBuilder, StartError};
pub use store::sqlite::DataDirError;
