//! Alerts: dedup windows, routing by severity, and the page (PagerDuty Events API v2) payloads.
//!
//! One alert key sends at most one message per window; later raises in the window are counted. The
//! Worker applies the same rule atomically in one D1 upsert; this is the rule itself, and the suppressed
//! count reported in the next window's message. A resolved alert's window is over: its next raise sends.
//!
//! Routing ([`channels`]): CRITICAL goes to the chat webhook and pages (`PAGER_WEBHOOK_URL`), WARNING
//! goes to the chat webhook only, INFO only to logs and metrics. A page is sent for the same raises as
//! the chat message (the same window, the same outbox), with the alert key as its `dedup_key`, so a
//! repeat within the window pages nobody and a resolution resolves the incident the trigger opened.
//!
//! Also here: the alerts we know ([`AlertKind`]: key, severity, title, runbook anchor), one occurrence
//! ([`Alert`]), where pages go ([`Pager`], from the vars), and every body the Worker enqueues: the chat
//! message ([`chat_message`], Discord-compatible), the resolution message ([`resolved_message`]) and the
//! pages ([`trigger_page`], [`resolve_page`]). The Worker (`worker/src/alerts.rs`) does the D1 batch.
use crate::config::{text, var, AlertConfig};
use crate::error::EdgeError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The dedup state of one alert key (`alert_state` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub started_at_ms: u64,
    pub count_in_window: u64,
    /// The alert was resolved after this window's message: the window is over.
    pub resolved: bool,
}

/// Whether the window `w` still suppresses raises at `now_ms`.
fn open(w: &Window, window_ms: u64, now_ms: u64) -> bool {
    !w.resolved && !window_over(w.started_at_ms, window_ms, now_ms)
}

/// Whether a window that started at `started_at_ms` is over at `now_ms` (it lasts `window_ms`).
pub fn window_over(started_at_ms: u64, window_ms: u64, now_ms: u64) -> bool {
    started_at_ms.saturating_add(window_ms) <= now_ms
}

/// What one raise does: `(new state, whether this raise sends a message)`.
pub fn raise(prev: Option<Window>, window_ms: u64, now_ms: u64) -> (Window, bool) {
    match prev {
        Some(w) if open(&w, window_ms, now_ms) => (
            Window {
                started_at_ms: w.started_at_ms,
                count_in_window: w.count_in_window.saturating_add(1),
                resolved: false,
            },
            false,
        ),
        _ => (
            Window {
                started_at_ms: now_ms,
                count_in_window: 1,
                resolved: false,
            },
            true,
        ),
    }
}

/// How many raises the previous window suppressed, reported when a new window opens (0 otherwise).
pub fn suppressed_before(prev: Option<Window>, window_ms: u64, now_ms: u64) -> u64 {
    prev.filter(|w| !open(w, window_ms, now_ms))
        .map_or(0, |w| w.count_in_window.saturating_sub(1))
}

/// An alert's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The severity a stored `alert_state` row names ([`Severity::as_str`] back).
    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Critical, Severity::Warning, Severity::Info]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// The Discord embed colour.
    pub fn colour(self) -> u32 {
        match self {
            Severity::Critical => 0xE74C3C,
            Severity::Warning => 0xF1C40F,
            Severity::Info => 0x3498DB,
        }
    }
}

/// The colour of a resolution message.
pub const RESOLVED_COLOUR: u32 = 0x2ECC71;
/// `payload.source` of pages.
pub const PAGE_SOURCE: &str = "pve";

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
    pub const ALL: [AlertKind; 6] = [
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

    pub fn title(self) -> &'static str {
        match self {
            AlertKind::DeadLettered => "Outbox event dead-lettered",
            AlertKind::ContentHashMismatch => "Outbox content hash mismatch",
            AlertKind::UpstreamCircuitOpen => "Upstream circuit open",
            AlertKind::UpstreamRateLimitExhausted => "Upstream rate limit exhausted",
            AlertKind::OutboxBacklog => "Outbox backlog over threshold",
            AlertKind::WatchSweepDegraded => "Watch sweep degraded",
        }
    }

    /// Stable anchors of the runbook entries (`RUNBOOK.md` has one section per anchor).
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

    /// The runbook entry of this alert: `RUNBOOK_URL#anchor`.
    pub fn runbook_link(self, cfg: &AlertConfig) -> String {
        format!("{}#{}", cfg.runbook_url, self.runbook_anchor())
    }
}

