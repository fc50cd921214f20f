//! The durable store: SQLite in WAL mode, written by one thread that commits in groups.
//!
//! Every change waits in a channel until the writer thread takes it. The writer takes all
//! changes waiting at that moment, applies them in one transaction and syncs once, so under
//! load one disk sync covers the changes of many requests.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::codec;
use super::{Change, Commit, MessageState, QueueRecord, Snapshot, Store, StoreError};
use crate::engine::message::{StoredMessage, Visibility};

const DATABASE_FILE: &str = "sqs-tasks.db";
const LOCK_FILE: &str = "sqs-tasks.lock";

/// Work for the writer thread, done in the order it was sent.
enum Job {
    /// Changes to commit, and where to report the commit.
    Commit(Vec<Change>, oneshot::Sender<Result<(), StoreError>>),
    /// A request for everything committed so far.
    Reload(mpsc::Sender<Result<Snapshot, StoreError>>),
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Commit(changes, _) => write!(f, "Commit({} changes)", changes.len()),
            Job::Reload(_) => f.write_str("Reload"),
        }
    }
}

/// The most changes one transaction takes, so a flood of requests still gets answers in
/// steady steps.
const MAX_GROUP: usize = 4096;

/// A durable store in a data directory.
#[derive(Debug)]
pub(crate) struct SqliteStore {
    /// `None` once closed.
    submissions: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// Why a data directory cannot be used, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Neither the directory nor its parent exists.
    #[error("data directory {0} does not exist, nor does its parent; create it with `mkdir -p`")]
    Missing(PathBuf),
    /// The directory cannot be created or written.
    #[error("data directory {path} is not writable: {reason}")]
    NotWritable {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// Another server holds the directory.
    #[error("data directory {0} is in use by another server (its lock file is held)")]
    Locked(PathBuf),
    /// The database cannot be opened or read.
    #[error("the database in {path} is unreadable or corrupt: {reason}")]
    Corrupt {
        /// The directory.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
}

impl SqliteStore {
    /// Opens (or creates) the store in `dir`, and reads back everything it holds.
    #[cfg(test)]
    pub(crate) fn open(dir: &Path) -> Result<(Arc<Self>, Snapshot), DataDirError> {
        Self::open_limited(dir, None)
    }

    /// Like `open`, with the database capped at about `max_bytes`: past it, commits fail as
    /// they would on a full disk.
    pub(crate) fn open_limited(
        dir: &Path,
        max_bytes: Option<u64>,
    ) -> Result<(Arc<Self>, Snapshot), DataDirError> {
        let lock = lock_directory(dir)?;
        let path = dir.join(DATABASE_FILE);
        // Permission problems must not read as corruption: a user might delete a healthy
        // database to "fix" them.
        let corrupt = |e: rusqlite::Error| {
            use rusqlite::ErrorCode::{CannotOpen, PermissionDenied, ReadOnly};
            match e.sqlite_error_code() {
                Some(ReadOnly | CannotOpen | PermissionDenied) => DataDirError::NotWritable {
                    path: dir.to_owned(),
                    reason: e.to_string(),
                },
                _ => DataDirError::Corrupt {
                    path: dir.to_owned(),
                    reason: e.to_string(),
                },
            }
        };
        let mut connection = Connection::open(&path).map_err(corrupt)?;
        prepare(&connection).map_err(corrupt)?;
        if let Some(bytes) = max_bytes {
            let page_size: i64 = connection
                .query_row("PRAGMA page_size", [], |row| row.get(0))
                .map_err(corrupt)?;
            let pages = (bytes / page_size.max(512) as u64).clamp(1, i64::MAX as u64) as i64;
            connection
                .pragma_update(None, "max_page_count", pages)
                .map_err(corrupt)?;
        }
        let snapshot = load(&mut connection).map_err(|e| DataDirError::Corrupt {
            path: dir.to_owned(),
            reason: e.0,
        })?;

        let (submissions, receiver) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("sqs-tasks-store".into())
            .spawn(move || write_loop(connection, receiver, lock))
            .map_err(|e| DataDirError::NotWritable {
                path: dir.to_owned(),
                reason: e.to_string(),
            })?;
        let store = Self {
            submissions: Mutex::new(Some(submissions)),
            writer: Mutex::new(Some(writer)),
        };
        Ok((Arc::new(store), snapshot))
    }
}

impl Store for SqliteStore {
    fn is_durable(&self) -> bool {
        true
    }

    fn submit(&self, changes: Vec<Change>) -> Commit {
        let (reply, receiver) = oneshot::channel();
        let submissions = self.submissions.lock().unwrap_or_else(|e| e.into_inner());
        let sent = submissions
            .as_ref()
            .map(|s| s.send(Job::Commit(changes, reply)));
        if !matches!(sent, Some(Ok(()))) {
            // The reply sender is gone with the submission: the commit reports a failure.
            tracing::debug!("store is closed");
        }
        Commit::pending(receiver)
    }

    fn reload(&self) -> Option<Result<Snapshot, StoreError>> {
        let (reply, receiver) = mpsc::channel();
        let submissions = self.submissions.lock().unwrap_or_else(|e| e.into_inner());
        let sent = submissions.as_ref().map(|s| s.send(Job::Reload(reply)));
        drop(submissions);
        if !matches!(sent, Some(Ok(()))) {
            return Some(Err(StoreError("the store is closed".into())));
        }
        Some(
            receiver
                .recv()
                .unwrap_or_else(|_| Err(StoreError("the store stopped".into()))),
        )
    }

    fn close(&self) {
        // Dropping the sender ends the writer's loop once it has committed what is queued.
        drop(
            self.submissions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

/// Creates the directory when only it is missing, and takes its lock file.
fn lock_directory(dir: &Path) -> Result<File, DataDirError> {
    if !dir.exists() {
        let parent_exists = dir
            .parent()
            .is_none_or(|p| p.as_os_str().is_empty() || p.exists());
        if !parent_exists {
            return Err(DataDirError::Missing(dir.to_owned()));
        }
        std::fs::create_dir(dir).map_err(|e| DataDirError::NotWritable {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
    }
    let not_writable = |e: std::io::Error| DataDirError::NotWritable {
        path: dir.to_owned(),
        reason: e.to_string(),
    };
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(not_writable)?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::Locked(dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(not_writable(e)),
    }
}

fn prepare(connection: &Connection) -> rusqlite::Result<()> {
    // FULL makes every commit survive power loss, not only a crash of this process.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    let check: String = connection.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if check != "ok" {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(check),
        ));
    }
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS queues (
            uid INTEGER PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            attributes TEXT NOT NULL,
            tags TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_modified INTEGER NOT NULL,
            last_purge INTEGER
        );
        CREATE TABLE IF NOT EXISTS messages (
            queue_uid INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL,
            message_key INTEGER NOT NULL,
            body TEXT NOT NULL,
            attributes TEXT,
            system TEXT NOT NULL,
            sent_at INTEGER NOT NULL,
            first_received_at INTEGER,
            received_at INTEGER NOT NULL,
            receive_count INTEGER NOT NULL,
            visibility INTEGER NOT NULL,
            visible_at INTEGER NOT NULL,
            receipt_nonce INTEGER NOT NULL,
            PRIMARY KEY (queue_uid, seq)
        );",
    )
}

fn visibility_code(visibility: Visibility) -> i64 {
    match visibility {
        Visibility::Delayed => 0,
        Visibility::Visible => 1,
        Visibility::InFlight => 2,
    }
}

fn visibility_from(code: i64) -> Visibility {
    match code {
        0 => Visibility::Delayed,
        2 => Visibility::InFlight,
        _ => Visibility::Visible,
    }
}

fn load(connection: &mut Connection) -> Result<Snapshot, StoreError> {
    let sql_error = |e: rusqlite::Error| StoreError(e.to_string());
    let mut queues = Vec::new();
    let mut statement = connection
        .prepare(
            "SELECT uid, region, name, attributes, tags, created_at, last_modified, last_purge
             FROM queues",
        )
        .map_err(sql_error)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, Option<i64>>(7)?,
            ))
        })
        .map_err(sql_error)?;
    for row in rows {
        let (uid, region, name, attributes, tags, created_at, last_modified, last_purge) =
            row.map_err(sql_error)?;
        let record = QueueRecord {
            uid: uid as u64,
            region,
            name,
            attributes: codec::decode_queue_attributes(&attributes)?,
            tags: codec::decode_tags(&tags)?,
            created_at: created_at as u64,
            last_modified: last_modified as u64,
            last_purge: last_purge.map(|t| t as u64),
        };
        let messages = load_messages(connection, record.uid)?;
        queues.push((record, messages));
    }
    Ok(Snapshot { queues })
}

