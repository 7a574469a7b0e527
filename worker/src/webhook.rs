//! Outgoing webhooks: one POST with a deadline, to a URL that passed [`pve_edge::webhook`]'s policy.
//!
//! Destinations are https only, never a private, loopback or link-local address, and redirects are
//! not followed (a 3xx is a non-retryable answer), so a webhook cannot be used to reach the inside of a
//! network. Plain-http loopback destinations are allowed only when `ALLOW_LOOPBACK_WEBHOOKS = "true"`
//! (local development and tests). Workers cannot resolve DNS themselves, so a public name that resolves
//! to a private address is left to the platform, which refuses such fetches in production.
use std::time::Duration;

use pve_edge::webhook::WebhookPolicy;
use worker::{Headers, Method, Request, RequestInit, RequestRedirect, Url};

const USER_AGENT: &str = "pve-outbox/1";

/// How one POST ended.
#[derive(Debug)]
pub enum PostOutcome {
    /// A 2xx answer.
    Delivered,
    /// Worth trying again later: 5xx, 408, 425, 429, a timeout or a network error.
    Retryable {
        error: String,
        retry_after_ms: Option<u64>,
    },
    /// The destination refused it for good (other 4xx, or a redirect we do not follow).
    Rejected { status: u16 },
}

/// POSTs `body` as JSON with `Idempotency-Key: idempotency_key`, giving up after `timeout`.
/// The URL must have passed [`WebhookPolicy::check`].
pub async fn post_json(url: &Url, body: &str, idempotency_key: &str, timeout: Duration) -> PostOutcome {
    let request = match build_request(url, body, idempotency_key) {
        Ok(r) => r,
        Err(e) => {
            return PostOutcome::Retryable {
                error: format!("building the request: {e}"),
                retry_after_ms: None,
            }
        }
    };
    match crate::fetch::send(request, timeout).await {
        Ok(resp) => classify(resp.status_code(), resp.headers()),
        Err(e) => PostOutcome::Retryable {
            error: e.to_string(),
            retry_after_ms: None,
        },
    }
}

fn build_request(url: &Url, body: &str, idempotency_key: &str) -> worker::Result<Request> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("idempotency-key", idempotency_key)?;
    headers.set("user-agent", USER_AGENT)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(body.into()));
    Request::new_with_init(url.as_str(), &init)
}

fn classify(status: u16, headers: &Headers) -> PostOutcome {
    match status {
        200..=299 => PostOutcome::Delivered,
        408 | 425 | 429 | 500..=599 => PostOutcome::Retryable {
            error: format!("HTTP {status}"),
            retry_after_ms: headers
                .get("retry-after")
                .ok()
                .flatten()
                // Seconds or an HTTP-date (RFC 9110); the relay's settle decision applies the cap.
                .and_then(|v| pve_edge::http::retry_after_ms(&v, crate::context::now_ms(), u64::MAX)),
        },
        _ => PostOutcome::Rejected { status },
    }
}

/// The policy from `ALLOW_LOOPBACK_WEBHOOKS` ([`WebhookPolicy::parse`]).
pub fn policy_from_env(env: &worker::Env) -> Result<WebhookPolicy, crate::vars::ConfigError> {
    WebhookPolicy::parse(&crate::vars::source(env))
}
