//! Outgoing fetch with a deadline: the request is aborted when the deadline passes.
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
    let sending = pin!(fetch.send_with_signal(&signal));
    let timer = pin!(Delay::from(timeout));
    match select(sending, timer).await {
        Either::Left((Ok(resp), _)) => Ok(resp),
        Either::Left((Err(e), _)) => Err(SendError::Network(e)),
        Either::Right(((), _)) => {
            controller.abort();
            Err(SendError::Timeout(timeout))
        }
    }
}
