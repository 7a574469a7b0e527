//! `potential` request/response schema (being built; see its issue).
use crate::{ApiError, ErrorCode};

pub fn handle(_json: &str) -> Result<serde_json::Value, ApiError> {
    Err(ApiError::new(ErrorCode::Internal, "potential is not built yet"))
}
