//! Admin routes under `/v1/admin/`, all behind `Authorization: Bearer <ADMIN_TOKEN>` (compared in
//! constant time; 401 otherwise, also when no token is configured):
//! - `GET  /v1/admin/outbox/stats`
//! - `GET  /v1/admin/outbox/dead-letters?limit=&cursor=&include_replayed=`
//! - `POST /v1/admin/outbox/dead-letters/{event_id}/replay`
//! - `DELETE /v1/admin/outbox/dead-letters/{event_id}`
//! - `POST /v1/admin/outbox/relay` (run the relay now)
//!
//! With `ENABLE_TEST_ROUTES = "true"` (dev and tests only) also `/v1/admin/test/…`: bulk events, the
//! valuation-change path, alerts, the sweep. Otherwise those paths do not exist (404).
use crate::error::Platform;
use serde::Deserialize;
use worker::{Context, Env, Method, Request, Response};

use super::{json, parse_json};
use crate::alerts::{self, Alert, AlertKind};
use crate::bindings::{ADMIN_TOKEN, DB};
use crate::context::{now_ms, TaskContext};
use crate::error::EdgeError;
use crate::outbox::{self, dead_letter, js_num, relay, Aggregate, NewEvent};
use crate::routes::engine::read_body;
use crate::token;
use crate::vars;
use crate::watches::{self, ValuationSummary};

pub async fn route(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    task: &mut TaskContext,
    rest: &[&str],
) -> Result<Response, EdgeError> {
    task.set_task("admin", "unrouted");
    authorize(req, env)?;
    let method = req.method();
    let allow = |allowed: Method, name: &'static str| {
        if method == allowed {
            Ok(())
        } else {
            Err(EdgeError::MethodNotAllowed { allow: name })
        }
    };
    match rest {
        ["outbox", "stats"] => {
            task.set_task("admin", "outbox_stats");
            allow(Method::Get, "GET")?;
            stats(env).await
        }
        ["outbox", "dead-letters"] => {
            task.set_task("admin", "dead_letters_list");
            allow(Method::Get, "GET")?;
            list_dead_letters(req, env).await
        }
        ["outbox", "dead-letters", event_id] => {
            task.set_task("admin", "dead_letter_delete");
            task.set_key(*event_id);
            allow(Method::Delete, "DELETE")?;
            let db = env.d1(DB).platform()?;
            if !dead_letter::delete(&db, event_id).await? {
                return Err(EdgeError::DeadLetterNotFound);
            }
            json(&serde_json::json!({"event_id": event_id, "deleted": true}), 200)
        }
        ["outbox", "dead-letters", event_id, "replay"] => {
            task.set_task("admin", "dead_letter_replay");
            task.set_key(*event_id);
            allow(Method::Post, "POST")?;
            let db = env.d1(DB).platform()?;
            let seq = dead_letter::replay(&db, event_id, now_ms()).await?;
            relay::kick(ctx, env);
            json(
                &serde_json::json!({"event_id": event_id, "status": "pending", "seq": seq}),
                200,
            )
        }
        ["outbox", "relay"] => {
            task.set_task("admin", "relay_now");
            allow(Method::Post, "POST")?;
            let report = relay::run(env, relay::Trigger::Admin).await?;
            relay::record_report(task, &report);
            json(&report, 200)
        }
        ["test", rest @ ..] if vars::flag(env, "ENABLE_TEST_ROUTES", false)? => {
            test_route(req, env, ctx, task, rest, &method).await
        }
        _ => Err(EdgeError::RouteNotFound),
    }
}

fn authorize(req: &Request, env: &Env) -> Result<(), EdgeError> {
    if crate::auth::bearer_matches(req, env, &[ADMIN_TOKEN]) {
        Ok(())
    } else {
        Err(EdgeError::Unauthorized)
    }
}

async fn stats(env: &Env) -> Result<Response, EdgeError> {
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let body = serde_json::json!({
        "outbox": outbox::counts(&db, now).await?,
        "dead_letters": dead_letter::counts(&db).await?,
        "alerts": alerts::counts(env).await?,
        "now": alerts::iso8601(now),
    });
    json(&body, 200)
}

async fn list_dead_letters(req: &Request, env: &Env) -> Result<Response, EdgeError> {
    let url = req.url().platform()?;
    let mut limit = 50u32;
    let mut cursor = None;
    let mut include_replayed = false;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=200).contains(n))
                    .ok_or(EdgeError::InvalidQuery(
                        "limit must be an integer from 1 to 200".into(),
                    ))?;
            }
            "cursor" => cursor = Some(v.into_owned()),
            "include_replayed" => {
                include_replayed = match v.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(EdgeError::InvalidQuery(
                            "include_replayed must be true or false".into(),
                        ))
                    }
                }
            }
            _ => return Err(EdgeError::InvalidQuery(format!("unknown parameter {k:?}"))),
        }
    }
    let db = env.d1(DB).platform()?;
    let page = dead_letter::list(&db, cursor.as_deref(), limit, include_replayed).await?;
    json(
        &serde_json::json!({"items": page.items, "next_cursor": page.next_cursor}),
        200,
    )
}

