//! Run long, slow tasks (LLM calls above all) from Amazon SQS.
//!
//! ```no_run
//! use sqs_tasks::{Message, QueueClient, TaskError, Worker};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = QueueClient::from_env("jobs").await?;
//!     let worker = Worker::builder(client, |message: Message| async move {
//!         println!("working on {}", message.body());
//!         Ok::<_, TaskError>(())
//!     })
//!     .concurrency(32)
//!     .build()?;
//!     worker.run(async { tokio::signal::ctrl_c().await.ok(); }).await?;
//!     Ok(())
//! }
//! ```
//!
//! # The pieces
//!
//! - [`QueueClient`]: one queue, with messaging words for SQS's operations: a
//!   [`consume`](QueueClient::consume) stream (long polling), [`ack`](QueueClient::ack),
//!   [`nack`](QueueClient::nack), [`keep_alive`](QueueClient::keep_alive),
//!   [`send`](QueueClient::send). The SDK client stays reachable with [`QueueClient::sdk`].
//! - [`Message`]: a received message (body, typed JSON decoding, receive count, timestamps,
//!   [attributes](AttributeValue)).
//! - [Lifecycles](lifecycle): what happens around one message's handling: ack on success,
//!   retry policies, heartbeats. They settle through the [`Settle`] trait, so they work with a
//!   bare `QueueClient` as well as inside the worker.
//! - [`Worker`]: a handler, a lifecycle and a concurrency. It receives only what it has room
//!   for, coalesces settlements into batch requests, and shuts down gracefully.
//! - [`Handler`]: what the worker runs for each message; [`Handler::and_then`] chains a step
//!   that acts on the handler's result (sends it on, stores it) before the message is acked.
//! - [`TaskError`]: a handler's error, which can ask for a retry delay or mark the failure as
//!   permanent (then the message goes to the dead-letter queue).
//!
//! # Using a lifecycle without the worker
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use sqs_tasks::lifecycle::{Heartbeat, Lifecycle, Plain};
//! use sqs_tasks::{QueueClient, TaskError};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), sqs_tasks::Error> {
//! let client = QueueClient::from_env("jobs").await?;
//! let lifecycle = Heartbeat::builder(Plain).visibility(Duration::from_secs(30)).build()?;
//! let mut messages = std::pin::pin!(client.consume(Duration::from_secs(30)));
//! while let Some(message) = messages.next().await {
//!     let message = message?;
//!     let handling = async { Ok::<_, TaskError>(message.body().len()) };
//!     lifecycle.run(&client, &message, handling).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! # Logging
//!
//! The crate logs through `tracing`, at debug and trace level, except for messages that are
//! lost or failed for good (warn, error). Message bodies are never logged above trace.

mod backoff;
mod client;
mod error;
pub mod lifecycle;
mod limits;
mod message;
mod settle;
mod task_error;
mod worker;

pub use client::{
    Consume, FAILURE_REASON_ATTRIBUTE, MAX_WAIT_TIME, ORIGINAL_MESSAGE_ID_ATTRIBUTE,
    OutgoingMessage, QueueClient, QueueClientBuilder,
};
pub use error::Error;
pub use message::{AttributeValue, Message, MessageBuilder};
pub use settle::{Disposal, Settle};
pub use task_error::{TaskError, TaskFailure};
pub use worker::{AndThen, Handler, StatsHandle, Worker, WorkerBuilder, WorkerError, WorkerStats};

/// The README's Rust examples, compiled with the tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