fn load_messages(
    connection: &Connection,
    queue_uid: u64,
) -> Result<Vec<StoredMessage>, StoreError> {
    let sql_error = |e: rusqlite::Error| StoreError(e.to_string());
    let mut statement = connection
        .prepare(
            "SELECT seq, id, message_key, body, attributes, system, sent_at, first_received_at,
                    received_at, receive_count, visibility, visible_at, receipt_nonce
             FROM messages WHERE queue_uid = ?1 ORDER BY seq",
        )
        .map_err(sql_error)?;
    let rows = statement
        .query_map([queue_uid as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, String>(5)?,
                (
                    row.get::<_, i64>(6)?,
                    row.get::<_, Option<i64>>(7)?,
                    row.get::<_, i64>(8)?,
                    row.get::<_, i64>(9)?,
                    row.get::<_, i64>(10)?,
                    row.get::<_, i64>(11)?,
                    row.get::<_, i64>(12)?,
                ),
            ))
        })
        .map_err(sql_error)?;
    let mut messages = Vec::new();
    for row in rows {
        let (seq, id, key, body, attributes, system, times) = row.map_err(sql_error)?;
        let (sent_at, first_received_at, received_at, receive_count, visibility, visible_at, nonce) =
            times;
        let attributes = codec::decode_message_attributes(attributes.as_deref())?;
        messages.push(StoredMessage {
            seq: seq as u64,
            id: id.into(),
            body_md5: crate::engine::message::md5_of_body(&body).into(),
            body: body.into(),
            attributes: Arc::new(attributes),
            system: Arc::new(codec::decode_system(&system)?),
            sent_at: sent_at as u64,
            first_received_at: first_received_at.map(|t| t as u64),
            received_at: received_at as u64,
            receive_count: receive_count as u32,
            visibility: visibility_from(visibility),
            visible_at: visible_at as u64,
            timer_version: 0,
            receipt_nonce: nonce as u32,
            key: key as u32,
        });
    }
    Ok(messages)
}

