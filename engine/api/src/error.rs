use std::fmt;

/// Stable, machine-readable error codes. Clients match on these strings; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The body is not JSON at all (syntax error, truncated input).
    MalformedJson,
    /// A field has the wrong JSON type.
    InvalidType,
    /// A field is not part of the schema.
    UnknownField,
    /// A required field is missing.
    MissingField,
    /// A value is well-typed but outside the rules (a level above 300, a negative cost, ...).
    OutOfRange,
    /// A named choice (rule set, cube, part, ...) is not one we know.
    UnknownVariant,
    /// The request is valid but the combination is not allowed (e.g. `from_star > to_star`).
    InvalidCombination,
    /// The game data has no table for this request (a gap in the published data, or a level with no item).
    NoData,
    /// Game data handed to the engine could not be decoded (corrupt, truncated or an unsupported format).
    InvalidData,
    /// The operation needs game data that has not been installed yet (the browser build loads it separately;
    /// see `potential::install_potential_data`).
    DataNotLoaded,
    /// Serializing a response failed: a bug, never the client's fault.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order (the OpenAPI document's `ErrorCode` enum lists them).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::MalformedJson,
        ErrorCode::InvalidType,
        ErrorCode::UnknownField,
        ErrorCode::MissingField,
        ErrorCode::OutOfRange,
        ErrorCode::UnknownVariant,
        ErrorCode::InvalidCombination,
        ErrorCode::NoData,
        ErrorCode::InvalidData,
        ErrorCode::DataNotLoaded,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidType => "invalid_type",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::OutOfRange => "out_of_range",
            ErrorCode::UnknownVariant => "unknown_variant",
            ErrorCode::InvalidCombination => "invalid_combination",
            ErrorCode::NoData => "no_data",
            ErrorCode::InvalidData => "invalid_data",
            ErrorCode::DataNotLoaded => "data_not_loaded",
            ErrorCode::Internal => "internal",
        }
    }

    /// Whether the caller caused this error (a 4xx at the HTTP edge).
    pub fn is_client_error(self) -> bool {
        !matches!(self, ErrorCode::Internal | ErrorCode::DataNotLoaded)
    }
}

/// An explicit failure: `{code, message}`. The message is for humans and may change; the code may not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn from_json(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::new(ErrorCode::MalformedJson, e.to_string())
            }
            Category::Data => ApiError::from_deserialize(e.to_string()),
        }
    }

    /// The error of a request that is well-formed but does not deserialize into its type, classified from
    /// serde's message (the same text whatever the format: serde_json, or serde-wasm-bindgen for a JS value).
    pub fn from_deserialize(msg: String) -> Self {
        let code = if msg.starts_with("unknown field") {
            ErrorCode::UnknownField
        } else if msg.starts_with("missing field") {
            ErrorCode::MissingField
        } else if msg.starts_with("unknown variant") {
            ErrorCode::UnknownVariant
        } else if msg.starts_with("invalid value") {
            ErrorCode::OutOfRange
        } else {
            ErrorCode::InvalidType
        };
        ApiError::new(code, msg)
    }

    #[cfg(feature = "json")]
    pub(crate) fn serialize(e: serde_json::Error) -> Self {
        ApiError::new(
            ErrorCode::Internal,
            format!("could not serialize the response: {e}"),
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}
