//! `GET /healthz`: the engine version and whether KV, the Durable Object and D1 answer; and the record of
//! the last cron run (written by the scheduled handler, read here). The answer is [`pve_edge::health`].
use crate::bindings::{CACHE_KV, DB, SINGLE_FLIGHT};
use crate::context::{new_request_id, now_ms};
use crate::error::EdgeError;
use crate::error::Platform;
use pve_edge::config::var::UPSTREAM_BASE_URL;
use pve_edge::health::{self, Check, Health, LAST_CRON_KEY, LAST_CRON_TTL_S, PROBE_TTL_S};
use pve_edge::http::Reply;
use pve_edge::single_flight::ObjectRoute;
use worker::Env;

pub async fn healthz(env: &Env) -> Result<Reply, EdgeError> {
    let health = Health {
        kv: Check::of(check_kv(env).await),
        durable_object: Check::of(check_durable_object(env).await),
        d1: Check::of(check_d1(env).await),
        last_cron: read_last_cron(env).await.map_err(|e| e.to_string()),
        upstream_base_url: env.var(UPSTREAM_BASE_URL).map(|v| v.to_string()).ok(),
    };
    Reply::json(&health.body(pve_api::ENGINE_VERSION), health.status())
}

/// A KV put followed by a get of the same value, on a key of this probe's own ([`health::probe_key`]).
async fn check_kv(env: &Env) -> Result<serde_json::Value, EdgeError> {
    let kv = env.kv(CACHE_KV).platform()?;
    let key = health::probe_key(&new_request_id());
    let written = now_ms().to_string();
    kv.put(&key, written.as_str())
        .platform()?
        .expiration_ttl(PROBE_TTL_S)
        .execute()
        .await
        .platform()?;
    let read = kv.get(&key).text().await.platform()?;
    health::kv_round_trip(&written, read.as_deref()).map_err(EdgeError::Platform)
}

/// A fetch to the single-flight Durable Object.
async fn check_durable_object(env: &Env) -> Result<serde_json::Value, EdgeError> {
    let stub = crate::durable::stub(env, SINGLE_FLIGHT, "healthz").platform()?;
    let mut resp = stub.fetch_with_str(&ObjectRoute::Ping.url()).await.platform()?;
    health::pong(resp.json().await.platform()?).map_err(EdgeError::Platform)
}

/// D1 answers and the migrations are applied (the outbox table exists).
async fn check_d1(env: &Env) -> Result<serde_json::Value, EdgeError> {
    use pve_edge::sql::health::{self as sql, Count, Migration};
    let db = env.d1(DB).platform()?;
    let migrations: Vec<Migration> = crate::d1::all(&db, sql::migrations()).await?;
    let outbox_rows: Option<Count> = crate::d1::first(&db, sql::outbox_rows()).await?;
    Ok(serde_json::json!({
        "migrations": migrations.into_iter().map(|m| m.name).collect::<Vec<_>>(),
        "outbox_rows": outbox_rows.map(|c| c.n),
    }))
}

async fn read_last_cron(env: &Env) -> Result<Option<serde_json::Value>, EdgeError> {
    let kv = env.kv(CACHE_KV).platform()?;
    kv.get(LAST_CRON_KEY).json::<serde_json::Value>().await.platform()
}

/// Called by the scheduled handler: remember when the cron last ran.
pub async fn record_cron_run(env: &Env, cron: &str, scheduled_ms: f64) -> Result<(), EdgeError> {
    let kv = env.kv(CACHE_KV).platform()?;
    let value = health::cron_record(cron, scheduled_ms, now_ms());
    kv.put(LAST_CRON_KEY, value.to_string())
        .platform()?
        .expiration_ttl(LAST_CRON_TTL_S)
        .execute()
        .await
        .platform()?;
    Ok(())
}
