//! One of two lifecycles, chosen at run time (from configuration, say).

use std::future::Future;
use std::time::Duration;

use super::{Lifecycle, Outcome};
use crate::{Error, Message, Settle, TaskFailure};

/// Runs whichever of two lifecycles it holds, so a program can pick one from its
/// configuration and still hand the worker a single type. Nest it for more than two.
///
/// ```
/// use std::time::Duration;
/// use sqs_tasks::lifecycle::{Either, ExponentialRetry, FixedRetry};
///
/// let exponential = std::env::var("RETRY").as_deref() == Ok("exponential");
/// let delay = Duration::from_secs(5);
/// let retry = if exponential {
///     Either::Right(ExponentialRetry::new(delay))
/// } else {
///     Either::Left(FixedRetry::new(delay))
/// };
/// # let _ = retry;
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Either<L, R> {
    /// The first lifecycle.
    Left(L),
    /// The second lifecycle.
    Right(R),
}

impl<L: Lifecycle, R: Lifecycle> Lifecycle for Either<L, R> {
    async fn run<S, F, T, E>(
        &self,
        settler: &S,
        message: &Message,
        handler: F,
    ) -> Result<Outcome, Error>
    where
        S: Settle,
        F: Future<Output = Result<T, E>> + Send,
        T: Send,
        E: TaskFailure,
    {
        match self {
            Either::Left(left) => left.run(settler, message, handler).await,
            Either::Right(right) => right.run(settler, message, handler).await,
        }
    }

    fn visibility_timeout(&self) -> Option<Duration> {
        match self {
            Either::Left(left) => left.visibility_timeout(),
            Either::Right(right) => right.visibility_timeout(),
        }
    }

    fn extends_visibility(&self) -> bool {
        match self {
            Either::Left(left) => left.extends_visibility(),
            Either::Right(right) => right.extends_visibility(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{Heartbeat, Plain};

    #[test]
    fn each_side_answers_for_itself() {
        let heartbeat = Heartbeat::builder(Plain)
            .visibility(Duration::from_secs(30))
            .build()
            .unwrap();
        let left: Either<Heartbeat<Plain>, Plain> = Either::Left(heartbeat);
        assert!(left.extends_visibility());
        assert_eq!(left.visibility_timeout(), Some(Duration::from_secs(30)));
        let right: Either<Heartbeat<Plain>, Plain> = Either::Right(Plain);
        assert!(!right.extends_visibility());
        assert_eq!(right.visibility_timeout(), None);
    }
}
