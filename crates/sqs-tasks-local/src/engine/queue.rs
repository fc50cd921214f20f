//! One queue: its messages and their movement between delayed, visible and in flight.
//!
//! Every change to a queue is made under its lock. When the store is durable, the change is
//! also written down as a [`Change`] and submitted before the lock is released, so the store
//! sees changes in the order they happened; the caller then waits for the returned
//! [`Commit`] before answering.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::attributes::{MAX_VISIBILITY_SECONDS, QueueAttributes};
use super::message::{
    MessageAttributes, ReceiptHandle, StoredMessage, SystemAttributes, Visibility, md5_of_body,
    uuid_v4,
};
use crate::error::{ErrorCode, SqsError};
use crate::store::{Change, Commit, MessageState, QueueRecord, Store};

/// A message handed to [`Queue::send`].
#[derive(Debug)]
pub(crate) struct NewMessage {
    pub(crate) body: Arc<str>,
    pub(crate) attributes: MessageAttributes,
    /// Per-message delay in seconds; the queue's delay applies when absent.
    pub(crate) delay_seconds: Option<u32>,
    pub(crate) system: SystemAttributes,
}

/// What [`Queue::send`] tells the sender about one stored message.
#[derive(Debug, Clone)]
pub(crate) struct SentMessage {
    pub(crate) id: Arc<str>,
    pub(crate) body_md5: Arc<str>,
}

/// A message just received, with the handle of this receive.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedMessage {
    pub(crate) message: StoredMessage,
    pub(crate) receipt_handle: String,
}

/// The outcome of one attempt to receive without waiting.
#[derive(Debug)]
pub(crate) struct ReceiveAttempt {
    pub(crate) received: Vec<ReceivedMessage>,
    /// Messages past their queue's maxReceiveCount, taken out to go to the dead-letter queue.
    /// Their removal is not yet submitted to the store: see [`Queue::forget_moved`].
    pub(crate) to_dead_letter: Vec<StoredMessage>,
    /// When the next delayed or in-flight message may become visible.
    pub(crate) next_due: Option<u64>,
    pub(crate) commit: Commit,
}

/// How many messages stand in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) visible: u64,
    pub(crate) in_flight: u64,
    pub(crate) delayed: u64,
}

impl Counts {
    fn slot(&mut self, visibility: Visibility) -> &mut u64 {
        match visibility {
            Visibility::Visible => &mut self.visible,
            Visibility::InFlight => &mut self.in_flight,
            Visibility::Delayed => &mut self.delayed,
        }
    }
}

/// A pending change to visible: (when, message seq, timer version).
type Timer = Reverse<(u64, u64, u32)>;

/// The mutable part of a queue, behind its lock.
#[derive(Debug)]
pub(crate) struct QueueState {
    pub(crate) attributes: QueueAttributes,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) last_modified: u64,
    last_purge: Option<u64>,
    messages: BTreeMap<u64, StoredMessage>,
    /// Visible messages by seq, oldest first.
    ready: BTreeSet<u64>,
    timers: BinaryHeap<Timer>,
    counts: Counts,
    next_seq: u64,
    uid: u64,
    /// Changes not yet submitted to the store; `None` when the store keeps nothing.
    journal: Option<Vec<Change>>,
}

/// A queue of one region, shared by every request that names it.
#[derive(Debug)]
pub(crate) struct Queue {
    /// Random, so a handle of a deleted queue never matches a new one, across restarts too.
    pub(crate) uid: u64,
    pub(crate) region: String,
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) created_at: u64,
    state: Mutex<QueueState>,
    /// Wakes long polls when messages become visible, or when they must look again.
    arrivals: Notify,
    deleted: AtomicBool,
    store: Arc<dyn Store>,
}

impl Queue {
    /// A queue from its record and messages (none for a new queue).
    pub(crate) fn new(
        record: QueueRecord,
        arn: String,
        messages: Vec<StoredMessage>,
        store: Arc<dyn Store>,
        now: u64,
    ) -> Self {
        let state = QueueState::restored(&record, messages, store.is_durable(), now);
        Self {
            uid: record.uid,
            region: record.region,
            name: record.name,
            arn,
            created_at: record.created_at,
            state: Mutex::new(state),
            arrivals: Notify::new(),
            deleted: AtomicBool::new(false),
            store,
        }
    }

