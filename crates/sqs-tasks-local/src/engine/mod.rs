//! Queues and messages, independent of any wire protocol.
//!
//! The engine keeps every queue in memory. Requests find a queue by region and name, then
//! work under that queue's own lock, so traffic on one queue never waits for another.

pub(crate) mod attributes;
pub(crate) mod message;
pub(crate) mod queue;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use crate::clock::Clock;
use crate::error::{ErrorCode, SqsError};
use crate::store::{Change, Commit, QueueRecord, Snapshot, Store};
use attributes::QueueAttributes;
use queue::{Queue, ReceivedMessage};

/// Settings that change how strictly the engine follows SQS's time-based rules.
#[derive(Debug, Clone)]
pub(crate) struct EngineConfig {
    pub(crate) account_id: String,
    /// The 60-second rules: one purge a minute, no re-creation within a minute of deletion.
    pub(crate) cooldowns: bool,
}

type QueueKey = (String, String);

/// All queues of all regions.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: EngineConfig,
    queues: RwLock<BTreeMap<QueueKey, Arc<Queue>>>,
    recently_deleted: Mutex<HashMap<QueueKey, u64>>,
    store: Arc<dyn Store>,
}

/// What a receive asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReceiveRequest {
    pub(crate) max_messages: usize,
    pub(crate) visibility_seconds: Option<u64>,
    pub(crate) wait_seconds: Option<u64>,
}

impl Engine {
    /// An engine holding what `snapshot` holds, sending its changes to `store`.
    pub(crate) fn new(
        clock: Arc<dyn Clock>,
        config: EngineConfig,
        store: Arc<dyn Store>,
        snapshot: Snapshot,
    ) -> Self {
        let now = clock.now_millis();
        let mut queues = BTreeMap::new();
        for (record, messages) in snapshot.queues {
            let key = (record.region.clone(), record.name.clone());
            let arn = format!(
                "arn:aws:sqs:{}:{}:{}",
                record.region, config.account_id, record.name
            );
            queues.insert(
                key,
                Arc::new(Queue::new(record, arn, messages, store.clone(), now)),
            );
        }
        Self {
            clock,
            config,
            queues: RwLock::new(queues),
            recently_deleted: Mutex::new(HashMap::new()),
            store,
        }
    }

    /// Makes memory match the store again after a failed commit.
    ///
    /// A failed commit (a full disk) leaves changes in memory that the store does not have,
    /// and their requests were answered with an error. Every queue is locked while memory is
    /// replaced by what the store holds, so no later request sees or builds on them. Blocks.
    pub(crate) fn recover_from_store(&self) {
        let mut queues = self.queues.write().unwrap_or_else(|e| e.into_inner());
        let all: Vec<Arc<Queue>> = queues.values().cloned().collect();
        let mut guards: Vec<_> = all.iter().map(|q| q.lock()).collect();
        let snapshot = match self.store.reload() {
            Some(Ok(snapshot)) => snapshot,
            Some(Err(error)) => {
                tracing::debug!(%error, "cannot read the store back after a failed commit");
                return;
            }
            None => return,
        };
        let now = self.now();
        let mut stored: HashMap<u64, _> = snapshot
            .queues
            .into_iter()
            .map(|(record, messages)| (record.uid, (record, messages)))
            .collect();
        for (queue, guard) in all.iter().zip(guards.iter_mut()) {
            match stored.remove(&queue.uid) {
                Some((record, messages)) => queue.reset(guard, &record, messages, now),
                // Its creation never reached the disk.
                None => {
                    queues.remove(&(queue.region.clone(), queue.name.clone()));
                    queue.mark_deleted();
                }
            }
        }
        drop(guards);
        // Queues whose deletion never reached the disk.
        for (record, messages) in stored.into_values() {
            let key = (record.region.clone(), record.name.clone());
            let arn = self.arn(&record.region, &record.name);
            let store = self.store.clone();
            queues
                .entry(key)
                .or_insert_with(|| Arc::new(Queue::new(record, arn, messages, store, now)));
        }
        tracing::debug!("memory restored from the store after a failed commit");
    }

    /// See [`Store::close`].
    pub(crate) fn close_store(&self) {
        self.store.close();
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_millis()
    }

    pub(crate) fn arn(&self, region: &str, name: &str) -> String {
        format!("arn:aws:sqs:{region}:{}:{name}", self.config.account_id)
    }

