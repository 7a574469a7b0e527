//! `GET /metrics`: Prometheus text format 0.0.4 for the whole deployment. Requires
//! `Authorization: Bearer <ADMIN_TOKEN>` or `<METRICS_SCRAPE_TOKEN>`.
use crate::auth::bearer_matches;
use crate::error::EdgeError;
use crate::error::Platform;
use crate::metrics_store;
use pve_edge::config::var::{ADMIN_TOKEN, METRICS_SCRAPE_TOKEN};
use pve_edge::http::Reply;
use worker::{Env, Request};

pub async fn metrics(req: &Request, env: &Env) -> Result<Reply, EdgeError> {
    if !bearer_matches(req, env, &[ADMIN_TOKEN, METRICS_SCRAPE_TOKEN]) {
        return Err(EdgeError::Unauthorized);
    }
    // This isolate's own recent deltas first, so a scrape sees everything up to itself.
    metrics_store::flush(env, true).await.platform()?;
    let totals = metrics_store::totals(env).await.platform()?;
    let gauges = crate::gauges::collect(env).await;
    let body = crate::metrics::render(&totals, &gauges);
    Ok(Reply::new(200, Some(body.into_bytes()))
        .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .header("cache-control", "no-store"))
}
