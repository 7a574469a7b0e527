//! # pve-worker
//!
//! The edge of the product: a Cloudflare Worker that serves the HTTP API over the pure engine
//! (`pve-api`), plus the platform parts around it (KV, a Durable Object, D1, a Cron Trigger).
//!
//! One `#[event(fetch)]` entry routes each request to a free `async fn` handler that returns
//! `Result<Response, EdgeError>`; the entry turns errors into `{"error":{code,message}}` bodies (statuses are
//! mapped in `error.rs` only) and writes the request's one log line through its [`TaskContext`].
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
use pve_edge::routes::MethodDecision;
use worker::{event, Context, Env, Method, Request, RequestInit, Response, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let mut task = context::for_request(&req, "http", "unrouted");
    let method = req.method().to_string();
    let head = req.inner().method() == "HEAD";
    let result = route(req, &env, &ctx, &mut task).await;
    let (response, outcome, status) = match result {
        Ok(resp) => {
            let status = resp.status_code();
            (resp, Outcome::Ok, status)
        }
        Err(e) => {
            let resp = crate::error::response(&e, &task.request_id)?;
            (resp, Outcome::of(&e), e.status())
        }
    };
    // HEAD: the GET handler's status and headers, without its body.
    let mut response = if head {
        Response::empty()?
            .with_status(status)
            .with_headers(response.headers().clone())
    } else {
        response
    };
    response.headers_mut().set("x-request-id", &task.request_id)?;
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
    if let (Some(cache_status), false) = (task.cache_status(), response.headers().has("cache-status")?) {
        response.headers_mut().set("cache-status", &cache_status)?;
    }
    task.finish(outcome, Some(status));
    ctx.wait_until(async move { metrics_store::flush_or_log(&env, false).await });
    Ok(response)
}

/// The route table is [`pve_edge::dispatch::route`]: it names the task (for the log line) and the target;
/// each arm here calls one handler.
async fn route(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    task: &mut TaskContext,
) -> Result<Response, EdgeError> {
    let path = req.path();
    // The declared methods come from the route table in pve-edge (the OpenAPI document's too); the
    // raw method is used because workers-rs reads unknown methods (QUERY, PROPFIND) as GET.
    if let Some(declared) = pve_edge::routes::find(&path) {
        match declared.decide(&req.inner().method()) {
            MethodDecision::Serve(_) => {}
            MethodDecision::HeadAsGet(_) => req = as_get(&req)?,
            MethodDecision::Options { allow } => return options(allow),
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
        Target::OpenApi => routes::openapi::openapi(),
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

/// OPTIONS on a declared path: 204 with the methods it allows.
fn options(allow: &str) -> Result<Response, EdgeError> {
    let headers = worker::Headers::new();
    headers.set("allow", allow).platform()?;
    Ok(Response::empty()
        .platform()?
        .with_status(204)
        .with_headers(headers))
}

/// Every minute: remember the run, refresh watched characters (the sweep), then run the outbox relay
/// (which also checks the backlog and purges old delivered events).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, ctx: ScheduleContext) {
    let task = TaskContext::new(context::new_request_id(), "cron", "scheduled");
    task.set_key(event.cron());
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
    match watches::sweep(env, ctx).await {
        Ok(report) => match serde_json::to_value(&report) {
            Ok(v) => task.record("sweep", v),
            Err(e) => task.record("sweep_report_error", e.to_string()),
        },
        Err(e) => task.record("sweep_error", format!("{}: {e}", e.code())),
    }
    match watches::purge_idempotency_keys(env).await {
        Ok(n) => task.record("idempotency_keys_purged", n),
        Err(e) => task.record("idempotency_purge_error", format!("{}: {e}", e.code())),
    }
    let report = outbox::relay::run(env, outbox::relay::Trigger::Cron).await;
    if let Ok(report) = &report {
        outbox::relay::record_report(task, report);
    }
    if let Err(e) = metrics_store::flush(env, false).await {
        task.record("metrics_flush_error", e.to_string());
    }
    report.map(|_| ())
}
