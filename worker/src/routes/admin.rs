//! Admin routes under `/v1/admin/`, all behind `Authorization: Bearer <ADMIN_TOKEN>` (compared in
//! constant time; 401 otherwise, also when no token is configured):
//! - `GET  /v1/admin/outbox/stats`
//! - `GET  /v1/admin/outbox/dead-letters?limit=&cursor=&include_replayed=`
//! - `POST /v1/admin/outbox/dead-letters/{event_id}/replay`
//! - `DELETE /v1/admin/outbox/dead-letters/{event_id}`
//! - `POST /v1/admin/outbox/relay` (run the relay now)
//! - `POST /v1/admin/characters/{name}/purge` (drop a character from every cache tier: [`crate::cache::purge`])
//! - `POST /v1/admin/alerts/{alert_key}/resolve` (resolve an open alert: a `resolve` page for CRITICAL)
//!
//! Built with the `test-hooks` cargo feature (end-to-end tests only; the release build and
//! `wrangler deploy` leave it off) and with `ENABLE_TEST_ROUTES = "true"`, also `/v1/admin/test/…`
//! ([`test_routes`]): bulk events, the valuation-change path, alerts, the sweep. Otherwise those paths
//! do not exist (404).
use crate::error::Platform;
use pve_edge::dispatch::AdminTarget;
use pve_edge::http::Query;
use worker::{Context, Env, Request};

use super::Reply;
use crate::alerts;
use crate::bindings::DB;
use crate::context::{now_ms, TaskContext};
use crate::error::EdgeError;
use crate::outbox::{self, dead_letter, relay};
#[cfg(feature = "test-hooks")]
use crate::vars;
use pve_edge::config::var::ADMIN_TOKEN;
use pve_edge::outbox::dead_letter as dead_letter_rules;

#[cfg(feature = "test-hooks")]
mod test_routes;

pub async fn route(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    task: &mut TaskContext,
    rest: &[&str],
) -> Result<Reply, EdgeError> {
    task.set_task("admin", "unrouted");
    authorize(req, env)?;
    let routed = pve_edge::dispatch::admin(rest, req.method().as_ref())?;
    task.set_task(routed.domain, routed.task);
    if let Some(key) = routed.key {
        task.set_key(key);
    }
    match routed.target {
        AdminTarget::OutboxStats => stats(env).await,
        AdminTarget::DeadLetters => list_dead_letters(req, env).await,
        AdminTarget::DeleteDeadLetter { event_id } => {
            let db = env.d1(DB).platform()?;
            if !dead_letter::delete(&db, event_id).await? {
                return Err(EdgeError::DeadLetterNotFound);
            }
            Reply::json(&serde_json::json!({"event_id": event_id, "deleted": true}), 200)
        }
        AdminTarget::ReplayDeadLetter { event_id } => {
            let db = env.d1(DB).platform()?;
            let seq = dead_letter::replay(&db, event_id, now_ms()).await?;
            relay::kick(ctx, env);
            Reply::json(
                &serde_json::json!({"event_id": event_id, "status": "pending", "seq": seq}),
                200,
            )
        }
        AdminTarget::RelayNow => {
            let report = relay::run(env, relay::Trigger::Admin).await?;
            task.record_json("relay", &report);
            Reply::json(&report, 200)
        }
        AdminTarget::PurgeCharacter { raw_name } => {
            let name = pve_edge::validate::character_name_segment(raw_name)?;
            task.set_key(name.clone());
            let cfg = crate::config::get(env)?;
            let purged = crate::cache::purge::purge(env, &cfg, task, &name).await?;
            Reply::json(&purged, 200)
        }
        AdminTarget::ResolveAlert { alert_key } => {
            let resolved = alerts::resolve(env, alert_key).await?;
            relay::kick(ctx, env);
            Reply::json(&resolved, 200)
        }
        #[cfg(feature = "test-hooks")]
        AdminTarget::Test { rest } if vars::flag(env, pve_edge::config::var::ENABLE_TEST_ROUTES, false)? => {
            let method = req.method();
            test_routes::route(req, env, ctx, task, rest, &method).await
        }
        AdminTarget::Test { .. } => Err(EdgeError::RouteNotFound),
    }
}

fn authorize(req: &Request, env: &Env) -> Result<(), EdgeError> {
    if crate::auth::bearer_matches(req, env, &[ADMIN_TOKEN]) {
        Ok(())
    } else {
        Err(EdgeError::Unauthorized)
    }
}

async fn stats(env: &Env) -> Result<Reply, EdgeError> {
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let body = serde_json::json!({
        "outbox": outbox::counts(&db, now).await?,
        "dead_letters": dead_letter::counts(&db).await?,
        "alerts": alerts::counts(env).await?,
        "now": pve_edge::time::iso8601(now),
    });
    Reply::json(&body, 200)
}

async fn list_dead_letters(req: &Request, env: &Env) -> Result<Reply, EdgeError> {
    let url = req.url().platform()?;
    // One query parser for every route: unknown and repeated parameters are errors.
    let query = Query::parse(url.query_pairs(), &dead_letter_rules::LIST_PARAMS)?;
    let q = dead_letter_rules::ListQuery::parse(&query)?;
    let db = env.d1(DB).platform()?;
    let page = dead_letter::list(&db, q.after_id, q.limit, q.include_replayed).await?;
    Reply::json(
        &serde_json::json!({"items": page.items, "next_cursor": page.next_cursor}),
        200,
    )
}
