//! Operational alerts. CRITICAL and WARNING alerts go through the outbox to `ALERT_WEBHOOK_URL` as
//! Discord-compatible messages (title, severity, what happened, counts, runbook link); INFO alerts are
//! only logged and counted. The same alert key within `ALERT_WINDOW_S` is counted, not re-sent: the
//! window bookkeeping and the outbox insert are one D1 batch, so exactly one raise per window enqueues.
use crate::error::Platform;
use serde::{Deserialize, Serialize};
use worker::{console_error, console_log, console_warn, Env};

use crate::bindings::DB;
use crate::context::now_ms;
use crate::error::EdgeError;
use crate::outbox::{self, js_num, Aggregate, NewEvent};
use crate::vars::{self, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "WARNING",
            Severity::Info => "INFO",
        }
    }

    /// Discord embed colour.
    fn colour(self) -> u32 {
        match self {
            Severity::Critical => 0xE74C3C,
            Severity::Warning => 0xF1C40F,
            Severity::Info => 0x3498DB,
        }
    }
}

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
    /// First occurrence in its window: a message is in the outbox.
    Enqueued { event_id: String },
    /// Already sent in this window: counted only.
    Counted { count_in_window: u64 },
    /// INFO: logged and counted.
    Logged,
}

#[derive(Deserialize)]
struct PrevState {
    window_started_at: u64,
    count_in_window: u64,
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
        .prepare("SELECT window_started_at, count_in_window FROM alert_state WHERE alert_key = ?1")
        .bind(&[key.as_str().into()])
        .platform()?
        .first(None)
        .await
        .platform()?;
    let suppressed = pve_edge::alerts::suppressed_before(
        prev.map(|p| pve_edge::alerts::Window {
            started_at_ms: p.window_started_at,
            count_in_window: p.count_in_window,
        }),
        cfg.window_ms,
        now,
    );

    let upsert = db
        .prepare(
            "INSERT INTO alert_state (alert_key, severity, window_started_at, count_in_window, total_count, \
                 last_event_id, updated_at) VALUES (?1, ?2, ?3, 1, 1, ?4, ?3) \
             ON CONFLICT (alert_key) DO UPDATE SET severity = excluded.severity, \
                 count_in_window = CASE WHEN alert_state.window_started_at + ?5 <= ?3 THEN 1 \
                     ELSE alert_state.count_in_window + 1 END, \
                 last_event_id = CASE WHEN alert_state.window_started_at + ?5 <= ?3 THEN ?4 \
                     ELSE alert_state.last_event_id END, \
                 window_started_at = CASE WHEN alert_state.window_started_at + ?5 <= ?3 THEN ?3 \
                     ELSE alert_state.window_started_at END, \
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

    if severity == Severity::Info {
        db.batch(vec![upsert]).await.platform()?;
        console_log!("{log_line}");
        return Ok(Raised::Logged);
    }

    let payload = discord_message(env, &alert, &key, now, suppressed)?;
    let event = NewEvent {
        event_id: event_id.clone(),
        aggregate: Aggregate::Alert,
        aggregate_id: key.clone(),
        event_type: format!("alert.{}", severity.as_str().to_ascii_lowercase()),
        payload,
    };
    let insert = event
        .insert_if(
            &db,
            now,
            "EXISTS (SELECT 1 FROM alert_state WHERE alert_key = ?8 AND last_event_id = ?9)",
            [key.as_str().into(), event_id.as_str().into()],
        )
        .platform()?;
    let results = db.batch(vec![upsert, insert]).await.platform()?;
    let enqueued = crate::d1::changes_at(&results, 1)? > 0;
    match severity {
        Severity::Critical => console_error!("{log_line}"),
        _ => console_warn!("{log_line}"),
    }
    if enqueued {
        Ok(Raised::Enqueued { event_id })
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
    let runbook_base = vars::text(env, "RUNBOOK_URL").unwrap_or_else(|| "RUNBOOK.md".to_owned());
    let runbook = format!("{runbook_base}#{}", alert.kind.runbook_anchor());
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
        "color": severity.colour(),
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

fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
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
}

pub async fn counts(env: &Env) -> Result<Vec<AlertCount>, EdgeError> {
    let db = env.d1(DB).platform()?;
    db.prepare(
        "SELECT alert_key, severity, total_count, count_in_window, window_started_at, last_event_id \
             FROM alert_state ORDER BY alert_key",
    )
    .all()
    .await
    .platform()?
    .results()
    .platform()
}