    /// Creates a queue, or returns the existing one when every requested attribute matches.
    pub(crate) fn create_queue(
        &self,
        region: &str,
        name: &str,
        requested: &BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<(Arc<Queue>, Commit), SqsError> {
        let attributes = QueueAttributes::from_request(requested)?;
        let key = (region.to_owned(), name.to_owned());
        let now = self.now();
        let mut queues = self.queues.write().unwrap_or_else(|e| e.into_inner());

        if let Some(existing) = queues.get(&key) {
            return match existing.lock().attributes.first_difference(requested) {
                None => Ok((existing.clone(), Commit::done())),
                Some(differing) => Err(SqsError::new(
                    ErrorCode::QueueNameExists,
                    format!(
                        "A queue already exists with the same name and a different value for attribute {differing}"
                    ),
                )),
            };
        }
        if self.config.cooldowns {
            let deleted = self
                .recently_deleted
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if deleted.get(&key).is_some_and(|at| now < at + 60_000) {
                return Err(SqsError::new(
                    ErrorCode::QueueDeletedRecently,
                    "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
                ));
            }
        }
        if let Some(policy) = &attributes.redrive_policy {
            self.check_dead_letter_target(&queues, region, name, &policy.dead_letter_target_arn)?;
        }

        let record = QueueRecord {
            uid: rand::random(),
            region: region.to_owned(),
            name: name.to_owned(),
            attributes,
            tags,
            created_at: now,
            last_modified: now,
            last_purge: None,
        };
        let queue = Arc::new(Queue::new(
            record,
            self.arn(region, name),
            Vec::new(),
            self.store.clone(),
            now,
        ));
        // Submitted under the registry lock, so a delete of the same queue cannot overtake it.
        let commit = queue.record_changed(&mut queue.lock());
        queues.insert(key, queue.clone());
        tracing::debug!(queue = name, region, "queue created");
        Ok((queue, commit))
    }

    /// Applies attributes to a queue, all or none.
    pub(crate) fn set_attributes(
        &self,
        queue: &Queue,
        requested: &BTreeMap<String, String>,
    ) -> Result<Commit, SqsError> {
        let mut attributes = queue.lock().attributes.clone();
        for (name, value) in requested {
            attributes.set(name, value)?;
        }
        if requested.contains_key("RedrivePolicy")
            && let Some(policy) = &attributes.redrive_policy
        {
            let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
            let target = &policy.dead_letter_target_arn;
            self.check_dead_letter_target(&queues, &queue.region, &queue.name, target)?;
        }
        let mut state = queue.lock();
        state.attributes = attributes;
        state.last_modified = self.now();
        Ok(queue.record_changed(&mut state))
    }

    fn check_dead_letter_target(
        &self,
        queues: &BTreeMap<QueueKey, Arc<Queue>>,
        region: &str,
        source_name: &str,
        target_arn: &str,
    ) -> Result<(), SqsError> {
        let policy_error = |why: &str| SqsError::invalid_value(target_arn, "RedrivePolicy", why);
        let target = self
            .parse_arn(target_arn)
            .filter(|(target_region, _)| target_region == region)
            .and_then(|key| queues.get(&key).cloned())
            .ok_or_else(|| policy_error("Dead letter target does not exist."))?;
        let source_arn = self.arn(region, source_name);
        if let Some(allow) = target.lock().attributes.redrive_allow_policy.as_deref() {
            let allow: serde_json::Value = serde_json::from_str(allow).unwrap_or_default();
            let permitted = match allow["redrivePermission"].as_str() {
                Some("denyAll") => false,
                Some("byQueue") => allow["sourceQueueArns"]
                    .as_array()
                    .is_some_and(|arns| arns.iter().any(|a| a.as_str() == Some(&source_arn))),
                _ => true,
            };
            if !permitted {
                return Err(policy_error(
                    "Dead letter target's RedriveAllowPolicy does not allow this queue as a source.",
                ));
            }
        }
        Ok(())
    }

    /// `(region, name)` of a queue ARN of this account.
    pub(crate) fn parse_arn(&self, arn: &str) -> Option<QueueKey> {
        let mut parts = arn.split(':');
        let (
            Some("arn"),
            Some(_partition),
            Some("sqs"),
            Some(region),
            Some(account),
            Some(name),
            None,
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        (account == self.config.account_id).then(|| (region.to_owned(), name.to_owned()))
    }

    pub(crate) fn queue(&self, region: &str, name: &str) -> Result<Arc<Queue>, SqsError> {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        queues
            .get(&(region.to_owned(), name.to_owned()))
            .cloned()
            .ok_or_else(SqsError::queue_does_not_exist)
    }

    pub(crate) fn queue_by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let (region, name) = self.parse_arn(arn)?;
        self.queue(&region, &name).ok()
    }

    pub(crate) fn delete_queue(&self, queue: &Queue) -> Commit {
        let key = (queue.region.clone(), queue.name.clone());
        let mut queues = self.queues.write().unwrap_or_else(|e| e.into_inner());
        let mut commit = Commit::done();
        if queues.get(&key).is_some_and(|q| q.uid == queue.uid) {
            queues.remove(&key);
            queue.mark_deleted();
            if self.store.is_durable() {
                // Under the queue's lock, so no change of its messages can follow the delete.
                let _state = queue.lock();
                commit = self
                    .store
                    .submit(vec![Change::DeleteQueue { uid: queue.uid }]);
            }
            let mut deleted = self
                .recently_deleted
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let now = self.now();
            deleted.retain(|_, at| now < *at + 60_000);
            deleted.insert(key, now);
            tracing::debug!(queue = queue.name, region = queue.region, "queue deleted");
        }
        commit
    }

    /// Queues of a region whose names start with `prefix`, in name order.
    pub(crate) fn list_queues(&self, region: &str, prefix: &str) -> Vec<Arc<Queue>> {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        queues
            .range((region.to_owned(), prefix.to_owned())..)
            .take_while(|((r, name), _)| r == region && name.starts_with(prefix))
            .map(|(_, q)| q.clone())
            .collect()
    }

    /// Queues of the region whose redrive policy targets `target`.
    pub(crate) fn dead_letter_sources(&self, target: &Queue) -> Vec<Arc<Queue>> {
        self.list_queues(&target.region, "")
            .into_iter()
            .filter(|q| {
                q.lock()
                    .attributes
                    .redrive_policy
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_target_arn == target.arn)
            })
            .collect()
    }

