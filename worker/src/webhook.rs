//! Outgoing webhooks: one POST with a deadline, to a URL that passed [`pve_edge::webhook`]'s policy;
//! how it ended is [`Attempt::answered`].
//!
//! Destinations are https only, never a private, loopback or link-local address, and redirects are
//! not followed (a 3xx is a non-retryable answer), so a webhook cannot be used to reach the inside of a
//! network. Plain-http loopback destinations are allowed only when `ALLOW_LOOPBACK_WEBHOOKS = "true"`
//! (local development and tests). Workers cannot resolve DNS themselves, so a public name that resolves
//! to a private address is left to the platform, which refuses such fetches in production.
use std::time::Duration;

use pve_edge::outbox::Attempt;
use pve_edge::webhook::WebhookPolicy;
use worker::{Headers, Method, Request, RequestInit, RequestRedirect, Url};

const USER_AGENT: &str = "pve-outbox/1";

/// POSTs `body` as JSON with `Idempotency-Key: idempotency_key`, giving up after `timeout`.
/// The URL must have passed [`WebhookPolicy::check`].
pub async fn post_json(url: &Url, body: &str, idempotency_key: &str, timeout: Duration) -> Attempt {
    let request = match build_request(url, body, idempotency_key) {
        Ok(r) => r,
        Err(e) => return Attempt::unanswered(format!("building the request: {e}")),
    };
    match crate::fetch::send(request, timeout).await {
        Ok(resp) => {
            let retry_after = resp.headers().get("retry-after").ok().flatten();
            Attempt::answered(
                resp.status_code(),
                retry_after.as_deref(),
                crate::context::now_ms(),
            )
        }
        Err(e) => Attempt::unanswered(e.to_string()),
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

/// The policy from `ALLOW_LOOPBACK_WEBHOOKS` ([`WebhookPolicy::parse`]).
pub fn policy_from_env(env: &worker::Env) -> Result<WebhookPolicy, crate::vars::ConfigError> {
    WebhookPolicy::parse(&crate::vars::source(env))
}
