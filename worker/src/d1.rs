//! The D1 adapter: statements run with their failures as [`EdgeError::Platform`], and the row count of
//! a statement as a `Result`. A result without a `changes` count is an explicit internal error, never
//! read as 0 (which would turn into "fenced out" or "not found").
use crate::error::Platform;
use serde::de::DeserializeOwned;
use worker::{D1PreparedStatement, D1Result};

use crate::error::EdgeError;

/// Every row of a query.
pub async fn all<T: DeserializeOwned>(
    statement: worker::Result<D1PreparedStatement>,
) -> Result<Vec<T>, EdgeError> {
    statement.platform()?.all().await.platform()?.results().platform()
}

/// The first row of a query (or of `column` of it), if any.
pub async fn first<T: DeserializeOwned>(
    statement: worker::Result<D1PreparedStatement>,
    column: Option<&str>,
) -> Result<Option<T>, EdgeError> {
    statement.platform()?.first(column).await.platform()
}

/// Runs a statement; returns the rows it changed.
pub async fn run(statement: worker::Result<D1PreparedStatement>) -> Result<u64, EdgeError> {
    changes(&statement.platform()?.run().await.platform()?)
}

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