fn write_loop(mut connection: Connection, jobs: mpsc::Receiver<Job>, _lock: File) {
    let mut next = jobs.recv().ok();
    while let Some(job) = next.take() {
        let (first, reply) = match job {
            Job::Reload(reply) => {
                let _ = reply.send(load(&mut connection));
                next = jobs.recv().ok();
                continue;
            }
            Job::Commit(changes, reply) => (changes, reply),
        };

        // Take every commit already waiting, up to a bound; a reload waits for the next turn.
        let mut group = vec![(first, reply)];
        let mut changes = group[0].0.len();
        while changes < MAX_GROUP {
            match jobs.try_recv() {
                Ok(Job::Commit(more, reply)) => {
                    changes += more.len();
                    group.push((more, reply));
                }
                Ok(reload) => {
                    next = Some(reload);
                    break;
                }
                Err(_) => break,
            }
        }
        let result = apply(&mut connection, &group).map_err(|e| StoreError(e.to_string()));
        if let Err(error) = &result {
            tracing::debug!(%error, changes, "group commit failed");
        }
        for (_, reply) in group {
            let _ = reply.send(result.clone());
        }
        if next.is_none() {
            next = jobs.recv().ok();
        }
    }
}

type Group = Vec<(Vec<Change>, oneshot::Sender<Result<(), StoreError>>)>;

fn apply(connection: &mut Connection, group: &Group) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    for change in group.iter().flat_map(|(changes, _)| changes) {
        apply_one(&transaction, change)?;
    }
    transaction.commit()
}

