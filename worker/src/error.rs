//! One error type for the edge, mapped to an HTTP status in exactly one place ([`EdgeError::status`]).
//! Bodies are always `{"error":{"code":"…","message":"…"}}`; internal details go to the log line only.
use pve_api::ApiError;
use std::fmt;
use worker::{Headers, Response};

#[derive(Debug)]
#[non_exhaustive]
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
    /// The body must be JSON and was declared as something else.
    /// A platform call (KV, D1, Durable Object, fetch) failed. The detail is logged, never sent.
    Platform(worker::Error),
    /// A `[vars]` value does not parse. The detail is logged, never sent.
    Config(String),
    /// `POST /v1/watches` without an `Idempotency-Key` header.
    IdempotencyKeyMissing,
    /// An `Idempotency-Key` that is empty, too long or not visible ASCII.
    IdempotencyKeyInvalid,
    /// The same `Idempotency-Key` was used before with a different body.
    IdempotencyKeyReused,
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
    DeadLetterAlreadyReplayed,
    /// A dead letter's stored hash does not match its content: it cannot be replayed.
    ContentHashMismatch,
    InvalidCursor,
    /// A query parameter is unknown or has a bad value.
    InvalidQuery(String),
    /// The upstream does not know this character (remembered for a short time).
    CharacterNotFound,
    /// The upstream failed, timed out, or its circuit breaker is open, and nothing stale could answer.
    UpstreamUnavailable {
        retry_after_ms: u64,
    },
    /// Our global upstream rate limit is exhausted, or the upstream asked us to slow down (429), and nothing
    /// stale could answer.
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
            EdgeError::Platform(_) | EdgeError::Config(_) => 500,
            EdgeError::WatchTokenRequired => 401,
            EdgeError::InvalidWatchToken => 403,
            EdgeError::WatchNotFound | EdgeError::DeadLetterNotFound => 404,
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
            EdgeError::Platform(_) | EdgeError::Config(_) => "internal",
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
    fn public_message(&self) -> String {
        match self {
            EdgeError::Api(e) if e.code.is_client_error() => e.message.clone(),
            EdgeError::Api(_) | EdgeError::Platform(_) | EdgeError::Config(_) => {
                "internal error; see the request id in the logs".into()
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
            EdgeError::DeadLetterAlreadyReplayed => "this dead letter was already replayed".into(),
            EdgeError::ContentHashMismatch => {
                "the stored content hash does not match the event; it cannot be replayed".into()
            }
            EdgeError::InvalidCursor => "the cursor is not one this API returned".into(),
            EdgeError::InvalidQuery(detail) => format!("invalid query: {detail}"),
        }
    }

    pub fn into_response(self, request_id: &str) -> worker::Result<Response> {
        let body = serde_json::json!({
            "error": {"code": self.code(), "message": self.public_message(), "request_id": request_id}
        });
        let headers = Headers::new();
        headers.set("content-type", "application/json; charset=utf-8")?;
        headers.set("cache-control", "no-store")?;
        if let EdgeError::MethodNotAllowed { allow } = &self {
            headers.set("allow", allow)?;
        }
        if matches!(self, EdgeError::Unauthorized | EdgeError::WatchTokenRequired) {
            headers.set("www-authenticate", "Bearer")?;
        }
        if let Some(ms) = self.retry_after_ms() {
            headers.set("retry-after", &retry_after_secs(ms).to_string())?;
        }
        Ok(Response::ok(body.to_string())?
            .with_status(self.status())
            .with_headers(headers))
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
            EdgeError::Platform(e) => write!(f, "platform: {e}"),
            EdgeError::Config(detail) => write!(f, "config: {detail}"),
            other => write!(f, "{}", other.public_message()),
        }
    }
}

impl std::error::Error for EdgeError {}

impl EdgeError {
    /// An internal invariant failed (a bug); the detail is logged, the client sees `internal`.
    pub fn internal(detail: &'static str) -> EdgeError {
        EdgeError::Platform(worker::Error::RustError(detail.into()))
    }

    pub fn internal_owned(detail: String) -> EdgeError {
        EdgeError::Platform(worker::Error::RustError(detail))
    }

    pub fn from_random(e: getrandom::Error) -> EdgeError {
        EdgeError::Platform(worker::Error::RustError(format!(
            "the platform CSPRNG failed: {e}"
        )))
    }
}

impl From<crate::vars::ConfigError> for EdgeError {
    fn from(e: crate::vars::ConfigError) -> Self {
        EdgeError::Config(e.to_string())
    }
}

impl From<ApiError> for EdgeError {
    fn from(e: ApiError) -> Self {
        EdgeError::Api(e)
    }
}

impl From<worker::Error> for EdgeError {
    fn from(e: worker::Error) -> Self {
        EdgeError::Platform(e)
    }
}

impl From<worker::KvError> for EdgeError {
    fn from(e: worker::KvError) -> Self {
        EdgeError::Platform(e.into())
    }
}
