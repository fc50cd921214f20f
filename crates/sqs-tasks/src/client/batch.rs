//! DeleteMessageBatch and ChangeMessageVisibilityBatch, for callers that coalesce settlements.

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
        let failed = match sent {
            Ok(output) => output.failed,
            Err(err) => return vec![Err(self.error(err)); receipts.len()],
        };

        let mut results = vec![Ok(()); receipts.len()];
        for entry in failed {
            let Some(index) = entry_index(&entry, receipts.len()) else {
                continue;
            };
            results[index] = if entry.sender_fault {
                Err(self.entry_error(&entry))
            } else {
                self.delete_one(receipts[index]).await
            };
        }
        results
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
        let failed = match sent {
            Ok(output) => output.failed,
            Err(err) => return vec![Err(self.error(err)); changes.len()],
        };

        let mut results = vec![Ok(()); changes.len()];
        for entry in failed {
            let Some(index) = entry_index(&entry, changes.len()) else {
                continue;
            };
            results[index] = if entry.sender_fault {
                Err(self.entry_error(&entry))
            } else {
                let (receipt, secs) = changes[index];
                self.change_one(receipt, secs).await
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