/// One occurrence of an alert. Build with [`Alert::new`] and the `count` / `detail` / `key_suffix` adders.
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// The dedup key: the kind's key, or that followed by `.suffix`.
    pub fn key(&self) -> String {
        match &self.key_suffix {
            Some(s) => format!("{}.{s}", self.kind.key()),
            None => self.kind.key().to_owned(),
        }
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    pub fn what_happened(&self) -> &str {
        &self.what_happened
    }

    pub fn counts(&self) -> &[(String, i64)] {
        &self.counts
    }

    pub fn details(&self) -> &[(String, String)] {
        &self.details
    }
}

/// Where pages go, from `PAGER_WEBHOOK_URL` and `PAGER_ROUTING_KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pager {
    /// `PAGER_WEBHOOK_URL` is not set: CRITICAL alerts go to chat only.
    Off,
    /// `PAGER_WEBHOOK_URL` is set but `PAGER_ROUTING_KEY` is not: nothing can page; the chat message says
    /// so ([`Pager::NOT_SENT`]).
    NoRoutingKey,
    On {
        routing_key: String,
    },
}

impl Pager {
    /// The `paging` detail a chat message carries when [`Pager::NoRoutingKey`].
    pub const NOT_SENT: &'static str = "not sent: PAGER_WEBHOOK_URL is set but PAGER_ROUTING_KEY is not";

    pub fn parse(get: &impl Fn(&str) -> Option<String>) -> Pager {
        match (
            text(get, var::PAGER_WEBHOOK_URL),
            text(get, var::PAGER_ROUTING_KEY),
        ) {
            (None, _) => Pager::Off,
            (Some(_), None) => Pager::NoRoutingKey,
            (Some(_), Some(routing_key)) => Pager::On { routing_key },
        }
    }
}

/// How a raise of `alert` pages: not at all below CRITICAL (`configured` is not even read), else as
/// configured. Without a routing key nobody can be paged: the alert says so (its `paging` detail) and an
/// error line (the third value) tells the operator.
pub fn paging(alert: Alert, configured: impl FnOnce() -> Pager) -> (Alert, Pager, Option<serde_json::Value>) {
    let pager = if channels(alert.severity()).pager {
        configured()
    } else {
        Pager::Off
    };
    if pager != Pager::NoRoutingKey {
        return (alert, pager, None);
    }
    let line = serde_json::json!({"domain": "alerts", "task": "page", "alert_key": alert.key(), "outcome": "error",
        "error_detail": "PAGER_WEBHOOK_URL is set but PAGER_ROUTING_KEY is not: nobody is paged"});
    (alert.detail("paging", Pager::NOT_SENT), pager, Some(line))
}

/// What a raise did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl Raised {
    /// The raise's log line and its level: a CRITICAL alert sent or counted is an error, any other sent
    /// or counted a warning, an INFO alert (only logged) plain information.
    pub fn log_line(&self, alert: &Alert) -> (crate::task::Level, String) {
        use crate::task::Level;
        let level = match (alert.severity(), self) {
            (_, Raised::Logged) => Level::Info,
            (Severity::Critical, _) => Level::Error,
            _ => Level::Warn,
        };
        let line = serde_json::json!({
            "domain": "alerts", "task": "raise", "alert_key": alert.key(),
            "severity": alert.severity().as_str(), "what_happened": alert.what_happened(),
        });
        (level, line.to_string())
    }
}

