//! Where queues and messages are kept: in memory only, or durably on disk.
//!
//! The engine always serves from memory. A durable store receives every change the engine
//! makes, in order, and commits it to disk; the answer to the request that caused a change
//! is sent only once its commit is done. Concurrent requests share commits, so one disk sync
//! covers many changes. At start, the durable store hands the engine back its last state.

pub(crate) mod codec;
pub(crate) mod sqlite;

use std::collections::BTreeMap;
use std::fmt::Debug;

use tokio::sync::oneshot;

use crate::engine::attributes::QueueAttributes;
use crate::engine::message::{StoredMessage, Visibility};
use crate::error::{ErrorCode, SqsError};

/// A queue's own record: everything but its messages.
#[derive(Debug, Clone)]
pub(crate) struct QueueRecord {
    pub(crate) uid: u64,
    pub(crate) region: String,
    pub(crate) name: String,
    pub(crate) attributes: QueueAttributes,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) created_at: u64,
    pub(crate) last_modified: u64,
    pub(crate) last_purge: Option<u64>,
}

/// One change to persist.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// A queue was created, or its attributes, tags or purge time changed.
    PutQueue(QueueRecord),
    /// A queue and all its messages are gone.
    DeleteQueue { uid: u64 },
    /// A message entered a queue.
    PutMessage {
        queue_uid: u64,
        message: StoredMessage,
    },
    /// A message was received or its visibility changed.
    UpdateMessage { queue_uid: u64, state: MessageState },
    /// A message was deleted, expired or moved away.
    DeleteMessage { queue_uid: u64, seq: u64 },
    /// Every message of a queue was removed.
    Purge { uid: u64 },
}

/// The parts of a message that change after it is stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageState {
    pub(crate) seq: u64,
    pub(crate) receive_count: u32,
    pub(crate) first_received_at: Option<u64>,
    pub(crate) received_at: u64,
    pub(crate) visibility: Visibility,
    pub(crate) visible_at: u64,
    pub(crate) receipt_nonce: u32,
}

impl MessageState {
    pub(crate) fn of(message: &StoredMessage) -> Self {
        Self {
            seq: message.seq,
            receive_count: message.receive_count,
            first_received_at: message.first_received_at,
            received_at: message.received_at,
            visibility: message.visibility,
            visible_at: message.visible_at,
            receipt_nonce: message.receipt_nonce,
        }
    }
}

/// Everything a durable store held when the server started.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) queues: Vec<(QueueRecord, Vec<StoredMessage>)>,
}

/// Why a store could not keep a change.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StoreError(pub(crate) String);

/// Keeps the engine's changes.
pub(crate) trait Store: Send + Sync + Debug {
    /// Whether changes outlive the process. A store that keeps nothing is never sent any.
    fn is_durable(&self) -> bool;

    /// Queues changes for commit, in order. Called with the changed queue's lock held, so
    /// the order of calls is the order of changes.
    fn submit(&self, changes: Vec<Change>) -> Commit;

    /// Commits what was submitted, then releases the store's files. Later submissions fail.
    /// Blocks until done.
    fn close(&self) {}

    /// Reads back everything committed, once every change submitted before this call has
    /// been committed or has failed. Blocks until done. `None` for a store that keeps
    /// nothing.
    fn reload(&self) -> Option<Result<Snapshot, StoreError>> {
        None
    }
}

/// The in-memory store: changes live only in the engine, and die with the process.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore;

impl Store for MemoryStore {
    fn is_durable(&self) -> bool {
        false
    }

    fn submit(&self, _changes: Vec<Change>) -> Commit {
        Commit::done()
    }
}

/// Completes when submitted changes are on disk.
#[derive(Debug)]
#[must_use = "a change is durable only once its commit completes"]
pub(crate) struct Commit(Option<oneshot::Receiver<Result<(), StoreError>>>);

impl Commit {
    /// A commit with nothing to wait for.
    pub(crate) fn done() -> Self {
        Self(None)
    }

    pub(crate) fn pending(receiver: oneshot::Receiver<Result<(), StoreError>>) -> Self {
        Self(Some(receiver))
    }

    /// Waits for the commit; a failure becomes SQS's internal error.
    ///
    /// Cancel safety: dropping the wait does not undo or stop the commit.
    pub(crate) async fn wait(self) -> Result<(), SqsError> {
        let Some(receiver) = self.0 else {
            return Ok(());
        };
        let failure = match receiver.await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error.0,
            Err(_) => "the store stopped before committing".to_owned(),
        };
        tracing::debug!(error = %failure, "commit failed");
        Err(SqsError::new(
            ErrorCode::InternalError,
            "We encountered an internal error. Please try again.",
        ))
    }
}
