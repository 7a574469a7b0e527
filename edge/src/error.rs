//! The edge's one error type and its one table: status, stable code and public message per kind.
//! Bodies are always `{"error":{"code":"…","message":"…","request_id":"…"}}` (see [`EdgeError::body`]);
//! details of platform failures, configuration errors and bugs go to the log line only.
use pve_api::ApiError;
use std::fmt;

/// Every code [`EdgeError::code`] can return besides the engine's own ([`pve_api::ErrorCode`]).
pub const CODES: &[&str] = &[
    "route_not_found",
    "method_not_allowed",
    "unauthorized",
    "payload_too_large",
    "internal",
    "idempotency_key_required",
    "invalid_idempotency_key",
    "idempotency_key_reused",
    "invalid_webhook_url",
    "invalid_character_name",
    "invalid_valuation_summary",
    "watch_token_required",
    "invalid_watch_token",
    "watch_not_found",
    "dead_letter_not_found",
    "alert_not_found",
    "dead_letter_already_replayed",
    "content_hash_mismatch",
    "invalid_cursor",
    "invalid_query",
    "character_not_found",
    "upstream_unavailable",
    "upstream_rate_limited",
    "rate_limited",
    "refresh_rate_limited",
];

/// The public message of every failure the client cannot fix; the detail is in the log line.
pub const INTERNAL_MESSAGE: &str = "internal error; see the request id in the logs";