/// What a resolve did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl Resolved {
    /// Resolved already, at `at` (epoch ms).
    pub fn already(alert_key: &str, at: u64) -> Resolved {
        Resolved::AlreadyResolved {
            alert_key: alert_key.to_owned(),
            resolved_at: crate::time::iso8601(at),
        }
    }

    /// The info line of a resolve that sent its messages.
    pub fn log_line(alert_key: &str, severity: Severity) -> serde_json::Value {
        serde_json::json!({"domain": "alerts", "task": "resolve", "alert_key": alert_key, "severity": severity.as_str()})
    }
}

fn to_json(value: &Value) -> Result<String, EdgeError> {
    serde_json::to_string(value).map_err(|e| EdgeError::internal(format!("alert body: {e}")))
}

/// One embed field, clipped to Discord's limits (name 256, value 1,024; an empty value is `-`).
fn field(name: &str, value: &str, inline: bool) -> Value {
    json!({"name": clip(name, 256), "value": clip(if value.is_empty() { "-" } else { value }, 1024), "inline": inline})
}

/// The chat (Discord-compatible) body of a raise: `content` plus one embed. Discord's limits (title 256,
/// description 4,096, field value 1,024, 25 fields, content 2,000) are kept by clipping.
pub fn chat_message(
    alert: &Alert,
    cfg: &AlertConfig,
    now_ms: u64,
    suppressed: u64,
) -> Result<String, EdgeError> {
    let severity = alert.severity();
    let runbook = alert.kind.runbook_link(cfg);
    let title = clip(&format!("[{}] {}", severity.as_str(), alert.kind.title()), 256);
    let mut fields = vec![
        field("severity", severity.as_str(), true),
        field("alert key", &alert.key(), true),
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
    let mut embed = json!({
        "title": title,
        "description": clip(&format!("{}\n\nWhat to do: {runbook}", alert.what_happened), 4096),
        "color": severity.colour(),
        "fields": fields,
        "timestamp": crate::time::iso8601(now_ms),
    });
    if runbook.starts_with("https://") {
        embed["url"] = runbook.clone().into();
    }
    to_json(&json!({
        "content": clip(&format!("**{title}**: {}", alert.what_happened), 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }))
}

/// The trigger page of a CRITICAL alert (PagerDuty Events API v2).
pub fn trigger_page(
    alert: &Alert,
    cfg: &AlertConfig,
    routing_key: &str,
    now_ms: u64,
    suppressed: u64,
) -> Result<String, EdgeError> {
    let key = alert.key();
    let runbook = alert.kind.runbook_link(cfg);
    let summary = format!(
        "[{}] {}: {}",
        alert.severity().as_str(),
        alert.kind.title(),
        alert.what_happened
    );
    let mut details: Vec<(String, String)> = vec![
        ("alert_key".into(), key.clone()),
        ("suppressed_in_previous_window".into(), suppressed.to_string()),
    ];
    details.extend(alert.counts.iter().map(|(k, v)| (k.clone(), v.to_string())));
    details.extend(alert.details.iter().cloned());
    let timestamp = crate::time::iso8601(now_ms);
    to_json(&page_event(&Page {
        routing_key,
        action: PageAction::Trigger,
        dedup_key: &key,
        summary: &summary,
        source: PAGE_SOURCE,
        runbook: &runbook,
        timestamp: &timestamp,
        details: &details,
    }))
}

/// The runbook link of an alert key: its kind's entry, or the runbook itself for a key of no known kind.
fn runbook_of_key(key: &str, cfg: &AlertConfig) -> String {
    AlertKind::from_key(key).map_or_else(|| cfg.runbook_url.clone(), |k| k.runbook_link(cfg))
}

/// The `resolve` page of alert `key` (same `dedup_key` as its trigger).
pub fn resolve_page(
    key: &str,
    cfg: &AlertConfig,
    routing_key: &str,
    now_ms: u64,
) -> Result<String, EdgeError> {
    let runbook = runbook_of_key(key, cfg);
    let timestamp = crate::time::iso8601(now_ms);
    to_json(&page_event(&Page {
        routing_key,
        action: PageAction::Resolve,
        dedup_key: key,
        summary: "",
        source: PAGE_SOURCE,
        runbook: &runbook,
        timestamp: &timestamp,
        details: &[],
    }))
}

/// The chat message of a resolution.
pub fn resolved_message(
    key: &str,
    severity: Severity,
    cfg: &AlertConfig,
    now_ms: u64,
) -> Result<String, EdgeError> {
    let kind = AlertKind::from_key(key);
    let name = kind.map_or(key, |k| k.title());
    let title = clip(&format!("[RESOLVED] {name}"), 256);
    let mut fields = vec![
        field("severity", severity.as_str(), true),
        field("alert key", key, true),
    ];
    if let Some(k) = kind {
        fields.push(field("runbook", &k.runbook_link(cfg), false));
    }
    to_json(&json!({
        "content": clip(&format!("**{title}**"), 2000),
        "embeds": [{
            "title": title,
            "description": format!("The {} alert {key} was resolved.", severity.as_str()),
            "color": RESOLVED_COLOUR,
            "fields": fields,
            "timestamp": crate::time::iso8601(now_ms),
        }],
        "allowed_mentions": {"parse": []},
    }))
}

/// Where an alert of one severity goes (logs and metrics always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    /// The chat webhook (`ALERT_WEBHOOK_URL`, Discord-compatible).
    pub chat: bool,
    /// The pager (`PAGER_WEBHOOK_URL`, PagerDuty Events API v2).
    pub pager: bool,
}

/// CRITICAL: chat and pager; WARNING: chat; INFO: neither (logs and metrics only).
pub fn channels(severity: Severity) -> Channels {
    match severity {
        Severity::Critical => Channels {
            chat: true,
            pager: true,
        },
        Severity::Warning => Channels {
            chat: true,
            pager: false,
        },
        Severity::Info => Channels {
            chat: false,
            pager: false,
        },
    }
}

/// `event_action` of a PagerDuty Events API v2 event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    Trigger,
    Resolve,
}

