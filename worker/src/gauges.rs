//! Point-in-time gauges read at scrape time (not accumulated): outbox backlog by status, upstream circuit state.
use crate::bindings::DB;
use crate::context::{failure, log, Level};
use crate::error::{EdgeError, Platform};
use crate::metrics::{outbox_gauges, GaugeValue, CIRCUIT_STATE};
use pve_edge::sql::health::Count;
use pve_edge::sql::outbox::{self as sql, StatusCount};
use worker::Env;

pub async fn collect(env: &Env) -> Vec<GaugeValue> {
    let outbox = outbox_by_status(env).await.map_err(|e| e.to_string());
    let circuit = crate::rate_limiter::circuit_state(env).await.map(|value| {
        vec![GaugeValue {
            def: CIRCUIT_STATE,
            labels: Vec::new(),
            value,
        }]
    });
    let mut out = Vec::new();
    for gauges in [outbox, circuit.map_err(|e| e.to_string())] {
        match gauges {
            Ok(gauges) => out.extend(gauges),
            Err(e) => log(Level::Error, &failure("metrics", "gauges", e)),
        }
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