    /// Receives messages, waiting up to the wait time for the first to become visible.
    ///
    /// Cancel safety: dropping the future before it completes loses nothing; messages are
    /// only taken from the queue in the step that returns them.
    pub(crate) async fn receive(
        &self,
        queue: &Arc<Queue>,
        request: ReceiveRequest,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let (default_wait, default_visibility) = {
            let state = queue.lock();
            (
                state.attributes.receive_message_wait_time_seconds,
                state.attributes.visibility_timeout,
            )
        };
        let wait_ms = request.wait_seconds.unwrap_or(u64::from(default_wait)) * 1000;
        let visibility_ms = request
            .visibility_seconds
            .unwrap_or(u64::from(default_visibility))
            * 1000;
        let deadline = self.now() + wait_ms;

        loop {
            // Registered before looking, so a send between the look and the wait still wakes us.
            let arrival = queue.arrivals().notified();
            tokio::pin!(arrival);
            arrival.as_mut().enable();

            let dead_letter_queue = self.dead_letter_queue_of(queue);
            let now = self.now();
            let attempt = queue.try_receive(
                now,
                request.max_messages,
                visibility_ms,
                dead_letter_queue.is_some(),
            );
            let moved_any = !attempt.to_dead_letter.is_empty();
            let mut moved = Vec::new();
            for message in attempt.to_dead_letter {
                let seq = message.seq;
                match &dead_letter_queue {
                    Some(target) if !target.is_deleted() => {
                        tracing::debug!(
                            queue = queue.name,
                            message_id = %message.id,
                            "moved to dead-letter queue"
                        );
                        moved.push(target.accept_moved(message, Some(&queue.arn)));
                    }
                    // The target went away meanwhile: the message stays rather than vanish.
                    _ => moved.push(queue.accept_moved(message, None)),
                }
                moved.push(queue.forget_moved(&[seq]));
            }
            attempt.commit.wait().await?;
            for commit in moved {
                commit.wait().await?;
            }
            if !attempt.received.is_empty() || now >= deadline || queue.is_deleted() {
                return Ok(attempt.received);
            }
            if moved_any {
                continue;
            }
            let wake_at = attempt.next_due.map_or(deadline, |due| due.min(deadline));
            tokio::select! {
                _ = arrival => {}
                _ = self.clock.sleep_until(wake_at) => {}
            }
        }
    }

    /// The existing dead-letter queue named by a queue's redrive policy.
    fn dead_letter_queue_of(&self, queue: &Queue) -> Option<Arc<Queue>> {
        let state = queue.lock();
        let arn = state
            .attributes
            .redrive_policy
            .as_ref()?
            .dead_letter_target_arn
            .clone();
        drop(state);
        self.queue_by_arn(&arn)
    }
}
