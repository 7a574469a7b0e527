//! The test-only admin routes, compiled only with the `test-hooks` feature.
use crate::error::Platform;
use pve_edge::sql::outbox::insert_event;
use pve_edge::sql::watches::insert_watch;
use serde::Deserialize;
use worker::{Context, Env, Method, Request, Response};

use crate::alerts::{self, Alert};
use crate::bindings::DB;
use crate::context::{now_ms, TaskContext};
use crate::d1;
use crate::error::EdgeError;
use crate::outbox::{self, relay};
use crate::routes::engine::read_body;
use crate::routes::{json, parse_json};
use crate::token;
use crate::watches;
use pve_edge::alerts::AlertKind;
use pve_edge::outbox::{Aggregate, NewEvent};
use pve_edge::valuation::ValuationSummary;

pub(super) async fn route(
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
        || u64::from(req.aggregates) * u64::from(req.events_per_aggregate) > 10_000
    {
        return Err(EdgeError::InvalidQuery("1 to 10000 events in all".into()));
    }
    let url = crate::webhook::policy_from_env(env)?
        .check(&req.webhook_url)
        .map_err(EdgeError::InvalidWebhookUrl)?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let mut watch_ids = Vec::new();
    let mut statements = Vec::new();
    for i in 0..req.aggregates {
        let id = token::random_id("wch_", 16).map_err(EdgeError::platform)?;
        let unused_token = token::random_id("wtk_", 32).map_err(EdgeError::platform)?;
        statements.push(insert_watch(
            &id,
            &format!("bulk{i}"),
            url.as_str(),
            &pve_edge::watches::token_hash(&unused_token),
            now,
        ));
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
            statements.push(insert_event(&event, now));
            events.push(serde_json::json!({"event_id": event_id, "watch_id": watch_id, "n": n}));
        }
    }
    // D1 batches are transactions; keep each one moderate.
    let mut statements = statements.into_iter().peekable();
    while statements.peek().is_some() {
        d1::batch(&db, statements.by_ref().take(200).collect()).await?;
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

/// The refresh path's write, on demand: what a refresh that computed `summary` would record, with the
/// first event id replaced by `collide_with_event_id` when given.
async fn valuation_change(env: &Env, req: ValuationChange) -> Result<Response, EdgeError> {
    let character = pve_edge::validate::character_name(&req.character)?;
    let cfg = watches::config(env)?;
    let db = env.d1(DB).platform()?;
    let previous = watches::latest_snapshot(&db, &character).await?;
    let pending = watches::pending_valuation(
        &db,
        &character,
        &req.summary,
        previous.as_ref(),
        cfg.max_payload_bytes,
    );
    let mut write = match pending.await? {
        watches::Pending::Done(recorded) => return json(&recorded, 200),
        watches::Pending::Write(write) => write,
    };
    if let Some(id) = &req.collide_with_event_id {
        write.event_ids[0] = id.clone();
    }
    match watches::write_valuation(&db, &write).await {
        Ok(r) => json(&r, 200),
        Err(e) if req.collide_with_event_id.is_some() => json(
            &serde_json::json!({"outcome": "batch_failed", "error_code": e.code(), "detail": e.to_string()}),
            200,
        ),
        Err(e) => Err(e),
    }
}