/// Exhaustive on purpose (no `#[non_exhaustive]`): every match on it — the table below, the sweep's
/// classification of lookup failures in the Worker — must decide for a new kind instead of defaulting.
#[derive(Debug)]
pub enum EdgeError {
    /// The engine rejected the request (bad JSON, wrong types, out-of-range values, ...).
    Api(ApiError),
    /// No route matches the path.
    RouteNotFound,
    /// The path exists but not for this method.
    MethodNotAllowed {
        allow: &'static str,
    },
    /// An operator route without a valid bearer token.
    Unauthorized,
    /// The request body is larger than we accept.
    PayloadTooLarge {
        limit: usize,
    },
    /// A platform call (KV, D1, Durable Object, fetch, CSPRNG) failed. The detail is logged, never sent.
    Platform(String),
    /// An invariant of our own code failed: a bug. The detail is logged, never sent.
    Internal(String),
    /// A `[vars]` value is unusable. The detail is logged, never sent.
    Config(crate::config::ConfigError),
    /// `POST /v1/watches` without an `Idempotency-Key` header.
    IdempotencyKeyMissing,
    /// An `Idempotency-Key` that is empty, too long or not visible ASCII.
    IdempotencyKeyInvalid,
    /// The same `Idempotency-Key` was used before with a different body.
    IdempotencyKeyReused,
    /// The webhook URL policy rejected a URL; the message says which rule.
    InvalidWebhookUrl(crate::webhook::WebhookUrlError),
    /// A character name that cannot exist (checked before anything is stored or looked up).
    InvalidCharacterName {
        reason: &'static str,
    },
    InvalidValuationSummary(&'static str),
    /// No watch token was given for a watch route.
    WatchTokenRequired,
    /// The watch token does not match.
    InvalidWatchToken,
    WatchNotFound,
    DeadLetterNotFound,
    /// No alert has been raised under this key (`POST /v1/admin/alerts/{alert_key}/resolve`).
    AlertNotFound,
    DeadLetterAlreadyReplayed,
    /// A dead letter's stored hash does not match its content: it cannot be replayed.
    ContentHashMismatch,
    InvalidCursor,
    /// A query parameter is unknown, repeated or has a bad value.
    InvalidQuery(String),
    /// The upstream does not know this character (remembered for a short time).
    CharacterNotFound,
    /// The upstream failed, timed out, or its circuit breaker is open, and nothing stale could answer.
    UpstreamUnavailable {
        retry_after_ms: u64,
    },
    /// Our global upstream rate limit is exhausted, or the upstream asked us to slow down (429), and
    /// nothing stale could answer.
    UpstreamRateLimited {
        retry_after_ms: u64,
    },
    /// This client sent too many requests.
    RateLimited {
        retry_after_ms: u64,
    },
    /// This client asked for too many `refresh=true` lookups.
    RefreshRateLimited {
        retry_after_ms: u64,
    },
}

impl EdgeError {
    pub fn status(&self) -> u16 {
        match self {
            EdgeError::Api(e) if e.code.is_client_error() => 400,
            EdgeError::Api(_) => 500,
            EdgeError::RouteNotFound => 404,
            EdgeError::MethodNotAllowed { .. } => 405,
            EdgeError::Unauthorized => 401,
            EdgeError::PayloadTooLarge { .. } => 413,
            EdgeError::Platform(_) | EdgeError::Internal(_) | EdgeError::Config(_) => 500,
            EdgeError::WatchTokenRequired => 401,
            EdgeError::InvalidWatchToken => 403,
            EdgeError::WatchNotFound | EdgeError::DeadLetterNotFound | EdgeError::AlertNotFound => 404,
            EdgeError::IdempotencyKeyReused
            | EdgeError::DeadLetterAlreadyReplayed
            | EdgeError::ContentHashMismatch => 409,
            EdgeError::IdempotencyKeyMissing
            | EdgeError::IdempotencyKeyInvalid
            | EdgeError::InvalidWebhookUrl(_)
            | EdgeError::InvalidCharacterName { .. }
            | EdgeError::InvalidValuationSummary(_)
            | EdgeError::InvalidCursor
            | EdgeError::InvalidQuery(_) => 400,
            EdgeError::CharacterNotFound => 404,
            EdgeError::RateLimited { .. } | EdgeError::RefreshRateLimited { .. } => 429,
            EdgeError::UpstreamUnavailable { .. } | EdgeError::UpstreamRateLimited { .. } => 503,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            EdgeError::Api(e) => e.code.as_str(),
            EdgeError::RouteNotFound => "route_not_found",
            EdgeError::MethodNotAllowed { .. } => "method_not_allowed",
            EdgeError::Unauthorized => "unauthorized",
            EdgeError::PayloadTooLarge { .. } => "payload_too_large",
            EdgeError::Platform(_) | EdgeError::Internal(_) | EdgeError::Config(_) => "internal",
            EdgeError::IdempotencyKeyMissing => "idempotency_key_required",
            EdgeError::IdempotencyKeyInvalid => "invalid_idempotency_key",
            EdgeError::IdempotencyKeyReused => "idempotency_key_reused",
            EdgeError::InvalidWebhookUrl(_) => "invalid_webhook_url",
            EdgeError::InvalidCharacterName { .. } => "invalid_character_name",
            EdgeError::InvalidValuationSummary(_) => "invalid_valuation_summary",
            EdgeError::WatchTokenRequired => "watch_token_required",
            EdgeError::InvalidWatchToken => "invalid_watch_token",
            EdgeError::WatchNotFound => "watch_not_found",
            EdgeError::DeadLetterNotFound => "dead_letter_not_found",
            EdgeError::AlertNotFound => "alert_not_found",
            EdgeError::DeadLetterAlreadyReplayed => "dead_letter_already_replayed",
            EdgeError::ContentHashMismatch => "content_hash_mismatch",
            EdgeError::InvalidCursor => "invalid_cursor",
            EdgeError::InvalidQuery(_) => "invalid_query",
            EdgeError::CharacterNotFound => "character_not_found",
            EdgeError::UpstreamUnavailable { .. } => "upstream_unavailable",
            EdgeError::UpstreamRateLimited { .. } => "upstream_rate_limited",
            EdgeError::RateLimited { .. } => "rate_limited",
            EdgeError::RefreshRateLimited { .. } => "refresh_rate_limited",
        }
    }

    /// How long the client should wait before retrying, for the `Retry-After` header.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            EdgeError::UpstreamUnavailable { retry_after_ms }
            | EdgeError::UpstreamRateLimited { retry_after_ms }
            | EdgeError::RateLimited { retry_after_ms }
            | EdgeError::RefreshRateLimited { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }

