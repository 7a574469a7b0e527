//! Outgoing webhooks: which URLs we accept as destinations, and one POST with a deadline.
//!
//! Destinations are https only, never a private, loopback or link-local address, and redirects are
//! not followed (a 3xx is a non-retryable answer), so a webhook cannot be used to reach the inside of a
//! network. Plain-http loopback destinations are allowed only when `ALLOW_LOOPBACK_WEBHOOKS = "true"`
//! (local development and tests). Workers cannot resolve DNS themselves, so a public name that resolves
//! to a private address is left to the platform, which refuses such fetches in production.
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use worker::{Headers, Method, Request, RequestInit, RequestRedirect, Url};

pub const MAX_URL_LEN: usize = 2048;
const USER_AGENT: &str = "pve-outbox/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// `http://127.0.0.1…` / `http://localhost…` allowed (dev and tests only).
    pub allow_loopback: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookUrlError {
    TooLong,
    Unparsable,
    NotHttps,
    HasCredentials,
    NoHost,
    Loopback,
    PrivateAddress,
    LinkLocal,
    ReservedAddress,
    InternalName,
}

impl fmt::Display for WebhookUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl WebhookUrlError {
    /// Which rule rejected the URL, for the client.
    pub fn message(&self) -> &'static str {
        match self {
            WebhookUrlError::TooLong => "the webhook URL is longer than 2048 characters",
            WebhookUrlError::Unparsable => "the webhook URL is not a valid absolute URL",
            WebhookUrlError::NotHttps => "the webhook URL must use https",
            WebhookUrlError::HasCredentials => "the webhook URL must not contain a user name or password",
            WebhookUrlError::NoHost => "the webhook URL has no host",
            WebhookUrlError::Loopback => "loopback webhook destinations are not allowed",
            WebhookUrlError::PrivateAddress => "private-network webhook destinations are not allowed",
            WebhookUrlError::LinkLocal => "link-local webhook destinations are not allowed",
            WebhookUrlError::ReservedAddress => {
                "reserved, multicast or unspecified addresses are not allowed"
            }
            WebhookUrlError::InternalName => {
                "internal host names (localhost, .local, .internal, single labels) are not allowed"
            }
        }
    }
}

impl std::error::Error for WebhookUrlError {}

impl WebhookPolicy {
    /// Parses and checks a destination. The returned URL is the normalized one we store and call.
    pub fn check(&self, raw: &str) -> Result<Url, WebhookUrlError> {
        if raw.len() > MAX_URL_LEN {
            return Err(WebhookUrlError::TooLong);
        }
        let url = Url::parse(raw.trim()).map_err(|_| WebhookUrlError::Unparsable)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::HasCredentials);
        }
        let loopback = match url.host() {
            None => return Err(WebhookUrlError::NoHost),
            Some(worker::url::Host::Ipv4(ip)) => classify_ip(IpAddr::V4(ip))?,
            Some(worker::url::Host::Ipv6(ip)) => classify_ip(IpAddr::V6(ip))?,
            Some(worker::url::Host::Domain(name)) => classify_name(name)?,
        };
        match (url.scheme(), loopback) {
            (_, true) if !self.allow_loopback => Err(WebhookUrlError::Loopback),
            ("https", _) | ("http", true) => Ok(url),
            _ => Err(WebhookUrlError::NotHttps),
        }
    }
}

/// `Ok(true)` for loopback (allowed only by the dev/test setting), `Ok(false)` for a public address.
fn classify_ip(ip: IpAddr) -> Result<bool, WebhookUrlError> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let seg0 = v6.segments()[0];
            if v6.is_loopback() {
                Ok(true)
            } else if v6.is_unspecified() || v6.is_multicast() {
                Err(WebhookUrlError::ReservedAddress)
            } else if seg0 & 0xffc0 == 0xfe80 {
                Err(WebhookUrlError::LinkLocal)
            } else if seg0 & 0xfe00 == 0xfc00 || seg0 & 0xffc0 == 0xfec0 {
                Err(WebhookUrlError::PrivateAddress)
            } else if is_v4_compatible(v6) {
                Err(WebhookUrlError::ReservedAddress)
            } else {
                Ok(false)
            }
        }
    }
}

fn is_v4_compatible(v6: Ipv6Addr) -> bool {
    // ::a.b.c.d (deprecated) and 64:ff9b::/96 (NAT64) embed an IPv4 address we cannot vet here.
    let s = v6.segments();
    (s[..6] == [0, 0, 0, 0, 0, 0]) || (s[0] == 0x64 && s[1] == 0xff9b)
}

fn classify_v4(ip: Ipv4Addr) -> Result<bool, WebhookUrlError> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Ok(true)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 10/8, 172.16/12, 192.168/16 and carrier-grade NAT 100.64/10.
        Err(WebhookUrlError::PrivateAddress)
    } else if ip.is_link_local() {
        Err(WebhookUrlError::LinkLocal)
    } else if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || a == 0 || a >= 240 {
        Err(WebhookUrlError::ReservedAddress)
    } else {
        Ok(false)
    }
}

fn classify_name(name: &str) -> Result<bool, WebhookUrlError> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Ok(true);
    }
    let internal_suffixes = [".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp"];
    if !name.contains('.') || internal_suffixes.iter().any(|s| name.ends_with(s)) {
        return Err(WebhookUrlError::InternalName);
    }
    Ok(false)
}

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
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000)),
        },
        _ => PostOutcome::Rejected { status },
    }
}

impl WebhookPolicy {
    /// `ALLOW_LOOPBACK_WEBHOOKS` (default false).
    pub fn from_env(env: &worker::Env) -> Result<WebhookPolicy, crate::vars::ConfigError> {
        Ok(WebhookPolicy {
            allow_loopback: crate::vars::flag(env, "ALLOW_LOOPBACK_WEBHOOKS", false)?,
        })
    }
}