    /// Replaces the state under `guard` with what a store holds, and lets waiting long polls
    /// look again.
    pub(crate) fn reset(
        &self,
        guard: &mut QueueState,
        record: &QueueRecord,
        messages: Vec<StoredMessage>,
        now: u64,
    ) {
        *guard = QueueState::restored(record, messages, self.store.is_durable(), now);
        self.arrivals.notify_waiters();
    }

    /// Locks the queue's state. A panic while the lock was held cannot leave the state
    /// half-changed in a way later requests would trip on, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The queue's record as a store keeps it.
    pub(crate) fn record(&self, state: &QueueState) -> QueueRecord {
        QueueRecord {
            uid: self.uid,
            region: self.region.clone(),
            name: self.name.clone(),
            attributes: state.attributes.clone(),
            tags: state.tags.clone(),
            created_at: self.created_at,
            last_modified: state.last_modified,
            last_purge: state.last_purge,
        }
    }

    /// Submits the changes written down under `state`'s lock.
    pub(crate) fn submit(&self, state: &mut QueueState) -> Commit {
        match state.journal.as_mut() {
            Some(journal) if !journal.is_empty() => self.store.submit(std::mem::take(journal)),
            _ => Commit::done(),
        }
    }

    /// Records a change of attributes, tags or purge time.
    pub(crate) fn record_changed(&self, state: &mut QueueState) -> Commit {
        if state.journal.is_some() {
            let record = self.record(state);
            state.write(Change::PutQueue(record));
        }
        self.submit(state)
    }

    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// Marks the queue deleted and ends every long poll waiting on it.
    pub(crate) fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
        self.arrivals.notify_waiters();
    }

    pub(crate) fn arrivals(&self) -> &Notify {
        &self.arrivals
    }

    /// Stores messages; the whole batch is taken under one lock.
    pub(crate) fn send(&self, batch: Vec<NewMessage>, now: u64) -> (Vec<SentMessage>, Commit) {
        let mut state = self.lock();
        let queue_delay = state.attributes.delay_seconds;
        let mut newly_visible = 0;
        let mut wake_all = false;
        let sent = batch
            .into_iter()
            .map(|new| {
                let delay_ms = u64::from(new.delay_seconds.unwrap_or(queue_delay)) * 1000;
                let body_md5: Arc<str> = md5_of_body(&new.body).into();
                let id: Arc<str> = uuid_v4().into();
                let visibility = if delay_ms == 0 {
                    Visibility::Visible
                } else {
                    Visibility::Delayed
                };
                let message = StoredMessage {
                    seq: 0,
                    id: id.clone(),
                    body: new.body,
                    body_md5: body_md5.clone(),
                    attributes: Arc::new(new.attributes),
                    system: Arc::new(new.system),
                    sent_at: now,
                    first_received_at: None,
                    received_at: 0,
                    receive_count: 0,
                    visibility,
                    visible_at: now + delay_ms,
                    timer_version: 0,
                    receipt_nonce: 0,
                    key: rand::random(),
                };
                if visibility == Visibility::Visible {
                    newly_visible += 1;
                }
                wake_all |= state.insert(message);
                SentMessage { id, body_md5 }
            })
            .collect();
        let commit = self.submit(&mut state);
        drop(state);
        self.wake(newly_visible, wake_all);
        (sent, commit)
    }

    /// Takes in a message moved from another queue (dead-lettering), keeping its id, body,
    /// attributes, receive count and original send time. Without a source, the message is
    /// one this queue gave up and takes back.
    pub(crate) fn accept_moved(
        &self,
        mut message: StoredMessage,
        source_arn: Option<&str>,
    ) -> Commit {
        if let Some(source_arn) = source_arn {
            let mut system = (*message.system).clone();
            system.dead_letter_queue_source_arn = Some(source_arn.to_owned());
            system.receive_count_at_arrival = message.receive_count;
            message.system = Arc::new(system);
        }
        message.visibility = Visibility::Visible;
        message.timer_version = message.timer_version.wrapping_add(1);
        let mut state = self.lock();
        state.insert(message);
        let commit = self.submit(&mut state);
        drop(state);
        self.wake(1, false);
        commit
    }

    /// Submits the removal of messages handed out for dead-lettering, once the dead-letter
    /// queue has submitted their arrival: a crash between the two leaves a copy in both
    /// queues rather than in neither.
    pub(crate) fn forget_moved(&self, seqs: &[u64]) -> Commit {
        let mut state = self.lock();
        for &seq in seqs {
            state.write(Change::DeleteMessage {
                queue_uid: self.uid,
                seq,
            });
        }
        self.submit(&mut state)
    }

    fn wake(&self, newly_visible: usize, wake_all: bool) {
        if wake_all {
            self.arrivals.notify_waiters();
        }
        for _ in 0..newly_visible {
            self.arrivals.notify_one();
        }
    }

    /// Receives up to `max` visible messages without waiting, hiding each for `visibility_ms`.
    ///
    /// Messages past the redrive policy's receive limit are taken out for the dead-letter
    /// queue only when `redrive` is set (the target exists).
    pub(crate) fn try_receive(
        &self,
        now: u64,
        max: usize,
        visibility_ms: u64,
        redrive: bool,
    ) -> ReceiveAttempt {
        let mut state = self.lock();
        state.advance(now);
        let redrive_after = state
            .attributes
            .redrive_policy
            .as_ref()
            .filter(|_| redrive)
            .map(|p| p.max_receive_count);
        let retention_ms = u64::from(state.attributes.message_retention_period) * 1000;
        let mut received = Vec::new();
        let mut to_dead_letter = Vec::new();
        let mut wake_all = false;

        // A cursor rather than popping: with a zero visibility timeout a received message
        // stays visible, and must not be handed out twice by one receive.
        let mut cursor = 0;
        while received.len() < max {
            let Some(&seq) = state.ready.range(cursor..).next() else {
                break;
            };
            cursor = seq + 1;
            let Some(mut message) = state.messages.get(&seq).cloned() else {
                state.ready.remove(&seq);
                continue;
            };

            // Messages moved from a dead-letter source keep their first send time, so they
            // can be past retention while not at the front of the queue.
            if message.sent_at + retention_ms <= now {
                state.remove(seq);
                continue;
            }
            let received_here = message.receive_count > message.system.receive_count_at_arrival;
            if received_here
                && redrive_after.is_some_and(|max_receives| message.receive_count >= max_receives)
            {
                if let Some(moved) = state.take(seq) {
                    to_dead_letter.push(moved);
                }
                continue;
            }

            message.receive_count += 1;
            message.first_received_at.get_or_insert(now);
            message.received_at = now;
            message.receipt_nonce = rand::random();
            let handle = ReceiptHandle {
                queue_uid: self.uid,
                seq,
                key: message.key,
                receive_count: message.receive_count,
                nonce: message.receipt_nonce,
            };
            let visibility = if visibility_ms == 0 {
                Visibility::Visible
            } else {
                Visibility::InFlight
            };
            wake_all |= state.replace(message.clone(), visibility, now + visibility_ms);
            received.push(ReceivedMessage {
                message,
                receipt_handle: handle.encode(),
            });
        }
        let next_due = state.timers.peek().map(|Reverse((at, _, _))| *at);
        let commit = self.submit(&mut state);
        drop(state);
        if wake_all {
            self.arrivals.notify_waiters();
        }
        ReceiveAttempt {
            received,
            to_dead_letter,
            next_due,
            commit,
        }
    }

    /// Deletes the message a handle points to. A handle of any past receive deletes it, and
    /// deleting a message that is already gone succeeds, as on SQS standard queues.
    pub(crate) fn delete(&self, handle: &str) -> Result<Commit, SqsError> {
        let handle = self.decode_handle(handle)?;
        let mut state = self.lock();
        let issued = state
            .messages
            .get(&handle.seq)
            .filter(|m| m.key == handle.key)
            .map(|m| m.receive_count);
        if issued.is_some_and(|count| handle.receive_count <= count) {
            state.remove(handle.seq);
        }
        Ok(self.submit(&mut state))
    }

    /// Hides an in-flight message for `timeout_seconds` from now.
    pub(crate) fn change_visibility(
        &self,
        raw_handle: &str,
        timeout_seconds: u64,
        now: u64,
    ) -> Result<Commit, SqsError> {
        let handle = self.decode_handle(raw_handle)?;
        let mut state = self.lock();
        state.advance(now);
        // Expired messages that `advance` removed are submitted with this queue's next change.
        let Some(message) = state
            .messages
            .get(&handle.seq)
            .filter(|m| m.key == handle.key)
            .cloned()
        else {
            return Err(SqsError::invalid_value(
                raw_handle,
                "ReceiptHandle",
                "Message does not exist or is not available for visibility timeout change.",
            ));
        };
        if handle.receive_count != message.receive_count || handle.nonce != message.receipt_nonce {
            return Err(SqsError::invalid_value(
                raw_handle,
                "ReceiptHandle",
                "The receipt handle has expired.",
            ));
        }
        if message.visibility != Visibility::InFlight {
            return Err(SqsError::new(
                ErrorCode::MessageNotInflight,
                "The message referred to isn't in flight.",
            ));
        }
        let new_visible_at = now + timeout_seconds * 1000;
        if new_visible_at > message.received_at + MAX_VISIBILITY_SECONDS * 1000 {
            return Err(SqsError::invalid_value(
                timeout_seconds,
                "VisibilityTimeout",
                "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
            ));
        }
        let visibility = if timeout_seconds == 0 {
            Visibility::Visible
        } else {
            Visibility::InFlight
        };
        let wake_all = state.replace(message, visibility, new_visible_at);
        let commit = self.submit(&mut state);
        drop(state);
        self.wake(usize::from(visibility == Visibility::Visible), wake_all);
        Ok(commit)
    }

    /// Removes every message. Returns `PurgeQueueInProgress` within 60 seconds of the last
    /// purge when `cooldown` is on.
    pub(crate) fn purge(&self, now: u64, cooldown: bool) -> Result<Commit, SqsError> {
        let mut state = self.lock();
        if cooldown && state.last_purge.is_some_and(|at| now < at + 60_000) {
            return Err(SqsError::new(
                ErrorCode::PurgeQueueInProgress,
                format!(
                    "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                    self.name
                ),
            ));
        }
        state.last_purge = Some(now);
        state.messages.clear();
        state.ready.clear();
        state.timers.clear();
        state.counts = Counts::default();
        state.write(Change::Purge { uid: self.uid });
        Ok(self.record_changed(&mut state))
    }

    /// The number of messages in each state at `now`.
    pub(crate) fn counts(&self, now: u64) -> (Counts, Commit) {
        let mut state = self.lock();
        state.advance(now);
        let counts = state.counts;
        (counts, self.submit(&mut state))
    }

    fn decode_handle(&self, raw: &str) -> Result<ReceiptHandle, SqsError> {
        match ReceiptHandle::decode(raw) {
            Some(handle) if handle.queue_uid == self.uid => Ok(handle),
            _ => Err(SqsError::new(
                ErrorCode::ReceiptHandleIsInvalid,
                format!("The input receipt handle \"{raw}\" is not a valid receipt handle."),
            )),
        }
    }
}

