//! The batching loop against a fake SQS whose change batches can be held back, so that the
//! order in which requests reach "SQS" is under the test's control.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::{Action, BatchApi, Request, order};
use crate::Error;

/// What reached the fake SQS, in order: a receipt and its new visibility (`None`: deleted).
type Applied = Vec<(String, Option<i32>)>;

#[derive(Debug, Clone)]
struct FakeSqs {
    applied: Arc<Mutex<Applied>>,
    batch_sizes: Arc<Mutex<Vec<usize>>>,
    /// How many of the next change batches wait for `open` before they are applied.
    held_batches: Arc<AtomicUsize>,
    open: watch::Receiver<bool>,
}

impl FakeSqs {
    /// A fake whose next `held` change batches wait until the returned sender says `true`.
    fn holding(held: usize) -> (FakeSqs, watch::Sender<bool>) {
        let (gate, open) = watch::channel(false);
        let fake = FakeSqs {
            applied: Arc::default(),
            batch_sizes: Arc::default(),
            held_batches: Arc::new(AtomicUsize::new(held)),
            open,
        };
        (fake, gate)
    }

    fn applied(&self) -> Applied {
        self.applied.lock().unwrap().clone()
    }

    fn apply(
        &self,
        entries: impl Iterator<Item = (String, Option<i32>)>,
    ) -> Vec<Result<(), Error>> {
        let mut applied = self.applied.lock().unwrap();
        let before = applied.len();
        applied.extend(entries);
        let count = applied.len() - before;
        self.batch_sizes.lock().unwrap().push(count);
        vec![Ok(()); count]
    }
}

impl BatchApi for FakeSqs {
    async fn delete_batch(&self, receipts: &[&str]) -> Vec<Result<(), Error>> {
        self.apply(receipts.iter().map(|r| (r.to_string(), None)))
    }

    async fn change_visibility_batch(&self, changes: &[(&str, i32)]) -> Vec<Result<(), Error>> {
        let held = self
            .held_batches
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        if held.is_ok() {
            let mut open = self.open.clone();
            open.wait_for(|open| *open).await.unwrap();
        }
        self.apply(changes.iter().map(|(r, secs)| (r.to_string(), Some(*secs))))
    }
}

/// The batching loop over `fake`, with a 10 ms window.
fn start(fake: &FakeSqs) -> mpsc::UnboundedSender<Request> {
    let (requests, receiver) = mpsc::unbounded_channel();
    let window = Duration::from_millis(10);
    tokio::spawn(order::run(
        fake.clone(),
        receiver,
        window,
        CancellationToken::new(),
    ));
    requests
}

fn submit(
    requests: &mpsc::UnboundedSender<Request>,
    receipt: &str,
    action: Action,
) -> oneshot::Receiver<Result<(), Error>> {
    let (reply, result) = oneshot::channel();
    let receipt = receipt.to_owned();
    requests
        .send(Request {
            receipt,
            action,
            reply,
        })
        .unwrap();
    result
}

/// Lets the loop run its windows (time is paused: sleeping advances it).
async fn settle_down() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

fn entry(receipt: &str, visibility: Option<i32>) -> (String, Option<i32>) {
    (receipt.to_owned(), visibility)
}

#[tokio::test(start_paused = true)]
async fn release_after_a_heartbeat_in_flight_waits_for_it_and_lands_last() {
    let (fake, gate) = FakeSqs::holding(1);
    let requests = start(&fake);
    let beat = submit(&requests, "m", Action::Extend(30));
    settle_down().await;

    // The extension's batch is on its way; the release must not overtake it.
    let release = submit(&requests, "m", Action::Release(0));
    settle_down().await;
    assert_eq!(fake.applied(), vec![], "the release overtook the extension");

    gate.send(true).unwrap();
    assert!(beat.await.unwrap().is_ok());
    assert!(release.await.unwrap().is_ok());
    assert_eq!(
        fake.applied(),
        vec![entry("m", Some(30)), entry("m", Some(0))]
    );
}

#[tokio::test(start_paused = true)]
async fn ack_after_a_heartbeat_in_flight_lands_last() {
    let (fake, gate) = FakeSqs::holding(1);
    let requests = start(&fake);
    let beat = submit(&requests, "m", Action::Extend(30));
    settle_down().await;
    let ack = submit(&requests, "m", Action::Delete);
    settle_down().await;
    gate.send(true).unwrap();
    assert!(beat.await.unwrap().is_ok());
    assert!(ack.await.unwrap().is_ok());
    assert_eq!(fake.applied(), vec![entry("m", Some(30)), entry("m", None)]);
}

#[tokio::test(start_paused = true)]
async fn heartbeat_after_the_final_settlement_is_refused() {
    let (fake, gate) = FakeSqs::holding(1);
    let requests = start(&fake);
    let first = submit(&requests, "m", Action::Extend(30));
    settle_down().await;
    let release = submit(&requests, "m", Action::Release(5));
    // A stale beat, made after the release: it must never reach SQS.
    let stale = submit(&requests, "m", Action::Extend(30));
    let refused = stale.await.unwrap().unwrap_err();
    assert!(refused.is_message_gone(), "{refused:?}");

    gate.send(true).unwrap();
    assert!(first.await.unwrap().is_ok());
    assert!(release.await.unwrap().is_ok());
    assert_eq!(
        fake.applied(),
        vec![entry("m", Some(30)), entry("m", Some(5))]
    );
}

#[tokio::test(start_paused = true)]
async fn waiting_keep_alive_is_replaced_by_the_ack_of_the_same_message() {
    let (fake, _gate) = FakeSqs::holding(0);
    let requests = start(&fake);
    // Both arrive within one window: one message, two kinds of batch.
    let beat = submit(&requests, "m", Action::Extend(30));
    let ack = submit(&requests, "m", Action::Delete);
    let other = submit(&requests, "n", Action::Extend(30));
    settle_down().await;
    assert!(beat.await.unwrap().is_ok());
    assert!(ack.await.unwrap().is_ok());
    assert!(other.await.unwrap().is_ok());
    let mut applied = fake.applied();
    applied.sort();
    assert_eq!(applied, vec![entry("m", None), entry("n", Some(30))]);
}

#[tokio::test(start_paused = true)]
async fn requests_held_behind_many_batches_still_leave_in_batches_of_ten() {
    let (fake, gate) = FakeSqs::holding(2);
    let requests = start(&fake);
    let receipts: Vec<String> = (0..15).map(|i| format!("m{i:02}")).collect();
    let beats: Vec<_> = receipts
        .iter()
        .map(|r| submit(&requests, r, Action::Extend(30)))
        .collect();
    settle_down().await;
    let releases: Vec<_> = receipts
        .iter()
        .map(|r| submit(&requests, r, Action::Release(0)))
        .collect();
    settle_down().await;
    gate.send(true).unwrap();
    for reply in beats.into_iter().chain(releases) {
        assert!(reply.await.unwrap().is_ok());
    }

    let sizes = fake.batch_sizes.lock().unwrap().clone();
    assert!(sizes.iter().all(|&n| n <= 10), "{sizes:?}");
    let applied = fake.applied();
    for receipt in &receipts {
        let mine: Vec<Option<i32>> = applied
            .iter()
            .filter(|(r, _)| r == receipt)
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(mine, vec![Some(30), Some(0)], "{receipt}");
    }
}
