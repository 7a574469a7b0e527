//! The relay: claim due events under a lease, check their hash, deliver them, settle them fenced by the
//! lease token. Runs from the Cron Trigger, right after each write (`wait_until`), and from the admin
//! route. Any number of relays may run at once: a claim is one atomic `UPDATE … RETURNING`, and a relay
//! whose lease expired can no longer settle the events it held.
use crate::error::Platform;
use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use worker::{console_error, D1Database, D1PreparedStatement, Env, Url};

use super::{dead_letter, js_num, Aggregate};
use crate::alerts::{self, Alert, AlertKind};
use crate::bindings::{ALERT_WEBHOOK_URL, DB, PAGER_WEBHOOK_URL};
use crate::context::now_ms;
use crate::error::EdgeError;
use crate::vars::{self, ConfigError};
use crate::webhook::{self, PostOutcome};
use pve_edge::outbox::{self, Attempt, DeadReason, Settle, SettleLimits};

pub use pve_edge::config::RelayConfig;

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

/// What one relay run did. Serialized as the admin route's answer and into the log line.
#[derive(Debug, Default, Serialize)]
pub struct RunReport {
    pub claims: u32,
    pub claimed: u32,
    pub delivered: u32,
    pub retried: u32,
    pub dead_lettered: u32,
    pub content_hash_mismatches: u32,
    /// Settlements refused because this relay's lease had been taken over.
    pub fenced_out: u32,
    pub budget_exhausted: bool,
    pub duration_ms: u64,
    /// Up to 20 dead-lettered events of this run (event id, reason), for the log.
    pub dead: Vec<(String, &'static str)>,
}

/// An event as claimed.
#[derive(Debug, Deserialize)]
struct Claimed {
    event_id: String,
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
    payload: String,
    content_hash: String,
    attempts: u32,
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
        if now_ms().saturating_sub(started) >= cfg.budget_ms {
            report.budget_exhausted = true;
            break;
        }
        let claimed = claim(&db, &cfg).await?;
        if claimed.is_empty() {
            break;
        }
        report.claims += 1;
        report.claimed += claimed.len() as u32;
        process(env, &db, &cfg, claimed, &mut report).await?;
    }
    if trigger == Trigger::Cron {
        purge_delivered(&db, &cfg).await?;
    }
    report.duration_ms = now_ms().saturating_sub(started);
    Ok(report)
}

/// Claims up to `batch_size` due events, each the head of its aggregate, under one fresh lease token.
async fn claim(db: &D1Database, cfg: &RelayConfig) -> Result<Vec<(String, Claimed)>, EdgeError> {
    let token = crate::token::random_id("lease_", 16).platform()?;
    let now = now_ms();
    let rows: Vec<Claimed> = db
        .prepare(
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
            js_num(now + cfg.lease_ms),
            js_num(now),
            cfg.batch_size.into(),
        ])
        .platform()?
        .all()
        .await
        .platform()?
        .results()
        .platform()?;
    Ok(rows.into_iter().map(|c| (token.clone(), c)).collect())
}