impl QueueState {
    /// A state holding a stored queue's attributes and messages. In-flight and delayed
    /// messages whose time has passed come back visible.
    fn restored(
        record: &QueueRecord,
        messages: Vec<StoredMessage>,
        durable: bool,
        now: u64,
    ) -> Self {
        let mut state = QueueState {
            attributes: record.attributes.clone(),
            tags: record.tags.clone(),
            last_modified: record.last_modified,
            last_purge: record.last_purge,
            messages: BTreeMap::new(),
            ready: BTreeSet::new(),
            timers: BinaryHeap::new(),
            counts: Counts::default(),
            next_seq: 1,
            uid: record.uid,
            journal: None,
        };
        for mut message in messages {
            if message.visibility != Visibility::Visible && message.visible_at <= now {
                message.visibility = Visibility::Visible;
            }
            state.next_seq = state.next_seq.max(message.seq + 1);
            state.restore(message);
        }
        state.journal = durable.then(Vec::new);
        state
    }

    fn write(&mut self, change: Change) {
        if let Some(journal) = self.journal.as_mut() {
            journal.push(change);
        }
    }

    /// Brings the state up to `now`: due messages become visible, expired ones go.
    ///
    /// Becoming visible by the passing of time is not written to the store: a stored
    /// in-flight message whose deadline has passed is loaded as visible.
    fn advance(&mut self, now: u64) {
        while let Some(Reverse((at, seq, version))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(message) = self.messages.get_mut(&seq) else {
                continue;
            };
            if message.timer_version != version || message.visibility == Visibility::Visible {
                continue;
            }
            let from = message.visibility;
            message.visibility = Visibility::Visible;
            *self.counts.slot(from) -= 1;
            self.counts.visible += 1;
            self.ready.insert(seq);
        }

        let retention_ms = u64::from(self.attributes.message_retention_period) * 1000;
        while let Some((&seq, message)) = self.messages.first_key_value() {
            if message.sent_at + retention_ms > now {
                break;
            }
            self.remove(seq);
        }
    }

