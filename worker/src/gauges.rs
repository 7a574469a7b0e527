//! Point-in-time gauges read at scrape time (not accumulated): outbox backlog by status, upstream circuit state.
use crate::bindings::DB;
use crate::metrics::{GaugeValue, CIRCUIT_STATE, OUTBOX_EVENTS};
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

async fn outbox_by_status(env: &Env) -> worker::Result<Vec<GaugeValue>> {
    #[derive(serde::Deserialize)]
    struct Row {
        status: String,
        n: f64,
    }
    let rows: Vec<Row> = env
        .d1(DB)?
        .prepare("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        .all()
        .await?
        .results()?;
    let dead: Option<f64> = env
        .d1(DB)?
        .prepare("SELECT count(*) AS n FROM dead_letters WHERE status = 'dead'")
        .first(Some("n"))
        .await?;
    Ok(["delivered", "leased", "pending"]
        .iter()
        .map(|s| GaugeValue {
            def: OUTBOX_EVENTS,
            labels: vec![("status".to_owned(), (*s).to_owned())],
            value: rows.iter().find(|r| r.status == *s).map_or(0.0, |r| r.n),
        })
        .chain(std::iter::once(GaugeValue {
            def: OUTBOX_EVENTS,
            labels: vec![("status".to_owned(), "dead".to_owned())],
            value: dead.unwrap_or(0.0),
        }))
        .collect())
}
