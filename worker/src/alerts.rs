//! Operational alerts. CRITICAL and WARNING alerts go through the outbox to `ALERT_WEBHOOK_URL` as
//! Discord-compatible messages (title, severity, what happened, counts, runbook link); CRITICAL ones
//! also page: a PagerDuty Events API v2 event to `PAGER_WEBHOOK_URL` (routing key `PAGER_ROUTING_KEY`),
//! through the outbox too. INFO alerts are only logged and counted. The routing and the page payload are
//! [`pve_edge::alerts`]. The same alert key within `ALERT_WINDOW_S` is counted, not re-sent (nor
//! re-paged): the window bookkeeping and the outbox inserts are one D1 batch, so exactly one raise per
//! window enqueues. [`resolve`] ends an alert: a `resolve` page (same `dedup_key`) and a chat message, and
//! the next raise of the key is sent again.
use crate::error::Platform;
use pve_edge::alerts::{channels, page_event, Page, PageAction};
use serde::{Deserialize, Serialize};
use worker::{console_error, console_log, console_warn, Env};

use crate::bindings::{DB, PAGER_ROUTING_KEY, PAGER_WEBHOOK_URL};
use crate::context::now_ms;
use crate::error::EdgeError;
use crate::outbox::{self, js_num, Aggregate, NewEvent};
use crate::vars::{self, ConfigError};

pub use pve_edge::alerts::Severity;

/// Discord embed colour.
fn colour(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 0xE74C3C,
        Severity::Warning => 0xF1C40F,
        Severity::Info => 0x3498DB,
    }
}

/// The colour of a resolution message.
const RESOLVED_COLOUR: u32 = 0x2ECC71;
/// `payload.source` of pages.
const PAGE_SOURCE: &str = "pve";

/// The alerts we know, each with its severity, title and runbook anchor (`RUNBOOK.md#<anchor>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertKind {
    /// An event went to the dead-letter table (key per reason).
    DeadLettered,
    /// An event's stored content hash did not match: the outbox row was changed after it was written.
    ContentHashMismatch,
    /// The upstream circuit breaker opened.
    UpstreamCircuitOpen,
    /// The upstream rate budget is exhausted (or the upstream answered 429).
    UpstreamRateLimitExhausted,
    /// More due outbox events than the threshold after a relay run.
    OutboxBacklog,
    /// The watch sweep could not refresh characters (informational).
    WatchSweepDegraded,
}

impl AlertKind {
    const ALL: [AlertKind; 6] = [
        AlertKind::DeadLettered,
        AlertKind::ContentHashMismatch,
        AlertKind::UpstreamCircuitOpen,
        AlertKind::UpstreamRateLimitExhausted,
        AlertKind::OutboxBacklog,
        AlertKind::WatchSweepDegraded,
    ];

    /// The kind of an alert key (`kind.key()`, or that followed by `.suffix`).
    pub fn from_key(key: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| {
            key == k.key()
                || key
                    .strip_prefix(k.key())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    pub fn severity(self) -> Severity {
        match self {
            AlertKind::ContentHashMismatch => Severity::Critical,
            AlertKind::DeadLettered
            | AlertKind::UpstreamCircuitOpen
            | AlertKind::UpstreamRateLimitExhausted
            | AlertKind::OutboxBacklog => Severity::Warning,
            AlertKind::WatchSweepDegraded => Severity::Info,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            AlertKind::DeadLettered => "outbox.dead_lettered",
            AlertKind::ContentHashMismatch => "outbox.content_hash_mismatch",
            AlertKind::UpstreamCircuitOpen => "upstream.circuit_open",
            AlertKind::UpstreamRateLimitExhausted => "upstream.rate_limit_exhausted",
            AlertKind::OutboxBacklog => "outbox.backlog",
            AlertKind::WatchSweepDegraded => "watches.sweep_degraded",
        }
    }

    fn title(self) -> &'static str {
        match self {
            AlertKind::DeadLettered => "Outbox event dead-lettered",
            AlertKind::ContentHashMismatch => "Outbox content hash mismatch",
            AlertKind::UpstreamCircuitOpen => "Upstream circuit open",
            AlertKind::UpstreamRateLimitExhausted => "Upstream rate limit exhausted",
            AlertKind::OutboxBacklog => "Outbox backlog over threshold",
            AlertKind::WatchSweepDegraded => "Watch sweep degraded",
        }
    }

    /// Stable anchors of the runbook entries (the runbook itself is written separately).
    pub fn runbook_anchor(self) -> &'static str {
        match self {
            AlertKind::DeadLettered => "outbox-dead-letter",
            AlertKind::ContentHashMismatch => "outbox-content-hash-mismatch",
            AlertKind::UpstreamCircuitOpen => "upstream-circuit-open",
            AlertKind::UpstreamRateLimitExhausted => "upstream-rate-limit-exhausted",
            AlertKind::OutboxBacklog => "outbox-backlog",
            AlertKind::WatchSweepDegraded => "watch-sweep-degraded",
        }
    }
}

