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
    MethodNotAllowed { allow: &'static str },
    /// An operator route without a valid bearer token.
    Unauthorized,
    /// The request body is larger than we accept.
    PayloadTooLarge { limit: usize },
    /// The body must be JSON and was declared as something else.
    /// A platform call (KV, D1, Durable Object, fetch) failed. The detail is logged, never sent.
    Platform(worker::Error),
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
            EdgeError::Platform(_) => 500,
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
            EdgeError::Platform(_) => "internal",
        }
    }

    /// The message a client sees. Never contains internals.
    fn public_message(&self) -> String {
        match self {
            EdgeError::Api(e) if e.code.is_client_error() => e.message.clone(),
            EdgeError::Api(_) | EdgeError::Platform(_) => {
                "internal error; see the request id in the logs".into()
            }
            EdgeError::RouteNotFound => "no such route".into(),
            EdgeError::MethodNotAllowed { allow } => format!("method not allowed; allowed: {allow}"),
            EdgeError::Unauthorized => "a valid bearer token is required".into(),
            EdgeError::PayloadTooLarge { limit } => format!("request body larger than {limit} bytes"),
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
        if let EdgeError::Unauthorized = &self {
            headers.set("www-authenticate", "Bearer")?;
        }
        Ok(Response::ok(body.to_string())?
            .with_status(self.status())
            .with_headers(headers))
    }
}

impl fmt::Display for EdgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EdgeError::Api(e) => write!(f, "{e}"),
            EdgeError::Platform(e) => write!(f, "platform: {e}"),
            other => write!(f, "{}", other.public_message()),
        }
    }
}

impl std::error::Error for EdgeError {}

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