async fn test_route(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    task: &mut TaskContext,
    rest: &[&str],
    method: &Method,
) -> Result<Response, EdgeError> {
    if *method != Method::Post {
        return Err(EdgeError::MethodNotAllowed { allow: "POST" });
    }
    let body = read_body(req).await?;
    match rest {
        ["outbox", "events"] => {
            task.set_task("admin_test", "bulk_events");
            bulk_events(env, parse_json(&body)?).await
        }
        ["valuation"] => {
            task.set_task("admin_test", "valuation_change");
            let resp = valuation_change(env, parse_json(&body)?).await?;
            relay::kick(ctx, env);
            Ok(resp)
        }
        ["alerts"] => {
            task.set_task("admin_test", "raise_alert");
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct RaiseAlert {
                kind: AlertKind,
                what_happened: String,
                key_suffix: Option<String>,
            }
            let r: RaiseAlert = parse_json(&body)?;
            let mut alert = Alert::new(r.kind, r.what_happened);
            if let Some(s) = r.key_suffix {
                alert = alert.key_suffix(s);
            }
            let raised = alerts::raise(env, alert).await?;
            relay::kick(ctx, env);
            json(&raised, 200)
        }
        ["sweep"] => {
            task.set_task("admin_test", "sweep");
            let report = watches::sweep(env, ctx).await?;
            relay::kick(ctx, env);
            json(&report, 200)
        }
        _ => Err(EdgeError::RouteNotFound),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkEvents {
    webhook_url: String,
    aggregates: u32,
    events_per_aggregate: u32,
}

/// Creates `aggregates` watches on `webhook_url` and `events_per_aggregate` `test.event` events for each,
/// interleaved so that seq order within a watch is event order. Does not start the relay: the test does.
async fn bulk_events(env: &Env, req: BulkEvents) -> Result<Response, EdgeError> {
    if req.aggregates == 0
        || req.events_per_aggregate == 0
        || req.aggregates * req.events_per_aggregate > 10_000
    {
        return Err(EdgeError::InvalidQuery("1 to 10000 events in all".into()));
    }
    let url = crate::webhook::WebhookPolicy::from_env(env)?
        .check(&req.webhook_url)
        .map_err(|e| EdgeError::InvalidWebhookUrl(e.message()))?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let mut watch_ids = Vec::new();
    let mut statements = Vec::new();
    for i in 0..req.aggregates {
        let id = token::random_id("wch_", 16).platform()?;
        let unused_token = token::random_id("wtk_", 32).platform()?;
        statements.push(
            db.prepare(
                "INSERT INTO watches (id, character, webhook_url, token_hash, status, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
            )
            .bind(&[
                id.as_str().into(),
                format!("bulk{i}").into(),
                url.as_str().into(),
                token::sha256_hex(unused_token.as_bytes()).into(),
                js_num(now),
            ])
            .platform()?,
        );
        watch_ids.push(id);
    }
    let mut events = Vec::new();
    for n in 0..req.events_per_aggregate {
        for watch_id in &watch_ids {
            let event_id = outbox::new_event_id()?;
            let payload = serde_json::json!({
                "event_id": event_id, "event_type": "test.event", "watch_id": watch_id, "n": n,
            })
            .to_string();
            let event = NewEvent {
                event_id: event_id.clone(),
                aggregate: Aggregate::Watch,
                aggregate_id: watch_id.clone(),
                event_type: "test.event".into(),
                payload,
            };
            statements.push(event.insert(&db, now).platform()?);
            events.push(serde_json::json!({"event_id": event_id, "watch_id": watch_id, "n": n}));
        }
    }
    // D1 batches are transactions; keep each one moderate.
    let mut statements = statements.into_iter().peekable();
    while statements.peek().is_some() {
        db.batch(statements.by_ref().take(200).collect())
            .await
            .platform()?;
    }
    json(
        &serde_json::json!({"watch_ids": watch_ids, "events": events}),
        201,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValuationChange {
    character: String,
    summary: ValuationSummary,
    /// Make the first event reuse this existing event id, so the batch's second statement fails.
    collide_with_event_id: Option<String>,
}

/// The refresh path's write, on demand: what a refresh that computed `summary` would record.
async fn valuation_change(env: &Env, req: ValuationChange) -> Result<Response, EdgeError> {
    let character = watches::validate_character_name(&req.character)?;
    let cfg = watches::WatchConfig::from_env(env)?;
    let db = env.d1(DB).platform()?;
    let previous = watches::latest_snapshot(&db, &character).await?;
    let mut collide = req.collide_with_event_id.clone();
    let mut ids = || match collide.take() {
        Some(id) => Ok(id),
        None => outbox::new_event_id(),
    };
    let recorded = watches::record_valuation_with(
        &db,
        &character,
        &req.summary,
        previous.as_ref(),
        &mut ids,
        cfg.max_payload_bytes,
    )
    .await;
    match recorded {
        Ok(r) => json(&r, 200),
        Err(e) if req.collide_with_event_id.is_some() => json(
            &serde_json::json!({"outcome": "batch_failed", "error_code": e.code(), "detail": e.to_string()}),
            200,
        ),
        Err(e) => Err(e),
    }
}
