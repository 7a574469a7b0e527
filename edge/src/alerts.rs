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
