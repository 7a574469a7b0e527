//! Outgoing fetch with a deadline: the request is aborted when the deadline passes; and the one way to wait
//! for anything with a deadline ([`within`]).
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{AbortController, Delay, Fetch, Request, Response};

#[derive(Debug)]
pub enum SendError {
    Timeout(Duration),
    Network(worker::Error),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Timeout(d) => write!(f, "timeout after {} ms", d.as_millis()),
            SendError::Network(e) => write!(f, "network: {e}"),
        }
    }
}

/// Sends `request`; gives up (and aborts it) after `timeout`.
pub async fn send(request: Request, timeout: Duration) -> Result<Response, SendError> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    match within(timeout.as_millis() as u64, fetch.send_with_signal(&signal)).await {
        Some(Ok(resp)) => Ok(resp),
        Some(Err(e)) => Err(SendError::Network(e)),
        None => {
            controller.abort();
            Err(SendError::Timeout(timeout))
        }
    }
}

/// `future`'s output, or `None` once `ms` milliseconds have passed first (the future is dropped; what it
/// started elsewhere, a shared load or a Durable Object call, goes on).
pub async fn within<T>(ms: u64, future: impl Future<Output = T>) -> Option<T> {
    match select(pin!(future), pin!(Delay::from(Duration::from_millis(ms)))).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(((), _)) => None,
    }
}
