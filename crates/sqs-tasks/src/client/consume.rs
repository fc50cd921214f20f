//! [`Consume`]: the stream of a queue's messages.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_util::Stream;

use super::QueueClient;
use crate::backoff::Backoff;
use crate::{Error, Message};

type Pending = Pin<Box<dyn Future<Output = Result<Vec<Message>, Error>> + Send>>;

/// The stream returned by [`QueueClient::consume`].
///
/// It receives one message per request by default, so that a message's visibility clock does
/// not run while it waits behind others in this stream; [`Consume::batch_size`] trades that for
/// fewer requests. After a receive error the error is yielded and the next receive waits a
/// bounded, jittered backoff. A missing queue or denied access is yielded and ends the stream.
#[must_use = "streams do nothing unless polled"]
pub struct Consume {
    client: QueueClient,
    keep_alive: Duration,
    batch_size: usize,
    buffered: VecDeque<Message>,
    pending: Option<Pending>,
    backoff: Backoff,
    next_delay: Option<Duration>,
    finished: bool,
}

impl std::fmt::Debug for Consume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consume")
            .field("queue", &self.client.queue_url())
            .field("keep_alive", &self.keep_alive)
            .field("batch_size", &self.batch_size)
            .field("buffered", &self.buffered.len())
            .finish_non_exhaustive()
    }
}

impl QueueClient {
    /// A never-ending stream of messages, received with long polling; each is hidden from other
    /// consumers for `keep_alive` after its receive (whole seconds, rounded up) unless settled
    /// earlier or kept alive with [`QueueClient::keep_alive`].
    ///
    /// Dropping the stream between items loses nothing; dropping it while a receive is in
    /// flight may leave the messages of that receive invisible until `keep_alive` runs out.
    pub fn consume(&self, keep_alive: Duration) -> Consume {
        Consume {
            client: self.clone(),
            keep_alive,
            batch_size: 1,
            buffered: VecDeque::new(),
            pending: None,
            backoff: Backoff::new(Duration::from_millis(200), Duration::from_secs(30)),
            next_delay: None,
            finished: false,
        }
    }
}

impl Consume {
    /// Receives up to `size` (1 to 10) messages per request: fewer requests, but the later
    /// messages of a batch wait in the stream while their visibility clock runs.
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.clamp(1, crate::limits::MAX_BATCH_ENTRIES);
        self
    }

    fn start_receive(&mut self) -> Pending {
        let client = self.client.clone();
        let (max, visibility) = (self.batch_size, self.keep_alive);
        let delay = self.next_delay.take();
        Box::pin(async move {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            client.receive(max, Some(visibility)).await
        })
    }
}

impl Stream for Consume {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(message) = this.buffered.pop_front() {
                return Poll::Ready(Some(Ok(message)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            if this.pending.is_none() {
                this.pending = Some(this.start_receive());
            }
            let pending = this.pending.as_mut().expect("set above");
            let result = ready!(pending.as_mut().poll(cx));
            this.pending = None;
            match result {
                Ok(messages) => {
                    this.backoff.reset();
                    this.buffered.extend(messages);
                }
                Err(err) => {
                    this.finished = err.is_fatal();
                    this.next_delay = Some(this.backoff.next_delay());
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }
}