impl PageAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PageAction::Trigger => "trigger",
            PageAction::Resolve => "resolve",
        }
    }
}

/// What a page says. `dedup_key` is the alert key: the trigger and the resolve of one alert share it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<'a> {
    pub routing_key: &'a str,
    pub action: PageAction,
    pub dedup_key: &'a str,
    /// The alert's title and what happened (clipped to the API's 1,024 characters).
    pub summary: &'a str,
    /// Where the alert comes from (the Worker's name).
    pub source: &'a str,
    /// The runbook entry of the alert.
    pub runbook: &'a str,
    /// RFC 3339 time of the raise or the resolution.
    pub timestamp: &'a str,
    /// Counts and details of the alert, as strings.
    pub details: &'a [(String, String)],
}

/// The API's limit on `payload.summary`.
pub const SUMMARY_MAX_CHARS: usize = 1024;

/// A PagerDuty Events API v2 event (`POST https://events.pagerduty.com/v2/enqueue` takes this body).
/// A trigger carries `payload` (summary, source, severity, timestamp, custom details) and the runbook in
/// `links`; a resolve carries the routing key, the action and the dedup key (and the links).
pub fn page_event(page: &Page) -> Value {
    let links = json!([{"href": page.runbook, "text": "Runbook"}]);
    match page.action {
        PageAction::Trigger => {
            let details: serde_json::Map<String, Value> = page
                .details
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json!({
                "routing_key": page.routing_key,
                "event_action": "trigger",
                "dedup_key": page.dedup_key,
                "payload": {
                    "summary": clip(page.summary, SUMMARY_MAX_CHARS),
                    "source": page.source,
                    "severity": "critical",
                    "timestamp": page.timestamp,
                    "component": page.dedup_key.split('.').next().unwrap_or(page.dedup_key),
                    "class": page.dedup_key,
                    "custom_details": details,
                },
                "links": links,
            })
        }
        PageAction::Resolve => json!({
            "routing_key": page.routing_key,
            "event_action": "resolve",
            "dedup_key": page.dedup_key,
            "links": links,
        }),
    }
}

