//! # pve-worker
//!
//! The edge of the product: a Cloudflare Worker that serves the HTTP API over the pure engine
//! (`pve-api`), plus the platform parts around it (KV, a Durable Object, D1, a Cron Trigger).
//!
//! One `#[event(fetch)]` entry routes each request to a free `async fn` handler that returns
//! `Result<Reply, EdgeError>` (an answer as data, [`pve_edge::http::Reply`]); the entry turns errors into
//! `{"error":{code,message,request_id}}` bodies (statuses are mapped in pve-edge's `error.rs` only), writes
//! the request's one log line through its [`TaskContext`] and hands the answer to [`error::respond`].
//! Static files (`web/`) are served by the platform's assets binding before the Worker runs.

mod alerts;
mod auth;
mod bindings;
mod cache;
mod characters;
mod config;
mod context;
mod d1;
mod durable;
mod error;
mod fetch;
mod gauges;
mod inbound;
mod metrics;
mod metrics_store;
mod outbox;
mod rate_limiter;
mod routes;
mod single_flight;
mod token;
mod upstream;
mod vars;
mod watches;
mod webhook;

pub use metrics_store::Metrics;
pub use rate_limiter::RateLimiter;
pub use single_flight::SingleFlight;

use crate::error::Platform;
use context::{Outcome, TaskContext};
use error::EdgeError;
use pve_edge::dispatch::{self, Target};
use pve_edge::http::Reply;
use pve_edge::routes::MethodDecision;
use worker::{event, Context, Env, Method, Request, RequestInit, Response, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let mut task = context::for_request(&req, "http", "unrouted");
    let method = req.method().to_string();
    let head = req.inner().method() == "HEAD";
    let (reply, outcome) = match route(req, &env, &ctx, &mut task).await {
        Ok(reply) => (reply, Outcome::Ok),
        Err(e) => (Reply::error(&e, &task.request_id), Outcome::of(&e)),
    };
    let status = reply.status;
    let reply = reply.finish(head, &task.request_id, task.cache_status());
    let route = task.task;
    let seconds = task.elapsed_ms() as f64 / 1000.0;
    metrics::inc(
        metrics::HTTP_REQUESTS,
        &[
            ("route", route),
            ("method", &method),
            ("status", &status.to_string()),
        ],
    );
    metrics::observe(metrics::HTTP_DURATION, &[("route", route)], seconds);
    task.finish(outcome, Some(status));
    ctx.wait_until(async move { metrics_store::flush_or_log(&env, false).await });
    error::respond(reply)
}

/// The route table is [`pve_edge::dispatch::route`]: it names the task (for the log line) and the target;
/// each arm here calls one handler.
async fn route(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    task: &mut TaskContext,
) -> Result<Reply, EdgeError> {
    let path = req.path();
    // The declared methods come from the route table in pve-edge (the OpenAPI document's too); the
    // raw method is used because workers-rs reads unknown methods (QUERY, PROPFIND) as GET.
    if let Some(declared) = pve_edge::routes::find(&path) {
        match declared.decide(&req.inner().method()) {
            MethodDecision::Serve(_) => {}
            MethodDecision::HeadAsGet(_) => req = as_get(&req)?,
            MethodDecision::Options { allow } => return Ok(Reply::options(allow)),
            MethodDecision::NotAllowed { allow } => return Err(EdgeError::MethodNotAllowed { allow }),
        }
    }
    if path.trim_matches('/').split('/').next() == Some("v1") {
        let cfg = config::get(env)?;
        inbound::check(&cfg, &inbound::client_key(&req))?;
    }
    let routed = dispatch::route(&path, req.method().as_ref())?;
    task.set_task(routed.domain, routed.task);
    if let Some(key) = routed.key {
        task.set_key(key);
    }
    match routed.target {
        Target::Healthz => routes::health::healthz(env).await,
        Target::Metrics => routes::metrics::metrics(&req, env).await,
        Target::OpenApi => Ok(routes::openapi::openapi()),
        Target::Equipment { name } => routes::characters::equipment(&req, env, ctx, task, name).await,
        Target::Valuation { name } => routes::characters::valuation(&req, env, ctx, task, name).await,
        Target::CreateWatch => routes::watches::create(&mut req, env, ctx, task).await,
        Target::GetWatch { id } => routes::watches::get(&req, env, id).await,
        Target::DeleteWatch { id } => routes::watches::delete(&req, env, id).await,
        Target::Admin { rest } => routes::admin::route(&mut req, env, ctx, task, &rest).await,
        Target::Engine(op) => routes::engine::compute(&mut req, env, ctx, op, task).await,
    }
}

/// The same request with the method GET (for HEAD; HEAD requests carry no body).
fn as_get(req: &Request) -> Result<Request, EdgeError> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(req.headers().clone());
    Request::new_with_init(req.url().platform()?.as_ref(), &init).platform()
}

/// Every minute: remember the run, refresh watched characters (the sweep), then run the outbox relay
/// (which also checks the backlog and purges old delivered events).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, ctx: ScheduleContext) {
    let task = context::background("cron", "scheduled", event.cron());
    let result = cron_run(&event, &env, &ctx, &task).await;
    task.finish_result(&result, None);
}

async fn cron_run(
    event: &ScheduledEvent,
    env: &Env,
    ctx: &ScheduleContext,
    task: &TaskContext,
) -> Result<(), EdgeError> {
    routes::health::record_cron_run(env, &event.cron(), event.schedule()).await?;
    // A failed sweep must not keep the relay from running: record it and go on.
    task.record_result("sweep", "sweep_error", &watches::sweep(env, ctx).await);
    let purged = watches::purge_idempotency_keys(env).await;
    task.record_result("idempotency_keys_purged", "idempotency_purge_error", &purged);
    let report = outbox::relay::run(env, outbox::relay::Trigger::Cron).await;
    if let Ok(report) = &report {
        task.record_json("relay", report);
    }
    if let Err(e) = metrics_store::flush(env, false).await {
        task.record("metrics_flush_error", e.to_string());
    }
    report.map(|_| ())
}