    /// The message a client sees. Never contains internals.
    pub fn public_message(&self) -> String {
        match self {
            EdgeError::Api(e) if e.code.is_client_error() => e.message.clone(),
            EdgeError::Api(_) | EdgeError::Platform(_) | EdgeError::Internal(_) | EdgeError::Config(_) => {
                INTERNAL_MESSAGE.into()
            }
            EdgeError::CharacterNotFound => "no character with this name".into(),
            EdgeError::UpstreamUnavailable { .. } => {
                "the Nexon Open API is unavailable and no cached copy can answer; retry later".into()
            }
            EdgeError::UpstreamRateLimited { .. } => {
                "the Nexon Open API rate limit is reached and no cached copy can answer; retry later".into()
            }
            EdgeError::RateLimited { .. } => "too many requests from this client; retry later".into(),
            EdgeError::RefreshRateLimited { .. } => "too many refresh=true requests from this client".into(),
            EdgeError::RouteNotFound => "no such route".into(),
            EdgeError::MethodNotAllowed { allow } => format!("method not allowed; allowed: {allow}"),
            EdgeError::Unauthorized => "a valid bearer token is required".into(),
            EdgeError::PayloadTooLarge { limit } => format!("request body larger than {limit} bytes"),
            EdgeError::IdempotencyKeyMissing => "the Idempotency-Key header is required".into(),
            EdgeError::IdempotencyKeyInvalid => {
                "the Idempotency-Key header must be 1 to 255 visible ASCII characters".into()
            }
            EdgeError::IdempotencyKeyReused => {
                "this Idempotency-Key was already used with a different request body".into()
            }
            EdgeError::InvalidWebhookUrl(e) => e.to_string(),
            EdgeError::InvalidCharacterName { reason } => format!("invalid character name: {reason}"),
            EdgeError::InvalidValuationSummary(why) => (*why).into(),
            EdgeError::WatchTokenRequired => {
                "the watch token returned at creation is required (Authorization: Bearer <token>)".into()
            }
            EdgeError::InvalidWatchToken => "the watch token does not match".into(),
            EdgeError::WatchNotFound => "no such watch".into(),
            EdgeError::DeadLetterNotFound => "no such dead letter".into(),
            EdgeError::AlertNotFound => "no alert has been raised under this key".into(),
            EdgeError::DeadLetterAlreadyReplayed => "this dead letter was already replayed".into(),
            EdgeError::ContentHashMismatch => {
                "the stored content hash does not match the event; it cannot be replayed".into()
            }
            EdgeError::InvalidCursor => "the cursor is not one this API returned".into(),
            EdgeError::InvalidQuery(detail) => format!("invalid query: {detail}"),
        }
    }

    /// The JSON body of the error answer.
    pub fn body(&self, request_id: &str) -> String {
        serde_json::json!({
            "error": {"code": self.code(), "message": self.public_message(), "request_id": request_id}
        })
        .to_string()
    }

    /// The headers the error answer carries besides `content-type` and `cache-control: no-store`.
    pub fn extra_headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let EdgeError::MethodNotAllowed { allow } = self {
            out.push(("allow", (*allow).to_owned()));
        }
        if matches!(self, EdgeError::Unauthorized | EdgeError::WatchTokenRequired) {
            out.push(("www-authenticate", "Bearer".to_owned()));
        }
        if let Some(ms) = self.retry_after_ms() {
            out.push(("retry-after", retry_after_secs(ms).to_string()));
        }
        out
    }

    /// An invariant of our own code failed (a bug); the detail is logged, the client sees `internal`.
    pub fn internal(detail: impl Into<String>) -> EdgeError {
        EdgeError::Internal(detail.into())
    }

    /// A platform call failed; the detail is logged, the client sees `internal`.
    pub fn platform(detail: impl fmt::Display) -> EdgeError {
        EdgeError::Platform(detail.to_string())
    }
}

/// `Retry-After` is in whole seconds: round up, and never 0 (0 invites an immediate retry storm).
pub fn retry_after_secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

impl fmt::Display for EdgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EdgeError::Api(e) => write!(f, "{e}"),
            EdgeError::Platform(detail) => write!(f, "platform: {detail}"),
            EdgeError::Internal(detail) => write!(f, "bug: {detail}"),
            EdgeError::Config(detail) => write!(f, "config: {detail}"),
            other => write!(f, "{}", other.public_message()),
        }
    }
}

impl std::error::Error for EdgeError {}

impl From<crate::config::ConfigError> for EdgeError {
    fn from(e: crate::config::ConfigError) -> Self {
        EdgeError::Config(e)
    }
}

