//! The D1 executor: runs the statements of [`pve_edge::sql`] (SQL text and binds, built and checked
//! there) with their failures as [`EdgeError::Platform`]. A row count is read by pve-edge's rule
//! ([`pve_edge::sql::changes`]): a result without one is an internal error, never 0.
use crate::error::{EdgeError, Platform};
use pve_edge::sql::{js_number, Bind, Statement};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

fn prepare(db: &D1Database, statement: &Statement) -> Result<D1PreparedStatement, EdgeError> {
    let binds = statement
        .binds
        .iter()
        .map(|b| {
            Ok(match b {
                Bind::Text(s) => JsValue::from_str(s),
                Bind::Int(n) => JsValue::from_f64(js_number(*n)?),
                Bind::Real(x) => JsValue::from_f64(*x),
                Bind::Bool(b) => JsValue::from_bool(*b),
                Bind::Null => JsValue::NULL,
            })
        })
        .collect::<Result<Vec<_>, EdgeError>>()?;
    db.prepare(statement.sql).bind(&binds).platform()
}

/// Every row of a query.
pub async fn all<T: DeserializeOwned>(db: &D1Database, statement: Statement) -> Result<Vec<T>, EdgeError> {
    prepare(db, &statement)?
        .all()
        .await
        .platform()?
        .results()
        .platform()
}

/// The first row of a query, if any.
pub async fn first<T: DeserializeOwned>(
    db: &D1Database,
    statement: Statement,
) -> Result<Option<T>, EdgeError> {
    prepare(db, &statement)?.first(None).await.platform()
}

/// Runs a statement; returns the rows it changed.
pub async fn run(db: &D1Database, statement: Statement) -> Result<u64, EdgeError> {
    let result = prepare(db, &statement)?.run().await.platform()?;
    pve_edge::sql::changes(count(&result)?)
}

/// Runs a batch (one transaction: all or nothing); returns each statement's row count, in order, for
/// [`pve_edge::sql::changes_at`].
pub async fn batch(db: &D1Database, statements: Vec<Statement>) -> Result<Vec<Option<usize>>, EdgeError> {
    let prepared = statements
        .iter()
        .map(|s| prepare(db, s))
        .collect::<Result<Vec<_>, _>>()?;
    db.batch(prepared).await.platform()?.iter().map(count).collect()
}

fn count(result: &D1Result) -> Result<Option<usize>, EdgeError> {
    Ok(result.meta().platform()?.and_then(|m| m.changes))
}