/// One occurrence of an alert. Build with [`Alert::new`] and the `count` / `detail` / `key_suffix` adders.
#[derive(Debug, Clone)]
pub struct Alert {
    pub kind: AlertKind,
    key_suffix: Option<String>,
    what_happened: String,
    counts: Vec<(String, i64)>,
    details: Vec<(String, String)>,
}

impl Alert {
    pub fn new(kind: AlertKind, what_happened: impl Into<String>) -> Alert {
        Alert {
            kind,
            key_suffix: None,
            what_happened: what_happened.into(),
            counts: vec![],
            details: vec![],
        }
    }

    /// Narrows the dedup key (e.g. per dead-letter reason).
    pub fn key_suffix(mut self, suffix: impl Into<String>) -> Alert {
        self.key_suffix = Some(suffix.into());
        self
    }

    pub fn count(mut self, name: impl Into<String>, value: i64) -> Alert {
        self.counts.push((name.into(), value));
        self
    }

    pub fn detail(mut self, name: impl Into<String>, value: impl Into<String>) -> Alert {
        self.details.push((name.into(), value.into()));
        self
    }

    pub fn key(&self) -> String {
        match &self.key_suffix {
            Some(s) => format!("{}.{s}", self.kind.key()),
            None => self.kind.key().to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct AlertConfig {
    /// Dedup window: `ALERT_WINDOW_S` (default 900).
    pub window_ms: u64,
}

impl AlertConfig {
    pub fn from_env(env: &Env) -> Result<AlertConfig, ConfigError> {
        Ok(AlertConfig {
            window_ms: vars::number(env, "ALERT_WINDOW_S", 900u64, 0, 604_800)? * 1000,
        })
    }
}

/// What [`raise`] did.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Raised {
    /// First occurrence in its window: a message is in the outbox (and a page, for CRITICAL with a
    /// pager configured).
    Enqueued {
        event_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        page_event_id: Option<String>,
    },
    /// Already sent in this window: counted only.
    Counted { count_in_window: u64 },
    /// INFO: logged and counted.
    Logged,
}

#[derive(Deserialize)]
struct PrevState {
    window_started_at: u64,
    count_in_window: u64,
    resolved_at: Option<u64>,
}

/// Where pages go, when paging is configured.
enum Pager {
    /// `PAGER_WEBHOOK_URL` is not set: CRITICAL alerts go to chat only.
    Off,
    /// `PAGER_WEBHOOK_URL` is set but `PAGER_ROUTING_KEY` is not: nothing can page; the chat message says so.
    NoRoutingKey,
    On {
        routing_key: String,
    },
}

impl Pager {
    fn from_env(env: &Env) -> Pager {
        match (
            vars::text(env, PAGER_WEBHOOK_URL),
            vars::text(env, PAGER_ROUTING_KEY),
        ) {
            (None, _) => Pager::Off,
            (Some(_), None) => Pager::NoRoutingKey,
            (Some(_), Some(routing_key)) => Pager::On { routing_key },
        }
    }
}

fn runbook_link(env: &Env, kind: AlertKind) -> String {
    let runbook_base = vars::text(env, "RUNBOOK_URL").unwrap_or_else(|| "RUNBOOK.md".to_owned());
    format!("{runbook_base}#{}", kind.runbook_anchor())
}

/// Count the alert, and enqueue its message if it is the first of its key in the window.
pub async fn raise(env: &Env, alert: Alert) -> Result<Raised, EdgeError> {
    let cfg = AlertConfig::from_env(env)?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let key = alert.key();
    let severity = alert.kind.severity();
    let event_id = outbox::new_event_id()?;

    // Read the previous window only to report how many were suppressed; the decision is made atomically
    // by the upsert below.
    let prev: Option<PrevState> = db
        .prepare(
            "SELECT window_started_at, count_in_window, resolved_at FROM alert_state WHERE alert_key = ?1",
        )
        .bind(&[key.as_str().into()])
        .platform()?
        .first(None)
        .await
        .platform()?;
    let suppressed = pve_edge::alerts::suppressed_before(
        prev.map(|p| pve_edge::alerts::Window {
            started_at_ms: p.window_started_at,
            count_in_window: p.count_in_window,
            resolved: p.resolved_at.is_some(),
        }),
        cfg.window_ms,
        now,
    );

    let upsert = db
        .prepare(
            "INSERT INTO alert_state (alert_key, severity, window_started_at, count_in_window, total_count, \
                 last_event_id, updated_at) VALUES (?1, ?2, ?3, 1, 1, ?4, ?3) \
             ON CONFLICT (alert_key) DO UPDATE SET severity = excluded.severity, \
                 count_in_window = CASE WHEN alert_state.window_started_at + ?5 <= ?3 \
                     OR alert_state.resolved_at IS NOT NULL THEN 1 \
                     ELSE alert_state.count_in_window + 1 END, \
                 last_event_id = CASE WHEN alert_state.window_started_at + ?5 <= ?3 \
                     OR alert_state.resolved_at IS NOT NULL THEN ?4 \
                     ELSE alert_state.last_event_id END, \
                 window_started_at = CASE WHEN alert_state.window_started_at + ?5 <= ?3 \
                     OR alert_state.resolved_at IS NOT NULL THEN ?3 \
                     ELSE alert_state.window_started_at END, \
                 resolved_at = NULL, \
                 total_count = alert_state.total_count + 1, updated_at = ?3",
        )
        .bind(&[
            key.as_str().into(),
            severity.as_str().into(),
            js_num(now),
            event_id.as_str().into(),
            js_num(cfg.window_ms),
        ])
        .platform()?;

    let log_line = serde_json::json!({
        "domain": "alerts", "task": "raise", "alert_key": key, "severity": severity.as_str(),
        "what_happened": alert.what_happened,
    })
    .to_string();

    let route = channels(severity);
    if !route.chat && !route.pager {
        db.batch(vec![upsert]).await.platform()?;
        console_log!("{log_line}");
        return Ok(Raised::Logged);
    }

    let pager = if route.pager {
        Pager::from_env(env)
    } else {
        Pager::Off
    };
    let mut alert = alert;
    if matches!(pager, Pager::NoRoutingKey) {
        console_error!(
            "{}",
            serde_json::json!({"domain": "alerts", "task": "page", "alert_key": key, "outcome": "error",
                "error_detail": "PAGER_WEBHOOK_URL is set but PAGER_ROUTING_KEY is not: nobody is paged"})
        );
        alert = alert.detail(
            "paging",
            "not sent: PAGER_WEBHOOK_URL is set but PAGER_ROUTING_KEY is not",
        );
    }
    // Both inserts happen only if this raise opened the window (its event id is the row's last one).
    let guard = "EXISTS (SELECT 1 FROM alert_state WHERE alert_key = ?8 AND last_event_id = ?9)";
    let guard_binds = || [key.as_str().into(), event_id.as_str().into()];
    let mut statements = vec![upsert];
    if route.chat {
        let event = NewEvent {
            event_id: event_id.clone(),
            aggregate: Aggregate::Alert,
            aggregate_id: key.clone(),
            event_type: format!("alert.{}", severity.as_str().to_ascii_lowercase()),
            payload: discord_message(env, &alert, &key, now, suppressed)?,
        };
        statements.push(event.insert_if(&db, now, guard, guard_binds()).platform()?);
    }
    let page_event_id = match &pager {
        Pager::On { routing_key } => {
            let id = outbox::new_event_id()?;
            let event = NewEvent {
                event_id: id.clone(),
                aggregate: Aggregate::Page,
                aggregate_id: key.clone(),
                event_type: "page.trigger".into(),
                payload: trigger_page(env, &alert, &key, routing_key, now, suppressed)?,
            };
            statements.push(event.insert_if(&db, now, guard, guard_binds()).platform()?);
            Some(id)
        }
        Pager::Off | Pager::NoRoutingKey => None,
    };
    let results = db.batch(statements).await.platform()?;
    let enqueued = crate::d1::changes_at(&results, 1)? > 0;
    match severity {
        Severity::Critical => console_error!("{log_line}"),
        _ => console_warn!("{log_line}"),
    }
    if enqueued {
        Ok(Raised::Enqueued {
            event_id,
            page_event_id,
        })
    } else {
        let count: Option<u64> = db
            .prepare("SELECT count_in_window FROM alert_state WHERE alert_key = ?1")
            .bind(&[key.as_str().into()])
            .platform()?
            .first(Some("count_in_window"))
            .await
            .platform()?;
        Ok(Raised::Counted {
            count_in_window: count
                .ok_or_else(|| EdgeError::internal("alert_state row missing right after its upsert"))?,
        })
    }
}

/// The Discord-compatible webhook body: `content` plus one embed. Discord's limits (title 256, description
/// 4096, field value 1024, 25 fields) are respected by truncation.
fn discord_message(
    env: &Env,
    alert: &Alert,
    key: &str,
    now: u64,
    suppressed: u64,
) -> Result<String, EdgeError> {
    let severity = alert.kind.severity();
    let runbook = runbook_link(env, alert.kind);
    let title = clip(&format!("[{}] {}", severity.as_str(), alert.kind.title()), 256);
    let mut fields = vec![
        field("severity", severity.as_str(), true),
        field("alert key", key, true),
        field("suppressed in the previous window", &suppressed.to_string(), true),
    ];
    for (name, value) in &alert.counts {
        fields.push(field(name, &value.to_string(), true));
    }
    for (name, value) in &alert.details {
        fields.push(field(name, value, false));
    }
    fields.push(field("runbook", &runbook, false));
    fields.truncate(25);
    let mut embed = serde_json::json!({
        "title": title,
        "description": clip(&format!("{}\n\nWhat to do: {runbook}", alert.what_happened), 4096),
        "color": colour(severity),
        "fields": fields,
        "timestamp": iso8601(now),
    });
    if runbook.starts_with("https://") {
        embed["url"] = runbook.clone().into();
    }
    let body = serde_json::json!({
        "content": clip(&format!("**{title}**: {}", alert.what_happened), 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    });
    serde_json::to_string(&body).map_err(|e| EdgeError::internal(e.to_string()))
}

fn field(name: &str, value: &str, inline: bool) -> serde_json::Value {
    serde_json::json!({"name": clip(name, 256), "value": clip(if value.is_empty() { "-" } else { value }, 1024), "inline": inline})
}

use pve_edge::alerts::clip;

/// The trigger page of a CRITICAL alert (PagerDuty Events API v2).
fn trigger_page(
    env: &Env,
    alert: &Alert,
    key: &str,
    routing_key: &str,
    now: u64,
    suppressed: u64,
) -> Result<String, EdgeError> {
    let runbook = runbook_link(env, alert.kind);
    let summary = format!(
        "[{}] {}: {}",
        alert.kind.severity().as_str(),
        alert.kind.title(),
        alert.what_happened
    );
    let mut details: Vec<(String, String)> = vec![
        ("alert_key".into(), key.to_owned()),
        ("suppressed_in_previous_window".into(), suppressed.to_string()),
    ];
    details.extend(alert.counts.iter().map(|(k, v)| (k.clone(), v.to_string())));
    details.extend(alert.details.iter().cloned());
    let timestamp = iso8601(now);
    let page = Page {
        routing_key,
        action: PageAction::Trigger,
        dedup_key: key,
        summary: &summary,
        source: PAGE_SOURCE,
        runbook: &runbook,
        timestamp: &timestamp,
        details: &details,
    };
    serde_json::to_string(&page_event(&page)).map_err(|e| EdgeError::internal(e.to_string()))
}

/// What [`resolve`] did.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Resolved {
    /// The alert was open: a resolution message (and a `resolve` page, for CRITICAL with a pager) is in
    /// the outbox.
    Resolved {
        alert_key: String,
        severity: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        event_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        page_event_id: Option<String>,
    },
    /// It was resolved already (and not raised since): nothing is sent.
    AlreadyResolved { alert_key: String, resolved_at: String },
}

/// Resolve the alert `key`: mark it resolved (its next raise opens a new window and is sent), and enqueue
/// a resolution message to chat (CRITICAL, WARNING) and a `resolve` page with the same `dedup_key`
/// (CRITICAL). One D1 batch; the inserts happen only if this call is the one that resolved it.
///
/// # Errors
/// `AlertNotFound` if the key was never raised.
pub async fn resolve(env: &Env, key: &str) -> Result<Resolved, EdgeError> {
    #[derive(Deserialize)]
    struct Row {
        severity: String,
        resolved_at: Option<u64>,
    }
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let row: Option<Row> = db
        .prepare("SELECT severity, resolved_at FROM alert_state WHERE alert_key = ?1")
        .bind(&[key.into()])
        .platform()?
        .first(None)
        .await
        .platform()?;
    let row = row.ok_or(EdgeError::AlertNotFound)?;
    if let Some(at) = row.resolved_at {
        return Ok(Resolved::AlreadyResolved {
            alert_key: key.to_owned(),
            resolved_at: iso8601(at),
        });
    }
    let severity = match row.severity.as_str() {
        "CRITICAL" => Severity::Critical,
        "WARNING" => Severity::Warning,
        "INFO" => Severity::Info,
        other => return Err(EdgeError::internal(format!("alert_state severity {other:?}"))),
    };
    let kind = AlertKind::from_key(key);
    let resolution_id = outbox::new_event_id()?;
    let mark = db
        .prepare(
            "UPDATE alert_state SET resolved_at = ?2, last_event_id = ?3, updated_at = ?2 \
             WHERE alert_key = ?1 AND resolved_at IS NULL",
        )
        .bind(&[key.into(), js_num(now), resolution_id.as_str().into()])
        .platform()?;
    let guard = "EXISTS (SELECT 1 FROM alert_state WHERE alert_key = ?8 AND last_event_id = ?9)";
    let guard_binds = || [key.into(), resolution_id.as_str().into()];
    let route = channels(severity);
    let mut statements = vec![mark];
    let event_id = if route.chat {
        let event = NewEvent {
            event_id: resolution_id.clone(),
            aggregate: Aggregate::Alert,
            aggregate_id: key.to_owned(),
            event_type: "alert.resolved".into(),
            payload: resolved_message(env, kind, key, severity, now)?,
        };
        statements.push(event.insert_if(&db, now, guard, guard_binds()).platform()?);
        Some(resolution_id.clone())
    } else {
        None
    };
    let page_event_id = match (route.pager, Pager::from_env(env)) {
        (true, Pager::On { routing_key }) => {
            let id = outbox::new_event_id()?;
            let runbook = kind.map_or_else(|| "RUNBOOK.md".to_owned(), |k| runbook_link(env, k));
            let timestamp = iso8601(now);
            let page = Page {
                routing_key: &routing_key,
                action: PageAction::Resolve,
                dedup_key: key,
                summary: "",
                source: PAGE_SOURCE,
                runbook: &runbook,
                timestamp: &timestamp,
                details: &[],
            };
            let payload =
                serde_json::to_string(&page_event(&page)).map_err(|e| EdgeError::internal(e.to_string()))?;
            let event = NewEvent {
                event_id: id.clone(),
                aggregate: Aggregate::Page,
                aggregate_id: key.to_owned(),
                event_type: "page.resolve".into(),
                payload,
            };
            statements.push(event.insert_if(&db, now, guard, guard_binds()).platform()?);
            Some(id)
        }
        _ => None,
    };
    let results = db.batch(statements).await.platform()?;
    if crate::d1::changes_at(&results, 0)? == 0 {
        // Another call resolved it between the read and the update.
        return Ok(Resolved::AlreadyResolved {
            alert_key: key.to_owned(),
            resolved_at: iso8601(now),
        });
    }
    console_log!(
        "{}",
        serde_json::json!({"domain": "alerts", "task": "resolve", "alert_key": key, "severity": severity.as_str()})
    );
    Ok(Resolved::Resolved {
        alert_key: key.to_owned(),
        severity: severity.as_str(),
        event_id,
        page_event_id,
    })
}

/// The chat message of a resolution.
fn resolved_message(
    env: &Env,
    kind: Option<AlertKind>,
    key: &str,
    severity: Severity,
    now: u64,
) -> Result<String, EdgeError> {
    let name = kind.map_or(key, |k| k.title());
    let title = clip(&format!("[RESOLVED] {name}"), 256);
    let mut fields = vec![
        field("severity", severity.as_str(), true),
        field("alert key", key, true),
    ];
    if let Some(k) = kind {
        fields.push(field("runbook", &runbook_link(env, k), false));
    }
    let body = serde_json::json!({
        "content": clip(&format!("**{title}**"), 2000),
        "embeds": [{
            "title": title,
            "description": format!("The {} alert {key} was resolved.", severity.as_str()),
            "color": RESOLVED_COLOUR,
            "fields": fields,
            "timestamp": iso8601(now),
        }],
        "allowed_mentions": {"parse": []},
    });
    serde_json::to_string(&body).map_err(|e| EdgeError::internal(e.to_string()))
}

pub use pve_edge::time::iso8601;

/// Per-key counts for the admin stats route.
#[derive(Debug, Serialize, Deserialize)]
pub struct AlertCount {
    pub alert_key: String,
    pub severity: String,
    pub total_count: u64,
    pub count_in_window: u64,
    pub window_started_at: u64,
    pub last_event_id: Option<String>,
    /// When it was resolved (epoch ms), `None` while open.
    pub resolved_at: Option<u64>,
}

pub async fn counts(env: &Env) -> Result<Vec<AlertCount>, EdgeError> {
    let db = env.d1(DB).platform()?;
    db.prepare(
        "SELECT alert_key, severity, total_count, count_in_window, window_started_at, last_event_id, \
             resolved_at FROM alert_state ORDER BY alert_key",
    )
    .all()
    .await
    .platform()?
    .results()
    .platform()
}