fn apply_one(db: &Connection, change: &Change) -> rusqlite::Result<()> {
    match change {
        Change::PutQueue(record) => {
            db.prepare_cached(
                "INSERT OR REPLACE INTO queues
                 (uid, region, name, attributes, tags, created_at, last_modified, last_purge)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                record.uid as i64,
                record.region,
                record.name,
                codec::encode_queue_attributes(&record.attributes),
                codec::encode_tags(&record.tags),
                record.created_at as i64,
                record.last_modified as i64,
                record.last_purge.map(|t| t as i64),
            ])?;
        }
        Change::DeleteQueue { uid } => {
            db.prepare_cached("DELETE FROM queues WHERE uid = ?1")?
                .execute([*uid as i64])?;
            db.prepare_cached("DELETE FROM messages WHERE queue_uid = ?1")?
                .execute([*uid as i64])?;
        }
        Change::Purge { uid } => {
            db.prepare_cached("DELETE FROM messages WHERE queue_uid = ?1")?
                .execute([*uid as i64])?;
        }
        Change::PutMessage { queue_uid, message } => {
            let state = MessageState::of(message);
            db.prepare_cached(
                "INSERT OR REPLACE INTO messages
                 (queue_uid, seq, id, message_key, body, attributes, system, sent_at, first_received_at,
                  received_at, receive_count, visibility, visible_at, receipt_nonce)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                *queue_uid as i64,
                message.seq as i64,
                &*message.id,
                i64::from(message.key),
                &*message.body,
                codec::encode_message_attributes(&message.attributes),
                codec::encode_system(&message.system),
                message.sent_at as i64,
                state.first_received_at.map(|t| t as i64),
                state.received_at as i64,
                i64::from(state.receive_count),
                visibility_code(state.visibility),
                state.visible_at as i64,
                i64::from(state.receipt_nonce),
            ])?;
        }
        Change::UpdateMessage { queue_uid, state } => {
            db.prepare_cached(
                "UPDATE messages SET first_received_at = ?3, received_at = ?4,
                 receive_count = ?5, visibility = ?6, visible_at = ?7, receipt_nonce = ?8
                 WHERE queue_uid = ?1 AND seq = ?2",
            )?
            .execute(params![
                *queue_uid as i64,
                state.seq as i64,
                state.first_received_at.map(|t| t as i64),
                state.received_at as i64,
                i64::from(state.receive_count),
                visibility_code(state.visibility),
                state.visible_at as i64,
                i64::from(state.receipt_nonce),
            ])?;
        }
        Change::DeleteMessage { queue_uid, seq } => {
            db.prepare_cached("DELETE FROM messages WHERE queue_uid = ?1 AND seq = ?2")?
                .execute(params![*queue_uid as i64, *seq as i64])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::engine::attributes::QueueAttributes;
    use crate::engine::message::SystemAttributes;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sqs-tasks-store-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn message(seq: u64, body: String) -> StoredMessage {
        StoredMessage {
            seq,
            id: format!("id-{seq}").into(),
            body_md5: crate::engine::message::md5_of_body(&body).into(),
            body: body.into(),
            attributes: Arc::new(BTreeMap::new()),
            system: Arc::new(SystemAttributes::default()),
            sent_at: 1,
            first_received_at: None,
            received_at: 0,
            receive_count: 0,
            visibility: Visibility::Visible,
            visible_at: 1,
            timer_version: 0,
            receipt_nonce: 0,
            key: 7,
        }
    }

    #[tokio::test]
    async fn a_full_disk_fails_the_commit_and_keeps_what_was_committed() {
        let dir = temp_dir();
        let (store, _) = SqliteStore::open_limited(&dir, Some(256 * 1024)).unwrap();
        let record = QueueRecord {
            uid: 1,
            region: "us-east-1".into(),
            name: "q".into(),
            attributes: QueueAttributes::default(),
            tags: BTreeMap::new(),
            created_at: 1,
            last_modified: 1,
            last_purge: None,
        };
        store
            .submit(vec![Change::PutQueue(record)])
            .wait()
            .await
            .unwrap();

        let mut committed = 0;
        let mut failed = false;
        for seq in 1..=200 {
            let change = Change::PutMessage {
                queue_uid: 1,
                message: message(seq, "x".repeat(8192)),
            };
            match store.submit(vec![change]).wait().await {
                Ok(()) => committed += 1,
                Err(error) => {
                    assert_eq!(error.code, crate::error::ErrorCode::InternalError);
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "the capped database fills up");
        assert!(committed > 0);
        store.close();

        let (store, snapshot) = SqliteStore::open(&dir).unwrap();
        let (_, messages) = &snapshot.queues[0];
        assert_eq!(
            messages.len(),
            committed,
            "every committed message, and only those"
        );
        store.close();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
