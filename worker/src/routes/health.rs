//! `GET /healthz`: the engine version and whether KV, the Durable Object and D1 answer; and the record of
//! the last cron run (written by the scheduled handler, read here).
use crate::bindings::{CACHE_KV, DB, SINGLE_FLIGHT};
use crate::context::now_ms;
use crate::error::EdgeError;
use crate::error::Platform;
use pve_edge::config::var::UPSTREAM_BASE_URL;
use serde::Serialize;
use worker::{Env, Response};

const LAST_CRON_KEY: &str = "meta:last_cron";
const PROBE_KEY: &str = "meta:healthz_probe";

#[derive(Serialize)]
struct Check {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Check {
    fn from(r: Result<serde_json::Value, EdgeError>) -> Check {
        match r {
            Ok(detail) => Check {
                ok: true,
                detail: Some(detail),
                error: None,
            },
            Err(e) => Check {
                ok: false,
                detail: None,
                error: Some(e.to_string()),
            },
        }
    }
}

pub async fn healthz(env: &Env) -> Result<Response, EdgeError> {
    let kv = Check::from(check_kv(env).await);
    let durable_object = Check::from(check_durable_object(env).await);
    let d1 = Check::from(check_d1(env).await);
    // A failed read is reported as such, never as "the cron never ran" (null).
    let last_cron = match read_last_cron(env).await {
        Ok(v) => v,
        Err(e) => Some(serde_json::json!({"error": e.to_string()})),
    };
    let ok = kv.ok && durable_object.ok && d1.ok;
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "degraded" },
        "engine_version": pve_api::ENGINE_VERSION,
        "checks": {"kv": kv, "durable_object": durable_object, "d1": d1},
        "last_cron": last_cron,
        "upstream_base_url": env.var(UPSTREAM_BASE_URL).map(|v| v.to_string()).ok(),
    });
    let resp = Response::from_json(&body)
        .platform()?
        .with_status(if ok { 200 } else { 503 });
    resp.headers().set("cache-control", "no-store").platform()?;
    Ok(resp)
}

/// A KV put followed by a get of the same value.
async fn check_kv(env: &Env) -> Result<serde_json::Value, EdgeError> {
    let kv = env.kv(CACHE_KV).platform()?;
    let written = now_ms().to_string();
    // 60 s is KV's minimum TTL.
    kv.put(PROBE_KEY, written.as_str())
        .platform()?
        .expiration_ttl(60)
        .execute()
        .await
        .platform()?;
    let read = kv.get(PROBE_KEY).text().await.platform()?;
    if read.as_deref() == Some(written.as_str()) {
        Ok(serde_json::json!({"round_trip": true}))
    } else {
        Err(EdgeError::Platform(format!(
            "KV read back {read:?}, wrote {written:?}"
        )))
    }
}

/// A fetch to the single-flight Durable Object.
async fn check_durable_object(env: &Env) -> Result<serde_json::Value, EdgeError> {
    let ns = env.durable_object(SINGLE_FLIGHT).platform()?;
    let stub = ns.id_from_name("healthz").platform()?.get_stub().platform()?;
    let mut resp = stub
        .fetch_with_str("https://single-flight/ping")
        .await
        .platform()?;
    let body: serde_json::Value = resp.json().await.platform()?;
    if body.get("pong") == Some(&serde_json::Value::Bool(true)) {
        Ok(body)
    } else {
        Err(EdgeError::Platform(format!("unexpected DO answer {body}")))
    }
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
    let value = serde_json::json!({"cron": cron, "scheduled_time_ms": scheduled_ms, "ran_at_ms": now_ms()});
    kv.put(LAST_CRON_KEY, value.to_string())
        .platform()?
        .expiration_ttl(7 * 24 * 3600)
        .execute()
        .await
        .platform()?;
    Ok(())
}
