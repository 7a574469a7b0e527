//! Point-in-time gauges read at scrape time (not accumulated): outbox backlog by status, upstream circuit state.
use crate::bindings::DB;
use crate::error::{EdgeError, Platform};
use crate::metrics::{outbox_gauges, GaugeValue, CIRCUIT_STATE};
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
    #[derive(serde::Deserialize)]
    struct Row {
        status: String,
        n: f64,
    }
    let db = env.d1(DB).platform()?;
    let rows: Vec<Row> = crate::d1::all(Ok(
        db.prepare("SELECT status, count(*) AS n FROM outbox GROUP BY status")
    ))
    .await?;
    // `count(*)` always answers one row: none is a broken answer, not zero.
    let dead: f64 = crate::d1::first(
        Ok(db.prepare("SELECT count(*) AS n FROM dead_letters WHERE status = 'dead'")),
        Some("n"),
    )
    .await?
    .ok_or_else(|| EdgeError::internal("count(*) of dead_letters answered no row"))?;
    let rows: Vec<(String, f64)> = rows.into_iter().map(|r| (r.status, r.n)).collect();
    Ok(outbox_gauges(&rows, dead))
}
