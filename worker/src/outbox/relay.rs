//! The relay: claim due events under a lease, check their hash, deliver them, settle them fenced by the
//! lease token. Runs from the Cron Trigger, right after each write (`wait_until`), and from the admin
//! route. Any number of relays may run at once: a claim is one atomic `UPDATE … RETURNING`, and a relay
//! whose lease expired can no longer settle the events it held.
//!
//! The statements are [`pve_edge::sql::outbox`]; every rule is [`pve_edge::outbox`].
use crate::error::Platform;
use std::time::Duration;

use futures_util::future::join_all;
use worker::{D1Database, Env};

use crate::alerts;
use crate::bindings::DB;
use crate::context::{failure, log, now_ms, Level};
use crate::d1;
use crate::error::EdgeError;
use crate::vars::{self, ConfigError};
use crate::webhook;
use pve_edge::config::var::{ALERT_WEBHOOK_URL, PAGER_WEBHOOK_URL};
use pve_edge::outbox::relay::{self as rules, ClaimedEvent, DeadLetterAlert, Delivery, Destinations};
use pve_edge::outbox::{DeadReason, Settle};
use pve_edge::sql::outbox as sql;

pub use pve_edge::config::RelayConfig;
pub use pve_edge::outbox::relay::RunReport;

/// The relay's settings ([`RelayConfig::parse`]).
pub fn relay_config(env: &Env) -> Result<RelayConfig, ConfigError> {
    RelayConfig::parse(&vars::source(env))
}

/// What started a relay run (for the log line; the cron run also checks the backlog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Cron,
    AfterWrite,
    Admin,
}

/// Runs claims until nothing is due or the time budget is spent.
pub async fn run(env: &Env, trigger: Trigger) -> Result<RunReport, EdgeError> {
    let cfg = relay_config(env)?;
    let db = env.d1(DB).platform()?;
    let started = now_ms();
    let mut report = RunReport::default();
    if trigger == Trigger::Cron {
        // Measured before this run delivers anything: what piled up since the last run. A failure to
        // alert must not keep the relay from running.
        if let Err(e) = check_backlog(env, &db, &cfg).await {
            let mut line = failure("outbox", "backlog_check", &e);
            line["error_code"] = e.code().into();
            log(Level::Error, &line);
        }
    }
    loop {
        if rules::budget_spent(started, now_ms(), cfg.budget_ms) {
            report.budget_exhausted = true;
            break;
        }
        let claimed = claim(&db, &cfg).await?;
        if claimed.is_empty() {
            break;
        }
        report.claimed(claimed.len());
        process(env, &db, &cfg, claimed, &mut report).await?;
    }
    if trigger == Trigger::Cron {
        purge_delivered(&db, &cfg).await?;
    }
    report.duration_ms = now_ms().saturating_sub(started);
    Ok(report)
}

/// Claims up to `batch_size` due events, each the head of its aggregate, under one fresh lease token.
async fn claim(db: &D1Database, cfg: &RelayConfig) -> Result<Vec<(String, ClaimedEvent)>, EdgeError> {
    let token = crate::token::random_id("lease_", 16).platform()?;
    let now = now_ms();
    let statement = sql::claim(
        &token,
        rules::lease_expires_at(now, cfg.lease_ms),
        now,
        cfg.batch_size,
    );
    let rows: Vec<ClaimedEvent> = d1::all(db, statement).await?;
    Ok(rows.into_iter().map(|c| (token.clone(), c)).collect())
}