/// At most `max_chars` characters, the last one `…` when clipped.
pub fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_critical_alert_pages_and_without_a_routing_key_it_says_so() {
        let read = std::cell::Cell::new(false);
        let (warning, pager, line) = paging(Alert::new(AlertKind::OutboxBacklog, "y"), || {
            read.set(true);
            Pager::NoRoutingKey
        });
        assert_eq!((pager, line, read.get()), (Pager::Off, None, false));
        assert!(warning.details().is_empty());
        let on = || Pager::On {
            routing_key: "rk".into(),
        };
        let (_, pager, line) = paging(Alert::new(AlertKind::ContentHashMismatch, "x"), on);
        assert_eq!((pager, line), (on(), None));
        let (alert, pager, line) = paging(Alert::new(AlertKind::ContentHashMismatch, "x"), || {
            Pager::NoRoutingKey
        });
        assert_eq!(pager, Pager::NoRoutingKey);
        assert_eq!(
            alert.details(),
            &[("paging".to_owned(), Pager::NOT_SENT.to_owned())]
        );
        let line = line.unwrap();
        assert_eq!(
            (line["task"].as_str(), line["alert_key"].as_str()),
            (Some("page"), Some(alert.key().as_str()))
        );
    }

    #[test]
    fn an_already_resolved_alert_names_when() {
        assert_eq!(
            Resolved::already("k", 0),
            Resolved::AlreadyResolved {
                alert_key: "k".into(),
                resolved_at: "1970-01-01T00:00:00.000Z".into()
            }
        );
        assert_eq!(
            Resolved::log_line("k", Severity::Critical)["severity"],
            Severity::Critical.as_str()
        );
    }

    #[test]
    fn a_raise_logs_at_its_severitys_level() {
        use crate::task::Level;
        let sent = Raised::Enqueued {
            event_id: "evt_1".into(),
            page_event_id: None,
        };
        let critical = Alert::new(AlertKind::ContentHashMismatch, "x");
        let warning = Alert::new(AlertKind::OutboxBacklog, "y");
        let info = Alert::new(AlertKind::WatchSweepDegraded, "z");
        assert_eq!(sent.log_line(&critical).0, Level::Error);
        assert_eq!(
            Raised::Counted { count_in_window: 2 }.log_line(&warning).0,
            Level::Warn
        );
        assert_eq!(Raised::Logged.log_line(&info).0, Level::Info);
        let line: serde_json::Value = serde_json::from_str(&sent.log_line(&critical).1).unwrap();
        assert_eq!(line["alert_key"], "outbox.content_hash_mismatch");
        assert_eq!(line["severity"], "CRITICAL");
    }
    use proptest::prelude::*;

    const W: u64 = 900_000;

    #[test]
    fn window_table() {
        // first raise sends
        assert_eq!(
            raise(None, W, 5),
            (
                Window {
                    started_at_ms: 5,
                    count_in_window: 1,
                    resolved: false
                },
                true
            )
        );
        let w = Window {
            started_at_ms: 1_000,
            count_in_window: 3,
            resolved: false,
        };
        // inside the window: counted only
        assert_eq!(
            raise(Some(w), W, 1_000),
            (
                Window {
                    started_at_ms: 1_000,
                    count_in_window: 4,
                    resolved: false
                },
                false
            )
        );
        assert_eq!(
            raise(Some(w), W, 1_000 + W - 1),
            (
                Window {
                    started_at_ms: 1_000,
                    count_in_window: 4,
                    resolved: false
                },
                false
            )
        );
        // the window is half-open: at exactly start + window a new one begins
        assert_eq!(
            raise(Some(w), W, 1_000 + W),
            (
                Window {
                    started_at_ms: 1_000 + W,
                    count_in_window: 1,
                    resolved: false
                },
                true
            )
        );
        // a zero window sends every raise
        assert!(raise(Some(w), 0, 1_000).1);
        assert_eq!(suppressed_before(Some(w), W, 1_000 + W - 1), 0);
        assert_eq!(suppressed_before(Some(w), W, 1_000 + W), 2);
        assert_eq!(suppressed_before(None, W, 1), 0);
        // no overflow near the end of time
        assert!(!window_over(u64::MAX - 10, W, u64::MAX - 5));
    }

    #[test]
    fn a_resolved_alert_sends_its_next_raise_and_reports_what_it_suppressed() {
        let w = Window {
            started_at_ms: 1_000,
            count_in_window: 3,
            resolved: true,
        };
        let (next, send) = raise(Some(w), W, 2_000);
        assert!(send, "inside the window, but resolved");
        assert_eq!(
            next,
            Window {
                started_at_ms: 2_000,
                count_in_window: 1,
                resolved: false
            }
        );
        assert_eq!(suppressed_before(Some(w), W, 2_000), 2);
    }

    #[test]
    fn routing_by_severity() {
        let c = |chat, pager| Channels { chat, pager };
        assert_eq!(channels(Severity::Critical), c(true, true));
        assert_eq!(channels(Severity::Warning), c(true, false));
        assert_eq!(channels(Severity::Info), c(false, false));
    }

    fn page(action: PageAction, summary: &str) -> Value {
        let details = vec![("attempts".to_owned(), "3".to_owned())];
        page_event(&Page {
            routing_key: "R0UT1NG",
            action,
            dedup_key: "outbox.content_hash_mismatch",
            summary,
            source: "pve",
            runbook: "https://example.com/RUNBOOK.md#outbox-content-hash-mismatch",
            timestamp: "2026-12-02T18:00:00.000Z",
            details: &details,
        })
    }

    /// The shape of PagerDuty's Events API v2 (developer.pagerduty.com, "Send an Alert Event"):
    /// required `routing_key`, `event_action`, and for a trigger `payload.summary`, `payload.source`,
    /// `payload.severity` (one of critical, error, warning, info).
    #[test]
    fn trigger_and_resolve_have_the_events_v2_shape() {
        let t = page(
            PageAction::Trigger,
            "[CRITICAL] Outbox content hash mismatch: evt_1",
        );
        assert_eq!(
            t,
            json!({
                "routing_key": "R0UT1NG",
                "event_action": "trigger",
                "dedup_key": "outbox.content_hash_mismatch",
                "payload": {
                    "summary": "[CRITICAL] Outbox content hash mismatch: evt_1",
                    "source": "pve",
                    "severity": "critical",
                    "timestamp": "2026-12-02T18:00:00.000Z",
                    "component": "outbox",
                    "class": "outbox.content_hash_mismatch",
                    "custom_details": {"attempts": "3"},
                },
                "links": [{"href": "https://example.com/RUNBOOK.md#outbox-content-hash-mismatch", "text": "Runbook"}],
            })
        );
        let r = page(PageAction::Resolve, "ignored");
        assert_eq!(r["event_action"], "resolve");
        assert_eq!(r["dedup_key"], t["dedup_key"]);
        assert_eq!(r["routing_key"], "R0UT1NG");
        assert!(r.get("payload").is_none());
    }

    #[test]
    fn a_long_summary_is_clipped_to_the_api_limit() {
        let long = "가".repeat(3000);
        let t = page(PageAction::Trigger, &long);
        let summary = t["payload"]["summary"].as_str().unwrap();
        assert_eq!(summary.chars().count(), SUMMARY_MAX_CHARS);
        assert!(summary.ends_with('…'));
        assert_eq!(clip("short", 10), "short");
    }

    fn cfg(runbook_url: &str) -> AlertConfig {
        AlertConfig {
            window_ms: W,
            runbook_url: runbook_url.into(),
        }
    }

    #[test]
    fn kinds_from_keys_and_severities_from_rows() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::from_key(k.key()), Some(k));
            assert_eq!(AlertKind::from_key(&format!("{}.timeout", k.key())), Some(k));
            assert_eq!(Severity::parse(k.severity().as_str()), Some(k.severity()));
        }
        // A suffix is only what follows a dot: another key that starts the same is no kind of it.
        assert_eq!(AlertKind::from_key("outbox.backlogged"), None);
        assert_eq!(AlertKind::from_key("outbox"), None);
        assert_eq!(Severity::parse("critical"), None);
        let a = Alert::new(AlertKind::DeadLettered, "x").key_suffix("max_attempts");
        assert_eq!(a.key(), "outbox.dead_lettered.max_attempts");
        assert_eq!(
            AlertKind::ContentHashMismatch.runbook_link(&cfg("https://r.example/RUNBOOK.md")),
            "https://r.example/RUNBOOK.md#outbox-content-hash-mismatch"
        );
    }

    #[test]
    fn pager_from_the_vars() {
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(Pager::parse(&get(&[])), Pager::Off);
        assert_eq!(Pager::parse(&get(&[(var::PAGER_ROUTING_KEY, "k")])), Pager::Off);
        assert_eq!(
            Pager::parse(&get(&[(var::PAGER_WEBHOOK_URL, "https://p.example/")])),
            Pager::NoRoutingKey
        );
        assert_eq!(
            Pager::parse(&get(&[
                (var::PAGER_WEBHOOK_URL, "https://p.example/"),
                (var::PAGER_ROUTING_KEY, " ")
            ])),
            Pager::NoRoutingKey,
            "a blank routing key is none"
        );
        assert_eq!(
            Pager::parse(&get(&[
                (var::PAGER_WEBHOOK_URL, "https://p.example/"),
                (var::PAGER_ROUTING_KEY, "R0UT1NG")
            ])),
            Pager::On {
                routing_key: "R0UT1NG".into()
            }
        );
    }

    #[test]
    fn the_chat_message_carries_the_alert_and_keeps_discords_limits() {
        let mut alert = Alert::new(AlertKind::OutboxBacklog, "가".repeat(5000))
            .count("due", 1200)
            .detail("oldest", "");
        for i in 0..30 {
            alert = alert.detail(format!("d{i}"), "v");
        }
        let body: Value =
            serde_json::from_str(&chat_message(&alert, &cfg("RUNBOOK.md"), 0, 7).unwrap()).unwrap();
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], "[WARNING] Outbox backlog over threshold");
        assert_eq!(embed["color"], json!(0xF1C40F));
        assert_eq!(embed["timestamp"], "1970-01-01T00:00:00.000Z");
        assert!(embed.get("url").is_none(), "a relative runbook is no link");
        let fields = embed["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 25);
        assert_eq!(
            fields[0],
            json!({"name": "severity", "value": "WARNING", "inline": true})
        );
        assert_eq!(fields[1]["value"], "outbox.backlog");
        assert_eq!(
            fields[2],
            json!({"name": "suppressed in the previous window", "value": "7", "inline": true})
        );
        assert_eq!(fields[3], json!({"name": "due", "value": "1200", "inline": true}));
        assert_eq!(fields[4]["value"], "-", "an empty value is shown as -");
        assert_eq!(embed["description"].as_str().unwrap().chars().count(), 4096);
        assert_eq!(body["content"].as_str().unwrap().chars().count(), 2000);
        assert_eq!(body["allowed_mentions"], json!({"parse": []}));

        let short = Alert::new(AlertKind::UpstreamCircuitOpen, "opened");
        let body: Value =
            serde_json::from_str(&chat_message(&short, &cfg("https://r.example/RUNBOOK.md"), 0, 0).unwrap())
                .unwrap();
        let embed = &body["embeds"][0];
        assert_eq!(embed["url"], "https://r.example/RUNBOOK.md#upstream-circuit-open");
        assert_eq!(
            embed["description"],
            "opened\n\nWhat to do: https://r.example/RUNBOOK.md#upstream-circuit-open"
        );
        assert_eq!(body["content"], "**[WARNING] Upstream circuit open**: opened");
        let last = embed["fields"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            last,
            json!({"name": "runbook", "value": "https://r.example/RUNBOOK.md#upstream-circuit-open", "inline": false})
        );
    }

    #[test]
    fn pages_and_resolutions() {
        let alert = Alert::new(AlertKind::ContentHashMismatch, "evt_1 changed")
            .count("attempts", 3)
            .detail("event_id", "evt_1");
        let t: Value =
            serde_json::from_str(&trigger_page(&alert, &cfg("RUNBOOK.md"), "R0UT1NG", 0, 2).unwrap())
                .unwrap();
        assert_eq!(t["dedup_key"], "outbox.content_hash_mismatch");
        assert_eq!(
            t["payload"]["summary"],
            "[CRITICAL] Outbox content hash mismatch: evt_1 changed"
        );
        assert_eq!(
            t["payload"]["custom_details"],
            json!({"alert_key": "outbox.content_hash_mismatch", "suppressed_in_previous_window": "2",
                   "attempts": "3", "event_id": "evt_1"})
        );
        let r: Value = serde_json::from_str(
            &resolve_page("outbox.content_hash_mismatch", &cfg("RUNBOOK.md"), "R0UT1NG", 0).unwrap(),
        )
        .unwrap();
        assert_eq!(r["event_action"], "resolve");
        assert_eq!(r["links"][0]["href"], "RUNBOOK.md#outbox-content-hash-mismatch");
        let unknown: Value =
            serde_json::from_str(&resolve_page("some.old_key", &cfg("RUNBOOK.md"), "R", 0).unwrap()).unwrap();
        assert_eq!(
            unknown["links"][0]["href"], "RUNBOOK.md",
            "a key of no known kind links the runbook"
        );

        let m: Value = serde_json::from_str(
            &resolved_message(
                "outbox.dead_lettered.max_attempts",
                Severity::Warning,
                &cfg("RUNBOOK.md"),
                0,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(m["content"], "**[RESOLVED] Outbox event dead-lettered**");
        let embed = &m["embeds"][0];
        assert_eq!(embed["color"], json!(RESOLVED_COLOUR));
        assert_eq!(
            embed["description"],
            "The WARNING alert outbox.dead_lettered.max_attempts was resolved."
        );
        assert_eq!(embed["fields"].as_array().unwrap().len(), 3);
        let m: Value = serde_json::from_str(
            &resolved_message("some.old_key", Severity::Info, &cfg("RUNBOOK.md"), 0).unwrap(),
        )
        .unwrap();
        assert_eq!(m["embeds"][0]["title"], "[RESOLVED] some.old_key");
        assert_eq!(
            m["embeds"][0]["fields"].as_array().unwrap().len(),
            2,
            "no runbook field"
        );
    }

    #[test]
    fn what_raises_and_resolves_answer() {
        fn v(r: &impl Serialize) -> Value {
            serde_json::to_value(r).unwrap()
        }
        assert_eq!(
            v(&Raised::Enqueued {
                event_id: "evt_1".into(),
                page_event_id: None
            }),
            json!({"outcome": "enqueued", "event_id": "evt_1"})
        );
        assert_eq!(
            v(&Raised::Counted { count_in_window: 2 }),
            json!({"outcome": "counted", "count_in_window": 2})
        );
        assert_eq!(v(&Raised::Logged), json!({"outcome": "logged"}));
        assert_eq!(
            v(&Resolved::AlreadyResolved {
                alert_key: "k".into(),
                resolved_at: "t".into()
            }),
            json!({"outcome": "already_resolved", "alert_key": "k", "resolved_at": "t"})
        );
    }

    proptest! {
        /// Over any sequence of raises, at most one message is sent per window, and the first raise sends.
        #[test]
        fn at_most_one_message_per_window(mut times in proptest::collection::vec(0u64..10_000_000, 1..60),
                                          window in 1u64..2_000_000) {
            times.sort_unstable();
            let mut state = None;
            let mut sent: Vec<u64> = Vec::new();
            let mut raised = 0u64;
            for &t in &times {
                let (next, send) = raise(state, window, t);
                raised += 1;
                if send { sent.push(t); }
                prop_assert!(next.count_in_window >= 1);
                state = Some(next);
            }
            prop_assert_eq!(sent.first().copied(), Some(times[0]));
            for pair in sent.windows(2) {
                prop_assert!(pair[1] - pair[0] >= window);
            }
            prop_assert!(sent.len() as u64 <= raised);
        }
    }
}
