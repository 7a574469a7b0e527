//! The D1 adapter: the row count of a statement as a `Result`. A result without a `changes` count is
//! an explicit internal error, never read as 0 (which would turn into "fenced out" or "not found").
use crate::error::Platform;
use worker::D1Result;

use crate::error::EdgeError;

/// Rows changed by one statement's result.
pub fn changes(result: &D1Result) -> Result<u64, EdgeError> {
    result
        .meta()
        .platform()?
        .and_then(|m| m.changes)
        .map(|n| n as u64)
        .ok_or_else(|| EdgeError::internal("D1 result has no changes count"))
}

/// Rows changed by statement `index` of a batch.
pub fn changes_at(results: &[D1Result], index: usize) -> Result<u64, EdgeError> {
    let result = results
        .get(index)
        .ok_or_else(|| EdgeError::internal("D1 batch returned fewer results than statements"))?;
    changes(result)
}