async fn process(
    env: &Env,
    db: &D1Database,
    cfg: &RelayConfig,
    claimed: Vec<(String, Claimed)>,
    report: &mut RunReport,
) -> Result<(), EdgeError> {
    let destinations = Destinations::load(env, db, &claimed).await?;
    let timeout = Duration::from_millis(cfg.delivery_timeout_ms);
    let settles = join_all(claimed.iter().map(|(_, ev)| async {
        let limits = SettleLimits {
            max_attempts: cfg.max_attempts,
            backoff_cap_ms: cfg.backoff_cap_ms,
        };
        let hash_ok = super::hash_matches(&ev.event_id, &ev.event_type, &ev.payload, &ev.content_hash);
        if let Err(settle) = outbox::precheck(hash_ok, ev.attempts, limits) {
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
    let mut statements: Vec<D1PreparedStatement> = Vec::new();
    let mut fence_index: Vec<usize> = Vec::with_capacity(claimed.len());
    for ((token, ev), settle) in claimed.iter().zip(&settles) {
        let key: [wasm_bindgen::JsValue; 2] = [ev.event_id.as_str().into(), token.as_str().into()];
        match settle {
            Settle::Delivered => {
                fence_index.push(statements.len());
                statements.push(
                    db.prepare(
                        "UPDATE outbox SET status = 'delivered', delivered_at = ?3, updated_at = ?3, \
                         lease_token = NULL, lease_expires_at = NULL, last_error = NULL \
                         WHERE event_id = ?1 AND lease_token = ?2",
                    )
                    .bind(&[key[0].clone(), key[1].clone(), js_num(now)])
                    .platform()?,
                );
            }
            Settle::Retry { error, delay_ms } => {
                fence_index.push(statements.len());
                statements.push(
                    db.prepare(
                        "UPDATE outbox SET status = 'pending', next_attempt_at = ?3 + ?5, updated_at = ?3, \
                         lease_token = NULL, lease_expires_at = NULL, last_error = ?4, \
                         history = json_insert(history, '$[#]', json_object('at', ?3, 'attempt', attempts, 'error', ?4)) \
                         WHERE event_id = ?1 AND lease_token = ?2",
                    )
                    .bind(&[key[0].clone(), key[1].clone(), js_num(now), error.as_str().into(), js_num(*delay_ms)]).platform()?,
                );
            }
            Settle::Dead { reason, error } => {
                let [insert, delete] = dead_letter::move_statements(
                    db,
                    "event_id = ?1 AND lease_token = ?2",
                    key,
                    reason.as_str(),
                    error,
                    now,
                )
                .platform()?;
                // The insert and the delete carry the same fence; the delete's count tells the outcome.
                statements.push(insert);
                fence_index.push(statements.len());
                statements.push(delete);
            }
        }
    }
    let results = db.batch(statements).await.platform()?;

    for (((_, ev), settle), idx) in claimed.iter().zip(settles).zip(fence_index) {
        // A missing count is an error of the whole run, never a fenced-out settlement.
        let changed = crate::d1::changes_at(&results, idx)?;
        let outcome = outbox::outcome(&settle, changed).as_str();
        crate::metrics::inc(crate::metrics::OUTBOX_DELIVERIES, &[("outcome", outcome)]);
        if changed == 0 {
            report.fenced_out += 1;
            continue;
        }
        match settle {
            Settle::Delivered => report.delivered += 1,
            Settle::Retry { .. } => report.retried += 1,
            Settle::Dead { reason, error } => {
                report.dead_lettered += 1;
                if report.dead.len() < 20 {
                    report.dead.push((ev.event_id.clone(), reason.as_str()));
                }
                if reason == DeadReason::ContentHashMismatch {
                    report.content_hash_mismatches += 1;
                }
                alert_dead_letter(env, ev, reason, &error).await;
            }
        }
    }
    Ok(())
}

/// Raise the alert that goes with a dead letter. Alerts about alert events are only logged (an alert
/// that cannot be delivered must not enqueue another one), and a deleted watch is expected, not alarming.
async fn alert_dead_letter(env: &Env, ev: &Claimed, reason: DeadReason, error: &str) {
    let is_alert =
        ev.aggregate_type == Aggregate::Alert.as_str() || ev.aggregate_type == Aggregate::Page.as_str();
    let alert = match reason {
        DeadReason::WatchDeleted => return,
        DeadReason::ContentHashMismatch => Alert::new(
            AlertKind::ContentHashMismatch,
            format!(
                "Event {} ({}) on {} {} failed its content-hash check and was dead-lettered without delivery. \
                 Its row was changed after it was written.",
                ev.event_id, ev.event_type, ev.aggregate_type, ev.aggregate_id
            ),
        ),
        _ if is_alert => {
            console_error!(
                "{}",
                serde_json::json!({"domain": "alerts", "task": "alert_dead_lettered", "event_id": ev.event_id,
                    "reason": reason.as_str(), "error": error})
            );
            return;
        }
        _ => Alert::new(
            AlertKind::DeadLettered,
            format!(
                "Event {} ({}) on {} {} was dead-lettered: {}.",
                ev.event_id,
                ev.event_type,
                ev.aggregate_type,
                ev.aggregate_id,
                reason.as_str()
            ),
        )
        .key_suffix(reason.as_str()),
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
        claimed: &[(String, Claimed)],
    ) -> Result<Destinations, EdgeError> {
        let ids: Vec<&str> = claimed
            .iter()
            .filter(|(_, c)| c.aggregate_type == Aggregate::Watch.as_str())
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
            let rows: Vec<Row> = db
                .prepare("SELECT id, webhook_url, status FROM watches WHERE id IN (SELECT value FROM json_each(?1))")
                .bind(&[ids_json.into()]).platform()?
                .all()
                .await.platform()?
                .results().platform()?;
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

    fn resolve(&self, cfg: &RelayConfig, ev: &Claimed) -> Result<Url, (DeadReason, String)> {
        let raw = match Aggregate::parse(&ev.aggregate_type) {
            Some(Aggregate::Watch) => match self.watches.get(&ev.aggregate_id) {
                Some((url, status)) if status == "active" => url,
                _ => return Err((DeadReason::WatchDeleted, "the watch was deleted".into())),
            },
            Some(Aggregate::Alert) => match &self.alert_url {
                Some(url) => url,
                None => {
                    return Err((
                        DeadReason::AlertWebhookNotConfigured,
                        "ALERT_WEBHOOK_URL is not set".into(),
                    ));
                }
            },
            Some(Aggregate::Page) => match &self.pager_url {
                Some(url) => url,
                None => {
                    return Err((
                        DeadReason::PagerWebhookNotConfigured,
                        "PAGER_WEBHOOK_URL is not set".into(),
                    ));
                }
            },
            None => {
                return Err((
                    DeadReason::UnknownAggregate,
                    format!("aggregate type {:?}", ev.aggregate_type),
                ))
            }
        };
        cfg.webhooks
            .check(raw)
            .map_err(|e| (DeadReason::InvalidDestination, e.to_string()))
    }
}

/// A cron run raises a WARNING when more events than the threshold are undelivered.
async fn check_backlog(env: &Env, db: &D1Database, cfg: &RelayConfig) -> Result<(), EdgeError> {
    let now = now_ms();
    let counts = super::counts(db, now).await?;
    let backlog = counts.pending + counts.leased + counts.leased_expired;
    if backlog > cfg.backlog_alert_threshold {
        let oldest_age_s = counts
            .oldest_undelivered_created_at
            .map_or(0, |t| now.saturating_sub(t) / 1000);
        alerts::raise(
            env,
            Alert::new(
                AlertKind::OutboxBacklog,
                format!(
                    "{backlog} outbox events are undelivered at the start of a cron relay run (threshold {}).",
                    cfg.backlog_alert_threshold
                ),
            )
            .count("undelivered_events", backlog as i64)
            .count("due_now", (counts.pending_due + counts.leased_expired) as i64)
            .count("oldest_undelivered_age_s", oldest_age_s as i64),
        )
        .await?;
    }
    Ok(())
}

async fn purge_delivered(db: &D1Database, cfg: &RelayConfig) -> Result<(), EdgeError> {
    let cutoff = now_ms().saturating_sub(cfg.delivered_retention_ms);
    db.prepare("DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?1")
        .bind(&[js_num(cutoff)])
        .platform()?
        .run()
        .await
        .platform()?;
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
    match run(env, Trigger::AfterWrite).await {
        Ok(report) => {
            record_report(&task, &report);
            task.finish(crate::context::Outcome::Ok, None);
        }
        Err(e) => task.finish(
            crate::context::Outcome::Error {
                code: e.code(),
                detail: e.to_string(),
            },
            None,
        ),
    }
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
