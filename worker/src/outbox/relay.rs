//! The relay: claim due events under a lease, check their hash, deliver them, settle them fenced by the
//! lease token. Runs from the Cron Trigger, right after each write (`wait_until`), and from the admin
//! route. Any number of relays may run at once: a claim is one atomic `UPDATE … RETURNING`, and a relay
//! whose lease expired can no longer settle the events it held.
use crate::error::Platform;
use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;
use serde::Deserialize;
use worker::{console_error, D1Database, D1PreparedStatement, Env, Url};

use super::{dead_letter, js_num};
use crate::alerts::{self, Alert, AlertKind};
use crate::bindings::{ALERT_WEBHOOK_URL, DB, PAGER_WEBHOOK_URL};
use crate::context::now_ms;
use crate::error::EdgeError;
use crate::vars::{self, ConfigError};
use crate::webhook::{self, PostOutcome};
use pve_edge::outbox::relay::{self as rules, ClaimedEvent, DeadLetterAlert, WatchTarget, Write};
use pve_edge::outbox::{self, Attempt, DeadReason, Settle, SettleLimits};

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
            console_error!(
                "{}",
                serde_json::json!({"domain": "outbox", "task": "backlog_check", "outcome": "error",
                    "error_code": e.code(), "error_detail": e.to_string()})
            );
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
    let rows: Vec<ClaimedEvent> = crate::d1::all(
        db.prepare(
            "UPDATE outbox SET status = 'leased', lease_token = ?1, lease_expires_at = ?2, \
                 attempts = attempts + 1, updated_at = ?3 \
             WHERE event_id IN ( \
                 SELECT o.event_id FROM outbox AS o \
                 WHERE o.status != 'delivered' AND o.next_attempt_at <= ?3 \
                   AND (o.status = 'pending' OR o.lease_expires_at <= ?3) \
                   AND NOT EXISTS ( \
                       SELECT 1 FROM outbox AS p \
                       WHERE p.status != 'delivered' AND p.aggregate_type = o.aggregate_type \
                         AND p.aggregate_id = o.aggregate_id AND p.seq < o.seq) \
                 ORDER BY o.seq LIMIT ?4) \
             RETURNING event_id, aggregate_type, aggregate_id, event_type, payload, content_hash, attempts",
        )
        .bind(&[
            token.as_str().into(),
            js_num(rules::lease_expires_at(now, cfg.lease_ms)),
            js_num(now),
            cfg.batch_size.into(),
        ]),
    )
    .await?;
    Ok(rows.into_iter().map(|c| (token.clone(), c)).collect())
}

