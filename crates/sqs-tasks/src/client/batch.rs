//! DeleteMessageBatch and ChangeMessageVisibilityBatch, for callers that coalesce settlements.

use std::future::Future;

use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};

use super::QueueClient;
use crate::Error;

impl QueueClient {
    /// Deletes up to 10 messages by receipt handle; one result per handle, in order.
    ///
    /// An entry that failed through no fault of the request (SQS's `SenderFault` is false) is
    /// tried once more on its own.
    pub(crate) async fn delete_batch(&self, receipts: &[&str]) -> Vec<Result<(), Error>> {
        let entries = receipts.iter().enumerate().map(|(index, receipt)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .receipt_handle(*receipt)
                .build()
                .expect("id and receipt handle are set")
        });
        let sent = self
            .inner
            .sdk
            .delete_message_batch()
            .queue_url(&self.inner.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await;
        let failed = sent
            .map(|output| output.failed)
            .map_err(|err| self.error(err));
        self.entry_results(receipts.len(), failed, |index| {
            self.delete_one(receipts[index])
        })
        .await
    }

    /// Changes the visibility of up to 10 messages: `(receipt handle, seconds)` pairs; one
    /// result per pair, in order. Entries that failed on SQS's side are retried once alone.
    pub(crate) async fn change_visibility_batch(
        &self,
        changes: &[(&str, i32)],
    ) -> Vec<Result<(), Error>> {
        let entries = changes.iter().enumerate().map(|(index, (receipt, secs))| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(index.to_string())
                .receipt_handle(*receipt)
                .visibility_timeout(*secs)
                .build()
                .expect("id and receipt handle are set")
        });
        let sent = self
            .inner
            .sdk
            .change_message_visibility_batch()
            .queue_url(&self.inner.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await;
        let failed = sent
            .map(|output| output.failed)
            .map_err(|err| self.error(err));
        self.entry_results(changes.len(), failed, |index| {
            let (receipt, secs) = changes[index];
            self.change_one(receipt, secs)
        })
        .await
    }

    /// One result per entry of a batch of `count`, from the batch's failed entries. An entry
    /// that failed through no fault of the request (SQS's `SenderFault` is false) is tried
    /// once more on its own with `retry_one(index)`.
    async fn entry_results<Retry>(
        &self,
        count: usize,
        failed: Result<Vec<BatchResultErrorEntry>, Error>,
        retry_one: impl Fn(usize) -> Retry,
    ) -> Vec<Result<(), Error>>
    where
        Retry: Future<Output = Result<(), Error>>,
    {
        let failed = match failed {
            Ok(failed) => failed,
            Err(err) => return vec![Err(err); count],
        };
        let mut results = vec![Ok(()); count];
        for entry in failed {
            let Some(index) = entry_index(&entry, count) else {
                continue;
            };
            results[index] = if entry.sender_fault {
                Err(self.entry_error(&entry))
            } else {
                retry_one(index).await
            };
        }
        results
    }

    fn entry_error(&self, entry: &BatchResultErrorEntry) -> Error {
        Error::from_code(
            entry.code(),
            entry.message().unwrap_or(""),
            self.queue_url(),
        )
    }

    async fn delete_one(&self, receipt: &str) -> Result<(), Error> {
        let request = self.inner.sdk.delete_message().receipt_handle(receipt);
        let sent = request.queue_url(&self.inner.queue_url).send().await;
        sent.map(drop).map_err(|err| self.error(err))
    }

    async fn change_one(&self, receipt: &str, secs: i32) -> Result<(), Error> {
        let request = self
            .inner
            .sdk
            .change_message_visibility()
            .receipt_handle(receipt);
        let request = request
            .queue_url(&self.inner.queue_url)
            .visibility_timeout(secs);
        request
            .send()
            .await
            .map(drop)
            .map_err(|err| self.error(err))
    }
}

/// The position of a failed entry in its request, from the id it was given.
fn entry_index(entry: &BatchResultErrorEntry, len: usize) -> Option<usize> {
    entry.id().parse().ok().filter(|index| *index < len)
}
