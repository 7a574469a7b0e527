//! The test-only admin routes, compiled only with the `test-hooks` feature.
use crate::error::Platform;
use pve_edge::test_hooks::{BulkEvents, BulkWatch, RaiseAlert, ValuationChange};
use worker::{Context, Env, Method, Request};

use crate::alerts;
use crate::bindings::DB;
use crate::context::{now_ms, TaskContext};
use crate::d1;
use crate::error::EdgeError;
use crate::outbox::{self, relay};
use crate::routes::engine::read_body;
use crate::routes::{parse_json, Reply};
use crate::token;
use crate::watches;

pub(super) async fn route(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    task: &mut TaskContext,
    rest: &[&str],
    method: &Method,
) -> Result<Reply, EdgeError> {
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
            let alert = parse_json::<RaiseAlert>(&body)?.alert();
            let raised = alerts::raise(env, alert).await?;
            relay::kick(ctx, env);
            Reply::json(&raised, 200)
        }
        ["sweep"] => {
            task.set_task("admin_test", "sweep");
            let report = watches::sweep(env, ctx).await?;
            relay::kick(ctx, env);
            Reply::json(&report, 200)
        }
        _ => Err(EdgeError::RouteNotFound),
    }
}

/// Creates `aggregates` watches on `webhook_url` and `events_per_aggregate` `test.event` events for each
/// ([`BulkEvents::plan`]). Does not start the relay: the test does.
async fn bulk_events(env: &Env, req: BulkEvents) -> Result<Reply, EdgeError> {
    let (watch_count, events_per_watch) = req.counts()?;
    let url = crate::webhook::policy_from_env(env)?
        .check(&req.webhook_url)
        .map_err(EdgeError::InvalidWebhookUrl)?;
    let random = |prefix, bytes| token::random_id(prefix, bytes).map_err(EdgeError::platform);
    let watches = (0..watch_count)
        .map(|_| {
            Ok(BulkWatch {
                id: random("wch_", 16)?,
                token: random("wtk_", 32)?,
            })
        })
        .collect::<Result<Vec<_>, EdgeError>>()?;
    let event_ids = (0..watch_count * events_per_watch)
        .map(|_| outbox::new_event_id())
        .collect::<Result<Vec<_>, _>>()?;
    let (statements, body) = req.plan(url.as_str(), &watches, &event_ids, now_ms())?;
    // D1 batches are transactions; keep each one moderate.
    let db = env.d1(DB).platform()?;
    let mut statements = statements.into_iter().peekable();
    while statements.peek().is_some() {
        d1::batch(&db, statements.by_ref().take(200).collect()).await?;
    }
    Reply::json(&body, 201)
}

/// The refresh path's write, on demand: what a refresh that computed `summary` would record, with the
/// first event id replaced by `collide_with_event_id` when given.
async fn valuation_change(env: &Env, req: ValuationChange) -> Result<Reply, EdgeError> {
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
        watches::Pending::Done(recorded) => return Reply::json(&recorded, 200),
        watches::Pending::Write(write) => write,
    };
    if let Some(id) = &req.collide_with_event_id {
        write.event_ids[0] = id.clone();
    }
    match watches::write_valuation(&db, &write).await {
        Ok(r) => Reply::json(&r, 200),
        Err(e) if req.collide_with_event_id.is_some() => Reply::json(
            &serde_json::json!({"outcome": "batch_failed", "error_code": e.code(), "detail": e.to_string()}),
            200,
        ),
        Err(e) => Err(e),
    }
}