async fn process(
    env: &Env,
    db: &D1Database,
    cfg: &RelayConfig,
    claimed: Vec<(String, ClaimedEvent)>,
    report: &mut RunReport,
) -> Result<(), EdgeError> {
    let destinations = destinations(env, db, &claimed).await?;
    let timeout = Duration::from_millis(cfg.delivery_timeout_ms);
    let settles = join_all(claimed.iter().map(|(_, ev)| async {
        match rules::before_delivery(cfg, &destinations, ev) {
            Delivery::Settled(settle) => settle,
            Delivery::Post(url) => {
                crate::metrics::inc(crate::metrics::OUTBOX_ATTEMPTS, &[]);
                let attempt = webhook::post_json(&url, &ev.payload, &ev.event_id, timeout).await;
                rules::after_delivery(cfg, ev, &attempt, crate::token::random_u64())
            }
        }
    }))
    .await;

    // One batch settles the whole claim; every statement is fenced by the lease token.
    let plan = rules::plan(&settles);
    let counts = d1::batch(db, sql::settle(&claimed, &plan.writes, now_ms())).await?;

    for (((_, ev), settle), idx) in claimed.iter().zip(&settles).zip(&plan.fence_index) {
        // A missing count is an error of the whole run, never a fenced-out settlement.
        let changed = pve_edge::sql::changes_at(&counts, *idx)?;
        let outcome = report.settled(&ev.event_id, settle, changed);
        crate::metrics::inc(
            crate::metrics::OUTBOX_DELIVERIES,
            &[("outcome", outcome.as_str())],
        );
        if let (Settle::Dead { reason, error }, true) = (settle, changed > 0) {
            alert_dead_letter(env, ev, *reason, error).await;
        }
    }
    Ok(())
}

/// Raise the alert that goes with a dead letter ([`DeadLetterAlert`]). Alerts about alert events are
/// only logged (an alert that cannot be delivered must not enqueue another one).
async fn alert_dead_letter(env: &Env, ev: &ClaimedEvent, reason: DeadReason, error: &str) {
    let rule = rules::dead_letter_alert(&ev.aggregate_type, reason);
    if let Some(line) = rule.log_line(ev, reason, error) {
        log(Level::Error, &line);
    }
    let Some(alert) = rule.alert(ev, reason, error) else {
        return;
    };
    if let Err(e) = alerts::raise(env, alert).await {
        log(Level::Error, &DeadLetterAlert::raise_failed_line(ev, e));
    }
}

/// Where the events of one claim go: their watches from D1, the alert and pager webhooks from the vars.
async fn destinations(
    env: &Env,
    db: &D1Database,
    claimed: &[(String, ClaimedEvent)],
) -> Result<Destinations, EdgeError> {
    let ids = Destinations::watch_ids(claimed);
    let watches = if ids.is_empty() {
        Vec::new()
    } else {
        d1::all(db, sql::watch_destinations(&ids)?).await?
    };
    Ok(Destinations::new(
        watches,
        vars::text(env, ALERT_WEBHOOK_URL),
        vars::text(env, PAGER_WEBHOOK_URL),
    ))
}

/// A cron run raises a WARNING when more events than the threshold are undelivered.
async fn check_backlog(env: &Env, db: &D1Database, cfg: &RelayConfig) -> Result<(), EdgeError> {
    let now = now_ms();
    let counts = super::counts(db, now).await?;
    if let Some(backlog) = rules::backlog(&counts, now, cfg.backlog_alert_threshold) {
        alerts::raise(env, backlog.alert(cfg.backlog_alert_threshold)).await?;
    }
    Ok(())
}

async fn purge_delivered(db: &D1Database, cfg: &RelayConfig) -> Result<(), EdgeError> {
    let cutoff = rules::purge_cutoff(now_ms(), cfg.delivered_retention_ms);
    d1::run(db, sql::purge_delivered(cutoff)).await?;
    Ok(())
}

/// Start a relay run after the response is sent, so a fresh event normally leaves within seconds.
pub fn kick(ctx: &worker::Context, env: &Env) {
    let env = env.clone();
    ctx.wait_until(async move { run_after_write(&env).await });
}

/// What [`kick`] runs after the response: one relay run (its own log line), then a metrics flush. For
/// work already running after the response (in a `wait_until`).
pub async fn run_after_write(env: &Env) {
    let task =
        crate::context::TaskContext::new(crate::context::new_request_id(), "outbox", "relay_after_write");
    let result = run(env, Trigger::AfterWrite).await;
    if let Ok(report) = &result {
        task.record_json("relay", report);
    }
    task.finish_result(&result, None);
    crate::metrics_store::flush_or_log(env, false).await;
}
