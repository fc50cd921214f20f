//! SIGINT and SIGTERM: the first asks for a graceful stop, the second ends the process at once.

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::error::CliError;

/// Starts listening for SIGINT and SIGTERM. The returned token is cancelled at the first
/// signal; at the second, `on_force` runs (to kill what must not outlive the process) and the
/// process exits with 128 + the signal's number.
pub(crate) fn install(on_force: impl Fn() + Send + 'static) -> Result<CancellationToken, CliError> {
    let listen = |kind: SignalKind| {
        signal(kind).map_err(|err| CliError::failed(format!("cannot listen for signals: {err}")))
    };
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let token = CancellationToken::new();
    let stop = token.clone();

    tokio::spawn(async move {
        let mut count = 0;
        loop {
            let (name, number) = tokio::select! {
                _ = interrupt.recv() => ("SIGINT", 2),
                _ = terminate.recv() => ("SIGTERM", 15),
            };
            count += 1;
            if count == 1 {
                tracing::warn!(
                    "{name} received: stopping gracefully (running tasks finish, and a long \
                     poll in flight returns, up to the shutdown deadline); send it again to \
                     stop at once"
                );
                stop.cancel();
            } else {
                tracing::warn!("{name} received again: stopping at once");
                on_force();
                std::process::exit(128 + number);
            }
        }
    });
    Ok(token)
}
