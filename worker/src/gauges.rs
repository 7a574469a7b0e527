//! Point-in-time gauges read at scrape time (not accumulated): outbox backlog by status, upstream circuit state.
use crate::bindings::DB;
use crate::error::{EdgeError, Platform};
use crate::metrics::{outbox_gauges, GaugeValue, CIRCUIT_STATE};
use pve_edge::sql::health::Count;
use pve_edge::sql::outbox::{self as sql, StatusCount};
use worker::{console_error, Env};

pub async fn collect(env: &Env) -> Vec<GaugeValue> {
    let mut out = Vec::new();
    match outbox_by_status(env).await {
        Ok(rows) => out.extend(rows),
        Err(e) => console_error!(
            "{}",
            serde_json::json!({"domain": "metrics", "task": "gauges", "outcome": "error", "error_detail": e.to_string()})
        ),
    }
    match crate::rate_limiter::circuit_state(env).await {
        Ok(value) => out.push(GaugeValue {
            def: CIRCUIT_STATE,
            labels: Vec::new(),
            value,
        }),
        Err(e) => console_error!(
            "{}",
            serde_json::json!({"domain": "metrics", "task": "gauges", "outcome": "error", "error_detail": e.to_string()})
        ),
    }
    out
}

async fn outbox_by_status(env: &Env) -> Result<Vec<GaugeValue>, EdgeError> {
    let db = env.d1(DB).platform()?;
    let rows: Vec<StatusCount> = crate::d1::all(&db, sql::events_by_status()).await?;
    // `count(*)` always answers one row: none is a broken answer, not zero.
    let dead: Count = crate::d1::first(&db, sql::dead_count())
        .await?
        .ok_or_else(|| EdgeError::internal("count(*) of dead_letters answered no row"))?;
    let rows: Vec<(String, f64)> = rows.into_iter().map(|r| (r.status, r.n)).collect();
    Ok(outbox_gauges(&rows, dead.n as f64))
}