async fn process(
    env: &Env,
    db: &D1Database,
    cfg: &RelayConfig,
    claimed: Vec<(String, ClaimedEvent)>,
    report: &mut RunReport,
) -> Result<(), EdgeError> {
    let destinations = Destinations::load(env, db, &claimed).await?;
    let timeout = Duration::from_millis(cfg.delivery_timeout_ms);
    let settles = join_all(claimed.iter().map(|(_, ev)| async {
        let limits = SettleLimits {
            max_attempts: cfg.max_attempts,
            backoff_cap_ms: cfg.backoff_cap_ms,
        };
        if let Err(settle) = outbox::precheck(ev.hash_ok(), ev.attempts, limits) {
            return settle;
        }
        let attempt = match destinations.resolve(cfg, ev) {
            Err((reason, error)) => Attempt::NoDestination { reason, error },
            Ok(url) => {
                crate::metrics::inc(crate::metrics::OUTBOX_ATTEMPTS, &[]);
                match webhook::post_json(&url, &ev.payload, &ev.event_id, timeout).await {
                    PostOutcome::Delivered => Attempt::Delivered,
                    PostOutcome::Rejected { status } => Attempt::Rejected { status },
                    PostOutcome::Retryable {
                        error,
                        retry_after_ms,
                    } => Attempt::Retryable {
                        error,
                        retry_after_ms,
                    },
                }
            }
        };
        outbox::settle(
            &attempt,
            ev.attempts,
            cfg.backoff_ms(ev.attempts, crate::token::random_u64()),
            limits,
        )
    }))
    .await;

    // One batch settles the whole claim; every statement is fenced by the lease token.
    let now = now_ms();
    let plan = rules::plan(&settles);
    let mut statements: Vec<D1PreparedStatement> = Vec::with_capacity(plan.statements);
    for ((token, ev), write) in claimed.iter().zip(&plan.writes) {
        let id: wasm_bindgen::JsValue = ev.event_id.as_str().into();
        let lease: wasm_bindgen::JsValue = token.as_str().into();
        match write {
            Write::MarkDelivered => statements.push(
                db.prepare(
                    "UPDATE outbox SET status = 'delivered', delivered_at = ?3, updated_at = ?3, \
                     lease_token = NULL, lease_expires_at = NULL, last_error = NULL \
                     WHERE event_id = ?1 AND lease_token = ?2",
                )
                .bind(&[id, lease, js_num(now)])
                .platform()?,
            ),
            Write::Reschedule { error, delay_ms } => statements.push(
                db.prepare(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?3 + ?5, updated_at = ?3, \
                     lease_token = NULL, lease_expires_at = NULL, last_error = ?4, \
                     history = json_insert(history, '$[#]', json_object('at', ?3, 'attempt', attempts, 'error', ?4)) \
                     WHERE event_id = ?1 AND lease_token = ?2",
                )
                .bind(&[id, lease, js_num(now), (*error).into(), js_num(*delay_ms)])
                .platform()?,
            ),
            Write::MoveToDeadLetters { reason, error } => statements.extend(
                dead_letter::move_statements(
                    db,
                    "event_id = ?1 AND lease_token = ?2",
                    [id, lease],
                    reason.as_str(),
                    error,
                    now,
                )
                .platform()?,
            ),
        }
    }
    let results = db.batch(statements).await.platform()?;

    for (((_, ev), settle), idx) in claimed.iter().zip(&settles).zip(&plan.fence_index) {
        // A missing count is an error of the whole run, never a fenced-out settlement.
        let changed = crate::d1::changes_at(&results, *idx)?;
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

/// Raise the alert that goes with a dead letter. Alerts about alert events are only logged (an alert
/// that cannot be delivered must not enqueue another one), and a deleted watch is expected, not alarming.
async fn alert_dead_letter(env: &Env, ev: &ClaimedEvent, reason: DeadReason, error: &str) {
    let rule = rules::dead_letter_alert(&ev.aggregate_type, reason);
    if rule == DeadLetterAlert::LogOnly {
        console_error!(
            "{}",
            serde_json::json!({"domain": "alerts", "task": "alert_dead_lettered", "event_id": ev.event_id,
                "reason": reason.as_str(), "error": error})
        );
    }
    let Some(text) = rule.message(ev, reason) else {
        return;
    };
    let alert = match rule {
        DeadLetterAlert::ContentHashMismatch => Alert::new(AlertKind::ContentHashMismatch, text),
        _ => Alert::new(AlertKind::DeadLettered, text).key_suffix(reason.as_str()),
    };
    let alert = alert
        .count("attempts", ev.attempts as i64)
        .detail("event_id", &ev.event_id)
        .detail("last_error", error);
    if let Err(e) = alerts::raise(env, alert).await {
        console_error!(
            "{}",
            serde_json::json!({"domain": "alerts", "task": "raise_failed", "event_id": ev.event_id, "error": e.to_string()})
        );
    }
}

/// Where the events of one claim go.
struct Destinations {
    watches: HashMap<String, (String, String)>,
    alert_url: Option<String>,
    pager_url: Option<String>,
}

impl Destinations {
    async fn load(
        env: &Env,
        db: &D1Database,
        claimed: &[(String, ClaimedEvent)],
    ) -> Result<Destinations, EdgeError> {
        let ids: Vec<&str> = claimed
            .iter()
            .filter(|(_, c)| c.aggregate_type == outbox::Aggregate::Watch.as_str())
            .map(|(_, c)| c.aggregate_id.as_str())
            .collect();
        let mut watches = HashMap::new();
        if !ids.is_empty() {
            #[derive(Deserialize)]
            struct Row {
                id: String,
                webhook_url: String,
                status: String,
            }
            let ids_json = serde_json::to_string(&ids).map_err(|e| EdgeError::internal(e.to_string()))?;
            let rows: Vec<Row> = crate::d1::all(
                db.prepare("SELECT id, webhook_url, status FROM watches WHERE id IN (SELECT value FROM json_each(?1))")
                    .bind(&[ids_json.into()]),
            )
            .await?;
            watches = rows
                .into_iter()
                .map(|r| (r.id, (r.webhook_url, r.status)))
                .collect();
        }
        Ok(Destinations {
            watches,
            alert_url: vars::text(env, ALERT_WEBHOOK_URL),
            pager_url: vars::text(env, PAGER_WEBHOOK_URL),
        })
    }

    fn resolve(&self, cfg: &RelayConfig, ev: &ClaimedEvent) -> Result<Url, (DeadReason, String)> {
        let watch = self
            .watches
            .get(&ev.aggregate_id)
            .map(|(webhook_url, status)| WatchTarget { webhook_url, status });
        rules::destination(
            &cfg.webhooks,
            &ev.aggregate_type,
            watch,
            self.alert_url.as_deref(),
            self.pager_url.as_deref(),
        )
    }
}

/// A cron run raises a WARNING when more events than the threshold are undelivered.
async fn check_backlog(env: &Env, db: &D1Database, cfg: &RelayConfig) -> Result<(), EdgeError> {
    let now = now_ms();
    let counts = super::counts(db, now).await?;
    if let Some(backlog) = rules::backlog(&counts, now, cfg.backlog_alert_threshold) {
        alerts::raise(
            env,
            Alert::new(
                AlertKind::OutboxBacklog,
                backlog.message(cfg.backlog_alert_threshold),
            )
            .count("undelivered_events", backlog.undelivered as i64)
            .count("due_now", backlog.due_now as i64)
            .count("oldest_undelivered_age_s", backlog.oldest_age_s as i64),
        )
        .await?;
    }
    Ok(())
}

async fn purge_delivered(db: &D1Database, cfg: &RelayConfig) -> Result<(), EdgeError> {
    let cutoff = rules::purge_cutoff(now_ms(), cfg.delivered_retention_ms);
    crate::d1::run(
        db.prepare("DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?1")
            .bind(&[js_num(cutoff)]),
    )
    .await?;
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
        record_report(&task, report);
    }
    task.finish_result(&result, None);
    if let Err(e) = crate::metrics_store::flush(env, false).await {
        console_error!(
            "{}",
            serde_json::json!({"domain": "metrics", "task": "flush", "outcome": "error", "error_detail": e.to_string()})
        );
    }
}

pub fn record_report(task: &crate::context::TaskContext, report: &RunReport) {
    match serde_json::to_value(report) {
        Ok(v) => task.record("relay", v),
        Err(e) => task.record("relay_report_error", e.to_string()),
    }
}