    /// Places a message loaded from the store, under its own seq.
    fn restore(&mut self, message: StoredMessage) {
        *self.counts.slot(message.visibility) += 1;
        match message.visibility {
            Visibility::Visible => {
                self.ready.insert(message.seq);
            }
            _ => {
                self.push_timer(message.visible_at, message.seq, message.timer_version);
            }
        }
        self.messages.insert(message.seq, message);
    }

    /// Adds a message under a new seq. Returns whether waiters must recompute their wake-up
    /// time (a timer earlier than all others was added).
    fn insert(&mut self, mut message: StoredMessage) -> bool {
        message.seq = self.next_seq;
        self.next_seq += 1;
        *self.counts.slot(message.visibility) += 1;
        let wake_all = match message.visibility {
            Visibility::Visible => {
                self.ready.insert(message.seq);
                false
            }
            _ => self.push_timer(message.visible_at, message.seq, message.timer_version),
        };
        if self.journal.is_some() {
            self.write(Change::PutMessage {
                queue_uid: self.uid,
                message: message.clone(),
            });
        }
        self.messages.insert(message.seq, message);
        wake_all
    }

    /// Replaces a message's record, moving it to `visibility` until `visible_at`.
    fn replace(
        &mut self,
        mut message: StoredMessage,
        visibility: Visibility,
        visible_at: u64,
    ) -> bool {
        let seq = message.seq;
        let Some(old) = self.messages.get(&seq) else {
            return false;
        };
        *self.counts.slot(old.visibility) -= 1;
        if old.visibility == Visibility::Visible {
            self.ready.remove(&seq);
        }
        message.visibility = visibility;
        message.visible_at = visible_at;
        message.timer_version = old.timer_version.wrapping_add(1);
        *self.counts.slot(visibility) += 1;
        let wake_all = match visibility {
            Visibility::Visible => {
                self.ready.insert(seq);
                false
            }
            _ => self.push_timer(visible_at, seq, message.timer_version),
        };
        self.write(Change::UpdateMessage {
            queue_uid: self.uid,
            state: MessageState::of(&message),
        });
        self.messages.insert(seq, message);
        wake_all
    }

    /// Removes a message and writes its deletion down.
    fn remove(&mut self, seq: u64) -> Option<StoredMessage> {
        let message = self.take(seq)?;
        self.write(Change::DeleteMessage {
            queue_uid: self.uid,
            seq,
        });
        Some(message)
    }

    /// Removes a message without writing anything down.
    fn take(&mut self, seq: u64) -> Option<StoredMessage> {
        let message = self.messages.remove(&seq)?;
        *self.counts.slot(message.visibility) -= 1;
        if message.visibility == Visibility::Visible {
            self.ready.remove(&seq);
        }
        Some(message)
    }

    fn push_timer(&mut self, at: u64, seq: u64, version: u32) -> bool {
        let earliest = self
            .timers
            .peek()
            .is_none_or(|Reverse((first, _, _))| at < *first);
        self.timers.push(Reverse((at, seq, version)));
        earliest
    }
}