impl From<ApiError> for EdgeError {
    fn from(e: ApiError) -> Self {
        EdgeError::Api(e)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One error of every kind (the payloads are samples); other modules' tests read codes and statuses
    /// from it, so a new variant is added here once.
    pub(crate) fn every_kind() -> Vec<EdgeError> {
        vec![
            EdgeError::RouteNotFound,
            EdgeError::MethodNotAllowed { allow: "GET" },
            EdgeError::Unauthorized,
            EdgeError::PayloadTooLarge { limit: 1 },
            EdgeError::Platform("kv down".into()),
            EdgeError::Internal("secret detail".into()),
            EdgeError::Config(crate::config::ConfigError::NotABoolean {
                var: "BAD_VAR",
                value: "x".into(),
            }),
            EdgeError::IdempotencyKeyMissing,
            EdgeError::IdempotencyKeyInvalid,
            EdgeError::IdempotencyKeyReused,
            EdgeError::InvalidWebhookUrl(crate::webhook::WebhookUrlError::NotHttps),
            EdgeError::InvalidCharacterName { reason: "empty" },
            EdgeError::InvalidValuationSummary("bad"),
            EdgeError::WatchTokenRequired,
            EdgeError::InvalidWatchToken,
            EdgeError::WatchNotFound,
            EdgeError::DeadLetterNotFound,
            EdgeError::AlertNotFound,
            EdgeError::DeadLetterAlreadyReplayed,
            EdgeError::ContentHashMismatch,
            EdgeError::InvalidCursor,
            EdgeError::InvalidQuery("x".into()),
            EdgeError::CharacterNotFound,
            EdgeError::UpstreamUnavailable { retry_after_ms: 1 },
            EdgeError::UpstreamRateLimited { retry_after_ms: 1 },
            EdgeError::RateLimited { retry_after_ms: 1 },
            EdgeError::RefreshRateLimited { retry_after_ms: 1 },
        ]
    }

    #[test]
    fn codes_lists_every_code_once() {
        let mut seen: Vec<&str> = every_kind().iter().map(EdgeError::code).collect();
        seen.sort();
        seen.dedup();
        let mut listed = CODES.to_vec();
        listed.sort();
        assert_eq!(seen, listed);
    }

    #[test]
    fn failures_the_client_cannot_fix_never_leak_details() {
        for e in [
            EdgeError::Platform("kv down at 10.0.0.1".into()),
            EdgeError::Internal("secret detail".into()),
            EdgeError::Config(crate::config::ConfigError::NotANumber {
                var: "BAD_VAR",
                value: "xyz".into(),
            }),
        ] {
            assert_eq!(e.status(), 500);
            assert_eq!(e.code(), "internal");
            assert_eq!(e.public_message(), INTERNAL_MESSAGE);
            let body = e.body("req_1");
            assert!(!body.contains("10.0.0.1") && !body.contains("secret") && !body.contains("xyz"));
        }
        // The log line tells a bug from a platform failure.
        assert!(EdgeError::internal("x").to_string().starts_with("bug: "));
        assert!(EdgeError::platform("x").to_string().starts_with("platform: "));
    }

    #[test]
    fn body_carries_code_message_and_request_id() {
        let v: serde_json::Value = serde_json::from_str(&EdgeError::WatchNotFound.body("req_9")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {"code": "watch_not_found", "message": "no such watch", "request_id": "req_9"}})
        );
    }

    #[test]
    fn statuses_and_headers() {
        for e in every_kind() {
            assert!((400..=599).contains(&e.status()), "{e:?}");
        }
        let h = EdgeError::RateLimited { retry_after_ms: 1500 }.extra_headers();
        assert_eq!(h, vec![("retry-after", "2".to_owned())]);
        let h = EdgeError::Unauthorized.extra_headers();
        assert_eq!(h, vec![("www-authenticate", "Bearer".to_owned())]);
        let h = EdgeError::MethodNotAllowed { allow: "GET, POST" }.extra_headers();
        assert_eq!(h, vec![("allow", "GET, POST".to_owned())]);
        assert_eq!(retry_after_secs(0), 1);
        assert_eq!(retry_after_secs(1000), 1);
        assert_eq!(retry_after_secs(1001), 2);
    }
}
